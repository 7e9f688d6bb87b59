"""``herdsman -c --explain``: the limits and check schedule a configuration produces,
with where each number comes from (beyond HAProxy; docs/limits.md).

Pure: the parsed model, the global maxconn and where it came from in, a plain
report out (``explain()``), rendered as text (``render_text()``) or JSON.
The numbers are the ones the runtime uses: ``config/limits.py`` for maxconn
and fullconn, ``core/backend.py Backend.limit()``'s formula for the dynamic
server limit, ``checks/scheduler.py``'s spreading for the first checks.
"""

from __future__ import annotations

import json
from typing import Any

from herdsman.config.diag import Location
from herdsman.config.limits import Fullconn, frontend_maxconn, fullconns
from herdsman.config.model import Config, ProxyConfig, ServerConfig

LOADS = (0, 25, 50, 75, 100)  # % of fullconn at which server limits are shown
SRV_CHK_INTER_THRES = 1000  # checks/scheduler.py: mininter counts intervals >= 1 s


def _at(loc: Location | None) -> str:
    return f" at {loc.file}:{loc.line}" if loc is not None and loc.file else ""


def server_limit(srv: ServerConfig, beconn: int, fullconn: int) -> int:
    """``srv_dynamic_maxconn()`` outside slowstart (spec §2.4)."""
    if beconn >= fullconn or srv.minconn == srv.maxconn:
        return srv.maxconn
    return max(srv.minconn, ((beconn * srv.maxconn) & 0xFFFFFFFF) // fullconn)


def _start_inter(srv: ServerConfig) -> int:
    """``srv_getinter()`` at start-up: health = rise (fully up only with fall 1);
    a disabled or unresolved server starts DOWN with health 0."""
    inter = srv.inter
    if srv.disabled or srv.unresolved:
        return srv.downinter or inter
    if srv.fall == 1:
        return inter
    return srv.fastinter or inter


def _schedules(config: Config) -> dict[tuple[str, str], dict[str, Any]]:
    """Each checked server's schedule, as ``Scheduler.start()`` spreads the first runs."""
    checked = [
        (px, srv) for px in config.backends if not px.disabled for srv in px.servers if srv.check
    ]
    g = config.global_
    starts = [_start_inter(srv) for _, srv in checked]
    mininter = min((i for i in starts if i >= SRV_CHK_INTER_THRES), default=0)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for pos, ((px, srv), start) in enumerate(zip(checked, starts, strict=True)):
        m = max(mininter, start)
        if g.max_spread_checks and m > g.max_spread_checks:
            m = g.max_spread_checks
        out[px.name, srv.name] = {
            "first_check_ms": m * pos // len(checked),
            "inter_ms": srv.inter,
            "fastinter_ms": srv.fastinter or srv.inter,
            "downinter_ms": srv.downinter or srv.inter,
            "rise": srv.rise,
            "fall": srv.fall,
            "spread_checks_pct": g.spread_checks,
        }
    return out


def _frontend(px: ProxyConfig, global_maxconn: int) -> dict[str, Any]:
    own = px.maxconn
    source = (
        f"its 'maxconn'{_at(px.keywords.get('maxconn'))}"
        if own and "maxconn" in px.keywords
        else f"'maxconn' of its defaults section '{px.from_defaults or ''}'"
        if own
        else "the global maxconn"
    )
    return {"name": px.name, "maxconn": frontend_maxconn(px, global_maxconn), "from": source}


def _backend(
    px: ProxyConfig, full: Fullconn, schedules: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    if full.configured:
        source = f"its 'fullconn'{_at(px.keywords.get('fullconn'))}"
    else:
        source = "10 % of the maxconn of the frontends that reach it, rounded up, at least 1"
    servers = []
    for srv in px.servers:
        limits = {
            f"{load}%": server_limit(srv, full.value * load // 100, full.value) for load in LOADS
        }
        servers.append(
            {
                "name": srv.name,
                "minconn": srv.minconn,
                "maxconn": srv.maxconn,
                "limit": "none"
                if not srv.maxconn
                else "static"
                if srv.minconn == srv.maxconn
                else "dynamic",
                "limit_at_load": limits if srv.maxconn else None,
                "maxqueue": srv.maxqueue,
                "checks": schedules.get((px.name, srv.name)),
            }
        )
    return {
        "name": px.name,
        "fullconn": full.value,
        "fullconn_from": source,
        "contributions": [
            {"frontend": fe, "maxconn": m, "via": via} for fe, m, via in full.contributions
        ],
        "contributions_total": full.total,
        "servers": servers,
    }


def explain(config: Config, global_maxconn: int, global_source: str) -> dict[str, Any]:
    """The report: process, frontends, backends with their servers."""
    full = fullconns(config, global_maxconn)
    schedules = _schedules(config)
    return {
        "global_maxconn": global_maxconn,
        "global_maxconn_from": global_source,
        "frontends": [_frontend(px, global_maxconn) for px in config.frontends if not px.disabled],
        "backends": [
            _backend(px, full[px.name], schedules) for px in config.backends if not px.disabled
        ],
    }


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2) + "\n"


def _checks_line(c: dict[str, Any]) -> str:
    spread = f", each ±{c['spread_checks_pct']} %" if c["spread_checks_pct"] else ""
    return (
        f"checks: first at +{c['first_check_ms']} ms; then every {c['inter_ms']} ms when up, "
        f"{c['fastinter_ms']} ms while going up or down, {c['downinter_ms']} ms when down"
        f"{spread} (rise {c['rise']}, fall {c['fall']})"
    )


def render_text(report: dict[str, Any]) -> str:
    out = [f"global maxconn {report['global_maxconn']} ({report['global_maxconn_from']})", ""]
    for fe in report["frontends"]:
        out.append(f"frontend {fe['name']}: maxconn {fe['maxconn']} ({fe['from']})")
    if report["frontends"]:
        out.append("")
    for be in report["backends"]:
        out += _backend_text(be)
    return "\n".join(out)


def _backend_text(be: dict[str, Any]) -> list[str]:
    out = [f"backend {be['name']}: fullconn {be['fullconn']} ({be['fullconn_from']})"]
    parts = " + ".join(f"{c['maxconn']} ({c['frontend']}, {c['via']})" for c in be["contributions"])
    derived = (be["contributions_total"] + 9) // 10 or 1
    if "10 %" in be["fullconn_from"]:
        out.append(
            f"  = ceil(({parts}) / 10) = {derived}"
            if parts
            else "  no frontend reaches it statically: 1"
        )
    elif parts:
        out.append(f"  reached by {parts}; without 'fullconn' it would be {derived}")
    for srv in be["servers"]:
        if srv["limit"] == "none":
            limit = "no connection limit"
        elif srv["limit"] == "static":
            limit = f"maxconn {srv['maxconn']} (static: minconn = maxconn)"
        else:
            limit = (
                f"minconn {srv['minconn']} maxconn {srv['maxconn']} (dynamic: "
                f"max({srv['minconn']}, beconn * {srv['maxconn']} / {be['fullconn']}), "
                f"{srv['maxconn']} from beconn {be['fullconn']} on)"
            )
        out.append(f"  server {srv['name']}: {limit}")
        if srv["limit"] == "dynamic":
            loads = srv["limit_at_load"]
            out.append(
                "    limit at "
                + ", ".join(
                    f"{load} of fullconn (beconn {be['fullconn'] * int(load[:-1]) // 100}): {v}"
                    for load, v in loads.items()
                )
            )
        queue = f"at most {srv['maxqueue']} waiting" if srv["maxqueue"] > 0 else "unbounded"
        out.append(f"    queue: {queue}")
        if srv["checks"] is not None:
            out.append("    " + _checks_line(srv["checks"]))
    out.append("")
    return out
