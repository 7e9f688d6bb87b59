"""Real log targets: UDP, UNIX and abstract datagram sockets, pipes, and the binary.

Receivers run on loopback and in a short temporary directory (a UNIX socket
path is limited to 97 bytes in HAProxy). Nothing here waits with a sleep: the
tests poll their sockets with a deadline.
"""

from __future__ import annotations

import asyncio
import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvloop

from herdsman.admin.log import Logger, LogSink, stderr_line
from herdsman.config.diag import Location
from herdsman.config.log import max_syslog_len, parse_log
from herdsman.config.model import LogTarget

HAPROXY = shutil.which("haproxy")
T = 1_793_336_829_012_345_678  # 2026-10-30T05:07:09.012345Z
DEADLINE = 10.0


def target(line: str) -> LogTarget:
    return parse_log(line.split(), Location("t.cfg", 1))


@pytest.fixture
def short_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hl", dir="/tmp") as d:
        yield Path(d)


def udp_receiver(host: str = "127.0.0.1") -> socket.socket:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, 0))
    return s


def receive(sock: socket.socket, count: int, timeout: float = DEADLINE) -> list[bytes]:
    """Exactly ``count`` datagrams, waiting at most ``timeout`` for them."""
    out: list[bytes] = []
    end = time.monotonic() + timeout
    while len(out) < count:
        left = end - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            raise AssertionError(f"received {len(out)} of {count} datagrams: {out!r}")
        out.append(sock.recv(70000))
    return out


def drain(sock: socket.socket) -> list[bytes]:
    """Whatever datagrams are already queued."""
    out: list[bytes] = []
    while select.select([sock], [], [], 0)[0]:
        out.append(sock.recv(70000))
    return out


def fixed_logger(lines: list[str], **kw: object) -> Logger:
    opts: dict[str, object] = {"pid": 321, "clock": lambda: T, "tz": None}
    opts.update(kw)
    return Logger([target(x) for x in lines], **opts)  # type: ignore[arg-type]


def local_legacy() -> bytes:
    t = time.localtime(T // 10**9)
    return (
        time.strftime("%b ", t).encode()
        + b"%2d " % t.tm_mday
        + time.strftime("%H:%M:%S", t).encode()
    )


# -- our own receivers ---------------------------------------------------------------------------


def test_udp_ipv4_exact_bytes() -> None:
    rx = udp_receiver()
    port = rx.getsockname()[1]
    lg = fixed_logger(
        [f"log 127.0.0.1:{port} local0", f"log 127.0.0.1:{port} format raw local1 notice"]
    )
    try:
        lg.send("alert", "Server b/s is DOWN.")
        lg.send("info", "filtered by the second target")
        got = receive(rx, 3)
        assert got == [
            b"<129>" + local_legacy() + b" haproxy[321]: Server b/s is DOWN.\n",
            b"Server b/s is DOWN.\n",
            b"<134>" + local_legacy() + b" haproxy[321]: filtered by the second target\n",
        ]
        assert drain(rx) == []
    finally:
        lg.sink.close()
        rx.close()


def test_udp_ipv6_exact_bytes() -> None:
    try:
        rx = udp_receiver("::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    port = rx.getsockname()[1]
    lg = fixed_logger([f"log [::1]:{port} format short local0"])
    try:
        lg.send("warning", "w")
        assert receive(rx, 1) == [b"<4>w\n"]
    finally:
        lg.sink.close()
        rx.close()


def test_unix_datagram_exact_bytes(short_dir: Path) -> None:
    path = str(short_dir / "log.sock")
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(path)
    lg = fixed_logger([f"log {path} len 80 format rfc5424 daemon"], hostname="lb1")
    try:
        lg.send("emerg", "backend b has no server available!" * 3)
        (line,) = receive(rx, 1)
        assert len(line) == 81
        assert re.fullmatch(
            rb"<24>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.012345[+-]\d\d:\d\d lb1 haproxy 321 - - "
            rb"backend b has no serv\n",
            line,
        )
    finally:
        lg.sink.close()
        rx.close()


def test_abstract_socket_name_is_padded() -> None:
    """HAProxy sends to the whole sockaddr_un: the abstract name is NUL-padded."""
    name = f"herdsman-test-{os.getpid()}"
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(b"\0" + name.encode().ljust(107, b"\0"))
    lg = fixed_logger([f"log abns@{name} format raw local0"])
    try:
        lg.send("info", "abstract")
        assert receive(rx, 1) == [b"abstract\n"]
    finally:
        lg.sink.close()
        rx.close()


def test_pipe_whole_lines_and_drops_when_full() -> None:
    """A full pipe drops lines (counted), never blocks, and never splits a line."""
    r, w = os.pipe()
    sink = LogSink()
    lg = fixed_logger([f"log fd@{w} format raw local0"], sink=sink)
    try:
        lg.send("info", "first")
        assert os.read(r, 100) == b"first\n"
        assert not os.get_blocking(w)  # switched on first use
        line = "x" * 999
        sent = 0
        start = time.monotonic()
        while not sink.dropped and sent < 10000:
            lg.send("info", line)
            sent += 1
        assert sink.dropped == 1
        assert time.monotonic() - start < DEADLINE
        data = b""
        while select.select([r], [], [], 0)[0]:
            data += os.read(r, 65536)
        assert data == (line.encode() + b"\n") * (sent - 1)
    finally:
        os.close(r)
        os.close(w)


def test_unix_receiver_not_reading_drops(short_dir: Path) -> None:
    path = str(short_dir / "full.sock")
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(path)
    sink = LogSink()
    lg = fixed_logger([f"log {path} format raw local0"], sink=sink)
    try:
        sent = 0
        while not sink.dropped and sent < 100000:
            lg.send("info", "m" * 500)
            sent += 1
        assert sink.dropped == 1
        assert len(drain(rx)) == sent - 1
    finally:
        sink.close()
        rx.close()


def test_send_from_the_uvloop_event_loop() -> None:
    """send() is synchronous and non-blocking: callable from a coroutine as is."""

    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        got: asyncio.Future[bytes] = loop.create_future()

        class Rx(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: object) -> None:
                if not got.done():
                    got.set_result(data)

        transport, _ = await loop.create_datagram_endpoint(Rx, local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        lg = fixed_logger([f"log 127.0.0.1:{port} format priority local7"])
        try:
            lg.send("debug", "from the loop")
            async with asyncio.timeout(DEADLINE):
                return await got
        finally:
            lg.sink.close()
            transport.close()

    assert uvloop.run(main()) == b"<191>from the loop\n"


# -- side by side with HAProxy 2.6.12 -----------------------------------------------------------

# One receiver per line, so each target's datagrams can be told apart. The
# catch-all line comes last: once it has every message, all others have theirs.
TARGET_LINES = [
    "{udp} local0",
    "{udp} format rfc3164 local1",
    "{udp} format rfc5424 local2",
    "{udp} format short local3",
    "{udp} format raw local4",
    "{udp} format timed local5",
    "{udp} format iso local6",
    "{udp} format priority local7",
    "{udp} len 80 local0",
    "{udp} len 80 format raw local0",
    "{udp} len 80 format rfc5424 local0",
    "{udp} local3 warning",
    "{udp} local3 debug crit",
    "{udp} sample 2:3 local0",
    "{ux} len 80 format rfc5424 daemon",
    "{ux} format rfc3164 user",
    "{fd} format raw daemon",
    "{fd} len 80 format rfc3164 daemon",
    "{udp} local0",
]
RAW = 4  # the index of the full-length raw target: the messages as sent
ALL = len(TARGET_LINES) - 1
MESSAGES = 3  # health check failed (notice), server DOWN (alert), no server (emerg)
_LEGACY = re.compile(rb"[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d ")
_ISO = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d ")


def normalize(line: bytes) -> bytes:
    return _ISO.sub(b"<ISO> ", _LEGACY.sub(b"<LEGACY> ", line))


def read_lines(fd: int, count: int) -> list[bytes]:
    data = b""
    end = time.monotonic() + DEADLINE
    while data.count(b"\n") < count:
        left = end - time.monotonic()
        assert left > 0, data
        assert select.select([fd], [], [], left)[0], data
        chunk = os.read(fd, 65536)
        assert chunk, data
        data += chunk
    return [x + b"\n" for x in data.split(b"\n")[:count]]


@pytest.mark.haproxy
@pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")
@pytest.mark.parametrize("identity", [False, True], ids=["defaults", "hostname-and-tag"])
def test_same_bytes_as_haproxy(short_dir: Path, identity: bool) -> None:
    assert HAPROXY is not None
    udps: list[socket.socket] = []
    uxs: list[socket.socket] = []
    lines: list[str] = []
    for n, tpl in enumerate(TARGET_LINES):
        if tpl.startswith("{udp}"):
            udps.append(udp_receiver())
            addr = f"127.0.0.1:{udps[-1].getsockname()[1]}"
        elif tpl.startswith("{ux}"):
            uxs.append(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
            addr = str(short_dir / f"t{n}.sock")
            uxs[-1].bind(addr)
        else:
            addr = "{fd}"
        lines.append("log " + tpl.replace("{udp}", addr).replace("{ux}", addr))
    receivers = [*udps, *uxs]
    by_line = _receivers_by_line(lines, udps, uxs)
    ident = "    log-send-hostname lb1.example\n    log-tag mytag\n" if identity else ""
    cfg = short_dir / "h.cfg"
    cfg.write_text(
        "global\n"
        + ident
        + "".join("    " + x.replace("{fd}", "stdout") + "\n" for x in lines)
        + "defaults\n    mode tcp\n    log global\n    option log-health-checks\n"
        "    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"
        "backend b\n    server s 127.0.0.1:1 check\n"
        f"listen l\n    bind unix@{short_dir}/fe.sock\n"
    )
    proc = subprocess.Popen(
        [HAPROXY, "-db", "-f", str(cfg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        theirs = {ALL: receive(by_line[ALL], MESSAGES)}
        for n, sock in by_line.items():
            if n != ALL:
                theirs[n] = drain(sock)
        their_out = read_lines(proc.stdout.fileno(), 2 * MESSAGES)
        their_err = read_lines(proc.stderr.fileno(), MESSAGES)
    finally:
        proc.terminate()
        proc.communicate(timeout=DEADLINE)

    # the messages and levels, as HAProxy sent them
    texts = [m[:-1] for m in theirs[RAW]]
    levels = [int(m[1:4]) - 128 for m in theirs[ALL]]
    assert levels == [5, 1, 0]

    r, w = os.pipe()
    targets = [target(x.replace("{fd}", f"fd@{w}")) for x in lines]
    ours_logger = Logger(
        targets,
        pid=proc.pid,
        hostname="lb1.example" if identity else None,
        tag="mytag" if identity else "haproxy",
        max_syslog_len=max_syslog_len(targets),
    )
    try:
        for level, text in zip(levels, texts, strict=True):
            ours_logger.send(level, text)
        ours = {n: drain(sock) for n, sock in by_line.items()}
        our_out = read_lines(r, 2 * MESSAGES)
    finally:
        ours_logger.sink.close()
        os.close(r)
        os.close(w)
        for s in receivers:
            s.close()

    for n in by_line:
        assert [normalize(x) for x in ours[n]] == [normalize(x) for x in theirs[n]], lines[n]
    assert [normalize(x) for x in our_out] == [normalize(x) for x in their_out]
    # every header with a time carries one of the two shapes
    assert all(_LEGACY.search(x) for x in theirs[0])
    assert all(_ISO.search(x) for x in theirs[2])
    # and the stderr copies: two warnings, then the alert with a quoted name
    assert [x.decode() for x in their_err] == [
        stderr_line("WARNING", texts[0].decode(), proc.pid),
        stderr_line("WARNING", texts[1].decode(), proc.pid),
        stderr_line("ALERT", "backend 'b' has no server available!", proc.pid),
    ]


def _receivers_by_line(
    lines: list[str], udps: list[socket.socket], uxs: list[socket.socket]
) -> dict[int, socket.socket]:
    out: dict[int, socket.socket] = {}
    u = iter(udps)
    x = iter(uxs)
    for n, tpl in enumerate(TARGET_LINES):
        if tpl.startswith("{udp}"):
            out[n] = next(u)
        elif tpl.startswith("{ux}"):
            out[n] = next(x)
    assert len(out) == len(udps) + len(uxs)
    assert len(lines) == len(TARGET_LINES)
    return out
