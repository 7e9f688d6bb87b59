"""Queues in HTTP mode against haproxy 2.6.12 in the same test (spec §2.4-§2.6;
issue 14's acceptance): a server's ``maxconn`` counts requests in flight, not
keep-alive connections; queued requests are served in haproxy's order;
``timeout queue`` and ``maxqueue`` answer 503 without reaching a server; a
queued client that leaves leaves the queue at once; the queue of a server that
goes down is redispatched with ``option redispatch``.

Each proxy gets a stats socket: the tests wait on its queue counters (``show
stat``'s ``qcur``) rather than on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator

import pytest
from httppeers import KINDS, Client, Origin, Reply, Seen, get, ok, proxy

from herdsman.testing import free_port, wait_for_async

pytestmark = pytest.mark.haproxy


class Held:
    """An origin handler that answers only when the test releases a request."""

    def __init__(self) -> None:
        self.tokens: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, seen: Seen) -> Reply:
        await self.tokens.get()
        return ok(seen)

    def release(self, n: int = 1) -> None:
        for _ in range(n):
            self.tokens.put_nowait(None)


@contextlib.asynccontextmanager
async def running(kind: str, body: str) -> AsyncIterator[tuple[int, str]]:
    """``body`` (a backend section's lines, with {port}) behind a stats socket."""
    sock = os.path.join(tempfile.mkdtemp(prefix="hm-q-"), "stats")
    port = free_port()
    text = (
        f"global\n    nbthread 1\n    stats socket {sock} level admin\n"
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        f"listen L\n    bind 127.0.0.1:{port}\n" + body
    )
    async with proxy(kind, text, port):
        yield port, sock


async def cli(sock: str, command: str) -> str:
    """One command on the stats socket (herdsman may run on this loop: no blocking)."""
    reader, writer = await asyncio.open_unix_connection(sock)
    writer.write(command.encode() + b"\n")
    async with asyncio.timeout(5):
        answer = await reader.read()
    writer.close()
    return answer.decode()


async def queued(sock: str) -> int:
    """Requests queued in L: the backend's and the servers' queues."""
    rows = (await cli(sock, "show stat")).splitlines()
    names = rows[0].lstrip("# ").split(",")
    qcur = names.index("qcur")
    total = 0
    for row in rows[1:]:
        fields = row.split(",")
        if len(fields) > qcur and fields[0] == "L" and fields[1] != "FRONTEND":
            total += int(fields[qcur] or 0)
    return total


async def wait_queued(sock: str, n: int, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (now := await queued(sock)) != n:
        assert asyncio.get_running_loop().time() < deadline, f"{now} queued, not {n}"
        await asyncio.sleep(0.005)


async def order_trace(kind: str) -> list[object]:
    """Ten keep-alive clients, server maxconn 2: each sends a request once the
    previous one is in the origin or in the queue; the origin answers one at a
    time; then each client sends a second request, all at once."""
    held = Held()
    origin = await Origin(held).start()
    trace: list[object] = []
    try:
        async with running(kind, f"    server s 127.0.0.1:{origin.port} maxconn 2\n") as (
            port,
            sock,
        ):
            clients = [await Client.open(port) for _ in range(10)]
            for i, c in enumerate(clients):
                c.send(get(f"/{i}"))
                if i < 2:
                    await origin.wait_requests(i + 1)
                else:
                    await wait_queued(sock, i - 1)
            for i in range(10):
                held.release()
                await origin.wait_requests(min(i + 3, 10))
            answers = await asyncio.gather(*(c.response() for c in clients))
            trace.append([a[0].start[1] if a else None for a in answers])
            for i, c in enumerate(clients):
                c.send(get(f"/again{i}"))
            await wait_queued(sock, 8)
            held.release(10)
            answers = await asyncio.gather(*(c.response() for c in clients))
            trace.append([a[0].start[1] if a else None for a in answers])
            for c in clients:
                c.close()
        trace.append(("origin saw", [s.msg.start[1] for s in origin.seen[:10]]))
        trace.append(("connections", len(origin.conns)))
        trace.append(("most at once", origin.max_active))
    finally:
        held.release(100)
        await origin.close()
    return trace


async def test_maxconn_counts_requests_and_serves_the_queue_in_order() -> None:
    got = {kind: await order_trace(kind) for kind in KINDS}
    assert got["herdsman"] == got["haproxy"]
    assert got["herdsman"][2] == ("origin saw", [f"/{i}" for i in range(10)])
    assert got["herdsman"][4] == ("most at once", 2)


async def refusals_trace(kind: str) -> list[object]:
    """``timeout queue``; ``maxqueue`` (a hash algorithm queues on the server); a
    queued client that leaves."""
    trace: list[object] = []
    held = Held()
    origin = await Origin(held).start()
    # timeout queue outlasts the steps from b's queueing to c's refusal (a stats
    # poll and a connection), which can take more than 300 ms on a loaded
    # machine: c would then find b expired and queue instead of being refused
    body = (
        "    balance source\n    timeout queue 1s\n"
        f"    server s 127.0.0.1:{origin.port} maxconn 1 maxqueue 1\n"
    )
    try:
        async with running(kind, body) as (port, sock):
            a, b, c = [await Client.open(port) for _ in range(3)]
            a.send(get("/a"))
            await origin.wait_requests(1)
            b.send(get("/b"))
            await wait_queued(sock, 1)
            got = await c.request(get("/c"))  # maxqueue reached: 503 at once
            trace.append(("maxqueue", got[1] if got else None))
            got = await b.response()  # timeout queue
            trace.append(("timeout queue", got[1] if got else None))
            d = await Client.open(port)
            d.send(get("/d"))
            await wait_queued(sock, 1)
            d.close()
            await wait_queued(sock, 0)  # leaves the queue at once (timeout queue is 1 s)
            held.release()
            got = await a.response()
            trace.append(("served", got[0].start[1] if got else None))
            trace.append(("origin saw", [s.msg.start[1] for s in origin.seen]))
            for cl in (a, b, c):
                cl.close()
    finally:
        held.release(100)
        await origin.close()
    return trace


async def test_timeout_queue_maxqueue_and_a_client_leaving() -> None:
    got = {kind: await refusals_trace(kind) for kind in KINDS}
    assert got["herdsman"] == got["haproxy"]
    assert got["herdsman"][-1] == ("origin saw", ["/a"])


async def redispatch_trace(kind: str) -> list[object]:
    """Two servers, ``balance source``: both clients hash to the same one, the
    second waits in its queue; that server is put in maintenance: with ``option
    redispatch`` the queued request goes to the other server."""
    trace: list[object] = []
    held = [Held(), Held()]
    origins = [await Origin(h).start() for h in held]
    body = (
        "    balance source\n    option redispatch\n"
        f"    server s0 127.0.0.1:{origins[0].port} maxconn 1\n"
        f"    server s1 127.0.0.1:{origins[1].port} maxconn 1\n"
    )
    try:
        async with running(kind, body) as (port, sock):
            a, b = [await Client.open(port) for _ in range(2)]
            a.send(get("/a"))
            await wait_for_async(lambda: any(o.seen for o in origins))
            first = 0 if origins[0].seen else 1
            b.send(get("/b"))
            await wait_queued(sock, 1)
            await cli(sock, f"disable server L/s{first}")
            await origins[1 - first].wait_requests(1)
            trace.append(("redispatched to the other", origins[1 - first].seen[0].msg.start[1]))
            held[1 - first].release()
            got = await b.response()
            trace.append(("b", got[0].start[1] if got else None))
            held[first].release()
            got = await a.response()
            trace.append(("a", got[0].start[1] if got else None))
            a.close()
            b.close()
    finally:
        for h in held:
            h.release(100)
        for o in origins:
            await o.close()
    return trace


async def test_a_server_going_down_redispatches_its_queue() -> None:
    got = {kind: await redispatch_trace(kind) for kind in KINDS}
    assert got["herdsman"] == got["haproxy"]
    assert got["herdsman"][0] == ("redispatched to the other", "/b")
