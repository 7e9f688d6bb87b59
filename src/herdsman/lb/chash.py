"""Consistent hashing and ``balance random``: a port of ``lb_chash.c``.

Each usable server owns ``eweight`` points on a 32-bit ring; point ``j`` of
the server with id ``puid`` sits at ``full_hash(puid * 4096 + j)``, so the
ring depends only on ids and weights and two instances with the same ids
agree. Removing a server only moves the keys that landed on its points.

A key looks up the point at or after it and the one before it and takes the
nearer (ties to the one before), then walks forward past the avoided server
and, with ``hash-balance-factor``, past servers over their bounded load.
Without a key (the hash input is missing) the ring is walked point by point
from the last pick, as a round robin (``chash_get_next_server()``).

``balance random`` draws ``random_draws`` random keys on the same ring and
keeps the least loaded of the servers found (``backend.c get_server_rnd()``).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import ClassVar, Final

from herdsman.lb.base import (
    BE_WEIGHT_SCALE,
    Committed,
    LbBackend,
    LbServer,
    WeightedAlgorithm,
    register,
)
from herdsman.lb.ebtree import Eb32Tree, Leaf
from herdsman.lb.hashing import lookup_key
from herdsman.sample.hash import full_hash

SRV_EWGHT_RANGE: Final = 256 * BE_WEIGHT_SCALE
_M32 = 0xFFFFFFFF

Ring = Eb32Tree[LbServer]


@dataclass(eq=False, slots=True, kw_only=True)
class _Slot(Committed):
    """What chash keeps in ``srv.lb``."""

    ring: Ring  # lb_tree: the active or the backup ring
    nodes_tot: int  # lb_nodes_tot: points allocated (uweight * 16 at init)
    leaves: list[Leaf] = field(default_factory=list)  # points now on the ring, by j
    # recount_servers() only runs at init for chash, so HAProxy's bounded
    # load uses the cumulative weights of that moment; keep them.
    cumulative_weight: int = 0


def _points(srv: LbServer, start: int, stop: int) -> list[tuple[int, LbServer]]:
    """Ring positions of the server's points ``start <= j < stop``."""
    base = srv.puid * SRV_EWGHT_RANGE
    return [(full_hash((base + j) & _M32), srv) for j in range(start, stop)]


def _slot(srv: LbServer) -> _Slot:
    slot = srv.lb
    assert isinstance(slot, _Slot), f"server {srv.name} not initialised by chash"
    return slot


class ChashAlgorithm(WeightedAlgorithm):
    """``hash-type consistent`` for the hash algorithms."""

    name: ClassVar[str] = "consistent"
    dynamic: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self._act: Ring = Eb32Tree()
        self._bck: Ring = Eb32Tree()
        # chash.last: the point of the last round-robin pick. One pointer for
        # both rings, as in HAProxy: after a walk over the backups it still
        # points into the backup ring when actives return, and the next walk
        # finishes that ring before moving to the active one.
        self._last: tuple[Ring, Leaf] | None = None
        # Balance.algo (set by make_algorithm): decides the one-server
        # shortcut of hashing.lookup_key.
        self.hash_input: str | None = None

    # -- setup ---------------------------------------------------------------

    def init(self, backend: LbBackend) -> None:
        """``chash_init_server_tree()``."""
        self._be = backend
        self._act = Eb32Tree()
        self._bck = Eb32Tree()
        self._last = None
        # Same points and insertion order as queueing the servers one after
        # the other, but one sort per ring instead of one per server.
        batches: dict[int, list[tuple[int, LbServer]]] = {id(self._act): [], id(self._bck): []}
        for srv in backend.servers:
            slot = _Slot(
                ring=self._bck if srv.backup else self._act,
                nodes_tot=srv.uweight * BE_WEIGHT_SCALE,
                cumulative_weight=srv.cumulative_weight,
            )
            srv.lb = slot
            self._commit(srv)
            if slot.usable:
                batches[id(slot.ring)] += _points(srv, 0, min(srv.eweight, slot.nodes_tot))
        for ring in (self._act, self._bck):
            leaves = iter(ring.insert_many(batches[id(ring)]))
            for srv in backend.servers:
                slot = _slot(srv)
                if slot.ring is ring and slot.usable:
                    slot.leaves = [next(leaves) for _ in range(min(srv.eweight, slot.nodes_tot))]

    # -- ring maintenance ----------------------------------------------------

    def _remove_points(self, srv: LbServer, keep: int) -> None:
        """Drop the server's points ``j >= keep``, last first.

        If the round-robin pointer is on one of them it moves to the next
        surviving point, as the one-by-one ``chash_skip_node()`` calls do.
        """
        slot = _slot(srv)
        gone = slot.leaves[keep:]
        if not gone:
            return
        if self._last is not None and self._last[0] is slot.ring and self._last[1] in gone:
            ring, leaf = self._last
            dead = set(gone)
            n = len(ring)
            start = ring.index(leaf)
            self._last = None
            for step in range(1, n):
                cand = ring.leaf_at((start + step) % n)
                if cand not in dead:
                    self._last = (ring, cand)
                    break
        slot.ring.delete_many(gone)
        del slot.leaves[keep:]

    def _adjust_points(self, srv: LbServer) -> None:
        """``chash_queue_dequeue_srv()``: make the point count match eweight."""
        slot = _slot(srv)
        target = srv.eweight
        self._remove_points(srv, min(target, len(slot.leaves)))
        if slot.nodes_tot < target:
            # HAProxy reallocates the point array: every point is removed and
            # inserted again, which renews their order among equal keys.
            self._remove_points(srv, 0)
            slot.nodes_tot = target
        new = _points(srv, len(slot.leaves), min(target, slot.nodes_tot))
        slot.leaves.extend(slot.ring.insert_many(new))

    # -- state changes (WeightedAlgorithm commits after each) ---------------------

    def _leave(self, srv: LbServer) -> None:
        self._remove_points(srv, 0)

    def _enter(self, srv: LbServer) -> None:
        self._adjust_points(srv)

    def _reweight(self, srv: LbServer) -> None:
        """``chash_update_server_weight()``: only the point count changes."""
        self._adjust_points(srv)

    def take_conn(self, srv: LbServer) -> None:
        """Bounded load reads ``served`` at pick time; nothing to maintain."""

    def drop_conn(self, srv: LbServer) -> None:
        """Bounded load reads ``served`` at pick time; nothing to maintain."""

    # -- lookups ---------------------------------------------------------------

    def _ring_in_use(self) -> Ring | None:
        """The active ring, else the backup ring (when no single backup is set)."""
        be = self._backend()
        if be.srv_act:
            return self._act
        if be.srv_bck and be.fbck is None:
            return self._bck
        return None

    def _eligible(self, srv: LbServer, backend_served: int) -> bool:
        """``chash_server_is_eligible()``: bounded load (Mirrokni et al.).

        The backend may hold ``ceil((served + 1) * factor / 100)`` streams,
        shared by weight; the remainder goes by cumulative weight so the
        shares add up. A server always gets at least one. ``backend_served``
        is HAProxy's ``p->served``: streams assigned to a server, queued
        ones excluded (so not ``beconn``).
        """
        be = self._backend()
        slot = _slot(srv)
        tot_slots = ((backend_served + 1) * be.hash_balance_factor + 99) // 100
        tot_weight = be.tot_weight
        per_weight, remainder = divmod(tot_slots, tot_weight)
        cw = slot.cumulative_weight
        slots = slot.cur_eweight * per_weight
        slots += ((cw + slot.cur_eweight) * remainder) // tot_weight
        slots -= (cw * remainder) // tot_weight
        return srv.served < max(slots, 1)

    def lookup(self, key: int, avoid: LbServer | None = None) -> LbServer | None:
        """``chash_get_server_hash()``: the server nearest to ``key``."""
        ring = self._ring_in_use()
        if ring is None:
            return self._backend().fbck  # the single backup, or nothing usable
        n = len(ring)
        if not n:
            return None
        nxt = ring.lookup_ge(key)
        if nxt == n:
            nxt = 0
        prev = nxt - 1 if nxt else n - 1
        # distances in unsigned 32-bit arithmetic: the ring wraps
        if (key - ring.key_at(prev)) & _M32 <= (ring.key_at(nxt) - key) & _M32:
            nxt = prev
        srv = ring.item_at(nxt)
        be = self._backend()
        factor = be.hash_balance_factor
        served = sum(s.served for s in be.servers) if factor else 0
        wrapped = 0
        while srv is avoid or (factor and not self._eligible(srv, served)):
            nxt += 1
            if nxt == n:
                nxt = 0
                wrapped += 1
                if wrapped > 1:  # every point refused: keep the last one seen
                    break
            srv = ring.item_at(nxt)
        return srv

    def next_server(self, avoid: LbServer | None = None) -> LbServer | None:
        """``chash_get_next_server()``: walk the ring from the last pick.

        Full servers are skipped; ``avoid`` is kept as a last resort.
        """
        root = self._ring_in_use()
        if root is None:
            return self._backend().fbck
        be = self._backend()
        stop = node = self._last
        avoided: LbServer | None = None
        avoided_node: tuple[Ring, Leaf] | None = None
        while True:
            node = self._next_node(node, root)
            self._last = node
            if node is None:
                return None
            if stop is None:
                stop = node
            ring, leaf = node
            srv = ring.item_at(ring.index(leaf))
            if not be.server_is_full(srv):
                if srv is not avoid:
                    return srv
                avoided, avoided_node = srv, node
            if node == stop:
                break
        self._last = avoided_node
        return avoided

    @staticmethod
    def _next_node(node: tuple[Ring, Leaf] | None, root: Ring) -> tuple[Ring, Leaf] | None:
        """eb32_next() within the node's own ring, else the first of ``root``."""
        if node is not None:
            ring, leaf = node
            i = ring.index(leaf) + 1
            if i < len(ring):
                return ring, ring.leaf_at(i)
        if not len(root):
            return None
        return root, root.leaf_at(0)

    def pick(self, avoid: LbServer | None = None, key: int | None = None) -> LbServer | None:
        """A hash lookup when there is a key, else the round-robin walk."""
        srv = None
        key = lookup_key(self.hash_input, self._backend().tot_used, key)
        if key is not None:
            srv = self.lookup(key, avoid)
        if srv is None:
            srv = self.next_server(avoid)
        return srv


class RandomAlgorithm(ChashAlgorithm):
    """``balance random(<draws>)``: power of N choices on the chash ring."""

    name: ClassVar[str] = "random"

    def __init__(self) -> None:
        super().__init__()
        # core passes nothing random; tests replace this with a seeded one
        self.rng = random.Random(os.urandom(16))

    def pick(self, avoid: LbServer | None = None, key: int | None = None) -> LbServer | None:
        """``get_server_rnd()``: ``key`` is ignored.

        Of the servers found by ``random_draws`` random keys the one with the
        lowest ``served / eweight`` wins (the earlier draw on ties). A full
        winner gives None so the stream waits in the backend queue instead.
        """
        be = self._backend()
        if not be.tot_weight:
            return None
        curr: LbServer | None = None
        draws = be.random_draws
        while True:
            prev = curr
            curr = self.lookup(self.rng.getrandbits(32), avoid)
            if curr is None:
                break
            if (
                prev is not None
                and prev is not curr
                and curr.served * _slot(prev).cur_eweight > prev.served * _slot(curr).cur_eweight
            ):
                curr = prev
            draws -= 1
            if draws <= 0:
                break
        if curr is not None and (curr.nbpend or be.server_is_full(curr)):
            return None
        return curr


register(ChashAlgorithm, "hash-consistent")


register(RandomAlgorithm, "random")
