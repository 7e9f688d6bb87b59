"""The README's demo command, as a user runs it (shortened flap cycle)."""

from __future__ import annotations

import subprocess
import sys


def test_demo_shows_the_flapping_server_taken_out_and_put_back() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "herdsman.demo", "--duration", "9", "--up", "2", "--down", "3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "listens on 127.0.0.1:" in text
    assert "Server demo/s3 is DOWN" in text
    assert "Server demo/s3 is UP" in text
    assert text.index("Server demo/s3 is DOWN") < text.index("Server demo/s3 is UP")
    assert "demo: last 8 requests served by" in text
