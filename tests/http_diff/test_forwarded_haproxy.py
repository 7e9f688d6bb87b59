"""option forwardfor / originalto against haproxy 2.6.12: the header lines the backend gets."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from herdsman.http import head_bytes, parse_request_head
from herdsman.http.forwarded import AddrHeaderOption, forwardfor_line, originalto_line
from herdsman.testing import Haproxy, free_port

from .backend import RecordingBackend
from .outcome import record_stream
from .wire import Message

pytestmark = pytest.mark.haproxy

NET8 = ipaddress.ip_network("127.0.0.0/8")
# (frontend options, backend options, herdsman's view of them, originalto)
SETUPS: list[tuple[str, str, AddrHeaderOption | None, AddrHeaderOption | None, bool]] = [
    ("option forwardfor", "", AddrHeaderOption(), None, False),
    ("", "option forwardfor header X-Client", None, AddrHeaderOption(b"X-Client"), False),
    ("option forwardfor if-none", "", AddrHeaderOption(if_none=True), None, False),
    (
        "option forwardfor if-none",
        "option forwardfor",
        AddrHeaderOption(if_none=True),
        AddrHeaderOption(),
        False,
    ),
    ("option forwardfor except 127.0.0.0/8", "", AddrHeaderOption(except_net=NET8), None, False),
    (
        "option forwardfor header X-Fe",
        "option forwardfor header X-Be",
        AddrHeaderOption(b"X-Fe"),
        AddrHeaderOption(b"X-Be"),
        False,
    ),
    ("option originalto", "", None, None, True),
]
REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nX-Client: 5.6.7.8\r\n\r\n",
]


def predict(
    fe: AddrHeaderOption | None, be: AddrHeaderOption | None, orgto: bool, request: bytes
) -> Message:
    head = parse_request_head(request)
    assert head is not None
    present = frozenset(n.lower() for n, _ in head.headers)
    src = ipaddress.IPv4Address("127.0.0.1")
    add = [line for line in (forwardfor_line(fe, be, src, present),) if line]
    if orgto:
        line = originalto_line(AddrHeaderOption(b"X-Original-To"), None, src)
        assert line is not None
        add.append(line)
    msg = record_stream(head_bytes(head, add=add))[0]
    assert isinstance(msg, Message)
    return msg


async def test_forwardfor_matches_haproxy() -> None:
    backend = await RecordingBackend().start(free_port())
    ports = [free_port() for _ in SETUPS]
    text = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 2s\n    timeout server 2s\n    http-reuse never\n"
    for i, ((fe, be, *_), port) in enumerate(zip(SETUPS, ports, strict=True)):
        text += f"frontend f{i}\n    bind 127.0.0.1:{port}\n    {fe}\n    default_backend b{i}\n"
        text += f"backend b{i}\n    {be}\n    server s 127.0.0.1:{backend.port}\n"
    wrong = []
    try:
        with Haproxy(text) as proxy:
            await asyncio.to_thread(proxy.start, ports[-1])
            for (fe_text, be_text, fe, be, orgto), port in zip(SETUPS, ports, strict=True):
                for request in REQUESTS:
                    got = await _send(port, backend, request)
                    want = predict(fe, be, orgto, request)
                    if got.headers != want.headers:
                        wrong.append(
                            f"{fe_text!r} {be_text!r} {request!r}: {got.headers} != {want.headers}"
                        )
    finally:
        await backend.close()
    assert not wrong, "\n".join(wrong)


async def _send(
    port: int, backend: RecordingBackend, request: bytes, host: str = "127.0.0.1"
) -> Message:
    backend.arm([])
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
    await reader.read()
    writer.close()
    await backend.wait_idle(5)
    got = backend.received[0]
    assert isinstance(got, Message)
    return got


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
async def test_forwardfor_ipv6() -> None:
    backend = await RecordingBackend().start(free_port())
    port = free_port("::1")
    text = (
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 2s\n    timeout server 2s\n    http-reuse never\n"
        f"listen l\n    bind [::1]:{port}\n    option forwardfor\n    server s 127.0.0.1:{backend.port}\n"
    )
    try:
        with Haproxy(text) as proxy:
            await asyncio.to_thread(proxy.start, port)
            got = await _send(port, backend, b"GET / HTTP/1.1\r\n\r\n", "::1")
    finally:
        await backend.close()
    line = forwardfor_line(AddrHeaderOption(), None, ipaddress.IPv6Address("::1"), frozenset())
    assert line is not None
    assert got.header("x-forwarded-for") == [line.split(b": ")[1].decode()]
