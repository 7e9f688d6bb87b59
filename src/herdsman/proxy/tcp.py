"""The TCP data path: one ``TcpStream`` per client connection, relaying bytes to
the server the backend chose (HAProxy's stream in ``mode tcp``).

Hot path rules: asyncio Protocol callbacks only (the one coroutine per stream
is the connect, which also owns retries); data is forwarded as received; the
only per-chunk work is a write and two counter additions; back-pressure is the
transports' own (``pause_writing`` on one side pauses reading on the other),
so memory stays bounded whatever the peers' speeds.

Timeouts (``timeout client/server/tunnel/client-fin/server-fin``) are
inactivity timeouts checked by one lazily re-armed timer per stream. As in
HAProxy without ``option independent-streams``, activity on a socket (a read
or a write) refreshes that side's timeout; a side that sent its FIN switches
to its ``-fin`` timeout. ``timeout tunnel``, when set, replaces the client and
server timeouts once the server connection is established (TCP mode has no
analysers left at that point).

Retries (spec §2.7): a failed connect is retried ``retries`` times (N+1
attempts, as fixed in later 2.6.x); each retry either redispatches to another
server or, after a turn-around delay of ``min(1s, timeout connect)``, goes to
the same server.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import TYPE_CHECKING

from herdsman.core.connect import destination, make_socket, proxy_header
from herdsman.core.server import Server, SrvState
from herdsman.defs.levels import LOG_INFO
from herdsman.defs.status import HanaEvent

if TYPE_CHECKING:
    from herdsman.proxy.frontend import Frontend, Listener

RR_LIKE = ("roundrobin", "static-rr", "random")


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
        peer = self.peer
        if peer is None or peer.transport is None:
            # client data before the server connection exists: keep it
            # (reading is paused right after, so this is at most one read)
            stream.pending.append(data)
            return
        peer.transport.write(data)
        if self.is_server:
            stream.bytes_out += len(data)
        else:
            stream.bytes_in += len(data)

    def eof_received(self) -> bool:
        self.eof = True
        stream = self.stream
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


class TcpStream:
    """A client connection and its server connection (spec §2.7, §3 for TCP)."""

    __slots__ = (
        "frontend",
        "listener",
        "loop",
        "backend",
        "client",
        "server_side",
        "server",
        "pending",
        "last",
        "timer",
        "task",
        "closed",
        "bytes_in",
        "bytes_out",
        "established",
        "peer_addr",
        "local_addr",
        "held",
    )

    def __init__(self, frontend: Frontend, listener: Listener) -> None:
        self.frontend = frontend
        self.listener = listener
        self.loop = frontend.loop
        self.backend = frontend.backend_for()
        self.client = ClientSide(self, False)
        self.server_side: ServerSide | None = None
        self.server: Server | None = None
        self.pending: list[bytes] = []
        self.last = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.closed = False
        self.bytes_in = 0
        self.bytes_out = 0
        self.established = False
        self.peer_addr: object = None
        self.local_addr: object = None
        self.held = False  # accepted beyond a limit: waits for a slot (frontend.py)

    # -- start ------------------------------------------------------------------

    def client_connected(self) -> None:
        tr = self.client.transport
        assert tr is not None
        self.peer_addr = tr.get_extra_info("peername")
        self.local_addr = tr.get_extra_info("sockname")
        if self.frontend.options.clitcpka:
            sock = tr.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        tr.pause_reading()
        if self.frontend.logger is not None:
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
        if self.backend is None:
            self.close()
            return
        self._arm_timer()
        self.backend.cum_conn += 1
        self.task = self.loop.create_task(self._connect())

    # -- connect and retries (spec §2.7) ----------------------------------------------

    async def _connect(self) -> None:
        be = self.backend
        assert be is not None
        cfg = be.cfg
        retries = cfg.retries
        tconnect = (cfg.timeouts.connect or 0) / 1000.0 or None
        attempt = 0
        srv = be.assign(self.peer_addr)
        while True:
            if srv is None:
                be.failed_conns += 1
                self.close()
                return
            if self.server is not srv:
                self._bind_server(srv)
            err = await self._try_connect(srv, tconnect)
            if self.is_closed():
                return
            if err is None:
                self._established(srv)
                return
            srv.failed_conns += 1
            be.passive(srv, HanaEvent.L4_ERR)
            if attempt >= retries:
                be.failed_conns += 1
                self.close()
                return
            attempt += 1
            if self._redispatch(srv, attempt):
                srv.redispatches += 1
                nxt = be.assign(self.peer_addr, avoid=srv)
                srv = nxt if nxt is not None else srv
            else:
                srv.retries += 1
                # turn-around: wait before retrying the same server
                delay = min(1.0, tconnect) if tconnect else 1.0
                await asyncio.sleep(delay)
                if self.is_closed():
                    return

    def _redispatch(self, srv: Server, attempt: int) -> bool:
        """``stream_choose_redispatch()`` with the retry count fixed (spec §2.7)."""
        be = self.backend
        assert be is not None
        interval = be.cfg.redispatch
        if interval is None:
            return False
        retries = be.cfg.retries
        if srv.cur_state is not SrvState.RUNNING:
            return True
        if interval > 0 and attempt % interval == 0:
            return True
        if interval < 0 and (retries + 1 + interval) and attempt % (retries + 1 + interval) == 0:
            return True
        return be.srv_act > 1 and be.cfg.balance.algo in RR_LIKE

    def _bind_server(self, srv: Server) -> None:
        be = self.backend
        assert be is not None
        if self.server is not None:
            self.server.streams.discard(self)
            be.release(self.server)
        self.server = srv
        be.take(srv)
        srv.streams.add(self)

    async def _try_connect(self, srv: Server, timeout: float | None) -> int | None:
        """One connection attempt; None on success, else an errno."""
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
                if family != socket.AF_UNIX and not cfg.namespace and not cfg.tfo:
                    # the common case: one call, uvloop connects a numeric address itself
                    host, port = addr[0], addr[1]  # type: ignore[index]
                    await loop.create_connection(lambda: side, host, port)
                else:
                    sock = make_socket(srv, family)
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

    def _established(self, srv: Server) -> None:
        be = self.backend
        assert be is not None
        side = self.server_side
        assert side is not None
        client = self.client
        client.peer = side
        if side.transport is None:  # the server already closed
            self.close()
            return
        self.established = True
        be.passive(srv, HanaEvent.L4_OK)
        if be.srvtcpka:
            sock = side.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if srv.cfg.send_proxy or srv.cfg.send_proxy_v2:
            side.transport.write(proxy_header(srv, self.peer_addr, self.local_addr, True))
        for chunk in self.pending:
            side.transport.write(chunk)
            self.bytes_in += len(chunk)
        self.pending.clear()
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
            self.close()
        else:
            self.timer = self.loop.call_at(due, self._on_timer)

    # -- end ---------------------------------------------------------------------------

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

    def is_closed(self) -> bool:
        """``closed`` read as a call: it changes while the connect coroutine awaits."""
        return self.closed

    def close(self) -> None:
        if self.closed:
            return
        if self.client.transport is not None:
            self.client.transport.close()
        if self.server_side is not None and self.server_side.transport is not None:
            self.server_side.transport.close()
        self._finish()

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
        task = self.task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        srv = self.server
        if srv is not None:
            srv.bytes_in += self.bytes_in
            srv.bytes_out += self.bytes_out
            srv.streams.discard(self)
            assert self.backend is not None
            self.backend.release(srv)
            self.server = None
        self.frontend.stream_closed(self)
