"""A server's live state as plain data (``core/live.py``, ``Herdsman.server_state()``)."""

from __future__ import annotations

import dataclasses
import io

from herdsman.checks import health
from herdsman.checks.target import CheckResult
from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core import transitions
from herdsman.core.clock import ManualClock
from herdsman.core.live import CheckState, ServerState
from herdsman.core.states import SrvAdmin, SrvState
from herdsman.defs.status import Status
from herdsman.runtime import Herdsman

TEXT = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
backend b
    server s1 127.0.0.1:1 weight 3 maxconn 40 slowstart 10s check agent-check agent-port 2
    server s2 127.0.0.1:2
"""


def make() -> Herdsman:
    cfg = parse_text(TEXT, Diagnostics(), "t.cfg")
    assert cfg is not None
    hm = Herdsman(cfg, clock=ManualClock(), stderr=io.StringIO(), check_starter=lambda c, d: None)
    hm.hooks.starting = False
    return hm


def test_initial_state() -> None:
    hm = make()
    st = hm.server_state("b/s1")
    assert st == ServerState(
        backend="b",
        server="s1",
        puid=1,
        state=SrvState.RUNNING,
        admin=SrvAdmin.NONE,
        uweight=3,
        iweight=3,
        eweight=48,
        weight=3,
        maxconn=40,
        minconn=40,
        limit=40,
        served=0,
        queued=0,
        last_change_s=1000,
        check=CheckState(Status.INI, 0, -1, "", 2, 2, 3, True, False, False),
        agent=CheckState(Status.INI, 0, -1, "", 1, 1, 1, True, False, False),
    )
    s2 = hm.server_state("b/s2")
    assert (s2.check, s2.agent, s2.limit) == (None, None, 0)


def test_a_snapshot_does_not_move_with_the_server() -> None:
    hm = make()
    srv = hm.server("b/s1")
    before = hm.server_state("b/s1")
    assert srv.check is not None
    health.complete(srv.check, CheckResult(Status.L4CON, None, "Connection refused", 3))
    after = hm.server_state("b/s1")
    assert before.state is SrvState.RUNNING
    assert after.state is SrvState.STOPPED
    assert after.check == dataclasses.replace(
        before.check,  # type: ignore[arg-type]
        status=Status.L4CON,
        duration_ms=3,
        desc="Connection refused",
        health=0,
    )


def test_slow_start_shows_in_weight_and_limit() -> None:
    hm = make()
    clock = hm.clock
    assert isinstance(clock, ManualClock)
    srv = hm.server("b/s1")
    transitions.set_stopped(srv, "test")
    clock.advance(1000)
    transitions.set_running(srv, "test")
    clock.advance(5000)
    hm.warmup.run_due()
    st = hm.server_state("b/s1")
    assert (st.state, st.eweight, st.weight, st.limit) == (SrvState.STARTING, 27, 2, 20)
