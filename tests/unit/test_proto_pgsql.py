"""``option pgsql-check user <name>`` (``defs/protocols/pgsql.py``, spec §7.3).

The verdicts are those haproxy 2.6.12 logged for the same replies
(tests/integration/test_proto_checks_vs_haproxy.py replays them through it).
2.6.12 accepts SASL (SCRAM) requests, unlike the 2.6.0 of the spec.
"""

from __future__ import annotations

import pytest
from protofeed import FEEDS, sent, verdict

import protoreplies as R
from herdsman.defs.status import Status

OPT = "option pgsql-check user nobody"
OK = (Status.L7OK, 0, "PostgreSQL server is ok")
UNKNOWN = (Status.L7STS, 0, "PostgreSQL unknown error")


def test_startup_message() -> None:
    """Length 15+L (big endian), protocol 3.0, ``user\\0<name>\\0``, a final NUL."""
    want = bytes.fromhex("000000150003000075736572006e6f626f64790000")
    assert sent(OPT, R.PG_OK, end="none") == want


def auth(code: int, extra: bytes = b"") -> bytes:
    return R.pg_message(b"R", code.to_bytes(4, "big") + extra)


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize(
    ("reply", "end", "expected"),
    [
        (R.PG_OK, "none", OK),  # trust
        (R.PG_MD5, "none", OK),
        (R.PG_SASL, "none", OK),  # scram-sha-256: accepted by 2.6.12
        (auth(3), "none", OK),  # cleartext password
        (auth(7), "none", OK),  # GSS
        (auth(9), "none", OK),  # SSPI
        (auth(8, b"x"), "none", UNKNOWN),  # GSS continue: not an opening request
        (auth(11, b"x"), "none", UNKNOWN),  # SASL continue
        (b"garbage\r\n", "none", UNKNOWN),
        (R.PG_OK[:6], "close", UNKNOWN),
        (R.PG_OK[:4], "close", (Status.L7STS, 0, "PostgreSQL unknown error")),
        (R.PG_OK[:6], "timeout", (Status.L7TOUT, None, "")),
        (b"", "close", (Status.L7RSP, None, "TCPCHK got an empty response at step 3")),
    ],
)
def test_verdicts(
    reply: bytes, end: str, expected: tuple[Status, int | None, str], feed: str
) -> None:
    assert verdict(OPT, reply, feed=feed, end=end) == expected
