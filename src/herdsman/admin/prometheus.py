"""The Prometheus exporter as 2.6.12's ``prometheus-exporter`` service writes it
(``addons/promex/service-prometheus.c``), from the runtime API's rows.

Metric names, types, labels and ``# HELP`` texts are HAProxy's, so existing
dashboards work: ``haproxy_process_*`` from ``show info``, then
``haproxy_frontend_*``, ``haproxy_backend_*`` and ``haproxy_server_*`` from
``show stat``, one metric at a time across every proxy (HAProxy's order), a
field that ``show stat`` leaves empty printed ``NaN``, states as one series per
state label (``haproxy_server_status{state="MAINT"} 1``), check statuses per
long status text, times in seconds. The query string selects as 2.6 does:
``scope=global|frontend|backend|server|listener|sticktable|*`` (repeatable; an
empty value selects nothing), ``no-maint``; anything else is a 400.

herdsman's extension: ``herdsman_server_check_duration_seconds``, a histogram
per server of every health-check duration since start (not only the last one,
which HAProxy's ``haproxy_server_check_duration_seconds`` gauge keeps). It is
built with ``prometheus_client`` (its ``Histogram`` and text exposition):
HAProxy's own families are written here byte for byte instead, because the
library formats numbers and counter names its own way (``1.0``, ``_total``
split off), which would not be 2.6.12's output.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote_plus

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from herdsman.admin.api import stat
from herdsman.admin.api.context import Api
from herdsman.admin.api.fields import Row, Value
from herdsman.admin.api.info import HAPROXY_VERSION, info_values
from herdsman.admin.api.names import INFO_FIELDS, STAT_FIELDS
from herdsman.config.model import Cap, Mode, ProxyConfig
from herdsman.core.backend import Backend, Server
from herdsman.core.counters import swrate_avg
from herdsman.core.events import CheckEvent
from herdsman.core.states import DRAIN, MAINT, SrvState
from herdsman.defs.status import Result, Status

G, C = "gauge", "counter"
FE, BE, SV = 1, 2, 4

# promex_global_metrics[]: show info field name -> (metric, type)
PROCESS: dict[str, tuple[str, str]] = {
    "Nbthread": ("nbthread", G), "Nbproc": ("nbproc", G),
    "Process_num": ("relative_process_id", G), "Uptime_sec": ("uptime_seconds", G),
    "PoolFailed": ("pool_failures_total", C), "Ulimit-n": ("max_fds", G),
    "Maxsock": ("max_sockets", G), "Maxconn": ("max_connections", G),
    "Hard_maxconn": ("hard_max_connections", G), "CurrConns": ("current_connections", G),
    "CumConns": ("connections_total", C), "CumReq": ("requests_total", C),
    "MaxSslConns": ("max_ssl_connections", G), "CurrSslConns": ("current_ssl_connections", G),
    "CumSslConns": ("ssl_connections_total", C), "Maxpipes": ("max_pipes", G),
    "PipesUsed": ("pipes_used_total", C), "PipesFree": ("pipes_free_total", C),
    "ConnRate": ("current_connection_rate", G), "ConnRateLimit": ("limit_connection_rate", G),
    "MaxConnRate": ("max_connection_rate", G), "SessRate": ("current_session_rate", G),
    "SessRateLimit": ("limit_session_rate", G), "MaxSessRate": ("max_session_rate", G),
    "SslRate": ("current_ssl_rate", G), "SslRateLimit": ("limit_ssl_rate", G),
    "MaxSslRate": ("max_ssl_rate", G),
    "SslFrontendKeyRate": ("current_frontend_ssl_key_rate", G),
    "SslFrontendMaxKeyRate": ("max_frontend_ssl_key_rate", G),
    "SslFrontendSessionReuse_pct": ("frontend_ssl_reuse", G),
    "SslBackendKeyRate": ("current_backend_ssl_key_rate", G),
    "SslBackendMaxKeyRate": ("max_backend_ssl_key_rate", G),
    "SslCacheLookups": ("ssl_cache_lookups_total", C),
    "SslCacheMisses": ("ssl_cache_misses_total", C),
    "CompressBpsIn": ("http_comp_bytes_in_total", C),
    "CompressBpsOut": ("http_comp_bytes_out_total", C),
    "CompressBpsRateLim": ("limit_http_comp", G), "ZlibMemUsage": ("current_zlib_memory", G),
    "MaxZlibMemUsage": ("max_zlib_memory", G), "Tasks": ("current_tasks", G),
    "Run_queue": ("current_run_queue", G), "Idle_pct": ("idle_time_percent", G),
    "Stopping": ("stopping", G), "Jobs": ("jobs", G), "Unstoppable Jobs": ("unstoppable_jobs", G),
    "Listeners": ("listeners", G), "ActivePeers": ("active_peers", G),
    "ConnectedPeers": ("connected_peers", G), "DroppedLogs": ("dropped_logs_total", C),
    "BusyPolling": ("busy_polling_enabled", G), "FailedResolutions": ("failed_resolutions", C),
    "TotalBytesOut": ("bytes_out_total", C), "TotalSplicdedBytesOut": ("spliced_bytes_out_total", C),
    "BytesOutRate": ("bytes_out_rate", G), "CumRecvLogs": ("recv_logs_total", C),
    "Build info": ("build_info", G), "Memmax_bytes": ("max_memory_bytes", G),
    "PoolAlloc_bytes": ("pool_allocated_bytes", G), "PoolUsed_bytes": ("pool_used_bytes", G),
    "Start_time_sec": ("start_time_seconds", G),
}  # fmt: skip

# promex_st_metrics[]: show stat field name -> (metric, type, objects)
_ALL = FE | BE | SV
OBJECTS: dict[str, tuple[str, str, int]] = {
    "qcur": ("current_queue", G, BE | SV), "qmax": ("max_queue", G, BE | SV),
    "scur": ("current_sessions", G, _ALL), "smax": ("max_sessions", G, _ALL),
    "slim": ("limit_sessions", G, _ALL), "stot": ("sessions_total", C, _ALL),
    "bin": ("bytes_in_total", C, _ALL), "bout": ("bytes_out_total", C, _ALL),
    "dreq": ("requests_denied_total", C, FE | BE), "dresp": ("responses_denied_total", C, _ALL),
    "ereq": ("request_errors_total", C, FE), "econ": ("connection_errors_total", C, BE | SV),
    "eresp": ("response_errors_total", C, BE | SV), "wretr": ("retry_warnings_total", C, BE | SV),
    "wredis": ("redispatch_warnings_total", C, BE | SV), "status": ("status", G, _ALL),
    "weight": ("weight", G, BE | SV), "act": ("active_servers", G, BE),
    "bck": ("backup_servers", G, BE), "chkfail": ("check_failures_total", C, SV),
    "chkdown": ("check_up_down_total", C, BE | SV),
    "lastchg": ("check_last_change_seconds", G, BE | SV),
    "downtime": ("downtime_seconds_total", C, BE | SV), "qlimit": ("queue_limit", G, SV),
    "throttle": ("current_throttle", G, SV), "lbtot": ("loadbalanced_total", C, BE | SV),
    "rate_lim": ("limit_session_rate", G, FE), "rate_max": ("max_session_rate", G, _ALL),
    "check_status": ("check_status", G, SV), "check_code": ("check_code", G, SV),
    "check_duration": ("check_duration_seconds", G, SV),
    **{f"hrsp_{c}": ("http_responses_total", C, _ALL) for c in ("1xx", "2xx", "3xx", "4xx", "5xx", "other")},
    "req_rate_max": ("http_requests_rate_max", G, FE), "req_tot": ("http_requests_total", C, FE | BE),
    "cli_abrt": ("client_aborts_total", C, BE | SV), "srv_abrt": ("server_aborts_total", C, BE | SV),
    "comp_in": ("http_comp_bytes_in_total", C, FE | BE),
    "comp_out": ("http_comp_bytes_out_total", C, FE | BE),
    "comp_byp": ("http_comp_bytes_bypassed_total", C, FE | BE),
    "comp_rsp": ("http_comp_responses_total", C, FE | BE),
    "lastsess": ("last_session_seconds", G, BE | SV),
    "qtime": ("queue_time_average_seconds", G, BE | SV),
    "ctime": ("connect_time_average_seconds", G, BE | SV),
    "rtime": ("response_time_average_seconds", G, BE | SV),
    "ttime": ("total_time_average_seconds", G, BE | SV),
    "conn_rate_max": ("connections_rate_max", G, FE), "conn_tot": ("connections_total", C, FE),
    "intercepted": ("intercepted_requests_total", C, FE),
    "dcon": ("denied_connections_total", C, FE), "dses": ("denied_sessions_total", C, FE),
    "wrew": ("failed_header_rewriting_total", C, _ALL),
    "connect": ("connection_attempts_total", C, BE | SV),
    "reuse": ("connection_reuses_total", C, BE | SV),
    "cache_lookups": ("http_cache_lookups_total", C, FE | BE),
    "cache_hits": ("http_cache_hits_total", C, FE | BE),
    "srv_icur": ("idle_connections_current", G, SV), "src_ilim": ("idle_connections_limit", G, SV),
    "qtime_max": ("max_queue_time_seconds", G, BE | SV),
    "ctime_max": ("max_connect_time_seconds", G, BE | SV),
    "rtime_max": ("max_response_time_seconds", G, BE | SV),
    "ttime_max": ("max_total_time_seconds", G, BE | SV),
    "eint": ("internal_errors_total", C, _ALL),
    "idle_conn_cur": ("unsafe_idle_connections_current", G, SV),
    "safe_conn_cur": ("safe_idle_connections_current", G, SV),
    "used_conn_cur": ("used_connections_current", G, SV),
    "need_conn_est": ("need_connections_current", G, SV), "uweight": ("uweight", G, BE | SV),
    "agg_server_status": ("agg_server_status", G, BE),
    "agg_server_check_status": ("agg_server_check_status", G, BE),
    "agg_check_status": ("agg_check_status", G, BE),
}  # fmt: skip
# promex_st_metric_desc[]: the HELP texts that are not show stat's descriptions
HELP = {
    "status": "Current status of the service, per state label value.",
    "check_status": "Status of last health check, per state label value.",
    "check_code": "layer5-7 code, if available of the last health check.",
    "check_duration": "Total duration of the latest server health check, in seconds.",
    "qtime": "Avg. queue time for last 1024 successful connections.",
    "ctime": "Avg. connect time for last 1024 successful connections.",
    "rtime": "Avg. response time for last 1024 successful connections.",
    "ttime": "Avg. total time for last 1024 successful connections.",
    "qtime_max": "Maximum observed time spent in the queue",
    "ctime_max": "Maximum observed time spent waiting for a connection to complete",
    "rtime_max": "Maximum observed time spent waiting for a server response",
    "ttime_max": "Maximum observed total request+response time "
    "(request+queue+connect+response+processing)",
}
HTTP_ONLY = {
    "req_rate_max", "req_tot", "intercepted", "cache_lookups", "cache_hits", "comp_in",
    "comp_out", "comp_byp", "comp_rsp", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx",
    "hrsp_5xx", "hrsp_other",
}  # fmt: skip
SRV_STATES = ("DOWN", "UP", "MAINT", "DRAIN", "NOLB")
ALL_SCOPES = frozenset(("global", "frontend", "backend", "server", "listener", "sticktable"))
POS = {name: pos for pos, (name, _) in enumerate(STAT_FIELDS)}
DESC = dict(STAT_FIELDS)
CHECK_STATES = [s for s in Status if s.result in (Result.FAILED, Result.PASSED, Result.CONDPASS)]
DURATION_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class BadQuery(ValueError):
    """A query string the exporter refuses (HAProxy answers its 400)."""


def parse_query(target: str) -> tuple[frozenset[str], bool]:
    """``promex_parse_uri()``: the scopes selected and ``no-maint``."""
    _, mark, query = target.partition("?")
    scopes: set[str] | None = None
    no_maint = False
    if mark:
        query = query.split("#", 1)[0]
        for param in query.split("&"):
            if not param:
                continue
            key, eq, value = param.partition("=")
            if "=" in value:
                raise BadQuery(param)
            key, value = unquote_plus(key), unquote_plus(value)
            if key == "scope":
                scopes = set() if scopes is None else scopes
                if not eq:
                    raise BadQuery(param)
                if value == "":
                    scopes.clear()
                elif value == "*":
                    scopes |= ALL_SCOPES
                elif value in ALL_SCOPES:
                    scopes.add(value)
                else:
                    raise BadQuery(param)
            elif key == "no-maint":
                no_maint = True
    return frozenset(ALL_SCOPES if scopes is None else scopes), no_maint


def _number(value: Value | None) -> str:
    """``promex_metric_to_str()``: integers as such, floats ``%f``, the rest ``NaN``."""
    if value is None:
        return "NaN"
    _, typ, v = value
    if typ == "flt" or isinstance(v, float):
        return f"{float(v):f}"
    return str(v) if isinstance(v, int) else "NaN"


# How 2.6.12 cuts the body into chunks: promex adds a sample to the response buffer
# only while PROMEX_MAX_METRIC_LENGTH (512) bytes stay free in it, and the H1 mux
# writes each buffer as one chunk (size in upper-case hex). The first buffer also
# holds the head and keeps tune.maxrewrite (1024) free. The rooms were fitted on
# the binary's answers (18 scrapes, about 100 chunk boundaries, all matched; see
# tests/integration/test_prometheus.py): 15139-15142 and 16324-16329 bytes.
FIRST_ROOM, ROOM, SLACK = 15140, 16326, 512


def chunked(records: list[str]) -> bytes:
    """The chunked body of the samples, ending with the last chunk."""
    out: list[bytes] = []
    part: list[bytes] = []
    size, room = 0, FIRST_ROOM
    for text in records:
        if part and size + SLACK > room:
            out.append(b"%X\r\n%s\r\n" % (size, b"".join(part)))
            part, size, room = [], 0, ROOM
        data = text.encode()
        part.append(data)
        size += len(data)
    if part:
        out.append(b"%X\r\n%s\r\n" % (size, b"".join(part)))
    out.append(b"0\r\n\r\n")
    return b"".join(out)


def samples(text: str) -> list[str]:
    """An exposition as records (``records()``'s unit): comment lines go with the
    sample that follows them."""
    out: list[str] = []
    pending = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("#"):
            pending += line
        else:
            out.append(pending + line)
            pending = ""
    if pending:
        out.append(pending)
    return out


def _labels(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in pairs) + "}" if pairs else ""


class _Family:
    """One metric's lines: the HELP/TYPE header goes before its first sample."""

    def __init__(self, out: list[str], name: str, help_text: str, typ: str) -> None:
        self.out = out
        self.header = f"# HELP {name} {help_text}\n# TYPE {name} {typ}\n"
        self.name = name

    def add(self, labels: list[tuple[str, str]], value: str) -> None:
        self.out.append(f"{self.header}{self.name}{_labels(labels)} {value}\n")
        self.header = ""


def _srv_state(srv: Server) -> str:
    """``promex_srv_status()``."""
    state = "DOWN"
    if srv.cur_state in (SrvState.RUNNING, SrvState.STARTING):
        state = "DRAIN" if srv.cur_admin & DRAIN else "UP"
    elif srv.cur_state is SrvState.STOPPING:
        state = "NOLB"
    return "MAINT" if srv.cur_admin & MAINT else state


class Exporter:
    """Renders the metrics of a running configuration; ``checked()`` feeds the
    check-duration histograms (subscribe it to the check events)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.registry = CollectorRegistry(auto_describe=False)
        self.durations = Histogram(
            "herdsman_server_check_duration_seconds",
            "Durations of every health check of the server since the process started "
            "(herdsman extension).",
            ["proxy", "server"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        # each server's histogram: labels() locks and builds its key on every call,
        # and checked() runs once per check run
        self._children: dict[tuple[str, str], Histogram] = {}

    def checked(self, ev: CheckEvent) -> None:
        if not ev.agent and ev.duration_ms >= 0:
            key = (ev.backend, ev.server)
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = self.durations.labels(*key)
            child.observe(ev.duration_ms / 1000)

    def forget(self, backend: str, server: str) -> None:
        """``del server``: its histogram goes with it."""
        self._children.pop((backend, server), None)
        try:
            self.durations.remove(backend, server)
        except KeyError:
            pass

    # -- the HTTP service (http-request use-service prometheus-exporter) -----------------

    def answer(self, target: str) -> tuple[int, str, list[tuple[str, str]], bytes | None]:
        """The reply to a request for ``target`` (path and query string), as
        ``promex_appctx_handle_io()`` makes it: a chunked 200, or for a query it
        refuses HAProxy's built-in 400 (body None), after which 2.6 closes."""
        try:
            scopes, no_maint = parse_query(target)
        except BadQuery:
            return 400, "Bad request", [], None
        fields = [
            ("cache-control", "no-cache"),
            ("content-type", "text/plain; version=0.0.4"),
            ("transfer-encoding", "chunked"),
        ]
        return 200, "OK", fields, chunked(self.records(scopes, no_maint))

    def render(self, scopes: frozenset[str] = ALL_SCOPES, no_maint: bool = False) -> str:
        return "".join(self.records(scopes, no_maint))

    def records(self, scopes: frozenset[str] = ALL_SCOPES, no_maint: bool = False) -> list[str]:
        """The body as 2.6 dumps it, one sample (with its family's header) at a time."""
        out: list[str] = []
        if "global" in scopes:
            self._process(out)
        proxies = [px for px in self.api.proxies() if px.uuid > 0]
        if "frontend" in scopes:
            self._frontends(out, [px for px in proxies if px.cap & Cap.FE])
        backends = [px for px in proxies if px.cap & Cap.BE]
        if "backend" in scopes:
            self._backends(out, backends)
        if "server" in scopes:
            self._servers(out, backends, no_maint)
            out.extend(samples(generate_latest(self.registry).decode()))
        return out

    def _process(self, out: list[str]) -> None:
        values = info_values(self.api)
        for pos, name, desc in INFO_FIELDS:
            metric = PROCESS.get(name)
            if metric is None:
                continue
            fam = _Family(out, "haproxy_process_" + metric[0], desc, metric[1])
            if name == "Build info":
                fam.add([("version", HAPROXY_VERSION)], "1")
            else:
                fam.add([], _number(values.get(pos)))

    def _fields(self, kind: int) -> Iterator[tuple[str, str, str]]:
        """The (field, metric, type) of one object kind, in show stat's order."""
        for name, _ in STAT_FIELDS:
            row = OBJECTS.get(name)
            if row is not None and row[2] & kind:
                yield name, row[0], row[1]

    def _frontends(self, out: list[str], proxies: list[ProxyConfig]) -> None:
        fes = self.api.registry.frontends
        rows = {px.name: stat.frontend_row(fes[px.name]) for px in proxies if px.name in fes}
        last = ""
        for name, metric, typ in self._fields(FE):
            fam = self._family(out, "haproxy_frontend_", name, metric, typ, last)
            last = metric
            for px in proxies:
                row = rows.get(px.name)
                if row is None or (name in HTTP_ONLY and px.mode is not Mode.HTTP):
                    continue
                labels = [("proxy", px.name)]
                if name == "status":
                    up = not fes[px.name].stopping
                    fam.add(labels + [("state", "DOWN")], str(int(not up)))
                    fam.add(labels + [("state", "UP")], str(int(up)))
                    continue
                self._sample(fam, labels, name, row)

    def _family(
        self, out: list[str], prefix: str, field: str, metric: str, typ: str, last: str
    ) -> _Family:
        fam = _Family(out, prefix + metric, HELP.get(field, DESC[field]), typ)
        if metric == last:  # the http_responses_total codes share one header
            fam.header = ""
        return fam

    @staticmethod
    def _sample(fam: _Family, labels: list[tuple[str, str]], field: str, row: Row) -> None:
        if field.startswith("hrsp_"):
            labels = labels + [("code", field[5:])]
        fam.add(labels, _number(row.get(POS[field])))

    def _backends(self, out: list[str], proxies: list[ProxyConfig]) -> None:
        bes = self.api.registry.backends
        found = [(px, bes[px.name]) for px in proxies if px.name in bes]
        rows = {px.name: stat.backend_row(be, False, False) for px, be in found}
        last = ""
        for name, metric, typ in self._fields(BE):
            fam = self._family(out, "haproxy_backend_", name, metric, typ, last)
            last = metric
            for px, be in found:
                if name in HTTP_ONLY and px.mode is not Mode.HTTP:
                    continue
                labels = [("proxy", px.name)]
                if name == "status":
                    up = be.tot_weight > 0 or not be.servers
                    fam.add(labels + [("state", "DOWN")], str(int(not up)))
                    fam.add(labels + [("state", "UP")], str(int(up)))
                elif name in ("agg_server_status", "agg_server_check_status"):
                    if be.servers:
                        counts = [_srv_state(s) for s in be.servers]
                        for state in SRV_STATES:
                            fam.add(labels + [("state", state)], str(counts.count(state)))
                elif name == "agg_check_status":
                    if be.servers:
                        statuses = [
                            s.check.status
                            for s in be.servers
                            if s.check is not None and s.check.enabled and not s.check.paused
                        ]
                        for st in CHECK_STATES:
                            fam.add(labels + [("state", st.short)], str(statuses.count(st)))
                elif name in _TIMES:
                    fam.add(labels, _seconds(be, name, None))
                else:
                    self._sample(fam, labels, name, rows[px.name])

    def _servers(self, out: list[str], proxies: list[ProxyConfig], no_maint: bool) -> None:
        bes = self.api.registry.backends
        found = [(px, bes[px.name]) for px in proxies if px.name in bes]
        rows = {
            (px.name, srv.name): stat.server_row(srv, False)
            for px, be in found
            for srv in be.servers
        }
        last = ""
        for name, metric, typ in self._fields(SV):
            fam = self._family(out, "haproxy_server_", name, metric, typ, last)
            last = metric
            for px, be in found:
                if name in HTTP_ONLY and px.mode is not Mode.HTTP:
                    continue
                for srv in be.servers:
                    if no_maint and srv.cur_admin & MAINT:
                        continue
                    self._server_sample(fam, name, px, be, srv, rows[(px.name, srv.name)])

    @staticmethod
    def _server_sample(
        fam: _Family, name: str, px: ProxyConfig, be: Backend, srv: Server, row: Row
    ) -> None:
        labels = [("proxy", px.name), ("server", srv.name)]
        chk = srv.check
        checking = chk is not None and chk.enabled and not chk.paused
        if name == "status":
            state = _srv_state(srv)
            for each in SRV_STATES:
                fam.add(labels + [("state", each)], str(int(each == state)))
        elif name == "check_status":
            if checking and chk is not None:
                for st in CHECK_STATES:
                    fam.add(labels + [("state", st.short)], str(int(chk.status is st)))
        elif name == "check_code":
            if checking and chk is not None:
                fam.add(labels, str(chk.code if chk.status >= Status.L57DATA else 0))
        elif name == "check_duration":
            if chk is not None and chk.status >= Status.CHECKED:
                fam.add(labels, f"{chk.duration / 1000:f}")
        elif name in _TIMES:
            fam.add(labels, _seconds(be, name, srv))
        else:
            Exporter._sample(fam, labels, name, row)


_TIMES = {
    "qtime": "q_time", "ctime": "c_time", "rtime": "d_time", "ttime": "t_time",
    "qtime_max": "qtime_max", "ctime_max": "ctime_max", "rtime_max": "dtime_max",
    "ttime_max": "ttime_max",
}  # fmt: skip


def _seconds(be: Backend, field: str, srv: Server | None) -> str:
    """The time fields in seconds (``swrate_avg()`` over 1024 samples, or the maxima)."""
    c = srv.counters if srv is not None else be.counters
    value = getattr(c, _TIMES[field])
    if not field.endswith("_max"):
        value = swrate_avg(value, 1024)
    return f"{value / 1000:f}"
