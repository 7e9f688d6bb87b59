"""Certificates made by the tests with ``openssl`` (once per test process).

``certs()`` returns a directory holding:

* ``ca.pem`` (a CA, RSA), ``ca2.pem`` (another CA nobody uses);
* server certificates signed by the CA, each a PEM with certificate and key:
  ``a.pem`` (CN a.test, RSA 2048), ``b.pem`` (CN b.test, SAN b.test and
  ``*.wild.test``, ECDSA P-256), ``c.pem`` (CN c.test, RSA), ``a2.pem`` (a second
  a.test, for ``set ssl cert``), ``ec.pem`` / ``rsa.pem`` (the same name,
  both.test, with either key type);
* ``client.pem`` (a client certificate signed by the CA: cert and key),
  ``rogue.pem`` (a client certificate signed by ``ca2``);
* ``cert-only.pem`` (a.test's certificate without key), ``junk.pem``;
* ``list.lst`` (a crt-list of a.pem and b.pem), ``dh.pem`` (DH parameters).

Tests read ``read(name)`` for bytes and ``path(name)`` for a path.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from pathlib import Path

_OPENSSL = "openssl"


def _run(*args: str, cwd: Path) -> None:
    subprocess.run([_OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _key(cwd: Path, name: str, kind: str) -> None:
    if kind == "ec":
        _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", f"{name}.key", cwd=cwd)  # fmt: skip
    else:
        _run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", f"{name}.key", cwd=cwd)  # fmt: skip


def _signed(cwd: Path, name: str, cn: str, kind: str, ca: str, san: str = "") -> None:
    _key(cwd, name, kind)
    _run("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-out", f"{name}.csr",
         cwd=cwd)  # fmt: skip
    ext = cwd / f"{name}.ext"
    ext.write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
    _run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
         "-CAcreateserial", "-days", "30", "-extfile", ext.name, "-out", f"{name}.crt",
         cwd=cwd)  # fmt: skip
    (cwd / f"{name}.pem").write_bytes(
        (cwd / f"{name}.crt").read_bytes() + (cwd / f"{name}.key").read_bytes()
    )


@functools.cache
def certs() -> Path:
    cwd = Path(tempfile.mkdtemp(prefix="hm-certs-"))
    for ca, cn in (("ca", "Herdsman Test CA"), ("ca2", "Other CA")):
        _key(cwd, ca, "rsa")
        _run("req", "-x509", "-new", "-key", f"{ca}.key", "-subj", f"/O=Herdsman/CN={cn}",
             "-days", "30", "-out", f"{ca}.crt", cwd=cwd)  # fmt: skip
        (cwd / f"{ca}.pem").write_bytes((cwd / f"{ca}.crt").read_bytes())
    _signed(cwd, "a", "a.test", "rsa", "ca")
    _signed(cwd, "a2", "a.test", "rsa", "ca")
    _signed(cwd, "b", "b.test", "ec", "ca", "DNS:b.test,DNS:*.wild.test")
    _signed(cwd, "c", "c.test", "rsa", "ca")
    _signed(cwd, "ec", "both.test", "ec", "ca")
    _signed(cwd, "rsa", "both.test", "rsa", "ca")
    _signed(cwd, "client", "client.test", "rsa", "ca")
    _signed(cwd, "rogue", "client.test", "rsa", "ca2")
    (cwd / "cert-only.pem").write_bytes((cwd / "a.crt").read_bytes())
    (cwd / "junk.pem").write_bytes(b"junk\n")
    (cwd / "list.lst").write_text(f"{cwd / 'a.pem'}\n{cwd / 'b.pem'} [alpn h2] b.test\n")
    _run("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048",
         "-out", "dh.pem", cwd=cwd)  # fmt: skip
    return cwd


def path(name: str) -> str:
    return str(certs() / name)


def read(name: str) -> bytes:
    return (certs() / name).read_bytes()
