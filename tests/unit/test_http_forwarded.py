"""option forwardfor / originalto: which line, with which name and address text."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herdsman.http.forwarded import AddrHeaderOption, forwardfor_line, ntop, originalto_line

V4 = ipaddress.IPv4Address("10.1.2.3")


@given(
    st.binary(min_size=16, max_size=16)
    | st.sampled_from(
        [
            bytes(16),
            bytes(15) + b"\x01",
            bytes(10) + b"\xff\xff" + b"\x01\x02\x03\x04",
            bytes(12) + b"\x01\x02\x03\x04",
            b"\x00\x01" + bytes(14),
            bytes(4) + b"\x00\x01" + bytes(10),
        ]
    )
)
def test_ntop_is_glibc_inet_ntop(packed: bytes) -> None:
    addr = ipaddress.IPv6Address(packed)
    assert ntop(addr) == socket.inet_ntop(socket.AF_INET6, packed).encode()


def test_ntop_v4() -> None:
    assert ntop(V4) == b"10.1.2.3"


FF = AddrHeaderOption()


@pytest.mark.parametrize(
    ("fe", "be", "source", "present", "line"),
    [
        (FF, None, V4, frozenset(), b"x-forwarded-for: 10.1.2.3"),
        (None, FF, V4, frozenset(), b"x-forwarded-for: 10.1.2.3"),
        (None, None, V4, frozenset(), None),
        (FF, None, None, frozenset(), None),  # a UNIX socket client
        (
            AddrHeaderOption(b"X-Client"),
            AddrHeaderOption(b"X-Real-IP"),
            V4,
            frozenset(),
            b"x-real-ip: 10.1.2.3",
        ),
        (AddrHeaderOption(b"X-Client"), None, V4, frozenset(), b"x-client: 10.1.2.3"),
        (AddrHeaderOption(if_none=True), None, V4, frozenset({b"x-forwarded-for"}), None),
        (
            AddrHeaderOption(if_none=True),
            None,
            V4,
            frozenset({b"host"}),
            b"x-forwarded-for: 10.1.2.3",
        ),
        # if-none only holds when every side that enables the option says it
        (
            AddrHeaderOption(if_none=True),
            FF,
            V4,
            frozenset({b"x-forwarded-for"}),
            b"x-forwarded-for: 10.1.2.3",
        ),
        (
            AddrHeaderOption(except_net=ipaddress.ip_network("10.0.0.0/8")),
            None,
            V4,
            frozenset(),
            None,
        ),
        (
            FF,
            AddrHeaderOption(except_net=ipaddress.ip_network("10.1.0.0/16")),
            V4,
            frozenset(),
            None,
        ),
        (
            AddrHeaderOption(except_net=ipaddress.ip_network("::/0")),
            None,
            V4,
            frozenset(),
            b"x-forwarded-for: 10.1.2.3",
        ),
        (
            FF,
            None,
            ipaddress.IPv6Address("::ffff:10.1.2.3"),
            frozenset(),
            b"x-forwarded-for: ::ffff:10.1.2.3",
        ),
    ],
)
def test_forwardfor(
    fe: AddrHeaderOption | None,
    be: AddrHeaderOption | None,
    source: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
    present: frozenset[bytes],
    line: bytes | None,
) -> None:
    assert forwardfor_line(fe, be, source, present) == line


def test_originalto() -> None:
    opt = AddrHeaderOption(b"X-Original-To")
    assert originalto_line(opt, None, V4) == b"x-original-to: 10.1.2.3"
    assert originalto_line(None, None, V4) is None
    excepted = AddrHeaderOption(b"X-Original-To", ipaddress.ip_network("10.1.2.0/24"))
    assert originalto_line(opt, excepted, V4) is None
