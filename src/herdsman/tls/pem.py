"""Certificate files as HAProxy 2.6 reads them (``ssl_ckch.c``): a "ckch" is a
certificate, its private key and its chain, with the messages 2.6 prints when a
file is missing or cannot be used.

``ssl_sock_load_pem_into_ckch()``: the key is the first private key anywhere in
the file, the certificate the first certificate, the chain every certificate
after it, DH parameters the first "DH PARAMETERS" block. Without a key in the
file, ``<path>.key`` is read (``ssl-load-extra-files`` defaults to all; a
``.crt`` extension is kept, as ``ssl-load-extra-del-ext`` is off). The key must
match the certificate.

Python's ``ssl`` loads keys and certificates from files only, so a ckch is also
kept as one normalised PEM text (certificate, chain, key) that ``load_into()``
hands to OpenSSL through an anonymous memory file: the same bytes serve the
configuration, the data path and ``set ssl cert`` payloads.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import ssl
from dataclasses import dataclass

from herdsman.tls.x509 import Certificate, DerError, parse_certificate

__all__ = [
    "Ckch",
    "CkchError",
    "load_ckch_file",
    "load_ckch_pem",
    "load_dh",
    "load_into",
    "read_pem",
]

_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_CERT_LABELS = (b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE")
_KEY_LABELS = (b"PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY", b"DSA PRIVATE KEY")
_DH_LABEL = b"DH PARAMETERS"


class CkchError(Exception):
    """A certificate that cannot be used; the text is HAProxy's (ending in a newline)."""


@dataclass(frozen=True, slots=True)
class Ckch:
    """``struct cert_key_and_chain`` of one file (or one ``set ssl cert`` payload)."""

    cert: Certificate
    chain: tuple[Certificate, ...]
    key_pem: bytes
    dh_pem: bytes | None

    @property
    def pem(self) -> bytes:
        """What OpenSSL loads: the certificate, the chain, then the key."""
        parts = [_armor(b"CERTIFICATE", self.cert.der)]
        parts += [_armor(b"CERTIFICATE", c.der) for c in self.chain]
        parts.append(self.key_pem)
        return b"".join(parts)


def _armor(label: bytes, der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        b"-----BEGIN "
        + label
        + b"-----\n"
        + b"\n".join(lines)
        + b"\n-----END "
        + label
        + b"-----\n"
    )


def read_pem(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """The PEM blocks of ``data``: (label, DER, the block's text)."""
    out = []
    for m in _BLOCK.finditer(data):
        body = m.group(2)
        if b":" in body.split(b"\n", 1)[0]:  # RFC 1421 headers: an encrypted legacy key
            continue
        try:
            der = base64.b64decode(b"".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        out.append((m.group(1), der, m.group(0) + b"\n"))
    return out


def _parse_blocks(
    data: bytes,
) -> tuple[Certificate | None, list[Certificate], bytes | None, bytes | None, bool]:
    """(certificate, chain, key PEM, DH PEM, chain error) of a PEM text."""
    cert: Certificate | None = None
    chain: list[Certificate] = []
    key = dh = None
    for label, der, text in read_pem(data):
        if label in _KEY_LABELS and key is None:
            key = text
        elif label == _DH_LABEL and dh is None:
            dh = text
        elif label in _CERT_LABELS:
            try:
                parsed = parse_certificate(der)
            except DerError:
                return cert, chain, key, dh, cert is not None
            if cert is None:
                cert = parsed
            else:
                chain.append(parsed)
    return cert, chain, key, dh, False


def load_ckch_pem(data: bytes, path: str, *, key_file: bool = True) -> Ckch:
    """A ckch from a PEM text read from ``path`` (or given for it); CkchError
    with 2.6's message. ``key_file``: look for ``<path>.key`` without a key
    (a ``set ssl cert`` payload may come without: its key is then empty)."""
    cert, chain, key, dh, chain_error = _parse_blocks(data)
    if cert is None:
        raise CkchError(f"unable to load certificate from file '{path}'.\n")
    if chain_error:
        raise CkchError(f"unable to load certificate chain from file '{path}'.\n")
    if key is None and not key_file:
        return Ckch(cert, tuple(chain), b"", dh)
    if key is None:
        key_path = path + ".key"
        if os.path.exists(key_path):
            try:
                with open(key_path, "rb") as f:
                    key = next((t for lbl, _d, t in read_pem(f.read()) if lbl in _KEY_LABELS), None)
            except OSError:
                key = None
            if key is None:
                raise CkchError(
                    f"unable to load private key from file '{key_path}'.\n"
                    f" '{key_path}' is present but cannot be read or parsed'.\n"
                )
        if key is None:
            raise CkchError(f"No Private Key found in '{key_path}'.\n")
    ckch = Ckch(cert, tuple(chain), key, dh)
    check_key(ckch, path)
    return ckch


def check_key(ckch: Ckch, path: str) -> None:
    """``X509_check_private_key()``: the key must be the certificate's."""
    try:
        load_into(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), ckch)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise CkchError(
                f"inconsistencies between private key and certificate loaded '{path}'.\n"
            ) from None
        raise CkchError(f"unable to load certificate from file '{path}'.\n") from None


def load_ckch_file(path: str) -> Ckch:
    """``ssl_sock_load_files_into_ckch()`` for an existing file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        raise CkchError(f"cannot open the file '{path}'.\n") from None
    return load_ckch_pem(data, path)


def load_into(ctx: ssl.SSLContext, ckch: Ckch) -> None:
    """Load a ckch into a context (several keys of different types may share one:
    OpenSSL keeps one certificate per key type and picks by the client's algorithms)."""
    fd = os.memfd_create("herdsman-ckch", os.MFD_CLOEXEC)
    try:
        os.write(fd, ckch.pem)
        ctx.load_cert_chain(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def load_dh(ctx: ssl.SSLContext, pem: bytes) -> None:
    """Load DH parameters from PEM bytes through a memory file."""
    fd = os.memfd_create("herdsman-dh", os.MFD_CLOEXEC)
    try:
        os.write(fd, pem)
        ctx.load_dh_params(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)
