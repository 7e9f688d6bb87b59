"""``option smtpchk [HELO|EHLO <domain>]`` (``defs/protocols/smtp.py``, spec §7.4).

The verdicts are those haproxy 2.6.12 logged for the same replies
(tests/integration/test_proto_checks_vs_haproxy.py replays them through it).
2.6.12 ends with QUIT (a backport from 2.7): the success info and code are
those of the reply to QUIT.
"""

from __future__ import annotations

import pytest
from protofeed import sent, verdict

import protoreplies as R
from herdsman.defs.status import Status

G = R.SMTP_GREETING
OK = (Status.L7OK, 221, "mx.test closing connection")


@pytest.mark.parametrize(
    ("option", "command"),
    [
        ("option smtpchk", b"HELO localhost"),
        ("option smtpchk HELO mx.herdsman.test", b"HELO mx.herdsman.test"),
        ("option smtpchk EHLO mx.herdsman.test", b"EHLO mx.herdsman.test"),
        # anything else falls back to the default, the domain too
        ("option smtpchk ehlo mx.herdsman.test", b"HELO localhost"),
        ("option smtpchk EHLO", b"HELO localhost"),
        ("option smtpchk FOO bar", b"HELO localhost"),
    ],
)
def test_commands(option: str, command: bytes) -> None:
    """The command after the greeting, then QUIT after its reply."""
    assert sent(option, [G, R.SMTP_HELO_OK, R.SMTP_BYE], end="none") == command + b"\r\nQUIT\r\n"


def test_nothing_before_the_greeting() -> None:
    assert sent("option smtpchk", b"", end="timeout") == b""


# Fed one byte at a time, each rule with min-recv 4 decides on the first 4
# bytes, as in HAProxy: the greeting's "220 " is enough to send HELO, and the
# rest of the greeting then arrives as the start of the reply to HELO.
TRICKLED = (Status.L7STS, 0, "est ESMTP Exim 4.96 Mon, 07 Dec 2026 00:00:00 +0000")
SAME = None


@pytest.mark.parametrize(
    ("option", "reply", "end", "whole", "trickled"),
    [
        ("option smtpchk", [G, R.SMTP_HELO_OK, R.SMTP_BYE], "close", OK, TRICKLED),
        ("option smtpchk EHLO x", [G, R.SMTP_EHLO_OK, R.SMTP_BYE], "close", OK, TRICKLED),
        (
            "option smtpchk",
            R.SMTP_REFUSED,
            "close",
            (Status.L7STS, 554, "mx.test ESMTP service not available"),
            (Status.L7STS, 554, ""),
        ),
        (
            "option smtpchk",
            b"hello\r\n",
            "close",
            (Status.L7RSP, None, "hello"),
            (Status.L7RSP, None, "hell"),
        ),
        # a multi-line greeting fails the first rule: min-recv makes a mismatch final
        (
            "option smtpchk",
            R.SMTP_MULTILINE_GREETING,
            "close",
            (Status.L7RSP, None, "220-mx.test ESMTP"),
            (Status.L7RSP, None, "220-"),
        ),
        # the reply to HELO/EHLO has no min-recv: a mismatch waits for the close
        (
            "option smtpchk",
            [G, R.SMTP_HELO_DENIED],
            "close",
            (Status.L7STS, 550, "Administrative prohibition"),
            TRICKLED,
        ),
        (
            "option smtpchk",
            [G, R.SMTP_HELO_OK, b"500 no\r\n"],
            "close",
            (Status.L7STS, 500, "no"),
            TRICKLED,
        ),
        (
            "option smtpchk EHLO x",
            [G, R.SMTP_EHLO_OK[:50]],
            "timeout",
            (Status.L7TOUT, None, ""),
            SAME,
        ),
        ("option smtpchk", [G, R.SMTP_HELO_OK], "timeout", (Status.L7TOUT, None, ""), SAME),
        (
            "option smtpchk",
            [G, R.SMTP_HELO_OK],
            "close",
            (Status.L7STS, 0, "TCPCHK got an empty response at step 7"),
            TRICKLED,
        ),
        ("option smtpchk", b"22", "close", (Status.L7RSP, None, "22"), SAME),
        ("option smtpchk", b"", "refused", (Status.L4CON, None, "Connection refused"), SAME),
    ],
)
def test_verdicts(
    option: str,
    reply: bytes | list[bytes],
    end: str,
    whole: tuple[Status, int | None, str],
    trickled: tuple[Status, int | None, str] | None,
) -> None:
    """Each reply in one piece, then one byte per read."""
    assert verdict(option, reply, end=end) == whole
    assert verdict(option, reply, end=end, feed="bytes") == (trickled or whole)
