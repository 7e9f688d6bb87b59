"""The texts of server state changes, character for character as HAProxy 2.6 writes
them (``srv_append_status()``, ``chunk_asciiencode()``; spec §4.9, §4.10).

Used by ``core/transitions.py`` for the state-change lines and by
``checks/health.py`` for the check lines, so both quote a check's result and
the server counts the same way.
"""

from __future__ import annotations

from herdsman.core.backend import Check, Server
from herdsman.core.states import SrvState
from herdsman.defs.status import Status


def encode_desc(desc: str) -> str:
    """``chunk_asciiencode(.., '"')``: non-printable bytes, '<', '>' and '"' as <HH>.

    HAProxy encodes the bytes of the C string: a character beyond ASCII is
    its UTF-8 bytes (raw bytes kept by ``surrogateescape`` are themselves).
    """
    out = []
    for o in desc.encode("utf-8", "surrogateescape"):
        if o < 0x20 or o >= 0x7F or o in b'<>"':
            out.append(f"<{o:02X}>")
        else:
            out.append(chr(o))
    return "".join(out)


def append_status(
    msg: list[str], srv: Server, check: Check | None, xferred: int, forced: bool
) -> None:
    """``srv_append_status()``: the ", reason: ..." and the server counts."""
    status, code, duration, desc = srv.chg_status, srv.chg_code, srv.chg_duration, srv.chg_reason
    if check is not None:
        status, code, duration, desc = check.status, check.code, check.duration, check.desc
    if status != -1:
        st = Status(status)
        msg.append(f", reason: {st.description}")
        if st > Status.L57DATA:
            msg.append(f", code: {code}")
        if desc:
            msg.append(f', info: "{encode_desc(desc)}"')
        if duration >= 0:
            msg.append(f", check duration: {duration}ms")
    elif desc:
        msg.append(f", {desc}")
    elif not forced and srv.track is not None:
        msg.append(f" via {srv.track.id}")
    if xferred >= 0:
        be = srv.backend
        backup = " Running on backup." if be.srv_bck and not be.srv_act else ""
        if srv.next_state is SrvState.STOPPED:
            msg.append(
                f". {be.srv_act} active and {be.srv_bck} backup servers left.{backup}"
                f" {srv.served} sessions active, {xferred} requeued, {srv.nbpend} remaining in queue"
            )
        else:
            msg.append(
                f". {be.srv_act} active and {be.srv_bck} backup servers online.{backup}"
                f" {xferred} sessions requeued, {srv.nbpend} total in queue"
            )


def prefix(srv: Server) -> str:
    return f"{'Backup ' if srv.backup else ''}Server {srv.id}"


def via(srv: Server) -> str:
    return f" via {srv.track.id}" if srv.track is not None else ""
