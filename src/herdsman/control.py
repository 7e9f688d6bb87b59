"""The runtime API's ``Operator``: the commands that reach checks, listeners and streams.

``admin/`` may not import ``proxy/`` or ``checks/``; the runtime gives the
API this object instead (``admin/api/operator.py`` says what each method
does). It only calls what those packages already offer: the check service
creates and runs checks, a frontend pauses, resumes or stops its listeners,
a stream aborts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from herdsman.admin.api.operator import StreamInfo
from herdsman.checks.probe import probe
from herdsman.checks.service import CheckService
from herdsman.core.backend import Server
from herdsman.core.tasks import spawn
from herdsman.proxy.frontend import Frontend


class RuntimeOperator:
    """What the commands do to a running ``Herdsman``."""

    def __init__(
        self,
        frontends: list[Frontend],
        checks: CheckService,
        loop: Callable[[], asyncio.AbstractEventLoop | None],
    ) -> None:
        self.frontends = frontends
        self.checks = checks
        self.loop = loop

    def _fe(self, name: str) -> Frontend | None:
        return next((fe for fe in self.frontends if fe.name == name), None)

    def attach_checks(self, srv: Server) -> None:
        self.checks.add_server(srv)

    def detach_checks(self, srv: Server) -> None:
        self.checks.remove_server(srv)

    def pause_frontend(self, name: str) -> None:
        fe = self._fe(name)
        if fe is not None:
            fe.pause_admin()

    def resume_frontend(self, name: str) -> None:
        fe = self._fe(name)
        loop = self.loop()
        if fe is not None and loop is not None:
            spawn(loop, fe.resume_admin())

    def stop_frontend(self, name: str) -> None:
        fe = self._fe(name)
        if fe is not None:
            fe.stop_listening()

    def _streams(self) -> list[tuple[Frontend, object]]:
        return [(fe, st) for fe in self.frontends for st in fe.streams]

    def streams(self) -> list[StreamInfo]:
        loop = self.loop()
        now = loop.time() if loop is not None else 0.0
        out = []
        for fe, st in self._streams():
            peer = getattr(st, "peer_addr", None)
            if isinstance(peer, tuple) and len(peer) >= 2:
                proto = "tcpv6" if ":" in str(peer[0]) else "tcpv4"
                src = f"{peer[0]}:{peer[1]}"
            else:
                proto = "unix_stream"
                lst = getattr(st, "listener", None)
                src = f"unix:{fe.listeners.index(lst) + 1 if lst in fe.listeners else 0}"
            be = getattr(st, "backend", None)
            srv = getattr(st, "server", None)
            accepted = getattr(st, "accepted", now)
            out.append(
                StreamInfo(
                    ident=id(st),
                    proto=proto,
                    src=src,
                    frontend=fe.name,
                    backend=be.name if be is not None else "<NONE>",
                    server=srv.name if srv is not None else "<none>",
                    age_s=int(now - accepted),
                )
            )
        return out

    def kill_stream(self, ident: int) -> bool:
        for _, st in self._streams():
            if id(st) == ident:
                st.abort()  # type: ignore[attr-defined]
                return True
        return False

    def check_now(self, srv: Server, verbose: bool, report: Callable[[list[str]], None]) -> None:
        loop = self.loop()
        chk = srv.check
        if loop is None or chk is None:
            report(["no check runner in this process"])
            return
        probe(loop, chk.ruleset, self.checks.target(chk), verbose, report)
