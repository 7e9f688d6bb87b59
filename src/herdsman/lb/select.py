"""Choosing the algorithm from the configuration (``cfgparse.c``'s LB init switch).

``balance`` names the algorithm, except for the hash inputs (source, uri,
url_param, hdr, rdp-cookie, hash) where ``hash-type`` decides between the
map and the consistent ring. Each class registers itself in
``base.REGISTRY`` under the name looked up here.
"""

from __future__ import annotations

from herdsman.config.model import Balance

# Each algorithm module registers its classes when imported.
from herdsman.lb import fas, fwlc, fwrr  # noqa: F401
from herdsman.lb.base import REGISTRY, Algorithm
from herdsman.lb.chash import ChashAlgorithm
from herdsman.lb.map import MapAlgorithm


def registry_name(balance: Balance) -> str:
    """``hash-map-based`` / ``hash-consistent`` for hashes, else the balance keyword."""
    if balance.is_hash:
        return f"hash-{balance.hash_method.value}"
    return balance.algo


def make_algorithm(balance: Balance) -> Algorithm:
    """A fresh, unconfigured algorithm for one backend.

    Hash algorithms learn which input they hash, for HAProxy's one-server
    shortcut (``hashing.lookup_key``). Raises ``KeyError`` for a keyword the
    parser should have rejected.
    """
    algo = REGISTRY[registry_name(balance)]()
    if balance.is_hash and isinstance(algo, MapAlgorithm | ChashAlgorithm):
        algo.hash_input = balance.algo
    return algo
