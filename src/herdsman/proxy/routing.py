"""The rules at HAProxy's points of a stream (``http_ana.c``, ``stream.c``,
``tcp_rules.c``), for the data path: one ``Router`` per running
configuration binds the names the rules refer to (backends, servers, stick
tables) to the running objects and gives each proxy its ``Plan``, the
rules it runs in order; ``Router.request()`` and ``Router.response()``
run them on a transaction and say what the session must do.

Request, in 2.6's order (docs/routing.md): the frontend's ``tcp-request
content``, ``monitor fail`` (at the monitor URI), ``http-request`` (a named
defaults section's first), ``redirect``, the switching rules; then, in
another backend, its ``tcp-request content`` and ``http-request``; then
``force-persist``/``ignore-persist``, ``use-server``, the persistence
cookie, ``stick match`` (``proxy/persistence.py``). Response: the backend's
then the frontend's ``http-response``, the cookie to insert, ``stick
store-*``, then ``http-after-response`` (also on herdsman's own replies).

What the rules decide is in the ``Txn`` (``reply``, ``tarpit``, rewritten
heads) and in the returned ``Outcome``.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

from herdsman.config.model import Cap, Config, ProxyConfig, ServerConfig
from herdsman.core.backend import Backend, Server
from herdsman.core.clock import Clock
from herdsman.defs.proxyrecv import HEADER_INFO
from herdsman.http.model import RequestHead, ResponseHead
from herdsman.proxy import persistence
from herdsman.proxy.plan import (
    CLOSE,
    CONTINUE,
    INTERCEPT,
    REPLY,
    SERVICE,
    TARPIT,
    Outcome,
    Plan,
)
from herdsman.proxy.routing_views import BeView, FeView, SrvView, World
from herdsman.proxy.rule_heads import load_request, load_response
from herdsman.proxy.sockopts import set_nolinger
from herdsman.proxy.switching import compile_switching
from herdsman.rules import cookie as ck
from herdsman.rules.eval import run_rules, run_tcp_rules
from herdsman.rules.http_actions import Service
from herdsman.rules.http_rewrite import merge_fields
from herdsman.rules.model import (
    RES_ABRT,
    RES_BADREQ,
    RES_CONT,
    RES_DENY,
    RES_DONE,
    RES_ERROR,
    RES_STOP,
    Rule,
)
from herdsman.rules.tcp_actions import TCP_REJECT
from herdsman.rules.track import (
    count_http_error,
    count_http_fail,
    count_http_request,
    count_session,
)
from herdsman.rules.userlist import Userlist
from herdsman.sample import args as A
from herdsman.sample.lfparse import Expr as LfExpr
from herdsman.sample.stick import Table, TableSpec
from herdsman.sample.txn import Txn
from herdsman.tls.fetches import ClientTls

# what a client transport shows under this name: the transaction its ``tcp-request
# connection`` rules ran on before a PROXY header was read (``Router.connection()``)
EARLY_TXN = "herdsman_early_txn"
_CONN_DONE, _SESSION_DONE = 1, 2  # its txn.extra["early"]: the rules already run


class Router:
    """The rules of one running configuration."""

    def __init__(
        self,
        config: Config,
        backends: dict[str, Backend],
        clock: Clock,
        stopping: Callable[[], bool],
    ) -> None:
        self.world = World(clock, stopping)
        self.backends = backends
        self.srv_views: dict[int, SrvView] = {}
        self.be_views: dict[str, BeView] = {}
        for be in backends.values():
            for srv in be.servers:
                self.srv_views[id(srv)] = SrvView(srv)
            self.be_views[be.name] = BeView(be, self.srv_views)
        self.tables: dict[int, Table] = {}
        self.plans: dict[int, Plan] = {}
        self.config = config
        self._fe_states: dict[str, Any] = {}
        self.bufsize = config.global_.tune_bufsize

    # -- binding -------------------------------------------------------------------

    def table(self, spec: TableSpec) -> Table:
        found = self.tables.get(id(spec))
        if found is None:
            found = self.tables[id(spec)] = Table(spec)
        return found

    def _runtime_server(self, scfg: ServerConfig) -> Server | None:
        for be in self.backends.values():
            for srv in be.servers:
                if srv.cfg is scfg:
                    return srv
        return None

    def _bind(self, target: object, kind: int) -> object:
        if isinstance(target, TableSpec):
            return self.table(target)
        if isinstance(target, ServerConfig):
            srv = self._runtime_server(target)
            return self.srv_views[id(srv)] if srv is not None else None
        if isinstance(target, ProxyConfig):
            if kind == A.BE:
                return self.be_views.get(target.name)
            state = self._fe_states.get(target.name)
            return FeView(state, target) if state is not None else None
        if isinstance(target, Userlist):
            return target
        return target

    def bind(self, frontends: Sequence[Any]) -> None:
        """Every name the rules refer to, bound to the running objects."""
        for fe in frontends:
            self._fe_states[fe.name] = fe
        proxies = [*self.config.proxies, *self.config.defaults.values()]
        for px in proxies:
            r = px.routing
            for ref in r.refs:
                if ref.target is not None:
                    ref.target = self._bind(ref.target, ref.kind)
            for stick in (*r.sticking, *r.store_rsp):
                if isinstance(stick.table.target, TableSpec):
                    stick.table.target = self.table(stick.table.target)

    # -- plans ---------------------------------------------------------------------

    def plan(self, cfg: ProxyConfig) -> Plan:
        found = self.plans.get(id(cfg))
        if found is None:
            found = self.plans[id(cfg)] = self._plan(cfg)
        return found

    def _plan(self, cfg: ProxyConfig) -> Plan:
        r = cfg.routing
        d = cfg.rules_from.routing if cfg.rules_from is not None else None
        view: Any = self.be_views.get(cfg.name) if cfg.cap & Cap.BE else None
        if cfg.cap & Cap.FE:
            state = self._fe_states.get(cfg.name)
            view = FeView(state, cfg) if state is not None else view
        p = Plan(cfg, view)
        for name in (
            "tcp_conn",
            "tcp_sess",
            "tcp_req",
            "tcp_res",
            "http_req",
            "http_res",
            "http_after",
        ):
            setattr(p, name, [*(getattr(d, name) if d is not None else ()), *getattr(r, name)])
        p.http_req = merge_fields(p.http_req)
        p.redirects = list(r.redirects)
        p.monitor_fail = list(r.monitor_fail)
        for rule in r.switching:
            if rule.dynamic is not None:
                p.switching.append((rule.cond, None, rule.dynamic))
            else:
                p.switching.append((rule.cond, self.backends.get(rule.name), None))
        if cfg.default_backend:
            p.default = self.backends.get(cfg.default_backend)
        elif cfg.kind == "listen":
            p.default = self.backends.get(cfg.name)
        p.switch = compile_switching(p.switching, p.default, self.backends.get)
        be = self.backends.get(cfg.name) if cfg.cap & Cap.BE else None
        for srule in r.servers:
            if srule.dynamic is not None:
                p.servers.append((srule.cond, None, srule.dynamic))
            else:
                p.servers.append((srule.cond, be.find(srule.name) if be else None, None))
        p.persist = list(r.persist)
        p.sticking = list(r.sticking)
        p.store_rsp = list(r.store_rsp)
        p.persist_opt = cfg.option("persist")
        if r.cookie is not None and be is not None:
            p.cookie = r.cookie
            for srv in be.servers:
                value = srv.cfg.cookie.encode() if srv.cfg.cookie is not None else None
                p.cookie_of[id(srv)] = value
                if value is not None:
                    p.cookies.append((value, srv))
        p.be_view = self.be_views.get(cfg.name) if cfg.cap & Cap.BE else None
        slots = [0, 0]
        for cap in r.captures:
            slot = slots[cap.response]
            slots[cap.response] += 1
            if cap.header is not None:
                item = (cap.header.lower().encode(), cap.length, slot)
                (p.res_captures if cap.response else p.req_captures).append(item)
        if cfg.capture_cookie is not None and cfg.cap & Cap.FE:
            p.capture_cookie = (cfg.capture_cookie[0].encode(), cfg.capture_cookie[1])
        p.on_response = p.response_rules or bool(p.tcp_res or p.sticking or p.capture_cookie)
        p.req_phase = bool(p.tcp_req or p.http_req)
        p.choose = bool(p.persist or p.servers or p.cookie or p.sticking)
        return p

    # -- transactions --------------------------------------------------------------

    def connection(self, fe: Plan, tr: asyncio.BaseTransport) -> Txn | None:
        """``tcp-request connection`` rules alone, before a PROXY header is read
        (``session_accept_fd()`` runs them before the handshake, on the
        connection's own addresses): their transaction, None when rejected. The
        client transport then shows it as ``EARLY_TXN`` (``proxy/proxylayer.py``)."""
        peer, local = tr.get_extra_info("peername"), tr.get_extra_info("sockname")
        txn = self.new_txn(fe, peer, local, None)
        verdict, _ = run_tcp_rules(fe.tcp_conn, txn, True)
        if verdict not in (RES_CONT, RES_STOP):
            _count_denied(fe, verdict, True)
            return None
        assert txn.extra is not None
        txn.extra["early"] = _CONN_DONE
        return txn

    def session(self, fe: Plan, tr: asyncio.BaseTransport) -> bool:
        """``tcp-request session`` rules once the PROXY header is read, before the
        stream (``conn_complete_session()``), on the transaction ``tr`` shows as
        ``EARLY_TXN`` with the header's addresses: False when rejected."""
        peer, local = tr.get_extra_info("peername"), tr.get_extra_info("sockname")
        txn = self.new_txn(fe, peer, local, tr)
        if not self.accept(txn, fe):
            return False
        assert txn.extra is not None
        txn.extra["early"] = _SESSION_DONE
        return True

    def accept(self, txn: Txn, fe: Plan, tr: asyncio.BaseTransport | None = None) -> bool:
        """``tcp-request connection`` then ``session`` rules at accept time, those
        not run before already (``connection()``, ``session()``): False when the
        connection is rejected. A connection rule's reject counts ``dcon`` and
        closes ``tr`` with a reset, a session rule's counts ``dses`` and closes
        it as usual (``tcp_exec_l4_rules()``, ``session_accept_fd()``: "a
        no-linger now to close with a single RST"; ``tcp_exec_l5_rules()``)."""
        assert txn.extra is not None
        early = txn.extra.get("early", 0)
        if early == _SESSION_DONE:
            return True
        if not early and fe.tcp_conn:
            verdict, _ = run_tcp_rules(fe.tcp_conn, txn, True)
            if verdict not in (RES_CONT, RES_STOP):
                _count_denied(fe, verdict, True)
                if tr is not None:
                    set_nolinger(tr)
                return False
        if fe.tcp_sess:
            verdict, _ = run_tcp_rules(fe.tcp_sess, txn, True)
            if verdict not in (RES_CONT, RES_STOP):
                _count_denied(fe, verdict, False)
                return False
        count_session(txn)
        return True

    def new_txn(self, fe: Plan, src: object, dst: object, tr: asyncio.BaseTransport | None) -> Txn:
        """``tr``'s ``ssl_object`` shows the connection's TLS to the ``ssl_*`` fetches;
        the transaction of connection rules run before a PROXY header goes on,
        with the header's addresses."""
        early = tr.get_extra_info(EARLY_TXN) if tr is not None else None
        txn = early if early is not None else Txn(self.world, fe.view)
        stage = early.extra.get("early", 0) if early is not None and early.extra else 0
        sslobj = tr.get_extra_info("ssl_object") if tr is not None else None
        if sslobj is not None:
            txn.tls = ClientTls(sslobj)
        if isinstance(src, tuple) and src:
            txn.src, txn.src_port = _ip(src[0]), int(src[1])
        if isinstance(dst, tuple) and dst:
            txn.dst, txn.dst_port = _ip(dst[0]), int(dst[1])
        txn.extra = {"addrs": (txn.src, txn.src_port, txn.dst, txn.dst_port)}
        header = tr.get_extra_info(HEADER_INFO) if tr is not None else None
        if header is not None:  # the PROXY header's TLVs, for fc_rcvd_proxy and fc_pp_*
            txn.extra["pp"] = (header.authority, header.unique_id)
        if stage:
            txn.extra["early"] = stage
        return txn

    def request(
        self, txn: Txn, fe: Plan, head: RequestHead, body: bytes | None, monitor: bool
    ) -> Outcome:
        """The request rules of the frontend and of the backend they choose
        (``body``: what of the body came with the head)."""
        load_request(txn, head)
        txn.req_body = body
        txn.be = fe.be_view
        if txn.extra is not None:  # the session's addresses (set-src lasts one stream)
            txn.src, txn.src_port, txn.dst, txn.dst_port = txn.extra["addrs"]
        if fe.req_captures:
            _capture(txn, fe.req_captures, False)
        out = Outcome()
        if monitor:
            txn.status = 200
            for fail in fe.monitor_fail:
                if fail.run(txn):
                    txn.status = 503
                    break
            out.action = INTERCEPT
            return out
        if txn.sess_sc is not None:  # (the stream's own trackers start below)
            count_http_request(txn)
        verdict = RES_CONT
        if fe.tcp_req:
            verdict = _phase(txn, fe.tcp_req, fe.http_req)
        elif fe.http_req:
            verdict = run_rules(fe.http_req, txn)
            if verdict == RES_STOP:  # (_phase(): allow lets the next steps run)
                verdict = RES_CONT
        if txn.reply is not None and isinstance(txn.reply, Service):
            # http_process_req_common(): a service answers before the redirect rules,
            # the stats URI and the switching rules (the backend stays the frontend)
            out.action = SERVICE
            return out
        if verdict == RES_CONT:
            for rule in fe.redirects:
                cond = rule.cond
                if cond is None or cond.run(txn):
                    rule.action(txn)
                    verdict = RES_ABRT
                    break
        if verdict != RES_CONT:
            return self._stop(txn, fe, out, verdict)
        be = fe.switch(txn) if fe.switching else fe.default
        out.backend = be
        if be is None:
            return out
        bp = self.plans.get(id(be.cfg)) or self.plan(be.cfg)
        out.plan = bp
        txn.be = bp.be_view
        if bp is not fe and bp.req_phase:
            verdict = _phase(txn, bp.tcp_req, bp.http_req)
            if txn.reply is not None and isinstance(txn.reply, Service):
                out.action = SERVICE
                return out
            if verdict != RES_CONT:
                return self._stop(txn, fe, out, verdict)
        if fe.capture_cookie is not None:
            _capture_cookie(txn, fe, out, False)
        if bp.choose:
            persistence.choose(txn, bp, out)
        return out

    @staticmethod
    def _stop(txn: Txn, fe: Plan, out: Outcome, verdict: int) -> Outcome:
        if verdict == RES_DENY:  # deny and tarpit capture the cookie ("Allow cookie logging")
            _capture_cookie(txn, fe, out, False)
        return _stop(txn, out, verdict)

    def switch(self, txn: Txn, fe: Plan) -> Backend | None:
        """``process_switching_rules()``"""
        return fe.switch(txn)

    def response(
        self,
        txn: Txn,
        fe: Plan,
        bp: Plan | None,
        resp: ResponseHead,
        out: Outcome,
        srv: Server | None,
    ) -> int:
        """The response rules; a verdict (``RES_*``), the reply in ``txn.reply``.
        The request went: its volatile parts (URI, headers) are gone, as in
        HAProxy where the request's HTX was forwarded; the method stays."""
        txn.uri = None
        txn.req_hdrs = txn.req_load = txn.req_tail = txn.req_names = None
        txn.req_dirty = False
        txn.srv = self.srv_views.get(id(srv)) if srv is not None else None
        load_response(txn, resp)
        if fe.res_captures:
            _capture(txn, fe.res_captures, True)
        count_status(txn, resp.status)
        verdict = RES_CONT
        if bp is not None and bp.tcp_res:
            # tcp-response content on the response as it arrived (HTX in HTTP mode)
            verdict, _ = run_tcp_rules(bp.tcp_res, txn, True)
            if verdict == RES_STOP:
                verdict = RES_CONT
        if verdict == RES_CONT and bp is not None and bp.http_res:
            verdict = run_rules(bp.http_res, txn)
        if verdict == RES_CONT and bp is not fe and fe.http_res:
            verdict = run_rules(fe.http_res, txn)
        if verdict not in (RES_CONT, RES_STOP, RES_DONE):
            return verdict
        if resp.status >= 200 or resp.status == 101:
            _capture_cookie(txn, fe, out, True)
        if bp is not None and srv is not None:
            persistence.response(txn, bp, resp, out, srv)
        return RES_CONT

    def at_log(self, txn: Txn, be: Backend | None, srv: Server | None) -> Txn:
        """The transaction as a log line's ``%[...]`` reads it, at the stream's end."""
        txn.be = self.be_views.get(be.name) if be is not None else None
        txn.srv = self.srv_views.get(id(srv)) if srv is not None else None
        return txn

    def after(self, txn: Txn, fe: Plan, bp: Plan | None) -> int:
        """``http_eval_after_res_rules()``: the backend's, then the frontend's."""
        verdict = RES_CONT
        if bp is not None and bp.http_after:
            verdict = run_rules(bp.http_after, txn)
        if verdict == RES_CONT and bp is not fe and fe.http_after:
            verdict = run_rules(fe.http_after, txn)
        return verdict


def uses_routing(config: Config) -> bool:
    """Whether any proxy has a rule, a cookie or a stick table to run."""
    for px in (*config.proxies, *config.defaults.values()):
        r = px.routing
        if (
            r.any_rules()
            or r.redirects
            or r.monitor_fail
            or r.cookie is not None
            or r.sticking
            or r.store_rsp
            or r.persist
            or r.servers
            or r.captures
            or px.capture_cookie is not None
            or any(rule.cond is not None or "%" in rule.name for rule in r.switching)
            or any(isinstance(node, LfExpr) for node in px.log_nodes)  # %[...] reads a Txn
            or (px.stats is not None and px.stats.admin)
        ):
            return True
    return False


def count_status(txn: Txn, status: int) -> None:
    """A response's status in the tracked counters (``http_process_res_common()``)."""
    if 400 <= status < 500:
        count_http_error(txn)
    elif 500 <= status < 600 and status not in (501, 505):
        count_http_fail(txn)


def _capture(txn: Txn, caps: list[tuple[bytes, int, int]], response: bool) -> None:
    """``http_capture_headers()``: the last occurrence of each captured header."""
    hdrs = (txn.res_headers() if response else txn.req_headers()) or ()
    store: list[bytes | None] = [None] * (max(slot for _, _, slot in caps) + 1)
    for name, value in hdrs:
        lname = name.lower()
        for cname, length, slot in caps:
            if cname == lname:
                store[slot] = value[:length]
    if response:
        txn.captures_res = store
    else:
        txn.captures = store


def _phase(txn: Txn, tcp: list[Rule], http: list[Rule]) -> int:
    if tcp:
        verdict, _ = run_tcp_rules(tcp, txn, True)
        if verdict not in (RES_CONT, RES_STOP):
            return verdict
    if http:
        verdict = run_rules(http, txn)
        if verdict != RES_STOP:
            return verdict
    return RES_CONT


def _capture_cookie(txn: Txn, fe: Plan, out: Outcome, response: bool) -> None:
    """``capture cookie``: the first matching cookie of the request or the response
    (``http_manage_client_side_cookies()``, ``..._server_side_...``)."""
    cap = fe.capture_cookie
    if cap is None:
        return
    hdrs = txn.res_headers() if response else txn.req_headers()
    if not hdrs:
        return
    got, changed = ck.capture(list(hdrs), response, *cap)
    if changed:  # blanks around '=' removed: the headers as HAProxy forwards them
        ck.capture(txn.res_hdrs_rw() if response else txn.req_hdrs_rw(), response, *cap)
    out.cookies = (out.cookies[0], got) if response else (got, out.cookies[1])


def _stop(txn: Txn, out: Outcome, verdict: int) -> Outcome:
    if verdict == RES_DENY and txn.reply == TCP_REJECT:
        # tcp-request content reject: the stream ends before the HTTP analysers
        # (tcp_inspect_request()), without a reply
        out.action = CLOSE
        out.term = "PR"
    elif verdict == RES_DENY:
        count_http_error(txn)
        out.action = TARPIT if txn.tarpit else REPLY
        out.term = "PT" if txn.tarpit else "PR"
    elif verdict in (RES_ABRT, RES_DONE):
        from herdsman.rules.http_actions import REJECT

        out.action = CLOSE if txn.reply is REJECT or txn.reply is None else REPLY
        if verdict == RES_DENY or txn.reply is REJECT:
            count_http_error(txn)
        # reject is a refusal (SF_ERR_PRXCOND); return, redirect and auth
        # answer locally (SF_ERR_LOCAL), with SF_FINST_R
        out.term = "PR" if txn.reply is REJECT else "LR"
    elif verdict == RES_BADREQ:
        txn.reply = _errmsg(400)
        out.action = REPLY
        out.term = "PR"
    elif verdict == RES_ERROR:
        txn.reply = _errmsg(500)
        out.action = REPLY
        out.term = "IR"
    return out


def _errmsg(status: int) -> object:
    from herdsman.rules.reply import Errmsg

    return Errmsg(status)


def _ip(text: object) -> Any:
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        return None


def _count_denied(fe: Plan, verdict: int, connection: bool) -> None:
    """A ``reject`` counts ``dcon`` or ``dses`` of the frontend, a ``close`` nothing
    (``ACT_ACTION_DENY`` in ``tcp_exec_l4_rules()``/``l5``); a plan built without
    running frontends has no counters."""
    view = fe.view
    if verdict == RES_DENY and isinstance(view, FeView):
        c = view.state.counters
        if connection:
            c.denied_conn += 1
        else:
            c.denied_sess += 1


__all__ = [
    "CLOSE",
    "CONTINUE",
    "INTERCEPT",
    "REPLY",
    "SERVICE",
    "TARPIT",
    "Outcome",
    "Plan",
    "Router",
    "uses_routing",
]
