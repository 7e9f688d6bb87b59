"""Request and response heads: is there a complete head, is it valid, how is the body framed.

The proxy keeps one ``RequestParser`` per client connection and one
``ResponseParser`` per server connection and calls ``parse(buf)`` with all the
bytes received for the current message; it gets a head, None (send more), or
an ``HttpError`` carrying HAProxy's status. A parser resets itself after each
head, ready for the next pipelined message.

Three paths, each the reference of the one before. The usual head (what
browsers, curl, nginx send) is decided by one regular expression
(``canon.py``). Other canonical heads (one packet, CRLF line ends, single
spaces in the start line, token header names, no obs-fold) by a handful of
C-level calls here (``bytes.find``, ``split``, ``translate`` against a byte
class, one regular expression that checks every header line, one that finds
the header names HAProxy interprets). Everything else, and any head that is
not complete yet, goes to ``exact.ExactParser``. The last two feed the same
``semantics.Fields``, and tests check that all three agree.
"""

from __future__ import annotations

import re

from . import canon, semantics, uri
from .chars import TOKEN, URI
from .exact import ExactParser
from .fields import te_trailers
from .model import (
    DEFAULT_LIMITS,
    METHODS,
    Edit,
    Flag,
    Framing,
    HttpError,
    Limits,
    Method,
    RequestHead,
    ResponseHead,
)

_T = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]"
# An LF not preceded by CR (a bare LF) or not followed by "name:" (obs-fold, an
# invalid name). Searched up to the LF of the last header line, where it
# always matches (nothing follows within the range). A bare CR is found by
# counting: with every LF after a CR, there are as many CRs as LFs.
_BAD_LINE = re.compile(rb"\n(?:(?<!\r\n)|(?!" + _T + rb"+:))")
_SPECIAL = re.compile(
    rb"\n(content-length|transfer-encoding|connection|upgrade|host|te|expect"
    rb"|sec-websocket-key|sec-websocket-accept):[ \t]*([^\r]*)"
)
_VERSIONS = {b"HTTP/1.1": True, b"HTTP/1.0": False}


def _line(name: bytes, value: bytes) -> bytes:
    return name + b": " + value + b"\r\n"


_NO_LENGTH = frozenset((b"content-length", b"transfer-encoding"))
_NOTHING: frozenset[bytes] = frozenset()


def _fast_fields(
    buf: bytes,
    rl_end: int,
    end: int,
    acc: semantics.Fields,
    edits: list[Edit],
    limits: Limits,
    out_drop: frozenset[bytes] = _NOTHING,
) -> int | None:
    """The header lines of a canonical head, between the start line's CRLF at
    ``rl_end`` and the empty line at ``end``. Returns an upper bound of their
    HTX size, or None when a line is not canonical (the exact parser decides).
    Fields named in ``out_drop`` are interpreted and counted, but not forwarded.
    Special fields go through ``acc``; what HAProxy changes becomes ``edits``
    (offsets in ``buf``, which starts with the start line).
    """
    if end == rl_end:
        return 0
    bad = _BAD_LINE.search(buf, rl_end + 1, end + 2)
    if bad is None or bad.start() != end + 1:
        return None
    nhdr = buf.count(b"\n", rl_end + 2, end + 2)
    if buf.count(b"\r", rl_end + 2, end + 2) != nhdr:
        return None
    base = rl_end + 1
    drops = 0
    for m in _SPECIAL.finditer(buf[base : end + 2].lower()):
        lname = m.group(1)
        vs, ve = m.span(2)
        vs += base
        ve += base
        value = buf[vs:ve]
        if value[-1:] in (b" ", b"\t"):
            value = value.rstrip(b" \t")
        ls = base + 1 + m.start()
        # the two fields nearly every request has, without the general rules
        if lname == b"host" and acc.host is None:
            acc.host = value
            continue
        if lname == b"content-length" and acc.cl < 0 and len(value) < 20 and value.isdigit():
            acc.cl = int(value)
            acc.cl_word = value
            if lname in out_drop:
                edits.append((ls, ve + 2, b""))
            continue
        if lname == b"connection" and value == b"keep-alive":
            acc.flags |= Flag.CONN_KEEPALIVE
            drops += 1
            edits.append((ls, ve + 2, b""))
            continue
        if lname == b"te":
            # an output rule: the field still counts against the limits
            if value == b"trailers":
                continue
            if not te_trailers(value):
                edits.append((ls, ve + 2, b""))
                continue
            out = b"trailers"
        else:
            out = acc.field(lname, value, vs)
            if lname in out_drop and out is not semantics.DROP:
                edits.append((ls, ve + 2, b""))
                continue
        if out is semantics.DROP:
            drops += 1
            edits.append((ls, ve + 2, b""))
        elif out != value:
            edits.append((ls, ve + 2, _line(buf[ls : ls + len(lname)], out)))
    acc.kept = nhdr - drops
    if acc.kept > limits.max_headers:
        raise semantics.parse_error(acc.request, "too many headers", end)
    return (end - rl_end) + 5 * nhdr


def _rebuild(start_line: bytes, fields: list[tuple[bytes, bytes]], skip: frozenset[bytes]) -> bytes:
    parts = [start_line]
    for name, value in fields:
        if skip and name.lower() in skip:
            continue
        parts.append(_line(name, value))
    parts.append(b"\r\n")
    return b"".join(parts)


def _te_rule(fields: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The H1 output's ``te`` rule on a rebuilt head (``fields.te_trailers()``)."""
    out = []
    for name, value in fields:
        if name.lower() == b"te":
            if not te_trailers(value):
                continue
            value = b"trailers"
        out.append((name, value))
    return out


class RequestParser:
    """Parses the request heads of one client connection.

    ``accept_invalid``: ``option accept-invalid-http-request`` on the frontend.
    ``accept_any_payload``: the global ``h1-accept-payload-with-any-method``.
    """

    __slots__ = ("limits", "accept_invalid", "accept_any_payload", "_small", "_exact")

    def __init__(
        self,
        limits: Limits = DEFAULT_LIMITS,
        *,
        accept_invalid: bool = False,
        accept_any_payload: bool = False,
    ) -> None:
        self.limits = limits
        self.accept_invalid = accept_invalid
        self.accept_any_payload = accept_any_payload
        self._small = canon.small(limits)
        self._exact: ExactParser | None = None

    def reset(self) -> None:
        """Forget a partly parsed head (the connection is done with it)."""
        self._exact = None

    def parse(self, buf: bytes) -> RequestHead | None:
        """The head at the start of ``buf``, or None if it is not complete yet.

        Raises ``HttpError`` (400, 413, 422) for a request HAProxy refuses.
        ``head.size`` bytes of ``buf`` belong to the head.
        """
        if self._exact is None:
            if not buf:
                return None
            # a canonical head is as valid in lenient mode, but for the authority
            head = canon.request(buf, self.limits, self._small, self.accept_any_payload)
            if head is None:
                head = self._fast(buf)
            if head is not None:
                return head
            self._exact = ExactParser(True, self.limits, self.accept_invalid)
        ex = self._exact
        if not ex.feed(buf):
            return None
        self._exact = None
        return self._finish_exact(ex)

    def _fast(self, buf: bytes) -> RequestHead | None:
        end = buf.find(b"\r\n\r\n")
        if end < 0 or end + 4 > self.limits.raw_max:
            return None
        rl_end = buf.find(b"\r\n")
        parts = buf[:rl_end].split(b" ")
        if len(parts) != 3:
            return None
        method, target, version = parts
        ver11 = _VERSIONS.get(version)
        if (
            ver11 is None
            or not method
            or method.translate(None, TOKEN)
            or not target
            or target.translate(None, URI)
        ):
            return None
        acc = semantics.Fields(True)
        if ver11:
            acc.flags = Flag.VER_11
        edits: list[Edit] = []
        bound = _fast_fields(buf, rl_end, end, acc, edits, self.limits)
        if bound is None:
            return None
        if 37 + rl_end + bound > self.limits.htx_max:
            return None  # near the limit: let the exact parser count
        meth = METHODS.get(method, Method.OTHER)
        flags = acc.flags
        if target[0] != 0x2F or meth is Method.CONNECT:  # not origin-form
            host, absolute = semantics.check_authority(
                acc, meth, target, not self.accept_invalid, end
            )
            if host is not None or absolute:
                return None  # normalised: rebuilt by the exact parser's path
        if flags & (Flag.XFER_ENC | Flag.CONN_UPGRADE) or not ver11 or acc.expect is not None:
            framing, length = semantics.framing_request(acc, meth, end)
            if semantics.finish_request(acc, meth, framing, self.accept_any_payload, end):
                return None  # Upgrade dropped: rebuilt
            if acc.flags & Flag.XFER_ENC and acc.cl_word:
                return None  # Content-Length dropped: rebuilt
            flags = acc.flags
        elif acc.cl > 0 and meth is not Method.CONNECT:
            framing, length = Framing.LENGTH, acc.cl
        else:
            framing, length = Framing.NONE, 0
        if meth is Method.OTHER and method.lower() == b"pri":
            raise HttpError(400, "PRI is the HTTP/2 preface", 0, stream=True)
        if meth is Method.CONNECT and acc.cl > 0:
            return None  # Content-Length dropped: rebuilt
        return RequestHead(
            end + 4,
            buf[: end + 4],
            tuple(edits),
            method,
            meth,
            target,
            version,
            flags,
            framing,
            length,
            acc.host,
            acc.ws_key,
            None,
        )

    def _finish_exact(self, ex: ExactParser) -> RequestHead:
        acc = ex.acc
        method, target, version = ex.line
        strict = not self.accept_invalid
        offset = ex.size
        meth = METHODS.get(method, Method.OTHER)
        if ex.http09:
            if strict or meth is not Method.GET or not target:
                raise HttpError(400, "HTTP/0.9 request", ex.start)
            version = b"HTTP/1.0"
        elif strict and not (
            len(version) == 8
            and version.startswith(b"HTTP/")
            and 0x30 <= version[5] <= 0x39
            and version[6] == 0x2E
            and 0x30 <= version[7] <= 0x39
        ):
            raise HttpError(400, "invalid HTTP version", ex.start)
        host, absolute = semantics.check_authority(acc, meth, target, strict, offset)
        framing, length = semantics.framing_request(acc, meth, offset)
        fields = ex.forwarded
        if acc.flags & Flag.XFER_ENC and acc.cl_word:
            fields = [(n, v) for n, v in fields if n.lower() != b"content-length"]
        semantics.check_limits(
            acc,
            self.limits,
            semantics.htx_size(
                method, target, version, sum(8 + len(n) + len(v) for n, v in fields)
            ),
            offset,
        )
        if meth is Method.CONNECT and acc.cl > 0:
            # a CONNECT is bodyless: the H1 output finds its length differs from
            # 0 and drops the header (h1_process_mux(), h1_parse_cont_len_header())
            fields = [(n, v) for n, v in fields if n.lower() != b"content-length"]
        drop_upgrade = semantics.finish_request(acc, meth, framing, self.accept_any_payload, offset)
        if meth is Method.OTHER and method.lower() == b"pri":
            raise HttpError(400, "PRI is the HTTP/2 preface", 0, stream=True)
        if absolute:
            norm = uri.normalize_absolute(target)
            if norm is not None:
                target, host = norm
        if host is not None:
            fields = [(n, host if n.lower() == b"host" else v) for n, v in fields]
        out_version = b"HTTP/1.1" if acc.flags & Flag.VER_11 else version
        line = method + b" " + target + b" " + out_version + b"\r\n"
        raw = _rebuild(
            line, _te_rule(fields), frozenset((b"upgrade",)) if drop_upgrade else frozenset()
        )
        return RequestHead(
            ex.size,
            raw,
            (),
            method,
            meth,
            target,
            version,
            acc.flags,
            framing,
            length,
            host if host is not None else acc.host,
            acc.ws_key,
            ex.received,
        )


class ResponseParser:
    """Parses the response heads of one server connection.

    ``accept_invalid``: ``option accept-invalid-http-response`` on the backend
    (it only relaxes what the fast path never accepts: names and versions).
    ``parse()`` needs the method of the request the response answers (HEAD and
    CONNECT change the framing).
    """

    __slots__ = ("limits", "accept_invalid", "_small", "_exact")

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, accept_invalid: bool = False) -> None:
        self.limits = limits
        self.accept_invalid = accept_invalid
        self._small = canon.small(limits)
        self._exact: ExactParser | None = None

    def reset(self) -> None:
        self._exact = None

    def parse(self, buf: bytes, meth: Method, *, upgrade: bool = False) -> ResponseHead | None:
        """The head at the start of ``buf``, or None; ``HttpError`` (502) if invalid.

        ``upgrade``: the request kept its upgrade (``Flag.CONN_UPGRADE``); a 101
        is only valid then, and with an "upgrade" token of its own
        (``http_wait_for_response()``).
        """
        if self._exact is None:
            if not buf:
                return None
            head = canon.response(buf, self.limits, self._small, meth)
            if head is None:
                head = self._fast(buf, meth)
            if head is None:
                self._exact = ExactParser(False, self.limits, self.accept_invalid)
        if self._exact is not None:
            ex = self._exact
            if not ex.feed(buf):
                return None
            self._exact = None
            head = self._finish_exact(ex, meth)
        assert head is not None
        if head.status == 101 and not (upgrade and head.flags & Flag.CONN_UPGRADE):
            raise HttpError(502, "101 without an upgrade on both sides", 0, stream=True)
        return head

    def _fast(self, buf: bytes, meth: Method) -> ResponseHead | None:
        end = buf.find(b"\r\n\r\n")
        if end < 0 or end + 4 > self.limits.raw_max:
            return None
        rl_end = buf.find(b"\r\n")
        # "HTTP/1.x ddd reason": the exact parser handles anything else (no
        # reason, blanks to skip, a bare CR or LF)
        if rl_end < 14 or buf[8] != 0x20 or buf[12] != 0x20:
            return None
        version = buf[:8]
        ver11 = _VERSIONS.get(version)
        code = buf[9:12]
        if ver11 is None or code.translate(None, b"0123456789"):
            return None
        reason = buf[13:rl_end]
        if b"\r" in reason or b"\n" in reason or reason[0] in (0x20, 0x09):
            return None
        acc = semantics.Fields(False)
        if ver11:
            acc.flags = Flag.VER_11
        edits: list[Edit] = []
        status = int(code)
        # the H1 output drops the length of a 1xx or 204 response
        out_drop = _NO_LENGTH if status < 200 or status == 204 else _NOTHING
        bound = _fast_fields(buf, rl_end, end, acc, edits, self.limits, out_drop)
        if bound is None or 37 + rl_end + bound > self.limits.htx_max:
            return None
        if (
            acc.flags & (Flag.XFER_ENC | Flag.CONN_UPGRADE)
            or not 200 <= status < 300
            or status == 204
            or meth is Method.HEAD
            or meth is Method.CONNECT
        ):
            framing, length = semantics.framing_response(acc, status, meth, end)
            if acc.flags & Flag.XFER_ENC and acc.cl_word:
                return None  # TE with CL: CL removed, rebuilt
        elif acc.cl > 0:
            framing, length = Framing.LENGTH, acc.cl
        else:
            framing, length = (Framing.NONE if acc.cl == 0 else Framing.CLOSE), 0
        return ResponseHead(
            end + 4,
            buf[: end + 4],
            tuple(edits),
            status,
            version,
            reason,
            acc.flags,
            framing,
            length,
            None,
        )

    def _finish_exact(self, ex: ExactParser, meth: Method) -> ResponseHead:
        acc = ex.acc
        version, code, reason = ex.line
        offset = ex.size
        if not self.accept_invalid and not (
            len(version) == 8
            and version[4] == 0x2F
            and 0x30 <= version[5] <= 0x39
            and version[6] == 0x2E
            and 0x30 <= version[7] <= 0x39
        ):
            raise HttpError(502, "invalid HTTP version", ex.start, stream=True)
        status = ex.status
        framing, length = semantics.framing_response(acc, status, meth, offset)
        fields = ex.forwarded
        if acc.flags & Flag.XFER_ENC and acc.cl_word:
            fields = [(n, v) for n, v in fields if n.lower() != b"content-length"]
        semantics.check_limits(
            acc,
            self.limits,
            semantics.htx_size(version, code, reason, sum(8 + len(n) + len(v) for n, v in fields)),
            offset,
        )
        out_version = b"HTTP/1.1" if acc.flags & Flag.VER_11 else version
        line = out_version + b" " + code + b" " + reason + b"\r\n"
        out_drop = _NO_LENGTH if status < 200 or status == 204 else frozenset()
        raw = _rebuild(line, _te_rule(fields), out_drop)
        return ResponseHead(
            ex.size,
            raw,
            (),
            status,
            version,
            reason,
            acc.flags,
            framing,
            length,
            ex.received,
        )


def parse_request_head(
    buf: bytes,
    limits: Limits = DEFAULT_LIMITS,
    *,
    accept_invalid: bool = False,
    accept_any_payload: bool = False,
) -> RequestHead | None:
    """One-shot ``RequestParser(...).parse(buf)`` (rescans from the start on every call)."""
    parser = RequestParser(
        limits, accept_invalid=accept_invalid, accept_any_payload=accept_any_payload
    )
    return parser.parse(buf)


def parse_response_head(
    buf: bytes,
    meth: Method = Method.GET,
    limits: Limits = DEFAULT_LIMITS,
    *,
    accept_invalid: bool = False,
) -> ResponseHead | None:
    """One-shot ``ResponseParser(...).parse(buf, meth)``."""
    return ResponseParser(limits, accept_invalid=accept_invalid).parse(buf, meth)


__all__ = [
    "Framing",
    "RequestParser",
    "ResponseParser",
    "parse_request_head",
    "parse_response_head",
]
