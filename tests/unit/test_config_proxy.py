"""Proxy keywords as ``-c`` reports them: timeouts (spec Conventions), ``balance`` and
``hash-type`` (spec §12.2), limits (§2.1-§2.3), ``mode``, ``id``, options, and
the directives 2.6 removed.

Texts are from the VERBATIM list of observed-2.6.12-server-lb.md or were
captured from the 2.6.12 binary; tests/integration/test_config_vs_haproxy.py
runs these cases through it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from configcase import (
    FATAL_PARSE,
    Case,
    case,
    check_herdsman,
    listen,
    params,
    refused,
    section,
)

L = listen
S = "server s1 127.0.0.1:80"
B = "backend B\n    server s1 127.0.0.1:80\n"


def T(line: str) -> str:
    """The observed timers frame: ``line`` replaces ``timeout connect 1s`` on line 5."""
    return (
        "defaults\n    mode tcp\n    timeout client 1s\n    timeout server 1s\n"
        f"    {line}\nlisten L\n    bind :18000\n    {S}\n"
    )


def P(line: int) -> str:
    return f"parsing [F:{line}] : "


def FE(*lines: str) -> str:
    """A frontend F (line 6) with ``lines`` from line 7, using backend B."""
    return section("frontend F", "bind :18000", *lines, "default_backend B") + B


def BE(*lines: str) -> str:
    """A backend B (line 6) with ``lines`` from line 7, reached by listen L."""
    return section("backend B", *lines, S) + "listen L\n    bind :18000\n    default_backend B\n"


BALANCE_ONLY = (
    "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', "
    "'url_param', 'hdr(name)' and 'rdp-cookie(name)' options."
)
L7 = "WARNING: Layer 7 hash not possible for proxy 'L' (needs 'mode http'). Falling back to round robin."
CONTENT = "content inspection"

TIMEOUTS = [
    case(
        "timeout-overflow",
        T("timeout connect 2147483648"),
        P(5) + "timer overflow in argument '2147483648' to 'timeout connect' (maximum value is "
        "2147483647 ms or ~24.8 days)",
        *FATAL_PARSE,
    ),
    case("timeout-max", T("timeout connect 2147483647")),
    case("timeout-24d", T("timeout connect 24d")),
    case(
        "timeout-25d",
        T("timeout connect 25d"),
        P(5) + "timer overflow in argument '25d' to 'timeout connect' (maximum value is "
        "2147483647 ms or ~24.8 days)",
        *FATAL_PARSE,
    ),
    *[
        case(
            f"timeout-bad-{name}",
            T(f"timeout connect {value}"),
            P(5) + f"unexpected character '{char}' in 'timeout connect'",
            *FATAL_PARSE,
        )
        for name, value, char in (
            ("char", "10x", "x"),
            ("case", "10S", "S"),
            ("decimal", "1.5s", "."),
            ("sign", "-5", "-"),
        )
    ],
    case(
        "timeout-missing",
        T("timeout connect"),
        P(5) + "'timeout connect' expects an integer value (in milliseconds)",
        *FATAL_PARSE,
    ),
    case("timeout-sub-millisecond", T("timeout connect 500us")),
    case("timeout-wraps-at-64-bits", T("timeout connect 18446744073709551617")),
    case(
        "timeout-unknown",
        T("timeout foo 1s"),
        P(5) + "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', "
        "'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' "
        "(got 'foo')",
        *FATAL_PARSE,
    ),
    case(
        "timeout-extra-word",
        T("timeout connect 1s 2s"),
        P(5) + "'timeout connect' : unexpected extra argument '2s' after value '1s'.",
        *FATAL_PARSE,
    ),
    case(
        "clitimeout",
        T("clitimeout 1s"),
        P(5) + "the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use "
        "'timeout client'.",
        *FATAL_PARSE,
    ),
    case("timeout-set-twice", L("timeout connect 1s", "timeout connect 2s", S)),
    case(
        "timeout-overwrites-the-defaults",
        L("timeout connect 2s", "timeout connect 3s", S),
        "WARNING: " + P(9) + "overwriting 'timeout connect' which was already specified",
    ),
    case(
        "timeout-without-capability",
        FE("timeout server 1s"),
        "WARNING: "
        + P(8)
        + "'timeout server' will be ignored because frontend 'F' has no backend capability",
    ),
    case("timeout-check", L("timeout check 1s", S)),
    case("timeout-queue-and-tunnel", L("timeout queue 1s", "timeout tunnel 1s", S)),
]

BALANCE = [
    case("balance-foo", L("balance foo", S), P(8) + BALANCE_ONLY, *FATAL_PARSE),
    *[
        case(
            f"balance-{name}",
            L(f"balance {arg}", S),
            P(8) + msg,
            *FATAL_PARSE,
        )
        for name, arg, msg in (
            ("random-0", "random(0)", "balance random : number of draws must be at least 1."),
            (
                "random-minus-1",
                "random(-1)",
                "balance random : number of draws must be at least 1.",
            ),
            ("random-unclosed", "random(2", "balance random : missing closing parenthesis."),
            (
                "random-2x",
                "random(2x)",
                "balance random : unexpected character 'x' after argument.",
            ),
            ("random-x", "random(x)", "balance random : unexpected character 'x' after argument."),
            ("uri-len-0", "uri len 0", "balance uri : 'len' expects a positive integer (got '0')."),
            (
                "uri-depth-x",
                "uri depth x",
                "balance uri : 'depth' expects a positive integer (got 'x').",
            ),
            (
                "uri-foo",
                "uri foo",
                "balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got 'foo').",
            ),
            ("url-param-missing", "url_param", "balance url_param requires an URL parameter name."),
            (
                "url-param-modifier",
                "url_param id foo",
                "balance url_param only accepts 'check_post' modifier (got 'foo').",
            ),
            ("hdr-empty", "hdr()", "balance hdr requires an http header field name."),
            ("hash-missing", "hash", "balance hash requires a sample expression."),
        )
    ],
    *[
        case(f"balance-lenient-{name}", L(f"balance {arg}".rstrip(), S))
        for name, arg in (
            ("random-trailing", "random(2)x"),
            ("random-empty", "random()"),
            ("none", ""),
            ("roundrobin-extra", "roundrobin foo"),
            ("source-extra", "source foo"),
        )
    ],
    *[
        case(f"balance-{arg}", L(f"balance {arg}", S))
        for arg in (
            "roundrobin",
            "static-rr",
            "leastconn",
            "first",
            "source",
            "random",
            "random(3)",
        )
    ],
    case("balance-uri-in-tcp", L("balance uri", S), L7),
    case("balance-url-param-in-tcp", L("balance url_param id check_post 10", S), L7),
    case("balance-hdr-in-tcp", L("balance hdr(host)", S), L7),
    # no warning in TCP mode (observed); round robin (lb/http_keys.py)
    case("balance-rdp-cookie", L("balance rdp-cookie", S)),
    case("balance-rdp-cookie-named", L("balance rdp-cookie(user)", S)),
    refused(
        "balance-hash",
        L("balance hash req.hdr(host)", S),
        P(8) + f"'balance hash' is not implemented in herdsman yet ({CONTENT}); use another "
        "algorithm or haproxy.",
        *FATAL_PARSE,
        why="sample expressions are not implemented",
        haproxy=[],
    ),
    case(
        "balance-in-frontend",
        FE("balance roundrobin"),
        "WARNING: " + P(8) + "'balance' ignored because frontend 'F' has no backend capability.",
    ),
    case(
        "hash-type-avalanche",
        L("balance source", "hash-type avalanche", S),
        P(9) + "experimental feature 'hash-type avalanche' is not supported anymore, please use "
        "'hash-type map-based sdbm avalanche' instead.",
        *FATAL_PARSE,
    ),
    *[
        case(f"hash-type-{name}", L("balance source", line, S), P(9) + msg, *FATAL_PARSE)
        for name, line, msg in (
            ("foo", "hash-type foo", "'hash-type' only supports 'consistent' and 'map-based'."),
            ("empty", "hash-type", "'hash-type' only supports 'consistent' and 'map-based'."),
            (
                "function",
                "hash-type consistent foo",
                "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.",
            ),
            (
                "modifier",
                "hash-type consistent sdbm foo",
                "'hash-type' only supports 'avalanche' as a modifier for hash functions.",
            ),
        )
    ],
    case("hash-type", L("balance source", "hash-type consistent djb2 avalanche", S)),
    *[
        case(
            f"hash-balance-factor-{value}",
            L("balance source", "hash-type consistent", f"hash-balance-factor {value}", S),
            P(10) + "'hash-balance-factor' must be 0 or greater than 100.",
            *FATAL_PARSE,
        )
        for value in ("50", "100")
    ],
    *[
        case(
            f"hash-balance-factor-ok-{value}",
            L("balance source", "hash-type consistent", f"hash-balance-factor {value}", S),
        )
        for value in ("101", "0", "x")
    ],
]

LIMITS = [
    case("maxconn", L("maxconn 10", S)),
    case(
        "maxconn-in-backend",
        BE("maxconn 10"),
        "WARNING: "
        + P(7)
        + "'maxconn' ignored because backend 'B' has no frontend capability. Maybe you want "
        "'fullconn' instead ?",
    ),
    case(
        "maxconn-missing",
        L("maxconn", S),
        P(8) + "'maxconn' expects an integer argument.",
        *FATAL_PARSE,
    ),
    case("fullconn", L("fullconn 10", S)),
    case(
        "fullconn-in-frontend",
        FE("fullconn 10"),
        "WARNING: "
        + P(8)
        + "'fullconn' ignored because frontend 'F' has no backend capability. Maybe you want "
        "'maxconn' instead ?",
    ),
    case(
        "fullconn-missing",
        L("fullconn", S),
        P(8) + "'fullconn' expects an integer argument.",
        *FATAL_PARSE,
    ),
    case(
        "backlog-in-backend",
        BE("backlog 10"),
        "WARNING: " + P(7) + "'backlog' ignored because backend 'B' has no frontend capability.",
    ),
    case(
        "retries-in-frontend",
        FE("retries 3"),
        "WARNING: " + P(8) + "'retries' ignored because frontend 'F' has no backend capability.",
    ),
    case(
        "retries-missing",
        L("retries", S),
        P(8) + "'retries' expects an integer argument (dispatch counts for one).",
        *FATAL_PARSE,
    ),
    case(
        "retries-extra-word",
        L("retries 3 4", S),
        P(8) + "'retries' cannot handle unexpected argument '4'.",
        *FATAL_PARSE,
    ),
]

PROXY = [
    case("mode-http", L("mode http", S)),
    case(
        "mode-health",
        L("mode health", S),
        P(8) + "'mode health' doesn't exist anymore. Please use 'http-request return status 200' "
        "instead.",
        *FATAL_PARSE,
    ),
    case("mode-foo", L("mode foo", S), P(8) + "unknown proxy mode 'foo'.", *FATAL_PARSE),
    case("mode-log", L("mode log", S), P(8) + "unknown proxy mode 'log'.", *FATAL_PARSE),
    case("mode-missing", L("mode", S), P(8) + "unknown proxy mode ''.", *FATAL_PARSE),
    case(
        "mode-extra-word",
        L("mode tcp x", S),
        P(8) + "'mode' cannot handle unexpected argument 'x'.",
        *FATAL_PARSE,
    ),
    case(
        "id-in-defaults",
        "defaults\n    id 3\n" + L(S)[len("defaults\n") :],
        "parsing [F:2]: 'id' not allowed in 'defaults' section.",
        *FATAL_PARSE,
    ),
    case(
        "id-reused",
        L("id 3", S) + "listen M\n    bind :18001\n    id 3\n    " + S + "\n",
        "parsing [F:12]: proxy M reuses same custom id as proxy L (declared at F:6).",
        *FATAL_PARSE,
    ),
    case("id-zero", L("id 0", S), "parsing [F:8]: custom id has to be > 0.", *FATAL_PARSE),
    case(
        "id-missing", L("id", S), "parsing [F:8]: 'id' expects an integer argument.", *FATAL_PARSE
    ),
    case(
        "disabled-extra-word",
        L("disabled x", S),
        P(8) + "'disabled' cannot handle unexpected argument 'x'.",
        *FATAL_PARSE,
    ),
    case(
        "monitor-net",
        L("monitor-net 1.2.3.4", S),
        P(8) + "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 "
        "if { src 1.2.3.4 }' instead.",
        *FATAL_PARSE,
    ),
    case(
        "grace-in-proxy",
        L("grace 1s", S),
        "parsing [F:8]: the 'grace' keyword is not supported any more since HAProxy version 2.5.",
        *FATAL_PARSE,
    ),
    case(
        "redispatch-keyword",
        L("redispatch", S),
        P(8) + "keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use "
        "'option redispatch'.",
        *FATAL_PARSE,
    ),
    case(
        "usesrc-alone",
        L("usesrc client", S),
        P(8) + "'usesrc' only allowed after a 'source' statement.",
        *FATAL_PARSE,
    ),
    case(
        "reqadd",
        L("reqadd X", S),
        P(8) + "The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use "
        "'http-request add-header' instead.",
        *FATAL_PARSE,
    ),
    case(
        "rspdel",
        L("rspdel X", S),
        P(8) + "The 'rspdel' directive is not supported anymore since HAProxy 2.1. Use "
        "'http-response del-header' .",
        *FATAL_PARSE,
    ),
    case(
        "appsession",
        L("appsession x", S),
        P(8) + "'appsession' is not supported anymore since HAProxy 1.6.",
        *FATAL_PARSE,
    ),
]

OPTIONS = [
    case(
        "option-missing",
        L("option", S),
        "parsing [F:8]: 'option' expects an option name.",
        *FATAL_PARSE,
    ),
    case("option-unknown", L("option foo", S), P(8) + "unknown option 'foo'.", *FATAL_PARSE),
    case(
        "option-did-you-mean",
        L("option tcpkaa", S),
        P(8) + "unknown option 'tcpkaa'; did you mean 'tcpka' maybe ?",
        *FATAL_PARSE,
    ),
    case(
        "option-did-you-mean-common-options",
        L("option orignalto", S),
        P(8) + "unknown option 'orignalto'; did you mean 'original-to' maybe ?",
        *FATAL_PARSE,
    ),
    case(
        "option-extra-word",
        L("option tcpka x", S),
        P(8) + "'option tcpka' cannot handle unexpected argument 'x'.",
        *FATAL_PARSE,
    ),
    case(
        "option-frontend-only-in-backend",
        BE("option clitcpka"),
        "WARNING: " + P(7) + "'clitcpka' ignored because backend 'B' has no frontend capability.",
    ),
    case(
        "option-backend-only-in-frontend",
        FE("option srvtcpka"),
        "WARNING: " + P(8) + "'srvtcpka' ignored because frontend 'F' has no backend capability.",
    ),
    case(
        "option-redispatch-in-frontend",
        FE("option redispatch"),
        "WARNING: " + P(8) + "'redispatch' ignored because frontend 'F' has no backend capability.",
    ),
    case(
        "option-forceclose",
        L("option forceclose", S),
        "parsing [F:8]: option 'forceclose' is not supported any more since HAProxy 2.0, please "
        "just remove it, or use 'option httpclose' if absolutely needed.",
        *FATAL_PARSE,
    ),
    case(
        "default-option-httpclose",
        L("default option httpclose", S),
        P(8) + "'option httpclose' cannot handle unexpected argument 'httpclose'.",
        *FATAL_PARSE,
    ),
    *[
        case(f"option-{name}", L(f"option {name}", S))
        for name in (
            "tcpka",
            "clitcpka",
            "srvtcpka",
            "nolinger",
            "allbackups",
            "independent-streams",
            "log-health-checks",
            "redispatch",
            "tcp-check",
        )
    ],
    case("option-redispatch-interval", L("option redispatch 2", S)),
    case("no-option-httpclose", L("no option httpclose", S)),
    case("no-option-dontlognull", L("no option dontlognull", S)),
]

ALL: list[Case] = [*TIMEOUTS, *BALANCE, *LIMITS, *PROXY, *OPTIONS]


@pytest.mark.parametrize("c", params(ALL))
def test_proxy_keywords(c: Case, tmp_path: Path) -> None:
    """Each proxy-keyword case prints HAProxy's exact messages and exit code (or herdsman's refusal)."""
    check_herdsman(c, tmp_path)
