"""The stats sockets at the edge: asyncio protocols feeding ``api.cli.Conversation``.

One ``CliProtocol`` per connection moves bytes between the transport and the
sans-IO conversation, and nothing else: it writes what the conversation
answers, closes when it says so, starts a ``Later`` answer and resumes it,
and closes an idle connection after the session's timeout (``stats timeout``,
10 s by default; HAProxy's CLI frontend client timeout). ``StatsSockets``
serves the listening sockets the runtime bound (``runtime.bind_pending()``),
at most ``stats maxconn`` connections at a time; beyond it, new connections
wait in the kernel backlog as on any HAProxy listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

from herdsman.admin.api.cli import Cli, Conversation, Later, Level, Output, Session


class CliProtocol(asyncio.Protocol):
    """One stats socket connection."""

    def __init__(self, owner: StatsSockets, session: Session) -> None:
        self.owner = owner
        self.conv: Conversation[object] = Conversation(owner.cli, session)
        self.session = session
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.owner.opened(self)
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._handle(self.conv.feed(data))
        self._arm()

    def eof_received(self) -> bool:
        self._handle(self.conv.eof())
        return True  # the answers still go out; _handle closes

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.timer is not None:
            self.timer.cancel()
        self.owner.closed(self)

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        loop = self.owner.loop
        self.timer = loop.call_later(self.session.timeout_ms / 1000.0, self._expire)

    def _expire(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _handle(self, out: Output) -> None:
        tr = self.transport
        if tr is None:
            return
        if out.data:
            tr.write(out.data)
        if out.pending is not None:
            self._start_later(out.pending)
        elif out.close:
            tr.close()

    def _start_later(self, later: Later) -> None:
        loop = self.owner.loop

        def done(text: str) -> None:
            # may be called from inside start(): always resume from the loop
            loop.call_soon(lambda: self._handle(self.conv.resume(text)))

        later.start(done)


class StatsSockets:
    """Every ``stats socket`` of the process, served on one event loop."""

    def __init__(
        self,
        cli: Cli[object],
        loop: asyncio.AbstractEventLoop,
        maxconn: int,
        timeout_ms: int,
    ) -> None:
        self.cli = cli
        self.loop = loop
        self.maxconn = maxconn
        self.timeout_ms = timeout_ms
        self.listeners: list[tuple[socket.socket, Level]] = []
        self.servers: list[asyncio.AbstractServer] = []
        self.conns: set[CliProtocol] = set()
        self.paused = False
        self.on_change: Callable[[], None] | None = None

    def add(self, sock: socket.socket, level: Level) -> None:
        """A bound listening socket (the runtime binds it)."""
        self.listeners.append((sock, level))

    async def start(self) -> None:
        for sock, level in self.listeners:
            self.servers.append(await self._serve(sock, level))

    async def _serve(self, sock: socket.socket, level: Level) -> asyncio.AbstractServer:
        def factory() -> CliProtocol:
            return CliProtocol(
                self, Session(level=level, bind_level=level, timeout_ms=self.timeout_ms)
            )

        dup = sock.dup()
        dup.setblocking(False)
        if sock.family == socket.AF_UNIX:
            return await self.loop.create_unix_server(factory, sock=dup)
        return await self.loop.create_server(factory, sock=dup)

    def opened(self, proto: CliProtocol) -> None:
        self.conns.add(proto)
        if len(self.conns) >= self.maxconn and not self.paused:
            self.paused = True
            for srv in self.servers:
                srv.close()
            self.servers.clear()

    def closed(self, proto: CliProtocol) -> None:
        self.conns.discard(proto)
        if self.paused and self.listeners and len(self.conns) < self.maxconn:
            self.paused = False
            self.loop.create_task(self.start())

    def stop_listening(self) -> None:
        """Soft stop: no new connection; the open ones finish their commands."""
        for srv in self.servers:
            srv.close()
        self.servers.clear()
        for sock, _ in self.listeners:
            with contextlib.suppress(OSError):
                sock.close()
        self.listeners.clear()
        self.paused = False

    def close(self) -> None:
        """Stop listening and close every connection (hard stop)."""
        self.stop_listening()
        for proto in list(self.conns):
            if proto.transport is not None:
                proto.transport.abort()
