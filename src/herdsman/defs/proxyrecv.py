"""The PROXY protocol header a listener receives (``bind ... accept-proxy``,
``tcp-request connection expect-proxy layer4``), as HAProxy 2.6 reads it
(``src/connection.c conn_recv_proxy()``, ``doc/proxy-protocol.txt``).

``read_header(data)`` is one pure function over the bytes received so far:
``INCOMPLETE`` while they are a proper prefix of a header, else a ``Header``
(its length and the addresses it gives) or a ``Refused`` (HAProxy's error
text). HAProxy peeks at the socket once (``MSG_PEEK``) and cannot wait for
more once it has read anything, so the caller turns ``INCOMPLETE`` after the
first read into "Truncated PROXY protocol header received".

2.6's parser, quirks included, since they decide what is accepted:

* v1 ``TCP4``: each address is read by ``inetaddr_host_lim_ret()``: up to four
  dot-separated groups of digits, each worth its last three digits, summed
  into 32 bits without range checks (``300.2.3.4`` is ``44.2.3.4``, ``1.2.3``
  is ``1.2.3.0``); ports are ``read_uint()`` modulo 2^16.
* v1 ``TCP6``: the line up to its CR is split at spaces (extra fields after the
  destination port, and trailing spaces, are ignored); addresses go through
  ``inet_pton()``. ``UNKNOWN\\r\\n`` keeps the connection's own addresses; any
  other word is an unhandled protocol.
* v2: ``LOCAL`` keeps the connection's addresses and skips the rest; ``PROXY``
  with TCP over IPv4 or IPv6 takes the addresses, then walks the TLVs
  (skipped, except that ``CRC32C`` must match and ``AUTHORITY`` and
  ``UNIQUE_ID`` must fit 255 and 128 bytes; those and ``NETNS`` are kept). With any other family the TLV walk
  starts at offset 0, on the signature itself, which never fits: 2.6 refuses
  ``AF_UNSPEC``, UDP and UNIX addresses under ``PROXY`` as invalid headers
  (checked against the 2.6.12 binary).
* The addresses are set before the TLV walk, so a header refused for a TLV
  still gave its addresses (HAProxy's error log line shows them).

Addresses are Python socket addresses: ``(host, port)`` for IPv4,
``(host, port, 0, 0)`` for IPv6, hosts printed as ``inet_ntop()`` prints them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final

from herdsman.defs.proxyproto import PP2_SIGNATURE, v6_text
from herdsman.sample.hash import hash_crc32c

__all__ = [
    "INCOMPLETE",
    "HEADER_INFO",
    "Header",
    "Refused",
    "read_header",
    "EMPTY",
    "ABORT",
    "TIMEOUT",
    "TRUNCATED",
    "NOT_HDR",
    "BAD_HDR",
    "BAD_PROTO",
]

# conn_err_code_str(): the texts of the CO_ER_PRX_* codes
EMPTY: Final = "Connection closed while waiting for PROXY protocol header"
ABORT: Final = "Connection error while waiting for PROXY protocol header"
TIMEOUT: Final = "Timeout while waiting for PROXY protocol header"
TRUNCATED: Final = "Truncated PROXY protocol header received"
NOT_HDR: Final = "Received something which does not look like a PROXY protocol header"
BAD_HDR: Final = "Received an invalid PROXY protocol header"
BAD_PROTO: Final = "Received an unhandled protocol in the PROXY protocol header"

Addr = tuple[str, int] | tuple[str, int, int, int]

_PP2_HEADER_LEN = 16
_PP2_ADDR_LEN_INET = 12
_PP2_ADDR_LEN_INET6 = 36
_PP2_TYPE_AUTHORITY = 0x02
_PP2_TYPE_CRC32C = 0x03
_PP2_TYPE_UNIQUE_ID = 0x05
_PP2_TYPE_NETNS = 0x30
_PP2_AUTHORITY_MAX = 255
_UNIQUEID_LEN = 128
_M32 = 0xFFFFFFFF
_SP, _CR, _LF, _DOT = 0x20, 0x0D, 0x0A, 0x2E


@dataclass(frozen=True, slots=True)
class Header:
    """A header accepted: ``size`` bytes to drop; ``src``/``dst`` None keep the
    connection's own addresses (v1 ``UNKNOWN``, v2 ``LOCAL``); the values of a
    v2 ``AUTHORITY`` and ``UNIQUE_ID`` TLV (the last of each; ``fc_pp_authority``,
    ``fc_pp_unique_id``), the names of its ``NETNS`` TLVs (the last that names a
    namespace of the configuration wins: ``proxy/connect.py proxy_netns()``)."""

    size: int
    src: Addr | None = None
    dst: Addr | None = None
    authority: bytes | None = None
    unique_id: bytes | None = None
    netns: tuple[bytes, ...] = ()  # the NETNS TLVs' names, in order


# the key under which a transport handed over after a header shows it (get_extra_info())
HEADER_INFO: Final = "herdsman.proxy_header"


@dataclass(frozen=True, slots=True)
class Refused:
    """The connection must close: ``reason`` is HAProxy's text; ``src`` is the
    client address the header had already given (a v2 header refused for a TLV)."""

    reason: str
    src: Addr | None = None


class _Incomplete:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INCOMPLETE"


INCOMPLETE: Final = _Incomplete()


class _Missing(Exception):
    """The bytes end inside the header (``goto missing``)."""


class _Bad(Exception):
    """``goto bad_header``, with the addresses already set."""

    def __init__(self, src: Addr | None = None) -> None:
        super().__init__()
        self.src = src


def read_header(data: bytes) -> Header | Refused | _Incomplete:
    """What ``conn_recv_proxy()`` makes of ``data``, the first bytes of a connection."""
    try:
        if len(data) < 6:
            raise _Missing
        if data[:6] != b"PROXY ":
            return _v2(data)
        if len(data) < 9:  # the shortest possible line
            raise _Missing
        return _v1(data)
    except _Missing:
        return INCOMPLETE
    except _Bad as bad:
        return Refused(BAD_HDR, bad.src)


# -- v1 -------------------------------------------------------------------------------


def _word(data: bytes, at: int, word: bytes) -> bool:
    """``memcmp()`` of a keyword: a prefix of it at the end of the data may still be it."""
    got = data[at : at + len(word)]
    if got != word[: len(got)]:
        return False
    if len(got) < len(word):
        raise _Missing
    return True


def _v1(data: bytes) -> Header | Refused:
    if _word(data, 6, b"TCP4 "):
        return _tcp4(data)
    if _word(data, 6, b"TCP6 "):
        return _tcp6(data)
    if _word(data, 6, b"UNKNOWN\r\n"):
        return Header(15)  # perhaps a UNIX socket behind another haproxy
    return Refused(BAD_PROTO)


def _inetaddr(data: bytes, p: int) -> tuple[str, int]:
    """``inetaddr_host_lim_ret()``: (dotted address, where reading stopped)."""
    end = len(data)
    value, shift = 0, 24
    while True:
        start = p
        while p < end and 0x30 <= data[p] <= 0x39:
            p += 1
        digits = data[max(start, p - 3) : p]
        value += (int(digits) if digits else 0) << shift
        if not shift or p == end or data[p] != _DOT:
            break
        shift -= 8
        p += 1
    return str(ipaddress.IPv4Address(value & _M32)), p


def _uint(data: bytes, p: int, end: int) -> tuple[int, int]:
    """``read_uint()``: decimal digits up to ``end``, wrapping at 32 bits."""
    value = 0
    while p < end and 0x30 <= data[p] <= 0x39:
        value = (value * 10 + data[p] - 0x30) & _M32
        p += 1
    return value, p


def _tcp4(data: bytes) -> Header:
    end = len(data)
    src, p = _inetaddr(data, 11)
    if p == end:
        raise _Missing
    if data[p] != _SP:
        raise _Bad
    dst, p = _inetaddr(data, p + 1)
    if p == end:
        raise _Missing
    if data[p] != _SP:
        raise _Bad
    sport, p = _uint(data, p + 1, end)
    if p == end:
        raise _Missing
    if data[p] != _SP:
        raise _Bad
    dport, p = _uint(data, p + 1, end)
    if p > end - 2:
        raise _Missing
    if data[p : p + 2] != b"\r\n":
        raise _Bad
    return Header(p + 2, (src, sport & 0xFFFF), (dst, dport & 0xFFFF))


def _tcp6(data: bytes) -> Header:
    end = len(data)
    p = 11
    spaces: list[int] = []
    while True:
        if p > end - 2:
            raise _Missing
        if data[p] == _CR:
            if data[p + 1] != _LF:
                raise _Bad
            break
        if data[p] == _SP:
            spaces.append(p)
        p += 1
    cr = p
    if len(spaces) < 3:
        raise _Bad
    # 2.6 writes a NUL over every space and over the CR and reads C strings
    ends = {0, _SP}

    def cstr(at: int) -> bytes:
        q = at
        while q < cr and data[q] not in ends:
            q += 1
        return data[at:q]

    def port(at: int, limit: int) -> int:
        value, q = _uint(data, at, limit)
        if q < cr and data[q] not in ends:
            raise _Bad  # *sport_s != 0
        return value & 0xFFFF

    dst_at, sport_at, dport_at = spaces[0] + 1, spaces[1] + 1, spaces[2] + 1
    sport = port(sport_at, dport_at - 1)
    dport = port(dport_at, cr)
    src, dst = _pton6(cstr(11)), _pton6(cstr(dst_at))
    return Header(cr + 2, (src, sport, 0, 0), (dst, dport, 0, 0))


def _pton6(text: bytes) -> str:
    """``inet_pton(AF_INET6)``, printed back as ``inet_ntop()`` would."""
    try:
        if not text.isascii() or b"%" in text:
            raise ValueError
        return v6_text(ipaddress.IPv6Address(text.decode("ascii")))
    except ValueError:
        raise _Bad from None


# -- v2 -------------------------------------------------------------------------------


def _v2(data: bytes) -> Header | Refused:
    if len(data) < _PP2_HEADER_LEN:
        raise _Missing
    if data[:12] != PP2_SIGNATURE or data[12] & 0xF0 != 0x20:
        return Refused(NOT_HDR)
    length = int.from_bytes(data[14:16])
    total = _PP2_HEADER_LEN + length
    if len(data) < total:
        raise _Missing
    cmd, fam = data[12] & 0x0F, data[13]
    if cmd == 0x00:  # LOCAL: the connection's own addresses
        return Header(total)
    if cmd != 0x01:
        raise _Bad
    src: Addr | None = None
    dst: Addr | None = None
    offset = 0  # the TLV walk starts here when the family is not TCP4/TCP6
    if fam == 0x11:
        if length < _PP2_ADDR_LEN_INET:
            raise _Bad
        a = data[16:28]
        src = (str(ipaddress.IPv4Address(a[0:4])), int.from_bytes(a[8:10]))
        dst = (str(ipaddress.IPv4Address(a[4:8])), int.from_bytes(a[10:12]))
        offset = _PP2_HEADER_LEN + _PP2_ADDR_LEN_INET
    elif fam == 0x21:
        if length < _PP2_ADDR_LEN_INET6:
            raise _Bad
        a = data[16:52]
        src = (v6_text(ipaddress.IPv6Address(a[0:16])), int.from_bytes(a[32:34]), 0, 0)
        dst = (v6_text(ipaddress.IPv6Address(a[16:32])), int.from_bytes(a[34:36]), 0, 0)
        offset = _PP2_HEADER_LEN + _PP2_ADDR_LEN_INET6
    try:
        authority, unique_id, netns = _tlvs(data[:total], offset)
    except _Bad:
        raise _Bad(src) from None
    return Header(total, src, dst, authority, unique_id, netns)


def _tlvs(head: bytes, offset: int) -> tuple[bytes | None, bytes | None, tuple[bytes, ...]]:
    """Walk the TLVs from ``offset`` to the end of the header: the last
    ``AUTHORITY`` and ``UNIQUE_ID`` values, the ``NETNS`` names; ``_Bad`` if one
    does not fit or fails its check."""
    authority = unique_id = None
    netns: list[bytes] = []
    total = len(head)
    while offset < total:
        if offset + 3 > total:
            raise _Bad
        kind = head[offset]
        size = int.from_bytes(head[offset + 1 : offset + 3])
        value = offset + 3
        offset = value + size
        if offset > total:
            raise _Bad
        if kind == _PP2_TYPE_CRC32C:
            if size != 4:
                raise _Bad
            zeroed = head[:value] + bytes(4) + head[value + 4 :]
            if hash_crc32c(zeroed) != int.from_bytes(head[value : value + 4]):
                raise _Bad
        elif kind == _PP2_TYPE_AUTHORITY:
            if size > _PP2_AUTHORITY_MAX:
                raise _Bad
            authority = head[value:offset]
        elif kind == _PP2_TYPE_UNIQUE_ID:
            if size > _UNIQUEID_LEN:
                raise _Bad
            unique_id = head[value:offset]
        elif kind == _PP2_TYPE_NETNS:
            netns.append(head[value:offset])
    return authority, unique_id, tuple(netns)
