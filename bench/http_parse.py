"""Micro-benchmark of the HTTP/1 engine: what a request or response head costs.

For typical heads (browser and API requests of 3 to 15 header lines, common
responses) it times, per head, what the proxy does on the hot path:

* herdsman: ``RequestParser.parse()`` + the connection-mode decisions +
  ``head_bytes()`` (the bytes to forward) + a body framer; for responses
  ``ResponseParser.parse()`` + ``response_connection()`` + ``head_bytes()``;
* herdsman, parse only: ``RequestParser.parse()`` / ``ResponseParser.parse()``;
* herdsman, exact lexer: the same head through ``exact.ExactParser`` (the
  path taken by non-canonical heads and by heads that arrive in pieces);
* httptools (llhttp in C) parsing the same bytes, with no callbacks, and with
  the callbacks a proxy needs at the least (URL, header name/value pairs,
  end of headers).

Run: ``.venv/bin/python bench/http_parse.py [--seconds 1]``. Nothing is
asserted; the numbers and their analysis are in docs/http.md ("Parser").
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import httptools

from herdsman.http import (
    ChunkedBody,
    Framing,
    LengthBody,
    Method,
    RequestParser,
    ResponseParser,
    connmode,
    head_bytes,
)
from herdsman.http.exact import ExactParser

REQUESTS = {
    "wrk GET (1 header)": b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
    "curl GET (3 headers)": b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
    "browser GET (11 headers)": (
        b"GET /api/v1/items?id=12345&sort=desc HTTP/1.1\r\n"
        b"Host: www.example.com\r\n"
        b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
        b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
        b"Accept-Language: en-US,en;q=0.5\r\n"
        b"Accept-Encoding: gzip, deflate, br\r\n"
        b"Connection: keep-alive\r\n"
        b"Cookie: session=abcdef0123456789; theme=dark\r\n"
        b"Upgrade-Insecure-Requests: 1\r\n"
        b"Sec-Fetch-Dest: document\r\n"
        b"Sec-Fetch-Mode: navigate\r\n"
        b"Sec-Fetch-Site: none\r\n\r\n"
    ),
    "API POST JSON (7 headers)": (
        b"POST /v2/orders HTTP/1.1\r\n"
        b"Host: api.example.com\r\n"
        b"User-Agent: python-requests/2.31.0\r\n"
        b"Accept-Encoding: gzip, deflate\r\n"
        b"Accept: application/json\r\n"
        b"Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: 27\r\n\r\n"
        b'{"item": 42, "quantity": 1}'
    ),
    "API PUT chunked (5 headers)": (
        b"PUT /v2/blobs/7 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: Go-http-client/1.1\r\n"
        b"Transfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n"
        b"Accept-Encoding: gzip\r\n\r\n"
    ),
    "browser GET (15 headers)": (
        b"GET /static/app.3f2a1c.js HTTP/1.1\r\n"
        b"Host: cdn.example.com\r\n"
        b"Connection: keep-alive\r\n"
        b'sec-ch-ua: "Chromium";v="120", "Not?A_Brand";v="8"\r\n'
        b"sec-ch-ua-mobile: ?0\r\n"
        b"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
        b'sec-ch-ua-platform: "Windows"\r\n'
        b"Accept: */*\r\n"
        b"Sec-Fetch-Site: same-site\r\n"
        b"Sec-Fetch-Mode: no-cors\r\n"
        b"Sec-Fetch-Dest: script\r\n"
        b"Referer: https://www.example.com/\r\n"
        b"Accept-Encoding: gzip, deflate, br\r\n"
        b"Accept-Language: en-GB,en;q=0.9\r\n"
        b'If-None-Match: W/"5e15-18c4"\r\n'
        b"If-Modified-Since: Tue, 12 Dec 2023 10:00:00 GMT\r\n\r\n"
    ),
}

RESPONSES = {
    "nginx 200 of http_path.py (5)": (
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 02:50:00 GMT\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nhello\n"
    ),
    "nginx 200 (7 headers)": (
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 12 Dec 2023 10:00:00 GMT\r\n"
        b"Content-Type: text/html\r\nContent-Length: 615\r\nLast-Modified: Tue, 12 Dec 2023 09:00:00 GMT\r\n"
        b'Connection: keep-alive\r\nETag: "65782a10-267"\r\n\r\n'
    ),
    "API 200 chunked (5 headers)": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Date: Tue, 12 Dec 2023 10:00:00 GMT\r\nVary: Accept-Encoding\r\nCache-Control: no-store\r\n\r\n"
    ),
    "304 (3 headers)": (
        b'HTTP/1.1 304 Not Modified\r\nDate: Tue, 12 Dec 2023 10:00:00 GMT\r\nETag: "5e15-18c4"\r\n'
        b"Cache-Control: max-age=3600\r\n\r\n"
    ),
}

KAL = connmode.Mode.KAL


def herdsman_request(buf: bytes) -> Callable[[], object]:
    parser = RequestParser()

    def run() -> object:
        head = parser.parse(buf)
        assert head is not None
        server_close = connmode.server_wants_close(head.flags, KAL, KAL)
        out = head_bytes(head, connmode.request_connection(head.flags, server_close))
        if head.framing is Framing.LENGTH:
            LengthBody(head.content_length).feed(buf[head.size :])
        elif head.framing is Framing.CHUNKED:
            ChunkedBody(True, parser.limits)
        return connmode.client_wants_close(head.flags), out

    return run


def parse_request(buf: bytes) -> Callable[[], object]:
    parse = RequestParser().parse
    return lambda: parse(buf)


def parse_response(buf: bytes) -> Callable[[], object]:
    parse = ResponseParser().parse
    return lambda: parse(buf, Method.GET)


def exact_request(buf: bytes) -> Callable[[], object]:
    parser = RequestParser()

    def run() -> object:
        ex = ExactParser(True, parser.limits, False)
        ex.feed(buf)
        return head_bytes(parser._finish_exact(ex))

    return run


def herdsman_response(buf: bytes) -> Callable[[], object]:
    parser = ResponseParser()

    def run() -> object:
        head = parser.parse(buf, Method.GET)
        assert head is not None
        conn, close = connmode.response_connection(
            head.status, Method.GET, connmode.Flag.VER_11, head.flags, head.framing, False
        )
        return head_bytes(head, conn), close

    return run


class _Minimal:
    """The callbacks a proxy needs at the least from llhttp."""

    __slots__ = ("url", "headers", "done")

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.done = False

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.done = True


class _Nothing:
    pass


def httptools_bare(buf: bytes, response: bool) -> Callable[[], object]:
    cls = httptools.HttpResponseParser if response else httptools.HttpRequestParser

    def run() -> object:
        p = cls(_Nothing())
        p.feed_data(buf)
        return p

    return run


def httptools_minimal(buf: bytes, response: bool) -> Callable[[], object]:
    cls = httptools.HttpResponseParser if response else httptools.HttpRequestParser

    def run() -> object:
        cb = _Minimal()
        cls(cb).feed_data(buf)
        return cb

    return run


def per_op(fn: Callable[[], object], seconds: float) -> float:
    """Microseconds per call: the best of many windows of about 2 ms over
    ``seconds`` (the minimum is what the code costs; slower windows also
    measure whatever else the machine was doing)."""
    fn()
    n = 1
    while True:  # calibrate a window of about 2 ms
        t = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t > 0.002:
            break
        n *= 2
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n * 1e6)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = ap.parse_args()
    cols = ("herdsman", "parse only", "exact lexer", "httptools bare", "httptools+callbacks")
    print(f"{'head':32} " + " ".join(f"{c:>20}" for c in cols) + "   (microseconds per head)")
    for name, buf in REQUESTS.items():
        row = [
            per_op(herdsman_request(buf), args.seconds),
            per_op(parse_request(buf), args.seconds),
            per_op(exact_request(buf), args.seconds),
            per_op(httptools_bare(buf, False), args.seconds),
            per_op(httptools_minimal(buf, False), args.seconds),
        ]
        print(f"{name:32} " + " ".join(f"{v:20.2f}" for v in row))
    for name, buf in RESPONSES.items():
        row = [
            per_op(herdsman_response(buf), args.seconds),
            per_op(parse_response(buf), args.seconds),
            float("nan"),
            per_op(httptools_bare(buf, True), args.seconds),
            per_op(httptools_minimal(buf, True), args.seconds),
        ]
        print(f"{name:32} " + " ".join(f"{v:20.2f}" for v in row))


if __name__ == "__main__":
    main()
