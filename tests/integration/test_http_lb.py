"""Balancing on HTTP requests (``balance uri | url_param | hdr()``) as HAProxy 2.6.12 does.

One configuration holds a ``listen`` per case, all over the same named HTTP
servers, each answering its name. The same requests go through herdsman and
through the binary, one connection each (the whole request in one write, so a
POST's body comes with its head): the server each request reaches must be the
same, in order, which also compares the round robin that a missing input falls
back to. The expected sequences are what 2.6.12 answered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from herdsman.http import DEFAULT_LIMITS, ChunkedBody, Framing, parse_request_head
from herdsman.testing import Haproxy, free_port, running

NAMES = "abcde"


class NamedHttpServer:
    """An HTTP/1.1 server on loopback answering every request with its one-letter name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = 0
        self.server: asyncio.AbstractServer | None = None
        self.handlers: dict[asyncio.StreamReader, asyncio.Task[None] | None] = {}

    async def start(self) -> NamedHttpServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reply = b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n" + self.name.encode()
        self.handlers[reader] = asyncio.current_task()  # type: ignore[assignment]
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                head = parse_request_head(await reader.readuntil(b"\r\n\r\n"))
                assert head is not None
                if head.framing is Framing.LENGTH:
                    await reader.readexactly(head.content_length)
                elif head.framing is Framing.CHUNKED:
                    body = ChunkedBody(True, DEFAULT_LIMITS)
                    rest = b""
                    while not body.done:
                        rest += await reader.read(65536)
                        rest = rest[body.feed(rest) :]
                writer.write(reply)
                await writer.drain()
        del self.handlers[reader]
        writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            tasks = [t for t in self.handlers.values() if t is not None]
            for reader in self.handlers:
                reader.feed_eof()  # the handler ends as if the proxy had closed
            await asyncio.gather(*tasks)
            await self.server.wait_closed()


@contextlib.asynccontextmanager
async def http_servers(count: int) -> AsyncIterator[list[NamedHttpServer]]:
    servers: list[NamedHttpServer] = []
    try:
        for name in NAMES[:count]:
            servers.append(await NamedHttpServer(name).start())
        yield servers
    finally:
        for srv in servers:
            await srv.close()


async def ask(port: int, request: bytes) -> str:
    """The name of the server that answered ``request`` (sent in one write)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200 "), head
        return (await asyncio.wait_for(reader.readexactly(1), 5)).decode()
    finally:
        writer.close()


def get(target: str, headers: str = "Host: example.com\r\n") -> bytes:
    return f"GET {target} HTTP/1.1\r\n{headers}\r\n".encode()


def post(target: str, body: bytes, chunked: bool = False) -> bytes:
    if chunked:
        return (
            f"POST {target} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
            + body
        )
    return (
        f"POST {target} HTTP/1.1\r\nHost: h\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    )


URIS = [
    get(t)
    for t in (
        "/",
        "/a",
        "/a/b/c",
        "/a/b?x=1",
        "/x/y/z?q=1/2",
        "/img/logo.png",
        "/img/icons/x.svg?v=2",
        "/img/icons/y.svg?v=2",
        "/api/v1/users/42",
        "/api/v1/users/43",
        "/api/v2/orders?id=7&sort=asc",
        "/a/b?x=2",
        "http://example.com/a/b?c",
        "http://example.com:80/p/q/r",
        "http://example.com",
        "/static/css/site.css",
        "/static/js/app.js?v=12345",
        "/",
    )
] + [b"OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n"]

PARAMS = [
    get("/?id=1"),
    get("/?id=2"),
    get("/p?x=1&id=abc"),
    get("/?id="),  # an empty value is hashed
    get("/"),  # missing: round robin
    get("/?ID=1"),  # the name is case sensitive: missing
    get("/?xid=5&id=6"),
    get("/cart?id=1"),
    get("/?id=a%20b&id=c"),
    get("/?a&id=9"),
    get("/x?idx=1"),  # missing
    post("/", b"id=xyz"),
    post("/form", b"user=bob&id=42&x=1"),
    post("/", b"id=xy z"),  # 2.6 checks only the first byte of the value
    post("/", b"id= x"),  # a blank first: empty
    post("/", b'id="x'),  # neither blank nor token first: missing
    post("/?id=7", b"id=8"),  # the query wins
    post("/", b"3\r\nid=\r\n4\r\n42&x\r\n0\r\n\r\n", chunked=True),  # one data block
    post("/", b"name=x"),  # missing: round robin
    get("/?id=2"),
]

HOSTS = [
    get("/", f"Host: {h}\r\nUser-Agent: t\r\n")
    for h in (
        "www.example.com",
        "api.example.com",
        "example.com:8080",
        "localhost",
        "haproxy.1wt.eu",
        "a.b.c.d",
        "www.haproxy.org",
        "cdn.haproxy.org",
        ".com",
        "a..b",
        "x.y.z.",
        "one.two, three.four",
        "shop.example.net",
        "10.0.0.1",
    )
] + [
    b"GET / HTTP/1.0\r\n\r\n",  # no Host: round robin
    get("/", "User-Agent: t\r\nHost: \r\n"),  # empty: round robin
    get("http://www.example.org:80/", "Host: www.example.org\r\nUser-Agent: t\r\n"),
]

USERS = [
    get("/", headers)
    for headers in (
        "Host: h\r\nX-User: alice\r\n",
        "Host: h\r\nX-User: bob\r\n",
        "Host: h\r\nx-user: carol, dave\r\n",
        'Host: h\r\nX-User: "e,f", g\r\n',
        "Host: h\r\n",  # missing: round robin
        "Host: h\r\nX-User:\r\nX-User: bob\r\n",  # the first one is empty: round robin
        "Host: h\r\nX-User: bob\r\nX-User: alice\r\n",
        "Host: h\r\nX-User:   alice  \r\n",
        "Host: h\r\nX-User: zed\r\n",
        "Host: h\r\n",
        "Host: h\r\nX-User: alice\r\n",
    )
]

XFF = [
    get("/", "Host: h\r\n"),  # hashes the X-Forwarded-For the proxy adds: 127.0.0.1
    get("/", "Host: h\r\nX-Forwarded-For: 192.0.2.1\r\n"),  # the client's comes first
    get("/", "Host: h\r\nX-Forwarded-For: 192.0.2.2, 10.0.0.1\r\n"),
    get("/", "Host: h\r\nX-Forwarded-For: 198.51.100.7\r\n"),
    get("/", "Host: h\r\n"),
]

# 2.6's analysers see Connection without close/keep-alive and without the value of
# the connection mode (its H1 output writes that one)
CONNECTIONS = [
    get("/", f"Host: h\r\n{line}")
    for line in (
        "Connection: keep-alive\r\n",  # emptied: round robin
        "Connection: foo, keep-alive\r\n",
        "Connection: bar\r\n",
        "",
        "Connection: close, te\r\n",
        "Connection: foo\r\n",
    )
]

# HTTP mode hands get_server_rch() an HTX buffer, where no RDP header can be found
RDP = [get("/", "Host: h\r\nCookie: mstshash=u1\r\n")] * 3 + [get("/", "Host: h\r\n")]

# (listen lines, servers' extra words, requests, what 2.6.12 answered)
CASES: dict[str, tuple[str, list[str], list[bytes], str]] = {
    "uri": ("balance uri", [""] * 4, URIS, "d c b b c b c d b c a b a b d c c d c"),
    "uri-len": ("balance uri len 6", [""] * 4, URIS, "d c b b c b c c c c c b b b b c c d c"),
    "uri-depth": ("balance uri depth 2", [""] * 4, URIS, "d c b b d b d d d d a b d d d b d d c"),
    "uri-whole": ("balance uri whole", [""] * 4, URIS, "d c b c d b c d b c a d a b d c d d c"),
    "uri-path-only": (
        "balance uri path-only",
        [""] * 4,
        URIS,
        "d c b b c b c d b c a b b c a c c d a",
    ),
    "uri-all-options": (
        "balance uri path-only whole depth 1 len 12",
        [""] * 4,
        URIS,
        "d c c c b a a a d d d c c b a b b d a",
    ),
    "uri-weights": (
        "balance uri",
        ["weight 1", "weight 2", "weight 3", "weight 4"],
        URIS,
        "d a d b c d d c d c d b c b b c d d d",
    ),
    "uri-consistent": (
        "balance uri\n    hash-type consistent",
        [""] * 4,
        URIS,
        "b d a b a b d a a c d b c d b a c b c",
    ),
    "uri-consistent-weights": (
        "balance uri\n    hash-type consistent",
        ["weight 10", "weight 20", "weight 30", "weight 40"],
        URIS,
        "b d a b d b d c a d c b d d d c d b c",
    ),
    "uri-djb2-avalanche": (
        "balance uri\n    hash-type map-based djb2 avalanche",
        [""] * 4,
        URIS,
        "d b c c c a b b d c a c c d d a d d a",
    ),
    "uri-wt6": (
        "balance uri\n    hash-type consistent wt6",
        [""] * 4,
        URIS,
        "a c d d b d a d a a d d c d d a c a c",
    ),
    "uri-crc32": (
        "balance uri\n    hash-type map-based crc32",
        [""] * 4,
        URIS,
        "a a a c c c b b d b b c d a a a d a d",
    ),
    "uri-server-down": (
        "balance uri",
        ["", "", "disabled", ""],
        URIS,
        "d a d d b a a a d a d d a a b d d d a",
    ),
    "url-param": (
        "balance url_param id",
        [""] * 4,
        PARAMS,
        "b c c a a b c b a b c b c d a d d c a c",
    ),
    "url-param-check-post": (
        "balance url_param id check_post\n    hash-type consistent",
        [""] * 4,
        PARAMS,
        "c d a c c d a c b a d a c d c c d c d d",
    ),
    "hdr-host": ("balance hdr(host)", [""] * 4, HOSTS, "c b b d b a a c d b d a b c a b b"),
    "hdr-host-domain": (
        "balance hdr(Host) use_domain_only",
        [""] * 4,
        HOSTS,
        "c c c d c d b b d b c c c a a b c",
    ),
    "hdr-host-domain-consistent": (
        "balance hdr(host) use_domain_only\n    hash-type consistent sdbm avalanche",
        [""] * 4,
        HOSTS,
        "a a a b c c d d d d c c a c c d a",
    ),
    "hdr-user": ("balance hdr(x-user)", [""] * 4, USERS, "a b b b a b b a b c a"),
    "hdr-user-consistent": (
        "balance hdr(x-user)\n    hash-type consistent",
        [""] * 4,
        USERS,
        "d a b d c d a d a d d",
    ),
    "hdr-connection": (
        "balance hdr(connection)\n    option http-server-close",
        [""] * 4,
        CONNECTIONS,
        "a c d b b c",
    ),
    "rdp-cookie": ("balance rdp-cookie", [""] * 4, RDP, "a b c d"),
    "hdr-xff": ("balance hdr(x-forwarded-for)\n    option forwardfor", [""] * 4, XFF, "b d a c b"),
}


def configuration(ports: dict[str, int], servers: list[NamedHttpServer]) -> str:
    text = (
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n"
    )
    for name, (lines, extra, _, _) in CASES.items():
        text += f"listen {name}\n    bind 127.0.0.1:{ports[name]}\n    {lines}\n"
        for srv, words in zip(servers, extra, strict=False):
            text += f"    server {srv.name} 127.0.0.1:{srv.port} {words}\n"
    return text


async def picks(ports: dict[str, int]) -> dict[str, str]:
    out = {}
    for name, (_, _, requests, _) in CASES.items():
        out[name] = " ".join([await ask(ports[name], r) for r in requests])
    return out


async def test_herdsman_picks_as_haproxy_did() -> None:
    async with http_servers(4) as servers:
        ports = {name: free_port() for name in CASES}
        async with running(configuration(ports, servers)):
            ours = await picks(ports)
    assert ours == {name: case[3] for name, case in CASES.items()}


@pytest.mark.haproxy
async def test_same_servers_as_the_binary() -> None:
    async with http_servers(4) as servers:
        ports = {name: free_port() for name in CASES}
        async with running(configuration(ports, servers)):
            ours = await picks(ports)
        ports = {name: free_port() for name in CASES}
        with Haproxy(configuration(ports, servers)) as proxy:
            await asyncio.to_thread(proxy.start, ports[list(CASES)[-1]])
            theirs = await picks(ports)
    assert ours == theirs
    for name, seq in theirs.items():
        assert len(set(seq.split())) > 1, f"{name}: one server for every request proves little"
