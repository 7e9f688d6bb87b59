"""``balance first``: a port of ``lb_fas.c``.

Servers are kept by numeric id (``puid``, not declaration order) and the
first one with a free slot wins, so traffic fills servers one after the
other and the last ones can be stopped when idle. Weights are ignored
except that a weight-0 server is not usable. ``lb_fas.c`` is ``lb_fwlc.c``
with another key, so the plumbing is shared with leastconn.
"""

from __future__ import annotations

from typing import ClassVar

from herdsman.lb.base import LbServer, register
from herdsman.lb.fwlc import TreeAlgorithm


class FasAlgorithm(TreeAlgorithm):
    """``balance first`` (``lb_fas.c``)."""

    name: ClassVar[str] = "first"

    def _key(self, srv: LbServer, eweight: int) -> int:
        return srv.puid

    def _accepts(self, srv: LbServer) -> bool:
        """Not full: no maxconn, or an empty queue and room under it."""
        return not self._backend().server_is_full(srv)


register(FasAlgorithm, "first")
