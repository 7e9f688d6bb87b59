"""``option redis-check`` (``defs/protocols/redis.py``, spec §7.1).

The verdicts are those haproxy 2.6.12 logged for the same replies
(tests/integration/test_proto_checks_vs_haproxy.py replays them through it).
"""

from __future__ import annotations

import pytest
from protofeed import FEEDS, sent, verdict

from herdsman.defs.status import Status

OPT = "option redis-check"


def test_request() -> None:
    """``*1\\r\\n$4\\r\\nPING\\r\\n``: 14 bytes, sent as soon as connected."""
    assert sent(OPT) == bytes.fromhex("2A310D0A24340D0A50494E470D0A")


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize(
    ("reply", "end", "expected"),
    [
        (b"+PONG\r\n", "none", (Status.L7OK, 0, "Redis server is ok")),
        (b"$4\r\n+PONG\r\n", "none", (Status.L7OK, 0, "Redis server is ok")),  # anywhere
        (
            b"-NOAUTH Authentication required.\r\n",
            "close",
            (Status.L7STS, 0, "-NOAUTH Authentication required."),
        ),
        (b"$4\r\nPONG\r\n", "close", (Status.L7STS, 0, "$4")),  # the first line
        (b"", "close", (Status.L7STS, 0, "TCPCHK got an empty response at step 2")),
        (b"+PO", "timeout", (Status.L7TOUT, None, "")),  # a mismatch waits for more
        (b"-ERR\r\n", "timeout", (Status.L7TOUT, None, "")),
        (b"", "refused", (Status.L4CON, None, "Connection refused")),
    ],
)
def test_verdicts(
    reply: bytes, end: str, expected: tuple[Status, int | None, str], feed: str
) -> None:
    assert verdict(OPT, reply, feed=feed, end=end) == expected
