"""Lines a frontend logs without a log format, and those of a soft stop, as 2.6.12.

Without ``option tcplog``/``log-format``, a frontend with log targets logs
every accepted connection ("Connect from ..."), and a soft stop logs one
"Proxy X stopped (cumulated conns: ...)" line per proxy. The same scenario
runs through the binary (SIGUSR1) and the lines are compared.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from herdsman.testing import Haproxy, Syslog, free_port, named_servers, running


def config(log_port: int, f: int, listen: int, server: int) -> str:
    return (
        f"global\n    log 127.0.0.1:{log_port} format raw local0\n"
        "defaults\n    mode tcp\n    log global\n    timeout connect 1s\n"
        "    timeout client 5s\n    timeout server 5s\n"
        f"frontend F\n    bind 127.0.0.1:{f}\n    default_backend B\n"
        f"backend B\n    server s 127.0.0.1:{server}\n"
        f"listen L\n    bind 127.0.0.1:{listen}\n    server s 127.0.0.1:{server}\n"
    )


async def connect_once(port: int) -> int:
    """One connection through the proxy; returns the client's source port."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sport = writer.get_extra_info("sockname")[1]
    await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return int(sport)


def expected(sport: int, f: int) -> list[str]:
    return [
        f"Connect from 127.0.0.1:{sport} to 127.0.0.1:{f} (F/TCP)",
        "Proxy F stopped (cumulated conns: FE: 1, BE: 0).",
        "Proxy L stopped (cumulated conns: FE: 0, BE: 0).",
        "Proxy B stopped (cumulated conns: FE: 0, BE: 1).",
    ]


async def test_connect_lines_and_soft_stop_lines() -> None:
    log = Syslog()
    try:
        async with named_servers(1) as (srv,):
            f, listen = free_port(), free_port()
            async with running(config(log.port, f, listen, srv.port)) as hm:
                sport = await connect_once(f)
                await hm.soft_stop()
            assert await log.collect(4) == expected(sport, f)
    finally:
        log.close()


@pytest.mark.haproxy
async def test_same_lines_as_the_binary() -> None:
    log = Syslog()
    try:
        async with named_servers(1) as (srv,):
            f, listen = free_port(), free_port()
            hap = Haproxy(config(log.port, f, listen, srv.port)).start(f)
            try:
                sport = await connect_once(f)
                assert hap.proc is not None
                hap.proc.send_signal(signal.SIGUSR1)
                lines = await log.collect(5)
            finally:
                hap.stop()
        # the binary also stops its internal <HTTPCLIENT> proxy
        assert lines == [
            *expected(sport, f),
            "Proxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).",
        ]
    finally:
        log.close()
