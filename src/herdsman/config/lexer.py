"""Reading configuration files the way HAProxy 2.6 ``readcfgfile()`` does.

Three layers, all without I/O except :func:`config_files`:

* :func:`split_words` / :func:`tokenize` reimplement ``tools.c parse_line()``
  with the options the configuration reader uses: words separated by blanks,
  ``"..."`` (with ``$VAR``, ``${VAR}``, ``${VAR-default}`` and the word-splitting
  ``"${VAR[*]}"`` expanded inside), ``'...'`` taken literally, backslash
  escapes (``\\ \\\\ \\# \\' \\" \\t \\n \\r \\xHH``, and ``\\$`` inside double
  quotes) and ``#`` comments. ``$`` outside double quotes is an ordinary
  character: ``server s1 ${ADDR}`` reaches the address parser unexpanded,
  which expands it itself (see ``address.py``).
* :func:`read_config` is the line loop: ``.if/.elif/.else/.endif``,
  ``.diag/.notice/.warning/.alert``, ``[scope]`` lines, NUL bytes, a missing
  final LF, "too many words", the 50-fatal-errors cut-off, with
  readcfgfile()'s texts and ``ERR_*`` flags. It tokenizes lazily, one line at
  a time, so ``setenv`` in ``global`` affects the lines after it.
* :func:`config_files` expands ``-f <dir>`` (``haproxy.c
  cfgfiles_expand_directories()``).

Positions in messages are 1-based byte offsets, as HAProxy counts them;
text is handled as UTF-8 with ``surrogateescape`` so any byte survives.

Reproduced 2.6.12 quirks: ``${VAR-default}`` on a line whose output does not
fit the reader's buffer (the first line of a file, or a line longer than any
before it) fails with "unmatched brace", because the first pass overwrote
the ``}`` before the buffer was grown and the line parsed again; a line
starting with an empty word (``"" foo``) is ignored; a final line without LF
whose length is exactly the buffer size minus one (2047 bytes) is dropped.
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Collection, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

from herdsman.config.cond import CondError, eval_condition
from herdsman.config.diag import Diagnostics, Err, Level, Location

__all__ = [
    "MAX_LINE_ARGS",
    "SECTION_KEYWORDS",
    "ConfigFilesError",
    "LexError",
    "Line",
    "Split",
    "config_files",
    "read_config",
    "split_words",
    "tokenize",
]

MAX_LINE_ARGS = 64
MAXNESTEDCONDS = 100
LINESIZE = 2048
MAX_FATAL = 50

# Section keywords registered in 2.6 (REGISTER_CONFIG_SECTION); only used to
# keep ${.SECTION} up to date.
SECTION_KEYWORDS = frozenset(
    {
        "global", "defaults", "frontend", "backend", "listen", "userlist", "peers",
        "mailers", "namespace_list", "resolvers", "http-errors", "ring", "cache",
        "log-forward", "program", "fcgi-app",
    }
)  # fmt: skip

_SPACE = " \t\n\v\f\r"  # C isspace() in the C locale
_HEX = "0123456789abcdefABCDEF"
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", " ": " ", "\\": "\\"}
_PSEUDO_VARS = (".LINE", ".FILE", ".SECTION")

_MESSAGES = {
    "quote": "unmatched quote",
    "brace": "unmatched brace in environment variable name",
    "varname": "forbidden first char in environment variable name",
    "hex": "truncated or invalid hexadecimal sequence",
    "expand": "truncated or invalid word expansion sequence",
}
_ORDER = ("quote", "brace", "varname", "hex", "expand")  # readcfgfile()'s checks


def _blen(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def _isalpha(c: str) -> bool:
    return c.isascii() and c.isalpha()


def _isalnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _sanitize(text: str, pos: int, width: int) -> tuple[str, int]:
    """sanitize_for_printing(): fit ``text`` in ``width`` columns around byte ``pos``.

    Returns the printable text and the caret's new offset.
    """
    data = text.split("\0", 1)[0].encode("utf-8", "surrogateescape")
    shift = 0
    head = tail = ""
    if pos >= width:
        # Out of context: centre the position, with "..." on both sides.
        shift = pos - width // 2
        data = data[shift + 3 : shift + width - 3]
        head = tail = "..."
    else:
        data = data[:width]
    body = "".join(" " if chr(b) in _SPACE else chr(b) if 0x20 <= b < 0x7F else "?" for b in data)
    return head + body + tail, pos - shift


class LexError(Exception):
    """A line that parse_line() rejects.

    ``position`` is the 1-based byte position HAProxy prints: in the raw
    line for every kind but ``toomany``, where it is the offset of the 64th
    word in the output buffer. ``echo`` is the line as HAProxy prints it
    (leading blanks skipped, possibly cut short where parsing wrote a NUL).
    """

    def __init__(self, kind: str, position: int, echo: str = "", caret: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.position = position
        self.echo = echo
        self.caret = caret  # byte offset of the error in ``echo``

    def message(self, file: str, line: int) -> str:
        """readcfgfile()'s alert text (multi-line, without the final newline)."""
        if self.kind == "toomany":
            return (
                f"parsing [{file}:{line}]: too many words, truncating after word "
                f"{MAX_LINE_ARGS}, position {self.position}: <{self.echo}>."
            )
        text, caret = _sanitize(self.echo, self.caret, 80)
        return (
            f"parsing [{file}:{line}]: {_MESSAGES[self.kind]} at position {self.position}:\n"
            f"  {text}\n  {' ' * caret}^"
        )


@dataclass
class Split:
    """Result of one parse_line() pass.

    ``words`` may end with an empty word left by trailing blanks; ``errors``
    maps each error kind found to the index of HAProxy's error pointer in
    the line; ``out_len`` is the number of bytes the C output buffer needs.
    ``merged`` is the whole output with NULs turned into spaces, as ``.if``
    and ``-cc`` glue the words back together.
    """

    words: list[str]
    errors: dict[str, int] = field(default_factory=dict)
    out_len: int = 0
    merged: str = ""


def _parse_line(
    buf: list[str],
    start: int,
    env: Mapping[str, str],
    pseudo: Mapping[str, str | None],
    *,
    comments: bool,
    inplace: bool = False,
) -> Split:
    """One parse_line() pass over ``buf[start:]``.

    ``buf`` is mutable on purpose: like the C code, the pass writes NULs into
    the input (the ``}`` closing a default value, the end of a bad pseudo
    variable name), which a second pass and error messages then see. With
    ``inplace`` (how ``-cc`` calls it) the output is also written over the
    input as it is produced, within ``len(buf) + 1`` bytes, so an expansion
    longer than its reference overwrites what is still to be read.
    """
    n = len(buf)
    words: list[str] = []
    cur: list[str] = []
    errors: dict[str, int] = {}
    squote = dquote = False
    quote = -1
    outpos = 0
    if inplace:
        buf.append("\0")  # the terminator is part of the C buffer

    def at(k: int) -> str:
        return buf[k] if k < len(buf) else "\0"

    def put(c: str) -> None:
        nonlocal outpos
        if inplace:
            # EMIT_CHAR(): nothing more is written once an error is flagged.
            if outpos >= len(buf):
                errors.setdefault("toolarge", outpos)
            elif not errors:
                buf[outpos] = c
        outpos += 1

    def emit(c: str) -> None:
        put(c)
        cur.append(c)

    def new_word() -> None:
        nonlocal cur
        put("\0")
        words.append("".join(cur))
        cur = []
        if len(words) >= MAX_LINE_ARGS:
            errors.setdefault("toomany", -1)

    def leave(kind: str, pos: int) -> Split:
        errors[kind] = pos
        size = sum(_blen(w) + 1 for w in words) + _blen("".join(cur))
        return Split([*words, "".join(cur)], errors, size)

    i = start
    while True:
        c = at(i)
        if c in "\0\n\r":
            break
        if c == "#" and comments and not squote and not dquote:
            break
        if c == '"' and not squote:
            dquote = not dquote
            quote = i if dquote else -1
            i += 1
        elif c == "'" and not dquote:
            squote = not squote
            quote = i if squote else -1
            i += 1
        elif c == "\\" and not squote:
            nxt = at(i + 1)
            if nxt in _ESCAPES:
                emit(_ESCAPES[nxt])
                i += 2
            elif nxt in "'\"" or (nxt == "#" and comments) or (nxt == "$" and dquote):
                emit(nxt)
                i += 2
            elif nxt == "x":
                if at(i + 2) not in _HEX or at(i + 3) not in _HEX:
                    return leave("hex", i)
                byte = int(at(i + 2) + at(i + 3), 16)
                # Bytes >= 0x80 are kept as raw bytes (surrogateescape).
                emit(chr(byte) if byte < 0x80 else chr(0xDC00 + byte))
                i += 4
            else:
                emit("\\")  # not an escape sequence: kept as is
                i += 1
        elif c in _SPACE and not squote and not dquote:
            while at(i) in _SPACE:
                i += 1
            new_word()
        elif c == "$" and dquote:
            i += 1
            brace = -1
            if at(i) == "{":
                brace = i
                i += 1
            if not (_isalpha(at(i)) or at(i) in "_."):
                return leave("varname", i)
            name_start = i
            if at(i) == ".":
                i += 1
            while _isalnum(at(i)) or at(i) == "_":
                i += 1
            name = "".join(buf[name_start:i])
            value: str | None
            if name.startswith("."):
                if name not in _PSEUDO_VARS:
                    if i < n:
                        buf[i] = "\0"  # the C code never restores this character
                    return leave("varname", name_start)
                value = pseudo.get(name)
            else:
                value = env.get(name)
            expand = False
            if at(i) == "[" and brace >= 0:
                if at(i + 1) != "*" or at(i + 2) != "]":
                    return leave("expand", i)
                expand = True
                i += 3
            default = -1  # the default value is read from the buffer, as C does
            if brace >= 0:
                if at(i) == "-":
                    default = i + 1
                    while at(i) not in "\0}":
                        i += 1
                    if at(i) == "\0":
                        return leave("brace", brace)
                    buf[i] = "\0"  # terminates the default value, for good
                elif at(i) != "}":
                    return leave("brace", brace)
                i += 1
            if value is None and default >= 0:
                text = buf
                k = default
            else:
                text = list(value or "")
                k = 0
            while (ch := text[k] if k < len(text) else "\0") != "\0":
                k += 1
                if expand and ch in _SPACE:
                    new_word()
                    while k < len(text) and text[k] in _SPACE:
                        k += 1
                else:
                    emit(ch)
        else:
            emit(c)
            i += 1

    put("\0")
    words.append("".join(cur))
    if quote >= 0:
        errors["quote"] = quote
    # Merge the raw bytes produced by \xHH back into characters where they form UTF-8.
    words = [w.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape") for w in words]
    merged = "".join(buf[: max(outpos - 1, 0)]) if inplace else "\0".join(words)
    return Split(words, errors, sum(_blen(w) + 1 for w in words), merged.replace("\0", " "))


def _skip_blanks(line: str) -> int:
    i = 0
    while i < len(line) and line[i] in _SPACE:
        i += 1
    return i


def split_words(
    line: str,
    env: Mapping[str, str],
    *,
    comments: bool = True,
    skip_leading: bool = True,
    file: str | None = None,
    lineno: int = 0,
    section: str | None = None,
    inplace: bool = False,
) -> Split:
    """One parse_line() pass, reporting errors as data.

    The output buffer is unlimited unless ``inplace`` (see ``_parse_line``).
    ``file``, ``lineno`` and ``section`` feed the ``${.FILE}``, ``${.LINE}``
    and ``${.SECTION}`` pseudo-variables.
    """
    start = _skip_blanks(line) if skip_leading else 0
    pseudo = {".LINE": str(lineno), ".FILE": file, ".SECTION": section}
    return _parse_line(list(line), start, env, pseudo, comments=comments, inplace=inplace)


def _lex_error(split: Split, raw: str, buf: list[str], start: int) -> LexError | None:
    """The error readcfgfile() reports for this pass, if any (``toomany`` last)."""
    for kind in _ORDER:
        if kind in split.errors:
            idx = split.errors[kind]
            echo = "".join(buf[start:]).split("\0", 1)[0]
            return LexError(kind, _blen(raw[:idx]) + 1, echo, _blen(raw[start:idx]))
    if "toomany" in split.errors:
        word = split.words[MAX_LINE_ARGS - 1]
        offset = sum(_blen(w) + 1 for w in split.words[: MAX_LINE_ARGS - 1])
        return LexError("toomany", offset + 1, word.split("\0", 1)[0])
    return None


def _trim(words: list[str]) -> list[str]:
    """Words as keyword parsers see them: C strings (cut at NUL), no trailing empties.

    HAProxy pads the argument array with empty strings, so an empty trailing
    word (trailing blanks, ``""``) is indistinguishable from a missing one.
    """
    args = [w.split("\0", 1)[0] for w in words]
    while args and not args[-1]:
        args.pop()
    return args


def tokenize(
    line: str,
    env: Mapping[str, str],
    *,
    file: str | None = None,
    lineno: int = 0,
    section: str | None = None,
) -> list[str]:
    """Split one configuration line into words, or raise LexError.

    Leading blanks are skipped as readcfgfile() does; trailing empty words
    are dropped (see ``_trim``). An empty or comment line gives ``[]``.
    """
    buf = list(line)
    start = _skip_blanks(line)
    pseudo = {".LINE": str(lineno), ".FILE": file, ".SECTION": section}
    split = _parse_line(buf, start, env, pseudo, comments=True)
    err = _lex_error(split, line, buf, start)
    if err is not None:
        raise err
    return _trim(split.words)


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
