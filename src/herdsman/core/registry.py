"""Every runtime object of one configuration, as its views read them.

The runtime API, the stats page and Prometheus (``admin/``) read this: the
backends with their servers, the frontends' state and the process's. The
data path's frontends *are* ``FrontendState``s (they extend it), so a view
reads live values without importing the data path, and a future worker
process can receive the same plain fields.
"""

from __future__ import annotations

from herdsman.config.model import ProxyConfig
from herdsman.core.backend import Backend
from herdsman.core.clock import Clock, MonotonicClock
from herdsman.core.counters import FeCounters, FreqCtr, ProcessCounters, count_accept


class FrontendState:
    """A proxy with frontend capability, as views see it (``struct proxy``'s frontend side)."""

    def __init__(self, cfg: ProxyConfig, maxconn: int, clock: Clock | None = None) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.clock: Clock = clock or MonotonicClock()
        self.maxconn = maxconn  # frontend maxconn, defaulting to the global one
        self.feconn = 0  # connections currently counted against maxconn
        self.counters = FeCounters()
        self.stopping = False  # soft stop: no longer listening
        self.admin_paused = False  # SIGTTOU / disable frontend: only resume accepts again
        # "rate-limit sessions": the proxy's own counter (fe_sess_per_sec), which
        # "clear counters all" does not reset, unlike the stats' sess_per_sec
        self.sps_lim = cfg.rate_limit_sessions
        self.sess_rate = FreqCtr()

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.feconn >= self.maxconn

    def count_conn(self) -> None:
        """A connection now counts against ``maxconn`` (accepted, or taken from hold):
        ``proxy_inc_fe_conn_ctr()``."""
        self.feconn += 1
        c = self.counters
        c.cum_conn += 1
        if self.feconn > c.conn_max:
            c.conn_max = self.feconn
        count = c.conn_per_sec.add(self.clock.now_ms())
        if count > c.cps_max:
            c.cps_max = count

    def count_sess(self) -> None:
        """The connection became a session: the ``tcp-request connection`` and
        ``session`` rules, and a PROXY header or a TLS handshake, let it through
        (``session_count_new()``; a rejected one counts ``dcon``/``dses`` instead,
        and not against ``rate-limit sessions``)."""
        c = self.counters
        c.cum_sess += 1
        now = self.clock.now_ms()
        count = c.sess_per_sec.add(now)
        if count > c.sps_max:
            c.sps_max = count
        if self.sps_lim:
            self.sess_rate.add(now)

    def accept_delay(self, process: ProcessState) -> int:
        """ms before this frontend may accept again under the rate limits, 0 now.

        ``listener_accept()``'s order: global ``maxsessrate``, global
        ``maxconnrate``, then the frontend's ``rate-limit sessions`` (spec §2.2).
        Each limit is a one-second sliding window (``freq_ctr_remain()``).
        """
        if not (process.sps_lim or process.cps_lim or self.sps_lim):
            return 0
        now = self.clock.now_ms()
        pc = process.counters
        for ctr, lim in (
            (pc.sess_per_sec, process.sps_lim),
            (pc.conn_per_sec, process.cps_lim),
            (self.sess_rate, self.sps_lim),
        ):
            if lim and not ctr.remain(now, lim):
                return ctr.next_event_delay(now, lim)
        return 0


class ProcessState:
    """Process-wide accounting (``actconn`` against global ``maxconn``, ``show info``).

    ``hard_maxconn`` is the limit at start-up: ``set maxconn global`` may
    only lower it (spec §2.1).
    """

    def __init__(self, maxconn: int, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or MonotonicClock()
        self.maxconn = maxconn
        self.hard_maxconn = maxconn
        self.actconn = 0
        self.counters = ProcessCounters()
        self.cps_lim = 0  # maxconnrate / set rate-limit connections global
        self.sps_lim = 0  # maxsessrate / set rate-limit sessions global

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.actconn >= self.maxconn

    def count_conn(self) -> None:
        self.actconn += 1
        c = self.counters
        c.cum_conn += 1
        c.cum_sess += 1
        if self.actconn > c.conn_max:
            c.conn_max = self.actconn
        count_accept(c, self.clock.now_ms())


class Registry:
    """The backends, frontends and process state of one running configuration."""

    def __init__(self, maxconn: int, clock: Clock | None = None) -> None:
        self.backends: dict[str, Backend] = {}
        self.frontends: dict[str, FrontendState] = {}
        self.process = ProcessState(maxconn, clock)
