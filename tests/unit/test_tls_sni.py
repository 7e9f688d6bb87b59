"""Which certificate a client gets (``tls/sni.py``, ``ssl_sock_switchctx_cbk()`` of
2.6), over in-memory handshakes: exact names, then wildcards, crt-list filters
and exclusions, the default certificate, strict-sni, a replaced file."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path

import pytest

from herdsman.config.diag import Diagnostics
from herdsman.config.model import Config
from herdsman.config.parser import parse_text
from herdsman.tls.pem import load_ckch_file
from herdsman.tls.sni import BindTls
from herdsman.tls.x509 import parse_certificate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tlscerts


def bind_tls(tmp_path: Path, crts: str, extra: str = "") -> tuple[BindTls, Config]:
    text = (
        "defaults\n    mode tcp\n    timeout client 1s\n    timeout server 1s\n"
        "    timeout connect 1s\n"
        f"listen L\n    bind 127.0.0.1:1 ssl {crts} {extra}\n    server s 127.0.0.1:9\n"
    )
    diag = Diagnostics()
    config = parse_text(text, diag)
    assert config is not None, diag.texts()
    tb = config.proxies[0].binds[0].tls
    assert tb is not None
    return BindTls(tb, config.global_.tls, config.certs), config


def served(state: BindTls, sni: str | None, *, ecdsa: bool = True) -> str:
    """The CN of the certificate a client gets, or the alert's reason."""
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    if not ecdsa:
        cctx.maximum_version = ssl.TLSVersion.TLSv1_2
        cctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = cctx.wrap_bio(c_in, c_out, server_hostname=sni)
    server = state.initial.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(6):
        for obj, out, peer_in in ((client, c_out, s_in), (server, s_out, c_in)):
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                peer_in.write(out.read())
                try:
                    client.do_handshake()
                except ssl.SSLError as seen:
                    return str(seen.reason)
                return str(exc.reason)
            peer_in.write(out.read())
    der = client.getpeercert(binary_form=True)
    assert der is not None
    return parse_certificate(der).common_names[0]


@pytest.mark.parametrize(
    ("sni", "cn"),
    [
        ("a.test", "a.test"),
        ("A.Test", "a.test"),
        ("c.test", "c.test"),
        ("b.test", "b.test"),
        ("x.wild.test", "b.test"),
        ("y.x.wild.test", "a.test"),  # a wildcard stands for one label
        ("nope.test", "a.test"),
        (None, "a.test"),
    ],
)
def test_names_then_default(tmp_path: Path, sni: str | None, cn: str) -> None:
    crts = " ".join(f"crt {tlscerts.path(n)}" for n in ("a.pem", "b.pem", "c.pem"))
    assert served(bind_tls(tmp_path, crts)[0], sni) == cn


def test_crt_list_filters_and_exclusions(tmp_path: Path) -> None:
    lst = tmp_path / "l.lst"
    lst.write_text(
        f"{tlscerts.path('c.pem')} [alpn h2] one.test *.multi.test !no.multi.test\n"
        f"{tlscerts.path('b.pem')}\n"
        f"{tlscerts.path('a.pem')} *.multi.test\n"
    )
    state, _ = bind_tls(tmp_path, f"crt-list {lst}")
    assert served(state, "one.test") == "c.test"
    assert served(state, "x.multi.test") == "c.test"  # the first line wins
    assert served(state, "no.multi.test") == "a.test"  # excluded by its own line only
    assert served(state, "c.test") == "c.test"  # the default: the first line's certificate
    assert served(state, "b.test") == "b.test"


def test_ecdsa_and_rsa_for_one_name(tmp_path: Path) -> None:
    """Both key types for a name: ECDSA for clients that accept it, else RSA."""
    crts = (
        f"crt {tlscerts.path('a.pem')} crt {tlscerts.path('rsa.pem')} crt {tlscerts.path('ec.pem')}"
    )
    state, _ = bind_tls(tmp_path, crts)
    assert served(state, "both.test") == "both.test"
    assert served(state, "both.test", ecdsa=False) == "both.test"


def test_strict_sni(tmp_path: Path) -> None:
    state, _ = bind_tls(tmp_path, f"crt {tlscerts.path('a.pem')}", "strict-sni")
    assert served(state, "a.test") == "a.test"
    assert served(state, "b.test") == "TLSV1_UNRECOGNIZED_NAME"
    assert served(state, None) == "TLSV1_UNRECOGNIZED_NAME"


def test_a_committed_file_is_served(tmp_path: Path) -> None:
    live = tmp_path / "live.pem"
    live.write_bytes(tlscerts.read("a.pem"))
    state, config = bind_tls(tmp_path, f"crt {live}")
    live.write_bytes(tlscerts.read("c.pem"))
    config.certs.pending = (str(live), load_ckch_file(str(live)))
    config.certs.commit()
    assert served(state, None) == "c.test"
