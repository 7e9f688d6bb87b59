"""Hash keys for the balancer, bit for bit as HAProxy 2.6 computes them.

The hash functions themselves are ``sample/hash.py``'s (the converters of
the same names use them too); keys are unsigned 32-bit integers.

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
from herdsman.sample.hash import full_hash, hash_crc32, hash_djb2, hash_sdbm, hash_wt6

_M32 = 0xFFFFFFFF

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
