"""Frontends and their listeners: accept loops, accept limits, streams.

Accept limits (spec §2.1, §2.2): each accepted connection counts against its
listener (``bind ... maxconn``), its frontend (``maxconn``, defaulting to the
global one) and the process (global ``maxconn``). A listener that reaches a
limit stops accepting; clients wait in the kernel backlog (nothing is refused)
and the listener resumes as soon as a connection of the exhausted scope ends.
Pausing closes a duplicate of the listening descriptor held by the event loop
while the original stays open, so the backlog is kept.

Rate limits (global ``maxsessrate``/``maxconnrate``, ``rate-limit sessions``)
pause the same way, and a timer resumes the listener when the one-second
sliding window allows the next connection (``next_event_delay()``), as
``listener_accept()`` and the proxy task do.

Streams: a frontend does not know what its connections speak. It is given a
``StreamFactory`` (``proxy/modes.py`` picks one by ``mode``) and creates one
stream per accepted connection; the stream tells ``stream_closed()`` when it
ends. Who closes what: the stream closes its own sockets; a listener closes
only its socket (``stop()``) and the streams it still holds unstarted.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
from collections.abc import Callable
from typing import Any, Protocol

from herdsman.config.model import BindConfig, GlobalConfig, ProxyConfig
from herdsman.config.model_addr import Family
from herdsman.core.backend import Backend
from herdsman.core.registry import FrontendState, ProcessState
from herdsman.core.streamlog import StreamLog
from herdsman.core.tasks import spawn
from herdsman.defs.levels import LOG_INFO
from herdsman.proxy.listen import open_listener_socket
from herdsman.proxy.proxylayer import ProxyLayer, Rules
from herdsman.proxy.sockopts import set_bufs, set_nolinger
from herdsman.proxy.tls import TlsRuntime
from herdsman.proxy.tlslayer import TlsLayer


class ClientStream(Protocol):
    """What a frontend and its listeners need from a stream."""

    held: bool  # accepted beyond a limit: waits for a slot, not read, not counted
    listener: Listener

    @property
    def client(self) -> asyncio.Protocol:
        """The protocol the event loop drives for the client connection."""
        ...

    def client_transport(self) -> asyncio.BaseTransport | None:
        """The client's transport, None once it is closed."""
        ...

    def start(self) -> None:
        """Begin serving (at accept time, or when a held stream gets its slot)."""
        ...

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def soft_stop(self) -> None:
        """The frontend stopped listening (soft stop): end when the protocol says."""
        ...


StreamFactory = Callable[["Frontend", "Listener"], ClientStream]


class Handshake(Protocol):
    """A layer between an accepted connection and its stream (the PROXY header, TLS):
    held beyond a limit until ``begin()``; ``failure`` and ``peer`` say what the
    listener logs when it fails."""

    held: bool
    accepted: float
    peer: object
    failure: tuple[str, bool]

    def begin(self) -> None: ...


def static_backend(cfg: ProxyConfig, backends: dict[str, Backend]) -> Backend | None:
    """The backend a frontend's streams go to: the first unconditional
    ``use_backend``, else ``default_backend``, else a ``listen`` section itself."""
    for rule in cfg.routing.switching:
        if rule.cond is None and "%" not in rule.name:
            return backends.get(rule.name)
    if cfg.default_backend:
        return backends.get(cfg.default_backend)
    if cfg.kind == "listen":
        return backends.get(cfg.name)
    return None


class _Rules:
    """A frontend's connection and session rules, for its ``ProxyLayer``s."""

    __slots__ = ("router", "plan")

    def __init__(self, router: Any, plan: Any) -> None:
        self.router, self.plan = router, plan

    def connection(self, tr: asyncio.BaseTransport) -> Any:
        return self.router.connection(self.plan, tr)

    def session(self, tr: Any) -> bool:
        return bool(self.router.session(self.plan, tr))


class Listener:
    """One listening socket and its accept loop (through uvloop's server).

    The event loop's server owns a duplicate of ``sock``: pausing closes the
    duplicate, so the kernel keeps the backlog and no client is refused.
    ``stop()`` closes ``sock`` itself (soft stop) and the held streams.
    """

    def __init__(self, frontend: Frontend, bind: BindConfig, sock: socket.socket) -> None:
        self.frontend = frontend
        self.bind = bind
        # ssl bind lines: the contexts, and the held connections whose handshake waits
        self.tls = frontend.tls.bind(bind) if frontend.tls is not None else None
        # the held connections whose handshake (PROXY header, TLS) waits
        self.tls_waiting: dict[ClientStream, Handshake] = {}
        # accept-proxy, or the connection rules that may ask for a PROXY header
        self.proxy: tuple[bool, Rules | None] | None = None
        self.backlog = frontend.backlog_for(bind)
        self.sock = sock
        self.maxconn = bind.maxconn
        self.nbconn = 0
        self.server: asyncio.AbstractServer | None = None
        self.paused = True
        self.stopped = False
        self.held: collections.deque[ClientStream] = collections.deque()

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.nbconn >= self.maxconn

    def address(self) -> object:
        return self.sock.getsockname()

    async def resume(self) -> None:
        if not self.paused or self.stopped:
            return
        self.paused = False
        self._proxy_setup()
        loop = self.frontend.loop
        dup = self.sock.dup()
        dup.setblocking(False)
        # the loop calls listen() again: keep the configured backlog
        backlog = self.backlog
        if self.sock.family == socket.AF_UNIX:
            self.server = await loop.create_unix_server(self._accept, sock=dup, backlog=backlog)
        else:
            self.server = await loop.create_server(self._accept, sock=dup, backlog=backlog)

    def _proxy_setup(self) -> None:
        """Whether connections start with a ``ProxyLayer``: ``accept-proxy``, or an
        ``expect-proxy`` connection rule (the layer then runs the connection rules)."""
        fe = self.frontend
        plan = fe.rules
        expect = plan is not None and any(r.name == "expect-proxy" for r in plan.tcp_conn)
        if not (self.bind.accept_proxy or expect):
            return
        rules = _Rules(fe.router, plan) if plan is not None else None
        self.proxy = (self.bind.accept_proxy, rules)

    def pause(self) -> None:
        if self.paused:
            return
        self.paused = True
        server = self.server
        self.server = None
        if server is not None:
            # never close uvloop's server from inside its own accept callback
            self.frontend.loop.call_soon(server.close)

    def stop(self) -> None:
        """Stop listening for good (soft stop): the socket is closed now."""
        if self.server is not None:
            self.server.close()
            self.server = None
        self.paused = True
        self.stopped = True
        with contextlib.suppress(OSError):
            self.sock.close()
        for stream in self.held:
            stream.close()
        self.held.clear()

    def _accept(self) -> asyncio.Protocol:
        # Called by the event loop for each accepted socket. The loop may
        # accept a batch before the pause takes effect: connections beyond a
        # limit are held (not read, not forwarded, not counted) until a slot
        # frees, which for the client is the same as waiting in the backlog.
        fe = self.frontend
        stream = fe.new_stream(fe, self)
        proto: asyncio.Protocol = stream.client
        first: Handshake | None = None
        if self.tls is not None or self.proxy is not None:
            proto, first = self._handshakes(stream)
        if self.full or fe.full or fe.process.full or fe.throttled(self):
            stream.held = True
            self.held.append(stream)
            if first is not None:
                first.held = True  # no handshake before its slot
                self.tls_waiting[stream] = first
            self.pause()
            return proto
        self.count_in(stream)
        self._pause_full_scopes()
        return proto

    def _handshakes(self, stream: ClientStream) -> tuple[asyncio.Protocol, Handshake]:
        """The layers before the stream: the PROXY header, then TLS. Both must end
        within "timeout client" (session_accept_fd())."""
        fe = self.frontend
        timeout = fe.timeout_client / 1000.0 if fe.timeout_client else None
        proto: asyncio.Protocol = stream.client
        first: Handshake | None = None
        if self.tls is not None:
            proto = first = tls = TlsLayer(
                proto, self.tls.initial, fe.loop, timeout, lambda: self._tls_failed(stream, tls)
            )
        if self.proxy is not None:
            accept_proxy, rules = self.proxy
            pp = ProxyLayer(
                proto,
                fe.loop,
                timeout,
                lambda: self._tls_failed(stream, pp),
                accept_proxy,
                rules,
                self.tls is None,
                fe.bufsize,
            )
            proto = first = pp
        assert first is not None
        return proto, first

    def _tls_failed(self, stream: ClientStream, layer: Handshake) -> None:
        """A handshake (PROXY header, TLS) failed, or the client left before its end:
        the stream never started; with a log format, the reason is logged
        (``session_kill_embryonic()``)."""
        self.tls_waiting.pop(stream, None)
        fe = self.frontend
        text, empty = layer.failure
        if fe.session_error is not None and text:
            luid = fe.listener_id(self)
            name = self.bind.name or str(luid)
            fe.session_error(layer.peer, layer.accepted, luid, name, text, empty)
        stream.close()

    def _pause_full_scopes(self) -> None:
        """Stop accepting in every scope (listener, frontend, process) now at its limit."""
        fe = self.frontend
        if self.full:
            self.pause()
        if fe.full:
            fe.pause_all()
        if fe.process.full:
            for other in fe.siblings:
                other.pause_all()

    def count_in(self, stream: ClientStream) -> None:
        fe = self.frontend
        self.nbconn += 1
        fe.count_conn()
        fe.process.count_conn()
        fe.streams.add(stream)
        fe.idle.clear()

    def promote(self) -> bool:
        """Start the oldest held connection if a slot is free; True if one was."""
        fe = self.frontend
        while self.held and not (self.full or fe.full or fe.process.full):
            if fe.throttled(self):
                return False
            stream = self.held.popleft()
            handshake = self.tls_waiting.pop(stream, None)
            if handshake is None and stream.client_transport() is None:
                continue  # the client gave up while held
            stream.held = False
            self.count_in(stream)
            if handshake is not None:
                handshake.begin()  # the stream starts once the handshake is done
            else:
                stream.start()
            return True
        return False


class Frontend(FrontendState):
    """A proxy with frontend capability (``frontend`` or ``listen``) and its listeners."""

    def __init__(
        self,
        cfg: ProxyConfig,
        loop: asyncio.AbstractEventLoop,
        backends: dict[str, Backend],
        process: ProcessState,
        siblings: list[Frontend],
        new_stream: StreamFactory,
        g: GlobalConfig,
        *,
        reuseport: bool = True,
        tls: TlsRuntime | None = None,
    ) -> None:
        super().__init__(cfg, cfg.maxconn or process.maxconn)
        self.reuseport = reuseport
        self.tls = tls  # the contexts of ssl bind lines and ssl servers
        self.loop = loop
        self.process = process
        self.siblings = siblings  # every frontend of the process: a freed slot may resume any
        self.new_stream = new_stream
        self.listeners: list[Listener] = []
        # the proxy's log targets: without a log format, HAProxy logs each
        # accepted connection ("Connect from ...", frontend_accept())
        self.logger: Any = None
        # with a log format: what streams call with their StreamLog when they end
        self.traffic_log: Callable[[StreamLog], None] | None = None
        # with a log format: a connection that ended before its stream (a failed TLS
        # handshake): (client address, accept date, listener id, listener name,
        # reason, nothing received) -> its log line
        self.session_error: Callable[[object, float, int, str, str, bool], None] | None = None
        self.streams: set[ClientStream] = set()
        self.idle: asyncio.Event = asyncio.Event()
        self.idle.set()
        t = cfg.timeouts
        self.timeout_client = t.client or 0
        self.timeout_client_fin = t.client_fin or 0
        self.clitcpka = cfg.option("clitcpka") or cfg.option("tcpka")
        self.nolinger = cfg.option("nolinger")
        self.bufsize = g.tune_bufsize  # a PROXY header's limit (proxy/proxylayer.py)
        # tune.{snd,rcv}buf.{client,server}: set on accepted and on server sockets
        self.client_bufs = (g.tune_sndbuf_client, g.tune_rcvbuf_client)
        self.server_bufs = (g.tune_sndbuf_server, g.tune_rcvbuf_server)
        self._backend = static_backend(cfg, backends)
        # its Plan and the Router (proxy/routing.py) when the configuration has rules
        self.rules: Any = None
        self.router: Any = None
        # listeners paused by a rate limit, and the timer that resumes them
        self._throttled: set[Listener] = set()
        self._wake: asyncio.TimerHandle | None = None

    def throttled(self, lst: Listener) -> bool:
        """True when a rate limit forbids accepting now: ``lst`` pauses and a
        timer resumes it when the window allows the next connection."""
        delay = self.accept_delay(self.process)
        if not delay:
            return False
        lst.pause()
        self._throttled.add(lst)
        if self._wake is None:
            self._wake = self.loop.call_later(delay / 1000, self._rate_wake)
        return True

    def is_throttled(self, lst: Listener) -> bool:
        return lst in self._throttled

    def _rate_wake(self) -> None:
        self._wake = None
        listeners, self._throttled = self._throttled, set()
        if self.stopping or self.admin_paused:
            return
        for lst in listeners:
            while lst.promote():
                pass
            full = lst.full or self.full or self.process.full
            if not lst.held and not full and not self.throttled(lst):
                spawn(self.loop, lst.resume())

    def listener_id(self, listener: Listener) -> int:
        """The listener's ``luid`` (its rank among the frontend's, from 1)."""
        return self.listeners.index(listener) + 1 if listener in self.listeners else 0

    def accepted(self, transport: asyncio.BaseTransport, listener: Listener, mode: str) -> None:
        """A stream's client connection is accepted: its socket options, and the
        "Connect from" line of ``frontend_accept()`` when the frontend logs
        without a log format (``mode``: "TCP" or "HTTP")."""
        if self.clitcpka or self.client_bufs != (0, 0):
            sock = transport.get_extra_info("socket")
            if sock is not None:
                if self.clitcpka:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                set_bufs(sock, self.client_bufs)
        if self.nolinger:
            set_nolinger(transport)
        if self.logger is None or self.traffic_log is not None:
            return
        src, dst = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
        if isinstance(src, tuple) and isinstance(dst, tuple):
            text = f"Connect from {src[0]}:{src[1]} to {dst[0]}:{dst[1]} ({self.name}/{mode})"
        else:
            text = f"Connect to unix:{self.listener_id(listener)} ({self.name}/{mode})"
        self.logger.send(LOG_INFO, text)

    def backend_for(self) -> Backend | None:
        return self._backend

    def backlog_for(self, bind: BindConfig) -> int:
        """``listener_backlog()``: bind backlog, frontend backlog, bind maxconn,
        frontend maxconn, else 1024."""
        return bind.backlog or self.cfg.backlog or bind.maxconn or self.maxconn or 1024

    def open_bind(self, bind: BindConfig) -> None:
        """Bind the sockets of one address (one per port of a range); OSError on failure."""
        backlog = self.backlog_for(bind)
        if bind.addr.family in (Family.INET, Family.INET6):
            for port in range(bind.addr.port, (bind.addr.port_end or bind.addr.port) + 1):
                self.adopt(bind, open_listener_socket(bind, port, backlog, self.reuseport))
        else:
            self.adopt(bind, open_listener_socket(bind, 0, backlog, self.reuseport))

    def adopt(self, bind: BindConfig, sock: socket.socket) -> Listener:
        """Serve an already listening socket for ``bind`` (inherited or just bound)."""
        listener = Listener(self, bind, sock)
        self.listeners.append(listener)
        return listener

    def pause_admin(self) -> None:
        """SIGTTOU: stop accepting until ``resume_admin()``, whatever the limits."""
        self.admin_paused = True
        self.pause_all()

    async def resume_admin(self) -> None:
        """SIGTTIN: accept again; connections held by the limits get their slots."""
        self.admin_paused = False
        for lst in self.listeners:
            while lst.promote():
                pass
        await self.start()

    async def start(self) -> None:
        for lst in self.listeners:
            if not lst.full and not self.full and not self.is_throttled(lst):
                await lst.resume()

    def pause_all(self) -> None:
        for lst in self.listeners:
            lst.pause()

    def stream_closed(self, stream: ClientStream) -> None:
        """A stream ended: its slots free, and the freed slot is handed on."""
        if stream.held:
            with contextlib.suppress(ValueError):
                stream.listener.held.remove(stream)
            return
        self.streams.discard(stream)
        lst = stream.listener
        lst.nbconn -= 1
        self.feconn -= 1
        process = self.process
        process.actconn -= 1
        if not self.streams:
            self.idle.set()
        if self.stopping or self.admin_paused:
            return
        # a freed slot goes first to a held connection (FIFO), else the
        # listeners of every scope that can accept again resume
        if lst.promote() or any(other.promote() for other in self.listeners):
            return
        siblings = self.siblings if not process.full else ()
        for fe in siblings:
            if fe is not self and any(other.promote() for other in fe.listeners):
                return
        for fe in siblings:
            if fe.stopping or fe.full or fe.admin_paused:
                continue
            for other in fe.listeners:
                if other.paused and not (other.full or other.stopped or fe.is_throttled(other)):
                    spawn(self.loop, other.resume())

    def stop_listening(self) -> None:
        """Soft stop: close the listeners; live streams go on."""
        self.stopping = True
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        for lst in self.listeners:
            lst.stop()
        for stream in list(self.streams):
            stream.soft_stop()
        if self.streams:
            self.idle.clear()

    def kill_streams(self) -> None:
        for stream in list(self.streams):
            stream.abort()
