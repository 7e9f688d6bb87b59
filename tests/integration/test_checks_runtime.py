"""Health checks through the whole runtime, on loopback, compared with haproxy 2.6.12.

Scripted servers answer the checks; herdsman and the real binary run the same
configuration (``option log-health-checks``, logs to a UDP receiver) and the
"Health check for server ..." lines must be the same.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from herdsman.core.states import SrvState
from herdsman.testing import Haproxy, Syslog, free_port, named_servers, running, wait_for_async

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]


@asynccontextmanager
async def scripted(handler: Handler) -> AsyncIterator[int]:
    """A loopback server running ``handler`` for each connection; yields its port."""

    async def wrap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)  # type: ignore[misc]
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(wrap, "127.0.0.1", 0)
    try:
        yield srv.sockets[0].getsockname()[1]
    finally:
        srv.close()
        await srv.wait_closed()


def cfg(log_port: int, backend: str) -> str:
    return (
        f"global\n    log 127.0.0.1:{log_port} format raw local0\n    node lb1\n"
        "defaults\n    mode tcp\n    log global\n    option log-health-checks\n"
        "    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"
        f"{backend}"
    )


async def both(text: str, pattern: str) -> tuple[str, str]:
    """The first log line matching ``pattern`` from herdsman, then from haproxy."""
    # haproxy refuses to start without a listener
    text += f"listen dummy\n    bind 127.0.0.1:{free_port()}\n"
    log = Syslog()
    try:
        async with running(text.replace("LOGPORT", str(log.port))):
            ours = await log.first(pattern)
    finally:
        log.close()
    log = Syslog()
    try:
        with Haproxy(text.replace("LOGPORT", str(log.port))).start():
            theirs = await log.first(pattern)
    finally:
        log.close()
    return ours, theirs


# -- the POP3-then-IMAP two-connect sequence of the issue --------------------------------------


def pop3(banner: bytes) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(banner)
        await writer.drain()
        await reader.read(100)

    return handle


def imap(answer: bytes, close: bool) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n")
        writer.write(answer)
        await writer.drain()
        if not close:
            await reader.read(100)

    return handle


def two_ports(p110: int, p143: int) -> str:
    return cfg(
        "LOGPORT",
        "backend mail\n    option tcp-check\n"
        f"    tcp-check connect port {p110}\n"
        "    tcp-check expect string +OK\\ POP3\\ ready\n"
        f"    tcp-check connect port {p143}\n"
        "    tcp-check send A1\\ CAPABILITY\\r\\n\n"
        "    tcp-check expect string *\\ OK\\ IMAP4\\ ready\n"
        "    server s 127.0.0.1:1 check inter 300ms\n",
    ).replace("log 127.0.0.1:LOGPORT", "log 127.0.0.1:LOGPORT")


@pytest.mark.parametrize(
    ("imap_answer", "close", "expected"),
    [
        (
            b"* OK IMAP4 ready\r\n",
            True,
            'Health check for server mail/s succeeded, reason: Layer7 check passed, code: 0, info: "(tcp-check)", check duration: Nms, status: 3/3 UP.',
        ),
        (
            b"* NO go away\r\n",
            True,
            "Health check for server mail/s failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content '* OK IMAP4 ready' at step 5\", check duration: Nms, status: 0/2 DOWN.",
        ),
    ],
)
async def test_pop3_then_imap(imap_answer: bytes, close: bool, expected: str) -> None:
    async with (
        scripted(pop3(b"+OK POP3 ready\r\n")) as p110,
        scripted(imap(imap_answer, close)) as p143,
    ):
        text = two_ports(p110, p143)
        log = Syslog()
        try:
            async with running(text.replace("LOGPORT", str(log.port))):
                assert await log.first("Health check") == expected
        finally:
            log.close()


@pytest.mark.haproxy
async def test_pop3_then_imap_fails_where_the_binary_fails() -> None:
    dead = free_port()
    async with scripted(pop3(b"+OK POP3 ready\r\n")) as p110:
        ours, theirs = await both(two_ports(p110, dead), "Health check")
    assert ours == theirs
    assert "at step 3 of tcp-check (connect port" in ours


@pytest.mark.haproxy
async def test_pop3_then_imap_mismatch_same_as_the_binary() -> None:
    async with (
        scripted(pop3(b"+OK POP3 ready\r\n")) as p110,
        scripted(imap(b"* NO go away\r\n", True)) as p143,
    ):
        ours, theirs = await both(two_ports(p110, p143), "Health check")
    assert ours == theirs


# -- what the server receives ------------------------------------------------------------------------


async def capture_first(
    port_handler: Callable[[list[bytes]], Handler], text_of: Callable[[int], str]
) -> bytes:
    got: list[bytes] = []
    async with scripted(port_handler(got)) as port, running(text_of(port)):
        await wait_for_async(lambda: bool(got), timeout=5)
    return got[0]


def reader_until_blank(got: list[bytes]) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.readuntil(b"\r\n\r\n")
        got.append(data)
        writer.write(b"HTTP/1.0 200 OK\r\n\r\n")
        await writer.drain()

    return handle


def reader_line(got: list[bytes]) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.readuntil(b"\r\n"))

    return handle


async def test_send_state_header_as_the_binary_writes_it() -> None:
    """The value core builds for ``http-check send-state`` (observed 5.5)."""

    def text(port: int) -> str:
        return cfg(
            "LOGPORT",
            f"backend d5\n    option httpchk GET /s\n    http-check send-state\n"
            f"    server s 127.0.0.1:{port} check inter 10s\n",
        ).replace("log 127.0.0.1:LOGPORT format raw local0\n", "")

    got = await capture_first(reader_until_blank, text)
    port = re.search(rb"port=(\d+)", got)
    assert port is not None
    assert got == (
        b"GET /s HTTP/1.0\r\nx-haproxy-server-state: UP 1/3; address=127.0.0.1; port="
        + port.group(1)
        + b"; name=d5/s; node=lb1; weight=1/1; scur=0/0; qcur=0\r\n\r\n"
    )


async def test_check_send_proxy_sends_the_check_connection_addresses() -> None:
    def text(port: int) -> str:
        return cfg(
            "LOGPORT",
            f"backend b\n    option tcp-check\n    tcp-check send PING\\r\\n\n"
            f"    server s 127.0.0.1:{port} check inter 10s check-send-proxy\n",
        ).replace("log 127.0.0.1:LOGPORT format raw local0\n", "")

    got = await capture_first(reader_line, text)
    assert re.fullmatch(rb"PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+\r\n", got)


async def test_check_port_and_addr_redirect_the_check() -> None:
    """``port`` (and ``addr``) send the check elsewhere than the traffic (spec §4.2)."""
    got: list[bytes] = []
    async with scripted(reader_line(got)) as check_port:
        traffic = free_port()
        text = cfg(
            "LOGPORT",
            "backend b\n    option tcp-check\n    tcp-check send HELLO\\r\\n\n"
            f"    server s 127.0.0.1:{traffic} check inter 10s addr 127.0.0.1 port {check_port}\n",
        ).replace("log 127.0.0.1:LOGPORT format raw local0\n", "")
        async with running(text) as hm:
            await wait_for_async(lambda: bool(got), timeout=5)
            assert got == [b"HELLO\r\n"]
            chk = hm.server("b/s").check
            assert chk is not None
            await wait_for_async(lambda: chk.health == 4)


# -- passive health and on-marked-up ---------------------------------------------------------------


async def test_observe_layer4_marks_down_on_live_connection_errors() -> None:
    """Live traffic failing to connect reaches error-limit: mark-down (spec §4.7)."""
    async with named_servers(1) as (good,):
        dead = free_port()
        front = free_port()
        text = (
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
            "    timeout server 5s\n    retries 0\n"
            f"listen L\n    bind 127.0.0.1:{front}\n    balance roundrobin\n"
            f"    server dead 127.0.0.1:{dead} check inter 60s observe layer4 error-limit 2 on-error mark-down\n"
            f"    server ok 127.0.0.1:{good.port} check inter 60s\n"
        )
        async with running(text) as hm:
            srv = hm.server("L/dead")
            # the first (start-up) check is at t=0 for "dead": it already failed
            # and took the server down; bring it back as if a check passed
            await wait_for_async(lambda: srv.check is not None and not srv.check.in_progress)
            from herdsman.core import transitions

            assert srv.check is not None
            srv.check.health = 4
            transitions.set_running(srv)
            assert srv.cur_state is SrvState.RUNNING
            for _ in range(4):
                reader, writer = await asyncio.open_connection("127.0.0.1", front)
                await asyncio.wait_for(reader.read(), 5)
                writer.close()
            assert srv.cur_state is SrvState.STOPPED
            assert srv.counters.failed_hana == 1
            assert srv.check.desc == (
                "Detected 2 consecutive errors, last one was: L4 unsuccessful connection"
            )


async def test_on_marked_up_shutdown_backup_sessions() -> None:
    async with named_servers(2, hold=True) as (a, b):
        front = free_port()
        text = (
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"
            f"listen L\n    bind 127.0.0.1:{front}\n"
            f"    server a 127.0.0.1:{a.port} on-marked-up shutdown-backup-sessions\n"
            f"    server b 127.0.0.1:{b.port} backup\n"
        )
        async with running(text) as hm:
            from herdsman.core import transitions

            transitions.set_stopped(hm.server("L/a"), "changed from CLI")
            reader, writer = await asyncio.open_connection("127.0.0.1", front)
            assert await reader.readexactly(1) == b"b"
            transitions.set_running(hm.server("L/a"))
            # the backup's session is killed as soon as the active server is up
            assert await asyncio.wait_for(reader.read(), 5) == b""
            writer.close()


async def test_connect_only_checks_are_never_accepted_by_the_server() -> None:
    """Delayed ACK + RST (CONNECT_DELACK_ALWAYS): the server's accept() never
    sees a connect-only check, as with haproxy (observed-2.6.12-checks.md)."""
    async with named_servers(1) as (srv,):
        text = (
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
            f"    timeout server 5s\nbackend b\n    server s 127.0.0.1:{srv.port} check inter 50ms\n"
        )
        async with running(text) as hm:
            chk = hm.server("b/s").check
            assert chk is not None
            await wait_for_async(lambda: chk.health == chk.rise + chk.fall - 1)
            runs = 3
            before = chk.start_ms
            await wait_for_async(lambda: chk.start_ms >= before + runs * 50, timeout=5)
            assert srv.accepted == 0
