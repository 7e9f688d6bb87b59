"""Configuration diagnostics, printed the way HAProxy 2.6 prints them.

HAProxy accumulates ``ERR_*`` flags while it parses (``include/haproxy/errors.h``)
and decides at three points whether to stop: after each file ("Error(s) found in
configuration file"), after all files and after the post-parse checks ("Fatal
errors found in configuration."). Only ``FATAL`` and ``ABORT`` stop start-up;
an ``ALERT`` alone is printed and start-up continues.

Every message printed during start-up has the form::

    [ALERT]    (pid) : config : parsing [file:line] : text

The level tag is padded to 10 characters (``src/errors.c print_message()``), and
before the first alert or warning HAProxy prints two NOTICE lines naming the
version and the executable. herdsman names itself there, so operators can tell
which program produced the output.
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass, field
from typing import TextIO


class Err(enum.IntFlag):
    """``ERR_*`` flags of ``include/haproxy/errors.h``."""

    NONE = 0
    RETRYABLE = 0x01
    FATAL = 0x02
    ABORT = 0x04
    WARN = 0x08
    ALERT = 0x10


class Level(enum.Enum):
    NOTICE = "NOTICE"
    WARNING = "WARNING"
    ALERT = "ALERT"
    DIAG = "DIAG"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a configuration line came from."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def parsing(self) -> str:
        """The ``parsing [file:line] : `` prefix of section keyword messages."""
        return f"parsing [{self.file}:{self.line}] : "

    @property
    def at(self) -> str:
        """The ``[file:line] : `` prefix of server keyword messages."""
        return f"[{self.file}:{self.line}] : "


NOWHERE = Location("<internal>", 0)


@dataclass(frozen=True, slots=True)
class Message:
    level: Level
    text: str
    context: bool = True  # prefixed with "config : "

    def render(self, pid: int) -> str:
        tag = f"[{self.level.value}]".ljust(10)
        ctx = "config : " if self.context else ""
        # HAProxy formats "<msg>\n" and trims one newline: a message that
        # itself ends with "\n" is followed by an empty line on the terminal.
        return f"{tag} ({pid}) : {ctx}{self.text}"


def _executable(program: str) -> str:
    """The path HAProxy would print as "path to executable"."""
    argv0 = sys.argv[0] if sys.argv else ""
    if not argv0 or argv0.endswith("__main__.py") or argv0 == "-c":
        return f"{sys.executable} -m {program}"
    return os.path.realpath(argv0)


def indent_msg(text: str, level: int = 2) -> str:
    """``indent_msg()``: a one-line message loses its final newline; a message of
    several lines starts on a new line and each line is indented by ``level``."""
    lines = text.count("\n")
    if not lines or (lines == 1 and text.endswith("\n")):
        return text.removesuffix("\n")
    pad = " " * level
    return "".join(f"\n{pad}{line}" for line in text.lstrip("\n").removesuffix("\n").split("\n"))


class ConfigError(Exception):
    """Raised by keyword parsers: the message, without location, and its flags.

    The dispatcher adds the location prefix that suits the keyword family.
    """

    def __init__(
        self, message: str, flags: Err = Err.ALERT | Err.FATAL, *, tight: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.flags = flags
        self.tight = tight  # HAProxy's "parsing [file:line]: " (no blank before the colon)


@dataclass
class Diagnostics:
    """Collects messages and ``ERR_*`` flags; prints them as HAProxy does.

    ``stream`` receives each message as it is emitted (stderr in the command
    line tool, None when embedding or testing). ``quiet`` mirrors ``-q``.
    """

    stream: TextIO | None = None
    quiet: bool = False
    alerts_only: bool = False  # a master's first worker: the master printed the rest
    diag_mode: bool = False
    program: str = "herdsman"
    version: str = ""
    pid: int = field(default_factory=os.getpid)
    flags: Err = Err.NONE
    messages: list[Message] = field(default_factory=list)
    _noticed: bool = False

    def _emit(self, msg: Message) -> None:
        self.messages.append(msg)
        if self.stream is None or self.quiet:
            return
        if self.alerts_only and msg.level is not Level.ALERT:
            return
        if not self._noticed and msg.level in (Level.ALERT, Level.WARNING):
            self._noticed = True
            exe = _executable(self.program)
            for head in (
                f"{self.program} version is {self.version}",
                f"path to executable is {exe}",
            ):
                self.stream.write(Message(Level.NOTICE, head, False).render(self.pid) + "\n")
        self.stream.write(msg.render(self.pid) + "\n")
        self.stream.flush()

    def alert(self, text: str, flags: Err = Err.ALERT | Err.FATAL) -> None:
        self.flags |= flags | Err.ALERT
        self._emit(Message(Level.ALERT, text))

    def warning(self, text: str) -> None:
        self.flags |= Err.WARN
        self._emit(Message(Level.WARNING, text))

    def notice(self, text: str) -> None:
        self._emit(Message(Level.NOTICE, text))

    def diag(self, text: str) -> None:
        if self.diag_mode:
            self._emit(Message(Level.DIAG, text))

    def report(self, prefix: str, err: ConfigError) -> None:
        """Emit a ConfigError raised by a keyword parser, with its location prefix."""
        if err.tight:
            prefix = prefix.replace("] : ", "]: ", 1)
        if err.flags & (Err.ALERT | Err.FATAL | Err.ABORT):
            self.alert(prefix + err.message, err.flags)
        else:
            self.warning(prefix + err.message)

    @property
    def fatal(self) -> bool:
        return bool(self.flags & (Err.FATAL | Err.ABORT))

    @property
    def warned(self) -> bool:
        return bool(self.flags & Err.WARN)

    def texts(self, level: Level | None = None) -> list[str]:
        """The message texts (after ``config : ``), for tests and embedding."""
        return [m.text.rstrip("\n") for m in self.messages if level is None or m.level is level]
