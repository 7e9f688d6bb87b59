"""Fetches on the client connection's TLS layer (``src/ssl_sample.c``): ``ssl_fc*``
for the connection, ``ssl_c_*`` for the client certificate.

They read ``Txn.tls`` (a ``TlsView``, None on a plain connection), which the
data path sets once the handshake is done, so HAProxy's "handshake still in
progress" answer (``SMP_F_MAY_CHANGE``) never arises. As in HAProxy, the
boolean ``ssl_fc``, ``ssl_fc_has_sni`` and ``ssl_fc_is_resumed`` answer false
on a plain connection where every other fetch fails; the ``ssl_c_*`` fetches
other than ``ssl_c_used`` and ``ssl_c_verify`` also fail without a client
certificate. A health check has no client connection: ``ssl_fc`` is false there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from herdsman.sample import args as A
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.registry import USE_L5CLI, Compiler, Fn, fetch
from herdsman.sample.txn import TlsView, Txn
from herdsman.sample.types import Value

Read = Callable[[TlsView], Value | None]


def _on_tls(read: Read) -> Callable[[list[Arg], Compiler], Fn]:
    """A fetch that fails on a plain connection."""

    def build(args: list[Arg], c: Compiler) -> Fn:
        def fn(txn: Txn) -> Value | None:
            tls = txn.tls
            return read(tls) if tls is not None else None

        return fn

    return build


def _bool(read: Callable[[TlsView], bool]) -> Callable[[list[Arg], Compiler], Fn]:
    """A boolean fetch: false on a plain connection."""

    def build(args: list[Arg], c: Compiler) -> Fn:
        def fn(txn: Txn) -> Value | None:
            tls = txn.tls
            return tls is not None and read(tls)

        return fn

    return build


def _nonzero(value: int) -> int | None:
    return value or None  # SSL_get_cipher_bits() of 0 fails the fetch


fetch("ssl_fc", T.BOOL, USE_L5CLI)(_bool(lambda tls: True))
fetch("ssl_fc_has_sni", T.BOOL, USE_L5CLI)(_bool(lambda tls: tls.sni() is not None))
fetch("ssl_fc_is_resumed", T.BOOL, USE_L5CLI)(_bool(lambda tls: tls.resumed()))
fetch("ssl_fc_sni", T.STR, USE_L5CLI)(_on_tls(lambda tls: tls.sni()))
fetch("ssl_fc_protocol", T.STR, USE_L5CLI)(_on_tls(lambda tls: tls.protocol()))
fetch("ssl_fc_cipher", T.STR, USE_L5CLI)(_on_tls(lambda tls: tls.cipher()))
fetch("ssl_fc_alpn", T.STR, USE_L5CLI)(_on_tls(lambda tls: tls.alpn()))
fetch("ssl_fc_use_keysize", T.SINT, USE_L5CLI)(_on_tls(lambda tls: _nonzero(tls.keysizes()[0])))
fetch("ssl_fc_alg_keysize", T.SINT, USE_L5CLI)(_on_tls(lambda tls: _nonzero(tls.keysizes()[1])))
fetch("ssl_c_used", T.BOOL, USE_L5CLI)(_on_tls(lambda tls: tls.peer_der() is not None))
fetch("ssl_c_verify", T.SINT, USE_L5CLI)(_on_tls(lambda tls: tls.verify_result()))


def _bin(data: bytes | None) -> T.Bin | None:
    return T.Bin(data) if data is not None else None


fetch("ssl_c_der", T.BIN, USE_L5CLI)(_on_tls(lambda tls: _bin(tls.peer_der())))
fetch("ssl_c_serial", T.BIN, USE_L5CLI)(_on_tls(lambda tls: _bin(tls.peer_serial())))


def _sha1(tls: TlsView) -> T.Bin | None:
    """``X509_digest(EVP_sha1())``: the digest of the certificate's DER."""
    der = tls.peer_der()
    return T.Bin(hashlib.sha1(der).digest()) if der is not None else None


fetch("ssl_c_sha1", T.BIN, USE_L5CLI)(_on_tls(_sha1))

# ARG3(0,STR,SINT,STR): [entry[,occurrence[,format]]]
_DN = ArgSpec((A.STR, A.SINT, A.STR), 0)


def _check_dnfmt(args: list[Arg]) -> str | None:
    """``val_dnfmt()``"""
    if len(args) > 2 and str(args[2]) and str(args[2]) != "rfc2253":
        return "only rfc2253 or a blank value are currently supported as the format argument."
    return None


def _dn_builder(issuer: bool) -> Callable[[list[Arg], Compiler], Fn]:
    def build(args: list[Arg], c: Compiler) -> Fn:
        entry = str(args[0]) if args else ""
        pos = int(args[1]) if len(args) > 1 else 1
        rfc2253 = len(args) > 2 and str(args[2]) == "rfc2253"

        def fn(txn: Txn) -> Value | None:
            tls = txn.tls
            return tls.peer_dn(issuer, entry, pos, rfc2253) if tls is not None else None

        return fn

    return build


fetch("ssl_c_s_dn", T.STR, USE_L5CLI, _DN, check=_check_dnfmt)(_dn_builder(False))
fetch("ssl_c_i_dn", T.STR, USE_L5CLI, _DN, check=_check_dnfmt)(_dn_builder(True))
