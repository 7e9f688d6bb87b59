"""The example configurations in examples/ use only what herdsman implements:
``herdsman -c`` accepts each of them, and so does ``haproxy -c``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from configcase import HAPROXY, VALID, run_herdsman

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.cfg"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_herdsman_accepts(path: Path, tmp_path: Path) -> None:
    """Valid, without a warning."""
    got = run_herdsman(tmp_path, path.read_text(encoding="utf-8"))
    assert (got.rc, got.lines, got.stdout) == (0, [], [VALID])


@pytest.mark.haproxy
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_haproxy_accepts(path: Path) -> None:
    assert HAPROXY is not None
    proc = subprocess.run(
        [HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30, check=False
    )
    assert (proc.returncode, proc.stderr, proc.stdout) == (0, "", VALID + "\n")
