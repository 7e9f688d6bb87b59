"""``option mysql-check [user <name> [post-41|pre-41]]`` (spec §7.2).

``proxy_parse_mysql_check_opt()``, ``tcpcheck_mysql_expect_iniths()``,
``tcpcheck_mysql_expect_ok()`` and ``tcpcheck_mysql_expect_packet()``.
Without a user the check only reads the server's handshake; with one it
logs in (no password) and quits, and the server's answer must not be an
error packet.
"""

from __future__ import annotations

from herdsman.checks.custom import CUSTOM_EXPECTS
from herdsman.checks.target import CheckResult
from herdsman.defs.rules import (
    ConnectRule,
    ExpectKind,
    ExpectRule,
    Rule,
    Ruleset,
    RulesetKind,
    SendKind,
    SendRule,
)
from herdsman.defs.status import Status
from herdsman.sample.logformat import to_str

QUIT = b"\x01\x00\x00" + b"\x00" + b"\x01"  # length 1, sequence 0, COM_QUIT
# client capabilities (PROTOCOL_41 | SECURE_CONNECTION), max packet, charset 0x21, 23 zeroes
_POST41 = b"\x00\x82\x00\x00" + b"\x00\x80\x00\x01" + b"\x21" + bytes(23)
_PRE41 = b"\x00\x80" + b"\x00\x00\x01"  # client capabilities, max packet


def request(user: bytes, pre41: bool = False) -> bytes:
    """The authentication packet (sequence 1, empty password) followed by COM_QUIT."""
    payload = (_PRE41 if pre41 else _POST41) + user + b"\x00" + b"\x00"
    return len(payload).to_bytes(3, "little") + b"\x01" + payload + QUIT


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


def ruleset(user: bytes | None = None, pre41: bool = False) -> Ruleset:
    """``connect default linger``, the login when there is a user, then the expects."""
    rules: list[Rule] = [ConnectRule(default=True, linger=True)]
    if user is not None:
        rules.append(SendRule(SendKind.BINARY, request(user, pre41)))
    rules.append(ExpectRule(ExpectKind.CUSTOM, custom="tcpcheck_mysql_expect_iniths"))
    if user is not None:
        rules.append(ExpectRule(ExpectKind.CUSTOM, custom="tcpcheck_mysql_expect_ok"))
    name = "*mysql-check" if user is None else "*mysql40-check" if pre41 else "*mysql41-check"
    return Ruleset(RulesetKind.MYSQL, rules, name=name)
