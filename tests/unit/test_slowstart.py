"""Slow start on virtual time (spec §10, §2.4, §2.9; ``server.c server_recalc_eweight()``,
``server_warmup()``, ``queue.c srv_dynamic_maxconn()``).

A server coming UP with ``slowstart`` is STARTING: each second (the warmup
step) its effective weight grows by 1/16 of the full weight for dynamic
algorithms, its connection limit by 1 %, and it takes what its limit allows
from the backend queue; after ``slowstart`` it is RUNNING and logs "is UP"
again, as the 2.6.12 binary does (tests/integration/test_slowstart_real.py).
"""

from __future__ import annotations

import io

import pytest

from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core import transitions
from herdsman.core.backend import Server
from herdsman.core.clock import ManualClock
from herdsman.core.states import SrvAdmin, SrvState
from herdsman.runtime import Herdsman

HEAD = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
"""


class Logs:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def send(self, level: int, message: str) -> None:
        self.lines.append(message)


class Stream:
    force = False  # SF_FORCE_PRST

    def __init__(self) -> None:
        self.granted: list[Server | None] = []

    def abort(self) -> None:
        pass

    def dequeued(self, srv: Server | None) -> None:
        self.granted.append(srv)


def make(body: str) -> tuple[Herdsman, ManualClock, Logs]:
    cfg = parse_text(HEAD + body, Diagnostics(), "t.cfg")
    assert cfg is not None
    clock = ManualClock()
    hm = Herdsman(cfg, clock=clock, stderr=io.StringIO(), check_starter=lambda c, d: None)
    hm.hooks.starting = False
    logs = Logs()
    for be in hm.backends.values():
        hm.hooks.loggers[be.name] = logs  # type: ignore[assignment]
    return hm, clock, logs


def tick(hm: Herdsman, clock: ManualClock, ms: int = 1000) -> None:
    """Let ``ms`` of virtual time pass and take the warmup steps that fell due."""
    clock.advance(ms)
    hm.warmup.run_due()


def recover(hm: Herdsman, srv: Server, clock: ManualClock) -> None:
    """DOWN at a whole second, then UP one second later."""
    clock.set((clock.now_ms() // 1000 + 1) * 1000)
    transitions.set_stopped(srv, "changed from CLI")
    clock.advance(1000)
    transitions.set_running(srv, "changed from CLI")


def weight_factor(e: int, slowstart_s: int) -> int:
    """Spec §10.3: w = floor((16 * e + slowstart) / slowstart), full once e >= slowstart."""
    return 16 if e >= slowstart_s else (16 * e + slowstart_s) // slowstart_s


@pytest.mark.parametrize("slowstart", [10, 16, 3, 60])
def test_weight_ramps_in_sixteenths_each_second(slowstart: int) -> None:
    hm, clock, _ = make(
        f"backend b\n    server a 127.0.0.1:1 weight 32 slowstart {slowstart}s\n"
        "    server z 127.0.0.1:2\n"
    )
    a = hm.server("b/a")
    assert a.cur_state is SrvState.RUNNING  # never at start-up
    assert a.eweight == 32 * 16
    recover(hm, a, clock)
    seen = []
    for e in range(slowstart + 2):
        if e:
            tick(hm, clock)
        seen.append((a.cur_state, a.eweight, a.lb_eweight))
    expected = [
        (
            SrvState.RUNNING if e >= slowstart else SrvState.STARTING,
            32 * weight_factor(e, slowstart),
            32 * weight_factor(e, slowstart),  # the balancer saw each step
        )
        for e in range(slowstart + 2)
    ]
    assert seen == expected
    assert hm.warmup.armed(a) is None  # the steps stop once RUNNING


def test_a_step_every_second_whatever_the_slowstart() -> None:
    """``MAX(1000, slowstart / 20)`` with slowstart in seconds: always 1000 ms."""
    hm, clock, _ = make("backend b\n    server a 127.0.0.1:1 slowstart 600s\n")
    a = hm.server("b/a")
    recover(hm, a, clock)
    assert hm.warmup.armed(a) == clock.now_ms() + 1000
    tick(hm, clock, 999)
    assert hm.warmup.armed(a) == clock.now_ms() + 1
    tick(hm, clock, 1)
    assert hm.warmup.armed(a) == clock.now_ms() + 1000


def test_slowstart_is_stored_in_whole_seconds_rounded_up() -> None:
    hm, clock, _ = make("backend b\n    server a 127.0.0.1:1 slowstart 1500\n")
    a = hm.server("b/a")
    assert a.slowstart_s == 2
    recover(hm, a, clock)
    assert (a.cur_state, a.eweight) == (SrvState.STARTING, 1)
    tick(hm, clock)
    assert (a.cur_state, a.eweight) == (SrvState.STARTING, 9)  # (16 + 2) // 2
    tick(hm, clock)
    assert (a.cur_state, a.eweight) == (SrvState.RUNNING, 16)


def test_end_of_slowstart_logs_up_again() -> None:
    hm, clock, logs = make("backend b\n    server a 127.0.0.1:1 slowstart 2s\n")
    a = hm.server("b/a")
    recover(hm, a, clock)
    tick(hm, clock)
    tick(hm, clock)
    assert logs.lines == [
        "Server b/a is DOWN, changed from CLI. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "backend b has no server available!",
        "Server b/a is UP, changed from CLI. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        "Server b/a is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
    ]


@pytest.mark.parametrize("balance", ["static-rr", "source"])
def test_static_algorithms_keep_the_full_weight(balance: str) -> None:
    hm, clock, _ = make(
        f"backend b\n    balance {balance}\n"
        "    server a 127.0.0.1:1 weight 4 slowstart 10s maxconn 100\n"
        "    server z 127.0.0.1:2 weight 2\n"
    )
    a = hm.server("b/a")
    be = hm.backend("b")
    full = a.eweight
    assert full == 2  # ceil(4 / gcd(4, 2))
    recover(hm, a, clock)
    assert (a.cur_state, a.eweight) == (SrvState.STARTING, full)
    assert be.limit(a) == 1  # only the connection limit ramps
    tick(hm, clock, 5000)
    assert (a.cur_state, a.eweight, be.limit(a)) == (SrvState.STARTING, full, 50)


def test_maxconn_ramps_from_one_in_percent_steps() -> None:
    """Spec §2.4/§2.9: max(1, floor(maxconn * floor(100 * e / slowstart) / 100))."""
    hm, clock, _ = make("backend b\n    server a 127.0.0.1:1 maxconn 50 slowstart 8s\n")
    a = hm.server("b/a")
    be = hm.backend("b")
    assert be.limit(a) == 50
    recover(hm, a, clock)
    limits = []
    for e in range(10):
        if e:
            tick(hm, clock)
        limits.append(be.limit(a))
    assert limits == [max(1, 50 * (100 * e // 8) // 100) if e < 8 else 50 for e in range(10)]


def test_each_step_grabs_the_backend_queue() -> None:
    hm, clock, _ = make("backend b\n    server a 127.0.0.1:1 maxconn 10 slowstart 10s\n")
    a = hm.server("b/a")
    be = hm.backend("b")
    recover(hm, a, clock)
    streams = [Stream() for _ in range(12)]
    got = [be.acquire(st) for st in streams]
    assert got[0] is a  # the limit is 1 at the start
    assert a.served == 1
    assert be.queue.length == 11
    served = []
    for _ in range(10):
        tick(hm, clock)
        served.append(a.served)
    # limit max(1, e) for e < 10, then 10: each step took what the limit allowed
    assert served == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert sum(1 for st in streams if st.granted == [a]) == 9


def test_leaving_maintenance_starts_slowly_leaving_drain_does_not() -> None:
    hm, clock, logs = make("backend b\n    server a 127.0.0.1:1 weight 2 slowstart 4s\n")
    a = hm.server("b/a")
    transitions.set_admin_flag(a, SrvAdmin.FMAINT)
    clock.advance(3000)
    transitions.clr_admin_flag(a, SrvAdmin.FMAINT)
    assert (a.cur_state, a.eweight) == (SrvState.STARTING, 2)
    assert logs.lines[-1] == "Server b/a is UP/READY (leaving forced maintenance)."
    for _ in range(4):
        tick(hm, clock)
    assert (a.cur_state, a.eweight) == (SrvState.RUNNING, 32)
    transitions.set_admin_flag(a, SrvAdmin.FDRAIN)
    clock.advance(3000)
    transitions.clr_admin_flag(a, SrvAdmin.FDRAIN)
    assert (a.cur_state, a.eweight) == (SrvState.RUNNING, 32)
    assert hm.warmup.armed(a) is None


def test_maintenance_during_slowstart_stops_the_steps() -> None:
    hm, clock, _ = make("backend b\n    server a 127.0.0.1:1 slowstart 10s\n")
    a = hm.server("b/a")
    recover(hm, a, clock)
    tick(hm, clock)
    transitions.set_admin_flag(a, SrvAdmin.FMAINT)
    tick(hm, clock)
    assert hm.warmup.armed(a) is None
    assert a.cur_state is SrvState.STOPPED


def test_trackers_use_their_own_slowstart() -> None:
    hm, clock, _ = make(
        "backend b\n    server a 127.0.0.1:1 check slowstart 4s\n"
        "    server t1 127.0.0.1:2 track a slowstart 8s\n"
        "    server t2 127.0.0.1:3 track a\n"
    )
    a, t1, t2 = (hm.server(f"b/{n}") for n in ("a", "t1", "t2"))
    recover(hm, a, clock)
    assert [s.cur_state for s in (a, t1, t2)] == [
        SrvState.STARTING,
        SrvState.STARTING,
        SrvState.RUNNING,
    ]
    for _ in range(4):
        tick(hm, clock)
    assert (a.cur_state, t1.cur_state, t1.eweight) == (SrvState.RUNNING, SrvState.STARTING, 9)


def test_weight_change_during_slowstart_keeps_the_ramp() -> None:
    """``server_recalc_eweight()`` after ``set weight``: the factor still applies."""
    hm, clock, _ = make("backend b\n    server a 127.0.0.1:1 weight 10 slowstart 16s\n")
    a = hm.server("b/a")
    recover(hm, a, clock)
    tick(hm, clock, 3000)
    assert a.eweight == 10 * 4
    transitions.set_weight(a, 20)
    assert (a.cur_state, a.eweight) == (SrvState.STARTING, 20 * 4)
