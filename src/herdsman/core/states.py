"""A server's two state variables (``include/haproxy/server-t.h``, spec §11.1).

An operational state (``SrvState``: what checks and tracking say) and a set of
administrative flags (``SrvAdmin``: what the operator and start-up say). Each
has a current and a next value; ``core/transitions.py`` sets the next one and
commits it.
"""

from __future__ import annotations

import enum


class SrvState(enum.IntEnum):
    STOPPED = 0
    STARTING = 1
    RUNNING = 2
    STOPPING = 3


class SrvAdmin(enum.IntFlag):
    NONE = 0
    FMAINT = 0x01  # forced by the operator (or "disabled" at start-up)
    IMAINT = 0x02  # inherited from a tracked server
    CMAINT = 0x04  # set by the configuration ("disabled")
    FDRAIN = 0x08  # forced drain
    IDRAIN = 0x10  # inherited drain
    RMAINT = 0x20  # the address does not resolve
    HMAINT = 0x40  # hostname changed at run time (resolvers)


MAINT = SrvAdmin.FMAINT | SrvAdmin.IMAINT | SrvAdmin.RMAINT
DRAIN = SrvAdmin.FDRAIN | SrvAdmin.IDRAIN
# plain ints: IntFlag operators are slow, and usability is tested on every pick
NOT_LB = int(MAINT | DRAIN)
LB_STATES = (SrvState.STARTING, SrvState.RUNNING)
