"""``option nolinger`` and how a timed-out TCP stream is closed, as haproxy 2.6.12 does it.

``nolinger`` in a frontend applies to client connections, in a backend to
server connections (HAProxy's ``FD_LINGER_RISK`` and ``CO_FL_NOLINGER``):
closing them sends a reset. On a timeout, HAProxy shuts the client side
(FIN) before closing it, and aborts the server side (FIN then reset, or the
reset alone with the backend's ``nolinger``). Each socket's end is observed
from the peer: what reading returns first, then the TCP state (CLOSE_WAIT:
only a FIN came; CLOSE: a reset came).
"""

from __future__ import annotations

import socket

import proc_helpers
import pytest
from proc_helpers import PROGRAMS, TCP_CLOSE, Runner, wait_until

from herdsman.testing import free_port, listening

proc_dir = proc_helpers.proc_dir  # fixtures
proc_runner = proc_helpers.proc_runner


def _first_read(sock: socket.socket) -> str:
    sock.settimeout(10)
    try:
        data = sock.recv(100)
    except ConnectionResetError:
        return "reset"
    assert data == b""
    return "fin"


def _tcp_state(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def _end(sock: socket.socket, expect_reset: bool) -> str:
    """ "fin", "fin+reset" or "reset", waiting (with a deadline) for an expected reset."""
    first = _first_read(sock)
    if first == "reset":
        return first
    if expect_reset:
        wait_until(lambda: _tcp_state(sock) == TCP_CLOSE, "a reset", timeout=5)
    return "fin+reset" if _tcp_state(sock) == TCP_CLOSE else "fin"


def _config(port: int, server_port: int, fe_opt: str, be_opt: str) -> str:
    return f"""\
defaults
    mode tcp
    timeout connect 2s
    timeout client 300ms
    timeout server 300ms
frontend f
    bind 127.0.0.1:{port}
    {fe_opt}
    default_backend b
backend b
    {be_opt}
    server s1 127.0.0.1:{server_port}
"""


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize(
    ("fe_opt", "be_opt", "client", "server"),
    [
        ("", "", "fin", "fin+reset"),
        ("option nolinger", "", "fin+reset", "fin+reset"),
        ("", "option nolinger", "fin", "reset"),
        ("option nolinger", "option nolinger", "fin+reset", "reset"),
    ],
)
def test_timed_out_stream_closes_as_haproxy(
    proc_runner: Runner,
    program: list[str] | None,
    fe_opt: str,
    be_opt: str,
    client: str,
    server: str,
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.settimeout(10)
        port = free_port()
        proc_runner.write("h.cfg", _config(port, listener.getsockname()[1], fe_opt, be_opt))
        proc = proc_runner.start(["-db", "-f", "h.cfg"], program)
        wait_until(lambda: listening(port) or proc.popen.poll() is not None, "a listener")
        assert proc.popen.poll() is None, proc.stderr()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as cli:
            srv_conn, _ = listener.accept()
            with srv_conn:
                got = (_end(cli, "reset" in client), _end(srv_conn, "reset" in server))
    assert got == (client, server)
