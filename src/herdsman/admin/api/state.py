"""``show servers state|conn [<backend>]`` and ``show backend`` (``proxy.c`` of 2.6).

``show servers state`` is also the server-state file format (version 1,
``SRV_STATE_FILE_FIELD_NAMES``): ``admin/statefile.py`` reads back what
``state_line()`` writes. A server without a health check still has HAProxy's
idle check structure: status INI, health ``rise`` (0 and paused when the
server starts ``disabled``).
"""

from __future__ import annotations

import ipaddress

from herdsman.admin.api.cli import Command, Session, arg
from herdsman.admin.api.context import Api
from herdsman.config.model_addr import Address, Family
from herdsman.core.backend import Backend, Check, Server
from herdsman.defs.status import Result, Status

STATE_FILE_VERSION = 1
FIELD_NAMES = (
    "be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
    "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
    "srv_agent_port"
)
RESULTS = {
    Result.UNKNOWN: 0,
    Result.NEUTRAL: 1,
    Result.FAILED: 2,
    Result.PASSED: 3,
    Result.CONDPASS: 4,
}
CHK_ST_INPROGRESS, CHK_ST_CONFIGURED, CHK_ST_ENABLED, CHK_ST_PAUSED = 0x01, 0x02, 0x04, 0x08


def _ip(addr: Address | None) -> str:
    """``dump_server_addr()``: the IP, "-" for other families."""
    if addr is None or addr.family not in (Family.INET, Family.INET6):
        return "-"
    return addr.host


def fqdn(srv: Server) -> str | None:
    """The host name the server line gave (``srv->hostname``), if it was not an IP."""
    addr = srv.cfg.addr
    if addr is None or not addr.is_ip:
        return None
    raw = addr.raw.split("@", 1)[-1]
    host = (
        raw[1 : raw.find("]")]
        if raw.startswith("[")
        else raw.rsplit(":", 1)[0]
        if raw.count(":") == 1
        else raw
    )
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.lower() or None
    return None


def check_state(chk: Check) -> int:
    state = CHK_ST_CONFIGURED
    if chk.in_progress:
        state |= CHK_ST_INPROGRESS
    if chk.enabled:
        state |= CHK_ST_ENABLED
    if chk.paused:
        state |= CHK_ST_PAUSED
    return state


def state_line(srv: Server) -> str:
    be = srv.backend
    cfg = srv.cfg
    chk = srv.check
    if chk is not None:
        status, result, health, cstate = (
            int(chk.status),
            RESULTS[chk.result],
            chk.health,
            check_state(chk),
        )
    else:  # the idle check structure of a server without "check"
        status, result = int(Status.INI), 0
        health, cstate = (0, CHK_ST_PAUSED) if cfg.disabled else (cfg.rise, 0)
    now = be.clock.now_s()
    fields = [
        be.cfg.uuid,
        be.name,
        srv.puid,
        srv.name,
        _ip(srv.addr),
        int(srv.cur_state),
        int(srv.cur_admin),
        srv.uweight,
        srv.iweight,
        now - srv.last_change,
        status,
        result,
        health,
        cstate,
        0,
        int("id" in be.cfg.keywords),
        int("id" in cfg.keywords),
        fqdn(srv) or "-",
        srv.addr.port & 0xFFFFFFFF,
        "-",
        1 if cfg.tls.enabled else (-1 if "no-ssl" in cfg.keywords else 0),  # srv->use_ssl
        srv.check_port,
        _ip(srv.check_addr),
        "-",
        0,
    ]
    return " ".join(str(f) for f in fields) + "\n"


def conn_line(srv: Server) -> str:
    """One ``show servers conn`` line: HAProxy's idle-connection counters are all 0
    (TCP mode keeps no idle server connection), the purge delay 5000 ms, no limit."""
    be = srv.backend
    return (
        f"{be.name}/{srv.name} {be.cfg.uuid}/{srv.puid} {_ip(srv.addr)} "
        f"{srv.addr.port & 0xFFFFFFFF} - 5000 {srv.served} {srv.counters.sess_max} "
        f"{srv.served} 0 0 -1 0\n"
    )


def _backends(api: Api, name: str) -> list[Backend] | str:
    if not name:
        return [be for px in api.proxies() if (be := api.registry.backends.get(px.name))]
    be = api.registry.backends.get(name)
    if be is None:
        return "Can't find backend.\n"
    return [be]


def show_servers(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    bes = _backends(api, arg(args, 3))
    if isinstance(bes, str):
        return bes
    if arg(args, 2).startswith("c"):
        out = [
            "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est "
            "unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[1]\n"
        ]
        out += [conn_line(srv) for be in bes for srv in be.servers]
        return "".join(out)
    out = [f"{STATE_FILE_VERSION}\n# {FIELD_NAMES}\n"]
    out += [state_line(srv) for be in bes for srv in be.servers]
    return "".join(out)


def show_backend(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    names = [px.name for px in api.config.proxies if px.name in api.registry.backends]
    return "# name\n" + "".join(f"{n}\n" for n in names)


COMMANDS: list[Command[Api]] = [
    Command(
        ("show", "servers", "conn"),
        "show servers conn [<backend>]           : dump server connections status "
        "(all or for a single backend)",
        show_servers,
    ),
    Command(
        ("show", "servers", "state"),
        "show servers state [<backend>]          : dump volatile server information "
        "(all or for a single backend)",
        show_servers,
    ),
    Command(
        ("show", "backend"),
        "show backend                            : list backends in the current running config",
        show_backend,
    ),
]
