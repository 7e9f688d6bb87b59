"""Protocol checks against scripted servers, side by side with haproxy 2.6.12.

For each case, a loopback server records what the check sends and answers
the scripted reply (``protoreplies``). haproxy and then herdsman run the
same configuration, every backend checking its own server, and log their
check results (``option log-health-checks``) to a UDP receiver. The bytes
each one sent and its first "Health check for server ..." line must be the
same: the request bytes of §7, and the status, code and info of the
verdict. (The SSLv3 hello carries the time: its 4 time bytes are compared
apart, within the test's run.)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, replace

import pytest
from checklog import config, first_lines, launched
from test_check_runner import Script, serve

import protoreplies as R
from herdsman.defs.protocols import ldap, mysql, pgsql, redis, spop
from herdsman.testing import Syslog, free_port, normalise_duration

pytestmark = pytest.mark.haproxy


@dataclass(frozen=True)
class Case:
    name: str
    option: str
    script: Script
    request: bytes | None = None  # what the check must send, when fixed (§7)


def _reply(size: int, reply: bytes, **kw: object) -> Script:
    return Script(read_request=False, size=size, reply=reply, **kw)  # type: ignore[arg-type]


HELO = b"HELO localhost\r\n"


def _smtp(reply: bytes, bye: bytes | None = None, **kw: object) -> Script:
    """Greeting, the reply to HELO/EHLO, then the reply to QUIT if given."""
    then = [(b"\r\n", bye)] if bye is not None else []
    return Script(
        read_request=False, banner=R.SMTP_GREETING, until=b"\r\n", reply=reply, then=then, **kw
    )  # type: ignore[arg-type]


MYSQL_USER = mysql.request(b"nobody")
MYSQL_PRE41 = mysql.request(b"nobody", pre41=True)
PG = pgsql.request(b"nobody")
HS = R.mysql_handshake()
VERSION = R.spop_str(b"version", b"2.0")
SIZE = R.spop_uint(b"max-frame-size", 16380)
SIZE_STR = R.spop_str(b"max-frame-size", b"1")
EXTRA = R.spop_uint(b"extra", 5) + R.spop_str(b"other", b"x")
_FRAME = bytes([spop.AGENT_HELLO]) + bytes(4) + b"\x00\x00" + VERSION + SIZE
FRAGMENT = len(_FRAME).to_bytes(4, "big") + _FRAME  # no FIN flag


def _spop(*items: bytes, kind: int = spop.AGENT_HELLO) -> bytes:
    return R.spop_frame(kind, *items)


def _ver(text: bytes) -> bytes:
    return R.spop_str(b"version", text)


def _size(value: int) -> bytes:
    return R.spop_uint(b"max-frame-size", value)


def _auth(code: int, extra: bytes = b"") -> bytes:
    return R.pg_message(b"R", code.to_bytes(4, "big") + extra)


def _ldap_result(code: int) -> bytes:
    return bytes.fromhex("300c02010161070a01") + bytes([code]) + bytes.fromhex("04000400")


CASES = [
    Case("redis_ok", "option redis-check", _reply(14, b"+PONG\r\n"), redis.REQUEST),
    Case("redis_auth", "option redis-check", _reply(14, b"-NOAUTH Authentication required.\r\n")),
    Case("redis_empty", "option redis-check", _reply(14, b"")),
    Case("redis_other", "option redis-check", _reply(14, b"$4\r\nPONG\r\n")),
    Case("redis_silent", "option redis-check", _reply(14, b"+PO", after="hold")),
    Case("mysql_ok", "option mysql-check", Script(read_request=False, banner=HS), b""),
    Case(
        "mysql_blocked",
        "option mysql-check",
        Script(read_request=False, banner=R.MYSQL_BLOCKED),
    ),
    Case("mysql_short", "option mysql-check", Script(read_request=False, banner=HS[:20])),
    Case(
        "mysql_user_ok",
        "option mysql-check user nobody",
        _reply(len(MYSQL_USER), R.MYSQL_OK, banner=HS),
        MYSQL_USER,
    ),
    Case(
        "mysql_user_denied",
        "option mysql-check user nobody post-41",
        _reply(len(MYSQL_USER), R.MYSQL_DENIED, banner=HS),
        MYSQL_USER,
    ),
    Case(
        "mysql_pre41",
        "option mysql-check user nobody pre-41",
        _reply(len(MYSQL_PRE41), R.MYSQL_OK, banner=HS),
        MYSQL_PRE41,
    ),
    Case("mysql_user_no_ok", "option mysql-check user nobody", _reply(len(MYSQL_USER), HS)),
    Case("pgsql_trust", "option pgsql-check user nobody", _reply(len(PG), R.PG_OK), PG),
    Case("pgsql_md5", "option pgsql-check user nobody", _reply(len(PG), R.PG_MD5)),
    Case("pgsql_scram", "option pgsql-check user nobody", _reply(len(PG), R.PG_SASL)),
    Case("pgsql_error", "option pgsql-check user nobody", _reply(len(PG), R.PG_NO_HBA)),
    Case("pgsql_garbage", "option pgsql-check user nobody", _reply(len(PG), b"garbage\r\n")),
    Case("smtp_ok", "option smtpchk", _smtp(R.SMTP_HELO_OK, R.SMTP_BYE), HELO),
    Case(
        "smtp_ehlo",
        "option smtpchk EHLO herdsman.test",
        _smtp(R.SMTP_EHLO_OK, R.SMTP_BYE),
        b"EHLO herdsman.test\r\n",
    ),
    Case("smtp_fallback", "option smtpchk FOO herdsman.test", _smtp(R.SMTP_HELO_OK, R.SMTP_BYE)),
    Case("smtp_quit_refused", "option smtpchk", _smtp(R.SMTP_HELO_OK, b"500 no\r\n")),
    Case("smtp_quit_silent", "option smtpchk", _smtp(R.SMTP_HELO_OK, after="hold")),
    Case(
        "smtp_ehlo_cut",
        "option smtpchk EHLO herdsman.test",
        _smtp(R.SMTP_EHLO_OK[:50], after="hold"),
    ),
    Case("smtp_refused", "option smtpchk", Script(read_request=False, banner=R.SMTP_REFUSED)),
    Case("smtp_denied", "option smtpchk", _smtp(R.SMTP_HELO_DENIED)),
    Case("smtp_garbage", "option smtpchk", Script(read_request=False, banner=b"hello\r\n")),
    Case(
        "smtp_multiline",
        "option smtpchk",
        Script(read_request=False, banner=R.SMTP_MULTILINE_GREETING, after="hold"),
    ),
    Case("ldap_ok", "option ldap-check", _reply(14, R.LDAP_SUCCESS), ldap.REQUEST),
    Case("ldap_ad", "option ldap-check", _reply(14, R.LDAP_SUCCESS_LONG)),
    Case("ldap_denied", "option ldap-check", _reply(14, R.LDAP_INVALID_CREDENTIALS)),
    Case("ldap_other_op", "option ldap-check", _reply(14, R.LDAP_NOT_BIND)),
    Case("ldap_http", "option ldap-check", _reply(14, R.HTTP_400)),
    Case("ldap_short", "option ldap-check", _reply(14, R.LDAP_SUCCESS[:10])),
    Case("ssl_alert", "option ssl-hello-chk", _reply(126, R.TLS_ALERT)),
    Case("ssl_handshake", "option ssl-hello-chk", _reply(126, R.TLS_HANDSHAKE)),
    Case("ssl_http", "option ssl-hello-chk", _reply(126, R.HTTP_400)),
    Case("ssl_short", "option ssl-hello-chk", _reply(126, R.TLS_ALERT[:2])),
    Case("spop_ok", "option spop-check", _reply(82, R.SPOP_HELLO), spop.request()),
    Case("spop_version", "option spop-check", _reply(82, R.SPOP_BAD_VERSION)),
    Case("spop_no_size", "option spop-check", _reply(82, R.SPOP_NO_FRAME_SIZE)),
    Case("spop_disconnect", "option spop-check", _reply(82, R.SPOP_DISCONNECT)),
    Case("spop_garbage", "option spop-check", _reply(82, R.HTTP_400)),
    Case("spop_no_caps", "option spop-check", _reply(82, _spop(VERSION, SIZE))),
    Case("spop_spaces", "option spop-check", _reply(82, _spop(_ver(b" 2.0 "), SIZE))),
    Case("spop_v2", "option spop-check", _reply(82, _spop(_ver(b"2"), SIZE))),
    Case("spop_extra", "option spop-check", _reply(82, _spop(VERSION, SIZE, EXTRA))),
    Case("spop_small", "option spop-check", _reply(82, _spop(VERSION, _size(100)))),
    Case("spop_big", "option spop-check", _reply(82, _spop(VERSION, _size(16381)))),
    Case("spop_size_str", "option spop-check", _reply(82, _spop(VERSION, SIZE_STR))),
    Case("spop_discon_plain", "option spop-check", _reply(82, _spop(kind=spop.AGENT_DISCON))),
    Case("spop_fragment", "option spop-check", _reply(82, FRAGMENT)),
    Case("spop_empty", "option spop-check", _reply(82, b"")),
    Case("mysql_empty", "option mysql-check", Script(read_request=False)),
    Case("mysql_tiny", "option mysql-check", Script(read_request=False, banner=HS[:3])),
    Case("pgsql_code8", "option pgsql-check user nobody", _reply(len(PG), _auth(8, b"x"))),
    Case("pgsql_code9", "option pgsql-check user nobody", _reply(len(PG), _auth(9))),
    Case("pgsql_code7", "option pgsql-check user nobody", _reply(len(PG), _auth(7))),
    Case("pgsql_empty", "option pgsql-check user nobody", _reply(len(PG), b"")),
    Case("ldap_code48", "option ldap-check", _reply(14, _ldap_result(48))),
    Case("ldap_len3", "option ldap-check", _reply(14, bytes.fromhex("3083000000") + bytes(9))),
    Case("ldap_more", "option ldap-check", _reply(14, R.LDAP_SUCCESS + b"more")),
    Case("ldap_empty", "option ldap-check", _reply(14, b"")),
    Case("ssl_empty", "option ssl-hello-chk", _reply(126, b"")),
    Case("smtp_empty", "option smtpchk", Script(read_request=False)),
]


async def _run(program: str) -> tuple[dict[str, str], list[Script]]:
    scripts = [replace(c.script, requests=[], peers=[], got=asyncio.Event()) for c in CASES]
    async with contextlib.AsyncExitStack() as stack:
        ports = [await stack.enter_async_context(serve(s)) for s in scripts]
        backends = [
            (c.name, [c.option], f"127.0.0.1:{port}", "")
            for c, port in zip(CASES, ports, strict=True)
        ]
        lines = await first_lines(program, backends)
    return lines, scripts


def _time_apart(request: bytes) -> tuple[bytes, int]:
    """An SSLv3 hello without its gmt_unix_time (bytes 11-14), and that time."""
    return request[:11] + request[15:], int.from_bytes(request[11:15], "big")


async def test_same_bytes_and_verdicts_as_haproxy() -> None:
    """Every case: the same request bytes and the same first log line as haproxy 2.6.12."""
    start = int(time.time())
    theirs, their_scripts = await _run("haproxy")
    ours, our_scripts = await _run("herdsman")
    end = int(time.time()) + 1
    for c, a, b in zip(CASES, their_scripts, our_scripts, strict=True):
        want, got = a.requests[:1], b.requests[:1]
        if c.option == "option ssl-hello-chk":
            (want_body, want_time), (got_body, got_time) = map(_time_apart, want + got)
            assert got_body == want_body, c.name
            assert start <= want_time <= end, c.name
            assert start <= got_time <= end, c.name
        else:
            assert got == want, c.name
            if c.request is not None:
                assert got == ([c.request] if c.request else []), c.name
    assert ours == theirs


# -- a success reported twice ------------------------------------------------------------

TWICE = [
    Case("mysql", "option mysql-check", Script(read_request=False, banner=HS)),
    Case("ldap", "option ldap-check", _reply(14, R.LDAP_SUCCESS)),
    Case("spop", "option spop-check", _reply(82, R.SPOP_HELLO)),
]


async def _coming_up(program: str) -> dict[str, list[str]]:
    """The check lines of each TWICE backend from DOWN (nothing listens) to UP."""
    ports = [free_port() for _ in TWICE]
    backends = [
        (c.name, [c.option], f"127.0.0.1:{port}", " rise 2 fall 1")
        for c, port in zip(TWICE, ports, strict=True)
    ]
    log = Syslog()
    try:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(launched(program, config(log.port, backends, "300ms")))
            for c in TWICE:
                await log.wait_line(f"Server {c.name}/s is DOWN")
            seen = len(log.lines)
            for c, port in zip(TWICE, ports, strict=True):
                await stack.enter_async_context(serve(replace(c.script), port=port))
            for c in TWICE:
                await log.wait_line(f"Server {c.name}/s is UP")
    finally:
        log.close()
    return {
        c.name: [
            normalise_duration(line)
            for line in log.lines[seen:]
            if line.startswith(f"Health check for server {c.name}/")
        ]
        for c in TWICE
    }


async def test_custom_success_counts_twice_as_in_haproxy() -> None:
    """mysql-check, ldap-check, spop-check: 2.6.12 reports a success twice, so a DOWN
    server with ``rise 2`` is UP after one good check (docs/checks.md)."""
    theirs = await _coming_up("haproxy")
    assert theirs["mysql"] == [
        "Health check for server mysql/s succeeded, reason: Layer7 check passed, code: 0, "
        f'info: "{R.MARIADB_VERSION.decode()}", check duration: Nms, status: 1/2 DOWN.',
        "Health check for server mysql/s succeeded, reason: Layer7 check passed, code: 0, "
        "check duration: Nms, status: 1/1 UP.",
    ]
    assert await _coming_up("herdsman") == theirs
