"""Proxy section headers: ``defaults``, ``frontend``, ``backend``, ``listen``.

``cfg_parse_listen()`` of 2.6 before any keyword: the name checks, the
duplicate-name check, ``from <defaults>`` and which defaults a new section
copies. Checked against the 2.6.12 binary:

* ``frontend``/``listen`` names clash only with proxies that have the frontend
  capability and ``backend`` names with those that have the backend one, so a
  ``listen X`` after a ``backend X`` is accepted (the reverse is not);
* a proxy without ``from`` copies the last ``defaults`` section read so far,
  while a ``defaults`` section without ``from`` starts from HAProxy's built-in
  defaults, not from the previous one;
* a defaults section used both explicitly (``from``) and implicitly (by being
  the last one) is reported with an alert that is only a warning
  (``ERR_WARN``): start-up goes on and ``-c`` does not say "Warnings were found.".
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from herdsman.config.diag import Diagnostics, Err, Location
from herdsman.config.keywords import CAP_OF, proxy_type_str
from herdsman.config.model import Cap, Config, ProxyConfig


def proxy_cap_str(kind: str) -> str:
    """``proxy_cap_str()``: the word for the capabilities of a section being declared."""
    return {"defaults": "defaults", "frontend": "frontend", "backend": "backend"}.get(kind, "proxy")


def invalid_char(name: str) -> str | None:
    """``invalid_char()``: proxy and defaults names allow ``[A-Za-z0-9_:.-]``."""
    for ch in name:
        if not (ch.isascii() and (ch.isalnum() or ch in "_:.-")):
            return ch
    return None


def builtin_defaults() -> ProxyConfig:
    """``proxy_preset_defaults()``: what a section copies when no defaults apply."""
    return ProxyConfig(name="", kind="defaults", cap=CAP_OF["defaults"])


@dataclass
class DefaultsRefs:
    """How each defaults section was used: ``PR_FL_EXPLICIT_REF`` / ``PR_FL_IMPLICIT_REF``."""

    explicit: set[int] = field(default_factory=set)
    implicit: set[int] = field(default_factory=set)


def new_proxy(name: str, kind: str, loc: Location, defaults: ProxyConfig) -> ProxyConfig:
    """``parse_new_proxy()``: a copy of ``defaults`` with this section's identity.

    As ``proxy_defproxy_cpy()``, a section without the frontend capability does
    not inherit the frontend settings, nor one without the backend capability
    the backend settings: they keep HAProxy's initial values.
    """
    px = copy.deepcopy(defaults)
    px.name = name
    px.kind = kind
    px.cap = CAP_OF[kind]
    px.loc = loc
    px.keywords = {}
    px.servers = []
    px.binds = []
    px.uuid = 0
    px.description = None
    initial = ProxyConfig(name, kind, px.cap)
    t, t0 = px.timeouts, initial.timeouts
    if not px.cap & Cap.FE:
        px.maxconn, px.backlog = initial.maxconn, initial.backlog
        px.default_backend, px.default_backend_loc = None, initial.default_backend_loc
        px.http.monitor_uri = None
        t.client, t.client_fin = t0.client, t0.client_fin
    if not px.cap & Cap.BE:
        px.balance, px.fullconn = initial.balance, initial.fullconn
        px.retries, px.redispatch = initial.retries, initial.redispatch
        px.http.max_keep_alive_queue = initial.http.max_keep_alive_queue
        t.connect, t.server, t.server_fin = t0.connect, t0.server, t0.server_fin
        t.check, t.queue, t.tunnel = t0.check, t0.queue, t0.tunnel
        px.routing.cookie, px.routing.dyncookie_key = None, None
    return px


def _rules_from(
    diag: Diagnostics, where: str, kind: str, px: ProxyConfig, defaults: ProxyConfig
) -> None:
    """A defaults section with TCP/HTTP rules: the proxy runs them first
    (``proxy_ref_defaults()``), within the limits 2.6 sets (cfgparse-listen.c)."""
    r = defaults.routing
    if not r.any_rules():
        return
    at = f"(defaults section at {defaults.loc})"
    text = None
    if kind == "defaults":
        text = f"a defaults section cannot inherit from a defaults section defining TCP/HTTP rules {at}."
    elif kind == "listen":
        text = "a listen section cannot inherit from a defaults section defining TCP/HTTP rules."
    elif defaults.rules_cap and defaults.rules_cap != kind:
        text = (
            "frontends and backends cannot inherit from the same defaults section if it "
            f"defines TCP/HTTP rules {at}."
        )
    elif kind == "backend" and (r.tcp_conn or r.tcp_sess):
        text = (
            "a backend section cannot inherit from a defaults section defining 'tcp-request "
            f"connection' or 'tcp-request session' rules {at}."
        )
    elif kind == "frontend" and r.tcp_res:
        text = (
            "a frontend section cannot inherit from a defaults section defining 'tcp-response "
            f"content' rules {at}."
        )
    if text is not None:
        diag.alert(where + text, Err.ALERT | Err.ABORT)
        return
    defaults.rules_cap = kind
    px.rules_from = defaults


@dataclass
class Sections:
    """Which defaults each new section copies, across the files read so far."""

    # The defaults a new proxy copies (``last_defproxy``): the last defaults
    # section read so far, or HAProxy's built-in defaults.
    last_defaults: ProxyConfig = field(default_factory=lambda: builtin_defaults())
    all_defaults: list[ProxyConfig] = field(default_factory=list)  # in order
    refs: DefaultsRefs = field(default_factory=lambda: DefaultsRefs())
    curr_defaults: ProxyConfig | None = None  # ``curr_defproxy``

    def start(
        self, diag: Diagnostics, cfg: Config, loc: Location, args: list[str]
    ) -> ProxyConfig | None:
        """A section header; returns the new section, or None when its lines must find none.

        ``args`` are the header's words. Fatal messages for a missing name or
        defaults section carry ``Err.ABORT``.
        """
        return _start_section(self, diag, cfg, loc, args)


def _start_section(
    parser: Sections, diag: Diagnostics, cfg: Config, loc: Location, args: list[str]
) -> ProxyConfig | None:
    kind = args[0]
    a = args + [""] * 5
    where = loc.parsing
    if kind != "defaults":
        if not a[1]:
            diag.alert(f"{where}'{kind}' expects an <id> argument", Err.ALERT | Err.ABORT)
            return None
        bad = invalid_char(a[1])
        if bad is not None:
            diag.alert(f"{where}character '{bad}' is not permitted in '{kind}' name '{a[1]}'.")
        cap = CAP_OF[kind]
        need = Cap.FE if cap & Cap.FE else Cap.BE
        other = next((p for p in cfg.proxies if p.name == a[1] and p.cap & need), None)
        if other is not None:
            diag.alert(
                f"Parsing [{loc.file}:{loc.line}]: {proxy_cap_str(kind)} '{a[1]}' has the same "
                f"name as {proxy_type_str(other)} '{other.name}' declared at {other.loc}."
            )
        # "<kind> <name> [from <defaults>]": anything else is refused, and the
        # lines that follow find no current proxy (as in cfg_parse_listen()).
        if a[2] and (not a[3] or a[2] != "from"):
            if cap & Cap.FE:
                diag.alert(f"{where}please use the 'bind' keyword for listening addresses.")
            return None
        if a[4]:
            diag.alert(f"{where}'{kind}' cannot handle unexpected argument '{a[4]}'.")
            if cap & Cap.FE:
                diag.alert(f"{where}please use the 'bind' keyword for listening addresses.")
            return None
    name, arg = a[1], 2
    if kind == "defaults" and a[1] == "from" and a[2] and not a[3]:
        name, arg = "", 1  # "defaults from <name>": an anonymous section
    # Only proxies inherit the last defaults section; a defaults section without
    # "from" starts from the built-in values.
    defaults: ProxyConfig | None = None if kind == "defaults" else parser.last_defaults
    refs = parser.refs
    if a[arg] == "from":
        target = a[arg + 1]
        found = [d for d in parser.all_defaults if d.name == target] if target else []
        if not found:
            diag.alert(
                f"{where}defaults section '{target}' not found for {proxy_cap_str(kind)} '{name}'.",
                Err.ALERT | Err.ABORT,
            )
            return None
        defaults = found[0]
        if len(found) > 1:
            diag.alert(
                f"{where}ambiguous defaults section name '{target}' referenced by "
                f"{proxy_cap_str(kind)} '{name}' exists at least at {found[0].loc} and "
                f"{found[1].loc}."
            )
        bad = invalid_char(target)
        if bad is not None:
            diag.alert(
                f"{where}character '{bad}' is not permitted in defaults section name '{target}' "
                f"when designated by its name (section found at {defaults.loc})."
            )
        refs.explicit.add(id(defaults))
    elif defaults is not None:
        refs.implicit.add(id(defaults))
    if defaults is not None and id(defaults) in refs.explicit and id(defaults) in refs.implicit:
        diag.alert(
            f"{where}defaults section '{defaults.name}' (declared at {defaults.loc}) is "
            "explicitly referenced by another proxy and implicitly used here. To avoid any "
            "ambiguity don't mix both usage. Add a last defaults section not explicitly used or "
            "always use explicit references.",
            Err.ALERT,  # ERR_WARN in HAProxy, but printed as an alert
        )
    base = defaults if defaults is not None else builtin_defaults()
    px = new_proxy(name, kind, loc, base)
    px.from_defaults = base.name if a[arg] == "from" else None
    if defaults is not None:
        _rules_from(diag, f"parsing [{loc.file}:{loc.line}]: ", kind, px, defaults)
    if kind == "defaults":
        parser.last_defaults = px
        parser.all_defaults.append(px)
        cfg.defaults[name] = px
        parser.curr_defaults = px
    else:
        cfg.proxies.append(px)
        parser.curr_defaults = base
    return px


__all__ = [
    "DefaultsRefs",
    "Sections",
    "builtin_defaults",
    "invalid_char",
    "new_proxy",
    "proxy_cap_str",
]
