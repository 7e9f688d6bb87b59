"""What an HTTP transaction tells its traffic log: its ``StreamLog`` from the
request head to the end (times in ms since the transaction began), and
``sess_log()``'s line for a request that never became a stream (400, 408).
``proxy/http_log.py`` makes the facts of the heads."""

from __future__ import annotations

import time

from herdsman.core.backend import Server
from herdsman.core.streamlog import StreamLog
from herdsman.http import RequestHead
from herdsman.http.model import ResponseHead
from herdsman.proxy import http_log, persistence
from herdsman.proxy.http_state import SessionState


class TxLog(SessionState):
    """The transaction's traffic log record, when the frontend logs traffic."""

    __slots__ = ()

    def _ms(self, at: float) -> int:
        """Milliseconds since the transaction started (-1 for a step not reached)."""
        return int((at - self.idle_start) * 1000) if at >= 0 else -1

    def _new_log(self, head: RequestHead) -> None:
        """A request head: its transaction's log facts begin."""
        now = self.loop.time()
        fe = self.frontend
        log = StreamLog(
            time.time() - (now - self.idle_start),
            self.peer_addr,
            self.local_addr,
            fe.listener_id(self.listener),
        )
        log.t_idle = self._ms(self.head_at) if self.head_at >= self.idle_start else 0
        log.t_request = self._ms(now)
        http_log.request(log, head, fe.cfg.capture_req, self.ctx.logurilen)
        self.log = log

    def _log_connected(self) -> None:
        log = self.log
        if log is not None:
            log.t_queue = self._ms(self.assigned_at)
            log.t_connect = self._ms(self.loop.time())
            conn = self.up.conn
            if conn is not None and conn.transport is not None:
                log.server_addr = conn.transport.get_extra_info("peername")

    def log_response(self, resp: ResponseHead) -> None:
        log = self.log
        assert log is not None
        log.t_data = self._ms(self.loop.time())
        http_log.response(log, resp, self.frontend.cfg.capture_rsp)

    def _log_end(self, srv: Server | None) -> None:
        """The transaction's line, once it left its server (``%sc`` no longer counts it)."""
        log = self.log
        assert log is not None
        self.log = None
        traffic_log = self.frontend.traffic_log
        if traffic_log is None:
            return  # a record kept for the trackers' bytes only (http_rules.request())
        log.t_close = self._ms(self.loop.time())
        log.backend = self.backend
        log.server = srv
        log.retries = self.retries
        log.redispatched = self.redispatched
        log.srv_queue_pos, log.prx_queue_pos = self.queue_pos
        if log.t_queue < 0 and self.assigned_at >= 0:
            log.t_queue = self._ms(self.assigned_at)
        router = self.ctx.router
        txn = self.txn
        if txn is not None and router is not None:
            log.txn = router.at_log(txn, self.backend, srv)
            out = self.outcome
            if out is not None and self.redispatched:
                persistence.redispatched(out)
            log.cookie = persistence.cookie_flags(self.be_plan, out)
            if out is not None and out.cookies != (None, None):
                cc, cs = out.cookies
                log.cookies = (
                    cc.decode("latin-1") if cc is not None else None,
                    cs.decode("latin-1") if cs is not None else None,
                )
            if txn.captures is not None:  # declare capture, http-request capture
                log.req_caps = http_log.slots(txn.captures, log.req_caps)
            if txn.captures_res is not None:
                log.rsp_caps = http_log.slots(txn.captures_res, log.rsp_caps)
        traffic_log(log)

    def _log_session_error(self, status: int, err: str, fin: str) -> None:
        """``sess_log()``: a request that never became a stream (400, 408)."""
        fe = self.frontend
        traffic_log = fe.traffic_log
        if traffic_log is None or (
            not (self.buf or self.got_byte) and fe.cfg.option("dontlognull")
        ):
            return
        log = StreamLog(
            time.time() - (self.loop.time() - self.idle_start),
            self.peer_addr,
            self.local_addr,
            fe.listener_id(self.listener),
        )
        log.in_stream = False
        log.t_idle = self._ms(self.head_at) if self.head_at >= self.idle_start else 0
        log.t_close = self._ms(self.loop.time())
        log.status = status
        log.set_term(err, fin)
        traffic_log(log)
