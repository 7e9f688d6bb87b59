"""The hash keys of HTTP requests: ``balance uri | url_param | hdr() | rdp-cookie``.

``backend.c assign_server()`` (2.6) hashes a part of the request with the
``hash-type`` function and modifier (``hashing.hash_bytes()``); when the part
is missing the algorithm falls back to round robin, which ``request_key()``
says with None. The one-server shortcut (``tot_used == 1``) is the
algorithm's (``hashing.lookup_key()``). What each input reads, as 2.6 does
and as the 2.6.12 binary showed:

* ``uri`` (``get_server_uh()``): the target of the HTX start line (an
  absolute-form target has lost its default port), or with ``path-only``
  its path and query (``http_parse_path()``: an origin-form target is all
  path, an absolute-form one keeps what follows its authority; CONNECT's
  authority-form, ``*`` and an absolute target without a path give the empty
  string, which is hashed). Then at most ``len`` bytes, cut before the first
  ``?`` unless ``whole``, and before the ``depth+1``-th ``/``. Never missing.
* ``url_param`` (``get_server_ph()``): the value of the first ``<name>=``
  that starts a parameter of the query (after the first ``?``; case matters),
  up to the next ``&``; an empty value is hashed. A POST without it in its
  target has its body searched the same way (``get_server_ph_post()``, with or
  without ``check_post``), with a quirk of 2.6: only the value's first byte
  is checked (``*p`` where ``*end`` was meant, fixed in 3.4), so a value
  starting with a blank (SP, HT, CR, LF) hashes as empty, one starting with a
  byte that is neither blank nor token is missing, and any other runs to the
  next ``&`` or the end of the data, whatever it holds.
* ``hdr(<name>)`` (``get_server_hh()``): the first value (up to a comma out
  of quotes, blanks trimmed) of the first header of that name among those the
  analysers see: the normalised head (its Host, a Connection without
  ``close``/``keep-alive``) with the X-Forwarded-For of ``option
  forwardfor``. An empty value is missing.
  ``use_domain_only`` keeps the label before the last dot, as 2.6's backward
  scan finds it.
* ``rdp-cookie``: never found. In HTTP mode ``get_server_rch()`` looks for
  the RDP header in an HTX buffer, where it cannot be: round robin, as the
  binary does. In TCP mode 2.6 looks in what the client sent before the
  server is chosen; without ``tcp-request inspect-delay`` and ``content``
  rules (herdsman has neither) that is what the stream's first synchronous
  read found (``sc_conn_sync_recv()`` in ``process_stream()``), a race with
  the client (observed both ways for a request sent with the handshake).
  herdsman chooses before reading: round robin.

A POST for ``url_param`` waits for its whole body (or a full buffer) before
the server is chosen, as 2.6 makes it (``http_process_request()`` adds
``AN_REQ_HTTP_BODY``; ``proxy/http_body.py``): the body searched is what
came by then.

Differences (docs/configuration.md, ``balance``): ``use_domain_only`` in 2.6 first reads the byte just past the value (a comma
or blank, the next header's first name byte, or for the last header an
uninitialised byte of the end-of-headers block, which is sometimes a dot and
then makes it hash the last label); herdsman takes it as no dot.
"""

from __future__ import annotations

from collections.abc import Sequence

from herdsman.config.model import Balance
from herdsman.http import Framing, RequestHead, head_bytes
from herdsman.http.body import chunk_data
from herdsman.http.chars import LWS_SET, TOKEN_SET
from herdsman.http.uri import scheme_authority
from herdsman.lb.hashing import hash_bytes
from herdsman.sample.httpfmt import value_end


def uri_path(target: bytes) -> bytes:
    """``http_parse_path()`` for ``path-only``: the path and query, or b"" when none."""
    if not target or target[0] == 0x2A:  # "*"
        return b""
    if target[0] == 0x2F:  # "/"
        return target
    scheme, authority, start = scheme_authority(target)
    if scheme is None or authority is None:
        return b""  # authority-form: no path
    return target[start + len(authority) :]


def uri_input(target: bytes, bal: Balance) -> bytes:
    """The bytes ``get_server_uh()`` hashes for ``balance uri [len] [depth] [whole] [path-only]``."""
    uri = uri_path(target) if bal.uri_path_only else target
    end = len(uri)
    if bal.uri_len:
        end = min(end, bal.uri_len)
    if not bal.uri_whole:
        q = uri.find(b"?", 0, end)
        if q >= 0:
            end = q
    if bal.uri_depth:
        # stop before the (depth + 1)-th slash
        pos = -1
        for _ in range(bal.uri_depth + 1):
            pos = uri.find(b"/", pos + 1, end)
            if pos < 0:
                break
        else:
            end = pos
    return uri[:end]


def _param_value(data: bytes, name: bytes) -> int:
    """Where the value of the first parameter ``name=`` of ``data`` starts, or -1.

    Parameters start at the beginning of ``data`` and after each ``&``; the
    name is compared case-sensitively (``memcmp``).
    """
    plen = len(name)
    pos = 0
    n = len(data)
    while n - pos > plen:
        if data[pos + plen] == 0x3D and data.startswith(name, pos):
            return pos + plen + 1
        amp = data.find(b"&", pos)
        if amp < 0:
            return -1
        pos = amp + 1
    return -1


def query_param(target: bytes, name: bytes) -> bytes | None:
    """``get_server_ph()``: the value of ``name`` in the query of ``target``."""
    q = target.find(b"?")
    if q < 0:
        return None
    query = target[q + 1 :]
    start = _param_value(query, name)
    if start < 0:
        return None
    end = query.find(b"&", start)
    return query[start:] if end < 0 else query[start:end]


def body_param(body: bytes, name: bytes) -> bytes | None:
    """``get_server_ph_post()``: the value of ``name`` in the body bytes received."""
    start = _param_value(body, name)
    if start < 0:
        return None
    end = body.find(b"&", start)
    if end < 0:
        end = len(body)
    if start < end:
        first = body[start]
        if first not in TOKEN_SET:
            # only the first byte is looked at (backend.c tests *p, not *end)
            if first in LWS_SET:
                return b""
            return None
    return body[start:end]


def header_value(head: bytes, name: bytes) -> bytes | None:
    """``http_find_header(.., full=0)``: the first value of the first ``name`` header of
    a canonical head (CRLF lines), blanks trimmed, cut at a comma out of quotes
    (``http_find_hdr_value_end()``: a backslash escapes a byte within quotes)."""
    line = head.lower().find(b"\r\n" + name.lower() + b":")
    if line < 0:
        return None
    start = line + len(name) + 3
    value = head[start : head.find(b"\r\n", start)].strip(b" \t")
    if b"," not in value:
        return value
    return value[: value_end(value, 0)].rstrip(b" \t")


def domain_only(value: bytes) -> bytes:
    """``use_domain_only``: the label before the last dot (``1wt`` of
    ``haproxy.1wt.eu``), the whole value without a dot.

    2.6 scans backwards and never looks at the first byte for the last dot,
    nor at the byte just before that dot for the previous one: ``.com`` stays
    whole, ``a..b`` gives ``a.``. (It first looks one byte past the value,
    taken here as no dot: see the module's differences.)
    """
    last = value.rfind(b".", 1)
    if last < 0:
        return value
    prev = value.rfind(b".", 0, max(last - 1, 0))
    return value[prev + 1 : last]


def request_body(head: RequestHead, rest: bytes) -> bytes:
    """The body in ``rest`` (the bytes received after the head), decoded: what
    HAProxy's first HTX data block holds (one block: the H1 mux appends to it)."""
    if head.framing is Framing.LENGTH:
        return rest[: head.content_length]
    if head.framing is Framing.CHUNKED:
        return chunk_data(rest)
    return b""


def _word(text: str | None) -> bytes:
    """A configuration word as the bytes HAProxy compares (config/lexer.py keeps any byte)."""
    return (text or "").encode("utf-8", "surrogateescape")


# the algorithms whose key request_key() reads from the request (head, body)
FROM_REQUEST = frozenset({"uri", "url_param", "hdr"})


def request_key(bal: Balance, head: RequestHead, add: Sequence[bytes], rest: bytes) -> int | None:
    """The key of a request for the backend's hash input, or None (round robin,
    and any input that does not come from the request: ``source`` is the
    connection's).

    ``add`` holds the header lines the proxy adds before choosing a server
    (X-Forwarded-For, X-Original-To): ``hdr()`` sees them, with HAProxy's
    normalisations, but not the Connection value of the connection mode,
    which HAProxy's H1 output writes later. ``rest`` is what was received
    after the head (a POST's body for ``url_param``).
    """
    algo = bal.algo
    value: bytes | None
    if algo == "uri":
        value = uri_input(head.target, bal)
    elif algo == "url_param":
        name = _word(bal.param)
        value = query_param(head.target, name)
        if value is None and head.method == b"POST":
            value = body_param(request_body(head, rest), name)
    elif algo == "hdr":
        value = header_value(head_bytes(head, add=add), _word(bal.hdr))
        if not value:
            return None
        if bal.hdr_domain_only:
            value = domain_only(value)
    else:
        return None
    return None if value is None else hash_bytes(value, bal)


__all__ = [
    "FROM_REQUEST",
    "body_param",
    "domain_only",
    "header_value",
    "query_param",
    "request_body",
    "request_key",
    "uri_input",
    "uri_path",
]
