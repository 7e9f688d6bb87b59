"""``server``, ``default-server`` and ``server-template`` lines (spec §1).

Mirrors ``server.c parse_server()``: the name and address come first, then the
proxy's default-server object is copied (as it stands now, spec §1.8), then the
keywords are applied in order; the first fatal keyword error stops the line.
Keyword errors are printed as ``[file:line] : 'server <px>/<name>' : <msg>.``
(``display_parser_err()`` appends the final period, hence HAProxy's ``..``). The
keywords are ``kw_server.py``'s table.
"""

from __future__ import annotations

import copy

from herdsman.config import kw_tls
from herdsman.config.address import parse_address
from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import Ctx, Support, parse_int, proxy_type_str
from herdsman.config.kw_server import KEYWORDS, SrvCtx, SrvKw
from herdsman.config.model import Cap
from herdsman.defs.words import best_match


def _invalid(name: str, allowed: str) -> str | None:
    for ch in name:
        if not (ch.isascii() and (ch.isalnum() or ch in allowed)):
            return ch
    return None


def parse_server_line(ctx: Ctx, args: list[str]) -> None:
    """One ``server``/``default-server``/``server-template`` line."""
    kind = args[0]
    px = ctx.px
    loc = ctx.loc
    a = args + [""] * 4
    is_default = kind == "default-server"
    is_tmpl = kind == "server-template"
    if not is_default and px.cap & Cap.DEF:
        ctx.diag.alert(f"{loc.at}'{kind}' not allowed in 'defaults' section.")
        return
    if not px.cap & Cap.BE:
        ctx.diag.alert(
            f"{loc.at}{loc.parsing}'{kind}' not allowed because {proxy_type_str(px)} "
            f"'{px.name}' has no backend capability."
        )
        return
    low = high = 0
    if is_default:
        srv = px.default_server
        cur = 1
    else:
        if is_tmpl:
            if not a[3]:
                ctx.diag.alert(
                    f"{loc.at}'{kind}' expects <prefix> <nb | range> <addr>[:<port>] as arguments."
                )
                return
            bad = _invalid(a[1], "._-")
            what = "prefix"
        else:
            if not a[2]:
                ctx.diag.alert(f"{loc.at}'{kind}' expects <name> and <addr>[:<port>] as arguments.")
                return
            bad = _invalid(a[1], "._:-")
            what = "name"
        if not a[1]:
            # The offending character is the terminating NUL, which cuts 2.6's
            # message right there, its newline included; Diagnostics always
            # ends a message with one, so only that newline differs.
            ctx.diag.alert(f"{loc.at}character '")
            return
        if bad is not None:
            ctx.diag.alert(f"{loc.at}character '{bad}' is not permitted in {kind} {what} '{a[1]}'.")
            return
        cur = 2
        if is_tmpl:
            rng = _tmpl_range(a[2])
            if rng is None:
                ctx.diag.alert(f"{loc.at}Wrong {kind} number or range arg '{a[2]}'.")
                return
            low, high = rng
            cur = 3
        srv = copy.deepcopy(px.default_server)
        srv.name = a[1] if not is_tmpl else ""
        srv.template = a[1] if is_tmpl else None
        srv.loc = loc
        srv.puid = 0
        srv.puid_loc = None
        srv.keywords = dict(srv.keywords)
        prefix = f"{loc.at}'server {px.name}/{srv.name if not is_tmpl else '(null)'}' : "
        try:
            srv.addr = parse_address(args[cur], "server", env=ctx.env)
        except ConfigError as err:
            ctx.diag.alert(prefix + err.message)
            return
        cur += 1
    prefix = (
        loc.at
        if is_default
        else f"{loc.at}'server {px.name}/{srv.name if not is_tmpl else '(null)'}' : "
    )
    sc = SrvCtx(ctx, srv, px, is_default, prefix)
    hint = " Hint: no address was expected for this server." if is_default else ""
    refused: list[SrvKw] = []
    # An empty word (an undefined "${VAR[*]}") ends the line for _srv_parse_kw()'s loop.
    while cur < len(args) and args[cur]:
        word = args[cur]
        row = KEYWORDS.get(word)
        if row is None:
            best = best_match(word, KEYWORDS)
            if best:
                ctx.diag.alert(
                    f"{prefix}unknown keyword '{word}'; did you mean '{best}' maybe ?{hint}"
                )
            else:
                ctx.diag.alert(f"{prefix}unknown keyword '{word}'.{hint}")
            return
        arg = args[cur + 1] if row.nargs > 0 and cur + 1 < len(args) else ""
        cur += 1 + max(row.nargs, 0)
        if row.parse is None:
            ctx.diag.alert(
                f"{prefix}'{word}' is not supported by herdsman; remove it or use haproxy."
            )
            return
        if is_default and not row.default_ok:
            ctx.diag.alert(
                f"{prefix}'{word}' option is not accepted in default-server sections", Err.ALERT
            )
            continue
        try:
            row.parse(sc, word, arg)
        except kw_tls.Reported:
            return
        except ConfigError as err:
            msg = err.message[:-1] if err.message.endswith("\n") else err.message
            if err.flags & Err.FATAL:
                ctx.diag.alert(f"{prefix}{msg}.", err.flags)
                return
            if err.flags & Err.ALERT:
                ctx.diag.alert(f"{prefix}{msg}.", err.flags)
            else:
                ctx.diag.warning(f"{prefix}{msg}.")
            continue
        srv.keywords[word] = loc
        if row.support is not Support.IMPLEMENTED:
            refused.append(row)
    # _srv_parse_finalize() comes first: when it fails, haproxy's message is
    # all there is to say about the line.
    if not is_default:
        if srv.check and srv.track:
            ctx.diag.alert(f"{prefix}unable to enable checks and tracking at the same time!")
            return
        if srv.agent_check and not srv.agent_port:
            ctx.diag.alert(
                f"{prefix}server {srv.name or '(null)'} does not have agent port. Agent check "
                "has been disabled."
            )
            return
    for row in refused:
        ctx.diag.alert(
            f"{prefix}'{row.name}' is not implemented in herdsman yet ({row.planned_for}); "
            "remove it or use haproxy."
        )
    if is_default or refused:
        return
    if is_tmpl:
        for n in range(low, high + 1):
            inst = copy.deepcopy(srv)
            inst.name = f"{srv.template}{n}"
            if n != low:
                inst.puid = 0
                inst.puid_loc = None
            px.servers.append(inst)
    else:
        px.servers.append(srv)
    if srv.weight == 0:
        ctx.diag.diag(
            f"{prefix}configured with weight of 0 will never be selected by load balancing algorithms"
        )


def _tmpl_range(text: str) -> tuple[int, int] | None:
    """``_srv_parse_tmpl_range()``: "<n>" gives 1..n, "<lo>-<hi>" gives lo..hi."""
    if "-" in text[1:]:
        lo_s, hi_s = text.split("-", 1) if not text.startswith("-") else ("-", text[1:])
        lo, hi = parse_int(lo_s), parse_int(hi_s)
        if lo < 0 or hi < lo or not lo_s.isdigit() or not hi_s.isdigit():
            return None
        return lo, hi
    n = parse_int(text)
    if n <= 0:
        return None
    return 1, n
