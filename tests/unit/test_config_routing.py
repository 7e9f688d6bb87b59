"""The routing keywords as ``-c`` reports them: ``acl``, the http and tcp rules,
``use_backend``/``use-server``/``force-persist``/``ignore-persist``, ``redirect``,
``monitor fail``, captures, ``cookie``, ``stick-table``/``stick``, track-sc,
``userlist`` sections, rules in named defaults sections, and the post-parse
checks (argument resolution, misplaced rules, condition conflicts).

Texts were captured from the 2.6.12 binary; tests/integration/test_config_vs_haproxy.py
runs every case through it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from configcase import Case, case, check_herdsman, params, refused

D = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"


def L(*lines: str) -> str:
    """HTTP defaults, then ``listen L`` with ``lines`` from line 8 and a server."""
    body = "".join(f"    {line}\n" for line in lines)
    return D + f"listen L\n    bind 127.0.0.1:18000\n{body}    server s1 127.0.0.1:80\n"


def F(*lines: str) -> str:
    """A frontend F with ``lines`` from line 8, using backend B."""
    body = "".join(f"    {line}\n" for line in lines)
    return (
        D
        + f"frontend F\n    bind 127.0.0.1:18000\n{body}    default_backend B\n"
        + "backend B\n    server s1 127.0.0.1:80\n"
    )


# fmt: off
ALL: list[Case] = [
    case('acl-ok', L("acl a path /x", "http-request deny if a")),
    case('lf-expr-ok', L("log 127.0.0.1:514 local0", 'log-format "%[src] %{+Q}[var(txn.x)] %[sc_http_req_rate(0)]"')),
    case('lf-expr-req-hdr', L("log 127.0.0.1:514 local0", 'log-format "%[path]"'), "Parsing [F:9]: failed to parse log-format : sample fetch <path]> may not be reliably used here because it needs 'HTTP request headers' which is not available here.", 'Fatal errors found in configuration.'),
    case('lf-expr-unknown', L("log 127.0.0.1:514 local0", 'log-format "%[nosuch]"'), "Parsing [F:9]: failed to parse log-format : failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'.", 'Fatal errors found in configuration.'),
    case('lf-expr-conv', L("log 127.0.0.1:514 local0", 'log-format "%[src,nosuch]"'), "Parsing [F:9]: failed to parse log-format : failed to parse sample expression <src,nosuch]> : unknown converter 'nosuch'.", 'Fatal errors found in configuration.'),
    case('lf-expr-table', L("log 127.0.0.1:514 local0", 'log-format "%[sc_http_req_rate(0,nosuch)]"'), "parsing [F:9]: unable to find table 'nosuch' referenced in arg 2 of sample fetch keyword 'sc_http_req_rate' in log-format string in proxy 'L'.", 'Fatal errors found in configuration.'),
    case('lf-expr-open', L("log 127.0.0.1:514 local0", 'log-format "%[src"'), "Parsing [F:9]: failed to parse log-format : missing ']' after 'src'.", 'Fatal errors found in configuration.'),
    case('acl-bad-char', L("acl a* path /x"), "parsing [F:8] : character '*' is not permitted in acl name 'a*'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('acl-or', L("acl or path /x"), "parsing [F:8] : acl name 'or' will never match. 'or' is used to express a logical disjunction within a condition.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('acl-no-pattern', L("acl a path"), "WARNING: parsing acl keyword 'path' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use '-m bool'.\n"),
    case('acl-unknown-fetch', L("acl a nosuch /x"), "parsing [F:8] : error detected while parsing ACL 'a' : unknown fetch method 'nosuch' in ACL expression 'nosuch'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('acl-anon-defaults', D.replace("mode http", "mode http\n    acl a path /x") + "listen L\n    bind :18000\n    server s1 127.0.0.1:80\n", "parsing [F:3] : 'acl' not allowed in anonymous 'defaults' section.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('hr-unknown', L("http-request foo"), "parsing [F:8]: 'http-request' expects 'wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset', but got 'foo'.", 'Error(s) found in configuration file : F'),
    case('hr-deny-status', L("http-request deny deny_status 429 if { path /x }")),
    case('hr-deny-bad', L("http-request deny deny_status"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request deny' rule : 'status' expects <status_code> as argument.", 'Error(s) found in configuration file : F'),
    case('hr-set-header', L("http-request set-header X-A %[src]")),
    case('hr-set-header-noargs', L("http-request set-header"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request set-header' rule : expects exactly 2 arguments.", 'Error(s) found in configuration file : F'),
    case('hr-final-warn', L("http-request deny", "http-request allow"), "WARNING: parsing [F:9]: previous 'http-request' action is final and has no condition attached, further entries are NOOP."),
    case('hr-cond-bad', L("http-request deny if nosuchacl"), "parsing [F:8] : error detected while parsing an 'http-request deny' condition : no such ACL : 'nosuchacl'.", 'Error(s) found in configuration file : F'),
    case('hr-trailing', L("http-request deny foo"), "parsing [F:8]: 'http-request deny' expects either 'if' or 'unless' followed by a condition but found 'foo'.", 'Error(s) found in configuration file : F'),
    case('hres-status', L("http-response set-status 503 reason Down")),
    case('hres-req-fetch', L("http-response deny if { path /x }"), "WARNING: parsing [F:8] : anonymous acl will never match because it uses keyword 'path' which is incompatible with 'backend http-response header rule'"),
    case('after-ok', L("http-after-response set-header X-B b")),
    case('redirect-ok', L("redirect prefix /x code 301 if { path /y }")),
    case('redirect-bad', L("redirect foo"), "parsing [F:8] : error detected in proxy 'L' while parsing redirect rule : expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'foo').", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('redirect-after-usebackend', F("use_backend B if { path /a }", "redirect location /x"), "WARNING: parsing [F:9] : a 'redirect' rule placed after a 'use_backend' rule will still be processed before."),
    case('hr-after-redirect', L("redirect location /x", "http-request deny"), "WARNING: parsing [F:9] : a 'http-request' rule placed after a 'redirect' rule will still be processed before."),
    case('use-backend-cond', F("use_backend B if { path_beg /a }")),
    case('use-backend-bad', F("use_backend B foo"), "parsing [F:8] : unexpected keyword 'foo' after switching rule, only 'if' and 'unless' are allowed.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('use-backend-missing', F("use_backend NOPE if TRUE"), "Proxy 'F': unable to find required use_backend: 'NOPE'.", 'Fatal errors found in configuration.'),
    case('use-backend-loop', L("use_backend L if TRUE"), "Proxy 'L': loop detected for use_backend: 'L'.", 'Fatal errors found in configuration.'),
    case('use-server', L("use-server s1 if { path /a }")),
    case('use-server-missing', L("use-server s9 if { path /a }"), "proxy 'L' : unable to find server 's9' referenced in a 'use-server' rule.", 'Fatal errors found in configuration.'),
    case('use-server-nocond', L("use-server s1"), "parsing [F:8] : 'use-server' requires either 'if' or 'unless' followed by a condition.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('force-persist', L("force-persist if { path /a }")),
    case('ignore-persist-bad', L("ignore-persist"), "parsing [F:8] : 'ignore-persist' requires either 'if' or 'unless' followed by a condition.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('monitor-fail', L("monitor-uri /m", "monitor fail if { nbsrv(L) lt 1 }")),
    case('tcp-content', L("tcp-request content reject if { src 10.0.0.1 }")),
    case('tcp-conn', L("tcp-request connection accept if { src 10.0.0.0/8 }")),
    case('tcp-inspect', L("tcp-request inspect-delay 5s")),
    case('tcp-inspect-twice', L("tcp-request inspect-delay 5s", "tcp-request inspect-delay 1s"), "WARNING: parsing [F:9] : ignoring tcp-request inspect-delay (was already defined) in proxy 'L'"),
    case('tcp-inspect-bad', L("tcp-request inspect-delay 5x"), "parsing [F:8] : 'tcp-request inspect-delay' expects a positive delay in milliseconds, in proxy 'L' (unexpected character 'x')", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('tcp-bad', L("tcp-request foo"), "parsing [F:8] : 'tcp-request' expects 'inspect-delay', 'connection', or 'content' in proxy 'L' (got 'foo')", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('tcp-bad-action', L("tcp-request content foo"), "parsing [F:8] : 'tcp-request content' expects 'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset' in proxy 'L' (got 'foo').\n", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('tcp-after-hr', L("http-request deny if { path /x }", "tcp-request content accept"), "WARNING: parsing [F:9] : a 'tcp-request' rule placed after an 'http-request' rule will still be processed before."),
    case('tcp-conn-after-content', L("tcp-request content accept", "tcp-request connection accept"), "WARNING: parsing [F:9] : a 'tcp-request' rule placed after a 'tcp-request content' rule will still be processed before."),
    case('tcp-resp', L("tcp-response content accept")),
    case('cookie-insert', L("cookie SRV insert indirect nocache")),
    case('cookie-bad', L("cookie SRV foo"), "parsing [F:8] : 'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('cookie-rw-ind', L("cookie SRV rewrite indirect"), "parsing [F:8] : cookie 'rewrite' and 'indirect' modes are incompatible.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('cookie-preserve', L("cookie SRV preserve"), "parsing [F:8] : cookie 'preserve' requires at least 'insert' or 'indirect'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('cookie-domain', L("cookie SRV insert domain nodot"), "WARNING: parsing [F:8]: domain 'nodot' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3)."),
    case('cookie-domain-bad', L("cookie SRV insert domain a*b.c"), "parsing [F:8]: character '*' is not permitted in domain name 'a*b.c'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('cookie-maxidle-bad', L("cookie SRV insert maxidle 5x"), "parsing [F:8]: unexpected character 'x' in argument to <maxidle>.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('cookie-noname', L("cookie"), "parsing [F:8] : 'cookie' expects <cookie_name> as argument.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table', L("stick-table type ip size 1m expire 30s store http_req_rate(10s),conn_cur")),
    case('stick-table-bad-store', L("stick-table type ip size 1m store foo"), "parsing [F:8] : stick-table: unknown store option 'foo'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table-no-size', L("stick-table type ip"), 'parsing [F:8] : stick-table: missing size.', 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table-no-type', L("stick-table size 10"), 'parsing [F:8] : stick-table: missing type.', 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table-bad-type', L("stick-table type foo size 10"), "parsing [F:8] : stick-table: unknown type 'foo'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-on', L("stick-table type ip size 10", "stick on src")),
    case('stick-bad', L("stick foo src"), "parsing [F:8] : 'stick' expects 'on', 'match', or 'store'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-no-table', L("stick on src"), "Proxy 'L': unable to find stick-table 'L'.", 'Fatal errors found in configuration.'),
    case('stick-resp-bad', L("stick-table type ip size 10", "stick store-response src")),
    case('track', L("stick-table type ip size 10 store http_req_rate(10s)", "http-request track-sc0 src", "http-request deny deny_status 429 if { sc_http_req_rate(0) gt 10 }")),
    case('track-no-table', L("http-request track-sc0 src"), "Proxy 'L': unable to find table 'L' referenced by track-sc0.", 'Fatal errors found in configuration.'),
    case('resolve-be', L("http-request deny if { be_conn(nosuch) gt 1 }"), "parsing [F:8]: unable to find backend 'nosuch' referenced in arg 1 of ACL keyword 'be_conn' in proxy 'L'.", 'Fatal errors found in configuration.'),
    case('resolve-multi', L("http-request deny if { be_conn(nosuch) gt 1 }", "http-request deny if { sc_http_req_rate(0,nosuch2) gt 1 }"), "multiple argument resolution errors:\n        parsing [F.cfg:8]: unable to find backend 'nosuch' referenced in arg 1 of ACL keyword 'be_conn' in proxy 'L'.\n        parsing [F.cfg:9]: unable to find table 'nosuch2' referenced in arg 2 of ACL keyword 'sc_http_req_rate' in proxy 'L'.", 'Fatal errors found in configuration.'),
    case('capture', L("capture request header Host len 20", "capture response header Server len 10")),
    case('capture-bad', L("capture foo"), "parsing [F:8] : 'capture' expects 'cookie' or 'request header' or 'response header'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('declare', L("declare capture request len 10", "http-request capture req.hdr(host) id 0")),
    case('declare-bad', L("declare capture foo"), "parsing [F:8] : 'declare capture' requires a direction ('request' or 'response')", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('hr-capture-len', L("http-request capture req.hdr(host) len 10")),
    case('return', L("http-request return status 200 content-type text/plain string ok if { path /x }")),
    case('auth', D + "userlist U\n    user a insecure-password b\nlisten L\n    bind :18000\n    http-request auth realm R if !{ http_auth(U) }\n    server s1 127.0.0.1:80\n"),
    case('auth-nolist', L("http-request auth if !{ http_auth(U) }"), "parsing [F:8]: unable to find userlist 'U' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'L'.", 'Fatal errors found in configuration.'),
    case('userlist-group-missing', D + "userlist U\n    user a insecure-password b groups g\nlisten L\n    bind :18000\n    server s1 127.0.0.1:80\n", "userlist 'U': no such group 'g' specified in user 'a'", 'Fatal errors found in configuration.'),
    case('auth-group', D + "userlist U\n    group g users a\n    user a insecure-password b\nlisten L\n    bind :18000\n    acl ok http_auth_group(U) g h\n    http-request auth if !ok\n    server s1 127.0.0.1:80\n", "proxy L: acl ok http_auth_group(): invalid group 'h'.", 'Fatal errors found in configuration.'),
    case('set-var', L("http-request set-var(txn.x) path", "http-response set-header X %[var(txn.x)]")),
    case('defaults-rules', D.replace("defaults", "defaults D") + "frontend F from D\n    bind :18000\n    default_backend B\nbackend B from D\n    server s1 127.0.0.1:80\n"),
    case('defaults-rules2', D.replace("defaults", "defaults D").replace("mode http", "mode http\n    http-request deny if { path /x }") + "frontend F from D\n    bind :18000\n    default_backend B\nbackend B from D\n    server s1 127.0.0.1:80\n", 'parsing [F:10]: frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at F:1).', 'Error(s) found in configuration file : F'),
    case('defaults-rules-listen', D.replace("defaults", "defaults D").replace("mode http", "mode http\n    http-request deny if { path /x }") + "listen L from D\n    bind :18000\n    server s1 127.0.0.1:80\n", 'parsing [F:7]: a listen section cannot inherit from a defaults section defining TCP/HTTP rules.', 'Error(s) found in configuration file : F'),
    case('l6-in-http', L("use-server s1 if { req.len gt 0 }"), "WARNING: Proxy 'L': L6 sample fetches ignored on HTTP proxies (declared at F:8)."),
    case('acl-anon-no-pattern', L("http-request deny if { path }"), "WARNING: parsing acl keyword 'path' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use '-m bool'.\n"),
    case('acl-paren', L("acl a path (x)"), "WARNING: parsing acl 'a' :\n  matching 'path' for pattern '(x)' is likely a mistake and probably\n  not what you want. Maybe you need to remove the extraneous space before '('.\n  If you are really sure this is not an error, please insert '--' between the\n  match and the pattern to make this warning message disappear."),
    case('acl-later-extends', L("acl a path /x", "http-request deny if a", "acl a path /y")),
    case('hr-unknown-suggest', L("http-request set-heder X y"), "parsing [F:8]: 'http-request' expects 'wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset', but got 'set-heder'. Did you mean 'set-header' maybe ?", 'Error(s) found in configuration file : F'),
    case('hr-redirect-bad', L("http-request redirect foo /x"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request redirect' rule : expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'foo').", 'Error(s) found in configuration file : F'),
    case('hr-return-bad', L("http-request return status 200 string x"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request return' rule : a content type must be defined when non-empty payload is configured.", 'Error(s) found in configuration file : F'),
    case('hr-return-204', L("http-request return status 204 content-type text/plain string x"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request return' rule : No body expected for 204 responses.", 'Error(s) found in configuration file : F'),
    case('hr-set-var-bad', L("http-request set-var(foo.x) path"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request set-var(foo.x)' rule : invalid variable name 'foo.x'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'.", 'Error(s) found in configuration file : F'),
    case('hr-lf-bad', L("http-request set-header X %[nosuch]"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request set-header' rule : failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'.", 'Error(s) found in configuration file : F'),
    case('hr-lf-resp', L("http-request set-header X %[res.hdr(x)]"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request set-header' rule : sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here.", 'Error(s) found in configuration file : F'),
    case('hr-tarpit', L("http-request tarpit deny_status 503")),
    case('hr-sc-inc', L("stick-table type ip size 10 store gpc0", "http-request track-sc1 src", "http-request sc-inc-gpc0(1)")),
    case('hr-replace', L("http-request replace-header Host (.*) \\1", "http-request replace-value X ([a-z]+) \\1", "http-request replace-path /a(.*) /b\\1")),
    case('hr-bad-regex', L("http-request replace-path /a(.* /b"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request replace-path' rule : failed to parse the regex : regex '/a(.*' is invalid (error=missing closing parenthesis, erroffset=5).", 'Error(s) found in configuration file : F'),
    case('hr-set-src', L("http-request set-src hdr(x-forwarded-for)")),
    case('hr-set-log-level', L("http-request set-log-level foo"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request set-log-level' rule : expects exactly 1 argument (log level name or 'silent').", 'Error(s) found in configuration file : F'),
    case('hr-del-header', L("http-request del-header X-A -m beg")),
    case('hr-auth-bad', L("http-request auth realm"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request auth' rule : missing realm value.\n.", 'Error(s) found in configuration file : F'),
    case('hres-deny', L("http-response deny deny_status 500 if { status 404 }")),
    case('hres-redirect', L("http-response redirect location /x if { status 404 }")),
    case('tcp-track', L("stick-table type ip size 10 store conn_rate(10s)", "tcp-request connection track-sc0 src", "tcp-request connection reject if { sc_conn_rate(0) gt 5 }")),
    case('tcp-content-track-nodelay', F("stick-table type ip size 10 store conn_rate(10s)", "tcp-request content track-sc0 req.hdr(host)"), "WARNING: frontend 'F' : a 'tcp-request content track-sc*' rule explicitly depending on request contents without any 'tcp-request inspect-delay' setting. This means that this rule will randomly find its contents. This can be fixed by setting the tcp-request inspect-delay."),
    case('tcp-expect', L("tcp-request connection expect-proxy layer4 if { src 127.0.0.1 }")),
    case('tcp-expect-mode', L("tcp-request connection expect-proxy layer7"), "parsing [F:8] : 'tcp-request connection expect-proxy' only supports 'layer4' in proxy 'L' (got 'layer7')", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('tcp-expect-content', L("tcp-request content expect-proxy layer4"), "parsing [F:8] : 'expect-proxy layer4' is not allowed in 'tcp-request content' rules in proxy 'L'", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('tcp-session-in-backend', D + "backend B\n    tcp-request session accept\n    server s1 127.0.0.1:80\n", 'parsing [F:7] : tcp-request session is not allowed because backend B is not a frontend', 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('tcp-resp-in-frontend', D + "frontend F\n    bind :18000\n    tcp-response content accept\n", "parsing [F:8] : tcp-response content is only allowed in 'backend' sections or 'defaults' section with a name", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('tcp-content-http-fetch', L("tcp-request content reject if { path /x }")),
    case('tcp-conn-http-fetch', L("tcp-request connection reject if { path /x }"), "WARNING: parsing [F:8] : anonymous acl will never match in 'tcp-request connection' because it uses keyword 'path' which is incompatible with 'frontend tcp-request connection rule'"),
    case('switch-fetch-warn', F("use_backend B if { res.hdr(x) -m found }"), "WARNING: parsing [F:8] : anonymous acl will never match because it uses keyword 'res.hdr' which is incompatible with 'frontend use-backend rule'"),
    case('use-backend-lf', F("use_backend %[req.hdr(host)]")),
    case('use-backend-in-backend', D + "backend B\n    use_backend B if TRUE\n    server s1 127.0.0.1:80\n", "WARNING: parsing [F:7] : 'use_backend' ignored because backend 'B' has no frontend capability.", "Proxy 'B': loop detected for use_backend: 'B'.", 'Fatal errors found in configuration.'),
    case('cookie-all', L("cookie SRV insert indirect nocache postonly preserve httponly secure domain .a.com domain .b.com maxidle 30m maxlife 8h attr SameSite=Lax")),
    case('cookie-prefix-insert', L("cookie SRV prefix insert"), "parsing [F:8] : cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('cookie-attr-bad', L("cookie SRV insert attr a;b"), "parsing [F:8]: character '%x3B' is not permitted in attribute value.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('cookie-in-frontend', D + "frontend F\n    bind :18000\n    cookie X insert\n", "WARNING: parsing [F:8] : 'cookie' ignored because frontend 'F' has no backend capability."),
    case('cookie-dynamic', L("cookie SRV insert dynamic", "dynamic-cookie-key abc")),
    case('dynamic-key-missing', L("dynamic-cookie-key"), "parsing [F:8] : 'dynamic-cookie-key' expects <secret_key> as argument.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table-expire-bad', L("stick-table type ip size 10 expire 5x"), "parsing [F:8] : stick-table: unexpected character 'x' in argument of 'expire'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table-size-bad', L("stick-table type ip size 10x"), "parsing [F:8] : stick-table: unexpected character 'x' in argument of 'size'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table-len', L("stick-table type string len 64 size 10")),
    case('stick-table-store-missing-arg', L("stick-table type ip size 10 store conn_rate"), "parsing [F:8] : stick-table: missing argument to store option 'conn_rate'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table-store-extra-arg', L("stick-table type ip size 10 store conn_cnt(1s)"), "parsing [F:8] : stick-table: unexpected argument to store option 'conn_cnt'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table-store-twice', L("stick-table type ip size 10 store conn_cnt,conn_cnt"), "WARNING: parsing [F:8]: stick-table: store option 'conn_cnt' already enabled, ignored."),
    case('stick-table-unknown-arg', L("stick-table type ip size 10 foo"), "parsing [F:8] : stick-table: unknown argument 'foo'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-table-defaults', D.replace("mode http", "mode http\n    stick-table type ip size 10") + "listen L\n    bind :18000\n    server s1 127.0.0.1:80\n", "parsing [F:3] : 'stick-table' is not supported in 'defaults' section.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-match-table', L("stick match src table T") + "backend T\n    stick-table type ip size 10\n"),
    case('stick-store-resp', L("stick-table type string size 10", "stick store-response res.hdr(x)")),
    case('stick-bad-type', L("stick-table type integer size 10", "stick on req.hdr(x)")),
    case('stick-cond-bad', L("stick-table type ip size 10", "stick on src if nosuch"), "parsing [F:9] : 'stick': error detected while parsing sticking condition : no such ACL : 'nosuch'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('stick-trailing', L("stick-table type ip size 10", "stick on src foo"), "parsing [F:9] : 'stick': unknown keyword 'foo'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('capture-cookie', L("capture cookie X len 10")),
    case('capture-cookie-no-len-word', L("capture cookie X x 10")),
    case('capture-cookie-missing-len', L("capture cookie X len"), "parsing [F:8] : 'capture' expects 'cookie' <cookie_name> 'len' <len>.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('capture-cookie-one-more', L("capture cookie X len 10 y")),
    case('capture-cookie-extra', L("capture cookie X len 10 y z"), "parsing [F:8] : 'capture cookie' cannot handle unexpected argument 'z'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('capture-cookie-too-long', L("capture cookie X len 64"), "WARNING: truncating capture length to 63 bytes for proxy 'L'."),
    case('capture-defaults', D.replace("mode http", "mode http\n    capture request header Host len 10") + "listen L\n    bind :18000\n    server s1 127.0.0.1:80\n", "parsing [F:3] : 'capture request' not allowed in 'defaults' section.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('capture-len-missing', L("capture request header Host"), "parsing [F:8] : 'capture request' expects 'header' <header_name> 'len' <len>.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('declare-len', L("declare capture request len x"), "parsing [F:8] : 'declare capture': cannot parse the length 'len'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('declare-defaults', D.replace("mode http", "mode http\n    declare capture request len 10") + "listen L\n    bind :18000\n    server s1 127.0.0.1:80\n", "parsing [F:3] : 'declare' not available in default section", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('userlist-dup', D + "userlist U\nuserlist U\nlisten L\n    bind :18000\n    server s1 127.0.0.1:80\n", "WARNING: parsing [F:7]: ignoring duplicated userlist 'U'."),
    case('userlist-bad-opt', D + "userlist U\n    user a foo b\nlisten L\n    bind :18000\n    server s1 127.0.0.1:80\n", "parsing [F:7]: 'user' only supports 'password', 'insecure-password' and 'groups' options.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('userlist-crypt', D + "userlist U\n    user a password $5$abc$sCOGUciM.GdmYMCUvmUcgu03oRH87O0clF96.9mwWGB\nlisten L\n    bind :18000\n    server s1 127.0.0.1:80\n"),
    case('userlist-group-bad', D + "userlist U\n    group g foo x\nlisten L\n    bind :18000\n    server s1 127.0.0.1:80\n", "parsing [F:7]: 'group' only supports 'users' option.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('userlist-user-missing', D + "userlist U\n    group g users zz\nlisten L\n    bind :18000\n    server s1 127.0.0.1:80\n", "userlist 'U': no such user 'zz' specified in group 'g'", 'Fatal errors found in configuration.'),
    case('auth-group-invalid', D + "userlist U\n    user a insecure-password b\nlisten L\n    bind :18000\n    acl ok http_auth_group(U) g\n    http-request auth if !ok\n    server s1 127.0.0.1:80\n", "proxy L: acl ok http_auth_group(): invalid group 'g'.", 'Fatal errors found in configuration.'),
    case('monitor-fail-bad', L("monitor-uri /m", "monitor fail if nosuch"), "parsing [F:9] : error detected while parsing a 'monitor fail' condition : no such ACL : 'nosuch'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('monitor-after-hr', L("http-request deny if { path /z }", "monitor fail if FALSE"), "WARNING: parsing [F:9] : a 'monitor fail' rule placed after an 'http-request' rule will still be processed before."),
    case('force-persist-bad-cond', L("force-persist if nosuch"), "parsing [F:8] : error detected while parsing a 'force-persist' rule : no such ACL : 'nosuch'.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('persist-in-frontend', F("force-persist if TRUE"), "WARNING: parsing [F:8] : 'force-persist' ignored because frontend 'F' has no backend capability."),
    refused('peers-table', L("stick-table type ip size 10 peers P"), "parsing [F:8] : stick-table: 'peers' is not supported by herdsman (peers sections); remove it or use haproxy.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.', why='peers sections', rc=1),
    case('tcp-inspect-anon-defaults', D.replace("mode http", "mode http\n    tcp-request inspect-delay 1s") + "listen L\n    bind :18000\n    server s1 127.0.0.1:80\n", "parsing [F:3] : tcp-request inspect-delay is not allowed in anonymous 'defaults' sections", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('def-rules-mixed', D.replace("defaults", "defaults D").replace("mode http", "mode http\n    http-request deny if { path /x }") + "frontend F from D\n    bind :18000\n    default_backend B\nbackend B from D\n    server s1 127.0.0.1:80\n", 'parsing [F:10]: frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at F:1).', 'Error(s) found in configuration file : F'),
    case('tcp-content-track-src', F("stick-table type ip size 10 store conn_rate(10s)", "tcp-request content track-sc0 src"), "WARNING: frontend 'F' : a 'tcp-request content track-sc*' rule not depending on request contents for an HTTP frontend should be executed at the session level, using a 'tcp-request session' rule (mandatory to track invalid HTTP requests)."),
    case('tcp-resp-delay-frontend', D + "frontend F\n    bind :18000\n    tcp-response inspect-delay 1s\n", "parsing [F:8] : tcp-response inspect-delay is only allowed in 'backend' sections or 'defaults' section with a name", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('tcp-resp-noarg', D + "backend B\n    tcp-response\n", "parsing [F:7] : missing argument for 'tcp-response' in backend 'B'", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('use-service-ok', F("http-request use-service prometheus-exporter if { path /metrics }")),
    case('use-service-not-final', L("http-request use-service prometheus-exporter", "http-request deny")),
    case('use-service-backend', F().replace("backend B\n", "backend B\n    http-request use-service prometheus-exporter\n")),
    case('use-service-unknown', L("http-request use-service foo"), "parsing [F:8] : error detected in proxy 'L' while parsing 'http-request use-service' rule : 'foo' unknown service name..", 'Error(s) found in configuration file : F'),
    case('use-service-missing', F("http-request use-service"), "parsing [F:8] : error detected in frontend 'F' while parsing 'http-request use-service' rule : 'use-service' expects a service name..", 'Error(s) found in configuration file : F'),
    case('use-service-extra', L("http-request use-service prometheus-exporter extra"), "parsing [F:8]: 'http-request use-service' expects either 'if' or 'unless' followed by a condition but found 'extra'.", 'Error(s) found in configuration file : F'),
    case('use-service-tcp', L("tcp-request content use-service prometheus-exporter"), "parsing [F:8] : Prometheus exporter service only available on 'http-request' rulesets", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('use-service-tcp-unknown', L("tcp-request content use-service foo"), "parsing [F:8] : 'content' unknown service name.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
    case('use-service-tcp-missing', L("tcp-request content use-service"), "parsing [F:8] : 'tcp-request' expects a service name.", 'Error(s) found in configuration file : F', 'Fatal errors found in configuration.'),
]
# fmt: on


@pytest.mark.parametrize("c", params(ALL))
def test_routing_keywords(c: Case, tmp_path: Path) -> None:
    check_herdsman(c, tmp_path)
