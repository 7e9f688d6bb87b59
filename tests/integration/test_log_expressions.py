"""``%[<sample expression>]`` in traffic-log formats, side by side with haproxy
2.6.12: the expression is evaluated when the line is built, at the end of the
stream (``SMP_VAL_FE_LOG_END``, ``LOG_OPT_RES_CAP``), with the stream's
variables, captures and trackers; options such as ``%{+Q}`` apply, an empty
value is ``-``. The helpers are test_traffic_logs.py's.
"""

from __future__ import annotations

import pytest
from test_traffic_logs import (
    GET,
    HTTP_TIMERS,
    TCP_TIMERS,
    Syslog,
    backends,
    compare,
    config,
    exchange,
)

from herdsman.testing import free_port

pytestmark = pytest.mark.haproxy

HTTP_FORMAT = (
    'log-format "%ci %b/%s %ST '
    "src=%[src] fe=%[fe_name] be=%[be_name] srv=%[srv_name] st=%[status] "
    "var=%[var(txn.who)] q=%{+Q}[var(txn.who)] none=%[var(txn.nothing)] "
    "cap=%[capture.req.hdr(0)] rescap=%[capture.res.hdr(0)] "
    "up=%[str(abc),upper] len=%[var(txn.who),length] rate=%[sc_http_req_rate(0)] "
    'meth=%[method] %%done"'
)


async def test_http_log_expressions_match_haproxy() -> None:
    """Fetches of every kind at log time: addresses and names, the status, a
    variable set by a rule (plain, quoted, missing), captures of both sides,
    converters, a tracked counter, the method (the request's headers are not
    usable at log time: test_config_routing.py compares those refusals)."""
    async with backends("http") as (ok,):
        port = free_port()
        body = (
            f"    {HTTP_FORMAT}\n"
            "    capture request header Host len 20\n"
            "    capture response header Server len 10\n"
            "    stick-table type ip size 10 expire 10s store http_req_rate(10s)\n"
            "    http-request track-sc0 src\n"
            "    http-request set-var(txn.who) req.hdr(user-agent)\n"
            f"    server s1 127.0.0.1:{ok.port}\n"
        )
        text = config(port, body, "http")

        async def script(p: int, _: Syslog) -> None:
            assert (await exchange(p, GET)).endswith(b"hello")

        (line,) = await compare(text, port, script, 1, HTTP_TIMERS)
        assert ' src=127.0.0.1 fe=L be=L srv=s1 st=200 var=t q="t" none=- ' in line
        assert " cap=example.com rescap=testsrv/1. up=ABC len=1 rate=1 " in line
        assert line.endswith(" meth=GET %done")


async def test_tcp_log_expressions_match_haproxy() -> None:
    """A TCP stream: the connection's fetches and a session variable."""
    async with backends("tcp") as (tcp,):
        port = free_port()
        body = (
            '    log-format "%ci %[src] %[dst_port] %[be_name] %[srv_name] %[var(sess.x)] '
            '%[fe_conn]"\n'
            "    tcp-request connection set-var(sess.x) str(seen)\n"
            f"    server s1 127.0.0.1:{tcp.port}\n"
        )
        text = config(port, body)

        async def script(p: int, _: Syslog) -> None:
            assert await exchange(p, b"hi\n", half=True) == b"banner\nhi\n"

        (line,) = await compare(text, port, script, 1, TCP_TIMERS)
        assert f" 127.0.0.1 {port} L s1 seen " in line


async def test_every_capture_slot_is_logged_as_haproxy() -> None:
    """``%hr``/``%hs`` list every slot in declaration order: header captures,
    ``declare capture`` slots filled by ``http-request capture ... id``, and
    slots of ``http-request capture ... len``."""
    async with backends("http") as (ok,):
        port = free_port()
        body = (
            "    option httplog\n"
            "    capture request header Host len 20\n"
            "    declare capture request len 8\n"
            "    http-request capture req.hdr(user-agent) id 1\n"
            "    http-request capture path len 4\n"
            "    capture response header Server len 10\n"
            "    declare capture response len 6\n"
            "    http-response capture res.hdr(content-length) id 1\n"
            f"    server s1 127.0.0.1:{ok.port}\n"
        )
        text = config(port, body, "http")

        async def script(p: int, _: Syslog) -> None:
            assert (await exchange(p, GET)).endswith(b"hello")

        (line,) = await compare(text, port, script, 1, HTTP_TIMERS)
        assert "{example.com|t|/foo} {testsrv/1.|5}" in line
