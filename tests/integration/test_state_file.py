"""Server-state files across a reload (spec §13.8): ``show servers state`` saved before
the reload, read back by the new process, keeps a server in maintenance and another's
weight. Run with herdsman and with haproxy 2.6.12 (``PROGRAMS``), standalone with
``-sf`` and in master-worker mode with SIGUSR2.
"""

from __future__ import annotations

import signal
from pathlib import Path

import proc_helpers
import pytest
from proc_helpers import DEFAULTS, PROGRAMS, EchoServer, Runner, start_serving, wait_until
from test_mworker import start_master, workers

from herdsman.testing import cli_command, free_port

proc_dir = proc_helpers.proc_dir  # fixtures
proc_runner = proc_helpers.proc_runner
proc_echo = proc_helpers.proc_echo


def state_cfg(directory: Path, port: int, server_port: int) -> str:
    return (
        "global\n"
        f"    stats socket {directory}/s.sock level admin\n"
        f"    server-state-file {directory}/state\n"
        + DEFAULTS
        + "    load-server-state-from-file global\n"
        + f"listen l1\n    bind 127.0.0.1:{port}\n"
        + f"    server s1 127.0.0.1:{server_port}\n"
        + f"    server s2 127.0.0.1:{server_port} weight 10\n"
    )


def states(sock: Path) -> dict[str, list[str]]:
    """server name -> its ``show servers state`` fields."""
    lines = cli_command(str(sock), "show servers state l1").splitlines()
    return {cols[3]: cols for cols in (line.split(" ") for line in lines[2:] if line)}


def pid(sock: Path) -> str | None:
    """The pid of the process answering on the stats socket."""
    info = cli_command(str(sock), "show info")
    return next((line[5:] for line in info.splitlines() if line.startswith("Pid: ")), None)


def prepare(runner: Runner, sock: Path) -> None:
    """s1 in maintenance, s2 at weight 7, the state saved as an operator would."""
    assert cli_command(str(sock), "set server l1/s1 state maint") == "\n"
    assert cli_command(str(sock), "set server l1/s2 weight 7") == "\n"
    runner.path("state").write_text(cli_command(str(sock), "show servers state"))


def assert_kept(sock: Path) -> None:
    st = states(sock)
    assert (st["s1"][5], st["s1"][6]) == ("0", "1")  # DOWN, FMAINT
    assert (st["s2"][5], st["s2"][6], st["s2"][7], st["s2"][8]) == ("2", "0", "7", "10")


@pytest.mark.parametrize("program", PROGRAMS)
def test_sf_reload_keeps_maintenance_and_weight(
    proc_runner: Runner, proc_echo: type[EchoServer], program: list[str] | None
) -> None:
    echo = proc_echo(b"A")
    port = free_port()
    sock = proc_runner.path("s.sock")
    proc_runner.write("h.cfg", state_cfg(proc_runner.dir, port, echo.port))
    old = start_serving(proc_runner, port, ["-db", "-f", "h.cfg"], program)
    wait_until(sock.exists, "the stats socket")
    prepare(proc_runner, sock)
    new = proc_runner.start(["-db", "-f", "h.cfg", "-sf", str(old.pid)], program)
    old.wait()
    assert new.popen.poll() is None, new.stderr()
    wait_until(lambda: states(sock).get("s2", [""] * 9)[7] == "7", "the new process's socket")
    assert_kept(sock)


@pytest.mark.parametrize("program", PROGRAMS)
def test_master_worker_reload_keeps_maintenance_and_weight(
    proc_runner: Runner, proc_echo: type[EchoServer], program: list[str] | None
) -> None:
    echo = proc_echo(b"A")
    port = free_port()
    sock = proc_runner.path("s.sock")
    proc_runner.write("h.cfg", state_cfg(proc_runner.dir, port, echo.port))
    master = start_master(proc_runner, port, ["-f", "h.cfg"], program)
    wait_until(sock.exists, "the stats socket")
    prepare(proc_runner, sock)
    first = pid(sock)
    workers(proc_runner.path("m.sock"))  # the master's CLI answers: it is ready for signals
    master.signal(signal.SIGUSR2)

    def reloaded() -> bool:
        try:
            return pid(sock) not in (None, first)
        except OSError:
            return False

    wait_until(reloaded, f"the new worker's socket; master's stderr:\n{master.stderr()}")
    assert_kept(sock)
