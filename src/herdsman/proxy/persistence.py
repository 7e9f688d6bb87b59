"""Which server a request sticks to, and what the response does for the next
one: ``force-persist``/``ignore-persist``, ``use-server``, the persistence
cookie (``rules/cookie.py``), ``stick match`` on the request
(``process_sticking_rules()``); on the response the cookie to insert and
``stick store-*`` (``process_store_rules()``); the cookie's letters of ``%tsc``.
``proxy/routing.py``'s ``Router`` calls it with the backend's ``Plan``.
"""

from __future__ import annotations

import time

from herdsman.core.backend import Backend, Server
from herdsman.core.states import SrvState
from herdsman.http.model import ResponseHead
from herdsman.proxy.plan import Outcome, Plan
from herdsman.rules import cookie as ck
from herdsman.sample.stick import Table
from herdsman.sample.txn import Txn


def choose(txn: Txn, bp: Plan, out: Outcome) -> None:
    """Persistence rules, ``use-server``, the cookie, ``stick match``: the server
    the request goes to, if any, in ``out``."""
    force = False
    for prule in bp.persist:
        if prule.cond.run(txn):
            force, out.ignore = prule.force, not prule.force
            break
    out.force = force
    keep_down = force or bp.persist_opt
    for cond, srv, piece in bp.servers:
        if not cond.run(txn):
            continue
        if piece is not None and out.backend is not None:
            srv = out.backend.find(piece(txn).decode("utf-8", "surrogateescape"))
        if srv is not None and (srv.is_up or keep_down):
            out.server, out.direct = srv, True
            break
    c = bp.cookie
    if c is not None:
        hdrs = txn.req_headers() or []
        if any(n.lower() == b"cookie" for n, _ in hdrs):
            rw = txn.req_hdrs_rw()
            found, _changed = ck.client_side(
                c,
                rw,
                bp.cookies,
                _running,
                skip=out.ignore or out.server is not None,
                keep_down=keep_down,
                now_s=_now_s(),
            )
            out.found = found
            if found.server is not None:
                out.server, out.direct = found.server, True
    for stick in bp.sticking:
        if stick.cond is not None and not stick.cond.run(txn):
            continue
        table: Table = stick.table.target
        value = stick.expr.one(txn)
        key = table.key_of(value) if value is not None else None
        if key is None:
            continue
        if stick.match and out.server is None and not out.ignore:
            ts = table.lookup(key, txn.now_ms())
            sid = table.read(ts, "server_id", txn.now_ms()) if ts is not None else None
            srv = _by_id(out.backend, sid)
            if srv is not None and (srv.is_up or keep_down):
                out.server, out.direct = srv, True
        if stick.store:
            out.stores += ((stick, key),)


def response(txn: Txn, bp: Plan, resp: ResponseHead, out: Outcome, srv: Server) -> None:
    """The response of ``srv``: the cookie, then the stick store rules."""
    _cookie(txn, bp, resp, out, srv)
    _store(txn, bp, out, srv)


def _cookie(txn: Txn, bp: Plan, resp: ResponseHead, out: Outcome, srv: Server) -> None:
    """The persistence cookie on a response: the server's own ``Set-Cookie``
    seen, the one to insert (``http_manage_server_side_cookies()``)."""
    c = bp.cookie
    if c is None or out.ignore or resp.status < 200:
        return
    value = bp.cookie_of.get(id(srv))
    hdrs = txn.res_headers() or []
    sck = ck.SCK_NONE
    if any(n.lower() in (b"set-cookie", b"set-cookie2") for n, _ in hdrs):
        sck, _present, _changed = ck.server_side(c, txn.res_hdrs_rw(), value, True, out.direct)
    out.sck = sck
    found = out.found if out.found is not None else ck.Persisted()
    meth = txn.method or b""
    made = ck.set_cookie(c, value, found, out.direct, sck, meth == b"POST", _now_s())
    if made is None:
        return
    out.sck = made[1]
    rw = txn.res_hdrs_rw()
    rw.append((b"set-cookie", made[0]))
    if c.nocache and ck.cacheable_response(ck.cacheable_request(meth), resp.status, rw):
        rw.append((b"cache-control", b"private"))


def _store(txn: Txn, bp: Plan, out: Outcome, srv: Server) -> None:
    """``process_store_rules()``: request keys, then response ones."""
    if not (out.stores or bp.store_rsp):
        return
    stores = list(out.stores)
    for stick in bp.store_rsp:
        if stick.cond is not None and not stick.cond.run(txn):
            continue
        value = stick.expr.one(txn)
        table: Table = stick.table.target
        key = table.key_of(value) if value is not None else None
        if key is not None:
            stores.append((stick, key))
    now = txn.now_ms()
    done: set[int] = set()
    for stick, key in stores:
        table = stick.table.target
        if id(table) in done:
            continue  # one store per table (the first rule wins)
        done.add(id(table))
        ts = table.get(key, now)
        if ts is not None:
            table.set(ts, "server_id", srv.puid)
            table.touch(ts, now)


def redispatched(out: Outcome) -> None:
    """The connection went to another server than the one chosen
    (``assign_server_and_queue()``): no longer ``SF_DIRECT``, so the response
    gets the new server's cookie, and a valid cookie becomes ``TX_CK_DOWN``."""
    out.direct = False
    found = out.found
    if found is not None and found.ck == ck.CK_VALID:
        found.ck = ck.CK_DOWN


def cookie_flags(bp: Plan | None, out: Outcome | None) -> str:
    """``%tsc``'s cookie letters (``sess_cookie[]``, ``sess_set_cookie[]``)."""
    if bp is None or bp.cookie is None:
        return "--"
    found = out.found if out is not None else None
    client = found.ck if found is not None else ck.CK_NONE
    return "NIDVEO67"[client] + "NPDIRU67"[out.sck if out is not None else ck.SCK_NONE]


def _now_s() -> int:
    return int(time.time())


def _running(srv: Server) -> bool:
    return srv.cur_state is not SrvState.STOPPED


def _by_id(be: Backend | None, sid: int | None) -> Server | None:
    if be is None or sid is None:
        return None
    return next((s for s in be.servers if s.puid == sid), None)


__all__ = ["choose", "cookie_flags", "redispatched", "response"]
