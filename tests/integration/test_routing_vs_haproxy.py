"""ACLs, fetches, converters, rules and persistence side by side with haproxy 2.6.12:
the same configuration and requests through both, and what the client and the
servers see compared byte for byte (``sidebyside.py``).

Fetches and converters are checked in matrices: each expression's value is
written into a request header by ``http-request set-header`` (or, for the
response-side ones, into a response header), so one exchange compares many.
"""

from __future__ import annotations

import pytest
from sidebyside import both, frontend, get, listen

pytestmark = pytest.mark.haproxy

REQ = get(
    "/a/b.php?x=1&y=two&x=3",
    "user-agent: Mozilla/5.0",
    "cookie: a=1; SID=abc; b=2",
    "cookie: c=3",
    "x-list: one, two,three",
    "x-list: four",
    "x-ip: 10.1.2.3",
    "x-num: 42",
    "accept-language: en-US,fr;q=0.8",
    'x-json: a"b\\c\xe9',
)

# expressions whose value goes into x-fN (empty when the fetch fails)
FETCHES = [
    "src",
    "dst",
    "fe_name",
    "be_name",
    "fe_id",
    "be_id",
    "nbsrv",
    "nbsrv(b2)",
    "srv_is_up(b1/s1)",
    "be_conn",
    "be_conn(b2)",
    "fe_conn",
    "connslots",
    "queue",
    "avg_queue",
    "path",
    "url",
    "base",
    "query",
    "url_param(x)",
    "urlp(y)",
    "urlp(z)",
    "method",
    "req.ver",
    "hdr(host)",
    "hdr(x-list)",
    "hdr(x-list,1)",
    "hdr(x-list,-1)",
    "hdr_cnt(x-list)",
    "req.hdr(x-list)",
    "req.fhdr(x-list)",
    "req.fhdr_cnt(x-list)",
    "req.cook(SID)",
    "cook(a)",
    "req.cook_cnt(a)",
    "req.cook(c)",
    "hdr_ip(x-ip)",
    "hdr_val(x-num)",
    "req.len",
    "pathq",
    "baseq",
    "env(HOME)",
    "str(hello)",
    "int(-7)",
    "bool(1)",
    "always_true",
    "always_false",
    "ipv4(192.168.0.1)",
    "ipv6(::1)",
    "bin(414243)",
    "meth(PUT)",
    "req.body_len",
    "var(txn.none)",
    "http_auth_type",
    "req.hdr_names",
    "req.hdr_names(:)",
]
CONVERTERS = [
    "str(MiXeD),lower",
    "str(MiXeD),upper",
    "str(abc),hex",
    "str(abc),base64",
    "str(YWJj),b64dec",
    "str(a.b.c),field(2,.)",
    "str(a.b.c),field(-1,.)",
    "str(a b  c),word(2, )",
    "str(aaa),regsub(a,b)",
    "str(aaa),regsub(a,b,g)",
    "str(x/y/z),regsub(/,_,g)",
    "src,ipmask(24)",
    "hdr(x-json),json",
    "int(5),bool",
    "int(0),not",
    "int(5),add(3)",
    "int(5),sub(7)",
    "int(5),mul(-3)",
    "int(7),div(2)",
    "int(7),mod(3)",
    "int(7),neg",
    "int(6),and(3)",
    "int(6),or(3)",
    "int(6),xor(3)",
    "int(6),cpl",
    "int(5),odd",
    "int(5),even",
    "str(a),concat(-,txn.x,-)",
    "str(abc),strcmp(txn.x)",
    "str(abc),length",
    "str(hello),bytes(1,3)",
    "str(%41%42),url_dec",
    "str(abc),crc32",
    "str(abc),djb2",
    "str(abc),sdbm",
    "str(abc),wt6",
    "str(abc),sdbm(1)",
    "str(abc),crc32(1)",
    "str(abc),sha1,hex",
    "str(abc),xxh32",
    "str(abc),xxh64",
    "str(10.0.0.1),ipmask(8)",
    "str(abc),ltrim(a)",
    "str(abc),rtrim(c)",
    "str(hello),even",
    "int(3),mul(2),add(1)",
    "str(abc),set-var(txn.y),upper",
    "str(1h),htonl",
    "int(258),htonl,hex",
    "str(abc),ub64enc",
    "str(Hello),lower,upper,lower",
    "str(  ),length",
]
# ACLs; x-mN: 1 when it matches
ACLS = [
    "path /a/b.php", "path_beg /a", "path_end .php", "path_sub /b", "path_reg ^/a/.*php$",
    "path_dir b.php", "path_dom a", "path_len 8", "url_beg /a", "hdr_beg(host) exam",
    "hdr_end(host) .com", "hdr_sub(user-agent) zill", "hdr_reg(host) ^ex.*e\\.com$",
    "hdr_dom(host) com", "hdr_ip(x-ip) 10.0.0.0/8", "hdr_val(x-num) gt 40",
    "hdr_cnt(x-list) eq 2", "hdr(host) -i EXAMPLE.COM", "hdr(host) -m beg ex",
    "hdr(host) -m end om", "hdr(host) -m sub amp", "hdr(host) -m reg am.le",
    "hdr(host) -m found", "hdr(x-none) -m found", "hdr(host) -m len 11", "src 127.0.0.1",
    "src 127.0.0.0/8 10.0.0.0/8", "src 10.0.0.1", "method GET", "method POST",
    "METH_GET", "METH_POST", "HTTP", "HTTP_1.1", "HTTP_1.0", "HTTP_URL_ABS",
    "HTTP_URL_SLASH", "HTTP_CONTENT", "TRUE", "FALSE", "LOCALHOST", "REQ_CONTENT",
    "req.ver 1.1", "url_param(x) 1", "urlp(y) -m beg tw", "cook(SID) abc",
    "req.cook(a) -m int 1", "hdr_val(x-num) 40:50", "hdr_val(x-num) le 41",
    "hdr_val(x-num) lt 42", "hdr_val(x-num) ge 42", "hdr_val(x-num) eq 42",
    "nbsrv(b1) ge 2", "be_conn(b2) eq 0", "str(abc) -m bin 616263", "int(1) -m bool",
    "int(0) -m bool", "str(x) -m dir x", "path -m dom b.php", "path,lower -m str /a/b.php",
    "hdr(host),upper EXAMPLE.COM", "-- hdr(host)", "src -n 127.0.0.1",
    "always_true", "req.len gt 0", "WAIT_END",
]  # fmt: skip


BACKENDS = (
    "backend b1\n    server s1 127.0.0.1:@s1\n    server s2 127.0.0.1:@s2\n"
    "backend b2\n    server s3 127.0.0.1:@s3\n"
)


def _matrix(kind: str, items: list[str]) -> str:
    lines = ["http-request set-var(txn.x) str(abc)"]
    for n, item in enumerate(items):
        if kind == "fetch":
            lines.append(f'http-request set-header x-f{n} "%[{item}]"')
        else:
            acl = item if not item.startswith("-- ") else item[3:] + " --"
            cond = acl if acl.isupper() or acl[:4] == "HTTP" else f"{{ {acl} }}"
            lines.append(f"http-request set-header x-m{n} 1 if {cond}")
    return listen(*lines) + BACKENDS


def _report(theirs: object, mine: object) -> str:
    return f"haproxy:\n{theirs}\nherdsman:\n{mine}"


@pytest.mark.parametrize(
    ("kind", "items"),
    [("fetch", FETCHES), ("fetch", CONVERTERS), ("acl", ACLS)],
    ids=["fetches", "converters", "acls"],
)
async def test_expressions_as_haproxy(kind: str, items: list[str]) -> None:
    text = _matrix(kind, [i for i in items if not i.startswith("#")])
    theirs, mine = await both(text, [REQ])
    assert mine.responses == theirs.responses
    assert mine.origins == theirs.origins, _report(theirs.origins, mine.origins)


# (id, configuration, requests)
CASES: list[tuple[str, str, list[bytes]]] = [
    (
        "use_backend",
        frontend("acl api path_beg /api", "use_backend b2 if api"),
        [get("/"), get("/api/x"), get("/"), get("/apix")],
    ),
    (
        "use_backend-unless-and-or",
        frontend(
            "use_backend b2 if { path_beg /a } { hdr(x-k) 1 } || { path /c }",
            "use_backend b2 unless { path_beg /a } || { path_beg /z }",
        ),
        [get("/a"), get("/a", "x-k: 1"), get("/c"), get("/b"), get("/z")],
    ),
    (
        # consecutive path_beg/path rules: one look-up in herdsman, first rule wins
        "use_backend-prefix-table",
        frontend(
            "use_backend b2 if { path_beg /api/ /static }",
            "use_backend b3 if { path_beg /api/v2/ }",  # never: b2's /api/ comes first
            "use_backend b3 if { path /exact }",
            "use_backend b4 if { path_beg /e }",
            "use_backend b3 if { path_beg -i /UP }",
            "use_backend b4 if { path_beg /u }",
            backends="backend b3\n    http-request set-header x-be b3\n"
            "    server s3 127.0.0.1:@s3\n"
            "backend b4\n    http-request set-header x-be b4\n    server s3 127.0.0.1:@s3\n",
        ),
        [
            get("/api/v2/x"),
            get("/exact"),
            get("/exact?q=1"),
            get("/ex"),
            get("/up"),
            get("/u"),
            get("/static.css"),
            get("/"),
        ],
    ),
    (
        # literal fields of absent names: one merged rule appending to Txn.req_tail
        "set-header-literal",
        frontend(
            "http-request set-header x-a 1",
            "http-request add-header x-b 2",
            "http-request set-header x-c 3",
            "http-request add-header x-b 4",
        ),
        [
            get("/"),
            get("/", "connection: keep-alive", "x-z: 9"),
            get("/", "x-odd:  v "),
            get("/", "x-a: 0", "X-C: 0"),
            get("/", "connection: close"),
        ],
    ),
    (
        "use_backend-dynamic",
        frontend("use_backend %[req.hdr(x-be)]"),
        [get("/", "x-be: b2"), get("/", "x-be: nope"), get("/")],
    ),
    (
        "deny",
        frontend(
            "http-request deny if { path /d }",
            "http-request deny deny_status 429 if { path /r }",
            "http-request deny status 404 content-type text/plain string gone if { path /g }",
        ),
        [get("/d"), get("/r"), get("/g"), get("/")],
    ),
    (
        "allow-stops",
        frontend("http-request allow if { path /a }", "http-request deny"),
        [get("/a"), get("/b")],
    ),
    (
        "return",
        frontend(
            "http-request return status 200 content-type text/plain string hello if { path /s }",
            'http-request return status 201 content-type "text/plain" lf-string "p=%[path]" '
            "hdr x-h %[method] if { path_beg /l }",
            "http-request return status 503 if { path /e }",
            "http-request return status 204 if { path /n }",
        ),
        [get("/s"), get("/lx"), get("/e"), get("/n"), get("/s", method="HEAD")],
    ),
    (
        "headers",
        frontend(
            "http-request set-header x-a one",
            "http-request add-header x-a two",
            "http-request add-header x-b %[path]",
            "http-request del-header x-del",
            "http-request replace-header x-rep (a+)b \\1c",
            "http-request replace-value x-val ([0-9]+) n\\1",
            "http-request del-header x-pre -m beg",
            "http-response set-header x-out %[status]",
            "http-response add-header x-srv2 %[res.hdr(x-srv)]",
            "http-response del-header x-srv",
            "http-response replace-header x-r (.*) <\\1>",
        ),
        [
            get(
                "/p",
                "x-del: 1",
                "x-rep: aab",
                "x-val: 1, b, 22",
                "x-pre-1: a",
                "x-prefix: b",
                "x-reply-hdr: x-r: v",
            )
        ],
    ),
    (
        "request-line",
        frontend(
            "http-request set-method PUT if { path /m }",
            "http-request set-path /new%[path] if { path_beg /p }",
            "http-request set-query q=1 if { path /q }",
            "http-request set-uri /u?z=9 if { path /u }",
            "http-request replace-path /r/(.*) /R/\\1",
            "http-request replace-uri ^/x(.*) /y\\1",
            "http-request set-pathq /pq?k=v if { path /spq }",
        ),
        [
            get("/m"),
            get("/p1?a=b"),
            get("/q?old"),
            get("/u"),
            get("/r/s?t"),
            get("/x/1"),
            get("/spq"),
        ],
    ),
    (
        "set-status",
        frontend(
            "http-response set-status 404 if { status 200 } { path /a }",
            "http-response set-status 503 reason Down if { path /b }",
            "http-response deny if { path /c }",
            "http-response deny deny_status 500 if { res.hdr(x-srv) s1 } { path /d }",
        ),
        [get("/a"), get("/b"), get("/c"), get("/d"), get("/d")],
    ),
    (
        "redirects",
        frontend(
            "redirect location /moved code 301 if { path /old }",
            "redirect prefix http://other.example drop-query if { path_beg /pfx }",
            "redirect scheme https if { path /sch }",
            "http-request redirect location /x?%[query] code 303 if { path /lf }",
            "http-request redirect prefix /p append-slash if { path /as }",
            "redirect location /c set-cookie K=V if { path /ck }",
            "redirect location /c clear-cookie K= if { path /cc }",
            "http-request redirect code 307 location / if { path /307 }",
            "http-response redirect location /after if { status 404 }",
        ),
        [
            get("/old"),
            get("/pfx/a?b=c"),
            get("/sch?q"),
            get("/lf?a=1"),
            get("/as"),
            get("/ck"),
            get("/cc"),
            get("/307"),
            get("/nf", "x-reply-status: 404"),
        ],
    ),
    (
        "variables",
        frontend(
            "http-request set-var(txn.p) path",
            "http-request set-var(req.m) method",
            "http-request set-var-fmt(txn.f) %[method]-%[path]",
            "http-request set-header x-p %[var(txn.p)]-%[var(req.m)]-%[var(txn.f)]",
            "http-request unset-var(txn.p) if { path /u }",
            "http-request set-header x-u %[var(txn.p)]",
            "http-response set-header x-p %[var(txn.p)]-%[var(req.m)]",
        ),
        [get("/a"), get("/u")],
    ),
    (
        "auth",
        "userlist U\n    group g users bob\n    user bob insecure-password secret\n"
        "    user eve password $5$abc$sCOGUciM.GdmYMCUvmUcgu03oRH87O0clF96.9mwWGB\n"
        + frontend(
            "acl ok http_auth(U)",
            "acl grp http_auth_group(U) g",
            "http-request auth realm Zone if !ok { path_beg /p }",
            "http-request deny if { path /g } !grp",
            "http-request set-header x-user %[http_auth_user] if ok",
        ),
        [
            get("/p"),
            get("/p", "authorization: Basic Ym9iOnNlY3JldA=="),
            get("/p", "authorization: Basic ZXZlOng="),
            get("/g", "authorization: Basic ZXZlOng="),
            get("/g", "authorization: Basic Ym9iOnNlY3JldA=="),
        ],
    ),
    (
        "after-response",
        frontend(
            "http-request deny if { path /d }",
            "http-after-response set-header x-after %[status]",
            "http-after-response del-header x-srv if { status 200 }",
        ),
        [get("/"), get("/d"), get("/nf", "x-reply-status: 404")],
    ),
    (
        "tcp-request-content",
        frontend(
            "tcp-request content reject if { path /tcp }",
            "tcp-request content accept if { path /acc }",
        ),
        [get("/tcp"), get("/acc"), get("/")],
    ),
    (
        "tcp-request-connection",
        frontend("tcp-request connection reject if { src 127.0.0.2 }"),
        [get("/")],
    ),
    (
        "monitor",
        frontend("monitor-uri /health", "monitor fail if { nbsrv(b2) lt 1 }"),
        [get("/health"), get("/")],
    ),
    (
        "use-server",
        listen("use-server s2 if { path /two }", "use-server s1 if { path /one }"),
        [get("/two"), get("/one"), get("/two"), get("/")],
    ),
    (
        "capture",
        frontend(
            "declare capture request len 5",
            "http-request capture req.hdr(host) id 0",
            "http-request capture path len 3",
            "http-request set-header x-cap %[capture.req.hdr(0)]-%[capture.req.hdr(1)]",
        ),
        [get("/abcdef")],
    ),
    (
        "backend-rules",
        frontend(
            "use_backend bx if { path_beg /x }",
            backends="backend bx\n    http-request set-header x-be %[be_name]\n"
            "    http-request deny if { path /x/deny }\n"
            "    http-response set-header x-be-res %[srv_name]\n"
            "    server s3 127.0.0.1:@s3\n",
        ),
        [get("/x/1"), get("/x/deny"), get("/")],
    ),
    (
        "defaults-rules",
        "defaults D\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n    http-request set-header x-def 1\n"
        "    http-request deny if { path /dd }\n"
        "frontend fe from D\n    bind 127.0.0.1:@fe\n    http-request set-header x-own 1\n"
        "    default_backend b1\n"
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        "backend b1\n    server s1 127.0.0.1:@s1\n",
        [get("/"), get("/dd")],
    ),
    (
        "set-src",
        frontend(
            "http-request set-src hdr(x-real-ip)",
            "http-request set-header x-src %[src]",
            "http-request deny if { src 10.9.9.9 }",
        ),
        [get("/", "x-real-ip: 10.1.1.1"), get("/", "x-real-ip: 10.9.9.9"), get("/")],
    ),
]


@pytest.mark.parametrize(("text", "requests"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_rules_as_haproxy(text: str, requests: list[bytes]) -> None:
    theirs, mine = await both(text, requests)
    assert mine.responses == theirs.responses, _report(theirs.responses, mine.responses)
    assert mine.origins == theirs.origins, _report(theirs.origins, mine.origins)


def _tcp(*lines: str) -> str:
    """A ``mode tcp`` frontend with ``lines``; the requests are HTTP, relayed as bytes."""
    body = "".join(f"    {line}\n" for line in lines)
    return (
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        "frontend fe\n    bind 127.0.0.1:@fe\n" + body + "    default_backend b1\n"
        "backend b1\n    server s1 127.0.0.1:@s1\n"
        "backend b2\n    server s3 127.0.0.1:@s3\n"
    )


TCP_CASES: list[tuple[str, str, list[bytes]]] = [
    ("connection-reject", _tcp("tcp-request connection reject if { src 127.0.0.1 }"), [get("/")]),
    ("connection-accept", _tcp("tcp-request connection accept if { src 127.0.0.1 }"), [get("/")]),
    (
        "content-switching",
        _tcp(
            "tcp-request inspect-delay 2s",
            "tcp-request content accept if { req.len gt 0 }",
            "use_backend b2 if { req.payload(0,4) -m str POST }",
        ),
        [get("/"), get("/", "content-length: 0", method="POST"), get("/")],
    ),
    (
        "content-reject",
        _tcp(
            "tcp-request inspect-delay 2s",
            "tcp-request content reject if { req.payload(0,3) -m str PUT }",
            "tcp-request content accept if { req.len ge 3 }",
        ),
        [get("/", method="PUT"), get("/")],
    ),
    (
        "track-conn-rate",
        _tcp(
            "stick-table type ip size 10 store conn_cnt,conn_rate(10s)",
            "tcp-request connection track-sc0 src",
            "tcp-request connection reject if { sc_conn_rate(0) gt 2 }",
        ),
        [get("/"), get("/"), get("/"), get("/")],
    ),
]


@pytest.mark.parametrize(
    ("text", "requests"), [c[1:] for c in TCP_CASES], ids=[c[0] for c in TCP_CASES]
)
async def test_tcp_rules_as_haproxy(text: str, requests: list[bytes]) -> None:
    theirs, mine = await both(text, requests, one_connection=False)
    assert mine.responses == theirs.responses, _report(theirs.responses, mine.responses)
    assert mine.origins == theirs.origins, _report(theirs.origins, mine.origins)
