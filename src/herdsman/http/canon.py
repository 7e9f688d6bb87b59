"""The usual head in one regular expression: what browsers, curl, wrk, nginx and Apache send.

``parse.py``'s fast path checks a canonical head with several C calls, then
hands each field HAProxy interprets to ``semantics.Fields``. Most heads are
narrower still, and this module decides them with one ``match()`` and a few
lines of Python, whatever their number of fields. The expression accepts:

* the start line: for a request a known method but CONNECT (``find_http_meth()``
  is case-sensitive), an origin-form target of bytes 0x21-0x7e but '#'
  (``chars.URI``), HTTP/1.1 or HTTP/1.0; for a response HTTP/1.x, three digits
  and a reason that starts with neither blank;
* header lines ``token:value CRLF`` with no CR or LF in the value, then the
  empty line: the lines ``parse.py`` accepts;
* of the fields HAProxy interprets (``semantics.SPECIAL``), only the usual forms,
  each captured by a group of its own: one Host (requests), one Content-Length
  of 1 to 19 digits, one Connection of "keep-alive" or "close", one
  Transfer-Encoding of "chunked", any TE of "trailers". Any other interpreted
  field, or a second one of those, sets the ``other`` group: the head is left
  to the general path. Each branch starts with a byte class (``[Cc]``...) so
  that the regex engine skips the branches of other names at once
  (``SRE_OP_BRANCH`` tests a leading ``IN``).

Everything else (and a head near a limit) returns None, and ``parse.py``'s
general path decides it: it stays the reference, and tests/unit/
test_http_canon.py checks that both give the same result on a large corpus.
"""

from __future__ import annotations

import re

from .model import METHODS, Flag, Framing, Limits, Method, RequestHead, ResponseHead

_T = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]"
# a value without its trailing blanks (the H1 parser trims them)
_TRIMMED = rb"((?:[^\r\n]*[^\r\n \t])?)[ \t]*+"
_OTHER = (
    rb"[Cc](?i:ontent-length|onnection)|[Tt](?i:ransfer-encoding|e)|[Uu](?i:pgrade)"
    rb"|[Ee](?i:xpect)|[Ss](?i:ec-websocket-(?:key|accept))"
)


def _lines(n: int, host: bool) -> bytes:
    """The header lines and the empty line. Groups, numbered from ``n``: the
    Host value (with ``host``), the Content-Length, the Connection line, its
    "keep-alive", its "close", "chunked", other. ``(?(g)(?!))`` sends a second
    field of a kind to ``other`` (for Connection it tests the groups of the
    previous line's token, closed by then)."""
    branches = []
    if host:
        branches.append(rb"[Hh](?i:ost):(?(%d)(?!))[ \t]*+" % n + _TRIMMED)
        n += 1
    branches += [
        rb"[Cc](?i:ontent-length):(?(%d)(?!))[ \t]*+([0-9]{1,19}+)[ \t]*+(?=\r)" % n,
        rb"([Cc](?i:onnection):(?(%d)(?!))(?(%d)(?!))[ \t]*+"
        rb"(?:((?i:keep-alive))|((?i:close)))[ \t]*+)(?=\r)" % (n + 2, n + 3),
        rb"[Tt](?i:ransfer-encoding):(?(%d)(?!))[ \t]*+(chunked)[ \t]*+(?=\r)" % (n + 4),
        rb"[Tt](?i:e):[ \t]*+trailers[ \t]*+(?=\r)",
        rb"(?:" + (rb"[Hh](?i:ost)|" if host else b"") + _OTHER + rb"):()[^\r\n]*+",
        _T + rb"++:[^\r\n]*+",
    ]
    # atomic: a line matched one way is never tried another way (and a failure
    # costs a step per line); not the possessive "*+", whose capture groups the
    # re module of CPython 3.11.7 corrupts ("The span of capturing group is wrong")
    return rb"(?>(?:" + b"|".join(branches) + rb")\r\n)*\r\n"


_REQUEST = re.compile(
    rb"(GET|POST|HEAD|PUT|DELETE|OPTIONS|TRACE) (/[!\x22$-~]*+) HTTP/1\.([01])\r\n"
    + _lines(4, True)
)
_RESPONSE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3}) ([^\r\n\t ][^\r\n]*+)\r\n" + _lines(4, False))
_VERSIONS = {b"0": b"HTTP/1.0", b"1": b"HTTP/1.1"}
_STATUS = {b"%03d" % i: i for i in range(1000)}  # a look-up costs less than int()
# a payload HAProxy refuses in an HTTP/1.0 request (semantics.finish_request())
_NO_PAYLOAD_10 = (Method.GET, Method.HEAD, Method.DELETE)
_VER_11 = Flag.VER_11
_CONN_CLOSE = Flag.CONN_CLOSE
_CONN_KEEPALIVE = Flag.CONN_KEEPALIVE
_XFER_ENC = Flag.XFER_ENC
_NONE, _LENGTH, _CHUNKED, _CLOSE = Framing.NONE, Framing.LENGTH, Framing.CHUNKED, Framing.CLOSE
_HEAD, _CONNECT = Method.HEAD, Method.CONNECT


def small(limits: Limits) -> int:
    """The head size under which no limit can be reached, whatever its lines: a
    header line has 4 bytes at least ("a:" CRLF), so a head of ``n`` bytes has
    at most ``n // 4``. ``parse._fast_fields()`` bounds its HTX size by the
    bytes from the start line's end plus 5 per line (28 + 9 more with the start
    line)."""
    n = min(limits.raw_max, 4 * limits.max_headers + 3)
    while n > 0 and 33 + n + 5 * (n // 4) > limits.htx_max:
        n -= 1
    return n


def _over(buf: bytes, size: int, limits: Limits) -> bool:
    """Is a head of ``size`` bytes near a limit (the general path counts what is kept)?"""
    nhdr = buf.count(b"\n", 0, size) - 2
    return nhdr > limits.max_headers or 33 + size + 5 * nhdr > limits.htx_max


def request(buf: bytes, limits: Limits, below: int, accept_any_payload: bool) -> RequestHead | None:
    """The head at the start of ``buf`` if it is one of the usual ones, else None.

    ``below``: ``small(limits)``.
    """
    m = _REQUEST.match(buf, 0, limits.raw_max)
    if m is None:
        return None
    method, target, minor, host, cl, conn, kal, _, te, other = m.groups()
    if other is not None:
        return None
    size = m.end()
    if size > below and _over(buf, size, limits):
        return None
    flags = _VER_11 if minor == b"1" else 0
    edits: tuple[tuple[int, int, bytes], ...] = ()
    if conn is not None:
        flags |= _CONN_CLOSE if kal is None else _CONN_KEEPALIVE
        start, end = m.span(6)
        edits = ((start, end + 2, b""),)
    meth = METHODS[method]
    length = 0
    if te is not None:
        if cl is not None:
            return None  # Content-Length dropped: rebuilt
        flags |= _XFER_ENC
        framing = _CHUNKED
        if not flags & _VER_11:
            flags |= _CONN_CLOSE  # semantics.framing_request()
            if meth in _NO_PAYLOAD_10 and not accept_any_payload:
                return None  # a 413
    elif cl is not None and cl != b"0" and (length := int(cl)):
        framing = _LENGTH
        if not flags & _VER_11 and meth in _NO_PAYLOAD_10 and not accept_any_payload:
            return None  # a 413
    else:
        framing = _NONE
    return RequestHead(
        size,
        buf[:size],
        edits,
        method,
        meth,
        target,
        _VERSIONS[minor],
        flags,
        framing,
        length,
        host,
        None,
        None,
    )


def response(buf: bytes, limits: Limits, below: int, meth: Method) -> ResponseHead | None:
    """The head at the start of ``buf`` if it is one of the usual ones, else None.

    101s, answers to CONNECT, statuses under 100, and 1xx or 204 responses with
    a length (which the H1 output drops) are left to the general path.
    ``below``: ``small(limits)``.
    """
    m = _RESPONSE.match(buf, 0, limits.raw_max)
    if m is None:
        return None
    minor, code, reason, cl, conn, kal, _, te, other = m.groups()
    if other is not None:
        return None
    status = _STATUS[code]
    if meth is _CONNECT:
        return None
    bodyless = meth is _HEAD or status == 304
    if status < 200 or status == 204:
        if status < 100 or status == 101 or cl is not None or te is not None:
            return None
        bodyless = True
    size = m.end()
    if size > below and _over(buf, size, limits):
        return None
    flags = _VER_11 if minor == b"1" else 0
    edits: tuple[tuple[int, int, bytes], ...] = ()
    if conn is not None:
        flags |= _CONN_CLOSE if kal is None else _CONN_KEEPALIVE
        start, end = m.span(5)
        edits = ((start, end + 2, b""),)
    # semantics.framing_response() for what is left
    length = 0
    if te is not None:
        if cl is not None:
            return None  # Content-Length dropped: rebuilt
        flags |= _XFER_ENC
        if not flags & _VER_11:
            flags |= _CONN_CLOSE
        framing = _CHUNKED
    elif cl is None:
        framing = _CLOSE
    elif cl == b"0" or not (length := int(cl)):
        framing = _NONE
    else:
        framing = _LENGTH
    if bodyless:
        framing, length = _NONE, 0
    return ResponseHead(
        size,
        buf[:size],
        edits,
        status,
        _VERSIONS[minor],
        reason,
        flags,
        framing,
        length,
        None,
    )
