"""The PROXY header a listener reads (defs/proxyrecv.py), without sockets. The
verdicts marked "binary" were observed on haproxy 2.6.12
(tests/integration/test_proxy_protocol_vs_haproxy.py compares them live)."""

from __future__ import annotations

import ipaddress
import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herdsman.defs import proxyrecv as pr
from herdsman.defs.proxyproto import PP2_SIGNATURE, proxy_v1, proxy_v2, v6_text
from herdsman.sample.hash import hash_crc32c

INET = bytes((9, 9, 9, 9, 8, 8, 8, 8)) + struct.pack("!HH", 1234, 80)


def v2(cmd: int, fam: int, body: bytes) -> bytes:
    return PP2_SIGNATURE + bytes((cmd, fam)) + struct.pack("!H", len(body)) + body


def crc_tlv(head_body: bytes, good: bool = True) -> bytes:
    """A v2 PROXY/TCP4 header whose last TLV is a CRC32C of the whole header."""
    raw = v2(0x21, 0x11, head_body + b"\x03\x00\x04" + bytes(4))
    crc = hash_crc32c(raw) ^ (0 if good else 1)
    return raw[:-4] + crc.to_bytes(4)


ACCEPTED = [
    # binary: all these keep the payload after them for the stream
    (b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n", ("1.2.3.4", 1111), ("5.6.7.8", 2222)),
    (b"PROXY TCP4 1.2.3 5.6.7.8 1111 2222\r\n", ("1.2.3.0", 1111), ("5.6.7.8", 2222)),
    (b"PROXY TCP4 300.2.3.4 5.6.7.8 70000 2222\r\n", ("44.2.3.4", 4464), ("5.6.7.8", 2222)),
    # a group is worth its last three digits, carried into the next byte: 567 = 2*256 + 55
    (b"PROXY TCP4 1.2.3.4567 5.6.7.8 1 2\r\n", ("1.2.5.55", 1), ("5.6.7.8", 2)),
    (
        b"PROXY TCP6 ::1 ::ffff:1.2.3.4 1111 2222 \r\n",
        ("::1", 1111, 0, 0),
        ("::ffff:1.2.3.4", 2222, 0, 0),
    ),
    (b"PROXY TCP6 ::1 ::2 1 2 3\r\n", ("::1", 1, 0, 0), ("::2", 2, 0, 0)),
    (b"PROXY UNKNOWN\r\n", None, None),
    (v2(0x20, 0x00, b""), None, None),
    (v2(0x20, 0x99, b"anything"), None, None),
    (v2(0x21, 0x11, INET), ("9.9.9.9", 1234), ("8.8.8.8", 80)),
    (v2(0x21, 0x11, INET + b"\x04\x00\x02\x00\x00"), ("9.9.9.9", 1234), ("8.8.8.8", 80)),
    (crc_tlv(INET), ("9.9.9.9", 1234), ("8.8.8.8", 80)),
    (
        v2(0x21, 0x21, bytes(15) + b"\x01" + bytes(10) + b"\xff\xff\x07\x07\x07\x07" + bytes(4)),
        ("::1", 0, 0, 0),
        ("::ffff:7.7.7.7", 0, 0, 0),
    ),
]

REFUSED = [
    (b"PROXY UNKNOWN foo bar\r\n", pr.BAD_PROTO, None),  # binary
    (b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", pr.BAD_PROTO, None),  # binary
    (b"PROXY TCP4 1.2.3.4 5.6.7.8 1x 2\r\n", pr.BAD_HDR, None),
    (b"PROXY TCP4 a.b.c.d 5.6.7.8 1 2\r\n", pr.BAD_HDR, None),
    (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\n", pr.BAD_HDR, None),
    (b"PROXY TCP6 ::1 ::2 1\r\n", pr.BAD_HDR, None),
    (b"PROXY TCP6 1.2.3.4 ::2 1 2\r\n", pr.BAD_HDR, None),
    (b"PROXY TCP6 ::1 ::2 1x 2\r\n", pr.BAD_HDR, None),
    (b"PROXY TCP6 ::1 ::2 1 2\rx", pr.BAD_HDR, None),
    (b"GET / HTTP/1.0\r\n\r\n", pr.NOT_HDR, None),  # binary
    (v2(0x11, 0x11, INET), pr.NOT_HDR, None),  # binary: version 1
    (v2(0x21, 0x00, b""), pr.BAD_HDR, None),  # binary: AF_UNSPEC under PROXY
    (v2(0x21, 0x00, bytes(12)), pr.BAD_HDR, None),  # binary
    (v2(0x21, 0x12, INET), pr.BAD_HDR, None),  # binary: UDP
    (v2(0x22, 0x11, INET), pr.BAD_HDR, None),  # binary: command 2
    (v2(0x21, 0x11, INET[:11]), pr.BAD_HDR, None),
    (v2(0x21, 0x11, INET + b"\x04\x00\x02\x00"), pr.BAD_HDR, ("9.9.9.9", 1234)),  # binary
    (v2(0x21, 0x11, INET + b"\x04\x00"), pr.BAD_HDR, ("9.9.9.9", 1234)),
    (crc_tlv(INET, good=False), pr.BAD_HDR, ("9.9.9.9", 1234)),
    (v2(0x21, 0x11, INET + b"\x03\x00\x03abc"), pr.BAD_HDR, ("9.9.9.9", 1234)),
    (v2(0x21, 0x11, INET + b"\x02\x01\x00" + bytes(256)), pr.BAD_HDR, ("9.9.9.9", 1234)),
    (v2(0x21, 0x11, INET + b"\x05\x00\x81" + bytes(129)), pr.BAD_HDR, ("9.9.9.9", 1234)),
]


@pytest.mark.parametrize(("data", "src", "dst"), ACCEPTED)
def test_accepted_whole_and_every_prefix_incomplete(data: bytes, src: object, dst: object) -> None:
    """The header alone or followed by data; any proper prefix of it waits."""
    assert pr.read_header(data) == pr.Header(len(data), src, dst)  # type: ignore[arg-type]
    assert pr.read_header(data + b"GET / HTTP/1.0\r\n") == pr.Header(len(data), src, dst)  # type: ignore[arg-type]
    for n in range(len(data)):
        assert pr.read_header(data[:n]) is pr.INCOMPLETE, data[:n]


def test_authority_and_unique_id_tlvs() -> None:
    """The last AUTHORITY (0x02) and UNIQUE_ID (0x05) values, an empty one found;
    other TLVs (NETNS 0x30, NOOP 0x04) skipped; at their limits (255, 128) kept."""
    tlvs = b"\x02\x00\x01a\x30\x00\x02ns\x05\x00\x00\x04\x00\x00\x02\x00\x02bc"
    got = pr.read_header(v2(0x21, 0x11, INET + tlvs))
    assert isinstance(got, pr.Header)
    assert (got.authority, got.unique_id) == (b"bc", b"")
    full = b"\x02\x00\xff" + b"a" * 255 + b"\x05\x00\x80" + b"u" * 128
    got = pr.read_header(v2(0x21, 0x11, INET + full))
    assert isinstance(got, pr.Header)
    assert (got.authority, got.unique_id) == (b"a" * 255, b"u" * 128)
    got = pr.read_header(v2(0x21, 0x11, INET))
    assert isinstance(got, pr.Header)
    assert (got.authority, got.unique_id, got.netns) == (None, None, ())
    assert got == pr.read_header(v2(0x21, 0x11, INET))


def test_netns_tlvs_in_order() -> None:
    """Every NETNS (0x30) name, in order: which one counts depends on the
    configuration's namespaces (proxy/connect.py proxy_netns())."""
    got = pr.read_header(v2(0x21, 0x11, INET + b"\x30\x00\x01a\x30\x00\x02bc"))
    assert isinstance(got, pr.Header)
    assert got.netns == (b"a", b"bc")


@pytest.mark.parametrize(("data", "reason", "src"), REFUSED)
def test_refused(data: bytes, reason: str, src: object) -> None:
    assert pr.read_header(data) == pr.Refused(reason, src)  # type: ignore[arg-type]


def test_too_short_to_tell() -> None:
    """2.6 needs 16 bytes for a v2 signature: fewer of anything else is truncated
    (binary: "hello\\n" is a truncated header, not "not a header")."""
    assert pr.read_header(b"hello\n") is pr.INCOMPLETE


@pytest.mark.parametrize(
    ("local", "peer"),
    [
        (("10.0.0.1", 1000), ("10.0.0.2", 80)),
        (("2001:db8::1", 1000, 0, 0), ("::ffff:10.0.0.2", 443, 0, 0)),
    ],
)
def test_reads_what_send_proxy_writes(local: tuple[str, int], peer: tuple[str, int]) -> None:
    """What herdsman's own send-proxy/send-proxy-v2 sends, it reads back."""
    line = proxy_v1(local, peer)
    assert pr.read_header(line) == pr.Header(
        len(line), _pad(local) if ":" in local[0] else local, _pad(peer) if ":" in peer[0] else peer
    )
    head = proxy_v2(local, peer, never_send_local=True)
    got = pr.read_header(head)
    assert isinstance(got, pr.Header)
    assert got.size == len(head)


def _pad(addr: tuple[str, int]) -> tuple[str, int, int, int]:
    return (addr[0], addr[1], 0, 0)


@given(st.binary(min_size=16, max_size=16))
def test_ipv6_text_is_inet_ntop(packed: bytes) -> None:
    assert v6_text(ipaddress.IPv6Address(packed)) == socket.inet_ntop(socket.AF_INET6, packed)


@given(st.binary(max_size=80))
def test_any_bytes_get_a_verdict(data: bytes) -> None:
    got = pr.read_header(b"PROXY " + data)
    assert got is pr.INCOMPLETE or isinstance(got, pr.Header | pr.Refused)
    got = pr.read_header(PP2_SIGNATURE + data)
    assert got is pr.INCOMPLETE or isinstance(got, pr.Header | pr.Refused)
