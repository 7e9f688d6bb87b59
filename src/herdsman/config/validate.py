"""Post-parse checks (the parts of ``cfgparse.c check_config_validity()`` and the
post-config server checks that herdsman's features need).

Runs once the whole configuration was read: resolves references between
sections (default_backend, use_backend, track), assigns automatic server IDs,
finalizes check rulesets, checks that every checked server has a check port,
then resolves server hostnames. Messages and their order follow HAProxy 2.6.12.
"""

from __future__ import annotations

from herdsman.config.checks import finalize_checks
from herdsman.config.diag import Diagnostics, Err
from herdsman.config.kw_proxy import proxy_type_str
from herdsman.config.model import Cap, Config, Family, Mode, ProxyConfig, ServerConfig
from herdsman.config.resolve import init_addresses

L7_HASHES = ("uri", "url_param", "hdr")


def _backend(config: Config, name: str) -> ProxyConfig | None:
    return config.proxy(name, Cap.BE)


def _check_proxy(config: Config, px: ProxyConfig, diag: Diagnostics) -> None:
    kind = proxy_type_str(px)
    if px.mode is Mode.TCP and px.cap & Cap.BE and px.balance.algo in L7_HASHES:
        px.balance.algo = "roundrobin"
        diag.warning(
            f"Layer 7 hash not possible for {kind} '{px.name}' (needs 'mode http'). "
            "Falling back to round robin."
        )
    if px.cap & Cap.FE and not px.binds:
        diag.warning(
            f"{kind} '{px.name}' has no 'bind' directive. Please declare it as a backend if "
            "this was intended."
        )
    if px.cap & Cap.BE:
        finalize_checks(px, diag)
        if px.balance.algo in ("rdp-cookie", "hash"):
            diag.alert(
                f"{kind} '{px.name}' : 'balance {px.balance.algo}' is not implemented in herdsman "
                "yet (content inspection); use another algorithm or haproxy.",
            )
    if px.cap & Cap.FE and px.default_backend:
        target = _backend(config, px.default_backend)
        if target is None:
            diag.alert(
                f"Proxy '{px.name}': unable to find required default_backend: '{px.default_backend}'."
            )
        elif target is px:
            diag.alert(
                f"Proxy '{px.name}': loop detected for default_backend: '{px.default_backend}'."
            )
        elif px.servers:
            diag.warning(
                f"In proxy '{px.name}', the 'default_backend' rule always has precedence over the "
                "servers, which will never be used."
            )
    for rule in px.use_backend if px.cap & Cap.FE else []:
        target = _backend(config, rule.name)
        if target is None:
            diag.alert(f"Proxy '{px.name}': unable to find required use_backend: '{rule.name}'.")
        elif target is px:
            diag.alert(f"Proxy '{px.name}': loop detected for use_backend: '{rule.name}'.")
    t = px.timeouts
    if (px.cap & Cap.FE and not t.client) or (
        px.cap & Cap.BE and px.servers and (not t.connect or (not t.server and not t.tunnel))
    ):
        diag.warning(
            f"missing timeouts for {kind} '{px.name}'.\n"
            "   | While not properly invalid, you will certainly encounter various problems\n"
            "   | with such a configuration. To fix this, please ensure that all following\n"
            "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
        )
    if px.cap & Cap.BE:
        _name_conflicts(px, diag)
        _assign_ids(px)


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


def _assign_ids(px: ProxyConfig) -> None:
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
    px_404 = bool(px.checks and px.checks.disable_on_404)
    t_404 = bool(target_px.checks and target_px.checks.disable_on_404)
    if target_px is not px and px_404 != t_404:
        return (
            f"unable to use {target_px.name}/{target.name}for"
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
    from herdsman.checks.rules import ActionRule, CommentRule, ConnectRule

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


def validate(config: Config, diag: Diagnostics, dont_fail_resolve: bool = False) -> Config | None:
    """Check and complete a parsed configuration; None after a fatal error."""
    applied: Tracked = {}
    for px in config.proxies:
        _check_proxy(config, px, diag)
        if px.cap & Cap.BE:
            for srv in px.servers:
                if srv.track:
                    res = resolve_track(config, px, srv, applied)
                    if isinstance(res, str):
                        diag.alert(f"{srv.loc.at}'server {px.name}/{srv.name}' : {res}")
    if diag.fatal:
        diag.alert("Fatal errors found in configuration.")
        return None
    for px in config.backends:
        for srv in px.servers:
            _check_port(px, srv, diag)
    if diag.flags & (Err.FATAL | Err.ABORT):  # (not diag.fatal: mypy would narrow it)
        diag.alert("Fatal errors found in configuration.")
        return None
    if not init_addresses(config, diag, dont_fail_resolve):
        return None
    return config
