"""``option <name>`` keywords (``cfg_opts[]``, ``cfg_opts2[]`` and the special cases
of ``cfg_parse_listen()``), in HAProxy 2.6's order of checks:

1. the boolean options of ``cfg_opts``/``cfg_opts2`` take no argument, warn and
   are ignored in a section without the capability they need, and accept the
   ``no`` and ``default`` modifiers -- but readcfgfile() shifts the words of a
   ``default`` line leaving the last one duplicated, so ``default option X``
   always fails with "cannot handle unexpected argument 'X'" (2.6.12 does that);
2. ``forceclose``, ``http-tunnel`` and ``http_proxy`` are refused with their
   own texts; the HTTP connection modes (``config/kw_http.py``) and
   ``redispatch`` accept ``no``;
3. every other option refuses ``no``/``default``, then is parsed (``tcpka``,
   the check options, ``forwardfor``...), or is unknown, with a suggestion
   taken from HAProxy's candidate list (``known.OPTION_CANDIDATES``).

The HTTP-only options of ``cfg_opts[]``/``cfg_opts2[]`` are marked ``http``:
a TCP proxy clears them with a warning once parsing is over
(``config/httpmode.py``).

Each option also says whether herdsman implements it; a planned or
unsupported one is refused once HAProxy's own checks passed, except when it
is being turned off (``no option X``), which is what herdsman does anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from herdsman.config.diag import ConfigError
from herdsman.config.keywords import Ctx, Keyword, Support, parse_int, warn_if_not_cap
from herdsman.config.known import OPTION_CANDIDATES
from herdsman.config.kw_http import (
    parse_added_header,
    parse_restrict_req_hdr_names,
    set_conn_mode,
)
from herdsman.config.model import Cap, ConnMode
from herdsman.defs.rules import Ruleset, RulesetKind
from herdsman.defs.words import best_match

_FE, _BE, _FEBE = Cap.FE, Cap.BE, Cap.FE | Cap.BE


@dataclass(frozen=True)
class Opt:
    name: str
    cap: Cap
    support: Support
    planned_for: str = ""
    doc: str = ""
    reason: str = ""  # for NO_EFFECT: why it has no effect in herdsman (the notice says it)
    # PR_MODE_HTTP in cfg_opts[]/cfg_opts2[]: set in a TCP proxy with the
    # capability, the option is cleared with a warning (config/httpmode.py)
    http: bool = False


_I, _P, _U = Support.IMPLEMENTED, Support.PLANNED, Support.UNSUPPORTED
LOGS = "traffic log extras"
HTTP = "HTTP mode"
LIMITS = "connection limits and queues"

# cfg_opts[] then cfg_opts2[]: boolean options.
SIMPLE: dict[str, Opt] = {
    o.name: o
    for o in [
        Opt(
            "abortonclose",
            _BE,
            _I,
            doc="a client that closes its side aborts its request while it is queued or "
            "connecting (and, in HTTP, while the server has not answered: 400)",
        ),
        Opt(
            "allbackups", _BE, _I, doc="balance over all usable backup servers, not only the first"
        ),
        Opt("checkcache", _BE, _P, HTTP, http=True),
        Opt("clitcpka", _FE, _I, doc="TCP keep-alive on client connections"),
        Opt("contstats", _FE, _P, LOGS),
        Opt(
            "dontlognull",
            _FE,
            _I,
            doc="no traffic log for a connection that sent nothing",
        ),
        Opt(
            "http-buffer-request",
            _FEBE,
            _I,
            doc="wait for the whole request body (up to a buffer) before choosing a server",
            http=True,
        ),
        Opt(
            "http-ignore-probes",
            _FE,
            _I,
            doc="no 408 or 400 and no log for a new connection that times out or closes before sending anything",
            http=True,
        ),
        Opt(
            "idle-close-on-response",
            _FE,
            _I,
            doc="on soft-stop, idle client connections stay until one more response (with a close)",
            http=True,
        ),
        Opt(
            "prefer-last-server",
            _BE,
            _I,
            doc="a keep-alive client's next request prefers the server of the last one",
            http=True,
        ),
        Opt("logasap", _FE, _P, LOGS),
        Opt(
            "nolinger", _FEBE, _I, doc="close connections with a reset instead of a graceful close"
        ),
        Opt("persist", _BE, _I, doc="a persistence cookie naming a DOWN server is followed"),
        Opt("srvtcpka", _BE, _I, doc="TCP keep-alive on server connections"),
        Opt("transparent", _BE, _U),
        Opt("splice-request", _FEBE, _U),
        Opt("splice-response", _FEBE, _U),
        Opt("splice-auto", _FEBE, _U),
        Opt(
            "accept-invalid-http-request",
            _FE,
            _I,
            doc="relax the request checks as HAProxy does (invalid characters...)",
            http=True,
        ),
        Opt(
            "accept-invalid-http-response",
            _BE,
            _I,
            doc="relax the response checks as HAProxy does",
            http=True,
        ),
        Opt("dontlog-normal", _FE, _I, doc="traffic logs only for errors, retries, 5xx"),
        Opt(
            "log-separate-errors",
            _FE,
            _I,
            doc="traffic logs of errors, retries and 5xx at level err instead of info",
        ),
        Opt("log-health-checks", _BE, _I, doc="log every change of a check's status or health"),
        Opt("socket-stats", _FE, _P, LOGS),
        Opt("tcp-smart-accept", _FE, _U),
        Opt("tcp-smart-connect", _BE, _U),
        Opt(
            "independent-streams",
            _FEBE,
            _I,
            doc="a side's timeout is refreshed only by reads on it",
        ),
        Opt("http-use-proxy-header", _FE, _P, HTTP, http=True),
        Opt(
            "http-pretend-keepalive",
            _BE,
            _I,
            doc="with a closing mode, do not announce the close to the server",
            http=True,
        ),
        Opt(
            "http-no-delay",
            _FEBE,
            Support.NO_EFFECT,
            reason="herdsman always sends at once: TCP_NODELAY, never MSG_MORE",
            http=True,
        ),
        # TCP mode too since 2.6.x (a9e934bbd): a TCP frontend may be upgraded
        Opt("h1-case-adjust-bogus-client", _FE, _P, HTTP),
        Opt("h1-case-adjust-bogus-server", _BE, _P, HTTP),
        Opt("disable-h2-upgrade", _FE, _P, HTTP, http=True),
    ]
}

# The HTTP connection modes: exclusive, "no" only cancels the current one.
HTTP_MODES: dict[str, Opt] = {
    o.name: o
    for o in [
        Opt("httpclose", _FEBE, _I, doc="close both connections after each response"),
        Opt(
            "http-server-close",
            _FEBE,
            _I,
            doc="keep the client connection alive, close the server one after each response",
        ),
        Opt("http-keep-alive", _FEBE, _I, doc="keep both connections alive (the default)"),
    ]
}

# Options with arguments or special handling.
OTHER: dict[str, Opt] = {
    o.name: o
    for o in [
        Opt("redispatch", _BE, _I, doc="`option redispatch [<interval>]`: retry on another server"),
        Opt("tcpka", _FEBE, _I, doc="TCP keep-alive on both sides"),
        Opt("tcplog", _FE, _I, doc="a traffic log line per connection (HAProxy's TCP format)"),
        Opt(
            "httplog",
            _FE,
            _I,
            doc="a traffic log line per request (HAProxy's HTTP format); `clf`: the Common "
            "Log Format",
        ),
        Opt("httpslog", _FE, _P, "TLS"),
        Opt(
            "forwardfor",
            _FEBE,
            _I,
            doc="`[except <network>] [header <name>] [if-none]`: the client's address in a header",
        ),
        Opt(
            "originalto",
            _FEBE,
            _I,
            doc="`[except <network>] [header <name>]`: the original destination in a header",
        ),
        Opt(
            "http-restrict-req-hdr-names",
            _FEBE,
            _I,
            doc="`preserve` (default), `delete` or `reject` header names outside `[A-Za-z0-9-]`",
        ),
        Opt("redis-check", _BE, _I, doc="Redis check: `PING`, expects `+PONG` (docs/checks.md)"),
        Opt(
            "mysql-check",
            _BE,
            _I,
            doc="MySQL/MariaDB check: optional `user <name>`, then `post-41` (default) or "
            "`pre-41` (docs/checks.md)",
        ),
        Opt("pgsql-check", _BE, _I, doc="PostgreSQL check: `user <name>` (docs/checks.md)"),
        Opt(
            "smtpchk",
            _BE,
            _I,
            doc="SMTP check: optional `HELO <domain>` or `EHLO <domain>` (docs/checks.md)",
        ),
        Opt("ldap-check", _BE, _I, doc="LDAPv3 check: an anonymous bind (docs/checks.md)"),
        Opt("ssl-hello-chk", _BE, _I, doc="SSLv3 ClientHello check (docs/checks.md)"),
        Opt("spop-check", _BE, _I, doc="SPOE agent check: HAPROXY-HELLO (docs/checks.md)"),
        Opt(
            "external-check",
            _BE,
            _I,
            doc="run `external-check command` per check (needs global `external-check`)",
        ),
        Opt("httpchk", _BE, _I, doc="HTTP health checks (see http-check)"),
        Opt("tcp-check", _BE, _I, doc="scripted health checks (see tcp-check)"),
    ]
}

REMOVED = {
    "forceclose": "option 'forceclose' is not supported any more since HAProxy 2.0, please just "
    "remove it, or use 'option httpclose' if absolutely needed.",
    "http-tunnel": "option 'http-tunnel' is not supported any more since HAProxy 2.1, please "
    "just remove it, it shouldn't be needed.",
    "http_proxy": "option 'http_proxy' is not supported any more since HAProxy 2.5. This option "
    "stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably "
    "implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and "
    "even 'http-request do-resolve' if DNS resolution is desired.",
}


def _refuse(opt: Opt) -> ConfigError:
    if opt.support is Support.PLANNED:
        return ConfigError(
            f"'option {opt.name}' is not implemented in herdsman yet ({opt.planned_for}); "
            "remove it or use haproxy."
        )
    return ConfigError(
        f"'option {opt.name}' is not supported by herdsman; remove it or use haproxy."
    )


def _not_cap(ctx: Ctx, opt: Opt) -> bool:
    return warn_if_not_cap(ctx, opt.cap, opt.name)


def _too_many(args: list[str]) -> ConfigError | None:
    """``alertif_too_many_args_idx(0, 1)``: ``option <name>`` takes nothing more."""
    if len(args) > 2 and args[2]:
        return ConfigError(f"'{args[0]} {args[1]}' cannot handle unexpected argument '{args[2]}'.")
    return None


def parse_option(ctx: Ctx, args: list[str]) -> None:
    """``option ...`` with ``ctx.modifier`` set by a ``no``/``default`` prefix."""
    loc = ctx.loc
    px = ctx.px
    kwm = ctx.modifier
    name = args[1] if len(args) > 1 else ""
    if not name:
        ctx.diag.alert(f"parsing [{loc.file}:{loc.line}]: '{args[0]}' expects an option name.")
        return
    if name in SIMPLE:
        opt = SIMPLE[name]
        err = _too_many(args)
        if err is not None:
            raise err
        if _not_cap(ctx, opt):
            return
        _set(ctx, name)
        if opt.support is Support.NO_EFFECT:
            if kwm != "no":
                ctx.diag.notice(
                    f"{loc.parsing}'option {name}' has no effect in herdsman ({opt.reason})."
                )
        elif opt.support is not Support.IMPLEMENTED and kwm != "no":
            raise _refuse(opt)
        return
    if name == "forceclose" or name == "http-tunnel":
        ctx.diag.alert(f"parsing [{loc.file}:{loc.line}]: {REMOVED[name]}")
        return
    if name in HTTP_MODES:
        err = _too_many(args)
        if err is not None:
            raise err
        if kwm != "default":
            set_conn_mode(ctx, ConnMode(name))
            return
    if name == "redispatch":
        if _not_cap(ctx, OTHER[name]):
            return
        if kwm == "no":
            px.redispatch = None
            px.options["redispatch"] = False
        elif kwm == "default":
            px.redispatch = None
            px.options.pop("redispatch", None)
        else:
            px.redispatch = parse_int(args[2]) if len(args) > 2 and args[2] else -1
            px.options["redispatch"] = True
        return
    if name == "http_proxy":
        ctx.diag.alert(f"parsing [{loc.file}:{loc.line}]: {REMOVED[name]}")
        return
    if kwm:
        ctx.diag.alert(
            f"parsing [{loc.file}:{loc.line}]: negation/default is not supported for option '{name}'."
        )
        return
    if name == "tcpka":
        # The same flags as clitcpka/srvtcpka, for the sides the section has.
        err = _too_many(args)
        if err is not None:
            raise err
        if px.cap & Cap.FE:
            px.options["clitcpka"] = True
        if px.cap & Cap.BE:
            px.options["srvtcpka"] = True
        return
    if name in ("httpchk", "tcp-check"):
        from herdsman.config import checks

        for kw in checks.KEYWORDS:
            if kw.name == f"option {name}" and kw.parser is not None:
                kw.parser(ctx, args)
                return
    if name == "external-check":
        # proxy_parse_external_check_opt(): selected first, no capability check
        ctx.px.checks = Ruleset(RulesetKind.EXTERNAL, name="*external-check")
        err = _too_many(args)
        if err is not None:
            raise err
        return
    from herdsman.config import proto_checks

    if name in proto_checks.PARSERS:
        proto_checks.parse_protocol_option(ctx, args)
        return
    if name in ("tcplog", "httplog"):
        from herdsman.config.kw_logs import parse_log_option

        parse_log_option(ctx, args)
        return
    if name in ("forwardfor", "originalto"):
        parse_added_header(ctx, args)
        return
    if name == "http-restrict-req-hdr-names":
        parse_restrict_req_hdr_names(ctx, args)
        return
    if name in OTHER:
        opt = OTHER[name]
        if _not_cap(ctx, opt):
            return
        raise _refuse(opt)
    best = best_match(name, OPTION_CANDIDATES)
    if best:
        raise ConfigError(f"unknown option '{name}'; did you mean '{best}' maybe ?")
    raise ConfigError(f"unknown option '{name}'.")


def _set(ctx: Ctx, name: str) -> None:
    if ctx.modifier == "no":
        ctx.px.options[name] = False
    elif ctx.modifier == "default":
        ctx.px.options.pop(name, None)
    else:
        ctx.px.options[name] = True


def option_rows() -> list[Keyword]:
    """Rows for docs/configuration.md."""
    rows = []
    for opt in [*SIMPLE.values(), *HTTP_MODES.values(), *OTHER.values()]:
        rows.append(
            Keyword(
                f"option {opt.name}",
                None,
                tuple(
                    s
                    for s, c in (
                        ("defaults", Cap.DEF),
                        ("frontend", Cap.FE),
                        ("listen", Cap.LISTEN),
                        ("backend", Cap.BE),
                    )
                    if c & opt.cap or s in ("defaults", "listen")
                ),
                opt.support,
                opt.planned_for,
                opt.doc,
                opt.reason,
            )
        )
    return rows


def all_options() -> dict[str, Opt]:
    """Every option herdsman knows, by name (tests iterate over it)."""
    return {**SIMPLE, **HTTP_MODES, **OTHER}
