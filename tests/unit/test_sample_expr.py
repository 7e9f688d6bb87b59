"""Sample expressions: the keyword tables against ``haproxy -dKsmp``/``-dKcnv``,
argument parsing, casts, and the fetches and converters on a ``Txn``
(``sample/expr.py``, ``f_*.py``, ``convs.py``).

The values expected here are HAProxy 2.6's (read in its source, and compared
side by side with the binary in tests/integration/test_routing_vs_haproxy.py).
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from herdsman.sample import types as T
from herdsman.sample.args import SINT, STR, ArgError, ArgSpec, make_arg_list
from herdsman.sample.expr import ExprError, parse_expr
from herdsman.sample.registry import CONVS, FETCHES, Compiler, val_pattern
from herdsman.sample.txn import Txn

DATA = Path(__file__).with_name("data_dksmp.json")


def test_every_fetch_is_valid_where_haproxy_says() -> None:
    """``fetch_cap[]`` applied to each fetch's sources gives the places
    ``haproxy -dKsmp`` (2.6.12) prints, for every fetch herdsman has."""
    dump = json.loads(DATA.read_text())
    wrong = {k: (val_pattern(f.val), dump.get(k)) for k, f in FETCHES.items()}
    assert {k: v for k, v in wrong.items() if v[0] != v[1]} == {}
    assert len(FETCHES) > 250


def test_signatures() -> None:
    """Argument masks as ``-dKsmp``/``-dKcnv`` print them."""
    assert FETCHES["hdr"].spec.signature() == "([string,integer])"
    assert FETCHES["nbsrv"].spec.signature() == "(backend)"
    assert FETCHES["sc_http_req_rate"].spec.signature() == "(integer[,table])"
    assert CONVS["field"].spec.signature() == "(integer,string[,integer])"
    assert CONVS["ipmask"].spec.signature() == "(IPv4 mask[,IPv6 mask])"
    assert (CONVS["hex"].in_type, CONVS["hex"].out_type) == (T.BIN, T.STR)


@pytest.mark.parametrize(
    ("text", "spec", "expected"),
    [
        ("(1,2)", ArgSpec((SINT, SINT), 2), ([1, 2], 5)),
        ("('a,b')", ArgSpec((STR,), 1), (["a,b"], 7)),
        ('("x)")', ArgSpec((STR,), 1), (["x)"], 6)),
        ("(a\\ b)", ArgSpec((STR,), 1), (["a b"], 6)),
        ("(\\n)", ArgSpec((STR,), 1), (["\n"], 4)),
        ("", ArgSpec((STR,), 1), ([""], 0)),  # a mandatory argument exists, empty
        ("", ArgSpec((STR,), 0), ([], 0)),
        ("(-)", ArgSpec((SINT,), 1), ([0], 3)),  # read_int64() takes a lone sign
    ],
)
def test_make_arg_list(text: str, spec: ArgSpec, expected: tuple[list[object], int]) -> None:
    assert make_arg_list(text, 0, spec) == expected


@pytest.mark.parametrize(
    ("text", "spec", "message"),
    [
        ("(x)", ArgSpec((SINT,), 1), "failed to parse 'x' as type 'integer' at position 1"),
        ("()", ArgSpec((SINT,), 1), "expected type 'integer' at position 1, but got nothing"),
        ("(1)", ArgSpec((SINT, SINT), 2), "missing arguments (got 1/2), type 'integer' expected"),
        ("(1,2,3)", ArgSpec((SINT, SINT), 2), "expected ')' before ',3)'"),
        ("(1", ArgSpec((SINT,), 1), "expected ')'"),
    ],
)
def test_make_arg_list_errors(text: str, spec: ArgSpec, message: str) -> None:
    with pytest.raises(ArgError) as info:
        make_arg_list(text, 0, spec)
    assert info.value.message == message


@pytest.mark.parametrize(
    ("value", "to", "expected"),
    [
        (b"12abc", T.SINT, 12),
        (b"", T.SINT, None),  # c_str2int() refuses an empty string
        (b"-9223372036854775809", T.SINT, -(1 << 63)),
        (T.Bin(b"ab\0cd"), T.STR, b"ab"),  # c_bin2str() stops at the NUL
        (T.Bin(b"12"), T.SINT, None),  # BIN does not cast to SINT
        (7, T.BIN, b"\0\0\0\0\0\0\0\x07"),
        (True, T.STR, b"1"),
        (IPv4Address("1.2.3.4"), T.SINT, 0x01020304),
        (IPv4Address("1.2.3.4"), T.IPV6, IPv6Address("::ffff:1.2.3.4")),
        (IPv6Address("::ffff:1.2.3.4"), T.IPV4, IPv4Address("1.2.3.4")),
        (IPv6Address("::1"), T.IPV4, None),
        (b"10.0.0.1x", T.IPV4, IPv4Address("10.0.0.1")),  # buf2ip() stops at 'x'
        (b"10.0.0", T.IPV4, None),
        (b"::1", T.ADDR, IPv6Address("::1")),
        (258, T.IPV4, IPv4Address("0.0.1.2")),
    ],
)
def test_casts(value: T.Value, to: int, expected: object) -> None:
    assert T.cast(value, to) == expected


def _txn() -> Txn:
    t = Txn()
    t.method = b"GET"
    t.uri = b"/a/b.php?x=1&y=2;z=&x=3"
    t.version = b"HTTP/1.1"
    t.req_hdrs = [
        (b"Host", b"www.Example.com"),
        (b"Cookie", b"a=1; SID=abc; $Path=/, b=2"),
        (b"X-List", b'one, "two, three" ,,four'),
        (b"X-List", b"five"),
        (b"Content-Length", b"12x"),
        (b"Authorization", b"Basic dXNlcjpwYXNz"),
        (b"X-Ip", b"10.0.0.7:8080"),
    ]
    t.src = IPv4Address("192.168.1.20")
    t.src_port = 40000
    t.dst = IPv4Address("127.0.0.1")
    t.dst_port = 80
    return t


EVALUATIONS = [
    ("path", b"/a/b.php"),
    ("pathq", b"/a/b.php?x=1&y=2;z=&x=3"),
    ("query", b"x=1&y=2;z=&x=3"),
    ("url", b"/a/b.php?x=1&y=2;z=&x=3"),
    ("base", b"www.Example.com/a/b.php"),
    ("url_param(x)", b"1"),
    ("url_param(z)", b""),
    ("url_param", b"1"),  # no name: the first parameter
    ("urlp_val(y)", 2),
    ("method", b"GET"),
    ("req.ver", b"1.1"),
    ("hdr(host)", b"www.Example.com"),
    ("hdr(host),lower", b"www.example.com"),
    ("hdr(x-list)", b"five"),  # the last occurrence by default
    ("hdr(x-list,1)", b"one"),
    ("hdr(x-list,2)", b'"two, three"'),  # commas inside quotes do not split
    ("hdr(x-list,3)", b""),  # an empty value counts
    ("hdr(x-list,-2)", b"four"),
    ("hdr_cnt(x-list)", 5),
    ("req.fhdr(x-list,1)", b'one, "two, three" ,,four'),
    ("req.fhdr_cnt(x-list)", 2),
    ("hdr_val(content-length)", 12),
    ("hdr_ip(x-ip)", IPv4Address("10.0.0.7")),
    ("req.cook(SID)", b"abc"),
    ("req.cook", b"1"),  # no name: the first cookie
    ("req.cook_cnt", 3),  # $Path is an attribute, not a cookie
    ("req.cook(b)", b"2"),  # Cookie values split on commas too
    ("http_auth_type", b"Basic"),
    ("http_auth_user", b"user"),
    ("http_auth_pass", b"pass"),
    ("req.hdr_names", b"host,cookie,x-list,x-list,content-length,authorization,x-ip"),
    ("src", IPv4Address("192.168.1.20")),
    ("src,ipmask(24)", IPv4Address("192.168.1.0")),
    ("src_port", 40000),
    ("dst_port", 80),
    ("str(a:b:c),field(2,:)", b"b"),
    ("str(a:b:c),field(-1,:)", b"c"),
    ("str(a::c),field(2,:)", b""),
    ("str(a:b:c),field(2,:,2)", b"b:c"),
    ("str(a:b:c),field(2,:,0)", b"b:c"),
    ("str(  a  b ),word(2,' ')", b"b"),
    ("str(a b),word(3,' ')", b""),
    ("str(aXbXc),regsub(X,-)", b"a-bXc"),
    ("str(aXbXc),regsub(X,-,g)", b"a-b-c"),
    ("str(abc),regsub(x*,-,g)", b"-a-b-c-"),
    (r'str(k=v),regsub("(.)=(.)",\2=\1)', b"v=k"),
    ("str('a\"b/c'),json", b'a\\"b\\/c'),
    ("str(\\t),json", b"\\t"),
    ("int(10),add(5),sub(20),mul(3)", -15),
    ("int(7),div(2)", 3),
    ("int(-7),div(2)", -3),  # C truncates toward zero
    ("int(-7),mod(2)", -1),
    ("int(1),div(0)", (1 << 63) - 1),
    ("int(9223372036854775807),add(1)", (1 << 63) - 1),  # capped, not wrapped
    ("int(5),and(3),or(8),xor(1)", 8),
    ("int(0),bool", False),
    ("int(3),not", False),
    ("int(3),odd", True),
    ("int(-5),neg", 5),
    ("str(abc),concat(-,,-)", b"abc--"),
    ("str(ab),hex", b"6162"),
    ("str(ab),base64", b"YWI="),
    ("str(YWI=),b64dec", b"ab"),
    ("str(ff),hex2i", 255),
    ("str(hello),length", 5),
    ("str(hello),bytes(1,3)", b"ell"),
    ("str(a\\r\\nb),cut_crlf", b"a"),
    ("str(xxay),ltrim(x),rtrim(y)", b"a"),
    ("str(a%20b+c),url_dec", b"a b+c"),
    ("str(a?b+c),url_dec", b"a?b c"),
    ("int(1),iif(yes,no)", b"yes"),
    # the hashes as haproxy 2.6.12 prints them
    ("str(hello),sdbm", 684824882),
    ("str(hello),djb2", 261238937),
    ("str(hello),crc32", 907060870),
    ("str(hello),wt6", 3538347703),
    # the avalanche form is full_hash() of the result (values of test_lb_hashing.py)
    ("str(hello),sdbm(1)", 2061535398),
    ("bin(4142),hex", b"4142"),
    ("bool(true)", True),
    ("ipv6(::1)", IPv6Address("::1")),
    ("meth(PATCH)", b"PATCH"),
]


@pytest.mark.parametrize(("text", "expected"), EVALUATIONS)
def test_evaluation(text: str, expected: object) -> None:
    expr, _ = parse_expr(text, Compiler())
    assert expr.one(_txn()) == expected


def test_iteration_for_acls() -> None:
    """``SMP_OPT_ITERATE``: every occurrence, converters applied to each."""
    t = _txn()
    assert list(parse_expr("hdr(x-list)")[0].many(t)) == [
        b"one",
        b'"two, three"',
        b"",
        b"four",
        b"five",
    ]
    assert list(parse_expr("url_param(x),add(1)")[0].many(t)) == [2, 4]
    assert list(parse_expr("req.cook")[0].many(t)) == [b"1", b"abc", b"2"]


def test_request_parts_gone_at_response_time() -> None:
    """Once the request is forwarded, its volatile parts fail; the method stays."""
    t = _txn()
    t.uri = None
    t.req_hdrs = None
    t.version = None
    assert parse_expr("path")[0].one(t) is None
    assert parse_expr("hdr(host)")[0].one(t) is None
    assert parse_expr("req.ver")[0].one(t) is None
    assert parse_expr("method")[0].one(t) == b"GET"


def test_direction_of_dual_fetches() -> None:
    """``hdr()`` reads the response in an expression compiled for it."""
    t = _txn()
    t.status = 200
    t.res_hdrs = [(b"Host", b"from-response")]
    assert parse_expr("hdr(host)", Compiler(response=True))[0].one(t) == b"from-response"
    assert parse_expr("hdr(host)", Compiler())[0].one(t) == b"www.Example.com"


def test_variables_and_scopes() -> None:
    t = _txn()
    parse_expr("str(x),set-var(txn.a)")[0].one(t)
    parse_expr("int(3),set-var(req.n)")[0].one(t)
    assert parse_expr("var(txn.a)")[0].one(t) == b"x"
    assert parse_expr("var(req.n)")[0].one(t) == 3
    assert parse_expr("var(txn.none,dflt)")[0].one(t) == b"dflt"
    assert parse_expr("int(5),add(req.n)")[0].one(t) == 8
    t.status = 200  # the response phase: the request's variables are gone
    assert parse_expr("var(req.n)")[0].one(t) is None
    assert parse_expr("var(txn.a)")[0].one(t) == b"x"
    assert parse_expr("int(2),set-var(txn.a,ifnotexists)")[0].one(t) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo", "unknown fetch method 'foo'"),
        ("ssl_bc", "fetch method 'ssl_bc' is not supported by herdsman"),
        ("ssl_c_s_dn(CN,1,ldap)", "invalid args in fetch method 'ssl_c_s_dn' : only rfc2253 or a "
         "blank value are currently supported as the format argument."),
        ("path,sha2", "converter 'sha2' is not supported by herdsman"),
        ("path,nope", "unknown converter 'nope'"),
        ("int(1),lower(1)", "invalid arg 1 in converter 'lower' : expected ')' before '1)'"),
        ("bin(41),add(1)", "converter 'add' cannot be applied"),
        ("path,field(0,/)", "invalid args in converter 'field' : Unexpected value 0 for index"),
        ("path,field(1,)", "invalid args in converter 'field' : Empty separators list"),
        ("path,json(x)", "invalid args in converter 'json' : Unexpected input code type. "
         "Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'"),
        ("path,regsub(a,b,x)", "invalid args in converter 'regsub' : invalid regex flag 'x', "
         "only 'i' and 'g' are supported"),
        ("int(1),add(x)", "invalid args in converter 'add' : expects an integer or a variable name"),
        ("var(foo)", "invalid args in fetch method 'var' : invalid variable name 'foo'. A variable "
         "name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' "
         "or 'check'"),
        ("var(txn.a-b)", "invalid args in fetch method 'var' : invalid syntax at char '-b'"),
        ("bool(maybe)", "invalid args in fetch method 'bool' : Expects 'true', 'false', '0' or '1'"),
        ("bin(abc)", "invalid args in fetch method 'bin' : an even number of hex digit is expected"),
        ("hdr(x,-11)", "invalid args in fetch method 'hdr' : header occurrence must be >= -10"),
        ("date(0,h)", "invalid args in fetch method 'date' : expects 's', 'ms' or 'us', got 'h'"),
        ("path x", "missing comma after fetch keyword 'path'"),
    ],
)  # fmt: skip
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ExprError) as info:
        parse_expr(text)
    assert info.value.message == message


def test_references_are_collected() -> None:
    """Names of backends, servers and tables are resolved once the configuration is read."""
    c = Compiler(proxy="fe")
    parse_expr("nbsrv(app)", c)
    parse_expr("srv_is_up(app/s1)", c)
    parse_expr("sc0_http_req_rate(t1)", c)
    parse_expr("be_conn", c)
    assert [(r.kind, r.name) for r in c.refs] == [(10, "app"), (12, "app/s1"), (11, "t1"), (10, "")]
