"""Feeding a protocol check's ruleset without sockets, for the tests/unit/test_proto_*.py files.

``verdict()`` plays a scripted server: the connection is established, the
reply arrives (in one piece, or one byte per event), then the server closes,
stays silent until the check times out, or does nothing more. A reply given
as a list is a conversation: each part after the first is only sent once the
check has sent something since the previous part (SMTP's greeting, then the
answers to HELO and QUIT). It returns what the check sent and every status
it reported (``custom.reports()``: the protocols whose custom expect
reports a success first give two).
"""

from __future__ import annotations

import errno

from test_tcpcheck import TARGET, ruleset

from herdsman.checks.actions import Done, Send
from herdsman.checks.custom import reports
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tcpcheck import TcpCheck
from herdsman.defs.status import Status

FEEDS = ["whole", "bytes"]  # how a reply arrives
Verdict = tuple[Status, int | None, str]


def play(
    option: str,
    reply: bytes | list[bytes],
    *,
    feed: str = "whole",
    end: str = "close",
    target: CheckTarget = TARGET,
) -> tuple[bytes, tuple[CheckResult, ...]]:
    """Run ``option``'s ruleset against a server answering ``reply``.

    ``end``: "close" (the server closes after its reply), "timeout" (it stays
    silent until the check's deadline), "refused" (no connection), or "none"
    (the reply must be enough). Returns the bytes sent and the reports.
    """
    check = TcpCheck(ruleset(option), target)
    actions = check.start()
    mark = 0
    if end == "refused":
        actions += check.conn_failed(errno.ECONNREFUSED)
    else:
        actions += check.connected(("127.0.0.1", 40000), ("127.0.0.1", 9500))
        parts = [reply] if isinstance(reply, bytes) else reply
        for n, part in enumerate(parts):
            if n and not any(isinstance(a, Send) for a in actions[mark:]):
                break  # the check did not ask: the server has nothing to answer
            mark = len(actions)
            for i in range(len(part)) if feed == "bytes" else [0]:
                piece = part[i : i + 1] if feed == "bytes" else part
                if piece:
                    actions += check.received(piece)
        if end == "close":
            actions += check.peer_closed()
        elif end == "timeout":
            actions += check.timed_out()
    done = [a for a in actions if isinstance(a, Done)]
    assert len(done) == 1, actions
    sent = b"".join(a.data for a in actions if isinstance(a, Send))
    return sent, reports(done[0].result)


def verdict(
    option: str, reply: bytes | list[bytes], *, feed: str = "whole", end: str = "close"
) -> Verdict:
    """The final status, code and info of a run (see ``play()``)."""
    final = play(option, reply, feed=feed, end=end)[1][-1]
    return final.status, final.code, final.desc


def first(
    option: str, reply: bytes | list[bytes], *, feed: str = "whole", end: str = "close"
) -> Verdict:
    """The first status a run reported: the one 2.6.12 logs when the server was up."""
    report = play(option, reply, feed=feed, end=end)[1][0]
    return report.status, report.code, report.desc


def sent(option: str, reply: bytes | list[bytes] = b"", **kw: str) -> bytes:
    """What the check sent to a server answering ``reply``."""
    return play(option, reply, **kw)[0]
