"""``check now``: one check run at once, every step of it reported (a herdsman extension).

The run is the real one (``runner.RunningCheck`` driving ``TcpCheck``), with
the interpreter wrapped so each event it is told (connected, bytes received,
peer closed, error, timeout) and each action it returns (connect, bytes
sent, close, verdict) is written down with the time since the start. The
result is reported, not applied: the server's health counter and state and
the check's schedule are left as they are.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable

from herdsman.checks.actions import Action, Arm, Close, Connect, Done, Send
from herdsman.checks.runner import RunningCheck
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tcpcheck import TcpCheck
from herdsman.defs.proxyproto import SockAddr
from herdsman.defs.rules import Ruleset

SHOWN_BYTES = 128  # bytes of data shown per step in verbose mode


class _Tracing:
    """A ``TcpCheck`` that writes down what it is told and what it answers."""

    def __init__(self, inner: TcpCheck, clock: Callable[[], float], verbose: bool) -> None:
        self.inner = inner
        self.clock = clock
        self.start_t = clock()
        self.verbose = verbose
        self.steps: list[str] = []

    def _note(self, text: str) -> None:
        ms = int((self.clock() - self.start_t) * 1000)
        self.steps.append(f"+{ms}ms {text}")

    def _data(self, verb: str, data: bytes) -> None:
        text = f"{verb} {len(data)} bytes"
        if self.verbose:
            shown = data[:SHOWN_BYTES]
            text += f" {shown!r}" + ("..." if len(data) > SHOWN_BYTES else "")
        self._note(text)

    def _actions(self, actions: list[Action]) -> list[Action]:
        for act in actions:
            if isinstance(act, Connect):
                where = act.host if not act.port else f"{act.host}:{act.port}"
                self._note(f"connect to {where}")
            elif isinstance(act, Send):
                self._data("send", act.data)
            elif isinstance(act, Close):
                self._note("close" + (" (FIN)" if act.linger else ""))
            elif isinstance(act, Done):
                r = act.result
                code = f", code: {r.code}" if r.code is not None else ""
                info = f', info: "{r.desc}"' if r.desc else ""
                self._note(f"verdict {r.status.short} ({r.status.description}){code}{info}")
            elif isinstance(act, Arm) and self.verbose:
                self._note(f"timeout in {act.timeout_ms}ms")
        return actions

    def start(self) -> list[Action]:
        return self._actions(self.inner.start())

    def connected(self, local: SockAddr = None, peer: SockAddr = None) -> list[Action]:
        self._note("connected")
        return self._actions(self.inner.connected(local, peer))

    def received(self, data: bytes) -> list[Action]:
        self._data("received", data)
        return self._actions(self.inner.received(data))

    def peer_closed(self) -> list[Action]:
        self._note("peer closed")
        return self._actions(self.inner.peer_closed())

    def conn_failed(self, err: int) -> list[Action]:
        self._note(f"connection error: {errno.errorcode.get(err, str(err))}")
        return self._actions(self.inner.conn_failed(err))

    def timed_out(self) -> list[Action]:
        self._note("timeout")
        return self._actions(self.inner.timed_out())

    @property
    def needs_addresses(self) -> bool:
        return self.inner.needs_addresses

    @property
    def room(self) -> int:
        return self.inner.room


def probe(
    loop: asyncio.AbstractEventLoop,
    ruleset: Ruleset,
    target: CheckTarget,
    verbose: bool,
    report: Callable[[list[str]], None],
) -> None:
    """Run one check of ``ruleset`` against ``target``; ``report`` gets the steps."""
    run = RunningCheck(loop, ruleset, target, lambda result: _finish(tracer, result, report))
    tracer = _Tracing(run._check, loop.time, verbose)
    run._check = tracer  # type: ignore[assignment]
    loop.call_soon(run.start)


def _finish(tracer: _Tracing, result: CheckResult, report: Callable[[list[str]], None]) -> None:
    code = f", code: {result.code}" if result.code is not None else ""
    tracer.steps.append(
        f"result: {result.status.short} ({result.status.description}){code}, "
        f"check duration: {result.duration_ms}ms"
    )
    report(tracer.steps)
