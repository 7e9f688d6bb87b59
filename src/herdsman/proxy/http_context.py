"""What every HTTP session of a process shares: buffer limits, each proxy's HTTP
settings (computed once), the servers' idle connection pools.

Built by ``proxy/modes.py`` when the first HTTP frontend is created; who
closes what: ``close()`` closes every idle server connection (process stop).
"""

from __future__ import annotations

import asyncio

from herdsman.config.model import GlobalConfig, ProxyConfig
from herdsman.core.registry import ProcessState
from herdsman.proxy import http_settings
from herdsman.proxy.http_local import StatsHook
from herdsman.proxy.http_server import Pools
from herdsman.proxy.routing import Router


class HttpContext:
    """Shared by the HTTP sessions of one running configuration."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        g: GlobalConfig,
        process: ProcessState,
        stats: StatsHook | None = None,
    ) -> None:
        self.stats = stats  # the stats page service, when some proxy has "stats"
        self.limits = http_settings.limits(g)
        self.logurilen = g.tune_http_logurilen  # the request line in traffic logs, NUL included
        self.process = process
        self.pools = Pools(loop)
        self._front: dict[int, http_settings.FrontHttp] = {}
        self._back: dict[int, http_settings.BackHttp] = {}
        self.router: Router | None = None  # the rules (proxy/routing.py), set by the runtime

    def front(self, px: ProxyConfig) -> http_settings.FrontHttp:
        found = self._front.get(id(px))
        if found is None:
            found = self._front[id(px)] = http_settings.front(px)
        return found

    def back(self, px: ProxyConfig) -> http_settings.BackHttp:
        found = self._back.get(id(px))
        if found is None:
            found = self._back[id(px)] = http_settings.back(px)
        return found

    def close(self) -> None:
        self.pools.close_all()
