"""Time and size arguments, parsed as HAProxy 2.6 parses them.

``parse_time`` follows ``tools.c parse_time_err()`` and ``parse_size``
follows ``parse_size_err()``, quirks included, because configurations that
HAProxy accepts must mean the same thing here:

* Time suffixes are ``us ms s m h d`` and are case-sensitive (``10S`` is an
  error). A bare number is in the caller's unit, and the result is in that
  same unit: HAProxy's ``unit_flags`` is both at once.
* Conversions round **up**, so ``500us`` is 1 ms. As a consequence the
  "timer underflow" error of the 2.6 sources can never fire (the binary
  accepts ``500us``); ``UnitError(kind="underflow")`` exists only so that
  callers can keep HAProxy's message table complete.
* The digits accumulate in a 64-bit unsigned integer that silently wraps:
  2.6.12 accepts ``timeout connect 18446744073709551617`` as 1 ms.
* Characters after a valid suffix (``10sx``) are only a warning in 2.6;
  it is passed to the ``warn`` callback without location, the caller adds
  the prefix of its keyword family (none for proxy keywords, the server
  prefix for server keywords, as 2.6.12 prints them).

The message helpers return the keyword parser's own text, without location
prefix. Server keyword texts are returned as the server keyword parser
builds them; ``display_parser_err()`` then appends one more ``.``, which is
why 2.6.12 prints ``..`` -- the server dispatcher, not this module, adds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from herdsman.config.diag import ConfigError

__all__ = [
    "TIME_MAX",
    "UnitError",
    "c_atoi",
    "c_strtol",
    "parse_size",
    "parse_time",
    "proxy_time_arg",
    "proxy_time_message",
    "server_time_arg",
    "server_time_message",
]

UnitKind = Literal["overflow", "underflow", "char", "empty"]

TIME_MAX = 0x7FFFFFFF  # results >= 2**31 are an overflow, in the output unit
_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1

# Scale of each unit relative to one second, as (multiplier, divisor).
_UNITS: dict[str, tuple[int, int]] = {
    "us": (1, 1_000_000),
    "ms": (1, 1000),
    "s": (1, 1),
    "m": (60, 1),
    "h": (3600, 1),
    "d": (86400, 1),
}

_TRAILING_WARNING = (
    "unexpected character '{c}' after the timer value '{text}', only "
    "(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported."
    " This will be reported as an error in next versions."
)


class UnitError(ValueError):
    """A time or size argument that HAProxy rejects.

    ``char`` is the character HAProxy's error pointer designates (empty when
    it points at the end of the string) and ``pos`` its index in the text.
    """

    def __init__(self, kind: UnitKind, text: str, pos: int = 0) -> None:
        self.kind: UnitKind = kind
        self.text = text
        self.pos = pos
        self.char = text[pos] if pos < len(text) else ""
        super().__init__(f"{kind} in {text!r} at {pos}")


def parse_time(
    text: str,
    default_unit: str = "ms",
    *,
    warn: Callable[[str], None] | None = None,
) -> int:
    """Parse a delay (``parse_time_err()``); the result is in ``default_unit``.

    ``default_unit`` is the unit of a bare number *and* of the result: with
    the default ``"ms"`` this returns milliseconds; keywords that HAProxy
    parses with ``TIME_UNIT_S`` pass ``"s"`` and get seconds back, rounded
    up (``1500ms`` -> 2), with the overflow limit counted in seconds.
    """
    if default_unit not in _UNITS:
        raise ValueError(f"unknown time unit {default_unit!r}")
    if not text:
        raise UnitError("empty", text, 0)
    if not _isdigit(text[0]):
        raise UnitError("char", text, 0)

    i = 0
    value = 0
    while i < len(text) and _isdigit(text[i]):
        value = (value * 10 + ord(text[i]) - 48) & _U64
        i += 1

    if i == len(text):
        # No suffix: the number is already in the caller's unit.
        result = value
    else:
        suffix = _time_suffix(text, i)
        if suffix is None:
            raise UnitError("char", text, i)
        end = i + len(suffix)
        if end < len(text) and warn is not None:
            warn(_TRAILING_WARNING.format(c=text[end], text=text))
        in_mul, in_div = _UNITS[suffix]
        # Going from seconds to the output unit inverts that unit's scale.
        unit_mul, unit_div = _UNITS[default_unit]
        mul, div = _reduce(in_mul * unit_div, in_div * unit_mul)
        # Round up, with the same 64-bit wrap-around as the C code.
        result = (((value * mul) & _U64) + div - 1) & _U64
        result //= div
    if result > TIME_MAX:
        raise UnitError("overflow", text, 0)
    if result == 0 and value:
        raise UnitError("underflow", text, 0)  # unreachable: conversions round up
    return result


def _time_suffix(text: str, i: int) -> str | None:
    c = text[i]
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if c == "u":
        return "us" if nxt == "s" else None
    if c == "m":
        return "ms" if nxt == "s" else "m"
    if c in "shd":
        return c
    return None


def _reduce(mul: int, div: int) -> tuple[int, int]:
    # Same simplification as parse_time_err(): keeps the intermediate product
    # small, which matters for where the 64-bit wrap-around happens.
    if mul % div == 0:
        return mul // div, 1
    if div % mul == 0:
        return 1, div // mul
    return mul, div


def parse_size(text: str) -> int:
    """Parse a size with an optional ``k``/``m``/``g`` suffix (1024-based).

    ``parse_size_err()``: the result must fit in 32 bits; suffixes are
    case-insensitive; one character after the suffix is an error.
    """
    if not text:
        raise UnitError("empty", text, 0)
    if not _isdigit(text[0]):
        raise UnitError("char", text, 0)
    value = 0
    i = 0
    while i < len(text) and _isdigit(text[i]):
        if value > _U32 // 10 or value * 10 + ord(text[i]) - 48 > _U32:
            raise UnitError("overflow", text, i)
        value = value * 10 + ord(text[i]) - 48
        i += 1
    if i == len(text):
        return value
    shift = {"k": 10, "m": 20, "g": 30}.get(text[i].lower())
    if shift is None:
        raise UnitError("char", text, i)
    if value > _U32 >> shift:
        raise UnitError("overflow", text, i)
    if i + 1 < len(text):
        raise UnitError("char", text, i + 1)
    return value << shift


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9"


# -- C number conversions --------------------------------------------------------
# Ports, file descriptors, version numbers and condition constants go through
# strtol()/atoi() in HAProxy; their leniency (leading blanks, signs, trailing
# garbage, clamping, int truncation) is visible in what configurations accept.

_LONG_MAX = (1 << 63) - 1
_C_SPACE = " \t\n\v\f\r"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def c_strtol(text: str, start: int = 0, base: int = 10) -> tuple[int, int]:
    """glibc ``strtol(text + start, &end, base)``: returns ``(value, end)``.

    ``end`` is ``start`` when no digit was converted. ``base`` 0 selects
    hexadecimal (``0x``), octal (leading ``0``) or decimal, as C does.
    """
    n = len(text)
    i = start
    while i < n and text[i] in _C_SPACE:
        i += 1
    negative = False
    if i < n and text[i] in "+-":
        negative = text[i] == "-"
        i += 1
    if base in (0, 16) and text[i : i + 2] in ("0x", "0X") and _digit(text, i + 2, 16) >= 0:
        base, i = 16, i + 2
    elif base == 0:
        base = 8 if text[i : i + 1] == "0" else 10
    value = 0
    first = i
    while (d := _digit(text, i, base)) >= 0:
        value = value * base + d
        i += 1
    if i == first:
        return 0, start
    if negative:
        return max(-value, -_LONG_MAX - 1), i
    return min(value, _LONG_MAX), i


def _digit(text: str, i: int, base: int) -> int:
    if i >= len(text) or not text[i].isascii():
        return -1
    d = _DIGITS.find(text[i].lower())
    return d if 0 <= d < base else -1


def c_atoi(text: str) -> int:
    """``atoi()``: ``strtol`` base 10, clamped to a long, then truncated to an int."""
    value = c_strtol(text)[0] & _U32
    return value - (1 << 32) if value >= 1 << 31 else value


# -- messages: proxy keywords (proxy.c proxy_parse_timeout()) -------------------


def proxy_time_message(kw: str, arg: str, err: UnitError) -> str:
    """The ``timeout <name>`` family's texts; ``kw`` is e.g. ``"timeout connect"``."""
    if err.kind == "overflow":
        return (
            f"timer overflow in argument '{arg}' to '{kw}' "
            "(maximum value is 2147483647 ms or ~24.8 days)"
        )
    if err.kind == "underflow":
        return f"timer underflow in argument '{arg}' to '{kw}' (minimum non-null value is 1 ms)"
    return f"unexpected character '{err.char}' in '{kw}'"


def proxy_time_arg(kw: str, arg: str, *, warn: Callable[[str], None] | None = None) -> int:
    """Parse the value of a ``timeout`` keyword, raising ConfigError with HAProxy's text."""
    if not arg:
        raise ConfigError(f"'{kw}' expects an integer value (in milliseconds)")
    try:
        return parse_time(arg, warn=warn)
    except UnitError as err:
        raise ConfigError(proxy_time_message(kw, arg, err)) from None


# -- messages: server keywords (check.c, server.c) -------------------------------

# 2.6.12 quirk (copy-paste in check.c): a bad character in any of these names
# 'agent-inter', whichever keyword it was given to.
_INTER_FAMILY = frozenset({"inter", "fastinter", "downinter", "agent-inter"})


def server_time_message(kw: str, arg: str, server: str, err: UnitError) -> str:
    """Text of a server time keyword error, before the dispatcher's final ``.``.

    Covers ``inter``, ``fastinter``, ``downinter``, ``agent-inter``,
    ``slowstart`` and ``pool-purge-delay``; each has its own wording.
    """
    if kw == "pool-purge-delay":
        if err.kind == "char":
            return f"unexpected character '{err.char}' in argument to <{kw}>.\n"
        return proxy_time_message(kw, arg, err)
    if kw == "slowstart":
        if err.kind == "overflow":
            return (
                f"overflow in argument <{arg}> to <{kw}> of server {server}, "
                "maximum value is 2147483647 ms (~24.8 days)."
            )
        if err.kind == "underflow":
            return (
                f"underflow in argument <{arg}> to <{kw}> of server {server}, "
                "minimum non-null value is 1 ms."
            )
        if not err.char:
            # An empty argument makes HAProxy print a NUL character, which
            # ends the C string right there.
            return "unexpected character '"
        return f"unexpected character '{err.char}' in 'slowstart' argument of server {server}."
    if err.kind == "overflow":
        return (
            f"timer overflow in argument <{arg}> to <{kw}> of server {server}, "
            "maximum value is 2147483647 ms (~24.8 days)."
        )
    if err.kind == "underflow":
        return (
            f"timer underflow in argument <{arg}> to <{kw}> of server {server}, "
            "minimum non-null value is 1 ms."
        )
    name = "agent-inter" if kw in _INTER_FAMILY else kw
    return f"unexpected character '{err.char}' in '{name}' argument of server {server}."


def server_time_arg(
    kw: str, arg: str, server: str, *, warn: Callable[[str], None] | None = None
) -> int:
    """Parse a server time keyword's value (milliseconds) or raise ConfigError.

    ``slowstart`` returns milliseconds too; HAProxy stores it in whole
    seconds rounded up, which is the caller's business.
    """
    if not arg:
        if kw == "pool-purge-delay":
            raise ConfigError(f"'{kw}' expects <value> as argument.\n")
        if kw != "slowstart":  # slowstart has no such check and fails on the NUL
            raise ConfigError(f"'{kw}' expects a delay as argument.")
    try:
        value = parse_time(arg, warn=warn)
    except UnitError as err:
        raise ConfigError(server_time_message(kw, arg, server, err)) from None
    if value == 0 and kw in _INTER_FAMILY:
        raise ConfigError(f"invalid value 0 for argument '{kw}' of server {server}.")
    return value
