"""Proxy section keywords (``defaults``, ``frontend``, ``backend``, ``listen``).

Messages follow ``src/cfgparse-listen.c`` and ``src/proxy.c`` (2.6), checked
against the 2.6.12 binary. Keywords herdsman does not act on yet are in the
table as PLANNED or UNSUPPORTED (``config/known.py``) so they are refused by
name instead of being reported as unknown.
"""

from __future__ import annotations

from herdsman.config import (
    errfiles,
    keywords,
    known,
    kw_http,
    kw_logs,
    kw_persist,
    kw_rules,
    kw_stats,
    kw_statspage,
)
from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import (
    SECTIONS_PROXY,
    BrokenFile,
    Ctx,
    Keyword,
    Support,
    Table,
    arg,
    parse_int,
    proxy_type_str,
    warn_if_not_cap,
    words_from,
)
from herdsman.config.model import Balance, Cap, HashMethod, Mode, Timeouts
from herdsman.config.units import c_strtol, proxy_time_arg
from herdsman.defs.words import best_match

DEF_FE_LS_BE = ("defaults", "frontend", "listen", "backend")
DEF_LS_BE = ("defaults", "listen", "backend")
DEF_FE_LS = ("defaults", "frontend", "listen")
FE_LS = ("frontend", "listen")
LS_BE = ("listen", "backend")
FE_LS_BE = ("frontend", "listen", "backend")


def too_many_args(ctx: Ctx, args: list[str], maxarg: int, index: int = 0) -> bool:
    """``alertif_too_many_args_idx()``."""
    text = keywords.too_many_args(args, maxarg, index)
    if text is not None:
        ctx.alert(text)
    return text is not None


# -- keyword parsers -------------------------------------------------------------


def kw_mode(ctx: Ctx, args: list[str]) -> None:
    if too_many_args(ctx, args, 1):
        return
    word = arg(args, 1)
    if word == "http":
        ctx.px.mode = Mode.HTTP
    elif word == "tcp":
        ctx.px.mode = Mode.TCP
    elif word == "health":
        raise ConfigError(
            "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead."
        )
    else:
        raise ConfigError(f"unknown proxy mode '{word}'.")


def kw_id(ctx: Ctx, args: list[str]) -> None:
    px = ctx.px
    loc = ctx.loc
    if px.cap & Cap.DEF:
        ctx.diag.alert(
            f"parsing [{loc.file}:{loc.line}]: '{args[0]}' not allowed in 'defaults' section."
        )
        return
    if too_many_args(ctx, args, 1):
        return
    if not arg(args, 1):
        ctx.diag.alert(f"parsing [{loc.file}:{loc.line}]: '{args[0]}' expects an integer argument.")
        return
    px.uuid = parse_int(args[1])
    if px.uuid <= 0:
        ctx.diag.alert(f"parsing [{loc.file}:{loc.line}]: custom id has to be > 0.")
        return
    for other in ctx.config.proxies:
        if other is not px and other.uuid == px.uuid:
            ctx.diag.alert(
                f"parsing [{loc.file}:{loc.line}]: {proxy_type_str(px)} {px.name} reuses same custom id "
                f"as {proxy_type_str(other)} {other.name} (declared at {other.loc.file}:{other.loc.line})."
            )
            return


def kw_description(ctx: Ctx, args: list[str]) -> None:
    loc = ctx.loc
    if ctx.px.cap & Cap.DEF:
        ctx.diag.alert(
            f"parsing [{loc.file}:{loc.line}]: '{args[0]}' not allowed in 'defaults' section."
        )
        return
    if not arg(args, 1):
        ctx.diag.alert(f"parsing [{loc.file}:{loc.line}]: '{args[0]}' expects a string argument.")
        raise BrokenFile  # sic: 2.6 returns -1 here
    ctx.px.description = " ".join(words_from(args, 1))


def kw_monitor_net(ctx: Ctx, args: list[str]) -> None:
    arg = args[1] if len(args) > 1 else ""
    raise ConfigError(
        f"'{args[0]}' doesn't exist anymore. Please use 'http-request return status 200 if "
        f"{{ src {arg} }}' instead."
    )


def kw_disabled(ctx: Ctx, args: list[str]) -> None:
    if too_many_args(ctx, args, 0):
        return
    ctx.px.disabled = args[0] == "disabled"


def kw_default_backend(ctx: Ctx, args: list[str]) -> None:
    warn_if_not_cap(ctx, Cap.FE, args[0])
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects a backend name.")
    ctx.px.default_backend = args[1]
    ctx.px.default_backend_loc = ctx.loc
    too_many_args(ctx, args, 1)


def kw_retries(ctx: Ctx, args: list[str]) -> None:
    warn_if_not_cap(ctx, Cap.BE, args[0])
    if too_many_args(ctx, args, 1):
        return
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects an integer argument (dispatch counts for one).")
    ctx.px.retries = parse_int(args[1])


def kw_int_field(field: str, cap: Cap, hint: str = "") -> object:
    def parser(ctx: Ctx, args: list[str]) -> None:
        warn_if_not_cap(ctx, cap, args[0], hint)
        if not arg(args, 1):
            raise ConfigError(f"'{args[0]}' expects an integer argument.")
        # an unsigned int filled by atol(): a negative value wraps
        setattr(ctx.px, field, parse_int(args[1]) & 0xFFFFFFFF)
        too_many_args(ctx, args, 1)

    return parser


def kw_rate_limit(ctx: Ctx, args: list[str]) -> None:
    """``proxy_parse_rate_limit()``: ``rate-limit sessions <n>`` (spec §2.2)."""
    if arg(args, 1) != "sessions":
        raise ConfigError(f"'{args[0]}' only supports 'sessions' (got '{arg(args, 1)}')")
    text = arg(args, 2)
    if not text:
        raise ConfigError(
            f"'{args[0]} {args[1]}' expects expects an integer value (in sessions/second)"
        )
    value, end = c_strtol(text, base=0)  # strtoul(..., 0)
    if end < len(text):
        raise ConfigError(
            f"'{args[0]} {args[1]}' : unexpected character '{text[end]}' in integer value '{text}'"
        )
    px = ctx.px
    warn = ""
    if not px.cap & Cap.FE:
        warn = (
            f"{args[0]} {args[1]} will be ignored because {proxy_type_str(px)} '{px.name}' "
            "has no frontend capability"
        )
    elif (
        ctx.defaults is not None
        and ctx.defaults is not px
        and px.rate_limit_sessions != ctx.defaults.rate_limit_sessions
    ):
        warn = f"overwriting {args[0]} {args[1]} which was already specified"
    px.rate_limit_sessions = value & 0xFFFFFFFF
    if warn:
        raise ConfigError(warn, Err.WARN)


def kw_balance(ctx: Ctx, args: list[str]) -> None:
    from herdsman.config.balance import parse_balance

    warn_if_not_cap(ctx, Cap.BE, args[0])
    try:
        parse_balance(args[1:], ctx.px.balance)
    except ConfigError as err:
        raise ConfigError(f"{args[0]} {err.message}") from None
    ctx.px.balance.loc = ctx.loc
    if ctx.px.balance.algo == "hash":
        # a sample expression over the stream's content (uri, url_param and
        # hdr() are HTTP mode's, lb/http_keys.py; rdp-cookie is round robin
        # without tcp-request content rules, see there)
        raise ConfigError(
            "'balance hash' is not implemented in herdsman yet (content inspection); "
            "use another algorithm or haproxy."
        )


def kw_hash_type(ctx: Ctx, args: list[str]) -> None:
    bal = ctx.px.balance
    warn_if_not_cap(ctx, Cap.BE, args[0])
    method = arg(args, 1)
    if method == "consistent":
        bal.hash_method = HashMethod.CONSISTENT
    elif method == "map-based":
        bal.hash_method = HashMethod.MAP_BASED
    elif method == "avalanche":
        raise ConfigError(
            f"experimental feature '{args[0]} {args[1]}' is not supported anymore, please use "
            f"'{args[0]} map-based sdbm avalanche' instead."
        )
    else:
        raise ConfigError(f"'{args[0]}' only supports 'consistent' and 'map-based'.")
    fn = arg(args, 2)
    bal.avalanche = False
    if not fn:
        bal.hash_function = "sdbm"
        bal.avalanche = bal.hash_method is HashMethod.CONSISTENT
        return
    if fn not in ("sdbm", "djb2", "wt6", "crc32"):
        raise ConfigError(
            f"'{args[0]}' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions."
        )
    bal.hash_function = fn
    mod = arg(args, 3)
    if mod == "avalanche":
        bal.avalanche = True
    elif mod:
        raise ConfigError(
            f"'{args[0]}' only supports 'avalanche' as a modifier for hash functions."
        )


def kw_hash_balance_factor(ctx: Ctx, args: list[str]) -> None:
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects an integer argument.")
    factor = parse_int(args[1])
    ctx.px.balance.hash_balance_factor = factor
    if factor != 0 and factor <= 100:
        raise ConfigError(f"'{args[0]}' must be 0 or greater than 100.")


_TIMEOUTS: dict[str, tuple[str, Cap]] = {
    "client": ("client", Cap.FE),
    "tarpit": ("tarpit", Cap.FE | Cap.BE),
    "http-keep-alive": ("http_keep_alive", Cap.FE | Cap.BE),
    "http-request": ("http_request", Cap.FE | Cap.BE),
    "server": ("server", Cap.BE),
    "connect": ("connect", Cap.BE),
    "check": ("check", Cap.BE),
    "queue": ("queue", Cap.BE),
    "tunnel": ("tunnel", Cap.BE),
    "client-fin": ("client_fin", Cap.FE),
    "server-fin": ("server_fin", Cap.BE),
}
_OLD_TIMEOUTS = {"clitimeout": "client", "srvtimeout": "server", "contimeout": "connect"}


def kw_timeout(ctx: Ctx, args: list[str]) -> None:
    """``proxy_parse_timeout()``."""
    if args[0] in _OLD_TIMEOUTS:
        raise ConfigError(
            f"the '{args[0]}' directive is not supported anymore since HAProxy 2.1. "
            f"Use 'timeout {_OLD_TIMEOUTS[args[0]]}'."
        )
    args = args[1:]
    name = arg(args, 0)
    if name in _OLD_TIMEOUTS:
        raise ConfigError(
            f"the '{name}' directive is not supported anymore since HAProxy 2.1. "
            f"Use 'timeout {_OLD_TIMEOUTS[name]}'."
        )
    if name not in _TIMEOUTS:
        raise ConfigError(
            "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', "
            "'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and "
            f"'server-fin' (got '{name}')"
        )
    field, cap = _TIMEOUTS[name]
    value = proxy_time_arg(f"timeout {name}", arg(args, 1), warn=ctx.diag.warning)
    px = ctx.px
    warn: str | None = None
    if not px.cap & cap:
        side = "backend" if cap & Cap.BE else "frontend"
        warn = (
            f"'timeout {name}' will be ignored because {proxy_type_str(px)} '{px.name}' "
            f"has no {side} capability"
        )
    elif ctx.defaults is not None and ctx.defaults is not px:
        # HAProxy compares with the defaults' value, not with an earlier line:
        # setting the inherited value again, or twice the same, says nothing.
        inherited = getattr(ctx.defaults.timeouts, field) or 0
        if (getattr(px.timeouts, field) or 0) != inherited:
            warn = f"overwriting 'timeout {name}' which was already specified"
    if arg(args, 2):
        raise ConfigError(
            f"'timeout {name}' : unexpected extra argument '{args[2]}' after value '{args[1]}'."
        )
    setattr(px.timeouts, field, value)
    if warn:
        raise ConfigError(warn, Err.WARN)


def kw_log(ctx: Ctx, args: list[str]) -> None:
    from herdsman.config.log import check_no_log, is_log_global, parse_log

    px = ctx.px
    try:
        if ctx.modifier == "no":
            check_no_log(args)
            px.logs = []
            px.log_global = False
            return
        if is_log_global(args):
            # the global targets are copied where "log global" appears,
            # skipping those already present (parse_logsrv())
            px.log_global = True
            for target in ctx.global_.logs:
                if target not in px.logs:
                    px.logs.append(target)
            return
        px.logs.append(parse_log(args, ctx.loc, env=ctx.env))
    except ConfigError as err:
        raise ConfigError(f"{args[0]} : {err.message}") from None


def kw_log_tag(ctx: Ctx, args: list[str]) -> None:
    from herdsman.config.log import parse_log_tag

    ctx.px.log_tag = parse_log_tag(args, in_global=False)


def kw_option(ctx: Ctx, args: list[str]) -> None:
    from herdsman.config.options import parse_option

    parse_option(ctx, args)


# -- the table -------------------------------------------------------------------


def _kw(name: str, parser: object, sections: tuple[str, ...], doc: str) -> Keyword:
    return Keyword(name, parser, sections, Support.IMPLEMENTED, doc=doc)  # type: ignore[arg-type]


TABLE = Table("proxy")
TABLE.extend(
    [
        _kw("mode", kw_mode, DEF_FE_LS_BE, "`tcp` (default) or `http`"),
        _kw("id", kw_id, FE_LS_BE, "numeric proxy id"),
        _kw("description", kw_description, FE_LS_BE, "free text"),
        _kw("monitor-net", kw_monitor_net, DEF_FE_LS, "removed from HAProxy (error)"),
        _kw("disabled", kw_disabled, DEF_FE_LS_BE, "do not start this proxy"),
        _kw("enabled", kw_disabled, DEF_FE_LS_BE, "cancel an inherited `disabled`"),
        _kw(
            "default_backend",
            kw_default_backend,
            DEF_FE_LS,
            "backend for traffic no rule sent elsewhere",
        ),
        _kw(
            "retries",
            kw_retries,
            DEF_LS_BE,
            "connection retries after a failed connect (N+1 attempts)",
        ),
        _kw(
            "maxconn",
            kw_int_field("maxconn", Cap.FE, " Maybe you want 'fullconn' instead ?"),
            DEF_FE_LS,
            "frontend connection limit: stop accepting beyond it",
        ),
        _kw("backlog", kw_int_field("backlog", Cap.FE), DEF_FE_LS, "listen() backlog"),
        _kw(
            "rate-limit",
            kw_rate_limit,
            DEF_FE_LS_BE,
            "`rate-limit sessions <n>`: stop accepting beyond n sessions per second",
        ),
        _kw(
            "fullconn",
            kw_int_field("fullconn", Cap.BE, " Maybe you want 'maxconn' instead ?"),
            DEF_LS_BE,
            "the backend load at which servers reach their maxconn (dynamic limits, minconn)",
        ),
        _kw(
            "balance",
            kw_balance,
            DEF_LS_BE,
            "roundrobin, static-rr, leastconn, first, source, random; uri, url_param, hdr in HTTP "
            "mode (round robin in TCP mode, as in HAProxy); rdp-cookie (round robin: without "
            "tcp-request rules 2.6 sees a cookie only when it wins a race with the choice); a "
            "POST's url_param is searched in the body bytes that came with its head (2.6 waits "
            "for the body)",
        ),
        _kw(
            "hash-type",
            kw_hash_type,
            DEF_LS_BE,
            "map-based or consistent, sdbm/djb2/wt6/crc32, avalanche",
        ),
        _kw(
            "hash-balance-factor",
            kw_hash_balance_factor,
            DEF_LS_BE,
            "bounded-load consistent hashing",
        ),
        _kw(
            "timeout",
            kw_timeout,
            DEF_FE_LS_BE,
            "connect, client, server, tunnel, client-fin, server-fin, check, queue; "
            "http-request, http-keep-alive, tarpit (HTTP mode only, as in HAProxy)",
        ),
        _kw("clitimeout", kw_timeout, DEF_FE_LS_BE, "removed in HAProxy 2.1 (error)"),
        _kw("srvtimeout", kw_timeout, DEF_FE_LS_BE, "removed in HAProxy 2.1 (error)"),
        _kw("contimeout", kw_timeout, DEF_FE_LS_BE, "removed in HAProxy 2.1 (error)"),
        _kw("option", kw_option, DEF_FE_LS_BE, "see the option table"),
        _kw(
            "log",
            kw_log,
            DEF_FE_LS_BE,
            "log targets for health-check and state-change messages; `log global`, `no log`",
        ),
        _kw("log-tag", kw_log_tag, DEF_FE_LS_BE, "syslog tag for this proxy's messages"),
    ]
)


def _register_checks() -> None:
    from herdsman.config import checks

    for kw in checks.KEYWORDS:
        if " " not in kw.name:
            TABLE.add(kw)


_register_checks()
TABLE.extend(kw_http.PROXY_KEYWORDS)
TABLE.extend(kw_rules.KEYWORDS)
TABLE.extend(kw_persist.KEYWORDS)
TABLE.extend(errfiles.KEYWORDS)
TABLE.extend(kw_stats.PROXY_KEYWORDS)
TABLE.extend(kw_logs.KEYWORDS)
TABLE.extend(kw_statspage.KEYWORDS)
for _row in known.proxy_keywords():
    if _row.name not in TABLE.rows and _row.name.split()[0] not in TABLE.rows:
        TABLE.add(_row)

__all__ = [
    "TABLE",
    "proxy_type_str",
    "warn_if_not_cap",
    "too_many_args",
    "best_match",
    "SECTIONS_PROXY",
    "Timeouts",
    "Balance",
]
