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
from herdsman.core.counters import FeCounters, ProcessCounters, count_accept


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

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.feconn >= self.maxconn

    def count_conn(self) -> None:
        """A connection now counts against ``maxconn`` (accepted, or taken from hold)."""
        self.feconn += 1
        c = self.counters
        c.cum_conn += 1
        c.cum_sess += 1
        if self.feconn > c.conn_max:
            c.conn_max = self.feconn
        count_accept(c, self.clock.now_ms())


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
        self.cps_lim = 0  # set rate-limit connections global
        self.sps_lim = 0  # set rate-limit sessions global

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
