"""The recording backend: a loopback HTTP/1.1 server that records what a proxy forwards.

Every connection's bytes are read with the strict reader of ``wire.py``; each
request read is recorded (in arrival order, over all connections) and answered
with the next scripted reply, or ``DEFAULT_REPLY`` once the script is used up.
What the strict reader refuses is recorded as ``Unreadable`` and the
connection is closed, as a careful origin server would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass

from .wire import Message, NeedMore, Unreadable, read_request

# Replies from the backend carry x-backend, so a client can tell them from the proxy's own.
DEFAULT_REPLY = b"HTTP/1.1 200 OK\r\nx-backend: 1\r\ncontent-length: 2\r\n\r\nok"


@dataclass(frozen=True)
class Reply:
    """What the backend sends for one request; ``close`` closes the connection after it
    (an empty ``data`` with ``close`` closes without answering)."""

    data: bytes
    close: bool = False


class RecordingBackend:
    """One listening socket; ``arm()`` sets the script of the next case and clears the record."""

    def __init__(self) -> None:
        self.port = 0
        self.received: list[Message | Unreadable] = []
        self.script: list[Reply] = []
        self.open_connections = 0
        self.accepted = 0
        self._server: asyncio.AbstractServer | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int) -> RecordingBackend:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = port
        self._server = await asyncio.start_server(self._serve, sock=sock)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            await self._server.wait_closed()

    def arm(self, script: list[Reply]) -> None:
        self.received = []
        self.script = list(script)

    async def wait_idle(self, timeout: float) -> None:
        """Until every connection the proxy opened for the case is closed."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    def _next_reply(self) -> Reply:
        return self.script.pop(0) if self.script else Reply(DEFAULT_REPLY)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        self.accepted += 1
        self._idle.clear()
        self._writers.add(writer)
        buf = b""
        try:
            while True:
                try:
                    msg, used = read_request(buf)
                except NeedMore:
                    try:
                        data = await reader.read(65536)
                    except OSError:  # HAProxy resets a connection it gives up on
                        data = b""
                    if data:
                        buf += data
                        continue
                    if buf:  # the proxy closed inside a message
                        try:
                            self.received.append(read_request(buf, eof=True)[0])
                        except (NeedMore, ValueError) as exc:
                            self.received.append(Unreadable(f"truncated: {exc}", buf))
                    return
                except ValueError as exc:
                    self.received.append(Unreadable(str(exc), buf))
                    return
                self.received.append(msg)
                buf = buf[used:]
                reply = self._next_reply()
                if reply.data:
                    writer.write(reply.data)
                    await writer.drain()
                if reply.close:
                    return
        except OSError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            self.open_connections -= 1
            if not self.open_connections:
                self._idle.set()
