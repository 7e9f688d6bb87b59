"""Rewriting a message's fields and start line as HAProxy's HTX functions do
(``http_add_header()``, ``http_remove_header()``, ``http_replace_hdrs()``,
``http_replace_req_*()``): pure functions on ``Txn``'s header lists and
request line.

Header names added by rules are lower case, as HTX stores them and the H1
output writes them; the received ones keep their case (docs/http.md).
"""

from __future__ import annotations

import re

from herdsman.sample.convs import exp_replace
from herdsman.sample.httpfmt import path_of, split_values, value_end
from herdsman.sample.txn import Headers

_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def lower(b: bytes) -> bytes:
    return b.translate(_LOWER)


def remove(hdrs: Headers, lname: bytes) -> None:
    """Delete every field named ``lname`` (lower case)."""
    size = len(lname)
    low = _LOWER
    for n, _ in hdrs:
        if len(n) == size and n.translate(low) == lname:
            break
    else:
        return  # the common case of set-header: nothing to remove
    hdrs[:] = [(n, v) for n, v in hdrs if len(n) != size or n.translate(low) != lname]


def remove_matching(hdrs: Headers, how: str, pattern: bytes, rx: re.Pattern[bytes] | None) -> None:
    """``del-header <name> -m str|beg|end|sub|reg`` (names compared without case,
    except by a regex)."""
    pat = lower(pattern)
    if how == "str":
        keep = [(n, v) for n, v in hdrs if lower(n) != pat]
    elif how == "beg":
        keep = [(n, v) for n, v in hdrs if not lower(n).startswith(pat)]
    elif how == "end":
        keep = [(n, v) for n, v in hdrs if not lower(n).endswith(pat)]
    elif how == "sub":
        keep = [(n, v) for n, v in hdrs if pat not in lower(n)]
    else:
        assert rx is not None
        keep = [(n, v) for n, v in hdrs if rx.search(n) is None]
    hdrs[:] = keep


def replace(
    hdrs: Headers, lname: bytes, rx: re.Pattern[bytes], template: bytes, full: bool
) -> None:
    """``http_replace_hdrs()``: each value (each comma-separated one unless
    ``full``) in which the regex matches becomes the template with its groups."""
    for i, (n, v) in enumerate(hdrs):
        if lower(n) != lname:
            continue
        if full:
            m = rx.search(v)
            if m is not None:
                hdrs[i] = (n, exp_replace(template, m))
            continue
        hdrs[i] = (n, _replace_values(v, rx, template))


def _replace_values(v: bytes, rx: re.Pattern[bytes], template: bytes) -> bytes:
    """``replace-value``: the value rewritten element by element; an element
    replaced loses the blanks around it, the others are kept as they were."""
    out = bytearray()
    i = 0
    n = len(v)
    while True:
        start = i
        while start < n and v[start] in b" \t":
            start += 1
        end = value_end(v, start)
        stop = end
        while stop > start and v[stop - 1] in b" \t":
            stop -= 1
        m = rx.search(v[start:stop])
        if m is None:
            out += v[i:end]
        else:
            # http_replace_header_value(): the blanks around the element go too
            out += exp_replace(template, m)
        if end >= n:
            break
        out += b","
        i = end + 1
    return bytes(out)


def values(hdrs: Headers, lname: bytes) -> list[bytes]:
    out: list[bytes] = []
    for n, v in hdrs:
        if lower(n) == lname:
            out.extend(split_values(v))
    return out


# -- the request line ------------------------------------------------------------------


def _path_span(uri: bytes) -> tuple[int, int]:
    """Where the path (with its query) starts in ``uri``; the whole URI when it has none."""
    path = path_of(uri)
    if path is None:
        return 0, len(uri)
    return len(uri) - len(path), len(uri)


def replace_path(uri: bytes, new: bytes, with_qs: bool) -> bytes:
    """``http_replace_req_path()``"""
    start, end = _path_span(uri)
    p = uri[start:end]
    plen = len(p) if with_qs else (p.find(b"?") if b"?" in p else len(p))
    return uri[:start] + new + p[plen:]


def replace_query(uri: bytes, query: bytes) -> bytes:
    """``http_replace_req_query()``: ``query`` starts with its '?' (set-query
    prepends it), an empty one removes nothing but the query."""
    q = uri.find(b"?")
    if q >= 0:
        return uri[: q + 1] + query[1:]
    if len(query) > 1:
        return uri + query
    return uri


def authority(uri: bytes) -> bytes | None:
    """The authority of an absolute URI (``http_parse_authority(.., 1)``)."""
    if not uri or uri[:1] in (b"/", b"*"):
        return None
    scheme_end = uri.find(b"://")
    rest = uri[scheme_end + 3 :] if scheme_end > 0 else uri
    slash = rest.find(b"/")
    auth = rest if slash < 0 else rest[:slash]
    at = auth.rfind(b"@")
    return auth[at + 1 :] if at >= 0 else auth
