"""Loopback peers for the TCP queue tests, and the two proxies they compare.

* ``Recorder``: a TCP server that records which client reached it (each client
  sends its name first, ending with a newline), holds every connection open
  until its client closes, and counts how many it held at once.
* ``Peer``: one client connection: it sends its name, then may half-close
  (FIN), reset, or wait for the proxy to close; ``ended()`` says how the proxy
  ended it (a FIN or a reset) and when.
* ``Stack``: a ``listen`` section run by the real haproxy 2.6.12 (``nbthread
  1``) or by herdsman on this loop, on a loopback address of its own (other
  tests running meanwhile use 127.0.0.1), with a stats socket (``show stat``
  read as rows: the tests wait on queue counters, not on time) and a syslog
  receiver for the servers' state-change lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import struct
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from herdsman.testing import Haproxy, Syslog, free_port, listening, running, wait_for_async

DEADLINE = 5.0
KINDS = ["haproxy", "herdsman"]


def loopback_host() -> str:
    """A loopback address of the test's own (all of 127/8 is loopback on Linux)."""
    return f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(2, 255)}"


@dataclass
class Held:
    name: str
    writer: asyncio.StreamWriter
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    data: bytes = b""  # what came after the name


class Recorder:
    """A recording TCP server (see the module docstring)."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.port = 0
        self.seen: list[str] = []  # client names, in the order they arrived
        self.held: list[Held] = []  # connections still open, oldest first
        self.by_name: dict[str, Held] = {}
        self.most = 0  # most connections held at once
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> Recorder:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._serve, sock=sock)
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            name = (await reader.readline()).decode().strip()
        except OSError:
            name = ""
        h = Held(name or "?", writer)
        self.seen.append(h.name)
        self.held.append(h)
        self.by_name[h.name] = h
        self.most = max(self.most, len(self.held))
        try:
            while data := await reader.read(65536):
                h.data += data
        except OSError:
            pass
        finally:
            if h in self.held:
                self.held.remove(h)
            h.closed.set()
            writer.close()

    async def wait_seen(self, n: int, timeout: float = DEADLINE) -> None:
        await wait_for_async(lambda: len(self.seen) >= n, timeout)

    async def wait_closed(self, name: str, timeout: float = DEADLINE) -> bytes:
        """Wait until ``name``'s connection closed; what came after its name."""
        await wait_for_async(lambda: name in self.by_name, timeout)
        h = self.by_name[name]
        await asyncio.wait_for(h.closed.wait(), timeout)
        return h.data

    def oldest(self) -> Held:
        return self.held[0]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for h in self.held:
                h.writer.close()
            await self._server.wait_closed()
            self._server = None


class Peer:
    """A client connection (see the module docstring)."""

    def __init__(self, name: str, sock: socket.socket) -> None:
        self.name = name
        self.sock = sock
        self.started = asyncio.get_running_loop().time()

    @classmethod
    async def open(cls, host: str, port: int, name: str, send_name: bool = True) -> Peer:
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        peer = cls(name, sock)
        if send_name:
            await loop.sock_sendall(sock, f"{name}\n".encode())
        return peer

    async def send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    def fin(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self) -> None:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    async def ended(self, timeout: float = DEADLINE) -> tuple[str, bytes, float]:
        """How the proxy ended the connection ("fin" or "rst"), what it sent
        before, and how long after the connect."""
        loop = asyncio.get_running_loop()
        got = b""
        how = "fin"
        async with asyncio.timeout(timeout):
            while True:
                try:
                    data = await loop.sock_recv(self.sock, 65536)
                except ConnectionResetError:
                    how = "rst"
                    break
                if not data:
                    break
                got += data
        return how, got, loop.time() - self.started

    def close(self) -> None:
        self.sock.close()


async def cli(sock: str, command: str) -> str:
    """One command on the stats socket (herdsman may run on this loop: no blocking)."""
    reader, writer = await asyncio.open_unix_connection(sock)
    writer.write(command.encode() + b"\n")
    async with asyncio.timeout(DEADLINE):
        answer = await reader.read()
    writer.close()
    return answer.decode()


async def stat(sock: str, px: str = "L") -> dict[str, dict[str, str]]:
    """``show stat`` of proxy ``px``: its rows by server name (BACKEND, FRONTEND too)."""
    rows = (await cli(sock, "show stat")).splitlines()
    names = rows[0].lstrip("# ").split(",")
    out: dict[str, dict[str, str]] = {}
    for row in rows[1:]:
        values = row.split(",")
        if len(values) >= 2 and values[0] == px:
            out[values[1]] = dict(zip(names, values, strict=False))
    return out


async def queued(sock: str) -> int:
    """Streams queued in L: the backend's queue and its servers'."""
    rows = await stat(sock)
    return sum(int(r["qcur"] or 0) for name, r in rows.items() if name != "FRONTEND")


async def wait_queued(sock: str, n: int, timeout: float = DEADLINE) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (now := await queued(sock)) != n:
        assert asyncio.get_running_loop().time() < deadline, f"{now} queued, not {n}"
        await asyncio.sleep(0.005)


class Stack:
    """The proxy under test and what the test reads of it."""

    def __init__(self, host: str, port: int, sock: str, log: Syslog) -> None:
        self.host = host
        self.port = port
        self.sock = sock
        self.log = log

    async def peer(self, name: str, send_name: bool = True) -> Peer:
        return await Peer.open(self.host, self.port, name, send_name)

    async def cli(self, command: str) -> str:
        return await cli(self.sock, command)

    async def stat(self) -> dict[str, dict[str, str]]:
        return await stat(self.sock)

    async def wait_queued(self, n: int, timeout: float = DEADLINE) -> None:
        await wait_queued(self.sock, n, timeout)


@contextlib.asynccontextmanager
async def stack(
    kind: str, body: str, host: str, mode: str = "tcp", defaults: str = ""
) -> AsyncIterator[Stack]:
    """``listen L`` on ``host`` with ``body`` (its lines after ``bind``), run by
    ``kind``, behind a stats socket and a syslog receiver (``log global``)."""
    sock = os.path.join(tempfile.mkdtemp(prefix="hm-tq-"), "stats")
    log = Syslog()
    port = free_port(host)
    text = (
        f"global\n    nbthread 1\n    stats socket {sock} level admin\n"
        f"    log 127.0.0.1:{log.port} local0\n"
        f"defaults\n    mode {mode}\n    log global\n    timeout connect 1s\n"
        f"    timeout client 5s\n    timeout server 5s\n{defaults}"
        f"listen L\n    bind {host}:{port}\n" + body
    )
    try:
        if kind == "haproxy":
            hp = Haproxy(text)
            await asyncio.to_thread(hp.start, port)
            try:
                yield Stack(host, port, sock, log)
            finally:
                hp.stop()
        else:
            async with running(text):
                await wait_for_async(lambda: listening(port))
                yield Stack(host, port, sock, log)
    finally:
        log.close()
        with contextlib.suppress(OSError):
            os.unlink(sock)
            os.rmdir(os.path.dirname(sock))


def traffic(line: str) -> tuple[str, ...] | None:
    """A traffic log line (``option tcplog``/``httplog``) as what must match:
    server, which timers were reached (``+``) or not (``-1``), bytes or
    status, the termination state, the retries and the queue positions;
    None for another line."""
    text = line.split("]: ", 1)[-1]
    words = text.split(" ")
    if len(words) < 9 or not words[1].startswith("["):
        return None
    timers = "/".join(t if t.startswith("-") else "+" for t in words[4].split("/"))
    if len(words) > 12 and words[12].startswith('"'):  # httplog
        status, term, conns, queues = words[5], words[9], words[10], words[11]
        rest = " ".join(words[12:])
    else:
        status, term, conns, queues = words[5], words[6], words[7], words[8]
        rest = ""
    return (words[3], timers, status, term, "retries " + conns.split("/")[-1], queues, rest)
