"""Log-format strings as HAProxy 2.6 parses them (``log.c parse_logformat_string()``).

One parser serves every log-format string: the checks' ``-lf`` arguments
(``sample/logformat.py``: text, ``%%`` and ``%[expr]`` only) and the traffic
logs' ``log-format``, ``option tcplog`` and ``option httplog`` (variables such
as ``%ci`` or ``%{+Q}r`` too). It is HAProxy's two-step state machine: a
character first decides the next state, then a change of state emits what the
previous one collected, so the corner cases are HAProxy's:

* ``%`` followed by a character that starts nothing (``%-``) is dropped and
  the character kept; followed by a digit, a space or a tab it is an error;
* a variable name is ``%`` and letters then letters or digits (``%Tt5`` is the
  variable ``Tt5``, unknown); ``%{+Q,-M}name`` sets options (``+``/``-`` then
  ``M`` mandatory, ``Q`` quote, ``X`` hexadecimal, ``E`` escape; unknown ones are
  ignored); ``%o`` sets the default options of the variables that follow;
* with ``merge_spaces`` (``LOG_OPT_MERGE_SPACES``: traffic logs) every space is
  a separator: consecutive ones print as one, and none at the start.

The result is a tuple of nodes: ``str`` (literal text), ``SEP`` (a separator),
``Var`` (a log variable) or ``Expr``: what the ``expr`` callback returns for a
``%[...]`` expression (``sample/logformat.py``'s ``Node``) with its options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "ESC",
    "HEXA",
    "Expr",
    "HTTP_ONLY",
    "MANDATORY",
    "QUOTE",
    "SEP",
    "VARIABLES",
    "LogFormatError",
    "Var",
    "parse",
]

# LOG_OPT_* (include/haproxy/log-t.h)
HEXA: Final = 0x01
MANDATORY: Final = 0x02
QUOTE: Final = 0x04
ESC: Final = 0x40
_OPTION_LETTERS = {"M": MANDATORY, "Q": QUOTE, "X": HEXA, "E": ESC}

# logformat_keywords[] of 2.6: the variables, and those reserved for HTTP mode
VARIABLES: Final = frozenset(
    [
        "o",
        "B",
        "CC",
        "CS",
        "H",
        "ID",
        "ST",
        "T",
        "Ta",
        "Tc",
        "Th",
        "Ti",
        "Tl",
        "Tq",
        "Tr",
        "TR",
        "Td",
        "Ts",
        "Tt",
        "Tu",
        "Tw",
        "U",
        "ac",
        "b",
        "bc",
        "bi",
        "bp",
        "bq",
        "ci",
        "cp",
        "f",
        "fc",
        "fi",
        "fp",
        "ft",
        "hr",
        "hrl",
        "hs",
        "hsl",
        "HM",
        "HP",
        "HPO",
        "HQ",
        "HU",
        "HV",
        "lc",
        "ms",
        "pid",
        "r",
        "rc",
        "rt",
        "s",
        "sc",
        "si",
        "sp",
        "sq",
        "sslc",
        "sslv",
        "t",
        "tr",
        "trg",
        "trl",
        "ts",
        "tsc",
    ]
)
HTTP_ONLY: Final = frozenset(
    [
        "CC",
        "CS",
        "Ta",
        "Ti",
        "Tq",
        "Tr",
        "TR",
        "HM",
        "HP",
        "HPO",
        "HQ",
        "HU",
        "HV",
        "r",
        "tr",
        "trg",
        "trl",
    ]
)


class LogFormatError(ValueError):
    """A parse error; ``message`` is HAProxy's inner text (the configuration
    parser wraps it with the keyword's own context)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Sep:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SEP"


SEP: Final = _Sep()


@dataclass(frozen=True, slots=True)
class Var:
    """A log variable (``%ci``) with its ``LOG_OPT_*`` options."""

    name: str
    options: int = 0


@dataclass(frozen=True, slots=True)
class Expr:
    """A ``%[...]`` expression: the callback's node, with ``LOG_OPT_*`` options."""

    node: Any
    options: int = 0


# the expression callback: (format, position after "%[") -> (node, end position)
ExprParser = Callable[[str, int], tuple[Any, int]]
# a variable check: (name) -> None, or raise LogFormatError
VarCheck = Callable[[str], None]

# parser states (LF_* of log-t.h)
_INIT, _TEXT, _SEP_ST, _VAR, _STARTVAR, _STARG, _EDARG, _STEXPR, _EDEXPR, _END = range(10)


def _var_options(arg: str, options: int) -> int:
    """``parse_logformat_var_args()``: ``+X``/``-X`` words separated by commas."""
    for word in arg.split(","):
        if word[:1] in ("+", "-") and word[1:] in _OPTION_LETTERS:
            bit = _OPTION_LETTERS[word[1:]]
            options = options | bit if word[0] == "+" else options & ~bit
    return options


def _alpha(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def parse(
    fmt: str,
    *,
    options: int = 0,
    merge_spaces: bool = False,
    http: bool = True,
    expr: ExprParser | None = None,
    check_var: VarCheck | None = None,
) -> tuple[Any, ...]:
    """Parse ``fmt``; raises LogFormatError with HAProxy's text.

    ``options`` are forced on every variable (``LOG_OPT_MANDATORY`` for
    traffic logs); ``http`` False refuses the HTTP-only variables as a TCP
    proxy does. ``expr`` parses a ``%[...]`` expression; ``check_var`` sees
    every variable name, ``%{...}`` options (``"%{...}"``) and expression
    (``"%["``) before they are accepted, and may refuse them.
    """
    s = fmt + "\0"
    nodes: list[Any] = []
    i = sp = 0
    var = arg = arg_end = -1
    cformat = pformat = _INIT
    while cformat != _END:
        pformat = cformat
        ch = s[i]
        if ch == "\0":
            cformat = _END
        if pformat == _STARTVAR:  # just after a '%'
            var = arg = -1
            if ch == "{":
                cformat, arg = _STARG, i + 1
            elif ch == "[":
                cformat, var = _STEXPR, i + 1
            elif _alpha(ch):
                cformat, var = _VAR, i
            elif ch == "%":
                cformat = _TEXT  # "%%": a literal '%'
            elif ch.isdigit() or ch in " \t":
                raise LogFormatError(
                    f"unexpected variable name near '{ch}' at position {i} line : '{fmt}'. "
                    "Maybe you want to write a single '%', use the syntax '%%'"
                )
            else:
                cformat = _INIT  # the '%' is dropped, the character kept
        elif pformat == _STARG:  # after '%{'
            if ch == "}":
                cformat, arg_end = _EDARG, i
                if check_var is not None:
                    check_var("%{" + fmt[arg:i] + "}")
        elif pformat == _EDARG:  # after '%{...}'
            if ch == "[":
                cformat, var = _STEXPR, i + 1
            elif _alnum(ch):
                cformat, var = _VAR, i
            else:
                raise LogFormatError(
                    f"parse argument modifier without variable name near '%{{{fmt[arg:arg_end]}}}'"
                )
        elif pformat == _STEXPR:  # after '%[': the whole expression at once
            if check_var is not None:
                check_var("%[")
            if expr is None:
                raise LogFormatError("sample expressions are not supported here")
            node, i = expr(fmt, var)
            opts = _var_options(fmt[arg:arg_end], options) if arg >= 0 else options
            if s[i] != "]":
                found = s[i]
                if found != "\0" and found.isprintable():
                    raise LogFormatError(f"expected ']' after '{fmt[var:i]}', but found '{found}'")
                raise LogFormatError(f"missing ']' after '{fmt[var:i]}'")
            nodes.append(Expr(node, opts))
            cformat = pformat = _EDEXPR
            sp = i
        elif pformat == _VAR:
            if not _alnum(ch):
                cformat = _INIT
        else:
            cformat = _INIT

        if cformat == _INIT:  # resynchronise: text, separator or a new '%'
            if ch == "%":
                cformat = _STARTVAR
            elif ch == "\0":
                cformat = _END
            elif ch == " " and merge_spaces:
                cformat = _SEP_ST
            else:
                cformat = _TEXT

        if cformat != pformat or pformat == _SEP_ST:
            if pformat == _VAR:
                opts = options
                if arg >= 0:
                    opts = _var_options(fmt[arg:arg_end], options)
                options = _variable(nodes, fmt[var:i], opts, options, http, check_var)
            elif pformat == _TEXT:
                nodes.append(fmt[sp:i])
            elif pformat == _SEP_ST:
                nodes.append(SEP)
            sp = i
        i += 1

    if pformat in (_STARTVAR, _STARG, _STEXPR):
        what = fmt[var:] if var >= 0 else fmt[arg:] if arg >= 0 else "%"
        raise LogFormatError(f"truncated line after '{what}'")
    return tuple(_merge(nodes))


def _variable(
    nodes: list[Any],
    name: str,
    opts: int,
    defaults: int,
    http: bool,
    check_var: VarCheck | None,
) -> int:
    """``parse_logformat_var()``: append the variable; returns the default options
    of the variables that follow (``%o`` changes them)."""
    if check_var is not None:
        check_var(name)
    if name not in VARIABLES:
        raise LogFormatError(
            f"no such format variable '{name}'. If you wanted to emit the '%' character "
            "verbatim, you need to use '%%'"
        )
    if name in HTTP_ONLY and not http:
        raise LogFormatError(f"format variable '{name}' is reserved for HTTP mode")
    if name == "o":
        return opts
    nodes.append(Var(name, opts))
    return defaults


def _merge(nodes: list[Any]) -> list[Any]:
    """Adjacent texts become one (HAProxy keeps them apart; the output is the same)."""
    out: list[Any] = []
    for node in nodes:
        if isinstance(node, str):
            if not node:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += node
                continue
        out.append(node)
    return out
