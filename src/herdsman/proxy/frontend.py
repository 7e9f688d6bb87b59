"""Frontends and their listeners: sockets, accept limits, backend selection.

Accept limits (spec §2.1, §2.2): each accepted connection counts against its
listener (``bind ... maxconn``), its frontend (``maxconn``, defaulting to the
global one) and the process (global ``maxconn``). A listener that reaches a
limit stops accepting; clients wait in the kernel backlog (nothing is refused)
and the listener resumes as soon as a connection of the exhausted scope ends.
Pausing closes a duplicate of the listening descriptor held by the event loop
while the original stays open, so the backlog is kept.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import grp
import os
import pwd
import socket
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from herdsman.config.model import BindConfig, Family, ProxyConfig
from herdsman.core.netns import STORE
from herdsman.core.tasks import spawn
from herdsman.proxy.tcp import TcpStream

if TYPE_CHECKING:
    from herdsman.core.backend import Backend

IP_TRANSPARENT = getattr(socket, "IP_TRANSPARENT", 19)
TCP_FASTOPEN = getattr(socket, "TCP_FASTOPEN", 23)
TCP_DEFER_ACCEPT = getattr(socket, "TCP_DEFER_ACCEPT", 9)
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


class ProcessLimits:
    """Process-wide accounting (``actconn`` against global ``maxconn``)."""

    def __init__(self, maxconn: int) -> None:
        self.maxconn = maxconn
        self.actconn = 0
        self.cum_conn = 0
        self.frontends: list[Frontend] = []

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.actconn >= self.maxconn


def open_listener_socket(
    bind: BindConfig, port: int, backlog: int = 1024, reuseport: bool = True
) -> socket.socket:
    """Create, bind and listen one socket for ``bind`` (one port of its range)."""
    addr = bind.addr
    fam = addr.family
    if fam is Family.FD:
        sock = socket.socket(fileno=addr.fd)
        sock.setblocking(False)
        return sock
    if fam in (Family.UNIX, Family.ABNS):
        sock = STORE.socket(bind.namespace, socket.AF_UNIX)
        if fam is Family.ABNS:
            sock.bind(b"\0" + addr.host.encode())
        else:
            _bind_unix(sock, addr.host, bind)
        sock.listen(backlog)
        return sock
    if fam is Family.SOCKPAIR:
        raise OSError(0, "sockpair@ listeners are not supported by herdsman")
    host = addr.host
    family = socket.AF_INET6 if fam is Family.INET6 else socket.AF_INET
    if host in ("", "*"):
        host = "0.0.0.0"
    sock = STORE.socket(bind.namespace, family)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            # as HAProxy (unless -dR/noreuseport): a reloading process can bind
            # the same address while the old one still serves
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            if bind.v6only:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            elif bind.v4v6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        if bind.transparent:
            sock.setsockopt(socket.IPPROTO_IP, IP_TRANSPARENT, 1)
        if bind.interface:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, bind.interface.encode())
        if bind.defer_accept:
            sock.setsockopt(socket.IPPROTO_TCP, TCP_DEFER_ACCEPT, 1)
        if bind.tfo:
            sock.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, backlog)
        sock.bind((host, port) if family == socket.AF_INET else (host, port, 0, 0))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def _bind_unix(sock: socket.socket, path: str, bind: BindConfig) -> None:
    """Bind a UNIX socket, replacing a stale one, then apply mode/owner."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
    sock.bind(path)
    if bind.mode is not None:
        os.chmod(path, bind.mode)
    if bind.uid is not None or bind.gid is not None:
        os.chown(path, -1 if bind.uid is None else bind.uid, -1 if bind.gid is None else bind.gid)


class Listener:
    """One listening socket and its accept loop (through uvloop's server)."""

    def __init__(self, frontend: Frontend, bind: BindConfig, sock: socket.socket) -> None:
        self.frontend = frontend
        self.bind = bind
        self.backlog = frontend.backlog_for(bind)
        self.sock = sock
        self.maxconn = bind.maxconn
        self.nbconn = 0
        self.server: asyncio.AbstractServer | None = None
        self.paused = True
        self.stopped = False
        self.held: collections.deque[TcpStream] = collections.deque()

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.nbconn >= self.maxconn

    def address(self) -> object:
        return self.sock.getsockname()

    async def resume(self) -> None:
        if not self.paused or self.stopped:
            return
        self.paused = False
        loop = self.frontend.loop
        dup = self.sock.dup()
        dup.setblocking(False)
        # the loop calls listen() again: keep the configured backlog
        backlog = self.backlog
        if self.sock.family == socket.AF_UNIX:
            self.server = await loop.create_unix_server(self._accept, sock=dup, backlog=backlog)
        else:
            self.server = await loop.create_server(self._accept, sock=dup, backlog=backlog)

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
        stream = TcpStream(fe, self)
        limits = fe.limits
        if self.full or fe.full or limits.full:
            stream.held = True
            self.held.append(stream)
            self.pause()
            return stream.client
        self.count_in(stream)
        self._pause_full_scopes()
        return stream.client

    def _pause_full_scopes(self) -> None:
        """Stop accepting in every scope (listener, frontend, process) now at its limit."""
        fe = self.frontend
        if self.full:
            self.pause()
        if fe.full:
            fe.pause_all()
        if fe.limits.full:
            for other in fe.limits.frontends:
                other.pause_all()

    def count_in(self, stream: TcpStream) -> None:
        fe = self.frontend
        self.nbconn += 1
        fe.feconn += 1
        fe.cum_conn += 1
        fe.limits.actconn += 1
        fe.limits.cum_conn += 1
        fe.streams.add(stream)
        fe.idle.clear()

    def promote(self) -> bool:
        """Start the oldest held connection if a slot is free; True if one was."""
        fe = self.frontend
        while self.held and not (self.full or fe.full or fe.limits.full):
            stream = self.held.popleft()
            if stream.client.transport is None:
                continue  # the client gave up while held
            stream.held = False
            self.count_in(stream)
            stream.start()
            return True
        return False


@dataclass
class FrontendOptions:
    clitcpka: bool = False
    nolinger: bool = False


class Frontend:
    """A proxy with frontend capability (``frontend`` or ``listen``)."""

    def __init__(
        self,
        cfg: ProxyConfig,
        loop: asyncio.AbstractEventLoop,
        backends: dict[str, Backend],
        limits: ProcessLimits,
        *,
        reuseport: bool = True,
    ) -> None:
        self.cfg = cfg
        self.reuseport = reuseport
        self.admin_paused = False  # SIGTTOU: only SIGTTIN resumes accepting
        self.name = cfg.name
        self.loop = loop
        self.limits = limits
        self.maxconn = cfg.maxconn or limits.maxconn
        self.feconn = 0
        self.cum_conn = 0
        self.listeners: list[Listener] = []
        # the proxy's log targets: without a log format, HAProxy logs each
        # accepted connection ("Connect from ...", frontend_accept())
        self.logger: Any = None
        self.streams: set[TcpStream] = set()
        self.stopping = False
        self.idle: asyncio.Event = asyncio.Event()
        self.idle.set()
        t = cfg.timeouts
        self.timeout_client = t.client or 0
        self.timeout_client_fin = t.client_fin or 0
        self.options = FrontendOptions(
            clitcpka=cfg.option("clitcpka") or cfg.option("tcpka"),
            nolinger=cfg.option("nolinger"),
        )
        # static backend choice: the first unconditional use_backend, else
        # default_backend, else the proxy itself when it is a listen section
        self._backend: Backend | None = None
        if cfg.use_backend:
            self._backend = backends.get(cfg.use_backend[0].name)
        elif cfg.default_backend:
            self._backend = backends.get(cfg.default_backend)
        elif cfg.kind == "listen":
            self._backend = backends.get(cfg.name)

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.feconn >= self.maxconn

    def backend_for(self) -> Backend | None:
        return self._backend

    def open(self) -> None:
        """Bind every listening socket (before dropping privileges)."""
        for bind in self.cfg.binds:
            self.open_bind(bind)

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
            if not lst.full and not self.full:
                await lst.resume()

    def pause_all(self) -> None:
        for lst in self.listeners:
            lst.pause()

    def stream_closed(self, stream: TcpStream) -> None:
        if stream.held:
            with contextlib.suppress(ValueError):
                stream.listener.held.remove(stream)
            return
        self.streams.discard(stream)
        lst = stream.listener
        lst.nbconn -= 1
        self.feconn -= 1
        limits = self.limits
        limits.actconn -= 1
        if not self.streams:
            self.idle.set()
        if self.stopping or self.admin_paused:
            return
        # a freed slot goes first to a held connection (FIFO), else the
        # listeners of every scope that can accept again resume
        if lst.promote() or any(other.promote() for other in self.listeners):
            return
        for fe in limits.frontends if not limits.full else ():
            if fe is not self and any(other.promote() for other in fe.listeners):
                return
        for fe in limits.frontends if not limits.full else ():
            if fe.stopping or fe.full or fe.admin_paused:
                continue
            for other in fe.listeners:
                if other.paused and not other.full and not other.stopped:
                    spawn(self.loop, other.resume())

    def stop_listening(self) -> None:
        """Soft stop: close the listeners; live streams go on."""
        self.stopping = True
        for lst in self.listeners:
            lst.stop()
        if self.streams:
            self.idle.clear()

    def kill_streams(self) -> None:
        for stream in list(self.streams):
            stream.abort()


def drop_privileges(uid: int | None, gid: int | None, user: str | None, chroot: str | None) -> None:
    """chroot, setgid, setuid as configured (global section)."""
    if chroot:
        os.chroot(chroot)
        os.chdir("/")
    if gid is not None:
        if user:
            os.initgroups(user, gid)
        os.setgid(gid)
    if uid is not None:
        os.setuid(uid)
    _ = (pwd, grp)
