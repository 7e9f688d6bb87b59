"""The life cycle of a standalone process: foreground, daemon, signals, -sf/-st, binding.

Where haproxy's behaviour is the specification, the scenario runs against
both programs (``program`` parameter): the same signals must have the same
observable effects on connections, exit codes and pid files.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import proc_helpers
import pytest
from proc_helpers import (
    DEADLINE,
    HAPROXY,
    PROGRAMS,
    Client,
    EchoServer,
    Runner,
    alive,
    echo_once,
    holds,
    listen_cfg,
    listen_inodes,
    needs_haproxy,
    normalise,
    pidfile_pid,
    refused,
    serves,
    start_serving,
    wait_until,
)

from herdsman.testing import free_port

proc_dir = proc_helpers.proc_dir  # fixtures
proc_runner = proc_helpers.proc_runner
proc_echo = proc_helpers.proc_echo

Echo = Callable[[bytes], EchoServer]

# Prints the name of each signal it gets: stands for an old process of -sf.
RECORDER = """
import os, signal
def note(n, _):
    os.write(1, (signal.Signals(n).name + "\\n").encode())
for s in (signal.SIGTTOU, signal.SIGTTIN, signal.SIGUSR1, signal.SIGTERM):
    signal.signal(s, note)
os.write(1, b"ready\\n")
while True:
    signal.pause()
"""


def recorder() -> subprocess.Popen[bytes]:
    rec = subprocess.Popen([sys.executable, "-c", RECORDER], stdout=subprocess.PIPE)
    assert rec.stdout is not None
    assert os.read(rec.stdout.fileno(), 6) == b"ready\n"
    return rec


def recorded(rec: subprocess.Popen[bytes], last: str) -> list[str]:
    """The signals the recorder noted, once it has noted ``last`` (it may still be pending)."""
    assert rec.stdout is not None
    fd = rec.stdout.fileno()
    data = b""
    end = time.monotonic() + DEADLINE
    while last.encode() not in data and select.select([fd], [], [], end - time.monotonic())[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    rec.kill()
    rec.wait(10)
    rec.stdout.close()
    return data.decode().split()


# -- foreground, daemon --------------------------------------------------------------


@pytest.mark.parametrize("program", PROGRAMS)
def test_foreground_serves_and_sigterm_stops_at_once(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """-db serves in the foreground, writes no pid file; SIGTERM kills it with its connections."""
    srv = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, srv.port))
    proc = start_serving(proc_runner, port, ["-db", "-p", "fg.pid", "-f", "h.cfg"], program)
    conn = Client(port)
    assert conn.echo(b"hello") == b"Ahello"
    assert not proc_runner.path("fg.pid").exists()  # haproxy writes it in daemon/master mode only
    proc.signal(signal.SIGTERM)
    assert proc.wait() == -signal.SIGTERM
    assert conn.closed()
    conn.close()


@pytest.mark.parametrize("program", PROGRAMS)
def test_daemon_with_pidfile(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """-D -p: the command returns once the daemon serves; the pid file holds the daemon's pid."""
    srv = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, srv.port))
    launcher = proc_runner.start(["-D", "-p", "d.pid", "-f", "h.cfg"], program)
    assert launcher.wait() == 0
    pid = proc_runner.adopt(pidfile_pid(proc_runner.path("d.pid")))
    assert pid != launcher.pid
    assert proc_runner.path("d.pid").read_text() == f"{pid}\n"
    assert os.getsid(pid) == pid  # a session of its own: detached from the terminal
    assert os.readlink(f"/proc/{pid}/fd/1") == "/dev/null"
    assert serves(port, b"A")
    os.kill(pid, signal.SIGUSR1)
    wait_until(lambda: not alive(pid), "the daemon to stop")


# -- signals -------------------------------------------------------------------------


@pytest.mark.parametrize("program", PROGRAMS)
def test_soft_stop_lets_connections_finish(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """SIGUSR1: the listener closes at once, a live connection flows until it ends, then exit 0."""
    srv = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, srv.port))
    proc = start_serving(proc_runner, port, ["-db", "-f", "h.cfg"], program)
    conn = Client(port)
    assert conn.echo(b"1") == b"A1"
    proc.signal(signal.SIGUSR1)
    wait_until(lambda: refused(port), "new connections to be refused")
    assert conn.echo(b"2") == b"A2"
    assert proc.popen.poll() is None
    assert "Proxy l1 stopped (cumulated conns: FE: " in proc.stderr()
    conn.close()
    assert proc.wait() == 0


@pytest.mark.parametrize("program", PROGRAMS)
def test_hard_stop_after_bounds_the_soft_stop(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """hard-stop-after: connections still open that long after SIGUSR1 are closed, exit 0."""
    srv = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, srv.port, "    hard-stop-after 200ms\n"))
    proc = start_serving(proc_runner, port, ["-db", "-f", "h.cfg"], program)
    conn = Client(port)
    assert conn.echo(b"1") == b"A1"
    proc.signal(signal.SIGUSR1)
    assert proc.wait() == 0
    assert conn.closed()
    conn.close()
    err = normalise(proc.stderr())
    assert "[WARNING]  (pid) : soft-stop running for too long, performing a hard-stop." in err
    assert "[WARNING]  (pid) : Proxy l1 hard-stopped (1 remaining conns will be closed)." in err


@pytest.mark.parametrize("program", PROGRAMS)
def test_pause_and_resume(proc_runner: Runner, proc_echo: Echo, program: list[str] | None) -> None:
    """SIGTTOU: connections are refused, live ones go on; SIGTTIN: accepted again."""
    srv = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, srv.port))
    proc = start_serving(proc_runner, port, ["-db", "-f", "h.cfg"], program)
    conn = Client(port)
    proc.signal(signal.SIGTTOU)
    wait_until(lambda: refused(port), "the pause")
    assert conn.echo(b"1") == b"A1"
    proc.signal(signal.SIGTTIN)
    wait_until(lambda: serves(port, b"A"), "the resume")
    conn.close()
    err = normalise(proc.stderr())
    assert err[:2] == [
        "[WARNING]  (pid) : Paused proxy l1.",
        "[WARNING]  (pid) : Resumed proxy l1.",
    ]


def test_maxconn_from_the_command_line(proc_runner: Runner, proc_echo: Echo) -> None:
    """-n 1: a second client waits in the backlog until the first one leaves."""
    srv = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, srv.port))
    start_serving(proc_runner, port, ["-db", "-n", "1", "-f", "h.cfg"])
    first = Client(port)
    assert first.echo(b"1") == b"A1"
    second = Client(port)
    second.sock.sendall(b"2")
    assert second.silent_for(0.3)
    first.close()
    assert second.sock.recv(100) == b"A2"
    second.close()


def test_inherited_fd_listener(proc_runner: Runner, proc_echo: Echo) -> None:
    """bind fd@<n>: a listening socket created by the caller and passed down."""
    srv = proc_echo(b"A")
    with socket.socket() as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(16)
        port = lsock.getsockname()[1]
        text = listen_cfg(port, srv.port).replace(f"127.0.0.1:{port}", f"fd@{lsock.fileno()}")
        proc_runner.write("h.cfg", text)
        proc = proc_runner.start(["-db", "-f", "h.cfg"], pass_fds=(lsock.fileno(),))
    wait_until(lambda: serves(port, b"A"), "the inherited listener")
    proc.signal(signal.SIGUSR1)
    assert proc.wait() == 0


# -- -sf / -st, binding --------------------------------------------------------------


def test_sf_takes_over_without_refusing_a_connection(proc_runner: Runner, proc_echo: Echo) -> None:
    """-sf: the new process serves the port, the old one finishes its connection and exits;
    a client connecting in a loop meanwhile never fails."""
    a, b = proc_echo(b"A"), proc_echo(b"B")
    port = free_port()
    proc_runner.write("a.cfg", listen_cfg(port, a.port))
    proc_runner.write("b.cfg", listen_cfg(port, b.port))
    old = start_serving(proc_runner, port, ["-db", "-f", "a.cfg"])
    [queue] = listen_inodes(port)
    long = Client(port)
    assert long.echo(b"x") == b"Ax"
    results: list[bytes | Exception] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            try:
                results.append(echo_once(port)[:1])
            except OSError as exc:
                results.append(exc)

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        wait_until(lambda: len(results) > 20, "connections to the old process")
        new = proc_runner.start(["-db", "-f", "b.cfg", "-sf", str(old.pid)])
        old.wait_stderr("Proxy l1 stopped")
        seen = len(results)
        wait_until(lambda: results[seen:].count(b"B") > 20, "connections to the new process")
    finally:
        stop.set()
        thread.join()
    assert [r for r in results if isinstance(r, Exception)] == []
    assert results[0] == b"A"
    assert results[-1] == b"B"
    assert long.echo(b"y") == b"Ay"  # the old process still serves what it had
    assert old.popen.poll() is None
    long.close()
    assert old.wait() == 0
    assert serves(port, b"B")
    assert new.popen.poll() is None
    # the new process took the old one's socket over: one accept queue throughout
    assert listen_inodes(port) == {queue}
    assert holds(new.pid, queue)


@needs_haproxy
def test_sf_replaces_a_running_haproxy(proc_runner: Runner, proc_echo: Echo) -> None:
    """herdsman -sf <haproxy's pid>: it binds beside haproxy (SO_REUSEPORT), haproxy finishes."""
    a, b = proc_echo(b"A"), proc_echo(b"B")
    port = free_port()
    proc_runner.write("a.cfg", listen_cfg(port, a.port))
    proc_runner.write("b.cfg", listen_cfg(port, b.port))
    old = start_serving(proc_runner, port, ["-db", "-f", "a.cfg"], [HAPROXY or "haproxy"])
    long = Client(port)
    assert long.echo(b"x") == b"Ax"
    proc_runner.start(["-db", "-f", "b.cfg", "-sf", str(old.pid)])
    old.wait_stderr("Proxy l1 stopped")
    wait_until(lambda: serves(port, b"B"), "herdsman")
    assert long.echo(b"y") == b"Ay"
    long.close()
    assert old.wait() == 0


def test_st_terminates_the_old_process(proc_runner: Runner, proc_echo: Echo) -> None:
    """-st: the old process is killed at once (SIGTERM), the new one serves."""
    a, b = proc_echo(b"A"), proc_echo(b"B")
    port = free_port()
    proc_runner.write("a.cfg", listen_cfg(port, a.port))
    proc_runner.write("b.cfg", listen_cfg(port, b.port))
    old = start_serving(proc_runner, port, ["-db", "-f", "a.cfg"])
    long = Client(port)
    assert long.echo(b"x") == b"Ax"
    proc_runner.start(["-db", "-f", "b.cfg", "-st", str(old.pid)])
    assert old.wait() == -signal.SIGTERM
    assert long.closed()
    long.close()
    wait_until(lambda: serves(port, b"B"), "the new process")


@pytest.mark.parametrize("program", PROGRAMS)
def test_bind_failure(proc_runner: Runner, program: list[str] | None) -> None:
    """A port held without SO_REUSEPORT: haproxy's alerts, exit 1, at once without -sf;
    with -sf the old pids are paused (SIGTTOU) during the retries, then resumed (SIGTTIN)."""
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, 9))
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen(1)
        rec = recorder()
        try:
            alone = proc_runner.run(["-db", "-f", "h.cfg"], program)
            with_old = proc_runner.run(["-db", "-f", "h.cfg", "-sf", str(rec.pid)], program)
        finally:
            signals = recorded(rec, "SIGTTIN")
    name = "herdsman" if program is None else program[0]
    expected = [
        f"[ALERT]    (pid) : Binding [h.cfg:8] for proxy l1: cannot bind socket (Address already in use) for [127.0.0.1:{port}]",
        f"[ALERT]    (pid) : [{name}.main()] Some protocols failed to start their listeners! Exiting.",
    ]
    assert (alone.returncode, normalise(alone.stderr)) == (1, expected)
    assert (with_old.returncode, normalise(with_old.stderr)) == (1, expected)
    # 200 retries, one SIGTTOU each, then one SIGTTIN. Pending signals of a kind
    # merge, and a pending SIGTTIN (21) is delivered before a pending SIGTTOU (22).
    assert sorted(set(signals)) == ["SIGTTIN", "SIGTTOU"]
    assert len(signals) > 100
    assert signals.count("SIGTTIN") == 1
    assert "SIGTTIN" in signals[-2:]


def test_pidfile_cannot_be_created(proc_runner: Runner, proc_echo: Echo) -> None:
    srv = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, srv.port))
    r = proc_runner.run(["-D", "-p", "nodir/d.pid", "-f", "h.cfg"])
    assert r.returncode == 1
    assert normalise(r.stderr) == [
        "[ALERT]    (pid) : [herdsman.main()] Cannot create pidfile nodir/d.pid"
    ]
    assert refused(port)
