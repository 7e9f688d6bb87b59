"""Addresses (``tools.c str2sa_range()``) for servers, binds and ``addr``.

Every error text was printed by ``haproxy -c`` 2.6.12 (Debian, no QUIC);
the tests marked ``haproxy`` replay the tables through the binary.
"""

from __future__ import annotations

import errno
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from herdsman.config.address import (
    env_expand,
    invalid_address_message,
    parse_address,
    probe_socket_fd,
    split_bind_addresses,
)
from herdsman.config.diag import ConfigError
from herdsman.config.model_addr import Address, Family

HAPROXY = shutil.which("haproxy")
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="haproxy binary not installed")

ENV = {"H": "127.0.0.1", "P": "19001", "E": "", "PATH": "/usr/bin"}
INET, INET6, HOST = Family.INET, Family.INET6, Family.HOSTNAME
PATH97 = "/tmp/" + "a" * 92


def _addr(raw: str, family: Family, host: str, port: int = 0, **kw: object) -> Address:
    mapped = bool(kw.pop("mapped", False))
    end = kw.pop("port_end", 0 if mapped else port)
    return Address(raw, family, host, port, end, mapped, **kw)  # type: ignore[arg-type]


SERVERS = [
    _addr("127.0.0.1:80", INET, "127.0.0.1", 80),
    _addr("10.0.0.1", INET, "10.0.0.1", mapped=True),  # no port: client's port
    _addr("10.0.0.1:", INET, "10.0.0.1", mapped=True),
    _addr("10.0.0.1:0", INET, "10.0.0.1", mapped=True),
    _addr("10.0.0.1:+5", INET, "10.0.0.1", 5, mapped=True),
    _addr("10.0.0.1:-5", INET, "10.0.0.1", -5, mapped=True),
    _addr("10.0.0.1:+70000", INET, "10.0.0.1", 70000, mapped=True),  # no range check
    _addr("10.0.0.1:+x", INET, "10.0.0.1", mapped=True),  # atoi("x") == 0
    _addr("10.0.0.1:+", INET, "10.0.0.1", mapped=True),
    _addr("10.0.0.1:-", INET, "10.0.0.1", mapped=True),
    _addr("10.0.0.1:1x", INET, "10.0.0.1", 1),  # atoi stops at the 'x'
    _addr("10.0.0.1:4294967297", INET, "10.0.0.1", 1),  # truncated to an int
    _addr("10.0.0.1:65535", INET, "10.0.0.1", 65535),
    _addr("[::1]", INET6, "::1", mapped=True),
    _addr("[::1]:80", INET6, "::1", 80),
    _addr("::1:80", INET6, "::1", 80),
    _addr("::1:", INET6, "::1", mapped=True),
    _addr("[0:0::1]:80", INET6, "::1", 80),  # canonical form
    _addr("[::]:80", INET6, "::", 80),
    _addr("[::]", INET6, "::", mapped=True),
    _addr(":::", INET6, "::", mapped=True),
    _addr("::1", HOST, ":", 1),  # the last ':' separates the port
    _addr("::", HOST, ":", mapped=True),
    _addr("*", INET, "0.0.0.0", mapped=True),
    _addr("*:80", INET, "0.0.0.0", 80),
    _addr(":80", INET, "0.0.0.0", 80),
    _addr("0.0.0.0:+3", INET, "0.0.0.0", 3, mapped=True),
    _addr("ipv4@", INET, "0.0.0.0", mapped=True, force_family=INET),
    _addr("ipv6@", INET6, "::", mapped=True, force_family=INET6),
    _addr("ipv6@*:80", INET6, "::", 80, force_family=INET6),
    _addr("ipv4@localhost", HOST, "localhost", mapped=True, force_family=INET),
    _addr("ipv6@127.0.0.1", HOST, "127.0.0.1", mapped=True, force_family=INET6),
    _addr("ipv4@::1", HOST, ":", 1, force_family=INET),
    _addr("ipv4@[::1]:80", HOST, "[::1]", 80, force_family=INET),
    _addr("ip@127.0.0.1:80", INET, "127.0.0.1", 80),
    _addr("tcp@127.0.0.1:80", INET, "127.0.0.1", 80),
    _addr("tcp4@127.0.0.1:80", INET, "127.0.0.1", 80, force_family=INET),
    _addr("tcp6@[::1]:80", INET6, "::1", 80, force_family=INET6),
    _addr("stream+ipv4@127.0.0.1:80", INET, "127.0.0.1", 80, force_family=INET),
    _addr("example.com:80", HOST, "example.com", 80),
    _addr("_http._tcp.example.com", HOST, "_http._tcp.example.com", mapped=True),
    _addr("foo@bar", HOST, "foo@bar", mapped=True),
    _addr("1.2.3.4.5:80", HOST, "1.2.3.4.5", 80),
    _addr("[::1", HOST, "[:", 1),
    _addr("[]", HOST, "[]", mapped=True),
    _addr("[1.2.3.4]:80", INET, "1.2.3.4", 80),
    _addr("x:80:90", HOST, "x:80", 90),
    _addr("01.2.3.4:80", HOST, "01.2.3.4", 80),  # inet_pton refuses leading zeros
    _addr("quic4@foo:80", HOST, "foo", 80, force_family=INET),  # resolved later
    _addr("${H}:${P}", INET, "127.0.0.1", 19001),
    _addr("$H:$P", INET, "127.0.0.1", 19001),
    _addr("${NOPE}:80", INET, "0.0.0.0", 80),  # a missing variable vanishes
    _addr("unix@/tmp/s", Family.UNIX, "/tmp/s"),
    _addr("uxst@/tmp/s", Family.UNIX, "/tmp/s"),
    _addr("/tmp/s", Family.UNIX, "/tmp/s"),
    _addr(PATH97, Family.UNIX, PATH97),
    _addr("abns@" + "b" * 107, Family.ABNS, "b" * 107),
]


@pytest.mark.parametrize("expected", SERVERS, ids=lambda a: a.raw[:40])
def test_server_addresses(expected: Address) -> None:
    assert parse_address(expected.raw, "server", env=ENV) == expected


SERVER_ERRORS = [
    ("127.0.0.1:99999", "invalid port '99999'"),
    ("127.0.0.1:65536", "invalid port '65536'"),
    ("127.0.0.1:99999999999999999999", "invalid port '99999999999999999999'"),
    ("127.0.0.1:80-90", "port range not permitted here in '127.0.0.1:80-90'"),
    ("127.0.0.1:80-", "port range not permitted here in '127.0.0.1:80-'"),
    ("127.0.0.1:x1", "invalid character 'x' in port number 'x1' in '127.0.0.1:x1'\n"),
    ("fd@3", "a file descriptor is not acceptable here in 'fd@3'\n"),
    ("fd@x", "file descriptor 'x' is not a valid integer in 'fd@x'\n"),
    ("sockpair@x", "file descriptor 'x' is not a valid integer in 'sockpair@x'\n"),
    ("sockpair@-1", "file descriptor '-1' is not a valid integer in 'sockpair@-1'\n"),
    ("sockpair@", "file descriptor '' is not a valid integer in 'sockpair@'\n"),
    ("sockpair@99", "cannot use file descriptor '99' : Bad file descriptor.\n"),
    ("udp@127.0.0.1:80", "dgram-type address not acceptable in 'udp@127.0.0.1:80'\n"),
    ("udp@foo:80", "dgram-type address not acceptable in 'udp@foo:80'\n"),
    ("uxdg@/tmp/a", "dgram-type address not acceptable in 'uxdg@/tmp/a'\n"),
    (
        "dgram+ipv4@127.0.0.1:80",
        "dgram-type address not acceptable in 'dgram+ipv4@127.0.0.1:80'\n",
    ),
    (
        "stream+udp@127.0.0.1:80",  # the later prefix wins
        "dgram-type address not acceptable in 'stream+udp@127.0.0.1:80'\n",
    ),
    (
        "quic4@127.0.0.1:80",
        "unsupported stream protocol for datagram family 2 address 'quic4@127.0.0.1:80'; "
        "QUIC is not compiled in if this is what you were looking for.",
    ),
    (
        "quic6@[::1]:80",
        "unsupported stream protocol for datagram family 10 address 'quic6@[::1]:80'; "
        "QUIC is not compiled in if this is what you were looking for.",
    ),
    ("unix@" + PATH97 + "b", f"socket path 'unix@{PATH97}b' too long (max 97)\n"),
    (PATH97 + "b", f"socket path '{PATH97}b' too long (max 97)\n"),
    ("abns@" + "b" * 108, f"socket path 'abns@{'b' * 108}' too long (max 107)\n"),
    ("${NOPE}", "'${NOPE}' resolves to an empty address (environment variable missing?)\n"),
    ("${E}$E", "'${E}$E' resolves to an empty address (environment variable missing?)\n"),
]


@pytest.mark.parametrize(("text", "message"), SERVER_ERRORS)
def test_server_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_address(text, "server", env=ENV)
    assert exc.value.message == message


BINDS = [
    _addr("127.0.0.1:80", INET, "127.0.0.1", 80),
    _addr("127.0.0.1:8000-8010", INET, "127.0.0.1", 8000, port_end=8010),
    _addr("127.0.0.1:1x", INET, "127.0.0.1", 1),
    _addr(":80", INET, "0.0.0.0", 80),
    _addr("*:80", INET, "0.0.0.0", 80),
    _addr(":::80", INET6, "::", 80),
    _addr("[::1]:80", INET6, "::1", 80),
    _addr("ipv6@:80", INET6, "::", 80, force_family=INET6),
    _addr("localhost:80", HOST, "localhost", 80),  # the caller resolves it
    _addr("abns@foo", Family.ABNS, "foo"),
    _addr("unix@/tmp/x.sock", Family.UNIX, "/tmp/x.sock"),
]


@pytest.mark.parametrize("expected", BINDS, ids=lambda a: a.raw)
def test_bind_addresses(expected: Address) -> None:
    assert parse_address(expected.raw, "bind", env=ENV) == expected


BIND_ERRORS = [
    ("127.0.0.1", "missing port specification in '127.0.0.1'"),
    ("127.0.0.1:", "missing port specification in '127.0.0.1:'"),
    ("[::1]", "missing port specification in '[::1]'"),
    ("*", "missing port specification in '*'"),
    ("127.0.0.1:0", "invalid port '0'"),
    ("127.0.0.1:0-5", "invalid port '0'"),
    ("127.0.0.1:90-80", "invalid port range '90-80'"),
    ("127.0.0.1:80-99999", "invalid port '99999'"),
    ("127.0.0.1:80-", "invalid port ''"),
    ("127.0.0.1:80-x", "invalid port 'x'"),
    ("127.0.0.1:+5", "port offset not permitted here in '127.0.0.1:+5'"),
    ("127.0.0.1:-5", "port offset not permitted here in '127.0.0.1:-5'"),
    ("127.0.0.1:-", "port offset not permitted here in '127.0.0.1:-'"),
    ("127.0.0.1:x", "invalid character 'x' in port number 'x' in '127.0.0.1:x'\n"),
    ("fd@x", "file descriptor 'x' is not a valid integer in 'fd@x'\n"),
    ("fd@", "file descriptor '' is not a valid integer in 'fd@'\n"),
    ("fd@99", "cannot use file descriptor '99' : Bad file descriptor.\n"),
    ("sockpair@99", "cannot use file descriptor '99' : Bad file descriptor.\n"),
    ("udp@127.0.0.1:80", "dgram-type address not acceptable in 'udp@127.0.0.1:80'\n"),
    (
        "quic4@127.0.0.1:80",
        "unsupported stream protocol for datagram family 2 address 'quic4@127.0.0.1:80'; "
        "QUIC is not compiled in if this is what you were looking for.",
    ),
    ("${NOPE}", "'${NOPE}' resolves to an empty address (environment variable missing?)\n"),
]


@pytest.mark.parametrize(("text", "message"), BIND_ERRORS)
def test_bind_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_address(text, "bind", env=ENV)
    assert exc.value.message == message


def test_bind_unix_prefix_shortens_the_limit() -> None:
    addr = parse_address("/s", "bind", unix_prefix="/var/run")
    assert (addr.family, addr.host) == (Family.UNIX, "/var/run/s")
    with pytest.raises(ConfigError) as exc:
        parse_address("/" + "a" * 89, "bind", unix_prefix="/var/run")
    assert exc.value.message == f"socket path '/{'a' * 89}' too long (max 89)\n"
    # servers and abstract sockets ignore the prefix
    assert parse_address("/s", "server", unix_prefix="/var/run").host == "/s"
    assert parse_address("abns@s", "bind", unix_prefix="/var/run").host == "s"


CHECKS = [
    _addr("127.0.0.1", INET, "127.0.0.1"),
    _addr("127.0.0.1:8080", INET, "127.0.0.1", 8080),
    _addr("[::1]:80", INET6, "::1", 80),
    _addr("/tmp/x", Family.UNIX, "/tmp/x"),
    _addr("example.com:80", HOST, "example.com", 80),
]


@pytest.mark.parametrize("expected", CHECKS, ids=lambda a: a.raw)
def test_check_addresses(expected: Address) -> None:
    assert parse_address(expected.raw, "check") == expected


CHECK_ERRORS = [
    ("127.0.0.1:+1", "port offset not permitted here in '127.0.0.1:+1'"),
    ("127.0.0.1:1-2", "port range not permitted here in '127.0.0.1:1-2'"),
    ("1.2.3.4:x", "invalid character 'x' in port number 'x' in '1.2.3.4:x'\n"),
    ("fd@3", "a file descriptor is not acceptable here in 'fd@3'\n"),
    ("sockpair@99", "cannot use file descriptor '99' : Bad file descriptor.\n"),
    ("udp@1.2.3.4", "dgram-type address not acceptable in 'udp@1.2.3.4'\n"),
]


@pytest.mark.parametrize(("text", "message"), CHECK_ERRORS)
def test_check_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_address(text, "check")
    assert exc.value.message == message


def test_hostnames_for_bind_and_check_are_left_to_the_caller() -> None:
    addr = parse_address("nonexistent.invalid:80", "bind")
    assert invalid_address_message(addr) == (
        "invalid address: 'nonexistent.invalid' in 'nonexistent.invalid:80'\n"
    )


# -- inherited descriptors -------------------------------------------------------


def test_sockpair_and_fd_with_a_real_socket() -> None:
    a, b = socket.socketpair()
    with a, b:
        fd = a.fileno()
        addr = parse_address(f"sockpair@{fd}", "server")
        assert (addr.family, addr.fd) == (Family.SOCKPAIR, fd)
        assert parse_address(f"fd@{fd}", "bind").fd == fd
        assert probe_socket_fd(fd) == (socket.SOCK_STREAM, 0)
        a.send(b"x")  # the probe did not close the descriptor
        assert b.recv(1) == b"x"


@pytest.mark.parametrize(
    ("text", "probe", "expected"),
    [
        ("fd@7", (socket.SOCK_STREAM, 8080), _addr("fd@7", Family.FD, "", 8080, fd=7)),
        ("fd@+7", (socket.SOCK_STREAM, 0), _addr("fd@+7", Family.FD, "", 0, fd=7)),
        ("fd@4294967303", (socket.SOCK_STREAM, 0), _addr("fd@4294967303", Family.FD, "", fd=7)),
        ("sockpair@7", (socket.SOCK_DGRAM, 0), _addr("sockpair@7", Family.SOCKPAIR, "", fd=7)),
    ],
)
def test_fd_with_a_fake_probe(text: str, probe: tuple[int, int], expected: Address) -> None:
    assert parse_address(text, "bind", probe_fd=lambda fd: probe) == expected


@pytest.mark.parametrize(
    ("text", "err", "message"),
    [
        ("fd@7", None, "socket on file descriptor '7' is of the wrong type.\n"),
        (
            "fd@7",
            errno.ENOTSOCK,
            "cannot use file descriptor '7' : Socket operation on non-socket.\n",
        ),
        ("dgram+fd@7", errno.EBADF, "cannot use file descriptor '7' : Bad file descriptor.\n"),
    ],
)
def test_fd_probe_failures(text: str, err: int | None, message: str) -> None:
    def probe(fd: int) -> tuple[int, int]:
        if err is not None:
            raise OSError(err, "ignored")
        return socket.SOCK_DGRAM, 0

    with pytest.raises(ConfigError) as exc:
        parse_address(text, "bind", probe_fd=probe)
    assert exc.value.message == message


# -- helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("${H}:$P", "127.0.0.1:19001"),
        ("$NOPE", ""),
        ("a$", "a"),
        ("a${", "a"),
        ("${H", "127.0.0.1"),
        ("${NOPE-x}", "-x}"),  # no defaults here
        ("$H.x", "127.0.0.1.x"),
        ("$1", ""),
    ],
)
def test_env_expand(text: str, expanded: str) -> None:
    assert env_expand(text, ENV) == expanded


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (":80", [":80"]),
        (":80,:81", [":80", ":81"]),
        (":80,", [":80"]),
        (":80,,:81", [":80", "", ":81"]),
        (",:80", ["", ":80"]),
    ],
)
def test_split_bind_addresses(text: str, items: list[str]) -> None:
    assert split_bind_addresses(text) == items


# -- against the binary ------------------------------------------------------------

_HEAD = "defaults\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"
_ALERT = re.compile(r"\[ALERT\] +\(\d+\) : config : (.*)")


def _haproxy_alert(tmp_path: Path, body: str) -> str:
    """The first alert of a config, with a "\\n" when HAProxy printed an empty line after it."""
    assert HAPROXY is not None
    cfg = tmp_path / "a.cfg"
    cfg.write_text(_HEAD + body + "\n")
    out = subprocess.run(
        [HAPROXY, "-c", "-f", cfg.name],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    lines = out.stderr.split("\n")
    for i, line in enumerate(lines):
        if m := _ALERT.match(line):
            return m.group(1) + ("\n" if lines[i + 1 : i + 2] == [""] else "")
    return ""


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize(
    ("text", "message"), [e for e in SERVER_ERRORS if not e[0].startswith("sockpair@9")]
)
def test_server_errors_match_haproxy(tmp_path: Path, text: str, message: str) -> None:
    body = f"backend b\n    server s1 {text}"
    assert _haproxy_alert(tmp_path, body) == f"[a.cfg:6] : 'server b/s1' : {message}"


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize("text", [a.raw for a in SERVERS])
def test_server_addresses_match_haproxy(tmp_path: Path, text: str) -> None:
    """Accepted by haproxy too; hostnames only fail later, when resolved."""
    alert = _haproxy_alert(tmp_path, f"backend b\n    server s1 {text}")
    addr = parse_address(text, "server", env=ENV)
    if addr.family is Family.HOSTNAME:
        assert alert == "" or "resolve address" in alert
    else:
        assert alert == ""


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize(("text", "message"), BIND_ERRORS)
def test_bind_errors_match_haproxy(tmp_path: Path, text: str, message: str) -> None:
    # In the bind context HAProxy drops the message's own trailing newline.
    expected = f"parsing [a.cfg:6] : 'bind' : {message.rstrip(chr(10))}"
    assert _haproxy_alert(tmp_path, f"frontend f\n    bind {text}") == expected


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize(("text", "message"), CHECK_ERRORS)
def test_check_errors_match_haproxy(tmp_path: Path, text: str, message: str) -> None:
    body = f"backend b\n    server s1 127.0.0.1:80 addr {text}"
    expected = f"[a.cfg:6] : 'server b/s1' : 'addr' : {message.rstrip(chr(10))}."
    assert _haproxy_alert(tmp_path, body) == expected
