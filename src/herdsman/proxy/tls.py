"""TLS on the data path: handshakes with clients on ``ssl`` listeners, and TLS
connections to ``ssl`` servers, over uvloop's SSL transport (Python's ``ssl``
through ``MemoryBIO``: the handshake advances as bytes arrive, so a client that
stalls or sends garbage holds only its own connection).

Clients (``TlsAccept``): a listener of an ``ssl`` bind line gives the event loop
a ``TlsAccept`` instead of its stream's protocol. Once the handshake is done the
stream gets its ``connection_made()`` with the TLS transport, as it would with
a plain one, so streams know nothing of TLS. As in HAProxy, the connection
counts against the limits from the accept on, the stream (its server
connection, its "Connect from" log line) starts after the handshake, the
handshake must end within ``timeout client``, and a failed handshake closes the
connection (HAProxy logs it only with a log format: "SSL handshake failure").
A connection held beyond a limit does not start its handshake until it gets
its slot (``Listener.promote()``).

Servers (``TlsRuntime.server()``): one client context per server, with the
server's settings, its client certificate and the session to resume: like
HAProxy (``reused_sess``), the last session a server gave is offered on the
next connection unless ``no-ssl-reuse``, when the SNI is the same. The server's
name is verified after the handshake, as HAProxy's verify callback does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import uvloop.loop

from herdsman.config.kw_tls import sni_constant
from herdsman.config.model import BindConfig, Config, ServerConfig
from herdsman.core.backend import Server
from herdsman.tls.context import ClientContext, server_context
from herdsman.tls.model import Verify
from herdsman.tls.pem import Ckch
from herdsman.tls.sni import BindTls
from herdsman.tls.verify import hostname_matches

__all__ = ["ServerTls", "TlsAccept", "TlsRuntime"]

_NO_TIMEOUT = 365 * 86400.0  # "timeout client" unset: the handshake may take its time


class _HalfClose(logging.Filter):
    """Streams keep a plain connection half-open after the peer's FIN; a TLS
    transport cannot (the peer's close_notify ends it) and uvloop warns each
    time a stream asks. The stream behaves the same either way: drop the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("returning true from eof_received()")


logging.getLogger("asyncio").addFilter(_HalfClose())


def _ssl_protocol(loop: asyncio.AbstractEventLoop) -> type:
    """The loop's own SSL protocol class (uvloop's, or asyncio's on a plain loop)."""
    if isinstance(loop, uvloop.Loop):
        return uvloop.loop.SSLProtocol  # type: ignore[attr-defined,no-any-return]
    import asyncio.sslproto

    return asyncio.sslproto.SSLProtocol


class Accepted(Protocol):
    """What a TLS handshake needs of the stream it opens (``frontend.ClientStream``)."""

    held: bool

    @property
    def client(self) -> asyncio.Protocol: ...

    def client_transport(self) -> asyncio.BaseTransport | None: ...

    def close(self) -> None: ...


class TlsAccept(asyncio.Protocol):
    """The plain side of a client connection until its TLS handshake ends.

    ``waiting`` is the listener's table of held connections whose handshake
    waits for a slot; it calls ``begin()`` when one is given."""

    __slots__ = ("stream", "state", "loop", "timeout", "waiting", "transport")

    def __init__(
        self,
        stream: Accepted,
        state: BindTls,
        loop: asyncio.AbstractEventLoop,
        timeout_ms: int,
        waiting: dict[Accepted, TlsAccept],
    ) -> None:
        self.stream = stream
        self.state = state
        self.loop = loop
        self.timeout = timeout_ms / 1000.0 if timeout_ms else _NO_TIMEOUT
        self.waiting = waiting
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tr: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport = tr
        if self.stream.held:
            tr.pause_reading()
            self.waiting[self.stream] = self
            return
        self.begin()

    def begin(self) -> None:
        """Start the handshake (at accept time, or when a held connection gets its slot)."""
        tr = self.transport
        assert tr is not None
        loop = self.loop
        waiter: asyncio.Future[None] = loop.create_future()
        proto = _ssl_protocol(loop)(
            loop,
            self.stream.client,
            self.state.initial,
            waiter,
            server_side=True,
            ssl_handshake_timeout=self.timeout,
        )
        tr.set_protocol(proto)
        proto.connection_made(tr)
        if not tr.is_reading():
            tr.resume_reading()
        waiter.add_done_callback(self._done)

    def _done(self, waiter: asyncio.Future[None]) -> None:
        stream = self.stream
        self.transport = None
        failed = waiter.cancelled() or waiter.exception() is not None
        if failed or stream.client_transport() is None:
            # handshake failure, timeout, or the client left: the stream never started
            stream.close()

    def data_received(self, data: bytes) -> None:  # held: not read
        pass

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        # the client left while held, before its handshake
        self.transport = None
        self.waiting.pop(self.stream, None)
        self.stream.close()


class ServerTls:
    """What connecting to one ``ssl`` server needs."""

    __slots__ = ("ctx", "sni", "verify_name")

    def __init__(self, ctx: ClientContext, sni: str | None, verify_name: str | None) -> None:
        self.ctx = ctx
        self.sni = sni
        self.verify_name = verify_name

    def verified(self, transport: asyncio.BaseTransport) -> bool:
        """``ssl_sock_srv_verifycbk()``'s name check, after the handshake."""
        if self.verify_name is None:
            return True
        der = transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return der is not None and hostname_matches(der, self.verify_name)


class TlsRuntime:
    """The TLS state of a running configuration: each bind line's contexts and
    each server's client context, rebuilt when ``commit ssl cert`` changes a file."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._binds: dict[int, BindTls] = {}
        self._servers: dict[int, tuple[ServerConfig, ServerTls]] = {}
        config.certs.subscribers.append(self._cert_changed)

    def bind(self, bind: BindConfig) -> BindTls | None:
        """The TLS side of a bind line, or None when it is plain."""
        tb = bind.tls
        if tb is None or not tb.enabled:
            return None
        state = self._binds.get(id(tb))
        if state is None:
            state = self._binds[id(tb)] = BindTls(tb, self.config.global_.tls, self.config.certs)
        return state

    def server(self, srv: Server) -> ServerTls | None:
        """The TLS side of a server, or None when it is plain."""
        scfg = srv.cfg
        if not scfg.tls.enabled:
            return None
        got = self._servers.get(id(scfg))
        if got is None:
            got = self._servers[id(scfg)] = (scfg, self._server_tls(scfg))
        return got[1]

    def _server_tls(self, scfg: ServerConfig) -> ServerTls:
        ts = scfg.tls
        g = self.config.global_.tls
        crt = self.config.certs.files.get(ts.crt) if ts.crt else None
        ctx = server_context(ts, g, crt, reuse=ts.reuse and not g.server_no_reuse)
        sni = sni_constant(ts.sni) if ts.sni else None
        verify = ts.verify or g.server_verify
        name = (sni or ts.verifyhost) if verify is Verify.REQUIRED else None
        return ServerTls(ctx, sni or None, name or None)

    def _cert_changed(self, path: str, ckch: Ckch) -> None:
        """A client certificate changed: its servers' contexts are rebuilt on next use."""
        for key, (scfg, _state) in list(self._servers.items()):
            if scfg.tls.crt == path:
                del self._servers[key]
