"""HTTP mode's data path: one ``HttpSession`` per client connection.

The session is the client connection's asyncio Protocol and runs its
transactions one at a time, as HAProxy's H1 mux does: parse a request head
(``herdsman.http``), decide the connection modes, take a server slot
(``Backend.acquire()``), reuse an idle server connection or open one
(``proxy/connect.py``, which also queues, retries and redispatches), forward
the head as received unless something must change, stream the bodies both
ways with back-pressure, and when the response ends release the slot, keep
or close the server connection and go on with the next request, pipelined
or not. Its server half is ``proxy/http_upstream.py``.

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
import ipaddress
import time
from typing import TYPE_CHECKING

from herdsman.config.model import ProxyConfig, RetryOn
from herdsman.core.backend import Backend, Server
from herdsman.core.streamlog import StreamLog
from herdsman.defs.status import HanaEvent
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
    errors,
    forwarded,
    head_bytes,
)
from herdsman.http.errors import Reply
from herdsman.http.model import Method
from herdsman.lb.http_keys import request_body, request_key
from herdsman.proxy import (
    http_abort,
    http_body,
    http_hdrnames,
    http_local,
    http_log,
    http_prefer,
    http_redir,
    http_retry,
    http_rules,
)
from herdsman.proxy.connect import Aborted, ConnectError, Connecting, client_key, connect_from
from herdsman.proxy.frontend import Frontend, Listener
from herdsman.proxy.http_server import ServerConn
from herdsman.proxy.http_upstream import Upstream, frame
from herdsman.rules.http_actions import Service

if TYPE_CHECKING:
    from herdsman.http.errors import Reply
    from herdsman.http.model import ResponseHead
    from herdsman.proxy.http_context import HttpContext
    from herdsman.proxy.routing import Outcome, Plan
    from herdsman.sample.txn import Txn

# transaction phases (one transaction at a time per client connection)
IDLE = 0  # waiting for (the rest of) a request head
SENDING = 1  # request head parsed: its body still comes from the client
WAITING = 2  # request complete, waiting for the server
TUNNEL = 3  # after a 101 or a CONNECT: raw bytes both ways
CLOSED = 4


def _ip(addr: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if isinstance(addr, tuple) and addr:
        try:
            return ipaddress.ip_address(addr[0])
        except ValueError:
            return None
    return None


class HttpSession(Connecting, asyncio.Protocol):
    """A client connection in HTTP mode and its current transaction."""

    __slots__ = (
        "ctx",
        "frontend",
        "listener",
        "loop",
        "fe_http",
        "backend",
        "be_http",
        "transport",
        "held",
        "phase",
        "buf",
        "parser",
        "up",
        "req",
        "req_out",
        "req_body",
        "req_done",
        "req_held",
        "early",
        "first",
        "client_close",
        "server_close",
        "got_byte",
        "idle_start",
        "last_client",
        "last_server",
        "timer",
        "task",
        "peer_addr",
        "local_addr",
        "client_paused",
        "fe_c",
        "be_c",
        "srv_c",
        "private",
        "rules",
        "be_plan",
        "txn",
        "outcome",
        "timer_tarpit",
        "log",
        "head_at",
        "local",
        "local_body",
        "gone",
        "lb_key",
        "l7",
        "body_wait",
        "body_early",
        "waited",
        "prefer_last",
        "req_add",
    )

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
        self.be_plan: Plan | None = None
        self.txn: Txn | None = None
        self.outcome: Outcome | None = None
        self.timer_tarpit: asyncio.TimerHandle | None = None
        self.log: StreamLog | None = None  # the transaction's, when the frontend logs traffic
        self.head_at = -1.0  # when the first byte of the current request head came
        # whose stats page the request asks for, or the use-service that answers it
        self.local: ProxyConfig | Service | None = None
        self.local_body: list[bytes] = []  # its body (a POST of the admin form)
        self.gone = False  # the client reset, unseen until a write (proxy/http_abort.py)
        self.lb_key: int | None = None  # the balancer's key for this request
        self.l7: list[bytes | memoryview] | None = None  # the body an L7 retry resends
        self.body_wait = 0.0  # when the wait for the request body began (proxy/http_body.py)
        self.body_early: bytes | None = None  # the head, while the frontend waits for the body
        self.waited = False  # the frontend waited for the body, before the rules
        self.prefer_last = False  # SESS_FL_PREFER_LAST (proxy/http_prefer.py)
        self.req_add: list[bytes] = []  # the lines added to the request (hash inputs)

    # -- the frontend's view (ClientStream) ------------------------------------------

    @property
    def client(self) -> asyncio.Protocol:
        return self

    def client_transport(self) -> asyncio.BaseTransport | None:
        return self.transport

    def is_closed(self) -> bool:
        return self.phase == CLOSED

    def tunneling(self) -> bool:
        return self.phase == TUNNEL

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
        if self.phase == IDLE and not self.buf:
            self.close()  # a keep-alive client leaves between requests
            return False
        if self.phase == SENDING:
            self.close()  # the request will never end: abort
            return False
        http_abort.client_fin(self)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.phase == WAITING and not self.gone and http_abort.client_lost(self):
            self.gone = True
            return
        self._finish()

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
        self.req_done = head.framing is Framing.NONE
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
        if monitor:
            self.fe_c.intercepted_req += 1
            self._answer(200, head, buf)  # never logged (SF_MONITOR)
            return
        self.new_request()
        be = self.backend
        be_http = self.be_http
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
        add: list[bytes] = []
        if fe_http.forwardfor is not None or be_http.forwardfor is not None:
            present = frozenset(name.lower() for name, _ in head.headers)
            line = forwarded.forwardfor_line(
                fe_http.forwardfor, be_http.forwardfor, _ip(self.peer_addr), present
            )
            if line is not None:
                add.append(line)
        if fe_http.originalto is not None or be_http.originalto is not None:
            line = forwarded.originalto_line(
                fe_http.originalto, be_http.originalto, _ip(self.local_addr)
            )
            if line is not None:
                add.append(line)
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
        got = be.acquire(self, key, direct)
        if isinstance(got, Server):
            self.server = got
            self.srv_c = got.counters
            self.assigned_at = self.loop.time()
            if got.cfg.redir is not None and http_redir.answer(self, got.cfg.redir):
                return
            conn = self.up.idle(got)
            if conn is not None:
                self.up.attach(conn, reused=True)
                self._log_connected()
                self.up.send()
                self.arm()
                return
        self.task = self.loop.create_task(self._connect(be, got, key))
        self.arm()

    def _frame(self, head: RequestHead) -> None:
        if head.framing is Framing.LENGTH:
            self.req_body = LengthBody(head.content_length)
        elif head.framing is Framing.CHUNKED:
            self.req_body = ChunkedBody(True, self.ctx.limits)

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

    def _answer(self, status: int, head: RequestHead, buf: bytes) -> None:
        """A request herdsman answers itself (monitor-uri, no backend)."""
        if self.req_done:
            self.buf = buf[head.size :]  # what follows is the next request
        self.reply(status, head, request_pending=not self.req_done)

    def _request_body(self, data: bytes) -> None:
        """Client bytes of the request body: forward (or keep) what belongs to it."""
        framer = self.req_body
        if framer is None:
            return
        if self.req_held:
            data = self.req_held + data
            self.req_held = b""
        pieces, rest, error = frame(framer, data)
        if pieces and self.local is not None:
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
        if self.local is not None:
            self._serve_local()
            return
        if not http_abort.watched(self):
            self.pause_client()
        self.arm()

    # -- requests answered by a service of the views (stats page, use-service) -------------

    def _local(self, px: ProxyConfig | Service, head: RequestHead, buf: bytes) -> None:
        """The request is for ``px``'s stats page or a service: read its body, then answer."""
        if px is self.frontend.cfg:
            self.fe_c.intercepted_req += 1
        if self.log is not None:
            self.log.target = px.applet if isinstance(px, Service) else "<STATS>"
            # the applet is the stream's server, "connected" at once: %Tw %Tc %Tr are 0
            self.log.t_queue = self.log.t_connect = self.log.t_data = self._ms(self.loop.time())
            self.log.set_term("L", "R")  # SF_ERR_LOCAL | SF_FINST_R
        self.local = px
        rest = buf[head.size :]
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
        if rest:
            self._request_body(rest)

    def _serve_local(self) -> None:
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
        self.reply(answer[0], head, msg=http_local.to_reply(answer, replies))

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
        self.up.release(keep=self.req_done)
        be = self.backend
        srv = self.server
        if be is not None and srv is not None:
            self.server = None
            be.release(srv, self)
        if self.log is not None:
            self._log_end(srv)
        self.srv_c = self.be_c
        if self.txn is not None:
            http_rules.done(self)
        self.req_body = self.req = None
        self.req_held = b""
        self.body_wait = 0.0
        self.waited = False
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

    # -- errors and replies ------------------------------------------------------------------

    def _client_error(self, exc: HttpError) -> None:
        if self.log is None:
            self._log_session_error(exc.status, "P", "R")
        if exc.stream:
            # a request the stream refuses: answered as a close (HAProxy's 400 says so)
            self.reply(exc.status, None, request_pending=True, client_close=True)
        else:
            self.to_client(errors.mux_bytes(exc.status))
            self.close()

    def response_rules(
        self, resp: ResponseHead, connection: bytes | None, after: list[bytes]
    ) -> bytes | None:
        """The response rules (``Upstream`` asks): the head to send if changed,
        b"" if unchanged, None if the session answered instead."""
        return http_rules.response(self, resp, connection, after)

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
    ) -> None:
        """One of HAProxy's own responses (or the proxy's errorfile) ends the
        transaction; the client connection stays open when the connection mode
        lets it (a complete request, a reply that does not say close), as in 2.6.
        """
        be_http = self.be_http
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
        if close or request_pending or self.phase == CLOSED:
            self.close()
            return
        self.up.keep = False  # the server connection is not trusted any more
        self.transaction_done()

    # -- timeouts ----------------------------------------------------------------------------

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
        values = []
        if fe_http.client:
            values.append(self.last_client + fe_http.client)
        if self.body_wait:
            wait = http_body.timeout(fe_http, be_http)
            if wait:
                values.append(self.body_wait + wait)
        if self.up.conn is not None and be_http is not None and be_http.server:
            values.append(self.last_server + be_http.server)
        return min(values) if values else None

    def arm(self) -> None:
        """Re-arm the one timer of the session, lazily: a timer due later than the
        new deadline is replaced, an earlier one finds the new deadline when it fires."""
        due = self._deadline()
        if due is None:
            return
        timer = self.timer
        if timer is not None:
            if timer.when() <= due:
                return
            timer.cancel()
        self.timer = self.loop.call_at(due, self._on_timer)

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

    def _expired(self) -> None:
        phase = self.phase
        if phase == IDLE:
            # h1_handle_req_tout(): a 408 unless nothing arrived on a keep-alive
            # connection, or on a new one with option http-ignore-probes
            if self.buf or self.got_byte or (self.first and not self.fe_http.ignore_probes):
                fe_c = self.fe_c
                fe_c.cum_req += 1
                fe_c.http_rsp[3] += 1
                fe_c.failed_req += 1
                self._log_session_error(408, "c", "R")
                self.to_client(errors.mux_bytes(408))
            self.close()
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

    # -- end -----------------------------------------------------------------------------------

    def close(self) -> None:
        if self.phase == CLOSED:
            return
        tr = self.transport
        if (tr is None or tr.is_closing()) and self.phase == WAITING:
            self.gone = True  # a write found the client gone (http_abort.py)
        if tr is not None:
            tr.close()  # flushes what was written
        self._finish()

    def soft_stop(self) -> None:
        """The process is stopping (``mux_h1.c h1_process()``): a keep-alive connection
        waiting for its next request, no byte of it read, closes now, unless
        ``option idle-close-on-response``; every other one ends after its current
        or next response, which announces close (``h1_set_cli_conn_mode()``)."""
        if (
            self.phase == IDLE
            and not self.first
            and not self.buf
            and not self.got_byte
            and not self.fe_http.idle_close_on_response
        ):
            self.close()

    def abort(self) -> None:
        """Kill the client connection and the transaction now (shutdown sessions)."""
        tr = self.transport
        if tr is not None:
            tr.abort()
        self._finish()

    def _finish(self) -> None:
        if self.phase == CLOSED:
            return
        self.phase = CLOSED
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        task = self.task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        self.up.release(keep=False)
        for own in self.private.values():
            own.close()
        self.private.clear()
        if self.gone:
            http_abort.gone(self)
        be = self.backend
        if be is not None:
            self.leave_queue(be)
        srv = self.server
        if srv is not None and be is not None:
            self.server = None
            be.release(srv, self)
        log = self.log
        if log is not None:
            if log.err == "-" and log.fin == "-":  # an abort in the middle of the transaction
                started = self.up.resp is not None
                log.set_term("C" if self.transport is None else "S", "D" if started else "H")
            self._log_end(srv)
        if self.txn is not None or self.timer_tarpit is not None:
            http_rules.end(self)  # after the line: its trackers still count (stream_free())
        self.frontend.stream_closed(self)

    # -- the traffic log (proxy/http_log.py makes the facts) ------------------------------

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
            if txn.captures is not None:  # declare capture, http-request capture
                log.req_caps = http_log.slots(txn.captures, log.req_caps)
            if txn.captures_res is not None:
                log.rsp_caps = http_log.slots(txn.captures_res, log.rsp_caps)
        traffic_log = self.frontend.traffic_log
        if traffic_log is not None:
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
