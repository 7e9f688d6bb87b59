"""PROXY protocol on listeners (``bind ... accept-proxy``, ``tcp-request connection
expect-proxy layer4``) in herdsman and in haproxy 2.6.12, same configuration, same
clients: what the client gets back (a reply, a close or a reset), what the server
receives, the log lines (``%ci:%cp %fi:%fp``, and the error lines of
``session_kill_embryonic()``).
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from herdsman.defs.proxyproto import PP2_SIGNATURE
from herdsman.testing import Haproxy, Syslog, free_port, running, wait_for_async

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tlscerts

pytestmark = pytest.mark.haproxy

REPLY = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
V2_INET = bytes((9, 9, 9, 9, 8, 8, 8, 8)) + struct.pack("!HH", 1234, 80)


def _v2_padded(total: int) -> bytes:
    """A v2 PROXY header of ``total`` bytes: TCP over IPv4, then a NOOP TLV."""
    pad = total - 16 - 12 - 3
    return (
        PP2_SIGNATURE
        + bytes((0x21, 0x11))
        + struct.pack("!H", total - 16)
        + V2_INET
        + b"\x04"
        + struct.pack("!H", pad)
        + bytes(pad)
    )


CASES: list[tuple[str, bytes]] = [
    ("v1", b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n"),
    ("v1 three groups", b"PROXY TCP4 1.2.3 5.6.7.8 1111 2222\r\n"),
    ("v1 out of range", b"PROXY TCP4 300.2.3.4 5.6.7.8 70000 2222\r\n"),
    ("v1 tcp6", b"PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 1111 2222 \r\n"),
    ("v1 unknown", b"PROXY UNKNOWN\r\n"),
    ("v1 unknown words", b"PROXY UNKNOWN foo bar\r\n"),
    ("v1 udp", b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"),
    ("v1 bad port", b"PROXY TCP4 1.2.3.4 5.6.7.8 1x 2\r\n"),
    ("not a header", b"GET / HTTP/1.0\r\n\r\n"),
    ("short", b"hello\n"),
    ("v2 local", PP2_SIGNATURE + bytes((0x20, 0x00, 0, 0))),
    ("v2 unspec", PP2_SIGNATURE + bytes((0x21, 0x00, 0, 0))),
    ("v2 inet", PP2_SIGNATURE + bytes((0x21, 0x11, 0, 12)) + V2_INET),
    ("v2 noop tlv", PP2_SIGNATURE + bytes((0x21, 0x11, 0, 17)) + V2_INET + b"\x04\x00\x02\x00\x00"),
    ("v2 cut tlv", PP2_SIGNATURE + bytes((0x21, 0x11, 0, 16)) + V2_INET + b"\x04\x00\x02\x00"),
    (
        "v2 inet6",
        PP2_SIGNATURE
        + bytes((0x21, 0x21, 0, 36))
        + bytes(15)
        + b"\x01"
        + bytes(10)
        + b"\xff\xff\x07\x07\x07\x07"
        + struct.pack("!HH", 4321, 443),
    ),
    ("v2 udp", PP2_SIGNATURE + bytes((0x21, 0x12, 0, 12)) + V2_INET),
    ("v2 command 2", PP2_SIGNATURE + bytes((0x22, 0x11, 0, 12)) + V2_INET),
    ("v2 version 1", PP2_SIGNATURE + bytes((0x11, 0x11, 0, 12)) + V2_INET),
    # a NETNS TLV naming no namespace of the configuration: ignored
    ("v2 netns tlv", PP2_SIGNATURE + bytes((0x21, 0x11, 0, 21)) + V2_INET + b"\x30\x00\x06nosuch"),
    # 2.6 peeks into a buffer of tune.bufsize (16384): a longer header is truncated
    ("v2 within bufsize", _v2_padded(16000)),
    ("v2 beyond bufsize", _v2_padded(16400)),
]

STAMP = re.compile(r"^127\.0\.0\.1:\d+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] ")
DATE = re.compile(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]")


@asynccontextmanager
async def server() -> AsyncIterator[tuple[int, list[bytes]]]:
    """Answers REPLY to what each connection sends first (up to the payload of the
    tests, "hi" or a request head, which may come after a PROXY header in another
    segment); keeps what it read."""
    port = free_port()
    got: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = b""
        while not data.endswith((b"hi", b"\r\n\r\n")):
            chunk = await reader.read(65536)
            if not chunk:
                break
            data += chunk
        got.append(data)
        writer.write(REPLY)
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield port, got
    finally:
        srv.close()


async def exchange(port: int, chunks: list[bytes], wait: float = 0.0) -> str:
    """Send the chunks (``wait`` apart); what comes back: the bytes, or "reset"."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i, chunk in enumerate(chunks):
            if i and wait:
                await asyncio.sleep(wait)  # the header must arrive in two reads
            if writer.transport.is_closing():
                break  # reset meanwhile: the read says so
            writer.write(chunk)
            await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
        return data.decode("latin-1")
    except ConnectionResetError:
        return "reset"
    finally:
        writer.close()


async def lines_of(log: Syslog, n: int) -> list[str]:
    await wait_for_async(lambda: len(log.poll()) >= n, timeout=10)
    return list(log.lines)


def normal(lines: list[str], ports: tuple[int, ...]) -> list[str]:
    """Log lines without what differs between two runs: dates, ephemeral ports."""
    out = []
    for line in lines:
        line = DATE.sub("[D]", line)
        for port in ports:
            line = line.replace(f":{port} ", ":P ").replace(f":{port}", ":P")
        out.append(re.sub(r"127\.0\.0\.1:\d{4,5}\b", "127.0.0.1:C", line))
    return out


@pytest.mark.parametrize("mode", ["tcp", "http"])
async def test_headers_accepted_and_refused_as_haproxy(mode: str) -> None:
    """Every header of CASES, then a request: the reply or the close, what the
    server got (``X-Forwarded-For`` in HTTP mode), the log line; a rule on ``src``
    sees the header's address (in TCP mode a session rule: a content rule races
    with 2.6's first read of the payload, a reset or a close)."""
    deny = (
        "    http-request deny if { src 9.9.9.9 }\n    option forwardfor\n"
        if mode == "http"
        else "    tcp-request session reject if { src 9.9.9.9 }\n"
    )

    def text(port: int, srv: int, log: int) -> str:
        return (
            f"defaults\n    mode {mode}\n    timeout connect 2s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten L\n    log 127.0.0.1:{log} format raw local0\n"
            '    log-format "%ci:%cp %fi:%fp %ts"\n'
            f"    bind 127.0.0.1:{port} accept-proxy\n{deny}"
            f"    server s1 127.0.0.1:{srv}\n"
        )

    payload = b"GET / HTTP/1.0\r\n\r\n" if mode == "http" else b"hi"
    results: list[list[tuple[str, str, str, list[str]]]] = []
    ports = []
    for run in ("haproxy", "herdsman"):
        log = Syslog()
        port = free_port()
        ports.append(port)
        out: list[tuple[str, str, str, list[str]]] = []
        async with server() as (srv, got):
            cfg = text(port, srv, log.port)
            hap = Haproxy(cfg)
            try:
                if run == "haproxy":
                    hap.start(port)
                async with running(cfg) if run == "herdsman" else _nothing():
                    for name, header in CASES:
                        before = len(log.lines)
                        answer = await exchange(port, [header + payload])
                        lines = await lines_of(log, before + 1)
                        seen = got.pop().decode("latin-1") if got else ""
                        out.append((name, answer, seen, lines[before:]))
            finally:
                hap.stop()
                log.close()
        results.append(out)
    theirs, mine = results
    for (name, a1, s1, l1), (_, a2, s2, l2) in zip(theirs, mine, strict=True):
        assert (name, a2, s2, normal(l2, tuple(ports))) == (name, a1, s1, normal(l1, tuple(ports)))
    by_name = {name: (answer, lines) for name, answer, _, lines in mine}
    assert normal(by_name["v1"][1], tuple(ports)) == ["1.2.3.4:1111 5.6.7.8:2222 --"]
    assert by_name["v2 unspec"][0] == "reset"


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


@pytest.mark.parametrize("dontlognull", [False, True])
async def test_truncated_silent_and_closed_clients_are_logged_as_haproxy(dontlognull: bool) -> None:
    """A header in two reads is truncated, a silent client times out after
    ``timeout client``, a client that closes first is "closed": the same lines
    as 2.6.12 (``dontlognull`` drops the closed and the timed-out ones)."""
    null = "    option dontlognull\n" if dontlognull else ""

    def text(port: int, log: int) -> str:
        return (
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 300\n"
            f"    timeout server 5s\nlisten L\n    log 127.0.0.1:{log} format raw local0\n"
            f"    option tcplog\n{null}    bind 127.0.0.1:{port} accept-proxy\n"
            "    server s1 127.0.0.1:9\n"
        )

    outcomes = []
    texts = []
    for run in ("haproxy", "herdsman"):
        log, port = Syslog(), free_port()
        hap = Haproxy(text(port, log.port))
        try:
            if run == "haproxy":
                hap.start(port)
            async with running(text(port, log.port)) if run == "herdsman" else _nothing():
                split = await exchange(port, [b"PROXY TCP4 1.2.3.4 ", b"5.6.7.8 1 2\r\nhi"], 0.2)
                silent = await exchange(port, [])
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                outcomes.append((split, silent))
                lines = await lines_of(log, 1 if dontlognull else 3)
                texts.append(sorted(STAMP.sub("", line) for line in lines))
        finally:
            hap.stop()
            log.close()
    assert outcomes[0] == outcomes[1] == ("reset", "")
    expected = ["L/1: Truncated PROXY protocol header received"]
    if not dontlognull:
        expected += [
            "L/1: Connection closed while waiting for PROXY protocol header",
            "L/1: Timeout while waiting for PROXY protocol header",
        ]
    assert texts[0] == texts[1] == sorted(expected)


async def test_expect_proxy_rule_runs_between_connection_and_session_rules() -> None:
    """``tcp-request connection`` rules see the connection's own address (and may
    ask for the header with ``expect-proxy layer4 if``); ``tcp-request session``
    rules see the header's; the server behind ``send-proxy`` gets the header's
    addresses, byte for byte as 2.6.12 sends them."""

    def text(port: int, srv: int, log: int) -> str:
        return (
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten L\n    bind 127.0.0.1:{port}\n"
            f"    log 127.0.0.1:{log} format raw local0\n"
            '    log-format "%ci:%cp %fi %ts"\n'
            "    tcp-request connection reject if { src 10.0.0.0/8 }\n"
            "    tcp-request connection expect-proxy layer4 if { src 127.0.0.1 }\n"
            "    tcp-request session reject if { src 6.6.6.6 }\n"
            f"    server s1 127.0.0.1:{srv} send-proxy\n"
        )

    cases: list[list[bytes]] = [
        [b"PROXY TCP4 10.1.1.1 5.6.7.8 1111 2222\r\nhi"],
        [b"PROXY TCP4 6.6.6.6 5.6.7.8 1111 2222\r\nhi"],
        [PP2_SIGNATURE + bytes((0x21, 0x11, 0, 12)) + V2_INET + b"hi"],
        [b"hi"],
    ]
    results, logs = [], []
    for run in ("haproxy", "herdsman"):
        port, log = free_port(), Syslog()
        async with server() as (srv, got):
            hap = Haproxy(text(port, srv, log.port))
            try:
                if run == "haproxy":
                    hap.start(port)
                async with running(text(port, srv, log.port)) if run == "herdsman" else _nothing():
                    out = []
                    for chunks in cases:
                        answer = await exchange(port, chunks)
                        out.append((answer, got.pop() if got else b""))
                    results.append(out)
                    # the session reject logs "Success" (session_kill_embryonic(), no code)
                    logs.append(sorted(normal(await lines_of(log, 4), (port,))))
            finally:
                hap.stop()
                log.close()
    assert results[1] == results[0]

    assert logs[1] == logs[0], logs
    assert results[1][0] == (REPLY.decode(), b"PROXY TCP4 10.1.1.1 5.6.7.8 1111 2222\r\nhi")
    assert results[1][1][1] == b""


async def test_send_proxy_v2_and_connect_line_after_a_header() -> None:
    """HTTP mode behind another load balancer: ``send-proxy-v2`` towards the server
    carries the header's addresses (a TCP6 client), ``option forwardfor`` its
    source, and the "Connect from" line of a frontend without a log format shows
    them: byte for byte as 2.6.12."""

    def text(port: int, srv: int, log: int) -> str:
        return (
            "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten L\n    log 127.0.0.1:{log} format raw local0\n"
            f"    bind 127.0.0.1:{port} accept-proxy\n    option forwardfor\n"
            f"    server s1 127.0.0.1:{srv} send-proxy-v2\n"
        )

    header = b"PROXY TCP6 2001:db8::7 ::ffff:10.0.0.1 40000 8080\r\n"
    results = []
    for run in ("haproxy", "herdsman"):
        port, log = free_port(), Syslog()
        async with server() as (srv, got):
            hap = Haproxy(text(port, srv, log.port))
            try:
                if run == "haproxy":
                    hap.start(port)
                async with running(text(port, srv, log.port)) if run == "herdsman" else _nothing():
                    answer = await exchange(port, [header + b"GET / HTTP/1.0\r\n\r\n"])
                    lines = await lines_of(log, 1)
                    results.append((answer, got.pop(), lines))
            finally:
                hap.stop()
                log.close()
    assert results[1] == results[0]
    assert results[1][2] == ["Connect from 2001:db8::7:40000 to ::ffff:10.0.0.1:8080 (L/HTTP)"]


async def test_a_header_before_tls_and_a_held_connection() -> None:
    """``accept-proxy`` with ``ssl``: the header, then the handshake; and a second
    client beyond ``bind ... maxconn 1`` is read (header included) once the first
    leaves. The log lines show the headers' addresses in both, as in 2.6.12."""
    import ssl

    def text(port: int, srv: int, log: int) -> str:
        return (
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten L\n    log 127.0.0.1:{log} format raw local0\n"
            '    log-format "%ci:%cp %fi:%fp %ts"\n'
            f"    bind 127.0.0.1:{port} accept-proxy ssl crt {tlscerts.path('a.pem')} maxconn 1\n"
            f"    server s1 127.0.0.1:{srv}\n"
        )

    client_ctx = ssl.create_default_context()
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE

    async def tls_client(port: int, src: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"PROXY TCP4 {src} 5.6.7.8 1111 443\r\n".encode())
        await writer.drain()
        await writer.start_tls(client_ctx)
        return reader, writer

    results = []
    for run in ("haproxy", "herdsman"):
        port, log = free_port(), Syslog()
        async with server() as (srv, _got):
            hap = Haproxy(text(port, srv, log.port))
            try:
                if run == "haproxy":
                    hap.start(port)
                async with running(text(port, srv, log.port)) if run == "herdsman" else _nothing():
                    # the first holds the only slot (its handshake is done, nothing sent)
                    r1, w1 = await tls_client(port, "1.1.1.1")
                    # the second waits in the backlog: its header and handshake come later
                    second = asyncio.ensure_future(tls_client(port, "2.2.2.2"))
                    w1.write(b"hi")
                    first = await asyncio.wait_for(r1.read(), 5)
                    w1.close()
                    r2, w2 = await asyncio.wait_for(second, 10)
                    w2.write(b"hi")
                    again = await asyncio.wait_for(r2.read(), 5)
                    w2.close()
                    lines = await lines_of(log, 2)
                    results.append((first, again, normal(lines, (port,))))
            finally:
                hap.stop()
                log.close()
    assert results[1] == results[0]
    assert results[1][2] == ["1.1.1.1:1111 5.6.7.8:443 --", "2.2.2.2:1111 5.6.7.8:443 --"]


@pytest.mark.parametrize("mode", ["tcp", "http"])
async def test_send_proxy_to_a_tls_server_goes_before_the_handshake(mode: str) -> None:
    """``server ... ssl send-proxy``: the header is sent in clear, then the TLS
    handshake, as 2.6.12 does (the server reads the line, then starts TLS)."""
    import ssl

    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tlscerts.path("b.pem"))

    def serve_one(sock: socket.socket) -> tuple[bytes, bytes]:
        """Read the line without a byte more (the ClientHello may follow in the same
        segment), then TLS on the same socket."""
        conn, _ = sock.accept()
        with conn:
            conn.settimeout(5)
            peek = conn.recv(512, socket.MSG_PEEK)
            line = conn.recv(peek.index(b"\r\n") + 2)
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                data = tls.recv(65536)
                tls.sendall(REPLY)
        return line, data

    def text(port: int, srv: int) -> str:
        return (
            f"defaults\n    mode {mode}\n    timeout connect 2s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten L\n    bind 127.0.0.1:{port} accept-proxy\n"
            f"    server s1 127.0.0.1:{srv} ssl verify none send-proxy\n"
        )

    payload = b"GET / HTTP/1.0\r\n\r\n" if mode == "http" else b"hi"
    results = []
    for run in ("haproxy", "herdsman"):
        port = free_port()
        listener = socket.create_server(("127.0.0.1", 0))
        srv = listener.getsockname()[1]
        hap = Haproxy(text(port, srv))
        try:
            if run == "haproxy":
                hap.start(port)
            async with running(text(port, srv)) if run == "herdsman" else _nothing():
                seen = asyncio.ensure_future(asyncio.to_thread(serve_one, listener))
                answer = await exchange(port, [b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n" + payload])
                results.append((answer, await asyncio.wait_for(seen, 5)))
        finally:
            hap.stop()
            listener.close()
    assert results[1] == results[0]
    assert results[1][1] is not None
    assert results[1][1][0] == b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"


def _tlv(kind: int, value: bytes) -> bytes:
    return bytes((kind,)) + struct.pack("!H", len(value)) + value


def _v2_tlvs(*tlvs: bytes) -> bytes:
    body = V2_INET + b"".join(tlvs)
    return PP2_SIGNATURE + bytes((0x21, 0x11)) + struct.pack("!H", len(body)) + body


TLV_CASES: list[tuple[str, bytes]] = [
    ("v1", b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n"),
    ("v2 no tlv", _v2_tlvs()),
    ("v2 local", PP2_SIGNATURE + bytes((0x20, 0x00, 0, 0))),
    ("v2 both", _v2_tlvs(_tlv(0x02, b"example.com"), _tlv(0x05, b"id-42"))),
    ("v2 empty authority", _v2_tlvs(_tlv(0x02, b""))),
    ("v2 twice", _v2_tlvs(_tlv(0x05, b"first"), _tlv(0x05, b"second"))),
    ("v2 netns", _v2_tlvs(_tlv(0x30, b"nosuch"), _tlv(0x02, b"a"))),
]


@pytest.mark.parametrize("mode", ["tcp", "http"])
async def test_tlv_fetches_as_haproxy(mode: str) -> None:
    """``fc_rcvd_proxy``, ``fc_pp_authority`` and ``fc_pp_unique_id`` (the last TLV of
    each kind; an empty one is found) after each header, and on a listener without
    ``accept-proxy``: the log line of the same configuration, as 2.6.12's."""

    def text(port: int, plain: int, srv: int, log: int) -> str:
        return (
            f"defaults\n    mode {mode}\n    timeout connect 2s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten L\n    log 127.0.0.1:{log} format raw local0\n"
            '    log-format "%[fc_rcvd_proxy] a=%[fc_pp_authority] u=%[fc_pp_unique_id]'
            ' %[fc_pp_authority,length]"\n'
            f"    bind 127.0.0.1:{port} accept-proxy\n    bind 127.0.0.1:{plain}\n"
            f"    server s1 127.0.0.1:{srv}\n"
        )

    payload = b"GET / HTTP/1.0\r\n\r\n" if mode == "http" else b"hi"
    results = []
    for run in ("haproxy", "herdsman"):
        port, plain, log = free_port(), free_port(), Syslog()
        async with server() as (srv, _):
            cfg = text(port, plain, srv, log.port)
            hap = Haproxy(cfg)
            try:
                if run == "haproxy":
                    hap.start(port)
                async with running(cfg) if run == "herdsman" else _nothing():
                    for _name, header in TLV_CASES:
                        await exchange(port, [header + payload])
                    await exchange(plain, [payload])
                    results.append(await lines_of(log, len(TLV_CASES) + 1))
            finally:
                hap.stop()
                log.close()
    theirs, mine = results
    # (sorted: a stream's log line and the next connection may cross)
    assert sorted(mine) == sorted(theirs)
    assert "1 a=example.com u=id-42 11" in mine
    assert "1 a=- u=- 0" in mine  # an empty TLV is found (logged "-")
    assert "0 a=- u=- -" in mine
