"""The request body of an ``HttpSession`` from the client: its framer, forwarding
or keeping what belongs to it, and the end of a wait for it (``option
http-buffer-request``, a ``url_param`` POST: ``proxy/http_body.py``)."""

from __future__ import annotations

from herdsman.http import ChunkedBody, Framing, LengthBody, RequestHead
from herdsman.proxy import http_abort, http_body
from herdsman.proxy.http_replies import Replies
from herdsman.proxy.http_state import WAITING
from herdsman.proxy.http_upstream import frame


class RequestBody(Replies):
    """The client's request body."""

    __slots__ = ()

    def _frame(self, head: RequestHead) -> None:
        if head.framing is Framing.LENGTH:
            self.req_body = LengthBody(head.content_length)
        elif head.framing is Framing.CHUNKED:
            self.req_body = ChunkedBody(True, self.ctx.limits)

    def _request_body(self, data: bytes) -> None:
        """Client bytes of the request body: forward (or keep) what belongs to it."""
        framer = self.req_body
        if framer is None:
            return
        if self.req_held:
            data = self.req_held + data
            self.req_held = b""
        pieces, rest, error = frame(framer, data)
        if self.local_drain:
            pass  # answered already: the body goes nowhere
        elif pieces and self.local is not None:
            self.local_body.extend(bytes(p) for p in pieces)
        elif pieces:
            n = sum(len(p) for p in pieces)
            if not self.up.forward(pieces, n):
                self.early.extend(bytes(p) for p in pieces)
                if sum(len(p) for p in self.early) >= self.ctx.limits.bufsize:
                    self.pause_client()
        if error is not None:
            self.fe_c.failed_req += 1
            self._client_error(error)
            return
        if not framer.done:
            if len(rest):
                self.req_held = bytes(rest)  # an incomplete line, read again with more
            return
        self.req_done = True
        self.phase = WAITING
        if len(rest):
            self.buf = bytes(rest)
        if self.local_drain:
            self.local_drain = False
            self.transaction_done()
            return
        if self.local is not None:
            self._serve_local()
            return
        if not http_abort.watched(self):
            self.pause_client()
        self.arm()

    def _body_waited(self, arm: bool) -> None:
        """The body came, or fills the buffer: the rules (the frontend waited), or
        the server (the backend waited)."""
        req = self.req
        assert req is not None
        held = sum(len(p) for p in self.early)
        limits = self.ctx.limits
        if not self.req_done and held < http_body.limit(limits.bufsize, limits.maxrewrite, req):
            if arm:
                self.arm()
            return
        self.body_wait = 0.0
        early = self.body_early
        if early is not None:
            self.body_early = None
            self.waited = True
            pipelined, self.buf = self.buf, b""
            monitor = (
                self.fe_http.monitor_uri is not None and req.target == self.fe_http.monitor_uri
            )
            self._routed(req, early + pipelined, monitor, b"".join(self.early))
            return
        be = self.backend
        assert be is not None
        self._assign(be, b"".join(self.early))
