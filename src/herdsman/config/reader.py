"""The configuration reader: ``readcfgfile()``'s line loop and ``-f <dir>``.

* :func:`read_config` yields the active lines of a file: ``.if/.elif/.else/
  .endif``, ``.diag/.notice/.warning/.alert``, ``[scope]`` lines, NUL bytes, a
  missing final LF, "too many words", the 50-fatal-errors cut-off, with
  readcfgfile()'s texts and ``ERR_*`` flags. It splits each line with
  ``config/lexer.py`` lazily, one at a time, so ``setenv`` in ``global``
  affects the lines after it.
* :func:`config_files` expands ``-f <dir>`` (``haproxy.c
  cfgfiles_expand_directories()``).
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Collection, Iterator, MutableMapping, Sequence
from dataclasses import dataclass

from herdsman.config.cond import CondError, eval_condition
from herdsman.config.diag import Diagnostics, Err, Level, Location
from herdsman.config.lexer import (  # package-private helpers of parse_line()
    _SPACE,
    LINESIZE,
    MAX_FATAL,
    MAXNESTEDCONDS,
    SECTION_KEYWORDS,
    _blen,
    _isalnum,
    _lex_error,
    _parse_line,
    _sanitize,
    _skip_blanks,
    _trim,
)

__all__ = ["ConfigFilesError", "Line", "config_files", "read_config"]


# -- the line loop -----------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """An active configuration line: where it is and its words."""

    loc: Location
    args: list[str]


class _Cond(enum.Enum):
    IF_TAKE = enum.auto()  # .if with a true condition
    IF_DROP = enum.auto()  # .if with a false condition
    IF_SKIP = enum.auto()  # .if inside a masked block: not even evaluated
    ELIF_TAKE = enum.auto()
    ELIF_DROP = enum.auto()
    ELIF_SKIP = enum.auto()  # masked, or a previous branch was taken
    ELSE_TAKE = enum.auto()
    ELSE_DROP = enum.auto()


_MASKED = {_Cond.IF_DROP, _Cond.IF_SKIP, _Cond.ELIF_DROP, _Cond.ELIF_SKIP, _Cond.ELSE_DROP}
_DONE = {_Cond.IF_TAKE, _Cond.IF_SKIP, _Cond.ELIF_TAKE, _Cond.ELIF_SKIP}  # no branch left
_ELSE = {_Cond.ELSE_TAKE, _Cond.ELSE_DROP}


def _fgets(data: bytes, pos: int, size: int) -> bytes | None:
    """fgets(): up to ``size - 1`` bytes, stopping after a newline; None at EOF."""
    if pos >= len(data):
        return None
    end = data.find(b"\n", pos, pos + size - 1)
    return data[pos : end + 1 if end >= 0 else pos + size - 1]


class _Stop(Exception):
    """Leave the line loop: ``post`` tells whether the end-of-file checks still run."""

    def __init__(self, post: bool) -> None:
        self.post = post


def read_config(
    text: str,
    filename: str,
    env: MutableMapping[str, str],
    diag: Diagnostics,
    *,
    sections: Collection[str] = SECTION_KEYWORDS,
) -> Iterator[Line]:
    """Yield the active lines of one file, handling directives and errors.

    Protocol with the caller, who parses each yielded line: when its
    handling sets ``Err.ABORT`` the generator stops at once, as readcfgfile()
    does; alerts it emits with ``Err.FATAL`` set count towards the limit of
    50 fatal errors per file. The end-of-file checks ("Missing LF",
    "non-terminated '.if' block") come after the last line, before the
    caller's own end-of-section work.
    """
    data = text.encode("utf-8", "surrogateescape")
    st = _ReaderState(filename, env, diag, sections)
    pos = 0
    linesize = LINESIZE
    pending = b""  # the beginning of an overlong line, as in thisline[0:readbytes]
    missing_lf = -1
    try:
        while (chunk := _fgets(data, pos, linesize - len(pending))) is not None:
            pos += len(chunk)
            raw = pending + chunk
            if missing_lf >= 0:
                diag.alert(
                    f"parsing [{filename}:{st.linenum}]: Stray NUL character at "
                    f"position {missing_lf + 1}."
                )
                missing_lf = -1
                raise _Stop(post=True)
            st.linenum += 1
            if st.fatal >= MAX_FATAL:
                diag.alert(
                    f"parsing [{filename}:{st.linenum}]: too many fatal errors "
                    f"({st.fatal}), stopping now.",
                    Err.ALERT,
                )
                raise _Stop(post=True)
            line = raw.split(b"\0", 1)[0]  # what strlen() sees
            if len(line) == linesize - 1 and not line.endswith(b"\n"):
                # The buffer is full: grow it and read the rest of the line.
                pending = raw
                linesize *= 2
                st.linenum -= 1
                continue
            pending = b""
            if line.endswith(b"\n"):
                line = line[:-1]
            else:
                missing_lf = len(line)  # last line without LF, or a NUL inside
            yield from st.handle(line.decode("utf-8", "surrogateescape"))
    except _Stop as stop:
        if not stop.post:
            return
    if missing_lf >= 0:
        diag.alert(
            f"parsing [{filename}:{st.linenum}]: Missing LF on last line, file might "
            f"have been truncated at position {missing_lf + 1}."
        )
    if st.conds:
        diag.alert(
            f"parsing [{filename}:{st.linenum}]: non-terminated '.if' block.",
            Err.ALERT | Err.FATAL | Err.ABORT,
        )


class _ReaderState:
    """Per-file state of readcfgfile(); ``handle()`` processes one line."""

    def __init__(
        self,
        filename: str,
        env: MutableMapping[str, str],
        diag: Diagnostics,
        sections: Collection[str],
    ) -> None:
        self.filename = filename
        self.env = env
        self.diag = diag
        self.sections = sections
        self.linenum = 0
        self.fatal = 0
        self.outsize = 0  # parse_line()'s output buffer, grown on demand
        self.conds: list[_Cond] = []
        self.section: str | None = None

    def where(self) -> str:
        return f"parsing [{self.filename}:{self.linenum}]:"

    def alert(self, text: str, flags: Err = Err.ALERT | Err.FATAL) -> None:
        self.diag.alert(f"{self.where()} {text}", flags)

    def handle(self, raw: str) -> Iterator[Line]:
        start = _skip_blanks(raw)
        if raw[start : start + 1] == "[":
            self.scope(raw[start:])
            return
        words = self.tokenize(raw, start)
        if words is None or not words[0].split("\0", 1)[0]:
            return  # errors, or an empty line (or one starting with "")
        if words[0].split("\0", 1)[0] in (".if", ".elif", ".else", ".endif"):
            self.conditional(words)
            return
        if self.conds and self.conds[-1] in _MASKED:
            return
        args = _trim(words)
        if args[0].startswith("."):
            self.directive(args)
            return
        self.track_section(args)
        alerts = self.alerts()
        yield Line(Location(self.filename, self.linenum), args)
        if self.diag.flags & Err.ABORT:
            raise _Stop(post=False)
        if self.diag.fatal and self.alerts() != alerts:
            # The caller's handling of the line failed (fatal++ in readcfgfile()).
            self.fatal += 1

    def alerts(self) -> int:
        return sum(1 for m in self.diag.messages if m.level is Level.ALERT)

    def tokenize(self, raw: str, start: int) -> list[str] | None:
        """parse_line() with readcfgfile()'s retry when the output buffer grows."""
        buf = list(raw)
        pseudo = {".LINE": str(self.linenum), ".FILE": self.filename, ".SECTION": self.section}
        while True:
            split = _parse_line(buf, start, self.env, pseudo, comments=True)
            err = _lex_error(split, raw, buf, start)
            if err is not None and err.kind != "toomany":
                break
            if split.out_len > self.outsize:
                self.outsize = (split.out_len + 1023) & ~1023
                continue  # parse again, on the buffer as the first pass left it
            if err is None:
                return split.words
            break
        self.diag.alert(err.message(self.filename, self.linenum))
        self.fatal += 1
        return None

    def scope(self, line: str) -> None:
        """cfg_parse_scope(): ``[name]`` lines (used by SPOE files), even in masked blocks."""
        where = f"parsing [{self.filename}:{self.linenum}] :"
        end = line.find("]")
        if end <= 1:
            self.diag.alert(f"{where} empty scope name is forbidden.")
            return
        bad = [c for c in line[1:end] if not (_isalnum(c) or c in ".:_-")]
        if bad:
            self.diag.alert(
                f"{where} character '{bad[0]}' is not permitted in a scope name.",
                Err.ALERT | Err.ABORT,
            )
            return
        rest = line[end + 1 :].lstrip(_SPACE)
        if rest and rest[0] != "#":
            self.diag.alert(
                f"{where} character '{rest[0]}' is not permitted after scope declaration.",
                Err.ALERT | Err.ABORT,
            )

    def conditional(self, words: list[str]) -> None:
        kw = words[0]
        abort = Err.ALERT | Err.FATAL | Err.ABORT
        top = self.conds[-1] if self.conds else None
        if kw == ".if":
            if len(self.conds) + 1 >= MAXNESTEDCONDS:
                self.alert(f"too many nested '.if', max is {MAXNESTEDCONDS}.", abort)
                raise _Stop(post=False)
            if top in _MASKED:
                self.conds.append(_Cond.IF_SKIP)
                return
            taken = self.evaluate(kw, words)
            self.conds.append(_Cond.IF_TAKE if taken else _Cond.IF_DROP)
        elif kw == ".elif":
            if top is None:
                self.alert("lone '.elif' with no matching '.if'.", abort)
                raise _Stop(post=False)
            if top in _ELSE:
                self.alert("'.elif' after '.else' is not permitted.", abort)
                raise _Stop(post=False)
            if top in _DONE:
                self.conds[-1] = _Cond.ELIF_SKIP
                return
            taken = self.evaluate(kw, words)
            self.conds[-1] = _Cond.ELIF_TAKE if taken else _Cond.ELIF_DROP
        else:  # .else, .endif
            extra = words[1].split("\0", 1)[0] if len(words) > 1 else ""
            if extra:
                self.alert(f"Unexpected argument '{extra}' for '{kw}'.", abort)
                raise _Stop(post=True)
            if top is None:
                self.alert(f"lone '{kw}' with no matching '.if'.", abort)
                raise _Stop(post=kw == ".endif")
            if kw == ".endif":
                self.conds.pop()
            elif top in _ELSE:
                self.alert("'.else' after '.else' is not permitted.", abort)
                raise _Stop(post=False)
            else:
                self.conds[-1] = _Cond.ELSE_DROP if top in _DONE else _Cond.ELSE_TAKE

    def evaluate(self, kw: str, words: list[str]) -> bool:
        cond = words[1:]
        try:
            return eval_condition(cond, self.env)
        except CondError as err:
            text = " ".join(cond).replace("\0", " ")
            pos = _blen(text[: err.position])
            shown, caret = _sanitize(text, pos, 80 - len(kw) - 1)
            self.alert(
                f"{err.message or '(null)'} in '{kw}' at position {pos + 1}:\n"
                f"  {kw} {shown}\n  {' ' * (caret + len(kw) + 1)}^",
                Err.ALERT | Err.FATAL | Err.ABORT,
            )
            raise _Stop(post=False) from None

    def directive(self, args: list[str]) -> None:
        kw = args[0]
        if kw not in (".alert", ".warning", ".notice", ".diag"):
            self.alert(f"unknown directive '{kw}'.")
            self.fatal += 1
            raise _Stop(post=True)
        if len(args) > 2 and args[2]:
            self.alert(
                f"Unexpected argument '{args[2]}' for '{kw}'. "
                "Use quotes if the message should contain spaces."
            )
            return
        text = f"{self.where()} '{args[1] if len(args) > 1 else ''}'."
        if kw == ".alert":
            self.diag.alert(text, Err.ALERT | Err.FATAL | Err.ABORT)
            raise _Stop(post=False)
        if kw == ".warning":
            self.diag.warning(text)
        elif kw == ".notice":
            self.diag.notice(text)
        else:
            self.diag.diag(text)

    def track_section(self, args: list[str]) -> None:
        # readcfgfile() looks for section names after dropping a "no"/"default"
        # modifier, and names ${.SECTION} after the section's name if it has one.
        if args[0] in ("no", "default"):
            args = args[1:]
        if args and args[0] in self.sections:
            self.section = args[1] if len(args) > 1 else args[0]


# -- -f <dir> ----------------------------------------------------------------------


class ConfigFilesError(OSError):
    """A path given with ``-f`` that cannot be used; ``message`` is HAProxy's alert."""

    def __init__(self, err: OSError, message: str) -> None:
        super().__init__(err.errno, err.strerror, err.filename)
        self.message = message


def config_files(paths: Sequence[str]) -> list[str]:
    """Replace each directory by its ``*.cfg`` regular files, in byte order.

    As cfgfiles_expand_directories(): names starting with ``.`` are skipped,
    the first ``.cfg`` in the name must end it (``a.cfg.cfg`` is skipped),
    symbolic links are followed, and subdirectories are not entered.
    Raises ConfigFilesError (an OSError) for a path that cannot be read.
    """
    files: list[str] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError as err:
            raise ConfigFilesError(
                err, f"Cannot open configuration file/directory {path} : {_strerror(err)}"
            ) from None
        if not stat.S_ISDIR(st.st_mode):
            files.append(path)
            continue
        try:
            names = os.listdir(path)
        except OSError as err:
            raise ConfigFilesError(
                err, f"Cannot open configuration directory {path} : {_strerror(err)}"
            ) from None
        # alphasort() in the C locale: plain byte order.
        for name in sorted(names, key=os.fsencode):
            ext = name.find(".cfg")
            if name.startswith(".") or ext < 0 or ext + 4 != len(name):
                continue
            filename = f"{path}/{name}"
            try:
                st = os.stat(filename)
            except OSError as err:
                # sic: 2.6 names the directory, not the file
                raise ConfigFilesError(
                    err, f"Cannot open configuration file {path} : {_strerror(err)}"
                ) from None
            if stat.S_ISREG(st.st_mode):
                files.append(filename)
    return files


def _strerror(err: OSError) -> str:
    return os.strerror(err.errno) if err.errno else str(err)
