"""Idle server connections closed when 2.6 calls ``srv_cleanup_connections()``
(server.c): the server enters maintenance, or its address changes; draining
keeps them. herdsman against haproxy 2.6.12 in the same test."""

from __future__ import annotations

import asyncio
import os
import tempfile

import pytest
from httppeers import Client, Origin, get, proxy

from herdsman.testing import free_port, wait_for_async

pytestmark = pytest.mark.haproxy


async def cli(sock: str, command: str) -> str:
    reader, writer = await asyncio.open_unix_connection(sock)
    writer.write(command.encode() + b"\n")
    async with asyncio.timeout(5):
        answer = await reader.read()
    writer.close()
    return answer.decode()


async def trace(kind: str, command: str) -> tuple[str, list[int], list[int]]:
    """One request, the client leaves (its server connection stays idle in the
    pool), then ``command`` on the stats socket: its answer and the origin's
    connections closed by the proxy and still open a moment later."""
    origin = await Origin().start()
    sock = os.path.join(tempfile.mkdtemp(prefix="hm-pool-"), "stats")
    port = free_port()
    text = (
        f"global\n    nbthread 1\n    stats socket {sock} level admin\n"
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        f"listen L\n    bind 127.0.0.1:{port}\n    http-reuse always\n"
        f"    server s 127.0.0.1:{origin.port} pool-purge-delay 30s\n"
    )
    try:
        async with proxy(kind, text, port):
            client = await Client.open(port)
            assert await client.request(get()) is not None
            client.close()
            await origin.wait_requests(1)
            answer = (await cli(sock, command.format(port=origin.port))).strip()
            if "maint" in command or "addr" in command:
                await wait_for_async(lambda: bool(origin.closed("proxy")), timeout=5)
            else:
                # nothing should close: a window in which a wrong close would show
                await asyncio.sleep(0.3)
            return answer, origin.closed("proxy"), origin.open_conns()
    finally:
        await origin.close()


@pytest.mark.parametrize(
    "command",
    [
        "set server L/s state maint",
        "disable server L/s",
        "set server L/s addr 127.0.0.2 port {port}",
        "set server L/s state drain",
    ],
)
async def test_idle_connections_closed_as_haproxy_closes_them(command: str) -> None:
    mine = await trace("herdsman", command)
    theirs = await trace("haproxy", command)
    assert mine == theirs
