"""The runtime API's commands without sockets: text in, text out, on a Herdsman that
is built but not started (virtual time), and the counters the views print."""

from __future__ import annotations

import gc
from pathlib import Path

from herdsman.admin.api.cli import Level, Session
from herdsman.checks import health
from herdsman.checks.target import CheckResult
from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core.clock import ManualClock
from herdsman.core.counters import FreqCtr, swrate_add_dynamic, swrate_avg
from herdsman.core.events import Cause, ServerEvent
from herdsman.core.hooks import NullHooks
from herdsman.core.states import SrvAdmin, SrvState
from herdsman.defs.status import Status
from herdsman.runtime import Herdsman

BASE = """\
global
    stats socket /tmp/never-bound.sock level admin
    {extra}
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
backend be
    {be_extra}
    server s1 127.0.0.1:8001 check
    server s2 127.0.0.1:8002 weight 4
    server t1 127.0.0.1:8003 track s1
"""


def build(extra: str = "", be_extra: str = "", clock: ManualClock | None = None) -> Herdsman:
    diag = Diagnostics()
    config = parse_text(BASE.format(extra=extra, be_extra=be_extra), diag, "t.cfg")
    assert config is not None, diag.texts()
    return Herdsman(config, clock=clock or ManualClock(), stderr=None)


def ask(hm: Herdsman, line: str, level: Level = Level.ADMIN) -> str:
    from herdsman.admin.api.cli import split_words

    reply = hm.cli.run(Session(level=level, bind_level=level), split_words(line)[0], None)
    assert isinstance(reply, str)
    return reply


def test_state_commands_go_through_transitions_with_the_operator_cause() -> None:
    hm = build()
    events: list[ServerEvent] = []
    hm.hooks.subscribers.append(events.append)
    assert ask(hm, "set server be/s1 state maint") == ""
    s1, t1 = hm.server("be/s1"), hm.server("be/t1")
    assert s1.cur_admin == SrvAdmin.FMAINT
    assert t1.cur_admin == SrvAdmin.IMAINT  # propagated to the tracker
    assert [(e.server, e.cause) for e in events] == [("s1", Cause.OPERATOR), ("t1", Cause.TRACK)]
    assert ask(hm, "set server be/s1 state drain") == ""
    assert s1.cur_admin == SrvAdmin.FDRAIN
    assert ask(hm, "set server be/s1 state ready") == ""
    assert s1.cur_admin == SrvAdmin.NONE


def test_forced_health_and_weights() -> None:
    hm = build()
    s1, s2 = hm.server("be/s1"), hm.server("be/s2")
    assert ask(hm, "set server be/s1 health down") == ""
    assert (s1.cur_state, s1.check and s1.check.health) == (SrvState.STOPPED, 0)
    assert ask(hm, "set server be/s1 health stopping") == ""
    assert s1.cur_state is SrvState.STOPPING
    assert ask(hm, "set server be/s1 health up") == ""
    assert (s1.cur_state, s1.check and s1.check.health) == (SrvState.RUNNING, 4)
    assert ask(hm, "set server be/t1 health up") == "cannot change health on a tracking server.\n"
    assert ask(hm, "set weight be/s2 50%") == ""
    assert (s2.uweight, s2.eweight) == (2, 32)
    assert ask(hm, "get weight be/s2") == "2 (initial 4)\n"
    assert ask(hm, "set maxconn server be/s2 10") == ""
    assert (s2.maxconn, s2.minconn) == (10, 10)


def test_disable_health_keeps_the_state() -> None:
    """``disable health`` only clears the check's enabled bit (spec §13.6)."""
    hm = build()
    s1 = hm.server("be/s1")
    assert ask(hm, "disable health be/s1") == ""
    assert s1.check is not None
    assert (s1.check.enabled, s1.cur_state) == (False, SrvState.RUNNING)
    assert ask(hm, "enable health be/s2") == (
        "Health check was not configured on this server, cannot enable.\n"
    )


def test_user_and_operator_levels() -> None:
    hm = build()
    assert ask(hm, "set server be/s1 state maint", Level.USER) == "Permission denied\n"
    assert ask(hm, "clear counters", Level.USER) == "Permission denied\n"
    assert ask(hm, "clear counters", Level.OPER) == ""
    assert ask(hm, "clear counters all", Level.OPER) == "Permission denied\n"
    assert ask(hm, "get weight be/s2", Level.USER) == "4 (initial 4)\n"


def test_history_keeps_checks_and_transitions() -> None:
    clock = ManualClock()
    hm = build(clock=clock)
    hm.history.wall_offset_ms = None
    s1 = hm.server("be/s1")
    assert s1.check is not None
    health.complete(s1.check, CheckResult(Status.L4CON, None, "Connection refused", 3))
    clock.advance(1000)
    ask(hm, "set server be/s1 state maint")
    text = ask(hm, "show servers history be/s1")
    lines = text.splitlines()
    assert lines[0] == "# be/s1"
    assert lines[1] == (
        '+1000000ms check L4CON code=- duration=3ms health=0/2 DOWN info="Connection refused"'
    )
    assert lines[2].startswith("+1000000ms state UP->DOWN cause=health")
    assert lines[3].startswith("+1001000ms admin none->FMAINT cause=operator")


def test_history_entries_are_not_followed_by_the_garbage_collector() -> None:
    """A kept check result holds plain values only: after one collection the GC
    no longer tracks it, so 64 results per server never reach the oldest
    generation (whose full collections paused the loop for 350 ms at 10,000
    servers, docs/performance.md section 11)."""
    hm = build()
    s1 = hm.server("be/s1")
    assert s1.check is not None
    for _ in range(3):
        health.complete(s1.check, CheckResult(Status.L4OK, None, "", 1))
    gc.collect()
    kept = hm.history.checks[("be", "s1")]
    assert len(kept) == 3
    assert not any(gc.is_tracked(entry) for entry in kept)


def test_freq_ctr_is_haproxys() -> None:
    """``read_freq_ctr()``: the past period weighed by what remains of it."""
    f = FreqCtr()
    for _ in range(10):
        f.add(10_000)
    assert f.read(10_000) == 10
    f.add(11_000)  # a new period: 10 in the past one, 1 now
    assert f.read(11_000) == 11
    assert f.read(11_500) == (10 * 500 + 1 * 1000) // 1000
    assert f.read(14_000) == 0
    lone = FreqCtr()
    lone.add(5_000)
    assert lone.read(6_100) == 1  # one event a period: the flapping correction


def test_freq_ctr_paces_events_as_haproxys_rate_limits() -> None:
    """``freq_ctr_remain()``/``next_event_delay()``: 5 per second over a sliding
    second lets a burst of 5 through, then one every 200 ms."""
    f = FreqCtr()
    t, accepted = 100_000, []
    while len(accepted) < 10:
        if f.remain(t, 5):
            f.add(t)
            accepted.append(t - 100_000)
        else:
            t += f.next_event_delay(t, 5)
    assert accepted == [0, 0, 0, 0, 0, 1001, 1201, 1401, 1601, 1801]
    assert f.next_event_delay(t, 0) >= 1  # a zero limit never divides by zero
    assert FreqCtr().remain(0, 5, pend=2) == 3


def test_swrate_averages_the_last_samples() -> None:
    total = 0
    for v in (10, 20, 30):
        total = swrate_add_dynamic(total, 0, v)
    assert swrate_avg(total, 3) == 20
    assert swrate_add_dynamic(1024 * 5, 1024, 5) == 1024 * 5  # steady state


def test_server_state_file_is_applied_at_start(tmp_path: Path) -> None:
    state = tmp_path / "st"
    hm = build()
    ask(hm, "set server be/s1 state maint")
    ask(hm, "set weight be/s2 3")
    state.write_text(ask(hm, "show servers state"))
    hooks_extra = f"server-state-file {state}"
    hm2 = build(extra=hooks_extra, be_extra="load-server-state-from-file global")
    s1, s2 = hm2.server("be/s1"), hm2.server("be/s2")
    assert (s1.cur_state, s1.cur_admin) == (SrvState.STOPPED, SrvAdmin.FMAINT)
    assert hm2.server("be/t1").cur_admin == SrvAdmin.IMAINT
    assert s2.uweight == 3


def test_server_state_file_warnings(tmp_path: Path) -> None:
    state = tmp_path / "st"
    state.write_text(
        "1\n# fields\n2 be 1 s1 127.0.0.1 9 0 1 1 0 1 0 2 6 0 0 0 - 8001 - 0 0 - - 0\n"
    )
    diag = Diagnostics()
    text = BASE.format(
        extra=f"server-state-file {state}", be_extra="load-server-state-from-file global"
    )
    config = parse_text(text, diag, "t.cfg")
    assert config is not None
    hooks = NullHooks()
    from herdsman.admin import statefile

    hm = Herdsman(config, clock=ManualClock(), stderr=None)
    statefile.apply(config, hm.backends, hooks)
    assert hooks.stderr == [
        (
            "WARNING",
            "server-state application failed for server 'be/s1', invalid srv_op_state value '9'",
        )
    ]
    missing = tmp_path / "none"
    config.global_.server_state_file = str(missing)
    statefile.apply(config, hm.backends, hooks)
    assert hooks.stderr[-1] == (
        "WARNING",
        f"config: Can't open global server state file '{missing}': No such file or directory",
    )


def test_show_stat_on_2000_servers_lists_each_once() -> None:
    """A large backend in one answer (its speed against haproxy: bench/cli.py)."""
    n = 2000
    servers = "".join(f"    server s{i} 127.0.0.{i % 250 + 1}:80 check\n" for i in range(n))
    text = (
        "global\n    stats socket /tmp/never.sock\ndefaults\n    mode tcp\n    timeout client 1s\n"
        "    timeout server 1s\n    timeout connect 1s\nbackend big\n" + servers
    )
    config = parse_text(text, Diagnostics(), "t.cfg")
    assert config is not None
    hm = Herdsman(config, clock=ManualClock(), stderr=None)
    lines = ask(hm, "show stat").splitlines()
    assert len(lines) == n + 2  # the header, the servers, the backend (then an empty line)
    assert [line.split(",")[1] for line in lines[1:-1]] == [f"s{i}" for i in range(n)]
    assert lines[-1].startswith("big,BACKEND,")
