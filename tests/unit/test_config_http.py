"""HTTP mode's configuration as ``-c`` reports it (spec §2.7, §3): ``mode http`` and
the checks 2.6 does once every section is read, the connection modes and the
options with arguments, ``http-reuse``, ``retry-on`` and the other HTTP
keywords, the server pool keywords (the error pages: test_config_errfiles.py).

Texts were captured from the 2.6.12 binary; tests/integration/test_config_vs_haproxy.py
runs every case through it. The model each configuration produces is checked
at the end of the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from configcase import (
    DEFAULTS,
    FATAL_PARSE,
    FATAL_POST,
    Case,
    case,
    check_herdsman,
    noticed,
    params,
    refused,
)
from herdsman.config.diag import Diagnostics
from herdsman.config.model import AddedHeader, Config, ConnMode, HdrNames, HttpReuse, Mode, RetryOn
from herdsman.config.model_addr import Family, Network
from herdsman.config.parser import parse_text

HTTP_DEFAULTS = DEFAULTS.replace("mode tcp", "mode http")
S = "server s1 127.0.0.1:80"
S2 = "server s2 127.0.0.1:80"
SRV2 = "[F:8] : 'server L/s2' : "
B = "backend B\n    server s1 127.0.0.1:80\n"


def H(*lines: str, defaults: str = HTTP_DEFAULTS) -> str:
    """HTTP defaults, then ``listen L`` with ``lines`` from line 8 and a server."""
    body = "".join(f"    {line}\n" for line in lines)
    return defaults + f"listen L\n    bind :18000\n{body}    {S}\n"


def T(*lines: str) -> str:
    """The same in TCP mode."""
    return H(*lines, defaults=DEFAULTS)


def FE(*lines: str, defaults: str = HTTP_DEFAULTS) -> str:
    """A frontend F (line 6) with ``lines`` from line 8, using backend B."""
    body = "".join(f"    {line}\n" for line in lines)
    return defaults + f"frontend F\n    bind :18000\n{body}    default_backend B\n" + B


def BE(*lines: str) -> str:
    """A backend B (line 6) with ``lines`` from line 7, reached by frontend F."""
    body = "".join(f"    {line}\n" for line in lines)
    return (
        HTTP_DEFAULTS
        + f"backend B\n{body}    {S}\nfrontend F\n    bind :18000\n    default_backend B\n"
    )


def P(line: int = 8) -> str:
    return f"parsing [F:{line}] : "


def W(text: str) -> str:
    return "WARNING: " + text


NO_DELAY = (
    "'option http-no-delay' has no effect in herdsman (herdsman always sends at once: "
    "TCP_NODELAY, never MSG_MORE)."
)
MAX_REUSE = (
    "'max-reuse' has no effect in herdsman (HAProxy 2.6 applies it to HTTP/2 and FastCGI "
    "server connections only; herdsman speaks HTTP/1.1 to servers)."
)


IGNORED_FE = "'{kw}' ignored because frontend 'F' has no backend capability."
IGNORED_BE = "'{kw}' ignored because backend 'B' has no frontend capability."
PLANNED = "'{kw}' is not implemented in herdsman yet ({why}); remove it or use haproxy."
TCP_OPT = "'option {opt}' ignored for {kind} '{name}' as it requires HTTP mode."

# -- mode -------------------------------------------------------------------------------

MODES = [
    case(
        "http-frontend-tcp-backend",
        FE(defaults=DEFAULTS).replace("bind :18000\n", "mode http\n    bind :18000\n"),
        "http frontend 'F' (F.cfg:6) tries to use incompatible tcp backend 'B' (F.cfg:10) as its "
        "default backend (see 'mode').",
        *FATAL_POST,
    ),
    case(
        "http-frontend-tcp-use-backend",
        DEFAULTS + "frontend F\n    mode http\n    bind :18000\n    use_backend B\n"
        "    use_backend C\n" + B + "backend C\n    mode http\n",
        "http frontend 'F' (F.cfg:6) tries to use incompatible tcp backend 'B' (F.cfg:11) in a "
        "'use_backend' rule (see 'mode').",
        *FATAL_POST,
    ),
    case(
        "http-listen-tcp-backend",
        DEFAULTS + "listen L\n    mode http\n    bind :18000\n    default_backend B\n"
        f"    {S}\n" + B,
        "http proxy 'L' (F.cfg:6) tries to use incompatible tcp backend 'B' (F.cfg:11) as its default "
        "backend (see 'mode').",
        *FATAL_POST,
    ),
    case(
        "tcp-frontend-http-backend",
        DEFAULTS + "frontend F\n    bind :18000\n    default_backend B\n"
        f"backend B\n    mode http\n    {S}\n",
    ),
    case("http-listen", H()),
    case(
        # in HTTP mode 'timeout tunnel' does not stand for 'timeout server'
        "http-tunnel-timeout-not-server",
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n"
        f"    timeout tunnel 1s\nlisten L\n    bind :18000\n    {S}\n",
        W(
            "missing timeouts for proxy 'L'.\n"
            "   | While not properly invalid, you will certainly encounter various problems\n"
            "   | with such a configuration. To fix this, please ensure that all following\n"
            "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
        ),
    ),
    case(
        "tcp-tunnel-timeout-is-server",
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n"
        f"    timeout tunnel 1s\nlisten L\n    bind :18000\n    {S}\n",
    ),
    case(
        "http-balance",
        H("balance uri len 10 depth 2 whole path-only")
        + "backend B\n    balance url_param x check_post 5\n"
        "backend C\n    balance hdr(host) use_domain_only\n",
    ),
    case(
        "tcp-inherited-monitor-uri-and-hash",
        DEFAULTS.replace(
            "timeout server 1s\n", "timeout server 1s\n    monitor-uri /m\n    balance uri\n"
        )
        + "frontend F\n    bind :18000\n    default_backend B\n"
        + B
        + f"listen L\n    bind :18001\n    {S}\n",
        W("monitor-uri will be ignored for frontend 'F' (needs 'mode http')."),
        W(
            "Layer 7 hash not possible for backend 'B' (needs 'mode http'). Falling back to round robin."
        ),
        W("monitor-uri will be ignored for proxy 'L' (needs 'mode http')."),
        W(
            "Layer 7 hash not possible for proxy 'L' (needs 'mode http'). Falling back to round robin."
        ),
    ),
    case(
        # frontend-only and backend-only settings are not inherited by the other side
        "defaults-split-by-capability",
        DEFAULTS.replace(
            "timeout server 1s\n", "timeout server 1s\n    default_backend B\n    maxconn 10\n"
        )
        + f"frontend F\n    bind :18000\n{B}",
    ),
    case("server-redir-and-cookie-in-http", H(f"{S2} redir http://x cookie c")),
    case("server-observe-layer7", H(f"{S2} observe layer7")),
]

# -- options ----------------------------------------------------------------------------

FORWARD = [
    *[
        case(f"forwardfor-{i}", H(f"option forwardfor {words}"))
        for i, words in enumerate(
            [
                "except 1.2.3.4/255.255.0.0",
                "except 1.2.3.4/255.0.255.0",
                "except localhost",
                "if-none header X-Real except 10.0.0.0/8 if-none",
                "except ::/0",
                "except 10.0.0.0/4294967297",
                "except 1.2.3",
                "except 1",
                "except 01.2.3.4",
            ]
        )
    ],
    *[
        case(
            f"forwardfor-except-bad-{i}",
            H(f"option forwardfor except {net}".rstrip()),
            P() + "'option forwardfor except' expects <address>[/mask] as argument.",
            *FATAL_PARSE,
        )
        for i, net in enumerate(
            [
                "",
                "1.2.3.4/33",
                "::1/129",
                "::1/",
                "nonexistent.invalid",
                "10.0.0.0/-1",
                "10.0.0.0/",
                "/8",
                "[::1]",
                "0x7f.1",
                "256.1.1.1",
                "1.2.3.4/255.255.255.256",
            ]
        )
    ],
    case(
        "forwardfor-header-missing",
        H("option forwardfor header"),
        P() + "'option forwardfor header' expects <header_name> as argument.",
        *FATAL_PARSE,
    ),
    case(
        "forwardfor-unknown",
        H("option forwardfor foo"),
        P() + "'option forwardfor' only supports optional values: 'except', 'header' and "
        "'if-none'.",
        *FATAL_PARSE,
    ),
    case("originalto", H("option originalto except 1.2.3.4 header X-O")),
    case(
        "originalto-if-none",
        H("option originalto if-none"),
        P() + "'option originalto' only supports optional values: 'except' and 'header'.",
        *FATAL_PARSE,
    ),
    case(
        "originalto-except-missing",
        H("option originalto except"),
        P() + "'option originalto except' expects <address>[/mask] as argument.",
        *FATAL_PARSE,
    ),
    case(
        "originalto-header-missing",
        H("option originalto header"),
        P() + "'option originalto header' expects <header_name> as argument.",
        *FATAL_PARSE,
    ),
    *[
        case(
            f"{kwm}-option-{opt}",
            H(f"{kwm} option {opt}"),
            "parsing [F:8]: negation/default is not supported for option '" + opt + "'.",
            *FATAL_PARSE,
        )
        for kwm, opt in [
            ("no", "forwardfor"),
            ("default", "forwardfor"),
            ("no", "originalto"),
            ("no", "http-restrict-req-hdr-names"),
        ]
    ],
]

EXPECTS = "option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option."
OPTIONS = [
    *FORWARD,
    case("restrict-hdr-names", H("option http-restrict-req-hdr-names delete")),
    case(
        "restrict-hdr-names-missing",
        H("option http-restrict-req-hdr-names"),
        P() + "missing parameter. " + EXPECTS,
        *FATAL_PARSE,
    ),
    case(
        "restrict-hdr-names-invalid",
        H("option http-restrict-req-hdr-names foo"),
        P() + "invalid parameter 'foo'. " + EXPECTS,
        *FATAL_PARSE,
    ),
    case(
        "restrict-hdr-names-extra",
        H("option http-restrict-req-hdr-names reject x"),
        P() + "'option' cannot handle unexpected argument 'x'.",
        *FATAL_PARSE,
    ),
    case(
        "conn-modes", H("option http-server-close", "no option http-keep-alive", "option httpclose")
    ),
    case(
        "no-httpclose-extra",
        H("no option httpclose x"),
        P() + "'option httpclose' cannot handle unexpected argument 'x'.",
        *FATAL_PARSE,
    ),
    case(
        "no-http-tunnel",
        H("no option http-tunnel"),
        "parsing [F:8]: option 'http-tunnel' is not supported any more since HAProxy 2.1, please "
        "just remove it, it shouldn't be needed.",
        *FATAL_PARSE,
    ),
    case(
        "pretend-keepalive-in-frontend",
        FE("option http-pretend-keepalive"),
        W(P() + IGNORED_FE.format(kw="http-pretend-keepalive")),
    ),
    noticed(
        "http-options",
        H(
            "option http-pretend-keepalive",
            "option http-buffer-request",
            "option http-no-delay",
            "option http-ignore-probes",
            "option idle-close-on-response",
            "option prefer-last-server",
            "option accept-invalid-http-request",
            "option accept-invalid-http-response",
        ),
        "NOTICE: " + P(10) + NO_DELAY,
    ),
    case(
        "accept-invalid-request-in-backend",
        BE("option accept-invalid-http-request"),
        W("parsing [F:7] : " + IGNORED_BE.format(kw="accept-invalid-http-request")),
    ),
    noticed(
        "tcp-mode-options",
        T(
            "option forwardfor",
            "option originalto",
            "option http-buffer-request",
            "option http-pretend-keepalive",
            "option httpclose",
            "option accept-invalid-http-request",
            "option accept-invalid-http-response",
            "option http-no-delay",
            "option idle-close-on-response",
            "option http-ignore-probes",
            "option prefer-last-server",
            "option http-restrict-req-hdr-names reject",
        ),
        "NOTICE: " + P(15) + NO_DELAY,
        *[
            W(TCP_OPT.format(opt=opt, kind="proxy", name="L"))
            for opt in (
                "forwardfor",
                "originalto",
                "http-buffer-request",
                "http-ignore-probes",
                "idle-close-on-response",
                "prefer-last-server",
                "accept-invalid-http-request",
                "accept-invalid-http-response",
                "http-pretend-keepalive",
                "http-no-delay",
            )
        ],
    ),
    case(
        # inherited options warn only where the section has their capability
        "tcp-mode-inherited-options",
        DEFAULTS.replace(
            "timeout server 1s\n",
            "timeout server 1s\n    option forwardfor\n    option http-buffer-request\n"
            "    option accept-invalid-http-request\n    option accept-invalid-http-response\n",
        )
        + "frontend F\n    bind :18000\n    default_backend B\n"
        + B,
        *[
            W(TCP_OPT.format(opt=opt, kind=kind, name=name))
            for kind, name, opt in (
                ("frontend", "F", "forwardfor"),
                ("frontend", "F", "http-buffer-request"),
                ("frontend", "F", "accept-invalid-http-request"),
                ("backend", "B", "forwardfor"),
                ("backend", "B", "http-buffer-request"),
                ("backend", "B", "accept-invalid-http-response"),
            )
        ],
    ),
    case(
        "tcp-mode-warnings-order",
        T(
            "monitor-uri /m", "balance uri", "option forwardfor", "option prefer-last-server"
        ).replace(S, S + " cookie x"),
        W("monitor-uri will be ignored for proxy 'L' (needs 'mode http')."),
        W(
            "Layer 7 hash not possible for proxy 'L' (needs 'mode http'). Falling back to round robin."
        ),
        W(TCP_OPT.format(opt="forwardfor", kind="proxy", name="L")),
        W(TCP_OPT.format(opt="prefer-last-server", kind="proxy", name="L")),
        W("proxy 'L' : ignoring cookie for server 's1' as HTTP mode is disabled."),
    ),
    # h1-case-adjust-bogus-* are TCP-mode options too since 2.6.x, and planned
    *[
        refused(
            f"option-{opt}-tcp",
            T(f"option {opt}"),
            P() + PLANNED.format(kw=f"option {opt}", why="HTTP mode"),
            *FATAL_PARSE,
            why="planned: HTTP mode",
        )
        for opt in ("h1-case-adjust-bogus-client", "h1-case-adjust-bogus-server")
    ],
]

# -- keywords ---------------------------------------------------------------------------

REUSE_ONLY = "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'."
KEYWORDS = [
    *[
        case(f"http-reuse-{mode}", H(f"http-reuse {mode}"))
        for mode in ("never", "safe", "aggressive", "always")
    ],
    case("http-reuse-missing", H("http-reuse"), P() + REUSE_ONLY, *FATAL_PARSE),
    case("http-reuse-unknown", H("http-reuse foo x"), P() + REUSE_ONLY, *FATAL_PARSE),
    case(
        "http-reuse-extra",
        H("http-reuse safe x"),
        P() + "'http-reuse safe' cannot handle unexpected argument 'x'.",
        *FATAL_PARSE,
    ),
    case(
        "http-reuse-in-frontend",
        FE("http-reuse always"),
        W(P() + IGNORED_FE.format(kw="http-reuse")),
    ),
    case("http-reuse-in-tcp", T("http-reuse always")),
    case("monitor-uri", H("monitor-uri /health")),
    case(
        "monitor-uri-missing", H("monitor-uri"), P() + "'monitor-uri' expects an URI.", *FATAL_PARSE
    ),
    case(
        "monitor-uri-extra",
        H("monitor-uri /a /b"),
        P() + "'monitor-uri' cannot handle unexpected argument '/b'.",
        *FATAL_PARSE,
    ),
    case(
        "monitor-uri-in-backend",
        BE("monitor-uri /x"),
        W("parsing [F:7] : " + IGNORED_BE.format(kw="monitor-uri")),
    ),
    case(
        "monitor-fail-no-condition",
        H("monitor fail"),
        P() + "'monitor fail' requires either 'if' or 'unless' followed by a condition.",
        *FATAL_PARSE,
    ),
    case(
        "monitor-unknown", H("monitor foo"), P() + "'monitor' only supports 'fail'.", *FATAL_PARSE
    ),
    case(
        "monitor-in-defaults",
        HTTP_DEFAULTS + "    monitor fail if TRUE\n" + f"listen L\n    bind :18000\n    {S}\n",
        P(6) + "'monitor' not allowed in 'defaults' section.",
        *FATAL_PARSE,
    ),
    case("monitor-fail", H("monitor fail if TRUE")),
    case(
        "monitor-in-backend",
        BE("monitor fail if TRUE"),
        W("parsing [F:7] : " + IGNORED_BE.format(kw="monitor")),
    ),
    case("send-name-header", H("http-send-name-header X-Srv extra")),
    case(
        "send-name-header-missing",
        H("http-send-name-header"),
        P() + "'http-send-name-header' requires a header string.",
        *FATAL_PARSE,
    ),
    case(
        "send-name-header-in-frontend",
        FE("http-send-name-header X"),
        W(P() + IGNORED_FE.format(kw="http-send-name-header")),
    ),
    *[case(f"ka-queue-{v}", H(f"max-keep-alive-queue {v}")) for v in ("0x10", "-5", "1 2")],
    case(
        "ka-queue-missing",
        H("max-keep-alive-queue"),
        P() + "'max-keep-alive-queue' expects expects an integer value (or -1 to disable)",
        *FATAL_PARSE,
    ),
    case(
        "ka-queue-not-a-number",
        H("max-keep-alive-queue 5x"),
        P() + "'max-keep-alive-queue' : unexpected character 'x' in integer value '5x'",
        *FATAL_PARSE,
    ),
    case(
        "ka-queue-in-frontend",
        FE("max-keep-alive-queue 3"),
        W(
            P()
            + "max-keep-alive-queue will be ignored because frontend 'F' has no backend capability"
        ),
    ),
    case(
        "retry-on-all",
        H(
            "retry-on conn-failure empty-response junk-response response-timeout 0rtt-rejected "
            "401 403 404 408 425 500 501 502 503 504 all-retryable-errors"
        ),
    ),
    case("retry-on-none", H("retry-on none")),
    case(
        "retry-on-missing",
        H("retry-on"),
        P() + "'retry-on' needs at least one keyword to specify when to retry",
        *FATAL_PARSE,
    ),
    case(
        "retry-on-unknown",
        H("retry-on 503 foo"),
        P() + "'retry-on': unknown keyword 'foo'",
        *FATAL_PARSE,
    ),
    *[
        case(
            f"retry-on-none-{i}",
            H(f"retry-on {words}"),
            P() + "'retry-on' 'none' keyworld only usable alone",
            *FATAL_PARSE,
        )
        for i, words in enumerate(["none 404", "404 none"])
    ],
    case(
        "retry-on-in-frontend",
        FE("retry-on 503"),
        P() + "'retry-on' only available in backend or listen section",
        *FATAL_PARSE,
    ),
    case(
        "tfo-retry-on",
        H("retry-on conn-failure empty-response response-timeout").replace(S, S + " tfo")
        + f"listen M\n    bind :18001\n    retry-on empty-response\n    {S} tfo\n",
        W(
            "[F:13] : 'server M/s1' : server has tfo activated, the backend should be configured "
            "with at least 'conn-failure', 'empty-response' and 'response-timeout' or we wouldn't "
            "be able to retry the connection on failure."
        ),
    ),
    noticed(
        "server-pools",
        H(f"{S2} pool-max-conn 4294967295 pool-low-conn -5 max-reuse x pool-purge-delay 0"),
        "NOTICE: " + SRV2 + MAX_REUSE,
    ),
    case(
        "server-pool-max-conn-negative",
        H(f"{S2} pool-max-conn 3000000000"),
        SRV2 + "'pool-max-conn' must be >= -1.",
        *FATAL_PARSE,
    ),
    *[
        case(
            f"server-{kw}-missing",
            H(f"{S2} {kw}"),
            SRV2 + f"'{kw}' expects <value> as argument..",
            *FATAL_PARSE,
        )
        for kw in ("pool-max-conn", "pool-low-conn", "max-reuse", "pool-purge-delay")
    ],
]

GLOBAL = [
    *[
        case(
            f"h1-case-adjust-{i}",
            f"global\n    {line}\n" + H(),
            f"parsing [F:2] : {text}",
            *FATAL_PARSE,
        )
        for i, (line, text) in enumerate(
            [
                ("h1-case-adjust", "'h1-case-adjust' expects <from> and <to> as argument."),
                ("h1-case-adjust a", "'h1-case-adjust' expects <from> and <to> as argument."),
                ("h1-case-adjust a A x", "'h1-case-adjust' cannot handle unexpected argument 'x'."),
                ("h1-case-adjust a b", "<from> and <to> must not differ execpt the case"),
                ("h1-case-adjust-file", "'h1-case-adjust-file' expects <file> as argument."),
                (
                    "h1-case-adjust-file a b",
                    "'h1-case-adjust-file' cannot handle unexpected argument 'b'.",
                ),
            ]
        )
    ],
    refused(
        "h1-case-adjust",
        "global\n    h1-case-adjust a A\n    h1-case-adjust a A\n" + H(),
        P(2) + PLANNED.format(kw="h1-case-adjust", why="HTTP mode"),
        P(3) + "duplicate entry 'a'",
        *FATAL_PARSE,
        why="planned: HTTP mode",
        rc=1,
    ),
    refused(
        "h1-case-adjust-file",
        "global\n    h1-case-adjust-file /dev/null\n" + H(),
        P(2) + PLANNED.format(kw="h1-case-adjust-file", why="HTTP mode"),
        *FATAL_PARSE,
        why="planned: HTTP mode",
    ),
]

ALL: list[Case] = [*MODES, *OPTIONS, *KEYWORDS, *GLOBAL]


@pytest.mark.parametrize("c", params(ALL))
def test_http_keywords(c: Case, tmp_path: Path) -> None:
    check_herdsman(c, tmp_path)


# -- the model --------------------------------------------------------------------------


def parsed(text: str) -> Config:
    diag = Diagnostics()
    config = parse_text(text, diag, "F.cfg")
    assert config is not None, diag.texts()
    return config


def test_connection_modes_replace_each_other() -> None:
    """One mode replaces the other; ``no option X`` goes back to keep-alive only when X
    is the mode in force; a section starts from its defaults' mode."""
    base = HTTP_DEFAULTS.replace("timeout server 1s\n", "timeout server 1s\n    option httpclose\n")
    config = parsed(
        base
        + f"listen A\n    bind :18000\n    {S}\n"
        + f"listen B\n    bind :18001\n    no option http-server-close\n    {S}\n"
        + f"listen C\n    bind :18002\n    no option httpclose\n    {S}\n"
        + f"listen D\n    bind :18003\n    option http-server-close\n    {S}\n"
    )
    modes = {px.name: px.http.conn_mode for px in config.proxies}
    assert modes == {
        "A": ConnMode.CLOSE,
        "B": ConnMode.CLOSE,
        "C": ConnMode.KEEP_ALIVE,
        "D": ConnMode.SERVER_CLOSE,
    }


def test_forwardfor_and_originalto() -> None:
    config = parsed(
        H(
            "option forwardfor except 10.1.2.3/255.0.255.0 header X-Client if-none",
            "option originalto except ::1/64",
        )
    )
    http = config.proxies[0].http
    assert http.forwardfor == AddedHeader(
        "X-Client", Network(Family.INET, bytes([10, 0, 2, 0]), bytes([255, 0, 255, 0])), True
    )
    assert http.originalto == AddedHeader(
        "X-Original-To", Network(Family.INET6, bytes(16), b"\xff" * 8 + bytes(8))
    )
    # a second line starts again from the defaults
    config = parsed(H("option forwardfor header X-A if-none", "option forwardfor"))
    assert config.proxies[0].http.forwardfor == AddedHeader("X-Forwarded-For")


def test_http_settings() -> None:
    config = parsed(
        H(
            "http-reuse aggressive",
            "monitor-uri /health",
            "http-send-name-header X-Server-Name",
            "max-keep-alive-queue 0x10",
            "retry-on 503 empty-response",
            "option http-restrict-req-hdr-names reject",
        )
    )
    px = config.proxies[0]
    assert px.mode is Mode.HTTP
    assert px.http.reuse_mode is HttpReuse.AGGRESSIVE
    assert px.http.monitor_uri == "/health"
    assert px.http.send_name_header == "x-server-name"
    assert px.http.max_keep_alive_queue == 16
    assert px.retry_on == RetryOn.S503 | RetryOn.EMPTY_RESPONSE
    assert px.http.restrict_req_hdr_names is HdrNames.REJECT


def test_defaults_and_fallbacks() -> None:
    """``retry-on`` defaults to conn-failure, ``none`` clears it; -1 means no limit;
    a TCP proxy with servers never reuses; tarpit falls back to connect."""
    config = parsed(
        H("retry-on none", "max-keep-alive-queue -1")
        + DEFAULTS.replace("mode tcp\n", "mode tcp\n    timeout tarpit 7s\n")
        + f"listen T\n    bind :18001\n    {S}\nbackend E\n"
    )
    http_px, tcp_px, empty = config.proxies
    assert http_px.retry_on == RetryOn.NONE
    assert http_px.http.max_keep_alive_queue == -1
    assert http_px.http.reuse_mode is HttpReuse.SAFE
    assert http_px.timeouts.tarpit == http_px.timeouts.connect == 1000
    assert tcp_px.retry_on == RetryOn.CONN_FAILURE
    assert tcp_px.http.reuse_mode is HttpReuse.NEVER
    assert tcp_px.timeouts.tarpit == 7000
    assert empty.http.reuse_mode is HttpReuse.SAFE  # no server: left as is (2.6 checks per server)


def test_tcp_mode_clears_http_options() -> None:
    config = parsed(
        T("option forwardfor", "option http-buffer-request", "option http-server-close")
    )
    px = config.proxies[0]
    assert px.http.forwardfor is None
    assert px.option("http-buffer-request") is False
    assert px.http.conn_mode is ConnMode.SERVER_CLOSE  # not an option 2.6 clears


def test_inheritance_by_capability() -> None:
    """A frontend does not inherit the backend settings, nor a backend the frontend ones."""
    defaults = HTTP_DEFAULTS.replace(
        "timeout server 1s\n",
        "timeout server 1s\n    monitor-uri /m\n    max-keep-alive-queue 5\n    balance uri\n"
        "    http-reuse always\n",
    )
    config = parsed(defaults + f"frontend F\n    bind :18000\n    default_backend B\n{B}")
    fe, be = config.proxies
    assert (fe.http.monitor_uri, be.http.monitor_uri) == ("/m", None)
    assert (fe.http.max_keep_alive_queue, be.http.max_keep_alive_queue) == (-1, 5)
    assert (fe.balance.algo, be.balance.algo) == ("roundrobin", "uri")
    assert fe.http.reuse_mode is be.http.reuse_mode is HttpReuse.ALWAYS
    assert fe.timeouts.server is None
    assert be.timeouts.client is None


def test_global_h1_case_adjust_is_parsed_then_refused() -> None:
    diag = Diagnostics()
    assert parse_text("global\n    h1-case-adjust content-type Content-Type\n" + H(), diag) is None
    assert "'h1-case-adjust' is not implemented in herdsman yet (HTTP mode)" in diag.texts()[0]


def test_health_checks_follow_the_connection_mode() -> None:
    """The H1 mux applies a backend's mode to its checks, with the options a TCP
    proxy keeps: ``http-pretend-keepalive`` is cleared there, the mode is not."""
    lines = ("option httpchk GET /", "option http-server-close", "option http-pretend-keepalive")
    for text, fake in ((H(*lines), True), (T(*lines), False)):
        checks = parsed(text.replace(S, S + " check")).proxies[0].checks
        assert checks is not None
        assert checks.http_force_close
        assert checks.http_fake_keepalive is fake
