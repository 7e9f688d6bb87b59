"""Proxies under test: ``run(raw_request_bytes, scripted_replies) -> Outcome``.

* ``HaproxyRunner``: the real haproxy 2.6.12 in ``mode http`` (default
  keep-alive mode, no ``option forwardfor``), each case on a fresh client
  connection to its own ``listen`` slot, in front of a recording backend;
  several slots run cases concurrently.
* ``EngineRunner``: herdsman's sans-IO engine driven by ``driver.run_engine``.

A third runner (herdsman's real proxy) only has to implement ``Runner``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from herdsman.http import DEFAULT_LIMITS, Limits
from herdsman.testing import Haproxy, free_port, running

from .backend import RecordingBackend, Reply
from .driver import run_engine
from .outcome import Outcome, outcome

# Short timeouts so that a case that waits for one ends quickly; see driver.py
# for how each is modelled.
TIMEOUTS = """\
    timeout connect 1s
    timeout client 2s
    timeout server 500ms
    timeout http-request 200ms
    timeout http-keep-alive 50ms
"""


class Runner(Protocol):
    name: str

    async def run(self, request: bytes, replies: Sequence[Reply]) -> Outcome: ...


class EngineRunner:
    name = "engine"

    def __init__(
        self, lenient: bool = False, limits: Limits = DEFAULT_LIMITS, any_payload: bool = False
    ) -> None:
        self.lenient = lenient
        self.limits = limits
        self.any_payload = any_payload

    async def run(self, request: bytes, replies: Sequence[Reply]) -> Outcome:
        return run_engine(
            request,
            list(replies),
            lenient=self.lenient,
            limits=self.limits,
            any_payload=self.any_payload,
        )


class HaproxyRunner:
    name = "haproxy"

    def __init__(self, slots: list[tuple[int, RecordingBackend]]) -> None:
        self._free: asyncio.Queue[tuple[int, RecordingBackend]] = asyncio.Queue()
        for slot in slots:
            self._free.put_nowait(slot)

    async def run(self, request: bytes, replies: Sequence[Reply]) -> Outcome:
        port, backend = await self._free.get()
        try:
            backend.arm(list(replies))
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            await writer.drain()
            received = bytearray()
            async with asyncio.timeout(10):
                while data := await reader.read(65536):
                    received += data
            writer.close()
            await backend.wait_idle(5)
            return outcome(bytes(received), list(backend.received))
        finally:
            self._free.put_nowait((port, backend))


@contextlib.asynccontextmanager
async def haproxy_runner(
    slots: int = 8, extra: str = "", global_extra: str = ""
) -> AsyncIterator[HaproxyRunner]:
    """One haproxy with ``slots`` listen sections, each with its recording backend;
    ``extra`` goes in ``defaults``, ``global_extra`` in ``global``."""
    backends = [await RecordingBackend().start(free_port()) for _ in range(slots)]
    ports = [free_port() for _ in range(slots)]
    text = "global\n" + global_extra + "defaults\n    mode http\n" + TIMEOUTS
    text += "    http-reuse never\n" + extra
    for i, (port, be) in enumerate(zip(ports, backends, strict=True)):
        text += f"listen s{i}\n    bind 127.0.0.1:{port}\n    server b 127.0.0.1:{be.port}\n"
    proxy = Haproxy(text)
    try:
        await asyncio.to_thread(proxy.start, ports[-1])
        yield HaproxyRunner(list(zip(ports, backends, strict=True)))
    finally:
        if proxy.proc is not None:
            proxy.stop()
        for be in backends:
            await be.close()


class HerdsmanRunner(HaproxyRunner):
    """herdsman's proxy, in this process, configured as ``haproxy_runner`` configures haproxy."""

    name = "herdsman"


@contextlib.asynccontextmanager
async def herdsman_runner(slots: int = 8, extra: str = "") -> AsyncIterator[HerdsmanRunner]:
    backends = [await RecordingBackend().start(free_port()) for _ in range(slots)]
    ports = [free_port() for _ in range(slots)]
    text = "defaults\n    mode http\n" + TIMEOUTS + "    http-reuse never\n" + extra
    for i, (port, be) in enumerate(zip(ports, backends, strict=True)):
        text += f"listen s{i}\n    bind 127.0.0.1:{port}\n    server b 127.0.0.1:{be.port}\n"
    try:
        async with running(text):
            yield HerdsmanRunner(list(zip(ports, backends, strict=True)))
    finally:
        for be in backends:
            await be.close()
