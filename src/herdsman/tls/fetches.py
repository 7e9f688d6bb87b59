"""The TLS sample fetches of a client connection (``ssl_sample.c`` of HAProxy 2.6)
as functions of what its handshake established.

``facts(sslobj)`` reads them from the connection's ``SSLObject``
(``transport.get_extra_info("ssl_object")``; None on a plain connection); each
fetch answers its value, or None when HAProxy's fetch fails (no TLS, no client
certificate...). The routing engine registers them by name (``FETCHES``); the
ClientHello fetches of plain TCP streams are in ``hello.py``.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from herdsman.tls.x509 import DerError, dn_oneline, parse_certificate

__all__ = ["FETCHES", "TlsFacts", "facts"]


@dataclass(frozen=True, slots=True)
class TlsFacts:
    """What the handshake of one client connection established."""

    sni: str | None  # the server name the client sent
    protocol: str | None  # "TLSv1.3"
    cipher: str | None  # OpenSSL's name: "TLS_AES_256_GCM_SHA384"
    alpn: str | None
    peer_der: bytes | None  # the client certificate
    verify_result: int  # X509_V_OK (0) once a handshake with verification succeeded


def facts(sslobj: ssl.SSLObject | None) -> TlsFacts | None:
    if sslobj is None:
        return None
    cipher = sslobj.cipher()
    return TlsFacts(
        sni=getattr(sslobj, "herdsman_sni", None),
        protocol=sslobj.version(),
        cipher=cipher[0] if cipher else None,
        alpn=sslobj.selected_alpn_protocol(),
        peer_der=sslobj.getpeercert(binary_form=True),
        # OpenSSL ends a handshake whose verification fails (no ca-ignore-err in herdsman)
        verify_result=0,
    )


def ssl_fc(f: TlsFacts | None) -> bool:
    return f is not None


def ssl_fc_sni(f: TlsFacts | None) -> str | None:
    return f.sni if f is not None else None


def ssl_fc_protocol(f: TlsFacts | None) -> str | None:
    return f.protocol if f is not None else None


def ssl_fc_cipher(f: TlsFacts | None) -> str | None:
    return f.cipher if f is not None else None


def ssl_fc_alpn(f: TlsFacts | None) -> str | None:
    return f.alpn if f is not None else None


def ssl_c_used(f: TlsFacts | None) -> bool | None:
    return f.peer_der is not None if f is not None else None


def ssl_c_verify(f: TlsFacts | None) -> int | None:
    return f.verify_result if f is not None else None


def _peer_dn(f: TlsFacts | None, issuer: bool) -> str | None:
    if f is None or f.peer_der is None:
        return None
    try:
        cert = parse_certificate(f.peer_der)
    except DerError:
        return None
    return dn_oneline(cert.issuer if issuer else cert.subject)


def ssl_c_s_dn(f: TlsFacts | None) -> str | None:
    return _peer_dn(f, issuer=False)


def ssl_c_i_dn(f: TlsFacts | None) -> str | None:
    return _peer_dn(f, issuer=True)


def ssl_c_sha1(f: TlsFacts | None) -> bytes | None:
    if f is None or f.peer_der is None:
        return None
    return hashlib.sha1(f.peer_der).digest()


FETCHES: dict[str, Callable[[TlsFacts | None], object]] = {
    "ssl_fc": ssl_fc,
    "ssl_fc_sni": ssl_fc_sni,
    "ssl_fc_protocol": ssl_fc_protocol,
    "ssl_fc_cipher": ssl_fc_cipher,
    "ssl_fc_alpn": ssl_fc_alpn,
    "ssl_c_used": ssl_c_used,
    "ssl_c_verify": ssl_c_verify,
    "ssl_c_s_dn": ssl_c_s_dn,
    "ssl_c_i_dn": ssl_c_i_dn,
    "ssl_c_sha1": ssl_c_sha1,
}
