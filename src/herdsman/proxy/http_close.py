"""How an ``HttpSession`` ends: a graceful close, a soft stop (``mux_h1.c
h1_process()``), an abort, and what the end gives back (the slot, the queue entry,
server connections, the log line, the rules' trackers)."""

from __future__ import annotations

import asyncio

from herdsman.proxy import http_abort, http_rules
from herdsman.proxy.http_state import CLOSED, IDLE, WAITING
from herdsman.proxy.http_txlog import TxLog


class Closing(TxLog):
    """The end of the client connection and of its transaction."""

    __slots__ = ()

    def close(self) -> None:
        if self.phase == CLOSED:
            return
        tr = self.transport
        if (tr is None or tr.is_closing()) and self.phase == WAITING:
            self.gone = True  # a write found the client gone (http_abort.py)
        if tr is not None:
            tr.close()  # flushes what was written
        self._finish()

    def soft_stop(self) -> None:
        """The process is stopping (``mux_h1.c h1_process()``): a keep-alive connection
        waiting for its next request, no byte of it read, closes now, unless
        ``option idle-close-on-response``; every other one ends after its current
        or next response, which announces close (``h1_set_cli_conn_mode()``)."""
        if (
            self.phase == IDLE
            and not self.first
            and not self.buf
            and not self.got_byte
            and not self.fe_http.idle_close_on_response
        ):
            self.close()

    def abort(self) -> None:
        """Kill the client connection and the transaction now (shutdown sessions)."""
        tr = self.transport
        if tr is not None:
            tr.abort()
        self._finish()

    def _finish(self) -> None:
        if self.phase == CLOSED:
            return
        self.phase = CLOSED
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        task = self.task
        if task is not None and not task.done() and task is not asyncio.current_task(self.loop):
            task.cancel()
        self.up.release(keep=False)
        for own in self.private.values():
            own.close()
        self.private.clear()
        if self.gone:
            http_abort.gone(self)
        be = self.backend
        if be is not None:
            self.leave_queue(be)
        srv = self.server
        if srv is not None and be is not None:
            self.server = None
            be.release(srv, self)
        log = self.log
        if log is not None:
            if log.err == "-" and log.fin == "-":  # an abort in the middle of the transaction
                started = self.up.resp is not None
                log.set_term("C" if self.transport is None else "S", "D" if started else "H")
            if self.txn is not None:
                http_rules.count_stream_bytes(self)
            self._log_end(srv)
        if self.txn is not None or self.timer_tarpit is not None:
            http_rules.end(self)  # after the line: its trackers still count (stream_free())
        self.frontend.stream_closed(self)

    def _unlink(self) -> None:
        """The session ended and its client connection is gone: cut the link from its
        upstream back to it, so that reference counting frees both at once; left to
        the cycle collector, a session's dozen objects cost several µs per
        connection (docs/performance.md §7). Not while the connect task runs: its
        coroutine still reads the session through the upstream."""
        task = self.task
        if self.phase != CLOSED or self.transport is not None:
            return
        if task is not None and not task.done():
            return  # left to the collector (a connect the client did not wait for)
        self.task = None
        up = self.up
        if hasattr(up, "s"):
            del up.s
