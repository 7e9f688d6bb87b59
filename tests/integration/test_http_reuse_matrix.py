"""Connection modes × http-reuse, herdsman against haproxy 2.6.12 in the same test
(spec §3.1, §3.4-§3.6; issue 13's acceptance).

For each combination a scripted sequence of requests goes through each proxy,
on one client connection and on two interleaved ones, to a recording origin:
which server connection each request used (opened or reused), the
``Connection`` header the origin and the client saw, whether the client
connection stayed open, and at the end which server connections the proxy
closed. Both traces must be equal.
"""

from __future__ import annotations

import asyncio

import pytest
from httppeers import KINDS, Client, Origin, Reply, Seen, get, ok, proxy

from herdsman.testing import free_port, wait_for_async

pytestmark = pytest.mark.haproxy

MODES = ["http-keep-alive", "http-server-close", "httpclose", "pretend-keepalive"]
REUSES = ["never", "safe", "aggressive", "always"]


def section(name: str, port: int, origin: int, mode: str, reuse: str, extra: str = "") -> str:
    opt = "    option http-server-close\n    option http-pretend-keepalive\n"
    if mode != "pretend-keepalive":
        opt = f"    option {mode}\n"
    return (
        f"listen {name}\n    bind 127.0.0.1:{port}\n{opt}    http-reuse {reuse}\n"
        f"    server s 127.0.0.1:{origin}{extra}\n"
    )


HEAD = (
    "global\n    nbthread 1\n"  # herdsman is one thread: haproxy's pools are per thread
    "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
    "    timeout server 5s\n"
)


# (client, extra header lines, version): a request on one of the client connections
CLOSE = "connection: close\r\n"
KA = "connection: keep-alive\r\n"
V11, V10 = "HTTP/1.1", "HTTP/1.0"
ONE = [(0, "", V11), (0, "", V11), (0, CLOSE, V11)]
TWO = [(0, "", V11), (1, "", V11), (0, "", V11), (1, "", V11), (0, CLOSE, V11), (1, "", V11)]
OLD = [(0, KA, V10), (1, KA, V10), (0, KA, V10), (1, "", V10), (0, "upgrade: h2c\r\n" + KA, V10)]


async def scenario(port: int, origin: Origin, script: list) -> list:
    """Run ``script`` through the proxy listening on ``port``; the trace compared."""
    trace: list[object] = []
    clients: dict[int, Client] = {}
    for step, (c, extra, version) in enumerate(script):
        if c not in clients:
            clients[c] = await Client.open(port)
        got = await clients[c].request(get(f"/{step}", extra, version))
        if got is None:
            trace.append((step, c, "client closed"))
            continue
        msg, _ = got
        seen = origin.seen[-1]
        trace.append(
            (
                step,
                c,
                msg.start[1],
                seen.conn,
                seen.msg.header("connection"),
                msg.header("connection"),
            )
        )
    for cl in clients.values():
        cl.close()
    # every client left: what the proxy then keeps or closes (at once; the wait
    # only bounds a failure)
    await settle(origin)
    trace.append(("closed by proxy", origin.closed("proxy")))
    trace.append(("closed by origin", origin.closed("origin")))
    trace.append(("open", origin.open_conns()))
    return trace


async def settle(origin: Origin) -> None:
    """Until the origin's connection states stop changing for 100 ms."""
    last = None
    while True:
        state = [c.closed_by for c in origin.conns]
        if state == last:
            return
        last = state
        await asyncio.sleep(0.1)


COMBOS = [(m, r) for m in MODES for r in REUSES]


async def test_connection_modes_by_reuse_modes() -> None:
    """Every mode × reuse combination, one client connection and two interleaved
    ones, each in its own listen section; herdsman's traces are haproxy's."""
    cases = [(m, r, script, "") for m, r in COMBOS for script in (ONE, TWO, OLD)]
    # pools that keep nothing: pool-max-conn 0, pool-purge-delay 0 (spec §3.6)
    cases += [("http-keep-alive", r, TWO, " pool-max-conn 0") for r in REUSES]
    cases += [("http-keep-alive", r, TWO, " pool-purge-delay 0") for r in REUSES]
    origins = [await Origin().start() for _ in cases]
    try:
        got = {}
        for kind in KINDS:
            ports = [free_port() for _ in cases]
            text = HEAD + "".join(
                section(f"L{i}", ports[i], origins[i].port, m, r, extra)
                for i, (m, r, _, extra) in enumerate(cases)
            )
            for o in origins:
                o.reset()
            async with proxy(kind, text, ports[-1]):
                got[kind] = await asyncio.gather(
                    *(scenario(ports[i], origins[i], c[2]) for i, c in enumerate(cases))
                )
        for case, mine, theirs in zip(cases, got["herdsman"], got["haproxy"], strict=True):
            assert (case[:2], case[3], mine) == (case[:2], case[3], theirs)
    finally:
        for o in origins:
            await o.close()


def bursts(times: list[float], gap: float) -> list[int]:
    """Sizes of the groups of close times separated by more than ``gap``."""
    sizes: list[int] = []
    last = None
    for t in sorted(times):
        if last is None or t - last > gap:
            sizes.append(0)
        sizes[-1] += 1
        last = t
    return sizes


async def purge_trace(kind: str, n: int, extra: str, reuse: str = "always") -> list[int]:
    """``n`` requests in flight at once on ``n`` client connections, then nothing:
    the sizes of the bursts in which the proxy's purges close the idle connections."""
    gate = asyncio.Event()

    async def held(seen: Seen) -> Reply:
        if origin.active >= n:
            gate.set()
        await gate.wait()
        return ok(seen)

    origin = await Origin(held).start()
    port = free_port()
    text = HEAD + section("L", port, origin.port, "http-keep-alive", reuse, extra)
    try:
        async with proxy(kind, text, port):
            clients = [await Client.open(port) for _ in range(n)]
            got = await asyncio.gather(*(c.request(get()) for c in clients))
            assert all(g is not None for g in got)
            for c in clients:
                c.close()
            await wait_for_async(lambda: len(origin.closed("proxy")) == n, timeout=5)
            return bursts([c.closed_at for c in origin.conns], 0.1)
    finally:
        await origin.close()


async def test_idle_connections_are_purged_as_haproxy_purges() -> None:
    """Four connections used at once, then idle: every ``pool-purge-delay``
    (300 ms) the pool closes half its excess over what was needed, rounded up,
    plus one (spec §3.6, ``srv_cleanup_idle_conns()``); herdsman closes them in
    the same bursts as haproxy."""
    extra = " pool-purge-delay 300ms"
    mine = await purge_trace("herdsman", 4, extra)
    theirs = await purge_trace("haproxy", 4, extra)
    assert mine == theirs
