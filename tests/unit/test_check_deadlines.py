"""checks/deadlines.py: the check runs' timeouts on one loop timer."""

from __future__ import annotations

import asyncio

from herdsman.checks.deadlines import Deadlines
from herdsman.testing import wait_for_async


class CountingLoop:
    """The running loop, counting the timers asked of it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.timers = 0

    def time(self) -> float:
        return self.loop.time()

    def call_at(self, when: float, callback: object) -> asyncio.TimerHandle:
        self.timers += 1
        return self.loop.call_at(when, callback)  # type: ignore[arg-type]


def deadlines() -> tuple[Deadlines, CountingLoop]:
    counting = CountingLoop(asyncio.get_running_loop())
    return Deadlines(counting), counting  # type: ignore[arg-type]


async def test_expiry_in_order_and_cancelled_ones_never() -> None:
    d, _ = deadlines()
    fired: list[str] = []
    d.arm(30, lambda: fired.append("a"))
    b = d.arm(30, lambda: fired.append("b"))
    d.arm(10, lambda: fired.append("short"))
    d.arm(40, lambda: fired.append("c"))
    d.cancel(b)
    start = asyncio.get_running_loop().time()
    await wait_for_async(lambda: len(fired) == 3, timeout=5)
    assert fired == ["short", "a", "c"]
    assert asyncio.get_running_loop().time() - start >= 0.039  # the loop clock: whole ms
    assert len(d) == 0


async def test_an_expiry_may_arm_again() -> None:
    d, _ = deadlines()
    fired: list[int] = []

    def again() -> None:
        fired.append(len(fired))
        if len(fired) < 3:
            d.arm(5, again)

    d.arm(5, again)
    await wait_for_async(lambda: len(fired) == 3, timeout=5)
    await asyncio.sleep(0.02)
    assert fired == [0, 1, 2]


async def test_runs_that_end_in_time_cost_no_timer_each() -> None:
    """Thousands of deadlines armed then cancelled (runs that ended in time), a
    few re-armed: a handful of loop timers, and nothing left behind."""
    d, counting = deadlines()
    fired: list[int] = []
    for i in range(2000):
        token = d.arm(20, lambda i=i: fired.append(i))  # type: ignore[misc]
        if i % 500 != 499:
            d.cancel(token)
        if i % 100 == 0:
            await asyncio.sleep(0)
    await wait_for_async(lambda: len(fired) == 4, timeout=5)
    assert fired == [499, 999, 1499, 1999]
    assert counting.timers <= 8
    assert len(d) == 0
    assert not any(d._fifos.values())


async def test_events_already_waiting_come_before_expiry() -> None:
    """A late loop: what the poller has waiting (here: the run ended in time) is
    handed over first, and that run is not declared timed out."""
    waiting: list[int] = []
    d = Deadlines(asyncio.get_running_loop(), lambda: [d.cancel(t) for t in waiting])
    fired: list[str] = []
    waiting.append(d.arm(5, lambda: fired.append("ended in time")))
    d.arm(5, lambda: fired.append("timed out"))
    await wait_for_async(lambda: bool(fired), timeout=5)
    await asyncio.sleep(0.01)
    assert fired == ["timed out"]


async def test_close_forgets_everything() -> None:
    d, _ = deadlines()
    fired: list[int] = []
    d.arm(5, lambda: fired.append(1))
    d.close()
    await asyncio.sleep(0.03)
    assert fired == []
    assert len(d) == 0
