"""HAProxy's readings of HTTP fields (``src/http.c``, ``src/http_htx.c``): header
values split on commas, cookies, URL parameters, the path of a target, the
Authorization header, and C's integer parsers as HTTP fetches use them.

Pure functions on bytes, shared by the fetches and the rules.
"""

from __future__ import annotations

import base64
import binascii

_LWS = b" \t\r\n"


def value_end(v: bytes | bytearray, i: int, cookie: bool = False, end: int = -1) -> int:
    """``http_find_hdr_value_end()`` (``cookie``: ``http_find_cookie_value_end()``):
    the first comma (or semicolon) outside a quoted string, from ``i`` up to
    ``end`` (the whole value by default); ``end`` when there is none."""
    n = len(v) if end < 0 else end
    quoted = qdpair = False
    while i < n:
        c = v[i]
        if qdpair:
            qdpair = False
        elif quoted:
            if c == 0x5C:
                qdpair = True
            elif c == 0x22:
                quoted = False
        elif c == 0x22:
            quoted = True
        elif c == 0x2C or (cookie and c == 0x3B):
            return i
        i += 1
    return n


def split_values(v: bytes) -> list[bytes]:
    """The comma-separated values of a header value, as ``http_find_header(.., 0)``
    returns them one by one: trimmed, empty ones included (``a,,b`` has three)."""
    if b"," not in v and b'"' not in v:
        return [v]
    out = []
    i = 0
    n = len(v)
    first = True
    while True:
        if not first:
            if i >= n:
                break
            if v[i] == 0x2C:
                i += 1
        first = False
        while i < n and v[i] in _LWS:
            i += 1
        end = value_end(v, i)
        j = end
        while j > i and v[j - 1] in _LWS:
            j -= 1
        out.append(v[i:j])
        i = end
    return out


def header_values(hdrs: list[tuple[bytes, bytes]], name: bytes | None) -> list[bytes]:
    """Every value of the headers named ``name`` (lower case; None: every header)."""
    out: list[bytes] = []
    for n, v in hdrs:
        if name is None or n.lower() == name:
            out.extend(split_values(v))
    return out


def full_values(hdrs: list[tuple[bytes, bytes]], name: bytes | None) -> list[bytes]:
    """Whole header lines' values (``http_find_header(.., 1)``)."""
    return [v for n, v in hdrs if name is None or n.lower() == name]


def occurrence(values: list[bytes], occ: int) -> bytes | None:
    """``http_get_htx_hdr()``: occurrence ``occ`` (1 is the first, -1 the last,
    0 the first); at most 10 back from the last."""
    if occ >= 0:
        index = max(occ, 1) - 1
        return values[index] if index < len(values) else None
    if -occ > 10 or -occ > len(values):
        return None
    return values[occ]


def cookie_pairs(value: bytes, name: bytes | None, is_list: bool) -> list[bytes]:
    """``http_extract_cookie_value()`` repeated: the values of cookie ``name``
    (any name when None) in one header value, in order. ``is_list`` is true for
    ``Cookie`` (several cookies per value), false for ``Set-Cookie``."""
    out: list[bytes] = []
    n = len(value)
    name_l = 0 if name is None else len(name)
    att_beg = 0
    while att_beg + name_l + 1 < n:
        while att_beg < n and value[att_beg] in b" \t":
            att_beg += 1
        equal = att_end = att_beg
        while equal < n:
            c = value[equal]
            if c == 0x3D or c == 0x3B or (is_list and c == 0x2C):
                break
            equal += 1
            if c in b" \t":
                continue
            att_end = equal
        if equal < n and value[equal] == 0x3D:
            val_beg = equal + 1
            while val_beg < n and value[val_beg] in b" \t":
                val_beg += 1
            nxt = value_end(value, val_beg, cookie=True)
            val_end = nxt
            while val_end > val_beg and value[val_end - 1] in b" \t":
                val_end -= 1
        else:
            val_beg = val_end = nxt = equal
        if att_beg < n and value[att_beg] == 0x24:  # '$': an attribute
            att_beg = nxt + 1
            continue
        if equal == nxt:  # no equal sign
            att_beg = nxt + 1
            continue
        if name is None or value[att_beg:att_end] == name:
            out.append(value[val_beg:val_end])
        elif not is_list:
            break
        att_beg = nxt + 1
    return out


def cookies(hdrs: list[tuple[bytes, bytes]], name: bytes | None, response: bool) -> list[bytes]:
    """Every value of cookie ``name`` in the Cookie (Set-Cookie) headers, in order
    (``smp_fetch_cookie()``: the header values are split on commas first)."""
    hname = b"set-cookie" if response else b"cookie"
    need = 0 if name is None else len(name)
    out: list[bytes] = []
    for value in header_values(hdrs, hname):
        if len(value) < need + 1:
            continue
        out.extend(cookie_pairs(value, name, not response))
    return out


def is_param_delim(c: int, delim: int) -> bool:
    return c == 0x26 or c == 0x3B or c == delim


def url_params(uri: bytes, name: bytes | None, delim: int = 0x3F) -> list[bytes]:
    """``smp_fetch_url_param()`` iterated: the values of parameter ``name`` (any
    when None) in the part of ``uri`` after the first ``delim`` ('?')."""
    start = uri.find(bytes((delim,)))
    if start < 0:
        return []
    qs = uri[start + 1 :]
    out: list[bytes] = []
    pos = 0
    n = len(qs)
    while True:
        found = _next_param(qs, pos, name, delim)
        if found is None:
            return out
        vstart, vend = found
        out.append(qs[vstart:vend])
        pos = vend
        if pos >= n:
            return out


def _next_param(qs: bytes, pos: int, name: bytes | None, delim: int) -> tuple[int, int] | None:
    """``http_find_next_url_param()`` on a contiguous query string from ``pos``."""
    n = len(qs)
    if name:
        found = _param_pos(qs, pos, name, delim)
        if found is None:
            return None
        vstart = found + len(name) + 1
    else:
        eq = qs.find(b"=", pos)
        if eq < 0:
            return None
        vstart = eq + 1
    vend = vstart
    while vend < n and not is_param_delim(qs[vend], delim):
        vend += 1
    return vstart, vend


def _param_pos(qs: bytes, pos: int, name: bytes, delim: int) -> int | None:
    """``http_find_url_param_pos()``."""
    n = len(qs)
    ln = len(name)
    while pos < n:
        equal = pos + ln
        if equal >= n:
            return None
        if qs[equal] == 0x3D:
            if qs[pos:equal] == name:
                return pos
            pos += ln + 1
        while pos < n and not is_param_delim(qs[pos], delim):
            pos += 1
        if pos >= n:
            return None
        pos += 1
    return None


def path_of(uri: bytes) -> bytes | None:
    """``http_parse_path()``: the path and query of a target; None for ``*``, an
    empty target, an authority, or an absolute URI without a path."""
    if not uri:
        return None
    c = uri[0]
    if c == 0x2F:  # '/'
        return uri
    if c == 0x2A:  # '*'
        return None
    if not (0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
        return None
    i = 1
    n = len(uri)
    while i < n and (uri[i : i + 1].isalnum() or uri[i] in b"+-."):
        i += 1
    if uri[i : i + 3] != b"://":
        return None
    slash = uri.find(b"/", i + 3)
    if slash < 0:
        return None
    return uri[slash:]


def strl2ic(s: bytes) -> int:
    """``strl2ic()``: C's loose reading of an int (a character below '0' still
    counts as a negative digit, anything above '9' stops), 32-bit wrap."""
    i = 0
    if s[:1] != b"-":
        for c in s:
            j = c - 48
            if j > 9:
                break
            i = i * 10 + j
    else:
        for c in s[1:]:
            j = c - 48
            if j > 9:
                break
            i = i * 10 - j
    i &= 0xFFFFFFFF
    return i - (1 << 32) if i >> 31 else i


def base64dec(data: bytes) -> bytes | None:
    """``base64dec()``: a multiple of 4 characters, padding only at the end."""
    if len(data) % 4:
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def basic_auth(value: bytes) -> tuple[bytes, bytes, bytes] | None:
    """``get_http_auth()`` on an Authorization value: (method, user, password);
    user and password are empty for a Bearer method. The method word is compared
    case-insensitively over its own length (``strncasecmp("Basic", m, len(m))``)."""
    sp = value.find(b" ")
    if sp <= 0:
        return None
    method = value[:sp].lower()
    p = sp
    while p < len(value) and value[p] == 0x20:
        p += 1
    if b"basic".startswith(method):
        decoded = base64dec(value[p:])
        if decoded is None:
            return None
        decoded = decoded.split(b"\0", 1)[0]  # a C string
        user, colon, password = decoded.partition(b":")
        if not colon:
            return None
        return b"Basic", user, password
    if b"bearer".startswith(method):
        return b"Bearer", b"", b""
    return None
