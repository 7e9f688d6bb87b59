"""Run ``-c`` (configuration check) on a configuration, with herdsman or with haproxy.

Both runners write the text to ``<dir>/F.cfg`` and run from ``<dir>``, so
messages name the file ``F.cfg`` as the observed texts do, and return an
``Outcome``: the exit code, stdout's lines, and stderr's lines with the pid
replaced by ``(pid)`` and the two NOTICE lines that name the program removed
(they are the one place where herdsman and haproxy differ on purpose).
Empty lines are kept: a message ending in a newline is followed by one.

herdsman runs in-process (``herdsman.cli.main``), with ``os.environ`` and
the working directory restored afterwards, because ``setenv`` in a global
section changes the process environment as it does in haproxy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HAPROXY = shutil.which("haproxy")
FILE = "F.cfg"

DEFAULTS = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
"""
# The observed file's frame: the line under test is line 8 (spec
# observed-2.6.12-server-lb.md, "Each config starts with this defaults section").
LISTEN = DEFAULTS + "listen L\n    bind 127.0.0.1:18000\n"

_PID = re.compile(r"^(\[[A-Z]+\] *) \(\d+\) : ")
_NOTICE = re.compile(
    r"^\[NOTICE\] +\(pid\) : (haproxy|herdsman) version is |^\[NOTICE\] +\(pid\) : path to executable is "
)


def listen(*lines: str) -> str:
    """The observed frame with ``lines`` (indented) in ``listen L`` from line 8 on."""
    return LISTEN + "".join(f"    {line}\n" for line in lines)


def section(header: str, *lines: str) -> str:
    """One more section after the defaults: ``header`` on line 6, ``lines`` from 7."""
    return DEFAULTS + header + "\n" + "".join(f"    {line}\n" for line in lines)


@dataclass(frozen=True)
class Outcome:
    rc: int
    stdout: list[str]
    lines: list[str] = field(default_factory=list)

    @property
    def alerts(self) -> list[str]:
        """The message texts after ``config : `` (or after the pid), without framing."""
        return [_strip_tag(line) for line in self.lines if line]


def _strip_tag(line: str) -> str:
    text = line.split(" : ", 1)[1] if " : " in line else line
    return text[len("config : ") :] if text.startswith("config : ") else text


def normalise(stderr: str) -> tuple[list[str], bool]:
    """stderr's lines with ``(pid)`` and the NOTICE program lines dropped, and
    whether those two lines were there when needed (before an alert or a warning)."""
    lines = [_PID.sub(r"\1 (pid) : ", line) for line in stderr.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    kept = [line for line in lines if not _NOTICE.match(line)]
    # The NOTICE lines come before the first alert or warning (not a DIAG).
    loud = any(line.startswith(("[ALERT]", "[WARNING]")) for line in kept)
    return kept, len(kept) == len(lines) - 2 or not loud


def expected(*messages: str, file: str = FILE) -> list[str]:
    """Framed stderr lines for message texts; ``F`` in ``[F:`` is replaced by the file name.

    A message given as ``"WARNING: text"`` is a warning, ``"DIAG: text"`` a
    diagnostic, anything else an alert. A text ending in ``\\n`` is followed
    by an empty line, as HAProxy prints it.
    """
    out: list[str] = []
    for msg in messages:
        level, text = "ALERT", msg
        for tag in ("WARNING", "DIAG", "NOTICE"):
            if msg.startswith(tag + ": "):
                level, text = tag, msg[len(tag) + 2 :]
        text = text.replace("[F:", f"[{file}:").replace(" F:", f" {file}:")
        if text.endswith("file : F"):
            text = text[:-1] + file
        # A message ending in "\n" is followed by an empty line.
        out.extend(f"{('[' + level + ']').ljust(10)} (pid) : config : {text}".split("\n"))
    return out


# Closing lines: after a fatal error while parsing a file, after a fatal
# post-parse check, after a failed address resolution, after ERR_ABORT.
FATAL_PARSE = ("Error(s) found in configuration file : F", "Fatal errors found in configuration.")
FATAL_POST = ("Fatal errors found in configuration.",)
FATAL_ADDR = ("Failed to initialize server(s) addr.",)
ABORT = ("Error(s) found in configuration file : F",)
VALID = "Configuration file is valid"
WARNED = "Warnings were found."
NO_LISTENER = "Configuration file has no error but will not start (no listener) => exit(2)."

# A case that needs a change to herdsman.cli, described in the report: it is
# expected to fail until the change is in, and then to pass (xfail_strict and
# the integration test turn that into a reminder to drop the marker).


@dataclass(frozen=True)
class Case:
    """A configuration and what ``-c`` prints for it.

    ``lines`` are haproxy 2.6.12's stderr lines (see ``expected()``), or None
    when only its exit code ``rc`` is recorded. ``herdsman`` holds herdsman's
    lines where it differs on purpose (it refuses what it does not
    implement), with ``why``; ``herdsman_rc`` its exit code then.
    """

    id: str
    text: str
    rc: int
    lines: tuple[str, ...] | None
    args: tuple[str, ...] = ()
    herdsman: tuple[str, ...] | None = None
    herdsman_rc: int = 1
    why: str = ""
    pending: str = ""  # herdsman matches haproxy once this is done
    stdout: tuple[str, ...] | None = None  # when not what stdout_for() says (global "quiet")
    files: tuple[tuple[str, bytes], ...] = ()  # written beside F.cfg (error pages...)

    def write_files(self, directory: Path) -> None:
        for name, data in self.files:
            (directory / name).write_bytes(data)

    @property
    def diverges(self) -> bool:
        return self.herdsman is not None

    def outcome(self, *, herdsman: bool) -> Outcome:
        """What the program prints: haproxy's, or herdsman's when it diverges."""
        if herdsman and self.herdsman is not None:
            return Outcome(
                self.herdsman_rc, stdout_for(self.herdsman_rc, self.herdsman), list(self.herdsman)
            )
        assert self.lines is not None
        out = stdout_for(self.rc, self.lines) if self.stdout is None else list(self.stdout)
        return Outcome(self.rc, out, list(self.lines))


def stdout_for(rc: int, lines: Sequence[str]) -> list[str]:
    """``-c``'s stdout for an exit code and the stderr lines."""
    if rc == 1:
        return []
    warned = [WARNED] if any(line.startswith("[WARNING]") for line in lines) else []
    return warned + [VALID if rc == 0 else NO_LISTENER]


def _rc(lines: Sequence[str]) -> int:
    last = lines[-1] if lines else ""
    closing = (FATAL_POST[0], FATAL_ADDR[0], "Error(s) found in configuration file")
    return 1 if any(c in last for c in closing) else 0


def case(
    id: str,
    text: str,
    *messages: str,
    rc: int | None = None,
    args: Sequence[str] = (),
    pending: str = "",
    stdout: Sequence[str] | None = None,
    files: Mapping[str, bytes] | None = None,
) -> Case:
    """A case where herdsman prints what haproxy prints: ``messages`` as for ``expected()``.

    The exit code is 1 when the last message is a closing line, else 0. ``files``
    are written beside the configuration, by relative name.
    """
    lines = tuple(expected(*messages))
    out = None if stdout is None else tuple(stdout)
    code = _rc(lines) if rc is None else rc
    extra = tuple((files or {}).items())
    return Case(id, text, code, lines, tuple(args), pending=pending, stdout=out, files=extra)


def noticed(id: str, text: str, *messages: str) -> Case:
    """haproxy prints ``messages`` but the NOTICE ones (herdsman's notices of the
    keywords that have no effect in it); herdsman prints them all."""
    theirs = [m for m in messages if not m.startswith("NOTICE: ")]
    c = case(id, text, *theirs)
    if len(theirs) == len(messages):
        return c
    mine = tuple(expected(*messages))
    return dataclasses.replace(c, herdsman=mine, herdsman_rc=c.rc, why="no effect: one notice")


def refused(
    id: str,
    text: str,
    *messages: str,
    why: str,
    rc: int = 0,
    haproxy: Sequence[str] | None = None,
    args: Sequence[str] = (),
    files: Mapping[str, bytes] | None = None,
) -> Case:
    """A case herdsman refuses on purpose: ``messages`` are herdsman's.

    ``rc`` is haproxy's exit code for it, ``haproxy`` its messages if recorded.
    """
    mine = tuple(expected(*messages))
    theirs = tuple(expected(*haproxy)) if haproxy is not None else None
    extra = tuple((files or {}).items())
    return Case(id, text, rc, theirs, tuple(args), mine, _rc(mine), why, files=extra)


@contextlib.contextmanager
def _isolated(directory: Path) -> Iterator[None]:
    env = dict(os.environ)
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)


def write(directory: Path, text: str, name: str = FILE) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return path


def run_herdsman(directory: Path, text: str, args: Sequence[str] = (), name: str = FILE) -> Outcome:
    """``herdsman -c -f F.cfg [args]`` in-process, from ``directory``."""
    from herdsman import cli

    write(directory, text, name)
    out, err = io.StringIO(), io.StringIO()
    with _isolated(directory), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(["-c", *args, "-f", name])
    lines, noticed = normalise(err.getvalue())
    assert noticed, f"missing NOTICE lines before: {lines}"
    return Outcome(rc, out.getvalue().splitlines(), lines)


def run_haproxy(directory: Path, text: str, args: Sequence[str] = (), name: str = FILE) -> Outcome:
    """``haproxy -c -f F.cfg [args]`` from ``directory`` (needs the binary)."""
    assert HAPROXY is not None
    write(directory, text, name)
    proc = subprocess.run(
        [HAPROXY, "-c", *args, "-f", name],
        cwd=directory,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=30,
        check=False,
    )
    lines, noticed = normalise(proc.stderr)
    assert noticed, f"missing NOTICE lines before: {lines}"
    return Outcome(proc.returncode, proc.stdout.splitlines(), lines)


def params(cases: Sequence[Case], *, herdsman: bool = True) -> list[Any]:
    """``pytest.param`` for each case, with its id; cases still waiting for a change
    outside the configuration parser (``pending``) are strict xfails for herdsman."""
    out = []
    for c in cases:
        marks = [pytest.mark.xfail(strict=True, reason=c.pending)] if herdsman and c.pending else []
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


def check_herdsman(c: Case, directory: Path) -> None:
    """herdsman prints exactly what the case says (haproxy's text, or its refusal)."""
    c.write_files(directory)
    got = run_herdsman(directory, c.text, c.args)
    assert_same(got, c.outcome(herdsman=True), "herdsman", "expected")


def assert_same(got: Outcome, want: Outcome, got_name: str, want_name: str) -> None:
    """Equal exit codes, stderr and stdout, or an assertion error showing the difference."""
    if (got.rc, got.lines, got.stdout) == (want.rc, want.lines, want.stdout):
        return
    diff = difflib.unified_diff(
        [f"rc {want.rc}", *want.lines, *want.stdout],
        [f"rc {got.rc}", *got.lines, *got.stdout],
        want_name,
        got_name,
        lineterm="",
    )
    raise AssertionError("\n".join(diff))
