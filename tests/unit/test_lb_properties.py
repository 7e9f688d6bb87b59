"""Properties every algorithm keeps whatever happens at run time (spec §11.4, §12)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lbfakes import FakeServer, Harness, servers

from herdsman.lb.base import Algorithm
from herdsman.lb.chash import ChashAlgorithm, RandomAlgorithm
from herdsman.lb.fas import FasAlgorithm
from herdsman.lb.fwlc import FwlcAlgorithm
from herdsman.lb.fwrr import FwrrAlgorithm
from herdsman.lb.map import MapAlgorithm


def _random() -> Algorithm:
    algo = RandomAlgorithm()
    algo.rng = random.Random(0)
    return algo


ALGOS: dict[str, Callable[[], Algorithm]] = {
    "roundrobin": FwrrAlgorithm,
    "static-rr": MapAlgorithm,
    "leastconn": FwlcAlgorithm,
    "first": FasAlgorithm,
    "consistent": ChashAlgorithm,  # picked with keys
    "random": _random,
}
# fbck is returned without looking at it (fwrr/fwlc/fas/chash *_get_*)
FBCK_UNCHECKED = {"roundrobin", "leastconn", "first", "consistent"}

server_specs = st.lists(
    st.tuples(st.integers(0, 12), st.booleans(), st.integers(0, 2)),  # weight, backup, maxconn
    min_size=1,
    max_size=6,
)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("pick"), st.integers(-1, 5), st.booleans(), st.integers(0, 2**32 - 1)),
        st.tuples(st.sampled_from(["down", "up", "release"]), st.integers(0, 5)),
        st.tuples(st.just("weight"), st.integers(0, 5), st.integers(0, 12)),
    ),
    max_size=50,
)


def _group(h: Harness, name: str) -> list[FakeServer]:
    """The servers HAProxy may pick from now (backend.c: srv_act, fbck)."""
    be = h.be
    usable = [h[s.name] for s in be.servers if be.server_usable(s)]
    if be.srv_act:
        return [s for s in usable if not s.backup]
    if be.fbck is not None and name != "static-rr":  # map: the backup quirk
        return [h[be.fbck.name]]
    return [s for s in usable if s.backup]


@pytest.mark.parametrize("name", ALGOS)
@settings(max_examples=150, deadline=None)
@given(specs=server_specs, allbackups=st.booleans(), script=ops)
def test_picks_respect_usability_backups_fullness_and_avoid(
    name: str,
    specs: list[tuple[int, bool, int]],
    allbackups: bool,
    script: list[tuple[object, ...]],
) -> None:
    srvs = [
        FakeServer(name=chr(97 + i), uweight=w, iweight=w, backup=b, maxconn=m)
        for i, (w, b, m) in enumerate(specs)
    ]
    h = Harness.start(ALGOS[name](), srvs, allbackups=allbackups)
    n = len(srvs)
    for op in script:
        kind, i = op[0], op[1]
        assert isinstance(i, int)
        if kind == "pick":
            avoid = None if i < 0 else srvs[i % n]
            hold, key = op[2], op[3]
            assert isinstance(key, int)
            group = _group(h, name)
            free = [s for s in group if not h.be.server_is_full(s)]
            single_backup = not h.be.srv_act and h.be.fbck is not None
            # static-rr's single-backup table may hold fbck alone whatever
            # other backups are usable (the 2.6 quirk cuts both ways)
            table_quirk = name == "static-rr" and single_backup
            got = h.pick(avoid=avoid and avoid.name, key=key if name == "consistent" else None)
            if got is None:
                if name == "consistent":
                    assert not group
                elif name != "random" and not table_quirk:
                    assert not free
                continue
            assert got in group, "unusable, or a backup while an active is usable"
            if name == "consistent":
                assert got is not avoid or group == [got]
            else:
                full_ok = name in FBCK_UNCHECKED and got is h.be.fbck and single_backup
                assert full_ok or not h.be.server_is_full(got)
                lone = full_ok or table_quirk
                assert got is not avoid or not [s for s in free if s is not avoid] or lone
            h.take(got)
            if not hold:
                h.release(got)
        elif kind == "release":
            s = srvs[i % n]
            if s.served:
                h.release(s)
        elif kind == "down":
            h.down(srvs[i % n].name)
        elif kind == "up":
            h.up(srvs[i % n].name)
        else:
            w = op[2]
            assert isinstance(w, int)
            h.weight(srvs[i % n].name, w)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 256), min_size=1, max_size=8), st.integers(1, 3))
def test_roundrobin_is_weighted_fair_over_full_cycles(weights: list[int], cycles: int) -> None:
    """After k cycles of sum(weights) picks, each server is within one pick of
    k * weight (fwrr is not exact per cycle: the binary isn't either)."""
    h = Harness.start(FwrrAlgorithm(), servers(weights))
    counts = Counter(h.seq(cycles * sum(weights)).split())
    for i, w in enumerate(weights):
        assert abs(counts[chr(97 + i)] - cycles * w) <= 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 64), min_size=1, max_size=8))
def test_static_rr_is_exactly_fair_over_a_cycle(weights: list[int]) -> None:
    h = Harness.start(MapAlgorithm(), servers(weights))
    tot = sum(s.eweight for s in h.be.servers)
    counts = Counter(h.seq(tot).split())
    assert [counts[chr(97 + i)] for i in range(len(weights))] == [s.eweight for s in h.be.servers]


KEYS = range(0, 2**32, 2**32 // 3000)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=2, max_size=8), st.integers(0, 7))
def test_consistent_hash_moves_only_the_keys_of_a_removed_server(
    weights: list[int], gone: int
) -> None:
    h = Harness.start(ChashAlgorithm(), servers(weights))
    victim = h.be.servers[gone % len(weights)].name
    before = {k: s.name for k in KEYS if (s := h.pick(key=k)) is not None}
    h.down(victim)
    after = {k: s.name for k in KEYS if (s := h.pick(key=k)) is not None}
    moved = {k for k in KEYS if before[k] != after[k]}
    assert moved == {k for k in KEYS if before[k] == victim}


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_consistent_hash_removal_moves_about_one_nth(n: int) -> None:
    h = Harness.start(ChashAlgorithm(), servers([1] * n))
    before = [h.pick(key=k) for k in KEYS]
    h.down("a")
    moved = sum(b is not h.pick(key=k) for k, b in zip(KEYS, before, strict=True))
    assert len(KEYS) / (3 * n) < moved < 3 * len(KEYS) / n
