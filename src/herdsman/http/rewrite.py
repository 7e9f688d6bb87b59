"""The head bytes to forward: the parsed head's ``raw`` with HAProxy's normalisations
(``head.edits``), the proxy's own changes, and the Connection header it decides.

``head_bytes()`` returns ``head.raw`` itself when nothing changes, which is the
common case of a keep-alive HTTP/1.1 request without a Connection header.
Header lines the proxy adds go at the end, in order, then the Connection
line: HAProxy's analysers append to the HTX message (``option forwardfor``,
``http-request add-header``) and the H1 mux writes its Connection header
when it reaches the end of the headers (``h1_process_mux()``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from .model import RequestHead, ResponseHead


def _removals(raw: bytes, names: Collection[bytes]) -> list[tuple[int, int, bytes]]:
    """Edits deleting the header lines of ``raw`` (canonical) whose lower-cased name is in ``names``."""
    out = []
    pos = raw.find(b"\r\n") + 2
    end = len(raw) - 2
    while pos < end:
        eol = raw.find(b"\r\n", pos)
        colon = raw.find(b":", pos, eol)
        if raw[pos:colon].lower() in names:
            out.append((pos, eol + 2, b""))
        pos = eol + 2
    return out


def head_bytes(
    head: RequestHead | ResponseHead,
    connection: bytes | None = None,
    *,
    add: Sequence[bytes] = (),
    remove: Collection[bytes] = (),
    after: Sequence[bytes] = (),
    block: bytes = b"",
) -> bytes:
    """The head to send.

    ``connection``: the Connection value to append (``connmode``), or None.
    ``add``: whole header lines without their CRLF (b"X-Forwarded-For: 10.0.0.1").
    ``remove``: lower-case names of header fields to delete.
    ``after``: lines the H1 output writes after its Connection line (the
    WebSocket accept HAProxy makes up, ``websocket.accept_line()``).
    ``block``: whole lines with their CRLFs, before ``add`` (fields rules appended).
    """
    raw = head.raw
    edits = head.edits
    if not edits and connection is None and not add and not remove and not after:
        return raw if not block else raw[:-2] + block + b"\r\n"
    if remove:
        edits = tuple(sorted(set(edits) | set(_removals(raw, remove))))
    parts = []
    pos = 0
    for start, end, repl in edits:
        if start < pos:  # a removal covering a normalised line
            continue
        parts.append(raw[pos:start])
        if repl:
            parts.append(repl)
        pos = end
    parts.append(raw[pos : len(raw) - 2])
    if block:
        parts.append(block)
    for line in add:
        parts.append(line + b"\r\n")
    if connection is not None:
        parts.append(b"connection: " + connection + b"\r\n")
    for line in after:
        parts.append(line + b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)
