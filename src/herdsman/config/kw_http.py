"""The HTTP keywords of proxies and the global section (spec §2.7, §3), except the
error pages (``config/errfiles.py``).

Proxy keywords: ``http-reuse``, ``monitor-uri``, ``monitor`` (its condition
needs ACLs: refused once its own checks pass), ``http-send-name-header``,
``max-keep-alive-queue``, ``retry-on``; the options that take arguments
(``forwardfor``, ``originalto``, ``http-restrict-req-hdr-names``) and the
connection modes, which ``config/options.py`` hands over. Global:
``h1-case-adjust`` and ``h1-case-adjust-file`` (planned).

Texts are those of ``cfgparse-listen.c``, ``proxy.c`` and ``mux_h1.c`` (2.6),
checked against the 2.6.12 binary (tests/unit/test_config_http.py).
"""

from __future__ import annotations

from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import (
    Ctx,
    Keyword,
    Parser,
    Support,
    arg,
    proxy_type_str,
    too_many_args,
    warn_if_not_cap,
    words_from,
)
from herdsman.config.model import AddedHeader, Cap, ConnMode, HdrNames, HttpReuse, RetryOn
from herdsman.config.model_addr import Family, Network
from herdsman.config.units import c_strtol
from herdsman.sample.net import str2net, str62net

HTTP = "HTTP mode"


def ascii_lower(text: str) -> str:
    """C ``tolower()`` on each byte: only ASCII letters change."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def _alert_too_many(ctx: Ctx, args: list[str], maxarg: int, index: int = 0) -> bool:
    """``alertif_too_many_args_idx()``."""
    text = too_many_args(args, maxarg, index)
    if text is not None:
        ctx.alert(text)
    return text is not None


# -- proxy keywords ----------------------------------------------------------------


def kw_http_reuse(ctx: Ctx, args: list[str]) -> None:
    warn_if_not_cap(ctx, Cap.BE, args[0])
    try:
        ctx.px.http.reuse_mode = HttpReuse(arg(args, 1))
    except ValueError:
        raise ConfigError(
            f"'{args[0]}' only supports 'never', 'safe', 'aggressive', 'always'."
        ) from None
    _alert_too_many(ctx, args, 0, 1)


def kw_monitor_uri(ctx: Ctx, args: list[str]) -> None:
    warn_if_not_cap(ctx, Cap.FE, args[0])
    if _alert_too_many(ctx, args, 1):
        return
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects an URI.")
    ctx.px.http.monitor_uri = args[1]


def kw_http_send_name_header(ctx: Ctx, args: list[str]) -> None:
    warn_if_not_cap(ctx, Cap.BE, args[0])
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' requires a header string.")
    ctx.px.http.send_name_header = ascii_lower(args[1])


def kw_max_keep_alive_queue(ctx: Ctx, args: list[str]) -> None:
    """``proxy_parse_max_ka_queue()``: ``strtol(, 0)`` into an unsigned int; HAProxy
    stores the value plus one so that -1 (no limit) is its zero."""
    text = arg(args, 1)
    if not text:
        raise ConfigError(f"'{args[0]}' expects expects an integer value (or -1 to disable)")
    value, end = c_strtol(text, 0, 0)
    if end < len(text):
        raise ConfigError(
            f"'{args[0]}' : unexpected character '{text[end]}' in integer value '{text}'"
        )
    value &= 0xFFFFFFFF
    ctx.px.http.max_keep_alive_queue = value - (1 << 32) if value >= 1 << 31 else value
    px = ctx.px
    if not px.cap & Cap.BE:
        raise ConfigError(
            f"{args[0]} will be ignored because {proxy_type_str(px)} '{px.name}' has no "
            "backend capability",
            Err.WARN,
        )


RETRY_WORDS: dict[str, RetryOn] = {
    "conn-failure": RetryOn.CONN_FAILURE,
    "empty-response": RetryOn.EMPTY_RESPONSE,
    "response-timeout": RetryOn.RESPONSE_TIMEOUT,
    **{
        str(code): RetryOn[f"S{code}"]
        for code in (401, 403, 404, 408, 425, 500, 501, 502, 503, 504)
    },
    "0rtt-rejected": RetryOn.ZERO_RTT_REJECTED,
    "junk-response": RetryOn.JUNK_RESPONSE,
    "all-retryable-errors": RetryOn.CONN_FAILURE
    | RetryOn.EMPTY_RESPONSE
    | RetryOn.RESPONSE_TIMEOUT
    | RetryOn.S500
    | RetryOn.S502
    | RetryOn.S503
    | RetryOn.S504
    | RetryOn.ZERO_RTT_REJECTED
    | RetryOn.JUNK_RESPONSE,
}


def kw_retry_on(ctx: Ctx, args: list[str]) -> None:
    """``proxy_parse_retry_on()``: the words replace the inherited conditions."""
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' needs at least one keyword to specify when to retry")
    if not ctx.px.cap & Cap.BE:
        raise ConfigError(f"'{args[0]}' only available in backend or listen section")
    words = words_from(args, 1)
    flags = RetryOn.NONE
    ctx.px.retry_on = flags
    for i, word in enumerate(words):
        if word == "none":
            if i != 0 or len(words) > 1:
                raise ConfigError(f"'{args[0]}' 'none' keyworld only usable alone")
        elif word in RETRY_WORDS:
            flags |= RETRY_WORDS[word]
            ctx.px.retry_on = flags
        else:
            raise ConfigError(f"'{args[0]}': unknown keyword '{word}'")


# -- options with arguments (cfg_parse_listen()) -------------------------------------


def parse_network(text: str) -> Network | None:
    """``str2net(text, resolve=1)``, else ``str62net(text)``: None when neither works.

    IPv4 comes first, and a name is resolved (``gethostbyname()``: IPv4 only).
    """
    v4 = str2net(text)
    if v4 is not None:
        return Network(Family.INET, *v4)
    v6 = str62net(text)
    return None if v6 is None else Network(Family.INET6, *v6)


def parse_added_header(ctx: Ctx, args: list[str]) -> None:
    """``option forwardfor [except <net>] [header <name>] [if-none]`` and ``option
    originalto [except <net>] [header <name>]``: each line starts from the defaults."""
    name = args[1]
    forwardfor = name == "forwardfor"
    header = "X-Forwarded-For" if forwardfor else "X-Original-To"
    except_net: Network | None = None
    if_none = False
    i = 2
    while word := arg(args, i):
        value = arg(args, i + 1)
        if word == "except":
            except_net = parse_network(value) if value else None
            if except_net is None:
                raise ConfigError(
                    f"'{args[0]} {name} {word}' expects <address>[/mask] as argument."
                )
            i += 2
        elif word == "header":
            if not value:
                raise ConfigError(f"'{args[0]} {name} {word}' expects <header_name> as argument.")
            header = value
            i += 2
        elif word == "if-none" and forwardfor:
            if_none = True
            i += 1
        elif forwardfor:
            raise ConfigError(
                f"'{args[0]} {name}' only supports optional values: 'except', 'header' and "
                "'if-none'."
            )
        else:
            raise ConfigError(
                f"'{args[0]} {name}' only supports optional values: 'except' and 'header'."
            )
    added = AddedHeader(header, except_net, if_none)
    if forwardfor:
        ctx.px.http.forwardfor = added
    else:
        ctx.px.http.originalto = added


def parse_restrict_req_hdr_names(ctx: Ctx, args: list[str]) -> None:
    if _alert_too_many(ctx, args, 2):
        return
    what = f"option '{args[1]}' expects 'preserve', 'reject' or 'delete' option."
    if not arg(args, 2):
        raise ConfigError(f"missing parameter. {what}")
    try:
        ctx.px.http.restrict_req_hdr_names = HdrNames(args[2])
    except ValueError:
        raise ConfigError(f"invalid parameter '{args[2]}'. {what}") from None


def set_conn_mode(ctx: Ctx, mode: ConnMode) -> None:
    """``option httpclose|http-server-close|http-keep-alive``: one replaces the other;
    ``no option X`` goes back to keep-alive only when X is the mode in force."""
    http = ctx.px.http
    if ctx.modifier != "no":
        http.conn_mode = mode
    elif http.conn_mode is mode:
        http.conn_mode = ConnMode.KEEP_ALIVE


# -- global keywords (mux_h1.c) ----------------------------------------------------------


def kw_h1_case_adjust(ctx: Ctx, args: list[str]) -> None:
    text = too_many_args(args, 2)
    if text is not None:
        raise ConfigError(text)
    if not arg(args, 1) or not arg(args, 2):
        raise ConfigError(f"'{args[0]}' expects <from> and <to> as argument.")
    src, dst = args[1], args[2]
    if ascii_lower(src) != ascii_lower(dst):
        raise ConfigError("<from> and <to> must not differ execpt the case")  # sic
    table = ctx.global_.h1_case_adjust
    if src in table:
        raise ConfigError(f"duplicate entry '{src}'")
    table[src] = dst


def kw_h1_case_adjust_file(ctx: Ctx, args: list[str]) -> None:
    """Only the name: the file is read after parsing (and the keyword is refused)."""
    text = too_many_args(args, 1)
    if text is not None:
        raise ConfigError(text)
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects <file> as argument.")
    ctx.global_.h1_case_adjust_file = args[1]


# -- the tables ----------------------------------------------------------------------------

_DEF_FE_LS_BE = ("defaults", "frontend", "listen", "backend")
_DEF_LS_BE = ("defaults", "listen", "backend")
_DEF_FE_LS = ("defaults", "frontend", "listen")


def _row(name: str, parser: Parser, sections: tuple[str, ...], doc: str) -> Keyword:
    return Keyword(name, parser, sections, Support.IMPLEMENTED, doc=doc)


PROXY_KEYWORDS = [
    _row(
        "http-reuse",
        kw_http_reuse,
        _DEF_LS_BE,
        "`never`, `safe` (default), `aggressive`, `always`; `never` in TCP mode",
    ),
    _row("monitor-uri", kw_monitor_uri, _DEF_FE_LS, "a URI the frontend answers with 200 itself"),
    _row(
        "http-send-name-header",
        kw_http_send_name_header,
        _DEF_LS_BE,
        "a request header carrying the chosen server's name",
    ),
    _row(
        "max-keep-alive-queue",
        kw_max_keep_alive_queue,
        _DEF_LS_BE,
        "beyond this many queued requests, a keep-alive request may pick another server",
    ),
    _row(
        "retry-on",
        kw_retry_on,
        _DEF_LS_BE,
        "the failures that are retried (default `conn-failure`); the others need HTTP mode",
    ),
]

GLOBAL_KEYWORDS = [
    Keyword("h1-case-adjust", kw_h1_case_adjust, ("global",), Support.PLANNED, HTTP),
    Keyword("h1-case-adjust-file", kw_h1_case_adjust_file, ("global",), Support.PLANNED, HTTP),
]

__all__ = [
    "GLOBAL_KEYWORDS",
    "PROXY_KEYWORDS",
    "ascii_lower",
    "parse_added_header",
    "parse_network",
    "parse_restrict_req_hdr_names",
    "set_conn_mode",
]
