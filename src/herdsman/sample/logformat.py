"""Log-format strings (``src/log.c parse_logformat_string()``, ``sess_build_logline()``).

Literal text, ``%%``, and ``%[<sample expression>]`` (``expr.py``), compiled
once into a closure producing bytes: ``compile_logformat(text, ...)(txn)``.
The same strings serve header values (``http-request set-header``), ``return
lf-string``, redirects, health checks (``send-lf``, ``on-error``...) and,
traffic logs (their ``%[...]``: ``expr_parser()``).

Each ``%[...]`` is checked against the place the string is used (``cap``,
``SMP_VAL_*``): a fetch that cannot be used there is refused with HAProxy's
text. At run time an expression is tried on the request, then on the
response (``LOG_OPT_REQ_CAP``/``LOG_OPT_RES_CAP``); a value is written as a
C string (up to its first NUL); a failed fetch writes nothing, or "-" when
the string is a log line's (``mandatory``). The options ``%{+Q}`` (quotes),
``%{+E}`` (escapes) and ``%{+M}`` apply to an expression as in ``lf_text_len()``;
in the strings of HTTP actions (``http``) values are %-encoded for a header
instead and the quotes are ignored, as 2.6's ``lf_encode_chunk()`` does.

The parser is ``lfparse.parse()`` (one for every log-format string); log
variables (``%ci``, ``%r``...) are for traffic logs and refused here.

``LogFormat`` and the mapping-based ``evaluate(ctx)`` are the face the health
checks use: the check's names, ids and input buffer as a mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from herdsman.sample import expr as E
from herdsman.sample import registry as R
from herdsman.sample import types as T
from herdsman.sample.expr import Expr, ExprError
from herdsman.sample.lfparse import ESC, MANDATORY, QUOTE, parse
from herdsman.sample.lfparse import Expr as LfExpr
from herdsman.sample.lfparse import LogFormatError as LogFormatError
from herdsman.sample.registry import Compiler
from herdsman.sample.txn import Txn
from herdsman.sample.types import Value as Sample

BUFSIZE: Final = 16384  # tune.bufsize: a check's buffer, what res.payload can reach
PAYLOAD = "res.payload"  # check context key: the check's input buffer (bytes)
DATE_US = "date"  # check context key: the current time in microseconds (default: the clock)

Piece = Callable[[Txn], bytes]
# what a health check's context mapping holds: names and ids as text, the
# input buffer, the time (``PAYLOAD``, ``DATE_US``)
Value = str | int | bytes
CheckCtx = Mapping[str, Value]


def _wire(text: str) -> bytes:
    # The configuration is read as UTF-8 with surrogateescape: this gives the
    # original bytes back, as HAProxy uses the raw configuration bytes.
    return text.encode("utf-8", "surrogateescape")


def _unwire(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _expr_value(req: Expr | None, res: Expr | None) -> Callable[[Txn], bytes | None]:
    """``LOG_FMT_EXPR``: the value on the request, else on the response, as a
    string up to its first NUL; None when there is none."""
    first = req.one if req is not None else None
    second = res.one if res is not None else None
    to_str = T.to_str

    def value_of(txn: Txn) -> bytes | None:
        value = first(txn) if first is not None else None
        if value is None and second is not None:
            value = second(txn)
        if value is None:
            return None
        text = to_str(value)
        if text is None:
            return None
        nul = text.find(b"\0")
        return text if nul < 0 else text[:nul]

    return value_of


def expr_value(node: Node, cap: int) -> Callable[[Txn], bytes | None]:
    """The value of a parsed ``%[...]`` used at ``cap``: tried on the request
    (``LOG_OPT_REQ_CAP``), then on the response (``LOG_OPT_RES_CAP``)."""
    assert node.expr is not None
    val = node.expr.val & cap
    req = node.expr if val & R.VAL_REQUEST else None
    res = (node.expr_res or node.expr) if val & R.VAL_RESPONSE else None
    return _expr_value(req, res if res is not req else None)


# http_encode_map: what a header value cannot hold, written %XX
_HTTP_ENCODE = frozenset((*range(0x09), *range(0x0A, 0x20), 0x7F))
_RFC5424_ESC = frozenset(b'"\\]')  # rfc5424_escape_map, for +E


def _http_encode(text: bytes, esc: bool) -> bytes:
    """``lf_encode_chunk()`` with http_encode_map: a header value's text (the
    quote option does not apply)."""
    out = bytearray()
    for byte in text:
        if byte in _HTTP_ENCODE:
            out += b"%%%02X" % byte
        elif esc and byte in _RFC5424_ESC:
            out += bytes((0x5C, byte))
        else:
            out.append(byte)
    return bytes(out)


def _text(text: bytes | None, options: int) -> bytes:
    """``lf_text_len()``: escaped (+E) and quoted (+Q); a missing value is "-"
    when mandatory (+M) and not quoted."""
    quote = options & QUOTE
    if text:
        if options & ESC:
            text = bytes(b for c in text for b in ((0x5C, c) if c in _RFC5424_ESC else (c,)))
    elif not quote:
        return b"-" if options & MANDATORY else b""
    return b'"' + (text or b"") + b'"' if quote else text or b""


def _expr_piece(value_of: Callable[[Txn], bytes | None], options: int, http: bool) -> Piece:
    """The text of an expression: encoded for a header (``http``,
    ``LOG_OPT_HTTP``), else with its options."""
    esc = bool(options & ESC)

    def piece(txn: Txn) -> bytes:
        text = value_of(txn)
        if http:
            return _http_encode(text, esc) if text else b""
        return _text(text, options)

    return piece


@dataclass(frozen=True, slots=True)
class Node:
    """A parsed piece: literal bytes, or an expression (compiled for the request
    and, for a fetch that reads either side, for the response too)."""

    text: bytes = b""
    expr: Expr | None = None
    expr_res: Expr | None = None
    options: int = 0  # lfparse's QUOTE, ESC, MANDATORY... (``%{+Q}[...]``)


def _refuse_variables(name: str) -> None:
    """Outside traffic logs: literal text, ``%%`` and ``%[expr]`` only."""
    if name == "%[" or name.startswith("%{"):
        return  # options: a variable after them is refused by its name
    raise LogFormatError(
        f"log-format variable '%{name}' is not supported by herdsman here; use "
        "literal text, '%%' and '%[<sample expression>]'"
    )


def expr_parser(c: Compiler, cap: int) -> Callable[[str, int], tuple[Node, int]]:
    """The ``%[...]`` callback of ``lfparse.parse()``: the expression compiled for
    the request and, for a fetch that reads either side, for the response too
    (``LOG_OPT_REQ_CAP``/``LOG_OPT_RES_CAP``)."""

    def parse_one(fmt: str, start: int) -> tuple[Node, int]:
        try:
            expr, end = E.parse_expr(fmt, c, start, embedded=True)
        except ExprError as err:
            raise LogFormatError(
                f"failed to parse sample expression <{fmt[start:]}> : {err.message}"
            ) from None
        if not expr.val & cap:
            raise LogFormatError(
                f"sample fetch <{fmt[start:]}> may not be reliably used here because it "
                f"needs '{R.src_names(expr.use)}' which is not available here"
            )
        expr_res = None
        both = R.USE_HRQHV | R.USE_HRSHV
        l6 = R.USE_L6REQ | R.USE_L6RES
        if expr.use & both == both or expr.use & l6 == l6:
            saved = c.response
            c.response = True
            expr_res = E.parse_expr(fmt, c, start, embedded=True)[0]
            c.response = saved
        return Node(expr=expr, expr_res=expr_res), end

    return parse_one


def parse_logformat(fmt: str, c: Compiler | None = None, cap: int = R.BE_CHK_RUL) -> list[Node]:
    """``parse_logformat_string()`` (``lfparse.parse()``) without the log variables."""
    nodes = parse(
        fmt, expr=expr_parser(c if c is not None else Compiler(), cap), check_var=_refuse_variables
    )
    return [
        replace(n.node, options=n.options) if isinstance(n, LfExpr) else Node(_wire(n))
        for n in nodes
    ]


def compile_nodes(
    nodes: list[Node], cap: int, mandatory: bool = False, http: bool = False
) -> Piece:
    """``mandatory``: a log line's (``LOG_OPT_MANDATORY``); ``http``: the string
    of an HTTP action (``LOG_OPT_HTTP``)."""
    extra = MANDATORY if mandatory else 0
    pieces: list[Piece | bytes] = [
        node.text
        if node.expr is None
        else _expr_piece(expr_value(node, cap), node.options | extra, http)
        for node in nodes
    ]
    if all(isinstance(p, bytes) for p in pieces):
        literal = b"".join(p for p in pieces if isinstance(p, bytes))
        return lambda txn: literal
    if len(pieces) == 1:
        only = pieces[0]
        assert not isinstance(only, bytes)
        return only
    parts = tuple(pieces)

    def build(txn: Txn) -> bytes:
        return b"".join(p if isinstance(p, bytes) else p(txn) for p in parts)

    return build


def compile_logformat(
    text: str,
    c: Compiler | None = None,
    cap: int = R.BE_CHK_RUL,
    *,
    mandatory: bool = False,
    http: bool = False,
) -> Piece:
    """A log-format string as a closure ``txn -> bytes``; raises LogFormatError.

    ``cap`` is the place it is used (``registry.FE_HRQ_HDR``...), ``mandatory``
    writes "-" for a missing value, ``http`` encodes values for a header or a
    start line (``LOG_OPT_HTTP``: the strings of HTTP actions, ``http-request
    return``, redirects)."""
    return compile_nodes(parse_logformat(text, c, cap), cap, mandatory, http)


# -- the health checks' face ------------------------------------------------------------


class _Named:
    """A proxy or server of a check, by name and id only."""

    def __init__(self, name: str, ident: int) -> None:
        self.name = name
        self.uuid = self.puid = ident

    def __getattr__(self, attr: str) -> Any:
        raise AttributeError(attr)


def check_txn(ctx: CheckCtx | Txn) -> Txn:
    """The ``Txn`` of a health check from its context mapping: ``srv_name``,
    ``srv_id``, ``be_name``, ``be_id``, ``hostname``, ``PAYLOAD``, ``DATE_US``."""
    if isinstance(ctx, Txn):
        return ctx
    txn = Txn()
    names = {k: v for k, v in ctx.items() if isinstance(v, str)}
    if "be_name" in names:
        txn.be = _Named(names["be_name"], _ident(names.get("be_id")))  # a check has names only
    if "srv_name" in names:
        txn.srv = _Named(names["srv_name"], _ident(names.get("srv_id")))
    txn.extra = dict(names)
    payload = ctx.get(PAYLOAD)
    txn.res_buf = payload if isinstance(payload, bytes) else None
    date = ctx.get(DATE_US)
    txn.date_us = date if isinstance(date, int) else None
    return txn


def _ident(text: str | None) -> int:
    return int(text) if text is not None and text.lstrip("-").isdigit() else 0


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A log-format string of a health check (``cap`` defaults to tcp-check
    rules). Construction parses ``text`` and raises LogFormatError."""

    text: str
    cap: int = R.BE_CHK_RUL
    build: Piece = field(init=False, repr=False, compare=False)
    literal: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        nodes = parse_logformat(self.text, Compiler(where="in tcp-check expression in"), self.cap)
        object.__setattr__(self, "build", compile_nodes(nodes, self.cap))
        object.__setattr__(self, "literal", all(n.expr is None for n in nodes))

    def __deepcopy__(self, memo: dict[int, object]) -> LogFormat:
        return self  # immutable: shared by a ``defaults`` section's copies, as Expr

    def evaluate_bytes(self, ctx: CheckCtx | Txn) -> bytes:
        return self.build(check_txn(ctx))

    def evaluate(self, ctx: CheckCtx | Txn) -> str:
        return _unwire(self.evaluate_bytes(ctx))

    @property
    def is_literal(self) -> bool:
        return self.literal


@dataclass(frozen=True, slots=True)
class SampleExpr:
    """A standalone expression of a check (``connect port``, ``status-code``)."""

    text: str
    expr: Expr

    def __deepcopy__(self, memo: dict[int, object]) -> SampleExpr:
        return self  # immutable: shared by a ``defaults`` section's copies, as Expr

    def evaluate(self, ctx: CheckCtx | Txn) -> Sample | None:
        return self.expr.one(check_txn(ctx))

    def evaluate_int(self, ctx: CheckCtx | Txn) -> int | None:
        """``sample_fetch_as_type(..., SMP_T_SINT)``: None when absent or not castable."""
        value = self.evaluate(ctx)
        return None if value is None else T.to_int(value)


def parse_expr(text: str, c: Compiler | None = None) -> SampleExpr:
    """The whole word as an expression; raises LogFormatError."""
    try:
        return SampleExpr(text, E.parse_expr(text, c)[0])
    except ExprError as err:
        raise LogFormatError(err.message) from None


def to_str(value: Sample) -> str:
    """A value as text, up to its first NUL (``c_bin2str``), for check messages."""
    data = T.to_str(value) or b""
    return _unwire(data.split(b"\0", 1)[0])


def cast_int(value: Sample | str) -> int | None:
    """``c_str2int()`` at run time: ``read_int64()`` of a non-empty string; binary
    data does not cast."""
    if isinstance(value, str):
        value = _wire(value)
    if type(value) is T.Bin:
        return None
    return T.to_int(value)
