"""HAProxy's CLI protocol, sans-IO: bytes in, bytes out (``cli.c`` of 2.6).

``Conversation`` is one connection to a stats socket. It reads commands
separated by LF or by an unescaped ``;`` (``co_getdelim(.., "\\n;", '\\\\')``),
drops a trailing CR, splits words on blanks with backslash escapes
(``cli_parse_request()``), runs each command and writes its output followed
by the "prompt": a bare LF, or LF and ``> `` in interactive mode (the
``prompt`` command toggles it). Out of interactive mode the connection ends
once the commands received so far are answered: one command (or one
pipelined batch) per connection. A line ending in ``<<`` starts a payload
that ends with an empty line. ``quit`` ends the connection.

``Cli`` is the command table: each ``Command`` has its words, its usage line
(HAProxy's text, column for column, so ``help`` reads the same) and its
handler. A command's access level is checked by its handler, as in HAProxy,
so a refused command answers "Permission denied" after its own argument
checks, in HAProxy's order. Unknown commands get HAProxy's usage message with
the fuzzy matches of ``cli_gen_usage_msg()``.

A handler returns its text, or ``Later`` when the answer comes from I/O
(``check now``): the conversation then waits, and the edge calls
``resume()`` with the text.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from herdsman.defs.words import fingerprint, fingerprint_distance

PAYLOAD_PATTERN = "<<"
MAX_CLI_ARGS = 64
PERMISSION_DENIED = "Permission denied\n"
CLI_MAX_MATCHES = 5
CLI_PREFIX_KW_NB = 5
ALWAYS = (
    "  help [<command>]                        : list matching or all commands\n"
    "  prompt                                  : toggle interactive mode with prompt\n"
    "  quit                                    : disconnect\n"
)


class Level(enum.IntEnum):
    """``ACCESS_LVL_*``: a socket's (and a session's) access level."""

    USER = 1
    OPER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, word: str) -> Level | None:
        return {"user": cls.USER, "operator": cls.OPER, "admin": cls.ADMIN}.get(word)


@dataclass
class Session:
    """One connection's state: its level, interactive mode, experimental mode."""

    level: Level = Level.OPER
    bind_level: Level = Level.OPER  # the socket's own level ("show stat" legends)
    prompt: bool = False
    experimental: bool = False
    quit: bool = False
    no_lf: bool = False  # "experimental-mode on -": no LF after this command
    timeout_ms: int = 10_000  # idle timeout ("stats timeout", "set timeout cli")

    def allows(self, level: Level) -> bool:
        return self.level >= level


@dataclass(frozen=True)
class Later:
    """An answer that comes later: ``start(done)`` begins the work, ``done(text)`` ends it."""

    start: Callable[[Callable[[str], None]], None]


Reply = str | Later
Handler = Callable[["Session", list[str], "str | None"], Reply]
A = TypeVar("A")


@dataclass(frozen=True)
class Command(Generic[A]):
    """A row of the command table (``struct cli_kw``)."""

    words: tuple[str, ...]
    usage: str | None  # the help line, without its two leading blanks; None: not listed
    run: Callable[[A, Session, list[str], str | None], Reply]
    experimental: bool = False


def arg(args: list[str], i: int) -> str:
    """``args[i]``, or "" past the end (HAProxy pads the array with empty words)."""
    return args[i] if i < len(args) else ""


def split_words(line: str) -> tuple[list[str], bool]:
    """``cli_parse_request()``'s word split: (words, a payload follows).

    Words are separated by blanks; a backslash keeps the next character
    (``\\\\`` is one backslash); a word that is exactly ``<<`` and ends the
    line announces a payload.
    """
    words: list[str] = []
    i, n = 0, len(line)
    while len(words) < MAX_CLI_ARGS and i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        if line[i:] == PAYLOAD_PATTERN:
            return words, True
        start = i
        while i < n and line[i] not in " \t":
            if line[i] == "\\":
                i += 1
            i += 1
        raw = line[start:i]
        out: list[str] = []
        k = 0
        while k < len(raw):
            ch = raw[k]
            if ch == "\\":
                if raw[k + 1 : k + 2] == "\\":
                    k += 1
                else:
                    k += 1
                    continue
            out.append(raw[k])
            k += 1
        words.append("".join(out))
        i += 1
    return words, False


class Cli(Generic[A]):
    """The command table and its dispatcher, for one API context ``api``."""

    def __init__(self, api: A, commands: Iterable[Command[A]]) -> None:
        self.api = api
        self.commands = list(commands)

    def find(self, args: list[str]) -> Command[A] | None:
        """``cli_find_kw()``: the first command whose words all match the first args."""
        for cmd in self.commands:
            if len(args) >= len(cmd.words) and all(
                a == w for a, w in zip(args, cmd.words, strict=False)
            ):
                return cmd
        return None

    def run(self, session: Session, args: list[str], payload: str | None) -> Reply:
        cmd = self.find(args)
        if cmd is None:
            return self.usage(session, args)
        if cmd.experimental and not session.experimental:
            return "This command is restricted to experimental mode only.\n"
        return cmd.run(self.api, session, args, payload)

    def _visible(self, session: Session) -> list[Command[A]]:
        return [c for c in self.commands if not c.experimental or session.experimental]

    def usage(self, session: Session, args: list[str]) -> str:
        """``cli_gen_usage_msg()``: the help, or the commands closest to ``args``."""
        ishelp = bool(args) and args[0] == "help"
        if ishelp:
            args = args[1:]
        visible = self._visible(session)
        length = 0
        for cmd in visible:
            for idx, word in enumerate(cmd.words[:CLI_PREFIX_KW_NB]):
                if idx >= len(args) or not args[idx] or word != args[idx]:
                    break
                length = max(length, idx + 1)
        if ishelp:
            head = "The following commands are valid at this level:\n"
        elif not length and not args:
            head = "Unknown command. Please enter one of the following commands only:\n"
        else:
            head = "Unknown command, but maybe one of the following ones is a better match:\n"
        entries = self._fuzzy(visible, args, length)
        if not entries:
            entries = [c for c in visible if c.usage is not None and _prefix(c, args) == length]
        lines = sorted(c.usage for c in entries if c.usage is not None)
        return head + "".join(f"  {u}\n" for u in lines) + ALWAYS

    @staticmethod
    def _fuzzy(visible: list[Command[A]], args: list[str], length: int) -> list[Command[A]]:
        """The best matches of the words after the ``length`` matching ones."""
        if length >= len(args) or not args[length]:
            return []
        matches: list[tuple[int, Command[A]]] = []
        for cmd in visible:
            if cmd.usage is None or _prefix(cmd, args) != length:
                continue
            tail = args[length:CLI_PREFIX_KW_NB]
            words = cmd.words[length:CLI_PREFIX_KW_NB]
            totlen = sum(len(w) for w in tail) + sum(len(w) for w in words)
            dist = fingerprint_distance(fingerprint(tail), fingerprint(words))
            worst = matches[-1][0] if len(matches) == CLI_MAX_MATCHES else 1 << 30
            if dist < 5 * totlen // 2 and dist < worst:
                if len(matches) == CLI_MAX_MATCHES:
                    matches.pop()
                # insertion after equal distances: the earlier command stays first
                pos = len(matches)
                while pos and matches[pos - 1][0] > dist:
                    pos -= 1
                matches.insert(pos, (dist, cmd))
        if not matches:
            return []
        first = matches[0][0]
        return [cmd for dist, cmd in matches if dist <= 5 * first // 2]


def _prefix(cmd: Command[A], args: list[str]) -> int:
    """How many of ``cmd``'s first words equal the first args (up to the first mismatch)."""
    n = 0
    for idx, word in enumerate(cmd.words[:CLI_PREFIX_KW_NB]):
        if idx >= len(args) or not args[idx] or word != args[idx]:
            break
        n += 1
    return n


@dataclass
class Output:
    """What the edge must do after feeding bytes: write, then maybe wait or close."""

    data: bytes = b""
    pending: Later | None = None
    close: bool = False


@dataclass
class Conversation(Generic[A]):
    """One stats socket connection (``cli_io_handler()``), without the socket."""

    cli: Cli[A]
    session: Session
    _buf: bytes = b""
    _payload: list[str] | None = None  # lines gathered after "<<"
    _command: str = ""  # the line that announced the payload
    _out: list[bytes] = field(default_factory=list)
    _waiting: bool = False
    _closed: bool = False
    _eof: bool = False

    def feed(self, data: bytes) -> Output:
        """Bytes from the client."""
        self._buf += data
        return self._process()

    def eof(self) -> Output:
        """The client shut its side: an incomplete last line is dropped, as in HAProxy."""
        self._eof = True
        return self._process()

    def resume(self, text: str) -> Output:
        """The answer of a ``Later`` command."""
        self._waiting = False
        self._answer(text)
        return self._process()

    # -- the loop ------------------------------------------------------------------

    def _next_line(self) -> str | None:
        buf = self._buf
        i, n = 0, len(buf)
        while i < n:
            ch = buf[i]
            if ch == 0x5C and self._payload is None:  # backslash escapes a delimiter
                i += 2
                continue
            if ch == 0x0A or (ch == 0x3B and self._payload is None):
                line = buf[:i]
                self._buf = buf[i + 1 :]
                if line.endswith(b"\r"):
                    line = line[:-1]
                return line.decode("utf-8", "surrogateescape")
            i += 1
        return None

    def _process(self) -> Output:
        while not self._closed and not self._waiting:
            line = self._next_line()
            if line is None:
                if self._eof:
                    self._closed = True
                break
            reply: Reply | None
            if self._payload is not None:
                if line:
                    self._payload.append(line)
                    reply = None
                else:
                    payload = "\n".join(self._payload)
                    self._payload = None
                    words, _ = split_words(self._command)
                    reply = self.cli.run(self.session, words, payload)
            else:
                words, has_payload = split_words(line)
                if has_payload:
                    self._payload = []
                    self._command = line
                    reply = None
                else:
                    reply = self.cli.run(self.session, words, None)
            if isinstance(reply, Later):
                self._waiting = True
                out = Output(b"".join(self._out), reply)
                self._out.clear()
                return out
            if reply is None:
                self._prompt()
            else:
                self._answer(reply)
        out = Output(b"".join(self._out), None, self._closed)
        self._out.clear()
        return out

    def _answer(self, text: str) -> None:
        self._out.append(text.encode("utf-8", "surrogateescape"))
        self._prompt()

    def _prompt(self) -> None:
        s = self.session
        if s.quit:
            self._closed = True
            return
        if s.prompt:
            # while a payload is gathered, "+ " says more lines are expected
            self._out.append(b"+ " if self._payload is not None else b"\n> ")
        elif self._payload is None and not s.no_lf:
            self._out.append(b"\n")
        s.no_lf = False
        if not s.prompt and self._payload is None and not self._buf:
            self._closed = True
