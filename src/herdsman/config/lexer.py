"""Splitting configuration lines into words as HAProxy 2.6 ``parse_line()`` does.

The line loop that uses it is ``config/reader.py``.

* :func:`split_words` / :func:`tokenize` reimplement ``tools.c parse_line()``
  with the options the configuration reader uses: words separated by blanks,
  ``"..."`` (with ``$VAR``, ``${VAR}``, ``${VAR-default}`` and the word-splitting
  ``"${VAR[*]}"`` expanded inside), ``'...'`` taken literally, backslash
  escapes (``\\ \\\\ \\# \\' \\" \\t \\n \\r \\xHH``, and ``\\$`` inside double
  quotes) and ``#`` comments. ``$`` outside double quotes is an ordinary
  character: ``server s1 ${ADDR}`` reaches the address parser unexpanded,
  which expands it itself (see ``address.py``).

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

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "MAX_LINE_ARGS",
    "SECTION_KEYWORDS",
    "LexError",
    "Split",
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
