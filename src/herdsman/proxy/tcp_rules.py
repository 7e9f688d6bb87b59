"""TCP mode's side of the rules (``tcp_rules.c``, ``stream.c``): a ``TcpStream``
of a frontend with rules runs ``tcp-request connection`` and ``session`` at
accept time, then, when content rules or conditional switching rules exist,
reads the client's first bytes and evaluates ``tcp-request content`` as they
come, until every rule can decide or ``tcp-request inspect-delay`` expires
(a rule whose condition may still change waits; at expiry it decides on
what came). Then the switching rules choose the backend, the backend's own
content rules run, and the stream connects with what was read. The backend's
``tcp-response content`` rules hold the server's first bytes the same way
(``tcp-response inspect-delay``) before they reach the client.

Streams of frontends without rules never come here.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from herdsman.core.backend import Backend
from herdsman.core.streamlog import ERR_PRXCOND, FIN_R, StreamLog
from herdsman.proxy import persistence
from herdsman.proxy import routing as R
from herdsman.rules.eval import run_tcp_rules
from herdsman.rules.model import RES_CONT, RES_DENY, RES_STOP
from herdsman.rules.tcp_actions import TCP_CLOSE
from herdsman.rules.track import count_bytes, counts_bytes, end_session
from herdsman.sample.txn import Txn


class RulesStream(Protocol):
    frontend: Any
    loop: asyncio.AbstractEventLoop
    backend: Backend | None
    client: Any
    peer_addr: object
    local_addr: object
    txn: Txn | None
    inspect: Inspect | None
    res_inspect: ResInspect | None
    server_side: Any
    closed: bool
    be_c: Any
    log: StreamLog | None
    early_size: int

    def close(self) -> None: ...

    def client_transport(self) -> asyncio.BaseTransport | None: ...

    def keep(self, data: bytes) -> None: ...

    def connect_to(self, be: Backend, out: R.Outcome) -> None: ...

    def new_log(self) -> None: ...


class Inspect:
    """Content inspection in progress: the rule to resume at and the delay."""

    __slots__ = ("index", "timer", "plan", "expired")

    def __init__(self, plan: R.Plan) -> None:
        self.index = 0
        self.plan = plan
        self.timer: asyncio.TimerHandle | None = None
        self.expired = False


class ResInspect:
    """``tcp-response content`` inspection: the server's bytes held meanwhile."""

    __slots__ = ("index", "timer", "plan", "expired", "held")

    def __init__(self, plan: R.Plan) -> None:
        self.index = 0
        self.plan = plan
        self.timer: asyncio.TimerHandle | None = None
        self.expired = False
        self.held: list[bytes] = []


def accept(s: RulesStream, router: R.Router, plan: R.Plan) -> bool:
    """``tcp-request connection`` then ``session`` rules: False when rejected
    (the connection is then closed)."""
    tr = s.client_transport()
    txn = s.txn = router.new_txn(plan, s.peer_addr, s.local_addr, tr)
    if not router.accept(txn, plan, tr):
        s.close()
        return False
    return True


def start(s: RulesStream, router: R.Router, plan: R.Plan) -> None:
    """After accept: inspect the content when rules need it, else connect."""
    if plan.tcp_req or any(
        cond is not None or piece is not None for cond, _, piece in plan.switching
    ):
        s.inspect = insp = Inspect(plan)
        txn = s.txn
        assert txn is not None
        txn.req_buf = b""
        txn.req_final = False
        delay = plan.cfg.routing.tcp_req_delay
        if delay:
            insp.timer = s.loop.call_later(delay / 1000.0, lambda: _expire(s, router))
        else:
            insp.expired = True
        if s.client.transport is not None:
            s.client.transport.resume_reading()
        if insp.expired:
            evaluate(s, router)
        return
    _route(s, router, plan)


def data(s: RulesStream, router: R.Router, chunk: bytes) -> None:
    """Client bytes during the inspection."""
    txn = s.txn
    assert txn is not None
    s.keep(chunk)
    txn.req_buf = (txn.req_buf or b"") + chunk
    evaluate(s, router)


def eof(s: RulesStream, router: R.Router) -> None:
    txn = s.txn
    if txn is not None:
        txn.req_final = True
    evaluate(s, router)


def _expire(s: RulesStream, router: R.Router) -> None:
    insp = s.inspect
    if insp is not None:
        insp.expired = True
        insp.timer = None
        evaluate(s, router)


def evaluate(s: RulesStream, router: R.Router) -> None:
    """``tcp_inspect_request()``: run the content rules from where they stopped."""
    insp = s.inspect
    txn = s.txn
    if insp is None or txn is None:
        return
    final = insp.expired or txn.req_final or len(txn.req_buf or b"") >= router.bufsize
    rules = insp.plan.tcp_req
    verdict, index = run_tcp_rules(rules[insp.index :], txn, final)
    insp.index += index
    if verdict == RES_CONT and insp.index < len(rules):
        return  # a condition may still change: wait for more
    if verdict not in (RES_CONT, RES_STOP):
        _done(s)
        _rejected(s, verdict)
        return
    if not final and _switch_may_change(insp.plan, txn):
        return  # the switching rules decide on the same contents: wait
    _done(s)
    _route(s, router, insp.plan)


def _switch_may_change(plan: R.Plan, txn: Txn) -> bool:
    from herdsman.sample.acl import MISS

    return any(cond is not None and cond.result(txn) == MISS for cond, _, _ in plan.switching)


def _rejected(s: RulesStream, verdict: int) -> None:
    """A content rule rejected: ``SF_ERR_PRXCOND``, ``SF_FINST_R`` ("PR" in the log);
    a ``reject`` counts ``dreq`` on the frontend, a backend's rule too
    (``tcp_inspect_request()``'s deny counts ``sess->fe``), a ``close`` nothing."""
    if verdict == RES_DENY:
        s.frontend.counters.denied_req += 1
    if s.log is not None:
        s.log.set_term(ERR_PRXCOND, FIN_R)
    s.close()


def _done(s: RulesStream) -> None:
    insp = s.inspect
    s.inspect = None
    if insp is not None and insp.timer is not None:
        insp.timer.cancel()
    if s.client.transport is not None:
        s.client.transport.pause_reading()


def _route(s: RulesStream, router: R.Router, plan: R.Plan) -> None:
    """Switching rules, the backend's content rules, then the connection."""
    txn = s.txn
    assert txn is not None
    txn.req_final = True
    be = router.switch(txn, plan)
    if be is None:
        s.close()
        return
    out = R.Outcome(backend=be)
    bp = router.plan(be.cfg)
    txn.be = router.be_views.get(be.name)
    if bp is not plan and bp.tcp_req:
        verdict, _ = run_tcp_rules(bp.tcp_req, txn, True)
        if verdict not in (RES_CONT, RES_STOP):
            _rejected(s, verdict)
            return
    persistence.choose(txn, bp, out)
    s.backend = be
    s.be_c = be.counters
    if bp.tcp_res:
        s.res_inspect = ResInspect(bp)
        txn.res_buf = b""
        txn.res_final = False
    if s.log is None and txn.tracking() and counts_bytes(txn):
        s.new_log()  # the stream's bytes, counted as the log counts them
    s.connect_to(be, out)


def count_stream_bytes(s: RulesStream) -> None:
    """The stream ends (before its log line, as ``process_stream()`` calls
    ``stream_process_counters()`` first): its trackers count its bytes, those
    of its log record, else (rejected before ``_route()``) what it received."""
    txn = s.txn
    if txn is None or not txn.tracking():
        return
    log = s.log
    if log is not None:
        count_bytes(txn, log.bytes_in, log.bytes_out)
    elif counts_bytes(txn):
        count_bytes(txn, s.early_size, 0)


def res_start(s: RulesStream, router: R.Router) -> None:
    """The server connection is established: ``tcp-response inspect-delay`` runs."""
    ri = s.res_inspect
    if ri is None:
        return
    delay = ri.plan.cfg.routing.tcp_res_delay
    if delay:
        ri.timer = s.loop.call_later(delay / 1000.0, lambda: _res_expire(s, router))
    else:
        ri.expired = True
        if ri.held:
            res_evaluate(s, router)


def res_data(s: RulesStream, router: R.Router, chunk: bytes) -> None:
    """Server bytes during the response inspection: held, then the rules."""
    ri = s.res_inspect
    txn = s.txn
    assert ri is not None
    assert txn is not None
    ri.held.append(chunk)
    txn.res_buf = (txn.res_buf or b"") + chunk
    res_evaluate(s, router)


def res_eof(s: RulesStream, router: R.Router) -> None:
    if s.txn is not None:
        s.txn.res_final = True
    res_evaluate(s, router)


def _res_expire(s: RulesStream, router: R.Router) -> None:
    ri = s.res_inspect
    if ri is not None:
        ri.expired = True
        ri.timer = None
        res_evaluate(s, router)


def res_evaluate(s: RulesStream, router: R.Router) -> None:
    """``tcp_inspect_response()``: accept forwards what was held, reject closes
    the stream without it, ``close`` forwards it and closes."""
    ri = s.res_inspect
    txn = s.txn
    if ri is None or txn is None:
        return
    final = ri.expired or txn.res_final or len(txn.res_buf or b"") >= router.bufsize
    rules = ri.plan.tcp_res
    verdict, index = run_tcp_rules(rules[ri.index :], txn, final)
    ri.index += index
    if verdict == RES_CONT and ri.index < len(rules):
        return  # a condition may still change: wait for more
    s.res_inspect = None
    if ri.timer is not None:
        ri.timer.cancel()
    if verdict in (RES_CONT, RES_STOP) or txn.reply == TCP_CLOSE:
        side = s.server_side
        for chunk in ri.held:
            if s.closed or side is None:
                break
            side.data_received(chunk)  # forwarded and counted as any data
    if verdict not in (RES_CONT, RES_STOP):
        s.close()


def end(s: RulesStream) -> None:
    insp = s.inspect
    if insp is not None and insp.timer is not None:
        insp.timer.cancel()
    s.inspect = None
    ri = s.res_inspect
    if ri is not None and ri.timer is not None:
        ri.timer.cancel()
    s.res_inspect = None
    if s.txn is not None:
        end_session(s.txn)


__all__ = [
    "Inspect",
    "ResInspect",
    "accept",
    "count_stream_bytes",
    "data",
    "end",
    "eof",
    "evaluate",
    "res_data",
    "res_eof",
    "res_start",
    "start",
]
