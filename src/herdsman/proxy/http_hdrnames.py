"""``option http-restrict-req-hdr-names { preserve | delete | reject }``.

HAProxy 2.6 checks the request header names of each proxy the request goes
through (the frontend, then the backend when it is another proxy) once that
proxy's ``http-request`` rules ran (``http_process_req_common()`` calls
``http_req_restrict_header_names()``, http_ana.c): a name with a character
outside ``[A-Za-z0-9-]`` makes ``delete`` remove the header and ``reject``
deny the request with a 403 (the proxy's errorfile). 2.6.12 has the fix of
``4b85a963b`` (every such header is removed, none other).

Difference: herdsman checks after all the rules (the frontend's, then the
backend's), so a backend rule still sees a header the frontend deletes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from herdsman.config.model import HdrNames
from herdsman.core.counters import BeCounters, FeCounters
from herdsman.http import RequestHead
from herdsman.proxy.http_settings import BackHttp, FrontHttp
from herdsman.sample.txn import Txn

__all__ = ["check", "restrict"]


class Session(Protocol):
    """What the check reads and calls of an HTTP session (``proxy/http.py``)."""

    fe_http: FrontHttp
    be_http: BackHttp | None
    txn: Txn | None
    req_done: bool
    fe_c: FeCounters
    be_c: BeCounters | FeCounters

    def reply(
        self, status: int, req: RequestHead | None, *, request_pending: bool = False
    ) -> None: ...


def check(s: Session, head: RequestHead) -> frozenset[bytes] | None:
    """The header names to delete (as the rules left the headers), or None when
    the request was answered with the 403."""
    fe = s.fe_http.restrict_names
    be_http = s.be_http
    assert be_http is not None
    be = be_http.restrict_names
    if fe is HdrNames.PRESERVE and be is HdrNames.PRESERVE:
        return frozenset()
    txn = s.txn
    hdrs = txn.req_headers() if txn is not None else None
    dropped = restrict(head.headers if hdrs is None else hdrs, (fe, be))
    if dropped is None:
        s.fe_c.denied_req += 1
        s.be_c.denied_req += 1
        s.reply(403, head, request_pending=not s.req_done)
    return dropped


_ALLOWED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")


def restrict(
    headers: Iterable[tuple[bytes, bytes]], policies: Iterable[HdrNames]
) -> frozenset[bytes] | None:
    """The lower-case names to remove, or None when a ``reject`` denies the request."""
    # the first proxy that does not preserve decides: after a delete, nothing is left to reject
    first = next((p for p in policies if p is not HdrNames.PRESERVE), HdrNames.PRESERVE)
    if first is HdrNames.PRESERVE:
        return frozenset()
    bad = frozenset(name.lower() for name, _ in headers if not _ALLOWED.issuperset(name))
    return None if bad and first is HdrNames.REJECT else bad
