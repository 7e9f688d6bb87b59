"""``balance roundrobin``: a port of HAProxy 2.6's fast weighted round robin.

Why a port and not a textbook smooth WRR: the binary's pick order is fwrr's
own (weights 2/1 give ``a a b``, observed §3), so only the same arithmetic on
the same trees reproduces it. The structure follows ``lb_fwrr.c``:

* Each group (active, backup) has three trees. ``init`` holds servers that
  have not been served in this window, by decreasing weight; ``curr`` holds
  servers by their next position ``npos``; ``next`` holds servers pushed past
  the current window. When ``curr`` and ``init`` run dry the ``init`` and
  ``next`` trees swap roles (``fwrr_switch_trees()``).
* ``curr_weight`` is the window size, ``curr_pos`` the position of the next
  pick, ``next_weight`` the sum of the group's effective weights.
* A server at position ``p`` with weight ``w`` is next due at
  ``p + next_weight / w``; the remainder accumulates in ``rweight``.

HAProxy distinguishes a server's committed ``cur_eweight`` from the pending
``next_eweight``. core updates ``srv.eweight`` before calling us, so it plays
the part of ``next_eweight`` and the slot in ``srv.lb`` keeps the committed
weight and usability (``srv_lb_commit_status()``).

The trees are :class:`herdsman.lb.ebtree.Eb32Tree`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Final

from herdsman.lb.base import (
    BE_WEIGHT_SCALE,
    SRV_EWGHT_MAX,
    Committed,
    LbBackend,
    LbServer,
    WeightedAlgorithm,
    register,
)
from herdsman.lb.ebtree import Eb32Tree, Leaf

SRV_UWGHT_RANGE: Final = 256
_M32 = 0xFFFFFFFF


@dataclass(eq=False, slots=True)
class _Group:
    """``struct fwrr_group``: one of the active and backup server groups."""

    t0: Eb32Tree[LbServer] = field(default_factory=Eb32Tree)
    t1: Eb32Tree[LbServer] = field(default_factory=Eb32Tree)
    curr: Eb32Tree[LbServer] = field(default_factory=Eb32Tree)
    init: Eb32Tree[LbServer] = field(init=False)
    next: Eb32Tree[LbServer] = field(init=False)
    curr_pos: int = 0
    curr_weight: int = 0
    next_weight: int = 0

    def __post_init__(self) -> None:
        self.init = self.t0
        self.next = self.t1


@dataclass(eq=False, slots=True, kw_only=True)
class _Slot(Committed):
    """What fwrr keeps in ``srv.lb``: the fields ``lb_fwrr.c`` uses on a server."""

    group: _Group
    tree: Eb32Tree[LbServer] | None = None  # lb_tree: the tree the server belongs to
    leaf: tuple[Eb32Tree[LbServer], Leaf] | None = None  # where lb_node actually is
    npos: int = 0
    lpos: int = 0
    rweight: int = 0


def _slot(srv: LbServer) -> _Slot:
    slot = srv.lb
    assert isinstance(slot, _Slot), f"server {srv.name} not initialised by fwrr"
    return slot


class FwrrAlgorithm(WeightedAlgorithm):
    """``balance roundrobin`` (``lb_fwrr.c``)."""

    name: ClassVar[str] = "roundrobin"
    dynamic: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self._act = _Group()
        self._bck = _Group()

    # -- setup ---------------------------------------------------------------

    def init(self, backend: LbBackend) -> None:
        """Build both groups from the usable servers, all in their ``init`` tree."""
        self._be = backend
        self._act = _Group()
        self._bck = _Group()
        for grp, tot in ((self._act, backend.tot_wact), (self._bck, backend.tot_wbck)):
            grp.curr_pos = grp.curr_weight = grp.next_weight = tot
        for srv in backend.servers:
            slot = _Slot(group=self._bck if srv.backup else self._act)
            srv.lb = slot
            self._commit(srv)
            if slot.usable:
                self._queue_by_weight(slot.group.init, srv)

    # -- tree primitives -----------------------------------------------------

    def _dequeue(self, srv: LbServer) -> None:
        """``fwrr_dequeue_srv()``: take the node out of whatever tree holds it."""
        slot = _slot(srv)
        if slot.leaf is not None:
            tree, leaf = slot.leaf
            tree.delete(leaf)
            slot.leaf = None

    def _insert(self, tree: Eb32Tree[LbServer], key: int, srv: LbServer) -> None:
        slot: _Slot = srv.lb
        slot.leaf = (tree, tree.insert(key, srv))
        slot.tree = tree

    def _queue_by_weight(self, tree: Eb32Tree[LbServer], srv: LbServer) -> None:
        """Heaviest first, so a new window starts with the biggest servers."""
        self._insert(tree, SRV_EWGHT_MAX - srv.eweight, srv)

    def _queue(self, srv: LbServer) -> None:
        """``fwrr_queue_srv()``: place a server by its next position.

        A server whose position falls outside the current window (or the
        window that would follow) waits in ``next`` with its position made
        relative to that window.
        """
        slot: _Slot = srv.lb
        grp = slot.group
        be = self._be
        assert be is not None
        if not be.server_usable(srv):
            slot.tree = None
        elif (
            srv.eweight <= 0
            or slot.npos >= 2 * grp.curr_weight
            or slot.npos >= grp.curr_weight + grp.next_weight
        ):
            slot.npos -= grp.curr_weight
            self._queue_by_weight(grp.next, srv)
        else:
            # Position first, then the remainder, so that among servers due
            # at the same position the one owed most (and heaviest) goes first.
            key = SRV_UWGHT_RANGE * slot.npos + (
                (SRV_EWGHT_MAX + slot.rweight - srv.eweight) // BE_WEIGHT_SCALE
            )
            self._insert(grp.curr, key, srv)

    def _get_srv(self, srv: LbServer) -> None:
        """``fwrr_get_srv()``: make ``npos`` valid before the server moves."""
        slot = _slot(srv)
        grp = slot.group
        if slot.tree is grp.init:
            slot.npos = slot.rweight = 0
        elif slot.tree is grp.next:
            slot.npos += grp.curr_weight
        elif slot.tree is None:
            slot.npos = grp.curr_pos

    @staticmethod
    def _switch_trees(grp: _Group) -> None:
        grp.init, grp.next = grp.next, grp.init
        grp.curr_weight = grp.next_weight
        grp.curr_pos = grp.curr_weight

    def _from_group(self, grp: _Group) -> LbServer | None:
        """``fwrr_get_server_from_group()``.

        The head of ``curr`` if it is due; otherwise a fresh server from
        ``init``; otherwise the head of ``curr`` anyway (a "hole"), or None.
        """
        s1 = grp.curr.first()
        if s1 is not None:
            slot1 = _slot(s1)
            if slot1.cur_eweight and slot1.npos <= grp.curr_pos:
                return s1
        s2 = grp.init.first()
        if s2 is not None:
            slot2 = _slot(s2)
            if slot2.cur_eweight:
                slot2.npos = slot2.rweight = 0
                return s2
        return s1

    @staticmethod
    def _update_position(grp: _Group, slot: _Slot) -> None:
        """``fwrr_update_position()``: move the server one step forward."""
        eweight = slot.cur_eweight
        if not eweight:
            return
        if not slot.npos:
            slot.npos = grp.curr_pos
        slot.lpos = slot.npos
        slot.npos += grp.next_weight // eweight
        slot.rweight += grp.next_weight % eweight
        if slot.rweight >= eweight:
            slot.rweight -= eweight
            slot.npos += 1

    # -- state changes (WeightedAlgorithm commits after each) ---------------------

    def _leave(self, srv: LbServer) -> None:
        """``fwrr_set_server_status_down()``."""
        slot = _slot(srv)
        slot.group.next_weight -= slot.cur_eweight
        self._dequeue(srv)
        slot.tree = None

    def _enter(self, srv: LbServer) -> None:
        """``fwrr_set_server_status_up()``: enter the current window.

        The returning server is placed proportionally to what is left of the
        window, so it neither floods nor starves (the formula is HAProxy's).
        """
        slot = _slot(srv)
        grp = slot.group
        grp.next_weight += srv.eweight
        self._get_srv(srv)
        slot.npos = grp.curr_pos + (grp.next_weight + grp.curr_weight - grp.curr_pos) // srv.eweight
        self._queue(srv)

    def _reweight(self, srv: LbServer) -> None:
        """``fwrr_update_server_weight()``: reposition without a rebuild."""
        slot = _slot(srv)
        if srv.eweight == slot.cur_eweight:
            return
        grp = slot.group
        grp.next_weight += srv.eweight - slot.cur_eweight
        if slot.tree is grp.init:
            self._dequeue(srv)
            self._queue_by_weight(grp.init, srv)
        else:
            # In curr or next (a usable server is always in a tree, so
            # HAProxy's "not in a tree" case cannot happen here): shorten its
            # wait if it got heavier, never lengthen it, and never move it
            # behind the current position.
            self._get_srv(srv)
            prev_next = slot.npos
            step = grp.next_weight // srv.eweight
            slot.npos = min(slot.lpos + step, prev_next)
            slot.rweight = 0
            if slot.npos < grp.curr_pos + 2:
                slot.npos = grp.curr_pos + step
            self._dequeue(srv)
            self._queue(srv)

    def take_conn(self, srv: LbServer) -> None:
        """Round robin ignores connection counts."""

    def drop_conn(self, srv: LbServer) -> None:
        """Round robin ignores connection counts."""

    # -- picking ---------------------------------------------------------------

    def pick(self, avoid: LbServer | None = None, key: int | None = None) -> LbServer | None:
        """``fwrr_get_next_server()``.

        Full and avoided servers are stepped over (their position still
        advances) and requeued afterwards; the avoided one is used only when
        nothing else is available. ``key`` is ignored.
        """
        be = self._be
        assert be is not None, "init() not called"
        if be.srv_act:
            grp = self._act
        elif be.fbck is not None:
            return be.fbck
        elif be.srv_bck:
            grp = self._bck
        else:
            return None

        curr_pos = grp.curr_pos
        if avoid is None and grp.curr_weight:
            # The common pick in one pass: the head of ``curr`` is due and not
            # full. The loop below would do the same moves in the same order
            # (_update_position(), _dequeue(), advance, _queue()); being full
            # depends on none of them, so it is asked first.
            curr = grp.curr
            srv = curr.first()
            if srv is not None:
                slot: _Slot = srv.lb
                eweight = slot.cur_eweight
                if (
                    eweight
                    and slot.npos <= curr_pos
                    and not (srv.maxconn and be.server_is_full(srv))
                ):
                    # _update_position()
                    npos = slot.npos or curr_pos
                    slot.lpos = npos
                    next_weight = grp.next_weight
                    npos += next_weight // eweight
                    rweight = slot.rweight + next_weight % eweight
                    if rweight >= eweight:
                        rweight -= eweight
                        npos += 1
                    slot.npos = npos
                    slot.rweight = rweight
                    curr.delete_first()
                    grp.curr_pos = curr_pos + 1
                    weight = srv.eweight
                    curr_weight = grp.curr_weight
                    if (
                        weight > 0
                        and npos < 2 * curr_weight
                        and npos < curr_weight + next_weight
                        and be.server_usable(srv)
                    ):
                        # _queue()'s case of a server staying in the window
                        key = SRV_UWGHT_RANGE * npos + (
                            (SRV_EWGHT_MAX + rweight - weight) // BE_WEIGHT_SCALE
                        )
                        slot.leaf = (curr, curr.insert(key, srv))
                    else:
                        slot.leaf = None
                        self._queue(srv)
                    return srv

        switched = False
        avoided: LbServer | None = None
        full: list[LbServer] = []  # saturated or avoided, requeued at the end
        while True:
            if not grp.curr_weight:
                grp.curr_pos = grp.curr_weight = grp.next_weight
            # The end of "curr" may be reached once per pick: then the next
            # window starts (and what was "next" becomes "init").
            srv = self._from_group(grp)
            if srv is None and not switched:
                switched = True
                self._switch_trees(grp)
                srv = self._from_group(grp)
            if srv is None:
                srv = avoided  # everything else is full; None if all are
                break
            self._update_position(grp, _slot(srv))
            self._dequeue(srv)
            grp.curr_pos += 1
            if not be.server_is_full(srv):
                if srv is not avoid or avoided is not None:
                    break
                avoided = srv
            full.append(srv)

        if srv is not None:
            self._queue(srv)
        # HAProxy chains these LIFO, so requeue the most recent first: the
        # order decides ties between equal keys.
        for other in reversed(full):
            if other is srv:
                continue
            if switched:
                # Their position belonged to the old window: only weight counts.
                self._queue_by_weight(grp.init, other)
            else:
                self._queue(other)
        return srv


register(FwrrAlgorithm, "roundrobin")
