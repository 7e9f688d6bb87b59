"""Requests an HTTP session answers itself through a service of the views: the stats
page (``stats uri``) and the services of ``http-request use-service`` (the
Prometheus exporter). The data path may not import ``admin/``: the runtime
gives ``HttpContext.stats`` an object with the two calls below, on plain
values, and this module turns its answer into a reply the session sends like
its own error replies (connection modes, HEAD, logs).

As in 2.6 (``http_process_req_common()``), the frontend's settings are
looked at first, then the backend's; the method must be GET, HEAD or POST.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from herdsman.config.model import ProxyConfig, StatsPage
from herdsman.http import Flag
from herdsman.http.body import chunked
from herdsman.http.errors import DEFAULT_REPLIES, Reply
from herdsman.http.model import RequestHead

# (status, reason, fields, body); body None: the proxy's own message for the status
PageAnswer = tuple[int, str, list[tuple[str, str]], bytes | None]


# a use-service service: its answer to a request target (admin/prometheus.py's
# Exporter.answer); a body None is HAProxy's built-in message for the status
ServiceHook = Callable[[str], PageAnswer]


class StatsHook(Protocol):
    """What the data path calls of the stats page service (``admin/page/service.py``)."""

    def matches(self, settings: StatsPage, method: str, target: str) -> bool: ...

    def authorized(self, settings: StatsPage, authorization: str | None) -> bool:
        """``stats auth``: the credentials are one of the page's users (or none is set)."""
        ...

    def answer(
        self,
        px: ProxyConfig,
        settings: StatsPage,
        head: tuple[str, str, bool, str | None],
        admin: bool,
        backend: str,
        body: bytes,
    ) -> PageAnswer: ...


def stats_target(
    hook: StatsHook, head: RequestHead, front: ProxyConfig, back: ProxyConfig | None
) -> ProxyConfig | None:
    """The proxy whose stats page this request asks for, if any."""
    method = head.method.decode("latin-1")
    target = head.target.decode("latin-1")
    for px in (front, back):
        settings = px.stats if px is not None else None
        if settings is not None and hook.matches(settings, method, target):
            return px
    return None


def authorization(head: RequestHead) -> str | None:
    for name, value in head.headers:
        if name.lower() == b"authorization":
            return value.decode("latin-1")
    return None


def to_reply(answer: PageAnswer, replies: dict[int, Reply | None]) -> Reply:
    """The session's reply for the service's answer (the proxy's 401 page with the
    ``WWW-Authenticate`` field for a refused login). A body without
    Content-Length or Transfer-Encoding is sent chunked, as 2.6's H1 output
    sends an applet's."""
    status, reason, fields, body = answer
    extra = tuple((n.encode("latin-1"), v.encode("latin-1")) for n, v in fields)
    if body is None:
        base = replies.get(status) or DEFAULT_REPLIES[status]
        names = {n for n, _ in extra}
        kept = tuple(f for f in base.fields if f[0] not in names)
        return Reply(base.status, base.start_line, kept + extra, base.body, base.flags)
    flags = Flag.VER_11
    names = {n for n, _ in extra}
    if b"transfer-encoding" in names:
        # the service sent "chunked" itself (an HTTP/1.1 GET of the stats page, the
        # exporter): its body is in chunks already
        pass
    elif b"content-length" not in names:
        # an applet's response of unknown length: the H1 output chunks it
        # (h1_process_mux(); 2.6.12 sends the stats page to HTTP/1.0 clients so)
        body = chunked(body)
        flags |= Flag.MUX_CHUNKED
    start = f"HTTP/1.1 {status} {reason}\r\n".encode()
    return Reply(status, start, extra, body, flags)
