"""HTTP mode's data path: one ``HttpSession`` per client connection.

The session is the client connection's asyncio Protocol and runs its
transactions one at a time, as HAProxy's H1 mux does: parse a request head
(``herdsman.http``), decide the connection modes, take a server slot
(``Backend.acquire()``), reuse an idle server connection or open one
(``proxy/connect.py``, which also queues, retries and redispatches), forward
the head as received unless something must change, stream the bodies both
ways with back-pressure, and when the response ends release the slot, keep
or close the server connection and go on with the next request, pipelined
or not. Its server half is ``proxy/http_upstream.py``; its request body,
replies, timeouts, end and traffic log are its base classes, one chain
(``http_reqbody.py`` over ``http_replies.py`` over ``http_timers.py`` over
``http_close.py`` over ``http_txlog.py`` over ``http_state.py``'s declarations:
single inheritance, which mypyc compiles).

Hot path rules: no task per request (a coroutine runs only when a slot or a
connection must be waited for), no per-request objects beyond the parsed
heads and framers, the head written as received when unchanged, bodies
forwarded as ``memoryview`` slices.

Who answers an error, and how (spec §2.6, docs/http.md §2): a request the
engine refuses gets the mux's message (``errors.mux_bytes()``) or the
stream's reply (the proxy's errorfile, ``errors.reply_bytes()``); a server
that cannot be reached, 503; a bad or missing response, 502; no response in
``timeout server``, 504; an incomplete head at ``timeout http-request``, 408
when a byte arrived or on a new connection (unless ``option
http-ignore-probes``), else a silent close. After a stream's reply the client
connection stays open when the connection mode lets it, as in 2.6.

Who closes what: the session owns the client connection and closes it (a
graceful close flushes what was written; ``abort()`` resets); its upstream
owns the server connection; the slot goes back when a transaction ends or
the session closes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from herdsman.config.model import ProxyConfig, RetryOn
from herdsman.core.backend import Backend, Server
from herdsman.core.streamlog import StreamLog
from herdsman.http import (
    ChunkedBody,
    Flag,
    Framing,
    HttpError,
    LengthBody,
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
    connmode,
    forwarded,
    head_bytes,
)
from herdsman.lb.http_keys import request_body, request_key
from herdsman.proxy import (
    http_abort,
    http_body,
    http_hdrnames,
    http_local,
    http_prefer,
    http_redir,
    http_retry,
    http_rules,
)
from herdsman.proxy.connect import Aborted, ConnectError, Connecting, client_key, connect_from
from herdsman.proxy.frontend import Frontend, Listener
from herdsman.proxy.http_reqbody import RequestBody
from herdsman.proxy.http_server import ServerConn
from herdsman.proxy.http_settings import BackHttp
from herdsman.proxy.http_state import CLOSED, IDLE, SENDING, TUNNEL, WAITING
from herdsman.proxy.http_upstream import Upstream
from herdsman.rules.http_actions import Service

if TYPE_CHECKING:
    from herdsman.http.model import ResponseHead
    from herdsman.proxy.http_context import HttpContext
    from herdsman.proxy.routing import Outcome, Plan
    from herdsman.sample.txn import Txn


_XFER_ENC = Flag.XFER_ENC
_NO_BODY = Framing.NONE  # a module global: an enum member is a slow lookup (http/connmode.py)


class HttpSession(RequestBody):
    """A client connection in HTTP mode and its current transaction."""

    __slots__ = ()  # the session's are SessionState's (proxy/http_state.py)

    def __init__(self, ctx: HttpContext, frontend: Frontend, listener: Listener) -> None:
        Connecting.__init__(self)
        self.ctx = ctx
        self.frontend = frontend
        self.listener = listener
        self.loop = frontend.loop
        self.fe_http = ctx.front(frontend.cfg)
        be = frontend.backend_for()
        self.backend: Backend | None = be
        self.be_http = ctx.back(be.cfg) if be is not None else None
        self.transport: asyncio.Transport | None = None
        self.held = False
        self.phase = IDLE
        self.buf = b""  # client bytes not consumed yet (a head, or the next request)
        self.parser = RequestParser(ctx.limits, accept_invalid=self.fe_http.accept_invalid)
        be_invalid = self.be_http.accept_invalid if self.be_http is not None else False
        self.up = Upstream(self, ResponseParser(ctx.limits, accept_invalid=be_invalid))
        self.req: RequestHead | None = None
        self.req_out = b""  # the request head as sent
        self.req_body: LengthBody | ChunkedBody | None = None
        self.req_done = False
        self.req_held = b""  # request body bytes the framer left: presented again with more
        self.early: list[bytes | memoryview] = []  # request body read before the server is ready
        self.first = True  # the client connection's first request (spec §3.5)
        self.client_close = False
        self.server_close = False
        self.got_byte = False  # a byte of the current request head arrived
        self.idle_start = 0.0
        self.last_client = 0.0
        self.last_server = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.peer_addr: object = None
        self.local_addr: object = None
        self.client_paused = False
        self.fe_c = frontend.counters
        self.be_c = be.counters if be is not None else frontend.counters
        self.srv_c = self.be_c
        self.private: dict[int, ServerConn] = {}  # http-reuse never: this client's own
        # ACLs and rules (proxy/routing.py): None when the frontend has none
        self.rules: Plan | None = frontend.rules
        self.res_rules = self.rules is not None
        self.be_plan: Plan | None = None
        self.txn: Txn | None = None
        self.outcome: Outcome | None = None
        self.timer_tarpit: asyncio.TimerHandle | None = None
        # the transaction's, when the frontend logs traffic or a tracked table counts bytes
        self.log: StreamLog | None = None
        self.head_at = -1.0  # when the first byte of the current request head came
        # whose stats page the request asks for, or the use-service that answers it
        self.local: ProxyConfig | Service | None = None
        self.local_body: list[bytes] = []  # its body (a POST of the admin form)
        self.local_drain = False  # answered before its body: the body is read and dropped
        self.gone = False  # the client reset, unseen until a write (proxy/http_abort.py)
        self.lb_key: int | None = None  # the balancer's key for this request
        self.l7: list[bytes | memoryview] | None = None  # the body an L7 retry resends
        self.body_wait = 0.0  # when the wait for the request body began (proxy/http_body.py)
        self.body_early: bytes | None = None  # the head, while the frontend waits for the body
        self.waited = False  # the frontend waited for the body, before the rules
        self.prefer_last = False  # SESS_FL_PREFER_LAST (proxy/http_prefer.py)
        self.req_add: list[bytes] = []  # the lines added to the request (hash inputs)
        # no rules, stats page, header options, body wait or hash key (decided
        # once): a bodyless request takes _plain(), the same steps without the checks
        self.plain = (
            self.rules is None
            and ctx.stats is None
            and be is not None
            and self.fe_http.plain
            and self.be_http is not None
            and self.be_http.straight
        )
        self.plain_flags = -1  # the request flags plain_modes were decided for
        # (server close, Connection value, the backend's settings: rules may switch)
        self.plain_modes: tuple[bool, bytes | None, BackHttp | None] = (False, None, None)

    # -- the frontend's view (ClientStream) ------------------------------------------

    @property
    def client(self) -> asyncio.Protocol:
        return self

    def client_transport(self) -> asyncio.BaseTransport | None:
        return self.transport

    def is_closed(self) -> bool:
        return self.phase == CLOSED

    # -- client connection events --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tr: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport = tr
        self.peer_addr = tr.get_extra_info("peername")
        self.local_addr = tr.get_extra_info("sockname")
        self.frontend.accepted(tr, self.listener, "HTTP")
        if self.held:
            tr.pause_reading()
        else:
            self.start()

    def start(self) -> None:
        """Serve (at accept time, or when a held connection gets its slot)."""
        if self.rules is not None and not http_rules.accept(self):
            self.close()  # tcp-request connection/session reject
            return
        self.frontend.count_sess()
        self.idle_start = self.last_client = self.loop.time()
        if self.transport is not None:
            self.transport.resume_reading()
        self.arm()

    def data_received(self, data: bytes) -> None:
        self.last_client = self.loop.time()
        self.fe_c.bytes_in += len(data)
        phase = self.phase
        if phase == IDLE:
            if not self.buf:
                self.head_at = self.last_client
            self._head(self.buf + data if self.buf else data)
        elif phase == SENDING:
            self._request_body(data)
            if self.body_wait and self.phase != CLOSED:
                self._body_waited(False)
        elif phase == TUNNEL:
            if not self.up.forward([data], len(data)):
                self.early.append(data)
        elif phase == WAITING:
            # the next pipelined request: kept until this transaction ends
            self.buf += data
            if len(self.buf) >= self.ctx.limits.bufsize:
                self.pause_client()

    def eof_received(self) -> bool:
        if self.phase == TUNNEL:
            conn = self.up.conn
            if conn is not None and conn.transport is not None:
                conn.transport.write_eof()
            return True
        if self.phase == IDLE:
            # no request whole: 2.6 answers a 400 unless nothing came on a
            # keep-alive connection (or http-ignore-probes)
            self.idle_error(400, "C")
            return False
        if self.phase == SENDING:
            self.close()  # the request will never end: abort
            return False
        http_abort.client_fin(self)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.phase == IDLE:
            self.idle_error(400, "C")  # a reset before a request came whole
        elif self.phase == WAITING and not self.gone and http_abort.client_lost(self):
            self.gone = True
            return
        self._finish()
        self._unlink()

    def pause_writing(self) -> None:
        conn = self.up.conn
        if conn is not None and conn.transport is not None:
            conn.transport.pause_reading()

    def resume_writing(self) -> None:
        conn = self.up.conn
        if conn is not None and conn.transport is not None:
            conn.transport.resume_reading()

    def pause_client(self) -> None:
        if not self.client_paused and self.transport is not None:
            self.client_paused = True
            self.transport.pause_reading()

    def resume_client(self) -> None:
        if self.client_paused and self.transport is not None:
            self.client_paused = False
            self.transport.resume_reading()

    def server_drained(self) -> None:
        """The server connection can take more: read the request body again."""
        if self.phase == SENDING:
            self.resume_client()

    def to_client(self, data: bytes | memoryview) -> None:
        tr = self.transport
        if tr is not None:
            tr.write(data)
            self.fe_c.bytes_out += len(data)

    # -- requests --------------------------------------------------------------------------

    def _head(self, buf: bytes) -> None:
        """Parse the request head at the start of ``buf`` and start its transaction."""
        try:
            head = self.parser.parse(buf)
        except HttpError as exc:
            self.fe_c.failed_req += 1
            self._client_error(exc)
            return
        if head is None:
            self.buf = buf
            if buf and not self.got_byte:
                self.got_byte = True
                self.arm()
            if len(buf) >= self.ctx.limits.bufsize:
                self.pause_client()
            return
        self.buf = b""
        self._request(head, buf)

    def _request(self, head: RequestHead, buf: bytes) -> None:
        fe_http = self.fe_http
        self.fe_c.cum_req += 1
        self.ctx.process.counters.cum_req += 1
        self.req = head
        self.got_byte = False
        self.client_close = connmode.client_wants_close(head.flags, self.frontend.stopping)
        self.req_body = None
        self.req_done = head.framing is _NO_BODY
        if self.plain and self.req_done and self.frontend.traffic_log is None:
            self._plain(head, buf)
            return
        monitor = fe_http.monitor_uri is not None and head.target == fe_http.monitor_uri
        if not monitor and self.frontend.traffic_log is not None:
            self._new_log(head)  # before the rules: a denied request is logged too
        if fe_http.buffer_request and not self.req_done and http_body.holds(head):
            # the frontend's http-buffer-request: the body comes before the rules
            self._frame(head)
            self.phase = SENDING
            self.body_early = buf[: head.size]
            http_body.start(self, head)
            if len(buf) > head.size:
                self._request_body(buf[head.size :])
                if self.phase == CLOSED:
                    return
            self._body_waited(True)
            return
        self._routed(head, buf, monitor, None)

    def _routed(self, head: RequestHead, buf: bytes, monitor: bool, body: bytes | None) -> None:
        """The rules, the backend, the request to send (``body``: the body as
        received, which the frontend waited for, else None: what came with the
        head in ``buf``)."""
        fe_http = self.fe_http
        seen = None if body is None else request_body(head, body)
        if self.rules is not None and http_rules.request(self, head, buf, monitor, seen):
            return
        be_http = self.be_http
        out = self.outcome
        if (
            be_http is not None
            and be_http.straight
            and fe_http.plain  # (no monitor-uri, no body waited for)
            and self.req_done
            and self.ctx.stats is None
            and (out is None or out.server is None)
        ):
            self._plain(head, buf)  # what the steps below come to for this request
            return
        if monitor:
            self.fe_c.intercepted_req += 1
            self._answer(200, head, buf)  # never logged (SF_MONITOR)
            return
        self.new_request()
        be = self.backend
        hook = self.ctx.stats
        if hook is not None:
            px = http_local.stats_target(hook, head, self.frontend.cfg, be.cfg if be else None)
            if px is not None:
                self._local(px, head, buf)
                return
        if be is None or be_http is None:
            self._answer(503, head, buf)
            return
        self.be_c.cum_req += 1
        dropped = http_hdrnames.check(self, head)
        if dropped is None:
            return
        self.server_close = connmode.server_wants_close(
            head.flags, fe_http.mode, be_http.mode, self.frontend.stopping, head.meth
        )
        add = forwarded.added_lines(
            (fe_http.forwardfor, be_http.forwardfor),
            (fe_http.originalto, be_http.originalto),
            head,
            self.peer_addr,
            self.local_addr,
        )
        value = connmode.request_connection(
            head.flags, self.server_close, be_http.pretend_keepalive
        )
        remove = http_body.before_server(self, head)
        remove += tuple(dropped)
        if be_http.send_name_header is not None:
            remove += (be_http.send_name_header,)  # Upstream.send() writes it
        if remove and self.txn is not None:
            hdrs = self.txn.req_hdrs_rw()
            hdrs[:] = [h for h in hdrs if h[0].lower() not in remove]
        rewritten = http_rules.request_out(self, value, add) if self.txn is not None else None
        self.req_out = rewritten or head_bytes(head, value, add=add, remove=remove)
        rest = buf[head.size :]
        if self.req_body is None:
            self._frame(head)
        self.phase = WAITING if self.req_done else SENDING
        if rest:
            if self.req_done:
                self.buf = rest  # a pipelined request
            else:
                self._request_body(rest)
                if self.phase == CLOSED:
                    return
        if self.req_done and not http_abort.watched(self):
            self.pause_client()  # one transaction at a time
        self.req_add = add
        if self.body_wait:
            self._body_waited(True)
            return
        self._assign(be, rest if body is None else body)

    def _plain(self, head: RequestHead, buf: bytes) -> None:
        """``_routed()`` and ``_assign()`` for a bodyless request of a plain session
        (``self.plain``), or of a session with rules once they let the request through
        to a backend without header options or hash and chose no server: what they
        do when no stats page, header option, body wait or hash key applies."""
        self.new_request()
        be = self.backend
        be_http = self.be_http
        assert be is not None
        assert be_http is not None
        self.be_c.cum_req += 1
        flags = head.flags
        stopping = self.frontend.stopping
        modes = self.plain_modes
        if flags == self.plain_flags and modes[2] is be_http and not stopping:
            server_close, value = modes[0], modes[1]  # decided for the same flags before
        else:
            server_close = connmode.server_wants_close(
                flags, self.fe_http.mode, be_http.mode, stopping, head.meth
            )
            value = connmode.request_connection(flags, server_close, be_http.pretend_keepalive)
            if not stopping and not flags & _XFER_ENC:  # else the method matters too
                self.plain_flags = flags
                self.plain_modes = server_close, value, be_http
        self.server_close = server_close
        rewritten = None if self.txn is None else http_rules.request_out(self, value, ())
        self.req_out = rewritten or head_bytes(head, value)
        self.phase = WAITING
        if len(buf) > head.size:
            self.buf = buf[head.size :]  # a pipelined request
        if not be.abortonclose:  # http_abort.watched()
            self.pause_client()  # one transaction at a time
        if self.req_add:
            self.req_add = []
        self.lb_key = None
        if self.prefer_last and self.private:
            self._assign(be, b"")  # option prefer-last-server set by an NTLM challenge
            return
        self._got(be, be.acquire(self), None)

    def _assign(self, be: Backend, rest: bytes) -> None:
        """Choose the server and take its slot, then reuse a connection or open one
        (``rest``: what came after the head, a POST's body for ``url_param``)."""
        bal = be.cfg.balance
        req = self.req
        assert req is not None
        key = (
            client_key(be, self.peer_addr)
            if bal.algo == "source"
            else request_key(bal, http_rules.as_rewritten(self, req), self.req_add, rest)
        )
        self.lb_key = key
        direct = self.outcome.server if self.outcome is not None else None
        self.direct = direct is not None  # a rule or a cookie (SF_DIRECT), not a preference
        self.force = self.outcome is not None and self.outcome.force
        be_http = self.be_http
        prefer = be_http is not None and (self.prefer_last or be_http.prefer_last)
        if direct is None and self.private and prefer and be_http is not None:
            direct = http_prefer.last_server(
                be, self.private.values(), be_http.max_ka_queue, self.prefer_last
            )
        self._got(be, be.acquire(self, key, direct), key)

    def _got(self, be: Backend, got: object, key: int | None) -> None:
        """``acquire()``'s answer: reuse an idle connection to the server, or connect
        (or queue, or fail) in a task."""
        if type(got) is Server:
            self.server = got
            self.srv_c = got.counters
            self.assigned_at = self.loop.time()
            if got.cfg.redir is not None and http_redir.answer(self, got.cfg.redir):
                return
            if self.up.reuse(got):
                if self.log is not None:
                    self._log_connected()
                self.up.send()
                self.arm()
                return
        self.task = self.loop.create_task(self._connect(be, got, key))
        self.arm()

    # -- the server side -------------------------------------------------------------------

    async def _connect(self, be: Backend, got: object, key: int | None) -> None:
        try:
            await connect_from(self, be, got, key)
        except Aborted:
            return
        except ConnectError as exc:
            if self.log is not None:
                self.log.set_term(*exc.term)
            be.counters.http_rsp[exc.status // 100 - 1] += 1  # the backend counts it too
            if self.phase != CLOSED:
                self.reply(exc.status, self.req, request_pending=not self.req_done)
            return
        self._log_connected()
        self.up.send()
        self.arm()

    def request_sent(self) -> None:
        http_retry.sent(self)

    def retry_on(self, cause: int | RetryOn) -> bool:
        return http_retry.response(self, cause)

    def reconnect(self, be: Backend, got: object) -> None:
        """An L7 retry (proxy/http_retry.py): connect again, then send the request again."""
        self.task = self.loop.create_task(self._connect(be, got, self.lb_key))

    async def open_to(self, srv: Server, timeout: float | None) -> int | None:
        self.srv_c = srv.counters
        return await self.up.open(srv, timeout)

    def tunnel(self, rest: bytes) -> None:
        """After a 101, or a 2xx to CONNECT: raw bytes both ways (``timeout tunnel``);
        what the client sent after its request goes to the server first."""
        self.phase = TUNNEL
        if rest:
            self.to_client(rest)
        if self.buf:
            data, self.buf = self.buf, b""
            if not self.up.forward([data], len(data)):
                self.early.append(data)
        self.resume_client()
        self.arm()

    def transaction_done(self) -> None:
        """The response ended: slot back, server connection kept or closed, next request."""
        tr = self.transport
        if tr is None or tr.is_closing():
            self.close()  # the client is gone: writing the response failed
            return
        self.up.release(self.req_done)
        be = self.backend
        srv = self.server
        if be is not None and srv is not None:
            self.server = None
            be.release(srv, self)
        if self.log is not None:
            if self.txn is not None:
                http_rules.count_stream_bytes(self)
            self._log_end(srv)
        self.srv_c = self.be_c
        if self.txn is not None:
            http_rules.done(self)
        self.req_body = self.req = None
        self.req_held = b""
        self.body_wait = 0.0
        self.waited = False
        if self.early:
            self.early = []
        self.first = False
        if self.client_close or not self.req_done:
            self.close()
            return
        self.phase = IDLE
        self.idle_start = self.loop.time()
        if self.buf:
            buf, self.buf = self.buf, b""
            self._head(buf)
            if self.phase == IDLE:
                self.resume_client()
                self.arm()
        else:
            self.resume_client()
            self.arm()

    # -- the response's rules (errors and replies: proxy/http_replies.py) -------------------

    def response_rules(
        self, resp: ResponseHead, connection: bytes | None, after: list[bytes]
    ) -> bytes | None:
        """The response rules (``Upstream`` asks): the head to send if changed,
        b"" if unchanged, None if the session answered instead."""
        return http_rules.response(self, resp, connection, after)
