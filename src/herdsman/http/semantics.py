"""What HAProxy 2.6 concludes from a head's fields (``h1_headers_to_hdr_list()``,
``h1_postparse_req_hdrs()``/``h1_postparse_res_hdrs()`` in ``src/h1_htx.c`` and
``h1_handle_headers()`` in ``src/mux_h1.c``).

Both parsers (``parse.py``'s fast path and ``exact.py``) feed a ``Fields``
accumulator the header fields they find, in order; ``Fields.field()`` applies
the rules HAProxy applies while indexing a header (and says whether the header
is forwarded, dropped or forwarded with another value), and
``finish_request()``/``finish_response()`` the checks made once the head is
complete. Keeping these rules in one place is what makes the two parsers agree.
"""

from __future__ import annotations

from . import fields, uri
from .model import Flag, Framing, HttpError, Limits, Method

# Header names HAProxy interprets (lower case). A field whose name is not here
# is forwarded as received.
SPECIAL = frozenset(
    (
        b"content-length",
        b"transfer-encoding",
        b"connection",
        b"upgrade",
        b"host",
        b"te",
        b"expect",
        b"sec-websocket-key",
        b"sec-websocket-accept",
    )
)

# What ``Fields.field()`` returns for a dropped header.
DROP = b"\x00drop"


def parse_error(request: bool, reason: str, offset: int) -> HttpError:
    """A parsing error: a request's is answered by the H1 mux (400), a response's
    by the stream (502)."""
    return HttpError(400, reason, offset) if request else HttpError(502, reason, offset, True)


class Fields:
    """The effects of the header fields of one message, accumulated in order."""

    __slots__ = (
        "request",
        "flags",
        "cl",
        "cl_word",
        "te_last",
        "te_seen",
        "te_other",
        "host",
        "kept",
        "expect",
        "ws_key",
        "ws_accept",
        "clean_conn",
    )

    def __init__(self, request: bool, clean_conn: bool = True) -> None:
        self.request = request
        # H1_MF_CLEAN_CONN_HDR: the H1 mux removes "close" and "keep-alive" from
        # Connection values; an errorfile keeps them (``http_str_to_htx()``)
        self.clean_conn = clean_conn
        self.flags: int = Flag.NONE
        self.cl = -1  # the Content-Length, -1 when none
        self.cl_word = b""
        self.te_last = False  # "chunked" is the last transfer coding
        self.te_seen = False
        self.te_other = False
        self.host: bytes | None = None  # the first Host value
        self.kept = 0  # header fields HAProxy indexes (those forwarded)
        self.expect: bytes | None = None  # the first value of the first Expect header
        self.ws_key: bytes | None = None  # the first Sec-WebSocket-Key of 24 characters
        self.ws_accept = False

    def field(self, lname: bytes, value: bytes, offset: int) -> bytes:
        """One special header (``lname`` in ``SPECIAL``): the value to forward, or DROP.

        ``offset`` locates the value in the input for error reports.
        """
        if lname == b"content-length":
            try:
                cl, word = fields.content_length(value, self.cl)
            except fields.ValueRefused as exc:
                raise parse_error(self.request, str(exc), offset + exc.at) from None
            first = self.cl < 0
            self.cl, self.cl_word = cl, word
            return word if first else DROP
        if lname == b"transfer-encoding":
            self.flags |= Flag.XFER_ENC
            try:
                self.te_last, self.te_seen, other = fields.transfer_encoding(
                    value, self.request, self.te_last, self.te_seen
                )
            except ValueError as err:  # not `exc`: mypyc types a name once per function
                raise parse_error(self.request, str(err), offset) from None
            self.te_other |= other
            return value
        if lname == b"connection":
            cleaned, close, kal, upg = fields.connection(value)
            if close:
                self.flags |= Flag.CONN_CLOSE
            if kal:
                self.flags |= Flag.CONN_KEEPALIVE
            if upg:
                self.flags |= Flag.CONN_UPGRADE | Flag.UPGRADE_TOKEN
            if not self.clean_conn:
                cleaned = value
            return cleaned if cleaned else DROP
        if lname == b"upgrade":
            if fields.upgrade_websocket(value):
                self.flags |= Flag.UPGRADE_WEBSOCKET
            else:
                self.flags &= ~Flag.UPGRADE_WEBSOCKET
            return value
        if lname == b"host":
            if not self.request:
                return value
            if self.host is None:
                self.host = value
                return value
            if value.lower() != self.host.lower():
                raise HttpError(400, "different Host values", offset)
            return DROP
        if lname == b"expect":
            if self.expect is None:
                self.expect = value[: fields.value_end(value, 0)].rstrip(b" \t")
            return value
        if lname == b"sec-websocket-key":
            if self.ws_key is None and len(value) == 24:
                self.ws_key = value
            return value
        if lname == b"sec-websocket-accept":
            self.ws_accept = True
            return value
        return value  # b"te": an output rule, see fields.te_trailers()


def htx_size(method: bytes, target: bytes, version: bytes, fields_size: int) -> int:
    """``h1_eval_htx_size()``: the HTX size of a head whose kept fields sum to
    ``fields_size`` (8 + name + value each)."""
    return 28 + len(method) + len(target) + len(version) + fields_size + 9


def check_limits(acc: Fields, limits: Limits, htx: int, offset: int) -> None:
    if acc.kept > limits.max_headers:
        raise parse_error(acc.request, "too many headers", offset)
    if htx > limits.htx_max:
        raise parse_error(acc.request, "head too large for a buffer", offset)


def check_authority(
    acc: Fields, meth: Method, target: bytes, strict: bool, offset: int
) -> tuple[bytes | None, bool]:
    """The Host/target agreement (request heads). Returns (Host value to forward
    instead, or None; is the target absolute-form with a default port to drop)."""
    scheme, authority, _ = uri.scheme_authority(target)
    if meth is Method.CONNECT:
        ok, host = uri.check_connect(authority, acc.host)
        if not ok and strict:
            raise HttpError(400, "CONNECT target and Host do not agree", offset)
        return host, False
    if (
        strict
        and acc.host is not None
        and authority
        and authority.lower() != acc.host.lower()
        and not uri.check_mismatch(scheme, authority, acc.host)
    ):
        raise HttpError(400, "target authority and Host differ", offset)
    return None, scheme is not None


def framing_request(acc: Fields, meth: Method, offset: int) -> tuple[Framing, int]:
    """Body framing of a request, after the TE/CL rules of the end of the head."""
    if acc.flags & Flag.XFER_ENC:
        if acc.cl >= 0:  # TE with CL: HAProxy forces close and removes CL
            acc.flags |= Flag.CONN_CLOSE
            acc.cl = -1
        elif not acc.flags & Flag.VER_11:  # TE with HTTP/1.0: close too
            acc.flags |= Flag.CONN_CLOSE
        if not acc.te_last:  # RFC 9112 6.3: a request must end with chunked
            raise HttpError(400, "Transfer-Encoding without chunked last", offset)
    if meth is Method.CONNECT:
        return Framing.NONE, 0
    if acc.te_last:
        return Framing.CHUNKED, 0
    if acc.cl > 0:
        return Framing.LENGTH, acc.cl
    return Framing.NONE, 0


def finish_request(
    acc: Fields,
    meth: Method,
    framing: Framing,
    accept_any_payload: bool,
    offset: int,
) -> bool:
    """The checks ``h1_handle_headers()`` makes on a parsed request (413, 422, WebSocket key).

    Returns whether the Upgrade headers must be removed: HAProxy drops them
    (and the upgrade) from a request that has a body (``h1_postparse_req_hdrs()``).
    """
    ver11 = acc.flags & Flag.VER_11
    if (
        not accept_any_payload
        and not ver11
        and framing in (Framing.LENGTH, Framing.CHUNKED)
        and meth in (Method.GET, Method.HEAD, Method.DELETE)
    ):
        raise HttpError(413, "HTTP/1.0 GET/HEAD/DELETE request with a payload", offset)
    if acc.te_other:
        raise HttpError(422, "unknown transfer coding", offset)
    drop_upgrade = False
    if acc.flags & Flag.CONN_UPGRADE and framing is not Framing.NONE:
        acc.flags &= ~Flag.CONN_UPGRADE
        drop_upgrade = True
    ws = Flag.CONN_UPGRADE | Flag.UPGRADE_WEBSOCKET
    if acc.flags & ws == ws and acc.ws_key is None:
        raise HttpError(400, "WebSocket upgrade without a valid Sec-WebSocket-Key", offset)
    if (
        ver11
        and (acc.cl >= 0 or acc.te_last)
        and acc.expect is not None
        and acc.expect.lower() == b"100-continue"
    ):
        acc.flags |= Flag.EXPECT_100
    return drop_upgrade


def framing_response(
    acc: Fields, status: int, req_meth: Method, offset: int
) -> tuple[Framing, int]:
    """Body framing of a response (``h1_postparse_res_hdrs()``) and its checks."""
    if acc.flags & Flag.XFER_ENC:
        if acc.cl >= 0:
            acc.flags |= Flag.CONN_CLOSE
            acc.cl = -1
        elif not acc.flags & Flag.VER_11:
            acc.flags |= Flag.CONN_CLOSE
    ws = Flag.UPGRADE_TOKEN | Flag.UPGRADE_WEBSOCKET
    if acc.flags & ws == ws and not acc.ws_accept:
        # the H1 output sees both tokens and adds the accept it thinks missing
        acc.flags |= Flag.WS_ACCEPT_MISSING
    if status != 101:
        acc.flags &= ~(Flag.CONN_UPGRADE | Flag.UPGRADE_WEBSOCKET)
    if acc.te_other:
        raise HttpError(502, "unknown transfer coding", offset, True)
    ws = Flag.CONN_UPGRADE | Flag.UPGRADE_WEBSOCKET
    if acc.flags & ws == ws and not acc.ws_accept:
        raise HttpError(502, "WebSocket upgrade without Sec-WebSocket-Accept", offset, True)
    if (req_meth is Method.CONNECT and 200 <= status < 300) or status == 101:
        return Framing.TUNNEL, 0
    if req_meth is Method.HEAD or 100 <= status < 200 or status in (204, 304):
        return Framing.NONE, 0
    if acc.te_last:
        return Framing.CHUNKED, 0
    if acc.cl >= 0:
        return (Framing.LENGTH, acc.cl) if acc.cl else (Framing.NONE, 0)
    return Framing.CLOSE, 0
