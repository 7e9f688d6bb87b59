"""Addresses with masks as HAProxy reads them: ``str2net()`` (IPv4, a dotted or
bit-count mask, a host name resolved to IPv4) and ``str62net()`` (IPv6, a bit
count). Used by IP patterns and by ``option forwardfor except``.
"""

from __future__ import annotations

import socket

_C_SPACE = " \t\n\v\f\r"


def _strtol10(text: str) -> tuple[int, int]:
    """glibc ``strtol(text, &end, 10)``: (value, end), end 0 when nothing converted."""
    i = 0
    n = len(text)
    while i < n and text[i] in _C_SPACE:
        i += 1
    neg = i < n and text[i] == "-"
    if i < n and text[i] in "+-":
        i += 1
    first = i
    while i < n and "0" <= text[i] <= "9":
        i += 1
    if i == first:
        return 0, 0
    value = int(text[first:i])
    return (-value if neg else value), i


def _mask_len(text: str, limit: int) -> int | None:
    """``strtol``/``strtoul`` of a prefix length, the whole word, cast to unsigned."""
    value, end = _strtol10(text)
    if not text or end < len(text) or value & 0xFFFFFFFF > limit:
        return None
    return value & 0xFFFFFFFF


def prefix_mask(bits: int, size: int) -> bytes:
    return (((1 << bits) - 1) << (size * 8 - bits)).to_bytes(size, "big")


def gethostbyname(host: str) -> bytes | None:
    """glibc ``gethostbyname()``: a name of digits and dots is read by ``inet_aton()``
    ("1.2.3", "010.0.0.1" in octal); any other name is resolved, IPv4 only, so
    a numeric form with letters ("0x7f.1") is a name that does not resolve."""
    if not host or host.endswith("."):
        return None
    try:
        if all(c in "0123456789." for c in host):
            return socket.inet_aton(host)
        socket.inet_aton(host)
        return None
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    return socket.inet_aton(str(infos[0][4][0])) if infos else None


def str2net(text: str, resolve: bool = True) -> tuple[bytes, bytes] | None:
    """``str2net()``: (address already masked, mask), 4 bytes each; None if invalid."""
    host, slash, mask_text = text.rpartition("/")
    if not slash:
        host, mask = text, b"\xff" * 4
    elif "." in mask_text:
        try:
            mask = socket.inet_pton(socket.AF_INET, mask_text)
        except OSError:
            return None
    else:
        bits = _mask_len(mask_text, 32)
        if bits is None:
            return None
        mask = prefix_mask(bits, 4)
    try:
        addr = socket.inet_pton(socket.AF_INET, host)
    except OSError:
        found = gethostbyname(host) if resolve else None
        if found is None:
            return None
        addr = found
    return bytes(a & m for a, m in zip(addr, mask, strict=True)), mask


def str62net(text: str) -> tuple[bytes, bytes] | None:
    """``str62net()``: (address already masked, mask), 16 bytes each."""
    host, slash, mask_text = text.rpartition("/")
    bits = 128
    if not slash:
        host = text
    else:
        found = _mask_len(mask_text, 128)
        if found is None:
            return None
        bits = found
    try:
        addr = socket.inet_pton(socket.AF_INET6, host)
    except OSError:
        return None
    mask = prefix_mask(bits, 16)
    return bytes(a & m for a, m in zip(addr, mask, strict=True)), mask
