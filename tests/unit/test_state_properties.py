"""Properties of the server state machine over random event sequences (Hypothesis).

Whatever the order of check results, maintenance/drain changes and weight
changes, these hold after every event:

* the health counter stays in [0, rise+fall-1];
* the balancer holds exactly the usable servers (never a DOWN, MAINT or DRAIN
  server, never a weight-0 one), and the backend's counts agree;
* a tracking server has the operational state of the server it tracks, and
  inherits its maintenance;
* a server in maintenance has its check paused;
* every committed change is published as exactly one ``ServerEvent`` whose
  before/after values are what changed, and nothing unchanged is published
  without a log line.
"""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from herdsman.checks import health
from herdsman.checks.target import CheckResult
from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core import transitions
from herdsman.core.clock import ManualClock
from herdsman.core.events import ServerEvent
from herdsman.core.states import MAINT, SrvAdmin, SrvState
from herdsman.defs.status import Status
from herdsman.runtime import Herdsman

TEXT = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
backend b
    option httpchk
    http-check disable-on-404
    server a 127.0.0.1:1 check rise 2 fall 3
    server c 127.0.0.1:2 check rise 1 fall 1 weight 3
    server t 127.0.0.1:3 track a
    server u 127.0.0.1:4 track t
    server k 127.0.0.1:5 check backup
"""

RESULTS = [
    CheckResult(Status.L4OK, None, "", 0),
    CheckResult(Status.L7OK, 200, "", 0),
    CheckResult(Status.L7OKC, 404, "", 0),
    CheckResult(Status.L4CON, None, "Connection refused", 0),
    CheckResult(Status.L7STS, 503, "Service Unavailable", 0),
    CheckResult(Status.L4TOUT, None, "", 1000),
]
CHECKED = ["a", "c", "k"]
ALL = ["a", "c", "t", "u", "k"]
FLAGS = [SrvAdmin.FMAINT, SrvAdmin.FDRAIN]

events = st.lists(
    st.one_of(
        st.tuples(st.just("check"), st.sampled_from(CHECKED), st.sampled_from(RESULTS)),
        st.tuples(st.just("set"), st.sampled_from(ALL), st.sampled_from(FLAGS)),
        st.tuples(st.just("clr"), st.sampled_from(ALL), st.sampled_from(FLAGS)),
        st.tuples(st.just("weight"), st.sampled_from(ALL), st.integers(0, 4)),
    ),
    max_size=40,
)


def build() -> Herdsman:
    cfg = parse_text(TEXT, Diagnostics(), "p.cfg")
    assert cfg is not None
    hm = Herdsman(cfg, clock=ManualClock(), stderr=io.StringIO(), check_starter=lambda c, d: None)
    hm.hooks.starting = False
    return hm


def check_invariants(hm: Herdsman) -> None:
    be = hm.backend("b")
    for srv in be.servers:
        chk = srv.check
        if chk is not None:
            assert 0 <= chk.health <= chk.rise + chk.fall - 1
            if srv.cur_admin & MAINT:
                assert chk.paused
        usable = srv.is_usable()
        assert srv.lb_usable == usable
        if usable:
            assert srv.cur_state in (SrvState.STARTING, SrvState.RUNNING)
            assert srv.eweight > 0
            assert not srv.cur_admin & (MAINT | SrvAdmin.FDRAIN | SrvAdmin.IDRAIN)
        if srv.track is not None and not srv.cur_admin & MAINT:
            assert srv.cur_state is srv.track.cur_state
        if srv.track is not None and srv.track.cur_admin & MAINT:
            assert srv.cur_admin & SrvAdmin.IMAINT
    act = [s for s in be.servers if s.is_usable() and not s.backup]
    bck = [s for s in be.servers if s.is_usable() and s.backup]
    assert (be.srv_act, be.srv_bck) == (len(act), len(bck))
    assert be.tot_wact == sum(s.eweight for s in act)
    picked = {be.algo.pick(None, None) for _ in range(12)}
    if act:
        assert picked <= set(act)
    elif bck:
        assert picked <= set(bck)
    else:
        assert picked == {None}


Snapshot = dict[str, tuple[object, ...]]


def snapshot(hm: Herdsman) -> Snapshot:
    return {
        s.name: (s.cur_state, s.cur_admin, s.uweight, s.eweight, s.maxconn)
        for s in hm.backend("b").servers
    }


def check_events(before: Snapshot, after: Snapshot, published: list[ServerEvent]) -> None:
    changed = {name for name in after if after[name] != before[name]}
    by_server = [ev.server for ev in published]
    assert len(by_server) == len(set(by_server)), "one event per server and change"
    assert changed <= set(by_server), "a committed change was not published"
    for ev in published:
        b, a = before[ev.server], after[ev.server]
        assert (ev.state, ev.admin, ev.uweight, ev.eweight, ev.maxconn) == tuple(
            zip(b, a, strict=True)
        )
        assert ev.server in changed or ev.message


@settings(max_examples=300, deadline=None)
@given(events)
def test_invariants_hold_after_every_event(seq: list[tuple[str, str, object]]) -> None:
    hm = build()
    published: list[ServerEvent] = []
    hm.hooks.subscribers.append(published.append)
    check_invariants(hm)
    for kind, name, arg in seq:
        before = snapshot(hm)
        published.clear()
        srv = hm.server(f"b/{name}")
        if kind == "check":
            assert srv.check is not None
            if not srv.check.active:
                continue  # a paused check does not run
            assert isinstance(arg, CheckResult)
            health.complete(srv.check, arg)
        elif kind == "set":
            assert isinstance(arg, SrvAdmin)
            transitions.set_admin_flag(srv, arg)
        elif kind == "clr":
            assert isinstance(arg, SrvAdmin)
            transitions.clr_admin_flag(srv, arg)
        else:
            assert isinstance(arg, int)
            transitions.set_weight(srv, arg)
        check_invariants(hm)
        check_events(before, snapshot(hm), published)
