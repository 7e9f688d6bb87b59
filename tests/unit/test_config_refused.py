"""Every keyword herdsman does not act on is refused at start-up, by name, with the reason.

The cases are generated from the keyword tables themselves (proxy, global,
option, server, bind, sections), so a keyword added to a table as PLANNED or
UNSUPPORTED is tested at once and none can ever be accepted silently. Each
case records what haproxy 2.6.12 does with the same line (exit code 0 unless
listed in a ``*_REJECTED`` set, where haproxy refuses the line itself, for
reasons of its own); tests/integration/test_config_vs_haproxy.py checks those
exit codes on the binary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from configcase import (
    FATAL_PARSE,
    LISTEN,
    Case,
    check_herdsman,
    listen,
    params,
    refused,
)
from herdsman.config import known, kw_bind, kw_server, options, parser
from herdsman.config.keywords import Support

S = "server s1 127.0.0.1:80"
WHY_PLANNED = "planned: {feature}"
WHY_UNSUPPORTED = "not supported by herdsman"


def _text(kw: str, planned_for: str) -> str:
    if planned_for:
        return (
            f"'{kw}' is not implemented in herdsman yet ({planned_for}); remove it or use haproxy."
        )
    return f"'{kw}' is not supported by herdsman; remove it or use haproxy."


def _why(planned_for: str) -> str:
    return WHY_PLANNED.format(feature=planned_for) if planned_for else WHY_UNSUPPORTED


# -- proxy keywords -----------------------------------------------------------------

PROXY_ARGS = {
    "acl": "a src 1.2.3.4", "bind-process": "1", "capture": "request header Host len 10",
    "clitcpka-cnt": "3", "clitcpka-idle": "3", "clitcpka-intvl": "3", "srvtcpka-cnt": "3",
    "srvtcpka-idle": "3", "srvtcpka-intvl": "3", "compression": "algo gzip", "cookie": "SRV insert",
    "declare": "capture request len 10", "dispatch": "127.0.0.1:80", "dynamic-cookie-key": "x",
    "email-alert": "from a@b", "error-log-format": "%ci", "external-check": "command /bin/true", "filter": "trace",
    "force-persist": "if TRUE", "http-after-response": "set-header a b", "http-error": "status 503",
    "http-request": "deny", "http-response": "deny", "ignore-persist": "if TRUE",
    "load-server-state-from-file": "none", "log-format": "%ci", "log-format-sd": "x",
    "max-session-srv-conns": "1", "persist": "rdp-cookie",
    "redirect": "location /", "server-state-file-name": "x", "source": "0.0.0.0",
    "stats": "enable", "stick": "on src table L", "stick-table": "type ip size 1m",
    "tcp-request": "connection accept", "tcp-response": "content accept",
    "unique-id-format": "%ci", "unique-id-header": "X", "use-fcgi-app": "x",
    "use-server": "s1 if TRUE",
}  # fmt: skip
PROXY_REJECTED = {"stick", "use-fcgi-app"}  # no such section or table here

PROXY = [
    refused(
        f"proxy-{kw}",
        listen(f"{kw} {PROXY_ARGS.get(kw, '')}".strip(), S),
        "parsing [F:8] : " + _text(kw, planned),
        *FATAL_PARSE,
        why=_why(planned),
        rc=1 if kw in PROXY_REJECTED else 0,
    )
    for kw, (_, planned) in known.PROXY.items()
]

# -- global keywords ----------------------------------------------------------------

GLOBAL_ARGS = {
    "stats": "timeout 10s", "cpu-map": "1 0", "thread-group": "1 1", "thread-groups": "1",
    "close-spread-time": "1s", "unix-bind": "prefix /tmp",
    "default-path": "current", "ssl-server-verify": "none", "issuers-chain-path": "/tmp",
    "lua-load": "/dev/null", "lua-load-per-thread": "/dev/null", "profiling.tasks": "auto",
    "set-var": "proc.x int(1)", "set-var-fmt": "proc.x %[int(1)]",
    "httpclient.resolvers.prefer": "ipv4", "httpclient.ssl.verify": "none",
    "httpclient.ssl.ca-file": "/etc/ssl/certs/ca-certificates.crt",
    "ssl-default-bind-options": "no-sslv3", "ssl-default-server-options": "no-sslv3",
    "ssl-dh-param-file": "/dev/null", "ssl-load-extra-files": "none",
    "ssl-provider": "default", "server-state-base": "/tmp", "server-state-file": "/tmp/x",
    "mworker-max-reloads": "3", "fd-hard-limit": "1000",
    "localpeer": "x", "cluster-secret": "x",
    "ca-base": "/tmp", "crt-base": "/tmp", "lua-prepend-path": "/tmp/?.lua",
    "ssl-default-bind-ciphers": "HIGH", "ssl-default-bind-ciphersuites": "TLS_AES_128_GCM_SHA256",
    "ssl-default-bind-curves": "X25519", "ssl-default-server-ciphers": "HIGH",
    "ssl-default-server-ciphersuites": "TLS_AES_128_GCM_SHA256", "ssl-provider-path": "/tmp",
}  # fmt: skip
# haproxy refuses these lines too: thread groups left unassigned, no resolvers
# section, /dev/null holds no DH parameters, a property string is needed.
GLOBAL_REJECTED = {"thread-group", "httpclient.resolvers.id", "ssl-dh-param-file", "ssl-propquery"}
_FLAGS = {
    "external-check", "insecure-fork-wanted", "insecure-setuid-wanted", "strict-limits",
    "h1-accept-payload-with-any-method", "h2-workaround-bogus-websocket-clients",
    "set-dumpable", "nogetaddrinfo", "noreuseport", "numa-cpu-mapping", "ssl-load-extra-del-ext",
    "ssl-mode-async", "ssl-skip-self-issued-ca", "httpclient.resolvers.id", "ssl-propquery",
}  # fmt: skip


def _global_line(kw: str) -> str:
    arg = "" if kw in _FLAGS else GLOBAL_ARGS.get(kw, "1")
    return f"{kw} {arg}".strip()


GLOBAL = [
    refused(
        f"global-{kw}",
        f"global\n    {_global_line(kw)}\n" + LISTEN + f"    {S}\n",
        "parsing [F:2] : " + _text(kw, planned),
        *FATAL_PARSE,
        why=_why(planned),
        rc=1 if kw in GLOBAL_REJECTED else 0,
    )
    for kw, planned in known.GLOBAL.items()
]

# -- options --------------------------------------------------------------------------

OPTION_REJECTED = {"http-restrict-req-hdr-names", "external-check"}  # need args

OPTIONS = [
    refused(
        f"option-{name}",
        listen(f"option {name}", S),
        "parsing [F:8] : " + _text(f"option {name}", opt.planned_for),
        *FATAL_PARSE,
        why=_why(opt.planned_for),
        rc=1 if name in OPTION_REJECTED else 0,
    )
    for name, opt in options.all_options().items()
    if opt.support in (Support.PLANNED, Support.UNSUPPORTED)
]

# -- server keywords --------------------------------------------------------------------

SERVER_ARGS = {
    "agent-check": "port 81", "agent-inter": "1s", "agent-port": "81", "agent-addr": "127.0.0.1",
    "agent-send": "x", "slowstart": "1s", "maxconn": "10", "minconn": "1", "maxqueue": "10",
    "proto": "h2", "ws": "auto", "pool-max-conn": "10", "pool-purge-delay": "1s",
    "pool-low-conn": "1", "max-reuse": "1", "resolvers": "dns", "resolve-prefer": "ipv4",
    "resolve-opts": "allow-dup-ip", "resolve-net": "10.0.0.0/8", "source": "0.0.0.0",
    "tcp-ut": "1s", "proxy-v2-options": "ssl", "usesrc": "client", "socks4": "127.0.0.1:1080",
    "log-proto": "legacy", "check-proto": "h2", "check-sni": "x", "check-alpn": "h2",
    "sni": "str(x)", "alpn": "h2", "npn": "h2", "ca-file": "/etc/ssl/certs/ca-certificates.crt",
    "crl-file": "/dev/null", "crt": "/dev/null", "ciphers": "HIGH",
    "ciphersuites": "TLS_AES_128_GCM_SHA256", "verify": "none", "verifyhost": "x",
    "ssl-min-ver": "TLSv1.2", "ssl-max-ver": "TLSv1.3",
}  # fmt: skip
# a MUX for HTTP, no resolvers section, no 'source', no CA file given, not a CRL
SERVER_REJECTED = {"proto", "resolvers", "usesrc", "ssl", "check-ssl", "crl-file"}


def _server_line(kw: str) -> str:
    row = kw_server.KEYWORDS[kw]
    arg = SERVER_ARGS.get(kw, "") if row.nargs or kw in SERVER_ARGS else ""
    return f"{S} {kw} {arg}".strip()


SERVER = [
    refused(
        f"server-{kw}",
        listen(_server_line(kw)),
        "[F:8] : 'server L/s1' : " + _text(kw, row.planned_for),
        *FATAL_PARSE,
        why=_why(row.planned_for),
        rc=1 if kw in SERVER_REJECTED else 0,
    )
    for kw, row in kw_server.KEYWORDS.items()
    if row.support in (Support.PLANNED, Support.UNSUPPORTED)
]

# -- bind keywords ------------------------------------------------------------------------

BIND_ARGS = {
    "process": "1", "thread": "1", "shards": "1", "mss": "1400", "tcp-ut": "1s", "nice": "1",
    "proto": "h2", "level": "admin", "severity-output": "none", "expose-fd": "listeners",
    "crt": "/dev/null", "crt-list": "/dev/null", "ca-file": "/dev/null", "ca-ignore-err": "all",
    "ca-sign-file": "/dev/null", "ca-sign-pass": "x", "ca-verify-file": "/dev/null",
    "ciphers": "HIGH", "ciphersuites": "TLS_AES_128_GCM_SHA256", "crl-file": "/dev/null",
    "crt-ignore-err": "all", "curves": "X25519", "ecdhe": "prime256v1", "alpn": "h2", "npn": "h2",
    "verify": "none", "ssl-min-ver": "TLSv1.2", "ssl-max-ver": "TLSv1.3",
    "tls-ticket-keys": "/dev/null", "accept-netscaler-cip": "1234",
}  # fmt: skip
# an HTTP MUX, 'ssl' without a certificate, files that hold no certificate or key
BIND_REJECTED = {"proto", "ssl", "crt", "ca-file", "ca-verify-file", "crl-file", "tls-ticket-keys"}

BIND = [
    refused(
        f"bind-{kw}",
        listen(f"bind :18001 {kw} {BIND_ARGS.get(kw, '')}".strip(), S),
        "parsing [F:8] : 'bind :18001' in section 'listen' : " + _text(kw, row.planned_for),
        *FATAL_PARSE,
        why=_why(row.planned_for),
        rc=1 if kw in BIND_REJECTED else 0,
    )
    for kw, row in kw_bind.KEYWORDS.items()
    if row.support is not Support.IMPLEMENTED
]

# -- sections ---------------------------------------------------------------------------

SECTION_HEADERS = {
    "userlist": "userlist U\n    user u insecure-password p\n",
    "peers": "peers P\n    peer x 127.0.0.1:10000\n",
    "resolvers": "resolvers R\n    nameserver n 127.0.0.1:53\n",
    "mailers": "mailers M\n    mailer m 127.0.0.1:25\n",
    "program": "program P\n    command /bin/true\n",
    "ring": "ring R\n    size 32768\n",
    "cache": "cache C\n    total-max-size 4\n",
    "log-forward": "log-forward F\n    dgram-bind 127.0.0.1:10514\n    log stderr local0\n",
    "fcgi-app": "fcgi-app A\n    docroot /tmp\n",
    "namespace_list": "namespace_list\n",
}
SECTION_REJECTED = {"program"}  # 'program' needs master-worker mode

SECTIONS = [
    refused(
        f"section-{name}",
        LISTEN + f"    {S}\n" + SECTION_HEADERS[name],
        f"parsing [F:9] : section '{name}' ({what}) is not supported by herdsman; remove it or "
        "use haproxy.",
        *FATAL_PARSE,
        why=WHY_UNSUPPORTED,
        rc=1 if name in SECTION_REJECTED else 0,
    )
    for name, what in parser.OTHER_SECTIONS.items()
]

ALL: list[Case] = [*PROXY, *GLOBAL, *OPTIONS, *SERVER, *BIND, *SECTIONS]


def test_every_table_is_covered() -> None:
    """No PLANNED or UNSUPPORTED keyword escapes the generated cases."""
    ids = {c.id for c in ALL}
    assert {f"proxy-{kw}" for kw in known.PROXY} <= ids
    assert {f"global-{kw}" for kw in known.GLOBAL} <= ids
    assert {f"section-{name}" for name in parser.OTHER_SECTIONS} <= ids
    refused_rows = (Support.PLANNED, Support.UNSUPPORTED)
    for kw, row in kw_server.KEYWORDS.items():
        assert (row.support in refused_rows) == (f"server-{kw}" in ids)
    for kw, row in kw_bind.KEYWORDS.items():
        assert (row.support is Support.IMPLEMENTED) != (f"bind-{kw}" in ids)


@pytest.mark.parametrize("c", params(ALL))
def test_refused(c: Case, tmp_path: Path) -> None:
    """The keyword is refused with file:line, its name and why; nothing else is said."""
    check_herdsman(c, tmp_path)
