"""Every pair of the transition tables (core/transitions.py), checked against the
rules of ``srv_update_status()`` as spec §4.10 and §11.1 state them.

The expected row of each pair is derived here from the rule's wording, not
read from the table: a table entry that disagrees with the rule fails.
Whatever the pair, the balancer's view must agree with the server afterwards.
"""

from __future__ import annotations

import io
import itertools

import pytest

from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core import commit, lbprm
from herdsman.core.backend import Server
from herdsman.core.clock import ManualClock
from herdsman.core.states import DRAIN, MAINT, SrvAdmin, SrvState
from herdsman.runtime import Herdsman

TEXT = """\
defaults
    mode tcp
backend b
    server s 127.0.0.1:9001 check
    server o 127.0.0.1:9002
"""


def server() -> tuple[Herdsman, Server]:
    cfg = parse_text(TEXT, Diagnostics(), "t.cfg")
    assert cfg is not None
    hm = Herdsman(cfg, clock=ManualClock(), stderr=io.StringIO(), check_starter=lambda c, d: None)
    hm.hooks.starting = False
    return hm, hm.server("b/s")


def put(srv: Server, state: SrvState, admin: SrvAdmin = SrvAdmin.NONE) -> None:
    """Set a committed state directly, with the balancer in step."""
    srv.next_state = state
    srv.next_admin = admin
    lbprm.commit(srv)


def balancer_agrees(hm: Herdsman) -> None:
    be = hm.backend("b")
    for srv in be.servers:
        assert srv.lb_usable == srv.willbe_usable() == srv.is_usable()
    assert be.srv_act == sum(1 for s in be.servers if s.is_usable())


def operational_rule(cur: SrvState, nxt: SrvState) -> str:
    """§4.10: DOWN when entering STOPPED, "stopping" when entering STOPPING,
    UP when entering RUNNING or STARTING, else only a weight change."""
    if nxt is not cur:
        if nxt is SrvState.STOPPED:
            return "DOWN"
        if nxt is SrvState.STOPPING:
            return "STOPPING"
        return "UP"
    return "SAME"


MESSAGES = {
    "DOWN": "Server b/s is DOWN",
    "STOPPING": "Server b/s is stopping",
    "UP": "Server b/s is UP",
}


@pytest.mark.parametrize(("cur", "nxt"), list(itertools.product(SrvState, SrvState)))
def test_every_operational_pair(cur: SrvState, nxt: SrvState) -> None:
    hm, srv = server()
    put(srv, cur)
    srv.next_state = nxt
    done = commit.update_status(srv)
    expected = operational_rule(cur, nxt)
    assert done.rows[0] == expected
    assert set(commit.OPERATIONAL) == set(itertools.product(SrvState, SrvState))
    if expected == "SAME":
        assert done.messages == []
    else:
        [line] = done.messages
        assert line.startswith(MESSAGES[expected])
    # going UP recalculates the weight, which ends STARTING without slowstart (§10)
    starting_ends = expected == "UP" and nxt is SrvState.STARTING
    committed = SrvState.RUNNING if starting_ends else nxt
    assert srv.cur_state is committed
    balancer_agrees(hm)


def maintenance_rule(before: bool, after: bool, down: bool) -> str:
    """§11.1: entering maintenance takes an UP server DOWN ("going DOWN for
    maintenance") or notes a DOWN one ("was DOWN and now enters maintenance");
    leaving it brings the server back; flag changes inside it are reported."""
    if not before and after:
        return "ENTER_MAINT_WHILE_DOWN" if down else "ENTER_MAINT"
    if before and not after:
        return "LEAVE_MAINT"
    if before and after:
        return "STAY_MAINT"
    return "NO_MAINT"


@pytest.mark.parametrize(
    ("before", "after", "down"), list(itertools.product([False, True], repeat=3))
)
def test_every_maintenance_pair(before: bool, after: bool, down: bool) -> None:
    hm, srv = server()
    start = SrvState.STOPPED if down or before else SrvState.RUNNING
    put(srv, start, SrvAdmin.FMAINT if before else SrvAdmin.NONE)
    if before and srv.check is not None:
        srv.check.paused, srv.check.health = True, 0
    srv.next_admin = SrvAdmin.IMAINT if after else SrvAdmin.NONE
    done = commit.update_status(srv)
    assert maintenance_rule(before, after, start is SrvState.STOPPED) in done.rows
    assert bool(srv.cur_admin & MAINT) is after
    if after:
        assert srv.cur_state is SrvState.STOPPED
        assert srv.check is not None
        assert srv.check.paused
    balancer_agrees(hm)


def drain_rule(before: bool, after: bool) -> str:
    if not before and after:
        return "ENTER_DRAIN"
    if before and not after:
        return "LEAVE_DRAIN"
    return "STAY_DRAIN" if before else "NO_DRAIN"


@pytest.mark.parametrize(("before", "after"), list(itertools.product([False, True], repeat=2)))
def test_every_drain_pair(before: bool, after: bool) -> None:
    hm, srv = server()
    put(srv, SrvState.RUNNING, SrvAdmin.FDRAIN if before else SrvAdmin.NONE)
    srv.next_admin = SrvAdmin.IDRAIN if after else SrvAdmin.NONE
    done = commit.update_status(srv)
    assert done.rows[-1] == drain_rule(before, after)
    assert bool(srv.cur_admin & DRAIN) is after
    assert srv.is_usable() is not after
    balancer_agrees(hm)


def test_tables_name_every_row_they_hold() -> None:
    rows = {r.name for r in commit.OPERATIONAL.values()}
    rows |= {r.name for r in commit.MAINTENANCE.values()}
    rows |= {r.name for r in commit.DRAINING.values()}
    assert rows == {
        "DOWN",
        "STOPPING",
        "UP",
        "SAME",
        "ENTER_MAINT",
        "ENTER_MAINT_WHILE_DOWN",
        "LEAVE_MAINT",
        "STAY_MAINT",
        "NO_MAINT",
        "ENTER_DRAIN",
        "LEAVE_DRAIN",
        "STAY_DRAIN",
        "NO_DRAIN",
    }
