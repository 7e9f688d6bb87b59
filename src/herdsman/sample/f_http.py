"""HTTP fetches (``src/http_fetch.c``): the request line, headers, the response
status (cookies, URL parameters, the body and authentication: f_http_params.py).

Where HAProxy reads an HTX message, these read the ``Txn``: ``uri``,
``method``, ``version`` and the header lists, which the data path fills with
what the stream holds at that point (after a rewrite by an earlier rule, the
new value). Once the request went to the server its volatile parts are gone
(``smp_prefetch_htx()``: "the start-line was already forwarded"): the data
path clears ``uri`` and the request headers then, and these fetches fail as
HAProxy's do, while ``method`` stays.

A fetch written without a direction (``hdr``, ``cookie``) reads the request,
or the response in an expression compiled for the response side
(``Compiler.response``, HAProxy's ``SMP_OPT_DIR_RES``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from herdsman.sample import args as A
from herdsman.sample import httpfmt as H
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.f_internal import wire
from herdsman.sample.registry import (
    USE_HRQHP,
    USE_HRQHV,
    USE_HRSHP,
    USE_HRSHV,
    Compiler,
    FetchBuilder,
    Fn,
    ManyBuilder,
    ManyFn,
    fetch,
)
from herdsman.sample.txn import Headers, Txn
from herdsman.sample.types import Value

Side = Callable[[Txn], Headers | None]
Builders = tuple[FetchBuilder, ManyBuilder]

_NAME_OCC = ArgSpec((A.STR, A.SINT), 0)
NAME_ARG = ArgSpec((A.STR,), 0)
MAX_HDR_HISTORY: Final = 10


def _check_occ(args: list[Arg]) -> str | None:
    """``val_hdr()``"""
    if len(args) > 1 and isinstance(args[1], int) and args[1] < -MAX_HDR_HISTORY:
        return f"header occurrence must be >= {-MAX_HDR_HISTORY}"
    return None


def _req_hdrs(txn: Txn) -> Headers | None:
    return txn.req_headers()


def _res_hdrs(txn: Txn) -> Headers | None:
    return txn.res_headers()


def side_of(response: bool) -> Side:
    return _res_hdrs if response else _req_hdrs


def _lname(args: list[Arg]) -> bytes | None:
    """The lower-cased header name argument; None without one."""
    if not args or not args[0]:
        return None
    return wire(str(args[0])).lower()


# -- the request line ---------------------------------------------------------------------


@fetch("method", T.METH, USE_HRQHP)
def _method(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        m = txn.method
        return None if m is None else T.Meth(m)

    return fn


@fetch("url", T.STR, USE_HRQHV)
def _url(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: txn.uri


def _path(txn: Txn) -> bytes | None:
    uri = txn.uri
    if uri is None:
        return None
    if uri[:1] == b"/":
        q = uri.find(b"?")
        return uri if q < 0 else uri[:q]
    path = H.path_of(uri)
    if path is None:
        return None
    q = path.find(b"?")
    return path if q < 0 else path[:q]


@fetch("path", T.STR, USE_HRQHV)
def _path_fetch(args: list[Arg], c: Compiler) -> Fn:
    return _path


@fetch("pathq", T.STR, USE_HRQHV)
def _pathq(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        uri = txn.uri
        return None if uri is None else H.path_of(uri)

    return fn


@fetch("query", T.STR, USE_HRQHV)
def _query(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        uri = txn.uri
        if uri is None:
            return None
        q = uri.find(b"?")
        return None if q < 0 else uri[q + 1 :]

    return fn


def _base(q: bool) -> Fn:
    def fn(txn: Txn) -> Value | None:
        uri = txn.uri
        hdrs = txn.req_headers()
        if uri is None or hdrs is None:
            return None
        host = next((v for n, v in hdrs if n.lower() == b"host"), None)
        if host is not None:
            host = H.split_values(host)[0]
        if not host:
            return H.path_of(uri) if q else _path(txn)
        path = H.path_of(uri)
        if path is not None:
            if not q:
                cut = path.find(b"?")
                path = path if cut < 0 else path[:cut]
            if path[:1] == b"/":
                return host + path
        return host

    return fn


@fetch("base", T.STR, USE_HRQHV)
def _base_fetch(args: list[Arg], c: Compiler) -> Fn:
    return _base(False)


@fetch("baseq", T.STR, USE_HRQHV)
def _baseq(args: list[Arg], c: Compiler) -> Fn:
    return _base(True)


def _version(v: bytes | None) -> bytes | None:
    """``smp_fetch_rqver()``: what follows the '/' of the version, if anything."""
    if v is None:
        return None
    slash = v.find(b"/")
    if slash < 0 or slash + 1 >= len(v):
        return None
    return v[slash + 1 :]


@fetch("req.ver", T.STR, USE_HRQHV, aliases=("req_ver",))
def _req_ver(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: _version(txn.version) if txn.uri is not None else None


@fetch("res.ver", T.STR, USE_HRSHV, aliases=("resp_ver",))
def _res_ver(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: _version(txn.res_version)


@fetch("status", T.SINT, USE_HRSHP)
def _status(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: txn.status or None


@fetch("req.proto_http", T.BOOL, USE_HRQHP, aliases=("req_proto_http",))
def _proto_http(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: True if txn.method is not None else None


@fetch("http_first_req", T.BOOL, USE_HRQHP)
def _first_req(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: txn.first_req


# -- headers --------------------------------------------------------------------------------


def _hdr_many(side: Side, name: bytes | None, occ: int) -> ManyFn:
    def many(txn: Txn) -> Sequence[Value]:
        hdrs = side(txn)
        if hdrs is None or name is None:
            return ()
        values = H.header_values(hdrs, name)
        if occ:
            one = H.occurrence(values, occ)
            return () if one is None else (one,)
        return values

    return many


def _hdr_one(side: Side, name: bytes | None, occ: int) -> Fn:
    occ = occ or -1  # a single fetch reads the last occurrence by default

    def one(txn: Txn) -> Value | None:
        hdrs = side(txn)
        if hdrs is None or name is None:
            return None
        if occ == -1:
            # the last value of the last such header: no need to split the others
            for n, v in reversed(hdrs):
                if n.lower() == name:
                    return H.split_values(v)[-1]
            return None
        return H.occurrence(H.header_values(hdrs, name), occ)

    return one


def _occ(args: list[Arg]) -> int:
    return int(args[1]) if len(args) > 1 and isinstance(args[1], int) else 0


def _hdr_builders(response: bool | None) -> Builders:
    """The (one, many) builders of ``hdr`` for a fixed side, or for the side of
    the expression (``response`` None)."""

    def side(c: Compiler) -> Side:
        return side_of(c.response if response is None else response)

    def one(args: list[Arg], c: Compiler) -> Fn:
        return _hdr_one(side(c), _lname(args), _occ(args))

    def many(args: list[Arg], c: Compiler) -> ManyFn:
        return _hdr_many(side(c), _lname(args), _occ(args))

    return one, many


for _kw, _resp, _use in (
    ("hdr", None, USE_HRQHV | USE_HRSHV),
    ("req.hdr", False, USE_HRQHV),
    ("res.hdr", True, USE_HRSHV),
    ("shdr", True, USE_HRSHV),
):
    _one, _many = _hdr_builders(_resp)
    fetch(_kw, T.STR, _use, _NAME_OCC, many=_many, check=_check_occ)(_one)


def _fhdr_builders(response: bool) -> Builders:
    def values(hdrs: Headers, name: bytes | None) -> list[bytes]:
        return H.full_values(hdrs, name)

    def one(args: list[Arg], c: Compiler) -> Fn:
        side = side_of(response)
        name = _lname(args)
        occ = _occ(args) or -1

        def fn(txn: Txn) -> Value | None:
            hdrs = side(txn)
            if hdrs is None or name is None:
                return None
            return H.occurrence(values(hdrs, name), occ)

        return fn

    def many(args: list[Arg], c: Compiler) -> ManyFn:
        side = side_of(response)
        name = _lname(args)
        occ = _occ(args)

        def fn(txn: Txn) -> Sequence[Value]:
            hdrs = side(txn)
            if hdrs is None or name is None:
                return ()
            found = values(hdrs, name)
            if occ:
                v = H.occurrence(found, occ)
                return () if v is None else (v,)
            return found

        return fn

    return one, many


for _kw, _resp in (("req.fhdr", False), ("res.fhdr", True)):
    _one, _many = _fhdr_builders(_resp)
    fetch(_kw, T.STR, USE_HRSHV if _resp else USE_HRQHV, _NAME_OCC, many=_many, check=_check_occ)(
        _one
    )


def _cnt_builder(response: bool | None, full: bool) -> FetchBuilder:
    def build(args: list[Arg], c: Compiler) -> Fn:
        side = side_of(c.response if response is None else response)
        name = _lname(args)
        count = H.full_values if full else H.header_values

        def fn(txn: Txn) -> Value | None:
            hdrs = side(txn)
            return None if hdrs is None else len(count(hdrs, name))

        return fn

    return build


for _kw, _resp, _use, _full in (
    ("hdr_cnt", False, USE_HRQHV, False),
    ("req.hdr_cnt", False, USE_HRQHV, False),
    ("res.hdr_cnt", True, USE_HRSHV, False),
    ("shdr_cnt", True, USE_HRSHV, False),
    ("req.fhdr_cnt", False, USE_HRQHV, True),
    ("res.fhdr_cnt", True, USE_HRSHV, True),
):
    fetch(_kw, T.SINT, _use, NAME_ARG)(_cnt_builder(_resp, _full))


def _val_builders(response: bool) -> Builders:
    one_b, many_b = _hdr_builders(response)

    def one(args: list[Arg], c: Compiler) -> Fn:
        base = one_b(args, c)

        def fn(txn: Txn) -> Value | None:
            v = base(txn)
            return None if v is None else H.strl2ic(v)  # type: ignore[arg-type]

        return fn

    def many(args: list[Arg], c: Compiler) -> ManyFn:
        base = many_b(args, c)
        return lambda txn: [H.strl2ic(v) for v in base(txn)]  # type: ignore[arg-type]

    return one, many


for _kw, _resp, _use in (
    ("hdr_val", False, USE_HRQHV),
    ("req.hdr_val", False, USE_HRQHV),
    ("res.hdr_val", True, USE_HRSHV),
    ("shdr_val", True, USE_HRSHV),
):
    _one, _many = _val_builders(_resp)
    fetch(_kw, T.SINT, _use, _NAME_OCC, many=_many, check=_check_occ)(_one)


def hdr_ip(v: bytes) -> Value | None:
    """``smp_fetch_hdr_ip()``: an IPv4 address, maybe with ":port", or an IPv6 one."""
    addr = T.buf2ip(v)
    if addr is not None:
        # url2ipv4() reads the dotted quad; what follows must be nothing or :port
        rest = v[_dotted_len(v) :]
        port = rest[1:]
        if not rest or (rest[:1] == b":" and (not port or (port.isdigit() and int(port) <= 65535))):
            return addr
    return T.buf2ip6(v)


def _dotted_len(v: bytes) -> int:
    i = 0
    while i < len(v) and (v[i] == 0x2E or 0x30 <= v[i] <= 0x39):
        i += 1
    return i


def _ip_builders(response: bool) -> Builders:
    _, many_b = _hdr_builders(response)

    def one(args: list[Arg], c: Compiler) -> Fn:
        side = side_of(response)
        name = _lname(args)
        occ = _occ(args) or -1

        def fn(txn: Txn) -> Value | None:
            hdrs = side(txn)
            if hdrs is None or name is None:
                return None
            v = H.occurrence(H.header_values(hdrs, name), occ)
            return None if v is None else hdr_ip(v)

        return fn

    def many(args: list[Arg], c: Compiler) -> ManyFn:
        base = many_b(args, c)

        def fn(txn: Txn) -> Sequence[Value]:
            out = []
            for v in base(txn):
                ip = hdr_ip(v)  # type: ignore[arg-type]
                if ip is not None:
                    out.append(ip)
            return out

        return fn

    return one, many


for _kw, _resp, _use in (
    ("hdr_ip", False, USE_HRQHV),
    ("req.hdr_ip", False, USE_HRQHV),
    ("res.hdr_ip", True, USE_HRSHV),
    ("shdr_ip", True, USE_HRSHV),
):
    _one, _many = _ip_builders(_resp)
    fetch(_kw, T.IPV4, _use, _NAME_OCC, many=_many, check=_check_occ)(_one)


def _names_builder(response: bool) -> FetchBuilder:
    def build(args: list[Arg], c: Compiler) -> Fn:
        side = side_of(response)
        delim = wire(str(args[0]))[:1] if args and args[0] else b","

        def fn(txn: Txn) -> Value | None:
            hdrs = side(txn)
            if hdrs is None:
                return None
            return delim.join(n.lower() for n, _ in hdrs)

        return fn

    return build


fetch("req.hdr_names", T.STR, USE_HRQHV, NAME_ARG)(_names_builder(False))
fetch("res.hdr_names", T.STR, USE_HRSHV, NAME_ARG)(_names_builder(True))
