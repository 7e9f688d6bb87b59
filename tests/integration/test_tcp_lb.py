"""Traffic distribution through a TCP `listen`, as HAProxy 2.6.12 distributes it.

Each case starts named loopback servers, runs herdsman on a configuration and
records which server every sequential connection reached. The expected
sequences are those the real 2.6.12 binary produced (observed-2.6.12-server-lb.md
§3); the `haproxy` variants run the same configuration through the binary in the
same test and compare.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from herdsman.testing import Haproxy, NamedServer, free_port, named_servers, running

NAMES = "abcdefgh"

DEFAULTS = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
"""


def config(
    port: int, balance: str, servers: list[NamedServer], extra: list[str], lines: str = ""
) -> str:
    body = "".join(
        f"    server {s.name} 127.0.0.1:{s.port} {x}\n" for s, x in zip(servers, extra, strict=True)
    )
    return f"{DEFAULTS}listen L\n    bind 127.0.0.1:{port}\n    balance {balance}\n{lines}{body}"


async def one(port: int, source: str | None = None) -> str:
    sock = socket.socket()
    sock.setblocking(False)
    if source:
        sock.bind((source, 0))
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return data.decode()


async def sequence(port: int, n: int, sources: list[str] | None = None) -> str:
    out = []
    for i in range(n):
        out.append(await one(port, sources[i] if sources else None))
    return " ".join(out)


RR_CASES = [
    ("roundrobin", [1, 2, 3], "c b c a c b c b c a c b"),
    ("roundrobin", [3, 2, 1], "a b a c a b"),
    ("roundrobin", [2, 1], "a a b a a b"),
    ("roundrobin", [5, 3, 2], "a b a c a b a b a c"),
    ("roundrobin", [4, 3, 2, 1], "a b a c b a d a b c"),
    ("roundrobin", [10, 1], "a a a a a a a a a a b"),
    ("static-rr", [1, 2, 3], "a c b c b c a c b c b c"),
    ("static-rr", [3, 2, 1], "a a b a b c"),
    ("static-rr", [4, 3, 2, 1], "a b a b c a b a c d"),
    ("static-rr", [4, 6], "a b a b b"),
    ("leastconn", [1, 2, 3], "a b c a b c"),  # sequential closed connections: declaration order
    ("first", [1, 100], "a a a a"),
]


@pytest.mark.parametrize(("balance", "weights", "expected"), RR_CASES)
async def test_sequence_matches_haproxy(balance: str, weights: list[int], expected: str) -> None:
    async with named_servers(len(weights)) as srvs:
        port = free_port()
        text = config(port, balance, srvs, [f"weight {w}" for w in weights])
        async with running(text):
            assert await sequence(port, len(expected.split())) == expected


@pytest.mark.haproxy
@pytest.mark.parametrize(("balance", "weights", "expected"), RR_CASES[:4] + RR_CASES[6:8])
async def test_same_sequence_as_the_binary(balance: str, weights: list[int], expected: str) -> None:
    async with named_servers(len(weights)) as srvs:
        port = free_port()
        text = config(port, balance, srvs, [f"weight {w}" for w in weights])
        n = len(expected.split())
        async with running(text):
            ours = await sequence(port, n)
        hport = free_port()
        with Haproxy(text.replace(f":{port}\n", f":{hport}\n")).start(hport):
            theirs = await sequence(hport, n)
        assert ours == theirs == expected


async def test_first_orders_by_id() -> None:
    async with named_servers(3) as srvs:
        port = free_port()
        text = config(port, "first", srvs, ["id 3", "id 1", "id 2"])
        async with running(text):
            assert await sequence(port, 4) == "b b b b"


async def test_leastconn_with_held_connections_follows_the_weights() -> None:
    async with named_servers(3, hold=True) as srvs:
        port = free_port()
        text = config(port, "leastconn", srvs, ["weight 1", "weight 2", "weight 3"])
        expected = "a b c c b c c b c a b c"
        writers = []
        got = []
        async with running(text):
            for _ in expected.split():
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                got.append((await reader.readexactly(1)).decode())
                writers.append(writer)
            for w in writers:
                w.close()
            assert " ".join(got) == expected


SOURCES = [f"127.0.0.{i}" for i in range(1, 21)] + [
    "127.1.2.3",
    "127.200.100.50",
    "127.255.255.254",
    "127.10.20.30",
]


@pytest.mark.parametrize(
    ("hash_type", "weights", "expected"),
    [
        ("map-based", [1, 1, 1], "c a b c a b c a b c a b c a b c a b c a b a a b"),
        ("map-based", [1, 2, 3], "c a c b c b c a c b c b c a c b c b c a c a a b"),
        ("consistent", [1, 1, 1], "b a c a b a c a a c b c c c a a a c a a c a c b"),
        ("consistent", [1, 2, 3], "c a b a c c c a c b c c c c c a a c a c b a c b"),
    ],
)
async def test_source_is_stable_per_client_address(
    hash_type: str, weights: list[int], expected: str
) -> None:
    async with named_servers(3) as srvs:
        port = free_port()
        text = config(
            port, "source", srvs, [f"weight {w}" for w in weights], f"    hash-type {hash_type}\n"
        )
        async with running(text):
            first = await sequence(port, len(SOURCES), SOURCES)
            again = await sequence(port, len(SOURCES), SOURCES)
        assert first == again == expected


async def test_backup_servers_only_when_no_active_is_usable() -> None:
    async with named_servers(4) as srvs:
        port = free_port()
        text = config(port, "roundrobin", srvs, ["", "", "backup", "backup"])
        async with running(text) as hm:
            assert await sequence(port, 4) == "a b a b"
            from herdsman.core import transitions
            from herdsman.core.states import SrvAdmin

            for name in ("a", "b"):
                transitions.set_admin_flag(hm.server(f"L/{name}"), SrvAdmin.FMAINT)
            # without allbackups only the first usable backup gets traffic
            assert await sequence(port, 3) == "c c c"
            transitions.clr_admin_flag(hm.server("L/a"), SrvAdmin.FMAINT)
            assert await sequence(port, 2) == "a a"


async def test_allbackups_balances_over_every_backup() -> None:
    async with named_servers(3) as srvs:
        port = free_port()
        text = config(port, "roundrobin", srvs, ["", "backup", "backup"], "    option allbackups\n")
        async with running(text) as hm:
            from herdsman.core import transitions
            from herdsman.core.states import SrvAdmin

            transitions.set_admin_flag(hm.server("L/a"), SrvAdmin.FMAINT)
            assert await sequence(port, 4) == "b c b c"


async def test_weight_zero_server_gets_no_traffic() -> None:
    async with named_servers(3) as srvs:
        port = free_port()
        text = config(port, "roundrobin", srvs, ["weight 0", "", ""])
        async with running(text):
            assert await sequence(port, 4) == "b c b c"


async def test_no_usable_server_closes_the_client_connection() -> None:
    async with named_servers(1) as srvs:
        port = free_port()
        text = config(port, "roundrobin", srvs, ["disabled"])
        async with running(text):
            assert await one(port) == ""


@pytest.mark.haproxy
@pytest.mark.parametrize("hash_type", ["map-based", "consistent"])
async def test_source_same_as_the_binary(hash_type: str) -> None:
    async with named_servers(3) as srvs:
        port = free_port()
        text = config(
            port,
            "source",
            srvs,
            ["weight 1", "weight 2", "weight 3"],
            f"    hash-type {hash_type}\n",
        )
        async with running(text):
            ours = await sequence(port, len(SOURCES), SOURCES)
        hport = free_port()
        with Haproxy(text.replace(f":{port}\n", f":{hport}\n")).start(hport):
            theirs = await sequence(hport, len(SOURCES), SOURCES)
    assert ours == theirs


async def held_sequence(port: int, n: int) -> list[tuple[str, asyncio.StreamWriter]]:
    out = []
    for _ in range(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out.append(((await reader.readexactly(1)).decode(), writer))
    return out


@pytest.mark.haproxy
async def test_leastconn_held_same_as_the_binary() -> None:
    weights = [1, 2, 3]
    async with named_servers(3, hold=True) as srvs:
        port = free_port()
        text = config(port, "leastconn", srvs, [f"weight {w}" for w in weights])
        async with running(text):
            held = await held_sequence(port, 12)
            ours = " ".join(name for name, _ in held)
            for _, w in held:
                w.close()
        for s in srvs:
            await s.close()
            await s.start()
        hport = free_port()
        with Haproxy(text.replace(f":{port}\n", f":{hport}\n")).start(hport):
            held = await held_sequence(hport, 12)
            theirs = " ".join(name for name, _ in held)
            for _, w in held:
                w.close()
    assert ours == theirs == "a b c c b c c b c a b c"


def rdp_request(user: bytes) -> bytes:
    """An RDP connection request (TPKT + X.224 CR) carrying ``Cookie: mstshash=<user>``."""
    cookie = b"Cookie: mstshash=" + user + b"\r\n"
    x224 = bytes([6 + len(cookie), 0xE0, 0, 0, 0, 0, 0]) + cookie
    return b"\x03\x00" + (4 + len(x224)).to_bytes(2, "big") + x224


async def rdp_sequence(port: int, users: list[bytes]) -> str:
    """The server each connection reached, its RDP request sent once the server
    answered (sent earlier, it races with the choice in 2.6: see below)."""
    out = []
    for user in users:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out.append((await asyncio.wait_for(reader.readexactly(1), 5)).decode())
        writer.write(rdp_request(user))
        writer.close()
    return " ".join(out)


@pytest.mark.haproxy
async def test_rdp_cookie_is_round_robin_as_the_binary() -> None:
    """Without tcp-request inspect-delay and content rules 2.6 looks for the
    cookie only in what its first read of the stream found: a cookie sent after
    the server was chosen never counts, and neither proxy waits for one.
    (One sent with the handshake is hashed by 2.6 when it wins the race with
    that read, observed under load; herdsman always chooses first.)"""
    users = [b"u1", b"u1", b"u2", b"u1", b"u3", b"u1"]
    async with named_servers(3) as srvs:
        port = free_port()
        text = config(port, "rdp-cookie", srvs, ["", "", ""])
        async with running(text):
            ours = await rdp_sequence(port, users)
        hport = free_port()
        with Haproxy(text.replace(f":{port}\n", f":{hport}\n")) as proxy:
            await asyncio.to_thread(proxy.start, hport)
            theirs = await rdp_sequence(hport, users)
    assert ours == theirs == "a b c a b c"
