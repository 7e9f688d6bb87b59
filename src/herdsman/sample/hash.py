"""HAProxy's hash functions (``hash.c``, ``intops.h full_hash()``), bit for bit:
used by the balancer's keys (``lb/hashing.py``) and by the converters of the
same names (``sample/convs.py``).

Every function returns an unsigned 32-bit integer, because HAProxy does all
of this in ``unsigned int`` arithmetic; Python ints are masked after each
step that could overflow.
"""

from __future__ import annotations

_M32 = 0xFFFFFFFF


def full_hash(a: int) -> int:
    """Bob Jenkins' 32-bit integer hash, then a multiplication by 3221225473.

    ``intops.h __full_hash()``: the final multiplication by a prime close to
    3/4 of 2**32 spreads ring points more evenly; the observed consistent
    hashing vectors only match with it (observed §5).
    """
    a &= _M32
    a = ((a + 0x7ED55D16) + (a << 12)) & _M32
    a = ((a ^ 0xC761C23C) ^ (a >> 19)) & _M32
    a = ((a + 0x165667B1) + (a << 5)) & _M32
    a = ((a + 0xD3A2646C) ^ (a << 9)) & _M32
    a = ((a + 0xFD7046C5) + (a << 3)) & _M32
    a = ((a ^ 0xB55A4F09) ^ (a >> 16)) & _M32
    return (a * 3221225473) & _M32


def hash_sdbm(data: bytes) -> int:
    """``hash.c hash_sdbm()``: h = c + (h << 6) + (h << 16) - h."""
    h = 0
    for c in data:
        h = (c + (h << 6) + (h << 16) - h) & _M32
    return h


def hash_djb2(data: bytes) -> int:
    """``hash.c hash_djb2()``: h = h * 33 + c, starting at 5381."""
    h = 5381
    for c in data:
        h = (h * 33 + c) & _M32
    return h


def hash_wt6(data: bytes) -> int:
    """``hash.c hash_wt6()``: Willy Tarreau's two-lane rotating hash."""
    h0 = 0xA53C965A
    h1 = 0x5CA6953A
    step0 = 6
    step1 = 18
    for t in data:
        h0 = ~(h0 ^ t) & _M32
        h1 = ~(h1 + t) & _M32
        # A step of 0 makes C shift by 32, undefined but masked to 0 on x86
        # so the rotation yields h itself; Python's h >> 32 is 0 and also
        # yields h.
        t = ((h1 << step0) | (h1 >> (32 - step0))) & _M32
        h1 = ((h0 << step1) | (h0 >> (32 - step1))) & _M32
        h0 = t
        t = ((h0 >> 16) ^ h1) & 0xFFFF
        step0 = t & 0x1F
        step1 = t >> 11
    return h0 ^ h1


def hash_crc32(data: bytes) -> int:
    """``hash.c hash_crc32()``: the bitwise reflected CRC-32 (poly 0xEDB88320).

    It equals ``zlib.crc32``; written out so the module has no hidden
    dependency on what zlib a platform ships.
    """
    h = _M32
    for c in data:
        h ^= c
        for _ in range(8):
            h = (h >> 1) ^ (0xEDB88320 if h & 1 else 0)
    return ~h & _M32


def hash_crc32c(data: bytes) -> int:
    """``hash.c hash_crc32c()``: CRC-32C (Castagnoli, reflected poly 0x82F63B78), as
    the PROXY protocol v2's ``PP2_TYPE_CRC32C`` TLV carries it."""
    h = _M32
    for c in data:
        h ^= c
        for _ in range(8):
            h = (h >> 1) ^ (0x82F63B78 if h & 1 else 0)
    return ~h & _M32
