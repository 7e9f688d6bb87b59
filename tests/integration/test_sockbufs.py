"""``tune.sndbuf/rcvbuf.client`` on accepted sockets (``session_accept_fd()``) and
``tune.sndbuf/rcvbuf.server`` on server sockets before ``connect()``
(``tcp_connect_server()``). Linux reports twice the value set (``socket(7)``).
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from herdsman.testing import free_port, named_servers, running, wait_for_async


def _opt(transport: asyncio.BaseTransport | None, opt: int) -> int:
    assert transport is not None
    sock = transport.get_extra_info("socket")
    value: int = sock.getsockopt(socket.SOL_SOCKET, opt)
    return value


@pytest.mark.parametrize("tuned", [True, False])
async def test_socket_buffers(tuned: bool) -> None:
    port = free_port()
    async with named_servers(1, hold=True) as (srv,):
        tune = (
            "global\n    tune.sndbuf.client 40000\n    tune.rcvbuf.client 50000\n"
            "    tune.sndbuf.server 60000\n    tune.rcvbuf.server 70000\n"
            if tuned
            else ""
        )
        text = (
            f"{tune}defaults\n    mode tcp\n    timeout connect 2s\n"
            "    timeout client 5s\n    timeout server 5s\n"
            f"listen l\n    bind 127.0.0.1:{port}\n    server a 127.0.0.1:{srv.port}\n"
        )
        async with running(text) as hm:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            fe = hm.frontends[0]
            await wait_for_async(
                lambda: any(s.server_side is not None for s in fe.streams)  # type: ignore[attr-defined]
            )
            [stream] = fe.streams
            client = stream.client.transport
            server = stream.server_side.transport  # type: ignore[attr-defined]
            got = (
                _opt(client, socket.SO_SNDBUF),
                _opt(client, socket.SO_RCVBUF),
                _opt(server, socket.SO_SNDBUF),
                _opt(server, socket.SO_RCVBUF),
            )
            writer.close()
    if tuned:
        assert got == (80000, 100000, 120000, 140000)
    else:
        assert 80000 not in got
        assert 140000 not in got
