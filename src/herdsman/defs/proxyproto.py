"""PROXY protocol headers sent by health checks (``src/connection.c make_proxy_line()``).

A check has no client connection behind it, so HAProxy builds the header from
the check connection itself (``conn_send_proxy()`` with no stream): the source
is the check socket's own address and the destination is the server (spec
§4.2).

* v1: ``PROXY TCP4|TCP6 <local-ip> <server-ip> <local-port> <server-port>\\r\\n``;
  ``PROXY UNKNOWN\\r\\n`` unless both addresses are IPv4/IPv6. A mixed pair is
  written as TCP6 with the IPv4 side mapped (``::ffff:a.b.c.d``).
* v2 (server ``send-proxy-v2``): the check connection is locally initiated,
  so a LOCAL command with no address is sent, unless the global
  ``pp2-never-send-local`` is set; then a PROXY command with the same two
  addresses (``make_proxy_line_v2()``).

The TLVs that ``send-proxy-v2-options`` may add are not generated: herdsman
refuses those server options; a stream's header carries the client
connection's network namespace as 2.6 does (``NETNS``). Addresses are Python socket addresses, as
returned by ``getsockname()``/``getpeername()``: ``(host, port)`` for IPv4,
``(host, port, flowinfo, scope_id)`` for IPv6, a path for UNIX sockets.
"""

from __future__ import annotations

import ipaddress
import struct

SockAddr = tuple[str, int] | tuple[str, int, int, int] | str | bytes | None

PP2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_PP2_TYPE_NETNS = 0x30
_PP2_VERSION = 0x20
_PP2_CMD_LOCAL = 0x00
_PP2_CMD_PROXY = 0x01
_PP2_FAM_UNSPEC = 0x00
_PP2_FAM_INET_STREAM = 0x11
_PP2_FAM_INET6_STREAM = 0x21

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip_port(addr: SockAddr) -> tuple[_IP, int] | None:
    """The IP and port of an INET/INET6 socket address, None for anything else."""
    if not isinstance(addr, tuple):
        return None
    host = addr[0].split("%", 1)[0]  # drop an IPv6 zone: inet_ntop() does not print it
    try:
        return ipaddress.ip_address(host), addr[1]
    except ValueError:
        return None


def _v6(ip: _IP) -> ipaddress.IPv6Address:
    """``v4tov6()``: an IPv4 address as ``::ffff:a.b.c.d``."""
    if isinstance(ip, ipaddress.IPv6Address):
        return ip
    return ipaddress.IPv6Address(b"\x00" * 10 + b"\xff\xff" + ip.packed)


def v6_text(ip: ipaddress.IPv6Address) -> str:
    """An IPv6 address as glibc's ``inet_ntop()`` prints it (HAProxy's logs and
    headers, Python's peer names): ``ipaddress``'s compressed form, except that
    a mapped (``::ffff:a.b.c.d``) or compatible (``::a.b.c.d``) IPv4 address ends
    in dotted form, where ``compressed`` would give ``::ffff:7f00:1``."""
    packed = ip.packed
    if packed[:10] == bytes(10) and (
        packed[10:12] == b"\xff\xff"
        or (packed[10:12] == b"\x00\x00" and packed[12:14] != b"\x00\x00")
    ):
        return f"::{'ffff:' if packed[10] else ''}{ipaddress.IPv4Address(packed[12:])}"
    return ip.compressed


def proxy_v1(local: SockAddr, peer: SockAddr) -> bytes:
    """``make_proxy_line_v1()`` for a check connection from ``local`` to ``peer``."""
    src, dst = _ip_port(local), _ip_port(peer)
    if src is None or dst is None:
        return b"PROXY UNKNOWN\r\n"
    (sip, sport), (dip, dport) = src, dst
    if isinstance(sip, ipaddress.IPv4Address) and isinstance(dip, ipaddress.IPv4Address):
        return f"PROXY TCP4 {sip} {dip} {sport} {dport}\r\n".encode("ascii")
    line = f"PROXY TCP6 {v6_text(_v6(sip))} {v6_text(_v6(dip))} {sport} {dport}\r\n"
    return line.encode("ascii")


def proxy_v2(
    local: SockAddr, peer: SockAddr, *, never_send_local: bool = False, netns: str | None = None
) -> bytes:
    """``make_proxy_line_v2()`` for a check connection (LOCAL unless ``never_send_local``);
    ``netns``: the client connection's namespace, sent as a ``NETNS`` TLV after
    the addresses (``remote->proxy_netns``), LOCAL or not."""
    src, dst = _ip_port(local), _ip_port(peer)
    tlv = b""
    if netns:
        name = netns.encode("utf-8", "surrogateescape")
        tlv = bytes((_PP2_TYPE_NETNS,)) + struct.pack("!H", len(name)) + name
    if not never_send_local or src is None or dst is None:
        head = bytes((_PP2_VERSION | _PP2_CMD_LOCAL, _PP2_FAM_UNSPEC)) + struct.pack("!H", len(tlv))
        return PP2_SIGNATURE + head + tlv
    (sip, sport), (dip, dport) = src, dst
    if isinstance(sip, ipaddress.IPv4Address) and isinstance(dip, ipaddress.IPv4Address):
        fam, body = _PP2_FAM_INET_STREAM, sip.packed + dip.packed + struct.pack("!HH", sport, dport)
    else:
        fam = _PP2_FAM_INET6_STREAM
        body = _v6(sip).packed + _v6(dip).packed + struct.pack("!HH", sport, dport)
    body += tlv
    head = bytes((_PP2_VERSION | _PP2_CMD_PROXY, fam)) + struct.pack("!H", len(body))
    return PP2_SIGNATURE + head + body


def proxy_header(
    local: SockAddr, peer: SockAddr, *, v2: bool = False, never_send_local: bool = False
) -> bytes:
    """The header a check sends first when its connect rule asks for one."""
    if v2:
        return proxy_v2(local, peer, never_send_local=never_send_local)
    return proxy_v1(local, peer)
