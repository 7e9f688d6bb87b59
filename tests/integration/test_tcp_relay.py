"""The TCP relay: byte exactness, back-pressure, half-close, retries.

Timeouts and how streams end are compared with haproxy in test_tcp_timeouts.py.

herdsman runs as a real process (``python -m herdsman -db``) for the transfer
tests, so the client and server threads of the test do not share its loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from proc_helpers import ProxyProcess as Herdsman

from herdsman.testing import free_port, named_servers, running

DEFAULTS = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s
"""

GiB = 1 << 30
CHUNK = 1 << 16


def pattern(seed: int) -> bytes:
    """A 64 KiB block that differs per direction, so swapped data is detected."""
    return hashlib.sha256(str(seed).encode()).digest() * (CHUNK // 32)


@pytest.fixture
def server_socket() -> Iterator[socket.socket]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s
    s.close()


def _send_all(sock: socket.socket, total: int, block: bytes) -> None:
    view = memoryview(block)
    sent = 0
    while sent < total:
        n = min(len(block), total - sent)
        sock.sendall(view[:n])
        sent += n
    sock.shutdown(socket.SHUT_WR)


def _recv_digest(sock: socket.socket, out: dict[str, object], key: str) -> None:
    h = hashlib.sha256()
    n = 0
    while True:
        data = sock.recv(1 << 18)
        if not data:
            break
        h.update(data)
        n += len(data)
    out[key] = (n, h.hexdigest())


def _expected(total: int, block: bytes) -> tuple[int, str]:
    h = hashlib.sha256()
    left = total
    while left:
        n = min(len(block), left)
        h.update(block[:n])
        left -= n
    return total, h.hexdigest()


@pytest.mark.slow
def test_one_gib_both_ways_is_byte_exact(tmp_path: str, server_socket: socket.socket) -> None:
    port = free_port()
    text = f"{DEFAULTS}listen L\n    bind 127.0.0.1:{port}\n    server s 127.0.0.1:{server_socket.getsockname()[1]}\n"
    hm = Herdsman(str(tmp_path), text, port)
    try:
        up, down = pattern(1), pattern(2)
        results: dict[str, object] = {}

        def server() -> None:
            conn, _ = server_socket.accept()
            t = threading.Thread(target=_send_all, args=(conn, GiB, down))
            t.start()
            _recv_digest(conn, results, "server_got")
            t.join()
            conn.close()

        st = threading.Thread(target=server)
        st.start()
        client = socket.create_connection(("127.0.0.1", port))
        ct = threading.Thread(target=_send_all, args=(client, GiB, up))
        ct.start()
        _recv_digest(client, results, "client_got")
        ct.join()
        st.join()
        client.close()
        assert results["server_got"] == _expected(GiB, up)
        assert results["client_got"] == _expected(GiB, down)
    finally:
        hm.stop()


def test_memory_stays_bounded_with_a_slow_reader(
    tmp_path: str, server_socket: socket.socket
) -> None:
    """The server pushes 256 MiB at a client that does not read: herdsman stops
    reading the server instead of buffering (back-pressure), so its memory
    barely moves and the server is blocked early."""
    port = free_port()
    text = f"{DEFAULTS}listen L\n    bind 127.0.0.1:{port}\n    server s 127.0.0.1:{server_socket.getsockname()[1]}\n"
    hm = Herdsman(str(tmp_path), text, port)
    try:
        client = socket.create_connection(("127.0.0.1", port))
        conn, _ = server_socket.accept()
        conn.setblocking(False)
        base = hm.rss_kib()
        block = pattern(3)
        sent = 0
        stalled_since = None
        while sent < 256 << 20:
            try:
                sent += conn.send(block)
                stalled_since = None
            except BlockingIOError:
                # blocked: give the relay a moment to prove it stays blocked
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 0.5:
                    break
                time.sleep(0.01)
        grown = hm.rss_kib() - base
        assert sent < 64 << 20, f"server could push {sent} bytes into a non-reading client"
        assert grown < 16 * 1024, f"herdsman grew by {grown} KiB"
        # and nothing was lost: the client now reads everything that was sent
        client.settimeout(10)
        got = 0
        while got < sent:
            data = client.recv(1 << 20)
            assert data
            got += len(data)
        assert got == sent
        client.close()
        conn.close()
    finally:
        hm.stop()


async def test_half_close_is_forwarded_both_ways() -> None:
    """The client shuts its write side; the server still answers; then the
    server closes and the client sees the end of the stream."""
    received = asyncio.Event()
    got: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.read())  # until the client's FIN
        received.set()
        writer.write(b"answer after your FIN")
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    sport = srv.sockets[0].getsockname()[1]
    port = free_port()
    text = f"{DEFAULTS}listen L\n    bind 127.0.0.1:{port}\n    server s 127.0.0.1:{sport}\n"
    try:
        async with running(text):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"question")
            writer.write_eof()
            await asyncio.wait_for(received.wait(), 5)
            assert got == [b"question"]
            assert await asyncio.wait_for(reader.read(), 5) == b"answer after your FIN"
            writer.close()
    finally:
        srv.close()
        await srv.wait_closed()


async def test_retries_then_failure_counts_attempts() -> None:
    """``retries 3`` on one refusing server: 4 attempts (N+1, spec §2.7), then
    the client connection is closed. Only the last failed attempt counts
    ``econ``, on the server too (``back_handle_st_cer()``; test_tcp_queues.py
    compares the counters with the binary)."""
    dead = free_port()
    port = free_port()
    text = (
        "defaults\n    mode tcp\n    timeout connect 100ms\n    timeout client 5s\n"
        f"    timeout server 5s\n    retries 3\nlisten L\n    bind 127.0.0.1:{port}\n"
        f"    server a 127.0.0.1:{dead}\n"
    )
    async with running(text) as hm:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        srv = hm.server("L/a")
        c = srv.counters
        assert (c.failed_conns, c.retries, c.redispatches) == (1, 3, 0)
        assert hm.backend("L").counters.failed_conns == 1


async def test_redispatch_moves_a_failed_connection_to_another_server() -> None:
    async with named_servers(1) as (good,):
        dead = free_port()
        port = free_port()
        text = (
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
            f"    timeout server 5s\n    retries 3\n    option redispatch\n"
            f"listen L\n    bind 127.0.0.1:{port}\n    balance roundrobin\n"
            f"    server dead 127.0.0.1:{dead}\n    server b 127.0.0.1:{good.port}\n"
        )
        async with running(text) as hm:
            for _ in range(2):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                assert await asyncio.wait_for(reader.read(), 5) == b"a"
                writer.close()
            # each connection first picked "dead" (the rr turn), then was redispatched
            assert hm.server("L/dead").counters.redispatches == 2


def _free_pair(offset: int) -> int:
    """A port p such that p and p+offset are both free on 127.0.0.1 and 127.0.0.2."""
    for _ in range(100):
        p = free_port()
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.2", p + offset))
                b.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
    raise AssertionError("no free port pair")


@pytest.mark.parametrize(
    ("written", "offset"),
    [("127.0.0.2", 0), ("127.0.0.2:0", 0), ("127.0.0.2:+1", 1), ("127.0.0.2:-1", -1)],
)
async def test_mapped_ports_follow_the_destination_port(written: str, offset: int) -> None:
    """No port (or :0) uses the port the client connected to; +N/-N add an offset.
    Two binds in one listen prove the port comes from each connection."""
    p1 = _free_pair(offset)
    p2 = _free_pair(offset)
    servers = []
    try:
        for name, p in (("one", p1), ("two", p2)):

            async def handle(
                r: asyncio.StreamReader, w: asyncio.StreamWriter, name: str = name
            ) -> None:
                w.write(name.encode())
                await w.drain()
                w.close()

            servers.append(await asyncio.start_server(handle, "127.0.0.2", p + offset))
        text = (
            f"{DEFAULTS}listen L\n    bind 127.0.0.1:{p1}\n    bind 127.0.0.1:{p2}\n"
            f"    server s {written}\n"
        )
        async with running(text):
            for port, name in ((p1, b"one"), (p2, b"two")):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                assert await asyncio.wait_for(reader.read(), 5) == name
                writer.close()
    finally:
        for s in servers:
            s.close()
            await s.wait_closed()
