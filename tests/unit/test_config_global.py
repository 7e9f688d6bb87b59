"""The ``global`` section as ``-c`` reports it (``cfgparse-global.c`` and registered keywords).

Texts were captured from the 2.6.12 binary; tests/integration/test_config_vs_haproxy.py
runs these cases through it. Lines under test start on line 2.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from configcase import (
    FATAL_PARSE,
    LISTEN,
    Case,
    case,
    check_herdsman,
    params,
    run_herdsman,
)

S = "    server s1 127.0.0.1:80\n"


def G(*lines: str) -> str:
    """A global section with ``lines`` from line 2, then the observed listen frame."""
    return "global\n" + "".join(f"    {line}\n" for line in lines) + LISTEN + S


def P(line: int) -> str:
    return f"parsing [F:{line}] : "


def P_(line: int) -> str:
    """The prefix without the space before the colon, as some 2.6 messages have it."""
    return f"parsing [F:{line}]: "


SPREAD_RANGE = "'spread-checks' needs a positive value in range 0..50."
ALREADY = "'{kw}' already specified. Continuing."

ALL: list[Case] = [
    case("maxconn", G("maxconn 100")),
    case("maxconn-not-a-number", G("maxconn abc")),
    case(
        "maxconn-twice",
        G("maxconn 100", "maxconn 200"),
        P(3) + ALREADY.format(kw="maxconn"),
    ),
    case(
        "maxconn-missing",
        G("maxconn"),
        P(2) + "'maxconn' expects an integer argument.",
        *FATAL_PARSE,
    ),
    case(
        "maxconn-extra-word",
        G("maxconn 1 2"),
        P(2) + "'maxconn' cannot handle unexpected argument '2'.",
        *FATAL_PARSE,
    ),
    case("spread-checks", G("spread-checks 5")),
    case("spread-checks-51", G("spread-checks 51"), P_(2) + SPREAD_RANGE, *FATAL_PARSE),
    case("spread-checks-negative", G("spread-checks -1"), P_(2) + SPREAD_RANGE, *FATAL_PARSE),
    case(
        "spread-checks-twice",
        G("spread-checks 5", "spread-checks 6"),
        P_(3) + "spread-checks already specified. Continuing.",
    ),
    case("spread-checks-zero-then-again", G("spread-checks 0", "spread-checks 6")),
    case(
        "spread-checks-missing",
        G("spread-checks"),
        P_(2) + "'spread-checks' expects an integer argument (0..50).",
        *FATAL_PARSE,
    ),
    case("max-spread-checks", G("max-spread-checks 10s")),
    case(
        "max-spread-checks-bad-char",
        G("max-spread-checks 10x"),
        P_(2) + "unsupported character 'x' in 'max-spread-checks' (wants an integer delay).",
        *FATAL_PARSE,
    ),
    case(
        "max-spread-checks-overflow",
        G("max-spread-checks 25d"),
        P_(2) + "timer overflow in argument <25d> to <max-spread-checks>, maximum value is "
        "2147483647 ms (~24.8 days).",
        *FATAL_PARSE,
    ),
    case("node", G("node abc.def-1_2")),
    *[
        case(
            f"node-{name}",
            G(line),
            P_(2) + "'node' requires valid node name - non-empty string with digits(0-9), "
            "letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_).",
            *FATAL_PARSE,
        )
        for name, line in (("bad-char", "node a/b"), ("empty", "node"))
    ],
    case("pidfile", G("pidfile /tmp/x.pid")),
    case(
        "pidfile-twice",
        G("pidfile /tmp/x.pid", "pidfile /tmp/y.pid"),
        P(3) + ALREADY.format(kw="pidfile"),
    ),
    case(
        "pidfile-missing",
        G("pidfile"),
        P(2) + "'pidfile' expects a file name as an argument.",
        *FATAL_PARSE,
    ),
    case(
        "setenv-seen-by-later-lines",
        "global\n    setenv ADDR 127.0.0.1:80\n" + LISTEN + '    server s1 "${ADDR}"\n',
    ),
    case(
        "setenv-without-value",
        G("setenv ADDR"),
        P_(2) + "'setenv' expects a name and a value.",
        *FATAL_PARSE,
    ),
    case(
        "setenv-extra-word",
        G("setenv A B C D"),
        P(2) + "'setenv' cannot handle unexpected argument 'D'.",
        *FATAL_PARSE,
    ),
    case(
        "unsetenv-missing",
        G("unsetenv"),
        P_(2) + "'unsetenv' expects at least one variable name.",
        *FATAL_PARSE,
    ),
    case(
        "unsetenv-seen-by-later-lines",
        "global\n    setenv P 127.0.0.1:80\n    unsetenv P\n" + LISTEN + "    server s1 ${P}\n",
        "[F:11] : 'server L/s1' : '${P}' resolves to an empty address (environment variable missing?)\n",
        *FATAL_PARSE,
    ),
    case(
        "nbproc",
        G("nbproc 2"),
        P(2) + "nbproc is not supported any more since HAProxy 2.5. Threads will automatically "
        "be used on multi-processor machines if available.",
        *FATAL_PARSE,
    ),
    case("nbthread-1", G("nbthread 1")),
    case(
        "nbthread-0",
        G("nbthread 0"),
        P(2) + "'nbthread' value must be between 1 and 64 (was 0)",
        *FATAL_PARSE,
    ),
    case(
        "nbthread-not-a-number",
        G("nbthread x"),
        P(2) + "'nbthread' passed a missing or unparsable integer value in 'x'",
        *FATAL_PARSE,
    ),
    case("daemon", G("daemon")),
    case(
        "daemon-extra-word",
        G("daemon 1"),
        P(2) + "'daemon' cannot handle unexpected argument '1'.",
        *FATAL_PARSE,
    ),
    case("master-worker", G("master-worker no-exit-on-failure")),
    case(
        "master-worker-bad-option",
        G("master-worker foo"),
        P(2) + "'master-worker' only supports 'no-exit-on-failure' option.",
        *FATAL_PARSE,
    ),
    case("uid", G("uid 0")),
    case("uid-zero-does-not-count", G("uid 0", "uid 0")),
    case("uid-twice", G("uid 1", "uid 2"), P(3) + "user/uid already specified. Continuing."),
    case("gid-twice", G("gid 1", "gid 2"), P(3) + "group/gid already specified. Continuing."),
    case(
        "uid-not-a-number",
        G("uid abc"),
        "WARNING: "
        + P(2)
        + " uid: string 'abc' is not a number.\n"
        + "   | You might want to use the 'user' parameter to use a system user name.",
    ),
    case("user-root-twice", G("user root", "user root")),
    case(
        "user-unknown",
        G("user nopeuser"),
        P(2) + "cannot find user id for 'nopeuser' (0:Success)",
        *FATAL_PARSE,
    ),
    case(
        "group-unknown",
        G("group nopegroup"),
        P(2) + "cannot find group id for 'nopegroup' (0:Success)",
        *FATAL_PARSE,
    ),
    case("chroot", G("chroot /tmp")),
    case(
        "chroot-missing",
        G("chroot"),
        P(2) + "'chroot' expects a directory as an argument.",
        *FATAL_PARSE,
    ),
    case("ulimit-n", G("ulimit-n 1000")),
    case(
        "ulimit-n-twice",
        G("ulimit-n 1000", "ulimit-n 2000"),
        P(3) + ALREADY.format(kw="ulimit-n"),
    ),
    case("description", G("description a b")),
    case(
        "description-missing",
        G("description"),
        P_(2) + "'description' expects a string argument.",
        *FATAL_PARSE,
    ),
    case("hard-stop-after", G("hard-stop-after 10s")),
    case(
        "hard-stop-after-bad-char",
        G("hard-stop-after 10x"),
        P(2) + "unexpected character 'x' in argument to <hard-stop-after>.\n",
        *FATAL_PARSE,
    ),
    case(
        "hard-stop-after-missing",
        G("hard-stop-after"),
        P(2) + "'hard-stop-after' expects <time> as argument.\n",
        *FATAL_PARSE,
    ),
    case("grace", G("grace 10s")),
    case("log-tag", G("log-tag foo")),
    case(
        "log-tag-missing",
        G("log-tag"),
        P(2) + "'log-tag' expects a tag for use in syslog.",
        *FATAL_PARSE,
    ),
    case("log", G("log 127.0.0.1:514 local0")),
    case("no-log", G("no log")),
    case(
        "log-send-hostname-twice",
        G("log-send-hostname", "log-send-hostname x"),
        P(3) + ALREADY.format(kw="log-send-hostname"),
    ),
    case("zero-warning", G("zero-warning")),
    case(
        "zero-warning-with-a-warning",
        "global\n    zero-warning\nlisten L\n    bind :18000\n" + S,
        "WARNING: missing timeouts for proxy 'L'.\n"
        "   | While not properly invalid, you will certainly encounter various problems\n"
        "   | with such a configuration. To fix this, please ensure that all following\n"
        "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
        "Some warnings were found and 'zero-warning' is set. Aborting.",
        rc=1,
    ),
    case("quiet", G("quiet"), stdout=[]),
    case("quiet-silences-alerts", G("quiet", "foo"), rc=1),
    case("expose-experimental-directives", G("expose-experimental-directives")),
    case("pp2-never-send-local", G("pp2-never-send-local")),
    case(
        "unknown",
        G("foobar"),
        P(2) + "unknown keyword 'foobar' in 'global' section",
        *FATAL_PARSE,
    ),
    case(
        "unknown-did-you-mean",
        G("deamon"),
        P(2) + "unknown keyword 'deamon' in 'global' section; did you mean 'daemon' maybe ?",
        *FATAL_PARSE,
    ),
    case(
        "unknown-in-this-build",
        G("ssl-engine x"),
        P(2) + "unknown keyword 'ssl-engine' in 'global' section",
        *FATAL_PARSE,
    ),
    case(
        "unknown-tune",
        G("tune.foo 1"),
        P(2) + "unknown keyword 'tune.foo' in 'global' section",
        *FATAL_PARSE,
    ),
    case(
        "tune-chksize",
        G("tune.chksize 1"),
        P_(2) + "option 'tune.chksize' is not supported any more (tune.bufsize is used instead).",
        *FATAL_PARSE,
    ),
    case(
        "server-in-global",
        G("server s1 127.0.0.1:80"),
        P(2) + "unknown keyword 'server' in 'global' section; did you mean 'user' maybe ?",
        *FATAL_PARSE,
    ),
]


def test_setenv_changes_the_environment_of_later_lines(tmp_path: Path) -> None:
    """``presetenv`` keeps an existing value; ``setenv`` and ``resetenv`` change what follows."""
    os.environ["HM_KEEP"] = "127.0.0.1:81"
    try:
        text = (
            "global\n    presetenv HM_KEEP 127.0.0.1:99\n    setenv HM_NEW 127.0.0.1:82\n"
            + LISTEN
            + '    server a "${HM_KEEP}"\n    server b "${HM_NEW}"\n'
        )
        assert run_herdsman(tmp_path, text).rc == 0
        gone = "global\n    resetenv PATH\n" + LISTEN + "    server a ${HM_KEEP}\n"
        assert run_herdsman(tmp_path, gone).alerts[0] == (
            "[F.cfg:10] : 'server L/a' : '${HM_KEEP}' resolves to an empty address "
            "(environment variable missing?)"
        )
    finally:
        del os.environ["HM_KEEP"]


@pytest.mark.parametrize("c", params(ALL))
def test_global(c: Case, tmp_path: Path) -> None:
    """Each global-section case prints HAProxy's exact messages and exit code."""
    check_herdsman(c, tmp_path)
