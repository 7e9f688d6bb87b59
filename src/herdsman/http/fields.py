"""The header values HAProxy interprets while parsing (``src/h1.c``): Content-Length,
Transfer-Encoding, Connection, Upgrade and TE.

Each function takes a trimmed value as the H1 parser stores it and returns what
HAProxy derives from it, raising ``ValueError`` where HAProxy's parser fails
(the caller turns it into a 400 or a 502).
"""

from __future__ import annotations

from .chars import LWS

# h1_parse_cont_len_header() accumulates in a signed 64-bit integer and checks
# overflow against ULLONG_MAX / 10 (what the 2.6.12 binary accepts: up to
# 18446744073709551615, i.e. 2**64 - 1).
_CL_MUL_MAX = (2**64 - 1) // 10


class ValueRefused(ValueError):
    """A value HAProxy's parser refuses; ``at`` is where it reports the error,
    from the start of the value."""

    def __init__(self, reason: str, at: int = 0) -> None:
        super().__init__(reason)
        self.at = at


def value_end(value: bytes, i: int) -> int:
    """``http_find_hdr_value_end()``: the next comma outside a quoted string, else the end."""
    n = len(value)
    if b'"' not in value:
        j = value.find(b",", i)
        return n if j < 0 else j
    quoted = False
    while i < n:
        ch = value[i]
        if quoted:
            if ch == 0x5C:  # backslash: skip the quoted pair
                i += 1
            elif ch == 0x22:
                quoted = False
        elif ch == 0x22:
            quoted = True
        elif ch == 0x2C:
            return i
        i += 1
    return n


def _words(value: bytes) -> list[bytes]:
    """The comma-separated words of a value, blanks trimmed, as the h1 parsers walk them.

    A comma right after another (or at the start) yields an empty word, as in
    HAProxy; a trailing comma does not.
    """
    words = []
    n = len(value)
    i = 0
    while i < n:
        if value[i] in b" \t\r\n":
            i += 1
            continue
        e = value_end(value, i)
        words.append(value[i:e].rstrip(LWS))
        i = e + 1
    return words


def content_length(value: bytes, known: int) -> tuple[int, bytes]:
    """``h1_parse_cont_len_header()`` (with the empty-value fix, CVE-2023-40225).

    ``known`` is the length from an earlier Content-Length header, or -1.
    Returns the length and the last value word (the one HAProxy keeps, e.g.
    ``b"3"`` for ``"3, 3"``). Every comma-separated value must be digits and
    all must be equal, to each other and to ``known``. An error is reported
    where the last valid number starts (HAProxy points its value at it).
    """
    n = len(value)
    i = 0
    at = 0
    word = b""
    length = known
    while True:
        if i >= n:
            raise ValueRefused("empty Content-Length value", at)
        if value[i] in b" \t\r\n":
            i += 1
            continue
        j = i
        cl = 0
        while j < n and 0x30 <= value[j] <= 0x39:
            if cl > _CL_MUL_MAX:
                raise ValueRefused("Content-Length overflow", at)
            cl = (cl * 10 + value[j] - 0x30) & 0xFFFFFFFFFFFFFFFF
            j += 1
        if j == i:
            raise ValueRefused("Content-Length is not a number", at)
        word = value[i:j]
        while j < n and value[j] in b" \t\r\n":
            j += 1
        if j < n and value[j] != 0x2C:
            raise ValueRefused("Content-Length is not a number", at)
        if length >= 0 and cl != length:
            raise ValueRefused("different Content-Length values", at)
        length = cl
        at = i
        if j == n:
            return length, word
        i = j + 1


def transfer_encoding(
    value: bytes, request: bool, last: bool, seen: bool
) -> tuple[bool, bool, bool]:
    """``h1_parse_xfer_enc_header()``: (chunked is last, chunked seen, another coding seen).

    ``last`` and ``seen`` carry over from earlier Transfer-Encoding headers of
    the same message (a value without any word changes nothing). Fails when
    chunked is applied twice, or, in a request, when another coding follows
    chunked (RFC 9112 6.1).
    """
    if value == b"chunked" and not seen:
        return True, True, False
    other = False
    for word in _words(value):
        last = False
        if word.lower() == b"chunked":
            if seen:
                raise ValueError("chunked applied twice")
            seen = last = True
        else:
            if request and seen:
                raise ValueError("a transfer coding after chunked")
            other = True
    return last, seen, other


def connection(value: bytes) -> tuple[bytes, bool, bool, bool]:
    """``h1_parse_connection_header()`` with ``H1_MF_CLEAN_CONN_HDR``.

    Returns (the value without its "close" and "keep-alive" tokens, close seen,
    keep-alive seen, upgrade seen). The untouched leading part keeps its
    spacing; words after a removed one are joined with a bare comma, as
    HAProxy rewrites the value in place.
    """
    low = value.lower()
    if low == b"keep-alive":
        return b"", False, True, False
    if low == b"close":
        return b"", True, False, False
    out = b""
    close = kal = upg = False
    n = len(value)
    i = p = 0
    while i < n:
        if value[i] in b" \t\r\n":
            i += 1
            continue
        e = value_end(value, i)
        word = value[i:e].rstrip(LWS)
        lw = word.lower()
        if lw == b"keep-alive":
            kal = True
        elif lw == b"close":
            close = True
        else:
            upg |= lw == b"upgrade"
            out = value[:e] if out == value[:p] else (out + b"," if out else b"") + word
        i = p = e
        i += 1
    return out, close, kal, upg


def upgrade_websocket(value: bytes) -> bool:
    """``h1_parse_upgrade_header()``: is "websocket" one of the protocols?"""
    return any(w.lower() == b"websocket" for w in _words(value))


def te_trailers(value: bytes) -> bool:
    """The ``te`` rule of the H1 mux output (``h1_process_mux()``): keep the header, as
    "te: trailers", when "trailers" occurs (case-sensitively, anywhere) and is the
    end of the value or followed by a comma; otherwise it is removed."""
    i = value.find(b"trailers")
    return i >= 0 and (len(value) - i == 8 or value[i + 8] == 0x2C)
