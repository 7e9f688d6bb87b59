"""Post-parse checks of the routing keywords (``cfgparse.c check_config_validity()``,
``sample.c smp_resolve_args()``, ``action.c check_trk_action()``,
``acl.c acl_find_targets()``, ``auth.c userlist_postinit()``), in 2.6's order
and words.

Names written in expressions and rules are resolved here to the objects of
the configuration (``Ref.target``: a ``ProxyConfig``, a ``ServerConfig``, a
``TableSpec``, a ``Userlist``); the runtime binds them to its own objects when
it starts (``proxy/routing.py``).
"""

from __future__ import annotations

import dataclasses

from herdsman.config import httpmode
from herdsman.config.diag import Diagnostics
from herdsman.config.keywords import proxy_type_str
from herdsman.config.kw_rules import finish
from herdsman.config.model import Cap, Config, Mode, ProxyConfig
from herdsman.rules.cookie import dynamic_cookie
from herdsman.rules.model import Rule
from herdsman.rules.track import TrackSite
from herdsman.sample import args as A
from herdsman.sample import registry as R
from herdsman.sample import types as T
from herdsman.sample.cond import Condition
from herdsman.sample.lfparse import ExprParser
from herdsman.sample.logformat import LogFormatError, Piece, compile_logformat, expr_parser
from herdsman.sample.registry import Compiler, RefSite
from herdsman.sample.stick import TableSpec
from herdsman.sample.txn import Ref


def _table(config: Config, name: str) -> TableSpec | None:
    """``stktable_find_by_name()``: the table of the proxy of that name."""
    for px in config.proxies:
        if px.name == name and px.routing.table is not None:
            return px.routing.table
    return None


def check_switching(config: Config, px: ProxyConfig, diag: Diagnostics) -> None:
    """``use_backend`` and ``use-server`` targets, then the sticking rules' tables."""
    r = px.routing
    for i, rule in enumerate(r.switching):
        if "%" in rule.name:
            piece = _dynamic(config, px, rule.name, rule.file, rule.line, "use_backend", diag)
            r.switching[i] = dataclasses.replace(rule, dynamic=piece)
            continue
        target = config.proxy(rule.name, Cap.BE)
        if target is None:
            diag.alert(f"Proxy '{px.name}': unable to find required use_backend: '{rule.name}'.")
        elif target is px:
            diag.alert(f"Proxy '{px.name}': loop detected for use_backend: '{rule.name}'.")
        elif mismatch := httpmode.incompatible(px, target, "in a 'use_backend' rule"):
            diag.alert(mismatch)
        _l6_warning(px, rule.cond, rule.file, rule.line, diag)
    for i, srule in enumerate(r.servers):
        _l6_warning(px, srule.cond, srule.file, srule.line, diag)
        if "%" in srule.name:
            piece = _dynamic(config, px, srule.name, srule.file, srule.line, "use-server", diag)
            r.servers[i] = dataclasses.replace(srule, dynamic=piece)
            continue
        if not any(s.name == srule.name for s in px.servers):
            diag.alert(
                f"{proxy_type_str(px)} '{px.name}' : unable to find server '{srule.name}' "
                "referenced in a 'use-server' rule."
            )
    for stick in (*r.sticking, *r.store_rsp):
        name = stick.table.name
        table = _table(config, name)
        what = "store table" if stick.response else "stick-table"
        if table is None:
            diag.alert(f"Proxy '{px.name}': unable to find {what} '{name}'.")
        elif not T.castable(stick.expr.out, table.smp_type):
            diag.alert(
                f"Proxy '{px.name}': type of fetch not usable with type of stick-table '{name}'."
            )
        else:
            stick.table.target = table
            table.store.setdefault("server_id", 0)
        if not stick.response:
            _l6_warning(px, stick.cond, stick.file, stick.line, diag)


def _dynamic(
    config: Config, px: ProxyConfig, name: str, file: str, line: int, kw: str, diag: Diagnostics
) -> Piece | None:
    """A log-format backend or server name (``parse_logformat_string()``)."""
    where = (
        "in use_backend expression in"
        if kw == "use_backend"
        else ("in use-server or balance expression in")
    )
    c = Compiler(file, line, px.name, where=where, refs=px.routing.refs, files=config.pattern_files)
    try:
        return compile_logformat(name, c, R.FE_HRQ_HDR)
    except LogFormatError as err:
        if kw == "use_backend":
            diag.alert(
                f"Parsing [{file}:{line}]: failed to parse use_backend rule '{name}' : {err.message}."
            )
        else:
            diag.alert(
                f"Parsing [{file}:{line}]; use-server rule failed to parse log-format '{name}' : "
                f"{err.message}."
            )
        return None


def _l6_warning(
    px: ProxyConfig, cond: Condition | None, file: str, line: int, diag: Diagnostics
) -> None:
    """``warnif_tcp_http_cond()``"""
    if cond is None or px.mode is not Mode.HTTP:
        return
    if cond.use & (R.USE_L6REQ | R.USE_L6RES):
        diag.warning(
            f"Proxy '{px.name}': L6 sample fetches ignored on HTTP proxies (declared at "
            f"{file}:{line})."
        )


def check_actions(config: Config, px: ProxyConfig, diag: Diagnostics) -> None:
    """``check_action_rules()`` over every rule list: the track-sc tables."""
    r = px.routing
    for rules in (
        r.tcp_conn,
        r.tcp_sess,
        r.tcp_req,
        r.tcp_res,
        r.http_req,
        r.http_res,
        r.http_after,
    ):
        for rule in rules:
            _check_rule(config, px, rule, diag, rules is r.tcp_req)


_CONTENTS = R.USE_L6REQ | R.USE_HRQHV | R.USE_HRQHP | R.USE_HRQBO


def _check_rule(
    config: Config, px: ProxyConfig, rule: Rule, diag: Diagnostics, content: bool
) -> None:
    for ref in px.routing.refs:
        site = ref.where
        if not isinstance(site, TrackSite) or (site.file, site.line) != (rule.file, rule.line):
            continue
        name = ref.name or px.name
        target = _table(config, name)
        if target is None:
            diag.alert(
                f"Proxy '{px.name}': unable to find table '{name}' referenced by track-sc{site.num}."
            )
        elif not T.castable(site.expr.out, target.smp_type):
            diag.alert(
                f"Proxy '{px.name}': stick-table '{name}' uses a type incompatible with the "
                f"'track-sc{site.num}' rule."
            )
        else:
            ref.target = target
            if content and px.cap & Cap.FE:
                _content_track_warnings(px, rule, site, diag)
    _l6_warning(px, rule.cond, rule.file, rule.line, diag)


def _content_track_warnings(
    px: ProxyConfig, rule: Rule, site: TrackSite, diag: Diagnostics
) -> None:
    kind = f"{proxy_type_str(px)} '{px.name}'"
    fetch = site.expr.fetch
    if not px.routing.tcp_req_delay and not fetch.val & R.FE_SES_ACC:
        diag.warning(
            f"{kind} : a 'tcp-request content track-sc*' rule explicitly depending on request "
            "contents without any 'tcp-request inspect-delay' setting. This means that this rule "
            "will randomly find its contents. This can be fixed by setting the tcp-request "
            "inspect-delay."
        )
    if (
        px.mode is Mode.HTTP
        and not fetch.use & _CONTENTS
        and (rule.cond is None or not rule.cond.use & _CONTENTS)
    ):
        diag.warning(
            f"{kind} : a 'tcp-request content track-sc*' rule not depending on request contents "
            "for an HTTP frontend should be executed at the session level, using a 'tcp-request "
            "session' rule (mandatory to track invalid HTTP requests)."
        )


def log_exprs(config: Config, px: ProxyConfig) -> tuple[ExprParser, list[Ref]]:
    """The ``%[...]`` parser of a proxy's traffic-log format (``ARGC_LOG``, at
    ``SMP_VAL_FE_LOG_END``) and the references it collects, to resolve after."""
    loc = px.log_format_loc
    refs: list[Ref] = []
    c = Compiler(
        loc.file,
        loc.line,
        px.name,
        where="in log-format string in",
        refs=refs,
        files=config.pattern_files,
    )
    return expr_parser(c, R.FE_LOG_END), refs


def resolve_args(
    config: Config, px: ProxyConfig, diag: Diagnostics, refs: list[Ref] | None = None
) -> None:
    """``smp_resolve_args()`` then ``acl_find_targets()`` (of ``refs``: the
    proxy's by default)."""
    errors: list[str] = []
    refs = px.routing.refs if refs is None else refs
    for ref in refs:
        site = ref.where
        if isinstance(site, RefSite):
            text = _resolve(config, px, ref, site)
            if text is not None:
                errors.append(text)
    if len(errors) > 1:
        diag.alert(
            "multiple argument resolution errors:\n" + "\n".join(" " * 8 + e for e in errors)
        )
        return
    if errors:
        diag.alert(errors[0])
        return
    for ref in refs:
        if ref.kind == A.USR and ref.groups is not None:
            _auth_groups(px, ref, diag)


def _auth_groups(px: ProxyConfig, ref: Ref, diag: Diagnostics) -> None:
    site = ref.where
    assert isinstance(site, RefSite)
    acl = next(
        (a for a in px.routing.acls.values() for e in a.exprs if e.kw == "http_auth_group"), None
    )
    name = acl.name if acl is not None else ""
    if not ref.groups:
        diag.alert(f"proxy {px.name}: acl {name} http_auth_group(): no groups specified.")
        return
    for group in ref.groups:
        if ref.target.group(group.decode("utf-8", "surrogateescape")) is None:
            diag.alert(
                f"proxy {px.name}: acl {name} http_auth_group(): invalid group "
                f"'{group.decode('utf-8', 'surrogateescape')}'."
            )


def _resolve(config: Config, px: ProxyConfig, ref: Ref, site: RefSite) -> str | None:
    conv = f"conversion keyword '{site.conv}' for " if site.conv else ""
    tail = f"in arg {site.pos + 1} of {conv}{site.ctx} '{site.kw}' {site.where} proxy '{px.name}'."
    head = f"parsing [{site.file}:{site.line}]: "
    name = ref.name
    if ref.kind == A.SRV:
        owner = px
        sname = name
        if not name:
            return f"{head}missing server name {tail}"
        if "/" in name:
            pname, sname = name.split("/", 1)
            found = config.proxy(pname, Cap.BE)
            if found is None:
                return f"{head}unable to find proxy '{pname}' referenced {tail}"
            owner = found
        elif px.cap & Cap.DEF:
            return f"{head}backend name must be set {tail}"
        srv = next((s for s in owner.servers if s.name == sname), None)
        if srv is None:
            return (
                f"{head}unable to find server '{sname}' in proxy '{owner.name}', referenced {tail}"
            )
        ref.target = srv
        return None
    if ref.kind in (A.FE, A.BE):
        cap, word = (Cap.FE, "frontend") if ref.kind == A.FE else (Cap.BE, "backend")
        if name:
            found = next((p for p in config.proxies if p.name == name and p.cap & cap), None)
            if found is None:
                return f"{head}unable to find {word} '{name}' referenced {tail}"
        else:
            if px.cap & Cap.DEF:
                return f"{head}{word} name must be set {tail}"
            found = px
            if not px.cap & cap:
                return (
                    f"{head}proxy '{px.name}', referenced {tail[:-1]}, has not {word} capability."
                )
        ref.target = found
        return None
    if ref.kind == A.TAB:
        if not name and px.cap & Cap.DEF:
            return f"{head}table name must be set {tail}"
        table = _table(config, name or px.name)
        if table is None:
            return f"{head}unable to find table '{name or px.name}' referenced {tail}"
        ref.target = table
        return None
    if ref.kind == A.USR:
        if not name:
            return f"{head}missing userlist name {tail}"
        ul = next((u for u in config.userlists if u.name == name), None)
        if ul is None:
            return f"{head}unable to find userlist '{name}' referenced {tail}"
        ref.target = ul
        return None
    return None


def userlists(config: Config, diag: Diagnostics) -> None:
    """``userlist_postinit()``: the first alert stops it."""
    for ul in config.userlists:
        text = ul.postinit()
        if text is not None:
            diag.alert(text)
            return


def dynamic_cookies(px: ProxyConfig) -> None:
    """``srv_set_dyncookie()`` for each server without its own ``cookie``."""
    r = px.routing
    ck = r.cookie
    if ck is None or not ck.dynamic or r.dyncookie_key is None:
        return
    import ipaddress

    for srv in px.servers:
        if srv.cookie is not None or srv.addr is None:
            continue
        try:
            ip = ipaddress.ip_address(srv.addr.host)
        except ValueError:
            continue
        srv.cookie = dynamic_cookie(r.dyncookie_key, ip.packed, srv.addr.port).decode()


def finish_proxy(px: ProxyConfig) -> None:
    finish(px)


__all__ = [
    "check_actions",
    "check_switching",
    "dynamic_cookies",
    "finish_proxy",
    "resolve_args",
    "userlists",
]
