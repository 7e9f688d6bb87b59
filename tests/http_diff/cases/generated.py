"""Random cases built from fragments that matter to an HTTP/1 parser.

The hand-written cases test one rule each; these mix rules (a bare LF in one
line, obs-fold in the next, a duplicate Content-Length with Transfer-Encoding,
an upgrade, a pipelined request, a 1xx before a bad response...) in ways
nobody would write by hand. Seeded, so a failure is reproducible.
"""

from __future__ import annotations

import random

from ..backend import Reply
from .base import Case

_REQUEST_LINES = [
    b"GET / HTTP/1.1",
    b"POST /p HTTP/1.1",
    b"GET http://a:80/x HTTP/1.1",
    b"GET  /a HTTP/1.0",
    b"get / HTTP/1.1",
    b"GET /a\x7fb HTTP/1.1",
    b"GET / HTTP/1.2",
    b"CONNECT a:443 HTTP/1.1",
    b"HEAD / HTTP/1.1",
    b"GET /\t HTTP/1.1",
    b"DELETE / HTTP/1.0",
    b"OPTIONS * HTTP/1.1",
]
_REQUEST_FIELDS = [
    b"Host: a",
    b"Host: A",
    b"Host: b",
    b"Host:a:80",
    b"Content-Length: 3",
    b"Content-Length: 03",
    b"Content-Length: 3, 3",
    b"Content-Length: 4",
    b"Content-Length:",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: chunked, gzip",
    b"Transfer-Encoding:  Chunked ",
    b"Connection: close",
    b"Connection: keep-alive, foo",
    b"Connection: upgrade",
    b"Upgrade: websocket",
    b"Upgrade: h2c",
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    b"TE: trailers, x",
    b"Expect: 100-continue",
    b"X: a\x00b",
    b"X: \tv ",
    b" fold",
    b"\tfold",
    b"X Y: z",
    b"X: a\rb",
    b": e",
    b"Keep-Alive: 1",
]
_STATUS_LINES = [
    b"HTTP/1.1 200 OK",
    b"HTTP/1.0 200 OK",
    b"HTTP/1.1 204 No Content",
    b"HTTP/1.1 304 Not Modified",
    b"HTTP/1.1 100 Continue",
    b"HTTP/1.1 301 Moved",
    b"HTTP/1.1  200",
    b"HTTP/1.1 200",
    b"HTTP/2.0 500 X",
    b"XTTP/1.1 404 N",
    b"HTTP/1.1 101 Switching",
    b"HTTP/1.1 2x0 OK",
    b"http/1.1 200 OK",
    b"HTTP/1.1 99 Odd",
]
_RESPONSE_FIELDS = [
    b"Content-Length: 3",
    b"Content-Length: 0",
    b"Content-Length: 3, 3",
    b"Content-Length: 5",
    b"Content-Length: x",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip",
    b"Transfer-Encoding: gzip, chunked",
    b"Connection: close",
    b"Connection: keep-alive",
    b"Connection: upgrade",
    b"Upgrade: websocket",
    b"Sec-WebSocket-Accept: x",
    b"X: a\x00b",
    b" fold",
    b"X Y: z",
    b"TE: gzip",
    b"Keep-Alive: 5",
    b"x-backend: 1",
]
_BODIES = [
    b"",
    b"abc",
    b"3\r\nabc\r\n0\r\n\r\n",
    b"3\nabc\n0\n\n",
    b"0\r\n\r\n",
    b"3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    b"zz\r\n",
    b"abcdef",
]
_EOLS = [b"\r\n"] * 6 + [b"\n"]
_REQUESTS_FOR_RESPONSES = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
]


def _message(rng: random.Random, start: list[bytes], fields: list[bytes], first: bytes) -> bytes:
    eol = rng.choice(_EOLS)
    out = rng.choice(start) + eol + first
    for _ in range(rng.randint(0, 5)):
        out += rng.choice(fields) + rng.choice(_EOLS)
    return out + eol + rng.choice(_BODIES)


def requests(seed: int, count: int) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        data = _message(rng, _REQUEST_LINES, _REQUEST_FIELDS, b"")
        if rng.random() < 0.2:
            data += b"GET /2 HTTP/1.1\r\n\r\n"
        cases.append(Case(f"random-request-{seed}-{i}", data))
    return cases


def responses(seed: int, count: int) -> list[Case]:
    """Responses (with x-backend first, so the client can tell them from HAProxy's)
    to one of a few requests; the backend closes after it."""
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        data = _message(rng, _STATUS_LINES, _RESPONSE_FIELDS, b"x-backend: 1\r\n")
        request = rng.choice(_REQUESTS_FOR_RESPONSES)
        cases.append(Case(f"random-response-{seed}-{i}", request, (Reply(data, True),)))
    return cases
