"""HTTP mode's data path: one ``HttpSession`` per client connection.

The session is the client connection's asyncio Protocol and runs its
transactions one at a time, as HAProxy's H1 mux does: parse a request head
(``herdsman.http``), decide the connection modes, take a server slot
(``Backend.acquire()``), reuse an idle server connection or open one
(``proxy/connect.py``, which also queues, retries and redispatches), forward
the head as received unless something must change, stream the bodies both
ways with back-pressure, and when the response ends release the slot, keep
or close the server connection (``proxy/http_server.py``) and go on with the
next request, pipelined or not.

Hot path rules: no task per request (a coroutine runs only when a slot or a
connection must be waited for), no per-request objects beyond the parsed
heads and framers, the head written as received when unchanged, bodies
forwarded as ``memoryview`` slices.

Who answers an error, and how (spec §2.6, docs/http.md §2): a request the
engine refuses gets the mux's message (``errors.mux_bytes()``) or the
stream's reply (the proxy's errorfile, ``errors.reply_bytes()``); a server
that cannot be reached, 503; a bad or missing response, 502; no response in
``timeout server``, 504; an incomplete head at ``timeout http-request``, 408
when a byte arrived, else a silent close. The client connection is closed
after every error reply.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from typing import TYPE_CHECKING

from herdsman.core.backend import Backend, Server
from herdsman.defs.levels import LOG_INFO
from herdsman.defs.status import HanaEvent
from herdsman.http import (
    ChunkedBody,
    CloseBody,
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
    websocket,
)
from herdsman.http.model import Method
from herdsman.proxy.connect import (
    Aborted,
    ConnectError,
    Connecting,
    client_key,
    connect_from,
    destination,
    make_socket,
)
from herdsman.proxy.frontend import Frontend, Listener
from herdsman.proxy.http_server import ServerConn
from herdsman.proxy.tcp import set_bufs

if TYPE_CHECKING:
    from herdsman.proxy.http_context import HttpContext

# transaction phases (one transaction at a time per client connection)
IDLE = 0  # waiting for (the rest of) a request head
SENDING = 1  # request head parsed: its body still comes from the client
WAITING = 2  # request complete, waiting for the server
TUNNEL = 3  # after a 101 or a CONNECT: raw bytes both ways
CLOSED = 4

Body = LengthBody | ChunkedBody | CloseBody
Piece = bytes | memoryview


def frame(framer: Body, data: bytes) -> tuple[list[Piece], memoryview, HttpError | None]:
    """Feed ``data`` to a body framer: the pieces to forward, the bytes it did not
    take (the next message once it is done, else a line to present again with
    more), and the error that stopped it, after the pieces before it."""
    view = memoryview(data)
    pieces: list[Piece] = []
    while True:
        try:
            used = framer.feed(view)
        except HttpError as exc:
            return pieces, view, exc
        out = framer.out
        if out is None:
            if used:
                pieces.append(view[:used])
        else:
            pieces.extend(out)
            framer.out = None
        view = view[used:]
        if framer.done or not used or not len(view):
            return pieces, view, None


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
        "rparser",
        "req",
        "req_out",
        "req_body",
        "req_done",
        "req_held",
        "resp_held",
        "early",
        "resp",
        "resp_body",
        "sbuf",
        "conn",
        "reused",
        "first",
        "client_close",
        "server_close",
        "keep_server",
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
        self.buf = b""  # client bytes not consumed yet
        self.parser = RequestParser(ctx.limits, accept_invalid=self.fe_http.accept_invalid)
        be_invalid = self.be_http.accept_invalid if self.be_http is not None else False
        self.rparser = ResponseParser(ctx.limits, accept_invalid=be_invalid)
        self.req: RequestHead | None = None
        self.req_out = b""  # the request head as sent (kept to retry on a new connection)
        self.req_body: Body | None = None
        self.req_done = False
        # body bytes a framer left (an incomplete line): presented again with more
        self.req_held = b""
        self.resp_held = b""
        self.early: list[bytes | memoryview] = []  # request body read before the server is ready
        self.resp: ResponseHead | None = None
        self.resp_body: Body | None = None
        self.sbuf = b""  # server bytes not consumed yet
        self.conn: ServerConn | None = None
        self.reused = False
        self.first = True  # the client connection's first request (spec §3.5)
        self.client_close = False
        self.server_close = False
        self.keep_server = False
        self.got_byte = False  # a byte of the current request arrived
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

    # -- the frontend's view (ClientStream) ----------------------------------------

    @property
    def client(self) -> asyncio.Protocol:
        return self

    def client_transport(self) -> asyncio.BaseTransport | None:
        return self.transport

    def is_closed(self) -> bool:
        return self.phase == CLOSED

    # -- client connection events ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tr: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport = tr
        self.peer_addr = tr.get_extra_info("peername")
        self.local_addr = tr.get_extra_info("sockname")
        fe = self.frontend
        if fe.clitcpka or fe.nolinger or fe.client_bufs != (0, 0):
            sock = tr.get_extra_info("socket")
            if sock is not None:
                if fe.clitcpka:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                if fe.nolinger:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                set_bufs(sock, fe.client_bufs)
        if fe.logger is not None:
            self._log_connect()
        if self.held:
            tr.pause_reading()
        else:
            self.start()

    def _log_connect(self) -> None:
        """``frontend_accept()`` without a log format: one INFO line per connection."""
        fe = self.frontend
        src, dst = self.peer_addr, self.local_addr
        if isinstance(src, tuple) and isinstance(dst, tuple):
            text = f"Connect from {src[0]}:{src[1]} to {dst[0]}:{dst[1]} ({fe.name}/HTTP)"
        else:
            luid = fe.listeners.index(self.listener) + 1 if self.listener in fe.listeners else 0
            text = f"Connect to unix:{luid} ({fe.name}/HTTP)"
        fe.logger.send(LOG_INFO, text)

    def start(self) -> None:
        """Serve (at accept time, or when a held connection gets its slot)."""
        now = self.loop.time()
        self.idle_start = self.last_client = now
        tr = self.transport
        if tr is not None:
            tr.resume_reading()
        self._arm()

    def data_received(self, data: bytes) -> None:
        self.last_client = self.loop.time()
        self.fe_c.bytes_in += len(data)
        phase = self.phase
        if phase == IDLE:
            self._head(self.buf + data if self.buf else data)
        elif phase == SENDING:
            self._request_body(data)
        elif phase == TUNNEL:
            conn = self.conn
            if conn is not None and conn.transport is not None:
                conn.transport.write(data)
                self.be_c.bytes_in += len(data)
                self.srv_c.bytes_in += len(data)
        elif phase == WAITING:
            # the next pipelined request: kept until this transaction ends
            self.buf += data
            if len(self.buf) >= self.ctx.limits.bufsize:
                self._pause_client()

    def eof_received(self) -> bool:
        if self.phase == TUNNEL:
            conn = self.conn
            if conn is not None and conn.transport is not None:
                conn.transport.write_eof()
            return True
        if self.phase == IDLE and not self.buf:
            self.close()  # a keep-alive client leaves between requests
            return False
        if self.phase == SENDING and not self.req_done:
            self.close()  # the request will never end: abort
            return False
        self.client_close = True  # answer what was asked, then close
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._finish()

    def pause_writing(self) -> None:
        conn = self.conn
        if conn is not None and conn.transport is not None:
            conn.transport.pause_reading()

    def resume_writing(self) -> None:
        conn = self.conn
        if conn is not None and conn.transport is not None:
            conn.transport.resume_reading()

    def _pause_client(self) -> None:
        if not self.client_paused and self.transport is not None:
            self.client_paused = True
            self.transport.pause_reading()

    def _resume_client(self) -> None:
        if self.client_paused and self.transport is not None:
            self.client_paused = False
            self.transport.resume_reading()

    # -- requests ------------------------------------------------------------------------

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
                self._arm()
            if len(buf) >= self.ctx.limits.bufsize:
                self._pause_client()
            return
        self.buf = b""
        self._request(head, buf)

    def _request(self, head: RequestHead, buf: bytes) -> None:
        fe = self.frontend
        fe_http = self.fe_http
        self.fe_c.cum_req += 1
        self.ctx.process.counters.cum_req += 1
        self.req = head
        self.got_byte = False
        self.client_close = connmode.client_wants_close(head.flags, fe.stopping)
        self.req_body = None
        self.req_done = head.framing is Framing.NONE
        if fe_http.monitor_uri is not None and head.target == fe_http.monitor_uri:
            self.fe_c.intercepted_req += 1
            self._answer(200, head, buf)
            return
        be = self.backend
        be_http = self.be_http
        if be is None or be_http is None:
            self._answer(503, head, buf)
            return
        self.be_c.cum_req += 1
        self.server_close = connmode.server_wants_close(
            head.flags, fe_http.mode, be_http.mode, False, head.meth
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
        self.req_out = head_bytes(head, value, add=add)
        rest = buf[head.size :]
        framing = head.framing
        if framing is Framing.LENGTH:
            self.req_body = LengthBody(head.content_length)
            self.req_done = False
        elif framing is Framing.CHUNKED:
            self.req_body = ChunkedBody(True, self.ctx.limits)
            self.req_done = False
        else:
            self.req_body = None
            self.req_done = True
        self.phase = SENDING if not self.req_done else WAITING
        if rest:
            if self.req_done:
                self.buf = rest  # a pipelined request
            else:
                self._request_body(rest)
                if self.phase == CLOSED:
                    return
        if self.req_done:
            self._pause_client()  # one transaction at a time
        key = client_key(be, self.peer_addr)
        got = be.acquire(self, key)
        if isinstance(got, Server):
            self.server = got
            self.srv_c = got.counters
            conn = self._idle_conn(got)
            if conn is not None:
                self._attach(conn, reused=True)
                self._send()
                self._arm()
                return
        self.task = self.loop.create_task(self._connect(be, got, key))
        self._arm()

    def _answer(self, status: int, head: RequestHead, buf: bytes) -> None:
        """A request herdsman answers itself (monitor-uri, no backend)."""
        if self.req_done:
            self.buf = buf[head.size :]  # what follows is the next request
        self._reply(status, head, request_pending=not self.req_done)

    def _request_body(self, data: bytes) -> None:
        """Client bytes of the request body: forward (or keep) what belongs to it."""
        framer = self.req_body
        if framer is None:
            return
        if self.req_held:
            data = self.req_held + data
            self.req_held = b""
        pieces, rest, error = frame(framer, data)
        if pieces:
            n = sum(len(p) for p in pieces)
            conn = self.conn
            if conn is not None and conn.transport is not None and not self.early:
                conn.transport.writelines(pieces)
                self.be_c.bytes_in += n
                self.srv_c.bytes_in += n
            else:
                self.early.extend(bytes(p) for p in pieces)
                if sum(len(p) for p in self.early) >= self.ctx.limits.bufsize:
                    self._pause_client()
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
        self._pause_client()
        self._arm()

    # -- the server connection ------------------------------------------------------------

    def _idle_conn(self, srv: Server) -> ServerConn | None:
        """A connection to ``srv`` to reuse: this client's own first, then the pool."""
        be_http = self.be_http
        assert be_http is not None
        own = self.private.pop(id(srv), None)
        if own is not None and own.transport is not None:
            return own
        return self.ctx.pools.of(srv).take(self._conn_key(srv), be_http.reuse, self.first)

    def _conn_key(self, srv: Server) -> object:
        """What a reused connection must match (spec §3.5): the server, and the
        destination or PROXY header when they depend on the client."""
        cfg = srv.cfg
        if srv.addr.is_any or srv.addr.mapped or cfg.send_proxy or cfg.send_proxy_v2:
            return (id(srv), self.local_addr, self.peer_addr)
        return id(srv)

    async def _connect(self, be: Backend, got: object, key: int | None) -> None:
        try:
            await connect_from(self, be, got, key)
        except Aborted:
            return
        except ConnectError as exc:
            if self.phase != CLOSED:
                self._reply(exc.status, self.req, request_pending=not self.req_done)
            return
        self._send()
        self._arm()

    async def open_to(self, srv: Server, timeout: float | None) -> int | None:
        """A connection to ``srv`` for this transaction: an idle one, else a new one."""
        self.srv_c = srv.counters
        conn = self._idle_conn(srv)
        if conn is not None:
            self._attach(conn, reused=True)
            return None
        try:
            family, addr = destination(srv, self.local_addr)
        except OSError as exc:
            return exc.errno or errno.EIO
        conn = ServerConn(srv, self._conn_key(srv))
        conn.session = self
        loop = self.loop
        sock: socket.socket | None = None
        bufs = self.frontend.server_bufs
        try:
            async with asyncio.timeout(timeout):
                if family != socket.AF_UNIX and not srv.cfg.namespace and not any(bufs):
                    host, port = addr[0], addr[1]  # type: ignore[index]
                    await loop.create_connection(lambda: conn, host, port)
                else:
                    sock = make_socket(srv, family)
                    if family != socket.AF_UNIX:
                        set_bufs(sock, bufs)
                    await loop.sock_connect(sock, addr)  # type: ignore[arg-type]
                    if family == socket.AF_UNIX:
                        await loop.create_unix_connection(lambda: conn, sock=sock)
                    else:
                        await loop.create_connection(lambda: conn, sock=sock)
        except TimeoutError:
            if sock is not None:
                sock.close()
            return errno.ETIMEDOUT
        except OSError as exc:
            if sock is not None:
                sock.close()
            return exc.errno or errno.ECONNREFUSED
        srv.counters.connect += 1
        be = self.backend
        if be is not None:
            be.passive(srv, HanaEvent.L4_OK)
        self._attach(conn, reused=False)
        return None

    def _attach(self, conn: ServerConn, reused: bool) -> None:
        conn.session = self
        self.conn = conn
        self.reused = reused
        self.ctx.pools.of(conn.server).using()
        if reused:
            conn.server.counters.reuse += 1

    def _send(self) -> None:
        """The server connection is ready: the head, then what body we have."""
        conn = self.conn
        if conn is None or conn.transport is None or self.phase == CLOSED:
            return
        tr = conn.transport
        conn.requests += 1
        self.last_server = self.loop.time()
        tr.write(self.req_out)
        n = len(self.req_out)
        if self.early:
            n += sum(len(p) for p in self.early)
            tr.writelines(self.early)
            self.early = []
        self.be_c.bytes_in += n
        self.srv_c.bytes_in += n
        if not self.req_done:
            self._resume_client()

    # -- responses ------------------------------------------------------------------------

    def server_data(self, conn: ServerConn, data: bytes) -> None:
        self.last_server = self.loop.time()
        n = len(data)
        self.be_c.bytes_out += n
        self.srv_c.bytes_out += n
        if self.phase == TUNNEL:
            self._to_client(data)
            return
        if self.resp_body is not None:
            self._response_body(data)
            return
        buf = self.sbuf + data if self.sbuf else data
        req = self.req
        assert req is not None
        while True:
            try:
                resp = self.rparser.parse(
                    buf, req.meth, upgrade=bool(req.flags & Flag.CONN_UPGRADE)
                )
            except HttpError:
                self._server_error(502)
                return
            if resp is None:
                self.sbuf = buf
                return
            buf = buf[resp.size :]
            if resp.informational:
                self._to_client(head_bytes(resp, None))
                continue
            break
        self.sbuf = b""
        self._response(resp, buf)

    def _response(self, resp: ResponseHead, rest: bytes) -> None:
        req = self.req
        be_http = self.be_http
        assert req is not None
        assert be_http is not None
        self.resp = resp
        status = resp.status
        cls = status // 100
        idx = cls - 1 if 1 <= cls <= 5 else 5
        self.fe_c.http_rsp[idx] += 1
        self.be_c.http_rsp[idx] += 1
        self.srv_c.http_rsp[idx] += 1
        be = self.backend
        srv = self.server
        if be is not None and srv is not None and srv.check is not None:
            be.passive(
                srv,
                HanaEvent.HTTP_STS
                if 500 <= status <= 599 and status != 501 and status != 505
                else HanaEvent.HTTP_OK,
            )
        value, close_client = connmode.response_connection(
            status,
            req.meth,
            req.flags,
            resp.flags,
            resp.framing,
            self.client_close,
            self.fe_http.mode,
        )
        self.client_close = close_client
        after = [websocket.accept_line(req)] if resp.flags & Flag.WS_ACCEPT_MISSING else []
        out = head_bytes(resp, value, after=after)
        self.keep_server = connmode.server_keeps_alive(self.server_close, resp.flags, resp.framing)
        framing = resp.framing
        if framing is Framing.TUNNEL:
            self._to_client(out)
            self._tunnel(rest)
            return
        if framing is Framing.NONE:
            self._to_client(out)
            self._response_done()
            return
        if framing is Framing.LENGTH:
            self.resp_body = LengthBody(resp.content_length)
        elif framing is Framing.CHUNKED:
            self.resp_body = ChunkedBody(False, self.ctx.limits)
        else:
            self.resp_body = CloseBody()
        if rest:
            self._response_body(rest, out)
        else:
            self._to_client(out)

    def _tunnel(self, rest: bytes) -> None:
        """After a 101, or a 2xx to CONNECT: raw bytes both ways (``timeout tunnel``);
        what the client sent after its request goes to the server first."""
        self.phase = TUNNEL
        self.keep_server = False
        if rest:
            self._to_client(rest)
        conn = self.conn
        if self.buf and conn is not None and conn.transport is not None:
            conn.transport.write(self.buf)
        self.buf = b""
        self._resume_client()
        self._arm()

    def _response_body(self, data: bytes, head: bytes = b"") -> None:
        """Server bytes of the response body (after ``head``, the response head not
        sent yet when it came in the same read: HAProxy refuses that read whole)."""
        framer = self.resp_body
        assert framer is not None
        if self.resp_held:
            data = self.resp_held + data
            self.resp_held = b""
        pieces, rest, error = frame(framer, data)
        if error is not None and head:
            self.resp = None  # nothing of it went out: the client gets a 502
            self._server_error(502)
            return
        tr = self.transport
        if tr is not None:
            if head:
                tr.write(head)
            if pieces:
                tr.writelines(pieces)
        self.fe_c.bytes_out += len(head) + sum(len(p) for p in pieces)
        if error is not None:
            self._server_error(502)
            return
        if framer.done:
            self._response_done()
        elif len(rest):
            self.resp_held = bytes(rest)

    def _to_client(self, data: bytes) -> None:
        tr = self.transport
        if tr is not None:
            tr.write(data)
            self.fe_c.bytes_out += len(data)

    def _response_done(self) -> None:
        """The transaction ended: slot back, server connection kept or closed, next request."""
        conn = self.conn
        self.conn = None
        be = self.backend
        srv = self.server
        if conn is not None:
            self.ctx.pools.of(conn.server).done_using()
            conn.session = None
            if not (self.keep_server and self.req_done and self._keep(conn)):
                conn.close()
        if be is not None and srv is not None:
            self.server = None
            be.release(srv, self)
        self.srv_c = self.be_c
        self.resp = self.resp_body = self.req_body = self.req = None
        self.sbuf = self.req_held = self.resp_held = b""
        self.first = False
        if self.client_close or not self.req_done:
            self.close()
            return
        self.phase = IDLE
        self.idle_start = self.loop.time()
        if self.buf:
            buf, self.buf = self.buf, b""
            self._head(buf)
            if self.phase == IDLE and not self.client_paused:
                self._arm()
            elif self.phase == IDLE:
                self._resume_client()
        else:
            self._resume_client()
            self._arm()

    def _keep(self, conn: ServerConn) -> bool:
        """Give an idle server connection to this client (never) or its server's pool."""
        be_http = self.be_http
        assert be_http is not None
        if conn.transport is None:
            return False
        if be_http.reuse.value == "never":
            conn.private = True
            old = self.private.pop(id(conn.server), None)
            if old is not None:
                old.close()
            self.private[id(conn.server)] = conn
            return True
        return self.ctx.pools.of(conn.server).put(conn)

    def server_eof(self, conn: ServerConn) -> None:
        if self.phase == TUNNEL:
            tr = self.transport
            if tr is not None and not tr.is_closing():
                tr.write_eof()
            return
        framer = self.resp_body
        if isinstance(framer, CloseBody):
            framer.done = True
            self.keep_server = False
            self._response_done()
            return
        self._server_gone(conn)

    def server_lost(self, conn: ServerConn, exc: Exception | None) -> None:
        if conn is not self.conn:
            return
        if self.phase == TUNNEL:
            self.close()
            return
        self._server_gone(conn)

    def _server_gone(self, conn: ServerConn) -> None:
        """The server closed before the response ended."""
        self.keep_server = False
        if self.resp is not None:
            self.close()  # a truncated body: HAProxy aborts the client too
            return
        self._server_error(502)

    def server_writable(self, conn: ServerConn, writable: bool) -> None:
        if writable:
            if self.phase == SENDING:
                self._resume_client()
        else:
            self._pause_client()

    # -- errors and replies ---------------------------------------------------------------

    def _client_error(self, exc: HttpError) -> None:
        if exc.stream:
            # a request the stream refuses: answered as a close (HAProxy's 400 says so)
            self._reply(exc.status, None, request_pending=True, client_close=True)
        else:
            self._to_client(errors.mux_bytes(exc.status))
            self.close()

    def _server_error(self, status: int) -> None:
        be = self.backend
        srv = self.server
        if be is not None:
            be.counters.failed_resp += 1
        if srv is not None:
            srv.counters.failed_resp += 1
            if be is not None:
                be.passive(srv, HanaEvent.HTTP_HDRRSP)
        if self.resp is not None:
            self.close()  # the response started: nothing to answer, abort
            return
        self._reply(status, self.req, request_pending=not self.req_done)

    def _reply(
        self,
        status: int,
        req: RequestHead | None,
        *,
        request_pending: bool = False,
        client_close: bool | None = None,
    ) -> None:
        """One of HAProxy's own responses (or the proxy's errorfile) ends the
        transaction; the client connection stays open when the connection mode
        lets it (a complete request, a reply that does not say close), as in 2.6.
        """
        be_http = self.be_http
        replies = be_http.replies if be_http is not None else self.fe_http.replies
        reply = replies.get(status, errors.DEFAULT_REPLIES.get(status))
        idx = status // 100 - 1 if 100 <= status < 600 else 5
        self.fe_c.http_rsp[idx] += 1
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
            self._to_client(errors.reply_bytes(reply, value, meth is Method.HEAD))
        if close or request_pending or self.phase == CLOSED:
            self.close()
            return
        self.keep_server = False  # the server connection is not trusted any more
        self._response_done()

    # -- timeouts -----------------------------------------------------------------------

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
        if self.conn is not None and be_http is not None and be_http.server:
            values.append(self.last_server + be_http.server)
        return min(values) if values else None

    def _arm(self) -> None:
        due = self._deadline()
        timer = self.timer
        if due is None:
            return
        if timer is not None:
            if timer.when() <= due:
                return  # fires first: it will look again
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
            if self.buf or self.got_byte:
                self.fe_c.failed_req += 1
                self._to_client(errors.mux_bytes(408))
            self.close()
            return
        if phase in (SENDING, WAITING) and self.conn is not None and self.resp is None:
            be = self.backend
            srv = self.server
            if be is not None and srv is not None:
                be.passive(srv, HanaEvent.HTTP_READ_TIMEOUT)
                srv.counters.failed_resp += 1
            self._reply(504, self.req, request_pending=not self.req_done)
            return
        self.close()

    # -- end ------------------------------------------------------------------------------

    def close(self) -> None:
        if self.phase == CLOSED:
            return
        tr = self.transport
        if tr is not None:
            tr.close()  # flushes what was written
        self._finish()

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
        conn = self.conn
        self.conn = None
        if conn is not None:
            conn.session = None
            self.ctx.pools.of(conn.server).done_using()
            conn.close()
        for own in self.private.values():
            own.close()
        self.private.clear()
        be = self.backend
        if self.pending is not None and be is not None:
            be.abandon(self.pending)
            self.pending = None
        srv = self.server
        if srv is not None and be is not None:
            self.server = None
            be.release(srv, self)
        self.frontend.stream_closed(self)
