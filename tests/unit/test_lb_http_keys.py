"""What ``balance uri | url_param | hdr() | rdp-cookie`` hash in a request (lb/http_keys.py).

The rows marked "2.6.12" are quirks the binary showed (tests/integration/test_http_lb.py
sends the same kinds of requests through it); the others follow backend.c.
"""

from __future__ import annotations

import pytest

from herdsman.config.balance import parse_balance
from herdsman.config.model import Balance, HashMethod
from herdsman.http import parse_request_head
from herdsman.http.body import chunk_data
from herdsman.lb.hashing import full_hash, hash_bytes, hash_crc32, hash_djb2, hash_sdbm
from herdsman.lb.http_keys import (
    body_param,
    domain_only,
    header_value,
    query_param,
    request_key,
    uri_input,
    uri_path,
)


def balance(words: str, hash_function: str = "sdbm", avalanche: bool = False) -> Balance:
    bal = Balance()
    parse_balance(words.split(), bal)
    bal.hash_function = hash_function
    bal.avalanche = avalanche
    return bal


@pytest.mark.parametrize(
    ("target", "path"),
    [
        (b"/a/b?c", b"/a/b?c"),
        (b"http://h/a/b?c", b"/a/b?c"),
        (b"https://user@h:8443/x", b"/x"),
        (b"http://h", b""),  # no path: the empty string
        (b"http://h?x", b""),  # the authority runs to the first '/'
        (b"h:443", b""),  # CONNECT's authority-form has no scheme, so no path
        (b"*", b""),
        (b"", b""),
        (b"1http://h/x", b""),  # a scheme starts with a letter
    ],
)
def test_path_only_is_http_parse_path(target: bytes, path: bytes) -> None:
    assert uri_path(target) == path


@pytest.mark.parametrize(
    ("words", "target", "hashed"),
    [
        ("uri", b"/a/b?c=1", b"/a/b"),
        ("uri", b"/a?b?c", b"/a"),
        ("uri", b"/", b"/"),
        ("uri", b"http://h/a?x", b"http://h/a"),  # the whole target, scheme and all
        ("uri whole", b"/a/b?c=1", b"/a/b?c=1"),
        ("uri len 3", b"/abcdef", b"/ab"),
        ("uri len 3", b"/a?bcdef", b"/a"),
        ("uri len 100", b"/short", b"/short"),
        ("uri depth 1", b"/a/b/c", b"/a"),
        ("uri depth 2", b"/a/b/c", b"/a/b"),
        ("uri depth 2", b"/a/b", b"/a/b"),
        ("uri depth 2", b"/a?x/y/z", b"/a"),  # '?' stops first
        ("uri depth 2 whole", b"/a?x/y/z", b"/a?x/y"),  # then the third slash does
        ("uri depth 3 len 4", b"/a/b/c/d", b"/a/b"),
        ("uri path-only", b"http://h/a/b?c", b"/a/b"),
        ("uri path-only", b"http://h", b""),
        ("uri path-only", b"*", b""),
        ("uri path-only whole depth 1", b"http://h/p?q/r", b"/p?q"),
        ("uri depth 1", b"http://h/a/b", b"http:/"),  # the scheme's slashes count
    ],
)
def test_uri_input(words: str, target: bytes, hashed: bytes) -> None:
    assert uri_input(target, balance(words)) == hashed


@pytest.mark.parametrize(
    ("target", "value"),
    [
        (b"/?id=1", b"1"),
        (b"/?x=1&id=3&id=4", b"3"),  # the first one
        (b"/?id=&x", b""),  # empty: hashed
        (b"/?id=", b""),
        (b"/?id", None),
        (b"/?ID=7", None),  # case matters
        (b"/?xid=5&id=6", b"6"),  # only at a parameter's start
        (b"/a?b?id=8", None),  # the query starts at the first '?': "b?id=8" is one parameter
        (b"/?id=9;x&y", b"9;x"),
        (b"/?&id=11", b"11"),
        (b"/?id=a%20b", b"a%20b"),  # not decoded
        (b"/id=1", None),  # no query
        (b"http://h/?id=2", b"2"),
    ],
)
def test_query_param(target: bytes, value: bytes | None) -> None:
    assert query_param(target, b"id") == value


def test_query_param_name_may_span_a_separator() -> None:
    """memcmp() at a parameter's start reads as far as the name goes."""
    assert query_param(b"/?a&b=1", b"a&b") == b"1"


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b"id=12", b"12"),
        (b"x=1&id=13&z", b"13"),
        (b"id=xy z", b"xy z"),  # 2.6.12: only the first byte is checked
        (b"id=zz top&a=1", b"zz top"),
        (b"id=a=b", b"a=b"),  # 2.6.12: '=' after a token byte goes unnoticed
        (b"id= x", b""),  # a blank first byte ends the value at once
        (b"id=\r\nx", b""),
        (b'id="x', None),  # neither blank nor token first: not a parameter list
        (b"id==x", None),
        (b"id=", b""),
        (b"id=&", b""),
        (b"name=x", None),
        (b"", None),
    ],
)
def test_body_param(body: bytes, value: bytes | None) -> None:
    assert body_param(body, b"id") == value


HEAD = b"GET / HTTP/1.1\r\n%s\r\n"


@pytest.mark.parametrize(
    ("fields", "value"),
    [
        (b"X-User: alice\r\n", b"alice"),
        (b"x-user: alice\r\n", b"alice"),
        (b"X-User: k2\r\nX-User: k3\r\n", b"k2"),  # the first header
        (b"X-User: k4, k5\r\n", b"k4"),  # its first value
        (b"X-User:\r\nX-User: k6\r\n", b""),  # an empty first header is not skipped
        (b"X-User: , k7\r\n", b""),
        (b'X-User: "k9,x" , y\r\n', b'"k9,x"'),  # a comma within quotes does not count
        (b'X-User: "k\\",1",z\r\n', b'"k\\",1"'),  # nor an escaped quote
        (b"X-User:   k10  \r\n", b"k10"),
        (b"X-Users: no\r\n", None),
        (b"Host: h\r\n", None),
    ],
)
def test_header_value(fields: bytes, value: bytes | None) -> None:
    assert header_value(HEAD % fields, b"X-USER") == value


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        (b"haproxy.1wt.eu", b"1wt"),
        (b"www.example.com", b"example"),
        (b"example.com:8080", b"example"),
        (b"localhost", b"localhost"),
        (b"a.b", b"a"),
        (b".com", b".com"),  # the first byte is never looked at
        (b"a..b", b"a."),  # nor the byte before the last dot
        (b"x.y.z.", b"z"),
        (b"a.", b"a"),
        (b"..", b"."),
        (b"10.0.0.1", b"0"),
    ],
)
def test_domain_only(host: bytes, domain: bytes) -> None:
    assert domain_only(host) == domain


CHUNKED = b"3\r\nid=\r\n4;ext=1\r\nzz t\n2\r\n&x\r\n0\r\nTrailer: y\r\n\r\n"


def test_chunk_data_joins_the_chunks() -> None:
    assert chunk_data(CHUNKED) == b"id=zz t&x"
    assert chunk_data(memoryview(CHUNKED)) == b"id=zz t&x"
    assert chunk_data(b"zz\r\n") == b""  # bad framing: nothing
    assert chunk_data(b"3\r\nabcX2\r\nde\r\n") == b"abc"  # no CRLF after the data: stop


def test_chunk_data_of_each_prefix_is_what_arrived() -> None:
    """Fed byte by byte: every prefix gives the data it holds, a chunk cut short included."""
    full = chunk_data(CHUNKED)
    previous = b""
    for n in range(len(CHUNKED) + 1):
        got = chunk_data(CHUNKED[:n])
        assert full.startswith(got)
        assert got.startswith(previous)
        previous = got
    assert previous == full


def key(words: str, request: bytes, **kw: object) -> int | None:
    head = parse_request_head(request)
    assert head is not None
    bal = balance(words, **kw)  # type: ignore[arg-type]
    return request_key(bal, head, (), request[head.size :])


def test_keys_hash_the_input_with_the_configured_function() -> None:
    req = b"GET /a/b?c HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
    assert key("uri", req) == hash_sdbm(b"/a/b")
    assert key("uri", req, hash_function="djb2") == hash_djb2(b"/a/b")
    assert key("uri", req, hash_function="crc32", avalanche=True) == full_hash(hash_crc32(b"/a/b"))
    assert key("hdr(host)", req) == hash_sdbm(b"www.example.com")
    assert key("hdr(host) use_domain_only", req) == hash_sdbm(b"example")
    assert key("url_param c", req) is None  # "c" without '='


@pytest.mark.parametrize(
    ("words", "req", "hashed"),
    [
        ("uri", b"GET http://h:80/x?y HTTP/1.1\r\nHost: h\r\n\r\n", b"http://h/x"),
        ("uri path-only", b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", b""),
        ("url_param id", b"GET /?id= HTTP/1.1\r\nHost: h\r\n\r\n", b""),
        ("url_param id", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nid=42", b"42"),
        # the body's length bounds it: what follows is the next request
        (
            "url_param id",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nid=42GET / HTTP/1.1",
            b"42",
        ),
        ("url_param id", b"POST /?id=7 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nid=8", b"7"),
        (
            "url_param id",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNKED,
            b"zz t",
        ),
        ("url_param id", b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nid=8", None),
        ("url_param id", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n", None),
        ("hdr(host)", b"GET http://h:80/ HTTP/1.1\r\nHost: h:80\r\n\r\n", b"h"),  # normalised
        ("hdr(host)", b"GET / HTTP/1.0\r\n\r\n", None),
        ("hdr(host)", b"GET / HTTP/1.1\r\nHost: \r\n\r\n", None),  # empty: missing
        ("rdp-cookie", b"GET / HTTP/1.1\r\nCookie: mstshash=u1\r\n\r\n", None),
        ("source", b"GET / HTTP/1.1\r\n\r\n", None),  # not the request's
        ("roundrobin", b"GET / HTTP/1.1\r\n\r\n", None),
    ],
)
def test_request_key(words: str, req: bytes, hashed: bytes | None) -> None:
    assert key(words, req) == (None if hashed is None else hash_sdbm(hashed))


def test_a_post_body_is_searched_as_far_as_it_came() -> None:
    """The body bytes that came with the head are searched (2.6 would wait for them all)."""
    head = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"
    body = b"x=1&id=abcd"
    for n in range(len(body) + 1):
        received = body[:n]
        value = received[len(b"x=1&id=") :] if n >= len(b"x=1&id=") else None
        assert key("url_param id", head + received) == (None if value is None else hash_sdbm(value))


def test_hdr_reads_the_head_the_analysers_see() -> None:
    """Fields the proxy adds before choosing a server count (option forwardfor);
    the connection mode's Connection value does not (HAProxy's output writes it)."""
    req = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, keep-alive\r\n\r\n"
    head = parse_request_head(req)
    assert head is not None
    xff = balance("hdr(x-forwarded-for)")
    assert request_key(xff, head, [b"X-Forwarded-For: 127.0.0.1"], b"") == hash_sdbm(b"127.0.0.1")
    assert request_key(xff, head, (), b"") is None
    conn = balance("hdr(connection)")
    assert request_key(conn, head, (), b"") == hash_sdbm(b"foo")  # keep-alive is dropped
    alone = parse_request_head(b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n")
    assert alone is not None
    assert request_key(conn, alone, (), b"") is None  # and so is the emptied header


def test_consistent_and_map_based_share_the_key() -> None:
    """The hash-type method picks the lookup, not the key."""
    req = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
    head = parse_request_head(req)
    assert head is not None
    bal = balance("uri")
    bal.hash_method = HashMethod.CONSISTENT
    assert request_key(bal, head, (), b"") == hash_bytes(b"/a", balance("uri"))
