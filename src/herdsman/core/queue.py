"""Streams waiting for a server slot: one queue per server, one per backend (``queue.c``).

Invariants (HAProxy's ``pendconn`` rules, spec §2.5):

* A waiting stream has exactly one ``Pending`` entry, in exactly one queue:
  its server's (it was bound to that server: hash, persistence, leastconn with
  ``maxqueue`` room) or its backend's (no server had a free slot). An entry
  never moves between queues; it is unlinked, then its stream decides again.
* Order: lower priority class first, then earlier key (arrival time plus
  priority offset, in milliseconds), then arrival order: FIFO by default.
  HAProxy keeps 20-bit wrapping time keys; these keys do not wrap.
* ``length`` counts linked entries only. Unlinking is O(1) (the heap entry is
  skipped when it surfaces), pushing and taking the first are O(log n).
* Positions for the traffic log (``%sq``/``%bq``): ``idx`` counts the entries
  that left the queue through a dequeue; an entry remembers ``idx - 1`` when
  pushed, and when it is unlinked (dequeued, abandoned or redistributed) its
  ``pos`` is how many left before it, plus one (``queue.c``'s
  ``p->queue_idx`` and ``logs.srv_queue_pos``/``prx_queue_pos``).
* Whoever unlinks an entry tells its stream through ``Waiting.stream``'s
  ``dequeued()``: with the server whose slot it now holds, or None when it
  must be balanced again (``pendconn_redistribute()``).

The operations of ``queue.c`` are functions here (``pendconn_add()``,
``process_srv_queue()``, ``pendconn_redistribute()``,
``pendconn_grab_from_px()``, an abandon), on what they need of a backend and
its servers (``QueueOwner``, ``QueuedServer``: ``core/backend.py``'s classes);
the backend calls them when a stream arrives, leaves or gives up, and
``core/commit.py`` when a server changes state.
"""

from __future__ import annotations

import heapq
from typing import Any, Final, Protocol, TypeVar

from herdsman.config.model import ProxyConfig
from herdsman.core.clock import Clock
from herdsman.core.counters import BeCounters

PRIO_CLASS_MAX: Final = 2047  # ``set-priority-class`` is clamped to ±2047
PRIO_OFFSET_MAX: Final = 524287  # ``set-priority-offset`` to ±524287 ms


class Pending:
    """A stream waiting in a queue (``struct pendconn``)."""

    __slots__ = ("stream", "server", "linked", "since_ms", "idx", "pos")

    def __init__(self, stream: Any, server: Any, since_ms: int) -> None:
        self.stream = stream
        self.server = server  # the server whose queue holds it, None: the backend's
        self.linked = False
        self.since_ms = since_ms  # when it was queued, for the queue time (%Tw)
        self.idx = 0  # the queue's idx - 1 when pushed
        self.pos = 0  # once unlinked: entries dequeued before it, plus one


class Queue:
    """Entries ordered by (class, key, arrival)."""

    __slots__ = ("_heap", "_seq", "length", "idx")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, Pending]] = []
        self._seq = 0
        self.length = 0  # linked entries
        self.idx = 0  # entries that left through a dequeue (HAProxy's queue->idx)

    def push(self, p: Pending, now_ms: int, prio_class: int = 0, prio_offset: int = 0) -> None:
        cls = max(-PRIO_CLASS_MAX, min(PRIO_CLASS_MAX, prio_class))
        off = max(-PRIO_OFFSET_MAX, min(PRIO_OFFSET_MAX, prio_offset))
        self._seq += 1
        heapq.heappush(self._heap, (cls, now_ms + off, self._seq, p))
        p.linked = True
        p.idx = self.idx - 1
        self.length += 1

    def first(self) -> Pending | None:
        """The entry that leaves next, or None."""
        heap = self._heap
        while heap and not heap[0][3].linked:
            heapq.heappop(heap)
        return heap[0][3] if heap else None

    def first_with_rank(self) -> tuple[tuple[int, int], Pending] | None:
        """The first entry with its (class, key), for ``process_srv_queue()``."""
        p = self.first()
        if p is None:
            return None
        top = self._heap[0]
        return (top[0], top[1]), p

    def unlink(self, p: Pending) -> bool:
        """Take ``p`` out (it must be in this queue); False if it already left."""
        if not p.linked:
            return False
        p.linked = False
        p.pos = self.idx - p.idx
        self.length -= 1
        if not self.length:
            self._heap.clear()  # nothing linked remains: drop the skipped entries at once
        return True

    def take_first(self) -> Pending | None:
        p = self.first()
        if p is not None:
            heapq.heappop(self._heap)  # it is on top: no skipped entry left behind
            self.unlink(p)
            self.idx += 1
        return p

    def entries(self) -> list[Pending]:
        """The linked entries, in order (for redistribution)."""
        return [e[3] for e in sorted(self._heap, key=lambda e: e[:3]) if e[3].linked]


# -- the operations (queue.c) ------------------------------------------------------------


class QueuedServer(Protocol):
    """What the queue operations read and write of a server."""

    queue: Queue
    nbpend: int  # == queue.length (the balancer reads nbpend)
    served: int
    maxconn: int
    backup: bool
    counters: BeCounters

    @property
    def track(self) -> QueuedServer | None: ...

    def is_usable(self) -> bool: ...


S = TypeVar("S", bound=QueuedServer, contravariant=True)


class QueueOwner(Protocol[S]):
    """What the queue operations read and write of a backend."""

    cfg: ProxyConfig
    queue: Queue
    beconn: int
    srv_act: int
    allbackups: bool
    counters: BeCounters

    clock: Clock

    @property
    def fbck(self) -> object: ...

    def limit(self, srv: S) -> int:
        """``srv_dynamic_maxconn()``."""
        ...

    def grant(self, srv: S, p: Pending) -> None:
        """``p``'s stream takes a slot on ``srv`` and is told so."""
        ...


def add(be: QueueOwner[S], stream: Any, srv: S | None) -> Pending:
    """``pendconn_add()``: in ``srv``'s queue, or the backend's (None)."""
    now = be.clock.now_ms()
    p = Pending(stream, srv, now)
    if srv is not None:
        srv.queue.push(p, now)
        srv.nbpend = srv.queue.length
        if srv.nbpend > srv.counters.nbpend_max:
            srv.counters.nbpend_max = srv.nbpend
    else:
        be.queue.push(p, now)
        if be.queue.length > be.counters.nbpend_max:
            be.counters.nbpend_max = be.queue.length
    return p


def abandon(be: QueueOwner[S], p: Pending) -> bool:
    """A waiting stream gives up (queue timeout, client gone): it leaves its
    queue and the backend. False when it had already been dequeued."""
    srv: QueuedServer | None = p.server
    queue = srv.queue if srv is not None else be.queue
    if not queue.unlink(p):
        return False
    if srv is not None:
        srv.nbpend = srv.queue.length
    be.beconn -= 1
    return True


def _serves_backend_queue(be: QueueOwner[S], srv: QueuedServer) -> bool:
    """A backup serves the backend's queue only when no active server is up
    and it is the first backup (or ``allbackups``)."""
    return not srv.backup or (not be.srv_act and (srv is be.fbck or be.allbackups))


def process_srv_queue(be: QueueOwner[S], srv: S) -> int:
    """``process_srv_queue()``: while ``srv`` has room, give its slots to the
    best waiter of its own queue and (when it may serve it) the backend's.
    Returns how many streams got a slot."""
    if not srv.nbpend and not be.queue.length:
        return 0
    ref = srv.track or srv
    backend_ok = ref.is_usable() and _serves_backend_queue(be, srv)
    done = 0
    while srv.served < be.limit(srv):
        mine = srv.queue.first_with_rank()
        theirs = be.queue.first_with_rank() if backend_ok else None
        if mine is None and theirs is None:
            break
        # the server's own entry wins ties (pendconn_process_next_strm())
        if theirs is None or (mine is not None and mine[0] <= theirs[0]):
            assert mine is not None
            p = mine[1]
            srv.queue.take_first()
            srv.nbpend = srv.queue.length
        else:
            p = theirs[1]
            be.queue.take_first()
        be.grant(srv, p)
        done += 1
    return done


def redistribute(be: QueueOwner[S], srv: S) -> int:
    """``pendconn_redistribute()``: a server that goes DOWN, NOLB, DRAIN or in
    maintenance sends its waiters back to the balancer, only with ``option
    redispatch`` and without ``option persist``. Returns how many."""
    if be.cfg.redispatch is None or be.cfg.option("persist"):
        return 0
    moved = 0
    for p in srv.queue.entries():
        if p.stream.force:
            continue  # a force-persist stream waits for its server
        srv.queue.unlink(p)
        p.stream.dequeued(None)
        moved += 1
    srv.nbpend = srv.queue.length
    return moved


def grab_from_backend(be: QueueOwner[S], srv: S) -> int:
    """``pendconn_grab_from_px()``: a server coming UP takes what the backend
    queue holds, up to its limit (all of it without maxconn). Returns how many."""
    if not srv.is_usable() or not _serves_backend_queue(be, srv):
        return 0
    limit = be.limit(srv)
    moved = 0
    while be.queue.length and not (srv.maxconn and srv.served >= limit):
        p = be.queue.take_first()
        assert p is not None
        be.grant(srv, p)
        moved += 1
    return moved
