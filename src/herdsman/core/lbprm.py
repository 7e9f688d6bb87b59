"""A backend's balancing parameters kept in step with its servers (HAProxy's
``lbprm``): each server's effective weight (``server_recalc_eweight()``), the
backend's counts and total weights (``recount_servers()``,
``update_backend_weight()``), and the algorithm told of every committed change
(``srv_lb_commit_status()``), at start-up and when ``add server``/``del server``
change the list. ``core/commit.py`` and ``core/transitions.py`` call it; the
algorithms read what it writes (``lb/base.py``'s ``LbBackend``).
"""

from __future__ import annotations

from herdsman.core.backend import Backend, Server
from herdsman.core.states import LB_STATES, NOT_LB, SrvState


def start(be: Backend) -> None:
    """``configure`` → eweights → recount → ``init`` (lb/base.py, rule 2)."""
    be.algo.configure(be)
    for srv in be.servers:
        recalc_eweight(srv)
    _reinit(be)


def _reinit(be: Backend) -> None:
    """The algorithm starts over on the server list as it is now."""
    recount(be)
    be.algo.init(be)
    for srv in be.servers:
        srv.lb_usable = srv.willbe_usable()
        srv.lb_eweight = srv.eweight


def insert_server(srv: Server) -> None:
    """``add server``: a new server (in maintenance) at the end of its backend's list."""
    be = srv.backend
    be.servers.append(srv)
    be.by_name[srv.name] = srv
    recalc_eweight(srv)
    _reinit(be)


def remove_server(srv: Server) -> None:
    """``del server``: the server leaves the list (it is in maintenance: unused)."""
    be = srv.backend
    be.servers.remove(srv)
    be.by_name.pop(srv.name, None)
    _reinit(be)


def recount(be: Backend) -> None:
    """``recount_servers()`` + ``update_backend_weight()``.

    A loop over every server, as in HAProxy, run at each committed change:
    ``willbe_usable()`` is inlined (with the flags' raw ints: an IntFlag's
    ``&`` and ``.value`` are Python calls): half the time at 10,000 servers.
    """
    act = bck = wact = wbck = 0
    fbck: Server | None = None
    allbackups = be.allbackups
    starting, running = LB_STATES
    for srv in be.servers:
        w = srv.eweight
        st = srv.next_state
        if not w or srv.next_admin._value_ & NOT_LB or (st is not running and st is not starting):
            continue
        if srv.backup:
            if not bck and not allbackups:
                fbck = srv
            bck += 1
            srv.cumulative_weight = wbck
            wbck += w
        else:
            act += 1
            srv.cumulative_weight = wact
            wact += w
    be.srv_act, be.srv_bck = act, bck
    be.tot_wact, be.tot_wbck, be.fbck = wact, wbck, fbck
    if act:
        be.tot_weight, be.tot_used = wact, act
    elif fbck is not None:
        be.tot_weight, be.tot_used = fbck.eweight, 1
    else:
        be.tot_weight, be.tot_used = wbck, bck


def recalc_eweight(srv: Server) -> None:
    """``server_recalc_eweight()``: the effective weight from the user weight.

    A STARTING server whose slow start is over becomes RUNNING. Until then
    a dynamic algorithm's weight factor grows from 1 to ``wdiv`` (16) in
    proportion to the whole seconds elapsed (spec §10.3); static
    algorithms get the full weight, only the connection limit ramps.
    """
    be = srv.backend
    now = be.clock.now_s()
    ss = srv.slowstart_s
    over = now < srv.last_change or now >= srv.last_change + ss
    if over and srv.next_state is SrvState.STARTING:
        srv.next_state = SrvState.RUNNING
    w = be.wdiv
    if srv.next_state is SrvState.STARTING and be.algo.dynamic:
        w = (be.wdiv * (now - srv.last_change) + ss) // ss
    srv.eweight = (srv.uweight * w + be.wmult - 1) // be.wmult


def commit(srv: Server) -> None:
    """Tell the algorithm what changed since it last saw ``srv``."""
    # srv_lb_commit_status(): both next values become current
    be = srv.backend
    srv.cur_state = srv.next_state
    srv.cur_admin = srv.next_admin
    recount(be)
    was = srv.lb_usable
    now = srv.willbe_usable()
    if was and not now:
        be.algo.set_server_down(srv)
    elif now and not was:
        be.algo.set_server_up(srv)
    elif now and srv.eweight != srv.lb_eweight:
        be.algo.update_server_eweight(srv)
    srv.lb_usable = now
    srv.lb_eweight = srv.eweight


__all__ = ["commit", "insert_server", "recalc_eweight", "recount", "remove_server", "start"]
