"""The TLS layer of one check connection: an ``SSLObject`` between two memory
buffers, which the runner feeds from the socket and drains to it (the runner
keeps its raw sockets and its one epoll; nothing here does I/O).

The handshake reports failures as HAProxy's ``ssl_sock_handshake()`` names them
(``conn_err_code_str()``): "SSL handshake failure", followed by the errno text
when the socket failed; the server's name is verified as
``ssl_sock_srv_verifycbk()`` does, against the SNI sent, else ``verifyhost``.
"""

from __future__ import annotations

import os
import ssl

from herdsman.checks.target import CheckTarget
from herdsman.config.model import ServerConfig
from herdsman.tls.context import check_context
from herdsman.tls.model import TlsGlobal, Verify
from herdsman.tls.store import CertStore
from herdsman.tls.verify import hostname_matches

__all__ = ["CheckContexts", "CheckTls"]

HANDSHAKE_FAILURE = "SSL handshake failure"
MISMATCH = "Server presented an SSL certificate different from the configured one"
MISMATCH_SNI = "Server presented an SSL certificate different from the expected one"


class CheckTls:
    __slots__ = ("obj", "incoming", "outgoing", "raw", "done", "sni", "verify_name")

    def __init__(self, ctx: ssl.SSLContext, sni: str | None, target: CheckTarget) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname=sni or None)
        self.raw = b""  # records not written to the socket yet
        self.done = False
        self.sni = sni
        self.verify_name = (sni or target.tls_verifyhost) if target.tls_verify else None

    def handshake(self, err: int) -> str | None:
        """One step; the failure text when the handshake failed, else None
        (``done`` tells whether it ended). ``err``: the socket's errno, or 0."""
        try:
            self.obj.do_handshake()
        except ssl.SSLWantReadError:
            if not err:
                return None
        except (ssl.SSLError, OSError):
            pass
        else:
            self.done = True
            der = self.obj.getpeercert(binary_form=True)
            if self.verify_name is not None and (
                der is None or not hostname_matches(der, self.verify_name)
            ):
                self.done = False
                return MISMATCH_SNI if self.sni else MISMATCH
            return None
        if err:
            return f"{HANDSHAKE_FAILURE} ({os.strerror(err)})"
        return HANDSHAKE_FAILURE


class CheckContexts:
    """The TLS contexts of one server's checks, one per ALPN list (Python sets ALPN
    on a context; HAProxy sets it per connection), built on first use."""

    __slots__ = ("scfg", "g", "store", "_ctx")

    def __init__(self, scfg: ServerConfig, g: TlsGlobal, store: CertStore) -> None:
        self.scfg = scfg
        self.g = g
        self.store = store
        self._ctx: dict[str | None, ssl.SSLContext] = {}

    def clear(self) -> None:
        self._ctx.clear()

    @property
    def verify(self) -> bool:
        return (self.scfg.tls.verify or self.g.server_verify) is Verify.REQUIRED

    def __call__(self, alpn: str | None) -> ssl.SSLContext:
        ctx = self._ctx.get(alpn)
        if ctx is None:
            ts = self.scfg.tls
            crt = self.store.files.get(ts.crt) if ts.crt else None
            names = tuple(alpn.split(",")) if alpn else None
            ctx = self._ctx[alpn] = check_context(ts, self.g, crt, names)
        return ctx
