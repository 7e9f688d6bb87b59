"""Environment variables, undefined ones above all: herdsman against haproxy 2.6.12.

The ``-c`` cases of tests/unit/test_config_env.py go through the binary, and
a log target written with undefined variables (``log ${NOPE}:${P} local0``,
the "any" address) must deliver to the local host with both programs.
"""

from __future__ import annotations

import select
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from configcase import DEFAULTS, Case, assert_same, params, run_haproxy, run_herdsman
from herdsman.testing import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

import test_config_env

pytestmark = pytest.mark.haproxy

HAPROXY = shutil.which("haproxy")
DEADLINE = 10.0


@pytest.mark.parametrize("c", params(test_config_env.ALL, herdsman=False))
def test_env_cases_against_haproxy(c: Case, tmp_path: Path) -> None:
    """The recorded texts are haproxy's, and herdsman prints the same."""
    theirs = run_haproxy(tmp_path, c.text, c.args)
    assert_same(theirs, c.outcome(herdsman=False), "haproxy", "recorded")
    assert_same(run_herdsman(tmp_path, c.text, c.args), theirs, "herdsman", "haproxy")


def _receive(sock: socket.socket) -> bytes:
    end = time.monotonic() + DEADLINE
    left = DEADLINE
    while left > 0:
        if select.select([sock], [], [], left)[0]:
            return sock.recv(65536)
        left = end - time.monotonic()
    raise AssertionError("no log datagram received")


@pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")
@pytest.mark.parametrize("program", ["herdsman", "haproxy"])
def test_undefined_host_logs_to_the_local_host(program: str, tmp_path: Path) -> None:
    """``log ${NOPE}:${P}`` is 0.0.0.0:P, which the kernel delivers on the local host."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rcv:
        rcv.bind(("127.0.0.1", 0))
        port = rcv.getsockname()[1]
        cfg = tmp_path / "h.cfg"
        cfg.write_text(
            f"global\n    setenv P {port}\n"
            + DEFAULTS
            + "backend b\n    log ${NOPE}:${P} local0\n    option log-health-checks\n"
            f"    server s 127.0.0.1:{free_port()} check inter 100ms\n"
            f"listen l\n    bind 127.0.0.1:{free_port()}\n    server s 127.0.0.1:1\n"
        )
        cmd = [sys.executable, "-m", "herdsman"] if program == "herdsman" else [str(HAPROXY)]
        proc = subprocess.Popen(
            [*cmd, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            line = _receive(rcv)
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=DEADLINE)
    assert b"Health check for server b/s failed" in line, (line, err)
