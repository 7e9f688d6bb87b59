"""What HTTP mode reads of a frontend or a backend, computed once at start-up.

The configuration model keeps HAProxy's words (``config/model.py
HttpSettings``); the data path wants them ready to use on every request: the
engine's connection mode, the forwardfor/originalto options with parsed
networks, the error replies loaded as the engine's ``Reply`` objects, the
buffer limits, the timeouts in seconds. One ``FrontHttp``/``BackHttp`` per
proxy, shared by all its streams.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from herdsman.config.model import (
    AddedHeader,
    ConnMode,
    GlobalConfig,
    HdrNames,
    HttpReuse,
    ProxyConfig,
    RetryOn,
)
from herdsman.config.model_addr import Network
from herdsman.http import Limits
from herdsman.http.connmode import Mode
from herdsman.http.errors import DEFAULT_REPLIES, Reply, load_reply
from herdsman.http.forwarded import AddrHeaderOption, IPNetwork

_MODES = {
    ConnMode.KEEP_ALIVE: Mode.KAL,
    ConnMode.SERVER_CLOSE: Mode.SCL,
    ConnMode.CLOSE: Mode.CLO,
}


def _seconds(ms: int | None) -> float | None:
    return ms / 1000.0 if ms else None


def _network(net: Network | None) -> IPNetwork | None:
    if net is None:
        return None
    ip = ipaddress.ip_address(net.addr)
    mask = int.from_bytes(net.mask, "big")
    bits = len(net.mask) * 8
    # HAProxy accepts non-contiguous IPv4 masks; ipaddress needs a prefix: the
    # number of leading ones (a non-contiguous mask is refused at parse time by
    # python's network parsing only, never by HAProxy: keep the leading ones)
    prefix = 0
    while prefix < bits and mask & (1 << (bits - 1 - prefix)):
        prefix += 1
    return ipaddress.ip_network(f"{ip}/{prefix}", strict=False)


def _option(opt: AddedHeader | None) -> AddrHeaderOption | None:
    if opt is None:
        return None
    return AddrHeaderOption(opt.header.encode(), _network(opt.except_net), opt.if_none)


def _replies(px: ProxyConfig) -> dict[int, Reply | None]:
    """The proxy's error replies: its errorfiles over HAProxy's defaults; None:
    an empty errorfile (send nothing, close)."""
    replies: dict[int, Reply | None] = dict(DEFAULT_REPLIES)
    for status, raw in px.http.errors.items():
        replies[status] = load_reply(raw) if raw else None
    return replies


@dataclass(frozen=True, slots=True)
class FrontHttp:
    mode: Mode
    forwardfor: AddrHeaderOption | None
    originalto: AddrHeaderOption | None
    accept_invalid: bool  # option accept-invalid-http-request
    monitor_uri: bytes | None
    ignore_probes: bool  # option http-ignore-probes: no 408 for a connection that sent nothing
    idle_close_on_response: bool  # soft stop: idle keep-alive connections wait for a response
    replies: dict[int, Reply | None]
    buffer_request: bool  # option http-buffer-request (proxy/http_body.py)
    restrict_names: HdrNames  # option http-restrict-req-hdr-names (proxy/http_hdrnames.py)
    # timeouts, seconds (None: unset)
    http_request: float | None  # an incomplete head; a body waited for
    keep_alive: float | None  # between two requests (else http-request)
    client: float | None
    # none of forwardfor, originalto, monitor-uri, http-buffer-request,
    # http-restrict-req-hdr-names: a request goes out as received (proxy/http.py)
    plain: bool


@dataclass(frozen=True, slots=True)
class BackHttp:
    mode: Mode
    pretend_keepalive: bool
    forwardfor: AddrHeaderOption | None
    originalto: AddrHeaderOption | None
    accept_invalid: bool  # option accept-invalid-http-response
    reuse: HttpReuse
    replies: dict[int, Reply | None]
    retry_on: RetryOn
    buffer_request: bool  # option http-buffer-request (proxy/http_body.py)
    restrict_names: HdrNames  # option http-restrict-req-hdr-names (proxy/http_hdrnames.py)
    prefer_last: bool  # option prefer-last-server (proxy/http_prefer.py)
    max_ka_queue: int  # max-keep-alive-queue, -1: no limit
    send_name_header: bytes | None  # http-send-name-header, lower case
    http_request: float | None  # a body waited for (http-buffer-request in the backend)
    server: float | None
    tunnel: float | None
    server_fin: float | None
    # retry-on with a response condition and retries left: the request is kept
    # for an L7 retry (proxy/http_retry.py)
    l7_retry: bool
    # none of forwardfor, originalto, http-buffer-request,
    # http-restrict-req-hdr-names, http-send-name-header, prefer-last-server
    plain: bool
    # plain, and a balance algorithm that hashes nothing of the request: a
    # bodyless request the rules let through takes HttpSession._plain()
    straight: bool


def limits(g: GlobalConfig) -> Limits:
    return Limits(g.tune_bufsize, g.tune_maxrewrite, g.tune_http_maxhdr)


def front(px: ProxyConfig) -> FrontHttp:
    h = px.http
    t = px.timeouts
    request = _seconds(t.http_request)
    plain = not (
        h.forwardfor
        or h.originalto
        or h.monitor_uri
        or px.option("http-buffer-request")
        or h.restrict_req_hdr_names is not HdrNames.PRESERVE
    )
    return FrontHttp(
        mode=_MODES[h.conn_mode],
        forwardfor=_option(h.forwardfor),
        originalto=_option(h.originalto),
        accept_invalid=px.option("accept-invalid-http-request"),
        monitor_uri=h.monitor_uri.encode() if h.monitor_uri else None,
        ignore_probes=px.option("http-ignore-probes"),
        idle_close_on_response=px.option("idle-close-on-response"),
        replies=_replies(px),
        buffer_request=px.option("http-buffer-request"),
        restrict_names=h.restrict_req_hdr_names,
        http_request=request,
        keep_alive=_seconds(t.http_keep_alive) or request,
        client=_seconds(t.client),
        plain=plain,
    )


def back(px: ProxyConfig) -> BackHttp:
    h = px.http
    t = px.timeouts
    plain = not (
        h.forwardfor
        or h.originalto
        or px.option("http-buffer-request")
        or h.restrict_req_hdr_names is not HdrNames.PRESERVE
        or h.send_name_header
        or px.option("prefer-last-server")
    )
    return BackHttp(
        mode=_MODES[h.conn_mode],
        pretend_keepalive=px.option("http-pretend-keepalive"),
        forwardfor=_option(h.forwardfor),
        originalto=_option(h.originalto),
        accept_invalid=px.option("accept-invalid-http-response"),
        reuse=h.reuse_mode,
        replies=_replies(px),
        retry_on=px.retry_on,
        buffer_request=px.option("http-buffer-request"),
        restrict_names=h.restrict_req_hdr_names,
        prefer_last=px.option("prefer-last-server"),
        max_ka_queue=h.max_keep_alive_queue,
        send_name_header=h.send_name_header.encode() if h.send_name_header else None,
        http_request=_seconds(t.http_request),
        server=_seconds(t.server),
        tunnel=_seconds(t.tunnel),
        server_fin=_seconds(t.server_fin),
        l7_retry=bool(px.retry_on & ~RetryOn.CONN_FAILURE) and px.retries > 0,
        plain=plain,
        straight=plain and not px.balance.is_hash,
    )
