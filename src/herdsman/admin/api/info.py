"""``show info [typed|json] [desc] [float]`` (``stats.c stats_fill_info()``).

The process facts as 2.6.12 prints them. What herdsman has no equivalent
for reads as HAProxy would with that feature idle: memory pools (Python
manages memory: 0), pipes, SSL, compression, peers and resolvers (0).
``Tasks`` counts the checks and live connections (each one task in HAProxy),
``Jobs`` the listeners, the live connections and this CLI connection.
"""

from __future__ import annotations

from herdsman.admin.api.cli import Command, Session
from herdsman.admin.api.context import Api
from herdsman.admin.api.fields import Value, info_json, info_text, info_typed, text, u32, u64
from herdsman.version import HAPROXY_COMPAT, RELEASE_DATE, VERSION

PRODUCT_NAME = "HAProxy"
HAPROXY_VERSION = f"{HAPROXY_COMPAT}-herdsman-{VERSION}"


def _flt(tags: str, value: float) -> Value:
    """An ``FF_FLT`` value: ``%f`` with the trailing zeros trimmed (``flt_trim()``)."""
    shown = f"{value:f}".rstrip("0").rstrip(".")
    return (tags, "flt", shown)


def info_values(api: Api, use_float: bool = False) -> dict[int, Value]:
    """``stats_fill_info()``."""
    reg = api.registry
    proc = reg.process
    c = proc.counters
    g = api.config.global_
    now_ms = api.clock.now_ms()
    up_ms = now_ms - api.start_ms
    up = up_ms // 1000
    ulimit = api.ulimit_n()
    conn_rate = c.conn_per_sec.read(now_ms)
    sess_rate = c.sess_per_sec.read(now_ms)
    bytes_out = sum(fe.counters.bytes_out for fe in reg.frontends.values())
    checks = sum(
        (srv.check is not None) + (srv.agent is not None)
        for be in reg.backends.values()
        for srv in be.servers
    )
    v: dict[int, Value] = {
        0: text("POS", PRODUCT_NAME),
        1: text("POS", HAPROXY_VERSION),
        2: text("POS", RELEASE_DATE),
        3: u32("CGS", 1),
        4: u32("CGS", 1),
        5: u32("KGP", 1),
        6: u32("SGP", api.pid),
        7: text("MDP", f"{up // 86400}d {up % 86400 // 3600}h{up % 3600 // 60:02d}m{up % 60:02d}s"),
        8: _flt("MDP", up_ms / 1000) if use_float else u32("MDP", up),
        9: u32("CLP", 0),
        10: u32("MGP", 0),
        11: u32("MGP", 0),
        12: u32("MCP", 0),
        13: u32("CLP", ulimit),
        14: u32("CLP", ulimit),
        15: u32("CLP", proc.maxconn),
        16: u32("CLP", proc.hard_maxconn),
        17: u32("MGP", proc.actconn),
        18: u32("MCP", c.cum_conn),
        19: u32("MCP", c.cum_req),
        20: u32("MMP", 0),
        21: u32("MGP", 0),
        22: u32("MCP", 0),
        23: u32("CLP", 0),
        24: u32("MGP", 0),
        25: u32("MGP", 0),
        26: _flt("MRP", conn_rate) if use_float else u32("MRP", conn_rate),
        27: u32("CLP", proc.cps_lim),
        28: u32("MMP", c.cps_max),
        29: _flt("MRP", sess_rate) if use_float else u32("MRP", sess_rate),
        30: u32("CLP", proc.sps_lim),
        31: u32("MRP", c.sps_max),
        32: _flt("MRP", 0) if use_float else u32("MRP", 0),
        33: u32("CLP", 0),
        34: u32("MMP", 0),
        35: _flt("MRP", 0) if use_float else u32("MGP", 0),
        36: u32("MMP", 0),
        37: _flt("MRP", 0) if use_float else u32("MGP", 0),
        38: _flt("MRP", 0) if use_float else u32("MRP", 0),
        39: u32("MMP", 0),
        40: u32("MCP", 0),
        41: u32("MCP", 0),
        42: _flt("MRP", 0) if use_float else u32("MRP", 0),
        43: _flt("MRP", 0) if use_float else u32("MRP", 0),
        44: u32("CLP", 0),
        47: u32("MGP", checks + proc.actconn),
        48: u32("MGP", 0),
        49: u32("MaP", 100),
        50: text("COS", api.node),
        52: u32("MGP", int(api.stopping)),
        53: u32("MGP", api.listeners + proc.actconn + 1),
        54: u32("MGP", 0),
        55: u32("MGP", api.listeners),
        56: u32("MGP", 0),
        57: u32("MGP", 0),
        58: u32("MGP", 0),
        59: u32("MGP", 0),
        60: u32("MGP", 0),
        61: u64("MGP", bytes_out),
        62: u64("MGP", 0),
        63: u64("MRP", 0),
        64: u32("MGP", 0),
        65: u32("MCP", 0),
        66: text("POS", HAPROXY_VERSION),
        67: u32("CLP", 0),
        68: u64("MGP", 0),
        69: u64("MGP", 0),
        70: _flt("MDP", api.start_wall) if use_float else u32("MDP", int(api.start_wall)),
        71: text("SGP", "0"),  # no experimental command exists to taint the process
    }
    if g.description:
        v[51] = text("COS", g.description)
    return v


def show_info(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    fmt, desc, use_float = "text", False, False
    for word in args[2:]:
        if word in ("typed", "json"):
            fmt = word
        elif word == "desc":
            desc = True
        elif word == "float":
            use_float = True
    values = info_values(api, use_float)
    if fmt == "typed":
        return info_typed(values, desc)
    if fmt == "json":
        return info_json(values)
    return info_text(values, desc)


COMMANDS = [
    Command(
        ("show", "info"),
        "show info [desc|json|typed|float]*      : report information about the running process",
        show_info,
    ),
]
