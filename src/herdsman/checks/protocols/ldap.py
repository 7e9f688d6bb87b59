"""``option ldap-check``'s expect: ``tcpcheck_ldap_expect_bindrsp()`` (spec §7.5).

The request and the ruleset are in ``defs/protocols/ldap.py``.
"""

from __future__ import annotations

from herdsman.checks.custom import CUSTOM_EXPECTS
from herdsman.checks.target import CheckResult
from herdsman.defs.protocols.ldap import NOT_LDAP, RFC_RESULT
from herdsman.defs.status import Status


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
