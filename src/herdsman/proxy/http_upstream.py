"""The server half of an HTTP session: its server connection, the request sent on
it, the response read from it (``proxy/http.py`` is the client half).

One ``Upstream`` per session, reused by every transaction (no per-request
object). It opens or reuses the server connection of a transaction
(``proxy/http_server.py`` pools, spec §3.5), writes the request head and the
body the client sent so far, parses the response with the engine, forwards it
to the client, and tells the session when the response ended or failed.

Who closes what: the upstream closes the server connection it cannot keep;
it never closes the client connection itself but asks the session
(``close()``, ``reply()``), which owns it.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from herdsman.config.model import HttpReuse, RetryOn
from herdsman.core.backend import Backend, Server
from herdsman.core.counters import BeCounters, FeCounters
from herdsman.core.streamlog import StreamLog
from herdsman.defs.status import HanaEvent
from herdsman.http import (
    ChunkedBody,
    CloseBody,
    Flag,
    Framing,
    HttpError,
    LengthBody,
    Method,
    ResponseHead,
    ResponseParser,
    connmode,
    head_bytes,
    websocket,
)
from herdsman.http.model import RequestHead
from herdsman.proxy import http_prefer
from herdsman.proxy.connect import open_transport, proxy_header
from herdsman.proxy.frontend import Frontend
from herdsman.proxy.http_context import HttpContext
from herdsman.proxy.http_phase import CLOSED, TUNNEL
from herdsman.proxy.http_server import ConnUser, Pool, ServerConn
from herdsman.proxy.http_settings import BackHttp, FrontHttp
from herdsman.sample.txn import Txn

Body = LengthBody | ChunkedBody | CloseBody
Piece = bytes | memoryview
_NO_LINES: list[bytes] = []  # shared, never appended to: no list per response
# constants as module globals: a class attribute is a slow lookup on Python
# 3.11, an enum member's slower still (http/connmode.py)
_NONE, _LENGTH, _CHUNKED, _TUNNEL = Framing.NONE, Framing.LENGTH, Framing.CHUNKED, Framing.TUNNEL
_NEVER = HttpReuse.NEVER
_CONNECT = Method.CONNECT
_CONN_UPGRADE, _WS_ACCEPT_MISSING = Flag.CONN_UPGRADE, Flag.WS_ACCEPT_MISSING
_HTTP_OK, _HTTP_STS = HanaEvent.HTTP_OK, HanaEvent.HTTP_STS


def frame(
    framer: Body, data: bytes | memoryview
) -> tuple[list[Piece], memoryview, HttpError | None]:
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


def _passive_event(status: int) -> HanaEvent:
    """``observe layer7``: a 5xx but 501 and 505 is an error (``http_wait_for_response()``)."""
    if 500 <= status <= 599 and status not in (501, 505):
        return _HTTP_STS
    return _HTTP_OK


class Session(Protocol):
    """What the upstream reads and calls of its session (``proxy/http.py``)."""

    ctx: HttpContext
    loop: asyncio.AbstractEventLoop
    frontend: Frontend
    phase: int  # proxy/http_phase.py
    backend: Backend | None
    server: Server | None
    fe_http: FrontHttp
    be_http: BackHttp | None
    transport: asyncio.Transport | None
    local_addr: object
    peer_addr: object
    private: dict[int, ServerConn]
    first: bool
    req: RequestHead | None
    req_out: bytes
    req_done: bool
    early: list[bytes | memoryview]
    client_close: bool
    server_close: bool
    last_server: float
    fe_c: FeCounters
    be_c: BeCounters | FeCounters
    srv_c: BeCounters | FeCounters
    l7: list[bytes | memoryview] | None  # what an L7 retry sends again (http_retry.py)
    txn: Txn | None  # the rules' transaction, None without rules
    res_rules: bool  # the response goes through response_rules()
    prefer_last: bool  # an NTLM/Negotiate challenge was seen (proxy/http_prefer.py)
    log: StreamLog | None  # the transaction's traffic log facts, when the frontend logs

    def log_response(self, resp: ResponseHead) -> None:
        """The response head arrived (its time, status and captured headers)."""
        ...

    def request_sent(self) -> None:
        """The request is about to go to the server (kept for an L7 retry)."""
        ...

    def retry_on(self, cause: int | RetryOn) -> bool:
        """The response head's status, or how the response failed: True when the
        request goes again instead (proxy/http_retry.py)."""
        ...

    def pause_client(self) -> None: ...

    def resume_client(self) -> None: ...

    def server_drained(self) -> None: ...

    def to_client(self, data: bytes | memoryview) -> None: ...

    def tunnel(self, rest: bytes) -> None: ...

    def transaction_done(self) -> None: ...

    def server_error(self, status: int) -> None: ...

    def response_rules(
        self, resp: ResponseHead, connection: bytes | None, after: list[bytes]
    ) -> bytes | None: ...

    def close(self) -> None: ...


class Upstream(ConnUser):
    """A session's server side; ``ConnUser`` of its server connection."""

    __slots__ = (
        "s",
        "conn",
        "rparser",
        "resp",
        "body",
        "held",
        "sbuf",
        "reused",
        "keep",
        "modes_for",
        "modes",
    )
    __deletable__ = ("s",)  # cut once the session ended (Closing._unlink(); mypyc)

    def __init__(self, session: Session, rparser: ResponseParser) -> None:
        self.s = session
        self.conn: ServerConn | None = None
        self.rparser = rparser
        self.resp: ResponseHead | None = None
        self.body: Body | None = None
        self.held = b""  # response body bytes the framer left: presented again with more
        self.sbuf = b""  # server bytes of a response head not complete yet
        self.reused = False
        self.keep = False  # the server connection may serve another transaction
        # a response's connection modes (its Connection value, whether the client
        # and the server connections stay) and the facts they were decided from
        self.modes_for: tuple[int, int, Framing, bool, bool] | None = None
        self.modes: tuple[bytes | None, bool, bool] = (None, False, False)

    # -- the connection ---------------------------------------------------------------

    def key(self, srv: Server) -> object:
        """What a reused connection must match (spec §3.5): the server, and the
        destination or PROXY header when they depend on the client."""
        cfg = srv.cfg
        if srv.addr.is_any or srv.addr.mapped or cfg.send_proxy or cfg.send_proxy_v2:
            return (id(srv), self.s.local_addr, self.s.peer_addr)
        return id(srv)

    def reuse(self, srv: Server) -> bool:
        """Attach a connection to ``srv`` to reuse, this client's own first, then
        one of the pool; False when there is none."""
        s = self.s
        pool = s.ctx.pools.of(srv)
        conn = None
        if s.private:
            conn = s.private.pop(id(srv), None)
            if conn is not None and conn.transport is None:
                conn = None
        if conn is None:
            be_http = s.be_http
            assert be_http is not None
            conn = pool.take(self.key(srv), be_http.reuse, s.first)
            if conn is None:
                return False
        self.attach(conn, True, pool)
        return True

    async def open(self, srv: Server, timeout: float | None) -> int | None:
        """A connection to ``srv`` for this transaction: an idle one, else a new one
        (``Connecting.open_to()``): None when open, else an errno."""
        s = self.s
        if self.reuse(srv):
            return None
        conn = ServerConn(srv, self.key(srv))
        conn.session = self
        fe = s.frontend
        tls = fe.tls.server(srv) if fe.tls is not None else None
        # send-proxy: the connection's first bytes, its client's (the pool key keeps it theirs)
        header = proxy_header(srv, s.peer_addr, s.local_addr)
        err = await open_transport(
            s.loop, srv, s.local_addr, fe.server_bufs, lambda: conn, timeout, tls, header
        )
        if err is not None:
            return err
        srv.counters.connect += 1
        if s.backend is not None:
            s.backend.passive(srv, HanaEvent.L4_OK)
        self.attach(conn, False, s.ctx.pools.of(srv))
        return None

    def attach(self, conn: ServerConn, reused: bool, pool: Pool) -> None:
        """``conn`` carries this transaction (``pool``: its server's)."""
        conn.session = self
        conn.home = pool
        self.conn = conn
        self.reused = reused
        pool.using()
        if reused:
            conn.server.counters.reuse += 1

    def send(self) -> None:
        """The connection is ready: the request head, then what body came so far."""
        s = self.s
        conn = self.conn
        if conn is None or conn.transport is None or s.phase == CLOSED:
            return
        tr = conn.transport
        conn.requests += 1
        s.last_server = s.loop.time()
        be_http = s.be_http
        assert be_http is not None
        if be_http.l7_retry:
            s.request_sent()
        else:
            s.l7 = None
        out = s.req_out
        name = be_http.send_name_header
        if name is not None:
            # http-send-name-header: the H1 output writes it last, after the
            # Connection header, for the server of this attempt (h1_process_mux())
            out = b"%s%s: %s\r\n\r\n" % (out[:-2], name, conn.server.name.encode())
        tr.write(out)
        n = len(out)
        if s.early:
            n += sum(len(p) for p in s.early)
            tr.writelines(s.early)
            s.early = []
        s.be_c.bytes_in += n
        s.srv_c.bytes_in += n
        if not s.req_done:
            s.resume_client()

    def forward(self, pieces: list[Piece], n: int) -> bool:
        """Request body bytes for the server: sent now, or False (keep them)."""
        conn = self.conn
        if conn is None or conn.transport is None or self.s.early:
            return False
        conn.transport.writelines(pieces)
        self.s.be_c.bytes_in += n
        self.s.srv_c.bytes_in += n
        return True

    def release(self, keep: bool) -> None:
        """End of transaction: keep the connection idle (this client's own, or its
        server's pool) or close it."""
        conn = self.conn
        self.conn = None
        self.resp = self.body = None
        self.held = self.sbuf = b""
        if conn is None:
            return
        pool = conn.home
        assert pool is not None
        conn.session = None
        kept = keep and self.keep and conn.transport is not None and self._keep(conn, pool)
        pool.done_using()  # after the admission, which counts it as used
        if not kept:
            conn.close()

    def _keep(self, conn: ServerConn, pool: Pool) -> bool:
        s = self.s
        be_http = s.be_http
        assert be_http is not None
        if be_http.reuse is _NEVER or conn.private:
            conn.private = True  # HAProxy's session list: reused by this client only
            old = s.private.pop(id(conn.server), None)
            if old is not None:
                old.close()
            s.private[id(conn.server)] = conn
            return True
        return pool.put(conn)

    # -- the response ---------------------------------------------------------------------

    def server_data(self, conn: ServerConn, data: bytes) -> None:
        self._server_data(data)
        s = self.s
        if s.transport is None and s.phase != CLOSED:
            s.close()  # the client reset unseen: these bytes find it gone (http_abort.py)

    def _server_data(self, data: bytes) -> None:
        s = self.s
        s.last_server = s.loop.time()
        n = len(data)
        s.be_c.bytes_out += n
        s.srv_c.bytes_out += n
        if s.phase == TUNNEL:
            s.to_client(data)
            return
        if self.body is not None:
            self._body(data)
            return
        buf = self.sbuf + data if self.sbuf else data
        req = s.req
        assert req is not None
        upgrade = bool(req.flags & _CONN_UPGRADE)
        interim: list[bytes] = _NO_LINES  # 1xx heads of this read: dropped with a bad head
        while True:
            try:
                resp = self.rparser.parse(buf, req.meth, upgrade=upgrade)
            except HttpError:
                if not s.retry_on(RetryOn.JUNK_RESPONSE):
                    if s.log is not None:
                        s.log.set_term("P", "H")  # return_bad_res: SF_ERR_PRXCOND
                    s.server_error(502)
                return
            if resp is None:
                self.sbuf = buf
                for out in interim:
                    s.to_client(out)
                return
            if resp.status >= 200 or not resp.informational:
                break
            if interim is _NO_LINES:
                interim = []
            interim.append(head_bytes(resp, None))
            buf = buf[resp.size :]
        self.sbuf = b""
        for out in interim:
            s.to_client(out)
        self._response(resp, buf)

    def _response(self, resp: ResponseHead, buf: bytes) -> None:
        """The response head at the start of ``buf``, and what follows it."""
        s = self.s
        req = s.req
        assert req is not None
        status = resp.status
        if s.l7 is not None and s.retry_on(status):  # http_retry.response() needs l7
            return
        self.resp = resp
        cls = status // 100
        idx = cls - 1 if 1 <= cls <= 5 else 5
        s.fe_c.http_rsp[idx] += 1
        s.be_c.http_rsp[idx] += 1
        s.srv_c.http_rsp[idx] += 1
        if s.log is not None:
            s.log_response(resp)
        be = s.backend
        srv = s.server
        if be is not None and srv is not None and srv.check is not None:
            be.passive(srv, _passive_event(status))
        conn = self.conn
        if (
            (status == 401 or status == 407)
            and conn is not None
            and http_prefer.connection_auth(resp)
        ):
            conn.private = True  # this client's from now on
            s.prefer_last = True
        if s.frontend.stopping:
            # the connection modes are decided again on the response: a stopping
            # proxy closes both sides (h1_set_cli_conn_mode(), h1_set_srv_conn_mode())
            s.client_close = s.server_close = True
        framing = resp.framing
        # the same request and response flags, framing and modes decide the same
        # (the status matters below 200 and for a CONNECT only; response rules
        # come after, and keep is decided again after them)
        seen = (req.flags, resp.flags, framing, s.client_close, s.server_close)
        plain = status >= 200 and req.meth is not _CONNECT
        if plain and seen == self.modes_for:
            value, close_client, keep = self.modes
        else:
            value, close_client = connmode.response_connection(
                status, req.meth, req.flags, resp.flags, framing, s.client_close, s.fe_http.mode
            )
            keep = connmode.server_keeps_alive(s.server_close, resp.flags, framing)
            self.modes_for = seen if plain else None
            self.modes = value, close_client, keep
        s.client_close = close_client
        after = [websocket.accept_line(req)] if resp.flags & _WS_ACCEPT_MISSING else _NO_LINES
        out = head_bytes(resp, value, after=after) if after else head_bytes(resp, value)
        if s.res_rules:
            ruled = s.response_rules(resp, value, after)
            if ruled is None:
                return  # the rules answered instead (http-response deny)
            out = ruled or out
            keep = connmode.server_keeps_alive(s.server_close, resp.flags, framing)
        self.keep = keep
        size = resp.size
        if framing is _TUNNEL:
            self.keep = False
            s.to_client(out)
            s.tunnel(buf[size:])
            return
        if framing is _NONE:
            s.to_client(out)
            s.transaction_done()
            return
        if framing is _LENGTH:
            length = resp.content_length
            got = len(buf) - size
            if got <= length:
                # nothing past the body: the head and the body read with it in one
                # write (one segment, as HAProxy sends it), the read itself when the
                # head is unchanged
                if out is resp.raw:
                    s.to_client(buf)
                elif got:
                    tr = s.transport
                    if tr is not None:
                        tr.writelines((out, memoryview(buf)[size:]))
                    s.fe_c.bytes_out += len(out) + got
                else:
                    s.to_client(out)
                if s.log is not None:
                    s.log.bytes_out += got
                if got == length:
                    s.transaction_done()
                else:
                    self.body = LengthBody(length - got)
                return
            self.body = LengthBody(length)
        elif framing is _CHUNKED:
            self.body = ChunkedBody(False, s.ctx.limits)
        else:
            self.body = CloseBody()
        if len(buf) > size:
            self._body(memoryview(buf)[size:], out)
        else:
            s.to_client(out)

    def _body(self, data: bytes | memoryview, head: bytes = b"") -> None:
        """Response body bytes (after ``head``, the response head not sent yet when
        it came in the same read: HAProxy refuses that read whole)."""
        s = self.s
        framer = self.body
        assert framer is not None
        if self.held:
            data = self.held + data
            self.held = b""
        elif type(framer) is LengthBody and not head and len(data) <= framer.remaining:
            # the body of a known length goes on: all of this read is body
            framer.remaining -= len(data)
            s.to_client(data)
            if s.log is not None:
                s.log.bytes_out += len(data)
            if not framer.remaining:
                s.transaction_done()
            return
        pieces, rest, error = frame(framer, data)
        if error is not None and head:
            self.resp = None  # nothing of it went out: the client gets a 502
            s.server_error(502)
            return
        n = sum(len(p) for p in pieces)
        if s.log is not None:
            s.log.bytes_out += n
        if head:
            pieces.insert(0, head)  # one write for the head and the body with it
        self._to_client(pieces)
        if error is not None:
            s.server_error(502)
            return
        if framer.done:
            s.transaction_done()
        elif len(rest):
            self.held = bytes(rest)

    def _to_client(self, pieces: list[Piece]) -> None:
        """Several pieces in one write (one ``writev``)."""
        s = self.s
        tr = s.transport
        if tr is not None and pieces:
            tr.writelines(pieces)
        s.fe_c.bytes_out += sum(len(p) for p in pieces)

    def server_eof(self, conn: ServerConn) -> None:
        s = self.s
        if s.phase == TUNNEL:
            tr = s.transport
            if tr is not None and not tr.is_closing():
                tr.write_eof()
            return
        if isinstance(self.body, CloseBody):
            self.body.done = True
            self.keep = False
            s.transaction_done()
            return
        if self.resp is None and s.retry_on(RetryOn.EMPTY_RESPONSE):
            return
        self._gone()

    def server_lost(self, conn: ServerConn, exc: Exception | None) -> None:
        if conn is not self.conn:
            return
        if self.s.phase == TUNNEL:
            self.s.close()
            return
        self._gone()

    def _gone(self) -> None:
        """The server closed before the response ended."""
        self.keep = False
        if self.resp is not None:
            self.s.close()  # a truncated body: HAProxy aborts the client too
            return
        self.s.server_error(502)

    def server_writable(self, conn: ServerConn, writable: bool) -> None:
        if writable:
            self.s.server_drained()
        else:
            self.s.pause_client()
