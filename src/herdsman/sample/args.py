"""Arguments of fetches and converters: ``make_arg_list()`` (``src/arg.c``).

An argument list is ``(a,b,...)`` right after a keyword. Quotes delimit an
argument that holds commas or parentheses, ``\\`` escapes a quote, a space or
itself and writes ``\\r``, ``\\n``, ``\\t``. Each argument is typed by the
keyword's mask; the error texts are HAProxy's (the callers prefix them with
the keyword, as ``sample_parse_expr()`` does).

Arguments naming something defined elsewhere (a backend, a table, a server, a
user list) stay names here: they are resolved once the whole configuration is
read (``smp_resolve_args()``), by whoever compiles the expression.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Final

from herdsman.sample.types import read_int64

# ARGT_*
STOP: Final = 0
SINT: Final = 1
STR: Final = 2
IPV4: Final = 3
MSK4: Final = 4
IPV6: Final = 5
MSK6: Final = 6
TIME: Final = 7
SIZE: Final = 8
FE: Final = 9
BE: Final = 10
TAB: Final = 11
SRV: Final = 12
USR: Final = 13
MAP: Final = 14
REG: Final = 15
VAR: Final = 16
PBUF: Final = 17

TYPE_NAMES: Final = {
    STOP: "end of arguments",
    SINT: "integer",
    STR: "string",
    IPV4: "IPv4 address",
    MSK4: "IPv4 mask",
    IPV6: "IPv6 address",
    MSK6: "IPv6 mask",
    TIME: "delay",
    SIZE: "size",
    FE: "frontend",
    BE: "backend",
    TAB: "table",
    SRV: "server",
    USR: "user list",
    MAP: "map",
    REG: "regex",
    VAR: "variable",
    PBUF: "Protocol buffers field number",
}
# resolved after parsing: kept as names
UNRESOLVED: Final = frozenset({FE, BE, TAB, SRV, USR, REG})

Arg = int | str | IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """A keyword's ``ARG<n>()`` mask: the argument types and how many are mandatory."""

    types: tuple[int, ...] = ()
    mandatory: int = 0

    def signature(self) -> str:
        """``(string[,integer])`` as ``-dKsmp`` prints it (empty without arguments)."""
        if not self.types:
            return ""
        names = [TYPE_NAMES[t] for t in self.types]
        head = ",".join(names[: self.mandatory])
        tail = ",".join(names[self.mandatory :])
        if not tail:
            return f"({head})"
        return f"({head}[{',' if head else ''}{tail}])"


NO_ARGS: Final = ArgSpec()


class ArgError(ValueError):
    """A ``make_arg_list()`` failure: HAProxy's text and the argument position
    (``err_arg``, counted from 0)."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def str2mask(text: str) -> IPv4Address | None:
    """``str2mask()``: a dotted mask or a number of bits (0..32)."""
    if "." in text:
        try:
            return IPv4Address(socket.inet_pton(socket.AF_INET, text))
        except OSError:
            return None
    if not text.isdigit() or not text.isascii():
        return None
    bits = int(text)
    if bits > 32:
        return None
    return IPv4Address(((1 << bits) - 1) << (32 - bits) if bits else 0)


def str2mask6(text: str) -> IPv6Address | None:
    """``str2mask6()``: an IPv6 mask or a number of bits (0..128)."""
    if ":" in text:
        try:
            return IPv6Address(socket.inet_pton(socket.AF_INET6, text))
        except OSError:
            return None
    if not text.isdigit() or not text.isascii():
        return None
    bits = int(text)
    if bits > 128:
        return None
    return IPv6Address(((1 << bits) - 1) << (128 - bits) if bits else 0)


def _typed(kind: int, word: str, pos: int) -> Arg:
    def parse_err() -> ArgError:
        return ArgError(
            f"failed to parse '{word}' as type '{TYPE_NAMES[kind]}' at position {pos + 1}", pos
        )

    if kind == SINT:
        raw = word.encode("utf-8", "surrogateescape")
        value = read_int64(raw)
        # read_int64() must consume everything: a sign, then digits only
        body = raw[1:] if raw[:1] in (b"-", b"+") else raw
        if body and not body.isdigit():
            raise parse_err()
        return value
    if kind == IPV4:
        try:
            return IPv4Address(socket.inet_pton(socket.AF_INET, word))
        except OSError:
            raise parse_err() from None
    if kind == IPV6:
        try:
            return IPv6Address(socket.inet_pton(socket.AF_INET6, word))
        except OSError:
            raise parse_err() from None
    if kind == MSK4:
        mask = str2mask(word)
        if mask is None:
            raise parse_err()
        return mask
    if kind == MSK6:
        mask6 = str2mask6(word)
        if mask6 is None:
            raise parse_err()
        return mask6
    if kind in (STR, VAR, MAP) or kind in UNRESOLVED:
        return word
    raise ArgError(
        f"parsing for type '{TYPE_NAMES[kind]}' was not implemented, please report this bug", pos
    )


_ESCAPES = {"\\": "\\", " ": " ", '"': '"', "'": "'", "r": "\r", "n": "\n", "t": "\t"}


def make_arg_list(text: str, start: int, spec: ArgSpec) -> tuple[list[Arg], int]:
    """Parse the argument list at ``text[start:]`` (just after the keyword).

    Returns the typed arguments and the position after the list (after the
    closing parenthesis, or ``start`` when there is none). Raises ArgError.
    """
    empty = start >= len(text) or text[start] != "("
    i = start if empty else start + 1
    n = start if empty else len(text)  # an empty list reads nothing (len = 0)
    nbarg = len(spec.types)
    out: list[Arg] = []
    pos = 0
    if nbarg and not (empty and not spec.mandatory):
        while pos < nbarg:
            cur: list[str] = []
            squote = dquote = False
            while i < n:
                ch = text[i]
                if ch == '"' and not squote:
                    dquote = not dquote
                    i += 1
                    continue
                if ch == "'" and not dquote:
                    squote = not squote
                    i += 1
                    continue
                if ch == "\\" and not squote and i + 1 < n:
                    nxt = text[i + 1]
                    if nxt in _ESCAPES:
                        cur.append(_ESCAPES[nxt])
                        i += 2
                    else:
                        cur.append(ch)  # a lone '\'
                        i += 1
                    continue
                if not squote and not dquote and ch in ",)":
                    break
                cur.append(ch)
                i += 1
            word = "".join(cur)
            kind = spec.types[pos]
            if not word and kind in (SINT, IPV4, MSK4, IPV6, MSK6, TIME, SIZE, PBUF):
                # empty_err: an empty optional argument ends the list
                if pos >= spec.mandatory:
                    break
                raise ArgError(
                    f"expected type '{TYPE_NAMES[kind]}' at position {pos + 1}, but got nothing",
                    pos,
                )
            out.append(_typed(kind, word, pos))
            pos += 1
            if i >= n or text[i] == ")" or pos >= nbarg:
                break
            i += 1  # the comma
    if pos < spec.mandatory:
        kind = spec.types[pos]
        raise ArgError(
            f"missing arguments (got {pos}/{spec.mandatory}), type '{TYPE_NAMES[kind]}' expected",
            pos,
        )
    if empty:
        return out, start
    if i < n and text[i] == ")":
        return out, i + 1
    rest = text[i:]
    message = f"expected ')' before '{rest}'" if rest else "expected ')'"
    raise ArgError(message, pos - 1 if pos > 1 else pos)
