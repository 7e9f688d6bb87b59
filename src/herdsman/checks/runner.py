"""The I/O driver of one check run: the sockets and timers around ``TcpCheck``.

It is deliberately thin and cheap, because thousands of checks run every
second: no task, no stream, no protocol object. Check sockets are watched by
one edge-triggered epoll of their own (``CheckPoller``), itself a single
reader of the event loop: a socket is registered once when it is created and
leaves the epoll when it is closed, so a run costs one ``epoll_ctl`` instead of
an ``add_writer``/``remove_writer``/``add_reader``/``remove_reader`` series.
Edge-triggered means readiness is remembered (``_rd``/``_wr``) and sockets are
read or written until EAGAIN. Everything the check *means* is decided by the
sans-IO interpreter; this module only moves bytes and reports what the
kernel said.

Closing follows HAProxy: an abortive close (RST, ``SO_LINGER`` 0) unless the
connect rule has ``linger``, so that checks leave no TIME_WAIT behind.
"""

from __future__ import annotations

import asyncio
import errno
import select
import socket
import ssl
import struct
from collections.abc import Callable

from herdsman.checks.actions import Action, Arm, Close, Connect, Done, Send
from herdsman.checks.custom import timed
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tcpcheck import TcpCheck
from herdsman.checks.tls import CheckTls
from herdsman.defs.rules import Ruleset

_RST = struct.pack("ii", 1, 0)
_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)
_EV_RD = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR
_EV_WR = select.EPOLLOUT | select.EPOLLHUP | select.EPOLLERR
_WATCH = select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP | select.EPOLLET


class CheckPoller:
    """One epoll for every check socket of an event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.ep = select.epoll()
        self.runs: dict[int, RunningCheck] = {}
        loop.add_reader(self.ep.fileno(), self._drain)

    def register(self, fd: int, run: RunningCheck) -> None:
        self.runs[fd] = run
        self.ep.register(fd, _WATCH)

    def forget(self, fd: int) -> None:
        # close() removes the socket from the epoll: no epoll_ctl needed
        self.runs.pop(fd, None)

    def _drain(self) -> None:
        runs = self.runs
        for fd, events in self.ep.poll(0, 512):
            run = runs.get(fd)
            if run is not None:
                run.on_events(events)

    def close(self) -> None:
        self.loop.remove_reader(self.ep.fileno())
        self.ep.close()


_POLLERS: dict[asyncio.AbstractEventLoop, CheckPoller] = {}


def poller(loop: asyncio.AbstractEventLoop) -> CheckPoller:
    """The loop's CheckPoller, created on first use."""
    p = _POLLERS.get(loop)
    if p is None or p.ep.closed:
        p = _POLLERS[loop] = CheckPoller(loop)
    return p


def close_poller(loop: asyncio.AbstractEventLoop) -> None:
    p = _POLLERS.pop(loop, None)
    if p is not None:
        p.close()


class RunningCheck:
    """One check run in progress; ``cancel()`` stops it without a result."""

    __slots__ = (
        "_busy",
        "_check",
        "_connecting",
        "_eos",
        "_fd",
        "_loop",
        "_on_done",
        "_out",
        "_poller",
        "_rd",
        "_sock",
        "_start",
        "_target",
        "_timer",
        "_tls",
        "_wr",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        ruleset: Ruleset,
        target: CheckTarget,
        on_done: Callable[[CheckResult], None],
    ) -> None:
        self._loop = loop
        self._poller = poller(loop)
        self._target = target
        self._on_done: Callable[[CheckResult], None] | None = on_done
        self._check = TcpCheck(ruleset, target)
        self._sock: socket.socket | None = None
        self._fd = -1
        self._timer: asyncio.TimerHandle | None = None
        self._out = b""  # bytes accepted by Send but not yet written
        self._connecting = False
        self._busy = False
        self._rd = self._wr = False  # edge-triggered readiness not consumed yet
        self._eos = False  # the peer closed: nothing more to read on this connection
        self._tls: CheckTls | None = None  # the connection's TLS layer, if it has one
        self._start = loop.time()

    def start(self) -> None:
        self._apply(self._check.start())

    def cancel(self) -> None:
        """Abandon the run: close the connection, never call ``on_done``."""
        self._on_done = None
        self._close(linger=False)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @property
    def done(self) -> bool:
        return self._on_done is None

    # -- actions ---------------------------------------------------------------------

    def _apply(self, actions: list[Action]) -> None:
        for action in actions:
            if self._on_done is None:
                return
            kind = type(action)  # exact types: cheaper than isinstance() chains
            if kind is Send:
                assert isinstance(action, Send)
                self._out += action.data
                if self._wr and not self._connecting:
                    self._flush()  # out now: a Done/Close may follow at once
            elif kind is Arm:
                assert isinstance(action, Arm)
                if self._timer is not None:
                    self._timer.cancel()
                self._timer = self._loop.call_at(
                    self._loop.time() + action.timeout_ms / 1000.0, self._on_timeout
                )
            elif kind is Connect:
                assert isinstance(action, Connect)
                self._connect(action)
            elif kind is Close:
                assert isinstance(action, Close)
                self._close(action.linger)
            elif kind is Done:
                assert isinstance(action, Done)
                self._finish(action.result)
        if self._on_done is not None and self._sock is not None and not self._connecting:
            self._io()

    def _connect(self, action: Connect) -> None:
        addr: str | tuple[str, int] | tuple[str, int, int, int]
        if action.family == socket.AF_UNIX:
            addr = action.host
        elif action.family == socket.AF_INET6:
            addr = (action.host, action.port, 0, 0)
        else:
            addr = (action.host, action.port)
        try:
            sock = self._target.make_socket(action.family)
            if action.delack and action.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 0)
        except OSError as exc:
            self._apply(self._check.conn_failed(exc.errno or errno.EMFILE))
            return
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EAGAIN):
            sock.close()
            self._apply(self._check.conn_failed(err))
            return
        self._sock = sock
        self._fd = sock.fileno()
        self._eos = self._rd = self._wr = False
        self._connecting = True
        self._tls = None
        if action.tls:
            factory = self._target.tls_context
            if factory is None:  # no TLS settings: the handshake cannot start
                self._apply(self._check.handshake_failed("SSL handshake failure"))
                return
            self._tls = CheckTls(factory(action.alpn), action.sni, self._target)
        self._poller.register(self._fd, self)

    def _close(self, linger: bool) -> None:
        sock, self._sock = self._sock, None
        self._out = b""
        self._connecting = False
        self._tls = None
        if sock is None:
            return
        self._poller.forget(self._fd)
        self._fd = -1
        if not linger:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
            except OSError:
                pass
        sock.close()

    def _finish(self, result: CheckResult) -> None:
        on_done, self._on_done = self._on_done, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._close(linger=False)
        if on_done is not None:
            # check duration: whole milliseconds since the start (tv_ms_elapsed())
            elapsed = int((self._loop.time() - self._start) * 1000)
            on_done(timed(result, elapsed))

    # -- readiness ---------------------------------------------------------------------

    def on_events(self, events: int) -> None:
        """Called by the poller: remember the edges, then do what they allow."""
        if events & _EV_WR:
            self._wr = True
        if events & _EV_RD:
            self._rd = True
        if self._connecting:
            if not self._wr:
                return
            self._connecting = False
            sock = self._sock
            assert sock is not None
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._apply(self._check.conn_failed(err))
                return
            if self._tls is not None:
                self._apply(self._check.handshaking())
                self._handshake()
                return
            self._connected()
            return
        if self._tls is not None and not self._tls.done:
            self._handshake()
            return
        self._io()

    def _connected(self) -> None:
        sock = self._sock
        assert sock is not None
        local = peer = None
        if self._check.needs_addresses:
            try:
                local, peer = sock.getsockname(), sock.getpeername()
            except OSError as exc:
                self._apply(self._check.conn_failed(exc.errno or errno.ENOTCONN))
                return
        self._apply(self._check.connected(local, peer))

    # -- TLS -----------------------------------------------------------------------------

    def _handshake(self) -> None:
        """Advance the TLS handshake with what the socket has; connected() at its end."""
        tls = self._tls
        assert tls is not None
        err = self._pull(tls)
        failure = tls.handshake(err)
        self._push(tls)
        if failure is not None:
            self._apply(self._check.handshake_failed(failure))
        elif tls.done:
            self._connected()

    def _pull(self, tls: CheckTls) -> int:
        """Socket bytes into the TLS layer (until EAGAIN); an errno, or 0."""
        sock = self._sock
        assert sock is not None
        while self._rd and not self._eos:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                self._rd = False
                break
            except OSError as exc:
                self._eos = True
                return exc.errno or errno.ECONNRESET
            if not data:
                self._eos = True
                tls.incoming.write_eof()
                break
            tls.incoming.write(data)
        return 0

    def _push(self, tls: CheckTls) -> None:
        """TLS records out to the socket, as far as it takes them."""
        tls.raw += tls.outgoing.read()
        if self._sock is not None and tls.raw and self._wr:
            tls.raw = self._send(tls.raw)

    def _tls_io(self, tls: CheckTls) -> None:
        """``_io()`` through the TLS layer: plaintext in and out of the SSLObject."""
        check = self._check
        while True:
            if self._sock is None or self._on_done is None:
                return
            if self._out:
                try:
                    n = tls.obj.write(self._out)
                except ssl.SSLError:
                    self._apply(check.conn_failed(errno.EPIPE))
                    continue
                self._out = self._out[n:]
            self._push(tls)
            if tls.raw and not self._wr:
                return
            if check.room <= 0:
                return
            err = self._pull(tls)
            try:
                data = tls.obj.read(check.room)
            except ssl.SSLWantReadError:
                if err:
                    self._apply(check.conn_failed(err))
                    continue
                if self._eos:
                    self._apply(check.peer_closed())
                    continue
                return
            except ssl.SSLZeroReturnError:
                data = b""
            except ssl.SSLError:
                self._apply(check.conn_failed(err or errno.ECONNRESET))
                continue
            if not data:
                self._eos = True
                self._apply(check.peer_closed())
                continue
            self._apply(check.received(data))

    def _flush(self) -> None:
        if self._sock is None or not self._out or self._tls is not None:
            return  # TLS: _io() encrypts it
        self._out = self._send(self._out)

    def _send(self, data: bytes) -> bytes:
        """Write what the socket takes of ``data``; the rest. An error is left
        for the next read or write attempt in ``_io()`` to report."""
        assert self._sock is not None
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            self._wr = False
            return data
        except OSError:
            return data
        if sent < len(data):
            self._wr = False
        return data[sent:]

    def _io(self) -> None:
        """Write what is pending, then read while the check can take data.

        Re-entrant calls (from ``_apply`` inside this loop) return at once:
        the outer call goes on with whatever the new actions asked for.
        """
        if self._busy:
            return
        tls = self._tls
        if tls is not None:
            if tls.done and not self._connecting:
                self._busy = True
                try:
                    self._tls_io(tls)
                finally:
                    self._busy = False
            return
        self._busy = True
        try:
            check = self._check
            while True:
                sock = self._sock
                if sock is None or self._connecting or self._on_done is None:
                    return
                if self._out:
                    if not self._wr:
                        return  # wait for the next EPOLLOUT edge
                    try:
                        sent = sock.send(self._out)
                    except BlockingIOError:
                        self._wr = False
                        return
                    except OSError as exc:
                        self._apply(check.conn_failed(exc.errno or errno.EPIPE))
                        continue
                    self._out = self._out[sent:]
                    if self._out:
                        self._wr = False
                        return
                    continue
                if not self._rd or self._eos or check.room <= 0:
                    return
                try:
                    data = sock.recv(check.room)
                except BlockingIOError:
                    self._rd = False
                    return
                except OSError as exc:
                    self._eos = True
                    self._apply(check.conn_failed(exc.errno or errno.ECONNRESET))
                    continue
                if not data:
                    self._eos = True
                    self._apply(check.peer_closed())
                    continue
                self._apply(check.received(data))
        finally:
            self._busy = False

    def _on_timeout(self) -> None:
        self._timer = None
        self._apply(self._check.timed_out())


def start_check(
    loop: asyncio.AbstractEventLoop,
    ruleset: Ruleset,
    target: CheckTarget,
    on_done: Callable[[CheckResult], None],
) -> RunningCheck:
    """Start one run of ``ruleset`` against ``target``; ``on_done`` gets its result.

    ``on_done`` is called exactly once, from a loop callback (never from this
    call), unless the run is cancelled first. A server without a check option
    runs ``Ruleset()``: the built-in connect-only check.
    """
    run = RunningCheck(loop, ruleset, target, on_done)
    loop.call_soon(run.start)
    return run
