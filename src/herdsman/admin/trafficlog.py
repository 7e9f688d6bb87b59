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
from herdsman.sample.lfparse import ESC, HEXA, MANDATORY, QUOTE, SEP, Var

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


def _value(var: Var, rec: StreamLog, f: _Facts, counters: tuple[int, int]) -> str | None:
    """One variable's text; None: nothing printed (and the separator state kept)."""
    name, opts = var.name, var.options
    t_request = rec.t_request
    idle = rec.t_idle + rec.t_handshake if rec.t_idle >= 0 else 0
    be = rec.backend
    if name == "ci":
        return _ip(rec.client, opts)
    if name == "cp":
        return _port(rec.client, rec.luid, opts)
    if name == "fi":
        return _ip(rec.local, opts)
    if name == "fp":
        return _port(rec.local, rec.luid, opts)
    if name == "si":
        return _ip(rec.server_addr, opts)
    if name == "sp":
        return _port(rec.server_addr, rec.luid, opts)
    if name == "t":
        return _date(rec.accept_wall)
    if name == "tr":
        return _date(rec.accept_wall + idle / 1000)
    if name in ("T", "trg"):
        wall = rec.accept_wall + (idle / 1000 if name == "trg" else 0)
        return _zoned(time.gmtime(wall))
    if name in ("Tl", "trl"):
        wall = rec.accept_wall + (idle / 1000 if name == "trl" else 0)
        return _zoned(time.localtime(wall))
    if name == "Ts":
        sec = int(rec.accept_wall)
        return f"{sec:04X}" if opts & HEXA else str(sec)
    if name == "ms":
        ms = int(rec.accept_wall * 1000) % 1000
        return f"{ms:02X}" if opts & HEXA else f"{ms:03d}"
    if name in ("f", "ft"):
        name_text = f.fe.name
        return _text(name_text, opts) if name == "f" else _quoted(name_text, opts)
    if name == "b":
        return _text(be.name if be is not None else f.fe.name, opts)
    if name == "s":
        srv = rec.server
        return _text(srv.name if srv is not None else rec.target or "<NOSRV>", opts)
    if name == "Th":
        return str(rec.t_handshake)
    if name == "Ti":
        return str(rec.t_idle)
    if name == "TR":
        return str(t_request - rec.t_idle - rec.t_handshake if t_request >= 0 else -1)
    if name == "Tq":
        return str(t_request)
    if name == "Tw":
        return str(rec.t_queue - t_request if rec.t_queue >= 0 else -1)
    if name == "Tc":
        return str(rec.t_connect - rec.t_queue if rec.t_connect >= 0 else -1)
    if name == "Tr":
        return str(rec.t_data - rec.t_connect if rec.t_data >= 0 else -1)
    if name == "Td":
        start = rec.t_data if be is not None and be.cfg.mode.value == "http" else rec.t_connect
        return str(rec.t_close - start if start >= 0 else -1)
    if name == "Ta":
        return str(rec.t_close - idle)
    if name == "Tt":
        return str(rec.t_close)
    if name == "Tu":
        return str(rec.t_close - (rec.t_idle if rec.t_idle >= 0 else 0))
    if name == "ST":
        return str(rec.status)
    if name == "B":
        return str(rec.bytes_out)
    if name == "U":
        return str(rec.bytes_in)
    if name in ("CC", "CS", "ID", "sslc", "sslv"):
        return _text(None, opts)  # no cookie capture, unique id or TLS in herdsman
    if name == "ts":
        return rec.err + rec.fin
    if name == "tsc":
        return rec.err + rec.fin + "--"  # no persistence cookie in herdsman
    if name == "ac":
        return str(f.process.actconn)
    if name == "fc":
        return str(f.fe.feconn)
    if name == "bc":
        return str(be.beconn if be is not None else 0)
    if name == "sc":
        return str(rec.server.served if rec.server is not None else 0)
    if name == "rc":
        return ("+" if rec.redispatched else "") + str(rec.retries)
    if name == "sq":
        return str(rec.srv_queue_pos)
    if name == "bq":
        return str(rec.prx_queue_pos)
    if name in ("hr", "hrl", "hs", "hsl"):
        if not rec.in_stream:  # sess_log(): no stream, no capture
            return None
        nb = f.nb_req if name[1] == "r" else f.nb_rsp
        caps = rec.req_caps if name[1] == "r" else rec.rsp_caps
        return _caps(caps if caps is not None else [None] * nb, nb, opts, len(name) == 3)
    if name == "r":
        return _quoted(
            _encode(rec.uri if rec.uri is not None else "<BADREQ>", _URL_MAP, opts), opts
        )
    if name in ("HM", "HU", "HP", "HPO", "HQ", "HV"):
        return _quoted(_encode(_request_part(rec.uri, name), _URL_MAP, opts), opts)
    uniq, count = counters
    if name == "rt":
        return f"{uniq:04X}" if opts & HEXA else str(uniq)
    if name == "lc":
        return f"{count:04X}" if opts & HEXA else str(count)
    if name == "pid":
        return f"{f.pid:04X}" if opts & HEXA else str(f.pid)
    if name == "H":
        return _text(f.hostname, opts)
    raise ValueError(f"log variable %{name} has no value in herdsman")


def _quoted(text: str, options: int) -> str:
    return '"' + text + '"' if options & QUOTE else text


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
        else:
            text = _value(node, rec, facts, counters)
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
        self.nodes = nodes
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
