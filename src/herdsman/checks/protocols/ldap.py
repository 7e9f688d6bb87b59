"""``option ldap-check``: an anonymous LDAPv3 bind (spec §7.5).

``proxy_parse_ldap_check_opt()`` and ``tcpcheck_ldap_expect_bindrsp()``.
"""

from __future__ import annotations

import re

from herdsman.checks.custom import CUSTOM_EXPECTS
from herdsman.checks.target import CheckResult
from herdsman.defs.rules import (
    ExpectKind,
    ExpectRule,
    Ruleset,
    RulesetKind,
    SendKind,
    SendRule,
)
from herdsman.defs.status import Status
from herdsman.sample.logformat import LogFormat

# BindRequest, messageID 1, version 3, empty name, simple authentication, empty password
REQUEST = bytes.fromhex("300C020101600702010304008000")
NOT_LDAP = "Not LDAPv3 protocol"
RFC_RESULT = "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"


def expect_bindrsp(data: bytes, last_read: bool, last_rule: bool) -> bool | CheckResult:
    """The BindResponse: wait for the whole message, then its resultCode.

    The message length is one byte, or 2 or 4 bytes in the long form (only
    Active Directory uses 4). 0 passes with "Success"; another result fails
    with L7STS and the code. What HAProxy would read past the received data
    (it does not check, 2.6 reads stale buffer bytes) is "Not LDAPv3 protocol".
    """
    if len(data) < 2:
        return CheckResult(Status.L7RSP) if last_read else False
    nbytes = data[1] & 0x7F if data[1] & 0x80 else 0
    if nbytes:
        if len(data) < 2 + nbytes:
            return CheckResult(Status.L7RSP) if last_read else False
        if nbytes not in (2, 4):
            return CheckResult(Status.L7RSP, None, NOT_LDAP)
        msglen = int.from_bytes(data[2 : 2 + nbytes], "big")
    else:
        msglen = data[1]
    if len(data) < 2 + nbytes + msglen:
        return CheckResult(Status.L7RSP) if last_read else False
    ptr = 2 + nbytes
    # messageID INTEGER 1, then protocolOp bindResponse (RFC 4511 4.2.2)
    if data[ptr : ptr + 4] != b"\x02\x01\x01\x61" or len(data) <= ptr + 4:
        return CheckResult(Status.L7RSP, None, NOT_LDAP)
    ptr += 4
    ptr += 1 + (data[ptr] & 0x7F if data[ptr] & 0x80 else 0)  # the bindResponse length
    # resultCode ENUMERATED (RFC 4511 4.1.9)
    if data[ptr : ptr + 2] != b"\x0a\x01" or len(data) <= ptr + 2:
        return CheckResult(Status.L7RSP, None, NOT_LDAP)
    code = data[ptr + 2]
    if code:
        return CheckResult(Status.L7STS, code, RFC_RESULT)
    return CheckResult(Status.L7OK, 0, "Success")


CUSTOM_EXPECTS["tcpcheck_ldap_expect_bindrsp"] = expect_bindrsp


def ruleset() -> Ruleset:
    """Implicit connect, the bind, a BER SEQUENCE of 14 bytes or more, the BindResponse."""
    return Ruleset(
        RulesetKind.LDAP,
        [
            SendRule(SendKind.BINARY, REQUEST),
            ExpectRule(
                ExpectKind.RBINARY,
                re.compile(b"^30"),
                "^30",
                min_recv=14,
                on_error=LogFormat(NOT_LDAP),
            ),
            ExpectRule(ExpectKind.CUSTOM, custom="tcpcheck_ldap_expect_bindrsp"),
        ],
        name="*ldap-check",
    )
