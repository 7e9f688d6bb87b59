"""External checks without processes: the argv and the environment of a run
(``checks/external.py``, spec §8.2; tests/integration/test_external_checks.py
records them from haproxy 2.6.12 and herdsman side by side)."""

from __future__ import annotations

import io

import pytest

from herdsman.checks.external import (
    NOT_USED,
    ExternalSpec,
    forks_allowed,
    invocation,
    listener_words,
    server_words,
)
from herdsman.checks.snapshot import external_spec
from herdsman.config.address import parse_address
from herdsman.config.diag import Diagnostics
from herdsman.config.model import BindConfig
from herdsman.config.model_addr import Address, Family
from herdsman.config.parser import parse_text
from herdsman.core.clock import ManualClock
from herdsman.runtime import Herdsman

SPEC = ExternalSpec(
    command="/usr/local/bin/check",
    path="/usr/bin:/bin",
    proxy_name="L",
    proxy_id=3,
    proxy_addr="127.0.0.1",
    proxy_port="8080",
    server_name="s1",
    server_id=2,
    maxconn=40,
    ssl=False,
    proto="tcp",
)


def test_argv_and_the_whole_environment_in_order() -> None:
    argv, env = invocation(SPEC, "10.0.0.1", "80", 5)
    assert argv == ["/usr/local/bin/check", "127.0.0.1", "8080", "10.0.0.1", "80"]
    assert list(env.items()) == [
        ("PATH", "/usr/bin:/bin"),
        ("HAPROXY_PROXY_NAME", "L"),
        ("HAPROXY_PROXY_ID", "3"),
        ("HAPROXY_PROXY_ADDR", "127.0.0.1"),
        ("HAPROXY_PROXY_PORT", "8080"),
        ("HAPROXY_SERVER_NAME", "s1"),
        ("HAPROXY_SERVER_ID", "2"),
        ("HAPROXY_SERVER_ADDR", "10.0.0.1"),
        ("HAPROXY_SERVER_PORT", "80"),
        ("HAPROXY_SERVER_MAXCONN", "40"),
        ("HAPROXY_SERVER_CURCONN", "5"),
        ("HAPROXY_SERVER_SSL", "0"),
        ("HAPROXY_SERVER_PROTO", "tcp"),
    ]


def test_not_used_in_argv_is_empty_in_the_environment() -> None:
    spec = ExternalSpec("c", "", "B", 1, NOT_USED, NOT_USED, "s", 1, 0, True, "tcp")
    argv, env = invocation(spec, "/tmp/s.sock", NOT_USED, 0)
    assert argv == ["c", NOT_USED, NOT_USED, "/tmp/s.sock", NOT_USED]
    assert (env["PATH"], env["HAPROXY_PROXY_ADDR"], env["HAPROXY_PROXY_PORT"]) == ("", "", "")
    assert (env["HAPROXY_SERVER_PORT"], env["HAPROXY_SERVER_SSL"]) == ("", "1")


def bind(text: str) -> BindConfig:
    return BindConfig(parse_address(text, "bind"))


@pytest.mark.parametrize(
    ("binds", "words"),
    [
        ([], (NOT_USED, NOT_USED)),
        (["127.0.0.1:8080"], ("127.0.0.1", "8080")),
        ([":8080"], ("0.0.0.0", "8080")),
        (["[::]:8080"], ("::", "8080")),
        (["[0:0::1]:81"], ("::1", "81")),
        (["127.0.0.1:8000-8002"], ("127.0.0.1", "8000")),
        (["/tmp/l.sock", "127.0.0.1:81"], ("/tmp/l.sock", NOT_USED)),
        (["abns@name"], ("", NOT_USED)),
    ],
)
def test_first_listener(binds: list[str], words: tuple[str, str]) -> None:
    assert listener_words([bind(b) for b in binds]) == words


def test_listeners_of_other_families_are_skipped() -> None:
    pair = BindConfig(Address("sockpair@4", Family.SOCKPAIR, fd=4))
    assert listener_words([pair, bind("127.0.0.1:81")]) == ("127.0.0.1", "81")


@pytest.mark.parametrize(
    ("addr", "words"),
    [
        ("127.0.0.1:80", ("127.0.0.1", "80")),
        ("[0:0::1]:80", ("::1", "80")),
        ("127.0.0.1", ("127.0.0.1", "0")),
        ("127.0.0.1:+1000", ("127.0.0.1", "1000")),
        ("127.0.0.1:-1", ("127.0.0.1", "4294967295")),  # %u of svc_port
        ("/tmp/s.sock", ("/tmp/s.sock", NOT_USED)),
        ("abns@srv", ("", NOT_USED)),
    ],
)
def test_server_address_and_port(addr: str, words: tuple[str, str]) -> None:
    assert server_words(parse_address(addr, "server")) == words


TEXT = """\
global
    external-check
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend F
    bind 127.0.0.1:18000
    default_backend B
backend B
    option external-check
    external-check command check.sh
    external-check path /opt/checks
    server s1 127.0.0.1:80 check minconn 50 maxconn 20
listen L
    id 7
    bind /tmp/hm-l.sock
    option external-check
    external-check command /bin/true
    server s2 127.0.0.1:81 id 4 check
"""


def test_spec_from_the_configuration() -> None:
    cfg = parse_text(TEXT, Diagnostics(), "t.cfg")
    assert cfg is not None
    hm = Herdsman(cfg, clock=ManualClock(), stderr=io.StringIO(), check_starter=lambda c, d: None)
    s1, s2 = hm.server("B/s1"), hm.server("L/s2")
    assert s1.check is not None
    assert s2.check is not None
    # automatic proxy ids count the frontend; minconn above maxconn raises maxconn
    assert external_spec(s1.check) == ExternalSpec(
        "check.sh", "/opt/checks", "B", 2, NOT_USED, NOT_USED, "s1", 1, 50, False, "tcp"
    )
    assert external_spec(s2.check) == ExternalSpec(
        "/bin/true", "", "L", 7, "/tmp/hm-l.sock", NOT_USED, "s2", 4, 0, False, "tcp"
    )


def test_forks_are_allowed_when_wanted() -> None:
    assert forks_allowed(True)
