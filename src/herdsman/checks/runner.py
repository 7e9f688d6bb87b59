"""The I/O driver of one check run: the sockets and timers around ``TcpCheck``.

It is deliberately thin and cheap, because thousands of checks run every
second: no task, no stream, no protocol object. A run is a handful of event
loop callbacks on one non-blocking socket (``add_writer`` for the connection,
``add_reader`` for the response) and one timer handle for the deadline.
Everything the check *means* is decided by the sans-IO interpreter; this
module only moves bytes and reports what the kernel said.

Closing follows HAProxy: an abortive close (RST, ``SO_LINGER`` 0) unless the
connect rule has ``linger``, so that checks leave no TIME_WAIT behind.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
from collections.abc import Callable

from herdsman.checks.rules import Ruleset
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tcpcheck import Action, Arm, Close, Connect, Done, Send, TcpCheck

_RST = struct.pack("ii", 1, 0)
_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)
_RECV_SIZE = 16384


class RunningCheck:
    """One check run in progress; ``cancel()`` stops it without a result."""

    __slots__ = (
        "_check",
        "_eos",
        "_loop",
        "_on_done",
        "_out",
        "_reading",
        "_sock",
        "_start",
        "_target",
        "_timer",
        "_writing",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        ruleset: Ruleset,
        target: CheckTarget,
        on_done: Callable[[CheckResult], None],
    ) -> None:
        self._loop = loop
        self._target = target
        self._on_done: Callable[[CheckResult], None] | None = on_done
        self._check = TcpCheck(ruleset, target)
        self._sock: socket.socket | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._out = b""  # bytes accepted by Send but not yet written
        self._reading = self._writing = False
        self._eos = False  # the peer closed: nothing more to read on this connection
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
                self._send(action.data)
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
        self._flow()

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
        self._sock = sock
        self._eos = False
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EAGAIN):
            self._apply(self._check.conn_failed(err))
            return
        self._loop.add_writer(sock.fileno(), self._on_connect)
        self._writing = True

    def _send(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            return
        if not self._out:
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self._apply(self._check.conn_failed(exc.errno or errno.EPIPE))
                return
            data = data[sent:]
        self._out += data
        if self._out and not self._writing:
            self._loop.add_writer(sock.fileno(), self._on_writable)
            self._writing = True

    def _close(self, linger: bool) -> None:
        sock, self._sock = self._sock, None
        self._out = b""
        if sock is None:
            return
        fd = sock.fileno()
        if self._reading:
            self._loop.remove_reader(fd)
            self._reading = False
        if self._writing:
            self._loop.remove_writer(fd)
            self._writing = False
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
            on_done(CheckResult(result.status, result.code, result.desc, elapsed))

    def _flow(self) -> None:
        """Read while the check can take data (HAProxy stops at a full buffer)."""
        sock = self._sock
        if sock is None or self._eos or (self._writing and not self._out):
            return
        want = self._check.room > 0
        if want and not self._reading:
            self._loop.add_reader(sock.fileno(), self._on_readable)
            self._reading = True
        elif not want and self._reading:
            self._loop.remove_reader(sock.fileno())
            self._reading = False

    # -- loop callbacks --------------------------------------------------------------

    def _on_connect(self) -> None:
        sock = self._sock
        if sock is None:
            return
        self._loop.remove_writer(sock.fileno())
        self._writing = False
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._apply(self._check.conn_failed(err))
            return
        local = peer = None
        if self._check.needs_addresses:
            try:
                local, peer = sock.getsockname(), sock.getpeername()
            except OSError as exc:
                self._apply(self._check.conn_failed(exc.errno or errno.ENOTCONN))
                return
        self._apply(self._check.connected(local, peer))

    def _on_writable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            sent = sock.send(self._out)
        except BlockingIOError:
            return
        except OSError as exc:
            self._apply(self._check.conn_failed(exc.errno or errno.EPIPE))
            return
        self._out = self._out[sent:]
        if not self._out:
            self._loop.remove_writer(sock.fileno())
            self._writing = False
            self._flow()

    def _on_readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            data = sock.recv(max(self._check.room, 1))
        except BlockingIOError:
            return
        except OSError as exc:
            self._stop_reading(sock)
            self._apply(self._check.conn_failed(exc.errno or errno.ECONNRESET))
            return
        if not data:
            self._stop_reading(sock)
            self._apply(self._check.peer_closed())
            return
        self._apply(self._check.received(data))

    def _stop_reading(self, sock: socket.socket) -> None:
        if self._reading:
            self._loop.remove_reader(sock.fileno())
            self._reading = False
        self._eos = True

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
