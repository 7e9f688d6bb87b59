"""An error message loaded as HAProxy 2.6 loads it, or the reason it cannot be.

HAProxy loads every error page (its own, ``errorfile``, ``errorloc``) with
``http_htx.c http_str_to_htx()``: the head is parsed by ``h1.c
h1_headers_to_hdr_list()`` (the data path's lexer, ``exact.py``, here in
strict mode, with the Connection values kept as written: no
``H1_MF_CLEAN_CONN_HDR``) into an array of ``tune.http.maxhdr`` entries, the
version, status and framing are checked, then the message is copied into an
HTX buffer of ``tune.bufsize`` bytes. ``load()`` returns the message as HTX
holds it or raises ``ErrorfileError`` with HAProxy's complaint, word for
word; ``convert()`` is the complaint alone, with the HTX room checked, for
the configuration (``config/errfiles.py``, ``config/errpages.py``).

The HTX layout (``include/haproxy/htx.h``): a 48-byte header, then blocks of
an 8-byte descriptor plus a payload -- the status line (a 20-byte struct and
the three words), one per header (name and value, the name at most 255
bytes, the value at most 1 MiB), one byte for the end of headers, then the
body, which must fit whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .exact import ExactParser
from .model import Flag, HttpError, Limits

__all__ = ["HTX_HEADER", "ErrorfileError", "Message", "convert", "load"]

HTX_HEADER: Final = 48  # sizeof(struct htx) on 64-bit
HTX_BLOCK: Final = 8  # sizeof(struct htx_blk)
HTX_START_LINE: Final = 20  # sizeof(struct htx_sl)
OUT_OF_DATA: Final = -2  # h1m->err_pos as h1m_init_res() sets it


class ErrorfileError(ValueError):
    """A message HAProxy refuses; the text is ``http_str_to_htx()``'s."""


@dataclass(frozen=True)
class Message:
    """A response as ``http_str_to_htx()`` stores it in HTX."""

    version: bytes
    code: bytes
    reason: bytes
    status: int  # the digits, as a uint16_t
    fields: tuple[tuple[bytes, bytes], ...]  # as received, trimmed, obs-fold unfolded
    body: bytes
    flags: int  # the parser's: VER_11, CONN_CLOSE, CONN_KEEPALIVE, UPGRADE_TOKEN...


def load(data: bytes, maxhdr: int) -> Message:
    """Parse and check a non-empty message as ``http_str_to_htx()`` does, before
    it fills the HTX buffer; raises ``ErrorfileError``."""
    # the whole message is parsed at once: no input buffer limit, only maxhdr
    ex = ExactParser(False, Limits(bufsize=len(data) + 65, maxhdr=maxhdr), False, False)
    try:
        done = ex.feed(data)
    except HttpError as exc:
        raise ErrorfileError(f"unable to parse headers (error offset: {exc.offset})") from None
    if not done:
        raise ErrorfileError(f"unable to parse headers (error offset: {OUT_OF_DATA})")
    version, code, reason = ex.line
    if len(version) != 8:
        raise ErrorfileError(f"invalid http version ({version.decode('latin-1')})")
    status = ex.status
    if status < 200 and (status == 100 or status >= 102):
        raise ErrorfileError(f"invalid http status code for an error message ({status})")
    acc = ex.acc
    fields = ex.forwarded
    length = acc.cl
    if acc.flags & Flag.XFER_ENC and length >= 0:
        # Transfer-Encoding with Content-Length: the length is dropped (H1_MSG_LAST_LF)
        fields = [(n, v) for n, v in fields if n.lower() != b"content-length"]
        length = -1
    body = data[ex.size :]
    if status in (204, 304):
        length = 0  # no body whatever the headers say
    elif acc.te_last:
        raise ErrorfileError("chunk-encoded payload not supported")
    if length == 0 and body:
        raise ErrorfileError("message payload not expected")
    if length > 0 and length != len(body):
        raise ErrorfileError(
            f"payload size does not match the announced content-length ({len(body)} != {length})"
        )
    return Message(version, code, reason, status, tuple(fields), body, acc.flags)


def htx_room_error(msg: Message, bufsize: int) -> str | None:
    """What does not fit in an HTX buffer of ``bufsize`` bytes, or None."""
    room = bufsize - HTX_HEADER
    used = HTX_BLOCK + HTX_START_LINE + len(msg.version) + len(msg.code) + len(msg.reason)
    for name, value in msg.fields:
        if len(name) > 255 or len(value) > 1048575:
            return "unable to add headers into the HTX message"
        used += HTX_BLOCK + len(name) + len(value)
    used += HTX_BLOCK + 1  # end of headers
    if used > room:
        return "unable to add headers into the HTX message"
    if msg.body and used + HTX_BLOCK + len(msg.body) > room:
        return "unable to add payload into the HTX message"
    return None


def convert(raw: bytes, bufsize: int, maxhdr: int) -> str | None:
    """``http_str_to_htx()``'s complaint about ``raw``, or None when it loads.

    An empty message loads (it stands for "send nothing").
    """
    if not raw:
        return None
    try:
        msg = load(raw, maxhdr)
    except ErrorfileError as err:
        return str(err)
    return htx_room_error(msg, bufsize)
