"""``option ssl-hello-chk`` (``defs/protocols/ssl_hello.py``, spec §7.6).

The verdicts are those haproxy 2.6.12 logged for the same replies
(tests/integration/test_proto_checks_vs_haproxy.py replays them through it).
"""

from __future__ import annotations

import time

import pytest
from protofeed import FEEDS, sent, verdict

import protoreplies as R
from herdsman.defs.status import Status

OPT = "option ssl-hello-chk"


def test_client_hello() -> None:
    """126 bytes: an SSLv3 record and ClientHello, the time, "HAPROXYSSLCHK\\n" twice,
    no session, 39 cipher suites (0x0001-0x001B, 0x002F-0x003A), null compression."""
    before = int(time.time())
    hello = sent(OPT, R.TLS_ALERT, end="none")
    after = int(time.time())
    assert len(hello) == 126
    assert hello[:11] == bytes.fromhex("16 0300 0079 01 000075 0300")
    assert before <= int.from_bytes(hello[11:15], "big") <= after
    assert hello[15:43] == b"HAPROXYSSLCHK\nHAPROXYSSLCHK\n"
    suites = [*range(0x01, 0x1C), *range(0x2F, 0x3B)]
    assert hello[43:] == (
        b"\x00" + b"\x00\x4e" + b"".join(s.to_bytes(2, "big") for s in suites) + b"\x01\x00"
    )


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize(
    ("reply", "end", "expected"),
    [
        (R.TLS_ALERT, "none", (Status.L6OK, None, "")),  # an alert is "speaks SSL" too
        (R.TLS_HANDSHAKE, "none", (Status.L6OK, None, "")),
        (R.HTTP_400, "none", (Status.L6RSP, None, "")),
        (R.TLS_ALERT[:2], "close", (Status.L6OK, None, "")),  # the first byte decides
        (R.TLS_ALERT[:2], "timeout", (Status.L6TOUT, None, "")),
        (b"", "close", (Status.L6RSP, None, "TCPCHK got an empty response at step 2")),
        (b"", "refused", (Status.L4CON, None, "Connection refused")),
    ],
)
def test_verdicts(
    reply: bytes, end: str, expected: tuple[Status, int | None, str], feed: str
) -> None:
    assert verdict(OPT, reply, feed=feed, end=end) == expected
