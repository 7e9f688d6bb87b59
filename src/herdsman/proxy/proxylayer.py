"""The PROXY protocol on a listener: ``bind ... accept-proxy`` and
``tcp-request connection expect-proxy layer4`` (``session_accept_fd()``,
``conn_recv_proxy()`` in HAProxy 2.6).

``ProxyLayer`` is the first protocol of a client connection on such a listener.
It runs the ``tcp-request connection`` rules on the connection's own addresses
(2.6 runs them before any handshake; one of them may ask for the header), reads
the header with ``defs/proxyrecv.py``, then hands the transport over to the
next protocol (the stream, or the TLS layer of an ``ssl`` bind line) with
``set_protocol()``: from there on the event loop calls the stream directly, so
the layer costs nothing once the header is read, and listeners without it
never see it.

The stream sees a ``ProxiedTransport``: the real transport's own bound methods
(no call goes through Python code of ours) whose ``peername``/``sockname`` are
the header's addresses, so ``src``, ``dst``, the logs, ``forwardfor``,
``balance source``, stick tables and ``send-proxy`` all see the client behind
the other load balancer, as 2.6's ``sess->src``/``sess->dst`` do.

Failures, as 2.6 (checked with the binary): the header must be whole in the
first read and within ``tune.bufsize`` bytes (2.6 peeks once with ``MSG_PEEK``
into a buffer of that size and cannot wait for more), else "Truncated PROXY
protocol header received"; a bad header closes with a reset
(2.6 closes with the bytes unread); nothing within ``timeout client`` is
"Timeout while waiting for PROXY protocol header". The listener logs the reason
as it logs a failed TLS handshake (``session_kill_embryonic()``); a rejecting
connection rule closes with a reset and logs nothing.

Who closes what: the layer closes the transport when the header fails, and
tells ``on_failure``; afterwards the stream owns the transport.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from herdsman.defs import proxyrecv as pr
from herdsman.proxy.routing import EARLY_TXN
from herdsman.proxy.sockopts import set_nolinger
from herdsman.proxy.tlslayer import TlsLayer
from herdsman.sample.txn import Txn

__all__ = ["ProxiedTransport", "ProxyLayer", "Rules"]


class Rules(Protocol):
    """The frontend's ``tcp-request connection`` and ``session`` rules (``Router``)."""

    def connection(self, tr: asyncio.BaseTransport) -> Txn | None:
        """The connection rules at accept: their transaction, None when rejected."""
        ...

    def session(self, tr: ProxiedTransport) -> bool:
        """The session rules once the header is read: False when rejected."""
        ...


class ProxiedTransport:
    """A client transport with the addresses of its PROXY header (and the
    transaction of its connection rules) in ``get_extra_info()``."""

    __slots__ = (
        "tr",
        "extra",
        "write",
        "writelines",
        "write_eof",
        "can_write_eof",
        "close",
        "abort",
        "is_closing",
        "pause_reading",
        "resume_reading",
        "is_reading",
        "get_write_buffer_size",
        "get_write_buffer_limits",
        "set_write_buffer_limits",
        "set_protocol",
        "get_protocol",
    )

    write: Callable[[bytes | bytearray | memoryview], None]
    writelines: Callable[[Any], None]
    write_eof: Callable[[], None]
    can_write_eof: Callable[[], bool]
    close: Callable[[], None]
    abort: Callable[[], None]
    is_closing: Callable[[], bool]
    pause_reading: Callable[[], None]
    resume_reading: Callable[[], None]
    is_reading: Callable[[], bool]
    get_write_buffer_size: Callable[[], int]
    get_write_buffer_limits: Callable[[], tuple[int, int]]
    set_write_buffer_limits: Callable[..., None]
    set_protocol: Callable[[asyncio.BaseProtocol], None]
    get_protocol: Callable[[], asyncio.BaseProtocol]

    def __init__(self, tr: asyncio.Transport, extra: dict[str, object]) -> None:
        self.tr = tr
        self.extra = extra
        self.write = tr.write
        self.writelines = tr.writelines
        self.write_eof = tr.write_eof
        self.can_write_eof = tr.can_write_eof
        self.close = tr.close
        self.abort = tr.abort
        self.is_closing = tr.is_closing
        self.pause_reading = tr.pause_reading
        self.resume_reading = tr.resume_reading
        self.is_reading = tr.is_reading
        self.get_write_buffer_size = tr.get_write_buffer_size
        self.get_write_buffer_limits = tr.get_write_buffer_limits
        self.set_write_buffer_limits = tr.set_write_buffer_limits
        self.set_protocol = tr.set_protocol
        self.get_protocol = tr.get_protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name in self.extra:
            return self.extra[name]
        return self.tr.get_extra_info(name, default)


class ProxyLayer(asyncio.Protocol):
    """Reads the PROXY header (when asked) before the next protocol starts."""

    __slots__ = (
        "app",
        "loop",
        "timeout",
        "on_failure",
        "accept_proxy",
        "rules",
        "session",
        "bufsize",
        "tr",
        "txn",
        "timer",
        "held",
        "accepted",
        "peer",
        "failure",
    )

    def __init__(
        self,
        app: asyncio.Protocol,
        loop: asyncio.AbstractEventLoop,
        timeout: float | None,
        on_failure: Callable[[], None],
        accept_proxy: bool,
        rules: Rules | None,
        session: bool,
        bufsize: int = 16384,
    ) -> None:
        self.app = app
        self.loop = loop
        self.timeout = timeout
        self.on_failure = on_failure
        self.accept_proxy = accept_proxy  # bind ... accept-proxy
        self.rules = rules  # tcp-request connection rules, one of them expect-proxy
        # the session rules run here too, unless a TLS handshake comes between
        self.session = session
        # 2.6 peeks into a buffer of tune.bufsize: a longer header is truncated
        self.bufsize = bufsize
        self.tr: asyncio.Transport | None = None
        self.txn: Txn | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.held = False  # accepted beyond a limit: nothing happens before begin()
        self.accepted = time.time()  # the session's accept date, for its error log line
        self.peer: object = None
        # (reason, nothing received): what the listener logs (session_kill_embryonic())
        self.failure: tuple[str, bool] = ("", False)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tr: asyncio.Transport = transport  # type: ignore[assignment]
        self.tr = tr
        self.peer = tr.get_extra_info("peername")
        tr.pause_reading()
        if not self.held:
            self.begin()

    def begin(self) -> None:
        """At accept, or when a held connection gets its slot: the connection rules,
        then the header if they or the bind line ask for it."""
        self.held = False
        tr = self.tr
        if tr is None:
            return
        wanted = self.accept_proxy
        if self.rules is not None:
            self.txn = txn = self.rules.connection(tr)
            if txn is None:
                # rejected: "a no-linger now to close with a single RST", no log
                set_nolinger(tr)
                self._fail("", True)
                return
            wanted = wanted or txn.expect_proxy
        if not wanted:
            self._hand_over(None, b"")
            return
        if self.timeout is not None:
            self.timer = self.loop.call_later(self.timeout, self._expired)
        tr.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.tr is None:
            return
        got = pr.read_header(data[: self.bufsize])
        if isinstance(got, pr.Header):
            self._hand_over(got, data[got.size :])
            return
        if isinstance(got, pr.Refused):
            reason = got.reason
            if got.src is not None:
                self.peer = got.src
        else:
            reason = pr.TRUNCATED
        set_nolinger(self.tr)  # 2.6 closes with the bytes unread: a reset
        self._fail(reason, False)

    def eof_received(self) -> bool:
        if self.tr is not None:
            self._fail(pr.EMPTY, True)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.tr is None:
            return  # already failed
        self.tr = None
        self._fail(pr.EMPTY if exc is None else pr.ABORT, True)

    def _hand_over(self, header: pr.Header | None, rest: bytes) -> None:
        tr = self.tr
        assert tr is not None
        timer = self.timer
        if timer is not None and self.timeout is not None and isinstance(self.app, TlsLayer):
            # one embryonic timeout covers the header and the handshake (session_accept_fd())
            left = timer.when() - self.loop.time()
            self.app.timeout = min(max(left, 0.0), self.timeout)
        self._stop_timer()
        extra: dict[str, object] = {}
        if self.txn is not None:
            extra[EARLY_TXN] = self.txn
        if header is not None:
            extra[pr.HEADER_INFO] = header  # fc_rcvd_proxy, fc_pp_* (Router.new_txn())
            if header.src is not None:
                extra["peername"], extra["sockname"] = header.src, header.dst
                self.peer = header.src
        face = ProxiedTransport(tr, extra)
        rules = self.rules
        if self.txn is not None and self.session and rules is not None and not rules.session(face):
            if rest:
                set_nolinger(tr)  # 2.6 closes with these bytes unread: a reset
            # conn_complete_session() -> session_kill_embryonic() with no error code
            self._fail("Success", True)
            return
        app = self.app
        self.tr = None
        tr.set_protocol(app)
        if not tr.is_reading():
            tr.resume_reading()  # as a new transport is: the stream pauses it if it must
        app.connection_made(face)  # type: ignore[arg-type]
        if rest and not tr.is_closing():
            app.data_received(rest)

    def _fail(self, reason: str, empty: bool) -> None:
        self._stop_timer()
        self.failure = (reason, empty)
        tr, self.tr = self.tr, None
        if tr is not None:
            tr.close()
        self.on_failure()

    def _expired(self) -> None:
        self.timer = None
        # CO_ER_PRX_TIMEOUT is set after the dontlognull test, which sees no code
        self._fail(pr.TIMEOUT, True)

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
