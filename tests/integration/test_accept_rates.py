"""Accept rate limits (spec §2.2) as haproxy 2.6.12 applies them.

Global ``maxconnrate``/``maxsessrate`` and a frontend's ``rate-limit
sessions`` count accepted connections over a one-second sliding window
(``freq_ctr``). Twelve clients connect at once to a limit of 5 per second:
five are served at once, the others wait in the kernel backlog (none is
refused) and are accepted one by one as the window slides: the sixth when
the first second ends, then one every 200 ms (``next_event_delay()``).
The backend server greets each connection, so a client knows when it was
accepted and forwarded.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator

import proc_helpers
import pytest
from proc_helpers import PROGRAMS, Runner, wait_until

from herdsman.testing import free_port, listening

proc_dir = proc_helpers.proc_dir  # fixtures
proc_runner = proc_helpers.proc_runner

CLIENTS = 12
RATE = 5


@pytest.fixture
def greeter() -> Iterator[int]:
    """A server that writes ``hi`` to every connection it accepts."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            conn.sendall(b"hi")
            conns.append(conn)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(5)
    for c in conns:
        c.close()
    srv.close()


def _config(port: int, server_port: int, global_kw: str, frontend_kw: str) -> str:
    # one thread, as herdsman: with several, haproxy counts a session on the
    # thread that takes it after the accepting thread checked the limit, so a
    # burst may pass maxsessrate (accept_queue_process())
    return f"""\
global
    nbthread 1
    {global_kw}
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend f
    bind 127.0.0.1:{port}
    {frontend_kw}
    default_backend b
backend b
    server s1 127.0.0.1:{server_port}
"""


def _greeted_at(port: int) -> list[float]:
    """Connect CLIENTS clients at once; each one's delay until its greeting, sorted."""
    start = time.monotonic()
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(CLIENTS)]
    times: list[float] = []
    with selectors.DefaultSelector() as sel:
        for c in clients:
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ)
        deadline = start + 10
        while len(times) < CLIENTS and time.monotonic() < deadline:
            for key, _ in sel.select(deadline - time.monotonic()):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                assert sock.recv(10) == b"hi"  # accepted and forwarded, never refused
                times.append(time.monotonic() - start)
                sel.unregister(sock)
    for c in clients:
        c.close()
    return sorted(times)


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize(
    ("global_kw", "frontend_kw"),
    [
        (f"maxconnrate {RATE}", ""),
        (f"maxsessrate {RATE}", ""),
        ("", f"rate-limit sessions {RATE}"),
    ],
    ids=["maxconnrate", "maxsessrate", "rate-limit-sessions"],
)
def test_accepts_follow_the_sliding_window(
    proc_runner: Runner, program: list[str] | None, greeter: int, global_kw: str, frontend_kw: str
) -> None:
    port = free_port()
    proc_runner.write("h.cfg", _config(port, greeter, global_kw, frontend_kw))
    proc = proc_runner.start(["-db", "-f", "h.cfg"], program)
    wait_until(lambda: listening(port) or proc.popen.poll() is not None, "a listener")
    assert proc.popen.poll() is None, proc.stderr()
    times = _greeted_at(port)
    assert len(times) == CLIENTS, times
    # a full window's worth at once
    assert sum(t < 0.6 for t in times) == RATE, times
    later = times[RATE:]
    # then one every 1000/RATE ms once the first second has passed; a late
    # accept lets the next one come sooner, so the bounds are cumulative
    for k, t in enumerate(later):
        assert t >= 0.75 + k * (1 / RATE) - 0.05, times
    assert times[-1] < 0.75 + (CLIENTS - RATE) / RATE + 1.0, times
