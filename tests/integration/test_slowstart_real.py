"""Slow start with real connections and side by side with haproxy 2.6.12 (spec §10).

The log lines of a server going DOWN, coming back UP under ``slowstart`` and
reaching full weight ("is UP" a second time, without a reason) are compared
with the binary's for the same configuration; the share of real TCP
connections a recovered server gets grows with each one-second step.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from checklog import launched

from herdsman.core import transitions
from herdsman.core.clock import ManualClock
from herdsman.core.states import SrvState
from herdsman.testing import (
    Syslog,
    free_port,
    named_servers,
    normalise_duration,
    running,
)


def config(log_port: int, port: int, target: int) -> str:
    return (
        f"global\n    log 127.0.0.1:{log_port} format raw local0\n"
        "defaults\n    mode tcp\n    log global\n    timeout connect 1s\n"
        "    timeout client 5s\n    timeout server 5s\n"
        f"listen L\n    bind 127.0.0.1:{port}\n"
        f"    server s1 127.0.0.1:{target} check inter 100ms rise 1 fall 1 slowstart 2s\n"
    )


EXPECTED = [
    'Server L/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    "proxy L has no server available!",
    "Server L/s1 is UP, reason: Layer4 check passed, check duration: Nms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
    "Server L/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
]


async def scenario(program: str) -> list[str]:
    """The server refuses until it is seen DOWN, then listens: the lines until full weight."""
    log = Syslog()
    port, target = free_port(), free_port()
    text = config(log.port, port, target)
    listener: socket.socket | None = None
    try:
        async with launched(program, text):
            await log.wait_line(r"Server L/s1 is DOWN")
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", target))
            listener.listen(64)
            await log.wait_line(r"Server L/s1 is UP\. ", timeout=8)
        # state lines only: a stray connection (another test run on this machine)
        # would add haproxy's traffic log line "Connect from ..."
        return [normalise_duration(line) for line in log.lines if not line.startswith("Connect")]
    finally:
        if listener is not None:
            listener.close()
        log.close()


async def test_herdsman_lines() -> None:
    assert await scenario("herdsman") == EXPECTED


@pytest.mark.haproxy
async def test_haproxy_lines_are_the_same() -> None:
    assert await scenario("haproxy") == EXPECTED


async def names(port: int, n: int) -> list[str]:
    out = []
    for _ in range(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out.append((await asyncio.wait_for(reader.read(), 5)).decode())
        writer.close()
    return out


async def test_recovered_server_share_grows_step_by_step() -> None:
    """roundrobin, both weight 1: a's effective weight is 1 + e (slowstart 16s), z's 16.

    At each step, 16 + w connections go through herdsman: a gets w of them,
    give or take one where the round of the previous step ends.
    """
    clock = ManualClock()
    port = free_port()
    async with named_servers(2, names="az") as (a, z):
        text = (
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten L\n    bind 127.0.0.1:{port}\n"
            f"    server a 127.0.0.1:{a.port} slowstart 16s\n"
            f"    server z 127.0.0.1:{z.port}\n"
        )
        async with running(text, clock=clock) as hm:
            srv = hm.server("L/a")
            transitions.set_stopped(srv, "test")
            assert set(await names(port, 4)) == {"z"}
            clock.advance(1000)
            transitions.set_running(srv, "test")
            shares = []
            e = 0
            while srv.cur_state is SrvState.STARTING:
                w = 1 + e
                got = await names(port, 16 + w)
                shares.append((w, got.count("a")))
                for _ in range(4):
                    clock.advance(1000)
                    hm.warmup.run_due()
                e += 4
            got = await names(port, 32)
            assert got.count("a") == 16
    assert [w for w, _ in shares] == [1, 5, 9, 13]
    for w, count in shares:
        assert abs(count - w) <= 1, shares
    assert [c for _, c in shares] == sorted(c for _, c in shares)
