"""TLS on the data path: the contexts of ``ssl`` bind lines (their handshakes are
``tlslayer.py``'s) and TLS connections to ``ssl`` servers, over uvloop's SSL
transport.

Servers (``TlsRuntime.server()``): one client context per server, with the
server's settings, its client certificate and the session to resume: like
HAProxy (``reused_sess``), the last session a server gave is offered on the
next connection unless ``no-ssl-reuse``, when the SNI is the same. The server's
name is verified after the handshake, as HAProxy's verify callback does.
``commit ssl cert`` rebuilds the contexts that use the file.
"""

from __future__ import annotations

import asyncio
import logging

from herdsman.config.kw_tls import sni_constant
from herdsman.config.model import BindConfig, Config, ServerConfig
from herdsman.core.backend import Server
from herdsman.tls.context import ClientContext, server_context
from herdsman.tls.model import Verify
from herdsman.tls.pem import Ckch
from herdsman.tls.sni import BindTls
from herdsman.tls.verify import hostname_matches

__all__ = ["ServerTls", "TlsRuntime"]


class _HalfClose(logging.Filter):
    """Streams keep a plain server connection half-open after the server's FIN;
    uvloop's TLS transport cannot (the server's close_notify ends it) and warns
    each time a stream asks. The stream behaves the same either way: drop the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("returning true from eof_received()")


logging.getLogger("asyncio").addFilter(_HalfClose())


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
        ctx = server_context(ts, g, crt, reuse=ts.reuse)
        sni = sni_constant(ts.sni) if ts.sni else None
        verify = ts.verify or g.server_verify
        name = (sni or ts.verifyhost) if verify is Verify.REQUIRED else None
        return ServerTls(ctx, sni or None, name or None)

    def _cert_changed(self, path: str, ckch: Ckch) -> None:
        """A client certificate changed: its servers' contexts are rebuilt on next use."""
        for key, (scfg, _state) in list(self._servers.items()):
            if scfg.tls.crt == path:
                del self._servers[key]
