"""``balance leastconn``: a port of ``lb_fwlc.c``.

Servers sit in a tree keyed by ``(inflight + 1) * 4096 / eweight`` where
``inflight = served + nbpend``, and 0 when idle, so idle servers always come
first whatever their weight. The ``+ 1`` sorts by the load a server *would*
have once picked, which makes heavier servers win among equally loaded ones.
Equal keys keep insertion order and a server is reinserted whenever its key
changes on take/release, which turns ties into a round robin.

The state-change plumbing (active/backup trees, committed weight and
usability) is shared with ``first`` (``lb_fas.c`` is the same file with
another key), hence :class:`TreeAlgorithm`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from herdsman.lb.base import (
    SRV_EWGHT_MAX,
    Committed,
    LbBackend,
    LbServer,
    WeightedAlgorithm,
    register,
)
from herdsman.lb.ebtree import Eb32Tree, Leaf


@dataclass(eq=False, slots=True)
class _Slot(Committed):
    """What the tree algorithms keep in ``srv.lb``."""

    tree: Eb32Tree[LbServer] | None = None  # lb_tree; None while unusable
    leaf: Leaf | None = None  # position in ``tree``
    key: int = 0


def _slot(srv: LbServer) -> _Slot:
    slot = srv.lb
    assert isinstance(slot, _Slot), f"server {srv.name} not initialised by this algorithm"
    return slot


def dynamic_maxconn(backend: LbBackend, srv: LbServer) -> int:
    """``srv_dynamic_maxconn()``, computed by core (minconn, fullconn, slowstart)."""
    return backend.dynamic_maxconn(srv)


class TreeAlgorithm(WeightedAlgorithm):
    """Active and backup trees of servers, plus HAProxy's state callbacks.

    Subclasses give the key and the acceptance test.
    """

    name: ClassVar[str]
    dynamic: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self._act: Eb32Tree[LbServer] = Eb32Tree()
        self._bck: Eb32Tree[LbServer] = Eb32Tree()

    def init(self, backend: LbBackend) -> None:
        """``fwlc_init_server_tree()`` / ``fas_init_server_tree()``."""
        self._be = backend
        self._act = Eb32Tree()
        self._bck = Eb32Tree()
        for srv in backend.servers:
            slot = _Slot()
            srv.lb = slot
            self._commit(srv)
            if slot.usable:
                self._enter(srv)

    def _key(self, srv: LbServer, eweight: int) -> int:
        raise NotImplementedError

    def _accepts(self, srv: LbServer) -> bool:
        raise NotImplementedError

    def _queue(self, srv: LbServer, eweight: int) -> None:
        slot = _slot(srv)
        assert slot.tree is not None
        slot.key = self._key(srv, eweight)
        slot.leaf = slot.tree.insert(slot.key, srv)

    def _dequeue(self, srv: LbServer) -> None:
        slot = _slot(srv)
        if slot.tree is not None and slot.leaf is not None:
            slot.tree.delete(slot.leaf)
        slot.leaf = None

    # -- state changes (WeightedAlgorithm commits after each) -----------------------

    def _enter(self, srv: LbServer) -> None:
        _slot(srv).tree = self._bck if srv.backup else self._act
        self._queue(srv, srv.eweight)

    def _leave(self, srv: LbServer) -> None:
        self._dequeue(srv)
        _slot(srv).tree = None

    def _reweight(self, srv: LbServer) -> None:
        """A usable server is requeued with the new weight."""
        self._dequeue(srv)
        self._enter(srv)

    def take_conn(self, srv: LbServer) -> None:
        self._reposition(srv)

    def drop_conn(self, srv: LbServer) -> None:
        self._reposition(srv)

    def _reposition(self, srv: LbServer) -> None:
        slot = _slot(srv)
        if slot.tree is not None:
            self._dequeue(srv)
            self._queue(srv, slot.cur_eweight)

    # -- picking -------------------------------------------------------------------

    def pick(self, avoid: LbServer | None = None, key: int | None = None) -> LbServer | None:
        """``fwlc_get_next_server()`` / ``fas_get_next_server()``.

        The first acceptable server in key order other than ``avoid``; the
        avoided one only if nothing else is acceptable. The single backup
        (``fbck``) is returned as is, full or not. ``key`` is ignored.
        """
        be = self._backend()
        if be.srv_act:
            tree = self._act
        elif be.fbck is not None:
            return be.fbck
        elif be.srv_bck:
            tree = self._bck
        else:
            return None
        avoided = None
        for srv in tree:
            if self._accepts(srv):
                if srv is not avoid:
                    return srv
                avoided = srv
        return avoided


class FwlcAlgorithm(TreeAlgorithm):
    """``balance leastconn`` (``lb_fwlc.c``)."""

    name: ClassVar[str] = "leastconn"

    def _key(self, srv: LbServer, eweight: int) -> int:
        inflight = srv.served + srv.nbpend
        return (inflight + 1) * SRV_EWGHT_MAX // (eweight or 1) if inflight else 0

    def _accepts(self, srv: LbServer) -> bool:
        """Room for one more including ``maxqueue``: leastconn prefers to
        queue on a server rather than in the backend (spec §12.4)."""
        if not srv.maxconn:
            return True
        return srv.served + srv.nbpend < dynamic_maxconn(self._backend(), srv) + srv.maxqueue

    def _reposition(self, srv: LbServer) -> None:
        """``fwlc_srv_reposition()``: move only if the key changed, so a
        no-op call does not send the server behind its equals."""
        slot = _slot(srv)
        if slot.tree is None:
            return
        new_key = self._key(srv, slot.cur_eweight)
        if slot.leaf is None or slot.key != new_key:
            super()._reposition(srv)


register(FwlcAlgorithm, "leastconn")
