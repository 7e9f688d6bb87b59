"""Traffic logs (``option tcplog``, ``option httplog [clf]``, ``log-format``) against
haproxy 2.6.12: the same configuration and the same scripted client actions
run through herdsman and through the binary, and the lines are compared field
by field once the values that differ by nature are masked (dates, client
ports, durations other than -1, pids). The HTTP lines are also read back with
the ``haproxy-log-analysis`` package, as a log tool would.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from herdsman.testing import Haproxy, Syslog, free_port, running, wait_for_async

pytestmark = pytest.mark.haproxy

RESPONSE = b"HTTP/1.1 200 OK\r\nServer: testsrv/1.0\r\nContent-Length: 5\r\n\r\nhello"


class Backend:
    """A loopback server: ``http`` answers RESPONSE to each request head, ``tcp``
    writes a banner and echoes, ``mute`` reads and never answers, ``close``
    closes as soon as a request arrives."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.kind == "tcp":
                writer.write(b"banner\n")
                while data := await reader.read(4096):
                    writer.write(data)
            else:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    if not head or self.kind == "close":
                        break
                    if self.kind == "http":
                        writer.write(RESPONSE)
                        await writer.drain()
                    else:
                        await reader.read()
                        break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def start(self) -> Backend:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()


@contextlib.asynccontextmanager
async def backends(*kinds: str) -> AsyncIterator[list[Backend]]:
    started = [await Backend(k).start() for k in kinds]
    try:
        yield started
    finally:
        for b in started:
            await b.close()


async def exchange(port: int, data: bytes, *, rst: bool = False, half: bool = False) -> bytes:
    """Send ``data``, read until the peer closes (or reset our side with ``rst``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if data:
        writer.write(data)
        await writer.drain()
    if half:
        writer.write_eof()
    got = b""
    if rst:
        got = await asyncio.wait_for(reader.read(7), 5)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        with contextlib.suppress(ConnectionError):
            got = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return got


GET = b"GET /foo?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nConnection: close\r\n\r\n"

_MASKS = [
    (re.compile(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d(\.\d{3})?( [+-]\d{4})?\]"), "[DATE]"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
]


def mask(line: str, timers: str) -> str:
    """The line with dates, ports and the durations of ``timers`` (a regex of the
    timer group, e.g. ``-?\\d+/-?\\d+/-?\\d+``) replaced; -1 stays (a step not reached)."""
    for rx, repl in _MASKS:
        line = rx.sub(repl, line)

    def numbers(m: re.Match[str]) -> str:
        return re.sub(r"[-+]?\d+", lambda n: n.group() if n.group() == "-1" else "N", m.group())

    return re.sub(timers, numbers, line, count=1)


Script = Callable[[int, Syslog], Awaitable[None]]


async def lines_of(text: str, port: int, script: Script, count: int, binary: bool) -> list[str]:
    """Run ``text`` (with ``LOGPORT`` set) in herdsman or haproxy, play ``script``
    (which may wait for lines between its steps), return the ``count`` lines logged."""
    syslog = Syslog()
    text = text.replace("LOGPORT", str(syslog.port))
    try:
        if binary:
            with Haproxy(text).start(port):
                await script(port, syslog)
                got = await syslog.wait_count(count, timeout=15)
        else:
            async with running(text):
                await script(port, syslog)
                got = await syslog.wait_count(count, timeout=15)
    finally:
        syslog.close()
    assert len(got) == count, got
    return got


def config(port: int, body: str, mode: str = "tcp", options: str = "") -> str:
    return f"""\
global
    log 127.0.0.1:LOGPORT format raw local0
defaults
    mode {mode}
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    log global
{options}
listen L
    bind 127.0.0.1:{port}
{body}"""


TCP_TIMERS = r"-?\d+/-?\d+/\+?\d+"
HTTP_TIMERS = r"-?\d+/-?\d+/-?\d+/-?\d+/\+?\d+"


async def compare(text: str, port: int, script: Script, count: int, timers: str) -> list[str]:
    mine = await lines_of(text, port, script, count, binary=False)
    theirs = await lines_of(text, port, script, count, binary=True)
    assert [mask(x, timers) for x in mine] == [mask(x, timers) for x in theirs]
    return mine


async def test_tcplog_lines_match_haproxy() -> None:
    """Normal close, client reset in the data phase, server refused (retries 0)."""
    async with backends("tcp") as (tcp,):
        port = free_port()
        dead = free_port()
        body = f"    option tcplog\n    retries 0\n    server s1 127.0.0.1:{tcp.port}\n"
        text = config(port, body) + (
            f"listen D\n    bind 127.0.0.1:{dead}\n    option tcplog\n    retries 0\n"
            f"    server s9 127.0.0.1:{free_port()}\n"
        )

        async def script(p: int, syslog: Syslog) -> None:
            assert await exchange(p, b"hi\n", half=True) == b"banner\nhi\n"
            await syslog.wait_count(1)
            await exchange(p, b"x", rst=True)
            await syslog.wait_count(2)
            assert await exchange(dead, b"zz") == b""

        got = await compare(text, port, script, 3, TCP_TIMERS)
        assert " L L/s1 " in got[0]
        assert got[0].endswith(" 10 -- 1/1/0/0/0 0/0")
        assert " CD " in got[1]
        assert " D D/s9 " in got[2]
        assert " SC " in got[2]


async def test_rejected_tcp_stream_logs_what_it_received() -> None:
    """``%U`` of a stream that ``tcp-request content`` rejected: the bytes it
    received, never forwarded (2.6's ``req.total``); then one forwarded."""
    async with backends("tcp") as (tcp,):
        port = free_port()
        body = (
            '    log-format "%U %B %ts"\n    tcp-request inspect-delay 1s\n'
            "    tcp-request content reject if { req.payload(0,3) -m str PUT }\n"
            "    tcp-request content accept if { req.len gt 0 }\n"
            f"    server s1 127.0.0.1:{tcp.port}\n"
        )

        async def script(p: int, syslog: Syslog) -> None:
            assert await exchange(p, b"PUT 12345\n", half=True) == b""
            await syslog.wait_count(1)
            assert await exchange(p, b"hi\n", half=True) == b"banner\nhi\n"

        got = await compare(config(port, body), port, script, 2, TCP_TIMERS)
        assert got[0].endswith("10 0 PR")
        assert got[1].endswith("3 10 --")


async def test_httplog_lines_match_haproxy() -> None:
    """A 200 with captured headers, a 400, a 503 (refused server), a 502 (server
    closed), a 504 (timeout server): the line, the status, %B as HAProxy counts it."""
    async with backends("http", "close", "mute") as (ok, closer, mute):
        port = free_port()
        body = (
            "    option httplog\n    retries 0\n    timeout server 300ms\n"
            "    capture request header Host len 20\n"
            "    capture request header User-Agent len 1\n"
            "    capture response header Server len 10\n"
        )
        servers = [
            ("ok", ok.port),
            ("refused", free_port()),
            ("closer", closer.port),
            ("mute", mute.port),
        ]
        texts = []
        for name, srv_port in servers:
            texts.append(config(port, body + f"    server {name} 127.0.0.1:{srv_port}\n", "http"))

        async def ok_script(p: int, _: Syslog) -> None:
            got = await exchange(p, GET)
            assert got.endswith(b"hello"), got

        async def bad_script(p: int, _: Syslog) -> None:
            got = await exchange(p, b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n")
            assert got.startswith(b"HTTP/1.1 400")

        async def status_script(p: int, _: Syslog) -> None:
            await exchange(p, GET)

        lines = []
        lines += await compare(texts[0], port, ok_script, 1, HTTP_TIMERS)
        lines += await compare(texts[0], port, bad_script, 1, HTTP_TIMERS)
        for text in texts[1:]:
            lines += await compare(text, port, status_script, 1, HTTP_TIMERS)
        assert " 200 71 - - ---- " in lines[0]
        assert "{example.com|t} {testsrv/1.}" in lines[0]
        assert " 400 0 - - PR-- " in lines[1]
        assert lines[1].endswith('0/0 "<BADREQ>"')
        assert " 503 217 - - SC-- " in lines[2]
        assert " 502 " in lines[3]
        assert " SH-- " in lines[3]
        assert " 504 " in lines[4]
        assert " sH-- " in lines[4]
        from haproxy.line import Line  # the haproxy-log-analysis package

        parsed = Line("Dec  7 10:00:00 localhost haproxy[1]: " + lines[0])
        assert parsed.is_valid
        assert (parsed.status_code, parsed.server_name, parsed.http_request_path) == (
            "200",
            "ok",
            "/foo?x=1",
        )
        assert parsed.captured_request_headers == "example.com|t"


async def test_clf_and_log_format_match_haproxy() -> None:
    """``option httplog clf`` and a log-format with options, escapes and many variables."""
    async with backends("http") as (ok,):
        port = free_port()
        fmt = (
            'log-format "%{+Q}o %ci %fi:%fp %f %ft %b %s %si:%sp %ST %{-Q}B %U %ts %tsc '
            "%rc %sq/%bq %{+Q}HM %HU %HP %HPO %HQ %HV %{+Q}r %{+X}Ts %CC %ID %{+E}r "
            'Tw=%Tw Tc=%Tc"'
        )
        for body, timers in (
            ("    option httplog clf\n", r'"" "" \d+ \d+ .* -?\d+ -?\d+ -?\d+ -?\d+ \d+ \S+--'),
            (f"    {fmt}\n", r"Tw=-?\d+ Tc=-?\d+"),
        ):
            text = config(port, body + f"    server s1 127.0.0.1:{ok.port}\n", "http")

            async def script(p: int, _: Syslog) -> None:
                await exchange(p, GET.replace(b"/foo?x=1", b"/a%22b?q=1"))

            mine = await lines_of(text, port, script, 1, binary=False)
            theirs = await lines_of(text, port, script, 1, binary=True)
            hexts = re.compile(r"\b[0-9A-F]{8}\b")  # %{+X}Ts: the accept second in hex
            assert [hexts.sub("TS", mask(x, timers)) for x in mine] == [
                hexts.sub("TS", mask(x, timers)) for x in theirs
            ]


async def test_dontlognull_and_separate_errors() -> None:
    """``option dontlognull`` drops an empty connection; ``log-separate-errors``
    sends an error at level err (3) and a normal line at info (6), as haproxy."""
    async with backends("tcp") as (tcp,):
        port = free_port()
        body = (
            "    option tcplog\n    option dontlognull\n    option log-separate-errors\n"
            f"    retries 0\n    server s1 127.0.0.1:{tcp.port}\n"
        )
        text = config(port, body).replace("format raw", "format priority")

        async def script(p: int, syslog: Syslog) -> None:
            _, writer = await asyncio.open_connection("127.0.0.1", p)
            writer.close()  # nothing sent: not logged
            await exchange(p, b"x", rst=True)  # CD: an error
            await syslog.wait_count(1)
            await exchange(p, b"hi", half=True)  # normal

        got = await lines_of(text, port, script, 2, binary=False)
        theirs = await lines_of(text, port, script, 2, binary=True)
        # %ac/%fc/%bc/%sc depend on when haproxy notices the empty connection's close
        counts = re.compile(r"(\d+/){4}\d+ (\d+/\d+)$")
        assert [counts.sub(r"C \2", mask(x, TCP_TIMERS)) for x in got] == [
            counts.sub(r"C \2", mask(x, TCP_TIMERS)) for x in theirs
        ]
        assert got[0].startswith("<131>")
        assert " CD " in got[0]
        assert got[1].startswith("<134>")
        assert " -- " in got[1]


async def test_log_without_format_keeps_connect_lines() -> None:
    """A frontend with log targets but no format still says "Connect from"."""
    async with backends("tcp") as (tcp,):
        port = free_port()
        syslog = Syslog()
        text = config(port, f"    server s1 127.0.0.1:{tcp.port}\n").replace(
            "LOGPORT", str(syslog.port)
        )
        try:
            async with running(text):
                await exchange(port, b"hi", half=True)
                line = await syslog.wait_line("Connect from")
        finally:
            syslog.close()
        assert re.fullmatch(r"Connect from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ \(L/TCP\)", line)


async def test_format_without_target_logs_nothing() -> None:
    """No log address: the format is ignored (haproxy warns at start-up)."""
    async with backends("tcp") as (tcp,):
        port = free_port()
        text = config(port, f"    option tcplog\n    server s1 127.0.0.1:{tcp.port}\n")
        text = text.replace("    log global\n", "").replace("LOGPORT", "514")
        async with running(text) as hm:
            await exchange(port, b"hi", half=True)
            fe = hm.frontends[0]
            await wait_for_async(lambda: fe.feconn == 0)
            assert fe.traffic_log is None


@pytest.mark.parametrize(
    "rule",
    [
        "http-request deny",
        "http-request deny deny_status 429",
        "http-request reject",
        'http-request return status 200 content-type text/plain string "ok"',
        "http-request redirect location /elsewhere",
        "http-request auth realm r",
        "redirect prefix http://example.org code 301",
        "timeout tarpit 50ms\n    http-request tarpit",
    ],
)
async def test_requests_answered_by_rules_log_as_haproxy(rule: str) -> None:
    """The termination state and the status of a request the rules answer
    (deny/reject: PR--, tarpit: PT--, return/redirect/auth: LR--, as 2.6's
    http_process_req_common() and its actions set them)."""
    async with backends("http") as (ok,):
        port = free_port()
        body = f"    option httplog\n    {rule}\n    server s 127.0.0.1:{ok.port}\n"
        text = config(port, body, "http")

        async def script(p: int, _: Syslog) -> None:
            await exchange(p, GET)

        await compare(text, port, script, 1, HTTP_TIMERS)
