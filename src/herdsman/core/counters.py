"""Traffic counters, as plain fields a stats view reads without knowing the data path.

HAProxy's ``struct fe_counters`` and ``struct be_counters`` (``counters-t.h``),
named after the stats columns they feed (spec §13.2). The data path updates
them as traffic flows: bytes on every transfer, sessions when they start,
errors when they happen, so ``show stat`` is right while a connection lives.
A per-byte or per-chunk counter costs one attribute increment; the rates and
time averages are updated once per connection, where the clock is read anyway.

Two accumulators of HAProxy's, reproduced exactly because the views print them:

* ``FreqCtr`` (``freq_ctr.h``): events in the current one-second period and
  in the previous one; the rate read at time *t* weighs the previous period
  by what remains of it (``freq_ctr_total()``), and ``*_max`` columns keep
  the highest count of a current period (the value ``update_freq_ctr()``
  returns).
* ``swrate_add_dynamic()``/``swrate_avg()``: the sliding sum behind
  ``qtime``/``ctime``/``rtime``/``ttime``, averaged over the last 1024
  samples (``TIME_STATS_SAMPLES``), or over fewer while fewer were seen.

Live gauges that the balancer or the accept limits also read (a server's
``served`` and ``nbpend``, a backend's ``beconn``, a frontend's ``feconn``,
the process's ``actconn``) live on their objects, not here.

``clear()`` implements ``clear counters [all]``: without ``all`` only the
maxima are reset. It resets in place: streams hold references to these
objects.
"""

from __future__ import annotations

from typing import Final

TIME_STATS_SAMPLES: Final = 1024
PERIOD_MS: Final = 1000


class FreqCtr:
    """A one-second frequency counter (``struct freq_ctr``)."""

    __slots__ = ("tick", "curr", "prev")

    def __init__(self) -> None:
        self.tick = 0  # start of the current period (clock ms)
        self.curr = 0
        self.prev = 0

    def add(self, now_ms: int, inc: int = 1) -> int:
        """``update_freq_ctr()``: count ``inc`` events; returns the current period's count."""
        if now_ms - self.tick < PERIOD_MS:
            self.curr += inc
            return self.curr
        self.prev = self.curr
        self.curr = inc
        self.tick += PERIOD_MS
        if now_ms - self.tick >= PERIOD_MS:  # at least two periods were missed
            self.prev = 0
            self.tick = now_ms
        return inc

    def _window(self, now_ms: int) -> tuple[int, int, int]:
        """(past, curr, remain) as ``freq_ctr_total()`` sees them at ``now_ms``."""
        curr, past = self.curr, self.prev
        remain = self.tick + PERIOD_MS - now_ms
        if remain < 0:
            remain += PERIOD_MS
            past = curr if remain >= 0 else 0
            curr = 0
        return past, curr, remain

    def read(self, now_ms: int) -> int:
        """``read_freq_ctr()``: events per second, the past period weighed by what remains."""
        past, curr, remain = self._window(now_ms)
        if not curr and past <= 1:  # flapping correction at very low rates
            return past
        return (past * remain + curr * PERIOD_MS) // PERIOD_MS

    def total(self, now_ms: int, pend: int = 0) -> int:
        """``freq_ctr_total()`` with ``pend`` >= 0: events over the sliding second, times 1000."""
        past, curr, remain = self._window(now_ms)
        return past * remain + (curr + pend) * PERIOD_MS

    def remain(self, now_ms: int, freq: int, pend: int = 0) -> int:
        """``freq_ctr_remain()``: how many more events ``freq`` per second allows now."""
        return freq - min(self.total(now_ms, pend) // PERIOD_MS, freq)

    def next_event_delay(self, now_ms: int, freq: int, pend: int = 0) -> int:
        """``next_event_delay()``: ms to wait before the next event respects ``freq``
        (0: now; else at least 1, rounded down as HAProxy does)."""
        total = self.total(now_ms, pend)
        limit = freq * PERIOD_MS
        if total < limit:
            return 0
        return max((total - limit) // (freq or 1), 1)

    def reset(self) -> None:
        self.tick = self.curr = self.prev = 0


def swrate_add_dynamic(total: int, n: int, value: int) -> int:
    """``swrate_add_dynamic()``: the new sliding sum after one sample (``n`` 0: no decay yet)."""
    return (total - ((total + n - 1) // n if n else 0) + value) & 0xFFFFFFFF


def swrate_avg(total: int, n: int) -> int:
    """``swrate_avg()``: the average of a sliding sum over ``n`` samples."""
    return (total + n - 1) // n


def samples_window(samples: int) -> int:
    """The ``n`` of ``swrate_avg()`` for a view: 1024, or fewer while fewer were seen."""
    return samples if 0 < samples < TIME_STATS_SAMPLES else TIME_STATS_SAMPLES


class FeCounters:
    """Per frontend (and per listen section's frontend side)."""

    __slots__ = (
        "cum_conn",  # conn_tot: accepted connections
        "cum_sess",  # stot: sessions (connections that passed tcp-request connection)
        "conn_max",  # smax: highest feconn seen
        "bytes_in",  # bin: from clients
        "bytes_out",  # bout: to clients
        "denied_conn",  # dcon
        "denied_sess",  # dses
        "denied_req",  # dreq
        "denied_resp",  # dresp
        "failed_req",  # ereq: invalid requests, client-side errors
        "intercepted_req",  # intercepted: answered by herdsman itself (stats, monitor-uri...)
        "cum_req",  # req_tot (HTTP)
        "http_rsp",  # hrsp_1xx .. hrsp_5xx, hrsp_other (HTTP)
        "sess_per_sec",  # rate
        "conn_per_sec",  # conn_rate
        "req_per_sec",  # req_rate (HTTP)
        "sps_max",  # rate_max
        "cps_max",  # conn_rate_max
        "rps_max",  # req_rate_max (HTTP)
    )

    def __init__(self) -> None:
        self.sess_per_sec = FreqCtr()
        self.conn_per_sec = FreqCtr()
        self.req_per_sec = FreqCtr()
        self.clear(True)

    def clear(self, everything: bool) -> None:
        self.conn_max = self.sps_max = self.cps_max = self.rps_max = 0
        if not everything:
            return
        self.cum_conn = self.cum_sess = 0
        self.bytes_in = self.bytes_out = 0
        self.denied_conn = self.denied_sess = self.denied_req = self.denied_resp = 0
        self.failed_req = self.intercepted_req = self.cum_req = 0
        self.http_rsp = [0] * 6
        self.sess_per_sec.reset()
        self.conn_per_sec.reset()
        self.req_per_sec.reset()


class BeCounters:
    """Per backend and per server (``be_counters``)."""

    __slots__ = (
        "cum_conn",  # stot of a backend: streams that entered it
        "cum_sess",  # stot of a server: streams it served; a backend's: streams given a server
        "cum_lbconn",  # lbtot: times the balancer (or persistence) chose it
        "sess_max",  # smax: highest concurrent streams
        "nbpend_max",  # qmax: highest queue length
        "bytes_in",  # bin: from clients (to servers)
        "bytes_out",  # bout: to clients (from servers)
        "failed_conns",  # econ: connection attempts that failed
        "failed_resp",  # eresp: server-side errors
        "retries",  # wretr
        "redispatches",  # wredis
        "cli_aborts",  # cli_abrt
        "srv_aborts",  # srv_abrt
        "denied_req",  # dreq
        "denied_resp",  # dresp
        "connect",  # connect: server connections established
        "reuse",  # reuse: idle server connections reused (HTTP)
        "cum_req",  # req_tot (HTTP)
        "http_rsp",  # hrsp_* (HTTP)
        "failed_checks",  # chkfail (server)
        "failed_hana",  # hanafail (server)
        "down_trans",  # chkdown: transitions to DOWN
        "last_sess",  # clock seconds of the last stream assigned, -1: never
        "sess_per_sec",  # rate
        "sps_max",  # rate_max
        "q_time",  # qtime, ctime, rtime, ttime: sliding sums (swrate)
        "c_time",
        "d_time",
        "t_time",
        "qtime_max",  # qtime_max .. ttime_max
        "ctime_max",
        "dtime_max",
        "ttime_max",
    )

    def __init__(self) -> None:
        self.sess_per_sec = FreqCtr()
        self.clear(True)

    def clear(self, everything: bool) -> None:
        self.sess_max = self.nbpend_max = self.sps_max = 0
        self.qtime_max = self.ctime_max = self.dtime_max = self.ttime_max = 0
        if not everything:
            return
        self.cum_conn = self.cum_sess = self.cum_lbconn = 0
        self.bytes_in = self.bytes_out = 0
        self.failed_conns = self.failed_resp = self.retries = self.redispatches = 0
        self.cli_aborts = self.srv_aborts = self.denied_req = self.denied_resp = 0
        self.connect = self.reuse = self.cum_req = 0
        self.http_rsp = [0] * 6
        self.failed_checks = self.failed_hana = self.down_trans = 0
        self.last_sess = -1
        self.q_time = self.c_time = self.d_time = self.t_time = 0
        self.sess_per_sec.reset()

    def add_session(self, now_ms: int, current: int) -> None:
        """A stream was given to this server (or backend), which now has
        ``current`` (``srv_inc_sess_ctr()``, ``proxy_inc_be_ctr()``): the total,
        the last one's date, the highest concurrency, the rate and its maximum."""
        self.cum_sess += 1
        self.last_sess = now_ms // 1000
        if current > self.sess_max:
            self.sess_max = current
        ctr = self.sess_per_sec
        if now_ms - ctr.tick < PERIOD_MS:  # FreqCtr.add()'s common case, once per stream
            ctr.curr += 1
            count = ctr.curr
        else:
            count = ctr.add(now_ms)
        if count > self.sps_max:
            self.sps_max = count

    def add_times(self, connect_ms: int, total_ms: int) -> None:
        """``stream_update_time_stats()`` for a TCP stream: no queue, data = connect."""
        n = self.cum_lbconn
        window = TIME_STATS_SAMPLES if n > TIME_STATS_SAMPLES else 0
        self.q_time = swrate_add_dynamic(self.q_time, window, 0)
        self.c_time = swrate_add_dynamic(self.c_time, window, connect_ms)
        self.d_time = swrate_add_dynamic(self.d_time, window, 0)
        self.t_time = swrate_add_dynamic(self.t_time, window, total_ms)
        if connect_ms > self.ctime_max:
            self.ctime_max = connect_ms
        if total_ms > self.ttime_max:
            self.ttime_max = total_ms


def count_accept(c: ProcessCounters, now_ms: int) -> None:
    """An accepted connection: ``listener_accept()`` counts the process's connection
    and session rates before any rule (a frontend counts its session rate once
    its rules let the connection through: ``FrontendState.count_sess()``)."""
    count = c.conn_per_sec.add(now_ms)
    if count > c.cps_max:
        c.cps_max = count
    count = c.sess_per_sec.add(now_ms)
    if count > c.sps_max:
        c.sps_max = count


class ProcessCounters:
    """Process-wide (``show info``)."""

    __slots__ = (
        "cum_conn",  # CumConns
        "cum_sess",
        "cum_req",  # CumReq
        "conn_max",
        "conn_per_sec",  # ConnRate
        "sess_per_sec",  # SessRate
        "cps_max",  # MaxConnRate
        "sps_max",  # MaxSessRate
    )

    def __init__(self) -> None:
        self.conn_per_sec = FreqCtr()
        self.sess_per_sec = FreqCtr()
        self.cum_conn = self.cum_sess = self.cum_req = 0
        self.clear(True)

    def clear(self, everything: bool) -> None:
        """``clear counters``: the process maxima (HAProxy keeps its totals even with ``all``)."""
        self.conn_max = self.cps_max = self.sps_max = 0
