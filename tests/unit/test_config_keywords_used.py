"""Implemented, or refused, never ignored: every implemented keyword is read at run time.

For each keyword a table marks IMPLEMENTED (global, proxy, ``option``,
``server``, ``bind``, and the ``timeout``/``tcp-check``/``http-check``
sub-keywords) the test parses a small configuration with it and the same
configuration without it, and diffs the two models (``config/model.py``,
``defs/rules.py``) to find what the keyword sets: fields, ``options`` keys,
and the classes of the rules it adds. Each of those must be read somewhere in
``src/herdsman`` outside ``config/`` (and outside the ``testing`` helpers):

* a field ``name`` as ``.name`` (neither called nor assigned);
* an option as ``option("name")``/``options.get(NAME)``...: its name or the
  constant that holds it;
* a rule class by its name (``isinstance(rule, ExpectRule)``).

A read that only copies the value (``nolinger=cfg.option("nolinger")``,
``self.x = cfg.x``) counts when the copy itself is read, followed a few
steps. Keywords whose whole effect is at configuration time are in ``AT_PARSE``,
each with its reason. There is no "stored for later": a keyword is read at
run time, or it is refused (or noticed as without effect) at start-up.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import herdsman
import tlscerts
from herdsman.config import checks, kw_bind, kw_global, kw_proxy, kw_server, options
from herdsman.config.diag import Diagnostics
from herdsman.config.keywords import Support
from herdsman.config.model import Config
from herdsman.config.parser import parse_text

SRC = Path(herdsman.__file__).parent
# Model fields that only serve diagnostics, and what the parser keeps for its own
# later steps (the check rules as written, before finalize_checks() builds ``checks``).
IGNORED_FIELDS = {
    "keywords", "loc", "puid_loc", "default_backend_loc", "indexes",
    "tcpcheck_rules", "httpcheck_rules", "from_option", "error_rules",
    # the ACLs, names and conditions rules were compiled with (config/kw_rules.py)
    "acls", "refs", "conds",
}  # fmt: skip
# Model classes whose changes are reported field by field; any other value
# (an Address, a LogTarget, an enum...) is reported as the field holding it.
CONTAINERS = {
    "GlobalConfig", "ProxyConfig", "ServerConfig", "BindConfig", "Balance", "Timeouts",
    "HttpSettings", "TlsBind", "TlsServer", "TlsGlobal", "TlsOptions", "Methods",
    "Ruleset", "ConnectRule", "SendRule", "HttpSendRule", "ExpectRule", "CommentRule",
    "ActionRule", "Routing",
}  # fmt: skip


# -- the configurations ---------------------------------------------------------------


def cfg(
    global_: str = "", proxy: str = "", server: str = "", bind: str = "", after: str = ""
) -> str:
    """A frame where each part takes one keyword; ``proxy`` may hold several lines."""
    glob = "".join(f"    {line}\n" for line in global_.split("\n") if line)
    body = "".join(f"    {line}\n" for line in proxy.split("\n") if line)
    return (
        f"global\n{glob}defaults\n    mode tcp\n    timeout connect 1s\n"
        "    timeout client 1s\n    timeout server 1s\n"
        f"listen L\n    bind 127.0.0.1:18000 {bind}\n{body}"
        f"    server s1 127.0.0.1:80 {server}\n{after}"
        "backend B\n    server b1 127.0.0.1:81\n"
    )


def same(**parts: str) -> tuple[str, str]:
    """The keyword against the bare frame."""
    return cfg(**parts), cfg()


def over(base: dict[str, str], **parts: str) -> tuple[str, str]:
    """The keyword against a frame that already holds ``base`` (to undo it, refine it)."""
    merged = dict(base)
    for k, v in parts.items():
        merged[k] = f"{merged[k]}\n{v}" if k == "proxy" and k in merged else v
    return cfg(**merged), cfg(**base)


def pair(proxy: str, base: str) -> tuple[str, str]:
    """Two versions of checked proxy lines (a rule refined rather than added)."""
    return cfg(proxy=proxy, server="check"), cfg(proxy=base, server="check")


TCPCHK = {"proxy": "option tcp-check"}
HTTPCHK = {"proxy": "option httpchk"}
CHECKED = {"server": "check"}
HTTP_MODE = {"proxy": "mode http"}
ERRORS = {"proxy": "mode http", "after": "http-errors E\n    errorfile 503 /dev/null\n"}


def http(**parts: str) -> tuple[str, str]:
    """The keyword in an HTTP proxy, against the same proxy without it."""
    return over(HTTP_MODE, **parts)


EXAMPLES: dict[tuple[str, str], tuple[str, str]] = {
    ("global", "daemon"): same(global_="daemon"),
    ("global", "master-worker"): same(global_="master-worker"),
    ("global", "quiet"): same(global_="quiet"),
    ("global", "zero-warning"): same(global_="zero-warning"),
    ("global", "maxconn"): same(global_="maxconn 100"),
    ("global", "maxconnrate"): same(global_="maxconnrate 100"),
    ("global", "maxsessrate"): same(global_="maxsessrate 100"),
    ("global", "nbthread"): same(global_="nbthread 1"),
    ("global", "pidfile"): same(global_="pidfile /tmp/hm.pid"),
    ("global", "node"): same(global_="node n1"),
    ("global", "description"): same(global_="description d"),
    ("global", "spread-checks"): same(global_="spread-checks 5"),
    ("global", "max-spread-checks"): same(global_="max-spread-checks 1s"),
    ("global", "log"): same(global_="log 127.0.0.1:514 local0"),
    ("global", "log-tag"): same(global_="log-tag t"),
    ("global", "log-send-hostname"): same(global_="log-send-hostname h"),
    ("global", "chroot"): same(global_="chroot /tmp"),
    ("global", "uid"): same(global_="uid 1"),
    ("global", "gid"): same(global_="gid 1"),
    ("global", "user"): same(global_="user root"),
    ("global", "group"): same(global_="group root"),
    ("global", "ulimit-n"): same(global_="ulimit-n 1000"),
    ("global", "setenv"): same(global_="setenv A b"),
    ("global", "presetenv"): same(global_="presetenv A b"),
    ("global", "unsetenv"): same(global_="unsetenv A"),
    ("global", "resetenv"): same(global_="resetenv A"),
    ("global", "hard-stop-after"): same(global_="hard-stop-after 1s"),
    ("global", "grace"): same(global_="grace 1s"),
    ("global", "expose-experimental-directives"): same(global_="expose-experimental-directives"),
    ("global", "pp2-never-send-local"): same(global_="pp2-never-send-local"),
    ("global", "stats"): same(
        global_="stats socket /tmp/hm.sock level admin mode 600 expose-fd listeners\n"
        "stats timeout 1m\nstats maxconn 5"
    ),
    ("global", "server-state-base"): same(global_="server-state-base /tmp"),
    ("global", "server-state-file"): same(global_="server-state-file /tmp/hm.state"),
    ("global", "tune.rcvbuf.client"): same(global_="tune.rcvbuf.client 65536"),
    ("global", "tune.rcvbuf.server"): same(global_="tune.rcvbuf.server 65536"),
    ("global", "tune.sndbuf.client"): same(global_="tune.sndbuf.client 65536"),
    ("global", "tune.sndbuf.server"): same(global_="tune.sndbuf.server 65536"),
    ("global", "tune.bufsize"): same(global_="tune.bufsize 32768"),
    ("global", "tune.maxrewrite"): same(global_="tune.maxrewrite 2048"),
    ("global", "tune.http.maxhdr"): same(global_="tune.http.maxhdr 200"),
    ("global", "tune.http.logurilen"): same(global_="tune.http.logurilen 2048"),
    ("proxy", "mode"): same(proxy="mode http"),
    ("proxy", "id"): same(proxy="id 7"),
    ("proxy", "description"): same(proxy="description d"),
    ("proxy", "disabled"): same(proxy="disabled"),
    ("proxy", "load-server-state-from-file"): same(proxy="load-server-state-from-file local"),
    ("proxy", "server-state-file-name"): same(proxy="server-state-file-name f"),
    ("proxy", "enabled"): over({"proxy": "disabled"}, proxy="enabled"),
    ("proxy", "default_backend"): same(proxy="default_backend B"),
    ("proxy", "use_backend"): same(proxy="use_backend B"),
    ("proxy", "http-request"): http(proxy="http-request deny"),
    ("proxy", "http-response"): http(proxy="http-response deny"),
    ("proxy", "http-after-response"): http(proxy="http-after-response set-header X y"),
    ("proxy", "tcp-request"): same(proxy="tcp-request content reject"),
    ("proxy", "tcp-response"): same(proxy="tcp-response content reject"),
    ("proxy", "use-server"): same(proxy="use-server s1 if TRUE"),
    ("proxy", "force-persist"): same(proxy="force-persist if TRUE"),
    ("proxy", "ignore-persist"): same(proxy="ignore-persist if TRUE"),
    ("proxy", "redirect"): http(proxy="redirect location /"),
    ("proxy", "monitor"): http(proxy="monitor fail if TRUE"),
    ("proxy", "capture"): http(proxy="capture request header Host len 10"),
    ("proxy", "declare"): http(proxy="declare capture request len 10"),
    ("proxy", "cookie"): http(proxy="cookie SRV insert"),
    ("proxy", "stick-table"): same(proxy="stick-table type ip size 10"),
    ("proxy", "stick"): same(proxy="stick-table type ip size 10\nstick on src"),
    ("option", "persist"): same(proxy="option persist"),
    ("server", "cookie"): http(server="cookie A"),
    ("proxy", "retries"): same(proxy="retries 5"),
    ("proxy", "maxconn"): same(proxy="maxconn 50"),
    ("proxy", "backlog"): same(proxy="backlog 50"),
    ("proxy", "rate-limit"): same(proxy="rate-limit sessions 50"),
    ("proxy", "fullconn"): same(proxy="fullconn 50"),
    ("proxy", "balance"): same(proxy="balance leastconn"),
    ("proxy", "hash-type"): same(proxy="hash-type consistent"),
    ("proxy", "hash-balance-factor"): same(proxy="hash-balance-factor 150"),
    ("proxy", "log"): same(proxy="log 127.0.0.1:514 local0"),
    ("proxy", "log-tag"): same(proxy="log-tag t"),
    ("proxy", "http-reuse"): http(proxy="http-reuse always"),
    ("proxy", "monitor-uri"): http(proxy="monitor-uri /health"),
    ("proxy", "http-send-name-header"): http(proxy="http-send-name-header X-Server"),
    ("proxy", "max-keep-alive-queue"): http(proxy="max-keep-alive-queue 10"),
    ("proxy", "retry-on"): http(proxy="retry-on all-retryable-errors"),
    ("proxy", "errorfile"): http(proxy="errorfile 503 /dev/null"),
    ("proxy", "errorloc"): http(proxy="errorloc 503 /x"),
    ("proxy", "errorloc302"): http(proxy="errorloc302 503 /x"),
    ("proxy", "errorloc303"): http(proxy="errorloc303 503 /x"),
    ("proxy", "errorfiles"): over(ERRORS, proxy="errorfiles E"),
    ("proxy", "log-format"): same(proxy="log-format %ci"),
    ("proxy", "stats"): http(proxy="stats enable"),
    ("option", "tcplog"): same(proxy="option tcplog"),
    ("option", "httplog"): http(proxy="option httplog"),
    ("option", "dontlognull"): same(proxy="option dontlognull"),
    ("option", "dontlog-normal"): same(proxy="option dontlog-normal"),
    ("option", "log-separate-errors"): same(proxy="option log-separate-errors"),
    **{
        ("timeout", name): same(proxy=f"timeout {name} 5s")
        for name in (
            "client",
            "tarpit",
            "http-keep-alive",
            "http-request",
            "server",
            "connect",
            "check",
            "queue",
            "tunnel",
            "client-fin",
            "server-fin",
        )
    },
    ("option", "abortonclose"): same(proxy="option abortonclose"),
    ("option", "allbackups"): same(proxy="option allbackups"),
    ("option", "clitcpka"): same(proxy="option clitcpka"),
    ("option", "nolinger"): same(proxy="option nolinger"),
    ("option", "srvtcpka"): same(proxy="option srvtcpka"),
    ("option", "log-health-checks"): same(proxy="option log-health-checks"),
    ("option", "independent-streams"): same(proxy="option independent-streams"),
    ("option", "redispatch"): same(proxy="option redispatch"),
    ("option", "tcpka"): same(proxy="option tcpka"),
    **{
        ("option", name): http(proxy=f"option {name}")
        for name in (
            "http-buffer-request",
            "http-ignore-probes",
            "idle-close-on-response",
            "prefer-last-server",
            "accept-invalid-http-request",
            "accept-invalid-http-response",
            "http-pretend-keepalive",
            "httpclose",
            "http-server-close",
            "forwardfor",
            "originalto",
        )
    },
    ("option", "http-keep-alive"): over(
        {"proxy": "mode http\noption httpclose"}, proxy="option http-keep-alive"
    ),
    ("option", "http-restrict-req-hdr-names"): http(
        proxy="option http-restrict-req-hdr-names reject"
    ),
    ("option", "httpchk"): over(CHECKED, proxy="option httpchk"),
    ("option", "tcp-check"): over(CHECKED, proxy="option tcp-check"),
    ("option", "redis-check"): over(CHECKED, proxy="option redis-check"),
    ("option", "mysql-check"): over(CHECKED, proxy="option mysql-check user u"),
    ("option", "pgsql-check"): over(CHECKED, proxy="option pgsql-check user u"),
    ("option", "smtpchk"): over(CHECKED, proxy="option smtpchk"),
    ("option", "ldap-check"): over(CHECKED, proxy="option ldap-check"),
    ("option", "ssl-hello-chk"): over(CHECKED, proxy="option ssl-hello-chk"),
    ("option", "spop-check"): over(CHECKED, proxy="option spop-check"),
    ("tcp-check", "connect"): over({**TCPCHK, **CHECKED}, proxy="tcp-check connect port 81"),
    ("tcp-check", "connect options"): pair(
        "option tcp-check\ntcp-check connect send-proxy linger addr 127.0.0.2 port 81",
        "option tcp-check\ntcp-check connect",
    ),
    ("tcp-check", "send"): over({**TCPCHK, **CHECKED}, proxy="tcp-check send x"),
    ("tcp-check", "send-lf"): over({**TCPCHK, **CHECKED}, proxy="tcp-check send-lf x"),
    ("tcp-check", "send-binary"): over({**TCPCHK, **CHECKED}, proxy="tcp-check send-binary 41"),
    ("tcp-check", "send-binary-lf"): over(
        {**TCPCHK, **CHECKED}, proxy="tcp-check send-binary-lf 41"
    ),
    ("tcp-check", "expect"): over({**TCPCHK, **CHECKED}, proxy="tcp-check expect string x"),
    ("tcp-check", "expect options"): pair(
        "option tcp-check\ntcp-check expect min-recv 2 ok-status L7OKC error-status L7RSP "
        "tout-status L7TOUT on-success ok on-error ko ! rstring y",
        "option tcp-check\ntcp-check expect string x",
    ),
    ("tcp-check", "comment"): pair(
        "option tcp-check\ntcp-check comment c\ntcp-check connect",
        "option tcp-check\ntcp-check connect",
    ),
    ("http-check", "connect"): over({**HTTPCHK, **CHECKED}, proxy="http-check connect port 81"),
    ("http-check", "send"): over(
        {**HTTPCHK, **CHECKED}, proxy="http-check send meth POST uri /x ver HTTP/1.0 hdr X y body b"
    ),
    ("http-check", "expect"): over({**HTTPCHK, **CHECKED}, proxy="http-check expect status 200"),
    ("http-check", "comment"): pair(
        "option httpchk\nhttp-check comment c\nhttp-check connect",
        "option httpchk\nhttp-check connect",
    ),
    ("http-check", "disable-on-404"): over(
        {**HTTPCHK, **CHECKED}, proxy="http-check disable-on-404"
    ),
    ("http-check", "send-state"): over({**HTTPCHK, **CHECKED}, proxy="http-check send-state"),
    ("server", "backup"): same(server="backup"),
    ("server", "no-backup"): over({"proxy": "default-server backup"}, server="no-backup"),
    ("server", "disabled"): same(server="disabled"),
    ("server", "enabled"): over({"proxy": "default-server disabled"}, server="enabled"),
    ("server", "weight"): same(server="weight 5"),
    ("server", "maxconn"): same(server="maxconn 10"),
    ("server", "minconn"): same(server="minconn 2 maxconn 10"),
    ("server", "maxqueue"): same(server="maxqueue 5"),
    ("server", "id"): same(server="id 7"),
    ("server", "init-addr"): same(server="init-addr none"),
    ("server", "namespace"): same(server="namespace *"),
    ("server", "check"): same(server="check"),
    ("server", "no-check"): over({"proxy": "default-server check"}, server="no-check"),
    ("server", "inter"): same(server="check inter 5s"),
    ("server", "fastinter"): same(server="check fastinter 5s"),
    ("server", "downinter"): same(server="check downinter 5s"),
    ("server", "rise"): same(server="check rise 5"),
    ("server", "fall"): same(server="check fall 5"),
    ("server", "port"): same(server="check port 81"),
    ("server", "addr"): same(server="check addr 127.0.0.2"),
    ("server", "check-send-proxy"): same(server="check check-send-proxy"),
    ("server", "no-check-send-proxy"): over(
        {"proxy": "default-server check-send-proxy"}, server="no-check-send-proxy"
    ),
    ("server", "track"): over({"proxy": "server t 127.0.0.1:82 check"}, server="track t"),
    ("server", "observe"): same(server="observe layer4"),
    ("server", "error-limit"): same(server="error-limit 5"),
    ("server", "on-error"): same(server="on-error mark-down"),
    ("server", "on-marked-down"): same(server="on-marked-down shutdown-sessions"),
    ("server", "on-marked-up"): same(server="on-marked-up shutdown-backup-sessions"),
    ("server", "send-proxy"): same(server="send-proxy"),
    ("server", "send-proxy-v2"): same(server="send-proxy-v2"),
    ("server", "no-send-proxy"): over(
        {"proxy": "default-server send-proxy"}, server="no-send-proxy"
    ),
    ("server", "no-send-proxy-v2"): over(
        {"proxy": "default-server send-proxy-v2"}, server="no-send-proxy-v2"
    ),
    ("server", "tfo"): same(server="tfo"),
    ("server", "slowstart"): same(server="slowstart 10s"),
    ("global", "insecure-fork-wanted"): same(global_="insecure-fork-wanted"),
    ("proxy", "external-check"): over(
        {
            "global_": "external-check",
            "proxy": "option external-check\nexternal-check command /bin/false",
        },
        proxy="external-check command /bin/true\nexternal-check path /bin",
    ),
    ("option", "external-check"): over(
        {"global_": "external-check", "proxy": "external-check command /bin/true"},
        proxy="option external-check",
    ),
    ("server", "agent-check"): over(
        {"server": "agent-port 81"}, server="agent-port 81 agent-check"
    ),
    ("server", "no-agent-check"): over(
        {"proxy": "default-server agent-check agent-port 81"}, server="no-agent-check"
    ),
    ("server", "agent-inter"): same(server="agent-inter 5s"),
    ("server", "agent-port"): same(server="agent-port 81"),
    ("server", "agent-addr"): same(server="agent-addr 127.0.0.2"),
    ("server", "agent-send"): same(server="agent-send hello"),
    ("server", "redir"): http(server="redir http://example.com"),
    ("server", "pool-max-conn"): http(server="pool-max-conn 10"),
    ("server", "pool-purge-delay"): http(server="pool-purge-delay 1s"),
    ("server", "pool-low-conn"): http(server="pool-low-conn 2"),
    ("server", "no-tfo"): over({"proxy": "default-server tfo"}, server="no-tfo"),
    ("bind", "name"): same(bind="name b1"),
    ("bind", "maxconn"): same(bind="maxconn 10"),
    ("bind", "backlog"): same(bind="backlog 10"),
    ("bind", "v4v6"): same(bind="v4v6"),
    ("bind", "v6only"): same(bind="v6only"),
    ("bind", "transparent"): same(bind="transparent"),
    ("bind", "interface"): same(bind="interface lo"),
    ("bind", "namespace"): same(bind="namespace hm-test"),  # see netns()
    ("bind", "defer-accept"): same(bind="defer-accept"),
    ("bind", "tfo"): same(bind="tfo"),
    ("bind", "accept-proxy"): same(bind="accept-proxy"),
    ("bind", "mode"): same(bind="mode 600"),
    ("bind", "uid"): same(bind="uid 1"),
    ("bind", "gid"): same(bind="gid 1"),
    ("bind", "user"): same(bind="user root"),
    ("bind", "group"): same(bind="group root"),
}

# TLS: bind lines with a certificate, servers with "ssl verify none"
A, B, CA = tlscerts.path("a.pem"), tlscerts.path("b.pem"), tlscerts.path("ca.pem")
TLS_BIND = {"bind": f"ssl crt {A}"}
TLS_SRV = {"server": "ssl verify none"}
for _kw, _extra in (
    ("crt", f"crt {B}"), ("crt-list", f"crt-list {tlscerts.path('list.lst')}"),
    ("ca-file", f"ca-file {CA}"), ("verify", f"verify optional ca-file {CA}"),
    ("crl-file", f"ca-file {CA} verify optional crl-file {CA}"), ("alpn", "alpn h2"),
    ("ciphers", "ciphers AES"), ("ciphersuites", "ciphersuites TLS_AES_128_GCM_SHA256"),
    ("curves", "curves X25519"), ("ssl-min-ver", "ssl-min-ver TLSv1.3"),
    ("ssl-max-ver", "ssl-max-ver TLSv1.3"), ("strict-sni", "strict-sni"),
    ("prefer-client-ciphers", "prefer-client-ciphers"), ("no-tls-tickets", "no-tls-tickets"),
    ("no-ca-names", "no-ca-names"),
    *((f"{p}-{v}", f"{p}-{v}") for p in ("no", "force")
      for v in ("sslv3", "tlsv10", "tlsv11", "tlsv12", "tlsv13")),
):  # fmt: skip
    EXAMPLES["bind", _kw] = over(TLS_BIND, bind=f"ssl crt {A} {_extra}")
EXAMPLES["bind", "ssl"] = over({"bind": f"crt {A}"}, bind=f"ssl crt {A}")
# OpenSSL 3 has no SSLv3: alone it would disable every version
EXAMPLES["bind", "force-sslv3"] = over(
    TLS_BIND, bind=f"ssl crt {A} force-sslv3 ssl-max-ver TLSv1.2"
)
for _kw, _line, _base in (
    ("ssl", "ssl verify none", "verify none"),
    ("check-ssl", "check-ssl verify none", "verify none"),
    ("ca-file", f"ssl ca-file {CA}", "ssl verify none"),
    ("crl-file", f"ssl ca-file {CA} crl-file {CA}", f"ssl ca-file {CA}"),
    ("verify", f"ssl verify required ca-file {CA}", f"ssl ca-file {CA}"),
    ("crt", f"ssl verify none crt {tlscerts.path('client.pem')}", "ssl verify none"),
    ("sni", "ssl verify none sni str(x.test)", "ssl verify none"),
    ("alpn", "ssl verify none alpn h2", "ssl verify none"),
    ("check-sni", "ssl verify none check-sni x.test", "ssl verify none"),
    ("check-alpn", "ssl verify none check-alpn h2", "ssl verify none"),
    ("verifyhost", "ssl verify none verifyhost x.test", "ssl verify none"),
    ("ciphers", "ssl verify none ciphers AES", "ssl verify none"),
    ("ciphersuites", "ssl verify none ciphersuites TLS_AES_128_GCM_SHA256", "ssl verify none"),
    ("ssl-min-ver", "ssl verify none ssl-min-ver TLSv1.3", "ssl verify none"),
    ("ssl-max-ver", "ssl verify none ssl-max-ver TLSv1.3", "ssl verify none"),
    ("no-ssl-reuse", "ssl verify none no-ssl-reuse", "ssl verify none"),
    ("no-tls-tickets", "ssl verify none no-tls-tickets", "ssl verify none"),
    *((f"{p}-{v}", f"ssl verify none {p}-{v}", "ssl verify none") for p in ("no", "force")
      for v in ("sslv3", "tlsv10", "tlsv11", "tlsv12", "tlsv13")),
):  # fmt: skip
    EXAMPLES["server", _kw] = (cfg(server=_line), cfg(server=_base))
for _kw, _default in (
    ("no-ssl", "ssl verify none"), ("no-check-ssl", "check-ssl verify none"),
    ("ssl-reuse", "ssl verify none no-ssl-reuse"), ("tls-tickets", "ssl verify none no-tls-tickets"),
):  # fmt: skip
    EXAMPLES["server", _kw] = over({"proxy": f"default-server {_default}"}, server=_kw)
for _kw, _value in (
    ("ssl-default-bind-options", "no-tls-tickets prefer-client-ciphers ssl-min-ver TLSv1.3"),
    ("ssl-default-bind-ciphers", "AES"),
    ("ssl-default-bind-ciphersuites", "TLS_AES_128_GCM_SHA256"),
    ("ssl-default-bind-curves", "X25519"),
):
    EXAMPLES["global", _kw] = over(TLS_BIND, global_=f"{_kw} {_value}")
for _kw, _value in (
    ("ssl-default-server-options", "no-tls-tickets ssl-min-ver TLSv1.3"),
    ("ssl-default-server-ciphers", "AES"),
    ("ssl-default-server-ciphersuites", "TLS_AES_128_GCM_SHA256"),
):
    EXAMPLES["global", _kw] = over(TLS_SRV, global_=f"{_kw} {_value}")
EXAMPLES["global", "ssl-server-verify"] = same(global_="ssl-server-verify none")
EXAMPLES["global", "ssl-dh-param-file"] = same(
    global_=f"ssl-dh-param-file {tlscerts.path('dh.pem')}"
)
EXAMPLES["global", "tune.ssl.cachesize"] = same(global_="tune.ssl.cachesize 100")
EXAMPLES["global", "tune.ssl.lifetime"] = same(global_="tune.ssl.lifetime 10s")
EXAMPLES["global", "tune.ssl.default-dh-param"] = same(global_="tune.ssl.default-dh-param 2048")

# Whole effect at configuration time: nothing to read at run time.
AT_PARSE = {
    ("global", "tune.http.cookielen"): "cuts the capture cookie lengths at validation",
    ("global", "nbthread"): "only 1 is accepted, which is the default",
    ("global", "nbproc"): "always an error since HAProxy 2.5",
    ("global", "description"): "free text for the stats page (runtime API not implemented)",
    ("global", "setenv"): "changes the environment the lines after it see",
    ("global", "presetenv"): "changes the environment the lines after it see",
    ("global", "unsetenv"): "changes the environment the lines after it see",
    ("global", "resetenv"): "changes the environment the lines after it see",
    ("global", "expose-experimental-directives"): "allows the experimental keywords after it",
    (
        "global",
        "external-check",
    ): "required by 'option external-check' when the configuration is checked",
    ("proxy", "monitor-net"): "always an error since HAProxy 2.1 (HAProxy's message)",
    ("proxy", "clitimeout"): "always an error since HAProxy 2.1 (HAProxy's message)",
    ("proxy", "srvtimeout"): "always an error since HAProxy 2.1 (HAProxy's message)",
    ("proxy", "contimeout"): "always an error since HAProxy 2.1 (HAProxy's message)",
    ("proxy", "description"): "free text for the stats page (runtime API not implemented)",
    ("proxy", "acl"): "compiled into the conditions of the rules that name it",
    ("proxy", "dynamic-cookie-key"): "the servers' cookies are computed from it at start-up",
    ("server", "init-addr"): "resolved while the configuration is checked (config/resolve.py)",
    ("bind", "id"): "a listener number for the stats page (not implemented); checked unique",
    ("global", "ca-base"): "completes the CA and CRL file paths of the lines after it",
    ("global", "crt-base"): "completes the certificate paths of the lines after it",
    ("bind", "no-ca-names"): "herdsman never sends CA names (Python's ssl has no client CA "
    "list), which is what it asks for",
}

# What a keyword also sets for a feature still to come.
TARPIT = "timeout tarpit falls back to it (cfgparse.c), HTTP mode reads tarpit"
UNREAD_OK = {
    ("proxy", "mode"): {"reuse_mode": "HTTP mode reads it (a TCP proxy with servers never reuses)"},
    ("timeout", "connect"): {"tarpit": TARPIT},
    # a disabled proxy is not validated: no tarpit fallback, no forced reuse
    ("proxy", "disabled"): {"tarpit": TARPIT, "reuse_mode": "HTTP mode reads it"},
    ("proxy", "enabled"): {"tarpit": TARPIT, "reuse_mode": "HTTP mode reads it"},
    **{
        ("option" if name != "log-format" else "proxy", name): {
            "log_format": "compiled into log_nodes once the proxy is checked (config/kw_logs.py)",
            "log_format_kw": "names the format in the 'overrides' and fallback warnings",
            "log_format_loc": "where the format's errors and warnings point",
        }
        for name in ("tcplog", "httplog", "log-format")
    },
    ("global", "stats"): {
        "cli_frontend": "the internal GLOBAL frontend shifts the proxy ids (config/validate.py)"
    },
    # the global TLS defaults are copied into each ssl bind line or server while parsing
    ("global", "ssl-default-bind-options"): {
        "bind_no_tls_tickets": "copied into ssl bind lines",
        "bind_prefer_client_ciphers": "copied into ssl bind lines",
    },
    ("global", "ssl-default-server-options"): {"server_no_tls_tickets": "copied into servers"},
    ("global", "ssl-dh-param-file"): {"dh_param_file": "its DH parameters (dh_pem) are read"},
}


def implemented() -> list[tuple[str, str]]:
    """Every (family, name) the tables mark IMPLEMENTED, sub-keywords expanded."""
    out: list[tuple[str, str]] = []
    out += [
        ("global", k) for k, v in kw_global.TABLE.rows.items() if v.support is Support.IMPLEMENTED
    ]
    expanded = {"option", "timeout", "tcp-check", "http-check"}
    out += [
        ("proxy", k)
        for k, v in kw_proxy.TABLE.rows.items()
        if v.support is Support.IMPLEMENTED and k not in expanded
    ]
    out += [
        ("option", k) for k, v in options.all_options().items() if v.support is Support.IMPLEMENTED
    ]
    out += [(f, n) for (f, n) in EXAMPLES if f in ("timeout", "tcp-check", "http-check")]
    out += [
        ("server", k) for k, v in kw_server.KEYWORDS.items() if v.support is Support.IMPLEMENTED
    ]
    out += [("bind", k) for k, v in kw_bind.KEYWORDS.items() if v.support is Support.IMPLEMENTED]
    return out


# -- what a keyword sets ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def netns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A network namespace named ``hm-test`` exists, for ``bind ... namespace``."""
    exists = os.path.exists
    monkeypatch.setattr(os.path, "exists", lambda p: p == "/var/run/netns/hm-test" or exists(p))


def _parse(text: str) -> Config:
    diag = Diagnostics()
    config = parse_text(text, diag, "F.cfg", env={})
    assert config is not None, diag.texts()
    return config


def _changes(a: object, b: object, name: str) -> Iterator[str]:
    """What differs between two model values: field names, ``option:<name>``,
    ``class:<Name>`` for the check rules one side lacks."""
    if a == b:
        return
    if type(a) is not type(b) or type(a).__name__ not in CONTAINERS | {"list", "dict"}:
        yield name
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) == len(b):
            for x, y in zip(a, b, strict=True):
                yield from _changes(x, y, name)
        else:
            yield name
            for extra in a[len(b) :] or b[len(a) :]:
                if type(extra).__module__ == "herdsman.defs.rules":
                    yield f"class:{type(extra).__name__}"
    elif isinstance(a, dict) and isinstance(b, dict):
        changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        if name == "options":
            yield from (f"option:{k}" for k in changed)
        else:
            yield from (f"{name}[{k}]" for k in changed)
    else:
        for f in dataclasses.fields(a):  # type: ignore[arg-type]
            if f.name not in IGNORED_FIELDS:
                yield from _changes(getattr(a, f.name), getattr(b, f.name), f.name)


def sets(family: str, name: str) -> set[str]:
    """What the keyword sets; an ``options`` key only counts when it is all there is
    (``option redispatch`` also sets ``redispatch``, which is what is read)."""
    with_kw, without = (_parse(text) for text in EXAMPLES[family, name])
    found = set(_changes(with_kw.global_, without.global_, "global_"))
    found |= set(_changes(with_kw.proxies, without.proxies, "proxies"))
    fields = {item for item in found if not item.startswith("option:")}
    return fields or found


# -- what is read at run time --------------------------------------------------------------


@cache
def runtime_lines() -> tuple[str, ...]:
    """The source lines of everything but the configuration parser and the test helpers."""
    out: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        top = path.relative_to(SRC).parts[0]
        if top not in ("config", "testing"):
            out += path.read_text(encoding="utf-8").splitlines()
    return tuple(out)


# What comes right before a read when it is only copied: ``obj.name = `` into
# an attribute, or ``name=`` as a keyword argument (ruff's formatting tells the
# two apart from a local ``name = ``, which is a read: ruff refuses unused locals).
_ATTR_COPY = re.compile(r"\.(\w+)\s*(?::[^=]*)?\s=\s*[\w.]*$")
_KWARG_COPY = re.compile(r"(?:^|[\s(,])(\w+)=[\w.]*$")


def _attr(name: str) -> str:
    """``.name`` neither called nor assigned."""
    return rf"\.{name}\b(?!\s*(\(|=[^=]))"


def is_read(pattern: str, depth: int = 3) -> bool:
    """Whether ``pattern`` occurs as a read; a copy counts if the copy is read."""
    regex = re.compile(pattern)
    for line in runtime_lines():
        for m in regex.finditer(line):
            before = line[: m.start()]
            if copy := _ATTR_COPY.search(before):
                if depth and is_read(_attr(copy.group(1)), depth - 1):
                    return True
            elif copy := _KWARG_COPY.search(before):
                # a field of the object built, or a parameter used by its bare name
                kw = copy.group(1)
                bare = rf"(?<![.\w\"']){kw}\b(?![\"'])(?!\s*(=[^=]|:))"
                if depth and (is_read(_attr(kw), depth - 1) or is_read(bare, depth - 1)):
                    return True
            else:
                return True
    return False


@cache
def _constants() -> dict[str, list[str]]:
    """String constants of the configuration modules the run time imports (DISABLE_404)."""
    out: dict[str, list[str]] = {}
    for name, value in vars(checks).items():
        if name.isupper() and isinstance(value, str):
            out.setdefault(value, []).append(name)
    return out


def is_used(item: str) -> bool:
    if item.startswith("class:"):
        return is_read(rf"\b{item[6:]}\b")
    if item.startswith("option:"):
        # cfg.option("name"), cfg.options.get(NAME), cfg.options["name"]...
        keys = [re.escape(f'"{item[7:]}"'), *(rf"\b{c}\b" for c in _constants().get(item[7:], []))]
        return any(
            is_read(rf"\.option\(\s*{k}\s*\)") or is_read(rf"\.options(?:\.get\(|\[)\s*{k}")
            for k in keys
        )
    if m := re.fullmatch(r"(\w+)\[(.+)\]", item):
        # one key, or the whole dict walked (the errorfiles: ``errors.items()``)
        field, key = m.groups()
        return is_read(rf"\.{field}(?:\.get\(|\[)\s*[\"']{re.escape(key)}[\"']") or is_read(
            rf"\.{field}\.(?:items|values)\(\)"
        )
    return is_read(_attr(item))


def unread(family: str, name: str) -> set[str]:
    ok = UNREAD_OK.get((family, name), {})
    return {item for item in sets(family, name) if item not in ok and not is_used(item)}


# -- the tests --------------------------------------------------------------------------------

CHECKED_KEYWORDS = [k for k in implemented() if k not in AT_PARSE]


def test_every_implemented_keyword_has_an_example() -> None:
    """A new IMPLEMENTED keyword needs an example here (or an AT_PARSE reason)."""
    missing = [k for k in implemented() if k not in EXAMPLES and k not in AT_PARSE]
    assert not missing, f"add an example configuration for {missing}"
    listed = set(EXAMPLES) | set(AT_PARSE) | set(UNREAD_OK)
    assert not listed - set(implemented()), "stale entries"
    assert all(AT_PARSE.values()), "every exception says why"


@pytest.mark.parametrize(
    ("family", "name"),
    CHECKED_KEYWORDS,
    ids=[" ".join(k) for k in CHECKED_KEYWORDS],
)
def test_keyword_is_read_at_run_time(family: str, name: str) -> None:
    """What the keyword sets in the model is read outside the configuration parser."""
    found = sets(family, name)
    assert found, f"'{name}' changes nothing in the model: give it an AT_PARSE reason"
    assert not unread(family, name), f"nothing outside config/ reads {unread(family, name)}"
