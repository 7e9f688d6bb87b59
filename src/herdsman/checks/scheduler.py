"""When checks run (spec §4.4, §4.5): one timer heap for every check.

The scheduler is sans-IO: it owns a heap of (expire, seq, check) and a clock;
``run_due()`` starts the checks whose time has come through an injected
``starter`` and ``on_result()`` takes their outcome back. On an event loop,
``core/timer.py``'s ``LoopTimer`` arms one loop timer for the earliest
deadline, so thousands of servers cost one timer, and tests drive the same
scheduler on virtual time.

Timing rules reproduced from HAProxy 2.6 (``check.c start_checks()``,
``start_check_task()``, ``process_chk_conn()``):

* first run: ``now + m * srvpos / nbcheck`` with ``m = max(mininter,
  getinter(check))`` capped by ``max-spread-checks``, where ``mininter`` is
  the smallest interval of at least 1 s among all checks (§4.5);
* next run: ``completion + getinter(check) + rv``, ``rv`` a uniform jitter of
  ``±spread-checks %`` (so the period is check duration + interval), less the
  time the run waited past its deadline for herdsman to start it. HAProxy
  starts a check when its timer expires, so its completion is deadline +
  duration; a late start must not move herdsman's later runs either: runs
  that waited together would finish together and stay due together, and such
  bunches only grow (at 10,000 servers, windows of the loop busy at full
  capacity, with runs 10-20 ms late in them, docs/performance.md section 11);
* a due check that is disabled, paused or whose proxy is stopped is not run,
  only pushed forward by whole ``inter`` steps;
* at most ``RUN_DEPTH`` checks start per ``run_due()`` call, as HAProxy runs at
  most ``tune.runqueue-depth`` tasks between two polls (``task.c
  process_runnable_tasks()``): the loop's timer fires again at once, after the
  loop has handled the I/O waiting, so the runs already started finish (and
  are rescheduled) at their own time instead of behind a burst of starts.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable

from herdsman.checks import health
from herdsman.checks.target import CheckResult
from herdsman.core.backend import Check
from herdsman.core.clock import Clock

SRV_CHK_INTER_THRES = 1000
# HAProxy's default tune.runqueue-depth is 280 tasks for one thread (defaults.h
# RUNQUEUE_DEPTH), about 1 ms of its checks. A start costs herdsman about five
# times as much; 16 take about 0.4 ms, so a run's completion is read within
# the millisecond or so after its start however many were due with it, and
# the next deadline (from the completion) does not drift with the load: with
# 64, runs in busy stretches finished later than their neighbours, caught up
# with them and the bunches grew (docs/performance.md section 11).
RUN_DEPTH = 16

# starter(check, on_done) launches one run; on_done(result) is called once.
Starter = Callable[[Check, Callable[[CheckResult], None]], object]


class Scheduler:
    def __init__(
        self,
        clock: Clock,
        starter: Starter,
        *,
        spread_checks: int = 0,
        max_spread_checks: int = 0,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.starter = starter
        self.spread_checks = spread_checks
        self.max_spread_checks = max_spread_checks
        self.rng = rng or random.Random()
        self.checks: list[Check] = []
        self.depth = RUN_DEPTH  # the most checks started by one run_due()
        # (expire, seq) and seq -> check: a tuple of two ints is untracked by the
        # garbage collector, where one holding its Check lived an interval,
        # reached the oldest generation and made every check run count toward
        # a full collection (docs/performance.md section 11)
        self._heap: list[tuple[int, int]] = []
        self._waiting: dict[int, Check] = {}
        self._seq = 0
        # told each new deadline: the driver re-arms its timer if it is earlier
        self.on_change: Callable[[int], None] | None = None
        # told once, when every check of start() has run once (or was passed
        # over, disabled): what the first runs build for the later ones exists
        self.on_first_round: Callable[[], None] | None = None
        self._first_round: set[int] | None = None  # ids of the checks yet to run once
        self.stopped = False

    # -- scheduling -----------------------------------------------------------

    def start(self, checks: Iterable[Check]) -> None:
        """``start_checks()``: spread the first runs (in declaration order)."""
        self.checks = list(checks)
        nbcheck = len(self.checks)
        self._first_round = {id(chk) for chk in self.checks}
        if not nbcheck:
            self._ran_once(None)
            return
        mininter = 0
        for chk in self.checks:
            inter = chk.getinter()
            if inter >= SRV_CHK_INTER_THRES and (not mininter or mininter > inter):
                mininter = inter
        now = self.clock.now_ms()
        for srvpos, chk in enumerate(self.checks):
            m = max(mininter, chk.getinter())
            if self.max_spread_checks and m > self.max_spread_checks:
                m = self.max_spread_checks
            chk.start_ms = now
            self._schedule(chk, now + m * srvpos // nbcheck)

    def add(self, chk: Check) -> None:
        """A check created at run time: first run one interval from now (§4.5)."""
        self.checks.append(chk)
        m = chk.getinter()
        if self.max_spread_checks and m > self.max_spread_checks:
            m = self.max_spread_checks
        self._schedule(chk, self.clock.now_ms() + m)

    def _schedule(self, chk: Check, expire: int) -> None:
        # One counter for the whole heap: entries never tie (heapq would then
        # compare Check objects), equal deadlines run in FIFO order as in
        # HAProxy's timer tree, and an entry whose seq is not the check's
        # current one is stale (the check was rescheduled since).
        self._seq += 1
        self._waiting.pop(chk.seq, None)
        chk.expire = expire
        chk.seq = self._seq
        self._waiting[self._seq] = chk
        heapq.heappush(self._heap, (expire, self._seq))
        if self.on_change is not None:
            self.on_change(expire)

    def reschedule_sooner(self, chk: Check, expire: int) -> None:
        """Move a waiting check earlier (``on-error`` with fastinter, §4.7)."""
        if not chk.in_progress and expire < chk.expire:
            self._schedule(chk, expire)

    def next_deadline(self) -> int | None:
        heap = self._heap
        waiting = self._waiting
        while heap:
            seq = heap[0][1]
            chk = waiting.get(seq)
            if chk is not None and chk.seq == seq:
                return heap[0][0]
            heapq.heappop(heap)  # stale entry of a rescheduled or removed check
            waiting.pop(seq, None)
        return None

    def run_due(self) -> list[Check]:
        """Start the checks whose time has come, ``depth`` at most, earliest
        first; returns the ones started."""
        now = self.clock.now_ms()
        started: list[Check] = []
        heap = self._heap
        waiting = self._waiting
        while heap and heap[0][0] <= now and len(started) < self.depth:
            expire, seq = heapq.heappop(heap)
            chk = waiting.pop(seq, None)
            if chk is None or seq != chk.seq or chk.in_progress:
                continue
            if self.stopped or not chk.active or chk.server.backend.cfg.disabled:
                nxt = expire
                while nxt <= now:
                    nxt += chk.inter
                self._schedule(chk, nxt)
                self._ran_once(chk)
                continue
            chk.in_progress = True
            chk.start_ms = now
            chk.desc = ""  # set_server_check_status(HCHK_STATUS_START) clears it
            started.append(chk)
            chk.running = self.starter(chk, self._done_callback(chk))
        return started

    def _done_callback(self, chk: Check) -> Callable[[CheckResult], None]:
        def done(result: CheckResult) -> None:
            self.on_result(chk, result)

        return done

    def on_result(self, chk: Check, result: CheckResult) -> None:
        """A run finished: update health and server, then plan the next run."""
        if not chk.in_progress:
            return
        chk.in_progress = False
        chk.running = None
        health.complete(chk, result)
        now = self.clock.now_ms()
        inter = chk.getinter()
        rv = 0
        if self.spread_checks > 0:
            rv = inter * self.spread_checks // 100
            rv -= int(2 * rv * (self.rng.getrandbits(32) / 4294967295.0))
        waited = chk.start_ms - chk.expire  # herdsman's delay, not HAProxy's (module doc)
        nxt = now - waited + inter + rv
        while nxt <= now:
            nxt += chk.inter
        self._schedule(chk, nxt)
        self._ran_once(chk)

    def _ran_once(self, chk: Check | None) -> None:
        first = self._first_round
        if first is None:
            return
        if chk is not None:
            first.discard(id(chk))
        if not first:
            self._first_round = None
            if self.on_first_round is not None:
                self.on_first_round()

    def forget(self, chk: Check) -> None:
        """A check removed at run time (``del server``): its entries go stale."""
        chk.seq = -1
        if chk in self.checks:
            self.checks.remove(chk)
        self._ran_once(chk)

    def stop(self) -> None:
        """Stop running checks (soft stop); running ones are cancelled."""
        self.stopped = True
        for chk in self.checks:
            handle = chk.running
            cancel = getattr(handle, "cancel", None)
            if cancel is not None:
                cancel()
            chk.in_progress = False
            chk.running = None
