"""WebSocket through HTTP mode with a real client and server (the ``websockets``
package), herdsman and haproxy 2.6.12 alike (spec §3.2; issue 13's acceptance):
the handshake, messages both ways, the close handshake, and ``timeout tunnel``
replacing ``timeout client``/``server`` once the 101 went through.
"""

from __future__ import annotations

import asyncio

import pytest
from httppeers import KINDS, proxy
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from herdsman.testing import free_port, wait_for_async

pytestmark = pytest.mark.haproxy


def config(port: int, origin: int, tunnel: str) -> str:
    return (
        "defaults\n    mode http\n    timeout connect 1s\n"
        "    timeout client 300ms\n    timeout server 300ms\n"
        f"    timeout tunnel {tunnel}\n"
        f"listen L\n    bind 127.0.0.1:{port}\n    server s 127.0.0.1:{origin}\n"
    )


class Echo:
    """A WebSocket server that answers every message with ``echo: <message>`` and
    records the handshake's request headers."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.closed: list[int | None] = []

    async def handler(self, ws: ServerConnection) -> None:
        req = ws.request
        assert req is not None
        self.headers.append({k.lower(): v for k, v in req.headers.raw_items()})
        try:
            async for message in ws:
                await ws.send(
                    f"echo: {message!r}" if isinstance(message, bytes) else f"echo: {message}"
                )
        finally:
            self.closed.append(ws.close_code)


async def exchange(kind: str) -> list[object]:
    """Handshake, three messages each way (text and binary), a close from the client."""
    echo = Echo()
    async with serve(echo.handler, "127.0.0.1", 0) as server:
        origin = server.sockets[0].getsockname()[1]
        port = free_port()
        async with proxy(kind, config(port, origin, "5s"), port):
            trace: list[object] = []
            async with connect(f"ws://127.0.0.1:{port}/chat", ping_interval=None) as ws:
                resp = ws.response
                assert resp is not None
                trace.append(("101", resp.status_code, resp.headers["Connection"].lower()))
                for msg in ("one", "two", "x" * 70000):
                    await ws.send(msg)
                    trace.append(await ws.recv())
                await ws.send(b"\x00\x01")
                trace.append(await ws.recv())
                # idle longer than timeout client/server: the tunnel's timeout applies
                await asyncio.sleep(0.6)
                await ws.send("after idle")
                trace.append(await ws.recv())
            await wait_for_async(lambda: echo.closed)
            seen = echo.headers[0]
            trace.append(("upgrade", seen["upgrade"], seen["connection"].lower()))
            trace.append(("server closed with", echo.closed))
    return trace


async def test_websocket_handshake_messages_and_close() -> None:
    got = {kind: await exchange(kind) for kind in KINDS}
    assert got["herdsman"] == got["haproxy"]
    assert got["herdsman"][:2] == [("101", 101, "upgrade"), "echo: one"]


async def idle_until_closed(kind: str) -> float:
    """With ``timeout tunnel 300ms``: seconds from the last message until the proxy
    closes the idle tunnel."""
    echo = Echo()
    async with serve(echo.handler, "127.0.0.1", 0) as server:
        origin = server.sockets[0].getsockname()[1]
        port = free_port()
        async with (
            proxy(kind, config(port, origin, "300ms"), port),
            connect(f"ws://127.0.0.1:{port}/", ping_interval=None) as ws,
        ):
            await ws.send("hi")
            assert await ws.recv() == "echo: hi"
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(5):
                    await ws.recv()
            return loop.time() - start
    raise AssertionError("unreachable")


@pytest.mark.parametrize("kind", KINDS)
async def test_timeout_tunnel_closes_an_idle_websocket(kind: str) -> None:
    """An idle tunnel is closed after ``timeout tunnel`` (300 ms), not before."""
    elapsed = await idle_until_closed(kind)
    assert 0.28 <= elapsed < 2.0
