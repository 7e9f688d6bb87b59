"""Server state changes and their messages (spec §4.10, §11; observed-2.6.12-checks.md).

Every change goes through core/transitions.py; these tests drive it directly
(as the runtime API will) and compare the log lines with those the 2.6.12
binary printed for the same configuration (the `g` backend of the observed
file: s3 tracks s1, s7 tracks s3, s5 is disabled, s6 is a backup).
"""

from __future__ import annotations

import io

import pytest

from herdsman.checks import health
from herdsman.checks.target import CheckResult
from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core import transitions
from herdsman.core.backend import Backend
from herdsman.core.clock import ManualClock
from herdsman.core.states import MAINT, SrvAdmin, SrvState
from herdsman.defs.levels import LOG_ALERT, LOG_EMERG, LOG_NOTICE
from herdsman.defs.status import Status
from herdsman.runtime import Herdsman

G = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
backend g
    option httpchk GET /
    server s1 127.0.0.1:9951 check inter 500ms
    server s2 127.0.0.1:9952 check inter 500ms
    server s3 127.0.0.1:9953 track g/s1
    server s4 127.0.0.1:9954
    server s5 127.0.0.1:9955 check disabled
    server s6 127.0.0.1:9956 check backup inter 500ms
    server s7 127.0.0.1:9957 track s3
"""


class Logs:
    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []

    def send(self, level: int, message: str) -> None:
        self.lines.append((level, message))


def make(text: str = G) -> tuple[Herdsman, Logs, io.StringIO]:
    cfg = parse_text(text, Diagnostics(), "t.cfg")
    assert cfg is not None
    err = io.StringIO()
    hm = Herdsman(cfg, clock=ManualClock(), stderr=err, check_starter=lambda c, d: None)
    hm.hooks.starting = False
    logs = Logs()
    for be in hm.backends.values():
        hm.hooks.loggers[be.name] = logs  # type: ignore[assignment]
    return hm, logs, err


def texts(logs: Logs) -> list[str]:
    return [m for _, m in logs.lines]


def test_initial_states() -> None:
    hm, _, _ = make()
    s = {n: hm.server(f"g/{n}") for n in ("s1", "s3", "s4", "s5", "s6", "s7")}
    assert s["s1"].cur_state is SrvState.RUNNING
    assert s["s1"].check.health == 2
    assert s["s5"].cur_state is SrvState.STOPPED
    assert s["s5"].cur_admin == SrvAdmin.FMAINT | SrvAdmin.CMAINT  # admin_state 5
    assert s["s5"].check.health == 0
    assert s["s3"].track is s["s1"]
    assert s["s7"].track is s["s3"]
    be = hm.backend("g")
    assert (be.srv_act, be.srv_bck) == (5, 1)


def test_maintenance_propagates_along_the_tracking_chain() -> None:
    hm, logs, _ = make()
    transitions.set_admin_flag(hm.server("g/s1"), SrvAdmin.FMAINT)
    assert texts(logs) == [
        "Server g/s1 is going DOWN for maintenance. 4 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "Server g/s3 is going DOWN for maintenance via g/s1. 3 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "Server g/s7 is going DOWN for maintenance via g/s3. 2 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    ]
    assert hm.server("g/s3").cur_admin == SrvAdmin.IMAINT
    assert hm.server("g/s7").cur_admin == SrvAdmin.IMAINT
    logs.lines.clear()
    transitions.clr_admin_flag(hm.server("g/s1"), SrvAdmin.FMAINT)
    assert texts(logs) == [
        "Server g/s1 is UP/READY (leaving forced maintenance).",
        "Server g/s3 is UP/READY (leaving maintenance).",
        "Server g/s7 is UP/READY (leaving maintenance).",
    ]
    s1 = hm.server("g/s1")
    assert s1.cur_state is SrvState.RUNNING
    assert s1.check.health == s1.check.rise


def test_drain_messages() -> None:
    hm, logs, _ = make()
    s2 = hm.server("g/s2")
    transitions.set_admin_flag(s2, SrvAdmin.FDRAIN)
    assert texts(logs) == [
        "Server g/s2 enters drain state. 4 active and 1 backup servers online. 0 sessions requeued, 0 total in queue."
    ]
    assert not s2.is_usable()
    assert s2.cur_state is SrvState.RUNNING
    logs.lines.clear()
    transitions.clr_admin_flag(s2, SrvAdmin.FDRAIN)
    assert texts(logs) == ["Server g/s2 is UP (leaving forced drain)."]
    assert s2.is_usable()


def test_down_and_up_with_a_reason_propagate_to_trackers() -> None:
    hm, logs, _ = make()
    s1 = hm.server("g/s1")
    transitions.set_stopped(s1, "changed from CLI")
    assert texts(logs) == [
        "Server g/s1 is DOWN, changed from CLI. 4 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "Server g/s3 is DOWN via g/s1. 3 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "Server g/s7 is DOWN via g/s3. 2 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    ]
    assert [lvl for lvl, _ in logs.lines] == [LOG_ALERT] * 3
    logs.lines.clear()
    transitions.set_running(s1)
    assert texts(logs)[1:] == [
        "Server g/s3 is UP via g/s1. 4 active and 1 backup servers online. 0 sessions requeued, 0 total in queue.",
        "Server g/s7 is UP via g/s3. 5 active and 1 backup servers online. 0 sessions requeued, 0 total in queue.",
    ]


def test_stopping_is_nolb() -> None:
    hm, logs, _ = make()
    s2 = hm.server("g/s2")
    transitions.set_stopping(s2, "changed from CLI")
    assert texts(logs) == [
        "Server g/s2 is stopping, changed from CLI. 4 active and 1 backup servers online. 0 sessions requeued, 0 total in queue."
    ]
    assert s2.cur_state is SrvState.STOPPING
    assert not s2.is_usable()


def test_last_server_down_reports_no_server_available() -> None:
    text = G.split("backend g")[0] + "backend b\n    server s 127.0.0.1:9 check\n"
    hm, logs, err = make(text)
    chk = hm.server("b/s").check
    health.complete(chk, CheckResult(Status.L4CON, None, "Connection refused", 0))
    assert logs.lines == [
        (
            LOG_ALERT,
            'Server b/s is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
        ),
        (LOG_EMERG, "backend b has no server available!"),
    ]
    assert err.getvalue().splitlines()[-1].endswith("backend 'b' has no server available!")


def test_backup_takes_over_running_on_backup() -> None:
    text = G.split("backend g")[0] + (
        "backend c_bck\n    server a 127.0.0.1:9 check\n    server b 127.0.0.1:10 check backup\n"
    )
    hm, logs, _ = make(text)
    health.complete(
        hm.server("c_bck/a").check, CheckResult(Status.L4CON, None, "Connection refused", 0)
    )
    assert texts(logs) == [
        'Server c_bck/a is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.'
    ]
    health.complete(
        hm.server("c_bck/b").check, CheckResult(Status.L4CON, None, "Connection refused", 0)
    )
    assert texts(logs)[1] == (
        'Backup Server c_bck/b is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.'
    )


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (
            CheckResult(Status.L4OK, None, "", 0),
            "Health check for server b/s succeeded, reason: Layer4 check passed, check duration: 0ms, status: 3/3 UP.",
        ),
        (
            CheckResult(Status.L7STS, 503, "Service Unavailable", 0),
            'Health check for server b/s failed, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: 0ms, status: 0/2 DOWN.',
        ),
        (
            CheckResult(Status.L7OK, 0, "(tcp-check)", 0),
            'Health check for server b/s succeeded, reason: Layer7 check passed, code: 0, info: "(tcp-check)", check duration: 0ms, status: 3/3 UP.',
        ),
        (
            CheckResult(Status.L7OKC, 404, "", 0),
            "Health check for server b/s conditionally succeeded, reason: Layer7 check conditionally passed, code: 404, check duration: 0ms, status: 3/3 UP.",
        ),
        (
            CheckResult(Status.L4TOUT, None, "", 1001),
            "Health check for server b/s failed, reason: Layer4 timeout, check duration: 1001ms, status: 0/2 DOWN.",
        ),
    ],
)
def test_log_health_checks_lines(result: CheckResult, line: str) -> None:
    text = G.split("backend g")[0] + (
        "backend b\n    option log-health-checks\n    server s 127.0.0.1:9 check\n"
    )
    hm, logs, _ = make(text)
    health.complete(hm.server("b/s").check, result)
    assert texts(logs)[0] == line
    # with log-health-checks the state line carries no reason (observed 4.9-c)
    if len(logs.lines) > 1:
        assert texts(logs)[1].startswith(("Server b/s is DOWN. ", "Server b/s is stopping. "))


def test_repeated_successes_log_nothing() -> None:
    text = G.split("backend g")[0] + (
        "backend b\n    option log-health-checks\n    server s 127.0.0.1:9 check\n"
    )
    hm, logs, _ = make(text)
    chk = hm.server("b/s").check
    for _ in range(3):
        health.complete(chk, CheckResult(Status.L4OK, None, "", 0))
    assert len(logs.lines) == 1  # only the first one moved the counter


def test_weight_zero_logs_drain_word() -> None:
    text = G.split("backend g")[0] + (
        "backend b\n    option log-health-checks\n    server s 127.0.0.1:9 check weight 0\n"
    )
    hm, logs, _ = make(text)
    health.complete(hm.server("b/s").check, CheckResult(Status.L4OK, None, "", 0))
    assert texts(logs)[0].endswith("status: 3/3 DRAIN.")


def test_disable_on_404_condpass_goes_nolb_and_back() -> None:
    text = G.split("backend g")[0] + (
        "backend c_404\n    option httpchk GET /\n    http-check disable-on-404\n"
        "    server s 127.0.0.1:9 check rise 2 fall 2\n"
    )
    hm, logs, _ = make(text)
    srv = hm.server("c_404/s")
    health.complete(srv.check, CheckResult(Status.L7OKC, 404, "", 0))
    assert srv.cur_state is SrvState.STOPPING
    assert texts(logs) == [
        "Server c_404/s is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: 0ms. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        "backend c_404 has no server available!",
    ]
    health.complete(srv.check, CheckResult(Status.L7OK, 200, "", 0))
    assert srv.cur_state is SrvState.RUNNING
    assert texts(logs)[2] == (
        "Server c_404/s is UP, reason: Layer7 check passed, code: 200, check duration: 0ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
    )


def test_a_down_server_receives_no_new_traffic() -> None:
    hm, _, _ = make()
    be: Backend = hm.backend("g")
    s1 = hm.server("g/s1")
    transitions.set_stopped(s1, "changed from CLI")
    picks = {be.algo.pick(None, None).name for _ in range(50)}  # type: ignore[union-attr]
    assert "s1" not in picks
    assert "s3" not in picks
    assert "s7" not in picks
    assert picks == {"s2", "s4"}


def test_on_marked_down_shutdown_sessions_kills_streams() -> None:
    text = G.split("backend g")[0] + (
        "backend b\n    server s 127.0.0.1:9 check on-marked-down shutdown-sessions\n"
    )
    hm, _, _ = make(text)
    srv = hm.server("b/s")

    class Stream:
        aborted = False

        def abort(self) -> None:
            self.aborted = True
            srv.streams.pop(self, None)

    st = Stream()
    srv.streams[st] = (0, -1)
    transitions.set_stopped(srv, "changed from CLI")
    assert st.aborted


def test_maintenance_pauses_the_check() -> None:
    hm, _, _ = make()
    s2 = hm.server("g/s2")
    transitions.set_admin_flag(s2, SrvAdmin.FMAINT)
    assert s2.check.paused
    assert s2.check.health == 0
    assert s2.cur_admin & MAINT
    transitions.clr_admin_flag(s2, SrvAdmin.FMAINT)
    assert not s2.check.paused
    assert s2.check.health == s2.check.rise


_ = LOG_NOTICE
