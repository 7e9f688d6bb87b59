"""Real servers for the protocol check tests: one module per server.

Each server starts in a temporary directory of its own, on an ephemeral port
(``herdsman.testing.free_port()``), as a context manager: ``__enter__``
prepares and starts it and returns once it accepts connections (a few
seconds at most), ``stop()`` stops it (the check must then see a refused
connection), ``__exit__`` stops it and removes its directory.

As root (CI), the servers run as ``nobody``: mariadbd and postgres refuse to
run as root, and the others need no privilege. Their directory belongs to
that user.

A server that is not installed fails its test, it never skips it:
``./run.sh test`` installs the Debian packages (``run.sh``, ``apt_install``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from herdsman.testing import free_port, listening, wait_for

USER, GROUP = "nobody", "nogroup"
START_TIMEOUT = 15.0


def require(program: str, package: str, path: str | None = None) -> str:
    """The path of ``program`` (on ``path``, else PATH and /usr/sbin); fails the test
    when it is missing: its Debian package is ``package``."""
    found = shutil.which(program, path=path or f"{os.environ.get('PATH', '')}:/usr/sbin")
    if found is None:
        pytest.fail(
            f"{program} is not installed: `./run.sh test` installs the Debian package {package}"
        )
    return found


class Server:
    """A server process on ``127.0.0.1:port``, in ``self.dir``.

    Subclasses give ``command()``, and may ``prepare()`` the directory
    (configuration, data) and name a log line that means "ready" when
    listening is not enough (``ready_text``).
    """

    name = "server"
    ready_text = ""
    stop_signal = signal.SIGTERM

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"hm-{self.name}-"))
        self.port = free_port()
        self.log = self.dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._prepared = False

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Write configuration and data into ``self.dir``, once, before the first start
        (commands through ``run()``, such as initdb, run as the server's user)."""

    # -- running things as the server's user --------------------------------------

    def _user(self) -> dict[str, object]:
        return {"user": USER, "group": GROUP, "extra_groups": []} if os.geteuid() == 0 else {}

    def _own(self) -> None:
        if os.geteuid() != 0:
            return
        for path in [self.dir, *self.dir.rglob("*")]:
            shutil.chown(path, USER, GROUP)

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text)
        return path

    def run(self, argv: Sequence[str], timeout: float = 30) -> None:
        """A preparation command (initdb...), as the server's user; fails loudly."""
        self._own()
        proc = subprocess.run(
            argv, cwd=self.dir, capture_output=True, timeout=timeout, check=False, **self._user()
        )
        if proc.returncode:
            out = (proc.stdout + proc.stderr).decode(errors="replace")
            raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}):\n{out[-3000:]}")

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> Self:
        """Prepare (the first time) and start the server; return once it is ready."""
        if not self._prepared:
            self.prepare()
            self._prepared = True
        self._own()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, **self._user()
            )
        self._wait_ready()
        return self

    def _log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def _ready(self) -> bool:
        return listening(self.port) and (not self.ready_text or self.ready_text in self._log_text())

    def _wait_ready(self) -> None:
        proc = self.proc
        assert proc is not None
        try:
            wait_for(lambda: proc.poll() is not None or self._ready(), timeout=START_TIMEOUT)
        except AssertionError:
            pass
        if proc.poll() is None and self._ready():
            return
        self.stop()
        raise AssertionError(
            f"{self.name} did not start on {self.addr}:\n{self._log_text()[-3000:]}"
        )

    def stop(self) -> None:
        """Stop the server; afterwards nothing listens on its port."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
