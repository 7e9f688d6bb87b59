"""The sans-IO tcp-check interpreter (``checks/tcpcheck.py``).

Statuses, codes and info texts are those of haproxy 2.6.12
(observed-2.6.12-checks.md, "Check info strings" and §6), reproduced here by
feeding the interpreter the events a socket would produce, whole and one byte
at a time.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_check_config import parse_section

from herdsman.checks.actions import Action, Arm, Close, Connect, Done, Send
from herdsman.checks.custom import CUSTOM_EXPECTS, reports, timed
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tcpcheck import TcpCheck
from herdsman.defs.rules import ConnectRule, Ruleset, RulesetKind
from herdsman.defs.status import Status

TARGET = CheckTarget("c_tcp2", "s", 2, 1, socket.AF_INET, "127.0.0.1", 9500, inter=1000)
Event = tuple[str, object]


def ruleset(*lines: str) -> Ruleset:
    px, diag = parse_section(list(lines))
    assert not diag.fatal, diag.messages
    return px.checks or Ruleset()


def run(
    rs: Ruleset, events: list[Event], target: CheckTarget = TARGET
) -> tuple[list[Action], CheckResult]:
    """Play ``events`` and return every action and the one result."""
    check = TcpCheck(rs, target)
    actions = check.start()
    for kind, arg in events:
        if kind == "connect":
            actions += check.connected(("127.0.0.1", 40000), ("127.0.0.1", 9500))
        elif kind == "data":
            assert isinstance(arg, bytes)
            actions += check.received(arg)
        elif kind == "bytes":  # the same data, one byte at a time
            assert isinstance(arg, bytes)
            for i in range(len(arg)):
                actions += check.received(arg[i : i + 1])
        elif kind == "close":
            actions += check.peer_closed()
        elif kind == "fail":
            assert isinstance(arg, int)
            actions += check.conn_failed(arg)
        elif kind == "timeout":
            actions += check.timed_out()
    done = [a for a in actions if isinstance(a, Done)]
    assert len(done) == 1, actions
    assert actions[-1] is done[0]
    return actions, done[0].result


def result(
    rs: Ruleset, *events: Event, target: CheckTarget = TARGET
) -> tuple[Status, int | None, str]:
    r = run(rs, list(events), target)[1]
    return r.status, r.code, r.desc


C: Event = ("connect", None)
CLOSE: Event = ("close", None)
TIMEOUT: Event = ("timeout", None)
REFUSED: Event = ("fail", errno.ECONNREFUSED)


def data(raw: bytes) -> Event:
    return ("data", raw)


# -- connection outcomes ----------------------------------------------------------------


def test_plain_check() -> None:
    """No check option: one implicit connect, L4OK without info, plain error texts."""
    assert result(Ruleset(), C) == (Status.L4OK, None, "")
    assert result(Ruleset(), REFUSED) == (Status.L4CON, None, "Connection refused")
    assert result(Ruleset(), TIMEOUT) == (Status.L4TOUT, None, "")


def test_option_tcp_check_without_rules() -> None:
    rs = ruleset("option tcp-check")
    assert result(rs, C) == (Status.L4OK, None, "")
    assert result(rs, REFUSED) == (
        Status.L4CON,
        None,
        "Connection refused at initial connection step of tcp-check",
    )
    assert result(rs, TIMEOUT) == (Status.L4TOUT, None, " at initial connection step of tcp-check")


def test_explicit_connect() -> None:
    rs = ruleset("option tcp-check", "tcp-check connect port 9909")
    assert result(rs, C) == (Status.L4OK, None, "(tcp-check)")
    assert result(rs, REFUSED) == (
        Status.L4CON,
        None,
        "Connection refused at step 1 of tcp-check (connect port 9909)",
    )
    rs = ruleset("option tcp-check", "tcp-check connect port 9909 comment 'second conn'")
    assert result(rs, REFUSED)[2] == (
        "Connection refused at step 1 of tcp-check (connect port 9909) comment: 'second conn'"
    )
    rs = ruleset("option tcp-check", "tcp-check connect")
    assert result(rs, TIMEOUT) == (Status.L4TOUT, None, " at step 1 of tcp-check (connect)")


POP_IMAP = (
    "option tcp-check",
    "tcp-check connect port 9504",
    "tcp-check expect string +OK",
    "tcp-check connect port 9505",
    "tcp-check expect string *\\ OK",
)


def test_two_connects() -> None:
    """c_tcp2 of the observation: POP3 then IMAP, step numbers and texts."""
    rs = ruleset(*POP_IMAP)
    actions, res = run(rs, [C, data(b"+OK POP3 ready\r\n"), C, data(b"* OK IMAP4 ready\r\n")])
    assert (res.status, res.code, res.desc) == (Status.L7OK, 0, "(tcp-check)")
    assert [a for a in actions if isinstance(a, Connect)] == [
        Connect(socket.AF_INET, "127.0.0.1", 9504),
        Connect(socket.AF_INET, "127.0.0.1", 9505),
    ]
    # the first connection is closed (RST) before the second one is opened
    kinds = [type(a).__name__ for a in actions]
    assert kinds == ["Connect", "Arm", "Close", "Connect", "Arm", "Close", "Done"]
    assert result(rs, C, data(b"+OK\r\n"), C, data(b"-ERR no\r\n"), TIMEOUT) == (
        Status.L7TOUT,
        None,
        " at step 4 of tcp-check (expect string '* OK')",
    )
    assert result(rs, C, data(b"+OK\r\n"), REFUSED) == (
        Status.L4CON,
        None,
        "Connection refused at step 3 of tcp-check (connect port 9505)",
    )
    assert result(rs, C, data(b"+OK\r\n"), C, data(b"-ERR no\r\n"), CLOSE) == (
        Status.L7RSP,
        None,
        "TCPCHK did not match content '* OK' at step 4",
    )


def test_verbatim_connect_and_comment_texts() -> None:
    """The remaining lines of the VERBATIM "Check info strings", with their rulesets."""
    rs = ruleset(
        "option tcp-check",
        "tcp-check connect port 9901",
        "tcp-check expect string +OK",
        "tcp-check connect port 9909",
        "tcp-check expect string +OK",
    )
    assert result(rs, C, data(b"+OK\r\n"), REFUSED) == (
        Status.L4CON,
        None,
        "Connection refused at step 3 of tcp-check (connect port 9909)",
    )
    rs = ruleset(
        "option tcp-check", "tcp-check send x", "tcp-check expect string XYZ comment mycomment"
    )
    assert result(rs, C, data(b"ABCD"), CLOSE) == (
        Status.L7RSP,
        None,
        "TCPCHK did not match content 'XYZ' at step 2 comment: mycomment",
    )


def test_deadlines() -> None:
    """Spec §4.6: inter at each connect, min(inter, timeout connect) with timeout check,
    then timeout check once connected."""
    rs = ruleset(*POP_IMAP)
    arms = lambda t: [a for a in run(rs, [C, data(b"+OK"), C, TIMEOUT], t)[0] if isinstance(a, Arm)]  # noqa: E731
    assert arms(TARGET) == [Arm(1000), Arm(1000)]
    assert arms(replace(TARGET, timeout_connect=300)) == [Arm(1000), Arm(1000)]
    t = replace(TARGET, timeout_connect=300, timeout_check=2000)
    assert arms(t) == [Arm(300), Arm(2000), Arm(300), Arm(2000)]
    t = replace(TARGET, timeout_check=200)
    assert arms(t) == [Arm(1000), Arm(200), Arm(1000), Arm(200)]


def test_socket_error_after_connect() -> None:
    rs = ruleset("option tcp-check", "tcp-check expect string x")
    assert result(rs, C, ("fail", errno.ECONNRESET)) == (
        Status.SOCKERR,
        None,
        "Connection reset by peer at step 1 of tcp-check (expect string 'x')",
    )
    # data before the reset is judged; the reset is only a close
    assert result(rs, C, data(b"x"), ("fail", errno.ECONNRESET))[0] is Status.L7OK
    assert result(rs, C, data(b"y"), ("fail", errno.ECONNRESET))[0] is Status.L7RSP
    http = ruleset("option httpchk")
    assert result(http, C, ("fail", errno.ECONNRESET)) == (
        Status.SOCKERR,
        None,
        "Connection reset by peer",
    )


# -- expect ------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", ["data", "bytes"])
@pytest.mark.parametrize(
    ("lines", "events", "expected"),
    [
        (["tcp-check expect string +OK"], [b"+OK POP3\r\n"], (Status.L7OK, 0, "(tcp-check)")),
        (
            ["tcp-check expect string +OK"],
            [b"-ERR\r\n", CLOSE],
            (Status.L7RSP, None, "TCPCHK did not match content '+OK' at step 1"),
        ),
        (
            ["tcp-check expect string +OK"],
            [CLOSE],
            (Status.L7RSP, None, "TCPCHK got an empty response at step 1"),
        ),
        (
            ["tcp-check expect min-recv 3 string XYZ"],
            [b"ABCD"],
            (Status.L7RSP, None, "TCPCHK did not match content 'XYZ' at step 1"),
        ),
        (
            ["tcp-check expect ! string ERR"],
            [b"-ERR", CLOSE],
            (Status.L7RSP, None, "TCPCHK matched unwanted content 'ERR' at step 1"),
        ),
        (["tcp-check expect ! string ERR"], [b"+OK", CLOSE], (Status.L7OK, 0, "(tcp-check)")),
        (["tcp-check expect rbinary ^2B4F4B"], [b"+OK\r\n"], (Status.L7OK, 0, "(tcp-check)")),
        (
            ["tcp-check expect binary 4f4b00"],
            [b"ZZ", CLOSE],
            (Status.L7RSP, None, "TCPCHK did not match content (binary) at step 1"),
        ),
        (
            ["tcp-check expect rstring ^X"],
            [b"ZZ", CLOSE],
            (Status.L7RSP, None, "TCPCHK did not match content (regex) at step 1"),
        ),
        (
            ["tcp-check expect rbinary ^00"],
            [b"ZZ", CLOSE],
            (Status.L7RSP, None, "TCPCHK did not match content (binary regex) at step 1"),
        ),
        (
            ["tcp-check expect string-lf %[srv_name]X"],
            [b"ZZ", CLOSE],
            (Status.L7RSP, None, "TCPCHK did not match content (log-format string) at step 1"),
        ),
        (["tcp-check expect string-lf %[srv_name]X"], [b"<sX>"], (Status.L7OK, 0, "(tcp-check)")),
        (["tcp-check expect binary-lf %[str(4f4b)]"], [b"+OK"], (Status.L7OK, 0, "(tcp-check)")),
        (
            ["tcp-check expect binary-lf %[str(zz)]"],
            [b"+OK"],
            (
                Status.L7RSP,
                None,
                "Failed to parse hexastring resulting of eval of a log-format string",
            ),
        ),
        (
            ["tcp-check expect string-lf %[env(HERDSMAN_UNSET_VAR)]"],
            [b"+OK"],
            (Status.L7RSP, None, "log-format string evaluated to an empty string"),
        ),
        # the NUL byte does not stop PCRE2 (the spec said it did; the binary disagrees)
        (["tcp-check expect rstring ABC"], [b"\x00ABC"], (Status.L7OK, 0, "(tcp-check)")),
        (
            ["tcp-check comment x", "tcp-check expect string +OK"],
            [b"-ERR", CLOSE],
            (Status.L7RSP, None, "TCPCHK did not match content '+OK' at step 2 comment: x"),
        ),
        (
            ["tcp-check expect string OK status-code int(42)"],
            [b"OK"],
            (Status.L7OK, 42, "(tcp-check)"),
        ),
        (
            ["tcp-check expect string OK on-success 'fine %[srv_name]'"],
            [b"OK"],
            (Status.L7OK, 0, "fine s"),
        ),
        (
            ["tcp-check expect string XY on-error 'bad %[srv_name]' comment cc"],
            [b"OK", CLOSE],
            (Status.L7RSP, None, "bad s comment: cc"),
        ),
        (["tcp-check expect string OK ok-status L7OKC"], [b"OK"], (Status.L7OKC, 0, "(tcp-check)")),
        (
            ["tcp-check expect string OK error-status L7STS"],
            [b"KO", CLOSE],
            (Status.L7STS, 0, "TCPCHK did not match content 'OK' at step 1"),
        ),
        (
            ["tcp-check expect string OK"],
            [b"KO", TIMEOUT],
            (Status.L7TOUT, None, " at step 1 of tcp-check (expect string 'OK')"),
        ),
        (
            ["tcp-check expect string OK tout-status L4TOUT"],
            [TIMEOUT],
            (Status.L4TOUT, None, " at step 1 of tcp-check (expect string 'OK')"),
        ),
        (
            ["tcp-check comment 'check banner'", "tcp-check expect string +OK"],
            [TIMEOUT],
            (
                Status.L7TOUT,
                None,
                " at step 2 of tcp-check (expect string '+OK') comment: 'check banner'",
            ),
        ),
        (
            ["tcp-check expect string x comment cc"],
            [CLOSE],
            (Status.L7RSP, None, "TCPCHK got an empty response at step 1 comment: 'cc'"),
        ),
        (
            ["tcp-check send PING\\r\\n", "tcp-check expect string +PONG"],
            [b"+PONG\r\n"],
            (Status.L7OK, 0, "(tcp-check)"),
        ),
        (["tcp-check send PING\\r\\n"], [], (Status.L7OK, 0, "(tcp-check)")),
        (["tcp-check expect custom"], [b"anything"], (Status.L7OK, 0, "(tcp-check)")),
    ],
)
def test_expect(
    lines: list[str],
    events: list[bytes | Event],
    expected: tuple[Status, int | None, str],
    feed: str,
) -> None:
    rs = ruleset("option tcp-check", *lines)
    evs: list[Event] = [C] + [(feed, e) if isinstance(e, bytes) else e for e in events]
    assert result(rs, *evs) == expected


def test_expect_waits_for_pattern_length_and_min_recv() -> None:
    check = TcpCheck(ruleset("option tcp-check", "tcp-check expect min-recv 4 string OK"), TARGET)
    check.start()
    check.connected()
    assert check.received(b"OK") == []  # only 2 of 4 bytes: wait
    assert isinstance(check.received(b"!!")[-1], Done)


def test_consecutive_expects_share_the_data() -> None:
    rs = ruleset("option tcp-check", "tcp-check expect string a", "tcp-check expect string b")
    assert result(rs, C, data(b"ab"))[0] is Status.L7OK
    assert result(rs, C, data(b"a"), data(b"b"))[0] is Status.L7OK


def test_resume_from_first_negated_expect() -> None:
    """A waiting expect resumes at the head of its chain (the first negated expect)."""
    rs = ruleset("option tcp-check", "tcp-check expect ! string ERR", "tcp-check expect string OK")
    # "! ERR" waits for the end (a mismatch is not final), then ERR arrives with OK
    assert result(rs, C, data(b"OK"), data(b"ERR"), CLOSE)[2] == (
        "TCPCHK matched unwanted content 'ERR' at step 1"
    )
    assert result(rs, C, data(b"OK"), CLOSE)[0] is Status.L7OK


def test_send_clears_the_input() -> None:
    rs = ruleset(
        "option tcp-check",
        "tcp-check expect string +OK",
        "tcp-check send QUIT\\r\\n",
        "tcp-check expect string +OK",
    )
    actions, res = run(rs, [C, data(b"+OK"), TIMEOUT])
    assert res.status is Status.L7TOUT
    assert res.desc == " at step 3 of tcp-check (expect string '+OK')"
    assert Send(b"QUIT\r\n") in actions
    assert result(rs, C, data(b"+OK"), data(b"+OK bye"))[0] is Status.L7OK


def test_buffer_full_is_last_read() -> None:
    """A full buffer (16384) decides; what did not fit is read after the next send."""
    rs = ruleset("option tcp-check", "tcp-check expect string NEVER")
    assert result(rs, C, data(b"x" * 20000)) == (
        Status.L7RSP,
        None,
        "TCPCHK did not match content 'NEVER' at step 1",
    )
    rs = ruleset(
        "option tcp-check",
        "tcp-check expect string x",
        "tcp-check send go\\r\\n",
        "tcp-check expect string TAIL",
    )
    assert result(rs, C, data(b"x" * 16384 + b"TAIL"))[0] is Status.L7OK


def test_send_too_large() -> None:
    rs = ruleset("option tcp-check", "tcp-check send " + "a" * 16384)
    assert result(rs, C) == (
        Status.L7RSP,
        None,
        "tcp-check send : string too large (16384) for buffer size (16384) at step 1",
    )


def test_send_lf_and_binary() -> None:
    rs = ruleset(
        "option tcp-check",
        "tcp-check send-lf %[srv_name]",
        "tcp-check send-binary 00ff",
        "tcp-check send-binary-lf %[str(4142)]",
        "tcp-check send-lf %[env(HERDSMAN_UNSET_VAR)]",
    )
    actions, res = run(rs, [C])
    assert [a for a in actions if isinstance(a, Send)] == [
        Send(b"s"),
        Send(b"\x00\xff"),
        Send(b"AB"),
    ]
    assert res.status is Status.L7OK
    rs = ruleset("option tcp-check", "tcp-check send-binary-lf %[str(4)]")
    assert result(rs, C) == (
        Status.L7RSP,
        None,
        "tcp-check send : failed to build log-format string at step 1",
    )


def test_proxy_header_first() -> None:
    rs = ruleset("option tcp-check", "tcp-check connect send-proxy", "tcp-check send x")
    actions, _ = run(rs, [C])
    sends = [a for a in actions if isinstance(a, Send)]
    assert sends == [Send(b"PROXY TCP4 127.0.0.1 127.0.0.1 40000 9500\r\n"), Send(b"x")]
    # "connect default" inherits the server's send-proxy (v2 here, LOCAL)
    actions, _ = run(Ruleset(), [C], replace(TARGET, send_proxy=True, proxy_v2=True))
    assert [a for a in actions if isinstance(a, Send)] == [
        Send(b"\r\n\r\n\x00\r\nQUIT\n \x00\x00\x00")
    ]


def test_connect_addr_and_linger() -> None:
    rs = ruleset("option tcp-check", "tcp-check connect addr [::1]:8443 linger")
    actions, _ = run(rs, [C])
    # a lone connect: no expect follows, so the last ACK is delayed (delack)
    assert actions[0] == Connect(socket.AF_INET6, "::1", 8443, delack=True)
    assert Close(linger=True) in actions


@pytest.mark.parametrize(
    ("lines", "delack"),
    [
        (["option tcp-check"], True),
        (["option tcp-check", "tcp-check expect string +OK"], False),
        (["option tcp-check", "tcp-check comment banner", "tcp-check expect string +OK"], False),
        (["option tcp-check", "tcp-check send PING\\r\\n", "tcp-check expect string +PONG"], True),
        (["option httpchk"], True),
    ],
)
def test_delayed_ack_unless_an_expect_follows_the_connect(lines: list[str], delack: bool) -> None:
    """CONNECT_DELACK_ALWAYS when the rule after the connect is not an expect."""
    connect = TcpCheck(ruleset(*lines), TARGET).start()[0]
    assert isinstance(connect, Connect)
    assert connect.delack is delack


def test_custom_expect_registry() -> None:
    """A custom expect waits (False), goes on (True), fails, or reports a success first."""
    CUSTOM_EXPECTS["test-answer"] = lambda buf, last_read, last_rule: (
        CheckResult(Status.L7STS, 7, "told")
        if buf.startswith(b"NO")
        else CheckResult(Status.L7OK, 0, "fine")
        if buf.startswith(b"OK") and last_rule
        else len(buf) > 2 or last_read
    )
    try:
        rs = Ruleset(
            RulesetKind.REDIS, ruleset("option tcp-check", "tcp-check expect custom").rules
        )
        rule = rs.rules[-1]
        rs.rules[-1] = replace(rule, custom="test-answer")  # type: ignore[type-var]
        assert result(rs, C, data(b"NO")) == (Status.L7STS, 7, "told")
        assert result(rs, C, data(b"YES"))[0] is Status.L7OK
        assert result(rs, C, data(b"YE"), CLOSE) == (Status.L7OK, 0, "")
        # reported twice: first with the function's text, then at the end of the rules
        res = run(rs, [C, data(b"OK")])[1]
        assert reports(res) == (
            CheckResult(Status.L7OK, 0, "fine"),
            CheckResult(Status.L7OK, 0, ""),
        )
        assert reports(timed(res, 5)) == (
            CheckResult(Status.L7OK, 0, "fine", 5),
            CheckResult(Status.L7OK, 0, "", 5),
        )
    finally:
        del CUSTOM_EXPECTS["test-answer"]


def test_desc_is_truncated_to_127_bytes() -> None:
    rs = ruleset("option tcp-check", "tcp-check expect string " + "y" * 200)
    desc = result(rs, C, data(b"n"), CLOSE)[2]
    assert len(desc) == 127
    assert desc.startswith("TCPCHK did not match content 'yyy")


def test_events_after_done_are_ignored() -> None:
    check = TcpCheck(Ruleset(), TARGET)
    check.start()
    assert isinstance(check.connected()[-1], Done)
    assert check.received(b"x") == check.peer_closed() == check.timed_out() == []
    assert check.conn_failed(errno.EPIPE) == []
    assert check.done


# -- HTTP --------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", ["data", "bytes"])
@pytest.mark.parametrize(
    ("lines", "events", "expected"),
    [
        ([], [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], (Status.L7OK, 200, "")),
        ([], [b"HTTP/1.1 301 Moved\r\n\r\n"], (Status.L7OK, 301, "")),
        (
            [],
            [b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"],
            (Status.L7STS, 503, "Service Unavailable"),
        ),
        ([], [b"HTTP/1.1 101 Switching\r\n\r\n"], (Status.L7STS, 101, "Switching")),
        ([], [CLOSE], (Status.L7RSP, None, "")),
        ([], [b"garbage\r\n\r\n"], (Status.L7RSP, None, "")),
        ([], [b"HTTP/1.1 200 OK\r\nX-A: b\r\n", CLOSE], (Status.L7RSP, None, "")),
        ([], [b"HTTP/1.1 200 OK\r\n", TIMEOUT], (Status.L7TOUT, None, "")),
        (
            ["http-check expect status 200 comment mycomment"],
            [b"HTTP/1.1 500 Internal\r\nContent-Length: 0\r\n\r\n"],
            (Status.L7STS, 500, "Internal comment: mycomment"),
        ),
        (
            ["http-check expect status 200 comment cc"],
            [b"garbage\r\n\r\n"],
            (Status.L7RSP, None, " comment: cc"),
        ),
        (
            ["http-check expect status 200 on-error 'x %[srv_name]' comment cc"],
            [b"HTTP/1.1 500 Internal\r\n\r\n"],
            (Status.L7STS, 500, "x s comment: cc"),
        ),
        (
            ["http-check expect status 200 status-code int(42)"],
            [b"HTTP/1.1 500 Internal\r\n\r\n"],
            (Status.L7STS, 42, "Internal"),
        ),
        (
            ["http-check expect status 200 on-success 'yay %[be_name]'"],
            [b"HTTP/1.1 200 OK\r\n\r\n"],
            (Status.L7OK, 200, "yay c_tcp2"),
        ),
        (
            ["http-check expect ok-status L7OKC status 200"],
            [b"HTTP/1.1 200 OK\r\n\r\n"],
            (Status.L7OKC, 200, ""),
        ),
        (
            ["http-check expect error-status L7OKC status 200"],
            [b"HTTP/1.1 500 Internal\r\n\r\n"],
            (Status.L7OKC, 500, "Internal"),
        ),
        (
            ["http-check expect string abc"],
            [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", CLOSE],
            (Status.L7OK, 200, ""),
        ),
        (
            ["http-check expect string xyz"],
            [b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef"],
            (Status.L7RSP, None, "HTTP content check did not match"),
        ),
        (
            ["http-check expect ! string abc"],
            [b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef"],
            (Status.L7RSP, None, "HTTP check matched unwanted content"),
        ),
        (
            ["http-check expect string x"],
            [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
            (Status.L7RSP, None, "HTTP content check could not find a response body"),
        ),
        (
            ["http-check expect string def"],
            [b"HTTP/1.0 200 OK\r\n\r\nabcdef"],
            (Status.L7OK, 200, ""),
        ),
        (
            ["http-check disable-on-404", "http-check expect string xyz"],
            [b"HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\nabcdef"],
            (Status.L7OKC, 404, ""),
        ),
        (
            ["http-check disable-on-404"],
            [b"HTTP/1.1 404 Not Found\r\n\r\n"],
            (Status.L7OKC, 404, ""),
        ),
    ],
)
def test_http(
    lines: list[str],
    events: list[bytes | Event],
    expected: tuple[Status, int | None, str],
    feed: str,
) -> None:
    rs = ruleset("option httpchk GET /", *lines)
    evs: list[Event] = [C] + [(feed, e) if isinstance(e, bytes) else e for e in events]
    assert result(rs, *evs) == expected


def test_http_disable_on_404_on_a_down_server() -> None:
    """A DOWN server answering 404 is judged normally (spec §5.6)."""
    rs = ruleset("option httpchk GET /", "http-check disable-on-404")
    down = replace(TARGET, server_down=True)
    assert result(rs, C, data(b"HTTP/1.1 404 Not Found\r\n\r\n"), target=down) == (
        Status.L7STS,
        404,
        "Not Found",
    )


def test_http_send_state_and_request() -> None:
    rs = ruleset("option httpchk GET /s", "http-check send-state")
    target = replace(TARGET, state_header=lambda: "UP 1/3; address=127.0.0.1")
    actions, _ = run(rs, [C, data(b"HTTP/1.0 200 OK\r\n\r\n")], target)
    assert (
        Send(b"GET /s HTTP/1.0\r\nx-haproxy-server-state: UP 1/3; address=127.0.0.1\r\n\r\n")
        in actions
    )


def test_http_head_request_has_no_body() -> None:
    rs = ruleset("option httpchk HEAD /")
    assert result(rs, C, data(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"))[0] is Status.L7OK


def test_connect_rule_ending_an_http_ruleset() -> None:
    rs = Ruleset(RulesetKind.HTTP, [ConnectRule(port=81)])
    assert result(rs, C) == (Status.L4OK, None, "(tcp-check)")


# -- properties --------------------------------------------------------------------------

RULE_LINES = st.sampled_from(
    [
        "tcp-check connect",
        "tcp-check connect port 81 linger",
        "tcp-check send PING\\r\\n",
        "tcp-check send-lf %[srv_name]",
        "tcp-check send-binary 00ff",
        "tcp-check expect string OK",
        "tcp-check expect ! string ERR",
        "tcp-check expect min-recv 2 string OK",
        "tcp-check expect rstring ^[A-Z]+",
        "tcp-check expect rbinary 4F",
        "tcp-check expect binary 0d0a",
        "tcp-check expect string-lf %[srv_name]",
        "tcp-check expect string OK tout-status L4TOUT error-status L7STS",
        "tcp-check comment c",
    ]
)
EVENTS = st.lists(
    st.one_of(
        st.just(("connect", None)),
        st.tuples(
            st.just("data"), st.binary(max_size=40) | st.sampled_from([b"OK", b"ERR", b"\r\n"])
        ),
        st.just(("close", None)),
        st.tuples(st.just("fail"), st.sampled_from([errno.ECONNREFUSED, errno.ECONNRESET, 0])),
        st.just(("timeout", None)),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(RULE_LINES, max_size=6), events=EVENTS, http=st.booleans())
def test_interpreter_never_raises_and_ends_once(
    lines: list[str], events: list[Event], http: bool
) -> None:
    """Any rules and any event sequence: no exception, at most one Done, nothing after it;
    a timeout always ends the run."""
    px, diag = parse_section(["option httpchk" if http else "option tcp-check", *lines])
    rs = px.checks if px.checks is not None and not diag.fatal else Ruleset()
    check = TcpCheck(rs, TARGET)
    actions = check.start()
    for kind, arg in [*events, ("timeout", None)]:
        if kind == "connect":
            actions += check.connected()
        elif kind == "data":
            actions += check.received(arg)  # type: ignore[arg-type]
        elif kind == "close":
            actions += check.peer_closed()
        elif kind == "fail":
            actions += check.conn_failed(arg)  # type: ignore[arg-type]
        else:
            actions += check.timed_out()
    done = [i for i, a in enumerate(actions) if isinstance(a, Done)]
    assert len(done) == 1
    assert done[0] == len(actions) - 1
    assert check.done
    assert check.room == 0
