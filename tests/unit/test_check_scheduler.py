"""Check timing and state changes on virtual time (spec §4.3-§4.5, §4.7).

The scheduler runs with a ManualClock and a scripted starter: each started
check is answered by the test with a result after a chosen duration. Times
are compared with what HAProxy 2.6 does (observed-2.6.12-checks.md §4).
"""

from __future__ import annotations

import gc
import io
import itertools
import random
from collections.abc import Callable

import pytest

from herdsman.checks.scheduler import RUN_DEPTH
from herdsman.checks.target import CheckResult
from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core.backend import Check
from herdsman.core.clock import ManualClock
from herdsman.core.states import SrvState
from herdsman.defs.status import HanaEvent, Status
from herdsman.runtime import Herdsman

OK = CheckResult(Status.L4OK, None, "", 0)
REFUSED = CheckResult(Status.L4CON, None, "Connection refused", 0)
T0 = 1_000_000


class Sim:
    """A Herdsman whose checks are answered by a script, on virtual time."""

    def __init__(self, text: str, spread_seed: int = 1) -> None:
        cfg = parse_text(text, Diagnostics(), "t.cfg")
        assert cfg is not None
        self.clock = ManualClock(T0)
        self.started: list[tuple[int, str]] = []
        self.pending: dict[str, Callable[[CheckResult], None]] = {}
        self.stderr = io.StringIO()
        self.hm = Herdsman(cfg, clock=self.clock, stderr=self.stderr, check_starter=self._start)
        self.hm.checks.scheduler.rng = random.Random(spread_seed)
        self.answers: dict[str, list[CheckResult]] = {}
        self.hm.hooks.starting = False
        self.hm.checks.scheduler.start(self.hm.checks.checks)

    def _start(self, chk: Check, done: Callable[[CheckResult], None]) -> object:
        self.started.append((self.clock.now_ms() - T0, chk.server.name))
        self.pending[chk.server.name] = done
        return None

    def run_until(self, t_ms: int, duration: int = 0) -> None:
        """Advance to T0+t_ms, answering every check ``duration`` ms after it starts."""
        sched = self.hm.checks.scheduler
        while True:
            nxt = sched.next_deadline()
            if nxt is None or nxt > T0 + t_ms:
                break
            self.clock.set(max(nxt, self.clock.now_ms()))
            for chk in sched.run_due():
                name = chk.server.name
                script = self.answers.get(name) or [OK]
                result = script.pop(0) if len(script) > 1 else script[0]
                self.clock.advance(duration)
                self.pending.pop(name)(
                    CheckResult(result.status, result.code, result.desc, duration)
                )
        self.clock.set(T0 + t_ms)

    def times(self, name: str) -> list[int]:
        return [t for t, n in self.started if n == name]

    def server(self, name: str):  # type: ignore[no-untyped-def]
        return self.hm.server(name)


def cfg(servers: str, globals_: str = "", extra: str = "") -> str:
    return (
        f"global\n{globals_}"
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"
        f"backend b\n{extra}{servers}"
    )


def test_first_runs_are_spread_over_the_smallest_interval() -> None:
    """4 servers at inter 2s start at 0/500/1000/1500 ms (observed 4.5-a)."""
    sim = Sim(
        cfg("".join(f"    server s{i} 127.0.0.1:{9000 + i} check inter 2s\n" for i in range(4)))
    )
    sim.run_until(1999)
    assert sim.started == [(0, "s0"), (500, "s1"), (1000, "s2"), (1500, "s3")]


def test_short_intervals_do_not_set_the_spread() -> None:
    """mininter ignores checks under 1 s; positions run across backends (4.5-a)."""
    text = (
        cfg(
            "    server s1 127.0.0.1:9001 check inter 4s\n"
            "    server s2 127.0.0.1:9002 check inter 500ms\n"
            "    server s3 127.0.0.1:9003 check inter 2s\n"
        )
        + "backend c\n    server s4 127.0.0.1:9004 check inter 2s\n"
    )
    sim = Sim(text)
    sim.run_until(1600)
    firsts = {n: sim.times(n)[0] for n in ("s1", "s2", "s3", "s4")}
    assert firsts == {"s1": 0, "s2": 500, "s3": 1000, "s4": 1500}


def test_max_spread_checks_caps_the_spread() -> None:
    text = cfg(
        "".join(f"    server s{i} 127.0.0.1:{9000 + i} check inter 2s\n" for i in range(4)),
        "    max-spread-checks 400ms\n",
    )
    sim = Sim(text)
    sim.run_until(399)
    assert [t for t, _ in sim.started] == [0, 100, 200, 300]


def test_period_is_duration_plus_interval() -> None:
    """A fully up server is checked every inter after each completion (4.5-d)."""
    sim = Sim(cfg("    server s 127.0.0.1:9000 check inter 1s\n"))
    sim.run_until(4500, duration=3)
    assert sim.times("s") == [0, 1003, 2006, 3009, 4012]


def test_counter_and_intervals_through_a_failure_cycle() -> None:
    """inter when fully up, fastinter while going down/up, downinter when down (4.4-a)."""
    sim = Sim(
        cfg(
            "    server s 127.0.0.1:9000 check inter 1s fastinter 200ms downinter 3s rise 2 fall 3\n"
        )
    )
    chk = sim.server("b/s").check
    sim.run_until(2500)  # up at 0 (fully up: 3/3), 1000, 2000
    assert chk.health == 4
    assert sim.times("s") == [0, 1000, 2000]
    sim.answers["s"] = [REFUSED]
    sim.run_until(3500)
    # failure at 3000, then fastinter steps until DOWN, then downinter
    assert sim.times("s")[3:] == [3000, 3200, 3400]
    assert sim.server("b/s").cur_state is SrvState.STOPPED
    assert chk.health == 0
    sim.answers["s"] = [OK]
    sim.run_until(6700)
    assert sim.times("s")[6:] == [6400, 6600]
    assert sim.server("b/s").cur_state is SrvState.RUNNING
    assert chk.health == 4


def test_one_failure_after_start_marks_the_server_down() -> None:
    """Health starts at rise, so the first failure takes the server down (4.3-d)."""
    sim = Sim(
        cfg("    option log-health-checks\n    server s 127.0.0.1:9000 check rise 2 fall 3\n")
    )
    sim.answers["s"] = [REFUSED]
    sim.run_until(0)
    assert sim.server("b/s").cur_state is SrvState.STOPPED
    pid = sim.hm.pid
    assert sim.stderr.getvalue().splitlines() == [
        f"[WARNING]  ({pid}) : Health check for server b/s failed, reason: Layer4 connection "
        'problem, info: "Connection refused", check duration: 0ms, status: 0/2 DOWN.',
        f"[WARNING]  ({pid}) : Server b/s is DOWN. 0 active and 0 backup servers left. "
        "0 sessions active, 0 requeued, 0 remaining in queue.",
        f"[ALERT]    ({pid}) : backend 'b' has no server available!",
    ]


def test_first_checks_use_fastinter() -> None:
    """Startup health is transitional: the check after a first failure-free
    start uses inter only once fully up (4.4-b)."""
    sim = Sim(cfg("    server s 127.0.0.1:9000 check inter 2s fastinter 300ms rise 2 fall 3\n"))
    sim.answers["s"] = [REFUSED, OK, OK, OK]
    sim.run_until(1000)
    # refused at 0 (down, health 0) -> downinter (= inter 2s)
    assert sim.times("s") == [0]
    sim.run_until(2400)
    # up steps: 2000 (1/2 DOWN) -> fastinter -> 2300 (UP, fully up)
    assert sim.times("s") == [0, 2000, 2300]


@pytest.mark.parametrize("spread", [10, 50])
def test_spread_checks_jitter_is_within_bounds(spread: int) -> None:
    sim = Sim(cfg("    server s 127.0.0.1:9000 check inter 1s\n", f"    spread-checks {spread}\n"))
    sim.run_until(60_000)
    times = sim.times("s")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    lo, hi = 1000 - 1000 * spread // 100, 1000 + 1000 * spread // 100
    assert all(lo <= g <= hi for g in gaps)
    assert min(gaps) < 1000 < max(gaps)  # it does vary


def test_paused_checks_do_not_run() -> None:
    sim = Sim(
        cfg("    server s 127.0.0.1:9000 check disabled\n    server t 127.0.0.1:9001 check\n")
    )
    sim.run_until(5000)
    assert sim.times("s") == []
    assert sim.times("t")


@pytest.mark.parametrize(
    ("on_error", "health_after", "state"),
    [
        ("fail-check", 3, SrvState.RUNNING),
        ("sudden-death", 2, SrvState.RUNNING),
        ("mark-down", 0, SrvState.STOPPED),
        ("fastinter", 4, SrvState.RUNNING),
    ],
)
def test_passive_errors_reaching_the_limit(
    on_error: str, health_after: int, state: SrvState
) -> None:
    """observe layer4 + error-limit: the on-error action runs once the limit is reached (4.7)."""
    sim = Sim(
        cfg(
            f"    server s 127.0.0.1:9000 check inter 10s fastinter 1s observe layer4 "
            f"error-limit 3 on-error {on_error}\n"
        )
    )
    sim.run_until(1)  # first check: fully up (4)
    srv = sim.server("b/s")
    chk = srv.check
    assert chk.health == 4
    for _ in range(2):
        sim.hm.checks.traffic(srv, HanaEvent.L4_ERR)
    assert chk.health == 4
    assert srv.consecutive_errors == 2
    sim.hm.checks.traffic(srv, HanaEvent.L4_ERR)
    assert chk.health == health_after
    assert srv.cur_state is state
    assert srv.consecutive_errors == 0
    assert srv.counters.failed_hana == 1
    if on_error != "fastinter":
        assert chk.status is Status.HANA
        assert chk.desc == "Detected 3 consecutive errors, last one was: L4 unsuccessful connection"
    # the next check is moved to now + fastinter
    assert chk.expire == sim.clock.now_ms() + 1000


def test_a_success_resets_the_passive_error_count() -> None:
    sim = Sim(cfg("    server s 127.0.0.1:9000 check observe layer4 error-limit 2\n"))
    srv = sim.server("b/s")
    sim.hm.checks.traffic(srv, HanaEvent.L4_ERR)
    sim.hm.checks.traffic(srv, HanaEvent.L4_OK)
    sim.hm.checks.traffic(srv, HanaEvent.L4_ERR)
    assert srv.consecutive_errors == 1
    assert srv.counters.failed_hana == 0


def test_many_checks_due_in_the_same_millisecond() -> None:
    """More checks than milliseconds in inter: equal deadlines, all started, FIFO
    (a heap of (expire, per-check count, check) would compare Check objects)."""
    servers = "".join(
        f"    server s{i} 127.0.0.1:{10000 + i} check inter 100\n" for i in range(300)
    )
    sim = Sim(cfg(servers))
    sim.run_until(99)
    assert len(sim.started) == 300
    assert [n for _, n in sim.started[:3]] == ["s0", "s1", "s2"]
    sim.run_until(199)  # and the next round too
    assert len(sim.started) == 600


def test_at_most_run_depth_checks_start_per_call() -> None:
    """``run_due()`` starts ``RUN_DEPTH`` checks at most, earliest first, as
    HAProxy runs ``tune.runqueue-depth`` tasks between two polls; the rest are
    still due and start on the next calls, in the same order."""
    servers = "".join(
        f"    server s{i} 127.0.0.1:{10000 + i} check inter 100\n" for i in range(150)
    )
    sim = Sim(cfg(servers))
    sched = sim.hm.checks.scheduler
    sim.clock.set(T0 + 99)
    batches = []
    while (nxt := sched.next_deadline()) is not None and nxt <= sim.clock.now_ms():
        batches.append([chk.server.name for chk in sched.run_due()])
    full, rest = divmod(150, RUN_DEPTH)
    assert [len(b) for b in batches] == [RUN_DEPTH] * full + [rest] * (rest > 0)
    assert [name for batch in batches for name in batch] == [f"s{i}" for i in range(150)]


def test_waiting_checks_are_not_followed_by_the_garbage_collector() -> None:
    """The heap holds (expire, seq) pairs of ints, which the GC stops tracking at
    its first collection: a check waiting its interval costs no full collection."""
    servers = "".join(f"    server s{i} 127.0.0.1:{10000 + i} check\n" for i in range(10))
    sim = Sim(cfg(servers))
    sim.run_until(3000, duration=1)
    gc.collect()
    heap = sim.hm.checks.scheduler._heap
    assert heap
    assert not any(gc.is_tracked(entry) for entry in heap)


def test_a_late_start_does_not_move_the_next_runs() -> None:
    """HAProxy starts a check when its timer expires; herdsman, started late, plans
    the next run as if it had not been: deadline + duration + inter. Two checks
    due 5 ms apart, both started late in one batch and answered together, stay
    5 ms apart (else they would be due together from then on)."""
    servers = "".join(f"    server s{i} 127.0.0.1:{10000 + i} check inter 1s\n" for i in range(2))
    sim = Sim(cfg(servers, globals_="    max-spread-checks 10\n"))
    sched = sim.hm.checks.scheduler
    sim.clock.set(T0 + 40)  # both due (at +0 and +5), 40 and 35 ms late
    started = sched.run_due()
    assert [c.server.name for c in started] == ["s0", "s1"]
    sim.clock.advance(2)
    for name in ("s0", "s1"):
        sim.pending.pop(name)(CheckResult(Status.L4OK, None, "", 2))
    assert [c.expire - T0 for c in started] == [1002, 1007]


def test_the_first_round_is_told_once() -> None:
    """``on_first_round`` (the process freezes the GC's heap then) comes once,
    when the last check of start-up has run once; a check that is not run
    (maintenance) counts when it is passed over."""
    servers = "".join(f"    server s{i} 127.0.0.1:{10000 + i} check\n" for i in range(2))
    sim = Sim(cfg(servers + "    server s2 127.0.0.1:10002 check disabled\n"))
    calls: list[int] = []
    sim.hm.checks.scheduler.on_first_round = lambda: calls.append(sim.clock.now_ms() - T0)
    sim.run_until(1300, duration=1)  # first runs at +0, +666, +1333 (inter 2s)
    assert calls == []
    sim.run_until(9000, duration=1)
    assert calls == [1333]
