"""The traffic-log format parser (``parse_logformat_string()``) and the line builder
(``sess_build_logline()``), without sockets. The lines as a whole are compared
with haproxy 2.6.12 in tests/integration/test_traffic_logs.py."""

from __future__ import annotations

import pytest

from herdsman.admin.log import Logger
from herdsman.admin.trafficlog import TrafficLog, build_line
from herdsman.config.kw_logs import CLF_LOG, HTTP_LOG, TCP_LOG, compile_format
from herdsman.config.model import Cap, Capture, Mode, ProxyConfig
from herdsman.core.registry import FrontendState, ProcessState
from herdsman.core.streamlog import StreamLog
from herdsman.sample.lfparse import MANDATORY, QUOTE, SEP, LogFormatError, Var, parse

# 2026-10-30 05:07:09.012 UTC
WALL = 1_793_336_829.012


@pytest.mark.parametrize(
    ("fmt", "nodes"),
    [
        ("a%%b", ("a%b",)),
        ("%-x", ("-x",)),  # a '%' before a character that starts nothing is dropped
        ("%ci:%cp", (Var("ci"), ":", Var("cp"))),
        ("%{+Q}r", (Var("r", QUOTE),)),
        ("%{+Q,+Z,-Q}r", (Var("r"),)),  # unknown options are ignored
        ("%{+Q}o %ci %{-Q}cp", (" ", Var("ci", QUOTE), " ", Var("cp"))),  # %o: defaults
        ("%Tt5", None),  # a variable name is letters then alphanumerics: unknown "Tt5"
    ],
)
def test_parse(fmt: str, nodes: tuple[object, ...] | None) -> None:
    if nodes is None:
        with pytest.raises(LogFormatError, match="no such format variable 'Tt5'"):
            parse(fmt)
        return
    assert parse(fmt) == nodes


def test_merge_spaces_makes_separators() -> None:
    assert parse("%ci  x %cp", merge_spaces=True, options=MANDATORY) == (
        Var("ci", MANDATORY),
        SEP,
        SEP,
        "x",
        SEP,
        Var("cp", MANDATORY),
    )


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("%", "truncated line after '%'"),
        ("%{+Q", "truncated line after '+Q'"),
        ("%5", "unexpected variable name near '5' at position 1 line : '%5'."),
        ("%{+Q} ", "parse argument modifier without variable name near '%{+Q}'"),
        ("%[src]", "sample expressions are not supported here"),  # no expression parser
        ("%bi", "format variable 'bi' (the server connection's source address) is not"),
    ],
)
def test_errors(fmt: str, message: str) -> None:
    with pytest.raises(LogFormatError) as info:
        compile_format(fmt, http=True)
    assert info.value.message.startswith(message)


def test_http_variables_are_refused_in_tcp_mode() -> None:
    with pytest.raises(LogFormatError, match="format variable 'tr' is reserved for HTTP mode"):
        compile_format(HTTP_LOG, http=False)
    assert compile_format(TCP_LOG, http=False)
    assert compile_format(CLF_LOG, http=True)


def _front(mode: Mode = Mode.HTTP, req: int = 0, rsp: int = 0) -> FrontendState:
    cfg = ProxyConfig("fe", "frontend", Cap.FE, mode=mode)
    cfg.capture_req = [Capture("host", 20)] * req
    cfg.capture_rsp = [Capture("server", 10)] * rsp
    fe = FrontendState(cfg, 100)
    fe.feconn = 1
    return fe


class _Sent:
    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []


def _traffic(fe: FrontendState, fmt: str) -> tuple[TrafficLog, list[tuple[int, str]]]:
    sent: list[tuple[int, str]] = []

    class Capture(Logger):
        def send(self, level: int | str, message: str | bytes) -> None:
            sent.append((int(level), str(message)))

    nodes = compile_format(fmt, fe.cfg.mode is Mode.HTTP)
    process = ProcessState(100)
    process.actconn = 1
    logger = Capture([])
    return TrafficLog(nodes, logger, fe, process, pid=42, hostname="h"), sent


def _record() -> StreamLog:
    rec = StreamLog(WALL, ("127.0.0.1", 40000), ("127.0.0.1", 80), 1)
    rec.t_idle, rec.t_request, rec.t_queue, rec.t_connect = 0, 2, 3, 4
    rec.t_data, rec.t_close, rec.status, rec.bytes_out = 10, 12, 200, 71
    rec.uri = 'GET /a"b\x01 HTTP/1.1'
    return rec


def test_httplog_line_escapes_and_captures() -> None:
    fe = _front(req=2, rsp=1)
    log, sent = _traffic(fe, HTTP_LOG)
    rec = _record()
    rec.req_caps = ["a|b", None]
    log.log(rec)
    ((level, line),) = sent
    assert level == 6
    assert line.split(" ", 2)[2] == (
        "fe fe/<NOSRV> 2/1/1/6/12 200 71 - - ---- 1/1/0/0/0 0/0 {a#7Cb|} {} "
        '"GET /a#22b#01 HTTP/1.1"'
    )
    assert line.startswith("127.0.0.1:40000 [")


def test_levels_and_dontlog_normal() -> None:
    fe = _front(Mode.TCP)
    fe.cfg.options.update({"log-separate-errors": True, "dontlog-normal": True})
    log, sent = _traffic(fe, TCP_LOG)
    normal = _record()
    normal.bytes_in = 1
    log.log(normal)  # dontlog-normal: dropped
    failed = _record()
    failed.bytes_in = 1
    failed.set_term("S", "C")
    failed.set_term("c", "D")  # the first cause stays
    log.log(failed)
    assert [(lvl, text.split()[-3]) for lvl, text in sent] == [(3, "SC")]


def test_dontlognull() -> None:
    fe = _front(Mode.TCP)
    fe.cfg.options["dontlognull"] = True
    log, sent = _traffic(fe, TCP_LOG)
    log.log(_record())
    assert sent == []


def test_quoted_and_hex_values() -> None:
    fe = _front()
    rec = _record()
    nodes = compile_format("%{+Q}ci %{+X}ci:%{+X}cp %{+Q}b %{+Q}CC %{+E}r %ms", http=True)
    log, _ = _traffic(fe, TCP_LOG)
    assert build_line(nodes, rec, log.facts) == (
        '"127.0.0.1" 7F000001:9C40 "fe" "" GET /a#22b#01 HTTP/1.1 012'
    )


def test_every_variable_has_a_value() -> None:
    """Every variable a format may name renders (``%o`` sets options, ``%bi``/``%bp``
    are refused at parse time)."""
    from herdsman.admin.trafficlog import VALUES
    from herdsman.sample.lfparse import VARIABLES

    assert set(VALUES) == VARIABLES - {"o", "bi", "bp"}


def test_sample_expressions_render_at_log_time() -> None:
    """``%[...]`` with options: quoted, ``-`` when empty, the C string up to a NUL;
    no transaction (a stream without rules) reads as empty."""
    import ipaddress

    from herdsman.sample import registry as R
    from herdsman.sample.lfparse import Expr
    from herdsman.sample.logformat import expr_parser
    from herdsman.sample.registry import Compiler
    from herdsman.sample.txn import Txn

    fmt = "%{+Q}[src] %[var(txn.x)] %[var(txn.y)] %{+Q}[var(txn.none)]"
    nodes = compile_format(fmt, True, expr_parser(Compiler(), R.FE_LOG_END))
    assert [n.options for n in nodes if isinstance(n, Expr)] == [
        MANDATORY | QUOTE,
        MANDATORY,
        MANDATORY,
        MANDATORY | QUOTE,
    ]
    txn = Txn()
    txn.src = ipaddress.ip_address("192.0.2.7")
    txn.txn_vars = {"x": b"a\0b", "y": b""}
    rec = _record()
    rec.txn = txn
    tl, _ = _traffic(_front(), "%ci")
    assert build_line(nodes, rec, tl.facts) == '"192.0.2.7" a - ""'
    rec.txn = None
    assert build_line(nodes, rec, tl.facts) == '"" - - ""'
