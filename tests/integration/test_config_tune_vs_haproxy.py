"""Tuning globals: herdsman against haproxy 2.6.12.

The cases of tests/unit/test_config_tune.py go through the binary: haproxy
prints what they record, and herdsman prints exactly that plus its NOTICE
lines. ``tune.bufsize`` and ``tune.http.maxhdr`` are then swept across the
values where HAProxy's default error pages stop fitting, and a real start-up
shows the notice on the terminal.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from configcase import Case, Outcome, assert_same, params, run_haproxy, run_herdsman
from herdsman.testing import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

import test_config_tune

pytestmark = pytest.mark.haproxy

NOTICE = "has no effect in herdsman"


def _without_notices(out: Outcome) -> Outcome:
    return Outcome(out.rc, out.stdout, [line for line in out.lines if NOTICE not in line])


@pytest.mark.parametrize("c", params(test_config_tune.ALL, herdsman=False))
def test_tune_cases_against_haproxy(c: Case, tmp_path: Path) -> None:
    """haproxy prints the recorded texts; herdsman prints them too, plus its notices."""
    theirs = run_haproxy(tmp_path, c.text, c.args)
    if c.lines is None:
        assert theirs.rc == c.rc, theirs.lines  # a crash: herdsman refuses instead
        return
    assert_same(theirs, c.outcome(herdsman=False), "haproxy", "recorded")
    mine = run_herdsman(tmp_path, c.text, c.args)
    assert_same(_without_notices(mine), theirs, "herdsman without its notices", "haproxy")


SWEEP = [
    *((f"bufsize-{b}", (f"tune.bufsize {b}",)) for b in range(40, 560, 16)),
    *(
        (f"bufsize-{b}-maxhdr-{m}", (f"tune.bufsize {b}", f"tune.http.maxhdr {m}"))
        for m in (1, 2, 3, 4, 5)
        for b in (64, 256, 304, 512)
    ),
]


@pytest.mark.parametrize(("name", "lines"), SWEEP, ids=[s[0] for s in SWEEP])
def test_error_pages_fit_as_in_haproxy(name: str, lines: tuple[str, ...], tmp_path: Path) -> None:
    """Which default pages fail, and how, for each buffer size and header count."""
    text = test_config_tune.G(*lines)
    assert_same(run_herdsman(tmp_path, text), run_haproxy(tmp_path, text), "herdsman", "haproxy")


def test_notice_printed_at_start_up(tmp_path: Path) -> None:
    """A real start prints the notice on stderr, then serves."""
    cfg = tmp_path / "h.cfg"
    cfg.write_text(
        "global\n    tune.h2.max-frame-size 32768\n"
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n"
        f"    timeout server 1s\nlisten l\n    bind 127.0.0.1:{free_port()}\n"
        "    server s 127.0.0.1:1\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "herdsman", "-db", "-f", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # blocks until the first message, or EOF
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert line.endswith(
        f"parsing [{cfg}:2] : 'tune.h2.max-frame-size' has no effect in herdsman "
        "(herdsman has no HTTP/2).\n"
    )
    assert line.startswith("[NOTICE]")
