"""The TCP data path: one ``TcpStream`` per client connection, relaying bytes to
the server the backend chose (HAProxy's stream in ``mode tcp``).

Hot path rules: asyncio Protocol callbacks only (the one coroutine per stream
is the connect, ``proxy/connect.py``, which also owns retries); data is
forwarded as received; the only per-chunk work is a write and the byte
counters; back-pressure is the transports' own (``pause_writing`` on one side
pauses reading on the other), so memory stays bounded whatever the peers'
speeds.

Timeouts and shutdowns follow HAProxy 2.6.12 direction by direction
(``proxy/sides.py`` holds the rules, sans-IO): each socket is a ``Side``
with a read timer and a write timer; a read timeout shuts one direction
(the other side gets a FIN), a socket closes when both of its directions are
shut, and the stream ends when both sockets are closed. The per-chunk cost
is two time stamps (last read on one side, last write on the other); one
lazily re-armed timer per stream finds what expired.

Who closes what: the stream closes its own sockets, through the rules of
``sides.py`` (FIN, reset, or both), releases its server slot and tells its
frontend, exactly once, when both are closed. ``close()`` (a failed
connect, a stopping frontend) flushes and closes both, ``abort()`` resets
both. The frontend's ``option nolinger`` makes every close of a client
connection a reset (SO_LINGER 0 from the accept, ``FD_LINGER_RISK``); the
backend's aborts the server connection at its first shutdown
(``SC_FL_NOLINGER``).
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Final

from herdsman.core.backend import Backend, Server
from herdsman.core.counters import BeCounters
from herdsman.core.streamlog import StreamLog
from herdsman.defs.status import HanaEvent
from herdsman.proxy import tcp_log, tcp_rules
from herdsman.proxy.connect import (
    ConnectError,
    Connecting,
    client_key,
    connect_from,
    open_transport,
    proxy_header,
    proxy_netns,
)
from herdsman.proxy.frontend import Frontend, Listener
from herdsman.proxy.routing import Outcome
from herdsman.proxy.sides import Side, expire, next_deadline, propagate, rearm, secs, start_tunnel
from herdsman.proxy.sockopts import set_nolinger
from herdsman.sample.txn import Txn


class _Side(Side, asyncio.Protocol):
    """One socket of a stream; forwards what it reads to the other side."""

    __slots__ = ("stream", "transport", "peer", "clock")
    __deletable__ = ("stream",)  # cut once the stream ended (TcpStream._unlink(); mypyc)

    def __init__(self, stream: TcpStream, is_server: bool) -> None:
        Side.__init__(self, is_server)
        self.stream = stream
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self.clock = stream.loop.time

    def data_received(self, data: bytes) -> None:
        t = self.clock()
        self.last_read = t
        peer = self.peer
        if peer is None:
            stream = self.stream
            if stream.inspect is None:
                stream.keep(data)
            else:
                tcp_rules.data(stream, stream.frontend.router, data)
            return
        if self.is_server and self.stream.res_inspect is not None:
            tcp_rules.res_data(self.stream, self.stream.frontend.router, data)
            return
        tr = peer.transport
        if tr is None:
            return
        tr.write(data)
        peer.last_write = t
        stream = self.stream
        n = len(data)
        log = stream.log
        if self.is_server:
            stream.fe_c.bytes_out += n
            stream.be_c.bytes_out += n
            stream.srv_c.bytes_out += n
            if log is not None:
                log.bytes_out += n
        else:
            stream.fe_c.bytes_in += n
            stream.be_c.bytes_in += n
            stream.srv_c.bytes_in += n
            if log is not None:
                log.bytes_in += n

    def eof_received(self) -> bool:
        stream = self.stream
        if stream.inspect is not None and not self.is_server:
            self.read0()
            tcp_rules.eof(stream, stream.frontend.router)
            return True
        if self.is_server and stream.res_inspect is not None:
            tcp_rules.res_eof(stream, stream.frontend.router)  # decides: no more data
            if stream.closed:
                return True
        stream.side_eof(self)
        return True  # keep our side open for writing (half-close)

    def pause_writing(self) -> None:
        # this side's socket is full: its write timer runs, and the side that
        # feeds it is not read meanwhile (nor timed for reading)
        self.stuck(self.clock())
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.pause()
            peer.transport.pause_reading()
        self.stream.rearm()

    def resume_writing(self) -> None:
        self.unstuck()
        peer = self.peer
        if peer is not None and peer.transport is not None and peer.resume(self.clock()):
            peer.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if exc is not None:  # a reset
            self.stream.failed("S" if self.is_server else "C")
        self.stream.side_lost(self)

    # -- the effects sides.py decides ----------------------------------------------

    def _stop_reading(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def _send_fin(self) -> None:
        tr = self.transport
        if tr is not None:
            try:
                tr.write_eof()
            except (OSError, RuntimeError):
                pass  # already closing

    def _close(self, fin: bool, rst: bool, discard: bool) -> None:
        tr = self.transport
        if tr is None:
            return
        if fin:
            try:
                tr.write_eof()
            except (OSError, RuntimeError):
                pass
        if rst:
            set_nolinger(tr)
        if discard:
            tr.abort()
        else:
            tr.close()  # flushes what was already forwarded

    def _buffered(self) -> int:
        tr = self.transport
        return tr.get_write_buffer_size() if tr is not None else 0


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


# client data kept while connecting before reading stops (HAProxy reads one tune.bufsize)
EARLY_MAX: Final = 1 << 16

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
        "early_size",
        "timer",
        "task",
        "closed",
        "established",
        "failed_by",
        "peer_addr",
        "local_addr",
        "held",
        "accepted",
        "fe_c",
        "be_c",
        "srv_c",
        "txn",
        "inspect",
        "res_inspect",
        "log",
    )

    def __init__(self, frontend: Frontend, listener: Listener) -> None:
        super().__init__()
        self.frontend = frontend
        self.listener = listener
        self.loop = frontend.loop
        self.backend = frontend.backend_for()
        self.client = client = ClientSide(self, False)
        # the request channel reads and the response channel writes with the
        # frontend's timeouts (stream_new())
        client.rto = client.wto = secs(frontend.timeout_client)
        client.hcto = secs(frontend.timeout_client_fin)
        client.indep = frontend.cfg.option("independent-streams")
        self.server_side: ServerSide | None = None
        self.early: list[bytes] = []  # client data read before the server connection
        self.early_size = 0
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.closed = False
        self.established = False
        self.failed_by = ""  # the first reset or timeout: "C", "c", "S" or "s"
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
        self.res_inspect: tcp_rules.ResInspect | None = None
        # only when the frontend logs traffic or a tracked table counts bytes
        self.log: StreamLog | None = None

    def client_transport(self) -> asyncio.BaseTransport | None:
        return self.client.transport

    # -- start ------------------------------------------------------------------

    def client_connected(self) -> None:
        tr = self.client.transport
        assert tr is not None
        self.peer_addr = tr.get_extra_info("peername")
        self.local_addr = tr.get_extra_info("sockname")
        fe = self.frontend
        fe.accepted(tr, self.listener, "TCP")
        if fe.traffic_log is not None:
            self.new_log()
        if self.held:
            tr.pause_reading()
        else:
            self.start()

    def new_log(self) -> None:
        """The stream's log record: for its line, or for its trackers' bytes
        (proxy/tcp_rules.py), counted as data goes."""
        self.log = StreamLog(
            time.time(), self.peer_addr, self.local_addr, self.frontend.listener_id(self.listener)
        )

    def start(self) -> None:
        """Pick a server and connect (at accept time, or when a held stream gets a
        slot); with rules, proxy/tcp_rules.py runs them first and calls ``connect_to``."""
        fe = self.frontend
        rules = fe.rules
        if rules is not None and not tcp_rules.accept(self, fe.router, rules):
            return
        fe.count_sess()
        be = self.backend
        if rules is None and be is None:
            self.close()
            return
        client = self.client
        client.r_base = self.loop.time()
        if client.transport is not None:
            # read while connecting (a held stream was not): a FIN with
            # nothing to send aborts
            client.transport.resume_reading()
        self.rearm()
        if rules is not None:
            tcp_rules.start(self, fe.router, rules)
        elif be is not None:
            self.task = self.loop.create_task(self._connect(be))

    # -- connect (proxy/connect.py owns the slot, retries and redispatch) ---------

    def connect_to(self, be: Backend, out: Outcome) -> None:
        """Connect once the rules chose the backend (and maybe the server)."""
        if self.client.eof and not self.early:
            self.close()  # a client FIN with nothing to send aborts (back_handle_st_con())
            return
        self.force = out.force
        self.task = self.loop.create_task(self._connect(be, out.server))

    def keep(self, data: bytes) -> None:
        """Client data before the server connection exists: kept for it.

        2.6 stops reading a channel holding data, so the client's read timer
        is off until the data leaves; herdsman goes on reading (a FIN then
        reaches the server after the data, as it would once 2.6 reads it)
        and only stops past ``EARLY_MAX``.
        """
        self.early.append(data)
        self.early_size += len(data)
        client = self.client
        client.pause()
        if self.early_size > EARLY_MAX and client.transport is not None:
            client.transport.pause_reading()

    async def _connect(self, be: Backend, direct: Server | None = None) -> None:
        key = client_key(be, self.peer_addr)
        self.direct = direct is not None
        try:
            srv = await connect_from(self, be, be.acquire(self, key, direct), key)
        except ConnectError as exc:
            if self.log is not None:
                self.log.set_term(*exc.term)
            self.close()
            return
        self._established(be, srv)

    def is_closed(self) -> bool:
        """``closed`` read as a call: it changes while the connect coroutine awaits."""
        return self.closed

    async def open_to(self, srv: Server, timeout: float | None) -> int | None:
        """One connection attempt; None on success, else an errno."""
        self.srv_c = srv.counters
        side = ServerSide(self, True)
        # the server may answer (or close) before this coroutine resumes:
        # its side forwards to the client from the start
        side.peer = self.client
        fe = self.frontend
        tls = fe.tls.server(srv) if fe.tls is not None else None
        ns = proxy_netns(self.client_transport(), self.listener.bind.namespace)
        hdr = proxy_header(srv, self.peer_addr, self.local_addr, ns)  # send-proxy: first, in clear
        err = await open_transport(
            self.loop, srv, self.local_addr, fe.server_bufs, lambda: side, timeout, tls, hdr, ns
        )
        if err is None:
            self.server_side = side
        return err

    def _established(self, be: Backend, srv: Server) -> None:
        side = self.server_side
        assert side is not None
        client = self.client
        client.peer = side
        if side.transport is None:  # the server already closed
            self.close()
            return
        self.established = True
        if self.res_inspect is not None:
            tcp_rules.res_start(self, self.frontend.router)
        log = self.log
        if log is not None:
            log.t_queue = tcp_log.ms(self.accepted, self.assigned_at)
            log.t_connect = tcp_log.ms(self.accepted, self.loop.time())
            log.server_addr = side.transport.get_extra_info("peername")
        if client.w_since is not None:
            # the server answered while connecting and the client is not
            # reading: its pause_writing() found no peer to stop then
            side.pause()
            side.transport.pause_reading()
        srv.counters.connect += 1
        be.passive(srv, HanaEvent.L4_OK)
        if be.srvtcpka:
            sock = side.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        # the response channel reads and the request channel writes with the
        # backend's timeouts from now on (back_establish())
        t = be.cfg.timeouts
        now = self.loop.time()
        side.rto = side.wto = secs(t.server)
        side.hcto = secs(t.server_fin)
        side.indep = be.cfg.option("independent-streams")
        side.nolinger = be.nolinger
        side.r_base = now
        if client.paused:
            client.resume(now)
        for chunk in self.early:
            side.transport.write(chunk)
            side.last_write = now
            n = len(chunk)
            self.fe_c.bytes_in += n
            self.be_c.bytes_in += n
            self.srv_c.bytes_in += n
            if log is not None:
                log.bytes_in += n
        self.early.clear()
        self.early_size = 0
        if t.tunnel:
            start_tunnel(client, side, t.tunnel / 1000.0, client.hcto, side.hcto, now)
        # a client FIN or read timeout, or a server FIN, while connecting
        propagate(client, side, now)
        if client.transport is not None and not client.paused and not client.shut_r:
            client.transport.resume_reading()
        self.rearm()

    # -- events and timers (the rules are sides.py's) ------------------------------------

    def side_eof(self, side: _Side) -> None:
        if self.closed:
            return
        if (
            not self.established
            and side is self.client
            and (not self.early or (self.backend is not None and self.backend.abortonclose))
        ):
            # a client FIN with nothing to send, or with option abortonclose,
            # aborts the stream queued or connecting (back_may_abort_req())
            if self.log is not None:
                self.log.set_term("C", "Q" if self.pending is not None else "C")
            self.close()
            return
        side.read0()
        if self.established:
            assert self.server_side is not None
            propagate(self.client, self.server_side, self.loop.time())
            self.rearm()

    def failed(self, who: str) -> None:
        """A reset ("C", "S") or a timeout ("c", "s"): the log's termination
        state, and the first time the abort counters (``process_stream()``:
        ``cli_abrt`` for the client's, ``srv_abrt`` and ``eresp`` for a
        server's once connected)."""
        log = self.log
        if log is not None:
            # a client's reset is a data-phase error wherever the stream is (2.6
            # has no analyser on a TCP stream: process_stream() sets SF_FINST_D)
            data = self.established or who == "C"
            log.set_term(who, "D" if data else "Q" if self.pending is not None else "C")
        be = self.backend
        if self.failed_by or be is None or not (self.established or who == "C"):
            return
        self.failed_by = who
        pending = self.pending
        srv = self.server or (pending.server if pending is not None else None)
        be.aborted(srv, who in "Cc")
        if who == "S":
            be.counters.failed_resp += 1
            if srv is not None:
                srv.counters.failed_resp += 1

    def side_lost(self, side: _Side) -> None:
        if self.closed:
            self._unlink()
            return
        if not side.closed:
            # not closed by us: reset by the peer, or a transfer failed
            side.fail()
            if self.established:
                assert self.server_side is not None
                propagate(self.client, self.server_side, self.loop.time())
            elif side is self.client:
                self.close()
                return
        server = self.server_side
        if self.client.transport is None and (server is None or server.transport is None):
            self._finish()
        else:
            self.rearm()

    def rearm(self) -> None:
        """Arm the stream's timer for its earliest deadline, unless armed earlier.

        Deadlines only move later on transfers, so the timer is left as is
        then: when it fires, ``_on_timer`` finds what really expired.
        """
        if self.closed:
            return
        due = next_deadline(self.client, self.server_side if self.established else None)
        if due is None:
            return
        self.timer = rearm(self.loop, self.timer, due, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        if self.closed:
            return
        who = expire(self.client, self.server_side if self.established else None, self.loop.time())
        if who:
            self.failed(who)
        self.rearm()

    # -- end ---------------------------------------------------------------------------

    def close(self) -> None:
        """Flush and close both sockets (a failed connect, a stopping frontend)."""
        if self.closed:
            return
        for side in (self.client, self.server_side):
            if side is not None and side.transport is not None:
                side.closed = True
                side.transport.close()
        self._finish()

    def soft_stop(self) -> None:
        """A TCP stream goes on until it ends (or ``hard-stop-after``)."""

    def abort(self) -> None:
        """Kill the stream now (on-marked-down shutdown-sessions, hard stop)."""
        if self.log is not None:
            self.log.set_term("K", "D" if self.established else "C")
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
        if task is not None and not task.done() and task is not asyncio.current_task(self.loop):
            task.cancel()
        be = self.backend
        if be is not None:
            self.leave_queue(be)  # gave up while queued
        srv = self.server
        if srv is not None and be is not None:
            be.release(srv, self)
            self.server = None
        log = self.log
        if not self.held:
            if log is not None:
                # received, never forwarded (a rejected stream): 2.6 counts its
                # channel's total (stream_process_counters())
                log.bytes_in += self.early_size
            if self.txn is not None:
                tcp_rules.count_stream_bytes(self)
            if log is not None:
                tcp_log.end(self, log, srv)
        if self.txn is not None:
            tcp_rules.end(self)  # after the line: its trackers still count (stream_free())
        self.frontend.stream_closed(self)
        self._unlink()

    def _unlink(self) -> None:
        """Once the stream ended and neither connection can call back any more,
        cut the links between its parts (stream and sides point at each other),
        so that reference counting frees them at once: left to the cycle
        collector, a stream's ten objects cost about 10 µs per connection
        (docs/performance.md §3)."""
        client = self.client
        server = self.server_side
        if client.transport is not None or (server is not None and server.transport is not None):
            return  # a connection_lost() is still to come
        if not hasattr(client, "stream"):
            return  # done already
        self.task = None
        client.peer = None
        del client.stream
        if server is not None:
            self.server_side = None
            server.peer = None
            del server.stream
