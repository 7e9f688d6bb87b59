"""Sections: headers, names, ``from``, keywords out of place, ``no``/``default``,
and the post-parse checks that concern a whole proxy (missing timeouts, no
``bind``, ``default_backend``/``use_backend``), as ``-c`` reports them.

Texts were captured from the 2.6.12 binary; tests/integration/test_config_vs_haproxy.py
runs these cases through it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from configcase import (
    ABORT,
    DEFAULTS,
    FATAL_PARSE,
    FATAL_POST,
    LISTEN,
    Case,
    case,
    check_herdsman,
    listen,
    params,
    section,
)

L = listen
S = "server s1 127.0.0.1:80"
B = "backend B\n    server s1 127.0.0.1:80\n"
TIMEOUTS = "    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"
NO_BIND = (
    "{kind} '{name}' has no 'bind' directive. Please declare it as a backend if this was intended."
)
MISSING = (
    "WARNING: missing timeouts for {kind} '{name}'.\n"
    "   | While not properly invalid, you will certainly encounter various problems\n"
    "   | with such a configuration. To fix this, please ensure that all following\n"
    "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
)

HEADERS = [
    case(
        "listen-without-name",
        DEFAULTS + "listen\n",
        "parsing [F:6] : 'listen' expects an <id> argument",
        *ABORT,
    ),
    case(
        "frontend-without-name",
        DEFAULTS + "frontend\n",
        "parsing [F:6] : 'frontend' expects an <id> argument",
        *ABORT,
    ),
    case(
        "bad-character-in-name",
        DEFAULTS + "listen a/b\n    bind :18000\n",
        "parsing [F:6] : character '/' is not permitted in 'listen' name 'a/b'.",
        *FATAL_PARSE,
    ),
    case(
        "address-on-header",
        DEFAULTS + "listen L 127.0.0.1:80\n    bind :18000\n",
        "parsing [F:6] : please use the 'bind' keyword for listening addresses.",
        "parsing [F:7] : 'listen' or 'defaults' expected.",
        *FATAL_PARSE,
    ),
    case(
        "address-on-backend-header",
        DEFAULTS + "backend B 127.0.0.1:80\n    " + S + "\n" + L(S),
        "parsing [F:7] : 'listen' or 'defaults' expected.",
        *FATAL_PARSE,
    ),
    case(
        "too-many-words-on-header",
        DEFAULTS + "listen L from x y\n",
        "parsing [F:6] : 'listen' cannot handle unexpected argument 'y'.",
        "parsing [F:6] : please use the 'bind' keyword for listening addresses.",
        *FATAL_PARSE,
    ),
    case(
        "global-with-argument",
        "global foo\n" + L(S),
        "parsing [F:1] : 'global' cannot handle unexpected argument 'foo'.",
        *FATAL_PARSE,
    ),
    case(
        "duplicate-listen",
        L(S) + "listen L\n    bind :18001\n    " + S + "\n",
        "Parsing [F:9]: proxy 'L' has the same name as proxy 'L' declared at F:6.",
        *FATAL_PARSE,
    ),
    case(
        "duplicate-frontend",
        DEFAULTS
        + "frontend X\n    bind :18000\n    default_backend B\n"
        + "frontend X\n    bind :18001\n    default_backend B\n"
        + B,
        "Parsing [F:9]: frontend 'X' has the same name as frontend 'X' declared at F:6.",
        *FATAL_PARSE,
    ),
    case(
        "backend-after-listen",
        L(S) + "backend L\n    " + S + "\n",
        "Parsing [F:9]: backend 'L' has the same name as proxy 'L' declared at F:6.",
        *FATAL_PARSE,
    ),
    case("listen-after-backend", DEFAULTS + B + "listen B\n    bind :18001\n    " + S + "\n"),
    case(
        "frontend-and-backend",
        DEFAULTS + "frontend X\n    bind :18000\n    default_backend X\n" + B.replace("B", "X"),
    ),
]

DEFAULTS_CASES = [
    case(
        "from-unknown",
        L(S).replace("listen L", "listen L from nope"),
        "parsing [F:6] : defaults section 'nope' not found for proxy 'L'.",
        *ABORT,
    ),
    case(
        "from-named",
        "defaults D\n    mode tcp\n"
        + TIMEOUTS
        + "listen L from D\n    bind :18000\n    "
        + S
        + "\n",
    ),
    case(
        "defaults-from",
        "defaults D\n" + TIMEOUTS + "defaults from D\nlisten L\n    bind :18000\n    " + S + "\n",
    ),
    case(
        "named-defaults-from",
        "defaults D\n"
        + TIMEOUTS
        + "defaults E from D\nlisten L from E\n    bind :18000\n    "
        + S
        + "\n",
    ),
    case(
        "defaults-start-from-builtin",
        "defaults A\n"
        + TIMEOUTS
        + "defaults\n    mode tcp\nlisten L\n    bind :18000\n    "
        + S
        + "\n",
        MISSING.format(kind="proxy", name="L"),
    ),
    case(
        "explicit-and-implicit-use",
        "defaults D\n" + TIMEOUTS + "listen L from D\n    bind :18000\n    " + S + "\n"
        "listen M\n    bind :18001\n    " + S + "\n",
        "parsing [F:8] : defaults section 'D' (declared at F:1) is explicitly referenced by "
        "another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. "
        "Add a last defaults section not explicitly used or always use explicit references.",
    ),
    case(
        "ambiguous-defaults",
        "defaults D\n    timeout connect 1s\ndefaults D\n"
        + TIMEOUTS
        + "listen L from D\n    bind :18000\n    "
        + S
        + "\n",
        "parsing [F:7] : ambiguous defaults section name 'D' referenced by proxy 'L' exists at "
        "least at F:1 and F:3.",
        *FATAL_PARSE,
    ),
    case(
        "defaults-bad-name-designated",
        "defaults D/x\n" + TIMEOUTS + "listen L from D/x\n    bind :18000\n    " + S + "\n",
        "parsing [F:5] : character '/' is not permitted in defaults section name 'D/x' when "
        "designated by its name (section found at F:1).",
        *FATAL_PARSE,
    ),
    case(
        "defaults-bad-name-unused",
        "defaults D/x\n" + TIMEOUTS + "listen L\n    bind :18000\n    " + S + "\n",
    ),
]

PLACEMENT = [
    case(
        "keyword-out-of-section",
        "foo bar\n" + L(S),
        "parsing [F:1]: unknown keyword 'foo' out of section.",
        *FATAL_PARSE,
    ),
    case(
        "unknown-keyword",
        L("foobarbaz", S),
        "parsing [F:8] : unknown keyword 'foobarbaz' in 'listen' section",
        *FATAL_PARSE,
    ),
    case(
        "unknown-keyword-did-you-mean",
        L("balanse roundrobin", S),
        "parsing [F:8] : unknown keyword 'balanse' in 'listen' section; did you mean 'balance' maybe ?",
        *FATAL_PARSE,
    ),
    case(
        "unknown-keyword-in-frontend",
        section("frontend F", "bind :18000", "servr x", "default_backend B") + B,
        "parsing [F:8] : unknown keyword 'servr' in 'frontend' section; did you mean 'server' maybe ?",
        *FATAL_PARSE,
    ),
    case(
        "bind-in-defaults",
        DEFAULTS + "    bind :80\n" + L(S),
        "parsing [F:6] : 'bind' not allowed in 'defaults' section.",
        *FATAL_PARSE,
    ),
    case(
        "bind-in-backend",
        section("backend B", "bind :18000", S) + L(S),
        "WARNING: parsing [F:7] : 'bind' ignored because backend 'B' has no frontend capability.",
    ),
    case(
        "bind-without-address",
        L("bind", S),
        "parsing [F:8] : 'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
        *FATAL_PARSE,
    ),
    case(
        "bind-unknown-keyword",
        L("bind :18001 maxconnn 3", S),
        "parsing [F:8] : 'bind :18001' in section 'listen': unknown keyword 'maxconnn'; did you "
        "mean 'maxconn' maybe ?",
        *FATAL_PARSE,
    ),
    case(
        "description-in-defaults",
        DEFAULTS + "    description x\n" + L(S)[len(DEFAULTS) :],
        "parsing [F:6]: 'description' not allowed in 'defaults' section.",
        *FATAL_PARSE,
    ),
    case(
        "description-without-text",
        L("description"),
        "parsing [F:8]: 'description' expects a string argument.",
        "Could not open configuration file F.cfg : Success",
        rc=1,
    ),
]

MODIFIERS = [
    case(
        "no-on-a-keyword",
        L("no balance", S),
        "parsing [F:8]: negation/default currently supported only for options, log, "
        "busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
        *FATAL_PARSE,
    ),
    case(
        "no-alone",
        L("no", S),
        "parsing [F:8]: negation/default currently supported only for options, log, "
        "busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
        "parsing [F:8] : unknown keyword '' in 'listen' section",
        *FATAL_PARSE,
    ),
    case(
        "no-then-the-keyword-runs",
        "global\n    no maxconn\n" + L(S),
        "parsing [F:2]: negation/default currently supported only for options, log, "
        "busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
        "parsing [F:2] : 'maxconn' expects an integer argument.",
        *FATAL_PARSE,
    ),
    case(
        "no-option-not-negatable",
        L("no option tcpka", S),
        "parsing [F:8]: negation/default is not supported for option 'tcpka'.",
        *FATAL_PARSE,
    ),
    case(
        "default-option-duplicates-last-word",
        L("default option allbackups", S),
        "parsing [F:8] : 'option allbackups' cannot handle unexpected argument 'allbackups'.",
        *FATAL_PARSE,
    ),
    case("no-option", L("no option allbackups", S)),
    case("no-option-redispatch", L("no option redispatch", S)),
    case("no-log", L("no log", S)),
]

POST_PARSE = [
    case(
        "missing-timeouts",
        "listen L\n    bind :18000\n    " + S + "\n",
        MISSING.format(kind="proxy", name="L"),
    ),
    case(
        "missing-timeouts-backend",
        "frontend F\n    bind :18000\n    timeout client 1s\n    default_backend B\n" + B,
        MISSING.format(kind="backend", name="B"),
    ),
    case(
        "missing-timeouts-frontend",
        "frontend F\n    bind :18000\n    default_backend B\n"
        "backend B\n    timeout connect 1s\n    timeout server 1s\n    " + S + "\n",
        MISSING.format(kind="frontend", name="F"),
    ),
    case(
        "no-timeouts-needed-without-servers",
        "frontend F\n    bind :18000\n    timeout client 1s\n    default_backend B\nbackend B\n",
    ),
    case(
        "timeout-zero",
        L("timeout connect 0", S),
        MISSING.format(kind="proxy", name="L"),
    ),
    case(
        "tunnel-replaces-server",
        "defaults\n    timeout connect 1s\n    timeout client 1s\n    timeout tunnel 1s\n"
        "listen L\n    bind :18000\n    " + S + "\n",
    ),
    case(
        "no-bind",
        DEFAULTS + "listen L\n    " + S + "\n",
        "WARNING: " + NO_BIND.format(kind="proxy", name="L"),
        rc=2,
    ),
    case(
        "no-bind-frontend",
        DEFAULTS + "frontend F\n    default_backend B\n" + B,
        "WARNING: " + NO_BIND.format(kind="frontend", name="F"),
        rc=2,
    ),
    case(
        "no-bind-beside-a-listener",
        L(S) + "frontend F\n    default_backend B\n" + B,
        "WARNING: " + NO_BIND.format(kind="frontend", name="F"),
    ),
    case("backend-only", DEFAULTS + B, rc=2),
    case("disabled-only", L("disabled", S), rc=2),
    case(
        "default-backend-unknown",
        section("frontend F", "bind :18000", "default_backend nope"),
        "Proxy 'F': unable to find required default_backend: 'nope'.",
        *FATAL_POST,
    ),
    case(
        "default-backend-loop",
        L("default_backend L", S),
        "Proxy 'L': loop detected for default_backend: 'L'.",
        *FATAL_POST,
    ),
    case(
        "default-backend-without-name",
        section("frontend F", "bind :18000", "default_backend"),
        "parsing [F:8] : 'default_backend' expects a backend name.",
        *FATAL_PARSE,
    ),
    case(
        "default-backend-in-backend",
        section("backend B", "default_backend X", S) + L(S),
        "WARNING: parsing [F:7] : 'default_backend' ignored because backend 'B' has no frontend capability.",
        "Proxy 'B': unable to find required default_backend: 'X'.",
        *FATAL_POST,
    ),
    case(
        "default-backend-with-servers",
        L("default_backend B", S) + B,
        "WARNING: In proxy 'L', the 'default_backend' rule always has precedence over the "
        "servers, which will never be used.",
    ),
    case(
        "default-backend-is-a-frontend",
        section("frontend F", "bind :18000", "default_backend G") + "frontend G\n    bind :18001\n",
        "Proxy 'F': unable to find required default_backend: 'G'.",
        *FATAL_POST,
    ),
    case(
        "use-backend-unknown",
        section("frontend F", "bind :18000", "use_backend nope"),
        "Proxy 'F': unable to find required use_backend: 'nope'.",
        *FATAL_POST,
    ),
    case(
        "use-backend-loop",
        L("use_backend L", S),
        "Proxy 'L': loop detected for use_backend: 'L'.",
        *FATAL_POST,
    ),
    case(
        "use-backend-without-name",
        section("frontend F", "bind :18000", "use_backend"),
        "parsing [F:8] : 'use_backend' expects a backend name.",
        *FATAL_PARSE,
    ),
    case(
        "use-backend-in-defaults",
        DEFAULTS + "    use_backend B\n" + L(S),
        "parsing [F:6] : 'use_backend' not allowed in 'defaults' section.",
        *FATAL_PARSE,
    ),
    case(
        "use-backend-bad-condition",
        section("frontend F", "bind :18000", "use_backend B foo") + B,
        "parsing [F:8] : unexpected keyword 'foo' after switching rule, only 'if' and 'unless' "
        "are allowed.",
        *FATAL_PARSE,
    ),
    case("use-backend", section("frontend F", "bind :18000", "use_backend B") + B),
    case(
        "use-backend-in-backend",
        section("backend B", "use_backend X", S) + L(S),
        "WARNING: parsing [F:7] : 'use_backend' ignored because backend 'B' has no frontend capability.",
        "Proxy 'B': unable to find required use_backend: 'X'.",
        *FATAL_POST,
    ),
]

ALL: list[Case] = [*HEADERS, *DEFAULTS_CASES, *PLACEMENT, *MODIFIERS, *POST_PARSE]
assert LISTEN  # the frame the cases extend


@pytest.mark.parametrize("c", params(ALL))
def test_sections(c: Case, tmp_path: Path) -> None:
    """Each section-level case prints HAProxy's exact messages and exit code."""
    check_herdsman(c, tmp_path)
