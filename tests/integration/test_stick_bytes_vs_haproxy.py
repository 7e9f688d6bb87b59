"""Stick-table byte counters (``bytes_in_cnt``, ``bytes_out_cnt`` and their
rates) side by side with haproxy 2.6.12: a stream adds its bytes (the log's
``%U`` and ``%B``) to its trackers when it ends (``stream_process_counters()``),
so each request sees the bytes of the streams before it. HAProxy reads the
counters as ``kbytes`` (``bytes_*_cnt >> 10``) and the rates as bytes per
period, which within the first 10 s are the bytes counted so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile

import pytest
from sidebyside import HEADER, SERVERS, Origin, both, get
from tcppeers import cli

from herdsman.testing import Haproxy, free_port, running

pytestmark = pytest.mark.haproxy

STORE = "bytes_in_cnt,bytes_out_cnt,bytes_in_rate(10s),bytes_out_rate(10s)"

HTTP = (
    HEADER
    + "frontend fe\n    bind 127.0.0.1:@fe\n"
    + f"    stick-table type ip size 1k expire 1m store {STORE}\n"
    + "    tcp-request connection track-sc2 src table t3\n"
    + "    http-request track-sc0 src\n"
    + "    http-request set-header x-in %[sc_kbytes_in(0)]\n"
    + "    http-request set-header x-out %[sc0_kbytes_out]\n"
    + "    http-request set-header x-in-rate %[sc_bytes_in_rate(0)]\n"
    + "    http-request set-header x-out-rate %[sc0_bytes_out_rate]\n"
    + "    http-request set-header x-resp %[src_bytes_out_rate(t2)]/%[src_bytes_in_rate(t2)]\n"
    + "    http-request set-header x-sess %[sc2_bytes_in_rate]/%[sc_bytes_out_rate(2)]\n"
    + "    http-request deny if { path /deny }\n"
    + "    http-response track-sc1 src table t2\n"
    + "    default_backend b1\n"
    + "backend b1\n    server s1 127.0.0.1:@s1\n"
    + f"backend t2\n    stick-table type ip size 1k store {STORE}\n"
    + f"backend t3\n    stick-table type ip size 1k store {STORE}\n"
)

POST = get("/p", "content-length: 1500", method="POST") + b"x" * 1500


async def test_http_bytes_as_haproxy() -> None:
    """Keep-alive requests with and without a body, a denied one (its 403 counts),
    a response-side tracker and a session's (``tcp-request connection``)."""
    requests = [get("/"), POST, get("/a"), get("/deny"), get("/b"), POST, get("/c")]
    theirs, mine = await both(HTTP, requests)
    assert mine.responses == theirs.responses
    assert mine.origins == theirs.origins
    first, second, third = theirs.origins["s1"][:3]
    assert b"x-in-rate: 0\r\n" in first  # nothing counted before a stream ends
    assert b"x-in-rate: 0\r\n" not in second
    assert b"x-in: 0\r\n" in second
    assert b"x-in: 1\r\n" in third  # the body's 1500 bytes


RATE_LIMIT = (
    HEADER
    + "frontend fe\n    bind 127.0.0.1:@fe\n"
    + "    stick-table type ip size 1k expire 1m store bytes_out_rate(10s)\n"
    + "    http-request track-sc0 src\n"
    + "    http-request deny deny_status 429 if { sc_bytes_out_rate(0) gt 200 }\n"
    + "    default_backend b1\n"
    + "backend b1\n    server s1 127.0.0.1:@s1\n"
)


async def test_rate_limit_on_bytes_out_as_haproxy() -> None:
    """Deny with 429 once the bytes sent in 10 s pass 200 (a 57-byte response:
    the fifth request is the first denied). On one connection: each request
    comes once the stream before it ended."""
    theirs, mine = await both(RATE_LIMIT, [get("/")] * 6)
    assert mine.responses == theirs.responses
    assert mine.origins == theirs.origins
    assert [r.split(b" ", 2)[1] for r in theirs.responses] == [b"200"] * 4 + [b"429"] * 2


def _tcp(rule: str, sock: str) -> str:
    """Connections tracked by source, rejected on ``rule`` (and a ``PUT`` always)."""
    return (
        f"global\n    stats socket {sock} level admin\n"
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        "frontend fe\n    bind 127.0.0.1:@fe\n"
        "    stick-table type ip size 1k expire 1m store bytes_in_rate(10s),bytes_out_rate(10s)\n"
        "    tcp-request inspect-delay 1s\n"
        "    tcp-request content track-sc0 src\n"
        "    tcp-request content reject if { req.payload(0,3) -m str PUT }\n"
        f"    tcp-request content reject if {{ {rule} }}\n"
        "    default_backend b1\n"
        "backend b1\n    server s1 127.0.0.1:@s1\n"
    )


async def _ended(sock: str) -> None:
    """Wait until the frontend has no stream left (``show sess``): the last one
    counted its bytes (the client may see its FIN before 2.6 frees it)."""
    deadline = asyncio.get_running_loop().time() + 5
    while " fe=fe " in await cli(sock, "show sess"):
        assert asyncio.get_running_loop().time() < deadline, "a stream did not end"
        await asyncio.sleep(0.01)


async def _tcp_exchange(port: int, sock: str, requests: list[bytes]) -> list[bytes]:
    """A connection per request, one after the other, each a request and a FIN,
    read to the end; the next once the stream ended."""
    out = []
    for request in requests:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            writer.write_eof()
            got = await asyncio.wait_for(reader.read(), 5)
        except OSError:  # a rejected connection may be reset
            got = b""
        out.append(got or b"<closed>")
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        await _ended(sock)
    return out


async def _tcp_run(
    which: str, rule: str, origins: dict[str, Origin], requests: list[bytes]
) -> list[bytes]:
    fe = free_port()
    sock = os.path.join(tempfile.mkdtemp(prefix="hm-sb-"), "stats")
    config = _tcp(rule, sock).replace("@fe", str(fe)).replace("@s1", str(origins["s1"].port))
    if which == "haproxy":
        with Haproxy(config) as proxy:
            await asyncio.to_thread(proxy.start, fe)
            return await _tcp_exchange(fe, sock, requests)
    async with running(config):
        return await _tcp_exchange(fe, sock, requests)


PUT = get("/", method="PUT")


@pytest.mark.parametrize(
    ("rule", "first", "served"),
    [
        ("sc0_bytes_in_rate gt 80", [], [0, 1, 2]),
        ("sc_bytes_out_rate(0) gt 140", [], [0, 1, 2]),
        ("sc0_bytes_in_rate gt 40", [PUT], [1]),
    ],
    ids=["bytes-in", "bytes-out", "rejected-counts"],
)
async def test_tcp_bytes_as_haproxy(rule: str, first: list[bytes], served: list[int]) -> None:
    """A 37-byte request, a 50-byte response per connection: a later connection
    is rejected once the counter passes the limit. A rejected connection counts
    the bytes it sent (2.6 counts what the channel received)."""
    requests = first + [get("/")] * 4
    origins = {name: await Origin(name).start() for name in SERVERS}
    try:
        seen = {}
        for which in ("haproxy", "herdsman"):
            origins["s1"].received = []
            responses = await _tcp_run(which, rule, origins, requests)
            seen[which] = (responses, len(origins["s1"].received))
    finally:
        for o in origins.values():
            await o.close()
    assert seen["herdsman"] == seen["haproxy"]
    responses, received = seen["haproxy"]
    assert received == len(served)
    assert [i for i, r in enumerate(responses) if r != b"<closed>"] == served
