"""Cookie persistence (``cookie <name> ...``): HAProxy's
``http_manage_client_side_cookies()``, ``http_manage_server_side_cookies()``
and the Set-Cookie insertion of ``http_process_res_common()`` (2.6
``http_ana.c``), byte for byte.

Client side: every ``Cookie`` header is walked cookie by cookie with HAProxy's
pointer arithmetic (blanks around ``=`` removed, ``$`` attributes skipped,
quotes respected). The persistence cookie ``NAME=SRV[|last[|first]]`` (or
``NAME=SRV~APP`` in prefix mode) names the server: the first server whose
``cookie`` value matches and that is not DOWN (a DOWN one is used anyway with
``option persist`` or ``force-persist``). In prefix mode the ``SRV~`` part is
cut off; in insert+indirect mode the cookie is deleted, and the whole header
when nothing else remains in it.

Server side: a ``Set-Cookie``/``Set-Cookie2`` of the persistence name is
deleted (insert mode on a known server, or indirect mode on a direct access),
rewritten (rewrite mode) or prefixed (prefix mode), unless ``preserve``.

Insertion: ``NAME=SRV[|last|first]; path=/[; domain=...][; HttpOnly][; Secure]
[; attrs]``, or a removal for a server without a cookie, then
``Cache-control: private`` with ``nocache`` on a cacheable response.

Dates are HAProxy's 30-bit base64 quantities of 4 seconds (``s30tob64()``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from herdsman.rules.model import CookieConfig
from herdsman.sample.httpfmt import value_end
from herdsman.sample.txn import Headers

S = TypeVar("S")

# txn->flags & TX_CK_MASK (what the request's cookie said), for logs
CK_NONE: Final = 0
CK_INVALID: Final = 1  # a cookie naming no server
CK_DOWN: Final = 2  # a server that is down
CK_VALID: Final = 3
CK_EXPIRED: Final = 4  # maxidle
CK_OLD: Final = 5  # maxlife
CK_UNUSED: Final = 6  # persistence ignored, or a server already assigned

# txn->flags & TX_SCK_MASK (what happened to the server's cookie)
SCK_NONE: Final = 0
SCK_FOUND: Final = 1
SCK_DELETED: Final = 2
SCK_INSERTED: Final = 3
SCK_REPLACED: Final = 4
SCK_UPDATED: Final = 5

_SPHT = b" \t"
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64REV = {c: i for i, c in enumerate(_B64)}
_EPOCH_COOKIE = b"=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"


def s30tob64(value: int) -> bytes:
    return bytes(_B64[(value >> (24 - 6 * i)) & 0x3F] for i in range(5))


def b64tos30(data: bytes) -> int:
    out = 0
    for c in data[:5]:
        v = _B64REV.get(c)
        if v is None:
            return -1
        out = (out << 6) + v
    return out


def _del_value(v: bytearray, start: int, end: int, frm: int, nxt: int) -> tuple[int, int]:
    """``http_del_hdr_value()``: remove ``v[frm:nxt]`` and a delimiter; (delta, new frm)."""
    prev = frm
    if prev == start:
        if nxt < end:
            nxt += 1
        while nxt < end and v[nxt] in _SPHT:
            nxt += 1
    else:
        while v[prev - 1] in _SPHT:
            prev -= 1
        frm = prev
        if nxt < end:
            v[prev] = v[nxt]
            prev += 1
            nxt += 1
            if prev + 1 < nxt:
                v[prev] = 0x20
                prev += 1
            while nxt < end and v[nxt] in _SPHT:
                nxt += 1
    del v[prev:nxt]
    return prev - nxt, frm


@dataclass(slots=True)
class Persisted(Generic[S]):
    """What the request's cookies said: the server to go to (``SF_DIRECT``),
    the ``TX_CK_*`` state, and the dates the cookie carried (seconds)."""

    server: S | None = None
    ck: int = CK_NONE
    first_date: int = 0
    last_date: int = 0


def _strip_blanks(v: bytearray, att_end: int, equal: int, val_beg: int) -> int:
    """Blanks around '=' go (``memmove``s of the client and server walks); the
    shift applied to everything after the value's start."""
    shift = 0
    if att_end != equal:
        del v[att_end:equal]
        shift = att_end - equal
        equal += shift
        val_beg += shift
    if val_beg > equal + 1:
        after = equal + 1 - val_beg
        del v[equal + 1 : val_beg]
        shift += after
    return shift


def _walk(v: bytearray, pos: int, end: int, first: bool, comma: bool) -> tuple[int, int, int, int, int, int]:  # fmt: skip
    """One cookie of a header value from ``pos``: (att_beg, att_end, equal,
    val_beg, val_end, next) as HAProxy's pointers."""
    att_beg = pos if first else pos + 1
    while att_beg < end and v[att_beg] in _SPHT:
        att_beg += 1
    equal = att_end = att_beg
    while equal < end:
        c = v[equal]
        if c == 0x3D or c == 0x3B or (comma and c == 0x2C):
            break
        equal += 1
        if c in _SPHT:
            continue
        att_end = equal
    if equal < end and v[equal] == 0x3D:
        val_beg = equal + 1
        while val_beg < end and v[val_beg] in _SPHT:
            val_beg += 1
        nxt = value_end(v, val_beg, True, end)
        val_end = nxt
        while val_end > val_beg and v[val_end - 1] in _SPHT:
            val_end -= 1
    else:
        val_beg = val_end = nxt = equal
    return att_beg, att_end, equal, val_beg, val_end, nxt


def capture(hdrs: Headers, response: bool, name: bytes, length: int) -> tuple[bytes | None, bool]:
    """``capture cookie``: the first cookie whose name starts with ``name``, as
    ``name=value`` cut to ``length`` bytes (``txn->cli_cookie``/``srv_cookie``), from
    the ``Cookie`` headers or the ``Set-Cookie`` then ``Set-Cookie2`` ones. The walk
    is HAProxy's, which also removes blanks around '=' in the headers it reads
    (edited in place); returns (the capture or None, whether ``hdrs`` changed)."""
    got: bytes | None = None
    changed = False
    for wanted in (b"set-cookie", b"set-cookie2") if response else (b"cookie",):
        comma = not response or wanted == b"set-cookie2"
        for i, (hname, value) in enumerate(hdrs):
            if hname.lower() != wanted:
                continue
            v = bytearray(value)
            got = _capture_header(v, response, comma, name, length, got)
            if v != value:
                hdrs[i] = (hname, bytes(v))
                changed = True
    return got, changed


def _capture_header(
    v: bytearray, response: bool, comma: bool, name: bytes, length: int, got: bytes | None
) -> bytes | None:
    hdr_end = len(v)
    first = True
    prev = 0
    while prev < hdr_end:
        att_beg, att_end, equal, val_beg, val_end, nxt = _walk(v, prev, hdr_end, first, comma)
        first = False
        if response:
            if nxt < hdr_end:
                nxt = value_end(v, nxt, False, hdr_end) if comma else hdr_end
            skip = equal == val_end
        else:
            skip = (att_beg < hdr_end and v[att_beg] == 0x24) or equal == nxt  # '$', no '='
        if skip:
            prev = nxt
            continue
        if att_end != equal or val_beg > equal + 1:
            shift = _strip_blanks(v, att_end, equal, val_beg)
            val_end += shift
            nxt += shift
            hdr_end += shift
        if got is None and val_end - att_beg >= len(name) and v[att_beg:].startswith(name):
            got = bytes(v[att_beg : att_beg + min(val_end - att_beg, length)])
        prev = nxt
    return got


def client_side(
    ck: CookieConfig,
    hdrs: Headers,
    servers: Sequence[tuple[bytes, S]],
    running: Callable[[S], bool],
    *,
    skip: bool,
    keep_down: bool,
    now_s: int,
) -> tuple[Persisted[S], bool]:
    """The request's persistence cookie and the ``Cookie`` headers as the server
    must see them. ``servers``: (cookie value, server) in declaration order;
    ``skip``: ``SF_IGNORE_PRST`` or a server already assigned; ``keep_down``:
    ``option persist`` or ``force-persist``. Returns the result and whether
    ``hdrs`` changed (edited in place)."""
    out: Persisted[S] = Persisted()
    name = ck.name.encode()
    changed = False
    i = 0
    while i < len(hdrs):
        hname, value = hdrs[i]
        if hname.lower() != b"cookie":
            i += 1
            continue
        v = bytearray(value)
        keep = _client_header(ck, name, v, servers, running, out, skip, keep_down, now_s)
        if keep is None:
            del hdrs[i]
            changed = True
            continue
        if keep != value:
            hdrs[i] = (hname, keep)
            changed = True
        i += 1
    return out, changed


def _client_header(
    ck: CookieConfig,
    name: bytes,
    v: bytearray,
    servers: Sequence[tuple[bytes, S]],
    running: Callable[[S], bool],
    out: Persisted[S],
    skip: bool,
    keep_down: bool,
    now_s: int,
) -> bytes | None:
    hdr_end = len(v)
    if not hdr_end:
        return b""
    del_from: int | None = None
    preserve = False
    first = True
    prev = 0
    while prev < hdr_end:
        att_beg, att_end, equal, val_beg, val_end, nxt = _walk(v, prev, hdr_end, first, True)
        first = False
        if att_beg < hdr_end and v[att_beg] == 0x24:  # '$': an attribute of the previous one
            prev = nxt
            continue
        if equal == nxt:  # no '=': not ours, kept
            preserve = True
            if del_from is not None:
                delta, _ = _del_value(v, 0, hdr_end, del_from, prev)
                nxt += delta
                hdr_end += delta
                del_from = None
            prev = nxt
            continue
        if att_end != equal or val_beg > equal + 1:
            shift = _strip_blanks(v, att_end, equal, val_beg)
            val_beg = att_end + 1
            val_end += shift
            nxt += shift
            hdr_end += shift
        if att_end - att_beg == len(name) and v[att_beg:att_end] == name:
            delim = _persistence(ck, v, val_beg, val_end, out, now_s)
            srv: S | None = None
            if delim != val_beg and not skip and out.server is None:
                cookie = bytes(v[val_beg:delim])
                for value, candidate in servers:
                    if value != cookie:
                        continue
                    up = running(candidate)
                    if up or keep_down:
                        out.ck = CK_VALID if up else CK_DOWN
                        srv = candidate
                        break
                    out.ck = CK_DOWN
            if srv is not None:
                out.server = srv  # SF_ASSIGNED: a later occurrence is not used
            elif out.ck not in (CK_DOWN, CK_EXPIRED, CK_OLD):
                out.ck = CK_UNUSED if skip or out.server is not None else CK_INVALID
            if ck.prefix and delim != val_end:
                del v[val_beg : delim + 1]
                delta = val_beg - (delim + 1)
                val_end += delta
                nxt += delta
                hdr_end += delta
                del_from = None
                preserve = True
            elif del_from is None and ck.insert and ck.indirect:
                del_from = prev
        else:
            preserve = True
            if del_from is not None:
                delta, _ = _del_value(v, 0, hdr_end, del_from, prev)
                nxt += delta
                hdr_end += delta
                del_from = None
        prev = nxt
    if del_from is not None:
        hdr_end = del_from if preserve else 0
    if hdr_end == 0:
        return None
    return bytes(v[:hdr_end])


def _persistence(
    ck: CookieConfig, v: bytearray, val_beg: int, val_end: int, out: Persisted[S], now_s: int
) -> int:
    """Where the server's part of the value ends (``delim``); reads the dates and
    applies maxlife/maxidle (an expired cookie counts as absent: ``val_beg``)."""
    if ck.prefix:
        tilde = v.find(b"~", val_beg, val_end)
        return tilde if tilde >= 0 else val_end
    delim = val_end
    bar = v.find(b"|", val_beg, val_end)
    if bar >= 0:
        delim = bar
        bar += 1
        if val_end - bar >= 5:
            date = b64tos30(bytes(v[bar : bar + 5]))
            if date > 0:
                out.last_date = date << 2
        bar2 = v.find(b"|", bar, val_end)
        if bar2 >= 0 and val_end - bar2 > 5:
            date = b64tos30(bytes(v[bar2 + 1 : bar2 + 6]))
            if date > 0:
                out.first_date = date << 2
    first, last = out.first_date, out.last_date
    if first and ck.maxlife and (now_s - first > ck.maxlife or first - now_s > 86400):
        out.ck = CK_OLD
        out.first_date = out.last_date = 0
        return val_beg
    if last and ck.maxidle and (now_s - last > ck.maxidle or last - now_s > 86400):
        out.ck = CK_EXPIRED
        out.first_date = out.last_date = 0
        return val_beg
    return delim


def server_side(
    ck: CookieConfig,
    hdrs: Headers,
    srv_cookie: bytes | None,
    has_server: bool,
    direct: bool,
) -> tuple[int, bool, bool]:
    """The response's ``Set-Cookie``/``Set-Cookie2`` for the persistence name
    (``SF_IGNORE_PRST`` callers do not call this). Returns (``TX_SCK_*`` state,
    whether any Set-Cookie was present, whether ``hdrs`` changed)."""
    name = ck.name.encode()
    state = SCK_NONE
    present = changed = False
    for wanted in (b"set-cookie", b"set-cookie2"):
        comma = wanted == b"set-cookie2"
        i = 0
        while i < len(hdrs):
            hname, value = hdrs[i]
            if hname.lower() != wanted:
                i += 1
                continue
            present = True
            v = bytearray(value)
            state, keep = _server_header(ck, name, v, comma, srv_cookie, has_server, direct, state)
            if keep is None:
                del hdrs[i]
                changed = True
                continue
            if keep != value:
                hdrs[i] = (hname, keep)
                changed = True
            i += 1
    return state, present, changed


def _server_header(
    ck: CookieConfig,
    name: bytes,
    v: bytearray,
    comma: bool,
    srv_cookie: bytes | None,
    has_server: bool,
    direct: bool,
    state: int,
) -> tuple[int, bytes | None]:
    hdr_end = len(v)
    first = True
    prev = 0
    while prev < hdr_end:
        att_beg, att_end, equal, val_beg, val_end, nxt = _walk(v, prev, hdr_end, first, comma)
        first = False
        if nxt < hdr_end:
            nxt = value_end(v, nxt, False, hdr_end) if comma else hdr_end
        if equal == val_end:
            prev = nxt
            continue
        if att_end != equal or val_beg > equal + 1:
            shift = _strip_blanks(v, att_end, equal, val_beg)
            val_beg = att_end + 1
            val_end += shift
            nxt += shift
            hdr_end += shift
        if att_end - att_beg == len(name) and v[att_beg:att_end] == name:
            state = SCK_FOUND
            if ck.preserve:
                pass
            elif (has_server and ck.insert) or (direct and ck.indirect):
                if prev == 0 and nxt == hdr_end:
                    return SCK_DELETED, None
                delta, nxt = _del_value(v, 0, hdr_end, prev, nxt)
                hdr_end += delta
                state = SCK_DELETED
            elif has_server and srv_cookie is not None and ck.rewrite:
                v[val_beg:val_end] = srv_cookie
                delta = len(srv_cookie) - (val_end - val_beg)
                nxt += delta
                hdr_end += delta
                state = SCK_REPLACED
            elif has_server and srv_cookie is not None and ck.prefix:
                v[val_beg:val_beg] = srv_cookie + b"~"
                delta = len(srv_cookie) + 1
                nxt += delta
                hdr_end += delta
                state = SCK_REPLACED
        prev = nxt
    return state, bytes(v)


def cacheable_request(meth: bytes) -> bool:
    """``TX_CACHEABLE | TX_CACHE_COOK`` from the method (``http_wait_for_request()``)."""
    return meth in (b"GET", b"HEAD", b"OPTIONS", b"TRACE")


_CACHEABLE_STATUS = frozenset((200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501))


def cacheable_response(request: bool, status: int, hdrs: Headers) -> bool:
    """``TX_CACHEABLE`` after the response's status and
    ``http_check_response_for_cacheability()``: as 2.6.12 behaves, a response
    without freshness information (Cache-Control max-age/s-maxage, Expires) nor
    a validator (ETag, Last-Modified) is not cacheable."""
    if status < 200:
        return False
    cacheable = request and status in _CACHEABLE_STATUS
    fresh = validator = False
    for hname, value in hdrs:
        lname = hname.lower()
        if lname == b"pragma" and value.lower() == b"no-cache":
            return False
        if lname == b"expires":
            fresh = True
        elif lname in (b"etag", b"last-modified"):
            validator = True
        elif lname == b"cache-control":
            for item in value.split(b","):
                item = item.strip(_SPHT).lower()
                if item == b"public":
                    cacheable = True
                elif item in (b"private", b"no-cache", b"no-store", b"max-age=0", b"s-maxage=0"):
                    cacheable = False
                elif item.startswith((b"s-maxage", b"max-age")):
                    fresh = True
    return cacheable and (fresh or validator)


def set_cookie(
    ck: CookieConfig,
    srv_cookie: bytes | None,
    found: Persisted[S],
    direct: bool,
    sck: int,
    post: bool,
    now_s: int,
) -> tuple[bytes, int] | None:
    """The ``Set-Cookie`` value to add to a response of a known server and the
    new ``TX_SCK_*`` state, or None (``ignore-persist`` callers do not call this)."""
    if not ck.insert or (sck != SCK_NONE and ck.preserve):
        return None
    first, last = found.first_date, found.last_date
    if not (
        not direct
        or ((ck.maxidle or last) and (not last or last - now_s < 0))
        or (ck.maxlife and not first)
        or (not ck.maxlife and first)
    ):
        return None
    if ck.postonly and not post:
        return None
    name = ck.name.encode()
    if srv_cookie is None:
        value = name + _EPOCH_COOKIE
    else:
        value = name + b"=" + srv_cookie
        if ck.maxidle or ck.maxlife:
            value += b"|" + s30tob64((now_s + 3) >> 2)
            if ck.maxlife:
                value += b"|" + s30tob64(first >> 2 if first else (now_s + 3) >> 2)
        value += b"; path=/"
    if ck.domain:
        value += b"; domain=" + ck.domain.encode()
    if ck.httponly:
        value += b"; HttpOnly"
    if ck.secure:
        value += b"; Secure"
    if ck.attrs:
        value += b"; " + ck.attrs.encode()
    return value, SCK_UPDATED if srv_cookie is not None and direct else SCK_INSERTED


def dynamic_cookie(key: str, addr: bytes, port: int) -> bytes:
    """``srv_set_dyncookie()``: XXH64 of the key, the packed address and the port
    (4 bytes, network order), as 16 hex digits."""
    from herdsman.sample.xxh import xxh64

    data = key.encode() + addr + port.to_bytes(4, "big")
    return b"%016x" % xxh64(data)
