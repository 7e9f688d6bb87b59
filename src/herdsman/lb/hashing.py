"""Hash functions and hash keys, bit for bit as HAProxy 2.6 computes them.

Every function returns an unsigned 32-bit integer, because HAProxy does all
of this in ``unsigned int`` arithmetic; Python ints are masked after each
step that could overflow.

The key reaching ``Algorithm.pick(key=...)`` is built in two steps
(``backend.c get_server_*``): the input is hashed with the configured
function (``gen_hash()``), then ``full_hash()`` is applied when the
``avalanche`` modifier is on. ``balance source`` is the exception: it never
calls ``gen_hash()`` and uses the address words themselves (spec §12.8).
core passes None when the input is missing; ``lookup_key()`` then applies
HAProxy's "one server left" shortcut inside the hash algorithms.

``Balance.avalanche`` must hold the *effective* modifier: the parser turns it
on for ``hash-type consistent`` written without a function, as
``cfgparse-listen.c`` does, so that these functions need not guess.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from herdsman.config.model import Balance

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


HASH_FUNCTIONS: dict[str, Callable[[bytes], int]] = {
    "sdbm": hash_sdbm,
    "djb2": hash_djb2,
    "wt6": hash_wt6,
    "crc32": hash_crc32,
}


def hash_bytes(data: bytes, balance: Balance) -> int:
    """The key for an L7 hash input (uri, url_param, hdr, rdp-cookie, hash).

    ``backend.c gen_hash()`` with the ``hash-type`` function, then
    ``full_hash()`` under ``avalanche``. Unknown function names fall back to
    sdbm, as ``gen_hash()``'s default branch does.
    """
    h = HASH_FUNCTIONS.get(balance.hash_function, hash_sdbm)(data)
    return full_hash(h) if balance.avalanche else h


def source_key(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, balance: Balance) -> int:
    """The key for ``balance source`` (``backend.c get_server_sh()``).

    The address is read as big-endian 32-bit words XORed together: the IPv4
    address itself, or the XOR of the four words of an IPv6 address. No hash
    function runs; only the avalanche modifier applies.
    """
    packed = addr.packed
    h = 0
    for i in range(0, len(packed), 4):
        h ^= int.from_bytes(packed[i : i + 4], "big")
    return full_hash(h) if balance.avalanche else h


# Inputs for which get_server_*() skips hashing when one server is in use,
# before even looking for the input; rdp-cookie skips it only once the
# cookie was found, and url_param always hashes (get_server_ph()).
_SHORTCUT_ALWAYS = frozenset({"source", "uri", "hdr", "hash"})


def lookup_key(hash_input: str | None, tot_used: int, key: int | None) -> int | None:
    """The key a hash algorithm really looks up, or None for round robin.

    With a single server in use (``tot_used == 1``) HAProxy looks up key 0
    instead of hashing: then a missing ``hdr``/``hash`` input still hashes
    (to 0) rather than falling back to round robin. Observable with the map
    backup quirk, where slot 0 is always the first backup (observed on
    2.6.12). ``hash_input`` is ``Balance.algo``, None for static-rr.
    """
    if tot_used != 1 or hash_input is None:
        return key
    if hash_input in _SHORTCUT_ALWAYS or (hash_input == "rdp-cookie" and key is not None):
        return 0
    return key
