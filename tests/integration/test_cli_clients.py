"""Real third-party clients of HAProxy's stats socket drive herdsman unchanged:
``socat`` in interactive (prompt) mode on a terminal, ``hatop`` (Debian's package,
under tmux) and the ``haproxyadmin`` library.
"""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable

import pytest

from herdsman.testing import cli_command, free_port, running, wait_for


def config(sock: str, port: int, server_port: int, level: str = "admin") -> str:
    return f"""\
global
    stats socket {sock} level {level}
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
listen web
    bind 127.0.0.1:{port}
    server alpha 127.0.0.1:{server_port}
    server beta 127.0.0.1:{server_port} weight 3
    server gamma 127.0.0.1:{free_port()} check inter 1m
"""


async def with_herdsman(test: Callable[[str], None], level: str = "admin") -> None:
    sock = os.path.join(tempfile.mkdtemp(prefix="hm-cli-"), "s.sock")
    srv = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    server_port = srv.sockets[0].getsockname()[1]
    try:
        async with running(config(sock, free_port(), server_port, level)):
            await asyncio.to_thread(test, sock)
    finally:
        srv.close()


def read_until(fd: int, end: bytes, timeout: float = 5.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(end):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(0.0, left))
        if not ready:
            raise AssertionError(f"timed out waiting for {end!r}, got {data!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")
async def test_socat_interactive_session() -> None:
    """``socat stdio unix-connect:<sock>`` on a terminal: prompt, commands, quit."""

    def test(sock: str) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: socat on the terminal
            os.execvp("socat", ["socat", "-,rawer", f"UNIX-CONNECT:{sock}"])
        try:
            os.write(fd, b"prompt\n")
            assert read_until(fd, b"\n> ").endswith(b"\n> ")
            os.write(fd, b"show backend\n")
            assert read_until(fd, b"# name\nweb\n\n> ").endswith(b"# name\nweb\n\n> ")
            os.write(fd, b"get weight web/beta\n")
            assert read_until(fd, b"3 (initial 3)\n\n> ").endswith(b"3 (initial 3)\n\n> ")
            os.write(fd, b"quit\n")
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status)
            assert os.WEXITSTATUS(status) == 0
        finally:
            os.close(fd)

    await with_herdsman(test)


@pytest.mark.skipif(
    shutil.which("hatop") is None or shutil.which("tmux") is None,
    reason="hatop or tmux is not installed",
)
async def test_hatop_shows_the_servers() -> None:
    def test(sock: str) -> None:
        wait_for(lambda: "L4CON" in cli_command(sock, "show stat"))  # gamma checked DOWN
        name = f"hm-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", name, "-x", "200", "-y", "50", f"hatop -s {sock}"],
            check=True,
        )
        try:
            screen = ""

            def shown() -> bool:
                nonlocal screen
                screen = subprocess.run(
                    ["tmux", "capture-pane", "-p", "-t", name],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout
                return all(n in screen for n in ("alpha", "beta", "gamma"))

            wait_for(shown, timeout=10)
            lines = {line.split()[0]: line for line in screen.splitlines() if line.split()}
            assert " none " in lines["alpha"]  # hatop shows "no check" as "none"
            assert " DOWN " in lines["gamma"]
            assert "web" in screen
        finally:
            subprocess.run(["tmux", "kill-session", "-t", name], check=False)

    await with_herdsman(test)


async def test_haproxyadmin_reads_and_changes_servers() -> None:
    haproxyadmin = pytest.importorskip("haproxyadmin")

    def test(sock: str) -> None:
        hap = haproxyadmin.haproxy.HAProxy(socket_file=sock)
        servers = {s.name: s for s in hap.servers("web")}
        assert sorted(servers) == ["alpha", "beta", "gamma"]
        assert servers["beta"].weight == "3"  # the library hands fields over as text
        assert servers["alpha"].status == "no check"
        assert servers["beta"].setweight(7)
        assert servers["beta"].weight == "7"
        assert servers["alpha"].setstate(haproxyadmin.STATE_DISABLE)
        assert servers["alpha"].status == "MAINT"
        assert servers["alpha"].setstate(haproxyadmin.STATE_ENABLE)
        assert servers["alpha"].status == "no check"
        state = cli_command(sock, "show servers state web")
        assert " beta 127.0.0.1 2 0 7 3 " in state

    await with_herdsman(test)


async def test_a_user_level_socket_cannot_change_state() -> None:
    def test(sock: str) -> None:
        assert cli_command(sock, "set server web/alpha state maint") == "Permission denied\n\n"
        assert cli_command(sock, "disable server web/alpha") == "Permission denied\n\n"
        assert cli_command(sock, "set weight web/alpha 0") == "Permission denied\n\n"
        assert " alpha 127.0.0.1 2 0 1 1 " in cli_command(sock, "show servers state")

    await with_herdsman(test, level="user")


async def test_check_now_prints_each_step() -> None:
    """herdsman's ``check now``: a connect-only check to a refused port, step by step."""

    def test(sock: str) -> None:
        wait_for(lambda: "L4CON" in cli_command(sock, "show stat"))  # the scheduled check ran
        out = cli_command(sock, "check now web/gamma verbose")
        lines = out.splitlines()
        assert lines[0].startswith("+")
        assert " connect to 127.0.0.1:" in lines[0]
        assert any(line.endswith("connection error: ECONNREFUSED") for line in lines)
        assert re.fullmatch(
            r"result: L4CON \(Layer4 connection problem\), check duration: \d+ms", lines[-2]
        )
        assert lines[-1] == ""
        out = cli_command(sock, "check now web/beta")
        assert out == "Health check was not configured on this server.\n\n"
        history = cli_command(sock, "show servers history web/gamma").splitlines()
        assert history[0] == "# web/gamma"
        assert " check L4CON code=- " in history[1]

    await with_herdsman(test)
