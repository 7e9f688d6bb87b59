"""HTTP bodies through herdsman (issue 13's acceptance): 100 MiB byte-exact both ways,
Content-Length and chunked; memory bounded with a slow reader and with a slow
server; ``Expect: 100-continue`` relayed as haproxy 2.6.12 relays it.

herdsman runs as a child process for the transfers (its memory is measured,
and the blocking client and server threads of the test do not share its loop).
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO

import pytest
from httppeers import KINDS, proxy
from proc_helpers import ProxyProcess

from herdsman.testing import free_port

MiB = 1 << 20
BLOCK = 1 << 16

DEFAULTS = """\
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
"""


def pattern(seed: int) -> bytes:
    """A 64 KiB block that differs per direction, so swapped data is detected."""
    return hashlib.sha256(str(seed).encode()).digest() * (BLOCK // 32)


def expected(total: int, block: bytes) -> tuple[int, str]:
    h = hashlib.sha256()
    left = total
    while left:
        n = min(len(block), left)
        h.update(block[:n])
        left -= n
    return total, h.hexdigest()


def blocks(total: int, block: bytes) -> Iterator[memoryview]:
    view = memoryview(block)
    left = total
    while left:
        n = min(len(block), left)
        yield view[:n]
        left -= n


def send_body(sock: socket.socket, total: int, block: bytes, chunked: bool) -> None:
    for piece in blocks(total, block):
        if chunked:
            sock.sendall(b"%x\r\n" % len(piece))
            sock.sendall(piece)
            sock.sendall(b"\r\n")
        else:
            sock.sendall(piece)
    if chunked:
        sock.sendall(b"0\r\n\r\n")


def read_head(f: BinaryIO) -> dict[str, str]:
    """The head of a message: its start line under "", its fields by lower-case name."""
    head = {"": f.readline().decode().strip()}
    while (line := f.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        head[name.strip().lower()] = value.strip()
    return head


def read_body(f: BinaryIO, head: dict[str, str]) -> tuple[int, str]:
    """(length, sha256) of a body framed by Content-Length or chunked."""
    h = hashlib.sha256()
    n = 0
    if "chunked" in head.get("transfer-encoding", ""):
        while size := int(f.readline().split(b";")[0], 16):
            left = size
            while left:
                data = f.read(min(left, MiB))
                assert data, "cut inside a chunk"
                h.update(data)
                left -= len(data)
            n += size
            assert f.readline() == b"\r\n"
        while f.readline() not in (b"\r\n", b""):
            pass  # trailers
        return n, h.hexdigest()
    left = int(head["content-length"])
    while left:
        data = f.read(min(left, MiB))
        assert data, "cut inside the body"
        h.update(data)
        n += len(data)
        left -= len(data)
    return n, h.hexdigest()


def framing(chunked: bool, total: int) -> bytes:
    return b"transfer-encoding: chunked\r\n" if chunked else b"content-length: %d\r\n" % total


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s
    s.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_100_mib_both_ways_is_byte_exact(
    tmp_path: str, listener: socket.socket, chunked: bool
) -> None:
    """A 100 MiB request body, then a 100 MiB response body: what each side reads
    is what the other sent."""
    total = 100 * MiB
    port = free_port()
    text = f"{DEFAULTS}listen L\n    bind 127.0.0.1:{port}\n    server s 127.0.0.1:{listener.getsockname()[1]}\n"
    hm = ProxyProcess(str(tmp_path), text, port)
    up, down = pattern(1), pattern(2)
    results: dict[str, object] = {}

    def server() -> None:
        conn, _ = listener.accept()
        with conn, conn.makefile("rb", buffering=MiB) as f:
            head = read_head(f)
            results["server head"] = head[""]
            results["server got"] = read_body(f, head)
            conn.sendall(b"HTTP/1.1 200 OK\r\n" + framing(chunked, total) + b"\r\n")
            send_body(conn, total, down, chunked)

    try:
        st = threading.Thread(target=server)
        st.start()
        with socket.create_connection(("127.0.0.1", port)) as client:
            f = client.makefile("rb", buffering=MiB)
            client.sendall(b"POST /up HTTP/1.1\r\nhost: t\r\n" + framing(chunked, total) + b"\r\n")
            send_body(client, total, up, chunked)
            head = read_head(f)
            assert head[""] == "HTTP/1.1 200 OK"
            results["client got"] = read_body(f, head)
        st.join(timeout=60)
        assert results["server head"] == "POST /up HTTP/1.1"
        assert results["server got"] == expected(total, up)
        assert results["client got"] == expected(total, down)
    finally:
        hm.stop()


def push_until_blocked(sock: socket.socket, limit: int) -> int:
    """Send until the peer stops taking bytes for 0.5 s (or ``limit``): bytes sent."""
    sock.setblocking(False)
    block = pattern(3)
    sent = 0
    stalled_since = None
    while sent < limit:
        try:
            sent += sock.send(block)
            stalled_since = None
        except BlockingIOError:
            # blocked: give the proxy a moment to prove it stays blocked
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 0.5:
                break
            time.sleep(0.01)
    sock.setblocking(True)
    return sent


def drain(sock: socket.socket, count: int) -> int:
    sock.settimeout(10)
    got = 0
    while got < count:
        data = sock.recv(MiB)
        assert data
        got += len(data)
    return got


def test_memory_stays_bounded_with_a_slow_reader(tmp_path: str, listener: socket.socket) -> None:
    """The server pushes a 256 MiB response at a client that does not read: herdsman
    stops reading the server (back-pressure), so its memory barely moves and the
    server is blocked early; then the client reads it all."""
    total = 256 * MiB
    port = free_port()
    text = f"{DEFAULTS}listen L\n    bind 127.0.0.1:{port}\n    server s 127.0.0.1:{listener.getsockname()[1]}\n"
    hm = ProxyProcess(str(tmp_path), text, port)
    try:
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET /big HTTP/1.1\r\nhost: t\r\n\r\n")
        conn, _ = listener.accept()
        with conn.makefile("rb") as f:
            read_head(f)
        base = hm.rss_kib()
        head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % total
        conn.sendall(head)
        sent = push_until_blocked(conn, total)
        grown = hm.rss_kib() - base
        assert sent < 64 * MiB, f"the server could push {sent} bytes into a client not reading"
        assert grown < 16 * 1024, f"herdsman grew by {grown} KiB"
        assert drain(client, len(head) + sent) == len(head) + sent
        client.close()
        conn.close()
    finally:
        hm.stop()


def test_memory_stays_bounded_with_a_slow_server(tmp_path: str, listener: socket.socket) -> None:
    """The client pushes a 256 MiB request body at a server that does not read:
    herdsman stops reading the client, its memory barely moves; then the server
    reads it all."""
    total = 256 * MiB
    port = free_port()
    text = f"{DEFAULTS}listen L\n    bind 127.0.0.1:{port}\n    server s 127.0.0.1:{listener.getsockname()[1]}\n"
    hm = ProxyProcess(str(tmp_path), text, port)
    try:
        client = socket.create_connection(("127.0.0.1", port))
        head = b"POST /big HTTP/1.1\r\nhost: t\r\ncontent-length: %d\r\n\r\n" % total
        client.sendall(head)
        conn, _ = listener.accept()
        base = hm.rss_kib()
        sent = push_until_blocked(client, total)
        grown = hm.rss_kib() - base
        assert sent < 64 * MiB, f"the client could push {sent} bytes to a server not reading"
        assert grown < 16 * 1024, f"herdsman grew by {grown} KiB"
        assert drain(conn, len(head) + sent) == len(head) + sent
        client.close()
        conn.close()
    finally:
        hm.stop()


# -- Expect: 100-continue ---------------------------------------------------------------


async def expect_trace(kind: str) -> list[object]:
    """A client that waits for the 100 before it sends its body, an origin that
    answers 100 Continue to the Expect it receives: what each side saw."""
    seen: list[object] = []

    async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().lower().split("\r\n")
        seen.append(("origin got head", sorted(line for line in lines if line)))
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        seen.append(("origin got body", await reader.readexactly(5)))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(origin, "127.0.0.1", 0)
    port = free_port()
    text = (
        f"global\n    nbthread 1\n{DEFAULTS}listen L\n    bind 127.0.0.1:{port}\n"
        f"    server s 127.0.0.1:{srv.sockets[0].getsockname()[1]}\n"
    )
    try:
        async with proxy(kind, text, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
            )
            async with asyncio.timeout(5):
                seen.append(("client got", await reader.readuntil(b"\r\n\r\n")))
                writer.write(b"hello")
                seen.append(("client got", await reader.readuntil(b"\r\n\r\n")))
                seen.append(("client got", await reader.readexactly(2)))
            writer.close()
    finally:
        srv.close()
        await srv.wait_closed()
    return seen


@pytest.mark.haproxy
async def test_expect_100_continue_is_relayed_as_haproxy_relays_it() -> None:
    """Without ``option http-buffer-request`` HAProxy forwards the Expect header and
    the server's 100 Continue; the client sends its body after that 100."""
    got = {kind: await expect_trace(kind) for kind in KINDS}
    assert got["herdsman"] == got["haproxy"]
