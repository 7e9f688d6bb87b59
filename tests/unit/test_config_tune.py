"""Tuning globals (``tune.*``, ``maxpipes``, ``maxssl*``, the poller switches...).

Every one is accepted with a valid value (haproxy says nothing), refused with
HAProxy's exact alert when its value is wrong, and either stored in
``GlobalConfig.tune_*`` or announced by one NOTICE naming why it has no effect
in herdsman: the only difference with haproxy's output. The size checks that
depend on the whole configuration (the default error pages must fit
``tune.bufsize``/``tune.http.maxhdr``) come from ``config/errpages.py``.

Texts were captured from the 2.6.12 binary; tests/integration/test_config_tune_vs_haproxy.py
runs these cases through it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from configcase import (
    FATAL_PARSE,
    FATAL_POST,
    LISTEN,
    Case,
    case,
    check_herdsman,
    noticed,
    params,
    refused,
)
from herdsman.config import kw_global, kw_tune
from herdsman.config.diag import Diagnostics, Level
from herdsman.config.errpages import DEFAULT_PAGES, http_size_alerts
from herdsman.config.keywords import Support, no_effect
from herdsman.config.model import Config, GlobalConfig
from herdsman.config.parser import parse_text

S = "    server s1 127.0.0.1:80\n"
ROWS = {kw.name: kw for kw in kw_tune.keywords()}


def G(*lines: str) -> str:
    """A global section with ``lines`` from line 2, then the listen frame and a server."""
    return "global\n" + "".join(f"    {line}\n" for line in lines) + LISTEN + S


def P(line: int) -> str:
    return f"parsing [F:{line}] : "


def P_(line: int) -> str:
    return f"parsing [F:{line}]: "


def N(line: int, kw: str) -> str:
    """herdsman's notice for an accepted keyword that has no effect."""
    return "NOTICE: " + P(line) + no_effect(ROWS[kw])


# -- every keyword, with a value haproxy accepts ------------------------------------------

VALID = {
    "tune.maxaccept": "8", "tune.rcvbuf.client": "65536", "tune.rcvbuf.server": "65536",
    "tune.sndbuf.client": "65536", "tune.sndbuf.server": "65536", "tune.bufsize": "32768",
    "tune.maxrewrite": "2048", "tune.http.maxhdr": "200", "tune.http.cookielen": "100",
    "tune.http.logurilen": "2048", "tune.idle-pool.shared": "off",
    "tune.runqueue-depth": "100", "tune.maxpollevents": "100", "tune.recv_enough": "5000",
    "tune.idletimer": "500", "tune.sched.low-latency": "on", "tune.fd.edge-triggered": "on",
    "busy-polling": "", "noepoll": "", "nokqueue": "", "noevports": "", "nopoll": "",
    "tune.buffers.limit": "10", "tune.buffers.reserve": "4", "tune.fail-alloc": "0",
    "no-memory-trimming": "", "tune.pipesize": "16384", "maxpipes": "100", "nosplice": "",
    "tune.pool-high-fd-ratio": "30", "tune.pool-low-fd-ratio": "10",
    "tune.listener.multi-queue": "off", "tune.pattern.cache-size": "1000",
    "tune.peers.max-updates-at-once": "50", "tune.comp.maxlevel": "5", "maxzlibmem": "10",
    "maxcomprate": "100", "maxcompcpuusage": "50", "tune.h2.header-table-size": "8192",
    "tune.h2.initial-window-size": "131072", "tune.h2.max-concurrent-streams": "50",
    "tune.h2.max-frame-size": "32768", "tune.lua.session-timeout": "5s",
    "tune.lua.task-timeout": "5s", "tune.lua.service-timeout": "5s",
    "tune.lua.forced-yield": "5000", "tune.lua.maxmem": "64",
    "tune.vars.global-max-size": "1024", "tune.vars.proc-max-size": "1024",
    "tune.vars.sess-max-size": "1024", "tune.vars.txn-max-size": "1024",
    "tune.vars.reqres-max-size": "1024", "tune.vars.check-max-size": "1024",
    "tune.ssl.cachesize": "1000", "tune.ssl.maxrecord": "1400", "tune.ssl.hard-maxrecord": "1400",
    "tune.ssl.ssl-ctx-cache-size": "500", "tune.ssl.capture-buffer-size": "64",
    "tune.ssl.capture-cipherlist-size": "64", "tune.ssl.default-dh-param": "2048",
    "tune.ssl.force-private-cache": "", "tune.ssl.lifetime": "300", "tune.ssl.keylog": "on",
    "maxsslconn": "100", "maxsslrate": "100",
}  # fmt: skip
DEPRECATED = (
    "WARNING: parsing [F:{line}]: 'tune.ssl.capture-cipherlist-size' is deprecated and will be "
    "removed in version 2.7. Please use 'tune.ssl.capture-buffer-size' instead."
)


def _accepted(kw: str) -> Case:
    pre = ["expose-experimental-directives"] if kw == "tune.fd.edge-triggered" else []
    line = 2 + len(pre)
    msgs = [DEPRECATED.format(line=line)] if kw == "tune.ssl.capture-cipherlist-size" else []
    if ROWS[kw].support is Support.NO_EFFECT:
        msgs.append(N(line, kw))
    return noticed(f"accepted-{kw}", G(*pre, f"{kw} {VALID[kw]}".strip()), *msgs)


ACCEPTED = [_accepted(kw) for kw in VALID]

# -- wrong values, one family of parsers after the other ----------------------------------

ALREADY = "'{kw}' already specified. Continuing."
BETWEEN = "'{kw}' expects an integer argument between 0 and 100."
INT_ARG = "'{kw}' expects an integer argument."
POSITIVE = "'{kw}' expects a positive numeric value."
ON_OFF = "'{kw}' expects either 'on' or 'off' but got '{arg}'."
IDLE = "'tune.idletimer' expects a timer value between 0 and 65535 ms."
TRAILING = (
    "WARNING: unexpected character 'x' after the timer value '{value}', only "
    "(us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. "
    "This will be reported as an error in next versions."
)

ERRORS = [
    # cfgparse-global.c integers: atol(), the argument count, "already specified"
    noticed("bufsize-missing", G("tune.bufsize"), P(2) + INT_ARG.format(kw="tune.bufsize"), *FATAL_PARSE),
    noticed("bufsize-extra", G("tune.bufsize 1 2"), P(2) + "'tune.bufsize' cannot handle unexpected argument '2'.", *FATAL_PARSE),
    noticed("bufsize-zero", G("tune.bufsize 0"), P(2) + "'tune.bufsize' expects a positive integer argument.", *FATAL_PARSE),
    noticed("bufsize-negative", G("tune.bufsize -5"), P(2) + "'tune.bufsize' expects a positive integer argument.", *FATAL_PARSE),
    noticed("bufsize-int-max", G("tune.bufsize 2147483647"), P(2) + "'tune.bufsize' expects a positive integer argument.", *FATAL_PARSE),
    noticed("maxrewrite-negative", G("tune.maxrewrite -1"), P(2) + "'tune.maxrewrite' expects a positive integer argument.", *FATAL_PARSE),
    noticed("maxrewrite-above-half", G("tune.bufsize 1024", "tune.maxrewrite 1000")),
    noticed("maxaccept-above-int-max", G("tune.maxaccept 2147483648"), P(2) + "'tune.maxaccept' expects -1 or an integer from 0 to INT_MAX.", *FATAL_PARSE),
    noticed("maxaccept-twice", G("tune.maxaccept -1", "tune.maxaccept 6"), N(2, "tune.maxaccept"), P(3) + ALREADY.format(kw="tune.maxaccept")),
    noticed("rcvbuf-twice", G("tune.rcvbuf.client 1", "tune.rcvbuf.client 2"), P(3) + ALREADY.format(kw="tune.rcvbuf.client")),
    noticed("runqueue-depth-twice", G("tune.runqueue-depth 5", "tune.runqueue-depth 6"), N(2, "tune.runqueue-depth"), P(3) + ALREADY.format(kw="tune.runqueue-depth")),
    noticed("runqueue-depth-zero-is-unset", G("tune.runqueue-depth 0", "tune.runqueue-depth 6"), N(2, "tune.runqueue-depth"), N(3, "tune.runqueue-depth")),
    noticed("maxpipes-twice", G("maxpipes 1", "maxpipes 2"), N(2, "maxpipes"), P(3) + ALREADY.format(kw="maxpipes")),
    noticed("maxcomprate-missing", G("maxcomprate"), P(2) + "'maxcomprate' expects an integer argument in kb/s.", *FATAL_PARSE),
    noticed("maxzlibmem-missing", G("maxzlibmem"), P(2) + INT_ARG.format(kw="maxzlibmem"), *FATAL_PARSE),
    noticed("maxsslrate-missing", G("maxsslrate"), P(2) + INT_ARG.format(kw="maxsslrate"), *FATAL_PARSE),
    noticed("cookielen-not-a-number", G("tune.http.cookielen x")),
    noticed("buffers-limit-below-3", G("tune.buffers.limit 1"), N(2, "tune.buffers.limit")),
    # atoi() and a range
    noticed("maxhdr-zero", G("tune.http.maxhdr 0"), P(2) + "'tune.http.maxhdr' expects a numeric value between 1 and 32767", *FATAL_PARSE),
    noticed("maxhdr-missing", G("tune.http.maxhdr"), P(2) + INT_ARG.format(kw="tune.http.maxhdr"), *FATAL_PARSE),
    noticed("comp-maxlevel-zero", G("tune.comp.maxlevel 0"), P(2) + "'tune.comp.maxlevel' expects a numeric value between 1 and 9", *FATAL_PARSE),
    noticed("comp-maxlevel-missing", G("tune.comp.maxlevel"), P(2) + "'tune.comp.maxlevel' expects a numeric value between 1 and 9", *FATAL_PARSE),
    noticed("pattern-cache-negative", G("tune.pattern.cache-size -1"), P(2) + "'tune.pattern.cache-size' expects a positive numeric value", *FATAL_PARSE),
    noticed("pattern-cache-extra-words", G("tune.pattern.cache-size 1 2"), N(2, "tune.pattern.cache-size")),
    noticed("pool-ratio-missing", G("tune.pool-low-fd-ratio"), P(2) + BETWEEN.format(kw="tune.pool-low-fd-ratio"), *FATAL_PARSE),
    noticed("pool-ratio-101", G("tune.pool-high-fd-ratio 101"), P(2) + BETWEEN.format(kw="tune.pool-high-fd-ratio"), *FATAL_PARSE),
    noticed("fail-alloc-101", G("tune.fail-alloc 101"), P(2) + "'tune.fail-alloc' expects a numeric value between 0 and 100.", *FATAL_PARSE),
    noticed("fail-alloc-missing-is-zero", G("tune.fail-alloc"), N(2, "tune.fail-alloc")),
    noticed("peers-zero", G("tune.peers.max-updates-at-once 0"), P(2) + "'tune.peers.max-updates-at-once' expects an integer argument greater than 0.", *FATAL_PARSE),
    noticed("h2-frame-size-small", G("tune.h2.max-frame-size 100"), P(2) + "'tune.h2.max-frame-size' expects a numeric value between 16384 and 16777215.", *FATAL_PARSE),
    noticed("h2-window-negative", G("tune.h2.initial-window-size -1"), P(2) + POSITIVE.format(kw="tune.h2.initial-window-size"), *FATAL_PARSE),
    noticed("h2-window-missing-is-zero", G("tune.h2.initial-window-size"), N(2, "tune.h2.initial-window-size")),
    noticed("h2-table-missing", G("tune.h2.header-table-size"), P(2) + "'tune.h2.header-table-size' expects a numeric value between 4096 and 65536.", *FATAL_PARSE),
    noticed("maxcompcpuusage-101", G("maxcompcpuusage 101"), P(2) + BETWEEN.format(kw="maxcompcpuusage"), *FATAL_PARSE),
    noticed("maxcompcpuusage-negative", G("maxcompcpuusage -1"), P(2) + BETWEEN.format(kw="maxcompcpuusage"), *FATAL_PARSE),
    noticed("ssl-cachesize-negative", G("tune.ssl.cachesize -1"), P(2) + POSITIVE.format(kw="tune.ssl.cachesize"), *FATAL_PARSE),
    noticed("maxsslconn-negative", G("maxsslconn -1"), P(2) + POSITIVE.format(kw="maxsslconn"), *FATAL_PARSE),
    noticed("ssl-dh-param-small", G("tune.ssl.default-dh-param 512"), P(2) + "'tune.ssl.default-dh-param' expects a value >= 1024.", *FATAL_PARSE),
    noticed("ssl-capture-twice", G("tune.ssl.capture-buffer-size 10", "tune.ssl.capture-buffer-size 10"), N(2, "tune.ssl.capture-buffer-size"), P(3) + "'tune.ssl.capture-buffer-size' is already configured.", *FATAL_PARSE),
    noticed("ssl-capture-after-a-failure", G("tune.ssl.capture-buffer-size -1", "tune.ssl.capture-buffer-size 10"), P(2) + POSITIVE.format(kw="tune.ssl.capture-buffer-size"), N(3, "tune.ssl.capture-buffer-size"), *FATAL_PARSE),
    noticed("ssl-cipherlist-then-buffer", G("tune.ssl.capture-cipherlist-size 10", "tune.ssl.capture-buffer-size 10"), DEPRECATED.format(line=2), N(2, "tune.ssl.capture-cipherlist-size"), P(3) + "'tune.ssl.capture-buffer-size' is already configured.", *FATAL_PARSE),
    noticed("ssl-cipherlist-extra", G("tune.ssl.capture-cipherlist-size 1 2"), DEPRECATED.format(line=2), P(2) + "'tune.ssl.capture-cipherlist-size' cannot handle unexpected argument '2'.", *FATAL_PARSE),
    # times
    noticed("idletimer-bad-char", G("tune.idletimer 1x"), P_(2) + "unexpected character 'x' in argument to <tune.idletimer>.", *FATAL_PARSE),
    noticed("idletimer-above-65535", G("tune.idletimer 70s"), P(2) + IDLE, *FATAL_PARSE),
    noticed("idletimer-overflow", G("tune.idletimer 30d"), P_(2) + "timer overflow in argument <30d> to <tune.idletimer>, maximum value is 65535 ms.", *FATAL_PARSE),
    noticed("idletimer-missing", G("tune.idletimer"), P(2) + IDLE, *FATAL_PARSE),
    noticed("idletimer-trailing-char", G("tune.idletimer 10msx"), TRAILING.format(value="10msx"), N(2, "tune.idletimer")),
    noticed("ssl-lifetime-bad-char", G("tune.ssl.lifetime 1x"), P(2) + "unexpected character 'x' in argument to <tune.ssl.lifetime>.", *FATAL_PARSE),
    noticed("ssl-lifetime-overflow", G("tune.ssl.lifetime 100000d"), P(2) + "timer overflow in argument '100000d' to <tune.ssl.lifetime> (maximum value is 2147483647 s or ~68 years).", *FATAL_PARSE),
    noticed("ssl-lifetime-missing", G("tune.ssl.lifetime"), P(2) + "'tune.ssl.lifetime' expects ssl sessions <lifetime> in seconds as argument.", *FATAL_PARSE),
    noticed("lua-timeout-bad", G("tune.lua.session-timeout x"), P(2) + "tune.lua.session-timeout: invalid timeout", *FATAL_PARSE),
    noticed("lua-timeout-missing", G("tune.lua.task-timeout"), P(2) + "tune.lua.task-timeout: invalid timeout", *FATAL_PARSE),
    noticed("lua-timeout-overflow", G("tune.lua.service-timeout 30d"), P(2) + "timer overflow in argument <30d> to <tune.lua.service-timeout> (maximum value is 2147483647 ms or ~24.8 days)", *FATAL_PARSE),
    noticed("lua-timeout-microseconds", G("tune.lua.session-timeout 500us"), N(2, "tune.lua.session-timeout")),
    # on/off and flags
    noticed("idle-pool-bad", G("tune.idle-pool.shared x"), P(2) + ON_OFF.format(kw="tune.idle-pool.shared", arg="x"), *FATAL_PARSE),
    noticed("idle-pool-missing", G("tune.idle-pool.shared"), P(2) + ON_OFF.format(kw="tune.idle-pool.shared", arg=""), *FATAL_PARSE),
    noticed("keylog-bad", G("tune.ssl.keylog x"), P(2) + ON_OFF.format(kw="tune.ssl.keylog", arg="x"), *FATAL_PARSE),
    noticed("edge-triggered-not-exposed", G("tune.fd.edge-triggered on"), P(2) + "'tune.fd.edge-triggered' directive is experimental, must be allowed via a global 'expose-experimental-directives'", *FATAL_PARSE),
    noticed("edge-triggered-bad", G("expose-experimental-directives", "tune.fd.edge-triggered x"), P(3) + ON_OFF.format(kw="tune.fd.edge-triggered", arg="x"), *FATAL_PARSE),
    noticed("private-cache-extra", G("tune.ssl.force-private-cache 1"), P(2) + "'tune.ssl.force-private-cache' cannot handle unexpected argument '1'.", *FATAL_PARSE),
    noticed("nosplice-extra", G("nosplice x"), P(2) + "'nosplice' cannot handle unexpected argument 'x'.", *FATAL_PARSE),
    noticed("no-busy-polling", G("no busy-polling"), N(2, "busy-polling")),
    # strtol() without checks
    noticed("forced-yield-bad", G("tune.lua.forced-yield 1x"), P(2) + "tune.lua.forced-yield: invalid number", *FATAL_PARSE),
    noticed("forced-yield-missing-is-zero", G("tune.lua.forced-yield"), N(2, "tune.lua.forced-yield")),
    noticed("lua-maxmem-bad", G("tune.lua.maxmem 1x"), P(2) + "tune.lua.maxmem: invalid number 1x (error at 'x')", *FATAL_PARSE),
    noticed("lua-maxmem-missing", G("tune.lua.maxmem"), P(2) + "'tune.lua.maxmem' expects an integer argument (Lua memory size in MB).", *FATAL_PARSE),
    noticed("vars-size-bad", G("tune.vars.txn-max-size 1k"), P(2) + "tune.vars.txn-max-size: '1k' is an invalid size", *FATAL_PARSE),
    noticed("vars-size-missing-is-zero", G("tune.vars.txn-max-size"), N(2, "tune.vars.txn-max-size")),
    # one notice per line, none in quiet mode
    noticed("twice-two-notices", G("tune.h2.max-frame-size 16384", "tune.h2.max-frame-size 16384"), N(2, "tune.h2.max-frame-size"), N(3, "tune.h2.max-frame-size")),
    case("quiet-no-notice", G("quiet", "tune.h2.max-frame-size 16384"), stdout=()),
]  # fmt: skip

# -- the default error pages against tune.bufsize and tune.http.maxhdr ------------------


def _pages(error: str, codes: list[int] | None = None) -> list[str]:
    return [
        f"Internal error: invalid default message for HTTP return code {code}: {error}."
        for code in (codes or list(DEFAULT_PAGES))
    ]


HEADERS = "unable to add headers into the HTX message"
PAYLOAD = "unable to add payload into the HTX message"
# tune.http.maxhdr 1: where the header parser stops in each page.
OFFSETS_1 = [62, 71, 73, 69, 69, 79, 73, 77, 65, 78, 80, 82, 69, 78, 81, 76, 72, 80, 76]
BIG = "global.tune.bufsize must be below 256 MB when HTTP is in use (current value = {0})."

SIZES = [
    noticed("bufsize-48-no-room-for-headers", G("tune.bufsize 40"), *_pages(HEADERS), *FATAL_POST),
    noticed("bufsize-256-no-room-for-pages", G("tune.bufsize 256"), *_pages(PAYLOAD, [c for c in DEFAULT_PAGES if c != 200]), *FATAL_POST),
    noticed("bufsize-400-fits", G("tune.bufsize 400")),
    noticed("maxhdr-4", G("tune.bufsize 1024", "tune.http.maxhdr 4"), *_pages("unable to parse headers (error offset: 117)", [400]), "Internal error: invalid default message for HTTP return code 408: unable to parse headers (error offset: 123).", *FATAL_POST),
    noticed(
        "maxhdr-1",
        G("tune.http.maxhdr 1"),
        *[f"Internal error: invalid default message for HTTP return code {code}: unable to parse headers (error offset: {off})." for code, off in zip(DEFAULT_PAGES, OFFSETS_1, strict=True)],
        *FATAL_POST,
    ),
    noticed("bufsize-256m", G("tune.bufsize 268435456"), BIG.format(268435456), *FATAL_POST),
    noticed("bufsize-wraps-to-int", G("tune.bufsize 99999999999"), BIG.format(1215752192), *FATAL_POST),
    noticed(
        "size-checks-come-after-the-proxies",
        "global\n    tune.bufsize 268435456\n" + LISTEN + "    default_backend nope\n    server s3 127.0.0.1 check\n",
        "Proxy 'L': unable to find required default_backend: 'nope'.",
        BIG.format(268435456),
        "config: proxy 'L': server 's3' has neither service port nor check port.",
        *FATAL_POST,
    ),
    refused(
        "bufsize-below-htx-header",
        G("tune.bufsize 16k"),
        "global.tune.bufsize must be at least 48 bytes (current value = 16): HAProxy 2.6.12 crashes below.",
        *FATAL_POST,
        why="haproxy 2.6.12 dies of SIGSEGV",
        rc=-11,
    ),
]  # fmt: skip

ALL: list[Case] = [*ACCEPTED, *ERRORS, *SIZES]


def test_every_tuning_keyword_is_covered() -> None:
    """Each row of the table has an accepted case, and reaches the global section."""
    assert set(VALID) == set(ROWS)
    assert set(ROWS) <= set(kw_global.TABLE.rows)


@pytest.mark.parametrize("c", params(ALL))
def test_tune(c: Case, tmp_path: Path) -> None:
    """haproxy's messages and exit code; herdsman adds one notice per no-effect line."""
    check_herdsman(c, tmp_path)


# -- what is stored --------------------------------------------------------------------------


def _global(*lines: str) -> GlobalConfig:
    diag = Diagnostics()
    config = parse_text(G(*lines), diag, "F.cfg")
    assert config is not None, diag.texts()
    return config.global_


def test_defaults_are_haproxys() -> None:
    g = _global()
    assert (g.tune_bufsize, g.tune_maxrewrite, g.tune_http_maxhdr) == (16384, 1024, 101)
    assert g.tune_http_logurilen == 1024
    assert (g.tune_rcvbuf_client, g.tune_rcvbuf_server) == (0, 0)
    assert (g.tune_sndbuf_client, g.tune_sndbuf_server) == (0, 0)
    assert g.tuning == {}


def test_stored_values() -> None:
    """The fields the data path and HTTP mode read, as HAProxy stores them."""
    g = _global(*(f"{kw} {VALID[kw]}" for kw in VALID if ROWS[kw].support is Support.IMPLEMENTED))
    assert (g.tune_bufsize, g.tune_maxrewrite, g.tune_http_maxhdr) == (32768, 2048, 200)
    # the capture lengths count the trailing NUL
    assert g.tune_http_logurilen == 2049
    assert (g.tune_rcvbuf_client, g.tune_rcvbuf_server) == (65536, 65536)
    assert (g.tune_sndbuf_client, g.tune_sndbuf_server) == (65536, 65536)
    assert g.tuning == {}


@pytest.mark.parametrize(
    ("lines", "bufsize", "maxrewrite"),
    [
        (["tune.bufsize 1000"], 1008, 504),  # rounded up to 16; maxrewrite capped to half
        (["tune.maxrewrite 9000"], 16384, 8192),
        (["tune.bufsize 4096", "tune.maxrewrite 100"], 4096, 100),
        (["tune.maxrewrite 0"], 16384, 0),
    ],
)
def test_bufsize_and_maxrewrite(lines: list[str], bufsize: int, maxrewrite: int) -> None:
    g = _global(*lines)
    assert (g.tune_bufsize, g.tune_maxrewrite) == (bufsize, maxrewrite)


@pytest.mark.parametrize(
    ("line", "cookielen"),
    [("tune.http.cookielen 63", 64), ("tune.http.cookielen -1", 64), ("tune.http.cookielen 0", 1)],
)
def test_cookielen(line: str, cookielen: int) -> None:
    """-1 gives 0, which HAProxy replaces by the default after parsing."""
    assert _global(line).tune_http_cookielen == cookielen


def test_maxaccept_unlimited() -> None:
    assert _global("tune.maxaccept -1").tuning == {"tune.maxaccept": -1}


def test_no_effect_values_are_kept() -> None:
    g = _global("tune.runqueue-depth 5", "no busy-polling", "tune.sched.low-latency on")
    assert g.tuning == {
        "tune.runqueue-depth": 5,
        "busy-polling": False,
        "tune.sched.low-latency": True,
    }


def test_notice_at_start_up() -> None:
    """The notice goes to the terminal like warnings do, without the version banner."""
    out = io.StringIO()
    diag = Diagnostics(stream=out, pid=42)
    config = parse_text(G("tune.h2.max-frame-size 16384"), diag, "F.cfg")
    assert isinstance(config, Config)
    assert out.getvalue() == (
        "[NOTICE]   (42) : config : parsing [F.cfg:2] : 'tune.h2.max-frame-size' has no effect in "
        "herdsman (herdsman has no HTTP/2).\n"
    )
    assert diag.texts(Level.NOTICE) == [out.getvalue().split(" : config : ")[1].rstrip("\n")]
    assert not diag.warned


# -- errpages on its own ------------------------------------------------------------------


def test_pages_announce_their_length() -> None:
    for page in DEFAULT_PAGES.values():
        head, _, body = page.partition(b"\r\n\r\n")
        assert b"\r\nContent-length: %d\r\n" % len(body) in head + b"\r\n"


@pytest.mark.parametrize(
    ("bufsize", "maxhdr", "failing"),
    [
        (16384, 101, 0),
        (16384, 5, 0),  # three or four headers and the closing entry
        (16384, 4, 2),  # 400 and 408 have four headers
        (400, 101, 0),
        (48, 101, 19),
    ],
)
def test_size_alerts(bufsize: int, maxhdr: int, failing: int) -> None:
    assert len(http_size_alerts(bufsize, maxhdr)) == failing
