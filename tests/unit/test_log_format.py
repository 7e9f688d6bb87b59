"""Log line formatting, filtering and sampling (``src/log.c build_log_header()``,
``process_send_log()``, ``__do_send_log()``), with a fixed clock, pid and host name.

The expected bytes follow what HAProxy 2.6.12 sent in the captures recorded in
``tests/integration/test_log_targets.py`` (which also compares with the binary).
"""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path

import pytest

from herdsman.admin.log import (
    DEFAULT_TAG,
    Logger,
    LogLevel,
    LogSink,
    SockAddr,
    build_header,
    effective_tag,
    frame,
    iso_time,
    legacy_time,
    level_number,
    stderr_copy_enabled,
    stderr_line,
)
from herdsman.config.diag import Location
from herdsman.config.log import FORMAT_UNSPEC, parse_log
from herdsman.config.model import LogTarget

UTC = datetime.UTC
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
NST = datetime.timezone(-datetime.timedelta(hours=3, minutes=30))
# 2026-11-04 05:07:09.012345 UTC: a one-digit day shows the space padding
T = int(datetime.datetime(2026, 11, 4, 5, 7, 9, tzinfo=UTC).timestamp()) * 10**9 + 12_345_678
DOWN = (
    'Server b/s is DOWN, reason: Layer4 connection problem, info: "Connection refused", '
    "check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, "
    "0 requeued, 0 remaining in queue."
)


class RecordingSink(LogSink):
    """Keeps what would have been sent, per destination."""

    def __init__(self) -> None:
        super().__init__(on_alert=self.alerts_append)
        self.sent: list[tuple[object, bytes]] = []
        self.alerts: list[str] = []

    def alerts_append(self, text: str) -> None:
        self.alerts.append(text)

    def send_datagram(self, family: int, addr: SockAddr, data: bytes, nblogger: int) -> None:
        self.sent.append((addr, data))

    def write_fd(self, fd: int, data: bytes, nblogger: int) -> None:
        self.sent.append((fd, data))


def target(line: str) -> LogTarget:
    return parse_log(line.split(), Location("t.cfg", 1))


def logger(*lines: str, **kw: object) -> tuple[Logger, RecordingSink]:
    sink = RecordingSink()
    opts: dict[str, object] = {"pid": 4242, "clock": lambda: T, "tz": UTC, "sink": sink}
    opts.update(kw)
    return Logger([target(line) for line in lines], **opts), sink  # type: ignore[arg-type]


# -- timestamps ---------------------------------------------------------------------------


def test_legacy_time_pads_the_day_with_a_space() -> None:
    assert legacy_time(T // 10**9, UTC) == b"Nov  4 05:07:09 "
    assert legacy_time(T // 10**9 + 10 * 86400, UTC) == b"Nov 14 05:07:09 "


def test_legacy_time_is_local_time() -> None:
    assert legacy_time(T // 10**9, IST) == b"Nov  4 10:37:09 "


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        (UTC, b"2026-11-04T05:07:09.012345+00:00 "),
        (IST, b"2026-11-04T10:37:09.012345+05:30 "),
        (NST, b"2026-11-04T01:37:09.012345-03:30 "),
    ],
)
def test_iso_time_microseconds_and_offset(tz: datetime.tzinfo, expected: bytes) -> None:
    assert iso_time(T, tz) == expected


def test_process_time_zone_by_default() -> None:
    """tz=None is the process's local time, as localtime_r() in HAProxy."""
    local = datetime.datetime.fromtimestamp(T // 10**9).astimezone()
    assert iso_time(T)[:19] == local.strftime("%Y-%m-%dT%H:%M:%S").encode()


# -- headers --------------------------------------------------------------------------------

# format -> header for facility local0 (16), level alert (1), tag haproxy, pid 4242
HEADERS = [
    (FORMAT_UNSPEC, b"<129>Nov  4 05:07:09 haproxy[4242]: "),
    ("local", b"<129>Nov  4 05:07:09 haproxy[4242]: "),
    ("rfc3164", b"<129>Nov  4 05:07:09 localhost haproxy[4242]: "),
    ("rfc5424", b"<129>1 2026-11-04T05:07:09.012345+00:00 - haproxy 4242 - - "),
    ("priority", b"<129>"),
    ("short", b"<1>"),
    ("timed", b"<1>2026-11-04T05:07:09.012345+00:00 "),
    ("iso", b"2026-11-04T05:07:09.012345+00:00 "),
    ("raw", b""),
]


@pytest.mark.parametrize(("fmt", "expected"), HEADERS)
def test_headers(fmt: str, expected: bytes) -> None:
    hdr = build_header(fmt, 16, 1, now_ns=T, tag="haproxy", pid=4242, tz=UTC)
    assert hdr == expected


# the same with log-send-hostname lb1.example and log-tag web
HEADERS_HOST = [
    (FORMAT_UNSPEC, b"<129>Nov  4 05:07:09 lb1.example web[4242]: "),  # becomes rfc3164
    ("local", b"<129>Nov  4 05:07:09 web[4242]: "),
    ("rfc3164", b"<129>Nov  4 05:07:09 lb1.example web[4242]: "),
    ("rfc5424", b"<129>1 2026-11-04T05:07:09.012345+00:00 lb1.example web 4242 - - "),
    ("short", b"<1>"),
]


@pytest.mark.parametrize(("fmt", "expected"), HEADERS_HOST)
def test_headers_with_hostname(fmt: str, expected: bytes) -> None:
    hdr = build_header(fmt, 16, 1, now_ns=T, tag="web", pid=4242, hostname="lb1.example", tz=UTC)
    assert hdr == expected


def test_priority_values() -> None:
    """PRI is facility*8+level; short and timed carry the level alone."""
    assert build_header("priority", 23, 7, now_ns=T, tag="t", pid=1) == b"<191>"
    assert build_header("priority", 0, 0, now_ns=T, tag="t", pid=1) == b"<0>"
    assert build_header("short", 23, 7, now_ns=T, tag="t", pid=1) == b"<7>"


def test_empty_tag() -> None:
    """Without a tag the local header has no "tag[pid]: " and rfc5424 says "-"."""
    assert build_header("local", 1, 5, now_ns=T, tag="", pid=9, tz=UTC) == b"<13>Nov  4 05:07:09 "
    assert build_header("rfc5424", 1, 5, now_ns=T, tag="", pid=9, tz=UTC).endswith(b" - - 9 - - ")


# -- truncation --------------------------------------------------------------------------------


def test_frame_datagram_keeps_len_bytes_plus_newline() -> None:
    line = frame(b"<1>", b"x" * 200, 80, fd=False)
    assert line == b"<1>" + b"x" * 77 + b"\n"
    assert len(line) == 81


def test_frame_fd_keeps_len_bytes_newline_included() -> None:
    line = frame(b"<1>", b"x" * 200, 80, fd=True)
    assert len(line) == 80
    assert frame(b"", b"short", 80, fd=True) == b"short\n"


def test_header_longer_than_len_is_cut_too() -> None:
    assert frame(b"h" * 100, b"msg", 80, fd=False) == b"h" * 80 + b"\n"


def test_message_cut_to_max_syslog_len_minus_one() -> None:
    """With every target at len 80, HAProxy's buffer is 80 bytes: 79 characters of text."""
    lg, sink = logger("log 127.0.0.1 len 80 format raw local0")
    lg.send("alert", DOWN)
    assert sink.sent[0][1] == DOWN[:79].encode() + b"\n"
    # a larger "len" elsewhere in the configuration leaves 80 bytes for this target
    lg, sink = logger("log 127.0.0.1 len 80 format raw local0", max_syslog_len=1024)
    lg.send("alert", DOWN)
    assert sink.sent[0][1] == DOWN[:80].encode() + b"\n"


def test_captured_truncations() -> None:
    """The lines HAProxy 2.6.12 sent for ``len 80`` (log-send-hostname, log-tag mytag)."""
    lg, sink = logger(
        "log 127.0.0.1 len 80 local1",
        "log 127.0.0.1 len 80 format raw local1",
        "log /x len 80 format rfc5424 daemon",
        "log stdout len 80 format raw daemon",
        hostname="myhost.example",
        tag="mytag",
        pid=8049,
        max_syslog_len=1024,
    )
    lg.send(LogLevel.ALERT, DOWN)
    assert [d for _, d in sink.sent] == [
        b"<137>Nov  4 05:07:09 myhost.example mytag[8049]: Server b/s is DOWN, reason: Lay\n",
        b'Server b/s is DOWN, reason: Layer4 connection problem, info: "Connection refused\n',
        b"<25>1 2026-11-04T05:07:09.012345+00:00 myhost.example mytag 8049 - - Server b/s \n",
        b'Server b/s is DOWN, reason: Layer4 connection problem, info: "Connection refuse\n',
    ]


def test_trailing_newlines_and_nuls_removed_inner_ones_kept() -> None:
    lg, sink = logger("log 127.0.0.1 format raw local0")
    lg.send("notice", "backend b has no server available!\n")
    lg.send("notice", b"a\nb\0\n\n\0")
    assert [d for _, d in sink.sent] == [b"backend b has no server available!\n", b"a\nb\n"]


# -- levels and sampling -----------------------------------------------------------------------


def test_max_level_filters_and_min_level_caps() -> None:
    lg, sink = logger(
        "log 127.0.0.1 format short local0 warning",  # drops notice
        "log 127.0.0.1 format short local0 debug crit",  # emerg and alert sent as crit
    )
    for lvl in ("emerg", "alert", "notice"):
        lg.send(lvl, lvl)
    assert [d for _, d in sink.sent] == [
        b"<0>emerg\n",
        b"<2>emerg\n",
        b"<1>alert\n",
        b"<2>alert\n",
        b"<5>notice\n",
    ]


def test_sampling_round_robin() -> None:
    """``sample 1-2,4:5``: of each 5 messages, the 1st, 2nd and 4th are sent."""
    lg, sink = logger("log 127.0.0.1 format raw sample 4,1-2:5 local0")
    for i in range(1, 13):
        lg.send("info", str(i))
    assert [d for _, d in sink.sent] == [b"%d\n" % i for i in (1, 2, 4, 6, 7, 9, 11, 12)]


def test_filtered_messages_do_not_advance_sampling() -> None:
    lg, sink = logger("log 127.0.0.1 format raw sample 2:2 local0 notice")
    for i, lvl in enumerate(("info", "notice", "info", "notice", "notice"), start=1):
        lg.send(lvl, str(i))
    assert [d for _, d in sink.sent] == [b"4\n"]


def test_each_logger_samples_on_its_own() -> None:
    t = target("log 127.0.0.1 format raw sample 1:2 local0")
    sink = RecordingSink()
    a = Logger([t], pid=1, clock=lambda: T, sink=sink)
    b = Logger([t], pid=1, clock=lambda: T, sink=sink)
    a.send("info", "a1")
    b.send("info", "b1")
    a.send("info", "a2")
    assert [d for _, d in sink.sent] == [b"a1\n", b"b1\n"]


def test_destinations() -> None:
    lg, sink = logger(
        "log 127.0.0.1:600 local0",
        "log [::1] local0",
        "log /dev/log local0",
        "log abns@x local0",
        "log fd@5 local0",
    )
    lg.send("info", "m")
    assert [a for a, _ in sink.sent] == [
        ("127.0.0.1", 600),
        ("::1", 514, 0, 0),
        "/dev/log",
        b"\0x" + b"\0" * 106,
        5,
    ]


def test_pid_defaults_to_the_current_process() -> None:
    lg, sink = logger("log 127.0.0.1 local0", pid=None)
    lg.send("info", "m")
    assert b"haproxy[%d]: m\n" % os.getpid() in sink.sent[0][1]


def test_no_targets_is_a_no_op() -> None:
    lg, sink = logger()
    lg.send("emerg", "nothing")
    assert sink.sent == []


def test_levels() -> None:
    assert level_number("notice") == LogLevel.NOTICE == 5
    assert level_number(0) == 0
    with pytest.raises(ValueError):
        level_number(8)
    with pytest.raises(ValueError):
        level_number("NOTICE")


def test_effective_tag() -> None:
    assert effective_tag(None, None) == DEFAULT_TAG == "haproxy"
    assert effective_tag(None, "g") == "g"
    assert effective_tag("p", "g") == "p"


# -- errors: once-only alert and logger numbering ------------------------------------------------


def test_send_error_alerts_once_with_the_logger_number(tmp_path: Path) -> None:
    """HAProxy: "sendmsg()/writev() failed in logger #2: ..." once per process."""
    alerts: list[str] = []
    sink = LogSink(on_alert=alerts.append)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    lines = [
        f"log 127.0.0.1:{port} local0 emerg",  # filtered for notice: not counted
        f"log 127.0.0.1:{port} local0",
        f"log {tmp_path}/missing.sock local0",
    ]
    lg = Logger([target(x) for x in lines], sink=sink, pid=1)
    try:
        lg.send("notice", "one")
        lg.send("notice", "two")
        assert alerts == [
            "sendmsg()/writev() failed in logger #2: No such file or directory (errno=2)"
        ]
        assert sink.dropped == 0
    finally:
        sink.close()
        u.close()


def _closed_fd() -> int:
    for fd in range(900, 1000):
        try:
            os.fstat(fd)
        except OSError:
            return fd
    raise AssertionError("no free descriptor")


def test_write_error_on_a_closed_fd_alerts() -> None:
    w = _closed_fd()
    alerts: list[str] = []
    lg = Logger([target(f"log fd@{w} local0")], sink=LogSink(on_alert=alerts.append), pid=1)
    lg.send("info", "x")
    assert alerts == ["sendmsg()/writev() failed in logger #1: Bad file descriptor (errno=9)"]


# -- stderr copies ---------------------------------------------------------------------------------


def test_stderr_lines() -> None:
    """Both levels as HAProxy 2.6.12 printed them next to the log lines."""
    assert stderr_line("WARNING", DOWN, pid=7713) == f"[WARNING]  (7713) : {DOWN}\n"
    assert (
        stderr_line("ALERT", "proxy 'b' has no server available!\n", pid=7713)
        == "[ALERT]    (7713) : proxy 'b' has no server available!\n"
    )
    assert stderr_line("NOTICE", "x", pid=1) == "[NOTICE]   (1) : x\n"


def test_stderr_copy_enabled() -> None:
    assert stderr_copy_enabled(quiet=False)
    assert not stderr_copy_enabled(quiet=True)
    assert stderr_copy_enabled(quiet=True, verbose=True)
    assert not stderr_copy_enabled(quiet=False, daemon=True)
