"""Log-format strings and sample expressions: the subset health checks use.

HAProxy evaluates log-format strings (``src/log.c parse_logformat_string()``,
``sess_build_logline()``) and sample expressions (``src/sample.c
sample_parse_expr()``) wherever a check rule takes a ``-lf`` argument
(``send-lf``, ``uri-lf``, ``hdr`` values, ``on-success``...) or an expression
(``connect port <expr>``, ``expect status-code <expr>``).

herdsman implements what makes sense for a check, with HAProxy's parse errors:

* literal text, ``%%``, and ``%[<fetch>[(<arg>)][,<converter>]*]``;
* fetches ``srv_name``, ``srv_id``, ``be_name``, ``be_id``, ``hostname``,
  ``env(<name>)``, ``str(<text>)``, ``int(<n>)``;
* converters ``lower``, ``upper``, ``hex``, ``base64``.

Anything else (log variables such as ``%ci``, ``%{+Q}`` options, other fetches
and converters) is refused at parse time with a message naming what herdsman
supports: accepting a string whose output would differ from HAProxy's is worse
than refusing it.

Values are typed as in HAProxy (``str``, ``int`` for ``SMP_T_SINT``, ``bytes``
for ``SMP_T_BIN``) because the casts matter: ``%[int(7),hex]`` is the hex of
the 8-byte big-endian integer (``c_int2bin``). A fetch that fails produces an
empty string, as in checks HAProxy parses these strings without
``LOG_OPT_MANDATORY`` (no ``-``).
"""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Value = str | int | bytes

FETCHES = ("srv_name", "srv_id", "be_name", "be_id", "hostname", "env", "str", "int")
CONVERTERS = ("lower", "upper", "hex", "base64")
_FETCH_ARGS = {"env": "string", "str": "string", "int": "integer"}


class LogFormatError(ValueError):
    """A parse error; ``message`` is HAProxy's inner text (the configuration
    parser wraps it with the keyword's own context)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_idchar(ch: str) -> bool:
    """``is_idchar()`` (include/haproxy/tools.h): characters of a keyword."""
    return ch.isascii() and (ch.isalnum() or ch in "._-+$")


def _wire(text: str) -> bytes:
    # The configuration is read as UTF-8 with surrogateescape: this gives the
    # original bytes back, as HAProxy uses the raw configuration bytes.
    return text.encode("utf-8", "surrogateescape")


def _unwire(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def to_str(value: Value) -> str:
    """``sample_casts[*][SMP_T_STR]``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return _unwire(value)


def to_bin(value: Value) -> bytes:
    """``sample_casts[*][SMP_T_BIN]``: an integer becomes 8 bytes, big endian."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
    return _wire(value)


def to_int(value: Value) -> int | None:
    """``c_str2int``: the whole string must be a decimal integer; BIN does not cast."""
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):
        return None
    text = value
    digits = text[1:] if text[:1] in ("-", "+") else text
    if not digits or not (digits.isascii() and digits.isdigit()):
        return None
    return int(text)


_HOSTNAME: list[str] = []


def _hostname() -> str:
    # HAProxy reads gethostname() once at start-up into its "hostname" global.
    if not _HOSTNAME:
        _HOSTNAME.append(socket.gethostname())
    return _HOSTNAME[0]


def _fetch(name: str, arg: str | int | None, ctx: Mapping[str, str]) -> Value | None:
    if name in ("srv_name", "be_name"):
        return ctx.get(name)
    if name in ("srv_id", "be_id"):
        text = ctx.get(name)
        return None if text is None else to_int(text)
    if name == "hostname":
        return ctx.get("hostname") or _hostname()
    if name == "env":
        return None if not isinstance(arg, str) else os.environ.get(arg)
    if name == "str":
        return arg if isinstance(arg, str) else None
    return arg if isinstance(arg, int) else None  # int


_CONVERT: dict[str, Callable[[Value], Value]] = {
    "lower": lambda v: to_str(v).lower(),
    "upper": lambda v: to_str(v).upper(),
    "hex": lambda v: to_bin(v).hex().upper(),
    "base64": lambda v: base64.b64encode(to_bin(v)).decode("ascii"),
}


@dataclass(frozen=True, slots=True)
class SampleExpr:
    """A parsed ``fetch[(arg)][,conv]*`` expression of the supported subset."""

    text: str
    fetch: str
    arg: str | int | None = None
    converters: tuple[str, ...] = ()

    def evaluate(self, ctx: Mapping[str, str]) -> Value | None:
        """The typed result, or None when the fetch fails (``sample_process()``)."""
        value = _fetch(self.fetch, self.arg, ctx)
        if value is None:
            return None
        for conv in self.converters:
            value = _CONVERT[conv](value)
        return value

    def evaluate_int(self, ctx: Mapping[str, str]) -> int | None:
        """``sample_fetch_as_type(..., SMP_T_SINT)``: None when absent or not castable."""
        value = self.evaluate(ctx)
        return None if value is None else to_int(value)


def _parse_args(text: str, pos: int, what: str, nargs: int) -> tuple[list[str], int]:
    """``make_arg_list()`` for at most one argument; ``pos`` is just after the keyword.

    Returns the raw arguments and the position after the closing parenthesis.
    Quotes delimit an argument that may hold commas or parentheses.
    """
    if pos >= len(text) or text[pos] != "(":
        return [], pos
    cur: list[str] = []
    quote = ""
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == ")":
            return ([("".join(cur))] if nargs else []), i + 1
        elif ch == "," or nargs == 0:
            raise LogFormatError(f"{what} : expected ')' before '{text[i:]}'")
        else:
            cur.append(ch)
        i += 1
    raise LogFormatError(f"{what} : expected ')'")


def _unsupported(kind: str, name: str, choices: tuple[str, ...]) -> LogFormatError:
    if not name:
        return LogFormatError(f"unknown {kind} ''")
    if not (name[0].isalpha() or name[0] == "_"):
        # No HAProxy keyword starts this way: keep HAProxy's own text.
        return LogFormatError(f"unknown {kind} '{name}'")
    return LogFormatError(
        f"{kind} '{name}' is not supported by herdsman (supported: {', '.join(sorted(choices))})"
    )


def _parse_fetch_arg(name: str, raw: list[str]) -> str | int | None:
    kind = _FETCH_ARGS.get(name)
    if kind is None or not raw:
        return None
    value = raw[0]
    if kind == "string":
        return value
    if not value:
        raise LogFormatError(
            f"fetch method '{name}' : expected type 'integer' at position 1, but got nothing"
        )
    number = to_int(value)
    if number is None:
        raise LogFormatError(
            f"fetch method '{name}' : failed to parse '{value}' as type 'integer' at position 1"
        )
    return number


def parse_sample(text: str, pos: int = 0, *, embedded: bool = False) -> tuple[SampleExpr, int]:
    """``sample_parse_expr()`` from ``text[pos:]``.

    ``embedded`` (inside ``%[...]``) stops at the first character that cannot
    continue the expression and returns its position; otherwise the whole text
    must be the expression. Raises LogFormatError with HAProxy's inner text.
    """
    end = pos
    while end < len(text) and _is_idchar(text[end]):
        end += 1
    if end == pos:
        raise LogFormatError("missing fetch method")
    name = text[pos:end]
    if name not in FETCHES:
        raise _unsupported("fetch method", name, FETCHES)
    raw, end = _parse_args(text, end, f"fetch method '{name}'", 1 if name in _FETCH_ARGS else 0)
    arg = _parse_fetch_arg(name, raw)
    convs: list[str] = []
    last = ""
    while True:
        if end < len(text) and text[end] != ",":
            if embedded:
                break
            if last:
                raise LogFormatError(f"missing comma after converter '{last}'")
            raise LogFormatError(f"missing comma after fetch keyword '{name}'")
        while end < len(text) and text[end] == ",":
            end += 1
        if end >= len(text):
            break
        cstart = end
        while end < len(text) and _is_idchar(text[end]):
            end += 1
        last = text[cstart:end]
        if last not in CONVERTERS:
            raise _unsupported("converter", last, CONVERTERS)
        _, end = _parse_args(text, end, f"invalid arg 1 in converter '{last}'", 0)
        convs.append(last)
    return SampleExpr(text[pos:end], name, arg, tuple(convs)), end


def parse_expr(text: str) -> SampleExpr:
    """A standalone expression (``connect port <expr>``, ``status-code <expr>``)."""
    return parse_sample(text)[0]


def _parse_nodes(fmt: str) -> tuple[str | SampleExpr, ...]:
    """``parse_logformat_string()`` restricted to text, ``%%`` and ``%[expr]``."""
    nodes: list[str | SampleExpr] = []
    text: list[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            text.append(ch)
            i += 1
            continue
        if i + 1 >= len(fmt):
            raise LogFormatError("truncated line after '%'")
        nxt = fmt[i + 1]
        if nxt == "%":
            text.append("%")
            i += 2
        elif nxt == "[":
            start = i + 2
            try:
                expr, end = parse_sample(fmt, start, embedded=True)
            except LogFormatError as err:
                raise LogFormatError(
                    f"failed to parse sample expression <{fmt[start:]}> : {err.message}"
                ) from None
            if end >= len(fmt):
                raise LogFormatError(f"missing ']' after '{fmt[start:end]}'")
            if fmt[end] != "]":
                what = fmt[end]
                if what.isprintable():
                    raise LogFormatError(
                        f"expected ']' after '{fmt[start:end]}', but found '{what}'"
                    )
                raise LogFormatError(f"missing ']' after '{fmt[start:end]}'")
            if text:
                nodes.append("".join(text))
                text = []
            nodes.append(expr)
            i = end + 1
        elif nxt.isdigit() or nxt in " \t":
            raise LogFormatError(
                f"unexpected variable name near '{nxt}' at position {i + 1} line : '{fmt}'. "
                "Maybe you want to write a single '%', use the syntax '%%'"
            )
        elif nxt == "{":
            close = fmt.find("}", i + 2)
            if close < 0:
                raise LogFormatError(f"truncated line after '{fmt[i + 2 :]}'")
            raise LogFormatError(
                f"log-format options '%{{{fmt[i + 2 : close]}}}' are not supported by herdsman; "
                "use '%[<sample expression>]' without options"
            )
        elif nxt.isalpha():
            end = i + 1
            while end < len(fmt) and fmt[end].isalnum():
                end += 1
            raise LogFormatError(
                f"log-format variable '%{fmt[i + 1 : end]}' is not supported by herdsman in "
                "checks; use literal text, '%%' and '%[<sample expression>]'"
            )
        else:
            # "%-" and the like: HAProxy drops the '%' and keeps the character.
            i += 1
    if text:
        nodes.append("".join(text))
    return tuple(nodes)


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A parsed log-format string. ``text`` is the string as written.

    Construction parses ``text`` and raises LogFormatError (HAProxy's inner
    message, which the keyword parser wraps in its own context).
    """

    text: str
    nodes: tuple[str | SampleExpr, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", _parse_nodes(self.text))

    def evaluate(self, ctx: Mapping[str, str]) -> str:
        """``sess_build_logline()``: a failed fetch adds nothing."""
        out: list[str] = []
        for node in self.nodes:
            if isinstance(node, str):
                out.append(node)
            else:
                value = node.evaluate(ctx)
                if value is not None:
                    out.append(to_str(value))
        return "".join(out)

    def evaluate_bytes(self, ctx: Mapping[str, str]) -> bytes:
        return _wire(self.evaluate(ctx))

    @property
    def is_literal(self) -> bool:
        return all(isinstance(node, str) for node in self.nodes)
