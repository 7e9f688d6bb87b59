"""Log-format strings and sample expressions: the subset health checks use.

HAProxy evaluates log-format strings (``src/log.c parse_logformat_string()``,
``sess_build_logline()``) and sample expressions (``src/sample.c
sample_parse_expr()``) wherever a check rule takes a ``-lf`` argument
(``send-lf``, ``uri-lf``, ``hdr`` values, ``on-success``...) or an expression
(``connect port <expr>``, ``expect status-code <expr>``).

herdsman implements what makes sense for a check, with HAProxy's parse errors:

* literal text, ``%%``, and ``%[<fetch>[(<args>)][,<converter>[(<arg>)]]*]``;
* fetches ``srv_name``, ``srv_id``, ``be_name``, ``be_id``, ``hostname``,
  ``env(<name>)``, ``str(<text>)``, ``int(<n>)``, ``date([<offset>[,<unit>]])``
  and ``res.payload(<offset>,<length>)`` (the check's input buffer, which the
  protocol checks quote in their info texts);
* converters ``lower``, ``upper``, ``hex``, ``base64``, ``htonl``,
  ``cut_crlf`` and ``ltrim(<chars>)``.

Anything else (log variables such as ``%ci``, ``%{+Q}`` options, other fetches
and converters) is refused at parse time with a message naming what herdsman
supports: accepting a string whose output would differ from HAProxy's is worse
than refusing it.

Values are typed as in HAProxy (``str``, ``int`` for ``SMP_T_SINT``, ``bytes``
for ``SMP_T_BIN``) because the casts matter: ``%[int(7),hex]`` is the hex of
the 8-byte big-endian integer (``c_int2bin``). A fetch that fails produces an
empty string, as in checks HAProxy parses these strings without
``LOG_OPT_MANDATORY`` (no ``-``). A value is written as a C string
(``lf_text_len()`` copies with ``strlcpy2()``), so it stops at its first NUL
byte.

The evaluation context maps names to values: the ``srv_*``/``be_*`` names,
``hostname``, and two keys a check run adds, ``PAYLOAD`` (its input buffer)
and ``DATE_US`` (the time, for reproducible tests).
"""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from herdsman.sample.lfparse import LogFormatError as LogFormatError
from herdsman.sample.lfparse import parse

Value = str | int | bytes

FETCHES = (
    "srv_name",
    "srv_id",
    "be_name",
    "be_id",
    "hostname",
    "env",
    "str",
    "int",
    "date",
    "res.payload",
)
CONVERTERS = ("lower", "upper", "hex", "base64", "htonl", "cut_crlf", "ltrim")
# argument types of the fetches and converters that take arguments, and how
# many of them are mandatory (the ARG<n>() masks of their keyword tables)
_FETCH_ARGS = {
    "env": (("string",), 0),
    "str": (("string",), 0),
    "int": (("integer",), 1),
    "date": (("integer", "unit"), 0),
    "res.payload": (("integer", "integer"), 2),
}
_CONV_ARGS = {"ltrim": (("string",), 0)}
_UNITS = {"s": 1, "ms": 1000, "us": 1000000}
BUFSIZE = 16384  # tune.bufsize: a check's buffer, what res.payload can reach
PAYLOAD = "res.payload"  # context key: the check's input buffer (bytes)
DATE_US = "date"  # context key: the current time in microseconds (default: the clock)


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
    """``sample_casts[*][SMP_T_STR]``; binary data stops at its first NUL (``c_bin2str``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return _unwire(value.split(b"\0", 1)[0])


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


def cast_int(value: Value) -> int | None:
    """``sample_casts[*][SMP_T_SINT]`` at run time: ``c_str2int()`` reads the leading
    digits (``read_int64()``: "250 ok" is 250, "x" is 0); an empty string and
    binary data do not cast."""
    if isinstance(value, int):
        return value
    if isinstance(value, bytes) or not value:
        return None
    sign, text = (-1, value[1:]) if value[0] == "-" else (1, value.removeprefix("+"))
    digits = len(text) - len(text.lstrip("0123456789"))
    return sign * int(text[:digits] or "0")


_HOSTNAME: list[str] = []


def _hostname() -> str:
    # HAProxy reads gethostname() once at start-up into its "hostname" global.
    if not _HOSTNAME:
        _HOSTNAME.append(socket.gethostname())
    return _HOSTNAME[0]


Arg = str | int
Ctx = Mapping[str, Value]


def _date(args: tuple[Arg, ...], ctx: Ctx) -> int:
    """``smp_fetch_date()``: seconds (or ms, us) since the epoch, plus the offset."""
    now = ctx.get(DATE_US)
    now_us = now if isinstance(now, int) else time.time_ns() // 1000
    sec, usec = divmod(now_us, 1000000)
    unit = _UNITS.get(str(args[1])) if len(args) > 1 else 1
    value = sec if unit == 1 else sec * 1000 + usec // 1000 if unit == 1000 else now_us
    return value + (args[0] if args and isinstance(args[0], int) else 0)


def _payload(args: tuple[Arg, ...], ctx: Ctx) -> bytes | None:
    """``smp_fetch_payload()`` on a check's input buffer; ``length`` 0 reads to the end."""
    data = ctx.get(PAYLOAD)
    if not isinstance(data, bytes):
        return None  # not a tcp-check (HTX buffers have no payload)
    off, length = (a & 0xFFFFFFFF if isinstance(a, int) else 0 for a in args)
    if length > BUFSIZE or off + length > BUFSIZE or off + length > len(data):
        return None
    return data[off : off + length] if length else data[off:]


def _fetch(name: str, args: tuple[Arg, ...], ctx: Ctx) -> Value | None:
    if name in ("srv_name", "be_name"):
        return ctx.get(name)
    if name in ("srv_id", "be_id"):
        text = ctx.get(name)
        return None if text is None else to_int(text)
    if name == "hostname":
        return ctx.get("hostname") or _hostname()
    arg = args[0] if args else None
    if name == "env":
        return None if not isinstance(arg, str) else os.environ.get(arg)
    if name == "str":
        return arg if isinstance(arg, str) else None
    if name == "date":
        return _date(args, ctx)
    if name == "res.payload":
        return _payload(args, ctx)
    return arg if isinstance(arg, int) else None  # int


def _htonl(value: Value, _arg: str | None) -> Value | None:
    number = cast_int(value)  # input type SINT
    return None if number is None else (number & 0xFFFFFFFF).to_bytes(4, "big")


def _cut_crlf(value: Value, _arg: str | None) -> Value:
    text = to_str(value)
    for i, ch in enumerate(text):
        if ch in "\r\n":
            return text[:i]
    return text


def _ltrim(value: Value, arg: str | None) -> Value:
    return to_str(value).lstrip(arg or "")


_CONVERT: dict[str, Callable[[Value, str | None], Value | None]] = {
    "lower": lambda v, _a: to_str(v).lower(),
    "upper": lambda v, _a: to_str(v).upper(),
    "hex": lambda v, _a: to_bin(v).hex().upper(),
    "base64": lambda v, _a: base64.b64encode(to_bin(v)).decode("ascii"),
    "htonl": _htonl,
    "cut_crlf": _cut_crlf,
    "ltrim": _ltrim,
}


@dataclass(frozen=True, slots=True)
class SampleExpr:
    """A parsed ``fetch[(args)][,conv[(arg)]]*`` expression of the supported subset."""

    text: str
    fetch: str
    args: tuple[Arg, ...] = ()
    converters: tuple[tuple[str, str | None], ...] = ()

    def evaluate(self, ctx: Ctx) -> Value | None:
        """The typed result, or None when the fetch or a converter fails (``sample_process()``)."""
        value = _fetch(self.fetch, self.args, ctx)
        for conv, arg in self.converters:
            if value is None:
                return None
            value = _CONVERT[conv](value, arg)
        return value

    def evaluate_int(self, ctx: Ctx) -> int | None:
        """``sample_fetch_as_type(..., SMP_T_SINT)``: None when absent or not castable."""
        value = self.evaluate(ctx)
        return None if value is None else to_int(value)


def _parse_args(
    text: str, pos: int, what: str, nargs: int, mandatory: int = 0
) -> tuple[list[str], int]:
    """``make_arg_list()`` for at most ``nargs`` arguments; ``pos`` is just after the keyword.

    Returns the raw arguments and the position after the closing parenthesis.
    Quotes delimit an argument that may hold commas or parentheses. An empty
    optional argument ends the list, so a comma after it is unexpected.
    """
    if pos >= len(text) or text[pos] != "(":
        return [], pos
    args: list[str] = []
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
            if nargs and (cur or args or i > pos + 1):
                args.append("".join(cur))
            return args, i + 1
        elif nargs == 0 or (
            ch == "," and (len(args) + 1 >= nargs or (not cur and len(args) >= mandatory))
        ):
            raise LogFormatError(f"{what} : expected ')' before '{text[i:]}'")
        elif ch == ",":
            args.append("".join(cur))
            cur = []
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


def _parse_fetch_args(name: str, raw: list[str]) -> tuple[Arg, ...]:
    """Type the raw arguments of a fetch (``make_arg_list()``, then ``val_args``)."""
    spec = _FETCH_ARGS.get(name)
    if spec is None:
        return ()
    types, mandatory = spec
    where = f"fetch method '{name}'"
    if mandatory and 0 < len(raw) < mandatory and raw[-1]:
        raise LogFormatError(
            f"{where} : missing arguments (got {len(raw)}/{mandatory}), type '{types[0]}' expected"
        )
    out: list[Arg] = []
    for n, kind in enumerate(types):
        value = raw[n] if n < len(raw) else None
        if kind == "string":
            if value is not None:
                out.append(value)
            continue
        if kind == "unit":
            if value is None:
                continue
            if value not in _UNITS:
                raise LogFormatError(
                    f"invalid args in {where} : expects 's', 'ms' or 'us', got '{value}'"
                )
            out.append(value)
            continue
        if not value:
            if n < mandatory:
                raise LogFormatError(
                    f"{where} : expected type 'integer' at position {n + 1}, but got nothing"
                )
            break
        number = to_int(value)
        if number is None:
            raise LogFormatError(
                f"{where} : failed to parse '{value}' as type 'integer' at position {n + 1}"
            )
        out.append(number)
    return tuple(out)


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
    types, mandatory = _FETCH_ARGS.get(name, ((), 0))
    raw, end = _parse_args(text, end, f"fetch method '{name}'", len(types), mandatory)
    args = _parse_fetch_args(name, raw)
    convs: list[tuple[str, str | None]] = []
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
        cargs = len(_CONV_ARGS[last][0]) if last in _CONV_ARGS else 0
        what = f"invalid arg {cargs + 1} in converter '{last}'"
        raw, end = _parse_args(text, end, what, cargs)
        convs.append((last, raw[0] if raw else None))
    return SampleExpr(text[pos:end], name, args, tuple(convs)), end


def parse_expr(text: str) -> SampleExpr:
    """A standalone expression (``connect port <expr>``, ``status-code <expr>``)."""
    return parse_sample(text)[0]


def _check_only(name: str) -> None:
    """Checks take literal text, ``%%`` and ``%[expr]``: no variable, no option."""
    if name == "%[":
        return
    if name.startswith("%{"):
        raise LogFormatError(
            f"log-format options '{name}' are not supported by herdsman; "
            "use '%[<sample expression>]' without options"
        )
    raise LogFormatError(
        f"log-format variable '%{name}' is not supported by herdsman in "
        "checks; use literal text, '%%' and '%[<sample expression>]'"
    )


def _embedded(fmt: str, start: int) -> tuple[SampleExpr, int]:
    try:
        return parse_sample(fmt, start, embedded=True)
    except LogFormatError as err:
        raise LogFormatError(
            f"failed to parse sample expression <{fmt[start:]}> : {err.message}"
        ) from None


def _parse_nodes(fmt: str) -> tuple[str | SampleExpr, ...]:
    """``parse_logformat_string()`` restricted to text, ``%%`` and ``%[expr]``."""
    return parse(fmt, expr=_embedded, check_var=_check_only)


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

    def evaluate(self, ctx: Ctx) -> str:
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

    def evaluate_bytes(self, ctx: Ctx) -> bytes:
        return _wire(self.evaluate(ctx))

    @property
    def is_literal(self) -> bool:
        return all(isinstance(node, str) for node in self.nodes)
