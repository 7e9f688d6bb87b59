"""The keyword tables of fetches and converters, and what compiling one needs.

A fetch keyword (``struct sample_fetch``) has a name, its argument mask, its
output type and the sources it reads (``SMP_USE_*``), from which HAProxy
derives where it may be used (``fetch_cap[]``, ``SMP_VAL_*``): a test checks
that those places are exactly what ``haproxy -dKsmp`` prints for every
keyword herdsman has. A converter (``struct sample_conv``) has its input and
output types.

Each keyword carries a *builder*: given the typed arguments and a
``Compiler`` (where the expression is written), it returns the closure that
computes the sample from a ``Txn``. Everything that can be decided when the
configuration is read is decided in the builder, so the closure does the
per-request work only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from herdsman.sample import types as T
from herdsman.sample.args import NO_ARGS, Arg, ArgSpec
from herdsman.sample.pattern import PatternFiles
from herdsman.sample.txn import Ref, Txn
from herdsman.sample.types import Value

# -- where samples may be used (sample-t.h) -------------------------------------------

# SMP_CKP_*: the places, in the order of the SMP_VAL_* bits and of the -dKsmp columns
CKP_NAMES: Final = (
    "frontend tcp-request connection rule",
    "frontend tcp-request session rule",
    "frontend tcp-request content rule",
    "frontend http-request header rule",
    "frontend http-request body rule",
    "frontend use-backend rule",
    "backend tcp-request content rule",
    "backend http-request header rule",
    "backend http-request body rule",
    "backend use-server, balance or stick-match rule",
    "server source selection",
    "backend tcp-response content rule",
    "backend http-response header rule",
    "backend http-response body rule",
    "backend stick-store rule",
    "frontend tcp-response content rule",
    "frontend http-response header rule",
    "frontend http-response body rule",
    "logs",
    "backend tcp-check rule",
    "configuration parser",
    "CLI parser",
)
(
    FE_CON_ACC,
    FE_SES_ACC,
    FE_REQ_CNT,
    FE_HRQ_HDR,
    FE_HRQ_BDY,
    FE_SET_BCK,
    BE_REQ_CNT,
    BE_HRQ_HDR,
    BE_HRQ_BDY,
    BE_SET_SRV,
    BE_SRV_CON,
    BE_RES_CNT,
    BE_HRS_HDR,
    BE_HRS_BDY,
    BE_STO_RUL,
    FE_RES_CNT,
    FE_HRS_HDR,
    FE_HRS_BDY,
    FE_LOG_END,
    BE_CHK_RUL,
    CFG_PARSER,
    CLI_PARSER,
) = (1 << i for i in range(22))

VAL_REQUEST: Final = (
    FE_CON_ACC
    | FE_SES_ACC
    | FE_REQ_CNT
    | FE_HRQ_HDR
    | FE_HRQ_BDY
    | FE_SET_BCK
    | BE_REQ_CNT
    | BE_HRQ_HDR
    | BE_HRQ_BDY
    | BE_SET_SRV
    | BE_CHK_RUL
)
VAL_RESPONSE: Final = (
    BE_SRV_CON
    | BE_RES_CNT
    | BE_HRS_HDR
    | BE_HRS_BDY
    | BE_STO_RUL
    | FE_RES_CNT
    | FE_HRS_HDR
    | FE_HRS_BDY
    | FE_LOG_END
    | BE_CHK_RUL
)

# SMP_SRC_*: what a fetch reads; names as sample_src_names() prints them
SRC_NAMES: Final = (
    "const",
    "internal",
    "listener",
    "frontend",
    "client address",
    "client-side connection",
    "track counters",
    "request buffer",
    "HTTP request headers",
    "HTTP request",
    "HTTP request body",
    "backend",
    "server",
    "server address",
    "server-side connection",
    "response buffer",
    "HTTP response headers",
    "HTTP response",
    "HTTP response body",
    "request buffer statistics",
    "response buffer statistics",
    "transaction statistics",
    "session statistics",
)
(
    USE_CONST,
    USE_INTRN,
    USE_LISTN,
    USE_FTEND,
    USE_L4CLI,
    USE_L5CLI,
    USE_TRACK,
    USE_L6REQ,
    USE_HRQHV,
    USE_HRQHP,
    USE_HRQBO,
    USE_BKEND,
    USE_SERVR,
    USE_L4SRV,
    USE_L5SRV,
    USE_L6RES,
    USE_HRSHV,
    USE_HRSHP,
    USE_HRSBO,
    USE_RQFIN,
    USE_RSFIN,
    USE_TXFIN,
    USE_SSFIN,
) = (1 << i for i in range(23))
USE_HTTP_ANY: Final = USE_HRQHV | USE_HRQHP | USE_HRQBO | USE_HRSHV | USE_HRSHP | USE_HRSBO

# fetch_cap[]: for each source, where it may be used ("Y" in the place's column)
_CAP: Final = (
    "YYYYYYYYYYYYYYYYYYYYYY",  # CONST
    "YYYYYYYYYYYYYYYYYYYY.Y",  # INTRN
    "YYYYYYYYYYYYYYYYYYY...",  # LISTN
    "YYYYYYYYYYYYYYYYYYY...",  # FTEND
    "YYYYYYYYYYYYYYYYYYYY..",  # L4CLI
    ".YYYYYYYYYYYYYYYYYY...",  # L5CLI
    "YYYYYYYYYYYYYYYYYYY...",  # TRACK
    "..YYYYYYYYY...........",  # L6REQ
    "..YYYYYYYYY...........",  # HRQHV
    "..YYYYYYYYYYYYYYYYY...",  # HRQHP
    "....YYYYYYY...........",  # HRQBO
    "......YYYYYYYYYYYYYY..",  # BKEND
    "..........YYYYYYYYYY..",  # SERVR
    "...........YYYYYYYYY..",  # L4SRV
    "...........YYYYYYYYY..",  # L5SRV
    "...........YYYYYYY.Y..",  # L6RES
    "...........YYYYYYY.Y..",  # HRSHV
    "...........YYYYYYYYY..",  # HRSHP
    ".............YYYYY.Y..",  # HRSBO
    "..................Y...",  # RQFIN
    "..................Y...",  # RSFIN
    "..................Y...",  # TXFIN
    "..................Y...",  # SSFIN
)


def _row(text: str) -> int:
    return sum(1 << i for i, ch in enumerate(text) if ch == "Y")


FETCH_CAP: Final = tuple(_row(row) for row in _CAP)


def val_of(use: int) -> int:
    """``sample_register_fetches()``: the places a fetch reading ``use`` may be used."""
    return sum(cap for bit, cap in enumerate(FETCH_CAP) if use & (1 << bit))


def src_names(use: int) -> str:
    """``sample_src_names()``: the sources of ``use``, comma-separated."""
    return ",".join(name for bit, name in enumerate(SRC_NAMES) if use & (1 << bit))


def ckp_name(where: int) -> str:
    """``sample_ckp_names()``: the lowest place of ``where``."""
    for bit, name in enumerate(CKP_NAMES):
        if where & (1 << bit):
            return name
    return "unknown sample check place, please report this bug"


def val_pattern(val: int) -> str:
    """A validity mask the way ``-dKsmp`` draws it ("Y Y . Y ...")."""
    return " ".join("Y" if val & (1 << i) else "." for i in range(22))


# -- compiling ------------------------------------------------------------------------

Fn = Callable[[Txn], Value | None]
ManyFn = Callable[[Txn], Sequence[Value]]
ConvFn = Callable[[Value, Txn], Value | None]


class CompileError(ValueError):
    """A keyword's argument HAProxy refuses (``val_args()``), or one herdsman cannot
    evaluate; ``message`` is the inner text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RefSite:
    """Where an argument naming something else was written, for the messages of
    ``smp_resolve_args()`` when the name does not resolve."""

    file: str
    line: int
    proxy: str
    defaults: bool
    kw: str
    conv: str | None
    pos: int
    ctx: str  # "sample fetch keyword" or "ACL keyword"
    where: str  # "in", "in http-request expression in", ...


@dataclass
class Compiler:
    """What a keyword builder knows about the place of the expression.

    ``proxy``: the section the expression is written in (an empty backend or
    table argument means this proxy). ``response``: the expression runs on the
    response (``SMP_OPT_DIR_RES``): ``hdr()`` then reads the response.
    ``refs`` collects the names to resolve once the configuration is read.
    """

    file: str = ""
    line: int = 0
    proxy: str = ""
    defaults: bool = False
    response: bool = False
    where: str = "in"
    acl: bool = False
    base_dir: str = ""
    refs: list[Ref] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: PatternFiles | None = None  # pattern and map files read so far
    # the current keyword, for the messages of unresolved references
    kw: str = ""
    conv: str | None = None

    def ref(self, kind: int, name: str, pos: int) -> Ref:
        site = RefSite(
            self.file,
            self.line,
            self.proxy,
            self.defaults,
            self.kw,
            self.conv,
            pos,
            "ACL keyword" if self.acl else "sample fetch keyword",
            self.where,
        )
        ref = Ref(kind, name, site)
        self.refs.append(ref)
        return ref


FetchBuilder = Callable[[list[Arg], Compiler], Fn]
ManyBuilder = Callable[[list[Arg], Compiler], ManyFn]
ConvBuilder = Callable[[list[Arg], Compiler], ConvFn]
ArgCheck = Callable[[list[Arg]], str | None]


@dataclass(frozen=True, slots=True)
class FetchKw:
    name: str
    spec: ArgSpec
    out: int
    use: int
    build: FetchBuilder
    many: ManyBuilder | None = None
    check: ArgCheck | None = None
    val_extra: int = 0

    @property
    def val(self) -> int:
        return val_of(self.use) | self.val_extra


@dataclass(frozen=True, slots=True)
class ConvKw:
    name: str
    spec: ArgSpec
    in_type: int
    out_type: int
    build: ConvBuilder
    check: ArgCheck | None = None


FETCHES: dict[str, FetchKw] = {}
CONVS: dict[str, ConvKw] = {}


def fetch(
    name: str,
    out: int,
    use: int,
    spec: ArgSpec = NO_ARGS,
    *,
    many: ManyBuilder | None = None,
    check: ArgCheck | None = None,
    val_extra: int = 0,
    aliases: tuple[str, ...] = (),
) -> Callable[[FetchBuilder], FetchBuilder]:
    """Register a fetch keyword (and its aliases) built by the decorated function."""

    def deco(build: FetchBuilder) -> FetchBuilder:
        for kw in (name, *aliases):
            if kw in FETCHES:
                raise ValueError(f"duplicate fetch {kw}")
            FETCHES[kw] = FetchKw(kw, spec, out, use, build, many, check, val_extra)
        return build

    return deco


def conv(
    name: str,
    in_type: int,
    out_type: int,
    spec: ArgSpec = NO_ARGS,
    *,
    check: ArgCheck | None = None,
) -> Callable[[ConvBuilder], ConvBuilder]:
    def deco(build: ConvBuilder) -> ConvBuilder:
        if name in CONVS:
            raise ValueError(f"duplicate converter {name}")
        CONVS[name] = ConvKw(name, spec, in_type, out_type, build, check)
        return build

    return deco


def const(value: Value | None) -> Fn:
    """A fetch whose value is known when the configuration is read."""

    def fn(txn: Txn) -> Value | None:
        return value

    return fn


def simple(fn: ConvFn) -> ConvBuilder:
    """A converter without arguments."""

    def build(args: list[Arg], c: Compiler) -> ConvFn:
        return fn

    return build


# Python classes a converter's input type takes without a cast (``c_none``)
NO_CAST: Final[dict[int, tuple[type, ...]]] = {
    T.ANY: (bool, int, bytes, T.Bin, T.Meth),
    T.BOOL: (bool, int),
    T.SINT: (int, bool),
    T.STR: (bytes,),
    T.BIN: (T.Bin, bytes),
    T.METH: (T.Meth,),
    T.IPV4: (),
    T.IPV6: (),
    T.ADDR: (),
}
