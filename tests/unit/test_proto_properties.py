"""Properties of the protocol checks over any reply (Hypothesis).

Whatever a server answers, and however the bytes are cut, a protocol check
ends exactly once, with a status its ruleset can give, and its custom
expect functions never raise: they parse untrusted input.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_tcpcheck import TARGET, ruleset

import protoreplies as R
from herdsman.checks.actions import Done
from herdsman.checks.custom import reports
from herdsman.checks.protocols import ldap, mysql, spop
from herdsman.checks.target import CheckResult
from herdsman.checks.tcpcheck import TcpCheck
from herdsman.defs.status import Status

OPTIONS = [
    "option redis-check",
    "option mysql-check",
    "option mysql-check user nobody",
    "option pgsql-check user nobody",
    "option smtpchk",
    "option ldap-check",
    "option ssl-hello-chk",
    "option spop-check",
]
VALID = [
    b"+PONG\r\n",
    R.mysql_handshake(),
    R.mysql_handshake() + R.MYSQL_OK,
    R.MYSQL_DENIED,
    R.PG_OK,
    R.PG_NO_HBA,
    R.SMTP_GREETING,
    R.SMTP_EHLO_OK,
    R.LDAP_SUCCESS,
    R.LDAP_SUCCESS_LONG,
    R.TLS_ALERT,
    R.SPOP_HELLO,
    R.SPOP_DISCONNECT,
]


@st.composite
def replies(draw: st.DrawFn) -> bytes:
    """Valid replies, cut, with flipped bytes, or random bytes."""
    base = draw(st.sampled_from(VALID) | st.binary(max_size=64))
    if base and draw(st.booleans()):
        base = base[: draw(st.integers(0, len(base)))]
    flips = draw(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=3))
    data = bytearray(base)
    for pos, value in flips:
        if data:
            data[pos % len(data)] = value
    return bytes(data)


@settings(max_examples=400, deadline=None)
@given(
    option=st.sampled_from(OPTIONS),
    parts=st.lists(replies(), max_size=4),
    cuts=st.lists(st.integers(1, 16), min_size=1, max_size=8),
    end=st.sampled_from(["close", "timeout", "reset"]),
)
def test_any_reply_ends_once(option: str, parts: list[bytes], cuts: list[int], end: str) -> None:
    check = TcpCheck(ruleset(option), TARGET)
    actions = check.start() + check.connected()
    data = b"".join(parts)
    i = n = 0
    while i < len(data):
        size = cuts[n % len(cuts)]
        actions += check.received(data[i : i + size])
        i, n = i + size, n + 1
    actions += {
        "close": check.peer_closed,
        "timeout": check.timed_out,
        "reset": lambda: check.conn_failed(104),
    }[end]()
    actions += check.timed_out()  # a run still waiting ends at its deadline
    done = [a for a in actions if isinstance(a, Done)]
    assert len(done) == 1
    assert actions[-1] is done[0]
    for report in reports(done[0].result):
        assert report.status in {
            Status.L4CON,
            Status.L6OK,
            Status.L6RSP,
            Status.L6TOUT,
            Status.L7OK,
            Status.L7RSP,
            Status.L7STS,
            Status.L7TOUT,
            Status.SOCKERR,
        }
        assert len(report.desc.encode("utf-8", "surrogateescape")) <= 127


@settings(max_examples=500, deadline=None)
@given(data=replies(), last_read=st.booleans(), last_rule=st.booleans())
def test_custom_expects_never_raise(data: bytes, last_read: bool, last_rule: bool) -> None:
    """The parsers of MySQL packets, LDAP BindResponses and SPOP frames take any bytes."""
    for func in (
        mysql.expect_iniths,
        mysql.expect_ok,
        ldap.expect_bindrsp,
        spop.expect_agenthello,
    ):
        verdict = func(data, last_read, last_rule)
        assert isinstance(verdict, bool | CheckResult)
