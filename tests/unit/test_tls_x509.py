"""X.509 fields read from DER (``tls/x509.py``) are those ``openssl x509`` prints,
in HAProxy's formats (``show ssl cert``, ``ssl_c_*_dn``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from herdsman.tls.pem import read_pem
from herdsman.tls.x509 import DerError, dn_oneline, parse_certificate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tlscerts


def _der(name: str) -> bytes:
    return next(d for label, d, _ in read_pem(tlscerts.read(name)) if label == b"CERTIFICATE")


def _openssl(name: str) -> dict[str, str]:
    out = subprocess.run(
        ["openssl", "x509", "-in", tlscerts.path(name), "-noout", "-serial", "-subject",
         "-issuer", "-startdate", "-enddate", "-fingerprint", "-sha1", "-nameopt", "compat"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return dict(line.split("=", 1) for line in out.splitlines())


@pytest.mark.parametrize("name", ["a.pem", "b.pem", "client.pem", "ca.pem"])
def test_fields_are_openssls(name: str) -> None:
    der = _der(name)
    cert = parse_certificate(der)
    want = _openssl(name)
    assert cert.serial_hex == want["serial"]
    assert dn_oneline(cert.subject) == want["subject"]
    assert dn_oneline(cert.issuer) == want["issuer"]
    assert cert.not_before == want["notBefore"]
    assert cert.not_after == want["notAfter"]
    assert cert.sha1.hex().upper() == want["sha1 Fingerprint"].replace(":", "")
    assert cert.der == der


def test_names_key_and_san() -> None:
    """SAN DNS names first, then CNs, are what SNI selection uses; the algorithm
    is ``cert_get_pkey_algo()``'s."""
    b = parse_certificate(_der("b.pem"))
    assert b.sni_names == ("b.test", "*.wild.test", "b.test")
    assert b.san_text == "DNS:b.test, DNS:*.wild.test"
    assert (b.algorithm, b.is_ecdsa) == ("EC256", True)
    a = parse_certificate(_der("a.pem"))
    assert (a.sni_names, a.san_text, a.algorithm) == (("a.test",), "", "RSA2048")


@pytest.mark.parametrize("raw", [b"", b"\x30", b"\x30\x05\x02\x01\x01", b"\x04\x00"])
def test_garbage_is_refused(raw: bytes) -> None:
    with pytest.raises(DerError):
        parse_certificate(raw)
