"""Master-worker mode: the master, its workers, reloads, the master CLI and systemd notify.

Each scenario runs against herdsman and, where the reference is installed,
against haproxy 2.6 (``program``): the same signals and commands must give
the same processes, connections, ``show proc`` layout and messages.
"""

from __future__ import annotations

import os
import re
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import proc_helpers
import pytest
from proc_helpers import (
    DEADLINE,
    PROGRAMS,
    Client,
    EchoServer,
    Proc,
    Runner,
    alive,
    holds,
    listen_cfg,
    listen_inodes,
    normalise,
    pidfile_pid,
    serves,
    start_serving,
    wait_until,
)

from herdsman.testing import free_port

proc_dir = proc_helpers.proc_dir  # fixtures
proc_runner = proc_helpers.proc_runner
proc_echo = proc_helpers.proc_echo

Echo = Callable[[bytes], EchoServer]

HEADER = "#<PID>          <type>          <reloads>       <uptime>        <version>      "
UPTIME = re.compile(r"\d+d\d\dh\d\dm\d\ds")


def cli(path: Path, command: str) -> str:
    """One command on the master CLI; the answer up to the end of the session."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(DEADLINE)
        s.connect(str(path))
        s.sendall(command.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    return b"".join(chunks).decode()


def show_proc(path: Path) -> dict[str, list[tuple[int, str, str]]]:
    """``show proc`` checked for haproxy's layout, as {section: [(pid, type, reloads)]}."""

    def attempt() -> str | None:
        try:
            return cli(path, "show proc")
        except OSError:  # haproxy's master re-executes itself on reload: retry
            return None

    text = wait_until(attempt, "the master CLI")
    lines = text.split("\n")
    assert lines[0] == HEADER
    assert lines[-2:] == ["", ""]  # the answer ends with an empty line
    sections: dict[str, list[tuple[int, str, str]]] = {"master": []}
    current = "master"
    for line in lines[1:-2]:
        if line.startswith("# "):
            current = line[2:]
            sections[current] = []
            continue
        # "%-15u %-15s %-15s %-15s %-15s": columns start every 16 characters
        cols = [line[i : i + 15] for i in range(0, 80, 16)]
        assert all(line[i - 1] == " " for i in range(16, 80, 16)), line
        assert UPTIME.fullmatch(cols[3].strip()), line
        sections[current].append((int(cols[0]), cols[1].strip(), cols[2].strip()))
    assert list(sections)[:2] == ["master", "workers"]
    assert list(sections)[-1] == "programs"
    return sections


def workers(path: Path, section: str = "workers") -> list[int]:
    return [pid for pid, kind, _ in show_proc(path).get(section, []) if kind == "worker"]


def start_master(
    runner: Runner,
    port: int,
    args: list[str],
    program: list[str] | None,
    env: dict[str, str] | None = None,
) -> Proc:
    proc = start_serving(
        runner, port, ["-W", "-S", "unix@m.sock", "-p", "m.pid", *args], program, env
    )
    assert pidfile_pid(runner.path("m.pid")) == proc.pid
    return proc


@pytest.mark.parametrize("program", PROGRAMS)
def test_master_starts_a_worker_and_sigterm_stops_all(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """-W: the pid file holds the master, a worker serves; SIGTERM on the master stops both."""
    srv = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, srv.port))
    master = start_master(proc_runner, port, ["-f", "h.cfg"], program)
    procs = show_proc(proc_runner.path("m.sock"))
    assert procs["master"] == [(master.pid, "master", "0 [failed: 0]")]
    [(worker, kind, reloads)] = procs["workers"]
    assert (kind, reloads) == ("worker", "0")
    assert worker in proc_helpers.children(master.pid)
    assert "old workers" not in procs
    master.signal(signal.SIGTERM)
    assert master.wait() == 0
    assert not alive(worker)
    err = normalise(master.stderr())
    assert f"[NOTICE]   (pid) : New worker ({worker}) forked" in err
    assert err[-3:] == [
        "[WARNING]  (pid) : Exiting Master process...",
        f"[ALERT]    (pid) : Current worker ({worker}) exited with code 143 (Terminated)",
        "[WARNING]  (pid) : All workers exited. Exiting... (0)",
    ]


@pytest.mark.parametrize("program", PROGRAMS)
def test_reload_serves_the_new_configuration_and_old_connections_finish(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """SIGUSR2: a new worker serves the configuration now on disk; a connection opened
    before keeps flowing on the old worker, listed under "# old workers" until it ends."""
    a, b = proc_echo(b"A"), proc_echo(b"B")
    port = free_port()
    note = '.notice "cfg=${HAPROXY_CFGFILES}"\n'
    proc_runner.write("h.cfg", note + listen_cfg(port, a.port))
    master = start_master(proc_runner, port, ["-f", "h.cfg"], program)
    sock = proc_runner.path("m.sock")
    [first] = workers(sock)
    [queue] = listen_inodes(port)
    long = Client(port)
    assert long.echo(b"x") == b"Ax"
    proc_runner.write("h.cfg", note + listen_cfg(port, b.port))
    master.signal(signal.SIGUSR2)
    wait_until(lambda: serves(port, b"B"), "the new worker")
    assert long.echo(b"y") == b"Ay"
    procs = show_proc(sock)
    assert procs["master"][0][2] == "1 [failed: 0]"
    [(second, _, reloads)] = procs["workers"]
    assert reloads == "0"
    assert procs["old workers"] == [(first, "worker", "1")]
    # the reloaded configuration sees the files the master loaded
    assert "config : parsing [h.cfg:1]: 'cfg=h.cfg'." in master.stderr()
    long.close()
    master.wait_stderr(f"Former worker ({first}) exited with code 0 (Exit)")
    assert "old workers" not in show_proc(sock)
    assert serves(port, b"B")
    # the listening socket went from worker to worker: one accept queue throughout
    assert listen_inodes(port) == {queue}
    assert holds(second, queue)
    assert "Reloading " in master.stderr()
    master.signal(signal.SIGUSR1)  # soft stop of the master: its workers finish, it exits
    assert master.wait() == 0
    assert not alive(second)


@pytest.mark.parametrize("program", PROGRAMS)
def test_broken_configuration_on_reload_keeps_the_old_worker(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """A reload whose configuration does not load: "Loading failure!", the old worker serves on."""
    a = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, a.port))
    master = start_master(proc_runner, port, ["-f", "h.cfg"], program)
    sock = proc_runner.path("m.sock")
    [first] = workers(sock)
    proc_runner.write("h.cfg", listen_cfg(port, a.port) + "    bogus_kw foo\n")
    master.signal(signal.SIGUSR2)
    err = master.wait_stderr("Loading failure!")
    assert "parsing [h.cfg:10] : unknown keyword 'bogus_kw' in 'listen' section" in err
    assert serves(port, b"A")
    procs = show_proc(sock)
    assert procs["master"][0][2] == "1 [failed: 1]"
    assert procs["workers"] == [(first, "worker", "1")]
    assert "old workers" not in procs


@pytest.mark.parametrize(
    "extra_global",
    [
        pytest.param("", id="default"),
        # 2.6.12's master re-executes itself in wait mode without the
        # configuration, so this option has no effect: herdsman does the same
        pytest.param("    master-worker no-exit-on-failure\n", id="no-exit-on-failure"),
    ],
)
@pytest.mark.parametrize("program", PROGRAMS)
def test_worker_crash_makes_the_master_exit(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None, extra_global: str
) -> None:
    """A worker killed by SIGKILL: the master stops everything and exits 137,
    with or without ``master-worker no-exit-on-failure`` (lost as in the binary)."""
    a = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, a.port, extra_global=extra_global))
    master = start_master(proc_runner, port, ["-f", "h.cfg"], program)
    [worker] = workers(proc_runner.path("m.sock"))
    os.kill(worker, signal.SIGKILL)
    assert master.wait() == 137
    assert normalise(master.stderr())[-3:] == [
        f"[ALERT]    (pid) : Current worker ({worker}) exited with code 137 (Killed)",
        "[ALERT]    (pid) : exit-on-failure: killing every processes with SIGTERM",
        "[WARNING]  (pid) : All workers exited. Exiting... (137)",
    ]


@pytest.mark.parametrize("program", PROGRAMS)
def test_systemd_notifications(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """-Ws: READY=1 with MAINPID once serving, RELOADING=1 then READY=1 on reload, STOPPING=1."""
    a = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, a.port))
    path = proc_runner.path("notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(path))
        notify.settimeout(DEADLINE)
        proc = proc_runner.start(
            ["-Ws", "-S", "unix@m.sock", "-f", "h.cfg"], program, {"NOTIFY_SOCKET": str(path)}
        )
        ready = f"READY=1\nMAINPID={proc.pid}".encode()

        def until(message: bytes) -> list[bytes]:
            got = [notify.recv(4096)]
            while got[-1] != message:
                got.append(notify.recv(4096))
            return got

        # haproxy also says RELOADING=1 when its master re-executes itself after
        # the first start; herdsman's master does not re-execute
        assert set(until(ready)[:-1]) <= ({b"RELOADING=1"} if program else set())
        assert serves(port, b"A")
        proc.signal(signal.SIGUSR2)
        reload = until(ready)
        assert reload[0] == b"RELOADING=1"
        assert set(reload[1:-1]) <= ({b"RELOADING=1"} if program else set())
        show_proc(proc_runner.path("m.sock"))  # haproxy: its master handles SIGTERM from now on
        proc.signal(signal.SIGTERM)
        assert notify.recv(4096) == b"STOPPING=1"
        assert proc.wait() == 0


def test_master_cli_reload_and_commands(proc_runner: Runner, proc_echo: Echo) -> None:
    """reload on the master CLI starts a new worker; help, show version, prompt, unknown."""
    a = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, a.port))
    master = start_master(proc_runner, port, ["-f", "h.cfg"], None)
    sock = proc_runner.path("m.sock")
    [first] = workers(sock)
    assert cli(sock, "reload") == ""
    master.wait_stderr(f"Former worker ({first}) exited with code 0 (Exit)")
    [second] = workers(sock)
    assert second != first
    assert serves(port, b"A")
    from herdsman.version import VERSION

    assert cli(sock, "show version") == f"{VERSION}\n\n"
    assert cli(sock, "help").startswith("The following commands are valid at this level:\n")
    assert "  show proc                               : show processes status\n" in cli(
        sock, "help"
    )
    assert cli(sock, "bogus").startswith("Unknown command, but maybe")
    prompted = cli(sock, "prompt\nshow version")
    assert prompted == f"master> {VERSION}\n\nmaster> "


@pytest.mark.parametrize("program", PROGRAMS)
def test_master_worker_keyword_in_daemon_mode(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """global master-worker + -D: the command returns, the pid file holds the master."""
    a = proc_echo(b"A")
    port = free_port()
    proc_runner.write("h.cfg", listen_cfg(port, a.port, "    master-worker\n"))
    launcher = proc_runner.start(["-D", "-p", "m.pid", "-S", "unix@m.sock", "-f", "h.cfg"], program)
    assert launcher.wait() == 0
    master = proc_runner.adopt(pidfile_pid(proc_runner.path("m.pid")))
    assert master != launcher.pid
    assert os.getsid(master) == master
    [worker] = workers(
        proc_runner.path("m.sock")
    )  # haproxy's master is settled once its CLI answers
    assert worker in proc_helpers.children(master)
    assert serves(port, b"A")
    os.kill(master, signal.SIGUSR1)
    wait_until(lambda: not alive(master) and not alive(worker), "the master and its worker to stop")


@pytest.mark.parametrize("program", PROGRAMS)
def test_configuration_warnings_are_printed_once(
    proc_runner: Runner, proc_echo: Echo, program: list[str] | None
) -> None:
    """-W: the master reads the configuration; its first worker does not print it again."""
    srv = proc_echo(b"A")
    port = free_port()
    proc_runner.write(
        "h.cfg",
        f"listen l1\n    mode tcp\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:{srv.port}\n",
    )
    master = start_master(proc_runner, port, ["-f", "h.cfg"], program)
    master.wait_stderr("Loading success.")
    err = normalise(master.stderr())
    assert err.count("[WARNING]  (pid) : config : missing timeouts for proxy 'l1'.") == 1
