"""The load-balancing interface, mirroring HAProxy's ``struct lbprm`` callbacks.

Rule 1: algorithms do no I/O and never read a clock. Everything time-dependent
(slowstart, the dynamic maxconn) is computed by ``core`` and reaches an
algorithm only through ``LbServer.eweight`` and ``LbBackend.server_is_full()``.
That keeps them deterministic, so tests can compare their pick sequences with
the ones the real HAProxy 2.6.12 produced (``spec/observed-2.6.12-server-lb.md``).

Rule 2: ``core`` owns server state. It tells an algorithm about changes through
exactly three calls, after updating the server and recounting the backend:

* ``set_server_up(srv)``: the server became usable (``srv_willbe_usable()``);
* ``set_server_down(srv)``: it stopped being usable;
* ``update_server_eweight(srv)``: it stays usable but ``srv.eweight`` changed.

An algorithm may keep per-server data in ``srv.lb`` (one slot, owned by the
algorithm of the server's backend) and must not touch other server fields.

Rule 3: ``take_conn``/``drop_conn`` are called when a connection is assigned
to / released from a server (after ``served`` changed); only leastconn-like
algorithms care.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Protocol

# BE_WEIGHT_SCALE (spec §12.1): dynamic algorithms work on uweight * 16.
BE_WEIGHT_SCALE: Final = 16
SRV_UWGHT_MAX: Final = 256
SRV_EWGHT_MAX = SRV_UWGHT_MAX * BE_WEIGHT_SCALE


class LbServer(Protocol):
    """What an algorithm may read from a server."""

    name: str
    puid: int  # numeric id: ordering for "first", ring placement for chash
    backup: bool
    uweight: int  # user weight 0..256
    iweight: int  # initial user weight
    eweight: int  # effective weight, on the algorithm's scale (see wmult/wdiv)
    served: int  # connections currently assigned
    nbpend: int  # entries in this server's queue
    maxconn: int
    maxqueue: int
    cumulative_weight: int  # set by core/lbprm.py recount(): sum of previous eweights
    lb: Any  # per-algorithm slot


class LbBackend(Protocol):
    """What an algorithm may read from (and, for wmult/wdiv, write to) a backend."""

    name: str
    allbackups: bool  # option allbackups
    # maintained by core's recount (backend.c recount_servers/update_backend_weight)
    srv_act: int
    srv_bck: int
    tot_wact: int
    tot_wbck: int
    tot_weight: int
    tot_used: int
    # set by the algorithm's init: eweight = ceil(uweight * wdiv / wmult)
    wmult: int
    wdiv: int
    # balance/hash-type parameters the algorithm needs
    hash_balance_factor: int
    random_draws: int
    beconn: int  # streams attached to the backend (for bounded-load hashing)

    # read-only views (core holds its own, more specific, server type)
    @property
    def servers(self) -> Sequence[LbServer]:
        """The servers, in declaration order."""
        ...

    @property
    def fbck(self) -> LbServer | None:
        """The first usable backup when ``option allbackups`` is off (recount)."""
        ...

    def server_is_full(self, srv: LbServer) -> bool:
        """``srv->maxconn && (srv->nbpend || srv->served >= srv_dynamic_maxconn(srv))``."""
        ...

    def dynamic_maxconn(self, srv: LbServer) -> int:
        """``srv_dynamic_maxconn()``: the server's current connection limit (0: none)."""
        ...

    def server_usable(self, srv: LbServer) -> bool:
        """``srv_willbe_usable()``: weight > 0, not MAINT/DRAIN, STARTING or RUNNING."""
        ...


class Algorithm(Protocol):
    """One balancing algorithm bound to one backend (``lb_ops``)."""

    name: ClassVar[str]
    dynamic: ClassVar[bool]  # weights can change to any value at run time

    def configure(self, backend: LbBackend) -> None:
        """Set ``backend.wmult``/``backend.wdiv`` from the configured weights.

        Called first. core then computes every server's ``eweight`` as
        ``ceil(uweight * wdiv / wmult)`` (``server_recalc_eweight()``) and
        recounts the backend, then calls ``init``.
        """
        ...

    def init(self, backend: LbBackend) -> None:
        """Build the algorithm's structures from the currently usable servers."""
        ...

    def set_server_up(self, srv: LbServer) -> None: ...

    def set_server_down(self, srv: LbServer) -> None: ...

    def update_server_eweight(self, srv: LbServer) -> None: ...

    def take_conn(self, srv: LbServer) -> None: ...

    def drop_conn(self, srv: LbServer) -> None: ...

    def pick(self, avoid: LbServer | None = None, key: int | None = None) -> LbServer | None:
        """Choose a server for a new stream, or None (then core queues or fails).

        ``avoid`` is the server of the previous attempt on a retry/redispatch.
        ``key`` is the 32-bit hash for hash-based algorithms (None: no key, so
        the algorithm falls back to round-robin, spec §12.8).
        """
        ...


@dataclass(eq=False, slots=True)
class Committed:
    """What a weighted algorithm keeps in ``srv.lb`` at least: the weight and the
    usability it last saw (HAProxy's ``cur_eweight`` and ``srv_currently_usable()``;
    ``srv.eweight`` and ``server_usable()`` play ``next_eweight`` and
    ``srv_willbe_usable()``)."""

    cur_eweight: int = 0
    usable: bool = False


class WeightedAlgorithm:
    """The plumbing the weighted algorithms share (roundrobin, leastconn, first,
    consistent hashing): weights on the ``BE_WEIGHT_SCALE`` scale, and the three
    state changes of rule 2 turned into ``_enter()``, ``_leave()`` and
    ``_reweight()`` of a server, each followed by ``srv_lb_commit_status()``
    (``_commit()``), as every ``lb_*.c`` does. Their slots derive from
    ``Committed``."""

    def __init__(self) -> None:
        self._be: LbBackend | None = None

    def configure(self, backend: LbBackend) -> None:
        """eweight = uweight * 16 (``fwrr_init_server_groups()`` and the others)."""
        backend.wmult = 1
        backend.wdiv = BE_WEIGHT_SCALE

    def _backend(self) -> LbBackend:
        assert self._be is not None, "init() not called"
        return self._be

    def _commit(self, srv: LbServer) -> None:
        """``srv_lb_commit_status()``: the new weight and state become current."""
        slot: Committed = srv.lb
        slot.cur_eweight = srv.eweight
        slot.usable = self._backend().server_usable(srv)

    def _enter(self, srv: LbServer) -> None:
        """A server became usable: place it (its slot still says unusable)."""
        raise NotImplementedError

    def _leave(self, srv: LbServer) -> None:
        """A server stopped being usable: take it out."""
        raise NotImplementedError

    def _reweight(self, srv: LbServer) -> None:
        """A usable server's ``eweight`` may have changed: reposition it."""
        raise NotImplementedError

    def set_server_up(self, srv: LbServer) -> None:
        """``*_set_server_status_up()``."""
        if not srv.lb.usable and self._backend().server_usable(srv):
            self._enter(srv)
        self._commit(srv)

    def set_server_down(self, srv: LbServer) -> None:
        """``*_set_server_status_down()``."""
        if srv.lb.usable and not self._backend().server_usable(srv):
            self._leave(srv)
        self._commit(srv)

    def update_server_eweight(self, srv: LbServer) -> None:
        """``*_update_server_weight()``: up, down, or a new weight for a usable server."""
        old = srv.lb.usable
        new = self._backend().server_usable(srv)
        if old and not new:
            self.set_server_down(srv)
        elif new and not old:
            self.set_server_up(srv)
        else:
            if new:
                self._reweight(srv)
            self._commit(srv)


AlgorithmFactory = Callable[[], Algorithm]
REGISTRY: dict[str, AlgorithmFactory] = {}


def register(factory: AlgorithmFactory, *names: str) -> None:
    """``register(FwrrAlgorithm, "roundrobin")`` after an algorithm class (a call,
    not a decorator: mypyc compiles only undecorated classes as native ones)."""
    for name in names:
        REGISTRY[name] = factory
