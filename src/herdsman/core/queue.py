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
"""

from __future__ import annotations

import heapq
from typing import Any

PRIO_CLASS_MAX = 2047  # ``set-priority-class`` is clamped to ±2047
PRIO_OFFSET_MAX = 524287  # ``set-priority-offset`` to ±524287 ms


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
