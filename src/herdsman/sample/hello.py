"""The TLS ClientHello parsers of HAProxy 2.6's payload fetches (``payload.c``),
sans-IO: what a TCP proxy reads of a client's first bytes without decrypting
anything, for TLS passthrough (``tcp-request inspect-delay`` + ``use_backend ...
if { req.ssl_sni -i name }``). ``f_payload.py`` registers them as fetches.

Each function takes the request bytes received so far and answers a value,
``None`` (not TLS, or no such field: the fetch fails for good), or
``INCOMPLETE`` (``SMP_F_MAY_CHANGE``: more bytes may give an answer; a rule
waits for them until its inspect delay ends). The checks and their order are
HAProxy's, quirks included: the ClientHello length is compared with what
follows the record header, so a hello may be taken as complete 4 bytes early.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["INCOMPLETE", "Incomplete", "hello_sni", "hello_type", "req_ssl_ver"]


class Incomplete(enum.Enum):
    INCOMPLETE = "incomplete"


INCOMPLETE = Incomplete.INCOMPLETE
# channel_recv_limit(): tune.bufsize less tune.maxrewrite
RECV_LIMIT: Final = 16384 - 1024


def hello_type(data: bytes) -> int | Incomplete | None:
    """``req.ssl_hello_type``: the handshake message type (1 for a ClientHello)
    once the whole handshake message is there."""
    if not data:
        return INCOMPLETE
    if not (0x14 <= data[0] <= 0x17 or data[0] == 0xFF):
        return None
    if len(data) < 9:
        return INCOMPLETE
    if (data[1] << 16) + data[2] < 0x00030000:
        return None
    if (data[3] << 8) + data[4] < 4:
        return None
    hs_len = (data[6] << 16) + (data[7] << 8) + data[8]
    if len(data) < 9 + hs_len:
        return INCOMPLETE
    return data[5]


def req_ssl_ver(data: bytes) -> int | Incomplete | None:
    """``req.ssl_ver``: the ClientHello's version, major * 65536 + minor (3.3, i.e.
    196611, for TLS 1.2, which TLS 1.3 clients announce too; the ACL match reads
    "3.3"), from the SSLv3 record format or an SSLv2 hello.
    A hello longer than a buffer can hold is taken whole once the buffer is full."""
    n = len(data)
    if not n:
        return INCOMPLETE
    if 0x14 <= data[0] <= 0x17 or data[0] == 0xFF:
        if n < 11:
            return INCOMPLETE
        version = (data[1] << 16) + data[2]
        msg_len = (data[3] << 8) + data[4]
        if version < 0x00030000:
            return None
        if msg_len < 6 or msg_len > (1 << 14) + 2048:
            return None
        bleft = n - 5
        version = (data[9] << 16) + data[10]  # the hello's version, not the record's
    else:
        pos = 0
        if data[0] & 0x80:
            if n < 3:
                return INCOMPLETE
            rlen, plen = ((data[0] & 0x7F) << 8) | data[1], 0
            pos = 2
        else:
            if n < 4:
                return INCOMPLETE
            rlen, plen = ((data[0] & 0x3F) << 8) | data[1], data[2]
            pos = 3
        if data[pos] != 0x01:
            return None
        pos += 1
        bleft = n - pos
        if bleft < 8:
            return INCOMPLETE
        d = data[pos : pos + 8]
        version = (d[0] << 16) + d[1]
        cilen, silen, chlen = (d[2] << 8) + d[3], (d[4] << 8) + d[5], (d[6] << 8) + d[7]
        bleft -= 8
        if cilen % 3 or (silen and silen != 16) or not 16 <= chlen <= 32:
            return None
        if rlen != 9 + cilen + silen + chlen:
            return None
        msg_len = cilen + silen + chlen + plen
    msg_len = min(msg_len, RECV_LIMIT)
    if bleft < msg_len:
        return INCOMPLETE
    return version


def hello_sni(data: bytes) -> bytes | Incomplete | None:
    """``req.ssl_sni``: the first host_name of the server_name extension, as sent."""
    n = len(data)
    if not n:
        return INCOMPLETE
    if data[0] != 0x16:
        return None
    if n < 3:
        return INCOMPLETE
    if data[1] < 0x03:
        return None
    if n < 5:
        return INCOMPLETE
    if (data[3] << 8) + data[4] < 1 + 3 + 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2:
        return None
    bleft = n - 5
    if bleft < 1:
        return INCOMPLETE
    if data[5] != 0x01:
        return None
    if bleft < 4:
        return INCOMPLETE
    hs_len = (data[6] << 16) + (data[7] << 8) + data[8]
    if hs_len < 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2:
        return None
    if bleft < hs_len:
        return INCOMPLETE
    # HAProxy may read up to 4 bytes past what it checked: they read as zeros here
    d = data[9:] + bytes(4)
    if d[0] < 0x03 or d[1] < 0x01:
        return None
    sid = d[34]
    if sid > 32 or sid > hs_len - 35:
        return None
    hs_len -= 35 + sid
    p = 35 + sid
    ciphers = (d[p] << 8) + d[p + 1]
    if hs_len < 4 or ciphers < 2 or ciphers > hs_len:
        return None
    hs_len -= 2 + ciphers
    p += 2 + ciphers
    comp = d[p]
    if hs_len < 2 or comp < 1 or comp > hs_len:
        return None
    hs_len -= 1 + comp
    p += 1 + comp
    if hs_len < 2:
        return None
    ext_total = (d[p] << 8) + d[p + 1]
    if ext_total > hs_len - 2:
        return None
    hs_len = ext_total
    p += 2
    while hs_len >= 4:
        ext_type = (d[p] << 8) + d[p + 1]
        ext_len = (d[p + 2] << 8) + d[p + 3]
        if ext_len > hs_len - 4:
            return None
        if ext_type == 0:
            if ext_len < 2:
                return None
            srv_len = (d[p + 4] << 8) + d[p + 5]
            if srv_len < 4 or srv_len > hs_len - 6:
                return None
            if d[p + 6] == 0:
                name_len = (d[p + 7] << 8) + d[p + 8]
                return d[p + 9 : p + 9 + name_len]
        hs_len -= 4 + ext_len
        p += 4 + ext_len
    return None
