"""HAProxy's own replies, byte for byte against haproxy 2.6.12.

Every default message as the stream sends it (``http-request deny
deny_status <code>``), for an HTTP/1.1 keep-alive client and for an HTTP/1.0
one; a custom errorfile the same way; and ``haproxy -c``'s verdicts on
errorfiles against ``errors.load_reply()``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest

from herdsman.http import Flag, Framing, Method, errorfile, errors
from herdsman.http.connmode import client_wants_close, response_connection
from herdsman.testing import Haproxy, free_port

pytestmark = pytest.mark.haproxy

DENIABLE = [s for s in errors.STATUSES if s != 200]
CLIENTS = {
    b"GET /%d HTTP/1.1\r\n\r\n": Flag.VER_11,
    b"GET /%d HTTP/1.0\r\n\r\n": Flag.NONE,
    b"GET /%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n": Flag.CONN_KEEPALIVE,
}


def expected(reply: errors.Reply, req_flags: Flag) -> bytes:
    conn, _ = response_connection(
        reply.status,
        Method.GET,
        req_flags,
        reply.flags,
        Framing.LENGTH,
        client_wants_close(req_flags),
        reply_close=bool(reply.flags & Flag.CONN_CLOSE),
        reply_keepalive=bool(reply.flags & Flag.CONN_KEEPALIVE),
    )
    return errors.reply_bytes(reply, conn)


async def fetch(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    body = await reader.readexactly(length)
    writer.close()
    return head + body


async def test_default_replies(tmp_path: str) -> None:
    port = free_port()
    custom = os.path.join(tmp_path, "503.http")
    with open(custom, "wb") as f:
        f.write(
            b"HTTP/1.0 503 Custom\r\nContent-Type: text/plain\r\nX-A:  b  \r\nContent-Length: 3\r\n\r\nno\n"
        )
    rules = "".join(f"    http-request deny deny_status {s} if {{ path /{s} }}\n" for s in DENIABLE)
    text = (
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 2s\n    timeout server 2s\n"
        f"listen l\n    bind 127.0.0.1:{port}\n{rules}"
        f"    http-request deny deny_status 503 if {{ path /custom }}\n"
        f"    errorfile 503 {custom}\n"
    )
    wrong = []
    with Haproxy(text) as proxy:
        await asyncio.to_thread(proxy.start, port)
        for status in DENIABLE:
            for request, flags in CLIENTS.items():
                got = await fetch(port, request % status)
                want = expected(errors.DEFAULT_REPLIES[status], flags)
                if status == 503:
                    want = got  # the errorfile replaces it, checked below
                if got != want:
                    wrong.append(f"{status} {request!r}:\n  haproxy {got!r}\n  herdsman {want!r}")
        with open(custom, "rb") as f:
            reply = errors.load_reply(f.read())
        assert reply is not None
        for request, flags in CLIENTS.items():
            got = await fetch(port, request.replace(b"%d", b"custom"))
            assert got == expected(reply, flags)
    assert not wrong, "\n".join(wrong)


ERRORFILES = [
    b"HTTP/1.1 503 X\r\nContent-Length: 5\r\n\r\nabc",
    b"HTTP/1.1 503 X\r\nContent-Length: 0\r\n\r\nabc",
    b"HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 100 X\r\n\r\n",
    b"HTTP/1.1 102 X\r\n\r\n",
    b"HTTP/1.10 503 X\r\n\r\n",
    b"HTTP/1.1 503 X\r\nA B: c\r\n\r\n",
    b"HTTP/1.1 503 X\r\nA: c\r\n",
    b"garbage",
    b"\r\n\r\nHTTP/1.1 503 X\r\nA@: c\r\n\r\n",
    b"HTTP/1.1 503 X\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.0 200 OK\r\n\r\nanything",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"",
]


@pytest.mark.parametrize("data", ERRORFILES)
def test_errorfile_checks(tmp_path: str, data: bytes) -> None:
    path = os.path.join(tmp_path, "e.http")
    with open(path, "wb") as f:
        f.write(data)
    cfg = os.path.join(tmp_path, "h.cfg")
    with open(cfg, "w") as f:
        f.write(
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n"
            f"    timeout server 1s\nlisten l\n    bind 127.0.0.1:8\n    errorfile 503 {path}\n"
        )
    out = subprocess.run(["haproxy", "-c", "-f", cfg], capture_output=True, text=True)
    try:
        errors.load_reply(data)
        message = None
    except errorfile.ErrorfileError as exc:
        message = str(exc)
    if message is None:
        assert out.returncode == 0, out.stderr
    else:
        assert out.returncode != 0
        assert f"errorfile : '{path}': {message}" in out.stderr
