"""The TLS fetches of a client connection (``sample/f_ssl.py`` over
``tls/fetches.py``'s ``ClientTls``) after an in-memory handshake, with and
without a client certificate: HAProxy's values, types and formats."""

from __future__ import annotations

import hashlib
import re
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from herdsman.sample import types as T
from herdsman.sample.acl import AclContext
from herdsman.sample.cond import parse_condition
from herdsman.sample.expr import parse_standalone
from herdsman.sample.registry import FETCHES, Compiler
from herdsman.sample.txn import Txn
from herdsman.sample.types import Bin
from herdsman.tls.fetches import ClientTls
from herdsman.tls.x509 import dn_entry, dn_rfc2253

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tlscerts


def _handshake(cert: str | None, tls12: bool = False) -> ssl.SSLObject:
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
    if tls12:
        cctx.maximum_version = ssl.TLSVersion.TLSv1_2
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


def _serial(path: str) -> str:
    """The serial number as ``openssl x509 -serial`` prints it (hexadecimal)."""
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-serial", "-in", path], capture_output=True, check=True
    )
    return out.stdout.decode().strip().removeprefix("serial=")


def _txn(obj: ssl.SSLObject | None) -> Txn:
    txn = Txn()
    txn.tls = ClientTls(obj) if obj is not None else None
    return txn


def fetch(txn: Txn, text: str) -> object:
    return parse_standalone(text).one(txn)


def test_with_a_client_certificate() -> None:
    txn = _txn(_handshake(tlscerts.path("client.pem")))
    der = ssl.PEM_cert_to_DER_cert(tlscerts.read("client.crt").decode())
    expected = {
        "ssl_fc": True,
        "ssl_fc_has_sni": True,
        "ssl_fc_is_resumed": False,
        "ssl_fc_sni": b"b.test",
        "ssl_fc_protocol": b"TLSv1.3",
        "ssl_fc_cipher": b"TLS_AES_256_GCM_SHA384",
        "ssl_fc_alpn": b"http/1.1",
        "ssl_fc_use_keysize": 256,
        "ssl_fc_alg_keysize": 256,
        "ssl_c_used": True,
        "ssl_c_verify": 0,
        "ssl_c_s_dn": b"/CN=client.test",
        "ssl_c_i_dn": b"/O=Herdsman/CN=Herdsman Test CA",
        "ssl_c_sha1": Bin(hashlib.sha1(der).digest()),
        "ssl_c_der": Bin(der),
        "ssl_c_serial": Bin(bytes.fromhex(_serial(tlscerts.path("client.crt")))),
    }
    assert {name: fetch(txn, name) for name in expected} == expected
    assert type(fetch(txn, "ssl_c_sha1")) is Bin


def test_distinguished_name_arguments() -> None:
    """``ssl_c_i_dn([entry[,occurrence[,format]]])``: one entry (any case; a
    negative occurrence counts from the end), else RFC 2253's form."""
    txn = _txn(_handshake(tlscerts.path("client.pem")))
    assert fetch(txn, "ssl_c_i_dn(CN)") == b"Herdsman Test CA"
    assert fetch(txn, "ssl_c_i_dn(o)") == b"Herdsman"
    assert fetch(txn, "ssl_c_i_dn(O,-1)") == b"Herdsman"
    assert fetch(txn, "ssl_c_i_dn(O,2)") is None
    assert fetch(txn, "ssl_c_i_dn(OU)") is None
    assert fetch(txn, "ssl_c_i_dn(,0,rfc2253)") == b"CN=Herdsman Test CA,O=Herdsman"
    assert fetch(txn, "ssl_c_s_dn(CN,1,rfc2253)") == b"client.test"  # the entry wins


def test_tls12_cipher_names_are_openssl_s() -> None:
    txn = _txn(_handshake(None, tls12=True))
    assert fetch(txn, "ssl_fc_protocol") == b"TLSv1.2"
    assert fetch(txn, "ssl_fc_cipher") == b"ECDHE-ECDSA-AES256-GCM-SHA384"


def test_without_certificate_and_without_tls() -> None:
    txn = _txn(_handshake(None))
    assert fetch(txn, "ssl_c_used") is False
    assert fetch(txn, "ssl_c_verify") == 0
    for name in ("ssl_c_s_dn", "ssl_c_i_dn", "ssl_c_sha1", "ssl_c_serial", "ssl_c_der"):
        assert fetch(txn, name) is None, name
    plain = _txn(None)
    for name in ("ssl_fc", "ssl_fc_has_sni", "ssl_fc_is_resumed"):
        assert fetch(plain, name) is False  # answered on a plain connection
    for name in ("ssl_fc_sni", "ssl_fc_protocol", "ssl_c_used", "ssl_c_verify", "ssl_c_s_dn"):
        assert fetch(plain, name) is None, name


def test_names_in_rfc2253_form_and_by_entry() -> None:
    """``X509_NAME_print_ex(XN_FLAG_RFC2253)``: last attribute first, RFC 2253's
    specials escaped, control and non-ASCII bytes in hex; ``ssl_sock_get_dn_entry()``."""
    name = (
        ("2.5.4.6", b"FR"),
        ("2.5.4.10", b"Herd, Inc."),
        ("2.5.4.11", b"#lab "),
        ("2.5.4.11", b"a+b=c"),
        ("2.5.4.3", "r\u00e9my <x>;\x01".encode()),
        ("1.2.3.4", b"x"),
    )
    assert dn_rfc2253(name) == (
        "1.2.3.4=x,CN=r\\C3\\A9my \\<x\\>\\;\\01,OU=a\\+b=c,OU=\\#lab\\ ,O=Herd\\, Inc.,C=FR"
    )
    assert dn_entry(name, "ou", 1) == b"#lab "
    assert dn_entry(name, "OU", 2) == b"a+b=c"
    assert dn_entry(name, "OU", -1) == b"a+b=c"
    assert dn_entry(name, "OU", -2) == b"#lab "
    assert dn_entry(name, "OU", 3) is None
    assert dn_entry(name, "OU", 0) is None
    assert dn_entry(name, "1.2.3.4", 1) == b"x"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["ssl_fc"], True),
        (["ssl_fc_sni", "-i", "B.TEST"], True),
        (["ssl_fc_sni_end", ".test"], True),
        (["ssl_fc_sni_reg", "^b\\."], True),
        (["ssl_fc_protocol", "TLSv1.2"], False),
        (["ssl_c_used"], True),
        (["ssl_c_verify", "0"], True),
        (["ssl_c_s_dn(CN)", "-m", "beg", "client"], True),
        (["ssl_fc_use_keysize", "ge", "128"], True),
    ],
)
def test_in_acls(words: list[str], expected: bool) -> None:
    """The fetches in ACLs, and the ACL keywords derived from them."""
    cond = parse_condition(["if", "{", *words, "}"], {}, AclContext(Compiler()))
    assert cond.run(_txn(_handshake(tlscerts.path("client.pem")))) is expected
    assert cond.run(_txn(None)) is False


@pytest.mark.haproxy
def test_types_and_arguments_are_haproxy_s() -> None:
    """Each ``ssl_*``/``req.ssl_*`` fetch herdsman has: the argument mask and the
    output type ``haproxy -dKsmp`` prints."""
    out = subprocess.run(
        ["haproxy", "-dKsmp", "-q", "-c", "-f", "/dev/null"], capture_output=True, check=False
    )
    lines = re.findall(r"^\[[ .Y]+\] ([^:(]+)(\([^)]*\))?: (\w+)$", out.stdout.decode(), re.M)
    dump = {name: (sig, out_type) for name, sig, out_type in lines}
    mine = {
        name: (kw.spec.signature(), T.NAMES[kw.out])
        for name, kw in FETCHES.items()
        if name.startswith(("ssl_", "req.ssl", "req_ssl"))
    }
    assert len(mine) == 22
    assert {name: dump.get(name) for name in mine} == mine
