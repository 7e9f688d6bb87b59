"""Server-state files read at start-up (``server_state.c apply_server_state()`` of 2.6,
spec §13.8).

A backend with ``load-server-state-from-file global`` takes its servers'
lines from the global ``server-state-file``; with ``local``, from its own
``server-state-file-name``; both relative to ``server-state-base``. The file
is what ``show servers state`` prints (version 1). Lines are matched by
backend and server name; each is checked whole (any bad field: the line is
not applied, with 2.6's warning) and then applied through
``core/transitions.py``: operational state, admin state (forced maintenance
and drain; the configuration's ``disabled`` decides against a state saved
before it changed), the user weight when the initial weight did not change,
the time of the last change, the last check status, a disabled check, the
check's address and port. The server address itself is only taken back by
HAProxy for servers given by host name (``init-addr last``), which herdsman
resolves before this point: it is not applied.
"""

from __future__ import annotations

import re

from herdsman.config.model import Config, ProxyConfig
from herdsman.core import transitions
from herdsman.core.backend import Backend, Hooks, Server
from herdsman.core.events import Cause
from herdsman.core.states import SrvAdmin, SrvState
from herdsman.defs.levels import LOG_NOTICE
from herdsman.defs.status import Result, Status

MIN_FIELDS, MAX_FIELDS = 20, 25
_ADMIN_OK = {0, 0x01, 0x04, 0x05, 0x0C, 0x08}  # none, FMAINT, CMAINT, both, CMAINT|FDRAIN, FDRAIN
_CHECK_BITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x10
_RESULTS = [Result.UNKNOWN, Result.NEUTRAL, Result.FAILED, Result.PASSED, Result.CONDPASS]
_NUM = re.compile(r"[ \t]*[+-]?[0-9]+")
_HOSTCHARS = re.compile(r"[A-Za-z0-9._-]+")


def _strtol(text: str) -> int | None:
    m = _NUM.match(text)
    return int(m.group()) if m else None


def _path(base: str | None, name: str) -> str:
    """``srv_state_get_filepath()``."""
    if name.startswith("/") or not base:
        return name
    return base + ("" if base.endswith("/") else "/") + name


def _version(first: str) -> int:
    """``srv_state_get_version()``: 1, or 0 when unreadable."""
    m = re.fullmatch(r"([+-]?[0-9]+)\n", first)
    return 1 if m and int(m.group(1)) == 1 else 0


def _parse_line(line: str) -> list[str] | int | None:
    """``srv_state_parse_line()``: the fields, None to skip (blank, comment), -1: corrupt."""
    if not line.endswith("\n"):
        return -1
    body = line[:-1].lstrip(" \t")
    if not body or body.startswith("#"):
        return None
    fields = [f for f in re.split(r"[ \t]+", body) if f != ""]
    if not MIN_FIELDS <= len(fields) <= MAX_FIELDS:
        return -1
    return fields


def _read(path: str) -> tuple[int, list[str]] | str:
    """The version and lines of a state file, or the strerror() when it cannot be opened."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError as exc:
        return exc.strerror or str(exc)
    lines = text.splitlines(keepends=True)
    if not lines:
        return 0, []
    return _version(lines[0]), lines[1:]


def apply(config: Config, backends: dict[str, Backend], hooks: Hooks) -> None:
    """``apply_server_state()``: load the files and apply them to the servers."""
    g = config.global_
    global_lines: dict[tuple[str, str], list[str]] | None = None
    if g.server_state_file:
        path = _path(g.server_state_base, g.server_state_file)
        got = _read(path)
        if isinstance(got, str):
            hooks.warning(f"config: Can't open global server state file '{path}': {got}")
        elif got[0] == 0:
            hooks.warning(f"config: Can't get version of the global server state file '{path}'.")
        else:
            global_lines = {}
            for linenum, line in enumerate(got[1], start=1):
                fields = _parse_line(line)
                if fields == -1:
                    hooks.warning(
                        f"config: corrupted global server state file '{path}' at line {linenum}."
                    )
                    global_lines = None
                    break
                if isinstance(fields, list):
                    global_lines.setdefault((fields[1], fields[3]), fields)
    for px in config.proxies:
        be = backends.get(px.name)
        if be is None or not be.servers or px.load_server_state_from_file in (None, "none"):
            continue
        if px.load_server_state_from_file == "global":
            if global_lines is not None:
                _update_backend(be, global_lines, hooks)
            continue
        _apply_local(px, be, g.server_state_base, hooks)


def _apply_local(px: ProxyConfig, be: Backend, base: str | None, hooks: Hooks) -> None:
    path = _path(base, px.server_state_file_name or "")
    got = _read(path)
    if isinstance(got, str):
        hooks.warning(f"Proxy '{px.name}': Can't open server state file '{path}': {got}.")
        return
    if got[0] == 0:
        hooks.warning(f"Proxy '{px.name}': Can't get version of the server state file '{path}'.")
        return
    lines: dict[tuple[str, str], list[str]] = {}
    for linenum, line in enumerate(got[1], start=1):
        fields = _parse_line(line)
        if fields == -1:
            hooks.warning(
                f"Proxy '{px.name}': corrupted server state file '{path}' at line {linenum}."
            )
            return
        if not isinstance(fields, list):
            continue
        same_id = (_strtol(fields[0]) or 0) == px.uuid
        same_name = fields[1] == px.name
        if not same_id and not same_name:
            continue
        if not same_id:
            text = (
                f"backend ID mismatch: from server state file: '{fields[0]}', from running "
                f"config '{px.uuid}'"
            )
            hooks.warning(f"Proxy '{px.name}': {text}")
            hooks.log(be, LOG_NOTICE, text)
        elif not same_name:
            text = (
                f"backend name mismatch: from server state file: '{fields[1]}', from running "
                f"config '{px.name}'"
            )
            hooks.warning(f"Proxy '{px.name}': {text}")
            hooks.log(be, LOG_NOTICE, text)
            if not (_strtol(fields[15]) or 0) & 1:
                continue
        lines.setdefault((px.name, fields[3]), fields)
    _update_backend(be, lines, hooks)
    for _, sname in lines:
        text = f"can't find server '{sname}' in backend '{px.name}'"
        hooks.warning(f"Proxy '{px.name}': {text}")
        hooks.log(be, LOG_NOTICE, text)


def _update_backend(be: Backend, lines: dict[tuple[str, str], list[str]], hooks: Hooks) -> None:
    """``srv_state_px_update()``: each server takes its line (and uses it up)."""
    for srv in list(be.servers):
        fields = lines.pop((be.name, srv.name), None)
        if fields is not None:
            _update_server(srv, fields[4:], hooks)


def _update_server(srv: Server, p: list[str], hooks: Hooks) -> None:
    """``srv_state_srv_update()``: validate every field, then apply."""
    p = p + [""] * (21 - len(p))
    msg = []
    op = _strtol(p[1])
    if op is None or op not in (0, 1, 2, 3):
        msg.append(f", invalid srv_op_state value '{p[1]}'")
    admin = _strtol(p[2])
    if admin is not None:
        admin &= ~(SrvAdmin.IDRAIN | SrvAdmin.IMAINT | SrvAdmin.HMAINT | SrvAdmin.RMAINT)
    if admin is None or admin not in _ADMIN_OK:
        msg.append(f", invalid srv_admin_state value '{p[2]}'")
    uweight = _strtol(p[3])
    if uweight is None or not 0 <= uweight <= 256:
        msg.append(f", invalid srv_uweight value '{p[3]}'")
    iweight = _strtol(p[4])
    if iweight is None or not 0 <= iweight <= 256:
        msg.append(f", invalid srv_iweight value '{p[4]}'")
    last = _strtol(p[5])
    if last is None:
        msg.append(f", invalid srv_last_time_change value '{p[5]}'")
    status = _strtol(p[6])
    if status is None or not 0 <= status <= max(Status):
        msg.append(f", invalid srv_check_status value '{p[6]}'")
    result = _strtol(p[7])
    if result is None or not 0 <= result < len(_RESULTS):
        msg.append(f", invalid srv_check_result value '{p[7]}'")
    health = _strtol(p[8])
    if health is None:
        msg.append(f", invalid srv_check_health value '{p[8]}'")
    cstate = _strtol(p[9])
    if cstate is None or cstate & ~_CHECK_BITS:
        msg.append(f", invalid srv_check_state value '{p[9]}'")
    astate = _strtol(p[10])
    if astate is None or astate & ~_CHECK_BITS:
        msg.append(f", invalid srv_agent_state value '{p[10]}'")
    for i, name in ((11, "bk_f_forced_id"), (12, "srv_f_forced_id")):
        if _strtol(p[i]) not in (0, 1):
            msg.append(f", invalid {name} value '{p[i]}'")
    fqdn = p[13] if p[13] and not p[13].startswith("-") else None
    if fqdn is not None and (len(fqdn) > 255 or not _HOSTCHARS.fullmatch(fqdn)):
        msg.append(f", invalid srv_fqdn value '{p[13]}'")
    if p[14] and (not p[14].isdigit() or int(p[14]) > 65535):
        msg.append(f", invalid srv_port value '{p[14]}'")
    prefix = f"{srv.backend.name}/{srv.name}"
    if msg:
        hooks.warning(f"server-state application failed for server '{prefix}'{''.join(msg)}")
        return
    values = (op, admin, uweight, iweight, last, status, result, health, cstate)
    if any(v is None for v in values):  # pragma: no cover - every None was reported above
        return
    assert op is not None
    assert admin is not None
    assert uweight is not None
    assert iweight is not None
    assert last is not None
    assert status is not None
    assert result is not None
    assert health is not None
    assert cstate is not None
    _apply_state(srv, SrvState(op), health)
    _apply_admin(srv, SrvAdmin(admin), iweight)
    srv.last_change = srv.backend.clock.now_s() - last
    chk = srv.check
    if chk is not None:
        chk.status = Status(status)
        chk.result = _RESULTS[result]
        if cstate & 0x02 and not cstate & 0x04:  # saved configured but disabled
            transitions.set_check_enabled(srv, False, False)
    if iweight == srv.iweight:
        transitions.set_weight(srv, uweight, Cause.STARTUP)
    warning = _check_dest(srv, p[17], p[18])
    if warning:
        hooks.warning(f"server-state partially applied for server '{prefix}', {warning}")


def _apply_state(srv: Server, op: SrvState, health: int) -> None:
    reason = "changed from server-state after a reload"
    chk = srv.check
    if chk is not None:
        chk.health = health
    if op is SrvState.STOPPED:
        if chk is not None:
            chk.health = 0
        transitions.set_stopped(srv, reason, cause=Cause.STARTUP)
    elif op is SrvState.STARTING:
        if chk is not None and chk.rise == 1:
            chk.health = chk.rise + chk.fall - 1
            transitions.set_running(srv, "", cause=Cause.STARTUP)
        elif chk is not None and (chk.health < 1 or chk.health >= chk.rise):
            chk.health = chk.rise - 1
    elif op is SrvState.STOPPING:
        if chk is not None and chk.fall == 1:
            chk.health = 0
            transitions.set_stopped(srv, reason, cause=Cause.STARTUP)
            return
        if chk is not None and not chk.rise <= chk.health <= chk.rise + chk.fall - 2:
            chk.health = chk.rise
        transitions.set_stopping(srv, reason, cause=Cause.STARTUP)
    else:
        if chk is not None:
            chk.health = chk.rise + chk.fall - 1
        transitions.set_running(srv, "", cause=Cause.STARTUP)


def _apply_admin(srv: Server, admin: SrvAdmin, iweight: int) -> None:
    """The saved forced maintenance and drain, the configuration's ``disabled`` first."""
    conf_maint = bool(srv.next_admin & SrvAdmin.CMAINT)
    if bool(admin & SrvAdmin.CMAINT) != conf_maint:
        if conf_maint:
            transitions.adm_set_maint(srv)
        else:
            transitions.adm_set_ready(srv)
    elif admin & SrvAdmin.FMAINT and not conf_maint:
        transitions.adm_set_maint(srv)
    elif not admin & SrvAdmin.FMAINT and conf_maint:
        transitions.adm_set_ready(srv)
    saved_drain = not srv.next_admin & SrvAdmin.FMAINT and admin & SrvAdmin.FDRAIN
    if saved_drain and (iweight > 0 or srv.iweight == 0):
        transitions.adm_set_drain(srv)


def _check_dest(srv: Server, port: str, addr: str) -> str | None:
    """The saved check port and address (``srv_update_check_addr_port()``)."""
    from herdsman.admin.api.servers import update_check

    port_arg = port if port and port != "0" else None
    addr_arg = addr if addr and addr != "-" else None
    if port_arg is None and addr_arg is None:
        return None
    return update_check(srv, addr_arg, port_arg)


__all__ = ["apply"]
