"""The ``ssl_fc*``/``ssl_c_*`` fetches of a TLS client connection, in herdsman and in
haproxy 2.6.12 side by side: every fetch echoed by ``http-request return ...
lf-string``, used in ACLs choosing a backend, in ``http-request set-header``
(``%{+Q}``) and ``http-response set-header``, for a client without certificate,
with a verified certificate (``verify optional`` + ``ca-file``), TLS 1.2 and 1.3,
ALPN offered or not, a resumed session, and plain HTTP. The responses' bytes
must be equal.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from herdsman.testing import Haproxy, Syslog, free_port, running

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tlscerts

pytestmark = pytest.mark.haproxy

FETCHES = [
    "ssl_fc",
    "ssl_fc_has_sni",
    "ssl_fc_is_resumed",
    "ssl_fc_sni",
    "ssl_fc_protocol",
    "ssl_fc_cipher",
    "ssl_fc_alpn",
    "ssl_fc_use_keysize",
    "ssl_fc_alg_keysize",
    "ssl_c_used",
    "ssl_c_verify",
    "ssl_c_s_dn",
    "ssl_c_i_dn",
    "ssl_c_sha1,hex",
    "ssl_c_serial,hex",
    "ssl_c_s_dn(CN)",
    "ssl_c_i_dn(o,-1)",
    "ssl_c_s_dn(,0,rfc2253)",
    "ssl_c_i_dn(,0,rfc2253)",
    "ssl_c_der,length",
]
BODY = "%[be_name]\\n" + "".join(f"{f}=%[{f}]\\n" for f in FETCHES)


def _config(tls_port: int, plain_port: int, origin: int) -> str:
    echo = (
        '    http-request return status 200 content-type text/plain lf-string "'
        + BODY
        + '" hdr X-SSL-Client-DN "%{+Q}[ssl_c_s_dn]"\n'
    )
    return (
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        "frontend fe\n"
        f"    bind 127.0.0.1:{tls_port} ssl crt {tlscerts.path('a.pem')} verify optional "
        f"ca-file {tlscerts.path('ca.pem')} alpn http/1.1\n"
        f"    bind 127.0.0.1:{plain_port}\n"
        "    http-request set-header X-SSL-Client-DN %{+Q}[ssl_c_s_dn]\n"
        "    http-request set-header X-SNI %[ssl_fc_sni] if { ssl_fc_has_sni }\n"
        "    use_backend origin if { path /origin }\n"
        "    use_backend cert if { ssl_c_used } { ssl_c_verify 0 }\n"
        "    use_backend tls13 if { ssl_fc_protocol TLSv1.3 }\n"
        "    use_backend tls if { ssl_fc }\n"
        "    default_backend plain\n"
        + "".join(f"backend {name}\n{echo}" for name in ("cert", "tls13", "tls", "plain"))
        + "backend origin\n"
        "    http-response set-header X-Cipher %[ssl_fc_cipher]\n"
        "    http-response set-header X-Alpn %[ssl_fc_alpn] if { ssl_fc_alpn -m found }\n"
        f"    server o 127.0.0.1:{origin}\n"
    )


async def _origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers with the request head it was given as the body."""
    head = await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(head), head))
    await writer.drain()
    writer.close()


@asynccontextmanager
async def both() -> AsyncIterator[tuple[tuple[int, int], tuple[int, int]]]:
    """(TLS port, plain port) of herdsman, then of haproxy."""
    server = await asyncio.start_server(_origin, "127.0.0.1", 0)
    origin = server.sockets[0].getsockname()[1]
    mine = (free_port(), free_port())
    theirs = (free_port(), free_port())
    try:
        with Haproxy(_config(*theirs, origin)) as hap:
            hap.start(theirs[0])
            async with running(_config(*mine, origin)):
                yield mine, theirs
    finally:
        server.close()


def _get(
    port: int,
    path: str,
    tls: bool = True,
    sni: str | None = "a.example",
    cert: str | None = None,
    alpn: list[str] | None = None,
    tls12: bool = False,
    session: Any = None,
) -> tuple[bytes, Any]:
    """One request; the whole response, and the TLS session for a resumption."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        if not tls:
            return _exchange(raw, path), None
        ctx = _context(cert, tuple(alpn or ()), tls12)
        with ctx.wrap_socket(raw, server_hostname=sni, session=session) as s:
            return _exchange(s, path), s.session


@functools.cache
def _context(cert: str | None, alpn: tuple[str, ...], tls12: bool) -> ssl.SSLContext:
    """One client context per settings: a session resumes with its own context."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if cert:
        ctx.load_cert_chain(cert)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def _exchange(s: socket.socket, path: str) -> bytes:
    s.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode())
    got = b""
    while chunk := s.recv(65536):
        got += chunk
    return got


def rich_client_cert(directory: Path) -> str:
    """A client certificate signed by the tests' CA whose subject needs RFC 2253's
    escapes and repeats an attribute."""
    ca = tlscerts.certs()

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "r.key")
    subj = "/C=FR/O=Herd, Inc./OU=dev\\+ops/OU=\\#lab /CN=r\u00e9my <x@y>;"
    run("req", "-new", "-key", "r.key", "-subj", subj, "-utf8", "-out", "r.csr")
    run("x509", "-req", "-in", "r.csr", "-CA", str(ca / "ca.crt"), "-CAkey", str(ca / "ca.key"),
        "-set_serial", "0x00c0ffee", "-days", "2", "-out", "r.crt")  # fmt: skip
    pem = directory / "r.pem"
    pem.write_bytes((directory / "r.crt").read_bytes() + (directory / "r.key").read_bytes())
    return str(pem)


async def test_fetches_echoed_as_haproxy_does(tmp_path: Path) -> None:
    rich = rich_client_cert(tmp_path)
    client = tlscerts.path("client.pem")
    cases: list[dict[str, Any]] = [
        {"alpn": ["h2", "http/1.1"]},
        {"cert": client},
        {"cert": client, "tls12": True, "alpn": ["h2", "http/1.1"]},
        {"tls12": True, "sni": None},
        {"cert": rich, "alpn": ["h2"]},  # no common protocol: no ALPN
        {"tls": False},
    ]
    async with both() as (mine, theirs):
        for case in cases:
            for path in ("/", "/origin"):
                port = 0 if case.get("tls", True) else 1
                got = [
                    (await asyncio.to_thread(_get, ports[port], path, **case))[0]
                    for ports in (mine, theirs)
                ]
                assert got[0] == got[1], (case, path)
                assert got[0].startswith(b"HTTP/1.1 200 OK\r\n"), got[0]
        # what the cases show, beyond being equal
        text, _ = await asyncio.to_thread(_get, mine[0], "/", cert=rich)
        assert b"\r\n\r\ncert\nssl_fc=1\n" in text
        dn = rb"CN=r\C3\A9my \<x@y\>\;,OU=\#lab\ ,OU=dev\+ops,O=Herd\, Inc.,C=FR"
        assert b"\nssl_c_s_dn(,0,rfc2253)=" + dn + b"\n" in text
        assert b"\nssl_c_serial,hex=C0FFEE\n" in text
        plain, _ = await asyncio.to_thread(_get, mine[1], "/", tls=False)
        assert (
            b"\r\n\r\nplain\nssl_fc=0\nssl_fc_has_sni=0\nssl_fc_is_resumed=0\nssl_fc_sni=\n"
            in plain
        )


async def test_a_resumed_session() -> None:
    async with both() as (mine, theirs):
        seen = []
        for ports in (mine, theirs):
            first, session = await asyncio.to_thread(_get, ports[0], "/", tls12=True)
            again, _ = await asyncio.to_thread(_get, ports[0], "/", tls12=True, session=session)
            assert b"\nssl_fc_is_resumed=0\n" in first
            seen.append(again)
        assert seen[0] == seen[1]
        assert b"\nssl_fc_is_resumed=1\n" in seen[0]


class _Named(asyncio.Protocol):
    """A TCP server answering its name to the first bytes."""

    def __init__(self, name: bytes) -> None:
        self.name = name

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.tr: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.tr.write(self.name + b"\n")
        self.tr.close()


async def test_tcp_mode_routes_terminated_connections_by_sni() -> None:
    """``mode tcp`` with an ``ssl`` bind line: ``use_backend`` on ``ssl_fc_sni`` and
    ``ssl_c_used``, the relayed bytes decrypted."""
    loop = asyncio.get_running_loop()
    servers = {
        name: await loop.create_server(lambda n=name: _Named(n.encode()), "127.0.0.1", 0)
        for name in ("b1", "cert", "bd")
    }
    ports = {name: srv.sockets[0].getsockname()[1] for name, srv in servers.items()}

    def text(port: int) -> str:
        return (
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
            "    timeout server 5s\n"
            f"frontend fe\n    bind 127.0.0.1:{port} ssl crt {tlscerts.path('a.pem')} "
            f"verify optional ca-file {tlscerts.path('ca.pem')}\n"
            "    tcp-request content reject if { ssl_fc_protocol TLSv1.1 }\n"
            "    use_backend cert if { ssl_c_used }\n"
            "    use_backend b1 if { ssl_fc_sni -i a.example }\n"
            "    default_backend bd\n"
            + "".join(f"backend {n}\n    server s 127.0.0.1:{p}\n" for n, p in ports.items())
        )

    def ask(port: int, sni: str | None, cert: str | None) -> bytes:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            _context(cert, (), False).wrap_socket(raw, server_hostname=sni) as s,
        ):
            s.sendall(b"hello\n")
            return s.recv(100)

    mine, theirs = free_port(), free_port()
    try:
        with Haproxy(text(theirs)) as hap:
            hap.start(theirs)
            async with running(text(mine)):
                for sni, cert, expected in (
                    ("A.example", None, b"b1\n"),
                    ("other.example", None, b"bd\n"),
                    (None, None, b"bd\n"),
                    ("a.example", tlscerts.path("client.pem"), b"cert\n"),
                ):
                    got = [await asyncio.to_thread(ask, p, sni, cert) for p in (mine, theirs)]
                    assert got == [expected, expected], sni
    finally:
        for srv in servers.values():
            srv.close()


async def test_in_traffic_log_lines() -> None:
    """``log-format`` with the fetches: the lines of a TLS and of a plain request."""
    fmt = "%[ssl_fc] %[ssl_fc_sni] %{+Q}[ssl_fc_protocol] %[ssl_c_s_dn(CN)] %[ssl_fc_alpn]"
    logs = {"mine": Syslog(), "theirs": Syslog()}

    def text(ports: tuple[int, int], log: int) -> str:
        return (
            "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
            "    timeout server 5s\n"
            f"frontend fe\n    log 127.0.0.1:{log} format raw local0\n"
            f'    log-format "{fmt}"\n'
            f"    bind 127.0.0.1:{ports[0]} ssl crt {tlscerts.path('a.pem')} verify optional "
            f"ca-file {tlscerts.path('ca.pem')} alpn http/1.1\n"
            f"    bind 127.0.0.1:{ports[1]}\n"
            '    http-request return status 200 content-type text/plain string "ok"\n'
        )

    mine, theirs = (free_port(), free_port()), (free_port(), free_port())
    try:
        with Haproxy(text(theirs, logs["theirs"].port)) as hap:
            hap.start(theirs[0])
            async with running(text(mine, logs["mine"].port)):
                for ports in (mine, theirs):
                    cert = tlscerts.path("client.pem")
                    await asyncio.to_thread(_get, ports[0], "/", cert=cert, alpn=["http/1.1"])
                    await asyncio.to_thread(_get, ports[1], "/", tls=False)
                got = [await logs[k].wait_count(2, timeout=15) for k in ("mine", "theirs")]
    finally:
        for log in logs.values():
            log.close()
    assert got[0] == got[1]
    assert got[0] == ['1 a.example "TLSv1.3" client.test http/1.1', '0 - "" - -']
