"""HTTP mode's timeouts, error replies and added headers, herdsman against haproxy
2.6.12 in the same test (issue 13, deliverable 7): the exact bytes each client
receives until the proxy closes, and what the origin received.

Every case has its own ``listen`` section (and origin) in one configuration,
so each proxy starts once and the cases run concurrently:

* ``timeout http-request`` (slowloris): 408 when a byte of the head arrived
  or on a new connection, a silent close when nothing arrived on a
  keep-alive connection or with ``option http-ignore-probes``;
  ``timeout http-keep-alive``: an idle
  keep-alive connection closed; ``timeout client`` while a request body is
  awaited;
* ``timeout server``: 504; ``timeout connect`` and refused servers: 503 after
  the retries; a server closing without a response: 502;
* ``errorfile``, ``errorfiles`` with ``http-errors`` sections, an empty
  errorfile, ``monitor-uri``, ``option forwardfor`` and ``originalto``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from httppeers import KINDS, Origin, Reply, Seen, ok, proxy, read_until_closed, seen_summary

from herdsman.testing import free_port

pytestmark = pytest.mark.haproxy

HEAD = """\
global
    nbthread 1
defaults
    mode http
    timeout connect 200ms
    timeout client 1s
    timeout server 1s
    timeout http-request 500ms
    retries 1
"""

GET = b"GET / HTTP/1.1\r\nhost: t\r\n\r\n"


@dataclass(frozen=True)
class Case:
    name: str
    lines: str  # the listen section's lines (besides bind and server)
    send: bytes  # what the client sends; then it reads until the proxy closes
    origin: str = "ok"  # ok | silent | close | refused | blackhole


CASES = [
    Case("slowloris, a byte arrived", "    timeout http-request 200ms\n", b"GET / HTTP/1.1\r\nho"),
    Case("slowloris, nothing arrived", "    timeout http-request 200ms\n", b""),
    Case(
        "nothing arrived, ignore-probes",
        "    timeout http-request 200ms\n    option http-ignore-probes\n",
        b"",
    ),
    Case(
        "keep-alive, a byte of the next request",
        "    timeout http-keep-alive 200ms\n",
        GET + b"G",
    ),
    Case("keep-alive idle", "    timeout http-keep-alive 200ms\n", GET),
    Case(
        "timeout client in a request body",
        "    timeout client 300ms\n",
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc",
    ),
    Case("timeout server", "    timeout server 300ms\n", GET, "silent"),
    Case(
        "timeout server, request body pending",
        "    timeout server 300ms\n",
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc",
        "silent",
    ),
    Case("refused", "", GET, "refused"),
    Case("refused, no retries", "    retries 0\n", GET, "refused"),
    Case("connect timeout", "", GET, "blackhole"),
    Case("closed without a response", "", GET, "close"),
    Case("errorfile 503", "    errorfile 503 {dir}/503.http\n", GET, "refused"),
    Case("empty errorfile 503", "    errorfile 503 {dir}/empty.http\n", GET, "refused"),
    Case("errorfiles 502", "    errorfiles site\n", GET, "close"),
    Case("errorfiles 504, one status", "    errorfiles site 504\n", GET, "silent"),
    Case("monitor-uri", "    monitor-uri /alive\n", b"GET /alive HTTP/1.1\r\nhost: t\r\n\r\n"),
    Case(
        "monitor-uri, keep-alive",
        "    monitor-uri /alive\n",
        b"GET /alive HTTP/1.1\r\nhost: t\r\n\r\nGET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    ),
    Case(
        "forwardfor and originalto",
        "    option forwardfor\n    option originalto header X-Dst\n",
        b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    ),
    Case(
        "forwardfor if-none with one present",
        "    option forwardfor if-none\n",
        b"GET / HTTP/1.1\r\nhost: t\r\nX-Forwarded-For: 1.2.3.4\r\nconnection: close\r\n\r\n",
    ),
    Case(
        "forwardfor except loopback",
        "    option forwardfor except 127.0.0.0/8 header X-Client\n",
        b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    ),
]

PAGES = {
    "503.http": b"HTTP/1.1 503 Busy\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nbusy\n",
    "empty.http": b"",
    "502.http": b"HTTP/1.0 502 Gateway\r\nCache-Control: no-cache\r\nContent-Length: 4\r\n\r\nbad\n",
    "504.http": b"HTTP/1.1 504 Slow\r\nContent-Length: 5\r\nConnection: close\r\n\r\nslow\n",
}


def http_errors(directory: Path) -> str:
    return (
        "http-errors site\n"
        f"    errorfile 502 {directory}/502.http\n"
        f"    errorfile 504 {directory}/504.http\n"
    )


class Blackhole:
    """A listener whose accept queue is full: further SYNs are dropped, so a
    connect to it times out."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(2):
            s = socket.socket()
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                s.connect(("127.0.0.1", self.port))
            self.fillers.append(s)

    def close(self) -> None:
        for s in self.fillers:
            s.close()
        self.sock.close()


async def run_cases(kind: str, directory: Path) -> list[object]:
    never = asyncio.Event()

    async def silent(seen: Seen) -> Reply:
        await never.wait()
        return ok(seen)

    handlers: dict[str, Callable[[Seen], Reply | Awaitable[Reply]]] = {
        "ok": ok,
        "silent": silent,
        "close": lambda seen: Reply(b"", close=True),
    }
    origins: list[Origin | None] = []
    holes: list[Blackhole] = []
    sections = ""
    ports = [free_port() for _ in CASES]
    for case, port in zip(CASES, ports, strict=True):
        if case.origin == "refused":
            target = free_port()
            origins.append(None)
        elif case.origin == "blackhole":
            hole = Blackhole()
            holes.append(hole)
            target = hole.port
            origins.append(None)
        else:
            origin = await Origin(handlers[case.origin]).start()  # type: ignore[arg-type]
            origins.append(origin)
            target = origin.port
        sections += (
            f"listen {case.name.replace(' ', '_').replace(',', '')}\n"
            f"    bind 127.0.0.1:{port}\n{case.lines.format(dir=directory)}"
            f"    server s 127.0.0.1:{target}\n"
        )
    text = HEAD + sections + http_errors(directory)
    try:
        async with proxy(kind, text, ports[-1]):
            got = await asyncio.gather(
                *(
                    read_until_closed(port, case.send)
                    for case, port in zip(CASES, ports, strict=True)
                )
            )
        return [
            (case.name, answer, seen_summary(origin) if origin else None)
            for case, answer, origin in zip(CASES, got, origins, strict=True)
        ]
    finally:
        never.set()
        for o in origins:
            if o is not None:
                await o.close()
        for hole in holes:
            hole.close()


async def test_timeouts_and_error_replies_as_haproxy(tmp_path: Path) -> None:
    for name, page in PAGES.items():
        (tmp_path / name).write_bytes(page)
    got = {kind: await run_cases(kind, tmp_path) for kind in KINDS}
    differ = [
        (mine, theirs)
        for mine, theirs in zip(got["herdsman"], got["haproxy"], strict=True)
        if mine != theirs
    ]
    assert differ == []
