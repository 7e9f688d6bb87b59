"""Rule keywords of proxies: ``acl``, ``http-request``, ``http-response``,
``http-after-response``, ``tcp-request``, ``tcp-response``, ``use_backend``,
``use-server``, ``force-persist``/``ignore-persist``, ``redirect``,
``monitor fail``, ``capture`` and ``declare capture``.

The rules themselves are parsed and compiled by ``herdsman.rules`` (the
``ParseEnv`` built here says where a line is); this module adds what
``cfgparse-listen.c`` and ``tcp_rules.c`` do around them in 2.6: the
section checks, the "misplaced rule" warnings, the condition-conflict
warnings (``warnif_cond_conflicts()``), and the framing and severity of
each message (http rules abandon the file, ``ERR_ABORT``; the others are
fatal).
"""

from __future__ import annotations

from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import (
    Ctx,
    Keyword,
    Support,
    arg,
    proxy_type_str,
    too_many_args,
    warn_if_not_cap,
)
from herdsman.config.model import Cap, ProxyConfig
from herdsman.config.model import Capture as LogCapture
from herdsman.config.units import UnitError, parse_time
from herdsman.http.errorfile import ErrorfileError
from herdsman.http.errors import Reply, load_reply
from herdsman.rules.http_actions import parse_http_rule
from herdsman.rules.model import (
    Capture,
    PersistRule,
    Routing,
    Rule,
    ServerRule,
    SwitchingRule,
)
from herdsman.rules.parsing import ParseEnv, RuleError
from herdsman.rules.redirect import parse_redirect, redirect_action
from herdsman.rules.tcp_actions import parse_tcp_rule
from herdsman.sample import registry as R
from herdsman.sample.acl import AclContext, AclError, invalid_char, parse_acl
from herdsman.sample.cond import Condition, conflicts, full_conflict

_FE = ("defaults", "frontend", "listen")
_BE = ("defaults", "listen", "backend")
_ALL = ("defaults", "frontend", "listen", "backend")


def rule_env(ctx: Ctx) -> ParseEnv:
    """The ``ParseEnv`` of the current line."""
    px = ctx.px
    r = px.routing
    loc = ctx.loc
    g = ctx.global_

    def load_errorfile(path: str) -> Reply | None:
        from herdsman.config.errfiles import read_errorfile

        try:
            return load_reply(read_errorfile(ctx, path))
        except ConfigError as err:
            raise RuleError(err.message.rstrip(".")) from None
        except ErrorfileError as err:
            raise RuleError(f"'{path}': {err}") from None

    return ParseEnv(
        proxy=px.name,
        kind=px.kind,
        file=loc.file,
        line=loc.line,
        acls=r.acls,
        refs=r.refs,
        files=ctx.config.pattern_files,
        warn=ctx.warn,
        load_errorfile=load_errorfile,
        bufsize=g.tune_bufsize,
        maxrewrite=g.tune_maxrewrite,
        captures=r.captures,  # type: ignore[arg-type]
        conds=r.conds,
        warn_raw=ctx.diag.warning,
    )


def cond_warnings(ctx: Ctx, cond: Condition | None, where: int) -> None:
    """``warnif_cond_conflicts()``."""
    if cond is None:
        return
    place = R.ckp_name(where)
    acl = full_conflict(cond, where)
    if acl is not None:
        if acl.name:
            ctx.warn(
                f"acl '{acl.name}' will never match because it only involves keywords that are "
                f"incompatible with '{place}'"
            )
        else:
            ctx.warn(
                f"anonymous acl will never match because it uses keyword '{acl.exprs[0].kw}' "
                f"which is incompatible with '{place}'"
            )
        return
    found = conflicts(cond, where)
    if found is None:
        return
    acl, kw = found
    if acl.name:
        ctx.warn(f"acl '{acl.name}' involves keywords '{kw}' which is incompatible with '{place}'")
    else:
        ctx.warn(f"anonymous acl involves keyword '{kw}' which is incompatible with '{place}'")


# -- misplaced rules (cfgparse-listen.c warnif_misplaced_*()) ----------------------------

_AFTER = {
    "tcp_sess": "a 'tcp-request session' rule",
    "tcp_req": "a 'tcp-request content' rule",
    "monitor_fail": "a 'monitor fail' rule",
    "http_req": "an 'http-request' rule",
    "redirects": "a 'redirect' rule",
    "switching": "a 'use_backend' rule",
    "servers": "a 'use-server' rule",
}
# each rule kind and the lists checked, in HAProxy's order (the first warning wins)
_CHAIN = ("tcp_sess", "tcp_req", "monitor_fail", "http_req", "redirects", "switching", "servers")
_STARTS = {
    "tcp-request connection": 0,
    "tcp-request session": 1,
    "tcp-request content": 2,
    "monitor fail": 3,
    "http-request": 4,
    "redirect": 5,
}


def warn_misplaced(ctx: Ctx, kind: str, word: str) -> None:
    r = ctx.px.routing
    for name in _CHAIN[_STARTS[kind] :]:
        if getattr(r, name):
            ctx.warn(f"a '{word}' rule placed after {_AFTER[name]} will still be processed before.")
            return


# -- acl ------------------------------------------------------------------------------------


def _anonymous_defaults(ctx: Ctx, word: str) -> bool:
    px = ctx.px
    if px.cap & Cap.DEF and not px.name:
        ctx.alert(f"'{word}' not allowed in anonymous 'defaults' section.")
        return True
    return False


def kw_acl(ctx: Ctx, args: list[str]) -> None:
    if _anonymous_defaults(ctx, args[0]):
        return
    name = arg(args, 1)
    bad = invalid_char(name)
    if bad is not None:
        raise ConfigError(f"character '{bad}' is not permitted in acl name '{name}'.")
    if name.lower() == "or":
        raise ConfigError(
            f"acl name '{name}' will never match. 'or' is used to express a logical disjunction "
            "within a condition."
        )
    env = rule_env(ctx)
    actx = AclContext(env.compiler())
    try:
        parse_acl(args[1:], ctx.px.routing.acls, actx)
    except AclError as err:
        raise ConfigError(f"error detected while parsing ACL '{name}' : {err.message}.") from None
    finally:
        for text in actx.warnings:
            ctx.diag.warning(text)


# -- http rules -----------------------------------------------------------------------------

_HTTP = {
    "http-request": ("request", "http_req", R.FE_HRQ_HDR, R.BE_HRQ_HDR),
    "http-response": ("response", "http_res", R.FE_HRS_HDR, R.BE_HRS_HDR),
    "http-after-response": ("after-response", "http_after", R.FE_HRS_HDR, R.BE_HRS_HDR),
}


def kw_http_rule(ctx: Ctx, args: list[str]) -> None:
    word = args[0]
    if _anonymous_defaults(ctx, word):
        return
    which, field, fe_where, be_where = _HTTP[word]
    rules: list[Rule] = getattr(ctx.px.routing, field)
    if rules and rules[-1].cond is None and rules[-1].final:
        ctx.diag.warning(
            f"parsing [{ctx.loc.file}:{ctx.loc.line}]: previous '{word}' action is final and "
            "has no condition attached, further entries are NOOP."
        )
    env = rule_env(ctx)
    try:
        rule = parse_http_rule(which, args[1:], env)
    except RuleError as err:
        ctx.diag.alert(
            f"parsing [{ctx.loc.file}:{ctx.loc.line}]{err.message}", Err.ALERT | Err.ABORT
        )
        return
    if word == "http-request":
        warn_misplaced(ctx, word, word)
    px = ctx.px
    cond_warnings(
        ctx, rule.cond, (fe_where if px.cap & Cap.FE else 0) | (be_where if px.cap & Cap.BE else 0)
    )
    rules.append(rule)


# -- tcp rules (tcp_rules.c) ----------------------------------------------------------------


def _delay(ctx: Ctx, args: list[str]) -> int:
    text = arg(args, 2)
    px = ctx.px
    base = (
        f"'{args[0]} {args[1]}' expects a positive delay in milliseconds, in "
        f"{proxy_type_str(px)} '{px.name}'"
    )
    if not text:
        raise ConfigError(base)
    try:
        return parse_time(text)
    except UnitError as err:
        if err.kind == "overflow":
            base += f" (timer overflow in '{text}', maximum value is 2147483647 ms or ~24.8 days)"
        elif err.kind == "underflow":
            base += f" (timer underflow in '{text}', minimum non-null value is 1 ms)"
        elif err.char:
            base += f" (unexpected character '{err.char}')"
        raise ConfigError(base) from None


def kw_tcp_request(ctx: Ctx, args: list[str]) -> None:
    px = ctx.px
    r = px.routing
    defaults = bool(px.cap & Cap.DEF)
    where_px = "defaults section" if defaults else f"{proxy_type_str(px)} '{px.name}'"
    which = arg(args, 1)
    if not which:
        raise ConfigError(f"missing argument for '{args[0]}' in {where_px}")
    if which == "inspect-delay":
        if defaults and not px.name:
            raise ConfigError(f"{args[0]} {which} is not allowed in anonymous 'defaults' sections")
        delay = _delay(ctx, args)
        if r.tcp_req_delay:
            raise ConfigError(
                f"ignoring {args[0]} {which} (was already defined) in {proxy_type_str(px)} "
                f"'{px.name}'",
                Err.WARN,
            )
        r.tcp_req_delay = delay
        return
    if which not in ("content", "connection", "session"):
        raise ConfigError(
            f"'{args[0]}' expects 'inspect-delay', 'connection', or 'content' in {where_px} "
            f"(got '{which}')"
        )
    if which != "content" and not px.cap & Cap.FE:
        raise ConfigError(
            f"{args[0]} {which} is not allowed because {proxy_type_str(px)} {px.name} is not a "
            "frontend"
        )
    _tcp_rule(ctx, args, which)


def kw_tcp_response(ctx: Ctx, args: list[str]) -> None:
    px = ctx.px
    r = px.routing
    which = arg(args, 1)
    if not which:
        raise ConfigError(f"missing argument for '{args[0]}' in {proxy_type_str(px)} '{px.name}'")
    if which in ("inspect-delay", "content") and (
        (px.cap & Cap.DEF and not px.name) or not px.cap & Cap.BE
    ):
        raise ConfigError(
            f"{args[0]} {which} is only allowed in 'backend' sections or 'defaults' section "
            "with a name"
        )
    if which == "inspect-delay":
        delay = _delay(ctx, args)
        if r.tcp_res_delay:
            raise ConfigError(
                f"ignoring {args[0]} {which} (was already defined) in {proxy_type_str(px)} "
                f"'{px.name}'",
                Err.WARN,
            )
        r.tcp_res_delay = delay
        return
    if which != "content":
        raise ConfigError(
            f"'{args[0]}' expects 'inspect-delay' or 'content' in {proxy_type_str(px)} "
            f"'{px.name}' (got '{which}')"
        )
    _tcp_rule(ctx, args, which)


_TCP_LISTS = {
    ("tcp-request", "connection"): ("tcp_conn", R.FE_CON_ACC, 0),
    ("tcp-request", "session"): ("tcp_sess", R.FE_SES_ACC, 0),
    ("tcp-request", "content"): ("tcp_req", R.FE_REQ_CNT, R.BE_REQ_CNT),
    ("tcp-response", "content"): ("tcp_res", R.FE_RES_CNT, R.BE_RES_CNT),
}


def _tcp_rule(ctx: Ctx, args: list[str], which: str) -> None:
    px = ctx.px
    field, fe_where, be_where = _TCP_LISTS[(args[0], which)]
    if args[0] == "tcp-response":
        where = be_where if px.cap & Cap.BE else 0
    else:
        where = (fe_where if px.cap & Cap.FE else 0) | (be_where if px.cap & Cap.BE else 0)
    if args[0] == "tcp-request" and px.cap & Cap.DEF and not px.name:
        raise ConfigError(f"{args[0]} {which} is not allowed in anonymous 'defaults' sections")
    env = rule_env(ctx)
    try:
        rule = parse_tcp_rule(args[0], which, args[2:], env)
    except RuleError as err:
        raise ConfigError(err.message) from None
    _tcp_cond_warning(ctx, args, which, rule.cond, where)
    if args[0] == "tcp-request":
        warn_misplaced(ctx, f"tcp-request {which}", args[0])
    getattr(px.routing, field).append(rule)


def _tcp_cond_warning(
    ctx: Ctx, args: list[str], which: str, cond: Condition | None, where: int
) -> None:
    """tcp_rules.c's own wording of the condition conflicts (a warning)."""
    if cond is None:
        return
    place = R.ckp_name(where)
    acl = full_conflict(cond, where)
    if acl is not None:
        if acl.name:
            text = (
                f"acl '{acl.name}' will never match in '{args[0]} {which}' because it only "
                f"involves keywords that are incompatible with '{place}'"
            )
        else:
            text = (
                f"anonymous acl will never match in '{args[0]} {which}' because it uses keyword "
                f"'{acl.exprs[0].kw}' which is incompatible with '{place}'"
            )
        ctx.warn(text)
        return
    found = conflicts(cond, where)
    if found is not None:
        acl, kw = found
        who = f"acl '{acl.name}'" if acl.name else "anonymous acl"
        ctx.warn(f"{who} involves keyword '{kw}' which is incompatible with '{place}'")


# -- switching and persistence rules ----------------------------------------------------------


def _not_in_defaults(ctx: Ctx, word: str) -> None:
    if ctx.px.cap & Cap.DEF:
        raise ConfigError(f"'{word}' not allowed in 'defaults' section.")


def kw_use_backend(ctx: Ctx, args: list[str]) -> None:
    _not_in_defaults(ctx, args[0])
    warn_if_not_cap(ctx, Cap.FE, args[0])
    name = arg(args, 1)
    if not name:
        raise ConfigError(f"'{args[0]}' expects a backend name.")
    cond = None
    if arg(args, 2) in ("if", "unless"):
        try:
            cond = rule_env(ctx).condition(args[2:])
        except AclError as err:
            raise ConfigError(
                f"error detected while parsing switching rule : {err.message}."
            ) from None
        cond_warnings(ctx, cond, R.FE_SET_BCK)
    elif arg(args, 2):
        raise ConfigError(
            f"unexpected keyword '{args[2]}' after switching rule, only 'if' and 'unless' are "
            "allowed."
        )
    ctx.px.routing.switching.append(
        SwitchingRule(name, cond, None, None, ctx.loc.file, ctx.loc.line)
    )


def kw_use_server(ctx: Ctx, args: list[str]) -> None:
    _not_in_defaults(ctx, args[0])
    warn_if_not_cap(ctx, Cap.BE, args[0])
    name = arg(args, 1)
    if not name:
        raise ConfigError(f"'{args[0]}' expects a server name.")
    if arg(args, 2) not in ("if", "unless"):
        raise ConfigError(f"'{args[0]}' requires either 'if' or 'unless' followed by a condition.")
    try:
        cond = rule_env(ctx).condition(args[2:])
    except AclError as err:
        raise ConfigError(f"error detected while parsing switching rule : {err.message}.") from None
    cond_warnings(ctx, cond, R.BE_SET_SRV)
    ctx.px.routing.servers.append(ServerRule(name, cond, None, ctx.loc.file, ctx.loc.line))


def kw_persist_rule(ctx: Ctx, args: list[str]) -> None:
    _not_in_defaults(ctx, args[0])
    warn_if_not_cap(ctx, Cap.BE, args[0])
    if arg(args, 1) not in ("if", "unless"):
        raise ConfigError(f"'{args[0]}' requires either 'if' or 'unless' followed by a condition.")
    try:
        cond = rule_env(ctx).condition(args[1:])
    except AclError as err:
        raise ConfigError(
            f"error detected while parsing a '{args[0]}' rule : {err.message}."
        ) from None
    cond_warnings(ctx, cond, R.BE_REQ_CNT)
    ctx.px.routing.persist.append(PersistRule(args[0] == "force-persist", cond))


def kw_redirect(ctx: Ctx, args: list[str]) -> None:
    _not_in_defaults(ctx, args[0])
    px = ctx.px
    env = rule_env(ctx)
    try:
        spec = parse_redirect(args[1:], env, use_fmt=False, response=False)
    except (RuleError, AclError) as err:
        raise ConfigError(
            f"error detected in {proxy_type_str(px)} '{px.name}' while parsing redirect rule : "
            f"{err.message}."
        ) from None
    px.routing.redirects.append(
        Rule("redirect", redirect_action(spec), spec.cond, True, ctx.loc.file, ctx.loc.line)
    )
    warn_misplaced(ctx, "redirect", args[0])
    where = (R.FE_HRQ_HDR if px.cap & Cap.FE else 0) | (R.BE_HRQ_HDR if px.cap & Cap.BE else 0)
    cond_warnings(ctx, spec.cond, where)


def kw_monitor(ctx: Ctx, args: list[str]) -> None:
    _not_in_defaults(ctx, args[0])
    warn_if_not_cap(ctx, Cap.FE, args[0])
    if arg(args, 1) != "fail":
        raise ConfigError(f"'{args[0]}' only supports 'fail'.")
    if arg(args, 2) not in ("if", "unless"):
        raise ConfigError(
            f"'{args[0]} {args[1]}' requires either 'if' or 'unless' followed by a condition."
        )
    warn_misplaced(ctx, "monitor fail", "monitor fail")
    try:
        cond = rule_env(ctx).condition(args[2:])
    except AclError as err:
        raise ConfigError(
            f"error detected while parsing a '{args[0]} {args[1]}' condition : {err.message}."
        ) from None
    ctx.px.routing.monitor_fail.append(cond)


# -- captures -------------------------------------------------------------------------------


def kw_capture(ctx: Ctx, args: list[str]) -> None:
    warn_if_not_cap(ctx, Cap.FE, args[0])
    what = arg(args, 1)
    px = ctx.px
    if what == "cookie":
        if px.cap & Cap.DEF:
            raise ConfigError(f"'{args[0]} {what}' not allowed in 'defaults' section.")
        extra = too_many_args(args, 4, 1)  # as 2.6 counts: a 6th word passes, a 7th not
        if extra is not None:
            ctx.alert(extra)
            return
        if not arg(args, 4):  # 2.6 does not check the word "len" itself
            raise ConfigError(f"'{args[0]}' expects 'cookie' <cookie_name> 'len' <len>.")
        from herdsman.config.keywords import parse_int

        px.capture_cookie = (args[2], parse_int(args[4]))
        return
    if (what, arg(args, 2)) not in (("request", "header"), ("response", "header")):
        raise ConfigError(f"'{args[0]}' expects 'cookie' or 'request header' or 'response header'.")
    if px.cap & Cap.DEF:
        raise ConfigError(f"'{args[0]} {what}' not allowed in 'defaults' section.")
    extra = too_many_args(args, 4, 1)
    if extra is not None:
        ctx.alert(extra)
        return
    if not arg(args, 3) or arg(args, 4) != "len" or not arg(args, 5):
        raise ConfigError(f"'{args[0]} {what}' expects 'header' <header_name> 'len' <len>.")
    from herdsman.config.keywords import parse_int

    px.routing.captures.append(Capture(parse_int(args[5]), what == "response", args[3]))


def kw_declare(ctx: Ctx, args: list[str]) -> None:
    """``declare capture request|response len <n>`` (``proxy.c proxy_parse_declare()``)."""
    px = ctx.px
    a0, a1 = args[0], arg(args, 1)
    if px.cap & Cap.DEF:
        raise ConfigError(f"'{a0}' not available in default section")
    if not px.cap & Cap.FE:
        raise ConfigError(f"'{a0}' only available in frontend or listen section")
    if not a1:
        raise ConfigError(
            f"'{a0}' needs a second keyword that specify the type of declaration ('capture')"
        )
    if a1 != "capture":
        raise ConfigError(f"unknown declaration type '{a1}' (supports 'capture')")
    what = arg(args, 2)
    if what not in ("request", "response"):
        raise ConfigError(f"'{a0} {a1}' requires a direction ('request' or 'response')")
    if arg(args, 3) != "len":
        raise ConfigError(f"'{a0} {a1}' requires a capture length ('len')")
    text = arg(args, 4)
    if not text:
        raise ConfigError(
            f"'{a0} {a1}': 'len' requires a numeric value that represents the capture length"
        )
    from herdsman.config.units import c_strtol

    length, end = c_strtol(text)
    if end < len(text):
        raise ConfigError(f"'{a0} {a1}': cannot parse the length '{args[3]}'.")  # sic
    if length <= 0:
        raise ConfigError("length must be > 0")
    px.routing.captures.append(Capture(length, what == "response"))


def _kw(name: str, parser: object, sections: tuple[str, ...], doc: str) -> Keyword:
    return Keyword(name, parser, sections, Support.IMPLEMENTED, doc=doc)  # type: ignore[arg-type]


KEYWORDS = [
    _kw("acl", kw_acl, _ALL, "named ACL (section 7 of HAProxy's manual; docs/routing.md)"),
    _kw("http-request", kw_http_rule, _ALL, "request rules (docs/routing.md lists the actions)"),
    _kw("http-response", kw_http_rule, _ALL, "response rules"),
    _kw("http-after-response", kw_http_rule, _ALL, "rules on every response, own replies too"),
    _kw("tcp-request", kw_tcp_request, _ALL, "connection, session and content rules"),
    _kw("tcp-response", kw_tcp_response, _BE, "response content rules"),
    _kw("use_backend", kw_use_backend, ("frontend", "listen"), "switching rule, `if`/`unless`"),
    _kw("use-server", kw_use_server, ("listen", "backend"), "server rule, `if`/`unless`"),
    _kw("force-persist", kw_persist_rule, ("frontend", "listen", "backend"), "use a DOWN server"),
    _kw("ignore-persist", kw_persist_rule, ("frontend", "listen", "backend"), "ignore cookies"),
    _kw("redirect", kw_redirect, ("frontend", "listen", "backend"), "legacy redirect rules"),
    _kw("monitor", kw_monitor, ("frontend", "listen"), "`monitor fail if|unless <cond>`"),
    _kw(
        "capture", kw_capture, ("frontend", "listen"), "request/response header and cookie captures"
    ),
    _kw("declare", kw_declare, ("frontend", "listen"), "`declare capture` slots"),
]


def finish(px: ProxyConfig) -> None:
    """Once the configuration is read: every condition sees its ACLs' final
    expressions."""
    for cond in px.routing.conds:
        cond.recompile()
    # every capture slot, in declaration order, is a field of %hr/%hs (nb_req_cap):
    # header captures are filled by the log itself (proxy/http_log.py), the other
    # slots from the rules' transaction
    px.capture_req = [
        LogCapture((c.header or "").lower(), c.length)
        for c in px.routing.captures
        if isinstance(c, Capture) and not c.response
    ]
    px.capture_rsp = [
        LogCapture((c.header or "").lower(), c.length)
        for c in px.routing.captures
        if isinstance(c, Capture) and c.response
    ]


__all__ = ["KEYWORDS", "Routing", "finish", "rule_env"]
