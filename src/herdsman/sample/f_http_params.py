"""HTTP fetches on parts of the request (``src/http_fetch.c``): cookies, URL
parameters, the body, the Authorization header, the captured headers; the
request line and the headers are f_http.py's (the same conventions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from herdsman.sample import args as A
from herdsman.sample import httpfmt as H
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.f_http import NAME_ARG, Builders, Side, side_of
from herdsman.sample.f_internal import wire
from herdsman.sample.registry import (
    USE_HRQHP,
    USE_HRQHV,
    USE_HRSHP,
    USE_HRSHV,
    Compiler,
    FetchBuilder,
    Fn,
    ManyFn,
    fetch,
)
from herdsman.sample.txn import Txn
from herdsman.sample.types import Value

# -- cookies ---------------------------------------------------------------------------------


def _cook_builders(response: bool | None) -> Builders:
    def setup(args: list[Arg], c: Compiler) -> tuple[Side, bytes | None, bool]:
        resp = c.response if response is None else response
        name = wire(str(args[0])) if args and args[0] else None
        return side_of(resp), name, resp

    def one(args: list[Arg], c: Compiler) -> Fn:
        side, name, resp = setup(args, c)

        def fn(txn: Txn) -> Value | None:
            hdrs = side(txn)
            if hdrs is None:
                return None
            found = H.cookies(hdrs, name, resp)
            if not found:
                return None
            # without a name the first cookie, else the last occurrence
            return found[0] if name is None else found[-1]

        return fn

    def many(args: list[Arg], c: Compiler) -> ManyFn:
        side, name, resp = setup(args, c)

        def fn(txn: Txn) -> Sequence[Value]:
            hdrs = side(txn)
            return () if hdrs is None else H.cookies(hdrs, name, resp)

        return fn

    return one, many


for _kw, _resp, _use in (
    ("cook", False, USE_HRQHV),
    ("req.cook", False, USE_HRQHV),
    ("res.cook", True, USE_HRSHV),
    ("scook", True, USE_HRSHV),
    ("cookie", None, USE_HRQHV | USE_HRSHV),
):
    _one, _many = _cook_builders(_resp)
    fetch(_kw, T.STR, _use, NAME_ARG, many=_many)(_one)


def _cook_cnt_builder(response: bool) -> FetchBuilder:
    def build(args: list[Arg], c: Compiler) -> Fn:
        side = side_of(response)
        name = wire(str(args[0])) if args and args[0] else None

        def fn(txn: Txn) -> Value | None:
            hdrs = side(txn)
            return None if hdrs is None else len(H.cookies(hdrs, name, response))

        return fn

    return build


def _cook_val_builders(response: bool) -> Builders:
    one_b, many_b = _cook_builders(response)

    def one(args: list[Arg], c: Compiler) -> Fn:
        base = one_b(args, c)
        return lambda txn: None if (v := base(txn)) is None else H.strl2ic(v)  # type: ignore[arg-type]

    def many(args: list[Arg], c: Compiler) -> ManyFn:
        base = many_b(args, c)
        return lambda txn: [H.strl2ic(v) for v in base(txn)]  # type: ignore[arg-type]

    return one, many


for _kw, _resp, _use in (
    ("cook_cnt", False, USE_HRQHV),
    ("req.cook_cnt", False, USE_HRQHV),
    ("res.cook_cnt", True, USE_HRSHV),
    ("scook_cnt", True, USE_HRSHV),
):
    fetch(_kw, T.SINT, _use, NAME_ARG)(_cook_cnt_builder(_resp))

for _kw, _resp, _use in (
    ("cook_val", False, USE_HRQHV),
    ("req.cook_val", False, USE_HRQHV),
    ("res.cook_val", True, USE_HRSHV),
    ("scook_val", True, USE_HRSHV),
):
    _one, _many = _cook_val_builders(_resp)
    fetch(_kw, T.SINT, _use, NAME_ARG, many=_many)(_one)


# -- URL parameters -----------------------------------------------------------------------

_PARAM = ArgSpec((A.STR, A.STR), 0)


def _param_setup(args: list[Arg]) -> tuple[bytes | None, int]:
    name = wire(str(args[0])) if args and args[0] else None
    delim = wire(str(args[1]))[:1] if len(args) > 1 else b"?"
    return name, delim[0] if delim else 0


def _urlp_one(args: list[Arg], c: Compiler) -> Fn:
    name, delim = _param_setup(args)

    def fn(txn: Txn) -> Value | None:
        uri = txn.uri
        if uri is None:
            return None
        found = H.url_params(uri, name, delim)
        return found[0] if found else None

    return fn


def _urlp_many(args: list[Arg], c: Compiler) -> ManyFn:
    name, delim = _param_setup(args)

    def fn(txn: Txn) -> Sequence[Value]:
        uri = txn.uri
        return () if uri is None else H.url_params(uri, name, delim)

    return fn


fetch("url_param", T.STR, USE_HRQHV, _PARAM, many=_urlp_many, aliases=("urlp",))(_urlp_one)


def _urlp_val_one(args: list[Arg], c: Compiler) -> Fn:
    base = _urlp_one(args, c)
    return lambda txn: None if (v := base(txn)) is None else H.strl2ic(v)  # type: ignore[arg-type]


def _urlp_val_many(args: list[Arg], c: Compiler) -> ManyFn:
    base = _urlp_many(args, c)
    return lambda txn: [H.strl2ic(v) for v in base(txn)]  # type: ignore[arg-type]


fetch("urlp_val", T.SINT, USE_HRQHV, _PARAM, many=_urlp_val_many)(_urlp_val_one)


# -- the body ----------------------------------------------------------------------------------


@fetch("req.body", T.BIN, USE_HRQHV)
def _req_body(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        body = txn.req_body
        if body is None:
            return None
        if not txn.req_final:
            txn.need_more = True  # SMP_F_MAY_CHANGE: more of it may come
        return T.Bin(body)

    return fn


@fetch("req.body_len", T.SINT, USE_HRQHV)
def _req_body_len(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: None if txn.req_body is None else len(txn.req_body)


@fetch("req.body_size", T.SINT, USE_HRQHV)
def _req_body_size(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        if txn.req_body is None:
            return None
        head = txn.req_head
        declared = getattr(head, "content_length", -1) if head is not None else -1
        return max(declared, len(txn.req_body))

    return fn


# -- authentication ------------------------------------------------------------------------------


def get_auth(txn: Txn) -> tuple[bytes, bytes, bytes] | None:
    """``get_http_auth()``, once per transaction."""
    auth = txn.auth
    if auth is None:
        hdrs = txn.req_headers()
        if hdrs is None or txn.uri is None:
            return None
        value = next((v for n, v in hdrs if n.lower() == b"authorization"), None)
        parsed = H.basic_auth(H.split_values(value)[0]) if value is not None else None
        auth = txn.auth = parsed or (b"", b"", b"")
    return auth if auth[0] else None


@fetch("http_auth_type", T.STR, USE_HRQHV)
def _auth_type(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: None if (a := get_auth(txn)) is None else a[0]


@fetch("http_auth_user", T.STR, USE_HRQHV)
def _auth_user(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: a[1] if (a := get_auth(txn)) is not None and a[0] == b"Basic" else None


@fetch("http_auth_pass", T.STR, USE_HRQHV)
def _auth_pass(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: a[2] if (a := get_auth(txn)) is not None and a[0] == b"Basic" else None


@fetch("http_auth", T.BOOL, USE_HRQHV, ArgSpec((A.USR,), 1))
def _http_auth(args: list[Arg], c: Compiler) -> Fn:
    ref = c.ref(A.USR, str(args[0]), 0)

    def fn(txn: Txn) -> Value | None:
        a = get_auth(txn)
        if a is None or a[0] != b"Basic":
            return None
        return bool(ref.target.check(a[1], a[2]))

    return fn


@fetch("http_auth_group", T.STR, USE_HRQHV, ArgSpec((A.USR,), 1))
def _http_auth_group(args: list[Arg], c: Compiler) -> Fn:
    ref = c.ref(A.USR, str(args[0]), 0)

    def fn(txn: Txn) -> Value | None:
        a = get_auth(txn)
        if a is None or a[0] != b"Basic" or not ref.target.check(a[1], a[2]):
            return None
        return a[1]

    return fn


def _capture(response: bool) -> Callable[[list[Arg], Compiler], Fn]:
    def build(args: list[Arg], c: Compiler) -> Fn:
        idx = int(args[0])

        def fn(txn: Txn) -> Value | None:
            store = txn.captures_res if response else txn.captures
            if store is None or not 0 <= idx < len(store):
                return None
            return store[idx]

        return fn

    return build


fetch("capture.req.hdr", T.STR, USE_HRQHP, ArgSpec((A.SINT,), 1))(_capture(False))
fetch("capture.res.hdr", T.STR, USE_HRSHP, ArgSpec((A.SINT,), 1))(_capture(True))
