"""Queues in TCP mode against haproxy 2.6.12 in the same test (spec §2.4-§2.7)."""

from __future__ import annotations

import asyncio

import pytest
from tcppeers import KINDS, Peer, Recorder, loopback_host, stack, traffic

from herdsman.testing import free_port, normalise_duration, wait_for_async

pytestmark = pytest.mark.haproxy


def when(t: float, *marks: float) -> str:
    """A duration as the first mark it stays under ("<0.2s"), for traces."""
    for m in marks:
        if t < m:
            return f"<{m}s"
    return f">={marks[-1]}s"


async def release_oldest(rec: Recorder, peers: dict[str, Peer]) -> str:
    """The oldest client the server holds closes; the server sees it go."""
    h = rec.oldest()
    peers[h.name].close()
    await asyncio.wait_for(h.closed.wait(), 5)
    return h.name


async def order_trace(kind: str) -> list[object]:
    host = loopback_host()
    rec = await Recorder(host).start()
    trace: list[object] = []
    try:
        async with stack(kind, f"    server s {host}:{rec.port} maxconn 2\n", host) as st:
            peers: dict[str, Peer] = {}
            for i in range(10):
                name = f"c{i}"
                peers[name] = await st.peer(name)
                if i < 2:
                    await rec.wait_seen(i + 1)
                else:
                    await st.wait_queued(i - 1)
            rows = await st.stat()
            trace.append(("queued", rows["BACKEND"]["qcur"], rows["s"]["qcur"]))
            for i in range(10):
                await release_oldest(rec, peers)
                await rec.wait_seen(min(i + 3, 10))
            trace.append(("seen", rec.seen))
            trace.append(("most", rec.most))
            for p in peers.values():
                p.close()
    finally:
        await rec.close()
    return trace


async def test_order() -> None:
    got = {kind: await order_trace(kind) for kind in KINDS}
    print(got)
    assert got["herdsman"] == got["haproxy"]


async def refusals_trace(kind: str, body: str) -> list[object]:
    host = loopback_host()
    rec = await Recorder(host).start()
    trace: list[object] = []
    try:
        async with stack(kind, body.format(srv=f"{host}:{rec.port}"), host) as st:
            a = await st.peer("a")
            await rec.wait_seen(1)
            b = await st.peer("b")
            await st.wait_queued(1)
            c = await st.peer("c")
            how, data, t = await c.ended()
            trace.append(("c", how, data, when(t, 0.1, 0.35, 0.5, 1.0, 1.5)))
            how, data, t = await b.ended()
            trace.append(("b", how, data, when(t, 0.1, 0.35, 0.5, 1.0, 1.5)))
            rows = await st.stat()
            trace.append({k: (r["econ"], r["qcur"], r["qmax"], r["stot"]) for k, r in rows.items()})
            for p in (a, b, c):
                p.close()
    finally:
        await rec.close()
    return trace


@pytest.mark.parametrize(
    "body",
    [
        "    balance source\n    timeout queue 300ms\n    server s {srv} maxconn 1 maxqueue 1\n",
        "    balance source\n    timeout connect 400ms\n    server s {srv} maxconn 1 maxqueue 1\n",
    ],
)
async def test_refusals(body: str) -> None:
    got = {kind: await refusals_trace(kind, body) for kind in KINDS}
    print(got)
    assert got["herdsman"] == got["haproxy"]


async def leaving_trace(kind: str, how: str, abortonclose: bool) -> list[object]:
    host = loopback_host()
    rec = await Recorder(host).start()
    trace: list[object] = []
    opt = "    option abortonclose\n" if abortonclose else ""
    try:
        async with stack(
            kind, f"{opt}    timeout queue 3s\n    server s {host}:{rec.port} maxconn 1\n", host
        ) as st:
            peers = {"a": await st.peer("a")}
            await rec.wait_seen(1)
            peers["b"] = await st.peer("b", send_name=how != "fin")
            await st.wait_queued(1)
            peers["c"] = await st.peer("c")
            await st.wait_queued(2)
            b = peers["b"]
            t0 = asyncio.get_running_loop().time()
            if how == "rst":
                b.reset()
            else:
                b.fin()
            try:
                await st.wait_queued(1, timeout=1.0)
                trace.append(
                    ("left the queue", when(asyncio.get_running_loop().time() - t0, 0.2, 1.0))
                )
            except AssertionError:
                trace.append(("still queued",))
            if how != "rst" and trace[-1][0] != "still queued":
                end, data, _ = await b.ended()
                trace.append(("b", end, data))
            await release_oldest(rec, peers)
            await rec.wait_seen(2)
            if rec.seen[1] == "b":
                # b's data and FIN reach the server; it closes: c's turn
                trace.append(("b sent", await rec.wait_closed("b")))
                await rec.wait_seen(3)
            trace.append(("next", rec.seen[1:]))
            rows = await st.stat()
            trace.append(
                {k: (r["econ"], r["qcur"], r["stot"], r["cli_abrt"]) for k, r in rows.items()}
            )
            for p in peers.values():
                p.close()
    finally:
        await rec.close()
    return trace


@pytest.mark.parametrize("how", ["fin", "fin+data", "rst"])
@pytest.mark.parametrize("abortonclose", [False, True])
async def test_leaving(how: str, abortonclose: bool) -> None:
    got = {kind: await leaving_trace(kind, how, abortonclose) for kind in KINDS}
    print(how, abortonclose, got)
    assert got["herdsman"] == got["haproxy"]


async def down_trace(kind: str, how: str, opts: str) -> list[object]:
    """Two servers, ``balance source``: every client hashes to the same one
    (the first, s0 or s1: whichever), which holds a; b and c wait in its queue;
    it goes DOWN (its check fails) or into maintenance."""
    host = loopback_host()
    recs = [await Recorder(host).start() for _ in range(2)]
    # the check ports: the first server's is closed to take it down
    probes = [await Recorder(host).start() for _ in range(2)]
    trace: list[object] = []
    check = " check port {} inter 100ms fall 1 rise 1" if how == "check" else ""
    body = (
        f"    balance source\n    option tcplog\n{opts}    timeout queue 2s\n"
        f"    server s0 {host}:{recs[0].port} maxconn 1{check.format(probes[0].port)}\n"
        f"    server s1 {host}:{recs[1].port} maxconn 1{check.format(probes[1].port)}\n"
    )
    try:
        async with stack(kind, body, host) as st:
            peers = {"a": await st.peer("a")}
            await wait_for_async(lambda: any(r.seen for r in recs))
            first = 0 if recs[0].seen else 1
            other = recs[1 - first]
            peers["b"] = await st.peer("b")
            await st.wait_queued(1)
            peers["c"] = await st.peer("c")
            await st.wait_queued(2)
            if how == "check":
                await probes[first].close()
                line = await st.log.wait_line(f"Server L/s{first} is DOWN")
            else:
                await st.cli(f"disable server L/s{first}")
                line = await st.log.wait_line(f"Server L/s{first} is going DOWN")
            trace.append(normalise_duration(line.split("]: ", 1)[-1]).replace(f"s{first}", "S"))
            try:
                await other.wait_seen(1, timeout=0.5)
            except AssertionError:
                pass
            trace.append(("the other got", other.seen))
            rows = await st.stat()
            trace.append(
                {k.replace(f"s{first}", "S"): (r["qcur"], r["scur"]) for k, r in rows.items()}
            )
            for p in peers.values():
                p.close()
            await wait_for_async(lambda: not recs[0].held and not recs[1].held)
    finally:
        for r in recs + probes:
            await r.close()
    return trace


@pytest.mark.parametrize("how", ["check", "maint"])
@pytest.mark.parametrize(
    "opts", ["    option redispatch\n", "", "    option redispatch\n    option persist\n"]
)
async def test_down(how: str, opts: str) -> None:
    got = {kind: await down_trace(kind, how, opts) for kind in KINDS}
    print(how, opts, got)
    assert got["herdsman"] == got["haproxy"]


async def retries_trace(kind: str, lines: str) -> list[object]:
    """s0 refuses connections (nothing listens on its port), s1 accepts."""
    host = loopback_host()
    rec = await Recorder(host).start()
    trace: list[object] = []
    body = (
        f"    option tcplog\n    timeout connect 200ms\n{lines}"
        f"    server s0 {host}:{free_port(host)}\n"
        f"    server s1 {host}:{rec.port}\n"
    )
    try:
        async with stack(kind, body, host) as st:
            for name in ("a", "b"):
                p = await st.peer(name)
                ended = asyncio.ensure_future(p.ended())
                await wait_for_async(
                    lambda name=name, ended=ended: name in rec.seen or ended.done()
                )
                if name in rec.seen:
                    ended.cancel()
                    trace.append((name, "reached s1"))
                else:
                    how, data, t = ended.result()
                    trace.append((name, how, data, when(t, 0.1, 0.3, 0.5, 0.7, 1.0)))
                p.close()
            rows = await st.stat()
            trace.append(
                {
                    k: (r["econ"], r["wretr"], r["wredis"], r["stot"])
                    for k, r in rows.items()
                    if k != "FRONTEND"
                }
            )
            await wait_for_async(lambda: len([x for x in st.log.poll() if traffic(x)]) >= 2)
            trace.append(sorted(t for x in st.log.poll() if (t := traffic(x))))
    finally:
        await rec.close()
    return trace


@pytest.mark.parametrize(
    "lines",
    [
        "    balance roundrobin\n    retries 2\n    option redispatch\n",
        "    balance roundrobin\n    retries 2\n",
        "    balance first\n    retries 3\n    option redispatch\n",
        "    balance first\n    retries 3\n    option redispatch 2\n",
        "    balance first\n    retries 1\n",
        "    balance first\n    retries 2\n    retry-on none\n",
    ],
)
async def test_retries(lines: str) -> None:
    got = {kind: await retries_trace(kind, lines) for kind in KINDS}
    print(lines, got)
    assert got["herdsman"] == got["haproxy"]


def dynamic_limit(beconn: int, minconn: int = 2, maxconn: int = 10, fullconn: int = 20) -> int:
    """Spec §2.4's formula."""
    if beconn >= fullconn:
        return maxconn
    return max(minconn, beconn * maxconn // fullconn)


async def loads_trace(kind: str) -> list[object]:
    host = loopback_host()
    recs = [await Recorder(host).start() for _ in range(2)]
    trace: list[object] = []
    body = (
        "    balance first\n    fullconn 20\n"
        f"    server s1 {host}:{recs[0].port} minconn 2 maxconn 10\n"
        f"    server s2 {host}:{recs[1].port} maxconn 1000\n"
    )
    try:
        async with stack(kind, body, host) as st:
            peers: list[Peer] = []
            for n in range(1, 26):
                peers.append(await st.peer(f"c{n}"))
                await wait_for_async(lambda n=n: len(recs[0].seen) + len(recs[1].seen) >= n)
                if n % 5 == 0:
                    trace.append((n, len(recs[0].held), len(recs[1].held)))
            for p in peers:
                p.close()
    finally:
        for r in recs:
            await r.close()
    return trace


async def test_loads() -> None:
    got = {kind: await loads_trace(kind) for kind in KINDS}
    print(got)
    assert got["herdsman"] == got["haproxy"]
