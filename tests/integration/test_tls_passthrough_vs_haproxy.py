"""TLS passthrough in ``mode tcp``: herdsman and haproxy 2.6.12 route TLS clients by
the ClientHello (``req.ssl_sni``, ``req.ssl_hello_type``, ``req.ssl_ver``) behind
``tcp-request inspect-delay``, without decrypting: the client sees the certificate
of the TLS origin it reached. Same configuration, same clients (Python's ``ssl``,
``openssl s_client`` and raw hellos), side by side.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from herdsman.testing import Haproxy, free_port, running

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tlscerts

pytestmark = pytest.mark.haproxy

DEFAULTS = """\
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
"""


def _which(der: bytes | None) -> str:
    """Which of the origins' certificates (``a``, ``b``, ``c``) ``der`` is."""
    for name in "abc":
        if ssl.PEM_cert_to_DER_cert(tlscerts.read(f"{name}.crt").decode()) == der:
            return name
    return "?"


class Origin(asyncio.Protocol):
    """Answers the first bytes it receives with its name (over TLS or not)."""

    name = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.tr: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.tr.write(self.name + b"\n")
        self.tr.close()


@asynccontextmanager
async def origin(name: str, pem: str | None) -> AsyncIterator[int]:
    """A server named ``name``: TLS with the certificate ``pem``, else plain."""
    ctx = None
    if pem is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tlscerts.path(pem))
    port = free_port()

    def make() -> Origin:
        proto = Origin()
        proto.name = name.encode()
        return proto

    server = await asyncio.get_running_loop().create_server(make, "127.0.0.1", port, ssl=ctx)
    try:
        yield port
    finally:
        server.close()


@asynccontextmanager
async def both(text: Callable[[int], str]) -> AsyncIterator[tuple[int, int]]:
    mine, theirs = free_port(), free_port()
    with Haproxy(text(theirs)) as hap:
        hap.start(theirs)
        async with running(text(mine)):
            yield mine, theirs


def _tls_client(port: int, sni: str | None, max_tls12: bool) -> dict[str, Any]:
    """One TLS connection with Python's ssl: the certificate seen and the reply."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if max_tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    out: dict[str, Any] = {}
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=sni) as s,
        ):
            out["cert"] = _which(s.getpeercert(binary_form=True))
            out["version"] = s.version()
            s.sendall(b"hello\n")
            out["reply"] = s.recv(100)
    except (ssl.SSLError, OSError) as exc:
        out["error"] = type(exc).__name__
    return out


def _raw_client(port: int, data: bytes) -> bytes:
    """Send ``data`` (in two writes: the first 3 bytes, then the rest, so that the
    proxy has to wait for a hello), then read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data[:3])
        s.sendall(data[3:])
        got = b""
        while chunk := s.recv(4096):
            got += chunk
        return got


def client_hello(sni: str | None, *, maximum: ssl.TLSVersion | None = None) -> bytes:
    """The ClientHello OpenSSL sends (Python's ``ssl`` over memory buffers)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if maximum is not None:
        ctx.maximum_version = maximum
    out = ssl.MemoryBIO()
    obj = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname=sni)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


async def s_client(port: int, *args: str) -> list[str]:
    """``openssl s_client``'s lines about the certificate it was given."""
    proc = await asyncio.create_subprocess_exec(
        "openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    keep = ("subject=", "issuer=", "Verify return code")
    return [line for line in out.decode(errors="replace").splitlines() if line.startswith(keep)]


def _sni_config(ports: dict[str, int]) -> Callable[[int], str]:
    def text(port: int) -> str:
        return DEFAULTS + (
            f"frontend fe\n    bind 127.0.0.1:{port}\n"
            "    tcp-request inspect-delay 5s\n"
            "    tcp-request content accept if { req_ssl_hello_type 1 }\n"
            "    use_backend b1 if { req.ssl_sni -i a.example }\n"
            "    use_backend b2 if { req.ssl_sni -i b.example }\n"
            "    default_backend bd\n"
            f"backend b1\n    server s 127.0.0.1:{ports['b1']}\n"
            f"backend b2\n    server s 127.0.0.1:{ports['b2']}\n"
            f"backend bd\n    server s 127.0.0.1:{ports['bd']}\n"
        )

    return text


async def test_tls_clients_reach_the_origin_their_sni_names() -> None:
    async with AsyncExitStack() as stack:
        ports = {
            be: await stack.enter_async_context(origin(be, pem))
            for be, pem in (("b1", "a.pem"), ("b2", "b.pem"), ("bd", "c.pem"))
        }
        mine, theirs = await stack.enter_async_context(both(_sni_config(ports)))
        for sni, cert, name in (
            ("a.example", "a", b"b1"),
            ("A.Example", "a", b"b1"),  # -i
            ("b.example", "b", b"b2"),
            ("c.example", "c", b"bd"),
            (None, "c", b"bd"),  # no server_name extension: the default backend
        ):
            for max_tls12 in (False, True):
                got = [
                    await asyncio.to_thread(_tls_client, port, sni, max_tls12)
                    for port in (mine, theirs)
                ]
                assert got[0] == got[1], (sni, got)
                # the origin's certificate: nobody decrypted in between
                assert got[0]["cert"] == cert, sni
                assert got[0]["reply"] == name + b"\n"
                assert got[0]["version"] == ("TLSv1.2" if max_tls12 else "TLSv1.3")
        for args, cn in ((("-servername", "b.example"), "b.test"), (("-noservername",), "c.test")):
            seen = [await s_client(port, *args) for port in (mine, theirs)]
            assert seen[0] == seen[1]
            assert any(line.startswith("subject=") and f"CN = {cn}" in line for line in seen[0])


async def test_a_plain_client_and_a_hello_in_pieces() -> None:
    """A client that does not speak TLS fails ``req_ssl_hello_type`` at once: no rule
    accepts, the content rules end (accept), no SNI: the default backend gets its
    bytes. A hello arriving in pieces is waited for."""
    async with AsyncExitStack() as stack:
        ports = {be: await stack.enter_async_context(origin(be, None)) for be in ("b1", "b2", "bd")}
        mine, theirs = await stack.enter_async_context(both(_sni_config(ports)))
        for data, expected in (
            (b"GET / HTTP/1.0\r\n\r\n", b"bd\n"),
            (b"SSH-2.0-OpenSSH_9.2\r\n", b"bd\n"),
            (client_hello("b.example"), b"b2\n"),
            (client_hello("a.example", maximum=ssl.TLSVersion.TLSv1_2), b"b1\n"),
            (client_hello(None), b"bd\n"),
        ):
            got = [await asyncio.to_thread(_raw_client, port, data) for port in (mine, theirs)]
            assert got == [expected, expected], data[:20]


def _version(data: bytes, major: int, minor: int) -> bytes:
    """A ClientHello whose client_version (after the record and handshake headers)
    is ``major.minor``."""
    return data[:9] + bytes([major, minor]) + data[11:]


async def test_routing_on_the_hello_version() -> None:
    """``req.ssl_ver`` reads the ClientHello's version (TLS 1.3 clients announce 3.3,
    TLS 1.2's too), matched as dotted numbers."""
    async with AsyncExitStack() as stack:
        ports = {
            be: await stack.enter_async_context(origin(be, None))
            for be in ("modern", "old", "other")
        }

        def text(port: int) -> str:
            return DEFAULTS + (
                f"frontend fe\n    bind 127.0.0.1:{port}\n"
                "    tcp-request inspect-delay 5s\n"
                "    tcp-request content accept if { req.ssl_hello_type 1 }\n"
                "    use_backend modern if { req.ssl_ver 3.3 }\n"
                "    use_backend old if { req_ssl_ver 3.0:3.2 }\n"
                "    default_backend other\n"
                + "".join(f"backend {be}\n    server s 127.0.0.1:{p}\n" for be, p in ports.items())
            )

        mine, theirs = await stack.enter_async_context(both(text))
        hello = client_hello("x.example", maximum=ssl.TLSVersion.TLSv1_2)
        for data, expected in (
            (client_hello("x.example"), b"modern\n"),
            (hello, b"modern\n"),
            (_version(hello, 3, 1), b"old\n"),
            (_version(hello, 3, 0), b"old\n"),
            (_version(hello, 3, 4), b"other\n"),
            (b"plain text\n", b"other\n"),
        ):
            got = [await asyncio.to_thread(_raw_client, port, data) for port in (mine, theirs)]
            assert got == [expected, expected], data[:12]
