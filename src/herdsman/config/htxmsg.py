"""An HTTP/1 response turned into HAProxy's internal form, or the reason it cannot be.

HAProxy 2.6 loads every error page (its own, ``errorfile``, ``errorloc``) with
``http_htx.c http_str_to_htx()``: the head is parsed by ``h1.c
h1_headers_to_hdr_list()`` into an array of ``tune.http.maxhdr`` entries, the
version, status and framing are checked, then the message is copied into an
HTX buffer of ``tune.bufsize`` bytes. ``convert()`` returns HAProxy's complaint,
word for word, or None when the message loads.

The parser follows the states of ``h1_headers_to_hdr_list()`` for a response
in strict mode (``err_pos`` starts at -2, so no invalid character is
tolerated): leading empty lines are skipped, the version is a run of
``[A-Z0-9./]``, the status digits, the reason anything up to the end of the
line; header names are tokens up to a colon, values anything but CR/LF,
with obs-fold joined by spaces; a bare LF ends a line as CRLF does. The
2.6.12 binary (Debian's) has the fixes for CVE-2023-25725 (no empty header
name) and CVE-2023-40225 (no empty Content-Length value). An error is reported at its offset; a head that never
ends is "out of data" and reported at offset -2, HAProxy's initial value.

The HTX layout (``include/haproxy/htx.h``): a 48-byte header, then blocks of
an 8-byte descriptor plus a payload -- the status line (a 20-byte struct and
the three words), one per header (name and value, the name at most 255
bytes, the value at most 1 MiB), one byte for the end of headers, then the
body, which must fit whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Head", "HeadError", "convert", "parse_head"]

HTX_HEADER = 48  # sizeof(struct htx) on 64-bit
HTX_BLOCK = 8  # sizeof(struct htx_blk)
HTX_START_LINE = 20  # sizeof(struct htx_sl)
OUT_OF_DATA = -2  # h1m->err_pos as h1m_init_res() sets it

_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_VERSION = frozenset(b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # HTTP_FLG_VER
_DIGIT = frozenset(b"0123456789")
_SPHT = frozenset(b" \t")
_CRLF = frozenset(b"\r\n")
_LWS = _SPHT | _CRLF


class HeadError(Exception):
    """``h1_headers_to_hdr_list()`` failed: invalid (-1), too many headers (-2) or
    out of data (0); ``pos`` is ``h1m->err_pos``."""

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


@dataclass
class Head:
    """A parsed response head: what the caller of the parser looks at."""

    length: int  # bytes up to the body, leading empty lines included
    version: bytes
    code: bytes
    reason: bytes
    status: int  # the digits, as a uint16_t
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    content_length: int | None = None  # H1_MF_CLEN and body_len
    chunked: bool = False  # H1_MF_CHNK: "chunked" is the last transfer coding


class _Parser:
    """One pass over ``raw``; each method is a group of parser states."""

    def __init__(self, raw: bytes, maxhdr: int) -> None:
        self.raw = raw
        self.maxhdr = maxhdr
        self.pos = 0
        self.te_chunked = False  # H1_MF_TE_CHUNKED: chunked seen at all
        self.xfer_enc = False

    def at(self) -> int:
        """The current byte; reaching the end of the data is "out of data"."""
        if self.pos >= len(self.raw):
            raise HeadError(OUT_OF_DATA)
        return self.raw[self.pos]

    def eol(self) -> None:
        """At a CR or LF ending a line: step over CRLF or LF alone."""
        if self.at() == 0x0D:
            self.pos += 1
        if self.at() != 0x0A:
            raise HeadError(self.pos)
        self.pos += 1

    def parse(self) -> Head:
        while (c := self.at()) not in _TOKEN:  # H1_MSG_RPBEFORE
            if c not in _CRLF:
                raise HeadError(self.pos)
            self.eol()
        start = self.pos
        while (c := self.at()) in _VERSION:
            self.pos += 1
        if c not in _SPHT:
            raise HeadError(self.pos)
        version = self.raw[start : self.pos]
        while (c := self.at()) in _SPHT:
            self.pos += 1
        if c in _CRLF:
            raise HeadError(self.pos)
        start, status = self.pos, 0
        while (c := self.at()) in _DIGIT:
            status = (status * 10 + c - 0x30) & 0xFFFF
            self.pos += 1
        if c not in _LWS:
            raise HeadError(self.pos)
        code, reason = self.raw[start : self.pos], b""
        if c in _SPHT:
            while (c := self.at()) in _SPHT:
                self.pos += 1
            start = self.pos
            while self.at() not in _CRLF:
                self.pos += 1
            reason = self.raw[start : self.pos]
        self.eol()
        head = Head(0, version, code, reason, status)
        self.headers(head)
        return head

    def headers(self, head: Head) -> None:
        while self.at() not in _CRLF:
            sol = self.pos
            while (c := self.at()) in _TOKEN:
                self.pos += 1
            if c != 0x3A or self.pos == sol:  # ':' after a name (CVE-2023-25725)
                raise HeadError(self.pos)
            name = self.raw[sol : self.pos]
            self.pos += 1
            value, value_pos = self.value()
            if len(head.headers) >= self.maxhdr:
                raise HeadError(self.pos)  # http_output_full
            self.add(head, name, value, value_pos)
        self.eol()
        if len(head.headers) >= self.maxhdr:
            raise HeadError(self.pos)  # no room for the closing empty entry
        head.length = self.pos
        if self.xfer_enc and head.content_length is not None:
            # Transfer-Encoding and Content-Length: the length is dropped
            head.content_length = None
            head.headers = [(n, v) for n, v in head.headers if n.lower() != b"content-length"]

    def value(self) -> tuple[bytes, int]:
        """A header value, obs-folds turned into spaces, trimmed; and where it starts.

        A fold before any character only moves the start; within a value the
        line break becomes spaces. A value starts with neither blank nor CR/LF,
        so only its end needs trimming.
        """
        while True:  # H1_MSG_HDR_L1_SP
            while self.at() in _SPHT:
                self.pos += 1
            sov = self.pos
            if self.at() not in _CRLF:
                break
            self.eol()
            if self.at() not in _SPHT:
                return b"", sov
        while True:  # H1_MSG_HDR_VAL
            while self.at() not in _CRLF:
                self.pos += 1
            eol = self.pos
            self.eol()
            if self.at() not in _SPHT:
                break
        folded = self.raw[sov:eol].replace(b"\r", b" ").replace(b"\n", b" ")
        return folded.rstrip(b" \t"), sov

    def add(self, head: Head, name: bytes, value: bytes, value_pos: int) -> None:
        """The checks on the framing headers, then the entry (or none, for a
        repeated Content-Length or an empty Connection)."""
        lname = name.lower()
        if lname == b"transfer-encoding":
            self.transfer_encoding(head, value, value_pos)
        elif lname == b"content-length":
            cleaned = self.content_length(head, value, value_pos)
            if cleaned is None:
                return
            value = cleaned
        elif lname == b"connection" and not value:
            return
        head.headers.append((name, value))

    def transfer_encoding(self, head: Head, value: bytes, value_pos: int) -> None:
        """``h1_parse_xfer_enc_header()`` for a response: only a second "chunked"
        fails. Every element, an empty one too, decides whether chunked is last."""
        self.xfer_enc = True
        i = 0
        while i < len(value):
            if value[i] in _LWS:
                i += 1
                continue
            end = _element_end(value, i)
            head.chunked = False
            if value[i:end].rstrip(b" \t\r\n").lower() == b"chunked":
                if self.te_chunked:
                    raise HeadError(value_pos)
                self.te_chunked = head.chunked = True
            i = end + 1

    def content_length(self, head: Head, value: bytes, value_pos: int) -> bytes | None:
        """``h1_parse_cont_len_header()`` as patched for CVE-2023-40225 (the 2.6.12
        binary): comma-separated numbers, all the same, none empty (leading zeros
        are kept: it lacks 22731762d). Returns the last number, or None for a
        repeated header. An error is reported where the last valid number starts."""
        first = head.content_length is None
        error_pos, cleaned = value_pos, value
        i = 0
        while True:
            while i < len(value) and value[i] in _LWS:
                i += 1
            if i >= len(value):
                raise HeadError(error_pos)  # an empty value, or nothing after a comma
            j = i
            while j < len(value) and value[j] in _DIGIT:
                j += 1
            if j == i or int(value[i:j]) >= 1 << 64:
                raise HeadError(error_pos)
            number, word = int(value[i:j]), value[i:j]
            while j < len(value) and value[j] in _LWS:
                j += 1
            if j < len(value) and value[j] != 0x2C:  # ','
                raise HeadError(error_pos)
            if head.content_length is not None and number != head.content_length:
                raise HeadError(error_pos)
            head.content_length = number
            cleaned, error_pos = word, value_pos + i
            if j == len(value):
                return cleaned if first else None
            i = j + 1


def _element_end(value: bytes, i: int) -> int:
    """``http_find_hdr_value_end()``: the next comma outside a quoted string."""
    quoted = pair = False
    while i < len(value):
        c = value[i]
        if pair:
            pair = False
        elif quoted:
            if c == 0x5C:  # backslash
                pair = True
            elif c == 0x22:
                quoted = False
        elif c == 0x22:  # '"'
            quoted = True
        elif c == 0x2C:
            return i
        i += 1
    return i


def parse_head(raw: bytes, maxhdr: int) -> Head:
    """``h1_headers_to_hdr_list()`` on a response; raises HeadError."""
    return _Parser(raw, maxhdr).parse()


def convert(raw: bytes, bufsize: int, maxhdr: int) -> str | None:
    """``http_str_to_htx()``'s complaint about ``raw``, or None when it loads.

    An empty message loads (it stands for "send nothing").
    """
    if not raw:
        return None
    try:
        head = parse_head(raw, maxhdr)
    except HeadError as err:
        return f"unable to parse headers (error offset: {err.pos})"
    if len(head.version) != 8:
        version = head.version.decode("latin-1")
        return f"invalid http version ({version})"
    if head.status < 200 and (head.status == 100 or head.status >= 102):
        return f"invalid http status code for an error message ({head.status})"
    body = len(raw) - head.length
    if head.status in (204, 304):
        length: int | None = 0  # no body whatever the headers say
    elif head.chunked:
        return "chunk-encoded payload not supported"
    else:
        length = head.content_length
    if length == 0 and body:
        return "message payload not expected"
    if length is not None and length != body:
        return f"payload size does not match the announced content-length ({body} != {length})"
    room = bufsize - HTX_HEADER
    used = HTX_BLOCK + HTX_START_LINE + len(head.version) + len(head.code) + len(head.reason)
    for name, value in head.headers:
        if len(name) > 255 or len(value) > 1048575:
            return "unable to add headers into the HTX message"
        used += HTX_BLOCK + len(name) + len(value)
    used += HTX_BLOCK + 1  # end of headers
    if used > room:
        return "unable to add headers into the HTX message"
    if body and used + HTX_BLOCK + body > room:
        return "unable to add payload into the HTX message"
    return None
