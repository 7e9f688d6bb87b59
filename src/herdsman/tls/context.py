"""``ssl.SSLContext`` objects as HAProxy 2.6 configures its ``SSL_CTX``s
(``ssl_sock_initial_ctx()``, ``ssl_sock_prepare_ctx()``,
``ssl_sock_prepare_srv_ssl_ctx()``).

Versions: HAProxy turns ``ssl-min-ver``/``ssl-max-ver``/``no-*``/``force-*``
into a contiguous range, TLSv1.2 at least unless configured lower
(``effective_range()``). Ciphers: OpenSSL's defaults unless configured (Python's
own default cipher string is replaced by ``DEFAULT``). Options: server
preference unless ``prefer-client-ciphers``, ChaCha20 prioritised, tickets
unless ``no-tls-tickets``.

A bind line gets one context per certificate instance (``ckch_inst``); the
first instance is the default one and the context a handshake starts with.
Its SNI callback (``sni.py``) switches to the instance the name selects.
"""

from __future__ import annotations

import ssl

from herdsman.tls import openssl
from herdsman.tls.model import Methods, TlsBind, TlsGlobal, TlsOptions, TlsServer, Verify, Version
from herdsman.tls.pem import Ckch, load_dh, load_into

__all__ = ["ClientContext", "bind_context", "check_context", "effective_range", "server_context"]

DEFAULT_MIN = Version.TLSV12
_TLS_VERSION = {
    Version.SSLV3: ssl.TLSVersion.SSLv3,
    Version.TLSV10: ssl.TLSVersion.TLSv1,
    Version.TLSV11: ssl.TLSVersion.TLSv1_1,
    Version.TLSV12: ssl.TLSVersion.TLSv1_2,
    Version.TLSV13: ssl.TLSVersion.TLSv1_3,
}
VERSION_TEXT = {
    Version.SSLV3: "SSLv3",
    Version.TLSV10: "TLSv1.0",
    Version.TLSV11: "TLSv1.1",
    Version.TLSV12: "TLSv1.2",
    Version.TLSV13: "TLSv1.3",
}
_VERIFY = {
    Verify.NONE: ssl.CERT_NONE,
    Verify.OPTIONAL: ssl.CERT_OPTIONAL,
    Verify.REQUIRED: ssl.CERT_REQUIRED,
}
# the versions OpenSSL 3 can still negotiate (SSLv3 is compiled out)
_AVAILABLE = frozenset(v for v in Version if v is not Version.SSLV3)


def effective_range(m: Methods) -> tuple[Version | None, Version | None, list[str]]:
    """``ssl_sock_initial_ctx()``'s version range: (min, max, warnings about holes);
    (None, None, ...) when every version is disabled. ``no-*`` flags count only
    without ``ssl-min-ver``/``ssl-max-ver`` (the caller warns about that)."""
    disabled = set() if (m.min or m.max) else set(m.disabled)
    lo = m.min or (DEFAULT_MIN if not m.max or m.max >= DEFAULT_MIN else m.max)
    hi = m.max
    lo_v = hi_v = None
    hole: Version | None = None
    holes: list[str] = []
    for v in Version:
        usable = v in _AVAILABLE and v not in disabled and v >= lo and (not hi or v <= hi)
        if usable:
            if lo_v is None:
                lo_v = hi_v = v
            else:
                if hole is not None:
                    holes.append(VERSION_TEXT[hole])
                    hole = None
                hi_v = v
        elif lo_v is not None:
            hole = v
    return lo_v, hi_v, holes


def _versions(ctx: ssl.SSLContext, m: Methods) -> None:
    lo, hi, _holes = effective_range(m)
    if lo is None or hi is None:
        raise ssl.SSLError("all SSL/TLS versions are disabled")
    ctx.minimum_version = _TLS_VERSION[lo]
    ctx.maximum_version = _TLS_VERSION[hi]


def _common(ctx: ssl.SSLContext, ciphers: str | None, suites: str | None) -> None:
    ctx.set_ciphers(ciphers or "DEFAULT")
    if suites is not None:
        openssl.set_ciphersuites(ctx, suites)


def _merged(line: TlsOptions | None, bind: TlsOptions) -> TlsOptions:
    """A crt-list line's options over its bind line's (``ssl_sock_prepare_ctx()``
    reads each setting from the line first, then from the bind line)."""
    if line is None:
        return bind
    return TlsOptions(
        ciphers=line.ciphers or bind.ciphers,
        ciphersuites=line.ciphersuites or bind.ciphersuites,
        curves=line.curves or bind.curves,
        alpn=line.alpn if line.alpn is not None else bind.alpn,
        methods=line.methods if (line.methods.min or line.methods.max) else bind.methods,
        verify=line.verify or bind.verify,
        ca_file=line.ca_file or bind.ca_file,
        crl_file=line.crl_file or bind.crl_file,
        no_ca_names=line.no_ca_names or bind.no_ca_names,
    )


def bind_context(
    tb: TlsBind, g: TlsGlobal, opts: TlsOptions | None, ckchs: list[Ckch]
) -> ssl.SSLContext:
    """The context of one certificate instance of a bind line (its crt-list line's
    options ``opts`` over the bind line's); several ckchs of different key types
    may share it (RSA and ECDSA certificates for the same names)."""
    o = _merged(opts, tb.opts)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.options |= ssl.OP_NO_COMPRESSION | getattr(ssl, "OP_PRIORITIZE_CHACHA", 0)
    if tb.prefer_client_ciphers:
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if tb.no_tls_tickets:
        ctx.options |= ssl.OP_NO_TICKET
    _versions(ctx, tb.opts.methods)
    _common(ctx, o.ciphers, o.ciphersuites)
    if o.curves:
        openssl.set_curves(ctx, o.curves)
    verify = o.verify or Verify.NONE
    ctx.verify_mode = _VERIFY[verify]
    if verify is not Verify.NONE and o.ca_file:
        ctx.load_verify_locations(o.ca_file)
        if o.crl_file:
            ctx.load_verify_locations(o.crl_file)
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    if o.alpn:
        ctx.set_alpn_protocols(list(o.alpn))
    openssl.set_session_cache(ctx, g.cachesize, g.lifetime)
    for ckch in ckchs:
        load_into(ctx, ckch)
    dh = next((c.dh_pem for c in ckchs if c.dh_pem), None) or g.dh_pem
    if dh is not None:
        load_dh(ctx, dh)
    elif g.default_dh_param >= 2048:
        openssl.set_dh_auto(ctx)
    return ctx


class ClientContext(ssl.SSLContext):
    """A server's client context, which offers the server's last session on each
    new connection (HAProxy's ``reused_sess``). ``wrap_bio()`` is where the event
    loop's SSL transport creates each connection's ``SSLObject``."""

    reuse: bool
    _last: ssl.SSLObject | None
    _saved: tuple[str | None, ssl.SSLSession] | None

    def wrap_bio(  # type: ignore[override]
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        if self.reuse:
            last = self._last
            if last is not None:
                # the previous connection's session: its TLS 1.3 ticket has
                # arrived by now if it read anything after its handshake
                got = last.session
                if got is not None and (got.has_ticket or got.id):
                    self._saved = (last.server_hostname, got)
            saved = self._saved
            # a session is offered again only with the same SNI (ssl_sock_set_servername())
            if session is None and saved is not None and saved[0] == server_hostname:
                session = saved[1]
        obj = super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)
        if self.reuse:
            self._last = obj
        return obj


def server_context(
    ts: TlsServer, g: TlsGlobal, crt: Ckch | None, *, reuse: bool = False
) -> ClientContext:
    """The client context of a server line (``ssl_sock_prepare_srv_ssl_ctx()``).

    The server's name is checked by herdsman after the handshake
    (``verify.py``), as HAProxy's verify callback does it: against the SNI sent,
    else ``verifyhost``; so OpenSSL's own host check stays off.
    """
    ctx = ClientContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.reuse = reuse
    ctx._last = None
    ctx._saved = None
    ctx.check_hostname = False
    verify = ts.verify or g.server_verify
    ctx.verify_mode = _VERIFY[verify]
    if verify is Verify.REQUIRED and ts.ca_file:
        ctx.load_verify_locations(ts.ca_file)
        if ts.crl_file:
            ctx.load_verify_locations(ts.crl_file)
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    if not ts.tickets:
        ctx.options |= ssl.OP_NO_TICKET
    _versions(ctx, ts.methods)
    _common(ctx, ts.ciphers, ts.ciphersuites)
    if ts.alpn:
        ctx.set_alpn_protocols(list(ts.alpn))
    if crt is not None:
        load_into(ctx, crt)
    return ctx


def check_context(
    ts: TlsServer, g: TlsGlobal, crt: Ckch | None, alpn: tuple[str, ...] | None
) -> ClientContext:
    """The context of a server's TLS health checks: the server's settings with the
    check's ALPN (``check-alpn``, never the server's ``alpn``)."""
    ctx = server_context(ts, g, crt)
    ctx.set_alpn_protocols(list(alpn) if alpn else [])
    return ctx
