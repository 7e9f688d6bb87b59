"""ACLs, match methods and conditions (``sample/acl.py``, ``sample/pattern.py``).

The error texts are those ``haproxy -c`` (2.6.12) prints after "error detected
while parsing ACL '<name>' : " (the configuration tests check the framing).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from herdsman.sample import pattern as P
from herdsman.sample.acl import FAIL, MISS, PASS, Acl, AclContext, AclError, parse_acl
from herdsman.sample.cond import parse_condition
from herdsman.sample.registry import Compiler
from herdsman.sample.txn import Txn


def _txn() -> Txn:
    t = Txn()
    t.method = b"POST"
    t.uri = b"/static/img/logo.PNG?v=2"
    t.version = b"HTTP/1.1"
    t.req_hdrs = [
        (b"Host", b"www.example.com:8080"),
        (b"User-Agent", b"Mozilla/5.0 (X11)"),
        (b"Content-Length", b"42"),
        (b"X-Forwarded-For", b"10.1.2.3, 192.168.0.9"),
    ]
    t.src = IPv4Address("10.0.0.1")
    t.dst = IPv4Address("10.0.0.2")
    t.dst_port = 443
    return t


def _cond(*words: str, acls: dict[str, Acl] | None = None) -> int:
    ctx = AclContext(Compiler())
    cond = parse_condition(["if", *words], {} if acls is None else acls, ctx)
    return cond.result(_txn())


MATCHES = [
    (("path_beg", "/static", "/img"), PASS),
    (("path_beg", "/img"), FAIL),
    (("path_end", ".png"), FAIL),
    (("path_end", "-i", ".png"), PASS),
    (("path_sub", "img/lo"), PASS),
    (("path_dir", "img"), PASS),
    (("path_dir", "im"), FAIL),
    (("path_dir", "/img/"), PASS),  # delimiters around the pattern are ignored
    (("hdr_dom(host)", "example.com"), PASS),
    (("hdr_dom(host)", "8080"), PASS),  # ':' delimits too
    (("hdr_dom(host)", "ample.com"), FAIL),
    (("hdr_beg(host)", "-i", "WWW."), PASS),
    (("path", "/static/img/logo.PNG"), PASS),
    (("path_len", "20"), PASS),
    (("path_len", "gt", "20"), FAIL),
    (("path_reg", "^/static/.*\\.(png|PNG)$"), PASS),
    (("path_reg", "-i", "LOGO"), PASS),
    (("url_param(v)", "2"), PASS),
    (("hdr_val(content-length)", "ge", "42"), PASS),
    (("hdr_val(content-length)", "lt", "42"), FAIL),
    (("hdr_val(content-length)", "40:50"), PASS),
    (("hdr_val(content-length)", ":41"), FAIL),
    (("req.hdr_cnt(x-forwarded-for)", "eq", "2"), PASS),
    (("hdr_ip(x-forwarded-for)", "192.168.0.0/16"), PASS),  # any occurrence
    (("src", "10.0.0.0/8"), PASS),
    (("src", "10.0.0.0/255.0.0.0"), PASS),
    (("src", "::ffff:10.0.0.1"), PASS),  # an IPv4 sample against an IPv6 pattern
    (("src", "10.0.0.2"), FAIL),
    (("dst_port", "443", "8443"), PASS),
    (("method", "POST"), PASS),
    (("method", "post"), FAIL),
    (("hdr(user-agent)", "-m", "sub", "X11"), PASS),
    (("hdr(user-agent)", "-m", "found"), PASS),
    (("hdr(x-none)", "-m", "found"), FAIL),
    (("hdr(x-none)", "-m", "len", "0"), FAIL),  # nothing fetched: no match
    (("hdr(host)", "-m", "beg", "-i", "WWW.EX"), PASS),
    (("req.hdr(content-length)", "-m", "int", "42"), PASS),
    (("req.hdr(content-length)", "-m", "bool"), PASS),
    (("str(0)", "-m", "bool"), FAIL),
    (("str(ab),hex", "-m", "bin", "36313632"), PASS),  # hex gives the string "6162"
    (("bin(0a0b)", "-m", "bin", "0A0B"), PASS),
    (("always_true",), PASS),
    (("always_false",), FAIL),
    (("int(5)", "gt", "3"), PASS),
    (("int(5)", "gt", "3", "lt", "4"), PASS),  # any value: operators apply to what follows
    (("int(-5)", "lt", "0"), PASS),
]


@pytest.mark.parametrize(("words", "expected"), MATCHES)
def test_match_methods(words: tuple[str, ...], expected: int) -> None:
    assert _cond("{", *words, "}") == expected


def test_dashdash_and_flag_like_patterns() -> None:
    """``--`` ends the flags, so a pattern may start with '-'."""
    t = _txn()
    t.uri = b"-i"
    ctx = AclContext(Compiler())
    acl = parse_acl(["x", "url", "--", "-i"], {}, ctx)
    assert acl.term()(t) == PASS


def test_named_acls_or_and_negation() -> None:
    acls: dict[str, Acl] = {}
    ctx = AclContext(Compiler())
    parse_acl(["static", "path_beg", "/static"], acls, ctx)
    parse_acl(["static", "path_end", ".css"], acls, ctx)  # a second test: ORed
    parse_acl(["is_get", "method", "GET"], acls, ctx)
    assert _cond("static", acls=acls) == PASS
    assert _cond("static", "is_get", acls=acls) == FAIL
    assert _cond("static", "!is_get", acls=acls) == PASS
    assert _cond("is_get", "or", "static", acls=acls) == PASS
    assert _cond("is_get", "||", "!static", acls=acls) == FAIL
    assert _cond("!!static", acls=acls) == PASS
    assert _cond("!", "static", acls=acls) == FAIL  # a lone '!' negates the next term


def test_unless_and_empty_conditions() -> None:
    ctx = AclContext(Compiler())
    assert parse_condition(["unless", "TRUE"], {}, ctx).run(_txn()) is False
    assert parse_condition(["unless", "FALSE"], {}, ctx).run(_txn()) is True
    # an empty condition never passes, so "unless" alone always applies
    assert parse_condition(["if"], {}, ctx).run(_txn()) is False
    assert parse_condition(["unless"], {}, ctx).run(_txn()) is True


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("TRUE", PASS),
        ("FALSE", FAIL),
        ("HTTP", PASS),
        ("HTTP_1.1", PASS),
        ("HTTP_1.0", FAIL),
        ("METH_POST", PASS),
        ("METH_GET", FAIL),
        ("HTTP_URL_SLASH", PASS),
        ("HTTP_URL_ABS", FAIL),
        ("HTTP_CONTENT", PASS),
        ("LOCALHOST", FAIL),
    ],
)
def test_predefined_acls(name: str, expected: int) -> None:
    assert _cond(name) == expected


def test_predefined_acl_can_be_overridden() -> None:
    acls: dict[str, Acl] = {}
    parse_acl(["TRUE", "always_false"], acls, AclContext(Compiler()))
    assert _cond("TRUE", acls=acls) == FAIL


def test_miss_while_contents_may_change() -> None:
    """``req.len`` on a buffer that may still grow: MISS, so a rule can wait."""
    ctx = AclContext(Compiler())
    cond = parse_condition(["if", "{", "req.len", "ge", "10", "}"], {}, ctx)
    t = Txn()
    t.req_buf = b"abc"
    t.req_final = False
    assert cond.result(t) == MISS
    assert not cond.run(t)
    t.req_final = True
    assert cond.result(t) == FAIL
    t.req_buf = b"0123456789"
    assert cond.result(t) == PASS


ERRORS = [
    (["a1", "hdr_val(x)", "abc"], "'abc' is not a number"),
    (["a2", "src", "1.2.3.300"], "'1.2.3.300' is not a valid IPv4 or IPv6 address"),
    (
        ["a3", "req.payload(0,2)", "4142"],
        "matching method must be specified first (using '-m') when using a sample fetch of "
        "this type ('req.payload')",
    ),
    (
        ["a4", "path", "-m", "reg", "("],
        "regex '(' is invalid (error=missing closing parenthesis, erroffset=1)",
    ),
    (["a5", "path", "-m", "foo", "x"], "unknown matching method 'foo' when parsing ACL expression"),
    (
        ["a6", "path", "-x", "x"],
        "'-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'",
    ),
    (["a10", "foo(1)", "x"], "unknown fetch method 'foo' in ACL expression 'foo(1)'"),
    (["a11", "path,lowerx", "x"], "ACL keyword 'path' : unknown converter 'lowerx'."),
    (["a14", "req.hdr_cnt(x)", "lt", "abc"], "'abc' is neither a number nor a supported operator"),
    (["a15", "hdr_val(x)", "5:1"], "'5:1' is not a valid number range"),
    (["a16", "method", "-m", "int", "1"], "matching method 'int' cannot be used with fetch keyword 'method'"),
    (["bad!", "path", "x"], "invalid character in ACL name : '!'"),
    (["a17", "path", "-f", "/nonexistent/file"], "failed to open pattern file </nonexistent/file>"),
    (["a18", "ssl_bc"], "fetch method 'ssl_bc' is not supported by herdsman in ACL expression 'ssl_bc'"),
]  # fmt: skip


@pytest.mark.parametrize(("words", "message"), ERRORS)
def test_acl_errors(words: list[str], message: str) -> None:
    with pytest.raises(AclError) as info:
        parse_acl(words, {}, AclContext(Compiler()))
    assert info.value.message == message


def test_condition_errors() -> None:
    ctx = AclContext(Compiler())
    with pytest.raises(AclError) as info:
        parse_condition(["if", "NOPE"], {}, ctx)
    assert info.value.message == "no such ACL : 'NOPE'"
    with pytest.raises(AclError) as info:
        parse_condition(["if", "{", "path", "/x"], {}, ctx)
    assert info.value.message == "missing closing '}' in condition"
    with pytest.raises(AclError) as info:
        parse_condition(["when", "TRUE"], {}, ctx)
    assert info.value.message == "conditions must start with either 'if' or 'unless'"


def test_warnings() -> None:
    ctx = AclContext(Compiler())
    parse_acl(["nopat", "path"], {}, ctx)
    parse_acl(["paren", "hdr", "(host)", "x"], {}, ctx)
    assert ctx.warnings[0].startswith(
        "parsing acl keyword 'path' :\n  no pattern to match against were provided"
    )
    assert ctx.warnings[-1].startswith(
        "parsing acl 'paren' :\n  matching 'hdr' for pattern '(host)' is likely a mistake"
    )


def test_pattern_files(tmp_path: Path) -> None:
    """``-f``: one pattern a line, '#' comments, leading blanks dropped; ``-i``
    applies to what follows it only."""
    exact = tmp_path / "exact.lst"
    exact.write_bytes(b"# agents\n  Curl/8\n\nWget\n")
    generic = tmp_path / "generic.lst"
    generic.write_bytes(b"bot\n")
    ctx = AclContext(Compiler())
    acl = parse_acl(
        ["ua", "hdr(user-agent)", "-f", str(exact), "-i", "-f", str(generic), "test"], {}, ctx
    )
    t = Txn()
    for value, expected in [
        (b"Curl/8", PASS),
        (b"curl/8", FAIL),
        (b"Wget", PASS),
        (b"BOT", PASS),
        (b"TEST", PASS),
    ]:
        t.req_hdrs = [(b"User-Agent", value)]
        assert acl.term()(t) == expected, value


def test_map_lookup_prefers_the_longest_prefix() -> None:
    """Case-sensitive ``beg`` and ``ip`` patterns are in trees: the longest match wins."""
    beg = P.PatternExpr(False, [(b"/a", b"short"), (b"/a/b", b"long")])
    assert P.compile_lookup(P.BEG, [beg])(b"/a/b/c") == (b"/a/b", b"long")
    ip = P.PatternExpr(
        False,
        [(P.parse_ip("10.0.0.0/8", True), b"wide"), (P.parse_ip("10.1.0.0/16", True), b"narrow")],
    )
    assert P.compile_lookup(P.IP, [ip])(IPv4Address("10.1.2.3")) == (
        P.parse_ip("10.1.0.0/16", True),
        b"narrow",
    )
    sub = P.PatternExpr(False, [(b"a", b"first"), (b"ab", b"second")])
    assert P.compile_lookup(P.SUB, [sub])(b"xab") == (b"a", b"first")  # a list: file order


def test_ip_patterns_across_families() -> None:
    v4 = P.parse_ip("192.168.0.0/16", True)
    assert P.ip_matches(v4, IPv6Address("::ffff:192.168.1.1"))
    assert P.ip_matches(v4, IPv6Address("::192.168.1.1"))  # old IPv4-compatible form
    assert P.ip_matches(v4, IPv6Address("2002:c0a8:0101::"))  # 6to4
    assert not P.ip_matches(v4, IPv6Address("2001:db8::1"))
    v6 = P.parse_ip("::ffff:10.0.0.0/104", True)
    assert P.ip_matches(v6, IPv4Address("10.2.3.4"))


@pytest.mark.parametrize(
    ("words", "want"),
    [
        (("path", "/static/img/logo.PNG"), True),
        (("path", "/static"), False),
        (("path_beg", "/img", "/stat"), True),
        (("path_beg", "-i", "/STATIC"), True),
        (("dst_port", "-m", "str", "443"), True),  # an integer, cast to a string
        (("dst_port", "-m", "beg", "44"), True),
        (("dst_port", "-m", "beg", "80"), False),
        (("req.hdr(nosuch)", "-m", "str", "x"), False),  # no value
        (("dst_port", "gt", "442"), True),
        (("dst_port", "gt", "443"), False),
        (("dst_port", "ge", "443"), True),
        (("dst_port", "lt", "444"), True),
        (("dst_port", "443:444"), True),
        (("dst_port", "gt", "4", "lt", "5"), True),  # two ranges
        (("req.hdr(content-length)", "-m", "int", "gt", "41"), True),  # a string, cast
    ],
)
def test_one_acl_conditions_run_as_their_terms(words: tuple[str, ...], want: bool) -> None:
    """A condition of one ACL runs its boolean test (``run``): the same answer
    as the three-valued term, ``unless`` the opposite."""
    ctx = AclContext(Compiler())
    cond = parse_condition(["if", "{", *words, "}"], {}, ctx)
    assert cond.run(_txn()) is want
    assert (cond.result(_txn()) == PASS) is want
    unless = parse_condition(["unless", "{", *words, "}"], {}, ctx)
    assert unless.run(_txn()) is not want
