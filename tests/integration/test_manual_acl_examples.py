"""The examples of the HAProxy 2.6 manual's section 7 (ACLs), side by side with
haproxy 2.6.12: each example's lines in a configuration, requests that the
text says match or do not match, and what the client and the servers see
compared (``sidebyside.py``); the documented outcome is asserted too. The
examples that need TLS fetches (``req.ssl_ver``) are the TLS work's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sidebyside import HEADER, Seen, both, get

pytestmark = pytest.mark.haproxy


def _fe(*lines: str) -> str:
    """A frontend with ``lines``; backend ``dflt`` (s1), ``www`` (s2), ``static`` (s3)."""
    body = "".join(f"    {line}\n" for line in lines)
    return (
        HEADER
        + "frontend fe\n    bind 127.0.0.1:@fe\n"
        + body
        + "    default_backend dflt\n"
        + "backend dflt\n    server s1 127.0.0.1:@s1\n"
        + "backend www\n    server s2 127.0.0.1:@s2\n"
        + "backend static\n    server s3 127.0.0.1:@s3\n"
    )


def _status(seen: Seen) -> list[int]:
    return [int(r.split(b" ", 2)[1]) if r.startswith(b"HTTP/") else 0 for r in seen.responses]


def _who(seen: Seen) -> list[str]:
    """Which server answered each request ("-" for none)."""
    out = []
    for r in seen.responses:
        srv = [line[7:].decode() for line in r.split(b"\r\n") if line.startswith(b"x-srv: ")]
        out.append(srv[0] if srv else "-")
    return out


async def _compare(text: str, requests: list[bytes]) -> Seen:
    theirs, mine = await both(text, requests)
    assert mine.responses == theirs.responses
    assert mine.origins == theirs.origins
    return mine


def _post(path: str, *headers: str) -> bytes:
    return get(path, *headers, method="POST")


async def test_7_1_flags_files_and_match_methods(tmp_path: Path) -> None:
    """7.1: ``-f`` files with ``-i`` and an inline pattern, ``-m found``,
    ``-m reg -i`` and ``,lower -m reg``, the four spellings of a host prefix."""
    (tmp_path / "exact-ua.lst").write_text("Exact/1.0\n")
    (tmp_path / "generic-ua.lst").write_text("generic\n")
    text = _fe(
        f"acl valid-ua hdr(user-agent) -f {tmp_path}/exact-ua.lst -i "
        f"-f {tmp_path}/generic-ua.lst test",
        "acl jsess_present req.cook(JSESSIONID) -m found",
        "acl short_form  hdr_beg(host)        www.",
        "acl alternate1  hdr_beg(host) -m beg www.",
        "acl alternate2  hdr_dom(host) -m beg www.",
        "acl alternate3  hdr(host)     -m beg www.",
        "http-request set-header x-ua %[bool(1)] if valid-ua",
        "http-request set-header x-js %[bool(1)] if jsess_present",
        "use_backend www if short_form alternate1 alternate2 alternate3",
    )
    requests = [
        get("/", "user-agent: exact/1.0"),  # -i applies to what follows it only
        get("/", "user-agent: GENERIC"),
        get("/", "user-agent: TEST"),
        get("/", "user-agent: other"),
        get("/", "cookie: JSESSIONID=1"),
        get("/", "cookie: X=1"),
        b"GET / HTTP/1.1\r\nhost: www.example.com\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: wwwexample.com\r\n\r\n",
    ]
    seen = await _compare(text, requests)
    got = seen.origins["s1"]
    assert [b"x-ua: 1" in r for r in got] == [False, True, True, False, False, False, False]
    assert [b"x-js: 1" in r for r in got] == [False, False, False, False, True, False, False]
    assert _who(seen)[6:] == ["s2", "s1"]


async def test_7_1_integers_strings_and_binary() -> None:
    """7.1.2 ``req.hdr_val() lt 0``; 7.1.3 ``req.payload(0,0),hex -m sub``;
    7.1.5 ``req.payload(0,6) -m bin``: the payload of an HTTP request is its body."""
    text = _fe(
        "acl negative-length req.hdr_val(content-length) lt 0",
        "acl tag_found req.payload(0,0),hex -m sub 3C7461673E",
        "acl hello req.payload(0,6) -m bin 48656c6c6f0a",
        "http-request set-header x-neg 1 if negative-length",
        "http-request set-header x-tag 1 if tag_found",
        "http-request set-header x-hello 1 if hello",
    )
    requests = [
        get("/", "x-a: 1"),
        _post("/", "content-length: 6") + b"Hello\n",
        _post("/", "content-length: 11") + b"a <tag> b\r\n",
    ]
    await _compare(text, requests)


async def test_7_2_conditions_and_predefined_acls() -> None:
    """7.2: ``||``, ``!``, ``or``, ``unless``, named and anonymous forms of the
    same test, predefined ACLs (``HTTP_URL_STAR``, ``METH_*``, ``HTTP_CONTENT``)."""
    text = _fe(
        "acl missing_cl req.hdr_cnt(Content-length) eq 0",
        "http-request deny if HTTP_URL_STAR !METH_OPTIONS || METH_POST missing_cl",
        "http-request deny if METH_GET HTTP_CONTENT",
        "http-request deny unless METH_GET or METH_POST or METH_OPTIONS",
    )
    requests = [
        b"OPTIONS * HTTP/1.1\r\nhost: a\r\n\r\n",  # allowed
        b"GET / HTTP/1.1\r\nhost: a\r\n\r\n",  # allowed
        _post("/", "content-length: 0"),  # allowed: a Content-Length exists
        get("/", "content-length: 2") + b"ab",  # GET with content: denied
        get("/", method="PUT"),  # not GET/POST/OPTIONS: denied
    ]
    seen = await _compare(text, requests)
    assert _status(seen)[:3] == [200, 200, 200]
    assert _status(seen)[3] == 403
    anon = _fe("http-request deny if METH_POST { req.hdr_cnt(Content-length) eq 0 }")
    named = _fe(
        "acl missing_cl req.hdr_cnt(Content-length) eq 0",
        "http-request deny if METH_POST missing_cl",
    )
    post_none = b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"
    for text in (anon, named):
        seen = await _compare(text, [get("/"), post_none])
        assert _status(seen) == [200, 403]


async def test_7_2_static_and_www_backends() -> None:
    """7.2: an ACL of several lines (ORed), ``use_backend static if host_static
    or host_www url_static``, ``use_backend www if host_www``."""
    text = _fe(
        "acl url_static  path_beg         /static /images /img /css",
        "acl url_static  path_end         .gif .png .jpg .css .js",
        "acl host_www    hdr_beg(host) -i www",
        "acl host_static hdr_beg(host) -i img. video. download. ftp.",
        "use_backend static if host_static or host_www url_static",
        "use_backend www    if host_www",
    )

    def req(host: str, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nhost: {host}\r\n\r\n".encode()

    requests = [
        req("IMG.example.com", "/x"),
        req("www.example.com", "/static/a"),
        req("www.example.com", "/a.JS"),
        req("www.example.com", "/a.js"),
        req("www.example.com", "/page"),
        req("example.com", "/static/a"),
    ]
    seen = await _compare(text, requests)
    assert _who(seen) == ["s3", "s3", "s2", "s3", "s2", "s1"]


async def test_7_2_monitor_fail_on_nbsrv() -> None:
    """7.2: ``monitor fail if site_dead`` with ``nbsrv()`` of two backends, named
    and anonymous: the monitor URI answers 503 while a backend has fewer than 2
    servers."""
    for cond in (
        ("acl site_dead nbsrv(dynamic) lt 2", "acl site_dead nbsrv(static2)  lt 2"),
        (),
    ):
        fail = (
            "monitor fail if site_dead"
            if cond
            else ("monitor fail if { nbsrv(dynamic) lt 2 } || { nbsrv(static2) lt 2 }")
        )
        text = _fe("monitor-uri /alive", *cond, fail) + (
            "backend dynamic\n    server s1 127.0.0.1:@s1\n    server s2 127.0.0.1:@s2\n"
            "backend static2\n    server s3 127.0.0.1:@s3\n"
        )
        seen = await _compare(text, [get("/alive")])
        assert _status(seen) == [503]
