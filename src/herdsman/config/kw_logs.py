"""Traffic-log keywords: ``option tcplog``, ``option httplog [clf]``, ``log-format``
(``cfgparse-listen.c``; ``capture`` is in kw_rules.py, shared with the rules), and what
``check_config_validity()`` does with them once every section is read.

A proxy keeps one log-format string, whoever set it last (the options set
HAProxy's default strings, ``log-format`` its own); a ``defaults`` section that
changes it warns that it overrides the previous one. Only proxies with the
frontend capability log: a backend's format is dropped (with a warning where
it was written). The string is compiled after parsing, as in 2.6, with the
options ``LOG_OPT_MANDATORY|LOG_OPT_MERGE_SPACES`` (an empty value prints
``-``, spaces separate fields); its errors name the line that set it.

``%[<sample expression>]`` is the routing engine's (sample/), evaluated when
the line is built. What herdsman refuses in a traffic-log format, with that
line: ``%bi``/``%bp`` (the server connection's source address). Everything
else is HAProxy's list.
"""

from __future__ import annotations

from herdsman.config.diag import ConfigError, Diagnostics
from herdsman.config.keywords import Ctx, Keyword, Support, proxy_type_str
from herdsman.config.model import Cap, Mode, ProxyConfig
from herdsman.sample.lfparse import MANDATORY, ExprParser, LogFormatError, parse

# log.c of 2.6: the formats the options select
HTTP_LOG = (
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc "
    "%sq/%bq %hr %hs %{+Q}r"
)
CLF_LOG = (
    '%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc '
    "%ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"
)
TCP_LOG = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
_BY_KIND = {"option httplog": HTTP_LOG, "option httplog clf": CLF_LOG, "option tcplog": TCP_LOG}
_REFUSED_VARS = {"bi": "the server connection's source address", "bp": "its source port"}


def _set_format(ctx: Ctx, kind: str, text: str) -> None:
    px = ctx.px
    if px.log_format is not None and px.cap & Cap.DEF:
        ctx.diag.warning(
            f"parsing [{ctx.loc.file}:{ctx.loc.line}]: '{kind}' overrides previous "
            f"'{px.log_format_kw}' in 'defaults' section."
        )
    px.log_format = text
    px.log_format_kw = kind
    px.log_format_loc = ctx.loc


def _backend_warning(ctx: Ctx, what: str) -> None:
    px = ctx.px
    if not px.cap & Cap.DEF and not px.cap & Cap.FE:
        ctx.warn(f"backend '{px.name}' : '{what}' directive is ignored in backends.")


def parse_log_option(ctx: Ctx, args: list[str]) -> None:
    """``option tcplog`` / ``option httplog [clf]`` (the ``no``/``default`` forms are
    refused by the option parser before)."""
    name = args[1]
    extra = args[2] if len(args) > 2 else ""
    if name == "httplog":
        kind = "option httplog"
        if extra:
            if extra != "clf":
                raise ConfigError(f"keyword '{name}' only supports option 'clf'.")
            if len(args) > 3 and args[3]:
                raise ConfigError(
                    f"'{args[0]} {args[1]}' cannot handle unexpected argument '{args[3]}'."
                )
            kind = "option httplog clf"
        _set_format(ctx, kind, _BY_KIND[kind])
        _backend_warning(ctx, "option httplog")
        return
    _set_format(ctx, "option tcplog", TCP_LOG)
    if extra:
        raise ConfigError(f"'{args[0]} {args[1]}' cannot handle unexpected argument '{extra}'.")
    _backend_warning(ctx, "option tcplog")


def kw_log_format(ctx: Ctx, args: list[str]) -> None:
    if len(args) < 2 or not args[1]:
        raise ConfigError(f"{args[0]} expects an argument.")
    if len(args) > 2 and args[2]:
        raise ConfigError(f"{args[0]} expects only one argument, don't forget to escape spaces!")
    _set_format(ctx, "log-format", args[1])
    _backend_warning(ctx, "log-format")


def _herdsman_check(name: str) -> None:
    if name in _REFUSED_VARS:
        raise LogFormatError(
            f"format variable '{name}' ({_REFUSED_VARS[name]}) is not implemented in herdsman yet"
        )


def compile_format(text: str, http: bool, expr: ExprParser | None = None) -> tuple[object, ...]:
    """The nodes of a traffic-log format (LogFormatError with HAProxy's text);
    ``expr`` parses its ``%[...]`` (config/check_routing.py ``log_exprs()``)."""
    return parse(
        text, options=MANDATORY, merge_spaces=True, http=http, expr=expr, check_var=_herdsman_check
    )


def finish(px: ProxyConfig, diag: Diagnostics, expr: ExprParser | None = None) -> None:
    """What ``check_config_validity()`` does with a proxy's log format, in 2.6's order:
    the TCP fallback of ``option httplog``, dropped formats of backends, the
    compilation, the warning of a format without a log target."""
    kind = proxy_type_str(px)
    loc = px.log_format_loc
    if px.mode is not Mode.HTTP and px.log_format_kw in ("option httplog", "option httplog clf"):
        px.log_format = TCP_LOG
        diag.warning(
            f"parsing [{loc.file}:{loc.line}] : 'option httplog' not usable with {kind} "
            f"'{px.name}' (needs 'mode http'). Falling back to 'option tcplog'."
        )
    if not px.cap & Cap.FE:
        px.log_format = None
        return
    if px.log_format is None:
        return
    try:
        px.log_nodes = compile_format(px.log_format, px.mode is Mode.HTTP, expr)
    except LogFormatError as err:
        diag.alert(f"Parsing [{loc.file}:{loc.line}]: failed to parse log-format : {err.message}.")
        return
    if not px.logs:
        diag.warning(f"log format ignored for {kind} '{px.name}' since it has no log address.")


KEYWORDS = [
    Keyword(
        "log-format",
        kw_log_format,
        ("defaults", "frontend", "listen", "backend"),
        Support.IMPLEMENTED,
        doc="traffic log lines: HAProxy's variables (`%ci`, `%{+Q}r`...) and `%[expr]`; "
        "`%bi` and `%bp` are refused",
    ),
]
