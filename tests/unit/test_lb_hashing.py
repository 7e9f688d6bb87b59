"""Hash functions and keys are HAProxy's, bit for bit.

The expected values were printed by the 2.6.12 binary itself through its
converters of the same names, with a TCP log-format such as
``%[str(hello),wt6]``; ``sdbm(1)`` is the avalanche form (``full_hash()`` of
the result), and ``src`` converts to the 4 address bytes.
"""

from __future__ import annotations

import ipaddress
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herdsman.config.model import Balance, HashMethod
from herdsman.lb.hashing import hash_bytes, source_key
from herdsman.sample.hash import full_hash, hash_crc32, hash_djb2, hash_sdbm, hash_wt6

FOX = b"The quick brown fox jumps over the lazy dog"

BINARY = [
    (hash_sdbm, b"hello", 684824882),
    (hash_djb2, b"hello", 261238937),
    (hash_wt6, b"hello", 3538347703),
    (hash_crc32, b"hello", 907060870),
    (hash_wt6, b"", 4187620192),
    (hash_wt6, b"a", 1900802597),
    (hash_wt6, FOX, 3840389189),
    (hash_djb2, FOX, 885799134),
    (hash_sdbm, FOX, 2359783795),
    (hash_crc32, FOX, 1095738169),
    (hash_wt6, b"/index.html?x=1", 2566731813),
    (hash_wt6, b"abcdefghijklmnopqrstuvwxyz0123456789", 955643270),
    (hash_wt6, bytes([127, 0, 0, 1]), 2242437889),
]


@pytest.mark.parametrize(("fn", "data", "value"), BINARY)
def test_hash_functions_match_the_binary(fn: object, data: bytes, value: int) -> None:
    assert callable(fn)
    assert fn(data) == value


def test_avalanche_is_full_hash_of_the_result() -> None:
    """``sdbm(1)`` and ``djb2(1)`` as printed by the binary."""
    assert full_hash(hash_sdbm(b"hello")) == 2061535398
    assert full_hash(hash_wt6(FOX)) == 2386649459
    assert full_hash(hash_djb2(bytes(8))) == 2023739408  # int(0) as 8 bytes


@given(st.binary(max_size=64))
def test_crc32_is_the_standard_crc32(data: bytes) -> None:
    assert hash_crc32(data) == zlib.crc32(data)


@given(st.integers(0, 2**32 - 1))
def test_full_hash_stays_32_bit(a: int) -> None:
    assert 0 <= full_hash(a) < 2**32


@given(st.binary(max_size=40))
def test_hashes_stay_32_bit(data: bytes) -> None:
    for fn in (hash_sdbm, hash_djb2, hash_wt6, hash_crc32):
        assert 0 <= fn(data) < 2**32


def test_source_key_ipv4_is_the_address_as_a_word() -> None:
    """Map-based: no hash function, no avalanche unless configured (§12.8)."""
    bal = Balance(algo="source")
    assert source_key(ipaddress.IPv4Address("127.0.0.1"), bal) == 0x7F000001
    bal.avalanche = True
    assert source_key(ipaddress.IPv4Address("127.0.0.1"), bal) == full_hash(0x7F000001)


def test_source_key_ipv6_xors_the_four_words() -> None:
    bal = Balance(algo="source")
    addr = ipaddress.IPv6Address("2001:db8:1:2:3:4:5:6")
    assert source_key(addr, bal) == 0x20010DB8 ^ 0x00010002 ^ 0x00030004 ^ 0x00050006
    assert source_key(ipaddress.IPv6Address("::1"), bal) == 1


def test_source_key_ignores_the_hash_function() -> None:
    """get_server_sh() never calls gen_hash()."""
    a = ipaddress.IPv4Address("10.1.2.3")
    assert source_key(a, Balance(algo="source", hash_function="wt6")) == int(a)


@pytest.mark.parametrize(
    ("function", "fn"),
    [("sdbm", hash_sdbm), ("djb2", hash_djb2), ("wt6", hash_wt6), ("crc32", hash_crc32)],
)
def test_hash_bytes_uses_the_hash_type_function(function: str, fn: object) -> None:
    assert callable(fn)
    bal = Balance(algo="uri", hash_method=HashMethod.CONSISTENT, hash_function=function)
    assert hash_bytes(b"/a/b", bal) == fn(b"/a/b")
    bal.avalanche = True
    assert hash_bytes(b"/a/b", bal) == full_hash(fn(b"/a/b"))
