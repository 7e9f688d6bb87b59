"""Health in HTTP mode against haproxy 2.6.12 in the same test (spec §4.7, §5):
``observe layer7`` counts the responses of live traffic as haproxy counts them
(a 5xx but 501 and 505 is an error, anything else resets the count) and
``on-error mark-down`` takes the server down at ``error-limit``; HTTP checks
(``option httpchk``) of the servers of an HTTP backend work as in TCP mode.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from httppeers import KINDS, Client, Origin, Reply, Seen, get, ok, proxy

from herdsman.testing import Syslog, free_port, normalise_duration

pytestmark = pytest.mark.haproxy


def status(code: int) -> Reply:
    return Reply(b"HTTP/1.1 %d X\r\ncontent-length: 0\r\n\r\n" % code)


def by_path(seen: Seen) -> Reply:
    """``/<code>`` answers that status; anything else 200."""
    path = seen.msg.start[1].lstrip("/")
    return status(int(path)) if path.isdigit() else ok(seen)


def config(log: int, port: int, origin: int, server: str, lines: str = "") -> str:
    return (
        f"global\n    nbthread 1\n    log 127.0.0.1:{log} format raw local0\n"
        "defaults\n    mode http\n    log global\n    timeout connect 1s\n"
        "    timeout client 2s\n    timeout server 2s\n"
        f"listen L\n    bind 127.0.0.1:{port}\n{lines}"
        f"    server s 127.0.0.1:{origin} {server}\n"
    )


@contextlib.asynccontextmanager
async def setup(kind: str, server: str, lines: str = "") -> AsyncIterator[tuple[int, Syslog]]:
    origin = await Origin(by_path).start()
    log = Syslog()
    port = free_port()
    try:
        async with proxy(kind, config(log.port, port, origin.port, server, lines), port):
            yield port, log
    finally:
        log.close()
        await origin.close()


async def observe_trace(kind: str) -> list[object]:
    trace: list[object] = []
    server = "check inter 10s observe layer7 error-limit 2 on-error mark-down"
    async with setup(kind, server) as (port, log):
        client = await Client.open(port)
        # 500 (1), 200 resets, 502 (1), 501 resets, 503 (1), 504 (2): down
        for path in ("/500", "/", "/502", "/501", "/503", "/504", "/"):
            got = await client.request(get(path))
            assert got is not None
            trace.append((path, got[0].start[1]))
            if got[0].header("connection") == ["close"]:
                client = await Client.open(port)
        trace.append(await log.wait_line(r"Server L/s is DOWN"))
        client.close()
    return trace


async def test_observe_layer7_marks_the_server_down_as_haproxy() -> None:
    got = {kind: await observe_trace(kind) for kind in KINDS}
    assert got["herdsman"] == got["haproxy"]
    assert [status for _, status in got["herdsman"][:-1]] == [
        "500", "200", "502", "501", "503", "504", "503",
    ]  # fmt: skip


async def httpchk_trace(kind: str) -> list[str]:
    """An HTTP check of a server of an HTTP backend: UP while /health answers 200,
    DOWN once it answers 500 (the path is switched by a request through the proxy)."""
    health = {"code": 200}

    def handler(seen: Seen) -> Reply:
        if seen.msg.start[1] == "/health":
            return status(health["code"])
        return by_path(seen)

    origin = await Origin(handler).start()
    log = Syslog()
    port = free_port()
    lines = "    option httpchk GET /health\n    option log-health-checks\n"
    text = config(log.port, port, origin.port, "check inter 100ms fall 2 rise 2", lines)
    try:
        async with proxy(kind, text, port):
            client = await Client.open(port)
            got = await client.request(get("/"))
            assert got is not None
            health["code"] = 500
            failed = await log.wait_line(r"Health check for server L/s failed")
            down = await log.wait_line(r"Server L/s is DOWN")
            got = await client.request(get("/"))
            assert got is not None
            health["code"] = 200
            up = await log.wait_line(r"Server L/s is UP")
            client.close()
            return [normalise_duration(line) for line in (failed, down, up)] + [got[0].start[1]]
    finally:
        log.close()
        await origin.close()


async def test_http_checks_in_an_http_backend_as_haproxy() -> None:
    got = {kind: await httpchk_trace(kind) for kind in KINDS}
    assert got["herdsman"] == got["haproxy"]
    assert got["herdsman"][-1] == "503"
