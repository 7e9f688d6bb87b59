"""Health checks against real loopback servers, side by side with haproxy 2.6.12.

A server that starts refusing connections is marked DOWN after the configured
failures, gets no new traffic, and the log line is HAProxy's; when it listens
again it goes UP. The same scenario runs through the real binary, logging to
the same kind of UDP receiver, and the lines are compared.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from herdsman.core.states import SrvState
from herdsman.testing import (
    Haproxy,
    Syslog,
    free_port,
    named_servers,
    normalise_duration,
    running,
    wait_for_async,
)


def config(port: int, log_port: int, a: int, b: int, extra: str = "") -> str:
    return (
        f"global\n    log 127.0.0.1:{log_port} format raw local0\n"
        "defaults\n    mode tcp\n    log global\n    timeout connect 1s\n"
        "    timeout client 5s\n    timeout server 5s\n"
        f"listen L\n    bind 127.0.0.1:{port}\n{extra}"
        f"    server a 127.0.0.1:{a} check inter 100ms rise 2 fall 2\n"
        f"    server b 127.0.0.1:{b} check inter 100ms rise 2 fall 2\n"
    )


EXPECTED = [
    'Server L/a is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: Nms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    "Server L/a is UP, reason: Layer4 check passed, check duration: Nms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
]


async def names(port: int, n: int) -> list[str]:
    out = []
    for _ in range(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out.append((await asyncio.wait_for(reader.read(), 5)).decode())
        writer.close()
    return out


async def test_refusing_server_goes_down_gets_no_traffic_and_comes_back() -> None:
    log = Syslog()
    try:
        async with named_servers(2) as (a, b):
            port = free_port()
            async with running(config(port, log.port, a.port, b.port)) as hm:
                srv = hm.server("L/a")
                chk = srv.check
                assert chk is not None
                await wait_for_async(lambda: chk.health == chk.rise + chk.fall - 1)
                await a.stop()
                down = await log.wait_line(r"Server L/a is DOWN")
                assert srv.cur_state is SrvState.STOPPED
                assert set(await names(port, 6)) == {"b"}
                assert normalise_duration(down) == EXPECTED[0]
                await a.start()
                up = await log.wait_line(r"Server L/a is UP")
                assert normalise_duration(up) == EXPECTED[1]
                assert set(await names(port, 6)) == {"a", "b"}
    finally:
        log.close()


def haproxy_status(path: str, server: str) -> str:
    """The ``status`` column of ``show stat`` for L/<server> (e.g. "UP 1/2")."""
    data = b""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            s.sendall(b"show stat\n")
            while chunk := s.recv(65536):
                data += chunk
    except OSError:  # the stats socket is not there yet
        return ""
    for line in data.decode().splitlines():
        fields = line.split(",")
        if len(fields) > 17 and fields[0] == "L" and fields[1] == server:
            return fields[17]
    return ""


@pytest.mark.haproxy
async def test_same_lines_as_the_binary(tmp_path: str) -> None:
    log = Syslog()
    sock = f"{tmp_path}/stats.sock"
    try:
        async with named_servers(2) as (a, b):
            port = free_port()
            text = config(port, log.port, a.port, b.port).replace(
                "global\n", f"global\n    stats socket {sock} level admin\n", 1
            )
            with Haproxy(text).start(port):
                # the binary must first see "a" fully up, as herdsman did
                await wait_for_async(lambda: haproxy_status(sock, "a") == "UP", timeout=5)
                await a.stop()
                down = await log.wait_line(r"Server L/a is DOWN")
                await a.start()
                up = await log.wait_line(r"Server L/a is UP")
        assert [normalise_duration(down), normalise_duration(up)] == EXPECTED
    finally:
        log.close()
