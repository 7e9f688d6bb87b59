"""Every pick sequence of observed-2.6.12-server-lb.md §3, as recorded there.

Servers are a, b, c... in declaration order with the weights in the test id.
"""

from __future__ import annotations

import ipaddress

import pytest
from lbfakes import OBSERVED_IPS, FakeServer, Harness, servers

from herdsman.config.model import Balance, HashMethod
from herdsman.lb.chash import ChashAlgorithm
from herdsman.lb.fas import FasAlgorithm
from herdsman.lb.fwlc import FwlcAlgorithm
from herdsman.lb.fwrr import FwrrAlgorithm
from herdsman.lb.hashing import source_key
from herdsman.lb.map import MapAlgorithm


def _weights(spec: str) -> list[int]:
    return [int(w) for w in spec.split()]


# §12.3: "the order is fwrr's own, and it can be bursty"
RR = {
    "1 2 3": "c b c a c b",
    "3 2 1": "a b a c a b",
    "1 1 1": "a b c",
    "2 1": "a a b",
    "1 2": "b b a",
    "5 3 2": "a b a c a b a b a c",
    "4 3 2 1": "a b a c b a d a b c",
    "10 1": "a a a a a a a a a a b",
    "1 10": "b b b b b b b b b b a",
}


@pytest.mark.parametrize(("weights", "period"), RR.items())
def test_roundrobin_sequences_repeat_with_their_period(weights: str, period: str) -> None:
    h = Harness.start(FwrrAlgorithm(), servers(_weights(weights)))
    n = len(period.split())
    assert h.seq(3 * n) == " ".join([period] * 3)


def test_roundrobin_first_18_of_7_3_5_1_2() -> None:
    h = Harness.start(FwrrAlgorithm(), servers([7, 3, 5, 1, 2]))
    assert h.seq(18) == "a c a b c a e a c b a c a d a b c e"


def test_roundrobin_with_only_backups_uses_the_first_backup() -> None:
    h = Harness.start(FwrrAlgorithm(), servers([], backups=[2, 3]))
    assert h.seq(6) == "a a a a a a"


# §12.6: static-rr starts with the first server, unlike roundrobin
STATIC_RR = {
    "1 2 3": "a c b c b c",
    "3 2 1": "a a b a b c",
    "2 1": "a a b",
    "1 2": "a b b",
    "5 3 2": "a a b a c a b a b c",
    "4 3 2 1": "a b a b c a b a c d",
    "10 1": "a a a a a a a a a a b",
    "4 6": "a b a b b",
    "2 4 6": "a c b c b c",  # §12.1: same as 1 2 3 after the gcd
}


@pytest.mark.parametrize(("weights", "period"), STATIC_RR.items())
def test_static_rr_sequences(weights: str, period: str) -> None:
    h = Harness.start(MapAlgorithm(), servers(_weights(weights)))
    n = len(period.split())
    assert h.seq(2 * n) == f"{period} {period}"


def test_static_rr_first_18_of_7_3_5_1_2() -> None:
    h = Harness.start(MapAlgorithm(), servers([7, 3, 5, 1, 2]))
    assert h.seq(18) == "a b a c c a b a e c a b a c c a d e"


def test_static_rr_backup_quirk_second_backup_gets_traffic() -> None:
    """2.6 fills the table with every usable backup when weights differ."""
    h = Harness.start(MapAlgorithm(), servers([], backups=[2, 3]))
    assert h.seq(6) == "a b a b a b"


# §12.4: connections held open
LEASTCONN_HELD = {
    "1 1 1": "a b c a b c",
    "1 2 3": "a b c c b c c b c a b c c b c a b c c b c a",
    "3 2 1": "a b c a b a a b a c b a a b a c b a",
    "2 1": "a b a a b a a b a",
    "5 3 2": "a b c a a b a c b a a b a c a b a c b a",
}


@pytest.mark.parametrize(("weights", "seq"), LEASTCONN_HELD.items())
def test_leastconn_held(weights: str, seq: str) -> None:
    h = Harness.start(FwlcAlgorithm(), servers(_weights(weights)))
    assert h.seq(len(seq.split()), hold=True) == seq


@pytest.mark.parametrize("weights", ["1 2 3", "3 2 1"])
def test_leastconn_sequential_ignores_weights(weights: str) -> None:
    """Every server is idle at each pick, so declaration order rotates."""
    h = Harness.start(FwlcAlgorithm(), servers(_weights(weights)))
    assert h.seq(6) == "a b c a b c"


def _first(*specs: tuple[str, int, int, int]) -> Harness:
    srvs = [FakeServer(name=n, puid=i, uweight=w, iweight=w, maxconn=m) for n, i, w, m in specs]
    return Harness.start(FasAlgorithm(), srvs)


def test_first_fills_servers_in_order_then_queues() -> None:
    h = _first(("a", 0, 1, 2), ("b", 0, 1, 2), ("c", 0, 1, 2))
    assert h.seq(6, hold=True) == "a a b b c c"
    assert h.pick() is None  # the 7th waits in the backend queue


def test_first_orders_by_id_not_declaration() -> None:
    h = _first(("a", 3, 1, 2), ("b", 1, 1, 2), ("c", 2, 1, 2))
    assert h.seq(6, hold=True) == "b b c c a a"


def test_first_without_maxconn_ignores_weights() -> None:
    h = _first(("a", 0, 1, 0), ("b", 0, 100, 0))
    assert h.seq(6, hold=True) == "a a a a a a"
    assert h.seq(3) == "a a a"


def test_first_skips_weight_zero() -> None:
    h = _first(("a", 0, 0, 1), ("b", 0, 1, 1), ("c", 0, 1, 1))
    assert h.seq(2, hold=True) == "b c"


# §12.7/§12.8: balance source over the 24 observed addresses
SOURCE = {
    ("map-based", "1 1 1"): "c a b c a b c a b c a b c a b c a b c a b a a b",
    ("map-based", "1 2 3"): "c a c b c b c a c b c b c a c b c b c a c a a b",
    ("consistent", "1 1 1"): "b a c a b a c a a c b c c c a a a c a a c a c b",
    ("consistent", "1 2 3"): "c a b a c c c a c b c c c c c a a c a c b a c b",
}


@pytest.mark.parametrize(("method", "weights", "seq"), [(*k, v) for k, v in SOURCE.items()])
def test_source_hash(method: str, weights: str, seq: str) -> None:
    bal = Balance(algo="source", hash_method=HashMethod(method))
    bal.avalanche = bal.hash_method is HashMethod.CONSISTENT  # the hash-type default
    algo = ChashAlgorithm() if method == "consistent" else MapAlgorithm()
    h = Harness.start(algo, servers(_weights(weights)))
    picks = []
    for ip in OBSERVED_IPS:
        s = h.pick(key=source_key(ipaddress.IPv4Address(ip), bal))
        assert s is not None
        picks.append(s.name)
    assert " ".join(picks) == seq
