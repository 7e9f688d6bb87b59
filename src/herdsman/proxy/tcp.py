"""The TCP data path: one ``TcpStream`` per client connection, relaying bytes to
the server the backend chose (HAProxy's stream in ``mode tcp``).

Hot path rules: asyncio Protocol callbacks only (the one coroutine per stream
is the connect, ``proxy/connect.py``, which also owns retries); data is
forwarded as received; the only per-chunk work is a write and the byte
counters; back-pressure is the transports' own (``pause_writing`` on one side
pauses reading on the other), so memory stays bounded whatever the peers'
speeds.

Timeouts (``timeout client/server/tunnel/client-fin/server-fin``) are
inactivity timeouts checked by one lazily re-armed timer per stream. As in
HAProxy without ``option independent-streams``, activity on a socket (a read
or a write) refreshes that side's timeout; a side that sent its FIN switches
to its ``-fin`` timeout. ``timeout tunnel``, when set, replaces the client and
server timeouts once the server connection is established (TCP mode has no
analysers left at that point).

Who closes what: the stream closes both of its sockets (``close()`` flushes
what was forwarded, ``abort()`` resets), releases its server slot and tells
its frontend, exactly once, whichever side ends first. ``option nolinger``
(frontend: the client socket, backend: the server socket) makes every close
an RST (SO_LINGER 0), as HAProxy's ``FD_LINGER_RISK``/``CO_FL_NOLINGER``.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import struct

from herdsman.core.backend import Backend, Server
from herdsman.core.counters import BeCounters
from herdsman.defs.levels import LOG_INFO
from herdsman.defs.status import HanaEvent
from herdsman.proxy import tcp_rules
from herdsman.proxy.connect import (
    ConnectError,
    Connecting,
    client_key,
    connect_from,
    destination,
    make_socket,
    proxy_header,
)
from herdsman.proxy.frontend import Frontend, Listener
from herdsman.proxy.routing import Outcome
from herdsman.sample.txn import Txn

_LINGER_RST = struct.pack("ii", 1, 0)


def set_bufs(sock: socket.socket, bufs: tuple[int, int]) -> None:
    """``tune.sndbuf.*``/``tune.rcvbuf.*`` (0: the kernel's default)."""
    sndbuf, rcvbuf = bufs
    if sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)


def _set_nolinger(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
        except OSError:
            pass


class _Side(asyncio.Protocol):
    """One socket of a stream; forwards what it reads to the other side."""

    __slots__ = ("stream", "transport", "peer", "eof", "is_server")

    def __init__(self, stream: TcpStream, is_server: bool) -> None:
        self.stream = stream
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self.eof = False  # we received a FIN from this side
        self.is_server = is_server

    def data_received(self, data: bytes) -> None:
        stream = self.stream
        stream.last = stream.loop.time()
        if stream.inspect is not None and not self.is_server:
            tcp_rules.data(stream, stream.frontend.router, data)
            return
        peer = self.peer
        if peer is None or peer.transport is None:
            # client data before the server connection exists: keep it
            # (reading is paused right after, so this is at most one read)
            stream.early.append(data)
            return
        peer.transport.write(data)
        n = len(data)
        if self.is_server:
            stream.fe_c.bytes_out += n
            stream.be_c.bytes_out += n
            stream.srv_c.bytes_out += n
        else:
            stream.fe_c.bytes_in += n
            stream.be_c.bytes_in += n
            stream.srv_c.bytes_in += n

    def eof_received(self) -> bool:
        self.eof = True
        stream = self.stream
        if stream.inspect is not None and not self.is_server:
            tcp_rules.eof(stream, stream.frontend.router)
            return True
        stream.last = stream.loop.time()
        stream.rearm()  # a half-closed side may have a shorter "-fin" timeout
        peer = self.peer
        if peer is not None and peer.transport is not None:
            if peer.eof:
                stream.close()
                return True
            try:
                peer.transport.write_eof()
            except (OSError, RuntimeError):
                stream.close()
        return True  # keep our side open for writing (half-close)

    def pause_writing(self) -> None:
        # this side's socket is full: stop reading the side that feeds it
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.pause_reading()

    def resume_writing(self) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None and not peer.eof:
            peer.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.stream.side_closed(self)


class ClientSide(_Side):
    __slots__ = ()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses
        self.transport = transport  # type: ignore[assignment]
        self.stream.client_connected()


class ServerSide(_Side):
    __slots__ = ()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]


# a server counter sink for bytes moved before a server is chosen (never read)
_NO_SERVER = BeCounters()


class TcpStream(Connecting):
    """A client connection and its server connection (spec §2.7, §3 for TCP)."""

    __slots__ = (
        "frontend",
        "listener",
        "loop",
        "backend",
        "client",
        "server_side",
        "early",
        "last",
        "timer",
        "task",
        "closed",
        "established",
        "peer_addr",
        "local_addr",
        "held",
        "accepted",
        "fe_c",
        "be_c",
        "srv_c",
        "txn",
        "inspect",
    )

    def __init__(self, frontend: Frontend, listener: Listener) -> None:
        super().__init__()
        self.frontend = frontend
        self.listener = listener
        self.loop = frontend.loop
        self.backend = frontend.backend_for()
        self.client = ClientSide(self, False)
        self.server_side: ServerSide | None = None
        self.early: list[bytes] = []  # client data read before the server connection
        self.last = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.closed = False
        self.established = False
        self.peer_addr: object = None
        self.local_addr: object = None
        self.held = False  # accepted beyond a limit: waits for a slot (frontend.py)
        self.accepted = self.loop.time()  # show sess: the stream's age
        # byte counters updated as data flows (core/counters.py)
        self.fe_c = frontend.counters
        self.be_c = self.backend.counters if self.backend is not None else _NO_SERVER
        self.srv_c = _NO_SERVER
        self.txn: Txn | None = None  # the rules' (proxy/tcp_rules.py), with rules only
        self.inspect: tcp_rules.Inspect | None = None

    def client_transport(self) -> asyncio.BaseTransport | None:
        return self.client.transport

    # -- start ------------------------------------------------------------------

    def client_connected(self) -> None:
        tr = self.client.transport
        assert tr is not None
        self.peer_addr = tr.get_extra_info("peername")
        self.local_addr = tr.get_extra_info("sockname")
        fe = self.frontend
        if fe.clitcpka or fe.client_bufs != (0, 0):
            sock = tr.get_extra_info("socket")
            if sock is not None:
                if fe.clitcpka:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                set_bufs(sock, fe.client_bufs)
        if fe.nolinger:
            _set_nolinger(tr)
        tr.pause_reading()
        if fe.logger is not None:
            self._log_connect()
        if not self.held:
            self.start()

    def _log_connect(self) -> None:
        """``frontend_accept()`` without a log format: one INFO line per connection."""
        fe = self.frontend
        src, dst = self.peer_addr, self.local_addr
        if isinstance(src, tuple) and isinstance(dst, tuple):
            text = f"Connect from {src[0]}:{src[1]} to {dst[0]}:{dst[1]} ({fe.name}/TCP)"
        else:
            luid = fe.listeners.index(self.listener) + 1 if self.listener in fe.listeners else 0
            text = f"Connect to unix:{luid} ({fe.name}/TCP)"
        fe.logger.send(LOG_INFO, text)

    def start(self) -> None:
        """Pick a server and connect (at accept time, or when a held stream gets a slot)."""
        self.last = self.loop.time()
        fe = self.frontend
        if fe.rules is not None:
            if tcp_rules.accept(self, fe.router, fe.rules):
                self._arm_timer()
                tcp_rules.start(self, fe.router, fe.rules)
            return
        if self.backend is None:
            self.close()
            return
        self._arm_timer()
        self.task = self.loop.create_task(self._connect(self.backend))

    def connect_to(self, be: Backend, out: Outcome) -> None:
        """Connect once the rules chose the backend (and maybe the server)."""
        self.task = self.loop.create_task(self._connect(be, out.server))

    # -- connect (proxy/connect.py owns the slot, retries and redispatch) ---------

    async def _connect(self, be: Backend, direct: Server | None = None) -> None:
        key = client_key(be, self.peer_addr)
        try:
            srv = await connect_from(self, be, be.acquire(self, key, direct), key)
        except ConnectError:
            self.close()
            return
        self._established(be, srv)

    def is_closed(self) -> bool:
        """``closed`` read as a call: it changes while the connect coroutine awaits."""
        return self.closed

    async def open_to(self, srv: Server, timeout: float | None) -> int | None:
        """One connection attempt; None on success, else an errno."""
        self.srv_c = srv.counters
        try:
            family, addr = destination(srv, self.local_addr)
        except OSError as exc:
            return exc.errno or errno.EIO
        side = ServerSide(self, True)
        # the server may answer (or close) before this coroutine resumes:
        # its side forwards to the client from the start
        side.peer = self.client
        loop = self.loop
        cfg = srv.cfg
        sock: socket.socket | None = None
        try:
            async with asyncio.timeout(timeout):
                bufs = self.frontend.server_bufs
                if family != socket.AF_UNIX and not cfg.namespace and not cfg.tfo and not any(bufs):
                    # the common case: one call, uvloop connects a numeric address itself
                    host, port = addr[0], addr[1]  # type: ignore[index]
                    await loop.create_connection(lambda: side, host, port)
                else:
                    sock = make_socket(srv, family)
                    if family != socket.AF_UNIX:
                        set_bufs(sock, bufs)  # before connect(), as proto_tcp.c
                    await loop.sock_connect(sock, addr)  # type: ignore[arg-type]
                    if family == socket.AF_UNIX:
                        await loop.create_unix_connection(lambda: side, sock=sock)
                    else:
                        await loop.create_connection(lambda: side, sock=sock)
        except TimeoutError:
            if sock is not None:
                sock.close()
            return errno.ETIMEDOUT
        except OSError as exc:
            if sock is not None:
                sock.close()
            return exc.errno or errno.ECONNREFUSED
        except asyncio.CancelledError:
            if sock is not None:
                sock.close()
            raise
        self.server_side = side
        return None

    def _established(self, be: Backend, srv: Server) -> None:
        side = self.server_side
        assert side is not None
        client = self.client
        client.peer = side
        if side.transport is None:  # the server already closed
            self.close()
            return
        self.established = True
        srv.counters.connect += 1
        be.passive(srv, HanaEvent.L4_OK)
        if be.srvtcpka:
            sock = side.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if be.nolinger:
            _set_nolinger(side.transport)
        if srv.cfg.send_proxy or srv.cfg.send_proxy_v2:
            side.transport.write(proxy_header(srv, self.peer_addr, self.local_addr))
        for chunk in self.early:
            side.transport.write(chunk)
            n = len(chunk)
            self.fe_c.bytes_in += n
            self.be_c.bytes_in += n
            self.srv_c.bytes_in += n
        self.early.clear()
        self.last = self.loop.time()
        self.rearm()
        if client.transport is not None:
            if client.eof:
                side.transport.write_eof()
            else:
                client.transport.resume_reading()

    # -- timeouts -------------------------------------------------------------------

    def _timeout(self) -> float | None:
        """The current inactivity limit in seconds (the smallest applicable)."""
        fe = self.frontend
        be = self.backend
        values: list[int] = []
        tunnel = be.cfg.timeouts.tunnel if be is not None else None
        client_side = self.client
        if self.established and tunnel:
            values.append(tunnel)
        else:
            if fe.timeout_client:
                values.append(fe.timeout_client)
            if self.established and be is not None and be.cfg.timeouts.server:
                values.append(be.cfg.timeouts.server)
        if client_side.eof and fe.timeout_client_fin:
            values.append(fe.timeout_client_fin)
        server_side = self.server_side
        if (
            server_side is not None
            and server_side.eof
            and be is not None
            and be.cfg.timeouts.server_fin
        ):
            values.append(be.cfg.timeouts.server_fin)
        return min(values) / 1000.0 if values else None

    def _arm_timer(self) -> None:
        limit = self._timeout()
        if limit is None:
            return
        self.timer = self.loop.call_at(self.last + limit, self._on_timer)

    def rearm(self) -> None:
        """Re-arm only if the limit got shorter: a later one is found by _on_timer."""
        if self.closed:
            return
        timer = self.timer
        if timer is None:
            self._arm_timer()
            return
        limit = self._timeout()
        if limit is not None and self.last + limit < timer.when():
            timer.cancel()
            self.timer = self.loop.call_at(self.last + limit, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        if self.closed:
            return
        limit = self._timeout()
        if limit is None:
            return
        due = self.last + limit
        if self.loop.time() >= due:
            self._expire()
        else:
            self.timer = self.loop.call_at(due, self._on_timer)

    # -- end ---------------------------------------------------------------------------

    def _expire(self) -> None:
        """A timeout struck: close as HAProxy's ``process_stream()`` does then.

        The client gets a FIN (its side is shut for writing, then closed: a
        reset follows only with the frontend's ``nolinger``); the server
        connection is aborted (``SI_FL_NOLINGER``): a FIN then a reset, or
        only the reset with the backend's ``nolinger``. Observed on 2.6.12.
        """
        client = self.client.transport
        if client is not None and not client.is_closing():
            try:
                client.write_eof()
            except (OSError, RuntimeError):
                pass
        side = self.server_side
        server = side.transport if side is not None else None
        if server is not None and not server.is_closing():
            be = self.backend
            try:
                if be is None or not be.nolinger:
                    server.write_eof()
                    _set_nolinger(server)
            except (OSError, RuntimeError):
                pass
        self.close()

    def side_closed(self, side: _Side) -> None:
        peer = side.peer
        if peer is not None and peer.transport is not None:
            peer.transport.close()  # flushes what was already forwarded
        if (self.client.transport is None) and (
            self.server_side is None or self.server_side.transport is None
        ):
            self._finish()
        elif side is self.client and not self.established:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        if self.client.transport is not None:
            self.client.transport.close()
        if self.server_side is not None and self.server_side.transport is not None:
            self.server_side.transport.close()
        self._finish()

    def soft_stop(self) -> None:
        """A TCP stream goes on until it ends (or ``hard-stop-after``)."""

    def abort(self) -> None:
        """Kill the stream now (on-marked-down shutdown-sessions, hard stop)."""
        if self.client.transport is not None:
            self.client.transport.abort()
        if self.server_side is not None and self.server_side.transport is not None:
            self.server_side.transport.abort()
        self._finish()

    def _finish(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.txn is not None:
            tcp_rules.end(self)
        task = self.task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        be = self.backend
        if self.pending is not None and be is not None:
            be.abandon(self.pending)  # gave up while queued
            self.pending = None
        srv = self.server
        if srv is not None and be is not None:
            be.release(srv, self)
            self.server = None
        self.frontend.stream_closed(self)
