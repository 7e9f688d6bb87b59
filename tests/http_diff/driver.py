"""The proxy's part played sans-IO with herdsman's engine, for one client connection.

It does what HAProxy 2.6 does in ``mode http`` with the default keep-alive
mode (frontend and backend), for input that arrives in one piece: parse the
request, forward its head (rewritten) and body, read the scripted response,
forward it, and go on with the next pipelined request until the client has
nothing more or a side closes. The timeouts the harness configures on the real
proxy are modelled by their outcome: an incomplete head gets a 408 (HAProxy's
``timeout http-request``), an incomplete body a 504 (``timeout server``), an
idle connection is closed silently (``timeout http-keep-alive``).

The bytes it would send to the backend are read by the same strict reader as
the real recording backend, so both proxies are summarised the same way.
"""

from __future__ import annotations

from herdsman.http import (
    DEFAULT_LIMITS,
    ChunkedBody,
    CloseBody,
    Framing,
    HttpError,
    LengthBody,
    Limits,
    Method,
    RequestHead,
    RequestParser,
    ResponseParser,
    connmode,
    errors,
    head_bytes,
    websocket,
)
from herdsman.http.model import Flag

from .backend import DEFAULT_REPLY, Reply
from .outcome import Outcome, outcome, record_stream
from .wire import Unreadable


def _stream_reply(
    status: int, req_meth: Method, req_flags: Flag, client_close: bool, pending: bool
) -> tuple[bytes, bool]:
    """A reply HAProxy's stream makes (through HTX): bytes, and does the client close."""
    reply = errors.DEFAULT_REPLIES[status]
    conn, close = connmode.response_connection(
        reply.status,
        req_meth,
        req_flags,
        reply.flags,
        Framing.LENGTH,
        client_close,
        reply_close=bool(reply.flags & Flag.CONN_CLOSE),
        reply_keepalive=bool(reply.flags & Flag.CONN_KEEPALIVE),
        request_pending=pending,
    )
    return errors.reply_bytes(reply, conn, req_meth is Method.HEAD), close


def _framer(
    framing: Framing, length: int, request: bool, limits: Limits
) -> LengthBody | ChunkedBody | None:
    if framing is Framing.LENGTH:
        return LengthBody(length)
    if framing is Framing.CHUNKED:
        return ChunkedBody(request, limits)
    return None


class _Input:
    """What the client sent, arriving ``piece`` bytes at a time (0: all at once)."""

    def __init__(self, data: bytes, piece: int) -> None:
        self.data = data
        self.piece = piece or len(data)
        self.pos = 0
        self.avail = min(self.piece, len(data))

    @property
    def buf(self) -> bytes:
        return self.data[self.pos : self.avail]

    def more(self) -> bool:
        """Let the next piece arrive; False when the client has sent everything."""
        if self.avail >= len(self.data):
            return False
        self.avail = min(len(self.data), self.avail + self.piece)
        return True


def _body(framer: LengthBody | ChunkedBody | CloseBody, inp: _Input, sent: bytearray) -> None:
    """Feed the body as it arrives, appending what to forward to ``sent`` as it goes
    (so what went out before an error stays out), until done or the client stalls."""
    while not framer.done:
        data = inp.buf
        used = framer.feed(data)
        sent += data[:used] if framer.out is None else b"".join(framer.out)
        inp.pos += used
        if not used and not inp.more():
            return


def run_engine(
    request: bytes,
    replies: list[Reply],
    piece: int = 0,
    lenient: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    any_payload: bool = False,
) -> Outcome:
    """The outcome of a case; ``piece``: the client sends that many bytes at a time;
    ``lenient``: ``option accept-invalid-http-request`` and ``-response``;
    ``any_payload``: the global ``h1-accept-payload-with-any-method``."""
    script = list(replies)
    to_client = bytearray()
    to_backend: list[bytearray] = []  # one per server connection
    server_conn: bytearray | None = None
    req_parser = RequestParser(limits, accept_invalid=lenient, accept_any_payload=any_payload)
    inp = _Input(request, piece)
    while inp.buf or inp.more():
        try:
            head = req_parser.parse(inp.buf)
        except HttpError as exc:
            if exc.stream:
                to_client += _stream_reply(exc.status, Method.OTHER, Flag.VER_11, True, False)[0]
            else:
                to_client += errors.mux_bytes(exc.status)
            break
        if head is None:
            if inp.more():
                continue
            to_client += errors.mux_bytes(408)  # timeout http-request with bytes pending
            break
        inp.pos += head.size
        client_close = connmode.client_wants_close(head.flags)
        server_close = connmode.server_wants_close(
            head.flags, connmode.Mode.KAL, connmode.Mode.KAL, meth=head.meth
        )
        out = bytearray(head_bytes(head, connmode.request_connection(head.flags, server_close)))
        head_len = len(out)
        framer = _framer(head.framing, head.content_length, True, limits)
        if framer is not None:
            try:
                _body(framer, inp, out)
            except HttpError as exc:
                if exc.stream and len(out) > head_len:
                    # HAProxy waited for room, so the head and the data went out first
                    to_backend.append(out)
                if exc.stream:
                    to_client += _stream_reply(exc.status, head.meth, head.flags, True, True)[0]
                else:
                    to_client += errors.mux_bytes(exc.status)
                break
        if server_conn is None:
            server_conn = bytearray()
            to_backend.append(server_conn)
        server_conn += out
        if framer is not None and not framer.done:
            # the client stalls in the body: the server waits, timeout server fires
            to_client += _stream_reply(504, head.meth, head.flags, client_close, True)[0]
            break
        reply = script.pop(0) if script else Reply(DEFAULT_REPLY)
        last = record_stream(bytes(server_conn))[-1]
        if isinstance(last, Unreadable):
            reply = Reply(b"", close=True)  # the backend refuses what it got and closes
        elif not last.complete:
            # the backend waits for a body it will not get: timeout server
            raw, close = _stream_reply(504, head.meth, head.flags, client_close, False)
            to_client += raw
            if close:
                break
            server_conn = None
            continue
        keep_client, server_open = _respond(
            head, reply, client_close, server_close, to_client, lenient, limits
        )
        if keep_client is None:  # a tunnel: what the client sent after goes raw
            while inp.more():
                pass
            answered = len(record_stream(bytes(server_conn)))
            server_conn += inp.buf
            # the recording backend answers what it reads there; raw back to the client
            for msg in record_stream(bytes(server_conn))[answered:]:
                if isinstance(msg, Unreadable) or not msg.complete:
                    break
                more = script.pop(0) if script else Reply(DEFAULT_REPLY)
                to_client += more.data
                if more.close:
                    break
            break
        if not server_open:
            server_conn = None
        if not keep_client:
            break
    forwarded = [m for conn in to_backend for m in record_stream(bytes(conn))]
    return outcome(bytes(to_client), forwarded)


def _respond(
    head: RequestHead,
    reply: Reply,
    client_close: bool,
    server_close: bool,
    to_client: bytearray,
    lenient: bool,
    limits: Limits,
) -> tuple[bool | None, bool]:
    """Relay the scripted response: (client connection stays open, server connection
    too); None for the client side when the connection became a tunnel."""
    data = reply.data
    parser = ResponseParser(limits, accept_invalid=lenient)
    interim = bytearray()  # 1xx heads read in the same input as what follows them
    while True:
        try:
            resp = parser.parse(data, head.meth, upgrade=bool(head.flags & Flag.CONN_UPGRADE))
        except HttpError:
            resp = None
            failed = True
        else:
            failed = False
        if resp is None:
            # a server that stays silent: timeout server; one that closes or sends
            # an invalid head: 502. HAProxy drops the 1xx it parsed in the same
            # read as an invalid head (the whole read is refused).
            status = 504 if not failed and not reply.close else 502
            raw, close = _stream_reply(status, head.meth, head.flags, client_close, False)
            to_client += (b"" if failed else interim) + raw
            return not close, False
        conn, close = connmode.response_connection(
            resp.status, head.meth, head.flags, resp.flags, resp.framing, client_close
        )
        after = [websocket.accept_line(head)] if resp.flags & Flag.WS_ACCEPT_MISSING else []
        out = head_bytes(resp, conn, after=after)
        rest = data[resp.size :]
        if resp.informational:
            interim += out
            data = rest
            continue
        to_client += interim
        framer: LengthBody | ChunkedBody | CloseBody | None = _framer(
            resp.framing, resp.content_length, False, limits
        )
        if resp.framing is Framing.CLOSE:
            framer = CloseBody()
        if resp.framing is Framing.TUNNEL:
            to_client += out + rest  # raw both ways until a side closes
            return None, True
        if framer is None:
            to_client += out
            return not close, not server_close
        body = bytearray()
        try:
            _body(framer, _Input(rest, 0), body)
        except HttpError:
            raw, close = _stream_reply(502, head.meth, head.flags, client_close, False)
            to_client += raw
            return not close, False
        to_client += out + body
        if isinstance(framer, CloseBody) or not framer.done:
            return False, False  # the body ends (or is cut) when the server closes
        keeps = (
            connmode.server_keeps_alive(server_close, resp.flags, resp.framing) and not reply.close
        )
        return not close, keeps
