"""More of issue 17's actions, converters and match methods side by side with
haproxy 2.6.12 (``sidebyside.py``): tarpit, general purpose counters,
response variables, ``tcp-request session``, ``tcp-response content``, map
files, ``-m ip``, ``-M``, the ``src_*`` and ``table_*`` counters. What the
client and the servers see is compared byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sidebyside import both, frontend, get, listen

pytestmark = pytest.mark.haproxy

BACKENDS = (
    "backend b1\n    server s1 127.0.0.1:@s1\n    server s2 127.0.0.1:@s2\n"
    "backend b2\n    server s3 127.0.0.1:@s3\n"
)


async def _same(text: str, requests: list[bytes], one_connection: bool = True) -> None:
    theirs, mine = await both(text, requests, one_connection)
    assert mine.responses == theirs.responses, (theirs.responses, mine.responses)
    assert mine.origins == theirs.origins, (theirs.origins, mine.origins)


async def test_tarpit_answers_500_after_the_delay() -> None:
    text = frontend("timeout tarpit 200ms", "http-request tarpit if { path /t }")
    await _same(text, [get("/"), get("/t")], one_connection=False)


async def test_gpc0_counters_and_response_variables() -> None:
    text = listen(
        "stick-table type ip size 10 store gpc0,gpc0_rate(10s),http_req_cnt",
        "http-request track-sc1 src",
        "http-request sc-inc-gpc0(1) if { path /inc }",
        "http-request set-header x-gpc %[sc1_get_gpc0]/%[sc_gpc0_rate(1)]/%[src_get_gpc0]",
        "http-request set-header x-src %[src_http_req_cnt]/%[src_conn_cur]",
        "http-response set-var(res.srv) res.hdr(x-srv)",
        "http-response set-var(txn.st) status",
        "http-after-response set-header x-after %[var(txn.st)]-%[var(res.srv)]",
    )
    await _same(text, [get("/"), get("/inc"), get("/inc"), get("/")])


async def test_table_converters() -> None:
    text = listen(
        "stick-table type ip size 10 store http_req_cnt,http_req_rate(10s),gpc0",
        "http-request track-sc0 src",
        "http-request set-header x-t %[src,table_http_req_cnt]/%[src,table_http_req_rate]",
        "http-request set-header x-g %[src,table_gpc0]/%[src,in_table(L)]/%[str(1.2.3.4),in_table(L)]",
        "http-request set-header x-c %[table_cnt]/%[table_avl]",
    )
    await _same(text, [get("/"), get("/")])


async def test_map_files_and_match_flags(tmp_path: Path) -> None:
    (tmp_path / "hosts.map").write_text("example.com b2\n# a comment\nother.com b1\n")
    (tmp_path / "paths.map").write_text("/api api\n/api/v2 api2\n/st static\n")
    (tmp_path / "ints.map").write_text("/api 1\n/api/v2 2\n")
    (tmp_path / "nets.lst").write_text("10.0.0.0/8\n127.0.0.0/8\n")
    text = frontend(
        f"use_backend %[req.hdr(host),lower,map({tmp_path}/hosts.map,b1)]",
        f"http-request set-header x-p %[path,map_beg({tmp_path}/paths.map,none)]",
        f"http-request set-header x-pi %[path,map_beg_int({tmp_path}/ints.map,7)]",
        f"http-request set-header x-net 1 if {{ src -m ip -f {tmp_path}/nets.lst }}",
        f"http-request set-header x-M 1 if {{ req.hdr(host) -M -f {tmp_path}/hosts.map }}",
        "http-request set-header x-ip 1 if { req.hdr(x-ip) -m ip 192.168.0.0/16 ::1 }",
    )
    requests = [
        get("/api/v2/x"),
        get("/api/x", "x-ip: 192.168.3.4"),
        get("/st"),
        b"GET /z HTTP/1.1\r\nhost: OTHER.com\r\nx-ip: ::1\r\n\r\n",
        b"GET /z HTTP/1.1\r\nhost: nowhere\r\n\r\n",
    ]
    await _same(text, requests)


def _tcp(*lines: str, backend: str = "") -> str:
    body = "".join(f"    {line}\n" for line in lines)
    return (
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        "frontend fe\n    bind 127.0.0.1:@fe\n" + body + "    default_backend b1\n"
        "backend b1\n" + backend + "    server s1 127.0.0.1:@s1\n"
        "backend b2\n    server s3 127.0.0.1:@s3\n"
    )


async def test_tcp_session_rules() -> None:
    text = _tcp(
        "tcp-request session set-var(sess.ok) int(1)",
        "tcp-request session reject if { src 10.0.0.0/8 }",
        "tcp-request inspect-delay 1s",
        "tcp-request content accept if { var(sess.ok) -m int 1 } { req.len gt 0 }",
        "use_backend b2 if { var(sess.ok) -m int 1 } { req.payload(0,3) -m str PUT }",
    )
    await _same(text, [get("/"), get("/", method="PUT")], one_connection=False)


async def test_tcp_response_content_rules() -> None:
    text = _tcp(
        backend="    tcp-response inspect-delay 1s\n"
        "    tcp-response content reject if { res.payload(9,3) -m str 404 }\n"
        "    tcp-response content accept if { res.len gt 0 }\n"
    )
    requests = [get("/"), get("/", "x-reply-status: 404"), get("/")]
    await _same(text, requests, one_connection=False)


async def test_tcp_response_close_forwards_then_closes() -> None:
    text = _tcp(
        backend="    tcp-response inspect-delay 1s\n"
        "    tcp-response content close if { res.len gt 0 }\n"
    )
    await _same(text, [get("/"), get("/")], one_connection=False)


async def test_hash_balancing_reads_the_rewritten_request() -> None:
    """``balance hdr()`` and ``balance uri`` hash the request as the rules left it."""
    servers = "".join(f"    server s{n} 127.0.0.1:@s{n}\n" for n in (1, 2, 3))
    hdr = listen(
        "balance hdr(x-k)",
        "http-request set-header x-k %[path]",
        servers=servers,
    )
    uri = listen(
        "balance uri",
        "http-request set-path /fixed%[path] if { path_beg /a }",
        servers=servers,
    )
    requests = [get(f"/{c}{n}") for c in "ab" for n in range(6)]
    await _same(hdr, requests, one_connection=False)
    await _same(uri, requests, one_connection=False)
