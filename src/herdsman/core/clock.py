"""Time, injected everywhere it matters so tests can run on virtual time.

Two readings, as in HAProxy: ``now_ms`` (a monotonic millisecond counter used
for check scheduling and timeouts, HAProxy's ``now_ms``) and ``now_s`` (whole
seconds used for ``last_change``, downtime and slowstart, HAProxy's
``now.tv_sec``). Only their differences are meaningful.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def now_s(self) -> int: ...


class MonotonicClock:
    """The real clock."""

    __slots__ = ()

    def now_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    def now_s(self) -> int:
        return time.monotonic_ns() // 1_000_000_000


class ManualClock:
    """A clock that only moves when told to (tests, simulations)."""

    __slots__ = ("ms",)

    def __init__(self, start_ms: int = 1_000_000) -> None:
        self.ms = start_ms

    def now_ms(self) -> int:
        return self.ms

    def now_s(self) -> int:
        return self.ms // 1000

    def advance(self, ms: int) -> None:
        self.ms += ms

    def set(self, ms: int) -> None:
        if ms < self.ms:
            raise ValueError("time cannot go backwards")
        self.ms = ms
