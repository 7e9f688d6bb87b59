"""``option mysql-check`` (``defs/protocols/mysql.py``, spec §7.2).

The verdicts are those haproxy 2.6.12 logged for the same replies
(tests/integration/test_proto_checks_vs_haproxy.py replays them through it).
"""

from __future__ import annotations

import pytest
from protofeed import FEEDS, first, play, sent, verdict

import protoreplies as R
from herdsman.checks.target import CheckResult
from herdsman.defs.status import Status

VERSION = R.MARIADB_VERSION.decode()
OK = (Status.L7OK, 0, VERSION)
HS = R.mysql_handshake()


def test_no_user_sends_nothing() -> None:
    assert sent("option mysql-check", HS, end="none") == b""


def test_post41_login_then_quit() -> None:
    """Length L+34 (LE), sequence 1, capabilities, max packet, charset 0x21, 23 zeroes,
    the user, NUL, an empty password; then COM_QUIT."""
    want = bytes.fromhex("28000001008200000080000121" + "00" * 23 + "6e6f626f647900000100000001")
    assert sent("option mysql-check user nobody", HS + R.MYSQL_OK, end="none") == want
    assert sent("option mysql-check user nobody post-41", HS + R.MYSQL_OK, end="none") == want


def test_pre41_login_then_quit() -> None:
    want = bytes.fromhex("0d00000100800000016e6f626f647900000100000001")
    assert sent("option mysql-check user nobody pre-41", HS + R.MYSQL_OK, end="none") == want


BLOCKED = (Status.L7STS, 1129, R.MYSQL_BLOCKED_TEXT.decode())
DENIED = (Status.L7STS, 1045, "#28000" + R.MYSQL_DENIED_TEXT.decode())


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize(
    ("option", "reply", "end", "expected"),
    [
        ("option mysql-check", HS, "none", OK),
        ("option mysql-check", R.MYSQL_BLOCKED, "none", BLOCKED),
        ("option mysql-check", HS[:20], "close", (Status.L7RSP, None, "")),
        ("option mysql-check", HS[:3], "close", (Status.L7RSP, None, "")),
        ("option mysql-check", HS[:20], "timeout", (Status.L7TOUT, None, "")),
        (
            "option mysql-check",
            b"",
            "close",
            (Status.L7RSP, None, "TCPCHK got an empty response at step 2"),
        ),
        ("option mysql-check user nobody", HS + R.MYSQL_OK, "none", OK),
        ("option mysql-check user nobody pre-41", HS + R.MYSQL_OK, "none", OK),
        ("option mysql-check user nobody", HS + R.MYSQL_DENIED, "none", DENIED),
        ("option mysql-check user nobody", R.MYSQL_BLOCKED, "none", BLOCKED),
        ("option mysql-check user nobody", HS, "close", (Status.L7RSP, None, "")),
        (
            "option mysql-check user nobody",
            HS + R.MYSQL_OK[:5],
            "timeout",
            (Status.L7TOUT, None, ""),
        ),
    ],
)
def test_first_verdict(
    option: str, reply: bytes, end: str, expected: tuple[Status, int | None, str], feed: str
) -> None:
    """What 2.6.12 logs: the handshake or login result, with the server version on success."""
    assert first(option, reply, feed=feed, end=end) == expected


def test_success_is_reported_twice() -> None:
    """``tcpcheck_mysql_expect_packet()`` reports L7OK with the version, then the end of
    the rules reports L7OK again without it (2.6.12: two successes for one check)."""
    for option, reply in [
        ("option mysql-check", HS),
        ("option mysql-check user nobody", HS + R.MYSQL_OK),
    ]:
        reports = play(option, reply, end="none")[1]
        assert reports == (CheckResult(Status.L7OK, 0, VERSION), CheckResult(Status.L7OK, 0, ""))
        assert verdict(option, reply, end="none") == (Status.L7OK, 0, "")


def test_failures_are_reported_once() -> None:
    assert len(play("option mysql-check user nobody", HS + R.MYSQL_DENIED, end="none")[1]) == 1


def test_error_info_stops_at_nul() -> None:
    """The info is the rest of the input as a C string."""
    err = R.mysql_packet(0, b"\xff\x10\x04" + b"Too many\x00connections")
    assert first("option mysql-check", err, end="none") == (Status.L7STS, 1040, "Too many")
