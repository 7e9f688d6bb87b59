"""canon.py (one regular expression for the usual heads) against the general path.

The general path (parse.py's fast path, else the exact lexer) is the
reference: for every input of a large corpus, whole and cut at every byte,
``canon`` either declines (None) or returns the head the general path returns,
attribute for attribute, with the same bytes to forward. The corpus: the
differential harness's cases (tests/http_diff/cases), the inputs of the parser
tests, the heads real clients and servers send, and variations of them (case
of names, blanks around values, duplicate fields, the values HAProxy
interprets, odd bytes at each position, small limits), and Hypothesis's heads.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herdsman.http import (
    DEFAULT_LIMITS,
    HttpError,
    Limits,
    Method,
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
    canon,
    head_bytes,
)
from herdsman.http.exact import ExactParser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import test_http_parse
import test_http_parse_response

from http_diff.cases import REQUESTS, RESPONSES

SMALL = Limits(bufsize=512, maxrewrite=128, maxhdr=8)
LIMITS = (DEFAULT_LIMITS, SMALL, Limits(bufsize=1024, maxrewrite=512, maxhdr=4))
METHODS = (Method.GET, Method.HEAD, Method.POST, Method.CONNECT)
Head = RequestHead | ResponseHead


def general_request(
    buf: bytes, limits: Limits, lenient: bool, any_payload: bool
) -> RequestHead | HttpError | None:
    """What ``RequestParser.parse()`` answered before canon.py: ``_fast()``, else the lexer."""
    parser = RequestParser(limits, accept_invalid=lenient, accept_any_payload=any_payload)
    try:
        head = parser._fast(buf)
        if head is not None:
            return head
        ex = ExactParser(True, limits, lenient)
        return parser._finish_exact(ex) if ex.feed(buf) else None
    except HttpError as exc:
        return exc


def general_response(
    buf: bytes, limits: Limits, lenient: bool, meth: Method
) -> ResponseHead | HttpError | None:
    parser = ResponseParser(limits, accept_invalid=lenient)
    try:
        head = parser._fast(buf, meth)
        if head is not None:
            return head
        ex = ExactParser(False, limits, lenient)
        return parser._finish_exact(ex, meth) if ex.feed(buf) else None
    except HttpError as exc:
        return exc


# every public attribute of the heads (compiled by mypyc, they have no __slots__)
_COMMON = ("size", "raw", "edits", "version", "flags", "framing", "content_length")
ATTRS = {
    RequestHead: (*_COMMON, "method", "meth", "target", "host", "ws_key"),
    ResponseHead: (*_COMMON, "status", "reason"),
}


def assert_same(got: Head, ref: Head | HttpError | None) -> None:
    assert isinstance(ref, type(got)), (got, ref)
    for attr in ATTRS[type(got)]:
        assert getattr(got, attr) == getattr(ref, attr), attr
    assert got.headers == ref.headers
    for conn in (None, b"close", b"keep-alive"):
        assert head_bytes(got, conn) == head_bytes(ref, conn)


def _cuts(buf: bytes, every: bool) -> list[int]:
    """Where to cut ``buf``: the whole, and with ``every`` at each byte up to just past
    the first empty line (every 97th byte past 2 kB)."""
    if not every:
        return [len(buf)]
    end = buf.find(b"\r\n\r\n")
    end = len(buf) if end < 0 else min(len(buf), end + 8)
    return [*range(min(end, 2048)), *range(2048, end, 97), len(buf)]


def check_request(buf: bytes, every: bool = True) -> int:
    """``buf`` (cut at each byte with ``every``) through canon and, where it decides, the
    general path. Returns how many (cut, settings) canon decided."""
    decided = 0
    for limits, any_payload in itertools.product(LIMITS, (False, True)):
        below = canon.small(limits)
        for cut in _cuts(buf, every):
            got = canon.request(buf[:cut], limits, below, any_payload)
            if got is not None:
                decided += 1
                for lenient in (False, True):
                    assert_same(got, general_request(buf[:cut], limits, lenient, any_payload))
    return decided


def check_response(buf: bytes, every: bool = True) -> int:
    decided = 0
    for limits, meth in itertools.product(LIMITS, METHODS):
        below = canon.small(limits)
        for cut in _cuts(buf, every):
            got = canon.response(buf[:cut], limits, below, meth)
            if got is not None:
                decided += 1
                for lenient in (False, True):
                    assert_same(got, general_response(buf[:cut], limits, lenient, meth))
    return decided


# What clients and servers send: canon must decide all of these.
USUAL_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",  # wrk
    b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/7.88.1\r\n"
    b"Accept: */*\r\n\r\n",
    b"GET /api/v1/items?id=12345&sort=desc HTTP/1.1\r\nHost: www.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\nCookie: session=abcdef0123456789; theme=dark\r\n"
    b"Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n"
    b"Sec-Fetch-Site: none\r\n\r\n",
    b"POST /v2/orders HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: python-requests/2.31.0\r\n"
    b"Accept-Encoding: gzip, deflate\r\nAccept: application/json\r\nConnection: keep-alive\r\n"
    b"Content-Type: application/json\r\nContent-Length: 27\r\n\r\n"
    b'{"item": 42, "quantity": 1}',
    b"PUT /v2/blobs/7 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: Go-http-client/1.1\r\n"
    b"Transfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n"
    b"Accept-Encoding: gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"GET /static/app.js HTTP/1.1\r\nHost: cdn.example.com\r\nConnection: keep-alive\r\n"
    b'sec-ch-ua: "Chromium";v="120", "Not?A_Brand";v="8"\r\nsec-ch-ua-mobile: ?0\r\n'
    b'sec-ch-ua-platform: "Windows"\r\nAccept: */*\r\nReferer: https://www.example.com/\r\n'
    b'If-None-Match: W/"5e15-18c4"\r\nIf-Modified-Since: Tue, 12 Dec 2023 10:00:00 GMT\r\n\r\n',
    b"GET / HTTP/1.0\r\nHost: localhost\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n",
    b"HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"DELETE /x/1 HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
]
USUAL_RESPONSES = [
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 02:50:00 GMT\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nhello\n",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    b"Date: Tue, 12 Dec 2023 10:00:00 GMT\r\nVary: Accept-Encoding\r\n\r\n0\r\n\r\n",
    b'HTTP/1.1 304 Not Modified\r\nDate: Tue, 12 Dec 2023 10:00:00 GMT\r\nETag: "5e15-18c4"\r\n'
    b"Cache-Control: max-age=3600\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\nDate: Tue, 12 Dec 2023 10:00:00 GMT\r\nServer: Apache/2.4.57\r\n"
    b"Content-Length: 196\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\nContent-type: text/html\r\n\r\n",
    b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\nDate: Tue, 12 Dec 2023 10:00:00 GMT\r\nConnection: keep-alive\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nHost: x\r\nhost: y\r\n"
    b"Content-Length: 2\r\n\r\nok",
]


def _harvest(module: ModuleType) -> Iterator[bytes]:
    """The bytes arguments of a test module's parametrised tests."""

    def walk(value: object) -> Iterator[bytes]:
        if isinstance(value, bytes):
            yield value
        elif isinstance(value, tuple | list):
            for v in value:
                yield from walk(v)
        elif hasattr(value, "values"):  # pytest.param
            yield from walk(value.values)

    for obj in vars(module).values():
        for fn in [obj, *vars(obj).values()] if isinstance(obj, type) else [obj]:
            for mark in getattr(fn, "pytestmark", []):
                if mark.name == "parametrize":
                    yield from walk(mark.args[1])


def _field_variants() -> Iterator[bytes]:
    """Header blocks: the interpreted fields in several spellings, values, blanks, duplicated."""
    names = {
        b"host": [b"", b"a", b"A", b"a:80", b"a b"],
        b"content-length": [b"0", b"00", b"7", b"1" * 19, b"1" * 20, b"3, 3", b"+1", b"", b"0x1"],
        b"connection": [b"keep-alive", b"Keep-Alive", b"close", b"CLOSE", b"keep-alive, close"]
        + [b"upgrade", b"close, upgrade", b"", b"x"],
        b"transfer-encoding": [b"chunked", b"Chunked", b"gzip, chunked", b"chunked, gzip", b""],
        b"te": [b"trailers", b"Trailers", b"trailers, deflate", b"deflate", b""],
        b"upgrade": [b"websocket", b"h2c"],
        b"expect": [b"100-continue"],
        b"sec-websocket-key": [b"dGhlIHNhbXBsZSBub25jZQ=="],
        b"sec-websocket-accept": [b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
        b"x-other": [b"1"],
    }
    for name, values in names.items():
        spellings = {name, name.upper(), name.title(), name.capitalize()}
        for spelling, value, (pre, post) in itertools.product(
            spellings, values, [(b" ", b""), (b"", b""), (b"\t", b" "), (b"  ", b"\t")]
        ):
            line = spelling + b":" + pre + value + post + b"\r\n"
            yield line
            yield line + line
            yield b"Host: a\r\n" + line
            yield line + b"Content-Length: 5\r\nConnection: keep-alive\r\n"
            yield b"Transfer-Encoding: chunked\r\n" + line + b"X: y\r\n"


def _odd_bytes(head: bytes) -> Iterator[bytes]:
    """``head`` with an odd byte replacing, or inserted at, each position."""
    for i, odd in itertools.product(range(len(head)), b"\x00\t \r\n:#,\x7f\x80\xff"):
        yield head[:i] + bytes((odd,)) + head[i + 1 :]
        yield head[:i] + bytes((odd,)) + head[i:]


REQUEST_LINES = [
    b"GET / HTTP/1.1",
    b"POST /p?q=1 HTTP/1.1",
    b"GET / HTTP/1.0",
    b"POST / HTTP/1.0",
    b"HEAD / HTTP/1.0",
    b"DELETE /d HTTP/1.0",
    b"PUT /x HTTP/1.0",
    b"OPTIONS * HTTP/1.1",
    b"CONNECT a:443 HTTP/1.1",
    b"GET http://a/x HTTP/1.1",
    b"get / HTTP/1.1",
    b"PRI * HTTP/1.1",
    b"FOO / HTTP/1.1",
    b"GET / HTTP/1.2",
    b"GET  / HTTP/1.1",
]
STATUS_LINES = [
    b"HTTP/1.1 200 OK",
    b"HTTP/1.0 200 OK",
    b"HTTP/1.1 204 No Content",
    b"HTTP/1.1 304 Not Modified",
    b"HTTP/1.1 101 Switching Protocols",
    b"HTTP/1.1 100 Continue",
    b"HTTP/1.1 103 Early Hints",
    b"HTTP/1.1 099 Odd",
    b"HTTP/1.1 404 Not Found",
    b"HTTP/1.1 999 X",
    b"HTTP/1.1 200 ",
    b"HTTP/1.1 200",
    b"HTTP/1.1 200  OK",
    b"HTTP/1.2 200 OK",
]


class TestUsualHeads:
    @pytest.mark.parametrize("buf", USUAL_REQUESTS)
    def test_requests_are_decided_as_the_general_path_does(self, buf: bytes) -> None:
        assert canon.request(buf, DEFAULT_LIMITS, canon.small(DEFAULT_LIMITS), False)
        assert check_request(buf)

    @pytest.mark.parametrize("buf", USUAL_RESPONSES)
    def test_responses_are_decided_as_the_general_path_does(self, buf: bytes) -> None:
        assert canon.response(buf, DEFAULT_LIMITS, canon.small(DEFAULT_LIMITS), Method.GET)
        assert check_response(buf)

    def test_the_parsers_use_it(self) -> None:
        buf = USUAL_REQUESTS[0]
        assert RequestParser().parse(buf) is not None
        assert canon.small(DEFAULT_LIMITS) == 403  # 100 header lines of 4 bytes and more
        assert canon.small(SMALL) == 31


class TestCorpus:
    def test_the_harness_cases(self) -> None:
        decided = sum(check_request(c.request) for c in REQUESTS)
        decided += sum(check_response(r.data) for c in RESPONSES for r in c.replies)
        decided += sum(check_response(r.data) for c in REQUESTS for r in c.replies)
        assert decided > 500

    def test_the_parser_tests_inputs(self) -> None:
        inputs = set(_harvest(test_http_parse)) | set(_harvest(test_http_parse_response))
        assert len(inputs) > 100
        for buf in inputs:
            check_request(buf)
            check_response(buf)

    @pytest.mark.parametrize("line", REQUEST_LINES)
    def test_request_fields(self, line: bytes) -> None:
        for block in _field_variants():
            check_request(line + b"\r\n" + block + b"\r\nbody", every=False)

    @pytest.mark.parametrize("line", STATUS_LINES)
    def test_response_fields(self, line: bytes) -> None:
        for block in _field_variants():
            check_response(line + b"\r\n" + block + b"\r\nbody", every=False)

    @pytest.mark.parametrize("buf", USUAL_REQUESTS[:3] + USUAL_REQUESTS[-3:])
    def test_odd_bytes_in_requests(self, buf: bytes) -> None:
        head = buf[: buf.find(b"\r\n\r\n") + 4]
        for odd in _odd_bytes(head):
            check_request(odd, every=False)

    @pytest.mark.parametrize("buf", USUAL_RESPONSES[:2] + USUAL_RESPONSES[-2:])
    def test_odd_bytes_in_responses(self, buf: bytes) -> None:
        head = buf[: buf.find(b"\r\n\r\n") + 4]
        for odd in _odd_bytes(head):
            check_response(odd, every=False)

    def test_near_the_limits(self) -> None:
        # 7 header lines fit SMALL's maxhdr 8, 8 do not; a value pushes the HTX size over
        for n, size in itertools.product(range(5, 10), (1, 200, 300, 400)):
            block = b"Host: a\r\n" + b"".join(b"X%d: %s\r\n" % (i, b"v" * size) for i in range(n))
            check_request(b"GET / HTTP/1.1\r\n" + block + b"\r\n")
            check_response(b"HTTP/1.1 200 OK\r\n" + block + b"\r\n")


_NAMES = st.sampled_from(
    [b"Host", b"HOST", b"Content-Length", b"content-length", b"Connection", b"CONNECTION"]
    + [b"Transfer-Encoding", b"TE", b"Te", b"Upgrade", b"Expect", b"Sec-WebSocket-Key"]
    + [b"X-A", b"Cookie", b"Hosts", b"Content-Type", b"Tex", b"Connections"]
)
_VALUES = st.sampled_from(
    [b"a", b"A", b"0", b"3", b"03", b"3, 3", b"chunked", b"Chunked", b"keep-alive", b"close"]
    + [b"Close", b"upgrade", b"trailers", b"websocket", b"", b"\x00", b"\x80", b"a\tb"]
)
_BLANK = st.sampled_from([b"", b" ", b"\t", b"  "])


@settings(max_examples=500, deadline=None)
@given(
    line=st.sampled_from(REQUEST_LINES + STATUS_LINES),
    fields=st.lists(st.tuples(_NAMES, _BLANK, _VALUES, _BLANK), max_size=8),
)
def test_generated_heads(line: bytes, fields: list[tuple[bytes, bytes, bytes, bytes]]) -> None:
    block = b"".join(n + b":" + a + v + b + b"\r\n" for n, a, v, b in fields)
    buf = line + b"\r\n" + block + b"\r\n"
    if line.startswith(b"HTTP/"):
        check_response(buf)
    else:
        check_request(buf)
