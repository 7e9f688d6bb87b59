"""``Expect: 100-continue`` on requests herdsman answers itself, side by side with
haproxy 2.6.12: the stats page and ``use-service prometheus-exporter`` get HAProxy's
``100 Continue`` (``http_handle_expect_hdr()`` for applets) and answer at once, the
admin form's POST waits for its body after it; ``http-request return`` and ``deny``
answer at once without it. After the body the connection serves the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from herdsman.testing import Haproxy, free_port, running

pytestmark = pytest.mark.haproxy

CONFIG = """\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    stats uri /stats
    stats admin if {{ path_end /admin }}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    http-request return status 200 content-type text/plain string hi if {{ path /ret }}
    http-request deny if {{ path /deny }}
    default_backend b
backend b
    server s1 127.0.0.1:9
"""

FORM = "content-type: application/x-www-form-urlencoded\r\n"
# (request head, body, whether the proxy waits for the body before its final answer)
CASES: list[tuple[str, bytes, bool]] = [
    ("GET /stats HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 5\r\n", b"abcde", False),
    ("GET /stats HTTP/1.1\r\nexpect: 100-Continue\r\ncontent-length: 0\r\n", b"", False),
    ("POST /stats HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 5\r\n", b"abcde", False),
    (f"POST /stats/admin HTTP/1.1\r\nexpect: 100-continue\r\n{FORM}content-length: 5\r\n",
     b"abcde", True),
    (f"POST /stats/admin HTTP/1.1\r\nexpect: 100-continue\r\n{FORM}"
     "transfer-encoding: chunked\r\n", b"5\r\nabcde\r\n0\r\n\r\n", True),
    ("POST /metrics HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 5\r\n", b"abcde", False),
    ("POST /metrics HTTP/1.1\r\nexpect: foo, 100-continue\r\ncontent-length: 5\r\n",
     b"abcde", False),
    ("POST /ret HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 5\r\n", b"abcde", False),
    ("POST /deny HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 5\r\n", b"abcde", False),
    ("GET /stats HTTP/1.0\r\nexpect: 100-continue\r\ncontent-length: 5\r\n", b"abcde", False),
]  # fmt: skip


@asynccontextmanager
async def proxy(which: str) -> AsyncIterator[int]:
    port = free_port()
    text = CONFIG.format(port=port)
    if which == "haproxy":
        with Haproxy(text) as hap:
            await asyncio.to_thread(hap.start, port)
            yield port
    else:
        async with running(text):
            yield port


async def heads(reader: asyncio.StreamReader, until_final: bool) -> list[bytes]:
    """Response heads up to a final one (a 1xx is followed by more), then that
    response's body is read (by its length, its chunks, or to the close); the
    status lines are returned."""
    got = []
    while True:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        status = head.split(b"\r\n", 1)[0]
        got.append(status)
        if status.split(b" ")[1].startswith(b"1"):
            if until_final:
                continue
            return got
        await _body(reader, head.lower())
        return got


async def _body(reader: asyncio.StreamReader, head: bytes) -> None:
    if b"\r\ncontent-length: " in head:
        n = int(head.split(b"\r\ncontent-length: ", 1)[1].split(b"\r\n", 1)[0])
        await asyncio.wait_for(reader.readexactly(n), 5)
    elif b"\r\ntransfer-encoding: chunked" in head:
        await asyncio.wait_for(reader.readuntil(b"\r\n0\r\n\r\n"), 5)
    else:
        await asyncio.wait_for(reader.read(), 5)


async def observe(port: int, head: str, body: bytes, waits: bool) -> list[object]:
    """Status lines before the body is sent, whether the proxy stays silent while
    it waits, the status lines after the body, and the next request's."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    out: list[object] = []
    try:
        writer.write(f"{head}host: x\r\n\r\n".encode())
        expect_100 = "100-continue" in head.split("expect: ", 1)[-1].split("\r\n")[0].lower()
        first = await heads(reader, not waits)
        out.append(first)
        if waits:
            # the admin form waits for its body: nothing comes meanwhile
            try:
                extra = await asyncio.wait_for(reader.read(1), 0.3)
            except TimeoutError:
                extra = b""
            out.append(extra)
        writer.write(body)
        if waits:
            out.append(await heads(reader, True))
        out.append(expect_100)
        writer.write(b"GET /stats HTTP/1.1\r\nhost: x\r\n\r\n")
        try:
            out.append(await heads(reader, True))
        except (asyncio.IncompleteReadError, ConnectionError):
            out.append("closed")
    finally:
        writer.close()
    return out


@pytest.mark.parametrize(("head", "body", "waits"), CASES, ids=[c[0][:28] for c in CASES])
async def test_expect_100_continue_on_local_answers(head: str, body: bytes, waits: bool) -> None:
    async with proxy("haproxy") as port:
        theirs = await observe(port, head, body, waits)
    async with proxy("herdsman") as port:
        mine = await observe(port, head, body, waits)
    assert mine == theirs


@pytest.mark.parametrize(
    "head",
    [
        "POST /stats HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 5\r\n",
        "GET /stats HTTP/1.1\r\ncontent-length: 5\r\n",
        "GET /stats HTTP/1.1\r\n",
    ],
)
async def test_a_refused_login_is_answered_at_once_and_closes(head: str) -> None:
    """``stats auth`` refusing the request: the 401 comes before the body (no 100
    Continue) with ``connection: close``, and the connection closes, as 2.6.12's
    ``http_reply_and_close()``; a complete request's 401 does not say close but
    the connection closes all the same."""
    config = CONFIG.replace("    stats uri /stats\n", "    stats uri /stats\n    stats auth a:b\n")
    seen = []
    for which in ("haproxy", "herdsman"):
        port = free_port()
        text = config.format(port=port)
        async with contextlib.AsyncExitStack() as stack:
            if which == "haproxy":
                hap = stack.enter_context(Haproxy(text))
                await asyncio.to_thread(hap.start, port)
            else:
                await stack.enter_async_context(running(text))
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"{head}host: x\r\n\r\n".encode())
            got = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            body = await asyncio.wait_for(reader.read(), 5)  # to the close
            writer.close()
            seen.append((got, body))
    assert seen[1] == seen[0]
    assert seen[1][0].startswith(b"HTTP/1.1 401 Unauthorized\r\n")
    assert (b"\r\nconnection: close\r\n" in seen[1][0]) == ("content-length" in head)
