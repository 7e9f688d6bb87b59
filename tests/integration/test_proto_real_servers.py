"""Protocol checks against the real servers (tests/servers/), side by side with haproxy 2.6.12.

Each test starts its servers, runs haproxy and then herdsman with one
backend per scenario, and requires the same first check line from both,
equal to the one written here; then it stops a server and requires the
same refused connection from both. Checks run every second, which is also
their timeout: real servers on a loaded machine may take more than the
500 ms the scripted tests use.

What these show about 2.6.12 (docs/checks.md): Redis with ``requirepass``
answers ``-NOAUTH`` and keeps the connection open, so the check times out;
PostgreSQL passes with trust, md5 and also scram-sha-256; MariaDB passes with
and without the check user, and an unknown user fails with error 1045; Exim
ends with QUIT; slapd's anonymous bind passes, and fails with code 48 when
anonymous binds are disallowed.
"""

from __future__ import annotations

import pytest
from checklog import Backend, first_lines

from servers.exim import HOSTNAME, Exim
from servers.mariadb import MariaDB
from servers.openssl import OpenSSLServer
from servers.postgres import Postgres
from servers.redis import Redis
from servers.slapd import Slapd

pytestmark = pytest.mark.haproxy

L7OK, L7STS, L7RSP = "Layer7 check passed", "Layer7 wrong status", "Layer7 invalid response"
RFC = "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"


# Exim forks for each connection, and a check's three exchanges with it can take
# more than the 1s of inter on a loaded machine: the checks that end on a reply
# get more time once connected (the connect timeout stays min(inter, timeout
# connect)); the one that must time out keeps inter.
SMTP = ["option smtpchk", "timeout check 3s"]


def line(name: str, reason: str, code: int | None = None, info: str | None = None) -> str:
    """A "Health check for server <name>/s ..." line of a server that was up."""
    ok = reason in (L7OK, "Layer6 check passed")
    return (
        f"Health check for server {name}/s {'succeeded' if ok else 'failed'}, reason: {reason}"
        + (f", code: {code}" if code is not None else "")
        + (f', info: "{info}"' if info is not None else "")
        + f", check duration: Nms, status: {'3/3 UP' if ok else '0/2 DOWN'}."
    )


def refused(name: str) -> str:
    return line(name, "Layer4 connection problem", info="Connection refused")


async def same_as_haproxy(backends: list[Backend]) -> dict[str, str]:
    """The first check line of each backend: herdsman's, once it equals haproxy's."""
    theirs = await first_lines("haproxy", backends, inter="1s")
    ours = await first_lines("herdsman", backends, inter="1s")
    assert ours == theirs
    return ours


async def test_redis() -> None:
    with Redis() as plain, Redis(password="secret") as protected:
        got = await same_as_haproxy(
            [
                ("up", ["option redis-check"], plain.addr, ""),
                ("requirepass", ["option redis-check"], protected.addr, ""),
            ]
        )
        assert got == {
            "up": line("up", L7OK, 0, "Redis server is ok"),
            # -NOAUTH, and the connection stays open: the mismatch waits for more
            "requirepass": line("requirepass", "Layer7 timeout"),
        }
        plain.stop()
        assert await same_as_haproxy([("up", ["option redis-check"], plain.addr, "")]) == {
            "up": refused("up")
        }


async def test_mariadb() -> None:
    with MariaDB(users=["hcheck"]) as db:
        version = "5.5.5-" + db.version
        denied = "Access denied for user 'nosuch'@'localhost' (using password: NO)"
        got = await same_as_haproxy(
            [
                ("handshake", ["option mysql-check"], db.addr, ""),
                ("user", ["option mysql-check user hcheck"], db.addr, ""),
                ("pre41", ["option mysql-check user hcheck pre-41"], db.addr, ""),
                ("unknown", ["option mysql-check user nosuch"], db.addr, ""),
                ("unknown41", ["option mysql-check user nosuch pre-41"], db.addr, ""),
            ]
        )
        assert got == {
            "handshake": line("handshake", L7OK, 0, version),
            "user": line("user", L7OK, 0, version),
            "pre41": line("pre41", L7OK, 0, version),
            "unknown": line("unknown", L7STS, 1045, "#28000" + denied),
            "unknown41": line("unknown41", L7STS, 1045, denied),
        }
        db.stop()
        backends = [("user", ["option mysql-check user hcheck"], db.addr, "")]
        assert await same_as_haproxy(backends) == {"user": refused("user")}


async def test_postgres() -> None:
    hba = {"trusted": "trust", "md5user": "md5", "scramuser": "scram-sha-256", "rejected": "reject"}
    with Postgres(hba) as pg:
        got = await same_as_haproxy(
            [
                (method, [f"option pgsql-check user {user}"], pg.addr, "")
                for user, method in [*hba.items(), ("other", "nohba")]
                for method in [method.replace("-", "_")]
            ]
        )
        assert got == {
            "trust": line("trust", L7OK, 0, "PostgreSQL server is ok"),
            "md5": line("md5", L7OK, 0, "PostgreSQL server is ok"),
            # 2.6.12 accepts a SASL request (the spec's 2.6.0 did not)
            "scram_sha_256": line("scram_sha_256", L7OK, 0, "PostgreSQL server is ok"),
            # an ErrorResponse: its first field, the severity
            "reject": line("reject", L7RSP, info="FATAL"),
            "nohba": line("nohba", L7RSP, info="FATAL"),
        }
        pg.stop()
        backends = [("trust", ["option pgsql-check user trusted"], pg.addr, "")]
        assert await same_as_haproxy(backends) == {"trust": refused("trust")}


async def test_exim() -> None:
    with Exim() as mx:
        bye = f"{HOSTNAME} closing connection"
        got = await same_as_haproxy(
            [
                ("helo", SMTP, mx.addr, ""),
                ("ehlo", ["option smtpchk EHLO herdsman.test", "timeout check 3s"], mx.addr, ""),
                ("denied", ["option smtpchk HELO denied.test"], mx.addr, ""),
                ("refusing", SMTP, f"127.0.0.1:{mx.refusing_port}", ""),
                ("multiline", SMTP, f"127.0.0.1:{mx.multiline_port}", ""),
            ]
        )
        assert got == {
            "helo": line("helo", L7OK, 221, bye),
            "ehlo": line("ehlo", L7OK, 221, bye),
            # 550 to HELO, connection open: the reply rule has no min-recv and waits
            "denied": line("denied", "Layer7 timeout"),
            "refusing": line("refusing", L7STS, 550, "Administrative prohibition"),
            # "220-...": the greeting rule fails on its first line
            "multiline": line("multiline", L7RSP, info=f"220-{HOSTNAME} ESMTP"),
        }
        mx.stop()
        assert await same_as_haproxy([("helo", ["option smtpchk"], mx.addr, "")]) == {
            "helo": refused("helo")
        }


async def test_slapd() -> None:
    with Slapd() as ldap, Slapd(anonymous=False) as closed:
        got = await same_as_haproxy(
            [
                ("anonymous", ["option ldap-check"], ldap.addr, ""),
                ("disallowed", ["option ldap-check"], closed.addr, ""),
            ]
        )
        assert got == {
            "anonymous": line("anonymous", L7OK, 0, "Success"),
            "disallowed": line("disallowed", L7STS, 48, RFC),  # inappropriateAuthentication
        }
        ldap.stop()
        assert await same_as_haproxy([("anonymous", ["option ldap-check"], ldap.addr, "")]) == {
            "anonymous": refused("anonymous")
        }


async def test_openssl_s_server() -> None:
    with OpenSSLServer() as tls, Redis() as plain:
        got = await same_as_haproxy(
            [
                ("tls", ["option ssl-hello-chk"], tls.addr, ""),
                ("plain", ["option ssl-hello-chk"], plain.addr, ""),
            ]
        )
        assert got == {
            # OpenSSL 3 refuses SSLv3 with an alert: still "speaks SSL"
            "tls": line("tls", "Layer6 check passed"),
            # a server that waits for more of what it takes for a command
            "plain": line("plain", "Layer6 timeout"),
        }
        tls.stop()
        assert await same_as_haproxy([("tls", ["option ssl-hello-chk"], tls.addr, "")]) == {
            "tls": refused("tls")
        }
