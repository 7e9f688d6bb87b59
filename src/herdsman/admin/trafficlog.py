"""Traffic log lines, as HAProxy 2.6 builds and sends them (``log.c
sess_build_logline()``, ``strm_log()``, ``sess_log()``).

The data path hands a finished stream's ``StreamLog`` (``core/streamlog.py``)
to its frontend's ``TrafficLog``; the line is made from the compiled format
(``config/kw_logs.py``) only then, so a stream costs a few attribute writes
while it lives. What the line reads at that moment, as HAProxy does: the
process's, the frontend's, the backend's and the server's current connection
counts (``%ac``, ``%fc``, ``%bc``, ``%sc``: the stream has already left its
backend and server, it still counts in its frontend and the process).

Formatting rules kept from ``sess_build_logline()``: an empty text value is
``-`` (``LOG_OPT_MANDATORY``), quoted values are ``"..."`` with ``+Q``;
numbers are never quoted; consecutive separators print one space and none
before the first field; the request line and captured headers escape their
control characters, ``"`` and ``#`` (and ``{|}`` in headers) as ``#XX``; the
durations are differences of the stream's timestamps, so ``%Tw`` of a TCP
stream is its queue time plus one (its request time is -1), as 2.6 prints it.

Which level (``strm_log()``): info, or err with ``option log-separate-errors``
for a stream that ended on an error, was retried or redispatched, or got a
5xx; ``option dontlog-normal`` drops the others; ``option dontlognull`` drops
a stream that received nothing from its client.
"""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from herdsman.admin.log import Logger
from herdsman.core.registry import FrontendState, ProcessState
from herdsman.core.streamlog import StreamLog
from herdsman.defs.levels import LOG_ERR, LOG_INFO
from herdsman.sample import registry as R
from herdsman.sample.lfparse import ESC, HEXA, MANDATORY, QUOTE, SEP, Expr
from herdsman.sample.logformat import expr_value
from herdsman.sample.txn import Txn

__all__ = ["TrafficLog", "build_line"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HEX = "0123456789ABCDEF"


def _encode_map(extra: str) -> frozenset[str]:
    return frozenset([chr(i) for i in range(32)] + [chr(i) for i in range(127, 256)] + list(extra))


_URL_MAP = _encode_map('"#')  # %r, %HU...: url_encode_map
_HDR_MAP = _encode_map('"#{|}')  # %hr, %hs: hdr_encode_map
_RFC5424 = frozenset('"\\]')  # escaped with '\' under +E


def _encode(value: str, table: frozenset[str], options: int) -> str:
    """``lf_encode_string()``: ``#XX`` for the characters of ``table``; under ``+E``
    also ``\\`` before ``"``, ``\\`` and ``]``."""
    if not any(ch in table or (options & ESC and ch in _RFC5424) for ch in value):
        return value
    out = []
    for ch in value:
        if ch in table:
            code = ord(ch) & 0xFF
            out.append("#" + _HEX[code >> 4] + _HEX[code & 15])
        elif options & ESC and ch in _RFC5424:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _text(value: str | None, options: int) -> str:
    """``lf_text_len()``: quoted with ``+Q``, escaped with ``+E``, ``-`` when empty."""
    if value and options & ESC:
        value = "".join("\\" + ch if ch in _RFC5424 else ch for ch in value)
    if options & QUOTE:
        return '"' + (value or "") + '"'
    if not value and options & MANDATORY:
        return "-"
    return value or ""


def _ip(addr: object, options: int) -> str:
    """``lf_ip()``: the address as text (``unix`` for a UNIX socket), or hex with ``+X``."""
    if isinstance(addr, tuple) and addr:
        host = str(addr[0])
        if options & HEXA:
            try:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                return socket.inet_pton(family, host).hex().upper()
            except OSError:
                return ""
        return _text(host, options)
    if addr is None:
        return _text(None, options)
    return _text("unix", options)


def _port(addr: object, luid: int, options: int) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        port = int(addr[1])
        return f"{port:04X}" if options & HEXA else str(port)
    if addr is None:
        return _text(None, options)
    return str(luid)  # a UNIX socket: the listener's id


def _date(wall: float) -> str:
    """``date2str_log()``: ``07/Dec/2026:10:31:25.123`` in local time."""
    t = time.localtime(wall)
    ms = int(wall * 1000) % 1000
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms:03d}"
    )


def _zoned(t: time.struct_time) -> str:
    """``gmt2str_log()``/``localdate2str_log()``: ``07/Dec/2026:10:31:25 +0100``."""
    off = t.tm_gmtoff // 60
    sign = "-" if off < 0 else "+"
    off = abs(off)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {sign}{off // 60:02d}{off % 60:02d}"
    )


def _request_part(uri: str | None, part: str) -> str:
    """The pieces of the logged request line (``%HM``, ``%HU``, ``%HP``, ``%HPO``,
    ``%HQ``, ``%HV``), with 2.6's answer for a missing or odd line."""
    if uri is None:
        return "<BADREQ>"
    words = uri.split(None, 2)
    if part == "HQ":
        _, mark, query = uri.partition("?")
        return mark + query.split(" ", 1)[0]
    if part == "HM":
        return words[0] if len(words) > 1 else "<BADREQ>"
    if len(words) < 2:
        return "<BADREQ>"
    target: str = words[1]
    if part == "HU":
        return target
    if part == "HP":
        return target.split("?", 1)[0]
    if part == "HPO":
        path = target
        if not path.startswith("/") and "://" in path:  # absolute-form: the path part
            rest = path.split("://", 1)[1]
            path = "/" + rest.split("/", 1)[1] if "/" in rest else ""
        return path.split("?", 1)[0]
    return words[2] if len(words) > 2 else "HTTP/0.9"  # HV


class _Facts:
    """What a line reads besides the stream: the live counts and the process facts."""

    __slots__ = ("fe", "process", "http", "pid", "hostname", "nb_req", "nb_rsp")

    def __init__(
        self,
        fe: FrontendState,
        process: ProcessState,
        http: bool,
        pid: int,
        hostname: str,
        nb_req: int,
        nb_rsp: int,
    ) -> None:
        self.fe = fe
        self.process = process
        self.http = http
        self.pid = pid
        self.hostname = hostname
        self.nb_req = nb_req
        self.nb_rsp = nb_rsp


def _caps(caps: list[str | None] | None, nb: int, options: int, listed: bool) -> str | None:
    """``%hr``/``%hs`` (``{a|b}``) and ``%hrl``/``%hsl`` (space separated); None
    when the frontend captures nothing (the field prints nothing at all)."""
    if not nb or caps is None:
        return None
    quote = options & QUOTE
    if listed:
        parts = []
        for value in caps:
            text = _encode(value, _HDR_MAP, options) if value is not None else ""
            if quote:
                parts.append('"' + text + '"')
            else:
                parts.append(text if value is not None else "-")
        return " ".join(parts)
    inner = "|".join(_encode(v, _HDR_MAP, options) if v is not None else "" for v in caps)
    return ('"{' + inner + '}"') if quote else "{" + inner + "}"


# One function per variable: (options, record, facts, (request id, line count)) -> its
# text, or None for nothing at all (the separator state is then kept).
Render = Callable[[int, StreamLog, _Facts, tuple[int, int]], str | None]


def _idle(rec: StreamLog) -> int:
    """Idle plus handshake time: what separates the accept from the request."""
    return rec.t_idle + rec.t_handshake if rec.t_idle >= 0 else 0


def _req_time(o: int, rec: StreamLog, f: _Facts, c: tuple[int, int]) -> str:
    t = rec.t_request
    return str(t - rec.t_idle - rec.t_handshake if t >= 0 else -1)


def _data_time(o: int, rec: StreamLog, f: _Facts, c: tuple[int, int]) -> str:
    be = rec.backend
    start = rec.t_data if be is not None and be.cfg.mode.value == "http" else rec.t_connect
    return str(rec.t_close - start if start >= 0 else -1)


def _zoned_at(local: bool, after_idle: bool) -> Render:
    def render(o: int, rec: StreamLog, f: _Facts, c: tuple[int, int]) -> str:
        wall = rec.accept_wall + (_idle(rec) / 1000 if after_idle else 0)
        return _zoned(time.localtime(wall) if local else time.gmtime(wall))

    return render


def _hex_or_int(value: Callable[[StreamLog, _Facts, tuple[int, int]], int], width: int) -> Render:
    def render(o: int, rec: StreamLog, f: _Facts, c: tuple[int, int]) -> str:
        n = value(rec, f, c)
        return f"{n:0{width}X}" if o & HEXA else str(n)

    return render


def _captures(request: bool, listed: bool) -> Render:
    def render(o: int, rec: StreamLog, f: _Facts, c: tuple[int, int]) -> str | None:
        if not rec.in_stream:  # sess_log(): no stream, no capture
            return None
        nb = f.nb_req if request else f.nb_rsp
        caps = rec.req_caps if request else rec.rsp_caps
        return _caps(caps if caps is not None else [None] * nb, nb, o, listed)

    return render


def _request_piece(part: str) -> Render:
    def render(o: int, rec: StreamLog, f: _Facts, c: tuple[int, int]) -> str:
        return _quoted(_encode(_request_part(rec.uri, part), _URL_MAP, o), o)

    return render


def _none(o: int, rec: StreamLog, f: _Facts, c: tuple[int, int]) -> str:
    return _text(None, o)  # no unique id or TLS in herdsman


VALUES: dict[str, Render] = {
    "ci": lambda o, rec, f, c: _ip(rec.client, o),
    "cp": lambda o, rec, f, c: _port(rec.client, rec.luid, o),
    "fi": lambda o, rec, f, c: _ip(rec.local, o),
    "fp": lambda o, rec, f, c: _port(rec.local, rec.luid, o),
    "si": lambda o, rec, f, c: _ip(rec.server_addr, o),
    "sp": lambda o, rec, f, c: _port(rec.server_addr, rec.luid, o),
    "t": lambda o, rec, f, c: _date(rec.accept_wall),
    "tr": lambda o, rec, f, c: _date(rec.accept_wall + _idle(rec) / 1000),
    "T": _zoned_at(False, False),
    "trg": _zoned_at(False, True),
    "Tl": _zoned_at(True, False),
    "trl": _zoned_at(True, True),
    "Ts": _hex_or_int(lambda rec, f, c: int(rec.accept_wall), 4),
    "ms": lambda o, rec, f, c: (
        f"{int(rec.accept_wall * 1000) % 1000:02X}"
        if o & HEXA
        else f"{int(rec.accept_wall * 1000) % 1000:03d}"
    ),
    "f": lambda o, rec, f, c: _text(f.fe.name, o),
    "ft": lambda o, rec, f, c: _quoted(f.fe.name, o),
    "b": lambda o, rec, f, c: _text(rec.backend.name if rec.backend else f.fe.name, o),
    "s": lambda o, rec, f, c: _text(rec.server.name if rec.server else rec.target or "<NOSRV>", o),
    "Th": lambda o, rec, f, c: str(rec.t_handshake),
    "Ti": lambda o, rec, f, c: str(rec.t_idle),
    "TR": _req_time,
    "Tq": lambda o, rec, f, c: str(rec.t_request),
    "Tw": lambda o, rec, f, c: str(rec.t_queue - rec.t_request if rec.t_queue >= 0 else -1),
    "Tc": lambda o, rec, f, c: str(rec.t_connect - rec.t_queue if rec.t_connect >= 0 else -1),
    "Tr": lambda o, rec, f, c: str(rec.t_data - rec.t_connect if rec.t_data >= 0 else -1),
    "Td": _data_time,
    "Ta": lambda o, rec, f, c: str(rec.t_close - _idle(rec)),
    "Tt": lambda o, rec, f, c: str(rec.t_close),
    "Tu": lambda o, rec, f, c: str(rec.t_close - (rec.t_idle if rec.t_idle >= 0 else 0)),
    "ST": lambda o, rec, f, c: str(rec.status),
    "B": lambda o, rec, f, c: str(rec.bytes_out),
    "U": lambda o, rec, f, c: str(rec.bytes_in),
    "CC": lambda o, rec, f, c: _text(rec.cookies[0], o),
    "CS": lambda o, rec, f, c: _text(rec.cookies[1], o),
    "ID": _none,
    "sslc": _none,
    "sslv": _none,
    "ts": lambda o, rec, f, c: rec.err + rec.fin,
    "tsc": lambda o, rec, f, c: rec.err + rec.fin + rec.cookie,
    "ac": lambda o, rec, f, c: str(f.process.actconn),
    "fc": lambda o, rec, f, c: str(f.fe.feconn),
    "bc": lambda o, rec, f, c: str(rec.backend.beconn if rec.backend else 0),
    "sc": lambda o, rec, f, c: str(rec.server.served if rec.server else 0),
    "rc": lambda o, rec, f, c: ("+" if rec.redispatched else "") + str(rec.retries),
    "sq": lambda o, rec, f, c: str(rec.srv_queue_pos),
    "bq": lambda o, rec, f, c: str(rec.prx_queue_pos),
    "hr": _captures(True, False),
    "hrl": _captures(True, True),
    "hs": _captures(False, False),
    "hsl": _captures(False, True),
    "r": lambda o, rec, f, c: _quoted(
        _encode(rec.uri if rec.uri is not None else "<BADREQ>", _URL_MAP, o), o
    ),
    **{part: _request_piece(part) for part in ("HM", "HU", "HP", "HPO", "HQ", "HV")},
    "rt": _hex_or_int(lambda rec, f, c: c[0], 4),
    "lc": _hex_or_int(lambda rec, f, c: c[1], 4),
    "pid": _hex_or_int(lambda rec, f, c: f.pid, 4),
    "H": lambda o, rec, f, c: _text(f.hostname, o),
}


def _quoted(text: str, options: int) -> str:
    return '"' + text + '"' if options & QUOTE else text


class _Sample:
    """A ``%[...]`` of the format, compiled: its value as text at ``FE_LOG_END``."""

    __slots__ = ("value_of", "options")

    def __init__(self, node: Expr) -> None:
        self.value_of = expr_value(node.node, R.FE_LOG_END)
        self.options = node.options

    def render(self, rec: StreamLog) -> str:
        txn = rec.txn
        value = self.value_of(txn) if isinstance(txn, Txn) else None
        text = value.decode("utf-8", "surrogateescape") if value is not None else None
        return _text(text, self.options)


def _compiled(node: object) -> object:
    return _Sample(node) if isinstance(node, Expr) else node


def build_line(
    nodes: Iterable[Any], rec: StreamLog, facts: _Facts, counters: tuple[int, int] = (0, 0)
) -> str:
    """``sess_build_logline()``: the message text for ``rec``."""
    out: list[str] = []
    last_space = True
    for node in nodes:
        if node is SEP:
            if not last_space:
                out.append(" ")
                last_space = True
        elif isinstance(node, str):
            out.append(node)
            last_space = False
        elif isinstance(node, (_Sample, Expr)):
            out.append((node if isinstance(node, _Sample) else _Sample(node)).render(rec))
            last_space = False
        else:
            text = VALUES[node.name](node.options, rec, facts, counters)
            if text is not None:
                out.append(text)
                last_space = False
    return "".join(out)


# %rt: HAProxy's global request counter, one per process
_REQUESTS = itertools.count()


class TrafficLog:
    """A frontend's traffic logger: ``log()`` is what its streams call when they end."""

    def __init__(
        self,
        nodes: tuple[object, ...],
        logger: Logger,
        fe: FrontendState,
        process: ProcessState,
        *,
        pid: int,
        hostname: str | None = None,
        requests: Callable[[], int] = _REQUESTS.__next__,
    ) -> None:
        cfg = fe.cfg
        self.nodes = tuple(_compiled(n) for n in nodes)
        self.logger = logger
        self.facts = _Facts(
            fe,
            process,
            cfg.mode.value == "http",
            pid,
            hostname or socket.gethostname(),
            len(cfg.capture_req),
            len(cfg.capture_rsp),
        )
        self.dontlognull = cfg.option("dontlognull")
        self.log_errors = cfg.option("log-separate-errors")
        self.dontlog_normal = cfg.option("dontlog-normal")
        self.requests = requests
        self.count = 0  # %lc: lines sent by this frontend

    def session_error(
        self, client: object, accepted: float, luid: int, listener: str, text: str, empty: bool
    ) -> None:
        """``session_kill_embryonic()``: a connection that ended before its stream (a
        failed TLS handshake), as ``<ip>:<port> [<accept date>] <fe>/<listener>: <reason>``
        (``session_prepare_log_prefix()``); ``dontlognull`` drops the clients that
        closed without a word (CO_ER_SSL_EMPTY, CO_ER_SSL_ABORT)."""
        if self.dontlognull and empty:
            return
        if isinstance(client, tuple) and len(client) >= 2:
            who = f"{client[0]}:{client[1]}"
        elif client is None:
            who = "unknown"
        else:
            who = f"unix:{luid}"
        level = LOG_ERR if self.log_errors else LOG_INFO
        fe = self.facts.fe.name
        self.logger.send(level, f"{who} [{_date(accepted)}] {fe}/{listener}: {text}")

    def log(self, rec: StreamLog) -> None:
        if self.dontlognull and not rec.bytes_in:
            return
        error = rec.is_error
        if rec.in_stream:
            if self.dontlog_normal and not error:
                return
            level = LOG_ERR if error and self.log_errors else LOG_INFO
        else:  # sess_log(): only anomalies get there
            level = LOG_ERR if self.log_errors else LOG_INFO
        line = build_line(self.nodes, rec, self.facts, (self.requests(), self.count))
        if line:
            self.count += 1
            self.logger.send(level, line)
