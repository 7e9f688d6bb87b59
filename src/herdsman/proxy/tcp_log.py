"""The traffic log line of a TCP stream (``proxy/tcp.py``): its record
(``core/streamlog.py``) fills as the stream goes; the line is written once the
stream has left its backend and server (``%bc``/``%sc`` no longer count it,
``%fc``/``%ac`` still do). Once per stream, so the stream is read through a
Protocol."""

from __future__ import annotations

import asyncio
from typing import Protocol

from herdsman.core.backend import Backend, Server
from herdsman.core.streamlog import StreamLog
from herdsman.proxy.frontend import Frontend
from herdsman.sample.txn import Txn

__all__ = ["Ended", "end", "ms"]


class Ended(Protocol):
    """What the line reads of the stream."""

    frontend: Frontend
    loop: asyncio.AbstractEventLoop
    accepted: float
    backend: Backend | None
    retries: int
    redispatched: bool
    queue_pos: tuple[int, int]
    assigned_at: float
    txn: Txn | None


def ms(accepted: float, at: float) -> int:
    """Milliseconds from the accept to ``at`` (-1 for a step not reached)."""
    return int((at - accepted) * 1000) if at >= 0 else -1


def end(s: Ended, log: StreamLog, srv: Server | None) -> None:
    """The line, when the frontend logs (else the record was kept for the
    trackers' bytes only)."""
    fe = s.frontend
    if fe.traffic_log is None:
        return
    log.t_close = ms(s.accepted, s.loop.time())
    log.backend = s.backend
    log.server = srv
    log.retries = s.retries
    log.redispatched = s.redispatched
    log.srv_queue_pos, log.prx_queue_pos = s.queue_pos
    if log.t_queue < 0 and s.assigned_at >= 0:
        log.t_queue = ms(s.accepted, s.assigned_at)
    if s.txn is not None and fe.router is not None:
        log.txn = fe.router.at_log(s.txn, s.backend, srv)
    fe.traffic_log(log)
