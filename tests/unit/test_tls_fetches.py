"""The TLS fetches of a client connection (``tls/fetches.py``) after an in-memory
handshake with a client certificate: HAProxy's values and formats."""

from __future__ import annotations

import hashlib
import ssl
import sys
from pathlib import Path

from herdsman.tls.fetches import FETCHES, facts
from herdsman.tls.pem import read_pem

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tlscerts


def _handshake(cert: str | None) -> ssl.SSLObject:
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(tlscerts.path("b.pem"))
    sctx.load_verify_locations(tlscerts.path("ca.pem"))
    sctx.verify_mode = ssl.CERT_OPTIONAL
    sctx.set_alpn_protocols(["h2", "http/1.1"])
    sctx.sni_callback = lambda obj, name, ctx: setattr(obj, "herdsman_sni", name)  # as sni.py
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    cctx.set_alpn_protocols(["http/1.1"])
    if cert:
        cctx.load_cert_chain(cert)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = cctx.wrap_bio(c_in, c_out, server_hostname="b.test")
    server = sctx.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(4):
        for obj, out, peer_in in ((client, c_out, s_in), (server, s_out, c_in)):
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            peer_in.write(out.read())
    return server


def test_with_a_client_certificate() -> None:
    f = facts(_handshake(tlscerts.path("client.pem")))
    got = {name: fetch(f) for name, fetch in FETCHES.items()}
    der = next(d for lbl, d, _ in read_pem(tlscerts.read("client.pem")) if lbl == b"CERTIFICATE")
    assert got == {
        "ssl_fc": True,
        "ssl_fc_sni": "b.test",
        "ssl_fc_protocol": "TLSv1.3",
        "ssl_fc_cipher": "TLS_AES_256_GCM_SHA384",
        "ssl_fc_alpn": "http/1.1",
        "ssl_c_used": True,
        "ssl_c_verify": 0,
        "ssl_c_s_dn": "/CN=client.test",
        "ssl_c_i_dn": "/O=Herdsman/CN=Herdsman Test CA",
        "ssl_c_sha1": hashlib.sha1(der).digest(),
    }


def test_without_certificate_and_without_tls() -> None:
    f = facts(_handshake(None))
    assert FETCHES["ssl_c_used"](f) is False
    assert FETCHES["ssl_c_s_dn"](f) is None
    assert FETCHES["ssl_c_sha1"](f) is None
    plain = facts(None)
    assert FETCHES["ssl_fc"](plain) is False
    assert all(FETCHES[name](plain) is None for name in FETCHES if name != "ssl_fc")
