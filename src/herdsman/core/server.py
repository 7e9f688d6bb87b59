"""Runtime servers: one object holds a server's state, weights, limits and counters.

Rule 1: everything that reads server state (checks, the balancer, the data
path, later the runtime API and stats) reads it here; everything that changes
the operational or administrative state goes through ``core/transitions.py``,
which keeps the balancer, trackers and logs in step (HAProxy's
``srv_update_status()``).

Rule 2: the state is plain data (ints, enums, counters), so it can later be
shared with worker processes or dumped by ``show servers state``.

States follow ``include/haproxy/server-t.h`` (spec §11.1): an operational state
(``SrvState``) and a set of administrative flags (``SrvAdmin``). As in HAProxy
2.6, each has a current and a next value; transitions set the next value and
commit it.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from herdsman.config.model import Address, ServerConfig

if TYPE_CHECKING:
    from herdsman.checks.check import Check
    from herdsman.core.backend import Backend


class SrvState(enum.IntEnum):
    STOPPED = 0
    STARTING = 1
    RUNNING = 2
    STOPPING = 3


class SrvAdmin(enum.IntFlag):
    NONE = 0
    FMAINT = 0x01
    IMAINT = 0x02
    CMAINT = 0x04
    FDRAIN = 0x08
    IDRAIN = 0x10
    RMAINT = 0x20
    HMAINT = 0x40


MAINT = SrvAdmin.FMAINT | SrvAdmin.IMAINT | SrvAdmin.RMAINT
DRAIN = SrvAdmin.FDRAIN | SrvAdmin.IDRAIN
# plain int: IntFlag operators are slow, and usability is tested on every pick
_NOT_LB = int(MAINT | DRAIN)
_LB_STATES = (1, 2)  # SrvState.STARTING, SrvState.RUNNING


class Server:
    """A backend server at run time (``struct server``)."""

    def __init__(self, backend: Backend, cfg: ServerConfig) -> None:
        assert cfg.addr is not None
        self.backend = backend
        self.cfg = cfg
        self.name = cfg.name
        self.puid = cfg.puid
        self.backup = cfg.backup
        self.addr: Address = cfg.addr
        # operational and administrative state (spec §11.1)
        self.cur_state = SrvState.RUNNING
        self.next_state = SrvState.RUNNING
        self.cur_admin = SrvAdmin.NONE
        self.next_admin = SrvAdmin.NONE
        self.last_change = 0  # seconds (clock.now_s)
        self.down_time = 0
        # weights (spec §12.1): user scale and the algorithm's scale
        self.uweight = cfg.weight
        self.iweight = cfg.weight
        self.eweight = 0
        self.lb: Any = None  # the balancing algorithm's per-server slot
        self.lb_usable = False  # whether the algorithm currently holds the server
        self.lb_eweight = 0  # the eweight the algorithm last saw
        self.cumulative_weight = 0
        # limits (spec §2; enforced by a later feature)
        self.maxconn = cfg.maxconn
        self.minconn = cfg.minconn
        self.maxqueue = cfg.maxqueue
        # live traffic
        self.served = 0  # connections currently assigned
        self.nbpend = 0  # queued streams
        self.streams: set[Any] = set()  # live connections (for shutdown-sessions)
        # counters (stats names)
        self.cum_sess = 0
        self.failed_conns = 0  # econ
        self.retries = 0  # wretr
        self.redispatches = 0  # wredis
        self.bytes_in = 0
        self.bytes_out = 0
        self.failed_checks = 0  # chkfail
        self.down_trans = 0  # chkdown
        self.failed_hana = 0  # hanafail
        self.consecutive_errors = 0
        # checks and tracking
        self.check: Check | None = None
        self.agent: Check | None = None
        self.track: Server | None = None
        self.trackers: list[Server] = []
        self.adm_cause = ""  # adm_st_chg_cause
        # pending operational change report (op_st_chg)
        self.chg_reason = ""
        self.chg_status = -1
        self.chg_code = 0
        self.chg_duration = -1

    def __repr__(self) -> str:
        return f"<Server {self.backend.name}/{self.name} {self.cur_state.name} {self.cur_admin!r}>"

    @property
    def id(self) -> str:
        return f"{self.backend.name}/{self.name}"

    def willbe_usable(self) -> bool:
        """``srv_willbe_usable()``: may the balancer pick this server (spec §11.1)?"""
        if not self.eweight or self.next_admin.value & _NOT_LB:
            return False
        return self.next_state in _LB_STATES

    def is_usable(self) -> bool:
        """``srv_currently_usable()``."""
        if not self.eweight or self.cur_admin.value & _NOT_LB:
            return False
        return self.cur_state in _LB_STATES

    @property
    def in_maint(self) -> bool:
        return bool(self.cur_admin & MAINT)

    @property
    def is_up(self) -> bool:
        """UP as the data path sees it: not DOWN and not in maintenance."""
        return self.cur_state is not SrvState.STOPPED and not self.cur_admin & MAINT
