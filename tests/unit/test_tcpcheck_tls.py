"""TLS check connections in the sans-IO interpreter: the transport each connect rule
asks for, and L6OK / L6RSP / L6TOUT as 2.6 reports them (``chk_report_conn_err()``:
a failure while CO_FL_WAIT_L6_CONN is set)."""

from __future__ import annotations

import socket
from dataclasses import replace

from test_tcpcheck import ruleset

from herdsman.checks.actions import Action, Connect, Done
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tcpcheck import TcpCheck
from herdsman.defs.rules import Ruleset
from herdsman.defs.status import Status

TARGET = CheckTarget("be", "s", 2, 1, socket.AF_INET, "127.0.0.1", 9500, inter=1000)
TLS = replace(TARGET, tls=True, check_sni="sni.test", check_alpn="h2")


def _connect(actions: list[Action]) -> Connect:
    return next(a for a in actions if isinstance(a, Connect))


def _result(actions: list[Action]) -> CheckResult:
    return next(a.result for a in actions if isinstance(a, Done))


def test_the_server_transport_for_the_implicit_connect() -> None:
    c = _connect(TcpCheck(Ruleset(), TLS).start())
    assert (c.tls, c.sni, c.alpn) == (True, "sni.test", "h2")
    c = _connect(TcpCheck(Ruleset(), TARGET).start())
    assert (c.tls, c.sni, c.alpn) == (False, None, None)


def test_connect_rules() -> None:
    """``ssl`` asks for TLS; its own sni/alpn win; only ``default`` inherits check-sni."""
    c = _connect(TcpCheck(ruleset("option tcp-check", "tcp-check connect ssl"), TLS).start())
    assert (c.tls, c.sni, c.alpn) == (True, None, None)
    rs = ruleset("option tcp-check", "tcp-check connect ssl sni x.test alpn http/1.1")
    c = _connect(TcpCheck(rs, TARGET).start())
    assert (c.tls, c.sni, c.alpn) == (True, "x.test", "http/1.1")
    c = _connect(TcpCheck(ruleset("option tcp-check", "tcp-check connect default"), TLS).start())
    assert (c.tls, c.sni, c.alpn) == (True, "sni.test", "h2")
    c = _connect(TcpCheck(ruleset("option tcp-check", "tcp-check connect port 1"), TLS).start())
    assert c.tls is False


def test_l6ok_l6rsp_l6tout() -> None:
    check = TcpCheck(Ruleset(), TLS)
    check.start()
    check.handshaking()
    assert _result(check.connected()) == CheckResult(Status.L6OK, None, "")

    check = TcpCheck(Ruleset(), TLS)
    check.start()
    check.handshaking()
    got = check.handshake_failed("SSL handshake failure (Connection reset by peer)")
    want = CheckResult(Status.L6RSP, None, "SSL handshake failure (Connection reset by peer)")
    assert _result(got) == want

    check = TcpCheck(Ruleset(), TLS)
    check.start()
    check.handshaking()
    assert _result(check.timed_out()) == CheckResult(Status.L6TOUT, None, "")

    # before the TCP connection: still layer 4
    check = TcpCheck(Ruleset(), TLS)
    check.start()
    assert _result(check.timed_out()).status is Status.L4TOUT


def test_tcp_check_texts_name_the_step() -> None:
    rs = ruleset("option tcp-check", "tcp-check connect ssl", "tcp-check send x")
    check = TcpCheck(rs, TARGET)
    check.start()
    check.handshaking()
    got = _result(check.handshake_failed("SSL handshake failure"))
    assert got == CheckResult(
        Status.L6RSP, None, "SSL handshake failure at step 1 of tcp-check (connect)"
    )
    check = TcpCheck(ruleset("option tcp-check", "tcp-check connect ssl"), TARGET)
    check.start()
    check.handshaking()
    assert _result(check.connected()) == CheckResult(Status.L6OK, None, "(tcp-check)")
