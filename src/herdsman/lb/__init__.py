"""Load-balancing algorithms, ported from HAProxy 2.6 (spec §12).

``make_algorithm(balance)`` gives the algorithm for a backend; the Protocols
it and core talk through are in ``herdsman.lb.base``.
"""

from herdsman.lb.base import REGISTRY, Algorithm, LbBackend, LbServer
from herdsman.lb.chash import ChashAlgorithm, RandomAlgorithm
from herdsman.lb.fas import FasAlgorithm
from herdsman.lb.fwlc import FwlcAlgorithm
from herdsman.lb.fwrr import FwrrAlgorithm
from herdsman.lb.hashing import hash_bytes, source_key
from herdsman.lb.map import MapAlgorithm
from herdsman.lb.select import make_algorithm
from herdsman.sample.hash import full_hash

__all__ = [
    "REGISTRY",
    "Algorithm",
    "ChashAlgorithm",
    "FasAlgorithm",
    "FwlcAlgorithm",
    "FwrrAlgorithm",
    "LbBackend",
    "LbServer",
    "MapAlgorithm",
    "RandomAlgorithm",
    "full_hash",
    "hash_bytes",
    "make_algorithm",
    "source_key",
]
