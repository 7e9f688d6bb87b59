"""``balance static-rr`` and map-based hashing: a port of ``lb_map.c``.

Both use one table of ``tot_weight`` slots in which each server appears
``eweight`` times (weights divided by their gcd first). static-rr walks the
table; a map-based hash picks ``table[key % tot_weight]``, so adding or
removing a server remaps most keys: that is what ``hash-type consistent``
exists to avoid.

The table is rebuilt from scratch on every change (``recalc_server_map()``),
so unlike the tree algorithms nothing here depends on history except the
static-rr cursor.
"""

from __future__ import annotations

from math import gcd
from typing import ClassVar

from herdsman.lb.base import LbBackend, LbServer, register
from herdsman.lb.hashing import lookup_key


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero) for a possibly negative score."""
    q = abs(a) // b
    return q if a >= 0 else -q


def build_map(backend: LbBackend) -> list[LbServer]:
    """``recalc_server_map()``: interleave the servers of the group in use.

    Each slot goes to the server with the strictly highest score
    ``(wscore + tot) / tot`` after every candidate gained its weight, the
    first declared winning ties; the winner then pays ``tot``. This spreads
    heavy servers out and always starts with the first declared server.

    The candidates are all usable servers of the group (active, or backup
    when no active is usable) while ``tot`` is ``backend.tot_weight``. With
    backups and no ``allbackups`` that is only the first backup's weight, yet
    every usable backup keeps scoring: in 2.6 a second backup can win slots
    when the backup weights differ (observed §3, ``a b a b`` for 2/3).
    """
    if not backend.tot_used:
        return []
    tot = backend.tot_weight
    use_backup = not backend.srv_act
    members = [s for s in backend.servers if s.backup == use_backup and backend.server_usable(s)]
    if tot == 1:
        # HAProxy stops at the first candidate here to avoid dividing by 1
        # into a huge score; the outcome is simply the first server.
        return members[:1]
    score = [0] * len(members)
    table: list[LbServer] = []
    for _ in range(tot):
        best = -1
        best_v = 0
        for i, srv in enumerate(members):
            score[i] += srv.eweight
            v = _cdiv(score[i] + tot, tot)
            if best < 0 or v > best_v:
                best, best_v = i, v
        table.append(members[best])
        score[best] -= tot
    return table


class MapAlgorithm:
    """static-rr (``pick()`` without a key) and map-based hashing (with one)."""

    name: ClassVar[str] = "static-rr"
    dynamic: ClassVar[bool] = False

    def __init__(self) -> None:
        self._be: LbBackend | None = None
        self._table: list[LbServer] = []
        self._rr_idx = 0
        # Balance.algo of a map-based hash (set by make_algorithm), None for
        # static-rr: it decides the one-server shortcut (hashing.lookup_key).
        self.hash_input: str | None = None

    def configure(self, backend: LbBackend) -> None:
        """``init_server_map()``: wmult = gcd of the non-zero weights, wdiv = 1.

        Dividing by the gcd keeps the table as small as the ratios allow
        (2/4/6 behaves as 1/2/3).
        """
        g = 0
        for srv in backend.servers:
            g = gcd(g, srv.uweight)
        backend.wmult = g or 1
        backend.wdiv = 1

    def init(self, backend: LbBackend) -> None:
        self._be = backend
        self._table = build_map(backend)

    def _backend(self) -> LbBackend:
        assert self._be is not None, "init() not called"
        return self._be

    def _rebuild(self, srv: LbServer) -> None:
        """Any state or weight change rebuilds the table (core has recounted)."""
        self._table = build_map(self._backend())

    # methods, not aliases of _rebuild: mypyc compiles no method assigned in a class body
    def set_server_up(self, srv: LbServer) -> None:
        self._rebuild(srv)

    def set_server_down(self, srv: LbServer) -> None:
        self._rebuild(srv)

    def update_server_eweight(self, srv: LbServer) -> None:
        self._rebuild(srv)

    def take_conn(self, srv: LbServer) -> None:
        """The map ignores connection counts."""

    def drop_conn(self, srv: LbServer) -> None:
        """The map ignores connection counts."""

    def pick(self, avoid: LbServer | None = None, key: int | None = None) -> LbServer | None:
        """``map_get_server_hash()`` with a key, else ``map_get_server_rr()``.

        A hash pick ignores fullness: the stream then waits in that server's
        queue.
        """
        key = lookup_key(self.hash_input, self._backend().tot_used, key)
        if key is not None and self._table:
            return self._table[key % len(self._table)]
        return self._next_rr(avoid)

    def _next_rr(self, avoid: LbServer | None) -> LbServer | None:
        """Walk the table from the cursor, skipping full servers and ``avoid``.

        If only ``avoid`` has room it is returned; the cursor moves past it.
        """
        be = self._backend()
        tot = len(self._table)
        if not tot:
            return None
        if not 0 <= self._rr_idx < tot:
            self._rr_idx = 0
        idx = self._rr_idx
        avoided: LbServer | None = None
        avoided_idx = 0
        while True:
            srv = self._table[idx]
            idx += 1
            if not be.server_is_full(srv):
                avoided, avoided_idx = srv, idx
                if srv is not avoid:
                    self._rr_idx = idx
                    return srv
            if idx == tot:
                idx = 0
            if idx == self._rr_idx:
                break
        if avoided is not None:
            self._rr_idx = avoided_idx
        return avoided


register(MapAlgorithm, "static-rr", "hash-map-based")
