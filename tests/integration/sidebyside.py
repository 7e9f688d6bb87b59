"""Run one configuration through haproxy 2.6.12 and through herdsman, send the
same requests to both and record what the client and the servers see.

Servers are loopback origins named ``s1``, ``s2``, ``s3`` (ports ``@s1``...
in the configuration text, ``@fe`` is the frontend's port). An origin answers
every request with ``x-srv: <name>`` and what the request asks for in
``x-reply-status`` (default 200) and ``x-reply-hdr`` (a header line to add,
``name: value``; repeatable), then ``content-length`` and the body ``ok``.
Names are written in lower case by the client and the origins, so the
byte comparison is not about header-name case (herdsman keeps names as
received, docs/http.md §4.1).

A response is recorded as its head and body bytes; a connection closed
without a response as ``b"<closed>"``. What an origin received is its
request heads, in order, with ``x-reply-*`` lines dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from herdsman.testing import Haproxy, free_port, running

SERVERS = ("s1", "s2", "s3")


@dataclass
class Origin:
    name: str
    port: int = 0
    received: list[bytes] = field(default_factory=list)
    server: asyncio.AbstractServer | None = None

    async def start(self) -> Origin:
        self.port = free_port()
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head[:-4].split(b"\r\n")
                status, extra, length, kept = b"200", [], 0, [lines[0]]
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    lname, value = name.lower(), value.strip()
                    if lname == b"x-reply-status":
                        status = value
                    elif lname == b"x-reply-hdr":
                        extra.append(value)
                    else:
                        kept.append(lname + b": " + value)
                        if lname == b"content-length":
                            length = int(value)
                if length:
                    await reader.readexactly(length)
                self.received.append(b"\r\n".join(kept))
                out = b"HTTP/1.1 " + status + b" X\r\nx-srv: " + self.name.encode() + b"\r\n"
                out += b"".join(line + b"\r\n" for line in extra)
                body = b"" if status in (b"204", b"304") else b"ok"
                out += b"content-length: %d\r\n\r\n" % len(body) + body
                writer.write(out)
                await writer.drain()
        finally:
            writer.close()


async def read_response(reader: asyncio.StreamReader, head_request: bool) -> bytes:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    except (asyncio.IncompleteReadError, ConnectionError):
        return b"<closed>"
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length and not head_request else b""
    return head + body


async def exchange(port: int, requests: Sequence[bytes], one_connection: bool) -> list[bytes]:
    out: list[bytes] = []
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    for request in requests:
        if conn is None:
            try:
                conn = await asyncio.open_connection("127.0.0.1", port)
            except ConnectionError:
                out.append(b"<closed>")
                continue
        reader, writer = conn
        try:
            writer.write(request)
            await writer.drain()
        except ConnectionError:
            got = b"<closed>"  # a proxy that refuses the connection resets it
        else:
            got = await read_response(reader, request.startswith(b"HEAD "))
        out.append(got)
        if got == b"<closed>" or not one_connection or b"\r\nconnection: close" in got.lower():
            writer.close()
            conn = None
    if conn is not None:
        conn[1].close()
    return out


@dataclass
class Seen:
    """What one proxy did: the responses, and each origin's requests."""

    responses: list[bytes]
    origins: dict[str, list[bytes]]


async def through(
    which: str,
    text: str,
    requests: Sequence[bytes],
    one_connection: bool = True,
    origins: dict[str, Origin] | None = None,
    fe: int = 0,
) -> Seen:
    """One proxy; ``origins`` and the frontend port ``fe`` may be shared by runs
    (values computed from server addresses then agree)."""
    own = origins is None
    if origins is None:
        origins = {name: await Origin(name).start() for name in SERVERS}
    for o in origins.values():
        o.received = []
    fe = fe or free_port()
    config = text.replace("@fe", str(fe))
    for name, o in origins.items():
        config = config.replace("@" + name, str(o.port))
    try:
        if which == "haproxy":
            with Haproxy(config) as proxy:
                await asyncio.to_thread(proxy.start, fe)
                responses = await exchange(fe, requests, one_connection)
        else:
            async with running(config):
                responses = await exchange(fe, requests, one_connection)
    finally:
        if own:
            for o in origins.values():
                await o.close()
    return Seen(responses, {name: list(o.received) for name, o in origins.items()})


async def both(
    text: str, requests: Sequence[bytes], one_connection: bool = True
) -> tuple[Seen, Seen]:
    origins = {name: await Origin(name).start() for name in SERVERS}
    fe = free_port()
    try:
        theirs = await through("haproxy", text, requests, one_connection, origins, fe)
        mine = await through("herdsman", text, requests, one_connection, origins, fe)
    finally:
        for o in origins.values():
            await o.close()
    return theirs, mine


HEADER = """\
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
"""


def frontend(*lines: str, backends: str = "") -> str:
    """A frontend ``fe`` with ``lines``, default backend ``b1`` (s1, s2) and ``backends``."""
    body = "".join(f"    {line}\n" for line in lines)
    return (
        HEADER
        + "frontend fe\n    bind 127.0.0.1:@fe\n"
        + body
        + "    default_backend b1\n"
        + "backend b1\n    server s1 127.0.0.1:@s1\n    server s2 127.0.0.1:@s2\n"
        + "backend b2\n    server s3 127.0.0.1:@s3\n"
        + backends
    )


def listen(*lines: str, servers: str = "") -> str:
    """A ``listen`` section ``L`` with ``lines`` then servers s1 and s2 (or ``servers``)."""
    body = "".join(f"    {line}\n" for line in lines)
    srv = servers or "    server s1 127.0.0.1:@s1\n    server s2 127.0.0.1:@s2\n"
    return HEADER + "listen L\n    bind 127.0.0.1:@fe\n" + body + srv


def get(path: str = "/", *headers: str, method: str = "GET") -> bytes:
    lines = "".join(f"{h}\r\n" for h in headers)
    return f"{method} {path} HTTP/1.1\r\nhost: example.com\r\n{lines}\r\n".encode()
