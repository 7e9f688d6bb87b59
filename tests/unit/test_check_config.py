"""``option tcp-check``, ``option httpchk``, ``tcp-check``, ``http-check`` (config/checks.py).

Every message below was printed by ``haproxy -c`` 2.6.12 for the same line
(``MESSAGES``); the ``haproxy`` test replays the table through the binary. The
few rows where herdsman deliberately differs (refusals of what it does not
implement, Python regex texts) are in ``HERDSMAN_ONLY``.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from herdsman.config.checks import KEYWORDS, finalize_checks
from herdsman.config.diag import ConfigError, Diagnostics, Location
from herdsman.config.keywords import CAP_OF, Ctx
from herdsman.config.lexer import split_words
from herdsman.config.model import Config, ProxyConfig
from herdsman.config.options import parse_option
from herdsman.defs.rules import (
    CommentRule,
    ConnectRule,
    ExpectKind,
    ExpectRule,
    HeaderMatch,
    HttpSendRule,
    Ruleset,
    RulesetKind,
    SendKind,
    SendRule,
    StrMatch,
)
from herdsman.defs.status import Status

FILE = "t.cfg"
_ROWS = {kw.name: kw for kw in KEYWORDS}


def parse_section(
    lines: list[str],
    kind: str = "backend",
    name: str = "b",
    *,
    defaults: ProxyConfig | None = None,
    diag: Diagnostics | None = None,
    first_line: int = 2,
    finalize: bool = True,
) -> tuple[ProxyConfig, Diagnostics]:
    """Feed check keyword lines to the parsers as the config parser does.

    The section header is at ``first_line - 1``; lines are split by the
    configuration lexer, errors get the ``parsing [file:line] : `` prefix.
    """
    diag = diag or Diagnostics()
    loc = Location(FILE, first_line - 1)
    if defaults is not None:
        px = copy.deepcopy(defaults)
        px.name, px.kind, px.cap, px.loc = name, kind, CAP_OF[kind], loc
    else:
        px = ProxyConfig(name=name, kind=kind, cap=CAP_OF[kind], loc=loc)
    for n, line in enumerate(lines, start=first_line):
        args = [w for w in split_words(line, {}).words if w != ""]
        key = " ".join(args[:2]) if args[0] == "option" else args[0]
        ctx = Ctx(diag, Location(FILE, n), Config(), kind, px)
        # the other options (protocol checks) go through the option dispatcher
        parser = _ROWS[key].parser if key in _ROWS else parse_option
        assert parser is not None
        try:
            parser(ctx, args)
        except ConfigError as err:
            diag.report(ctx.loc.parsing, err)
    if finalize and kind != "defaults":
        finalize_checks(px, diag)
    return px, diag


def texts(diag: Diagnostics) -> list[str]:
    return [m.text for m in diag.messages]


def _p(line: int, text: str) -> str:
    return f"parsing [{FILE}:{line}] : {text}"


ONLY_TCP = (
    "'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', "
    "'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{}'"
)
ONLY_HTTP = (
    "'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', "
    "'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{}'"
)
BAD_TCP_EXPECT = (
    "'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', "
    "'[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '{}' as argument.."
)
BAD_HTTP_EXPECT = (
    "'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', "
    "'[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '{}' as argument.."
)
FIRST_STEP = (
    "first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' "
    "or a 'comment', when there is a 'connect' step in the tcp-check ruleset."
)

# (lines of one backend, message of its last line), as haproxy -c prints them.
MESSAGES: list[tuple[list[str], str]] = [
    (["tcp-check"], ONLY_TCP.format("")),
    (["tcp-check foo"], ONLY_TCP.format("foo")),
    (
        ["tcp-check connect port 0"],
        "'tcp-check connect' : expects a valid TCP port (from range "
        "1 to 65535) or a sample expression, got 0..",
    ),
    (
        ["tcp-check connect port 70000"],
        "'tcp-check connect' : expects a valid TCP port (from "
        "range 1 to 65535) or a sample expression, got 70000..",
    ),
    (
        ["tcp-check connect port"],
        "'tcp-check connect' : 'port' expects a port number or a sample expression as argument..",
    ),
    (
        ["tcp-check connect port -1"],
        "'tcp-check connect' : error detected while parsing port "
        "expression : unknown fetch method '-1'.",
    ),
    (
        ["tcp-check connect foo"],
        "'tcp-check connect' : expects 'comment', 'port', 'addr', "
        "'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got 'foo' as "
        "argument..",
    ),
    (
        ["tcp-check connect proto h2"],
        "'tcp-check connect' : 'proto' : invalid MUX protocol 'h2' for tcp-check.",
    ),
    (
        ["tcp-check connect proto foo"],
        "'tcp-check connect' : 'proto' : unknown MUX protocol 'foo'..",
    ),
    (
        ["tcp-check connect proto"],
        "'tcp-check connect' : 'proto' expects a MUX protocol as argument..",
    ),
    (["tcp-check connect addr"], "'tcp-check connect' : 'addr' expects <ipv4|ipv6> as argument.."),
    (
        ["tcp-check connect addr foo.invalid"],
        "'tcp-check connect' : 'addr' : invalid address: 'foo.invalid' in 'foo.invalid'\n..",
    ),
    (
        ["tcp-check connect addr 1.2.3.4:80 comment"],
        "'tcp-check connect' : 'comment' expects a string as argument..",
    ),
    (["tcp-check connect sni"], "'tcp-check connect' : 'sni' expects a string as argument.."),
    (
        ["tcp-check connect alpn"],
        "'tcp-check connect' : 'alpn' : missing the comma-delimited ALPN protocol suite.",
    ),
    (["tcp-check send"], "'tcp-check send' : 'string' expects a send as argument."),
    (
        ["tcp-check send-binary"],
        "'tcp-check send-binary' : 'binary string' expects a send-binary as argument.",
    ),
    (["tcp-check send-lf"], "'tcp-check send-lf' : 'string' expects a send-lf as argument."),
    (
        ["tcp-check send-binary 0g"],
        "'tcp-check send-binary' : '0g' invalid binary string (an "
        "hex digit is expected (found 'g')).\n.",
    ),
    (
        ["tcp-check send-binary abc"],
        "'tcp-check send-binary' : 'abc' invalid binary string (an "
        "even number of hex digit is expected).\n.",
    ),
    (["tcp-check send x foo"], "'tcp-check send' : expects 'comment' but got 'foo' as argument.."),
    (["tcp-check send x comment"], "'tcp-check send' : 'comment' expects a string as argument.."),
    (["tcp-check comment"], "'tcp-check comment' : expects a string as argument."),
    (
        ["tcp-check send-lf %[srv_name"],
        "'tcp-check send-lf' : '%[srv_name' invalid log-format "
        "string (missing ']' after 'srv_name').\n.",
    ),
    (
        ["tcp-check expect"],
        "'tcp-check expect' : expects at least a matching pattern as arguments.",
    ),
    (["tcp-check expect string"], "'tcp-check expect' : 'string' expects a <pattern> as argument."),
    (["tcp-check expect foo x"], BAD_TCP_EXPECT.format("foo")),
    (["tcp-check expect status 200"], BAD_TCP_EXPECT.format("status")),
    (["tcp-check expect hdr name x"], BAD_TCP_EXPECT.format("hdr")),
    (["tcp-check expect !"], BAD_TCP_EXPECT.format("")),
    (["tcp-check expect string a string b"], "'tcp-check expect' : only on pattern expected."),
    (
        ["tcp-check expect min-recv -2 string x"],
        "'tcp-check expect' : 'min-recv' expects -1 or an integer from 0 to INT_MAX.",
    ),
    (
        ["tcp-check expect min-recv 99999999999 string x"],
        "'tcp-check expect' : 'min-recv' expects -1 or an integer from 0 to INT_MAX.",
    ),
    (
        ["tcp-check expect min-recv"],
        "'tcp-check expect' : 'min-recv' expects a integer as argument.",
    ),
    (
        ["tcp-check expect ! min-recv 1 string x"],
        "'tcp-check expect' : [!] not supported with 'min-recv'.",
    ),
    (
        ["tcp-check expect ! comment x string y"],
        "'tcp-check expect' : [!] not supported with 'comment'.",
    ),
    (
        ["tcp-check expect binary zz"],
        "'tcp-check expect' : invalid binary string (an hex digit is expected (found 'z')).",
    ),
    (
        ["tcp-check expect binary abc"],
        "'tcp-check expect' : invalid binary string (an even number of hex digit is expected).",
    ),
    (
        ["tcp-check expect ok-status L7FOO string x"],
        "'tcp-check expect' : 'ok-status' only "
        "supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got 'L7FOO')..",
    ),
    (
        ["tcp-check expect error-status L7FOO string x"],
        "'tcp-check expect' : 'error-status' "
        "only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got 'L7FOO')..",
    ),
    (
        ["tcp-check expect tout-status L7FOO string x"],
        "'tcp-check expect' : 'tout-status' only "
        "supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got 'L7FOO')..",
    ),
    (
        ["tcp-check expect ok-status"],
        "'tcp-check expect' : 'ok-status' expects a string as argument.",
    ),
    (
        ["tcp-check expect on-error"],
        "'tcp-check expect' : 'on-error' expects a string as argument.",
    ),
    (
        ["tcp-check expect status-code"],
        "'tcp-check expect' : 'status-code' expects an expression as argument.",
    ),
    (
        ["tcp-check expect status-code int(1)x string x"],
        "'tcp-check expect' : error detected "
        "while parsing status-code expression : missing comma after fetch keyword 'int'.",
    ),
    (["tcp-check expect min-recv 3"], "'tcp-check expect' : pattern not found."),
    (["tcp-check send x", "tcp-check connect"], "'tcp-check connect' : " + FIRST_STEP),
    (["http-check"], ONLY_HTTP.format("")),
    (["http-check foo"], ONLY_HTTP.format("foo")),
    (
        ["http-check send foo"],
        "'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', "
        "'ver', 'hdr', 'body' or 'body-lf' but got 'foo' as argument..",
    ),
    (["http-check send meth"], "'http-check send' : 'meth' expects a string as argument.."),
    (
        ["http-check send hdr Host"],
        "'http-check send' : 'hdr' expects <name> and <value> as arguments.",
    ),
    (
        ["http-check send hdr host a hdr Host b"],
        "'http-check send' : 'Host' header already defined (previous value is 'a').",
    ),
    (["http-check send uri"], "'http-check send' : 'uri' expects a string as argument.."),
    (
        ["http-check send hdr X %[str(a]"],
        "'http-check send' : failed to parse sample expression "
        "<str(a]> : fetch method 'str' : expected ')'.",
    ),
    (["http-check expect binary x"], BAD_HTTP_EXPECT.format("binary")),
    (["http-check expect rbinary x"], BAD_HTTP_EXPECT.format("rbinary")),
    (["http-check expect binary-lf x"], BAD_HTTP_EXPECT.format("binary-lf")),
    (
        ["http-check expect status 300-200"],
        "'http-check expect' : invalid range of status codes '300-200'.",
    ),
    (
        ["http-check expect status 200x"],
        "'http-check expect' : invalid character 'x' in the list of status codes.",
    ),
    (["http-check expect status 2-"], "'http-check expect' : invalid range of status codes '2-'."),
    (
        ["http-check expect hdr"],
        "'http-check expect' : 'hdr' expects at the name keyword as "
        "first argument followed by a pattern.",
    ),
    (
        ["http-check expect hdr foo x"],
        "'http-check expect' : 'hdr' expects at the name keyword "
        "as first argument followed by a pattern.",
    ),
    (
        ["http-check expect hdr name -m foo x"],
        "'http-check expect' : 'hdr' : '-m' only supports "
        "'str', 'beg', 'end', 'sub' or 'reg' (got 'foo').",
    ),
    (
        ["http-check expect hdr name -m"],
        "'http-check expect' : 'hdr' : '-m' expects at a "
        "matching pattern ('str', 'beg', 'end', 'sub' or 'reg').",
    ),
    (
        ["http-check expect hdr name-lf -m reg x"],
        "'http-check expect' : 'hdr': log-format "
        "string is not supported with a regex matching method.",
    ),
    (
        ["http-check expect hdr name x value"],
        "'http-check expect' : 'hdr' expect a pattern with the value keyword.",
    ),
    (
        ["http-check expect hdr name x value -m str"],
        "'http-check expect' : 'hdr' expect a pattern with the value keyword.",
    ),
    (["http-check expect fhdr name x value y z"], BAD_HTTP_EXPECT.format("z")),
    (["http-check expect foo"], BAD_HTTP_EXPECT.format("foo")),
    (["http-check disable-on-404 x"], "'http-check' cannot handle unexpected argument 'x'."),
    (["http-check send-state x"], "'http-check' cannot handle unexpected argument 'x'."),
    (["http-check comment"], "'http-check comment' : expects a string as argument."),
    (
        ["http-check connect proto none"],
        "'http-check connect' : 'proto' : invalid MUX protocol 'none' for http-check.",
    ),
    (
        ["option httpchk", "http-check send hdr a b", "http-check send hdr a c"],
        "'http-check send' : unable to add http-check send rule at step 2 (missing connect rule)..",
    ),
    (
        ["option httpchk", "http-check expect status 200", "http-check connect"],
        "'http-check connect' : " + FIRST_STEP,
    ),
    (
        [
            "option httpchk",
            "http-check comment x",
            "http-check expect status 200",
            "http-check send",
        ],
        "'http-check send' : unable to add http-check send rule at step 3 (missing connect rule)..",
    ),
    (
        ["option httpchk", "http-check connect", "http-check connect"],
        "'http-check connect' : "
        "unable to add http-check connect rule at step 2 (missing expect rule)..",
    ),
    (["tcp-check send x", "tcp-check connect"], "'tcp-check connect' : " + FIRST_STEP),
    (
        ["option httpchk GET / HTTP/1.1 x"],
        "'option httpchk' cannot handle unexpected argument 'x'.",
    ),
    (["option tcp-check x"], "'option tcp-check' cannot handle unexpected argument 'x'."),
    (
        ["option httpchk GET / HTTP/1.1\\r\\nbad\\ header\\r\\n"],
        "'option httpchk' : unable to parse the request 'bad header\r\n\r\n\r\n'..",
    ),
]

# Refusals of what herdsman does not implement, and texts that cannot match.
HERDSMAN_ONLY: list[tuple[list[str], str]] = [
    (
        ["tcp-check connect via-socks4"],
        "'tcp-check connect' : 'via-socks4' : SOCKS4 check "
        "connections are not implemented in herdsman yet; remove it or use haproxy.",
    ),
    (
        ["tcp-check connect port srv_id"],
        "'tcp-check connect' : 'port' : herdsman supports only "
        "a port number here, not a sample expression (got 'srv_id').",
    ),
    (
        ["http-check connect proto h2"],
        "'http-check connect' : 'proto' : MUX protocol 'h2' is not "
        "supported by herdsman for checks (only h1).",
    ),
    (
        ["tcp-check set-var(check.x) int(1)"],
        "'tcp-check set-var(check.x)' is not implemented in "
        "herdsman yet (check variables); remove it or use haproxy.",
    ),
    (
        ["http-check unset-var(check.x)"],
        "'http-check unset-var(check.x)' is not implemented in "
        "herdsman yet (check variables); remove it or use haproxy.",
    ),
    (
        ["tcp-check expect rstring ("],
        "'tcp-check expect' : regex '(' is invalid (error=missing ), "
        "unterminated subpattern, erroffset=0).",
    ),
]


@pytest.mark.parametrize(("lines", "message"), MESSAGES + HERDSMAN_ONLY)
def test_messages(lines: list[str], message: str) -> None:
    """The last line of each case fails with HAProxy's (or herdsman's) message."""
    _, diag = parse_section(lines, finalize=False)
    assert texts(diag)[-1] == _p(len(lines) + 1, message)
    assert diag.fatal


@pytest.mark.haproxy
@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
def test_messages_match_haproxy(tmp_path: Path) -> None:
    """One backend per case: haproxy -c prints the same alerts, in order.

    HAProxy stops after 50 fatal errors, so the cases go in files of 40.
    """
    for start in range(0, len(MESSAGES), 40):
        chunk = MESSAGES[start : start + 40]
        lines = ["defaults", "    mode tcp"]
        for i, (case, _) in enumerate(chunk):
            lines.append(f"backend b{i}")
            lines += [f"    {line}" for line in case]
        cfg = tmp_path / f"msg{start}.cfg"
        cfg.write_text("\n".join(lines) + "\n")
        out = subprocess.run(
            ["haproxy", "-c", "-f", str(cfg)],
            capture_output=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
        alerts = re.findall(
            r"\[ALERT\] +\(\d+\) : config : parsing \[[^]]+\] : (.*?)(?=\n\[|\Z)",
            out.stderr.decode(),
            re.S,
        )
        assert [a.rstrip("\n") for a in alerts] == [message for _, message in chunk]


# -- warnings ---------------------------------------------------------------------------


def test_frontend_warnings() -> None:
    """In a frontend HAProxy warns and goes on; tcp-check adds a "(null)" warning."""
    _, diag = parse_section(
        [
            "option httpchk GET /",
            "tcp-check connect",
            "http-check expect status 200",
            "http-check send-state",
        ],
        kind="frontend",
        name="f",
    )
    assert texts(diag) == [
        _p(2, "'httpchk' ignored because frontend 'f' has no backend capability."),
        _p(3, "'tcp-check' ignored because frontend 'f' has no backend capability."),
        _p(3, "(null)"),
        _p(4, "'http-check' ignored because frontend 'f' has no backend capability."),
        _p(5, "'http-check' ignored because frontend 'f' has no backend capability."),
        _p(5, "(null)"),
        "frontend 'f' uses tcp-check rules without 'option tcp-check', so the rules are ignored.",
    ]


def test_unused_rules_warnings() -> None:
    _, diag = parse_section(["http-check send hdr a b"], name="b1")
    assert texts(diag) == [
        "backend 'b1' uses http-check rules without 'option httpchk', so the rules are ignored."
    ]
    _, diag = parse_section(["tcp-check send x"], name="b2")
    assert texts(diag) == [
        "backend 'b2' uses tcp-check rules without 'option tcp-check', so the rules are ignored."
    ]
    # option tcp-check clears both "unused" flags; the later http-check line sets one again
    _, diag = parse_section(["option httpchk", "option tcp-check", "http-check expect status 200"])
    assert texts(diag) == [
        "backend 'b' uses http-check rules without 'option httpchk', so the rules are ignored."
    ]


def test_http_options_ignored_without_httpchk() -> None:
    px, diag = parse_section(
        ["option tcp-check", "http-check disable-on-404", "http-check send-state"],
        kind="listen",
        name="l3",
    )
    assert texts(diag) == [
        "'disable-on-404' will be ignored for proxy 'l3' (requires 'option httpchk').",
        "'send-state' will be ignored for proxy 'l3' (requires 'option httpchk').",
    ]
    assert px.checks is not None
    assert not px.checks.disable_on_404


def test_deprecated_headers_in_version() -> None:
    px, diag = parse_section(["option httpchk HEAD / HTTP/1.1\\r\\nHost:\\ www"])
    assert texts(diag) == [
        f"parsing [{FILE}:2]: 'option httpchk' : hiding headers or body at the end of the "
        "version string is deprecated. Please, consider to use 'http-check send' directive "
        "instead."
    ]
    send = _rule(px, HttpSendRule)
    assert (send.meth, send.uri, send.ver) == ("HEAD", "/", "HTTP/1.1")
    assert [(n, v.text) for n, v in send.headers] == [("Host", "www")]


# -- rulesets ---------------------------------------------------------------------------


def _rule(px: ProxyConfig, cls: type) -> object:
    assert px.checks is not None
    return next(r for r in px.checks.rules if isinstance(r, cls))


def test_plain_check_has_no_ruleset() -> None:
    px, _ = parse_section([])
    assert px.checks is None


def test_tcp_check_gets_implicit_connect() -> None:
    px, diag = parse_section(
        ["option tcp-check", "tcp-check send PING\\r\\n", "tcp-check expect string +PONG"]
    )
    assert not diag.messages
    assert px.checks is not None
    assert px.checks.kind is RulesetKind.TCP
    assert px.checks.rules == [
        ConnectRule(default=True, implicit=True),
        SendRule(SendKind.STRING, b"PING\r\n"),
        ExpectRule(ExpectKind.STRING, b"+PONG", "+PONG"),
    ]


def test_option_tcp_check_without_rules() -> None:
    px, _ = parse_section(["option tcp-check"])
    assert px.checks is not None
    assert px.checks.rules == [ConnectRule(default=True, implicit=True)]


def test_comments_spread_to_rules_of_one_kind() -> None:
    """check_proxy_tcpcheck(): a comment names the following rules while they are alike."""
    px, _ = parse_section(
        [
            "option tcp-check",
            "tcp-check comment first",
            "tcp-check connect port 110",
            "tcp-check comment banner",
            "tcp-check expect string +OK",
            "tcp-check expect string ready",
            "tcp-check send QUIT\\r\\n",
            "tcp-check comment second",
            "tcp-check connect port 143",
            "tcp-check expect string OK",
        ]
    )
    assert px.checks is not None
    rules = px.checks.rules
    assert isinstance(rules[0], CommentRule)  # no implicit connect: the first rule connects
    assert [getattr(r, "comment", None) for r in rules] == [
        None,
        "first",
        None,
        "banner",
        "banner",
        None,
        None,
        "second",
        None,
    ]


def test_httpchk_default_request_and_expect() -> None:
    px, diag = parse_section(["option httpchk"])
    assert not diag.messages
    assert px.checks is not None
    assert px.checks.kind is RulesetKind.HTTP
    connect, send, expect = px.checks.rules
    assert connect == ConnectRule(default=True, implicit=True)
    assert isinstance(send, HttpSendRule)
    assert (send.meth, send.uri, send.ver, send.from_option) == ("OPTIONS", "/", "HTTP/1.0", True)
    assert expect == ExpectRule(ExpectKind.HTTP_STATUS, ((200, 399),), "200-399")


def test_httpchk_arguments() -> None:
    for line, request in [
        ("option httpchk /u", ("OPTIONS", "/u", "HTTP/1.0")),
        ("option httpchk GET /t", ("GET", "/t", "HTTP/1.0")),
        ("option httpchk GET /u HTTP/1.1", ("GET", "/u", "HTTP/1.1")),
    ]:
        px, _ = parse_section([line])
        send = _rule(px, HttpSendRule)
        assert isinstance(send, HttpSendRule)
        assert (send.meth, send.uri, send.ver) == request


def test_send_merges_with_option_whatever_the_order() -> None:
    """tcpcheck_overwrite_send_http_rule(): the later line wins for what it sets."""
    px, _ = parse_section(["option httpchk GET /a HTTP/1.1", "http-check send meth POST hdr X y"])
    send = _rule(px, HttpSendRule)
    assert isinstance(send, HttpSendRule)
    assert (send.meth, send.uri, send.ver, send.from_option) == ("POST", "/a", "HTTP/1.1", False)
    assert [n for n, _ in send.headers] == ["X"]
    # an empty header list does not replace the other one (2.6.12; 2.6.0 replaced it)
    px, _ = parse_section(["http-check send hdr Host x", "option httpchk GET /a"])
    send = _rule(px, HttpSendRule)
    assert isinstance(send, HttpSendRule)
    assert (send.meth, send.uri, [n for n, _ in send.headers]) == ("GET", "/a", ["Host"])


def test_implicit_send_moves_after_first_connect() -> None:
    px, _ = parse_section(["option httpchk GET /x", "http-check connect port 8080"])
    assert px.checks is not None
    kinds = [type(r).__name__ for r in px.checks.rules]
    assert kinds == ["ConnectRule", "HttpSendRule", "ExpectRule"]
    assert px.checks.rules[0] == ConnectRule(port=8080)


def test_expect_rules() -> None:
    px, diag = parse_section(
        [
            "option httpchk",
            "http-check expect ! status 500,502-504",
            "http-check expect hdr name -m beg x-a value -m reg ^ok$",
            "http-check expect !string err min-recv 3 comment c",
            "http-check expect rstatus ^2 error-status L7RSP ok-status L7OKC tout-status L4TOUT",
        ]
    )
    assert not diag.messages
    assert px.checks is not None
    e1, e2, e3, e4 = px.checks.rules[2:]
    assert isinstance(e1, ExpectRule)
    assert e1.inverse
    assert e1.pattern == ((500, 500), (502, 504))
    assert isinstance(e2, ExpectRule)
    assert isinstance(e2.pattern, HeaderMatch)
    assert e2.pattern.name == "x-a"
    assert e2.pattern.name_method is StrMatch.BEG
    assert e2.pattern.value_method is StrMatch.REG
    assert isinstance(e3, ExpectRule)
    assert e3.kind is ExpectKind.HTTP_BODY
    assert e3.inverse
    assert (e3.pattern, e3.min_recv, e3.comment) == (b"err", 3, "c")
    assert isinstance(e4, ExpectRule)
    assert e4.kind is ExpectKind.HTTP_RSTATUS
    assert (e4.error_status, e4.ok_status, e4.tout_status) == (
        Status.L7RSP,
        Status.L7OKC,
        Status.L4TOUT,
    )


def test_disable_on_404_and_send_state_reach_the_ruleset() -> None:
    px, _ = parse_section(["option httpchk", "http-check disable-on-404", "http-check send-state"])
    assert px.checks is not None
    assert px.checks.disable_on_404
    assert px.checks.send_state


# -- inheritance, as observed on the binary ----------------------------------------------


def _defaults(lines: list[str]) -> ProxyConfig:
    px, _ = parse_section(lines, kind="defaults", name="", first_line=20)
    return px


def test_inherits_defaults_httpchk() -> None:
    d = _defaults(["option httpchk GET /d"])
    px, _ = parse_section([], defaults=d)
    send = _rule(px, HttpSendRule)
    assert isinstance(send, HttpSendRule)
    assert send.uri == "/d"


def test_own_http_check_line_drops_defaults_request() -> None:
    """Observed: defaults ``option httpchk GET /d`` + backend ``http-check send hdr Host x``
    sends ``OPTIONS / HTTP/1.0`` with the host header: the request line is lost."""
    d = _defaults(["option httpchk GET /d"])
    px, _ = parse_section(["http-check send hdr Host x"], defaults=d)
    send = _rule(px, HttpSendRule)
    assert isinstance(send, HttpSendRule)
    assert (send.meth, send.uri, [n for n, _ in send.headers]) == ("OPTIONS", "/", ["Host"])


def test_own_expect_only_sends_nothing() -> None:
    d = _defaults(["option httpchk GET /d"])
    px, _ = parse_section(["http-check expect status 200"], defaults=d)
    assert px.checks is not None
    assert [type(r) for r in px.checks.rules] == [ConnectRule, ExpectRule]


def test_tcp_check_rules_of_defaults_without_option_are_not_used() -> None:
    d = _defaults(["tcp-check send hello\\r\\n"])
    px, diag = parse_section(["option tcp-check"], defaults=d)
    assert px.checks is not None
    assert px.checks.rules == [ConnectRule(default=True, implicit=True)]
    assert not diag.messages


def test_tcp_check_inherited_and_replaced() -> None:
    d = _defaults(["option tcp-check", "tcp-check send dflt\\r\\n"])
    px, _ = parse_section([], defaults=d)
    assert _rule(px, SendRule) == SendRule(SendKind.STRING, b"dflt\r\n")
    px, _ = parse_section(["tcp-check send own\\r\\n"], defaults=d)
    assert _rule(px, SendRule) == SendRule(SendKind.STRING, b"own\r\n")
    assert d.checks is not None
    assert len(d.checks.rules) == 1


def test_finalize_accepts_a_plain_ruleset() -> None:
    px = ProxyConfig(name="b", kind="backend", cap=CAP_OF["backend"])
    px.checks = Ruleset(RulesetKind.TCP, [SendRule(SendKind.STRING, b"x")])
    finalize_checks(px, Diagnostics())
    assert px.checks.rules[0] == ConnectRule(default=True, implicit=True)
