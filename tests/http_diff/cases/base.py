"""The harness's case type and the helpers that build raw messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backend import Reply


@dataclass(frozen=True)
class Case:
    name: str
    request: bytes
    replies: tuple[Reply, ...] = field(default=())


def req(
    line: bytes = b"GET / HTTP/1.1", headers: bytes = b"Host: a\r\n", body: bytes = b""
) -> bytes:
    return line + b"\r\n" + headers + b"\r\n" + body


def post(headers: bytes, body: bytes = b"", line: bytes = b"POST / HTTP/1.1") -> bytes:
    return req(line, b"Host: a\r\n" + headers, body)


CHUNKS = b"3\r\nabc\r\n0\r\n\r\n"
TE = b"Transfer-Encoding: chunked\r\n"
WS_KEY = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
WS_REQ = b"Connection: upgrade\r\nUpgrade: websocket\r\n"
OK = b"HTTP/1.1 200 OK\r\nx-backend: 1\r\n"
