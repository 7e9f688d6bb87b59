"""Every check run's deadline on one loop timer.

A run arms a deadline when it starts (the connect timeout, spec §4.6) and
perhaps again once connected (``timeout check``); nearly every run ends long
before it. A ``call_at()`` per deadline, cancelled a millisecond later, was
about 5 % of the checker's CPU at 2,000 HTTP checks per second (py-spy,
docs/performance.md section 11). Deadlines of the same length expire in the
order they were armed, so each length keeps a FIFO of (when, token); a run's
token is forgotten when it ends or re-arms, and the one loop timer is armed
for the earliest deadline still live. It fires about once per timeout,
dropping the entries of the runs that ended meanwhile in bulk.

Before any run is declared timed out, ``before_expiry()`` (the poller's
drain) hands over the I/O events already waiting: on a loop running late, a
connection that was established in time must not be reported as a timeout
(nor its server put DOWN) because herdsman itself was slow to look.

The FIFOs hold floats and ints only: the garbage collector does not follow
them, and an ended run is freed at once.
"""

from __future__ import annotations

import asyncio
import collections
import math
from collections.abc import Callable


class Deadlines:
    """Deadlines of check runs on an event loop, one timer for all."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, before_expiry: Callable[[], None] | None = None
    ) -> None:
        self.loop = loop
        self.before_expiry = before_expiry
        self._fifos: dict[int, collections.deque[tuple[float, int]]] = {}
        self._live: dict[int, Callable[[], None]] = {}
        self._token = 0
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = math.inf

    def arm(self, timeout_ms: int, on_expiry: Callable[[], None]) -> int:
        """``on_expiry()`` runs ``timeout_ms`` from now unless ``cancel()`` comes
        first; returns the deadline's token (never 0)."""
        self._token += 1
        token = self._token
        at = self.loop.time() + timeout_ms / 1000.0
        fifo = self._fifos.get(timeout_ms)
        if fifo is None:
            fifo = self._fifos[timeout_ms] = collections.deque()
        fifo.append((at, token))
        self._live[token] = on_expiry
        if at < self._armed_at:
            self._arm(at)
        return token

    def cancel(self, token: int) -> None:
        self._live.pop(token, None)

    def __len__(self) -> int:
        """The deadlines still live."""
        return len(self._live)

    def _arm(self, at: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._armed_at = at
        self._handle = self.loop.call_at(at, self._fire)

    def _fire(self) -> None:
        # due: what the timer was armed for (the loop rounds delays to its clock's
        # millisecond, and may call a little before loop.time() reaches it, as
        # call_at() itself does) and anything else up to now
        now = max(self.loop.time(), self._armed_at)
        self._handle = None
        self._armed_at = math.inf
        if self.before_expiry is not None:
            self.before_expiry()  # may end runs: their tokens go
        live = self._live
        due: list[Callable[[], None]] = []
        nxt = math.inf
        for fifo in self._fifos.values():
            while fifo:
                at, token = fifo[0]
                if token not in live:
                    fifo.popleft()  # the run ended or re-armed
                elif at <= now:
                    fifo.popleft()
                    due.append(live.pop(token))
                else:
                    nxt = min(nxt, at)
                    break
        if nxt < math.inf:
            self._arm(nxt)  # first: the expired runs may arm new deadlines
        for on_expiry in due:
            on_expiry()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._armed_at = math.inf
        self._fifos.clear()
        self._live.clear()
