"""Which stream serves a frontend's connections (the frontend itself does not know).

A frontend in ``mode tcp`` relays bytes (``proxy/tcp.py``); one in ``mode
http``, or a TCP frontend whose backend is in ``mode http`` (HAProxy
upgrades such a connection to HTTP when it selects the backend), runs HTTP
sessions (``proxy/http.py``) sharing one ``HttpContext``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping

from herdsman.config.model import GlobalConfig, Mode, ProxyConfig
from herdsman.core.backend import Server
from herdsman.core.events import ServerEvent
from herdsman.core.registry import ProcessState
from herdsman.core.states import MAINT
from herdsman.proxy.frontend import StreamFactory
from herdsman.proxy.http import HttpSession
from herdsman.proxy.http_context import HttpContext
from herdsman.proxy.http_local import ServiceHook, StatsHook
from herdsman.proxy.tcp import TcpStream


class Streams:
    """The stream factories of one running configuration."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        g: GlobalConfig,
        process: ProcessState,
        stats: StatsHook | None = None,
        services: Mapping[str, ServiceHook] | None = None,
    ) -> None:
        self.loop = loop
        self.g = g
        self.process = process
        self.stats = stats
        self.services = services
        self.http: HttpContext | None = None

    def for_frontend(self, fe: ProxyConfig, backend: ProxyConfig | None) -> StreamFactory:
        if fe.mode is Mode.HTTP or (backend is not None and backend.mode is Mode.HTTP):
            if self.http is None:
                self.http = HttpContext(self.loop, self.g, self.process, self.stats, self.services)
            return functools.partial(HttpSession, self.http)
        return TcpStream

    def server_changed(self, srv: Server, event: ServerEvent) -> None:
        """Close ``srv``'s idle connections where 2.6 calls ``srv_cleanup_connections()``
        (server.c): the server enters maintenance, or its address changes."""
        if self.http is None:
            return
        entered_maint = bool(event.admin[1] & MAINT) and not event.admin[0] & MAINT
        if entered_maint or event.detail.startswith("addr "):
            self.http.pools.close(srv)

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
