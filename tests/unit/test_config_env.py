"""Environment variables in every position, undefined ones above all.

HAProxy 2.6 expands ``"${VAR}"`` inside double quotes while splitting the
line, and every ``str2sa_range()`` caller (server, bind, log, ``addr``)
expands ``$VAR``/``${VAR}`` in its own argument: in both places an undefined
variable is nothing. HAProxy's own regression tests rely on it
(``log ${S1_addr}:${S1_port} daemon`` without a syslog server is ``log : daemon``).
An undefined ``"${VAR[*]}"`` leaves an empty word, and most keyword parsers
stop at the first empty word (``while (*args[i])``).

Texts were captured from the 2.6.12 binary; tests/integration/test_config_env_vs_haproxy.py
runs these cases through it. The model assertions check what the accepted
lines mean, which ``-c`` does not show.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from configcase import FATAL_PARSE, LISTEN, Case, case, check_herdsman, listen, params
from herdsman.config.diag import Diagnostics
from herdsman.config.model import Config
from herdsman.config.model_addr import Address, Family
from herdsman.config.parser import parse_text

S = "server s1 127.0.0.1:80"
E = '"${NOPE[*]}"'  # an undefined variable, word-expanded: one empty word
SET = "global\n    setenv LH 127.0.0.1\n    setenv LP 1514\n"  # lines 1-3
EMPTY = "'{0}' resolves to an empty address (environment variable missing?)\n"


def G(*lines: str) -> str:
    """A global section with ``lines`` from line 2, then the listen frame and a server."""
    return "global\n" + "".join(f"    {line}\n" for line in lines) + LISTEN + f"    {S}\n"


def P(line: int) -> str:
    return f"parsing [F:{line}] : "


ALL: list[Case] = [
    # -- log targets: str2sa_range() expands them ------------------------------
    case("log-undefined-global", G("log ${S1_addr}:${S1_port} daemon")),
    case("log-undefined-proxy", listen("log ${S1_addr}:${S1_port} local0", S)),
    case("log-undefined-quoted", listen('log "${S1_addr}:${S1_port}" local0', S)),
    case("log-undefined-inside-word", listen("log 127.0.0.1:15${NOPE}14 local0", S)),
    case("log-undefined-without-braces", listen("log $NOPE:1514 local0", S)),
    case("log-default-quoted", listen('log "${NOPE-127.0.0.1:1514}" local0', S)),
    case(
        "log-default-unquoted",
        listen("log ${NOPE-127.0.0.1:1514} local0", S),
        P(8) + "log : invalid address: '-127.0.0.1' in '${NOPE-127.0.0.1:1514}'\n",
        *FATAL_PARSE,
    ),
    case("log-defined", SET + LISTEN + "    log ${LH}:${LP} local0\n" + f"    {S}\n"),
    case(
        "log-undefined-only",
        listen("log ${NOPE} local0", S),
        P(8) + "log : " + EMPTY.format("${NOPE}"),
        *FATAL_PARSE,
    ),
    case(
        "log-dollar-alone",
        listen("log $ local0", S),
        P(8) + "log : " + EMPTY.format("$"),
        *FATAL_PARSE,
    ),
    case(
        "log-unterminated-brace",
        listen("log ${NOPE local0", S),
        P(8) + "log : " + EMPTY.format("${NOPE"),
        *FATAL_PARSE,
    ),
    case(
        "log-stdout-is-recognised-before-expansion",
        listen("log std${NOPE}out local0", S),
        P(8) + "log : invalid address: 'stdout' in 'std${NOPE}out'\n",
        *FATAL_PARSE,
    ),
    case(
        "log-undefined-quoted-only",
        listen('log "${NOPE}" local0', S),
        P(8) + "log : expects <address> and <facility> or global as arguments",
        *FATAL_PARSE,
    ),
    case(
        "log-word-expansion-empty",
        listen(f"log {E} local0", S),
        P(8) + "log : expects <address> and <facility> or global as arguments",
        *FATAL_PARSE,
    ),
    # -- other addresses -----------------------------------------------------------
    case("server-undefined-host", listen("server s0 ${NOPE}:8080")),
    case(
        "server-undefined-quoted-only",
        listen('server s0 "${NOPE}"'),
        "[F:8] : 'server' expects <name> and <addr>[:<port>] as arguments.",
        *FATAL_PARSE,
    ),
    case("check-addr-defined", SET + LISTEN + "    server s0 127.0.0.1:80 check addr ${LH}\n"),
    case("check-addr-undefined", listen("server s0 127.0.0.1:80 check addr ${NOPE}127.0.0.2")),
    # -- other keywords: quoted expansions, defaults ---------------------------------
    case(
        "maxconn-quoted-undefined",
        listen('maxconn "${NOPE}"', S),
        P(8) + "'maxconn' expects an integer argument.",
        *FATAL_PARSE,
    ),
    case("maxconn-quoted-default", listen('maxconn "${NOPE-50}"', S)),
    case(
        "timeout-quoted-undefined",
        listen('timeout connect "${NOPE}"', S),
        P(8) + "'timeout connect' expects an integer value (in milliseconds)",
        *FATAL_PARSE,
    ),
    case(
        "timeout-unquoted-is-not-expanded",
        listen("timeout connect ${NOPE}", S),
        P(8) + "unexpected character '$' in 'timeout connect'",
        *FATAL_PARSE,
    ),
    case("description-inside-word", listen('description "a${NOPE}b"', S)),
    case("empty-first-word-ignores-the-line", listen('"${NOPE}" maxconn 10', S)),
    # -- an empty word in the middle ends the arguments -------------------------------
    case("global-maxconn-empty-word", G(f"maxconn 10 {E} 20")),
    case("global-daemon-empty-word", G(f"daemon {E} x")),
    case("global-nbthread-empty-word", G(f"nbthread 1 {E} 2")),
    case("timeout-empty-word", listen(f"timeout connect 1s {E} 2s", S)),
    case("retries-empty-word", listen(f"retries 3 {E} x", S)),
    case("server-empty-word", listen(f"server s0 127.0.0.1:80 {E} check")),
    case("default-server-empty-word", listen(f"default-server check {E} foo", S)),
    case("bind-empty-word", listen(f"bind :18009 {E} maxconn 10", S)),
    case("description-empty-word", listen(f"description a {E} b", S)),
    case(
        "use-backend-empty-word",
        listen(f"use_backend B {E} if x", S) + "backend B\n    " + S + "\n",
    ),
]


@pytest.mark.parametrize("c", params(ALL))
def test_env(c: Case, tmp_path: Path) -> None:
    """Each case prints HAProxy's exact messages and exit code."""
    check_herdsman(c, tmp_path)


def _parse(text: str) -> Config:
    diag = Diagnostics()
    config = parse_text(text, diag, "F.cfg", env={})
    assert config is not None, diag.texts()
    return config


def _case(name: str) -> str:
    return next(c.text for c in ALL if c.id == name)


def _log(config: Config) -> Address | None:
    logs = config.global_.logs or config.proxies[0].logs
    return logs[0].address


ANY_514 = Address("${S1_addr}:${S1_port}", Family.INET, "0.0.0.0", 514)


@pytest.mark.parametrize(
    ("name", "addr"),
    [
        ("log-undefined-global", ANY_514),
        ("log-undefined-proxy", ANY_514),
        ("log-undefined-quoted", Address(":", Family.INET, "0.0.0.0", 514)),
        (
            "log-undefined-inside-word",
            Address("127.0.0.1:15${NOPE}14", Family.INET, "127.0.0.1", 1514),
        ),
        ("log-undefined-without-braces", Address("$NOPE:1514", Family.INET, "0.0.0.0", 1514)),
        ("log-default-quoted", Address("127.0.0.1:1514", Family.INET, "127.0.0.1", 1514)),
        ("log-defined", Address("${LH}:${LP}", Family.INET, "127.0.0.1", 1514)),
    ],
)
def test_log_target_after_expansion(name: str, addr: Address) -> None:
    """The target is expanded first; ``log :`` is the "any" address on the syslog port."""
    assert _log(_parse(_case(name))) == addr


def _where(addr: Address | None) -> tuple[Family, str, int] | None:
    return None if addr is None else (addr.family, addr.host, addr.port)


def test_addresses_after_expansion() -> None:
    """Server and ``addr`` addresses expand defined variables and drop undefined ones."""
    srv = _parse(_case("server-undefined-host")).proxies[0].servers[0]
    assert _where(srv.addr) == (Family.INET, "0.0.0.0", 8080)
    checked = _parse(_case("check-addr-defined")).proxies[0].servers[0]
    assert _where(checked.check_addr) == (Family.INET, "127.0.0.1", 0)
    undefined = _parse(_case("check-addr-undefined")).proxies[0].servers[0]
    assert _where(undefined.check_addr) == (Family.INET, "127.0.0.2", 0)


def test_values_after_expansion() -> None:
    """Defaults apply, words glue together, an empty first word drops the line."""
    assert _parse(_case("maxconn-quoted-default")).proxies[0].maxconn == 50
    assert _parse(_case("description-inside-word")).proxies[0].description == "ab"
    assert _parse(_case("empty-first-word-ignores-the-line")).proxies[0].maxconn == 0


def test_an_empty_word_ends_the_arguments() -> None:
    """What follows an empty word is ignored, as HAProxy's ``while (*args[i])`` loops do."""
    assert _parse(_case("global-maxconn-empty-word")).global_.maxconn == 10
    assert _parse(_case("timeout-empty-word")).proxies[0].timeouts.connect == 1000
    px = _parse(_case("server-empty-word")).proxies[0]
    assert not px.servers[-1].check
    px = _parse(_case("default-server-empty-word")).proxies[0]
    assert px.default_server.check
    px = _parse(_case("bind-empty-word")).proxies[0]
    assert [b.maxconn for b in px.binds] == [0, 0]
    assert _parse(_case("description-empty-word")).proxies[0].description == "a"
    (rule,) = _parse(_case("use-backend-empty-word")).proxies[0].routing.switching
    assert (rule.name, rule.cond) == ("B", None)
