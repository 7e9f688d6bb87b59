"""Slow start's clock: when each server in slow start takes its next step
(``server.c`` 2.6: one ``server_warmup()`` task per server with ``slowstart``).

A server that comes UP with ``slowstart`` is STARTING (spec §10): its
effective weight (dynamic algorithms) and its connection limit ramp up with
the whole seconds elapsed since the change. HAProxy recomputes them from a
task that the state change arms and that re-arms itself every
``max(1000, slowstart / 20)`` ms while the server is STARTING; ``slowstart``
being stored in seconds, that is one second (the "5 % steps" of the code
comment never happen). Each step goes through ``transitions.warmup_step()``.

This heap is sans-IO: deadlines are milliseconds of the injected clock,
``run_due()`` takes the steps that are due, ``core/timer.py`` runs it on a
loop, tests call ``run_due()`` after moving a ``ManualClock``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from herdsman.core.backend import Server
from herdsman.core.clock import Clock

# the step: True while the server stays STARTING (then it is re-armed)
Step = Callable[[Server], bool]


def step_delay_ms(srv: Server) -> int:
    """``MS_TO_TICKS(MAX(1000, s->slowstart / 20))`` with ``slowstart`` in seconds."""
    return max(1000, srv.slowstart_s // 20)


class Warmup:
    """The servers in slow start, each with the time of its next step."""

    def __init__(self, clock: Clock, step: Step) -> None:
        self.clock = clock
        self.step = step
        self.on_change: Callable[[int], None] | None = None
        self._heap: list[tuple[int, int, Server]] = []
        self._due: dict[int, int] = {}  # id(server) -> its armed deadline
        self._seq = 0

    def arm(self, srv: Server) -> None:
        """``task_schedule()``: step ``srv`` after its step delay, or earlier if armed so."""
        when = self.clock.now_ms() + step_delay_ms(srv)
        armed = self._due.get(id(srv))
        if armed is not None and armed <= when:
            return
        self._due[id(srv)] = when
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, srv))
        if self.on_change is not None:
            self.on_change(when)

    def armed(self, srv: Server) -> int | None:
        """The deadline of ``srv``'s next step, if one is armed."""
        return self._due.get(id(srv))

    def next_deadline(self) -> int | None:
        heap = self._heap
        while heap and self._due.get(id(heap[0][2])) != heap[0][0]:
            heapq.heappop(heap)  # replaced by an earlier deadline
        return heap[0][0] if heap else None

    def run_due(self) -> list[Server]:
        """Take every step that is due; returns the servers stepped."""
        now = self.clock.now_ms()
        stepped: list[Server] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, _, srv = heapq.heappop(heap)
            if self._due.get(id(srv)) != when:
                continue
            del self._due[id(srv)]
            stepped.append(srv)
            if self.step(srv):
                self.arm(srv)
        return stepped
