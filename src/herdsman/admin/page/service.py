"""The stats page as an HTTP service (``http_ana.c http_stats_check_uri()``,
``http_handle_stats()``; ``stats.c http_stats_io_handler()``), sans-IO.

The data path asks ``matches()`` for each request of a proxy with ``stats``
settings and, when it matches, hands the whole request (its body read for a
POST) to ``serve()``, which returns the reply to send. Nothing here touches a
socket: the page is rendered from the runtime API's rows (``admin/api``),
the admin form changes servers through ``core/transitions.py``.

What the URI says, after the ``stats uri`` prefix (anywhere in the rest, as
2.6 searches it): ``;up`` (hide DOWN servers), ``;no-maint``, ``;norefresh``,
``;csv``, ``;typed``, ``;json``, ``;st=<code>`` (the banner after a POST) and
``scope=<text>`` (only the proxies whose name contains it). Authentication
(``stats auth``) is checked first: a missing or wrong ``Authorization: Basic``
gets the proxy's 401 with ``WWW-Authenticate: Basic realm="..."``. A POST
without admin rights, or with another method, is answered by the redirect
with ``st=DENY`` / ``st=IVAL``, as 2.6 does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field

from herdsman.admin.api import stat
from herdsman.admin.api.context import Api
from herdsman.admin.api.fields import csv_header, csv_line, json_rows, typed_lines
from herdsman.admin.history import History
from herdsman.admin.page import html as page
from herdsman.admin.page import info
from herdsman.admin.page.actions import apply_form
from herdsman.admin.page.style import HEAD_END, HEAD_START
from herdsman.config.model import Cap, ProxyConfig, StatsPage
from herdsman.core.backend import Server
from herdsman.http.body import chunked
from herdsman.version import HAPROXY_COMPAT, RELEASE_DATE, VERSION

DEFAULT_REALM = "HAProxy Statistics"  # STATS_DEFAULT_REALM
SCOPE_MAX = 20  # STAT_SCOPE_TXT_MAXLEN
STRIP_CELLS = 20  # history cells shown per server (the history keeps 64)


@dataclass
class PageRequest:
    """A request for the page: ``target`` as received; ``admin``: a ``stats admin``
    condition passed for it (the data path evaluates them on the request)."""

    method: str
    target: str
    version11: bool = True
    authorization: str | None = None
    admin: bool = False
    backend: str = ""  # the stream's backend (``stats scope .``)
    body: bytes = b""


@dataclass
class PageReply:
    """What to send: ``body`` None means the proxy's own message for ``status``
    (its errorfile) with ``fields`` added."""

    status: int
    reason: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = b""


def matches(settings: StatsPage, method: str, target: str) -> bool:
    """``http_stats_check_uri()``: GET, HEAD or POST, and the URI (its path when
    the prefix starts with '/') starts with the prefix."""
    if method not in ("GET", "HEAD", "POST"):
        return False
    uri = target
    if settings.uri.startswith("/"):
        uri = _path(target)
    return uri.startswith(settings.uri)


def _path(target: str) -> str:
    """``http_parse_path()``: an absolute URI's path, else the target as it is."""
    if target.startswith("/") or "://" not in target:
        return target
    rest = target.split("://", 1)[1]
    return "/" + rest.split("/", 1)[1] if "/" in rest else ""


def _find(rest: str, word: str, room: int) -> int:
    """Where ``word`` starts in ``rest``, looked for as 2.6 does: only where at least
    ``room`` characters remain (``for (h = lookup; h <= end - room; h++)``), so a
    one-letter ``scope=x`` at the very end is not seen. -1 when absent."""
    i = rest.find(word)
    return i if 0 <= i <= len(rest) - room else -1


def _has(rest: str, word: str) -> bool:
    return _find(rest, word, len(word)) >= 0


def _scope(rest: str) -> str:
    """The ``scope=`` text: up to ';', '&' or ' ', 20 characters, cleared when it
    holds a character a proxy name cannot (``invalid_char()``)."""
    i = _find(rest, "scope=", 8)
    if i < 0:
        return ""
    text = rest[i + 6 :]
    for stop in ";& ":
        text = text.split(stop, 1)[0]
    text = text[:SCOPE_MAX]
    if not all(c.isascii() and (c.isalnum() or c in ".-_:") for c in text):
        return ""
    return text


def _authorized(settings: StatsPage, header: str | None) -> bool:
    if not settings.users:
        return True
    if header is None or header[:6].lower() != "basic ":
        return False
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode("latin-1").partition(":")
    except (binascii.Error, ValueError):
        return False
    return (user, password) in settings.users


def kill_streams(srv: Server) -> None:
    """The ``shutdown`` action: abort every stream on the server (``srv_shutdown_streams()``)."""
    for stream in list(srv.streams):
        stream.abort()


class StatsService:
    """Serves the stats page of any proxy; ``tasks`` counts the running and
    allocated tasks for the process block."""

    def __init__(
        self,
        api: Api,
        history: History,
        kill: Callable[[Server], None] = kill_streams,
        tasks: Callable[[], tuple[int, int]] = lambda: (0, 0),
    ) -> None:
        self.api = api
        self.history = history
        self.kill = kill
        self.tasks = tasks

    # -- the data path's two calls (proxy/http_local.py), on plain values --------------

    def matches(self, settings: StatsPage, method: str, target: str) -> bool:
        return matches(settings, method, target)

    def authorized(self, settings: StatsPage, authorization: str | None) -> bool:
        return _authorized(settings, authorization)

    def answer(
        self,
        px: ProxyConfig,
        settings: StatsPage,
        head: tuple[str, str, bool, str | None],
        admin: bool,
        backend: str,
        body: bytes,
    ) -> tuple[int, str, list[tuple[str, str]], bytes | None]:
        method, target, version11, auth = head
        req = PageRequest(method, target, version11, auth, admin, backend, body)
        reply = self.serve(px, settings, req)
        return reply.status, reply.reason, reply.fields, reply.body

    def serve(self, px: ProxyConfig, settings: StatsPage, req: PageRequest) -> PageReply:
        if not _authorized(settings, req.authorization):
            realm = settings.realm or DEFAULT_REALM
            return PageReply(
                401, "Unauthorized", [("www-authenticate", f'Basic realm="{realm}"')], None
            )
        uri = settings.uri
        target = req.target
        rest = target[len(uri) :] if target.startswith(uri) else _path(target)[len(uri) :]
        view = page.View(
            uri=uri,
            admin=req.admin,
            legends=settings.show_legends,
            hide_down=_has(rest, ";up"),
            no_refresh=settings.refresh > 0 and _has(rest, ";norefresh"),
            refresh=settings.refresh,
            scope=_scope(rest),
        )
        hide_maint = _has(rest, ";no-maint")
        at = _find(rest, ";st=", 8)
        if at >= 0:
            code = rest[at + 4 : at + 8]
            view.st_code = code if code in info.STATUS else "UNKN"
        if req.method == "POST":
            code = "IVAL" if req.body is None else "DENY"
            if view.admin:
                code = apply_form(req.body, self.api.backend, self.kill)
            return self._redirect(view, code)
        fmt = "html"
        for word, name in ((";csv", "csv"), (";typed", "typed"), (";json", "json")):
            if _has(rest, word):
                fmt = name
        fields = [("cache-control", "no-cache")]
        fields.append(
            (
                "content-type",
                {"html": "text/html", "json": "application/json"}.get(fmt, "text/plain"),
            )
        )
        if settings.refresh > 0 and not view.no_refresh:
            fields.append(("refresh", str(settings.refresh)))
        if req.method == "HEAD":
            return PageReply(200, "OK", fields, b"")
        body = self._body(px, settings, req, view, fmt, hide_maint)
        if req.version11:
            # STAT_CHUNKED (http_handle_stats()): the page says "chunked" itself to an
            # HTTP/1.1 GET; to HTTP/1.0 the H1 output chunks it after its Connection
            # header (http_local.to_reply())
            fields.append(("transfer-encoding", "chunked"))
            body = chunked(body)
        return PageReply(200, "OK", fields, body)

    def _redirect(self, view: page.View, code: str) -> PageReply:
        """``stats_send_http_redirect()``: back to the page with a GET and the result."""
        scope = f"?scope={view.scope}" if view.scope else ""
        location = (
            f"{view.uri};st={code}{';up' if view.hide_down else ''}"
            f"{';norefresh' if view.no_refresh else ''}{scope}"
        )
        fields = [
            ("cache-control", "no-cache"),
            ("content-type", "text/plain"),
            ("content-length", "0"),
            ("location", location),
        ]
        return PageReply(303, "See Other", fields, b"")

    def _proxies(self, settings: StatsPage, req: PageRequest, scope: str) -> list[ProxyConfig]:
        """The proxies the page shows: ``stats scope`` names (``.`` is the stream's
        backend), then the query's ``scope=`` substring (case-insensitive)."""
        out = []
        for px in self.api.proxies():
            if not px.cap & (Cap.FE | Cap.BE):
                continue
            if settings.scopes and not any(
                s == px.name or (s == "." and px.name == req.backend) for s in settings.scopes
            ):
                continue
            if scope and scope.lower() not in px.name.lower():
                continue
            out.append(px)
        return out

    def _body(
        self,
        px: ProxyConfig,
        settings: StatsPage,
        req: PageRequest,
        view: page.View,
        fmt: str,
        hide_maint: bool,
    ) -> bytes:
        shown = self._proxies(settings, req, view.scope)
        legends = view.legends
        if fmt != "html":
            rows = [
                row
                for p in shown
                for row in stat.rows(self.api, legends, p.uuid, -1, -1, hide_maint, view.hide_down)
            ]
            if fmt == "csv":
                text = csv_header() + "".join(csv_line(r) for r in rows)
            elif fmt == "typed":
                text = "".join(typed_lines(r, False) for r in rows)
            else:
                text = json_rows(rows).rstrip("\n")
            return text.encode("latin-1", "replace")
        out = [
            HEAD_START,
            self._node_title(settings),
            HEAD_END,
            info.info(self._process(settings), view),
        ]
        for p in shown:
            be = self.api.registry.backends.get(p.name) if p.cap & Cap.BE else None
            has_servers = be is not None and bool(be.servers)
            out.append(page.proxy_header(p, view, has_servers))
            for row in stat.rows(self.api, legends, p.uuid, -1, -1, hide_maint, view.hide_down):
                strip = ""
                if (
                    be is not None
                    and row[stat.TYPE_POS if hasattr(stat, "TYPE_POS") else 32][2] == 2
                ):
                    strip = page.history_strip(
                        self.history.strip(p.name, str(row[1][2]), STRIP_CELLS)
                    )
                out.append(page.row_html(row, view, strip))
            out.append(page.proxy_footer(p, view, has_servers))
        out.append("</body></html>\n")
        return "".join(out).encode("latin-1", "replace")

    def _node_title(self, settings: StatsPage) -> str:
        return f" on {settings.node or self.api.node}" if settings.show_node else ""

    def _process(self, settings: StatsPage) -> info.Process:
        api = self.api
        proc = api.registry.process
        g = api.config.global_
        ulimit = api.ulimit_n()
        return info.Process(
            version="" if settings.hide_version else f"{HAPROXY_COMPAT}-herdsman-{VERSION}",
            release=RELEASE_DATE,
            pid=api.pid,
            node=(settings.node or api.node) if settings.show_node else "",
            desc=(settings.desc or g.description or "") if settings.show_desc else "",
            nbthread=g.nbthread,
            uptime_s=api.uptime_s(),
            ulimit_n=ulimit,
            maxsock=ulimit,
            maxconn=proc.maxconn,
            actconn=proc.actconn,
            conn_rate=proc.counters.conn_per_sec.read(api.clock.now_ms()),
            tasks=self.tasks(),
        )
