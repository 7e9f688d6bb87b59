"""TLS between a client's plain transport and its stream: an ``SSLObject`` over two
memory buffers (Python's ``ssl``), driven by uvloop's TCP transport.

``TlsLayer`` is both the protocol of the client's plain transport and the
transport its stream writes to, so a stream cannot tell a TLS client from a
plain one. It exists instead of uvloop's own SSL transport because a handshake
that fails must still send its alert (``unrecognized_name`` for ``strict-sni``,
``certificate_required`` for ``verify required``...) before the connection
closes, as HAProxy does, and because its end must reach the listener (the
connection counts against the limits from the accept on).

Life of a connection, as in HAProxy 2.6: the handshake advances as bytes
arrive (a stalled or garbled client holds only its own connection) and must
end within ``timeout client``; then the stream gets ``connection_made()`` and
starts. A failed handshake sends what OpenSSL has to say, closes, and tells
``on_failure`` with ``failure`` set to HAProxy's reason ("SSL handshake failure",
"Timeout during SSL handshake", "Connection closed during SSL handshake"...): the
stream is closed without ever starting, and a frontend with a log format logs
the reason (``session_kill_embryonic()``). A connection held beyond a
limit waits with its reading paused and starts its handshake in ``begin()``.
Closing sends close_notify (``ssl_sock_shutw()``), a peer's close_notify or FIN
is the stream's ``eof_received()``.

Who closes what: the layer closes the plain transport; the stream closes the
layer (``close()``/``abort()``) like any transport.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from typing import Any

__all__ = ["TlsLayer"]

_HANDSHAKE, _OPEN, _CLOSING, _CLOSED = range(4)
HANDSHAKE_FAILURE = "SSL handshake failure"  # CO_ER_SSL_HANDSHAKE
_READ = 65536


class TlsLayer(asyncio.Protocol, asyncio.Transport):
    __slots__ = (
        "app",
        "ctx",
        "loop",
        "timeout",
        "on_failure",
        "tr",
        "obj",
        "incoming",
        "outgoing",
        "state",
        "timer",
        "reading",
        "held",
        "accepted",
        "peer",
        "replied",
        "failure",
    )

    def __init__(
        self,
        app: asyncio.Protocol,
        ctx: ssl.SSLContext,
        loop: asyncio.AbstractEventLoop,
        timeout: float | None,
        on_failure: Callable[[], None],
    ) -> None:
        self.app = app
        self.ctx = ctx
        self.loop = loop
        self.timeout = timeout
        self.on_failure = on_failure
        self.tr: asyncio.Transport | None = None
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj: ssl.SSLObject | None = None
        self.state = _HANDSHAKE
        self.timer: asyncio.TimerHandle | None = None
        self.reading = True  # the stream's wish (pause_reading/resume_reading)
        self.held = False  # accepted beyond a limit: the handshake waits for begin()
        self.accepted = time.time()  # the session's accept date, for its error log line
        self.peer: object = None
        self.replied = False  # OpenSSL answered: the ClientHello was read (not TLS_ST_BEFORE)
        # why the handshake failed (conn_err_code_str()), and whether the client
        # closed before saying anything worth a log line under dontlognull
        self.failure: tuple[str, bool] = ("", False)

    # -- the plain transport's protocol ------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.tr = transport  # type: ignore[assignment]
        self.peer = transport.get_extra_info("peername")
        if self.held:
            transport.pause_reading()  # type: ignore[attr-defined]
            return
        self.begin()

    def begin(self) -> None:
        """Start the handshake (at accept, or when a held connection gets its slot)."""
        self.held = False
        self.obj = self.ctx.wrap_bio(self.incoming, self.outgoing, server_side=True)
        if self.timeout is not None:
            self.timer = self.loop.call_later(self.timeout, self._expired)
        tr = self.tr
        if tr is not None and not tr.is_reading():
            tr.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.obj is None:  # held: nothing is read before begin()
            return
        self.incoming.write(data)
        if self.state == _HANDSHAKE:
            self._handshake()
        elif self.state == _OPEN and self.reading:
            self._read()

    def eof_received(self) -> bool:
        self.incoming.write_eof()
        if self.state == _HANDSHAKE:
            self._handshake()
            return False
        if self.state == _OPEN:
            return self._read()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        state, self.state = self.state, _CLOSED
        self.tr = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if state == _HANDSHAKE:
            # the client left before the end of its handshake
            self.failure = self._closed_reason(exc is not None)
            self.on_failure()
        else:
            self.app.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.state == _OPEN:
            self.app.pause_writing()

    def resume_writing(self) -> None:
        if self.state == _OPEN:
            self.app.resume_writing()

    # -- TLS ---------------------------------------------------------------------------------

    def _flush(self) -> None:
        out = self.outgoing.read()
        if out and self.tr is not None:
            self.replied = True
            self.tr.write(out)

    def _closed_reason(self, error: bool) -> tuple[str, bool]:
        """``ssl_sock_handshake()`` on a close: before OpenSSL answered, the empty
        handshake codes (CO_ER_SSL_EMPTY, or CO_ER_SSL_ABORT with an errno)."""
        if self.replied:
            return HANDSHAKE_FAILURE, False
        if error:
            return "Connection error during SSL handshake", True
        return "Connection closed during SSL handshake", True

    def _handshake(self) -> None:
        obj = self.obj
        assert obj is not None
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            self._fail(self._closed_reason(False))  # the client closed (SSL_ERROR_SYSCALL)
            return
        except ssl.SSLSyscallError:
            self._fail(self._closed_reason(True))
            return
        except (ssl.SSLError, OSError):
            self._fail((HANDSHAKE_FAILURE, False))
            return
        self._flush()
        self.state = _OPEN
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.app.connection_made(self)
        if self.state == _OPEN and self.reading and self.incoming.pending:
            self._read()

    def _fail(self, failure: tuple[str, bool]) -> None:
        """The handshake failed: its alert goes out, then the connection closes."""
        self._flush()
        self.failure = failure
        self.state = _CLOSED
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.tr is not None:
            self.tr.close()
            self.tr = None
        self.on_failure()

    def _expired(self) -> None:
        self.timer = None
        if self.state == _HANDSHAKE:
            self.state = _CLOSED
            # CO_ER_SSL_TIMEOUT, set after the dontlognull test (which sees no code)
            self.failure = ("Timeout during SSL handshake", True)
            if self.tr is not None:
                self.tr.abort()
                self.tr = None
            self.on_failure()

    def _read(self) -> bool:
        """Hand the stream what can be decrypted; the stream's answer to an end of
        input (True: keep writing), False otherwise."""
        obj = self.obj
        assert obj is not None
        app = self.app
        while self.state == _OPEN and self.reading:
            try:
                data = obj.read(_READ)
            except ssl.SSLWantReadError:
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self._flush()
                keep = bool(app.eof_received())
                if not keep:
                    self.close()
                return keep
            except ssl.SSLError:
                self._flush()
                self.abort()
                return False
            if not data:
                break
            app.data_received(data)
        if self.outgoing.pending:
            self._flush()  # post-handshake messages (tickets, key updates)
        return False

    # -- the stream's transport ----------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        obj = self.obj
        if self.state != _OPEN or obj is None:
            return
        try:
            obj.write(data)
        except ssl.SSLError:
            self.abort()
            return
        self._flush()

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """close_notify, then a FIN (``ssl_sock_shutw()``)."""
        if self.state != _OPEN:
            return
        self._shutdown()
        if self.tr is not None:
            self.tr.write_eof()

    def _shutdown(self) -> None:
        obj = self.obj
        if obj is None:
            return
        try:
            obj.unwrap()
        except (ssl.SSLError, OSError, ValueError):
            pass  # the peer's close_notify is not awaited
        self._flush()

    def close(self) -> None:
        if self.state >= _CLOSING:
            return
        if self.state == _OPEN:
            self._shutdown()
        self.state = _CLOSING
        if self.tr is not None:
            self.tr.close()

    def abort(self) -> None:
        if self.state >= _CLOSING:
            return
        self.state = _CLOSING
        if self.tr is not None:
            self.tr.abort()

    def is_closing(self) -> bool:
        return self.state >= _CLOSING

    def pause_reading(self) -> None:
        self.reading = False
        if self.tr is not None:
            self.tr.pause_reading()

    def resume_reading(self) -> None:
        if self.reading:
            return
        self.reading = True
        if self.tr is not None:
            self.tr.resume_reading()
        obj = self.obj
        if self.state == _OPEN and (self.incoming.pending or (obj is not None and obj.pending())):
            self.loop.call_soon(self._resume_read)

    def _resume_read(self) -> None:
        if self.state == _OPEN and self.reading:
            self._read()

    def is_reading(self) -> bool:
        return self.reading

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self.obj
        if name == "sslcontext":
            return self.ctx
        if name == "peercert":
            return self.obj.getpeercert() if self.obj is not None else default
        if name == "cipher":
            return self.obj.cipher() if self.obj is not None else default
        if self.tr is None:
            return default
        return self.tr.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return self.tr.get_write_buffer_size() if self.tr is not None else 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        if self.tr is not None:
            self.tr.set_write_buffer_limits(high, low)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.app = protocol  # type: ignore[assignment]

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.app
