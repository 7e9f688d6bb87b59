"""One asyncio timer for a whole heap of deadlines.

Sans-IO heaps (the check scheduler, the slow-start steps) keep their own
deadlines on an injected clock and say when the earliest one is due
(``next_deadline()``) and what to do then (``run_due()``). ``LoopTimer`` runs
such a heap on an event loop with a single re-armed ``call_later()``, so
thousands of deadlines cost one loop timer, and tests drive the same heap on
virtual time without a loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from herdsman.core.clock import Clock


class Timed(Protocol):
    """A heap of deadlines (milliseconds of ``clock``)."""

    clock: Clock
    # called with each deadline added: the driver re-arms its timer when it is earlier
    on_change: Callable[[int], None] | None

    def next_deadline(self) -> int | None: ...

    def run_due(self) -> object:
        """Do what is due now (the driver calls it when the timer fires)."""
        ...


class LoopTimer:
    """Runs a ``Timed`` heap on an asyncio loop with a single re-armed timer."""

    def __init__(self, loop: asyncio.AbstractEventLoop, heap: Timed) -> None:
        self.loop = loop
        self.heap = heap
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at: int | None = None
        self._pending = False
        heap.on_change = self._arm_soon

    def _arm_soon(self, deadline: int) -> None:
        # Most new deadlines come after the one armed (a check reschedules
        # itself an interval later): nothing to do. Several are added in a row
        # after each tick: arm once.
        if self._armed_at is not None and self._armed_at <= deadline:
            return
        if not self._pending:
            self._pending = True
            self.loop.call_soon(self._arm)

    def _arm(self) -> None:
        self._pending = False
        deadline = self.heap.next_deadline()
        if deadline is None:
            return
        if self._handle is not None and self._armed_at is not None and self._armed_at <= deadline:
            return
        if self._handle is not None:
            self._handle.cancel()
        delay = max(0, deadline - self.heap.clock.now_ms()) / 1000.0
        self._armed_at = deadline
        self._handle = self.loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._armed_at = None
        self.heap.run_due()
        self._arm()

    def start(self) -> None:
        self._arm()

    def stop(self) -> None:
        """Cancel the timer; the heap keeps its deadlines."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.heap.on_change = None
