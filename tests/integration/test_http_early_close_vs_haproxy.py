"""A client that closes (a FIN or a reset) before a whole request, side by side
with haproxy 2.6.12: ``h1_process()`` answers a 400 (``h1_handle_parsing_error()``),
counts ``req_tot``, ``ereq`` and a 4xx, and logs ``<BADREQ>`` with ``CR--``,
unless nothing came on a keep-alive connection or, with ``option
http-ignore-probes``, on a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
from pathlib import Path

import pytest

from herdsman.testing import Acceptor, Haproxy, Syslog, cli_command, free_port, running

pytestmark = pytest.mark.haproxy

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
FIELDS = ("req_tot", "ereq", "hrsp_2xx", "hrsp_4xx", "hrsp_other", "stot")


def config(ports: tuple[int, int], server: int, log: int, sock: str) -> str:
    return (
        f"global\n    stats socket {sock} level admin\n"
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
        f"    timeout server 5s\n    log 127.0.0.1:{log} format raw local0\n    option httplog\n"
        f"listen L\n    bind 127.0.0.1:{ports[0]}\n"
        "    http-request return status 200 content-type text/plain string ok\n"
        f"    server s1 127.0.0.1:{server}\n"
        f"listen P\n    bind 127.0.0.1:{ports[1]}\n    option http-ignore-probes\n"
        "    http-request return status 200 content-type text/plain string ok\n"
        f"    server s1 127.0.0.1:{server}\n"
    )


async def exchange(port: int, sends: list[bytes], end: str) -> bytes:
    """Send each piece (reading a response after a whole request), then shut our
    side ("fin") or reset ("rst"); what came back after the last piece."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    got = b""
    try:
        for data in sends:
            writer.write(data)
            await writer.drain()
            if data.endswith(b"\r\n\r\n"):
                await asyncio.wait_for(reader.readuntil(b"ok"), 5)
        if end == "rst":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return b""
        writer.write_eof()
        with contextlib.suppress(ConnectionError):
            got = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    return got[:24]


# (listener 0: plain, 1: http-ignore-probes; what is sent; how it ends; log lines after)
CASES = [
    (0, [], "fin", 1),
    (0, [b"GET / HT"], "fin", 2),
    (0, [b"GET / HT"], "rst", 3),
    (0, [GET], "fin", 4),  # the 200 is logged, the idle close is not
    (1, [], "fin", 4),
    (1, [b"GET / HT"], "fin", 5),
    (0, [], "rst", 6),
]


async def scenario(ports: tuple[int, int], log: Syslog, sock: str) -> tuple[object, ...]:
    replies = []
    for which, sends, end, lines in CASES:
        replies.append(await exchange(ports[which], sends, end))
        await log.wait_count(lines, timeout=10)
    text = await asyncio.to_thread(cli_command, sock, "show stat")
    rows = text.splitlines()
    names = rows[0].lstrip("# ").split(",")
    stats = {}
    for line in rows[1:]:
        row = dict(zip(names, line.split(","), strict=False))
        if row.get("svname") == "FRONTEND":
            stats[row["pxname"]] = {f: row[f] for f in FIELDS}
    stamp = re.compile(r"127\.0\.0\.1:\d+ \[[^]]*\]")
    lines = [stamp.sub("C [D]", x) for x in log.lines]
    return replies, lines, stats


async def test_early_closes_as_haproxy(tmp_path: Path) -> None:
    ports = (free_port(), free_port())
    results = []
    with Acceptor() as server:
        for run in ("herdsman", "haproxy"):
            log = Syslog()
            sock = str(tmp_path / f"{run}.sock")
            text = config(ports, server.port, log.port, sock)
            try:
                if run == "herdsman":
                    async with running(text):
                        results.append(await scenario(ports, log, sock))
                else:
                    with Haproxy(text).start(ports[0]):
                        results.append(await scenario(ports, log, sock))
            finally:
                log.close()
    mine, theirs = results
    # the durations (Tt) apart: what a loaded machine adds to them
    timers = re.compile(r"(-?\d+/-1/-1/-1/)\d+")
    assert mine[0] == theirs[0]
    assert [timers.sub(r"\1T", x) for x in mine[1]] == [timers.sub(r"\1T", x) for x in theirs[1]]
    assert mine[2] == theirs[2]
    assert mine[0][0] == b"HTTP/1.1 400 Bad request"
    assert mine[0][4] == b""  # http-ignore-probes: closed without a word
    assert mine[1][0].endswith('400 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>"')
