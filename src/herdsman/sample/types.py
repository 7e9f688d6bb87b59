"""Sample values and their casts (``sample-t.h``, ``sample.c sample_casts[][]``).

A sample is a Python value whose class is its HAProxy type:

========  ==========================  =========================================
type      Python class                note
========  ==========================  =========================================
BOOL      ``bool``                    checked before ``int`` (a subclass)
SINT      ``int``                     signed 64 bits, wrapped where HAProxy wraps
IPV4      ``ipaddress.IPv4Address``
IPV6      ``ipaddress.IPv6Address``
STR       ``bytes``                   the wire's bytes: no decoding per request
BIN       ``Bin`` (a ``bytes``)       a block that may hold NULs
METH      ``Meth`` (a ``bytes``)      a method name (``find_http_meth()``)
========  ==========================  =========================================

``cast(value, to)`` is the cast matrix; None means "not castable" (the fetch
or converter then fails, as ``sample_process()`` returns NULL). The casts
that HAProxy implements as ``c_none`` keep the value as it is (a BOOL used as
a SINT stays a bool, which Python compares and adds as 0/1).
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address
from typing import Final


class Bin(bytes):
    """``SMP_T_BIN``: a block of bytes (a STR is a plain ``bytes``)."""

    __slots__ = ()


class Meth(bytes):
    """``SMP_T_METH``: a request method, known or not."""

    __slots__ = ()


Value = bool | int | bytes | IPv4Address | IPv6Address

# SMP_T_* (the order of sample_casts[][] and of the -dKsmp dump)
ANY: Final = 0
BOOL: Final = 1
SINT: Final = 2
ADDR: Final = 3
IPV4: Final = 4
IPV6: Final = 5
STR: Final = 6
BIN: Final = 7
METH: Final = 8
NAMES: Final = ("any", "bool", "sint", "addr", "ipv4", "ipv6", "str", "bin", "meth")

_TYPE_OF: dict[type, int] = {
    bool: BOOL,
    int: SINT,
    bytes: STR,
    Bin: BIN,
    Meth: METH,
    IPv4Address: IPV4,
    IPv6Address: IPV6,
}

INT64_MIN: Final = -(1 << 63)
INT64_MAX: Final = (1 << 63) - 1
_RFC4291 = b"\0" * 10 + b"\xff\xff"


def type_of(value: Value) -> int:
    return _TYPE_OF[type(value)]


def wrap64(value: int) -> int:
    """A C ``long long`` result: two's complement wrap-around."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >> 63 else value


def read_int64(text: bytes) -> int:
    """``read_int64()``: an optional sign, then the leading digits (none: 0),
    saturated at the 64-bit limits."""
    neg = text[:1] == b"-"
    if text[:1] in (b"-", b"+"):
        text = text[1:]
    n = 0
    for c in text:
        if not 48 <= c <= 57:
            break
        n = n * 10 + c - 48
    if neg:
        return INT64_MIN if n > 1 << 63 else -n
    return min(n, INT64_MAX)


def buf2ip(text: bytes) -> IPv4Address | None:
    """``buf2ip()``: four dotted decimal octets; parsing stops at the first other
    character (``1.2.3.4x`` is 1.2.3.4)."""
    octets: list[int] = []
    cur = -1
    for c in text:
        if 48 <= c <= 57:
            cur = (0 if cur < 0 else cur) * 10 + c - 48
            if cur > 255:
                return None
            if len(octets) == 4:
                return None
        elif c == 46 and cur >= 0:  # '.'
            if len(octets) == 3:
                return None
            octets.append(cur)
            cur = -1
        elif c == 46:
            return None
        else:
            break
    if cur >= 0:
        octets.append(cur)
    if len(octets) != 4:
        return None
    return IPv4Address(bytes(octets))


def buf2ip6(text: bytes) -> IPv6Address | None:
    """``buf2ip6()``: ``inet_pton(AF_INET6)`` of the whole text."""
    if len(text) > 46:
        return None
    try:
        return IPv6Address(socket.inet_pton(socket.AF_INET6, text.decode("latin-1")))
    except (OSError, ValueError):
        return None


def v4tov6(addr: IPv4Address) -> IPv6Address:
    return IPv6Address(_RFC4291 + addr.packed)


def v6tov4(addr: IPv6Address) -> IPv4Address | None:
    """``v6tov4()``: only an IPv4-mapped address (``::ffff:a.b.c.d``) converts."""
    packed = addr.packed
    if packed[:12] == _RFC4291:
        return IPv4Address(packed[12:])
    return None


def ip_str(addr: IPv4Address | IPv6Address) -> bytes:
    """``inet_ntop()`` (glibc's text for IPv6, which Python's ``str()`` matches)."""
    return str(addr).encode("ascii")


def to_str(value: Value) -> bytes | None:
    """A cast to STR; a BIN stops at its first NUL (``c_bin2str``)."""
    t = type(value)
    if t is bytes:
        return value  # type: ignore[return-value]
    if t is Bin or t is Meth:
        b: bytes = value  # type: ignore[assignment]
        if t is Bin:
            nul = b.find(b"\0")
            if nul >= 0:
                b = b[:nul]
        return bytes(b)
    if t is bool:
        return b"1" if value else b"0"
    if t is int:
        return str(value).encode("ascii")
    return ip_str(value)  # type: ignore[arg-type]


def to_bin(value: Value) -> Bin | None:
    t = type(value)
    if t is Bin:
        return value  # type: ignore[return-value]
    if t is bytes or t is Meth:
        return Bin(value)  # type: ignore[arg-type]
    if t is bool:
        return Bin((1 if value else 0).to_bytes(8, "big"))
    if t is int:
        return Bin((value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big"))  # type: ignore[operator]
    return Bin(value.packed)  # type: ignore[union-attr]


def to_int(value: Value) -> int | None:
    """A cast to SINT (or BOOL): ``c_str2int`` for a string (an empty one fails),
    ``c_ip2int`` for an IPv4 address; binary data and IPv6 do not cast."""
    t = type(value)
    if t is int or t is bool:
        return value  # type: ignore[return-value]
    if t is bytes:
        return read_int64(value) if value else None  # type: ignore[arg-type]
    if t is IPv4Address:
        return int(value)
    return None


def to_ipv4(value: Value) -> IPv4Address | None:
    t = type(value)
    if t is IPv4Address:
        return value  # type: ignore[return-value]
    if t is int:
        return IPv4Address(value & 0xFFFFFFFF)  # type: ignore[operator]
    if t is IPv6Address:
        return v6tov4(value)  # type: ignore[arg-type]
    if t is bytes:
        return buf2ip(value)  # type: ignore[arg-type]
    return None


def to_ipv6(value: Value) -> IPv6Address | None:
    t = type(value)
    if t is IPv6Address:
        return value  # type: ignore[return-value]
    if t is IPv4Address:
        return v4tov6(value)  # type: ignore[arg-type]
    if t is int:
        return v4tov6(IPv4Address(value & 0xFFFFFFFF))  # type: ignore[operator]
    if t is bytes:
        return buf2ip6(value)  # type: ignore[arg-type]
    return None


def to_addr(value: Value) -> IPv4Address | IPv6Address | None:
    """A cast to ADDR: an address stays, a string is IPv4 then IPv6 (``c_str2addr``)."""
    t = type(value)
    if t is IPv4Address or t is IPv6Address:
        return value  # type: ignore[return-value]
    if t is int:
        return IPv4Address(value & 0xFFFFFFFF)  # type: ignore[operator]
    if t is bytes:
        return buf2ip(value) or buf2ip6(value)  # type: ignore[arg-type]
    return None


def to_meth(value: Value) -> Meth | None:
    t = type(value)
    if t is Meth:
        return value  # type: ignore[return-value]
    if t is bytes or t is Bin:
        return Meth(value)  # type: ignore[arg-type]
    return None


# sample_casts[from][to] is NULL: (from, to) pairs no value of "from" casts to
_IMPOSSIBLE = frozenset(
    {(BOOL, t) for t in (ADDR, IPV4, IPV6, METH)}
    | {(SINT, METH)}
    | {(ADDR, t) for t in range(1, 9)}
    | {(IPV4, t) for t in (BOOL, METH)}
    | {(IPV6, t) for t in (BOOL, SINT, METH)}
    | {(BIN, t) for t in (BOOL, SINT, ADDR, IPV4, IPV6)}
    | {(METH, t) for t in (BOOL, SINT, ADDR, IPV4, IPV6)}
)


def castable(src: int, dst: int) -> bool:
    """Whether ``sample_casts[src][dst]`` exists (checked at parse time)."""
    return src == ANY or dst == ANY or (src, dst) not in _IMPOSSIBLE


def cast(value: Value, to: int) -> Value | None:
    """``sample_casts[type][to]`` applied to ``value``; None when it fails."""
    if to == ANY:
        return value
    if to == STR:
        return to_str(value)
    if to in (SINT, BOOL):
        return to_int(value)
    if to == BIN:
        return to_bin(value)
    if to == IPV4:
        return to_ipv4(value)
    if to == IPV6:
        return to_ipv6(value)
    if to == ADDR:
        return to_addr(value)
    return to_meth(value)
