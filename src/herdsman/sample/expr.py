"""Sample expressions: ``<fetch>[(<args>)][,<converter>[(<args>)]]*``
(``sample_parse_expr()``, ``sample_process()``).

``parse_expr()`` reads the text once, with HAProxy's error texts, and
compiles it into closures: ``Expr.one(txn)`` is the value (None when the
fetch or a converter fails), ``Expr.many(txn)`` every value of a fetch that
has several occurrences (``SMP_OPT_ITERATE``: ACLs try each), converted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from herdsman.sample import known
from herdsman.sample import types as T
from herdsman.sample.args import ArgError, make_arg_list
from herdsman.sample.registry import (
    CONVS,
    FETCHES,
    NO_CAST,
    CompileError,
    Compiler,
    ConvFn,
    ConvKw,
    FetchKw,
    Fn,
    ManyFn,
)
from herdsman.sample.txn import Txn
from herdsman.sample.types import Value


class ExprError(ValueError):
    """A parse error; ``message`` is HAProxy's inner text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_idchar(ch: str) -> bool:
    """``is_idchar()``: characters of a keyword."""
    return ch.isascii() and (ch.isalnum() or ch in "._-+$")


def keyword_end(text: str, pos: int) -> int:
    end = pos
    while end < len(text) and is_idchar(text[end]):
        end += 1
    return end


@dataclass(frozen=True, slots=True)
class Expr:
    """A compiled sample expression."""

    text: str
    fetch: FetchKw
    convs: tuple[ConvKw, ...]
    out: int  # the output type (smp_expr_output_type())
    one: Fn
    many: ManyFn

    def __deepcopy__(self, memo: dict[int, object]) -> Expr:
        # immutable once compiled: a ``defaults`` section's copy shares it (and
        # mypyc's compiled closures cannot be copied)
        return self

    @property
    def use(self) -> int:
        return self.fetch.use

    @property
    def val(self) -> int:
        return self.fetch.val

    def evaluate(self, txn: Txn) -> Value | None:
        return self.one(txn)


def _single(fn: Fn) -> ManyFn:
    def many(txn: Txn) -> Sequence[Value]:
        value = fn(txn)
        return () if value is None else (value,)

    return many


def _step(prev: Fn, conv: ConvFn, in_type: int) -> Fn:
    """``prev`` followed by one converter, with the cast to its input type."""
    ok = NO_CAST[in_type]
    cast = T.cast

    def fn(txn: Txn) -> Value | None:
        value = prev(txn)
        if value is None:
            return None
        if type(value) not in ok:
            value = cast(value, in_type)
            if value is None:
                return None
        return conv(value, txn)

    return fn


def _chain(convs: list[tuple[ConvFn, int]]) -> ConvFn:
    """Converters applied to one value (an occurrence of a multi-valued fetch)."""
    cast = T.cast
    steps = [(fn, NO_CAST[in_type], in_type) for fn, in_type in convs]

    def apply(value: Value, txn: Txn) -> Value | None:
        for fn, ok, in_type in steps:
            if type(value) not in ok:
                cast_value = cast(value, in_type)
                if cast_value is None:
                    return None
                value = cast_value
            out = fn(value, txn)
            if out is None:
                return None
            value = out
        return value

    return apply


def _many(fetch_many: ManyFn, convs: list[tuple[ConvFn, int]]) -> ManyFn:
    if not convs:
        return fetch_many
    apply = _chain(convs)

    def many(txn: Txn) -> Sequence[Value]:
        out = []
        for value in fetch_many(txn):
            converted = apply(value, txn)
            if converted is not None:
                out.append(converted)
        return out

    return many


def build_fetch(kw: FetchKw, args: list, c: Compiler) -> tuple[Fn, ManyFn]:  # type: ignore[type-arg]
    c.kw, c.conv = kw.name, None
    one = kw.build(args, c)
    many = kw.many(args, c) if kw.many is not None else _single(one)
    return one, many


def parse_converters(
    text: str, end: int, prev_type: int, c: Compiler, fkw: str, *, embedded: bool
) -> tuple[list[tuple[ConvKw, list]], int]:  # type: ignore[type-arg]
    """The converter list after a fetch (``sample_parse_expr()``'s loop)."""
    out: list[tuple[ConvKw, list]] = []  # type: ignore[type-arg]
    ckw = ""
    n = len(text)
    while True:
        if end < n and text[end] != ",":
            if embedded:
                break
            if ckw:
                raise ExprError(f"missing comma after converter '{ckw}'")
            raise ExprError(f"missing comma after fetch keyword '{fkw}'")
        while end < n and text[end] == ",":
            end += 1
        if end >= n:
            break
        begw = end
        end = keyword_end(text, begw)
        ckw = text[begw:end]
        conv = CONVS.get(ckw)
        if conv is None:
            if ckw in known.CONVERTERS:
                raise ExprError(f"converter '{ckw}' is not supported by herdsman")
            raise ExprError(f"unknown converter '{ckw}'")
        if not T.castable(prev_type, conv.in_type):
            raise ExprError(f"converter '{ckw}' cannot be applied")
        prev_type = conv.out_type
        try:
            args, end = make_arg_list(text, end, conv.spec)
        except ArgError as err:
            raise ExprError(
                f"invalid arg {err.pos + 1} in converter '{ckw}' : {err.message}"
            ) from None
        if conv.check is not None:
            problem = conv.check(args)
            if problem is not None:
                raise ExprError(f"invalid args in converter '{ckw}' : {problem}")
        out.append((conv, args))
    return out, end


def compile_expr(
    text: str,
    fetch: FetchKw,
    fetch_args: list,  # type: ignore[type-arg]
    convs: list[tuple[ConvKw, list]],  # type: ignore[type-arg]
    c: Compiler,
) -> Expr:
    try:
        one, many = build_fetch(fetch, fetch_args, c)
        steps: list[tuple[ConvFn, int]] = []
        for conv, args in convs:
            c.kw, c.conv = fetch.name, conv.name
            steps.append((conv.build(args, c), conv.in_type))
    except CompileError as err:
        raise ExprError(err.message) from None
    for fn, in_type in steps:
        one = _step(one, fn, in_type)
    out = convs[-1][0].out_type if convs else fetch.out
    return Expr(text, fetch, tuple(cv for cv, _ in convs), out, one, _many(many, steps))


def parse_expr(
    text: str, c: Compiler | None = None, pos: int = 0, *, embedded: bool = False
) -> tuple[Expr, int]:
    """``sample_parse_expr()`` from ``text[pos:]``.

    ``embedded`` (inside ``%[...]``) stops at the first character that cannot
    continue the expression and returns its position; otherwise the whole text
    must be the expression. Raises ExprError with HAProxy's inner text.
    """
    c = c if c is not None else Compiler()
    end = keyword_end(text, pos)
    if end == pos:
        raise ExprError("missing fetch method")
    fkw = text[pos:end]
    fetch = FETCHES.get(fkw)
    if fetch is None:
        if fkw in known.FETCHES:
            raise ExprError(f"fetch method '{fkw}' is not supported by herdsman")
        raise ExprError(f"unknown fetch method '{fkw}'")
    try:
        args, end = make_arg_list(text, end, fetch.spec)
    except ArgError as err:
        raise ExprError(f"fetch method '{fkw}' : {err.message}") from None
    if fetch.check is not None and args:
        problem = fetch.check(args)
        if problem is not None:
            raise ExprError(f"invalid args in fetch method '{fkw}' : {problem}")
    convs, end = parse_converters(text, end, fetch.out, c, fkw, embedded=embedded)
    return compile_expr(text[pos:end], fetch, args, convs, c), end


def parse_standalone(text: str, c: Compiler | None = None) -> Expr:
    """A whole word as an expression (``stick on <expr>``, ``connect port <expr>``)."""
    return parse_expr(text, c)[0]


# the keyword tables are filled by importing the modules that define them
from herdsman.sample import convs as _convs  # noqa: E402, F401
from herdsman.sample import convs_num as _convs_num  # noqa: E402, F401
from herdsman.sample import f_http as _f_http  # noqa: E402, F401
from herdsman.sample import f_http_params as _f_http_params  # noqa: E402, F401
from herdsman.sample import f_internal as _f_internal  # noqa: E402, F401
from herdsman.sample import f_payload as _f_payload  # noqa: E402, F401
from herdsman.sample import f_ssl as _f_ssl  # noqa: E402, F401
from herdsman.sample import f_stick as _f_stick  # noqa: E402, F401
from herdsman.sample import f_vars as _f_vars  # noqa: E402, F401
from herdsman.sample import maps as _maps  # noqa: E402, F401
