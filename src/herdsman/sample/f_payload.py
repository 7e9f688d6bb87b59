"""Fetches on raw contents (``src/payload.c``): lengths, payload slices, the TLS
ClientHello's type, version and SNI, ``wait_end``.

They read ``Txn.req_buf``/``res_buf``: the bytes of a TCP stream received so
far (``tcp-request content`` rules) or a health check's input. They fail on an
HTTP stream, as HAProxy's do on HTX buffers ("meaningless for HTX buffers").
While more data may come (``req_final`` false) a fetch that lacks bytes sets
``need_more``: the rule waits instead of failing (``SMP_F_MAY_CHANGE``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from herdsman.sample import args as A
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.hello import INCOMPLETE, Incomplete, hello_sni, hello_type, req_ssl_ver
from herdsman.sample.registry import (
    USE_INTRN,
    USE_L6REQ,
    USE_L6RES,
    Compiler,
    FetchBuilder,
    Fn,
    fetch,
)
from herdsman.sample.txn import Txn
from herdsman.sample.types import Value

BUFSIZE: Final = 16384  # tune.bufsize: what a payload fetch can reach


def _buffer(response: bool) -> Callable[[Txn], tuple[bytes | None, bool]]:
    """(buffer, final) of a side: None when the stream has no raw buffer."""
    if response:
        return lambda txn: (txn.res_buf, txn.res_final)
    return lambda txn: (txn.req_buf, txn.req_final)


def _more(txn: Txn, final: bool) -> None:
    if not final:
        txn.need_more = True


def _len_builder(response: bool | None) -> FetchBuilder:
    def build(args: list[Arg], c: Compiler) -> Fn:
        side = _buffer(c.response if response is None else response)

        def fn(txn: Txn) -> Value | None:
            if not response and txn.req_head is not None:
                return htx_size(txn)
            buf, final = side(txn)
            if buf is None:
                return None
            _more(txn, final)
            return len(buf)

        return fn

    return build


def htx_size(txn: Txn) -> int:
    """``req.len`` in HTTP mode: the size of the request's HTX message as the
    rules left it (the start line's three parts, every name and value, and 21
    bytes of HAProxy's own; measured on 2.6.12), plus the body received. The H1
    parser keeps no ``close``/``keep-alive`` token of a Connection header."""
    hdrs = txn.req_headers() or ()
    size = 21 + len(txn.method or b"") + len(txn.uri or b"") + len(txn.version or b"")
    for n, v in hdrs:
        if n.lower() == b"connection":
            v = b", ".join(
                t for t in (x.strip() for x in v.split(b",")) if t and t.lower() not in _CONN
            )
            if not v:
                continue
        size += len(n) + len(v)
    return size + len(txn.req_body or b"")


_CONN = (b"close", b"keep-alive")


fetch("req.len", T.SINT, USE_L6REQ, aliases=("req_len",))(_len_builder(False))
fetch("res.len", T.SINT, USE_L6RES)(_len_builder(True))

_OFF_LEN = ArgSpec((A.SINT, A.SINT), 2)


def payload_of(buf: bytes, off: int, size: int) -> bytes | bool | None:
    """``smp_fetch_payload()`` on ``buf``: the slice; None when it never will be
    there (beyond a buffer), False when it is not there yet."""
    off &= 0xFFFFFFFF
    size &= 0xFFFFFFFF
    if size > BUFSIZE or off + size > BUFSIZE:
        return None
    if off + size > len(buf):
        return False
    return buf[off : off + size] if size else buf[off:]


def _payload_builder(response: bool | None) -> FetchBuilder:
    def build(args: list[Arg], c: Compiler) -> Fn:
        side = _buffer(c.response if response is None else response)
        off, size = int(args[0]), int(args[1])

        def fn(txn: Txn) -> Value | None:
            buf, final = side(txn)
            if buf is None:
                return None
            got = payload_of(buf, off, size)
            if got is False:
                _more(txn, final)
                return None
            if got is None:
                return None
            if not size:
                _more(txn, final)
            return T.Bin(got)

        return fn

    return build


fetch("req.payload", T.BIN, USE_L6REQ, _OFF_LEN)(_payload_builder(False))
fetch("res.payload", T.BIN, USE_L6RES, _OFF_LEN)(_payload_builder(True))
fetch("payload", T.BIN, USE_L6REQ | USE_L6RES, _OFF_LEN)(_payload_builder(None))

_LV = ArgSpec((A.SINT, A.SINT, A.STR), 2)


def _check_lv(args: list[Arg]) -> str | None:
    """``val_payload_lv()``"""
    if int(args[0]) < 0:
        return "payload offset1 must be positive"
    if not args[1]:
        return "payload length must be > 0"
    if len(args) > 2 and str(args[2]):
        text = str(args[2])
        body = text[1:] if text[:1] in "+-" else text
        if body and not body.isdigit():
            return "payload offset2 is not a number"
        if int(args[0]) + int(args[1]) + (int(text) if body else 0) < 0:
            return "payload offset2 too negative"
    return None


def _lv_builder(response: bool | None) -> FetchBuilder:
    def build(args: list[Arg], c: Compiler) -> Fn:
        side = _buffer(c.response if response is None else response)
        len_off, len_size = int(args[0]) & 0xFFFFFFFF, int(args[1]) & 0xFFFFFFFF
        rel: int | None = None
        if len(args) > 2 and str(args[2]):
            text = str(args[2])
            value = int(text) if text.lstrip("+-") else 0
            # "+N"/"-N" is relative (the LSB set), else absolute
            rel = value * 2 + (1 if text[:1] in "+-" else 0)

        def fn(txn: Txn) -> Value | None:
            buf, final = side(txn)
            if buf is None:
                return None
            if len_off + len_size > len(buf):
                _more(txn, final)
                return None
            size = int.from_bytes(buf[len_off : len_off + len_size], "big") & 0xFFFFFFFF
            start = len_off + len_size
            if rel is not None:
                start = start + (rel >> 1) if rel & 1 else rel >> 1
            if not size or size > BUFSIZE or start + size > BUFSIZE:
                return None
            if start + size > len(buf):
                _more(txn, final)
                return None
            return T.Bin(buf[start : start + size])

        return fn

    return build


fetch("req.payload_lv", T.BIN, USE_L6REQ, _LV, check=_check_lv)(_lv_builder(False))
fetch("res.payload_lv", T.BIN, USE_L6RES, _LV, check=_check_lv)(_lv_builder(True))
fetch("payload_lv", T.BIN, USE_L6REQ | USE_L6RES, _LV, check=_check_lv)(_lv_builder(None))


def _hello_builder(
    parse: Callable[[bytes], Value | Incomplete | None], response: bool
) -> FetchBuilder:
    def build(args: list[Arg], c: Compiler) -> Fn:
        side = _buffer(response)

        def fn(txn: Txn) -> Value | None:
            buf, final = side(txn)
            if buf is None:
                return None
            found = parse(buf)
            if found is INCOMPLETE:
                _more(txn, final)
                return None
            return found

        return fn

    return build


for _kw, _resp in (
    ("req.ssl_hello_type", False),
    ("req_ssl_hello_type", False),
    ("res.ssl_hello_type", True),
    ("rep_ssl_hello_type", True),
):
    fetch(_kw, T.SINT, USE_L6RES if _resp else USE_L6REQ)(_hello_builder(hello_type, _resp))
fetch("req.ssl_sni", T.STR, USE_L6REQ, aliases=("req_ssl_sni",))(_hello_builder(hello_sni, False))
fetch("req.ssl_ver", T.SINT, USE_L6REQ, aliases=("req_ssl_ver",))(
    _hello_builder(req_ssl_ver, False)
)


@fetch("wait_end", T.BOOL, USE_INTRN)
def _wait_end(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        if not txn.req_final:
            txn.need_more = True
            return None
        return True

    return fn
