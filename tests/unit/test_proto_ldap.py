"""``option ldap-check`` (``defs/protocols/ldap.py``, spec §7.5).

The verdicts are those haproxy 2.6.12 logged for the same replies
(tests/integration/test_proto_checks_vs_haproxy.py replays them through it).
"""

from __future__ import annotations

import pytest
from protofeed import FEEDS, first, play, sent, verdict

import protoreplies as R
from herdsman.checks.target import CheckResult
from herdsman.defs.status import Status

OPT = "option ldap-check"
SUCCESS = (Status.L7OK, 0, "Success")
NOT_LDAP = (Status.L7RSP, None, "Not LDAPv3 protocol")


def test_anonymous_bind() -> None:
    """BindRequest, messageID 1, LDAPv3, empty DN, simple auth with an empty password."""
    assert sent(OPT, R.LDAP_SUCCESS, end="none") == bytes.fromhex("300C020101600702010304008000")


def result(code: int) -> bytes:
    return bytes.fromhex("300c02010161070a01") + bytes([code]) + bytes.fromhex("04000400")


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize(
    ("reply", "end", "expected"),
    [
        (R.LDAP_SUCCESS, "none", SUCCESS),
        (R.LDAP_SUCCESS_LONG, "none", SUCCESS),  # 4-byte lengths (Active Directory)
        (
            R.LDAP_INVALID_CREDENTIALS,
            "none",
            (Status.L7STS, 49, "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"),
        ),
        (
            result(48),
            "none",
            (Status.L7STS, 48, "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"),
        ),
        (R.LDAP_NOT_BIND, "none", NOT_LDAP),
        (R.HTTP_400, "none", NOT_LDAP),  # the first byte is not a SEQUENCE
        (bytes.fromhex("3083000000") + bytes(9), "none", NOT_LDAP),  # a 3-byte length
        (R.LDAP_SUCCESS[:10], "close", (Status.L7RSP, None, "")),
        (R.LDAP_SUCCESS[:10], "timeout", (Status.L7TOUT, None, "")),
        (R.LDAP_SUCCESS + b"more", "none", SUCCESS),
        (b"", "close", (Status.L7RSP, None, "TCPCHK got an empty response at step 2")),
    ],
)
def test_first_verdict(
    reply: bytes, end: str, expected: tuple[Status, int | None, str], feed: str
) -> None:
    """What 2.6.12 logs (the first report of a run)."""
    assert first(OPT, reply, feed=feed, end=end) == expected


def test_success_is_reported_twice() -> None:
    """``tcpcheck_ldap_expect_bindrsp()`` reports "Success", then the end of the rules
    reports L7OK again without info."""
    assert play(OPT, R.LDAP_SUCCESS, end="none")[1] == (
        CheckResult(Status.L7OK, 0, "Success"),
        CheckResult(Status.L7OK, 0, ""),
    )
    assert verdict(OPT, R.LDAP_SUCCESS, end="none") == (Status.L7OK, 0, "")
