"""``option spop-check`` (``defs/protocols/spop.py``, spec §7.7).

The verdicts are those haproxy 2.6.12 logged for the same replies
(tests/integration/test_proto_checks_vs_haproxy.py replays them through it).
"""

from __future__ import annotations

import pytest
from protofeed import FEEDS, first, play, sent, verdict

import protoreplies as R
from herdsman.checks.target import CheckResult
from herdsman.defs.protocols import spop
from herdsman.defs.status import Status

OPT = "option spop-check"
OK = (Status.L7OK, 0, "SPOA server is ok")


def test_haproxy_hello() -> None:
    """A HAPROXY-HELLO (type 1, FIN, no ids): supported-versions "2.0", max-frame-size
    tune.bufsize - 4 as a varint, empty capabilities, healthcheck true."""
    frame = (
        "01" "00000001" "0000"
        "12" + b"supported-versions".hex() + "08" "03" + b"2.0".hex()
        + "0e" + b"max-frame-size".hex() + "03" "fcf006"
        + "0c" + b"capabilities".hex() + "08" "00"
        + "0b" + b"healthcheck".hex() + "11"
    )  # fmt: skip
    want = (len(frame) // 2).to_bytes(4, "big") + bytes.fromhex(frame)
    assert sent(OPT, R.SPOP_HELLO, end="none") == want == spop.request()


@pytest.mark.parametrize(
    ("value", "encoded"), [(0, "00"), (239, "ef"), (240, "f000"), (16380, "fcf006")]
)
def test_varint(value: int, encoded: str) -> None:
    assert spop.varint(value).hex() == encoded


def hello(*items: bytes, kind: int = spop.AGENT_HELLO) -> bytes:
    return R.spop_frame(kind, *items)


VERSION = R.spop_str(b"version", b"2.0")
SIZE = R.spop_uint(b"max-frame-size", 16380)


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize(
    ("reply", "end", "expected"),
    [
        (R.SPOP_HELLO, "none", OK),
        (hello(VERSION, SIZE), "none", OK),  # capabilities are optional
        (hello(R.spop_str(b"version", b" 2.0 "), SIZE), "none", OK),
        (hello(VERSION, SIZE, R.spop_uint(b"extra", 5), R.spop_str(b"other", b"x")), "none", OK),
        (R.SPOP_BAD_VERSION, "none", (Status.L7RSP, None, "unsupported version")),
        (
            hello(R.spop_str(b"version", b"2"), SIZE),
            "none",
            (Status.L7RSP, None, "unsupported version"),
        ),
        (R.SPOP_NO_FRAME_SIZE, "none", (Status.L7RSP, None, "max-frame-size value not found")),
        (hello(SIZE), "none", (Status.L7RSP, None, "version value not found")),
        (
            hello(VERSION, R.spop_uint(b"max-frame-size", 100)),
            "none",
            (Status.L7RSP, None, "max-frame-size too big or too small"),
        ),
        (
            hello(VERSION, R.spop_uint(b"max-frame-size", 16381)),
            "none",
            (Status.L7RSP, None, "max-frame-size too big or too small"),
        ),
        (
            hello(VERSION, R.spop_str(b"max-frame-size", b"1")),
            "none",
            (Status.L7RSP, None, "invalid frame received"),
        ),
        (R.SPOP_DISCONNECT, "none", (Status.L7RSP, None, "a timeout occurred")),
        (hello(kind=spop.AGENT_DISCON), "none", (Status.L7RSP, None, "normal")),
        (R.HTTP_400, "close", (Status.L7RSP, None, "invalid frame received")),
        (R.SPOP_HELLO[:20], "timeout", (Status.L7TOUT, None, "")),
        (b"", "close", (Status.L7RSP, None, "TCPCHK got an empty response at step 2")),
    ],
)
def test_first_verdict(
    reply: bytes, end: str, expected: tuple[Status, int | None, str], feed: str
) -> None:
    """What 2.6.12 logs (the first report of a run)."""
    assert first(OPT, reply, feed=feed, end=end) == expected


def test_fragmented_hello() -> None:
    frame = bytes([spop.AGENT_HELLO]) + bytes(4) + b"\x00\x00" + VERSION + SIZE
    reply = len(frame).to_bytes(4, "big") + frame
    assert first(OPT, reply, end="none") == (Status.L7RSP, None, "fragmentation not supported")


def test_success_is_reported_twice() -> None:
    assert play(OPT, R.SPOP_HELLO, end="none")[1] == (
        CheckResult(Status.L7OK, 0, "SPOA server is ok"),
        CheckResult(Status.L7OK, 0, ""),
    )
    assert verdict(OPT, R.SPOP_HELLO, end="none") == (Status.L7OK, 0, "")
