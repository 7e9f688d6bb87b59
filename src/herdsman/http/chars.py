"""HAProxy's HTTP character classes (``src/http.c http_char_classes[]``) as byte sets.

Each set lists the bytes of one class, so ``data.translate(None, SET)`` is
empty exactly when every byte of ``data`` is in the class: one C call checks a
whole field.
"""

from __future__ import annotations

# HTTP_FLG_TOK: RFC 9110 tchar.
TOKEN = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# HTTP_FLG_VER: what a version may be made of ('/', '.', digits, upper case letters).
VERSION = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Bytes the request-URI state accepts one by one: 33..126 (h1.c H1_MSG_RQURI),
# less '#' which 2.6.12 as shipped by Debian refuses (CVE-2023-45539).
URI = bytes(range(0x21, 0x7F)).replace(b"#", b"")
DIGITS = b"0123456789"
# HTTP_FLG_LWS and HTTP_FLG_SPHT
LWS = b" \t\r\n"
SPHT = b" \t"

TOKEN_SET = frozenset(TOKEN)
VERSION_SET = frozenset(VERSION)
DIGIT_SET = frozenset(DIGITS)
LWS_SET = frozenset(LWS)
SPHT_SET = frozenset(SPHT)
CRLF_SET = frozenset(b"\r\n")
