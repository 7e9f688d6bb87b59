"""The ClientHello fetches (``tls/hello.py``): real ClientHellos from OpenSSL (Python's
``ssl``), fed whole and byte by byte: every prefix answers INCOMPLETE until the
fetch can answer, and then the answer does not change."""

from __future__ import annotations

import ssl

import pytest

from herdsman.tls.hello import INCOMPLETE, hello_type, req_ssl_ver, ssl_hello_sni


def client_hello(sni: str | None, *, tls12: bool = False) -> bytes:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    out = ssl.MemoryBIO()
    obj = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname=sni)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


def _prefixes(data: bytes, fetch: object) -> list[object]:
    return [fetch(data[:n]) for n in range(len(data) + 1)]  # type: ignore[operator]


@pytest.mark.parametrize("tls12", [False, True])
def test_sni_whole_and_byte_by_byte(tls12: bool) -> None:
    hello = client_hello("Example.Test", tls12=tls12)
    assert ssl_hello_sni(hello) == "Example.Test"  # as sent: matching is the rule's
    answers = _prefixes(hello, ssl_hello_sni)
    first = answers.index("Example.Test")
    assert set(answers[:first]) == {INCOMPLETE}
    assert set(answers[first:]) == {"Example.Test"}
    # HAProxy compares the hello's length with what follows the record header
    assert first == len(hello) - 4


def test_no_sni() -> None:
    hello = client_hello(None)
    assert ssl_hello_sni(hello) is None
    assert ssl_hello_sni(hello + b"more") is None


def test_hello_type_and_version() -> None:
    hello = client_hello("a.test")
    assert hello_type(hello) == 1
    assert set(_prefixes(hello, hello_type)[:-1]) == {INCOMPLETE}
    assert req_ssl_ver(hello) == (3 << 16) + 3  # "3.3": TLS 1.3 clients announce TLS 1.2
    assert req_ssl_ver(hello[:11]) is INCOMPLETE


def test_sslv2_hello_version() -> None:
    """The SSLv2 record format, for a hello (msg type 1) only."""
    ciphers, challenge = b"\x01\x00\x80" * 2, b"C" * 16
    body = b"\x01\x03\x01" + len(ciphers).to_bytes(2, "big") + b"\x00\x00" + b"\x00\x10"
    msg = body + ciphers + challenge
    record = bytes([0x80 | (len(msg) >> 8), len(msg) & 0xFF]) + msg
    assert req_ssl_ver(record) == (3 << 16) + 1
    assert req_ssl_ver(record[:-1]) is INCOMPLETE
    assert req_ssl_ver(record[:2] + b"\x02" + record[3:]) is None  # not a hello


@pytest.mark.parametrize(
    "data", [b"GET / HTTP/1.1\r\n\r\n", b"\x16\x02\x00\x00\x10\x01\x00\x00\x0c", b"SSH-2.0-x\r\n"]
)
def test_not_tls(data: bytes) -> None:
    assert ssl_hello_sni(data) is None
    assert hello_type(data) is None


def test_a_short_record_header_waits() -> None:
    """``req.ssl_hello_type`` wants 9 bytes before it looks at the version."""
    assert hello_type(b"\x16\x02\x00") is INCOMPLETE
    assert ssl_hello_sni(b"\x16\x02\x00") is None


def test_empty_waits() -> None:
    assert ssl_hello_sni(b"") is INCOMPLETE
    assert hello_type(b"") is INCOMPLETE
    assert req_ssl_ver(b"") is INCOMPLETE
