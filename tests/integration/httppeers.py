"""Loopback peers for HTTP mode's acceptance tests, and the two proxies they compare.

* ``Origin``: a recording HTTP/1.1 server. Every connection gets a number in
  accept order; every request read (with ``http_diff/wire.py``'s strict
  reader, which shares no code with herdsman's engine) is recorded with the
  number of its connection, and who closed each connection is recorded too.
  It answers as a plain origin server does: ``Reply`` from its handler (by
  default a 200 naming the connection and the request), and it closes after a
  request that asks for it (``Connection: close``, or HTTP/1.0 without
  keep-alive).
* ``Client``: one client connection that sends raw bytes and reads whole
  responses with the same strict reader.
* ``proxy(kind, text)``: the real haproxy 2.6.12 (``"haproxy"``) or herdsman
  on this loop (``"herdsman"``) running the same configuration, so a test runs
  one scenario through each and compares what the peers saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from herdsman.testing import Haproxy, listening, running, wait_for_async
from http_diff.wire import Message, NeedMore, read_request, read_response

DEADLINE = 5.0


@dataclass(frozen=True)
class Reply:
    """What the origin sends; ``close``: close the connection after it (an empty
    ``data`` with ``close`` closes without answering; None ``data`` answers nothing
    and keeps reading)."""

    data: bytes | None
    close: bool = False


@dataclass
class Seen:
    """A request the origin received: on which connection, and the message."""

    conn: int
    msg: Message
    index: int  # the request's number on its connection (0: the first)


@dataclass
class OriginConn:
    number: int
    writer: asyncio.StreamWriter
    requests: int = 0
    closed_by: str = ""  # "", "proxy" (EOF or reset from the proxy), "origin"
    closed_at: float = 0.0  # loop time
    done: asyncio.Event = field(default_factory=asyncio.Event)


def wants_close(msg: Message) -> bool:
    """Does the request ask the server to close after its response (RFC 9112 9.3)?"""
    tokens = {t.strip().lower() for v in msg.header("connection") for t in v.split(",")}
    if msg.start[2] == "HTTP/1.0":
        return "keep-alive" not in tokens
    return "close" in tokens


def ok(seen: Seen) -> Reply:
    """The default answer: 200 with a body naming the connection and the request."""
    body = f"c{seen.conn} r{seen.index}".encode()
    close = wants_close(seen.msg)
    head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n" % len(body)
    if close:
        head += b"connection: close\r\n"
    return Reply(head + b"\r\n" + body, close)


Handler = Callable[[Seen], Reply]


class Origin:
    """A recording HTTP/1.1 server on loopback (see the module docstring)."""

    def __init__(self, handler: Handler = ok, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.host = host
        self.port = 0
        self.conns: list[OriginConn] = []
        self.seen: list[Seen] = []
        self.active = 0  # requests read and not answered yet
        self.max_active = 0
        self._server: asyncio.AbstractServer | None = None

    async def start(self, port: int = 0) -> Origin:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._serve, sock=sock)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for c in self.conns:
                c.writer.close()
            await self._server.wait_closed()
            self._server = None

    def reset(self) -> None:
        self.conns.clear()
        self.seen.clear()
        self.max_active = self.active

    def open_conns(self) -> list[int]:
        return [c.number for c in self.conns if not c.closed_by]

    def closed(self, by: str = "proxy") -> list[int]:
        return [c.number for c in self.conns if c.closed_by == by]

    async def wait_requests(self, n: int, timeout: float = DEADLINE) -> None:
        await wait_for_async(lambda: len(self.seen) >= n, timeout)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = OriginConn(len(self.conns), writer)
        self.conns.append(conn)
        buf = b""
        try:
            while True:
                try:
                    msg, used = read_request(buf)
                except NeedMore:
                    data = await reader.read(65536)
                    if not data:
                        conn.closed_by = "proxy"
                        return
                    buf += data
                    continue
                buf = buf[used:]
                seen = Seen(conn.number, msg, conn.requests)
                conn.requests += 1
                self.seen.append(seen)
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                try:
                    reply = await self._answer(seen)
                finally:
                    self.active -= 1
                if reply.data:
                    writer.write(reply.data)
                    await writer.drain()
                if reply.close:
                    conn.closed_by = "origin"
                    return
        except (OSError, ValueError, RuntimeError):  # RuntimeError: written after the close
            conn.closed_by = conn.closed_by or "proxy"
        finally:
            conn.closed_at = asyncio.get_running_loop().time()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            conn.done.set()

    async def _answer(self, seen: Seen) -> Reply:
        reply = self.handler(seen)
        if asyncio.iscoroutine(reply):
            return await reply  # type: ignore[no-any-return]
        return reply


class Client:
    """One client connection reading whole responses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = b""
        self.eof = False

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1") -> Client:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def response(
        self, method: str = "GET", timeout: float = DEADLINE
    ) -> tuple[Message, bytes] | None:
        """The next response (message, raw bytes), or None when the proxy closed first."""
        async with asyncio.timeout(timeout):
            while True:
                try:
                    msg, used = read_response(self.buf, method, self.eof)
                except NeedMore:
                    if self.eof:
                        return None
                    await self._read()
                    continue
                if not self.buf and self.eof:
                    return None
                raw, self.buf = self.buf[:used], self.buf[used:]
                return msg, raw

    async def request(self, raw: bytes, method: str = "GET") -> tuple[Message, bytes] | None:
        self.send(raw)
        return await self.response(method)

    async def _read(self) -> None:
        try:
            data = await self.reader.read(1 << 20)
        except OSError:
            data = b""
        if data:
            self.buf += data
        else:
            self.eof = True

    async def closed(self, timeout: float = DEADLINE) -> bytes:
        """Wait for the proxy to close; what came before the close."""
        async with asyncio.timeout(timeout):
            while not self.eof:
                await self._read()
        return self.buf

    def close(self) -> None:
        self.writer.close()


def get(path: str = "/", extra: str = "", version: str = "HTTP/1.1") -> bytes:
    return f"GET {path} {version}\r\nhost: t\r\n{extra}\r\n".encode()


@contextlib.asynccontextmanager
async def proxy(kind: str, text: str, port: int) -> AsyncIterator[object]:
    """Run ``text`` (listening on ``port``) in haproxy or in herdsman until the end of
    the block; yields the ``Herdsman`` or the ``Haproxy``."""
    if kind == "haproxy":
        hp = Haproxy(text)
        await asyncio.to_thread(hp.start, port)
        try:
            yield hp
        finally:
            hp.stop()
    else:
        async with running(text) as hm:
            await wait_for_async(lambda: listening(port))
            yield hm


async def read_until_closed(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    got = b""
    try:
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                got += chunk
    except (ConnectionResetError, TimeoutError) as exc:
        got += f"<{type(exc).__name__}>".encode()
    writer.close()
    return got


def seen_summary(origin: Origin) -> list[object]:
    return [(s.msg.start, [(n, v) for n, v in s.msg.headers]) for s in origin.seen]


KINDS = ["haproxy", "herdsman"]
