"""The protocol check options as ``-c`` reports them, and the ruleset a proxy ends up with
(``config/proto_checks.py``, spec §7 and §6.1).

Texts were captured from the 2.6.12 binary; tests/integration/test_config_vs_haproxy.py
runs these cases through it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_check_config import parse_section

from configcase import FATAL_PARSE, FATAL_POST, Case, case, check_herdsman, listen, params, section
from herdsman.defs.rules import ConnectRule, ExpectRule, RulesetKind, SendRule

L = listen
S = "server s1 127.0.0.1:80 check"
P = "parsing [F:8] : "

# option (with its arguments), the word refused after "x y z w", the ruleset kind
PROTOCOLS = [
    ("redis-check", "x", RulesetKind.REDIS),
    ("mysql-check user u post-41", "x", RulesetKind.MYSQL),
    ("pgsql-check user u", "x", RulesetKind.PGSQL),
    ("smtpchk EHLO mx", "x", RulesetKind.SMTP),
    ("ldap-check", "x", RulesetKind.LDAP),
    ("ssl-hello-chk", "x", RulesetKind.SSL3),
    ("spop-check", "x", RulesetKind.SPOP),
]


def _defaults(option: str) -> str:
    return section("listen L", "bind 127.0.0.1:18000", S).replace(
        "defaults\n", f"defaults\n    option {option}\n", 1
    )


def _frontend(option: str) -> str:
    head = section("frontend f", "bind 127.0.0.1:18000", f"option {option}", "default_backend b")
    return head + f"backend b\n    {S}\n"


PER_OPTION = [
    c
    for option, extra, _ in PROTOCOLS
    for name in [option.split()[0]]
    for c in (
        case(name, L(f"option {option}", S)),
        case(
            f"{name}-extra-word",
            L(f"option {option} x y", S),
            P + f"'option {name}' cannot handle unexpected argument '{extra}'.",
            *FATAL_PARSE,
        ),
        case(
            f"{name}-in-frontend",
            _frontend(option),
            f"WARNING: parsing [F:8] : '{name}' ignored because frontend 'f' has no backend "
            "capability.",
        ),
        case(f"{name}-in-defaults", _defaults(option)),
        case(
            f"no-{name}",
            L(f"no option {name}", S),
            f"parsing [F:8]: negation/default is not supported for option '{name}'.",
            *FATAL_PARSE,
        ),
    )
]

ARGUMENTS = [
    case("mysql-check-alone", L("option mysql-check", S)),
    case("mysql-check-user", L("option mysql-check user haproxy", S)),
    case("mysql-check-pre-41", L("option mysql-check user haproxy pre-41", S)),
    case(
        "mysql-check-not-user",
        L("option mysql-check foo", S),
        P + "'option mysql-check' only supports optional values: 'user' (got 'foo').",
        *FATAL_PARSE,
    ),
    case(
        "mysql-check-no-name",
        L("option mysql-check user", S),
        P + "'option mysql-check user' expects <username> as argument.",
        *FATAL_PARSE,
    ),
    case(
        "mysql-check-bad-version",
        L("option mysql-check user bob post-42", S),
        P + "keyword 'user' only supports 'post-41' and 'pre-41' (got 'post-42').",
        *FATAL_PARSE,
    ),
    case(
        "pgsql-check-alone",
        L("option pgsql-check", S),
        P + "'option pgsql-check' expects 'user <username>' as argument.",
        *FATAL_PARSE,
    ),
    case(
        "pgsql-check-no-name",
        L("option pgsql-check user", S),
        P + "'option pgsql-check' expects 'user <username>' as argument.",
        *FATAL_PARSE,
    ),
    case(
        "pgsql-check-not-user",
        L("option pgsql-check foo bar", S),
        P + "'option pgsql-check' only supports optional values: 'user'.",
        *FATAL_PARSE,
    ),
    case("smtpchk-unknown-command", L("option smtpchk foo", S)),
    case("smtpchk-helo-domain", L("option smtpchk HELO mx.example.com", S)),
]

INTERPLAY = [
    case(
        "redis-then-tcp-check-rules",
        L("option redis-check", "tcp-check send x", S),
        "WARNING: proxy 'L' uses tcp-check rules without 'option tcp-check', so the rules are "
        "ignored.",
    ),
    case("tcp-check-rules-then-redis", L("tcp-check send x", "option redis-check", S)),
    case("http-check-rules-then-redis", L("http-check send meth GET", "option redis-check", S)),
    case(
        "redis-then-http-check-rules",
        L("option redis-check", "http-check send meth GET", S),
        "WARNING: proxy 'L' uses http-check rules without 'option httpchk', so the rules are "
        "ignored.",
    ),
    case(
        "redis-and-http-check-options",
        L("option redis-check", "http-check disable-on-404", "http-check send-state", S),
        "WARNING: 'disable-on-404' will be ignored for proxy 'L' (requires 'option httpchk').",
        "WARNING: 'send-state' will be ignored for proxy 'L' (requires 'option httpchk').",
    ),
    case(
        "redis-then-tcp-check", L("option redis-check", "option tcp-check", "tcp-check send x", S)
    ),
    case(
        "defaults-redis-own-tcp-check-rules",
        _defaults("redis-check").replace("    server", "    tcp-check send x\n    server"),
        "WARNING: proxy 'L' uses tcp-check rules without 'option tcp-check', so the rules are "
        "ignored.",
    ),
    case(
        "no-port",
        L("option redis-check", "server s2 127.0.0.1 check"),
        "config: proxy 'L': server 's2' has neither service port nor check port nor tcp_check "
        "rule 'connect' with port information.",
        *FATAL_POST,
    ),
]

ALL: list[Case] = [*PER_OPTION, *ARGUMENTS, *INTERPLAY]


@pytest.mark.parametrize("c", params(ALL))
def test_messages(c: Case, tmp_path: Path) -> None:
    """Each protocol-option case prints HAProxy's exact messages and exit code."""
    check_herdsman(c, tmp_path)


@pytest.mark.parametrize(("option", "kind"), [(o, k) for o, _, k in PROTOCOLS])
def test_option_selects_its_ruleset(option: str, kind: RulesetKind) -> None:
    px, diag = parse_section([f"option {option}"])
    assert not diag.messages
    assert px.checks is not None
    assert px.checks.kind is kind


def test_later_options_replace_the_protocol_ruleset() -> None:
    """A later ``option tcp-check``/``httpchk`` or protocol option selects its own ruleset."""
    px, _ = parse_section(["option redis-check", "option tcp-check", "tcp-check send x"])
    assert px.checks is not None
    assert px.checks.kind is RulesetKind.TCP
    assert [type(r) for r in px.checks.rules] == [ConnectRule, SendRule]
    px, _ = parse_section(["option redis-check", "option httpchk"])
    assert px.checks is not None
    assert px.checks.kind is RulesetKind.HTTP
    px, _ = parse_section(["option tcp-check", "tcp-check send x", "option ldap-check"])
    assert px.checks is not None
    assert px.checks.kind is RulesetKind.LDAP


def test_tcp_check_rules_before_a_protocol_option_wait_for_option_tcp_check() -> None:
    """``tcp-check`` lines stay the section's own: a later ``option tcp-check`` takes them."""
    px, diag = parse_section(["tcp-check send x", "option redis-check", "option tcp-check"])
    assert not diag.messages
    assert px.checks is not None
    assert px.checks.kind is RulesetKind.TCP
    assert len(px.checks.rules) == 2


def test_defaults_protocol_check_is_inherited() -> None:
    """A proxy copies its defaults' selected ruleset (here with its user)."""
    defaults, _ = parse_section(["option pgsql-check user app"], kind="defaults")
    px, diag = parse_section([], defaults=defaults)
    assert not diag.messages
    assert px.checks is not None
    assert px.checks.kind is RulesetKind.PGSQL
    sends = [r for r in px.checks.rules if isinstance(r, SendRule)]
    assert sends[0].data.endswith(b"user\x00app\x00\x00")
    # and an own option replaces it
    px, _ = parse_section(["option redis-check"], defaults=defaults)
    assert px.checks is not None
    assert px.checks.kind is RulesetKind.REDIS


def test_implicit_connect_only_where_haproxy_has_none() -> None:
    """redis, ldap, ssl-hello, spop get the implicit connect; mysql, pgsql and smtp
    start with ``connect default linger``."""
    for option, _, _ in PROTOCOLS:
        px, _ = parse_section([f"option {option}"])
        assert px.checks is not None
        first = px.checks.rules[0]
        assert isinstance(first, ConnectRule)
        assert first.default
        assert first.implicit is (
            option.split()[0] in ("redis-check", "ldap-check", "ssl-hello-chk", "spop-check")
        )
        assert first.linger is not first.implicit
        assert isinstance(px.checks.rules[-1], ExpectRule)
