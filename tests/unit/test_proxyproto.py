"""PROXY protocol headers of health checks (``defs/proxyproto.py``).

The expected bytes were captured from haproxy 2.6.12 checks (``check-send-proxy``,
``tcp-check connect send-proxy``, ``send-proxy-v2``, ``pp2-never-send-local``).
"""

from __future__ import annotations

from herdsman.defs.proxyproto import PP2_SIGNATURE, proxy_header, proxy_v1, proxy_v2


def test_v1_ipv4() -> None:
    """v1 names the check socket's own address first, then the server."""
    assert proxy_v1(("127.0.0.1", 34990), ("127.0.0.1", 9961)) == (
        b"PROXY TCP4 127.0.0.1 127.0.0.1 34990 9961\r\n"
    )


def test_v1_ipv6() -> None:
    assert (
        proxy_v1(("::1", 47662, 0, 0), ("::1", 9965, 0, 0)) == b"PROXY TCP6 ::1 ::1 47662 9965\r\n"
    )


def test_v1_mixed_families_map_ipv4() -> None:
    """make_proxy_line_v1(): one IPv6 side makes it TCP6, the IPv4 side mapped."""
    assert proxy_v1(("10.0.0.1", 1000), ("2001:db8::1", 80, 0, 0)) == (
        b"PROXY TCP6 ::ffff:10.0.0.1 2001:db8::1 1000 80\r\n"
    )


def test_v1_zone_is_not_printed() -> None:
    assert proxy_v1(("fe80::1%lo", 1, 0, 1), ("fe80::2%lo", 2, 0, 1)) == (
        b"PROXY TCP6 fe80::1 fe80::2 1 2\r\n"
    )


def test_v1_unknown() -> None:
    """Anything but IPv4/IPv6 on both sides is PROXY UNKNOWN (UNIX sockets)."""
    assert proxy_v1("/tmp/sock", "/tmp/sock") == b"PROXY UNKNOWN\r\n"
    assert proxy_v1(None, ("127.0.0.1", 80)) == b"PROXY UNKNOWN\r\n"
    assert proxy_v1(b"\0abstract", b"") == b"PROXY UNKNOWN\r\n"


def test_v2_local_by_default() -> None:
    """A check connection is locally initiated: LOCAL, no address."""
    assert proxy_v2(("127.0.0.1", 1), ("127.0.0.1", 2)) == (b"\r\n\r\n\x00\r\nQUIT\n \x00\x00\x00")


def test_v2_proxy_with_never_send_local() -> None:
    header = proxy_v2(("127.0.0.1", 33702), ("127.0.0.1", 9962), never_send_local=True)
    assert header == (PP2_SIGNATURE + b"!\x11\x00\x0c\x7f\x00\x00\x01\x7f\x00\x00\x01\x83\xa6&\xea")


def test_v2_ipv6_and_unknown() -> None:
    header = proxy_v2(("::1", 1, 0, 0), ("127.0.0.1", 2), never_send_local=True)
    assert header[12:16] == b"\x21\x21\x00\x24"  # PROXY, INET6 stream, 36 bytes
    assert header[16:32] == b"\x00" * 15 + b"\x01"
    assert header[32:48] == b"\x00" * 10 + b"\xff\xff\x7f\x00\x00\x01"
    assert header[48:] == b"\x00\x01\x00\x02"
    assert proxy_v2("/a", "/b", never_send_local=True) == PP2_SIGNATURE + b" \x00\x00\x00"


def test_dispatch() -> None:
    local, peer = ("127.0.0.1", 1), ("127.0.0.1", 2)
    assert proxy_header(local, peer) == proxy_v1(local, peer)
    assert proxy_header(local, peer, v2=True) == proxy_v2(local, peer)


def test_v2_netns_tlv_after_the_addresses() -> None:
    """``remote->proxy_netns`` goes as a NETNS (0x30) TLV, LOCAL or PROXY; the
    length covers it (the bytes 2.6.12 sent in tests/e2e/test_netns.py)."""
    got = proxy_v2(("9.9.9.9", 1234), ("8.8.8.8", 80), never_send_local=True, netns="ns1")
    assert got == (
        PP2_SIGNATURE
        + b"\x21\x11\x00\x12"
        + bytes((9, 9, 9, 9, 8, 8, 8, 8))
        + b"\x04\xd2\x00\x50"
        + b"\x30\x00\x03ns1"
    )
    assert (
        proxy_v2("/sock", None, netns="ns1") == PP2_SIGNATURE + b"\x20\x00\x00\x06\x30\x00\x03ns1"
    )
    assert proxy_v2("/sock", None) == PP2_SIGNATURE + b"\x20\x00\x00\x00"
