"""What expressions read of the running objects (``sample/txn.py``'s protocols):
servers, backends and frontends through narrow views, the process as a
``World``; ``proxy/routing.py``'s ``Router`` builds them once per
configuration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from herdsman.config.model import ProxyConfig
from herdsman.core.backend import Backend, Server
from herdsman.core.clock import Clock
from herdsman.sample.txn import ServerView
from herdsman.sample.types import Value


class SrvView:
    __slots__ = ("srv", "name", "puid")

    def __init__(self, srv: Server) -> None:
        self.srv = srv
        self.name = srv.name
        self.puid = srv.puid

    def is_up(self) -> bool:
        return self.srv.is_up

    def cur_sess(self) -> int:
        return self.srv.served

    def queued(self) -> int:
        return self.srv.nbpend

    def weights(self) -> tuple[int, int, int]:
        s = self.srv
        return s.eweight, s.iweight, s.uweight


class BeView:
    __slots__ = ("be", "name", "uuid", "_views")

    def __init__(self, be: Backend, views: dict[int, SrvView]) -> None:
        self.be = be
        self.name = be.name
        self.uuid = be.cfg.uuid
        self._views = views

    def beconn(self) -> int:
        return self.be.beconn

    def usable(self) -> int:
        """``be_usable_srv()``"""
        be = self.be
        if be.srv_act:
            return be.srv_act
        return 1 if be.fbck is not None else be.srv_bck

    def totpend(self) -> int:
        be = self.be
        return be.queue.length + sum(s.nbpend for s in be.servers)

    def servers(self) -> list[ServerView]:
        return [self._views[id(s)] for s in self.be.servers]

    def server(self, name: str) -> ServerView | None:
        srv = self.be.find(name)
        return self._views[id(srv)] if srv is not None else None

    def connslots(self) -> int:
        """``smp_fetch_connslots()``"""
        total = 0
        for s in self.be.servers:
            if not s.is_up:
                continue
            if not s.maxconn or not s.maxqueue:
                return -1
            total += (s.maxconn - s.served) + (s.maxqueue - s.nbpend)
        return total


class FeView:
    __slots__ = ("state", "name", "uuid")

    def __init__(self, state: Any, cfg: ProxyConfig) -> None:
        self.state = state
        self.name = cfg.name
        self.uuid = cfg.uuid

    def feconn(self) -> int:
        return int(self.state.feconn)


class World:
    """The process as expressions see it."""

    def __init__(self, clock: Clock, stopping: Callable[[], bool]) -> None:
        self.clock = clock
        self._stopping = stopping
        self.proc_vars: dict[str, Value] = {}
        self.now_ms = clock.now_ms  # one call less for every counter and rate

    def stopping(self) -> bool:
        return self._stopping()


__all__ = ["BeView", "FeView", "SrvView", "World"]
