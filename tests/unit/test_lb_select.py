"""``balance`` and ``hash-type`` choose the algorithm (cfgparse.c's LB init)."""

from __future__ import annotations

import pytest

from herdsman.config.model import Balance, HashMethod
from herdsman.lb import REGISTRY, make_algorithm
from herdsman.lb.chash import ChashAlgorithm, RandomAlgorithm
from herdsman.lb.fas import FasAlgorithm
from herdsman.lb.fwlc import FwlcAlgorithm
from herdsman.lb.fwrr import FwrrAlgorithm
from herdsman.lb.map import MapAlgorithm

HASHES = ["source", "uri", "url_param", "hdr", "rdp-cookie", "hash"]


@pytest.mark.parametrize(
    ("algo", "cls"),
    [
        ("roundrobin", FwrrAlgorithm),
        ("static-rr", MapAlgorithm),
        ("leastconn", FwlcAlgorithm),
        ("first", FasAlgorithm),
        ("random", RandomAlgorithm),
    ],
)
def test_balance_keyword_selects_the_algorithm(algo: str, cls: type) -> None:
    chosen = make_algorithm(Balance(algo=algo))
    assert type(chosen) is cls
    assert getattr(chosen, "hash_input", None) is None


@pytest.mark.parametrize("algo", HASHES)
def test_hash_type_selects_map_or_ring(algo: str) -> None:
    """map-based by default; consistent hashing on the chash ring."""
    mapped = make_algorithm(Balance(algo=algo))
    assert isinstance(mapped, MapAlgorithm)
    assert mapped.hash_input == algo
    ring = make_algorithm(Balance(algo=algo, hash_method=HashMethod.CONSISTENT))
    assert type(ring) is ChashAlgorithm
    assert ring.hash_input == algo


def test_default_balance_is_roundrobin() -> None:
    assert type(make_algorithm(Balance())) is FwrrAlgorithm


def test_each_call_gives_a_fresh_instance() -> None:
    assert make_algorithm(Balance()) is not make_algorithm(Balance())


def test_dynamic_flags() -> None:
    """Only the map is static: runtime weights are then limited to 0/100%."""
    names = ["roundrobin", "static-rr", "hash-map-based", "leastconn", "first"]
    names += ["hash-consistent", "random"]
    assert {name: REGISTRY[name]().dynamic for name in names} == {
        "roundrobin": True,
        "static-rr": False,
        "hash-map-based": False,
        "leastconn": True,
        "first": True,
        "hash-consistent": True,
        "random": True,
    }


def test_unknown_keyword_raises() -> None:
    with pytest.raises(KeyError):
        make_algorithm(Balance(algo="nope"))
