"""Behaviour shared by the algorithms, and each one's own rules (spec §12).

The exact sequences are checked against the binary in test_lb_ref_*.py; this
file pins the rules those sequences come from, one at a time.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest
from lbfakes import Harness, servers

from herdsman.lb.base import Algorithm
from herdsman.lb.chash import ChashAlgorithm, RandomAlgorithm
from herdsman.lb.ebtree import Eb32Tree
from herdsman.lb.fas import FasAlgorithm
from herdsman.lb.fwlc import FwlcAlgorithm
from herdsman.lb.fwrr import FwrrAlgorithm
from herdsman.lb.map import MapAlgorithm
from herdsman.sample.hash import full_hash


def _random() -> Algorithm:
    algo = RandomAlgorithm()
    algo.rng = random.Random(1)
    return algo


ALL: dict[str, Callable[[], Algorithm]] = {
    "roundrobin": FwrrAlgorithm,
    "static-rr": MapAlgorithm,
    "leastconn": FwlcAlgorithm,
    "first": FasAlgorithm,
    "consistent-walk": ChashAlgorithm,  # no key: the ring walk
    "random": _random,
}
# those that skip full servers and fall back to the avoided one
SKIPPING = {k: v for k, v in ALL.items() if k != "random"}


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_no_server_gives_none(make: Callable[[], Algorithm]) -> None:
    assert Harness.start(make(), []).pick() is None


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_no_usable_server_gives_none(make: Callable[[], Algorithm]) -> None:
    h = Harness.start(make(), servers([1, 0, 2]))
    h.down("a")
    h.weight("c", 0)
    assert h.pick() is None


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_down_server_leaves_and_comes_back(make: Callable[[], Algorithm]) -> None:
    h = Harness.start(make(), servers([1, 1, 1]))
    h.down("b")
    assert "b" not in h.seq(30).split()
    h.up("b")
    h.weight("a", 0)
    h.weight("c", 0)
    assert set(h.seq(5).split()) == {"b"}


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_weight_zero_is_never_picked(make: Callable[[], Algorithm]) -> None:
    h = Harness.start(make(), servers([0, 3, 0, 1]))
    assert set(h.seq(40).split()) <= {"b", "d"}


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_backups_only_when_no_active_is_usable(make: Callable[[], Algorithm]) -> None:
    """§11.4: the first usable backup takes everything without allbackups."""
    h = Harness.start(make(), servers([1, 1], backups=[1, 1]))
    assert set(h.seq(20).split()) <= {"a", "b"}
    h.down("a")
    h.weight("b", 0)  # UP at weight 0 is unusable too: backups take over
    assert set(h.seq(10).split()) == {"c"}
    h.down("c")
    assert set(h.seq(10).split()) == {"d"}
    h.up("a")
    assert set(h.seq(10).split()) == {"a"}


@pytest.mark.parametrize(
    "make", [v for k, v in ALL.items() if k != "first"], ids=[k for k in ALL if k != "first"]
)
def test_allbackups_spreads_over_the_backups(make: Callable[[], Algorithm]) -> None:
    h = Harness.start(make(), servers([1], backups=[1, 1]), allbackups=True)
    h.down("a")
    assert set(h.seq(40).split()) == {"b", "c"}


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_avoided_server_is_skipped_when_another_is_available(make: Callable[[], Algorithm]) -> None:
    h = Harness.start(make(), servers([1, 1]))
    for _ in range(20):
        s = h.pick(avoid="a")
        assert s is not None
        assert s.name == "b"


@pytest.mark.parametrize("make", SKIPPING.values(), ids=SKIPPING.keys())
def test_avoided_server_is_a_last_resort(make: Callable[[], Algorithm]) -> None:
    h = Harness.start(make(), servers([1, 1]))
    h.down("b")
    assert h.seq(1) == "a"  # moves the walk off its initial state
    s = h.pick(avoid="a")
    assert s is not None
    assert s.name == "a"


@pytest.mark.parametrize("make", SKIPPING.values(), ids=SKIPPING.keys())
def test_full_servers_are_skipped(make: Callable[[], Algorithm]) -> None:
    srvs = servers([1, 1, 1])
    srvs[0].maxconn = 1
    h = Harness.start(make(), srvs)
    h.seq(1)
    h.take(h["a"])
    assert "a" not in h.seq(20).split()


@pytest.mark.parametrize("make", SKIPPING.values(), ids=SKIPPING.keys())
def test_all_full_gives_none(make: Callable[[], Algorithm]) -> None:
    srvs = servers([1, 2])
    for s in srvs:
        s.maxconn = 1
    h = Harness.start(make(), srvs)
    h.seq(2, hold=True)
    assert h.pick() is None


@pytest.mark.parametrize(
    "make",
    [FwrrAlgorithm, FwlcAlgorithm, FasAlgorithm, ChashAlgorithm],
    ids=["roundrobin", "leastconn", "first", "consistent"],
)
def test_the_single_backup_is_returned_even_when_full(make: Callable[[], Algorithm]) -> None:
    """``lbprm.fbck`` short-cuts the lookup: core then queues on it."""
    srvs = servers([1], backups=[1, 1])
    srvs[1].maxconn = 1
    h = Harness.start(make(), srvs)
    h.down("a")
    h.take(h["b"])
    assert h.seq(2) == "b b"


def test_static_rr_checks_fullness_of_the_single_backup() -> None:
    srvs = servers([1], backups=[1, 1])
    srvs[1].maxconn = 1
    h = Harness.start(MapAlgorithm(), srvs)
    h.down("a")
    h.take(h["b"])
    assert h.pick() is None


# -- leastconn -------------------------------------------------------------------


def test_leastconn_maxqueue_lets_a_server_queue() -> None:
    """§12.4: acceptable while served + queued < maxconn + maxqueue."""
    srvs = servers([1])
    srvs[0].maxconn, srvs[0].maxqueue = 1, 2
    h = Harness.start(FwlcAlgorithm(), srvs)
    h.take(h["a"])
    h["a"].nbpend = 1
    assert h.pick() is h["a"]
    h["a"].nbpend = 2
    assert h.pick() is None


def test_leastconn_uses_the_dynamic_maxconn() -> None:
    srvs = servers([1, 1])
    srvs[0].maxconn, srvs[0].dyn_maxconn = 1, 3
    h = Harness.start(FwlcAlgorithm(), srvs)
    h.take(h["a"])
    h.take(h["a"])
    h.take(h["b"])
    h.take(h["b"])
    h.take(h["b"])
    assert h.seq(1) == "a"


def test_leastconn_no_op_reposition_keeps_the_order() -> None:
    """fwlc_srv_reposition() leaves a server in place when its key is unchanged."""
    h = Harness.start(FwlcAlgorithm(), servers([1, 1]))
    h.algo.drop_conn(h["a"])  # served still 0: key 0, no move
    assert h.seq(1) == "a"


def test_leastconn_prefers_idle_servers_whatever_their_weight() -> None:
    h = Harness.start(FwlcAlgorithm(), servers([1, 100]))
    assert h.seq(2, hold=True) == "a b"


# -- first -------------------------------------------------------------------------


def test_first_refills_the_lowest_id_after_a_release() -> None:
    srvs = servers([1, 1, 1])
    for s in srvs:
        s.maxconn = 1
    h = Harness.start(FasAlgorithm(), srvs)
    assert h.seq(3, hold=True) == "a b c"
    h.release(h["a"])
    assert h.seq(1, hold=True) == "a"


# -- map ----------------------------------------------------------------------------


def test_map_hash_is_key_modulo_table() -> None:
    h = Harness.start(MapAlgorithm(), servers([1, 2, 3]))
    table = ["a", "c", "b", "c", "b", "c"]
    for key in range(12):
        s = h.pick(key=key)
        assert s is not None
        assert s.name == table[key % 6]


@pytest.mark.parametrize(
    ("hash_input", "name"),
    [("source", "b"), ("hdr", "b"), ("hash", "b"), ("url_param", "c"), ("rdp-cookie", "b")],
)
def test_one_server_shortcut_looks_up_key_zero(hash_input: str, name: str) -> None:
    """The map backup quirk fills the table with backups b and c (weights
    2/3 give ``b c``); with one server "in use" (fbck) HAProxy looks up 0,
    except for url_param which always hashes."""
    algo = MapAlgorithm()
    algo.hash_input = hash_input
    h = Harness.start(algo, servers([1], backups=[2, 3]))
    h.down("a")
    s = h.pick(key=1)
    assert s is not None
    assert s.name == name


def test_one_server_shortcut_hashes_a_missing_header_to_zero() -> None:
    algo = MapAlgorithm()
    algo.hash_input = "hdr"
    h = Harness.start(algo, servers([1], backups=[2, 3]))
    h.down("a")
    assert h.seq(4) == "b b b b"
    algo.hash_input = "rdp-cookie"  # a missing cookie goes round robin
    assert h.seq(4) == "b c b c"


def test_map_weights_are_divided_by_their_gcd() -> None:
    h = Harness.start(MapAlgorithm(), servers([4, 0, 6]))
    assert (h.be.wmult, h.be.wdiv) == (2, 1)
    assert [s.eweight for s in h.be.servers] == [2, 0, 3]


# -- consistent hashing ------------------------------------------------------------


def _points(h: Harness) -> list[tuple[int, str]]:
    pts = []
    for s in h.be.servers:
        pts += [(full_hash(s.puid * 4096 + j), s.name) for j in range(s.eweight)]
    return sorted(pts)


def test_chash_takes_the_nearer_point_and_ties_go_to_the_predecessor() -> None:
    h = Harness.start(ChashAlgorithm(), servers([1, 1]))
    pts = _points(h)
    i = next(
        i
        for i in range(len(pts) - 1)
        if pts[i][1] != pts[i + 1][1] and (pts[i + 1][0] - pts[i][0]) % 2 == 0
    )
    (lo, lo_name), (hi, hi_name) = pts[i], pts[i + 1]
    mid = (lo + hi) // 2
    for key, name in ((lo, lo_name), (mid, lo_name), (mid + 1, hi_name), (hi, hi_name)):
        s = h.pick(key=key)
        assert s is not None
        assert s.name == name


def test_chash_wraps_around_the_ring() -> None:
    h = Harness.start(ChashAlgorithm(), servers([1, 1, 1]))
    (first, first_name), (last, last_name) = _points(h)[0], _points(h)[-1]
    # between the last point and the first, across 2**32
    gap = (first - last) % 2**32
    below = (last + gap // 2) % 2**32
    above = (below + 1) % 2**32
    s1, s2 = h.pick(key=below), h.pick(key=above)
    assert s1 is not None
    assert s2 is not None
    assert (s1.name, s2.name) == (last_name, first_name)


def test_chash_avoid_walks_to_the_next_server() -> None:
    h = Harness.start(ChashAlgorithm(), servers([1, 1]))
    for key in range(0, 2**32, 2**26):
        owner = h.pick(key=key)
        assert owner is not None
        other = h.pick(key=key, avoid=owner.name)
        assert other is not None
        assert other is not owner


def test_chash_hash_lookup_ignores_fullness() -> None:
    srvs = servers([1, 1])
    srvs[0].maxconn = 1
    h = Harness.start(ChashAlgorithm(), srvs)
    h.take(h["a"])
    owner = next(k for k in range(0, 2**32, 2**24) if h.pick(key=k) is h["a"])
    assert h.pick(key=owner) is h["a"]


def test_chash_bounded_load_caps_every_server() -> None:
    """With factor 125 no server takes more than ceil(1.25 * its share)."""
    h = Harness.start(ChashAlgorithm(), servers([1, 1, 1, 1]), hash_balance_factor=125)
    for _ in range(40):
        s = h.pick(key=7)
        assert s is not None
        h.take(s)
    counts = Counter(s.name for s in h.be.servers for _ in range(s.served))
    assert max(counts.values()) <= 13


def test_chash_raising_the_weight_above_the_initial_adds_points() -> None:
    h = Harness.start(ChashAlgorithm(), servers([1, 1]))
    h.weight("a", 3)
    keys = range(0, 2**32, 2**20)
    counts = Counter(s.name for k in keys if (s := h.pick(key=k)) is not None)
    assert counts["a"] > 2 * counts["b"]


# -- random ----------------------------------------------------------------------------


def test_random_is_reproducible_with_a_seeded_rng() -> None:
    def run() -> str:
        algo = RandomAlgorithm()
        algo.rng = random.Random(42)
        return Harness.start(algo, servers([1, 1, 1])).seq(30)

    assert run() == run()


def test_random_prefers_the_less_loaded_of_its_draws() -> None:
    algo = RandomAlgorithm()
    algo.rng = random.Random(3)
    h = Harness.start(algo, servers([1, 1]), random_draws=2)
    for _ in range(5):
        h.take(h["a"])
    picks = Counter(h.seq(200).split())
    assert picks["b"] > 2 * picks["a"]  # a wins only when both draws land on it


def test_random_returns_none_when_the_winner_is_full() -> None:
    algo = RandomAlgorithm()
    algo.rng = random.Random(5)
    srvs = servers([1])
    srvs[0].maxconn = 1
    h = Harness.start(algo, srvs)
    h.take(h["a"])
    assert h.pick() is None


def test_random_ignores_the_key() -> None:
    algo = RandomAlgorithm()
    algo.rng = random.Random(9)
    h = Harness.start(algo, servers([1, 1, 1]))
    assert len({s.name for _ in range(60) if (s := h.pick(key=0)) is not None}) == 3


def test_rng_defaults_to_an_os_seed() -> None:
    a, b = RandomAlgorithm(), RandomAlgorithm()
    assert a.rng.getrandbits(64) != b.rng.getrandbits(64)


# -- the eb32 tree stand-in ----------------------------------------------------------


def test_eb32_tree_walks_duplicates_in_insertion_order() -> None:
    t: Eb32Tree[str] = Eb32Tree()
    for key, item in [(5, "x"), (1, "a"), (5, "y"), (3, "m"), (5, "z")]:
        t.insert(key, item)
    assert list(t) == ["a", "m", "x", "y", "z"]
    assert t.first() == "a"
    i = t.lookup_ge(4)
    assert (t.key_at(i), t.item_at(i)) == (5, "x")  # the first of the duplicates
    assert t.lookup_ge(6) == len(t)


@pytest.mark.parametrize("n", [3, 40])
def test_eb32_tree_bulk_operations_match_one_by_one(n: int) -> None:
    """insert_many/delete_many take a faster path for big batches."""
    bulk: Eb32Tree[int] = Eb32Tree()
    single: Eb32Tree[int] = Eb32Tree()
    base = [(k % 7, k) for k in range(10)]
    bulk.insert_many(base)
    for key, item in base:
        single.insert(key, item)
    extra = [(k % 5, 100 + k) for k in range(n)]
    leaves = bulk.insert_many(extra)
    for key, item in extra:
        single.insert(key, item)
    assert list(bulk) == list(single)
    bulk.delete_many(leaves)
    assert list(bulk) == [item for _, item in sorted(base, key=lambda e: e[0])]
    assert bulk.first() == 0
    empty: Eb32Tree[int] = Eb32Tree()
    assert empty.first() is None
