"""``option mysql-check [user <name> [post-41|pre-41]]`` (spec §7.2).

``proxy_parse_mysql_check_opt()``, ``tcpcheck_mysql_expect_iniths()``,
``tcpcheck_mysql_expect_ok()`` and ``tcpcheck_mysql_expect_packet()``.
Without a user the check only reads the server's handshake; with one it
logs in (no password) and quits, and the server's answer must not be an
error packet.
"""

from __future__ import annotations

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

QUIT = b"\x01\x00\x00" + b"\x00" + b"\x01"  # length 1, sequence 0, COM_QUIT
# client capabilities (PROTOCOL_41 | SECURE_CONNECTION), max packet, charset 0x21, 23 zeroes
_POST41 = b"\x00\x82\x00\x00" + b"\x00\x80\x00\x01" + b"\x21" + bytes(23)
_PRE41 = b"\x00\x80" + b"\x00\x00\x01"  # client capabilities, max packet


def request(user: bytes, pre41: bool = False) -> bytes:
    """The authentication packet (sequence 1, empty password) followed by COM_QUIT."""
    payload = (_PRE41 if pre41 else _POST41) + user + b"\x00" + b"\x00"
    return len(payload).to_bytes(3, "little") + b"\x01" + payload + QUIT


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
