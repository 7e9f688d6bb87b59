"""``server``, ``default-server`` and ``server-template`` lines (spec §1), as ``-c`` reports them.

Every text here is one of the VERBATIM list of observed-2.6.12-server-lb.md or
was captured from the 2.6.12 binary; tests/integration/test_config_vs_haproxy.py
runs the same cases through haproxy. Lines under test are on line 8 of the
observed frame (``configcase.listen``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from configcase import (
    FATAL_ADDR,
    FATAL_PARSE,
    FATAL_POST,
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
SRV = "[F:8] : 'server L/s1' : "

GRAMMAR = [
    case(
        "server-in-defaults",
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n"
        "    timeout server 1s\n    server s1 127.0.0.1:80\n",
        "[F:6] : 'server' not allowed in 'defaults' section.",
        *FATAL_PARSE,
    ),
    case(
        "server-in-frontend",
        section("frontend F", "bind :18000", "server s1 127.0.0.1:80"),
        "[F:8] : parsing [F:8] : 'server' not allowed because frontend 'F' has no backend capability.",
        *FATAL_PARSE,
    ),
    case(
        "server-template-in-frontend",
        section("frontend F", "bind :18000", "server-template s 3 127.0.0.1:80"),
        "[F:8] : parsing [F:8] : 'server-template' not allowed because frontend 'F' has no backend capability.",
        *FATAL_PARSE,
    ),
    case(
        "default-server-in-frontend",
        section("frontend F", "bind :18000", "default-server weight 3"),
        "[F:8] : parsing [F:8] : 'default-server' not allowed because frontend 'F' has no backend capability.",
        *FATAL_PARSE,
    ),
    case(
        "no-address",
        L("server s1"),
        "[F:8] : 'server' expects <name> and <addr>[:<port>] as arguments.",
        *FATAL_PARSE,
    ),
    case(
        "no-name",
        L("server"),
        "[F:8] : 'server' expects <name> and <addr>[:<port>] as arguments.",
        *FATAL_PARSE,
    ),
    case(
        "template-no-address",
        L("server-template s 3"),
        "[F:8] : 'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.",
        *FATAL_PARSE,
    ),
    case(
        "bad-char-in-name",
        L("server s/1 127.0.0.1:80"),
        "[F:8] : character '/' is not permitted in server name 's/1'.",
        *FATAL_PARSE,
    ),
    case("colon-in-name", L("server s:1 127.0.0.1:80")),
    case(
        "colon-in-template-prefix",
        L("server-template s:x 3 127.0.0.1:80"),
        "[F:8] : character ':' is not permitted in server-template prefix 's:x'.",
        *FATAL_PARSE,
    ),
    case(
        "unknown-keyword",
        L(S + " foobar"),
        SRV + "unknown keyword 'foobar'.",
        *FATAL_PARSE,
    ),
    case(
        "unknown-keyword-did-you-mean",
        L(S + " wieght 3"),
        SRV + "unknown keyword 'wieght'; did you mean 'weight' maybe ?",
        *FATAL_PARSE,
    ),
    case(
        "default-server-unknown-keyword",
        L("default-server foobar"),
        "[F:8] : unknown keyword 'foobar'. Hint: no address was expected for this server.",
        *FATAL_PARSE,
    ),
    case(
        "default-server-did-you-mean",
        L("default-server wieght 3"),
        "[F:8] : unknown keyword 'wieght'; did you mean 'weight' maybe ? Hint: no address was expected for this server.",
        *FATAL_PARSE,
    ),
    case(
        "template-did-you-mean",
        L("server-template s 3 127.0.0.1:80 wieght 3"),
        "[F:8] : 'server L/(null)' : unknown keyword 'wieght'; did you mean 'weight' maybe ?",
        *FATAL_PARSE,
    ),
    case(
        "parameters-before-address",
        L("server s1 weight 3 127.0.0.1:19001"),
        SRV + "unknown keyword '3'.",
        *FATAL_PARSE,
    ),
]

ADDRESSES = [
    case("port-65535", L("server s1 127.0.0.1:65535")),
    case("port-99999", L("server s1 127.0.0.1:99999"), SRV + "invalid port '99999'", *FATAL_PARSE),
    case("port-65536", L("server s1 127.0.0.1:65536"), SRV + "invalid port '65536'", *FATAL_PARSE),
    case(
        "port-range",
        L("server s1 127.0.0.1:80-90"),
        SRV + "port range not permitted here in '127.0.0.1:80-90'",
        *FATAL_PARSE,
    ),
    case(
        "port-bad-char",
        L("server s1 127.0.0.1:x1"),
        SRV + "invalid character 'x' in port number 'x1' in '127.0.0.1:x1'\n",
        *FATAL_PARSE,
    ),
    case("port-atoi", L("server s1 127.0.0.1:1x")),
    case("port-offset-wraps", L("server s1 127.0.0.1:+70000")),
    case("ipv6-port", L("server s1 ::1:80")),
    case("ipv6-brackets", L("server s1 [::1]:80")),
    case("ipv6-any-triple-colon", L("server s1 :::")),
    case("star", L("server s1 *:80")),
    case(
        "ipv6-without-brackets",
        L("server s1 ::1"),
        SRV + "could not resolve address ':'.",
        *FATAL_ADDR,
    ),
    case("double-colon", L("server s1 ::"), SRV + "could not resolve address ':'.", *FATAL_ADDR),
    case(
        "fd",
        L("server s1 fd@3"),
        SRV + "a file descriptor is not acceptable here in 'fd@3'\n",
        *FATAL_PARSE,
    ),
    case(
        "udp",
        L("server s1 udp@127.0.0.1:80"),
        SRV + "dgram-type address not acceptable in 'udp@127.0.0.1:80'\n",
        *FATAL_PARSE,
    ),
    case(
        "quic4",
        L("server s1 quic4@127.0.0.1:80"),
        SRV + "unsupported stream protocol for datagram family 2 address 'quic4@127.0.0.1:80'; "
        "QUIC is not compiled in if this is what you were looking for.",
        *FATAL_PARSE,
    ),
    case("unix-97", L("server s1 unix@/tmp/" + "a" * 92)),
    case(
        "unix-98",
        L("server s1 unix@/tmp/" + "a" * 93),
        SRV + f"socket path 'unix@/tmp/{'a' * 93}' too long (max 97)\n",
        *FATAL_PARSE,
    ),
    case("abns-107", L("server s1 abns@" + "b" * 107)),
    case(
        "abns-108",
        L("server s1 abns@" + "b" * 108),
        SRV + f"socket path 'abns@{'b' * 108}' too long (max 107)\n",
        *FATAL_PARSE,
    ),
    case(
        "sockpair-bad-fd",
        L("server s1 sockpair@99"),
        SRV + "cannot use file descriptor '99' : Bad file descriptor.\n",
        *FATAL_PARSE,
    ),
    case(
        "sockpair-not-integer",
        L("server s1 sockpair@abc"),
        SRV + "file descriptor 'abc' is not a valid integer in 'sockpair@abc'\n",
        *FATAL_PARSE,
    ),
    case(
        "empty-env",
        L("server s1 ${NOPE}"),
        SRV + "'${NOPE}' resolves to an empty address (environment variable missing?)\n",
        *FATAL_PARSE,
    ),
    case("empty-env-with-port", L("server s1 ${NOPE}:80")),
    case(
        "unresolvable",
        L("server s1 nonexistent.invalid:80"),
        SRV + "could not resolve address 'nonexistent.invalid'.",
        *FATAL_ADDR,
    ),
    case(
        "srv-record",
        L("server s1 _http._tcp.example.com"),
        SRV + "no method found to resolve address '_http._tcp.example.com'.",
        *FATAL_ADDR,
    ),
    case(
        "other-junk",
        L("server s1 foo@bar"),
        SRV + "could not resolve address 'foo@bar'.",
        *FATAL_ADDR,
    ),
    case("ipv4-localhost", L("server s1 ipv4@localhost:80")),
]

INIT_ADDR = [
    case(
        "init-addr-none",
        L("server s1 nonexistent.invalid:80 init-addr libc,none"),
        "WARNING: " + SRV + "could not resolve address 'nonexistent.invalid', disabling server.",
    ),
    case(
        "init-addr-literal",
        L("server s1 nonexistent.invalid:80 init-addr libc,1.2.3.4"),
        "WARNING: "
        + SRV
        + "could not resolve address 'nonexistent.invalid', falling back to configured address.",
    ),
    case(
        "init-addr-dr",
        L("server s1 nonexistent.invalid:80"),
        "WARNING: " + SRV + "could not resolve address 'nonexistent.invalid', disabling server.",
        args=["-dr"],
    ),
    case(
        "init-addr-unknown",
        L(S + " init-addr foo"),
        SRV + "'init-addr' : unknown init-addr method 'foo', supported methods are 'libc', "
        "'last', 'none'..",
        *FATAL_PARSE,
    ),
    case(
        "init-addr-two-literals",
        L(S + " init-addr 1.2.3.4,5.6.7.8"),
        SRV + "'init-addr' : initial address already specified, cannot add '5.6.7.8'..",
        *FATAL_PARSE,
    ),
    case(
        "init-addr-too-many",
        L(S + " init-addr last,libc,last,libc,last,libc,last,libc,last,libc,none"),
        SRV + "'init-addr' : too many init-addr methods when trying to add 'none'.",
        *FATAL_PARSE,
    ),
    case(
        "default-server-init-addr", L("default-server init-addr none", "server s1 nope.invalid:80")
    ),
]

NAMESPACE = [
    case(
        "namespace-missing",
        L(S + " namespace foo"),
        SRV + "Cannot open namespace 'foo'.",
        *FATAL_PARSE,
    ),
    case(
        "namespace-no-argument",
        L(S + " namespace"),
        SRV + "'namespace' : expects <name> as argument.",
        *FATAL_PARSE,
    ),
    case("namespace-star", L(S + " namespace *")),
]

NAMES_IDS = [
    case(
        "duplicate-name-listen",
        L("server s1 127.0.0.1:19001", "server s1 127.0.0.1:19002"),
        "parsing [F:9] : proxy 'L', another server named 's1' was already defined at line 8, "
        "please use distinct names.",
        *FATAL_POST,
    ),
    case(
        "duplicate-name-three",
        L("server s1 127.0.0.1:19001", "server s1 127.0.0.1:19002", "server s1 127.0.0.1:19003"),
        "parsing [F:9] : proxy 'L', another server named 's1' was already defined at line 8, "
        "please use distinct names.",
        "parsing [F:10] : proxy 'L', another server named 's1' was already defined at line 8, "
        "please use distinct names.",
        *FATAL_POST,
    ),
    case(
        "duplicate-name-backend",
        L(S) + "backend B\n    server s1 127.0.0.1:19001\n    server s1 127.0.0.1:19002\n",
        "parsing [F:11] : backend 'B', another server named 's1' was already defined at line 10, "
        "please use distinct names.",
        *FATAL_POST,
    ),
    case(
        "duplicate-name-with-id", L("server s1 127.0.0.1:19001 id 5", "server s1 127.0.0.1:19002")
    ),
    case("id-zero", L(S + " id 0"), SRV + "'id' : custom id has to be > 0.", *FATAL_PARSE),
    case("id-negative", L(S + " id -3"), SRV + "'id' : custom id has to be > 0.", *FATAL_PARSE),
    case(
        "id-not-a-number", L(S + " id abc"), SRV + "'id' : custom id has to be > 0.", *FATAL_PARSE
    ),
    case(
        "id-no-argument",
        L(S + " id"),
        SRV + "'id' : expects an integer argument.",
        *FATAL_PARSE,
    ),
    case(
        "id-duplicate",
        L("server s1 127.0.0.1:80 id 3", "server s2 127.0.0.1:80 id 3"),
        "[F:9] : 'server L/s2' : 'id' : custom id 3 already used at F:8 ('server s1').",
        *FATAL_PARSE,
    ),
    case(
        "id-in-default-server",
        L("default-server id 3", S),
        "[F:8] : 'id' option is not accepted in default-server sections",
    ),
]

WEIGHTS = [
    case("weight-256", L(S + " weight 256")),
    case("weight-not-a-number", L(S + " weight abc")),
    case("weight-missing", L(S + " weight")),
    case(
        "weight-257",
        L(S + " weight 257"),
        SRV + "weight of server s1 is not within 0 and 256 (257)..",
        *FATAL_PARSE,
    ),
    case(
        "default-server-weight-300",
        L("default-server weight 300"),
        "[F:8] : weight of server default-server is not within 0 and 256 (300)..",
        *FATAL_PARSE,
    ),
    case(
        "weight-0-diag",
        L(S + " weight 0"),
        "DIAG: "
        + SRV
        + "configured with weight of 0 will never be selected by load balancing algorithms",
        args=["-dD"],
    ),
    case(
        "default-server-accumulates",
        L("default-server weight 5", "server s1 127.0.0.1:80", "default-server weight 300"),
        "[F:10] : weight of server default-server is not within 0 and 256 (300)..",
        *FATAL_PARSE,
    ),
]

TEMPLATES = [
    case("template-range", L("server-template t 0-2 127.0.0.1:80")),
    case("template-zero-zero", L("server-template t 0-0 127.0.0.1:80")),
    *[
        case(
            f"template-bad-{arg}",
            L(f"server-template t {arg} 127.0.0.1:80"),
            f"[F:8] : Wrong server-template number or range arg '{arg}'.",
            *FATAL_PARSE,
        )
        for arg in ("0", "3-1", "x", "-1-3", "1-x", "2-")
    ],
    case(
        "template-duplicates-a-server",
        L("server-template t 2 127.0.0.1:80", "server t1 127.0.0.1:80"),
        "parsing [F:9] : proxy 'L', another server named 't1' was already defined at line 8, "
        "please use distinct names.",
        *FATAL_POST,
    ),
]

CHECKS = [
    case(
        "check-and-track",
        L("server s1 127.0.0.1:80 check", "server s2 127.0.0.1:80 check track s1"),
        "[F:9] : 'server L/s2' : unable to enable checks and tracking at the same time!",
        *FATAL_PARSE,
    ),
    case("track", L("server s1 127.0.0.1:80 check", "server s2 127.0.0.1:80 track s1")),
    case(
        "track-unknown-proxy",
        L("server s1 127.0.0.1:80 check", "server s2 127.0.0.1:80 track nope/s1"),
        "[F:9] : 'server L/s2' : unable to find required proxy 'nope' for tracking.",
        *FATAL_POST,
    ),
    case(
        "track-unknown-server",
        L("server s1 127.0.0.1:80 check", "server s2 127.0.0.1:80 track s9"),
        "[F:9] : 'server L/s2' : unable to find required server 's9' for tracking.",
        *FATAL_POST,
    ),
    case(
        "track-unchecked",
        L("server s1 127.0.0.1:80", "server s2 127.0.0.1:80 track s1"),
        "[F:9] : 'server L/s2' : unable to use L/s1 for tracking as it does not have any check "
        "nor agent enabled.",
        *FATAL_POST,
    ),
    case(
        "track-loop",
        L("server s1 127.0.0.1:80 track s2", "server s2 127.0.0.1:80 track s1"),
        "[F:9] : 'server L/s2' : unable to track L/s1 as it belongs to a tracking chain looping "
        "back to L/s2.",
        *FATAL_POST,
    ),
    case(
        "track-other-backend",
        L("server s2 127.0.0.1:80 track B/s1") + "backend B\n    server s1 127.0.0.1:80 check\n",
    ),
    case(
        "agent-without-port",
        L(S + " agent-check"),
        SRV + "server s1 does not have agent port. Agent check has been disabled.",
        *FATAL_PARSE,
    ),
    case(
        "observe-layer7-in-tcp",
        L(S + " observe layer7"),
        SRV + "'layer7' can only be used in http proxies..",
    ),
    case(
        "observe-unknown",
        L(S + " observe foo"),
        SRV + "'observe' expects one of 'none', 'layer4', 'layer7' but got 'foo'.",
        *FATAL_PARSE,
    ),
    case(
        "redir-in-tcp",
        L(S + " redir http://x"),
        "proxy 'L' : server cannot have cookie or redirect prefix in non-HTTP mode.",
        *FATAL_POST,
    ),
    case(
        "cookie-in-tcp",
        L(S + " cookie a"),
        "WARNING: proxy 'L' : ignoring cookie for server 's1' as HTTP mode is disabled.",
    ),
    case(
        "no-check-port",
        L("server s1 127.0.0.1 check"),
        "config: proxy 'L': server 's1' has neither service port nor check port.",
        *FATAL_POST,
    ),
    case(
        "no-check-port-backend",
        section("frontend F", "bind :18000", "default_backend B")
        + "backend B\n    server s1 127.0.0.1 check\n",
        "config: backend 'B': server 's1' has neither service port nor check port.",
        *FATAL_POST,
    ),
    case(
        "no-check-port-first-rule",
        L("option tcp-check", "tcp-check send x", "server s1 127.0.0.1 check"),
        "config: proxy 'L': server 's1' has neither service port nor check port nor tcp_check "
        "rule 'connect' with port information.",
        *FATAL_POST,
    ),
    case(
        "no-check-port-some-rule",
        L(
            "option tcp-check",
            "tcp-check connect port 81",
            "tcp-check connect",
            "server s1 127.0.0.1 check",
        ),
        "config: proxy 'L': server 's1' has neither service port nor check port, and a "
        "tcp_check rule 'connect' with no port information.",
        *FATAL_POST,
    ),
    case(
        "check-port-from-rule",
        L("option tcp-check", "tcp-check connect port 81", "server s1 127.0.0.1 check"),
    ),
    case("check-port-keyword", L("server s1 127.0.0.1 check port 81")),
    case("check-port-unix", L("server s1 /tmp/x.sock check")),
    case(
        "check-port-offset",
        L("server s1 127.0.0.1:+1 check"),
        "config: proxy 'L': server 's1' has neither service port nor check port.",
        *FATAL_POST,
    ),
    refused(
        "rdp-cookie-warning",
        L("persist rdp-cookie", "server s1 127.0.0.1"),
        "parsing [F:8] : 'persist' is not supported by herdsman; remove it or use haproxy.",
        *FATAL_PARSE,
        why="'persist' is not supported, so the RDP cookie warning cannot be reached",
        haproxy=[
            "WARNING: proxy 'L' : RDP cookie persistence will not work for server 's1' because "
            "it lacks an explicit port number."
        ],
    ),
]

TIMERS = [
    case(
        "inter-overflow",
        L("server s1 127.0.0.1:19001 check inter 25d"),
        SRV + "timer overflow in argument <25d> to <inter> of server s1, maximum value is "
        "2147483647 ms (~24.8 days)..",
        *FATAL_PARSE,
    ),
    case(
        "inter-bad-char",
        L("server s1 127.0.0.1:19001 check inter 10x"),
        SRV + "unexpected character 'x' in 'agent-inter' argument of server s1..",
        *FATAL_PARSE,
    ),
    case(
        "inter-missing",
        L("server s1 127.0.0.1:19001 check inter"),
        SRV + "'inter' expects a delay as argument..",
        *FATAL_PARSE,
    ),
    case("inter-sub-millisecond", L("server s1 127.0.0.1:19001 check inter 500us")),
    case(
        "rise-zero",
        L("server s1 127.0.0.1:19001 check rise 0"),
        SRV + "'rise' has to be > 0..",
        *FATAL_PARSE,
    ),
]

ALL: list[Case] = [
    *GRAMMAR,
    *ADDRESSES,
    *INIT_ADDR,
    *NAMESPACE,
    *NAMES_IDS,
    *WEIGHTS,
    *TEMPLATES,
    *CHECKS,
    *TIMERS,
]


@pytest.mark.parametrize("c", params(ALL))
def test_server_lines(c: Case, tmp_path: Path) -> None:
    """Each server-line case prints HAProxy's exact messages and exit code (or herdsman's refusal)."""
    check_herdsman(c, tmp_path)


def test_track_disable_on_404_inconsistency_with_a_later_backend() -> None:
    """The flag is compared before the later proxy's checks are finalized."""
    from herdsman.config.diag import Diagnostics
    from herdsman.config.parser import parse_text

    diag = Diagnostics()
    text = (
        "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
        "backend a\n  server s1 127.0.0.1:80 track b/s2\n"
        "backend b\n  option httpchk\n  http-check disable-on-404\n  server s2 127.0.0.1:81 check\n"
    )
    assert parse_text(text, diag, "t.cfg") is None
    assert diag.texts()[0] == (
        "[t.cfg:7] : 'server a/s1' : unable to use b/s2 fortracking: disable-on-404 option inconsistency."
    )
