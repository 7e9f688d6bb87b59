"""What the ``ssl_fc*``/``ssl_c_*`` fetches (``sample/f_ssl.py``) read of a client
connection's TLS layer (``ssl_sample.c`` of HAProxy 2.6).

``ClientTls(sslobj)`` answers the questions of ``sample.txn.TlsView`` from the
connection's ``SSLObject`` once its handshake is done: the data path puts one
in the transaction (``Txn.tls``) of a connection accepted on an ``ssl`` bind
line. The client certificate is parsed once, when a fetch first asks.
"""

from __future__ import annotations

import ssl

from herdsman.tls.x509 import (
    Certificate,
    DerError,
    dn_entry,
    dn_oneline,
    dn_rfc2253,
    parse_certificate,
)

__all__ = ["ClientTls"]


class ClientTls:
    """The TLS side of one client connection, as the sample fetches see it."""

    __slots__ = ("obj", "_cert")

    def __init__(self, obj: ssl.SSLObject) -> None:
        self.obj = obj
        self._cert: Certificate | bool | None = False  # False: not parsed yet

    def sni(self) -> bytes | None:
        name: str | None = getattr(self.obj, "herdsman_sni", None)  # tls/sni.py
        return name.encode("utf-8", "surrogateescape") if name is not None else None

    def protocol(self) -> bytes | None:
        version = self.obj.version()
        return version.encode() if version is not None else None

    def cipher(self) -> bytes | None:
        cipher = self.obj.cipher()
        return cipher[0].encode() if cipher else None

    def alpn(self) -> bytes | None:
        proto = self.obj.selected_alpn_protocol()
        return proto.encode() if proto is not None else None

    def keysizes(self) -> tuple[int, int]:
        cipher = self.obj.cipher()
        if not cipher:
            return 0, 0
        bits = cipher[2]
        # SSL_get_cipher_bits()'s alg_bits differ from the secret bits for 3DES only
        return bits, 168 if "DES-CBC3" in cipher[0] else bits

    def resumed(self) -> bool:
        return self.obj.session_reused

    def verify_result(self) -> int:
        # X509_V_OK: OpenSSL ends a handshake whose verification fails (herdsman has
        # no ca-ignore-err/crt-ignore-err), and a client without certificate is OK
        return 0

    def peer_der(self) -> bytes | None:
        return self.obj.getpeercert(binary_form=True)

    def _peer(self) -> Certificate | None:
        cert = self._cert
        if cert is False:
            der = self.peer_der()
            try:
                cert = parse_certificate(der) if der is not None else None
            except DerError:
                cert = None
            self._cert = cert
        return cert if isinstance(cert, Certificate) else None

    def peer_serial(self) -> bytes | None:
        cert = self._peer()
        return bytes.fromhex(cert.serial_hex) if cert is not None else None

    def peer_dn(self, issuer: bool, entry: str, pos: int, rfc2253: bool) -> bytes | None:
        cert = self._peer()
        if cert is None:
            return None
        name = cert.issuer if issuer else cert.subject
        if entry:
            return dn_entry(name, entry, pos)
        text = dn_rfc2253(name) if rfc2253 else dn_oneline(name)
        return text.encode("utf-8", "surrogateescape") or None
