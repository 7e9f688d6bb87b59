"""One check run over real loopback sockets (``checks/runner.py``).

Scripted servers run in the test's own event loop; nothing is synchronised
with sleeps: tests await the check's result or a server event, with a
deadline. Statuses and texts are haproxy 2.6.12's (observed-2.6.12-checks.md);
the ``haproxy`` tests run the binary against the same capturing servers and
compare the bytes it sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_check_config import parse_section
from test_httpcheck import REQUESTS

from herdsman.checks.runner import start_check
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.defs.rules import Ruleset
from herdsman.defs.status import Status
from herdsman.testing import free_port

HAPROXY = shutil.which("haproxy")
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")
LOOP_TIMEOUT = 10.0


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    """Run one async test body on uvloop, the loop herdsman runs on."""
    uvloop.run(asyncio.wait_for(coro_fn(), LOOP_TIMEOUT))  # type: ignore[arg-type]


# -- scripted servers -----------------------------------------------------------------------


@dataclass
class Script:
    """What a server does with each connection."""

    banner: bytes = b""
    reply: bytes = b""
    read_request: bool = True  # read an HTTP request (headers and content-length body)
    until: bytes = b""  # or read until this terminator
    size: int = 0  # or read exactly this many bytes
    then: list[tuple[bytes, bytes]] = field(default_factory=list)  # more (until, reply) exchanges
    after: str = "close"  # "close", "hold" (until the client goes) or "rst"
    requests: list[bytes] = field(default_factory=list)
    peers: list[tuple[Any, ...]] = field(default_factory=list)
    got: asyncio.Event = field(default_factory=asyncio.Event)


async def _read_request(reader: asyncio.StreamReader, script: Script) -> bytes:
    if script.size:
        return await reader.readexactly(script.size)
    if script.until:
        return await reader.readuntil(script.until)
    head = await reader.readuntil(b"\r\n\r\n")
    m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
    body = await reader.readexactly(int(m.group(1))) if m else b""
    return head + body


@contextlib.asynccontextmanager
async def serve(
    script: Script, host: str = "127.0.0.1", path: str | None = None, port: int = 0
) -> AsyncIterator[int]:
    """A server following ``script`` (on ``port``, else any); yields its port (0 for a UNIX socket)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script.peers.append(writer.get_extra_info("peername"))
        try:
            if script.banner:
                writer.write(script.banner)
            if script.read_request or script.until or script.size:
                script.requests.append(await _read_request(reader, script))
                script.got.set()
            if script.reply:
                writer.write(script.reply)
            for until, reply in script.then:
                await reader.readuntil(until)
                writer.write(reply)
            await writer.drain()
            if script.after == "hold":
                await reader.read()
            elif script.after == "rst":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (asyncio.IncompleteReadError, ConnectionError):
            script.got.set()
        finally:
            writer.close()

    if path is not None:
        server = await asyncio.start_unix_server(handle, path)
        port = 0
    else:
        server = await asyncio.start_server(handle, host, port)
        port = server.sockets[0].getsockname()[1]
    async with server:
        yield port


@contextlib.contextmanager
def hanging_port() -> Any:
    """A listener whose accept queue is full: new connections hang in SYN-SENT."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    addr = ls.getsockname()
    fillers = []
    try:
        for _ in range(3):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(addr)
            fillers.append(s)
        yield addr[1]
    finally:
        for s in fillers:
            s.close()
        ls.close()


def target(port: int, **kw: Any) -> CheckTarget:
    base = CheckTarget("b", "s", 1, 1, socket.AF_INET, "127.0.0.1", port, inter=2000)
    return replace(base, **kw)


async def check(rs: Ruleset, tgt: CheckTarget) -> CheckResult:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[CheckResult] = loop.create_future()
    start_check(loop, rs, tgt, fut.set_result)
    return await asyncio.wait_for(fut, 5)


def ruleset(*lines: str) -> Ruleset:
    px, diag = parse_section(list(lines))
    assert not diag.fatal, diag.messages
    return px.checks or Ruleset()


def summary(res: CheckResult) -> tuple[Status, int | None, str]:
    return res.status, res.code, res.desc


# -- layer 4 ------------------------------------------------------------------------------


def test_refused_port() -> None:
    async def body() -> None:
        port = free_port()
        res = await check(Ruleset(), target(port))
        assert summary(res) == (Status.L4CON, None, "Connection refused")
        assert 0 <= res.duration_ms < 1000
        res = await check(ruleset("option tcp-check"), target(port))
        assert res.desc == "Connection refused at initial connection step of tcp-check"

    run(body)


def test_plain_connect_check_passes() -> None:
    async def body() -> None:
        async with serve(Script(read_request=False)) as port:
            assert summary(await check(Ruleset(), target(port))) == (Status.L4OK, None, "")

    run(body)


def test_connect_timeout_is_l4tout_after_inter() -> None:
    """Spec §4.6: without ``timeout check`` the connect may take ``inter``."""

    async def body() -> None:
        with hanging_port() as port:
            start = time.monotonic()
            res = await check(Ruleset(), target(port, inter=200, timeout_connect=50))
            elapsed = time.monotonic() - start
        assert summary(res) == (Status.L4TOUT, None, "")
        assert 0.19 <= elapsed < 1.0
        assert 190 <= res.duration_ms < 1000

    run(body)


def test_connect_timeout_with_timeout_check() -> None:
    """With ``timeout check`` and ``timeout connect``: min(inter, timeout connect)."""

    async def body() -> None:
        with hanging_port() as port:
            res = await check(
                ruleset("option tcp-check"),
                target(port, inter=1000, timeout_connect=100, timeout_check=500),
            )
        assert summary(res) == (Status.L4TOUT, None, " at initial connection step of tcp-check")
        assert 95 <= res.duration_ms < 500

    run(body)


def test_silent_server_is_l7tout() -> None:
    async def body() -> None:
        async with serve(Script(after="hold")) as port:
            res = await check(ruleset("option httpchk GET /"), target(port, inter=200))
            assert summary(res) == (Status.L7TOUT, None, "")
            assert 190 <= res.duration_ms < 1000
            # once connected, "timeout check" is the budget (the intended 2.6 behaviour)
            res = await check(
                ruleset("option httpchk GET /"), target(port, inter=2000, timeout_check=150)
            )
            assert res.status is Status.L7TOUT
            assert 140 <= res.duration_ms < 1000

    run(body)


# -- tcp-check over two connections ------------------------------------------------------------


def pop_imap(pop: int, imap: int) -> Ruleset:
    return ruleset(
        "option tcp-check",
        f"tcp-check connect port {pop}",
        'tcp-check expect string "+OK POP3 ready"',
        f"tcp-check connect port {imap}",
        'tcp-check send "A1 CAPABILITY\\r\\n"',
        'tcp-check expect string "* OK IMAP4 ready"',
    )


def test_pop3_then_imap_passes() -> None:
    async def body() -> None:
        pop = Script(banner=b"+OK POP3 ready\r\n", read_request=False, after="hold")
        imap = Script(until=b"\r\n", reply=b"* OK IMAP4 ready\r\n", after="hold")
        async with serve(pop) as p1, serve(imap) as p2:
            res = await check(pop_imap(p1, p2), target(p1))
        assert summary(res) == (Status.L7OK, 0, "(tcp-check)")
        assert imap.requests == [b"A1 CAPABILITY\r\n"]

    run(body)


def test_pop3_then_imap_failures() -> None:
    async def body() -> None:
        pop = Script(banner=b"+OK POP3 ready\r\n", read_request=False, after="hold")
        wrong = Script(until=b"\r\n", reply=b"-ERR no\r\n", after="hold")
        closes = Script(until=b"\r\n", reply=b"-ERR no\r\n")
        async with serve(pop) as p1, serve(wrong) as p2, serve(closes) as p3:
            res = await check(pop_imap(p1, p2), target(p1, inter=300))
            assert summary(res) == (
                Status.L7TOUT,
                None,
                " at step 5 of tcp-check (expect string '* OK IMAP4 ready')",
            )
            res = await check(pop_imap(p1, p3), target(p1))
            assert summary(res) == (
                Status.L7RSP,
                None,
                "TCPCHK did not match content '* OK IMAP4 ready' at step 5",
            )
            refused = free_port()
            res = await check(pop_imap(p1, refused), target(p1))
            assert summary(res) == (
                Status.L4CON,
                None,
                f"Connection refused at step 3 of tcp-check (connect port {refused})",
            )

    run(body)


def test_empty_response_and_reset() -> None:
    async def body() -> None:
        rs = ruleset("option tcp-check", "tcp-check send hi\\r\\n", "tcp-check expect string OK")
        async with serve(Script(until=b"\r\n")) as port:
            res = await check(rs, target(port))
            assert summary(res) == (Status.L7RSP, None, "TCPCHK got an empty response at step 2")
        async with serve(Script(until=b"\r\n", after="rst")) as port:
            res = await check(rs, target(port))
            assert summary(res) == (
                Status.SOCKERR,
                None,
                "Connection reset by peer at step 2 of tcp-check (expect string 'OK')",
            )

    run(body)


def test_send_proxy_header_uses_the_check_socket() -> None:
    async def body() -> None:
        script = Script(until=b"\r\n", reply=b"OK\r\n", after="hold")
        async with serve(script) as port:
            rs = ruleset(
                "option tcp-check", "tcp-check connect send-proxy", "tcp-check expect string OK"
            )
            res = await check(rs, target(port))
        assert res.status is Status.L7OK
        peer_port = script.peers[0][1]
        assert script.requests == [
            f"PROXY TCP4 127.0.0.1 127.0.0.1 {peer_port} {port}\r\n".encode()
        ]

    run(body)


def test_unix_and_ipv6_targets(tmp_path: Path) -> None:
    async def body() -> None:
        path = str(tmp_path / "chk.sock")
        rs = ruleset("option httpchk GET /u")
        script = Script(reply=b"HTTP/1.0 200 OK\r\n\r\n")
        async with serve(script, path=path):
            res = await check(rs, target(0, family=socket.AF_UNIX, host=path))
        assert summary(res) == (Status.L7OK, 200, "")
        assert script.requests == [b"GET /u HTTP/1.0\r\n\r\n"]
        res = await check(Ruleset(), target(0, family=socket.AF_UNIX, host=str(tmp_path / "nope")))
        assert summary(res) == (Status.L4CON, None, "No such file or directory")
        if socket.has_ipv6:
            try:
                async with serve(Script(reply=b"HTTP/1.0 200 OK\r\n\r\n"), host="::1") as port:
                    res = await check(rs, target(port, family=socket.AF_INET6, host="::1"))
            except OSError:
                return  # no IPv6 loopback here
            assert res.status is Status.L7OK

    run(body)


def test_cancel_reports_nothing() -> None:
    async def body() -> None:
        script = Script(after="hold")
        async with serve(script) as port:
            loop = asyncio.get_running_loop()
            results: list[CheckResult] = []
            running = start_check(loop, ruleset("option httpchk"), target(port), results.append)
            await asyncio.wait_for(script.got.wait(), 5)
            running.cancel()
            assert running.done
        assert results == []

    run(body)


# -- HTTP ------------------------------------------------------------------------------------

STATE_RE = (
    "UP 1/3; address=127.0.0.1; port={port}; name={be}/s; node=lb1; weight=1/1; scur=0/0; qcur=0"
)


def http_target(port: int, be: str, be_id: int) -> CheckTarget:
    state = STATE_RE.format(port=port, be=be)
    return target(port, backend_name=be, backend_id=be_id, server_id=1, state_header=lambda: state)


@pytest.mark.parametrize(("lines", "expected"), REQUESTS)
def test_http_request_bytes(lines: list[str], expected: bytes) -> None:
    """A capturing server receives exactly the observed bytes."""

    async def body() -> None:
        script = Script(reply=b"HTTP/1.0 200 OK\r\n\r\n")
        async with serve(script) as port:
            px, _ = parse_section(lines)
            assert px.checks is not None
            res = await check(px.checks, http_target(port, "h16", 18))
        assert res.status is Status.L7OK
        state = STATE_RE.format(port=port, be="h16").encode()
        want = expected.replace(
            b"UP 1/3; address=127.0.0.1; port=9805; name=d5/s; node=lb1; weight=1/1; scur=0/0; qcur=0",
            state,
        )
        assert script.requests == [want]

    run(body)


@pytest.mark.parametrize(
    ("lines", "reply", "expected"),
    [
        ([], b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", (Status.L7OK, 200, "")),
        (
            [],
            b"HTTP/1.1 503 Service Unavailable\r\n\r\n",
            (Status.L7STS, 503, "Service Unavailable"),
        ),
        ([], b"", (Status.L7RSP, None, "")),
        ([], b"garbage\r\n\r\n", (Status.L7RSP, None, "")),
        (
            ["http-check expect status 200 comment mycomment"],
            b"HTTP/1.1 500 Internal\r\n\r\n",
            (Status.L7STS, 500, "Internal comment: mycomment"),
        ),
        (
            ["http-check expect string xyz"],
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            (Status.L7RSP, None, "HTTP content check did not match"),
        ),
        (
            ["http-check expect ! string abc"],
            b"HTTP/1.1 200 OK\r\n\r\nabc",
            (Status.L7RSP, None, "HTTP check matched unwanted content"),
        ),
        (
            ["http-check expect string x"],
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            (Status.L7RSP, None, "HTTP content check could not find a response body"),
        ),
        (["http-check disable-on-404"], b"HTTP/1.1 404 Not Found\r\n\r\n", (Status.L7OKC, 404, "")),
    ],
)
def test_http_verdicts(
    lines: list[str], reply: bytes, expected: tuple[Status, int | None, str]
) -> None:
    async def body() -> None:
        async with serve(Script(reply=reply)) as port:
            res = await check(ruleset("option httpchk GET /", *lines), target(port))
        assert summary(res) == expected

    run(body)


# -- side by side with haproxy ----------------------------------------------------------------


async def _haproxy_requests(
    cases: list[list[str]], scripts: list[Script], ports: list[int]
) -> None:
    lines = [
        "global",
        "    node lb1",
        "defaults",
        "    mode tcp",
        "    timeout connect 1s",
        "    timeout client 1s",
        "    timeout server 1s",
        "frontend dummy",
        f"    bind 127.0.0.1:{free_port()}",
        "    default_backend none",
        "backend none",
    ]
    for i, (case, port) in enumerate(zip(cases, ports, strict=True)):
        lines += [f"backend h{i}", f"    id {1000 + i}", *(f"    {c}" for c in case)]
        # checks start spread over one inter: keep it short
        lines.append(f"    server s 127.0.0.1:{port} id 1 check inter 1s")
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERDSMAN_")}
    proc = await asyncio.create_subprocess_exec(
        "haproxy",
        "-db",
        "-f",
        f.name,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        await asyncio.wait_for(asyncio.gather(*(s.got.wait() for s in scripts)), 5)
    except TimeoutError:
        proc.terminate()
        _, err = await proc.communicate()
        missing = [i for i, s in enumerate(scripts) if not s.got.is_set()]
        pytest.fail(f"haproxy sent nothing to {missing}: {err.decode()[-2000:]}")
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        os.unlink(f.name)


@pytest.mark.haproxy
@needs_haproxy
def test_http_request_bytes_match_haproxy() -> None:
    """haproxy 2.6.12 and herdsman send the same bytes for every REQUESTS form."""

    async def body() -> None:
        cases = [lines for lines, _ in REQUESTS]
        ha = [Script(reply=b"HTTP/1.0 200 OK\r\n\r\n") for _ in cases]
        hs = [Script(reply=b"HTTP/1.0 200 OK\r\n\r\n") for _ in cases]
        async with contextlib.AsyncExitStack() as stack:
            ha_ports = [await stack.enter_async_context(serve(s)) for s in ha]
            hs_ports = [await stack.enter_async_context(serve(s)) for s in hs]
            await _haproxy_requests(cases, ha, ha_ports)
            for i, (case, port) in enumerate(zip(cases, hs_ports, strict=True)):
                px, _ = parse_section(case)
                assert px.checks is not None
                tgt = http_target(port, f"h{i}", 1000 + i)
                await check(px.checks, tgt)
        for i, (a, b, pa, pb) in enumerate(zip(ha, hs, ha_ports, hs_ports, strict=True)):
            got = b.requests[0].replace(f"port={pb};".encode(), f"port={pa};".encode())
            assert a.requests[0] == got, (i, cases[i])

    run(body)
