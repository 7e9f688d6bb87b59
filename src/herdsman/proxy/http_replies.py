"""The answers herdsman makes itself in HTTP mode: HAProxy's own responses or
the proxy's errorfile (a refused request, a bad, missing or late response, the
monitor-uri, no backend), and requests answered by a service of the views (the
stats page, ``use-service``)."""

from __future__ import annotations

from herdsman.config.model import ProxyConfig
from herdsman.defs.status import HanaEvent
from herdsman.http import (
    ChunkedBody,
    Flag,
    Framing,
    HttpError,
    LengthBody,
    RequestHead,
    connmode,
    errors,
)
from herdsman.http.errors import Reply
from herdsman.http.model import Method
from herdsman.proxy import http_body, http_local, http_log, http_rules
from herdsman.proxy.http_state import CLOSED, SENDING
from herdsman.proxy.http_timers import Timers
from herdsman.rules.http_actions import Service


class Replies(Timers):
    """The responses the session writes itself."""

    __slots__ = ()

    def _answer(self, status: int, head: RequestHead, buf: bytes) -> None:
        """A request herdsman answers itself (monitor-uri, no backend)."""
        if self.req_done:
            self.buf = buf[head.size :]  # what follows is the next request
        self.reply(status, head, request_pending=not self.req_done)

    def _client_error(self, exc: HttpError) -> None:
        if self.log is None:
            self._log_session_error(exc.status, "P", "R")
        if exc.stream:
            # a request the stream refuses: answered as a close (HAProxy's 400 says so)
            self.reply(exc.status, None, request_pending=True, client_close=True)
        else:
            self.to_client(errors.mux_bytes(exc.status))
            self.close()

    def server_error(self, status: int) -> None:
        """A bad, missing or late response: 502/504, or an abort once it started."""
        if self.log is not None:
            self.log.set_term(
                "s" if status == 504 else "S", "D" if self.up.resp is not None else "H"
            )
        be = self.backend
        srv = self.server
        if be is not None:
            be.counters.failed_resp += 1
        if srv is not None:
            srv.counters.failed_resp += 1
            if be is not None:
                be.passive(srv, HanaEvent.HTTP_HDRRSP)
        if self.up.resp is not None:
            self.close()  # the response started: nothing to answer, abort
            return
        if be is not None:
            be.counters.http_rsp[4] += 1  # the backend counts the 502 answered
        self.reply(status, self.req, request_pending=not self.req_done)

    def reply(
        self,
        status: int,
        req: RequestHead | None,
        *,
        request_pending: bool = False,
        client_close: bool | None = None,
        msg: Reply | None = None,
        then_close: bool = False,
    ) -> None:
        """One of HAProxy's own responses (or the proxy's errorfile) ends the
        transaction; the client connection stays open when the connection mode
        lets it (a complete request, a reply that does not say close), as in 2.6,
        unless ``then_close`` (closed after the reply, whatever it says).
        """
        # while the frontend waits for the body (before the switching rules)
        # the stream's backend is still the frontend (s->be): its pages
        be_http = self.be_http if self.body_early is None else None
        replies = be_http.replies if be_http is not None else self.fe_http.replies
        reply = msg if msg is not None else replies.get(status, errors.DEFAULT_REPLIES.get(status))
        if msg is None and reply is not None and self.txn is not None:
            reply = http_rules.after_reply(self, reply)
        idx = status // 100 - 1 if 100 <= status < 600 else 5
        self.fe_c.http_rsp[idx] += 1
        if self.log is not None:
            http_log.reply(self.log, status, reply)
        close = True
        if reply is not None:
            meth = req.meth if req is not None else Method.OTHER
            flags = req.flags if req is not None else Flag.VER_11
            value, close = connmode.response_connection(
                reply.status,
                meth,
                flags,
                reply.flags,
                Framing.LENGTH,
                self.client_close if client_close is None else client_close,
                self.fe_http.mode,
                reply_close=bool(reply.flags & Flag.CONN_CLOSE),
                reply_keepalive=bool(reply.flags & Flag.CONN_KEEPALIVE),
                request_pending=request_pending,
            )
            self.to_client(errors.reply_bytes(reply, value, meth is Method.HEAD))
        if close or request_pending or then_close or self.phase == CLOSED:
            self.close()
            return
        self.up.keep = False  # the server connection is not trusted any more
        if not self.local_drain:  # else the transaction ends with the body
            self.transaction_done()

    def _local(self, px: ProxyConfig | Service, head: RequestHead, buf: bytes) -> None:
        """The request is for ``px``'s stats page or a service: read its body, then answer."""
        if px is self.frontend.cfg:
            self.fe_c.intercepted_req += 1
        if self.log is not None:
            self.log.target = px.applet if isinstance(px, Service) else "<STATS>"
            # the applet is the stream's server, "connected" at once: %Tw %Tc %Tr are 0
            # (the request's own stamp: a fresh clock reading may cross a millisecond)
            at = self.log.t_request
            if at < 0:
                at = self._ms(self.loop.time())
            self.log.t_queue = self.log.t_connect = self.log.t_data = at
            self.log.set_term("L", "R")  # SF_ERR_LOCAL | SF_FINST_R
        self.local = px
        rest = buf[head.size :]
        if head.framing is not Framing.NONE and not self._stats_allowed(px, head):
            # a refused login is answered before the applet (http_reply_and_close()):
            # at once, no 100 Continue, and the connection closes
            self._serve_local(pending=True)
            return
        if http_body.expects(head) and not self.waited:
            # HAProxy answers an applet's Expect itself (http_handle_expect_hdr()), even
            # with "Content-Length: 0"
            self.to_client(http_body.CONTINUE)
        if head.framing is Framing.NONE:
            self.buf = rest  # what follows is the next request
            self._serve_local()
            return
        if head.framing is Framing.LENGTH:
            self.req_body = LengthBody(head.content_length)
        else:
            self.req_body = ChunkedBody(True, self.ctx.limits)
        self.phase = SENDING
        self.arm()
        if not self._reads_body(px, head):
            # the exporter and the stats page (but its admin form) answer at once; the
            # body is read and dropped before the next request
            self.local_drain = True
            self._serve_local()
            if self.phase != SENDING:
                self.local_drain = False  # the answer closed the connection
                return
        if rest:
            self._request_body(rest)

    def _stats_allowed(self, px: ProxyConfig | Service, head: RequestHead) -> bool:
        hook = self.ctx.stats
        if isinstance(px, Service) or px.stats is None or hook is None:
            return True
        return hook.authorized(px.stats, http_local.authorization(head))

    def _reads_body(self, px: ProxyConfig | Service, head: RequestHead) -> bool:
        """Only a POST with the admin form granted waits for its body
        (``http_handle_stats()``: ``STAT_HTTP_POST``)."""
        if isinstance(px, Service) or px.stats is None or head.meth is not Method.POST:
            return False
        return http_rules.stats_admin(self, px.stats.admin)

    def _serve_local(self, pending: bool = False) -> None:
        """Answer the stats page or the service (``pending``: its request body is
        not read, the answer closes)."""
        px, head, hook = self.local, self.req, self.ctx.stats
        assert px is not None
        assert head is not None
        body = b"".join(self.local_body)
        self.local = None
        self.local_body = []
        if isinstance(px, Service):  # its refusals are HAProxy's built-in messages
            answer = self.ctx.services[px.name](head.target.decode("latin-1"))
            if self.backend is not None:  # a backend's rule: the backend counts it too
                self.be_c.http_rsp[answer[0] // 100 - 1] += 1
            self.reply(answer[0], head, msg=http_local.to_reply(answer, {}))
            return
        assert px.stats is not None
        assert hook is not None
        line = (
            head.method.decode("latin-1"),
            head.target.decode("latin-1"),
            head.version_11,
            http_local.authorization(head),
        )
        be = self.backend
        admin = http_rules.stats_admin(self, px.stats.admin)
        answer = hook.answer(px, px.stats, line, admin, be.name if be else "", body)
        replies = self.be_http.replies if self.be_http is not None else self.fe_http.replies
        msg = http_local.to_reply(answer, replies)
        # a refused login closes after its 401 (http_reply_and_close()), whatever it says
        refused = not hook.authorized(px.stats, line[3])
        self.reply(answer[0], head, msg=msg, request_pending=pending, then_close=refused)
