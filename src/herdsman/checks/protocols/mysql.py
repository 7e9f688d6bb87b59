"""``option mysql-check``'s expects: ``tcpcheck_mysql_expect_iniths()``,
``tcpcheck_mysql_expect_ok()`` and ``tcpcheck_mysql_expect_packet()`` (spec §7.2).

The request and the ruleset are in ``defs/protocols/mysql.py``.
"""

from __future__ import annotations

from herdsman.checks.custom import CUSTOM_EXPECTS
from herdsman.checks.target import CheckResult
from herdsman.defs.status import Status
from herdsman.sample.logformat import to_str


def _expect_packet(
    data: bytes, offset: int, last_read: bool, last_rule: bool
) -> bool | CheckResult:
    """One packet at ``offset``: wait for all of it; an error packet fails with L7STS.

    The code is the MySQL error number, the info the rest of the input (a C
    string). The last rule passes with the server version of the handshake.
    """
    if len(data) < offset + 4:
        return CheckResult(Status.L7RSP) if last_read else False
    plen = int.from_bytes(data[offset : offset + 3], "little")
    if len(data) < offset + plen + 4:
        return CheckResult(Status.L7RSP) if last_read else False
    if data[offset + 4 : offset + 5] == b"\xff":
        err = int.from_bytes(data[offset + 5 : offset + 7], "little")
        return CheckResult(Status.L7STS, err, to_str(data[offset + 7 :]))
    if not last_rule:
        return True
    return CheckResult(Status.L7OK, 0, to_str(data[5:]))


def expect_iniths(data: bytes, last_read: bool, last_rule: bool) -> bool | CheckResult:
    """``tcpcheck_mysql_expect_iniths()``: the server's initial handshake packet."""
    return _expect_packet(data, 0, last_read, last_rule)


def expect_ok(data: bytes, last_read: bool, last_rule: bool) -> bool | CheckResult:
    """``tcpcheck_mysql_expect_ok()``: the packet after the handshake."""
    hslen = 4 + int.from_bytes(data[:3], "little")
    return _expect_packet(data, hslen, last_read, last_rule)


CUSTOM_EXPECTS["tcpcheck_mysql_expect_iniths"] = expect_iniths
CUSTOM_EXPECTS["tcpcheck_mysql_expect_ok"] = expect_ok
