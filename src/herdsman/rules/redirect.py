"""Redirects (``http_parse_redirect_rule()``, ``http_apply_redirect_rule()``):
the legacy ``redirect`` keyword (a fixed string) and ``http-request
redirect`` / ``http-response redirect`` (a log-format string).

The reply is ``HTTP/1.1 <code> <reason>`` with ``content-length: 0``, a
``location``, ``cache-control: no-cache`` for 302, 303 and 307, the
cookie line if asked, and ``connection: close`` first when the request's
body has not been read yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from herdsman.http.errors import Reply
from herdsman.http.model import Flag
from herdsman.rules.model import ACT_ABRT, ACT_CONT
from herdsman.rules.parsing import AclError, ParseEnv, RuleError
from herdsman.sample import registry as R
from herdsman.sample.cond import Condition
from herdsman.sample.httpfmt import path_of
from herdsman.sample.logformat import Piece
from herdsman.sample.txn import Txn

_REASONS = {301: b"Moved Permanently", 302: b"Found", 303: b"See Other", 307: b"Temporary Redirect", 308: b"Permanent Redirect"}  # fmt: skip


@dataclass(frozen=True)
class RedirectSpec:
    kind: str  # location, prefix, scheme
    code: int
    target: bytes | None  # the legacy form
    fmt: Piece | None  # the log-format form
    cookie: bytes | None
    drop_query: bool
    append_slash: bool
    ignore_empty: bool
    cond: Condition | None


def _wire(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _atol(text: str) -> int:
    s = text.lstrip()
    sign = -1 if s[:1] == "-" else 1
    s = s.lstrip("+-")
    digits = len(s) - len(s.lstrip("0123456789"))
    return sign * int(s[:digits] or "0")


def parse_redirect(words: list[str], env: ParseEnv, use_fmt: bool, response: bool) -> RedirectSpec:
    """``http_parse_redirect_rule()`` over the words after "redirect"."""
    kind = ""
    code = 302
    dest = ""
    cookie: str | None = None
    cookie_set = False
    drop = slash = ignore = False
    cond: Condition | None = None
    i = 0
    while i < len(words) and words[i]:
        w = words[i]
        if w in ("location", "prefix", "scheme", "set-cookie", "clear-cookie", "code"):
            if i + 1 >= len(words) or not words[i + 1]:
                raise RuleError(f"missing argument for '{w}'")
            i += 1
            if w in ("location", "prefix", "scheme"):
                kind, dest = w, words[i]
            elif w == "code":
                code = _atol(words[i])
                if code < 301 or code > 308 or 303 < code < 307:
                    raise RuleError(
                        f"'{w}': unsupported HTTP code '{words[i]}' (must be one of 301, 302, "
                        "303, 307 or 308)"
                    )
            else:
                cookie, cookie_set = words[i], w == "set-cookie"
        elif w == "drop-query":
            drop = True
        elif w == "append-slash":
            slash = True
        elif w == "ignore-empty":
            ignore = True
        elif w in ("if", "unless"):
            try:
                cond = env.condition(words[i:], response)
            except AclError as err:
                raise RuleError(f"error in condition: {err.message}") from None
            break
        else:
            raise RuleError(
                "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', "
                f"'drop-query', 'ignore-empty' or 'append-slash' (was '{w}')"
            )
        i += 1
    if not kind:
        raise RuleError("redirection type expected ('prefix', 'location', or 'scheme')")
    if response and kind != "location":
        raise RuleError("response only supports redirect type 'location'")
    fmt: Piece | None = None
    target: bytes | None = None
    if not use_fmt:
        target = _wire(dest)
    elif not (kind == "prefix" and dest == "/"):
        cap = (
            env.cap(R.FE_HRS_HDR, R.BE_HRS_HDR) if response else env.cap(R.FE_HRQ_HDR, R.BE_HRQ_HDR)
        )
        fmt = env.logformat(dest, cap, "in redirect format string in", response)
    else:
        target = b"/"
    cookie_bytes = None
    if cookie is not None:
        cookie_bytes = _wire(cookie) + (b"; path=/;" if cookie_set else b"; path=/; Max-Age=0;")
    return RedirectSpec(kind, code, target, fmt, cookie_bytes, drop, slash, ignore, cond)


def location(spec: RedirectSpec, txn: Txn) -> bytes | None:
    """The Location value; None for an empty log-format with ``ignore-empty``."""
    if spec.kind == "location":
        if spec.target is not None:
            return spec.target
        assert spec.fmt is not None
        loc = spec.fmt(txn)
        if not loc and spec.ignore_empty:
            return None
        return loc
    uri = txn.uri or b""
    path = path_of(uri)
    if path is None:
        path = b"/"
    elif spec.drop_query:
        q = path.find(b"?")
        path = path if q < 0 else path[:q]
    if spec.kind == "scheme":
        host = b""
        for n, v in txn.req_headers() or ():
            if n.lower() == b"host":
                host = v.split(b",", 1)[0].strip(b" \t")
                break
        head = spec.target if spec.target is not None else spec.fmt(txn) if spec.fmt else b""
        out = head + b"://" + host + path
    else:
        if spec.target is not None:
            head = b"" if spec.target == b"/" else spec.target
        else:
            head = spec.fmt(txn) if spec.fmt is not None else b""
        out = head + path
    if out and out[-1:] != b"/" and spec.append_slash:
        out += b"/"
    return out


def build(spec: RedirectSpec, txn: Txn) -> Reply | None:
    loc = location(spec, txn)
    if loc is None:
        return None
    fields: list[tuple[bytes, bytes]] = []
    flags = Flag.VER_11
    if not txn.req_final and not txn.status:
        # the request body is still coming: HAProxy closes after the reply
        fields.append((b"connection", b"close"))
        flags |= Flag.CONN_CLOSE
    fields.append((b"content-length", b"0"))
    fields.append((b"location", loc))
    if spec.code in (302, 303, 307):
        fields.append((b"cache-control", b"no-cache"))
    if spec.cookie is not None:
        fields.append((b"set-cookie", spec.cookie))
    start = b"HTTP/1.1 %d %s\r\n" % (spec.code, _REASONS[spec.code])
    return Reply(spec.code, start, tuple(fields), b"", flags)


def redirect_action(spec: RedirectSpec) -> Callable[[Txn], int]:
    """The action of ``http-request redirect``: its reply, or nothing (``ignore-empty``).
    Its condition was read with the redirect's own words, so it is checked here."""
    cond = spec.cond

    def act(txn: Txn) -> int:
        if cond is not None and not cond.run(txn):
            return ACT_CONT
        reply = build(spec, txn)
        if reply is None:
            return ACT_CONT  # ret == 2: skip
        txn.reply = reply
        return ACT_ABRT

    return act
