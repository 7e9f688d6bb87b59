"""Agent checks without sockets (``checks/agent.py``, spec §9, §11).

The reply grammar is ``tcpcheck_agent_expect_reply()``'s: the parser is fed
whole and one byte at a time through the tcp-check interpreter; the effects of
a reply on its server (admin state, weight, maxconn, health, log lines) are
those haproxy 2.6.12 shows for the same replies
(tests/integration/test_agent_vs_haproxy.py replays a sequence through both).
"""

from __future__ import annotations

import io
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herdsman.checks import health
from herdsman.checks.agent import AgentReply, parse_reply
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tcpcheck import Connect, Done, Send, TcpCheck
from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core.backend import Check, Server
from herdsman.core.clock import ManualClock
from herdsman.core.states import SrvAdmin, SrvState
from herdsman.defs.protocols.agent import ruleset
from herdsman.defs.status import Status
from herdsman.runtime import Herdsman

TARGET = CheckTarget("L", "s1", 1, 1, socket.AF_INET, "127.0.0.1", 9500, inter=1000)
OK, STS, CHK = Status.L7OK, Status.L7STS, Status.CHECKED


def words(reply: AgentReply) -> tuple[object, ...]:
    return (
        reply.status,
        reply.health,
        reply.admin,
        reply.weight,
        reply.maxconn,
        reply.error,
        reply.description,
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"up\n", (OK, "up", "", "", None, "", "")),
        (b"UP\r\n", (OK, "UP", "", "", None, "", "")),
        (b"down\n", (STS, "down", "", "", None, "", "")),
        (b"Stopped\n", (STS, "Stopped", "", "", None, "", "")),
        (b"fail\n", (STS, "fail", "", "", None, "", "")),
        (b"ready\n", (CHK, "", "ready", "", None, "", "")),
        (b"DRAIN\n", (CHK, "", "DRAIN", "", None, "", "")),
        (b"maint\n", (CHK, "", "maint", "", None, "", "")),
        (b"75%\n", (CHK, "", "", "75%", None, "", "")),
        (b"5x%\n", (CHK, "", "", "5x%", None, "", "")),  # a digit first and a '%'
        (b"x75%\n", (CHK, "", "", "", None, "x75%", "")),
        (b"maxconn:30\n", (CHK, "", "", "", "30", "", "")),
        (b"MaxConn:\n", (CHK, "", "", "", "", "", "")),
        (
            b"75%,maxconn:30,maint,down\n",
            (STS, "down", "maint", "75%", "30", "", ""),
        ),
        (b"up down\n", (STS, "down", "", "", None, "", "")),  # the last one wins
        (b"down,up\n", (OK, "up", "", "", None, "", "")),
        (b"drain ready 10% 20%\n", (CHK, "", "ready", "20%", None, "", "")),
        (b"foo bar up\n", (OK, "up", "", "", None, "foo", "")),
        (b"up # all fine\n", (OK, "up", "", "", None, "", "all fine")),
        (b"up #\t  two  words, here\n", (OK, "up", "", "", None, "", "two  words, here")),
        (b"up#x\n", (CHK, "", "", "", None, "up#x", "")),  # '#' only starts a word
        (b"#only\n", (CHK, "", "", "", None, "", "only")),
        (b" \t,, up ,\t\n", (OK, "up", "", "", None, "", "")),
        (b"\n", (CHK, "", "", "", None, "", "")),
        (b"up\rdown\n", (OK, "up", "", "", None, "", "")),  # the line ends at the CR
        (b"up\ndown\n", (OK, "up", "", "", None, "", "")),
        (b"\xe9t\xe9 up\n", (OK, "up", "", "", None, "\udce9t\udce9", "")),
    ],
)
def test_reply_words(data: bytes, expected: tuple[object, ...]) -> None:
    reply = parse_reply(data, last_read=False)
    assert reply is not None
    assert not reply.incomplete
    assert words(reply) == expected


@pytest.mark.parametrize("data", [b"", b"up", b"up down", b"up\x00\n", b"\x00"])
def test_no_line_waits_then_is_incomplete(data: bytes) -> None:
    """Without CR or LF before a NUL or the end, the line is not there yet."""
    assert parse_reply(data, last_read=False) is None
    reply = parse_reply(data, last_read=True)
    assert reply is not None
    assert reply.incomplete


def play(reply: bytes, feed: str, agent_send: str | None = None) -> tuple[bytes, object]:
    check = TcpCheck(ruleset(agent_send), TARGET)
    actions = check.start()
    actions += check.connected()
    pieces = [reply[i : i + 1] for i in range(len(reply))] if feed == "bytes" else [reply]
    done_at = None
    for n, piece in enumerate(p for p in pieces if p):
        actions += check.received(piece)
        if done_at is None and any(isinstance(a, Done) for a in actions):
            done_at = n
    if done_at is None:
        actions += check.peer_closed()
    done = [a for a in actions if isinstance(a, Done)]
    assert len(done) == 1
    sent = b"".join(a.data for a in actions if isinstance(a, Send))
    return sent, done[0].result


@pytest.mark.parametrize("feed", ["whole", "bytes"])
@pytest.mark.parametrize(
    "reply", [b"up\n", b"75%,maxconn:30,maint,down\r\n", b"up # fine\n", b"\n", b"ready"]
)
def test_interpreter_whole_and_byte_by_byte(feed: str, reply: bytes) -> None:
    sent, result = play(reply, feed)
    assert sent == b""
    assert isinstance(result, AgentReply)
    expected = parse_reply(reply, last_read=True)
    assert expected is not None
    assert words(result) == words(expected)
    assert result.incomplete == expected.incomplete


def test_agent_send_is_sent_verbatim_and_quick_acks_only_then() -> None:
    check = TcpCheck(ruleset("hello\n"), TARGET)
    start = check.start()
    assert next(a for a in start if isinstance(a, Connect)).delack
    assert check.connected() == [Send(b"hello\n")]
    # without agent-send nothing is sent, and the ACK is not delayed (2.6.12)
    start = TcpCheck(ruleset(None), TARGET).start()
    assert not next(a for a in start if isinstance(a, Connect)).delack


def test_an_empty_close_is_an_empty_response_at_step_2() -> None:
    _, result = play(b"", "whole")
    assert isinstance(result, CheckResult)
    assert (result.status, result.desc) == (
        Status.L7RSP,
        "TCPCHK got an empty response at step 2",
    )


@given(st.binary(max_size=64))
def test_any_bytes_parse_and_only_lines_end_the_run(data: bytes) -> None:
    reply = parse_reply(data, last_read=True)
    assert reply is not None
    line_end = next((i for i, b in enumerate(data) if b in b"\r\n\0"), len(data))
    assert reply.incomplete == (line_end == len(data) or data[line_end] == 0)
    for feed in ("whole", "bytes"):
        _, result = play(data, feed)
        if data:
            assert isinstance(result, AgentReply)
            assert words(result) == words(reply)


# -- what a reply does to its server ---------------------------------------------------


class Logs:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def send(self, level: int, message: str) -> None:
        self.lines.append(message)


def make(server: str, balance: str = "roundrobin", extra: str = "") -> tuple[Herdsman, Logs]:
    text = (
        "defaults\n    mode tcp\n    option log-health-checks\n    timeout connect 1s\n"
        "    timeout client 1s\n    timeout server 1s\n"
        f"backend L\n    balance {balance}\n{extra}"
        f"    server s1 127.0.0.1:9 {server} agent-check agent-port 9500\n"
    )
    cfg = parse_text(text, Diagnostics(), "t.cfg")
    assert cfg is not None
    hm = Herdsman(cfg, clock=ManualClock(), stderr=io.StringIO(), check_starter=lambda c, d: None)
    hm.hooks.starting = False
    logs = Logs()
    hm.hooks.loggers["L"] = logs  # type: ignore[assignment]
    return hm, logs


def reply(hm: Herdsman, data: bytes, name: str = "L/s1") -> Server:
    """The agent of ``name`` answered ``data`` (the connection closed after it)."""
    srv = hm.server(name)
    assert srv.agent is not None
    parsed = parse_reply(data, last_read=True)
    assert parsed is not None
    health.complete(srv.agent, parsed)
    return srv


def agent(srv: Server) -> Check:
    assert srv.agent is not None
    return srv.agent


def test_agent_defaults() -> None:
    hm, _ = make("weight 10")
    chk = agent(hm.server("L/s1"))
    assert (chk.rise, chk.fall, chk.health, chk.inter) == (1, 1, 1, 2000)
    assert (chk.fastinter, chk.downinter) == (0, 0)
    assert chk.ruleset.rules[1] == ruleset(None).rules[1]
    assert hm.checks.checks == [chk]


def test_weight_maxconn_drain_and_their_lines() -> None:
    hm, logs = make("weight 10 maxconn 10")
    srv = reply(hm, b"up\n")
    assert logs.lines == [
        'Agent check for server L/s1 succeeded, reason: Layer7 check passed, code: 0, info: "via agent : up", status: 1/1 UP.'
    ]
    reply(hm, b"75%\n")
    assert (srv.uweight, srv.eweight) == (7, 7 * 16)
    reply(hm, b"maxconn:30\n")
    assert (srv.maxconn, srv.minconn) == (30, 30)  # a static limit stays static
    assert len(logs.lines) == 1  # CHECKED: nothing logged
    assert agent(srv).status is Status.CHECKED
    reply(hm, b"drain\n")
    assert srv.cur_admin == SrvAdmin.FDRAIN
    assert logs.lines[1:] == [
        "Server L/s1 enters drain state. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        "backend L has no server available!",
    ]


def test_down_then_up_move_the_server_at_once() -> None:
    hm, logs = make("weight 10")
    srv = reply(hm, b"down #going away\n")
    assert srv.cur_state is SrvState.STOPPED
    assert agent(srv).health == 0
    assert logs.lines[:2] == [
        'Agent check for server L/s1 failed, reason: Layer7 wrong status, code: 0, info: "via agent : down (going away)", status: 0/1 DOWN.',
        "Server L/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    ]
    assert srv.counters.failed_checks == 0  # the health was set by the word, not counted
    reply(hm, b"up\n")
    assert srv.cur_state is SrvState.RUNNING


def test_combination_applies_admin_then_weight_then_maxconn_then_health() -> None:
    hm, logs = make("weight 10 maxconn 10")
    srv = reply(hm, b"75%,maxconn:30,maint,down\n")
    assert srv.cur_admin == SrvAdmin.FMAINT
    assert (srv.uweight, srv.maxconn, agent(srv).health) == (7, 30, 0)
    assert logs.lines == [
        "Server L/s1 is going DOWN for maintenance. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "backend L has no server available!",
        'Agent check for server L/s1 failed, reason: Layer7 wrong status, code: 0, info: "via agent : down", status: 0/1 DOWN.',
    ]
    # "ready" with "down" in the same line: the agent's health is already 0
    # when maintenance ends, so the server stays DOWN
    reply(hm, b"ready down\n")
    assert (srv.cur_admin, srv.cur_state) == (SrvAdmin.NONE, SrvState.STOPPED)
    assert logs.lines[-1] == "Server L/s1 is DOWN/READY (leaving forced maintenance)."
    reply(hm, b"READY UP\n")
    assert srv.cur_state is SrvState.RUNNING


@pytest.mark.parametrize(
    ("data", "info"),
    [
        (b"garbage words\n", "agent reports an error : garbage"),
        (b"50%x\n", "agent warns : Trailing garbage in weight string"),
        (b"300%x\n", "agent warns : Absolute weight can only be between 0 and 256 inclusive.\n"),
        (b"maxconn:\n", "agent warns : Require <maxconn>.\n"),
        (b"maxconn:x\n", "agent warns : maxconn string empty or preceded by garbage"),
        (b"maxconn:5x\n", "agent warns : Trailing garbage in maxconn string"),
        (b"50%x maxconn:5x\n", "agent warns : Trailing garbage in weight string"),
        (b"maxconn:5x foo\n", "agent reports an error : foo"),
        (b"up foo 50%x\n", "via agent : up (foo)"),
        (b"up 50%x # desc\n", "via agent : up (Trailing garbage in weight string)"),
        (b"up # desc\n", "via agent : up (desc)"),
        (b"down foo # desc\n", "via agent : down (desc)"),
        (b"down foo\n", "via agent : down (foo)"),
        (b"\n", ""),
    ],
)
def test_info_texts(data: bytes, info: str) -> None:
    hm, _ = make("weight 10")
    srv = reply(hm, data)
    assert agent(srv).desc == info


def test_static_algorithm_takes_only_0_and_100_percent() -> None:
    hm, logs = make("weight 10", balance="static-rr")
    srv = reply(hm, b"50%\n")
    assert srv.uweight == 10
    assert agent(srv).desc == (
        "agent warns : Backend is using a static LB algorithm and only accepts weights "
        "'0%' and '100%'.\n"
    )
    reply(hm, b"down 50%\n")
    assert logs.lines[0] == (
        "Agent check for server L/s1 failed, reason: Layer7 wrong status, code: 0, info: \"via agent : down (Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.<0A>)\", status: 0/1 DOWN."
    )
    reply(hm, b"up 0%\n")
    assert srv.uweight == 0
    assert logs.lines[-2] == (
        'Agent check for server L/s1 succeeded, reason: Layer7 check passed, code: 0, info: "via agent : up", status: 1/1 DRAIN.'
    )


@pytest.mark.parametrize(
    ("word", "weight"), [("0%", 0), ("50%", 5), ("100%", 10), ("1000%", 100), ("99999%", 256)]
)
def test_relative_weight(word: str, weight: int) -> None:
    hm, _ = make("weight 10")
    srv = reply(hm, word.encode() + b"\n")
    assert srv.uweight == weight


def test_maxconn_lets_the_queue_move() -> None:
    hm, _ = make("maxconn 1")
    srv = hm.server("L/s1")
    be = hm.backend("L")

    class Stream:
        force = False  # SF_FORCE_PRST

        granted: list[Server | None]

        def __init__(self) -> None:
            self.granted = []

        def abort(self) -> None:
            pass

        def dequeued(self, s: Server | None) -> None:
            self.granted.append(s)

    streams = [Stream() for _ in range(3)]
    for stream in streams:
        be.acquire(stream)
    assert (srv.served, be.queue.length) == (1, 2)
    reply(hm, b"maxconn:3\n")
    assert (srv.served, be.queue.length) == (3, 0)
    assert [st.granted for st in streams] == [[], [srv], [srv]]


def test_incomplete_line_keeps_the_previous_status() -> None:
    hm, logs = make("weight 10")
    srv = reply(hm, b"down\n")
    logs.lines.clear()
    reply(hm, b"up")
    chk = agent(srv)
    assert (chk.status, chk.desc, chk.health) == (
        Status.L7STS,
        "Ignoring incomplete line from agent",
        0,
    )
    assert srv.cur_state is SrvState.STOPPED
    assert logs.lines == []


def test_incomplete_first_line_ends_as_a_timeout() -> None:
    hm, _ = make("weight 10")
    srv = reply(hm, b"up")
    assert (agent(srv).status, agent(srv).desc) == (Status.L7TOUT, "")


def test_unreachable_agent_never_takes_the_server_down() -> None:
    hm, logs = make("weight 10")
    srv = hm.server("L/s1")
    health.complete(agent(srv), CheckResult(Status.L4CON, None, "Connection refused", 0))
    assert (agent(srv).health, srv.cur_state) == (1, SrvState.RUNNING)
    assert logs.lines == [
        'Agent check for server L/s1 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms, status: 1/1 UP.'
    ]


def test_up_cannot_override_a_failing_health_check() -> None:
    hm, _ = make("check weight 10")
    srv = hm.server("L/s1")
    assert srv.check is not None
    health.complete(srv.check, CheckResult(Status.L4CON, None, "Connection refused", 0))
    assert srv.cur_state is SrvState.STOPPED
    reply(hm, b"up\n")
    assert srv.cur_state is SrvState.STOPPED
    # and a passing health check cannot override an agent that said down
    reply(hm, b"down\n")
    for _ in range(2):
        health.complete(srv.check, CheckResult(Status.L4OK, None, "", 0))
    assert srv.cur_state is SrvState.STOPPED
    reply(hm, b"up\n")
    assert srv.cur_state is SrvState.RUNNING


def test_agent_runs_in_maintenance_and_ready_ends_it() -> None:
    hm, _ = make("check weight 10")
    srv = reply(hm, b"maint\n")
    assert srv.check is not None
    assert srv.check.paused
    assert agent(srv).active  # the agent is never paused
    reply(hm, b"ready\n")
    assert (srv.cur_admin, srv.cur_state) == (SrvAdmin.NONE, SrvState.RUNNING)
    assert not srv.check.paused


def test_disabled_agent_ignores_the_reply() -> None:
    hm, logs = make("weight 10")
    srv = hm.server("L/s1")
    agent(srv).enabled = False
    reply(hm, b"down 50%\n")
    assert (srv.cur_state, srv.uweight, logs.lines) == (SrvState.RUNNING, 10, [])


def test_scheduled_after_the_health_check_of_its_server() -> None:
    hm, _ = make("check inter 1s", extra="    server s0 127.0.0.1:8 check\n")
    names = [(c.server.name, c.agent) for c in hm.checks.checks]
    assert names == [("s0", False), ("s1", False), ("s1", True)]
