"""Run-time workarounds the benchmarks apply only while a known bug is present.

Scheduler heap ties (found by bench/checks.py): ``Scheduler._schedule`` pushes
``(expire, chk.seq, chk)`` where ``chk.seq`` counts the reschedules *of that
check*; two checks due in the same millisecond with the same count make
``heapq`` compare two ``Check`` objects and raise ``TypeError`` (in
``AsyncioDriver._fire`` or in a runner callback), after which the driver's
timer is not re-armed and checks stop or bunch up. With 2,000 servers at
``inter 1s`` (two checks due per millisecond) it happens within a second.

The proposed fix, applied here verbatim when the bug is detected: draw
``chk.seq`` from one counter shared by the whole scheduler, so the second
element of a heap entry is unique (ties keep FIFO order, like HAProxy's
timer tree) and the stale-entry test ``entry.seq != chk.seq`` is unchanged.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any


def scheduler_has_tie_bug() -> bool:
    from herdsman.checks.scheduler import Scheduler
    from herdsman.core.clock import ManualClock

    class _Fake:
        expire = 0
        seq = 0

    sched = Scheduler(ManualClock(), lambda chk, done: None)
    try:
        sched._schedule(_Fake(), 5)  # type: ignore[arg-type]
        sched._schedule(_Fake(), 5)  # type: ignore[arg-type]
    except TypeError:
        return True
    return False


def patch_scheduler_ties() -> bool:
    """Apply the fix above if the bug is present; returns whether it was applied."""
    if not scheduler_has_tie_bug():
        return False
    from herdsman.checks.scheduler import Scheduler

    counter = itertools.count(1)

    def _schedule(self: Scheduler, chk: Any, expire: int) -> None:
        chk.expire = expire
        chk.seq = next(counter)
        heapq.heappush(self._heap, (expire, chk.seq, chk))
        if self.on_change is not None:
            self.on_change()

    Scheduler._schedule = _schedule  # type: ignore[method-assign]
    return True
