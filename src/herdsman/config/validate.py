"""Post-parse checks: the parts of ``cfgparse.c check_config_validity()`` and of the
post-server and post-proxy checks (``check.c init_srv_check()``, ``http_htx.c
proxy_check_errors()``) that herdsman's features need.

Runs once the whole configuration was read, proxy by proxy in declaration
order and in HAProxy's order within a proxy, because that order is visible in
the output: what a TCP proxy ignores of HTTP (``config/httpmode.py``), "no
bind", the check-rule warnings, ``default_backend``/``use_backend`` (with the
modes they may mix), "missing timeouts", server names and automatic IDs,
tracking, the HTTP options a TCP proxy clears, the per-server TCP-mode checks.
Disabled proxies are skipped, as HAProxy does. Then come the global buffer
size checks (those of HAProxy's internal HTTP proxy, last in its list, and of
its post-parsers), and for every proxy its servers' check ports and its error
pages (``config/errfiles.py``); one "Fatal errors found in configuration."
closes all of that, and only then are server host names resolved
(``srv_init_addr()``), which has its own closing line.
"""

from __future__ import annotations

from herdsman.config import check_routing as routing
from herdsman.config import httpmode, kw_logs, kw_statspage, tls_checks
from herdsman.config.checks import DISABLE_404, finalize_checks
from herdsman.config.diag import Diagnostics, Err, Level
from herdsman.config.errfiles import resolve as resolve_error_pages
from herdsman.config.errpages import http_size_alerts
from herdsman.config.keywords import proxy_type_str
from herdsman.config.model import Cap, Config, Mode, ProxyConfig, RetryOn, ServerConfig
from herdsman.config.model_addr import Family
from herdsman.config.resolve import init_addresses
from herdsman.defs.rules import RulesetKind

MISSING_TIMEOUTS = (
    "missing timeouts for {kind} '{name}'.\n"
    "   | While not properly invalid, you will certainly encounter various problems\n"
    "   | with such a configuration. To fix this, please ensure that all following\n"
    "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
)


def _backend(config: Config, name: str) -> ProxyConfig | None:
    """``proxy_be_by_name()``: the first proxy with the backend capability of that name."""
    return config.proxy(name, Cap.BE)


def _check_proxy(config: Config, px: ProxyConfig, diag: Diagnostics, applied: Tracked) -> None:
    kind = proxy_type_str(px)
    if px.mode is Mode.TCP:
        httpmode.ensure_no_http(px, diag)
    ignored = httpmode.tcp_mode_options(px)
    if px.cap & Cap.FE and not px.binds:
        diag.warning(
            f"{kind} '{px.name}' has no 'bind' directive. Please declare it as a backend if "
            "this was intended."
        )
    late = _finalize_checks(px, diag)
    _external_check(config, px, diag)
    if px.default_backend:
        target = _backend(config, px.default_backend)
        if target is None:
            diag.alert(
                f"Proxy '{px.name}': unable to find required default_backend: '{px.default_backend}'."
            )
        elif target is px:
            diag.alert(
                f"Proxy '{px.name}': loop detected for default_backend: '{px.default_backend}'."
            )
        elif mismatch := httpmode.incompatible(px, target, "as its default backend"):
            diag.alert(mismatch)
        elif px.servers:
            diag.warning(
                f"In proxy '{px.name}', the 'default_backend' rule always has precedence over the "
                "servers, which will never be used."
            )
    defpx = px.rules_from
    if defpx is not None and not defpx.rules_ready:
        routing.check_actions(config, defpx, diag)
        routing.resolve_args(config, defpx, diag)
        defpx.rules_ready = True
    routing.check_switching(config, px, diag)
    routing.check_actions(config, px, diag)
    routing.resolve_args(config, px, diag)
    t = px.timeouts
    # in HTTP mode 'timeout tunnel' does not stand for a missing 'timeout server'
    no_server = not t.server and (px.mode is Mode.HTTP or not t.tunnel)
    if (px.cap & Cap.FE and not t.client) or (
        px.cap & Cap.BE and px.servers and (not t.connect or no_server)
    ):
        diag.warning(MISSING_TIMEOUTS.format(kind=kind, name=px.name))
    httpmode.tarpit_fallback(px)
    for text in late:
        diag.warning(text)
    cookie_len = config.global_.tune_http_cookielen
    if px.capture_cookie is not None and px.capture_cookie[1] >= cookie_len:
        diag.warning(f"truncating capture length to {cookie_len - 1} bytes for {kind} '{px.name}'.")
        px.capture_cookie = (px.capture_cookie[0], cookie_len - 1)
    if px.cap & Cap.BE:
        _check_servers(config, px, diag, applied)
    for text in ignored:
        diag.warning(text)
    if px.mode is not Mode.HTTP:
        _tcp_mode_servers(px, diag)
    parser, refs = routing.log_exprs(config, px)
    kw_logs.finish(px, diag, parser)
    if refs:
        routing.resolve_args(config, px, diag, refs)
        px.routing.refs.extend(refs)  # the runtime binds them with the rules' ones
    kw_statspage.finish(px, diag)
    _check_tls(config, px, diag)


def _check_tls(config: Config, px: ProxyConfig, diag: Diagnostics) -> None:
    """``prepare_bind_conf()`` of each bind line (once per line), then
    ``prepare_srv()`` of each server (``check_config_validity()``)."""
    seen: set[object] = set()
    for b in px.binds:
        if b.loc not in seen:
            seen.add(b.loc)
            tls_checks.check_bind(px, b, diag, config)
    for srv in px.servers:
        tls_checks.check_server(px, srv, diag, config)


def _check_servers(config: Config, px: ProxyConfig, diag: Diagnostics, applied: Tracked) -> None:
    """Names, ids, limits, TCP fast open and tracking, server by server."""
    _name_conflicts(px, diag)
    assign_ids(px)
    both = RetryOn.EMPTY_RESPONSE | RetryOn.RESPONSE_TIMEOUT
    for srv in px.servers:
        where = f"{srv.loc.at}'server {px.name}/{srv.name}' : "
        # a static limit unless both are set with minconn < maxconn (spec §2.4)
        if srv.minconn > srv.maxconn:
            srv.maxconn = srv.minconn
        elif srv.maxconn and not srv.minconn:
            srv.minconn = srv.maxconn
        if srv.tfo and px.retry_on & both != both:
            diag.warning(
                f"{where}server has tfo activated, the backend should be configured with at "
                "least 'conn-failure', 'empty-response' and 'response-timeout' or we wouldn't be "
                "able to retry the connection on failure."
            )
        if srv.track:
            res = resolve_track(config, px, srv, applied)
            if isinstance(res, str):
                diag.alert(where + res)


def _tcp_mode_servers(px: ProxyConfig, diag: Diagnostics) -> None:
    """Servers of a TCP proxy: their HTTP-only settings, and no connection reuse."""
    kind = proxy_type_str(px)
    httpmode.tcp_mode_reuse(px)
    for srv in px.servers:
        if srv.redir:
            diag.alert(
                f"{kind} '{px.name}' : server cannot have cookie or redirect prefix in "
                "non-HTTP mode."
            )
        if srv.cookie:
            diag.warning(
                f"{kind} '{px.name}' : ignoring cookie for server '{srv.name}' as HTTP mode is "
                "disabled."
            )


def _finalize_checks(px: ProxyConfig, diag: Diagnostics) -> list[str]:
    """``finalize_checks()``, its warnings in HAProxy's places.

    It reports unused http-check rules and the options needing ``option
    httpchk`` at once with unused tcp-check rules, but check_config_validity()
    prints the tcp-check one later, after "missing timeouts": that one is
    returned for the caller to emit there. (Simpler once checks.py reports
    the two groups separately.)
    """
    staged = Diagnostics()
    finalize_checks(px, staged)
    late: list[str] = []
    for msg in staged.messages:
        if msg.level is Level.WARNING and "uses tcp-check rules without" in msg.text:
            late.append(msg.text)
        elif msg.level is Level.WARNING:
            diag.warning(msg.text)
        else:
            diag.alert(msg.text, staged.flags & ~Err.WARN)
    return late


def _external_check(config: Config, px: ProxyConfig, diag: Diagnostics) -> None:
    """``check_config_validity()`` on external checks (spec §8.1), in its order."""
    kind = proxy_type_str(px)
    external = px.checks is not None and px.checks.kind is RulesetKind.EXTERNAL
    what = "option external-check"
    if external:
        if not config.global_.external_check:
            diag.alert(
                f"Proxy '{px.name}' : '{what}' unable to find required 'global.external-check'."
            )
        if not px.external_command:
            diag.alert(
                f"Proxy '{px.name}' : '{what}' unable to find required 'external-check command'."
            )
        if not config.global_.insecure_fork_wanted:
            diag.warning(
                f"Proxy '{px.name}' : 'insecure-fork-wanted' not enabled in the global section, "
                f"'{what}' will likely fail."
            )
    if px.external_command:
        if not external:
            diag.warning(
                f"'external-check command' will be ignored for {kind} '{px.name}' "
                "(requires 'option external-check')."
            )
        if not px.external_command.startswith("/") and not px.external_path:
            diag.alert(
                f"Proxy '{px.name}': 'external-check command' does not have a leading '/' and "
                "'external-check path' is not set."
            )
        if not external:
            px.external_command = None
    if px.external_path and not external:
        diag.warning(
            f"'external-check path' will be ignored for {kind} '{px.name}' "
            "(requires 'option external-check')."
        )
        px.external_path = None


def _name_conflicts(px: ProxyConfig, diag: Diagnostics) -> None:
    """Servers without an explicit id must have distinct names (2.6, spec §1.6)."""
    kind = proxy_type_str(px)
    for i, srv in enumerate(px.servers):
        if srv.puid:
            continue
        for other in px.servers[:i]:
            if not other.puid and other.name == srv.name:
                diag.alert(
                    f"parsing [{srv.loc.file}:{srv.loc.line}] : {kind} '{px.name}', another server "
                    f"named '{srv.name}' was already defined at line {other.loc.line}, please use "
                    "distinct names."
                )
                break


def assign_ids(px: ProxyConfig) -> None:
    """Automatic ids: the smallest unused id >= a counter bumped after every server."""
    used = {s.puid for s in px.servers if s.puid}
    next_id = 1
    for srv in px.servers:
        if not srv.puid:
            while next_id in used:
                next_id += 1
            srv.puid = next_id
            used.add(next_id)
        next_id += 1


def _find_server(px: ProxyConfig, name: str) -> ServerConfig | None:
    """``findserver()``: by name, or ``#<id>``."""
    if name.startswith("#") and name[1:].isdigit():
        return next((s for s in px.servers if s.puid == int(name[1:])), None)
    return next((s for s in px.servers if s.name == name), None)


Tracked = dict[int, tuple[ProxyConfig, ServerConfig]]


def resolve_track(
    config: Config, px: ProxyConfig, srv: ServerConfig, applied: Tracked
) -> tuple[ProxyConfig, ServerConfig] | str:
    """``srv_apply_track()``: the tracked (backend, server), or an error text.

    ``applied`` holds the track links resolved so far: as in HAProxy, a loop
    is detected on the server whose link closes it.
    """
    assert srv.track is not None
    pname, _, sname = srv.track.rpartition("/")
    target_px = _backend(config, pname) if pname else px
    if target_px is None:
        return f"unable to find required proxy '{pname}' for tracking."
    target = _find_server(target_px, sname)
    if target is None:
        return f"unable to find required server '{sname}' for tracking."
    if not target.check and not target.agent_check and not target.track:
        return (
            f"unable to use {target_px.name}/{target.name} for tracking as it does not have any "
            "check nor agent enabled."
        )
    node = applied.get(id(target))
    while node is not None and node[1] is not srv:
        node = applied.get(id(node[1]))
    if target is srv or node is not None:
        return (
            f"unable to track {target_px.name}/{target.name} as it belongs to a tracking "
            f"chain looping back to {target_px.name}/{srv.name}."
        )
    # the proxy flag (PR_O_DISABLE404), set while parsing: the target proxy's
    # ruleset may not be finalized yet
    px_404 = bool(px.options.get(DISABLE_404))
    t_404 = bool(target_px.options.get(DISABLE_404))
    if target_px is not px and px_404 != t_404:
        return (
            f"unable to use {target_px.name}/{target.name} for"
            "tracking: disable-on-404 option inconsistency."
        )
    applied[id(srv)] = (target_px, target)
    return target_px, target


def _check_port(px: ProxyConfig, srv: ServerConfig, diag: Diagnostics) -> None:
    """``init_srv_check()``: a checked IP server needs a port from somewhere (spec §1.3)."""
    if not srv.check or srv.addr is None:
        return
    addr = srv.check_addr or srv.addr
    is_ip = addr.family in (Family.INET, Family.INET6, Family.HOSTNAME)
    if not is_ip:
        return
    has_port = bool(srv.check_port) or bool(srv.check_addr and srv.check_addr.port)
    if not srv.addr.mapped and srv.addr.port:
        has_port = True
    if has_port:
        return
    kind = "proxy" if px.kind == "listen" else "backend"
    head = (
        f"config: {kind} '{px.name}': server '{srv.name}' has neither service port nor check port"
    )
    rules = px.checks.rules if px.checks else []
    if not rules:
        diag.alert(head + ".", Err.ALERT | Err.ABORT)
        return
    from herdsman.defs.rules import ActionRule, CommentRule, ConnectRule

    first = next((r for r in rules if not isinstance(r, CommentRule | ActionRule)), None)
    if not isinstance(first, ConnectRule) or not (first.port or (first.addr and first.addr[1])):
        diag.alert(
            head + " nor tcp_check rule 'connect' with port information.", Err.ALERT | Err.ABORT
        )
        return
    for rule in rules:
        if isinstance(rule, ConnectRule) and not (rule.port or (rule.addr and rule.addr[1])):
            diag.alert(
                head + ", and a tcp_check rule 'connect' with no port information.",
                Err.ALERT | Err.ABORT,
            )
            return


def _check_tune(config: Config, diag: Diagnostics) -> None:
    """The buffer size checks of the internal HTTP proxy and of ``http_htx_init()``
    (config/errpages.py), then ``tune.maxrewrite`` capped to half the buffer as
    ``haproxy.c`` does it, silently."""
    g = config.global_
    for text in http_size_alerts(g.tune_bufsize, g.tune_http_maxhdr):
        diag.alert(text)
    g.tune_maxrewrite = min(g.tune_maxrewrite, g.tune_bufsize // 2)


def has_listener(config: Config) -> bool:
    """Whether some enabled proxy or a stats socket listens: ``haproxy -c`` exits 2
    without one.

    ("Configuration file has no error but will not start (no listener) => exit(2).")
    """
    return bool(config.global_.stats_sockets) or any(
        px.binds and not px.disabled for px in config.proxies
    )


def assign_proxy_ids(config: Config) -> None:
    """``check_config_validity()``: each proxy without an ``id`` gets the first free id
    from a counter that every proxy moves on by one, disabled ones included. The
    internal "GLOBAL" frontend of the stats socket comes first with id 0, so it
    moves the counter too."""
    used = {px.uuid for px in config.proxies if px.uuid}
    next_id = 2 if config.global_.cli_frontend else 1
    for px in config.proxies:
        if not px.uuid:
            while next_id in used:
                next_id += 1
            px.uuid = next_id
            used.add(next_id)
        next_id += 1


def validate(config: Config, diag: Diagnostics, dont_fail_resolve: bool = False) -> Config | None:
    """Check and complete a parsed configuration; None after a fatal error."""
    applied: Tracked = {}
    assign_proxy_ids(config)
    routing.userlists(config, diag)
    for px in (*config.defaults.values(), *config.proxies):
        routing.finish_proxy(px)
    for px in config.proxies:
        if px.disabled:
            if px.cap & Cap.BE:
                assign_ids(px)
            continue
        _check_proxy(config, px, diag, applied)
    _check_tune(config, diag)
    # the post-server then post-proxy checks (init_srv_check(), proxy_check_errors())
    for px in config.proxies:
        if px.disabled:
            continue
        for srv in px.servers:
            _check_port(px, srv, diag)
        routing.dynamic_cookies(px)
        resolve_error_pages(config.http_errors, px, diag)
    if diag.fatal:
        diag.alert("Fatal errors found in configuration.")
        return None
    if not init_addresses(config, diag, dont_fail_resolve):
        return None
    return config


__all__ = ["assign_ids", "assign_proxy_ids", "has_listener", "resolve_track", "validate"]
