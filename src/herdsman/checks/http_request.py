"""The request of an HTTP check, sans-IO.

HAProxy builds an HTX request in ``tcpcheck_eval_send()`` and lets the H1 mux
(``src/mux_h1.c h1_process_mux()``) write it. This module reproduces the
bytes of the Debian 2.6.12 binary (observed-2.6.12-checks.md §5, VERBATIM).
The response is ``http_response.py``'s, the verdict ``http_expect.py``'s; the
interpreter (``tcpcheck.py``) feeds them.

Request, in order: ``<meth> <uri> <ver>``, the configured headers with
lower-cased names (empty values dropped), ``x-haproxy-server-state`` for
send-state, ``content-length`` (omitted without a body for GET, HEAD, OPTIONS
and DELETE, as 2.6.12 does), then the ``connection`` header the H1 mux
derives (``h1_parse_connection_header()``, ``h1_set_srv_conn_mode()``,
``h1_update_req_conn_value()``): ``close`` for HTTP/1.1 unless a Connection
header was configured, nothing for HTTP/1.0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from herdsman.defs.rules import HttpSendRule
from herdsman.http import fields

# Methods for which 2.6.12's H1 mux drops "content-length: 0" from a bodyless
# request (case-sensitive, as find_http_meth()).
_NO_PAYLOAD_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "DELETE"))


def _wire(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _version_flags(ver: str) -> tuple[bool, bool]:
    """(HTX ``HTX_SL_F_VER_11``, H1 mux ``H1_MF_VER_11``) for a version string.

    ``tcpcheck_eval_send()`` also flags a 6-character ``HTTP/2`` as 1.1, so the
    mux writes ``HTTP/1.1``; but ``h1_parse_req_vsn()`` only looks at
    8-character versions, so such a request gets no ``connection: close``.
    """
    v8 = len(ver) == 8 and (ver[5] > "1" or (ver[5] == "1" and ver[7] >= "1"))
    return (len(ver) == 6 and ver[5] == "2") or v8, v8


def _clean_connection(value: str) -> tuple[str, bool, bool, bool]:
    """``h1_parse_connection_header()`` with ``H1_MF_CLEAN_CONN_HDR`` (the HTTP
    engine's ``fields.connection()``): the value left once ``close`` and
    ``keep-alive`` are removed, and the (close, keep-alive, upgrade) tokens seen."""
    cleaned, close, kal, upg = fields.connection(_wire(value))
    return cleaned.decode("utf-8", "surrogateescape"), close, kal, upg


def _absolute_authority(uri: str) -> tuple[int, int] | None:
    """Bounds of the authority of an absolute URI (``http_parse_authority()``)."""
    m = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", uri)
    if m is None:
        return None
    end = m.end()
    while end < len(uri) and uri[end] not in "/?#":
        end += 1
    return m.end(), end


def build_request(
    rule: HttpSendRule,
    ctx: Mapping[str, str],
    *,
    state: str | None = None,
    force_close: bool = False,
    fake_keepalive: bool = False,
) -> bytes:
    """The bytes of one HTTP check request, as the 2.6.12 binary sends them.

    ``state`` is the send-state header value (None without send-state).
    ``force_close`` is ``option httpclose``/``http-server-close`` on the
    backend and ``fake_keepalive`` ``option http-pretend-keepalive``: the H1
    mux applies both to check requests too.
    """
    # Most checks send the same bytes every time: build them once.
    constant = (
        state is None
        and rule.uri_fmt is None
        and rule.body_fmt is None
        and all(fmt.is_literal for _, fmt in rule.headers)
    )
    if constant:
        cached = rule.wire.get((force_close, fake_keepalive))
        if cached is not None:
            return cached
    data = _build(rule, ctx, state, force_close, fake_keepalive)
    if constant:
        rule.wire[(force_close, fake_keepalive)] = data
    return data


def _build(
    rule: HttpSendRule,
    ctx: Mapping[str, str],
    state: str | None,
    force_close: bool,
    fake_keepalive: bool,
) -> bytes:
    meth = rule.meth or "OPTIONS"
    uri = rule.uri_fmt.evaluate(ctx) if rule.uri_fmt is not None else rule.uri
    uri = uri or "/"
    ver = rule.ver or "HTTP/1.0"
    htx_11, mux_11 = _version_flags(ver)
    body = _wire(rule.body_fmt.evaluate(ctx)) if rule.body_fmt is not None else _wire(rule.body)

    headers: list[tuple[str, str]] = []
    conn_hdr = close = kal = upg = False
    for name, fmt in rule.headers:
        value = fmt.evaluate(ctx)
        if not value:
            continue
        low = name.lower()
        if low == "host":
            bounds = _absolute_authority(uri)
            if bounds is not None:  # http_update_authority()
                uri = uri[: bounds[0]] + value + uri[bounds[1] :]
        elif low == "connection":
            conn_hdr = True
            value, c, k, u = _clean_connection(value)
            close, kal, upg = close or c, kal or k, upg or u
            if not value:
                continue
        elif low == "te":
            # The H1 mux only lets "te: trailers" through.
            if not fields.te_trailers(_wire(value)):
                continue
            value = "trailers"
        headers.append((low, value))
    if state is not None:
        headers.append(("x-haproxy-server-state", state))
    if body or meth not in _NO_PAYLOAD_METHODS:
        headers.append(("content-length", str(len(body))))
    if not conn_hdr:
        close = True  # tcpcheck_eval_send() adds "Connection: close"

    # h1_set_srv_conn_mode() then h1_update_req_conn_value() (output side).
    want_close = close or (not kal and force_close)
    conn_value = ""
    if not upg:
        if not want_close or fake_keepalive:
            conn_value = "" if mux_11 else "keep-alive"
        elif mux_11:
            conn_value = "close"
    if conn_value:
        headers.append(("connection", conn_value))

    line = f"{meth} {uri} {'HTTP/1.1' if htx_11 else ver}\r\n"
    head = line + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    return _wire(head) + body
