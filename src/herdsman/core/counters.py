"""Traffic counters, as plain fields a stats view reads without knowing the data path.

HAProxy's ``struct fe_counters`` and ``struct be_counters`` (``counters-t.h``),
named after the stats columns they feed (spec §13.2). The data path updates
them as traffic flows: bytes on every transfer, sessions when they start,
errors when they happen, so ``show stat`` is right while a connection lives.

Live gauges that the balancer or the accept limits also read (a server's
``served`` and ``nbpend``, a backend's ``beconn``, a frontend's ``feconn``,
the process's ``actconn``) live on their objects, not here.
"""

from __future__ import annotations


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
    )

    def __init__(self) -> None:
        self.cum_conn = self.cum_sess = self.conn_max = 0
        self.bytes_in = self.bytes_out = 0
        self.denied_conn = self.denied_sess = self.denied_req = self.denied_resp = 0
        self.failed_req = self.intercepted_req = self.cum_req = 0
        self.http_rsp = [0] * 6


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
    )

    def __init__(self) -> None:
        self.cum_conn = self.cum_sess = self.cum_lbconn = self.sess_max = self.nbpend_max = 0
        self.bytes_in = self.bytes_out = 0
        self.failed_conns = self.failed_resp = self.retries = self.redispatches = 0
        self.cli_aborts = self.srv_aborts = self.denied_req = self.denied_resp = 0
        self.connect = self.reuse = self.cum_req = 0
        self.http_rsp = [0] * 6
        self.failed_checks = self.failed_hana = self.down_trans = 0
        self.last_sess = -1


class ProcessCounters:
    """Process-wide (``show info``)."""

    __slots__ = ("cum_conn", "cum_sess", "cum_req", "conn_max")

    def __init__(self) -> None:
        self.cum_conn = self.cum_sess = self.cum_req = self.conn_max = 0
