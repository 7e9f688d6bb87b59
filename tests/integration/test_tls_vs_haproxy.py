"""TLS through herdsman and through haproxy 2.6.12, same configuration, same clients.

Each case runs one configuration in both (herdsman in this process, haproxy as
a child, on their own ports) and compares what TLS clients observe: Python's
``ssl`` (certificate presented, ALPN, version, the alert of a refused
handshake, the bytes relayed) and ``openssl s_client``. Certificates are made
by the test (``tests/tlscerts.py``).
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from herdsman.testing import Haproxy, Syslog, cli_command, free_port, running
from herdsman.tls.x509 import parse_certificate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tlscerts

pytestmark = pytest.mark.haproxy

DEFAULTS = """\
defaults
    mode {mode}
    timeout connect 2s
    timeout client 5s
    timeout server 5s
"""
BODY = b"hello over tls\n"
RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(BODY), BODY)


# -- servers behind the proxies -----------------------------------------------------------


class Backend(asyncio.Protocol):
    """Answers every request (HTTP or a line) with RESPONSE; records TLS resumption."""

    resumed: list[bool]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.tr: asyncio.Transport = transport  # type: ignore[assignment]
        sslobj = transport.get_extra_info("ssl_object")
        if sslobj is not None:
            self.resumed.append(sslobj.session_reused)

    def data_received(self, data: bytes) -> None:
        self.tr.write(RESPONSE)


@asynccontextmanager
async def backend(tls: bool = False) -> AsyncIterator[tuple[int, list[bool]]]:
    port = free_port()
    ctx = None
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tlscerts.path("b.pem"))
    resumed: list[bool] = []

    def make() -> Backend:
        proto = Backend()
        proto.resumed = resumed
        return proto

    server = await asyncio.get_running_loop().create_server(make, "127.0.0.1", port, ssl=ctx)
    try:
        yield port, resumed
    finally:
        server.close()


@asynccontextmanager
async def both(text: Callable[[int], str]) -> AsyncIterator[tuple[int, int]]:
    """herdsman on one port, haproxy on another, with ``text(port)``."""
    mine, theirs = free_port(), free_port()
    with Haproxy(text(theirs)) as hap:
        hap.start(theirs)
        async with running(text(mine)):
            yield mine, theirs


# -- clients ------------------------------------------------------------------------------


def _client(
    port: int,
    sni: str | None = None,
    alpn: list[str] | None = None,
    cert: str | None = None,
    send: bytes = b"",
    session: ssl.SSLSession | None = None,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """One TLS connection with Python's ssl: what the client saw."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if cert:
        ctx.load_cert_chain(cert)
    out: dict[str, Any] = {}
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=sni, session=session) as s,
        ):
            der = s.getpeercert(binary_form=True)
            assert der is not None
            out["cn"] = parse_certificate(der).common_names
            out["alpn"] = s.selected_alpn_protocol()
            out["version"] = s.version()
            if send:
                s.sendall(send)
                data = b""
                while len(data) < len(RESPONSE):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                out["reply"] = data
    except ssl.SSLError as exc:
        out["error"] = exc.reason
    except OSError as exc:
        out["error"] = type(exc).__name__
    return out


async def client(port: int, **kw: Any) -> dict[str, Any]:
    return await asyncio.to_thread(_client, port, **kw)


async def s_client(port: int, *args: str) -> list[str]:
    """``openssl s_client``'s lines about the certificate and the negotiation."""
    proc = await asyncio.create_subprocess_exec(
        "openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    keep = ("subject=", "issuer=", "ALPN", "No ALPN", "New, ", "Verify return code")
    return [line for line in out.decode(errors="replace").splitlines() if line.startswith(keep)]


async def same(port_a: int, port_b: int, **kw: Any) -> dict[str, Any]:
    mine, theirs = await client(port_a, **kw), await client(port_b, **kw)
    assert mine == theirs, (kw, mine, theirs)
    return mine


# -- cases -------------------------------------------------------------------------------


async def test_https_in_front_of_a_plain_server() -> None:
    async with backend() as (srv, _):

        def text(port: int) -> str:
            return DEFAULTS.format(mode="http") + (
                f"frontend fe\n    bind 127.0.0.1:{port} ssl crt {tlscerts.path('a.pem')}\n"
                f"    default_backend be\nbackend be\n    server s1 127.0.0.1:{srv}\n"
            )

        async with both(text) as (mine, theirs):
            got = await same(mine, theirs, send=b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            assert got["reply"] == RESPONSE
            assert got["cn"] == ("a.test",)
            assert got["version"] == "TLSv1.3"
            assert await s_client(mine) == await s_client(theirs)


async def test_http_in_front_of_a_tls_server_reuses_its_session() -> None:
    async with backend(tls=True) as (srv, resumed):

        def text(port: int) -> str:
            # one thread: haproxy keeps the session to reuse per thread (reused_sess[tid])
            return (
                "global\n    nbthread 1\n"
                + DEFAULTS.format(mode="http")
                + (
                    f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n"
                    "backend be\n    http-reuse never\n"
                    f"    server s1 127.0.0.1:{srv} ssl verify required ca-file "
                    f"{tlscerts.path('ca.pem')} sni str(b.test)\n"
                )
            )

        async with both(text) as (mine, theirs):
            for port in (mine, theirs):
                resumed.clear()
                for _ in range(3):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                    reply = await asyncio.wait_for(reader.read(), 5)
                    assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
                    assert reply.endswith(b"\r\n\r\n" + BODY)
                    writer.close()
                    await writer.wait_closed()
                # the first connection is a full handshake, the next ones resume
                assert resumed == [False, True, True], port


async def test_tls_on_both_sides_in_tcp_mode() -> None:
    async with backend(tls=True) as (srv, _):

        def text(port: int) -> str:
            return DEFAULTS.format(mode="tcp") + (
                f"listen L\n    bind 127.0.0.1:{port} ssl crt {tlscerts.path('c.pem')}\n"
                f"    server s1 127.0.0.1:{srv} ssl verify none\n"
            )

        async with both(text) as (mine, theirs):
            got = await same(mine, theirs, send=b"ping\n")
            assert got["reply"] == RESPONSE
            assert got["cn"] == ("c.test",)


def _three(port: int, extra: str = "") -> str:
    crts = " ".join(f"crt {tlscerts.path(n)}" for n in ("a.pem", "b.pem", "c.pem"))
    return DEFAULTS.format(mode="tcp") + (
        f"listen L\n    bind 127.0.0.1:{port} ssl {crts} {extra}\n    server s1 127.0.0.1:9\n"
    )


async def test_sni_chooses_among_three_certificates() -> None:
    async with both(_three) as (mine, theirs):
        for sni, cn in (
            ("a.test", "a.test"),
            ("B.TEST", "b.test"),
            ("c.test", "c.test"),
            ("x.wild.test", "b.test"),
            ("wild.test", "a.test"),  # no match: the default (first) certificate
            ("other.test", "a.test"),
            (None, "a.test"),
        ):
            got = await same(mine, theirs, sni=sni)
            assert got["cn"] == (cn,), sni


async def test_strict_sni_refuses_unknown_and_missing_names() -> None:
    async with both(lambda p: _three(p, "strict-sni")) as (mine, theirs):
        assert (await same(mine, theirs, sni="c.test"))["cn"] == ("c.test",)
        for sni in ("other.test", None):
            got = await same(mine, theirs, sni=sni)
            assert got == {"error": "TLSV1_UNRECOGNIZED_NAME"}, sni


async def test_alpn_negotiation() -> None:
    async with both(lambda p: _three(p, "alpn h2,http/1.1")) as (mine, theirs):
        for offer, chosen in (
            (["http/1.1", "h2"], "h2"),  # the server's preference
            (["http/1.1"], "http/1.1"),
            (["spdy/3"], None),  # no common protocol: no ALPN, the handshake goes on
            (None, None),
        ):
            got = await same(mine, theirs, sni="a.test", alpn=offer)
            assert got["alpn"] == chosen, offer
        assert await s_client(mine, "-alpn", "h2") == await s_client(theirs, "-alpn", "h2")


def _verify(port: int) -> str:
    ca = tlscerts.path("ca.pem")
    return DEFAULTS.format(mode="tcp") + (
        f"listen L\n    bind 127.0.0.1:{port} ssl crt {tlscerts.path('a.pem')} "
        f"verify required ca-file {ca}\n    server s1 127.0.0.1:{{srv}}\n"
    )


async def test_client_certificates_with_verify_required() -> None:
    async with (
        backend() as (srv, _),
        both(lambda p: _verify(p).replace("{srv}", str(srv))) as (mine, theirs),
    ):
        good = await same(mine, theirs, cert=tlscerts.path("client.pem"), send=b"x\n")
        assert good["reply"] == RESPONSE
        # TLS 1.3: the refusal reaches the client on its first read
        for cert in (None, tlscerts.path("rogue.pem")):
            got = await same(mine, theirs, cert=cert, send=b"x\n")
            assert got.get("error") in (
                "TLSV13_ALERT_CERTIFICATE_REQUIRED",
                "TLSV1_ALERT_UNKNOWN_CA",
            ), got


async def poll(probe: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Await ``probe()`` (a coroutine function answering (done, value)) until done,
    with a deadline; the last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        done, value = await probe()
        if done:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met in time: {value!r}")
        await asyncio.sleep(0.05)


async def test_garbage_and_stalled_handshakes() -> None:
    """A client sending garbage is closed (2.6 logs nothing without a log format, and
    no "Connect from" line: the session never started); a client that stalls
    mid-handshake does not delay the others."""
    logs_mine, logs_theirs = Syslog(), Syslog()

    def text(port: int, log: int, srv: int) -> str:
        return DEFAULTS.format(mode="tcp") + (
            f"listen L\n    log 127.0.0.1:{log} format raw local0\n"
            f"    bind 127.0.0.1:{port} ssl crt {tlscerts.path('a.pem')}\n"
            f"    server s1 127.0.0.1:{srv}\n"
        )

    mine, theirs = free_port(), free_port()
    async with backend() as (srv, _):
        with Haproxy(text(theirs, logs_theirs.port, srv)) as hap:
            hap.start(theirs)
            async with running(text(mine, logs_mine.port, srv)):
                for port in (mine, theirs):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(b"GET / HTTP/1.0\r\n\r\n")
                    assert await asyncio.wait_for(reader.read(), 5) == b""
                    writer.close()
                    await writer.wait_closed()
                    # a stalled client: the first bytes of a ClientHello, then nothing
                    stalled = socket.create_connection(("127.0.0.1", port))
                    stalled.sendall(b"\x16\x03\x01\x02\x00\x01\x00")
                    loop = asyncio.get_running_loop()
                    start = loop.time()
                    for _ in range(5):
                        got = await client(port, sni="a.test", send=b"x\n")
                        assert got["reply"] == RESPONSE
                    assert loop.time() - start < 2.5  # five handshakes, not one timeout
                    stalled.close()

                async def logged() -> tuple[bool, object]:
                    mine, theirs = logs_mine.poll(), logs_theirs.poll()
                    return len(mine) >= 5 and len(theirs) >= 5, (mine, theirs)

                await poll(logged)
    logs_mine.close()
    logs_theirs.close()
    for lines in (logs_mine.lines, logs_theirs.lines):
        assert len(lines) == 5, lines
        assert all("Connect from 127.0.0.1:" in line for line in lines)
        assert all(line.endswith(" (L/TCP)") for line in lines)


async def test_set_ssl_cert_replaces_a_certificate_live(tmp_path: Path) -> None:
    crt = tmp_path / "live.pem"
    crt.write_bytes(tlscerts.read("a.pem"))
    payload = tlscerts.read("a2.pem").decode()
    a1 = parse_certificate_of("a.pem")
    a2 = parse_certificate_of("a2.pem")

    def text(port: int, sock: str) -> str:
        return (
            f"global\n    stats socket {sock} level admin\n"
            + DEFAULTS.format(mode="tcp")
            + f"listen L\n    bind 127.0.0.1:{port} ssl crt {crt}\n    server s1 127.0.0.1:{{srv}}\n"
        )

    async with backend() as (srv, _):
        mine, theirs = free_port(), free_port()
        sm, st = str(tmp_path / "m.sock"), str(tmp_path / "t.sock")
        with Haproxy(text(theirs, st).replace("{srv}", str(srv))) as hap:
            hap.start(theirs)
            async with running(text(mine, sm).replace("{srv}", str(srv))):
                for port, sock in ((mine, sm), (theirs, st)):
                    # an established connection, before the change
                    reader, writer = await asyncio.open_connection(
                        "127.0.0.1", port, ssl=_insecure(), server_hostname=""
                    )
                    peer = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
                    assert peer == a1
                    answers = []
                    for command in (
                        f"set ssl cert {crt} <<\n{payload}\n",
                        f"commit ssl cert {crt}",
                        "show ssl cert",
                    ):
                        answers.append(await asyncio.to_thread(cli_command, sock, command))
                    assert answers == [
                        f"Transaction created for certificate {crt}!\n\n",
                        f"Committing {crt}.\nSuccess!\n\n",
                        f"# filename\n{crt}\n\n",
                    ]
                    # new connections get the new certificate...
                    got = await client(port)
                    assert got["cn"] == ("a.test",)
                    new = await asyncio.to_thread(_peer, port)
                    assert new == a2
                    # ...and the old one goes on with the old one
                    writer.write(b"ping\n")
                    assert await asyncio.wait_for(reader.readexactly(len(RESPONSE)), 5) == RESPONSE
                    writer.close()
                    await writer.wait_closed()
                    crt.write_bytes(tlscerts.read("a.pem"))  # haproxy keeps its own copy


def _insecure() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _peer(port: int) -> bytes | None:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        _insecure().wrap_socket(raw) as s,
    ):
        return s.getpeercert(binary_form=True)


def parse_certificate_of(name: str) -> bytes:
    """The DER bytes of the certificate in a PEM file (its first block)."""
    end = "-----END CERTIFICATE-----"
    return ssl.PEM_cert_to_DER_cert(tlscerts.read(name).decode().split(end)[0] + end + "\n")


async def test_check_ssl_marks_tls_servers_up_and_down(tmp_path: Path) -> None:
    """check-ssl health checks: the states, statuses and texts haproxy reports."""
    silent = free_port()
    listener = socket.create_server(("127.0.0.1", silent))  # accepts, never answers
    ca = tlscerts.path("ca.pem")
    async with backend(tls=True) as (srv, _), backend() as (plain, _):

        def text(port: int, sock: str) -> str:
            servers = (
                f"ok 127.0.0.1:{srv} check check-ssl verify none",
                f"inherit 127.0.0.1:{srv} check ssl verify none",
                f"plain 127.0.0.1:{plain} check check-ssl verify none",
                f"silent 127.0.0.1:{silent} check check-ssl verify none",
                f"name 127.0.0.1:{srv} check check-ssl verify required ca-file {ca} "
                "check-sni x.test",
                f"goodname 127.0.0.1:{srv} check check-ssl verify required ca-file {ca} "
                "check-sni b.test",
                f"tcp 127.0.0.1:{srv} check verify none",
            )
            return (
                f"global\n    stats socket {sock} level admin\n"
                + DEFAULTS.format(mode="tcp")
                + "    timeout check 500\n"
                + f"listen L\n    bind 127.0.0.1:{port}\n"
                + "".join(f"    server {line} inter 200\n" for line in servers)
            )

        mine, theirs = free_port(), free_port()
        sm, st = str(tmp_path / "m.sock"), str(tmp_path / "t.sock")
        want = {
            "ok": ("UP", "L6OK"),
            "inherit": ("UP", "L6OK"),
            "plain": ("DOWN", "L6RSP"),
            "silent": ("DOWN", "L6TOUT"),
            "name": ("DOWN", "L6RSP"),
            "goodname": ("UP", "L6OK"),
            "tcp": ("UP", "L4OK"),
        }
        with Haproxy(text(theirs, st)) as hap:
            hap.start(theirs)
            async with running(text(mine, sm)):
                results = []
                for sock in (sm, st):

                    async def done(sock: str = sock) -> tuple[bool, object]:
                        got = await asyncio.to_thread(_states, sock)
                        return {k: v[:2] for k, v in got.items()} == want, got

                    results.append(await poll(done))
                mine_got, theirs_got = results
                # haproxy 2.6.12 gives the name mismatch's description in most runs
                # and an empty one in some (seen under load): either is its answer
                if theirs_got["name"][2] == "":
                    theirs_got["name"] = mine_got["name"]
                assert mine_got == theirs_got
                assert results[0]["plain"][2] == "SSL handshake failure"
                assert results[0]["name"][2] == (
                    "Server presented an SSL certificate different from the expected one"
                )
    listener.close()


def _states(sock: str) -> dict[str, tuple[str, ...]]:
    """Server -> (status, check_status, last_chk) from ``show stat``."""
    lines = cli_command(sock, "show stat").splitlines()
    head = lines[0].lstrip("# ").split(",")
    out = {}
    for line in lines[1:]:
        if not line:
            continue
        row = dict(zip(head, line.split(","), strict=False))
        if row["svname"] in ("FRONTEND", "BACKEND"):
            continue
        # "* " marks a check in progress
        out[row["svname"]] = (row["status"], row["check_status"].lstrip("* "), row["last_chk"])
    return out


async def test_certificate_commands_answer_as_haproxy(tmp_path: Path) -> None:
    """``show ssl cert``, ``show ssl crt-list`` and the transaction commands, byte
    for byte (a crt-list line with options and filters, a directory, a file named
    twice), and their errors."""
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("a.pem", "b.pem"):
        (certs / name).write_bytes(tlscerts.read(name))
    lst = tmp_path / "l.lst"
    lst.write_text(
        f"{tlscerts.path('c.pem')} [alpn h2 verify none ciphers AES] c.test !x.test\n"
        f"{tlscerts.path('a.pem')}\n"
    )

    def text(port: int, sock: str) -> str:
        return (
            f"global\n    stats socket {sock} level admin\n"
            + DEFAULTS.format(mode="tcp")
            + f"listen L\n    bind 127.0.0.1:{port} ssl crt {tlscerts.path('a.pem')} "
            f"crt {certs} crt-list {lst}\n    server s1 127.0.0.1:9\n"
        )

    a = tlscerts.path("a.pem")
    commands = [
        "show ssl cert",
        f"show ssl cert {a}",
        f"show ssl cert {certs}/b.pem",
        "show ssl cert nope",
        "show ssl crt-list",
        f"show ssl crt-list {lst}",
        f"show ssl crt-list -n {lst}",
        f"show ssl crt-list {certs}/",
        "show ssl crt-list -n",
        "show ssl crt-list nope",
        f"commit ssl cert {a}",
        f"abort ssl cert {a}",
        "set ssl cert",
        f"set ssl cert /nope.pem <<\n{tlscerts.read('c.pem').decode()}\n",
        f"set ssl cert {a} <<\njunk\n\n",
        f"set ssl cert {a} <<\n{tlscerts.read('cert-only.pem').decode()}\n",
        f"commit ssl cert {a}",
        f"set ssl cert {a} <<\n{tlscerts.read('a2.pem').decode()}\n",
        f"show ssl cert *{a}",
        "show ssl cert",
        f"abort ssl cert {a}",
    ]
    mine, theirs = free_port(), free_port()
    sm, st = str(tmp_path / "m.sock"), str(tmp_path / "t.sock")
    with Haproxy(text(theirs, st)) as hap:
        hap.start(theirs)
        async with running(text(mine, sm)):
            for command in commands:
                got = await asyncio.to_thread(cli_command, sm, command)
                want = await asyncio.to_thread(cli_command, st, command)
                assert got == want, command


async def test_a_connection_beyond_maxconn_handshakes_when_it_gets_its_slot() -> None:
    """``bind ... maxconn 1``: a second client's handshake waits (in the backlog for
    haproxy, held for herdsman) until the first connection ends."""
    async with backend() as (srv, _):

        def text(port: int) -> str:
            return DEFAULTS.format(mode="tcp") + (
                f"listen L\n    bind 127.0.0.1:{port} ssl crt {tlscerts.path('a.pem')} maxconn 1\n"
                f"    server s1 127.0.0.1:{srv}\n"
            )

        async with both(text) as ports:
            for port in ports:
                first = await asyncio.open_connection(
                    "127.0.0.1", port, ssl=_insecure(), server_hostname=""
                )
                second = asyncio.ensure_future(client(port, send=b"x\n", timeout=20))
                done, _ = await asyncio.wait([second], timeout=0.5)
                assert not done  # no handshake while the slot is taken
                first[1].close()
                await first[1].wait_closed()
                got = await asyncio.wait_for(second, 20)
                assert got.get("reply") == RESPONSE, (port, got)


@pytest.mark.parametrize("dontlognull", [False, True])
async def test_failed_handshakes_are_logged_as_haproxy_logs_them(dontlognull: bool) -> None:
    """With a log format (``option tcplog``), a connection that ends before its
    session gets ``<ip>:<port> [<date>] <fe>/<listener>: <reason>``
    (``session_kill_embryonic()``): garbage, a client that closes before saying
    anything, one that closes mid-hello, a handshake that times out;
    ``dontlognull`` drops the closes without a word and the timeouts."""
    logs_mine, logs_theirs = Syslog(), Syslog()
    null = "    option dontlognull\n" if dontlognull else ""

    def text(port: int, log: int) -> str:
        return DEFAULTS.format(mode="tcp").replace("timeout client 5s", "timeout client 300") + (
            f"listen L\n    log 127.0.0.1:{log} format raw local0\n    option tcplog\n{null}"
            f"    bind 127.0.0.1:{port} ssl crt {tlscerts.path('a.pem')}\n"
            "    server s1 127.0.0.1:9\n"
        )

    mine, theirs = free_port(), free_port()
    with Haproxy(text(theirs, logs_theirs.port)) as hap:
        hap.start(theirs)
        async with running(text(mine, logs_mine.port)):
            for port in (mine, theirs):
                for first in (b"GET / HTTP/1.0\r\n\r\n", b"", b"\x16\x03\x01\x02\x00\x01\x00"):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    if first:
                        writer.write(first)
                    if first.startswith(b"GET"):
                        assert await asyncio.wait_for(reader.read(), 5) == b""
                    writer.close()
                    await writer.wait_closed()
                # a silent client: the handshake times out ("timeout client 300")
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"\x16\x03\x01")
                assert await asyncio.wait_for(reader.read(), 5) == b""
                writer.close()
                await writer.wait_closed()
            want = 1 if dontlognull else 4

            async def logged() -> tuple[bool, object]:
                mine, theirs = logs_mine.poll(), logs_theirs.poll()
                return len(mine) >= want and len(theirs) >= want, (mine, theirs)

            await poll(logged)
    logs_mine.close()
    logs_theirs.close()
    stamp = re.compile(r"^127\.0\.0\.1:\d+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] ")
    for lines in (logs_mine.lines, logs_theirs.lines):
        assert all(stamp.match(line) for line in lines), lines
    mine_lines = [stamp.sub("", line) for line in logs_mine.lines]
    theirs_lines = [stamp.sub("", line) for line in logs_theirs.lines]
    assert mine_lines == theirs_lines
    expected = ["L/1: SSL handshake failure"]
    if not dontlognull:  # dontlognull: no code yet for a close or a timeout
        expected += ["L/1: Connection closed during SSL handshake"] * 2
        expected += ["L/1: Timeout during SSL handshake"]
    assert mine_lines == expected
