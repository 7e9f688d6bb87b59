"""A graceful soft stop (SIGUSR1) with keep-alive clients, herdsman against haproxy
2.6.12 as processes in the same test: the request in flight finishes, its
response announces ``Connection: close`` and its connection closes; idle
keep-alive connections are closed (with ``option idle-close-on-response``,
after one more response that announces close); new connections are refused;
the process exits once nothing is left.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from httppeers import Client, Origin, Reply, Seen, get, ok
from proc_helpers import ProxyProcess

from herdsman.testing import free_port, listening, wait_for_async

pytestmark = pytest.mark.haproxy


async def soft_stop_trace(program: str, tmp_path: Path, option: str = "") -> list[object]:
    release = asyncio.Event()

    async def held(seen: Seen) -> Reply:
        if seen.msg.start[1] == "/slow":
            await release.wait()
        return ok(seen)

    origin = await Origin(held).start()
    port = free_port()
    text = (
        "global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 1s\n"
        "    timeout client 5s\n    timeout server 5s\n"
        f"listen L\n    bind 127.0.0.1:{port}\n{option}    server s 127.0.0.1:{origin.port}\n"
    )
    proc = await asyncio.to_thread(ProxyProcess, str(tmp_path), text, port, program)
    trace: list[object] = []
    idle, busy = await Client.open(port), await Client.open(port)
    try:
        for c in (idle, busy):
            got = await c.request(get("/"))
            assert got is not None
        busy.send(get("/slow"))
        await origin.wait_requests(3)
        proc.signal(signal.SIGUSR1)
        if "idle-close-on-response" in option:
            await wait_for_async(lambda: not listening(port))
            got = await idle.request(get("/"))
            assert got is not None
            trace.append(("idle connection", got[0].start[1], got[0].header("connection")))
        trace.append(("idle connection got", await idle.closed()))
        with pytest.raises(OSError):
            await Client.open(port)
        release.set()
        got = await busy.response()
        assert got is not None
        trace.append(("in flight", got[0].start[1], got[0].header("connection")))
        trace.append(("then", await busy.closed()))
        trace.append(("exit", await asyncio.to_thread(proc.proc.wait, 5)))
        await wait_for_async(lambda: not origin.open_conns())
        trace.append(("server connections closed by", sorted(c.closed_by for c in origin.conns)))
    finally:
        idle.close()
        busy.close()
        release.set()
        proc.stop()
        await origin.close()
    return trace


@pytest.mark.parametrize(
    "option",
    ["", "    option http-server-close\n", "    option idle-close-on-response\n"],
    ids=["keep-alive", "server-close", "idle-close-on-response"],
)
async def test_soft_stop_with_keep_alive_clients(tmp_path: Path, option: str) -> None:
    mine = await soft_stop_trace("herdsman", tmp_path, option)
    theirs = await soft_stop_trace("haproxy", tmp_path, option)
    assert mine == theirs
    assert ("in flight", "200", ["close"]) in mine
