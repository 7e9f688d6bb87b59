"""The timeouts of an ``HttpSession``: one loop timer per session, re-armed
lazily, at the current phase's deadline (``timeout http-request``, ``http-keep-alive``,
``client``, ``server``, ``tunnel``, the wait for a request body), and what expiring
does: ``mux_h1.c h1_handle_req_tout()``'s 408 or a silent close, a 408 for a body that
did not come, a 504 (or an L7 retry) for a response that did not."""

from __future__ import annotations

from herdsman.config.model import RetryOn
from herdsman.defs.status import HanaEvent
from herdsman.http import errors
from herdsman.proxy import http_body, http_retry
from herdsman.proxy.http_close import Closing
from herdsman.proxy.http_state import CLOSED, IDLE, SENDING, TUNNEL, WAITING
from herdsman.proxy.sides import rearm


class Timers(Closing):
    """The session's timer and what its deadlines do."""

    __slots__ = ()

    def _deadline(self) -> float | None:
        """When the current phase times out (loop time), or None."""
        fe_http = self.fe_http
        be_http = self.be_http
        phase = self.phase
        if phase == IDLE:
            limit = fe_http.http_request if self.got_byte or self.first else fe_http.keep_alive
            limit = limit or fe_http.client
            return self.idle_start + limit if limit else None
        if phase == TUNNEL:
            tunnel = be_http.tunnel if be_http is not None else None
            limits = [tunnel] if tunnel else [fe_http.client, be_http.server if be_http else None]
            last = max(self.last_client, self.last_server)
            values = [last + t for t in limits if t]
            return min(values) if values else None
        # the earliest of the three (no list: this runs twice per transaction)
        due = self.last_client + fe_http.client if fe_http.client else None
        if self.body_wait:
            wait = http_body.timeout(fe_http, be_http)
            if wait and (due is None or self.body_wait + wait < due):
                due = self.body_wait + wait
        if self.up.conn is not None and be_http is not None and be_http.server:
            srv_due = self.last_server + be_http.server
            if due is None or srv_due < due:
                due = srv_due
        return due

    def arm(self) -> None:
        """Re-arm the one timer of the session, lazily: a timer due later than the
        new deadline is replaced, an earlier one finds the new deadline when it fires."""
        due = self._deadline()
        if due is None:
            return
        self.timer = rearm(self.loop, self.timer, due, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        if self.phase == CLOSED:
            return
        due = self._deadline()
        if due is None:
            return
        if self.loop.time() < due:
            self.timer = self.loop.call_at(due, self._on_timer)
            return
        self._expired()

    def idle_error(self, status: int, err: str) -> None:
        """No request came whole before the timeout (408, ``h1_handle_req_tout()``)
        or the client's close (400, ``h1_handle_parsing_error()`` from
        ``h1_process()``): counted (``req_tot``, ``ereq``, 4xx), answered and
        logged as ``<BADREQ>``, unless nothing arrived on a keep-alive connection,
        or on a new one with ``option http-ignore-probes``; then the connection
        closes."""
        if self.buf or self.got_byte or (self.first and not self.fe_http.ignore_probes):
            fe_c = self.fe_c
            fe_c.cum_req += 1
            fe_c.http_rsp[3] += 1
            fe_c.failed_req += 1
            self._log_session_error(status, err, "R")
            self.to_client(errors.mux_bytes(status))
        self.close()

    def _expired(self) -> None:
        phase = self.phase
        if phase == IDLE:
            self.idle_error(408, "c")  # h1_handle_req_tout()
            return
        if self.body_wait:
            # http_wait_for_msg_body(): the body did not come in time
            self.fe_c.failed_req += 1
            self.reply(408, self.req, request_pending=True)
            return
        if phase in (SENDING, WAITING) and self.up.conn is not None and self.up.resp is None:
            if http_retry.response(self, RetryOn.RESPONSE_TIMEOUT):
                return
            be = self.backend
            srv = self.server
            if be is not None:
                be.counters.http_rsp[4] += 1  # the backend counts the 504 answered
                be.counters.failed_resp += 1  # and the failed response (eresp)
            if be is not None and srv is not None:
                be.passive(srv, HanaEvent.HTTP_READ_TIMEOUT)
                srv.counters.failed_resp += 1
            if self.log is not None:
                self.log.set_term("s", "H")
            self.reply(504, self.req, request_pending=not self.req_done)
            return
        self.close()
