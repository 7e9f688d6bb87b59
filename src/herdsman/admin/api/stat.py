"""``show stat``: one row per frontend, server and backend (``stats.c`` of 2.6,
``stats_fill_fe_stats()``, ``stats_fill_sv_stats()``, ``stats_fill_be_stats()``).

Each fill function returns the row's fields with their tags and types as
2.6.12 prints them; a field HAProxy leaves empty for that object (HTTP
counters in TCP mode, check fields without a check...) is absent. The
stats modules' fields (ssl, h2, h1) are all zero: herdsman has no TLS and no
HTTP multiplexer yet, so those counters truly are zero.

Filters (``stats_dump_proxy_to_buffer()``): ``<iid> <type> <sid>`` bound the
dump to one proxy (-1: all), some object types (bit mask: 1 frontends,
2 backends, 4 servers, -1 all) and one server id; ``up`` hides servers that
are DOWN and not going up, and those in maintenance; ``no-maint`` hides
those in maintenance; with either, a backend's status reads "UP (n/m)".
"""

from __future__ import annotations

from collections.abc import Iterator

from herdsman.admin.api.cli import Command, Level, Session, arg
from herdsman.admin.api.context import Api
from herdsman.admin.api.fields import (
    Row,
    csv_header,
    csv_line,
    json_rows,
    s32,
    text,
    typed_lines,
    u32,
    u64,
)
from herdsman.admin.api.names import STAT_FIELDS, STATIC_FIELDS
from herdsman.config.model import Cap, Mode, Observe, ProxyConfig
from herdsman.config.model_addr import Family
from herdsman.core.backend import Backend, Check, Server
from herdsman.core.counters import BeCounters, FeCounters, samples_window, swrate_avg
from herdsman.core.registry import FrontendState
from herdsman.core.states import DRAIN, MAINT, SrvAdmin, SrvState
from herdsman.defs.status import Status

TYPE_FE, TYPE_BE, TYPE_SV = 0, 1, 2

# stats modules: (first position, count, object types having it)
_MODULES = (
    (103, 3, (TYPE_FE, TYPE_BE, TYPE_SV)),
    (106, 13, (TYPE_FE, TYPE_BE)),
    (119, 8, (TYPE_FE, TYPE_BE)),
)
_GAUGES = {115, 116, 119, 120}  # h2/h1 "open" counts are gauges


def _modules(row: Row, kind: int) -> None:
    for first, count, kinds in _MODULES:
        if kind in kinds:
            for pos in range(first, first + count):
                row[pos] = u64("MGP" if pos in _GAUGES else "MCP", 0)


def _http(row: Row, px: ProxyConfig, c: FeCounters | BeCounters, kind: int) -> None:
    """The HTTP counters of a proxy in HTTP mode: responses by class (herdsman keeps
    1xx..5xx then other, HAProxy's ``rsp[]`` other first), requests, interceptions
    and cache lookups (no cache in herdsman: 0)."""
    if px.mode is not Mode.HTTP:
        return
    for i in range(6):
        row[39 + i] = u64("MCP", c.http_rsp[i])
    if kind != TYPE_FE:
        row[48] = u64("MCP", c.cum_req)
    if kind == TYPE_FE and isinstance(c, FeCounters):
        row[80] = u64("MCP", c.intercepted_req)
    if kind != TYPE_SV:
        row[86] = u64("MCP", 0)
        row[87] = u64("MCP", 0)


def _algo(px: ProxyConfig) -> str:
    """``backend_lb_algo_str()`` (2.6 has no name for ``random``)."""
    algo = px.balance.algo
    return "unknown" if algo == "random" else algo


def frontend_row(fe: FrontendState) -> Row:
    px = fe.cfg
    c = fe.counters
    now = fe.clock.now_ms()
    row: Row = {
        0: text("KNS", px.name),
        1: text("KNS", "FRONTEND"),
        4: u32("MGP", fe.feconn),
        5: u32("MMP", c.conn_max),
        6: u32("CLP", fe.maxconn),
        7: u64("MCP", c.cum_sess),
        8: u64("MCP", c.bytes_in),
        9: u64("MCP", c.bytes_out),
        10: u64("MCP", c.denied_req),
        11: u64("MCP", c.denied_resp),
        12: u64("MCP", c.failed_req),
        17: text("SGP", "STOP" if fe.stopping else "OPEN"),
        26: u32("KGP", 1),
        27: u32("KGS", px.uuid),
        28: u32("KGS", 0),
        32: u32("CGS", TYPE_FE),
        33: u32("MRP", c.sess_per_sec.read(now)),
        34: u32("CLP", 0),
        35: u32("MMP", c.sps_max),
        46: u32("MRP", c.req_per_sec.read(now)),
        47: u32("MMP", c.rps_max),
        48: u64("MCP", c.cum_req),
        51: u64("MCP", 0),
        52: u64("MCP", 0),
        53: u64("MCP", 0),
        54: u64("MCP", 0),
        75: text("CGS", px.mode.value),
        77: u32("MRP", c.conn_per_sec.read(now)),
        78: u32("MMP", c.cps_max),
        79: u64("MCP", c.cum_conn),
        81: u64("MCP", c.denied_conn),
        82: u64("MCP", c.denied_sess),
        83: u64("MCP", 0),
        94: u64("MCP", 0),
    }
    _http(row, px, c, TYPE_FE)
    _modules(row, TYPE_FE)
    return row


def _check_on(chk: Check | None) -> bool:
    """``(state & (ENABLED|PAUSED)) == ENABLED``: the check fields are shown."""
    return chk is not None and chk.enabled and not chk.paused


def _enabled(chk: Check | None) -> bool:
    return chk is not None and chk.enabled


def server_status(srv: Server) -> str:
    """The ``status`` column (spec §11.2, ``stats_fill_sv_stats_computestate()``)."""
    admin = srv.cur_admin
    via = srv.track or srv
    if admin & SrvAdmin.RMAINT:
        return "MAINT (resolution)"
    if admin & SrvAdmin.IMAINT:
        return f"MAINT (via {via.backend.name}/{via.name})"
    if admin & MAINT:
        return "MAINT"
    ref = srv
    while ref.track is not None:
        ref = ref.track
    chk, agent = ref.check, ref.agent
    health = chk.health if chk is not None else 0
    rise, fall = (chk.rise, chk.fall) if chk is not None else (0, 0)
    if ref.cur_state is not SrvState.STOPPED:
        a, b = health - rise + 1, fall
    else:
        a, b = health, rise
    state = srv.cur_state
    if state in (SrvState.RUNNING, SrvState.STARTING):
        going_down = _enabled(chk) and health < rise + fall - 1
        word = "UP %d/%d" if going_down else "UP"
        if admin & DRAIN:
            if _enabled(agent):
                word = "DRAIN (agent)"
            elif going_down:
                word = "DRAIN %d/%d"
            else:
                word = "DRAIN"
        if word == "UP" and not _enabled(chk):
            word = "no check"
    elif state is SrvState.STOPPING:
        if (not _enabled(srv.check) and srv.track is None) or health == rise + fall - 1:
            word = "NOLB"
        else:
            word = "NOLB %d/%d"
    elif _enabled(agent) and agent is not None and not agent.health:
        word = "DOWN (agent)"
    elif _enabled(chk) and not health:
        word = "DOWN"
    elif _enabled(agent) or _enabled(chk):
        word = "DOWN %d/%d"
    else:
        word = "DOWN"
    return word % (a, b) if "%d" in word else word


def _downtime(srv: Server, now_s: int) -> int:
    """``srv_downtime()``."""
    if srv.cur_state is not SrvState.STOPPED or srv.last_change >= now_s:
        return srv.down_time
    return now_s - srv.last_change + srv.down_time


def _lastsess(last: int, now_s: int) -> int:
    return now_s - last if last >= 0 else -1


def _addr(srv: Server) -> str | None:
    addr = srv.addr
    if addr.family is Family.INET:
        return f"{addr.host}:{addr.port}"
    if addr.family is Family.INET6:
        return f"[{addr.host}]:{addr.port}"
    if addr.family in (Family.UNIX, Family.ABNS):
        return "unix"
    return None


def server_row(srv: Server, legends: bool) -> Row:
    be = srv.backend
    px = be.cfg
    c = srv.counters
    now_ms = be.clock.now_ms()
    now = now_ms // 1000
    ref = srv
    while ref.track is not None:
        ref = ref.track
    chk, agent = srv.check, srv.agent
    window = samples_window(c.cum_lbconn)
    row: Row = {
        0: text("KNS", px.name),
        1: text("KNS", srv.name),
        2: u32("MGP", srv.nbpend),
        3: u32("MMP", c.nbpend_max),
        4: u32("MGP", srv.served),
        5: u32("MMP", c.sess_max),
        7: u64("MCP", c.cum_sess),
        8: u64("MCP", c.bytes_in),
        9: u64("MCP", c.bytes_out),
        11: u64("MCP", c.denied_resp),
        13: u64("MCP", c.failed_conns),
        14: u64("MCP", c.failed_resp),
        15: u64("MCP", c.retries),
        16: u64("MCP", c.redispatches),
        17: text("SGP", server_status(srv)),
        18: u32("MaP", -(-srv.eweight * be.wmult // be.wdiv)),
        19: u32("SGP", 0 if srv.backup else 1),
        20: u32("SGP", 1 if srv.backup else 0),
        23: u32("MAP", now - srv.last_change),
        26: u32("KGP", 1),
        27: u32("KGS", px.uuid),
        28: u32("KGS", srv.puid),
        30: u64("MCP", c.cum_lbconn),
        32: u32("CGS", TYPE_SV),
        33: u32("MRP", c.sess_per_sec.read(now_ms)),
        35: u32("MMP", c.sps_max),
        49: u64("MCP", c.cli_aborts),
        50: u64("MCP", c.srv_aborts),
        55: s32("MAP", _lastsess(c.last_sess, now)),
        58: u32("MaP", swrate_avg(c.q_time, window)),
        59: u32("MaP", swrate_avg(c.c_time, window)),
        60: u32("MaP", swrate_avg(c.d_time, window)),
        61: u32("MaP", swrate_avg(c.t_time, window)),
        75: text("CGS", px.mode.value),
        83: u64("MCP", 0),
        84: u64("MCP", c.connect),
        85: u64("MCP", c.reuse),
        88: u32("MGP", 0),
        90: u32("MMP", c.qtime_max),
        91: u32("MMP", c.ctime_max),
        92: u32("MMP", c.dtime_max),
        93: u32("MMP", c.ttime_max),
        94: u64("MCP", 0),
        95: u32("MGP", 0),
        96: u32("MGP", 0),
        97: u32("MGP", 0),
        98: u32("MGP", srv.served),
        99: u32("MaP", srv.uweight),
    }
    if srv.maxconn:
        row[6] = u32("CLP", srv.maxconn)
    if _enabled(chk):
        row[21] = u64("MCP", c.failed_checks)
        row[22] = u64("MCP", c.down_trans)
        row[24] = u32("MCP", _downtime(srv, now))
    if srv.maxqueue:
        row[25] = u32("CGS", srv.maxqueue)
    if srv.track is not None:
        row[31] = text("CNS", f"{srv.track.backend.name}/{srv.track.name}")
    if ref.cfg.observe is not Observe.NONE:
        row[45] = u64("MCP", c.failed_hana)
    if chk is not None and _check_on(chk):
        row[36] = text("MOP", ("* " if chk.in_progress else "") + chk.status.short)
        if chk.status >= Status.L57DATA:
            row[37] = u32("MOP", chk.code)
        if chk.status >= Status.CHECKED:
            row[38] = u64("MDP", chk.duration)
        row[65] = text("MOP", chk.status.description)
        row[56] = text("MOP", chk.desc)
        rchk = ref.check or chk
        row[67] = u32("CGS", rchk.rise)
        row[68] = u32("CGS", rchk.fall)
        row[69] = u32("CGS", rchk.health)
    if agent is not None and _check_on(agent):
        row[62] = text("MOP", ("* " if agent.in_progress else "") + agent.status.short)
        if agent.status >= Status.L57DATA:
            row[63] = u32("MOP", agent.code)
        row[64] = u64("MDP", agent.duration)
        row[66] = text("MOP", agent.status.description)
        row[57] = text("MOP", agent.desc)
        row[70] = u32("CGS", agent.rise)
        row[71] = u32("CGS", agent.fall)
        row[72] = u32("CGS", agent.health)
    if legends:
        addr = _addr(srv)
        if addr is not None:
            row[73] = text("CGS", addr)
    _http(row, px, c, TYPE_SV)
    _modules(row, TYPE_SV)
    return row


def _be_downtime(be: Backend, now_s: int) -> int:
    """``be_downtime()``."""
    if be.tot_weight and be.last_change < now_s:
        return be.down_time
    return now_s - be.last_change + be.down_time


def backend_row(be: Backend, legends: bool, hide: bool) -> Row:
    px = be.cfg
    c = be.counters
    now_ms = be.clock.now_ms()
    now = now_ms // 1000
    nbup = nbsrv = totuw = 0
    for srv in be.servers:
        if srv.cur_state is not SrvState.STOPPED:
            nbup += 1
            if srv.is_usable() and (not be.srv_act) ^ (not srv.backup):
                totuw += srv.uweight
        nbsrv += 1
    if not be.srv_act and be.fbck is not None:
        totuw = be.fbck.uweight
    status = "UP" if be.tot_weight > 0 or not be.servers else "DOWN"
    if hide:
        status += f" ({nbup}/{nbsrv})"
    window = samples_window(c.cum_lbconn)
    row: Row = {
        0: text("KNS", px.name),
        1: text("KNS", "BACKEND"),
        2: u32("MGP", be.queue.length),
        3: u32("MMP", c.nbpend_max),
        4: u32("MGP", be.beconn),
        5: u32("MMP", c.sess_max),
        6: u32("CLP", be.fullconn),
        7: u64("MCP", c.cum_conn),
        8: u64("MCP", c.bytes_in),
        9: u64("MCP", c.bytes_out),
        10: u64("MCP", c.denied_req),
        11: u64("MCP", c.denied_resp),
        13: u64("MCP", c.failed_conns),
        14: u64("MCP", c.failed_resp),
        15: u64("MCP", c.retries),
        16: u64("MCP", c.redispatches),
        17: text("SGP", status),
        18: u32("MaP", -(-be.tot_weight * be.wmult // be.wdiv)),
        19: u32("MGP", be.srv_act),
        20: u32("MGP", be.srv_bck),
        22: u64("MCP", c.down_trans),
        23: u32("MAP", now - be.last_change),
        26: u32("KGP", 1),
        27: u32("KGS", px.uuid),
        28: u32("KGS", 0),
        30: u64("MCP", c.cum_lbconn),
        32: u32("CGS", TYPE_BE),
        33: u32("MGP", c.sess_per_sec.read(now_ms)),
        35: u32("MGP", c.sps_max),
        49: u64("MCP", c.cli_aborts),
        50: u64("MCP", c.srv_aborts),
        51: u64("MCP", 0),
        52: u64("MCP", 0),
        53: u64("MCP", 0),
        54: u64("MCP", 0),
        55: s32("MAP", _lastsess(c.last_sess, now)),
        58: u32("MaP", swrate_avg(c.q_time, window)),
        59: u32("MaP", swrate_avg(c.c_time, window)),
        60: u32("MaP", swrate_avg(c.d_time, window)),
        61: u32("MaP", swrate_avg(c.t_time, window)),
        75: text("CGS", px.mode.value),
        83: u64("MCP", 0),
        84: u64("MCP", c.connect),
        85: u64("MCP", c.reuse),
        90: u32("MMP", c.qtime_max),
        91: u32("MMP", c.ctime_max),
        92: u32("MMP", c.dtime_max),
        93: u32("MMP", c.ttime_max),
        94: u64("MCP", 0),
        99: u32("MaP", totuw),
        100: u32("MGP", 0),
        101: u32("MGP", 0),
        102: u32("MGP", 0),
    }
    if be.servers:
        row[24] = u32("MCP", _be_downtime(be, now))
    if legends:
        row[76] = text("CGS", _algo(px))
    _http(row, px, c, TYPE_BE)
    _modules(row, TYPE_BE)
    return row


def _hidden(srv: Server, hide_maint: bool, hide_down: bool) -> bool:
    if hide_maint and srv.cur_admin & MAINT:
        return True
    if not hide_down:
        return False
    if srv.cur_admin & MAINT:
        return True
    ref = srv
    while ref.track is not None:
        ref = ref.track
    if srv.cur_state is not SrvState.STOPPED:
        return False
    chk, agent = ref.check, ref.agent
    return (
        not (_enabled(chk) or _enabled(agent))
        or (agent is not None and _enabled(agent) and not agent.health)
        or (chk is not None and _enabled(chk) and not chk.health)
    )


def rows(
    api: Api,
    legends: bool,
    iid: int = -1,
    kinds: int = -1,
    sid: int = -1,
    hide_maint: bool = False,
    hide_down: bool = False,
) -> Iterator[Row]:
    """Every row of ``show stat``, in HAProxy's order: per proxy, the frontend,
    its servers, then the backend. A generator: each row is printed and dropped
    before the next is made (thousands of servers stay cheap)."""
    hide = hide_maint or hide_down
    for px in api.proxies():
        if iid != -1 and px.uuid != iid:
            continue
        fe = api.registry.frontends.get(px.name) if px.cap & Cap.FE else None
        be = api.registry.backends.get(px.name) if px.cap & Cap.BE else None
        if fe is not None and kinds & (1 << TYPE_FE):
            yield frontend_row(fe)
        if be is not None:
            if kinds & (1 << TYPE_SV):
                for srv in be.servers:
                    if sid != -1 and srv.puid != sid:
                        continue
                    if _hidden(srv, hide_maint, hide_down):
                        continue
                    yield server_row(srv, legends)
            if kinds & (1 << TYPE_BE):
                yield backend_row(be, legends, hide)


def show_stat(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``cli_parse_show_stat()``: ``show stat [domain proxy] [<iid> <type> <sid>] [typed|json]
    [desc] [up] [no-maint]``."""
    pos = 2
    if arg(args, pos) == "domain":
        pos += 1
        if arg(args, pos) == "proxy":
            pos += 1
        elif arg(args, pos) == "resolvers":
            return ""  # no resolvers section in herdsman: nothing to list
        else:
            return "Invalid statistics domain.\n"
    iid = kinds = sid = -1
    bound = False
    if arg(args, pos) and arg(args, pos + 1) and arg(args, pos + 2):
        name = args[pos]
        px = api.config.proxy(name)
        iid = px.uuid if px is not None and not px.disabled else _atoi(name)
        if not iid:
            return "No such proxy.\n"
        kinds, sid = _atoi(args[pos + 1]), _atoi(args[pos + 2])
        bound = True
        pos += 3
    fmt, desc, hide_maint, hide_down = "csv", False, False, False
    for word in args[pos:]:
        if word in ("typed", "json"):
            fmt = word
        elif word == "desc":
            desc = True
        elif word == "no-maint":
            hide_maint = True
        elif word == "up":
            hide_down = True
    if not bound:
        iid = kinds = sid = -1
    found = rows(api, session.bind_level >= Level.OPER, iid, kinds, sid, hide_maint, hide_down)
    if fmt == "typed":
        return "".join(typed_lines(r, desc) for r in found)
    if fmt == "json":
        return json_rows(found)
    return csv_header() + "".join(csv_line(r) for r in found)


def _atoi(text: str) -> int:
    """C ``atoi()``."""
    from herdsman.config.keywords import parse_int

    value = parse_int(text)
    return ((value + 2**31) % 2**32) - 2**31


COMMANDS = [
    Command(
        ("show", "stat"),
        "show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server",
        show_stat,
    ),
]

__all__ = ["COMMANDS", "STAT_FIELDS", "STATIC_FIELDS", "rows", "server_status"]
