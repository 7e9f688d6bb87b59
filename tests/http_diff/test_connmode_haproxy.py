"""The connection-mode matrix, run through haproxy 2.6.12 and predicted by ``connmode``.

For each frontend mode x backend mode x ``http-pretend-keepalive``, request
version and response version: the Connection value the server gets, the one
the client gets, whether the client connection stays open (a second request
on it is answered) and whether the server connection is reused (the second
request comes on the same backend connection).
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from herdsman.http import Framing, Method, RequestParser, ResponseParser
from herdsman.http.connmode import (
    Mode,
    client_wants_close,
    request_connection,
    response_connection,
    server_keeps_alive,
    server_wants_close,
)
from herdsman.testing import Haproxy, free_port

from .backend import RecordingBackend, Reply
from .wire import Message

pytestmark = pytest.mark.haproxy

OPTIONS = {Mode.KAL: "", Mode.SCL: "option http-server-close", Mode.CLO: "option httpclose"}
REQUESTS = [
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
]
RESPONSES = [
    b"HTTP/1.1 200 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
]
COMBOS = list(itertools.product(Mode, Mode, (False, True)))


def predict(
    fe: Mode, be: Mode, pretend: bool, request: bytes, response: bytes
) -> tuple[list[str], list[str], bool, bool | None]:
    req = RequestParser().parse(request)
    resp = ResponseParser().parse(response, Method.GET)
    assert req is not None
    assert resp is not None
    server_close = server_wants_close(req.flags, fe, be)
    to_server = request_connection(req.flags, server_close, pretend)
    conn, close = response_connection(
        resp.status,
        req.meth,
        req.flags,
        resp.flags,
        Framing.NONE,
        client_wants_close(req.flags),
        fe,
    )
    reused = server_keeps_alive(server_close, resp.flags, resp.framing) if not close else None
    return (
        [to_server.decode()] if to_server else [],
        [conn.decode()] if conn else [],
        not close,
        reused,
    )


async def observe(
    port: int, backend: RecordingBackend, request: bytes, response: bytes
) -> tuple[list[str], list[str], bool, bool | None]:
    backend.arm([Reply(response), Reply(response)])
    accepted = backend.accepted
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    client = [
        line.split(b":", 1)[1].strip().decode()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"connection:")
    ]
    try:
        writer.write(request)
        second = await reader.read(65536)
    except ConnectionError:
        second = b""
    writer.close()
    await backend.wait_idle(5)
    first = backend.received[0]
    assert isinstance(first, Message)
    reused = backend.accepted - accepted == 1 if second else None  # unobservable if closed
    return first.header("connection"), client, bool(second), reused


async def test_connection_modes_match_haproxy() -> None:
    backend = await RecordingBackend().start(free_port())
    ports = [free_port() for _ in COMBOS]
    text = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 2s\n"
    text += "    timeout server 2s\n    timeout http-keep-alive 1s\n    http-reuse never\n"
    for (fe, be, pretend), port in zip(COMBOS, ports, strict=True):
        name = f"{fe.name}_{be.name}_{int(pretend)}"
        text += f"frontend f_{name}\n    bind 127.0.0.1:{port}\n    {OPTIONS[fe]}\n    default_backend b_{name}\n"
        text += f"backend b_{name}\n    {OPTIONS[be]}\n"
        text += "    option http-pretend-keepalive\n" if pretend else ""
        text += f"    server s 127.0.0.1:{backend.port}\n"
    proxy = Haproxy(text)
    try:
        await asyncio.to_thread(proxy.start, ports[-1])
        wrong = []
        for (fe, be, pretend), port in zip(COMBOS, ports, strict=True):
            for request, response in itertools.product(REQUESTS, RESPONSES):
                seen = await observe(port, backend, request, response)
                expected = predict(fe, be, pretend, request, response)
                if seen != expected:
                    wrong.append(
                        f"{fe.name} {be.name} pretend={pretend} {request!r} {response[:8]!r}: haproxy {seen} predicted {expected}"
                    )
        assert not wrong, "\n".join(wrong)
    finally:
        proxy.stop()
        await backend.close()
