"""``force-persist``: a stream whose persistence a ``force-persist`` rule forced
(``SF_FORCE_PRST``) is never redispatched, even with ``option redispatch``
(2.6.12's ``stream_choose_redispatch()``). herdsman against haproxy 2.6.12 in
the same test: a cookie names a server that refuses connections."""

from __future__ import annotations

import pytest
from httppeers import Client, Origin, get, proxy

from herdsman.testing import free_port

pytestmark = pytest.mark.haproxy


async def status(kind: str, force: bool) -> tuple[str, int]:
    origin = await Origin().start()
    port = free_port()
    text = (
        "global\n    nbthread 1\n"
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        f"listen L\n    bind 127.0.0.1:{port}\n    balance roundrobin\n"
        "    cookie SRV\n    option redispatch\n    retries 2\n"
        + ("    force-persist if TRUE\n" if force else "")
        + f"    server bad 127.0.0.1:{free_port()} cookie bad\n"
        f"    server good 127.0.0.1:{origin.port} cookie good\n"
    )
    try:
        async with proxy(kind, text, port):
            client = await Client.open(port)
            got = await client.request(get("/", "cookie: SRV=bad\r\n"))
            client.close()
            assert got is not None
            return got[0].start[1], len(origin.seen)
    finally:
        await origin.close()


@pytest.mark.parametrize("force", [False, True], ids=["redispatched", "force-persist"])
async def test_force_persist_is_never_redispatched(force: bool) -> None:
    mine = await status("herdsman", force)
    theirs = await status("haproxy", force)
    assert mine == theirs
    assert mine == (("503", 0) if force else ("200", 1))
