"""What HAProxy 2.6.12 (Debian's build) knows that herdsman does not act on.

Three kinds of data, all checked against the reference binary:

* keywords herdsman refuses by name: PLANNED (a later herdsman feature
  implements it; the text names it) or UNSUPPORTED (the tuning keywords,
  ``tune.*`` and the like, are all accepted: see ``kw_tune.py``). They come from the
  keyword matrix of HAProxy's manual (section 4.1), ``cfgparse-global.c`` and
  ``haproxy -dKall``; a keyword this build does not know (``ssl-engine``,
  ``51degrees-data-file``, ...) is not here, so it stays an unknown keyword;
* directives HAProxy itself rejects with a dedicated text (``reqadd``,
  ``grace`` in a proxy, ``tune.chksize``...), reproduced as they are;
* the candidate lists of the "did you mean" suggestions, in HAProxy's order:
  the registered keywords of a section in link order (``cfg_keywords``), then
  the section's ``common_kw_list``. The order matters when two candidates
  are equally close: the first one wins.
"""

from __future__ import annotations

from herdsman.config.keywords import Keyword, Support

HTTP = "HTTP mode"
LOGS = "traffic log extras"
API = "runtime API and stats"
LIMITS = "connection limits and queues"
MULTI = "multi-core"
PROTO = "protocol checks"
EXTCHECK = "external checks"

_ALL = ("defaults", "frontend", "listen", "backend")
_FE = ("defaults", "frontend", "listen")
_BE = ("defaults", "listen", "backend")

# name -> (sections, planned_for or "" for unsupported)
PROXY: dict[str, tuple[tuple[str, ...], str]] = {
    "bind-process": (_ALL, ""),
    "clitcpka-cnt": (_FE, "TCP keep-alive tuning"),
    "clitcpka-idle": (_FE, "TCP keep-alive tuning"),
    "clitcpka-intvl": (_FE, "TCP keep-alive tuning"),
    "srvtcpka-cnt": (_BE, "TCP keep-alive tuning"),
    "srvtcpka-idle": (_BE, "TCP keep-alive tuning"),
    "srvtcpka-intvl": (_BE, "TCP keep-alive tuning"),
    "compression": (_ALL, ""),
    "dispatch": (("listen", "backend"), ""),
    "email-alert": (_ALL, ""),
    "error-log-format": (_FE, LOGS),
    "external-check": (_BE, EXTCHECK),
    "filter": (_ALL, ""),
    "http-error": (_ALL, HTTP),
    "log-format-sd": (_FE, LOGS),
    "max-session-srv-conns": (_FE, HTTP),
    "persist": (_BE, ""),
    "source": (_BE, "source address selection"),
    "transparent": (_BE, ""),
    "unique-id-format": (_FE, HTTP),
    "unique-id-header": (_FE, HTTP),
    "use-fcgi-app": (("listen", "backend"), ""),
}

# Proxy directives that 2.6 refuses with a text of its own ("%s" is the keyword),
# after "parsing [file:line] : " (or "parsing [file:line]: " for those in
# REMOVED_PROXY_TIGHT).
_GONE_21 = "The '%s' directive is not supported anymore since HAProxy 2.1."
REMOVED_PROXY: dict[str, str] = {
    "appsession": "'%s' is not supported anymore since HAProxy 1.6.",
    "block": "The '%s' directive is not supported anymore since HAProxy 2.1. Use 'http-request "
    "deny' which uses the exact same syntax.",
    "redispatch": "keyword '%s' directive is not supported anymore since HAProxy 2.1. Use "
    "'option redispatch'.",
    "redisp": "keyword '%s' directive is not supported anymore since HAProxy 2.1. Use "
    "'option redispatch'.",
    "usesrc": "'%s' only allowed after a 'source' statement.",
    "grace": "the '%s' keyword is not supported any more since HAProxy version 2.5.",
    "reqpass": "The '%s' not supported anymore since HAProxy 2.1.",
    "reqdeny": "The '%s' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.",
    "reqipass": _GONE_21,
}
for _kw in ("cliexp", "reqrep"):
    REMOVED_PROXY[_kw] = (
        _GONE_21 + " Use 'http-request replace-path', 'http-request replace-uri' or "
        "'http-request replace-header' instead."
    )
for _kw, _use in (
    ("reqdel", "http-request del-header"),
    ("reqallow", "http-request allow"),
    ("reqtarpit", "http-request tarpit"),
    ("reqirep", "http-request replace-header"),
    ("reqidel", "http-request del-header"),
    ("reqideny", "http-request deny"),
    ("reqiallow", "http-request allow"),
    ("reqitarpit", "http-request tarpit"),
    ("reqadd", "http-request add-header"),
    ("srvexp", "http-response replace-header"),
    ("rsprep", "http-response replace-header"),
    ("rspdeny", "http-response deny"),
    ("rspirep", "http-response replace-header"),
    ("rspidel", "http-response del-header"),
    ("rspideny", "http-response deny"),
    ("rspadd", "http-response add-header"),
):
    REMOVED_PROXY[_kw] = _GONE_21 + f" Use '{_use}' instead."
REMOVED_PROXY["rspdel"] = _GONE_21 + " Use 'http-response del-header' ."  # sic

REMOVED_PROXY_TIGHT = frozenset({"grace"})

_G = ("global",)
GLOBAL: dict[str, str] = {
    "cpu-map": MULTI,
    "numa-cpu-mapping": MULTI,
    "thread-group": MULTI,
    "thread-groups": MULTI,
    "external-check": EXTCHECK,
    "insecure-fork-wanted": EXTCHECK,
    "insecure-setuid-wanted": "",
    "mworker-max-reloads": "hitless reload",
    "close-spread-time": "hitless reload",
    "fd-hard-limit": LIMITS,
    "strict-limits": LIMITS,
    "unix-bind": "UNIX socket listener defaults",
    "h1-accept-payload-with-any-method": HTTP,
    "h2-workaround-bogus-websocket-clients": HTTP,
    "default-path": "relative paths",
}
for _name in (
    "localpeer", "set-dumpable", "nogetaddrinfo", "noreuseport", "cluster-secret",
    "issuers-chain-path", "lua-load", "lua-load-per-thread", "lua-prepend-path",
    "profiling.tasks", "set-var", "set-var-fmt", "httpclient.resolvers.id",
    "httpclient.resolvers.prefer", "httpclient.ssl.ca-file", "httpclient.ssl.verify",
    "ssl-load-extra-del-ext", "ssl-load-extra-files", "ssl-mode-async", "ssl-propquery",
    "ssl-provider", "ssl-provider-path", "ssl-skip-self-issued-ca",
):  # fmt: skip
    GLOBAL[_name] = ""

REMOVED_GLOBAL = {
    "tune.chksize": "option '%s' is not supported any more (tune.bufsize is used instead).",
}

# -- "did you mean" candidates, in HAProxy's order ------------------------------------

# Registered CFG_GLOBAL keywords in link order (OPTIONS_OBJS, then OBJS), then
# cfgparse-global.c common_kw_list.
GLOBAL_CANDIDATES: tuple[str, ...] = (
    "ca-base", "crt-base", "issuers-chain-path", "maxsslconn", "ssl-default-bind-options",
    "ssl-default-server-options", "ssl-dh-param-file", "ssl-mode-async", "ssl-propquery",
    "ssl-provider", "ssl-provider-path", "ssl-skip-self-issued-ca", "tune.ssl.cachesize",
    "tune.ssl.default-dh-param", "tune.ssl.force-private-cache", "tune.ssl.lifetime",
    "tune.ssl.maxrecord", "tune.ssl.hard-maxrecord", "tune.ssl.ssl-ctx-cache-size",
    "tune.ssl.capture-cipherlist-size", "tune.ssl.capture-buffer-size", "tune.ssl.keylog",
    "ssl-default-bind-ciphers", "ssl-default-server-ciphers", "ssl-default-bind-curves",
    "ssl-default-bind-ciphersuites", "ssl-default-server-ciphersuites", "ssl-load-extra-files",
    "ssl-load-extra-del-ext", "lua-prepend-path", "lua-load", "lua-load-per-thread",
    "tune.lua.session-timeout", "tune.lua.task-timeout", "tune.lua.service-timeout",
    "tune.lua.forced-yield", "tune.lua.maxmem", "tune.h2.header-table-size",
    "tune.h2.initial-window-size", "tune.h2.max-concurrent-streams", "tune.h2.max-frame-size",
    "h1-accept-payload-with-any-method", "h1-case-adjust", "h1-case-adjust-file",
    "tune.idle-pool.shared", "tune.pool-high-fd-ratio", "tune.pool-low-fd-ratio",
    "default-path", "tune.peers.max-updates-at-once", "stats", "pp2-never-send-local", "grace",
    "hard-stop-after", "close-spread-time", "httpclient.resolvers.id",
    "httpclient.resolvers.prefer", "httpclient.ssl.verify", "httpclient.ssl.ca-file",
    "tune.listener.multi-queue", "set-var", "set-var-fmt", "tune.vars.global-max-size",
    "tune.vars.proc-max-size", "tune.vars.sess-max-size", "tune.vars.txn-max-size",
    "tune.vars.reqres-max-size", "tune.vars.check-max-size", "tune.sched.low-latency",
    "tune.fail-alloc", "no-memory-trimming", "mworker-max-reloads", "tune.fd.edge-triggered",
    "profiling.tasks", "nbthread", "thread-group", "thread-groups",
    # common_kw_list
    "global", "daemon", "master-worker", "noepoll", "nokqueue", "noevports", "nopoll",
    "busy-polling", "set-dumpable", "insecure-fork-wanted", "insecure-setuid-wanted",
    "nosplice", "nogetaddrinfo", "noreuseport", "quiet", "zero-warning", "tune.runqueue-depth",
    "tune.maxpollevents", "tune.maxaccept", "tune.recv_enough", "tune.buffers.limit",
    "tune.buffers.reserve", "tune.bufsize", "tune.maxrewrite", "tune.idletimer",
    "tune.rcvbuf.client", "tune.rcvbuf.server", "tune.sndbuf.client", "tune.sndbuf.server",
    "tune.pipesize", "tune.http.cookielen", "tune.http.logurilen", "tune.http.maxhdr",
    "tune.comp.maxlevel", "tune.pattern.cache-size", "uid", "gid", "external-check", "user",
    "group", "nbproc", "maxconn", "ssl-server-verify", "maxconnrate", "maxsessrate",
    "maxsslrate", "maxcomprate", "maxpipes", "maxzlibmem", "maxcompcpuusage", "ulimit-n",
    "chroot", "description", "node", "pidfile", "unix-bind", "log", "log-send-hostname",
    "server-state-base", "server-state-file", "log-tag", "spread-checks", "max-spread-checks",
    "cpu-map", "setenv", "presetenv", "unsetenv", "resetenv", "strict-limits", "localpeer",
    "numa-cpu-mapping", "defaults", "listen", "frontend", "backend", "peers", "resolvers",
    "cluster-secret",
)  # fmt: skip

# Registered CFG_LISTEN keywords in link order, then cfgparse-listen.c common_kw_list.
LISTEN_CANDIDATES: tuple[str, ...] = (
    "http-check", "tcp-check", "timeout", "clitimeout", "contimeout", "srvtimeout",
    "rate-limit", "max-keep-alive-queue", "declare", "retry-on", "clitcpka-cnt",
    "srvtcpka-cnt", "clitcpka-idle", "srvtcpka-idle", "clitcpka-intvl", "srvtcpka-intvl",
    "errorloc", "errorloc302", "errorloc303", "errorfile", "errorfiles", "http-error",
    "tcp-request", "tcp-response", "filter", "use-fcgi-app", "compression", "external-check",
    # common_kw_list
    "listen", "frontend", "backend", "defaults", "server", "default-server", "server-template",
    "bind", "monitor-net", "monitor-uri", "mode", "id", "description", "disabled", "enabled",
    "bind-process", "acl", "dynamic-cookie-key", "cookie", "email-alert", "persist",
    "appsession", "load-server-state-from-file", "server-state-file-name",
    "max-session-srv-conns", "capture", "retries", "http-request", "http-response",
    "http-after-response", "http-send-name-header", "block", "redirect", "use_backend",
    "use-server", "force-persist", "ignore-persist", "force-persist", "stick-table", "stick",
    "stats", "option", "default_backend", "http-reuse", "monitor", "transparent", "maxconn",
    "backlog", "fullconn", "dispatch", "balance", "hash-type", "hash-balance-factor",
    "unique-id-format", "unique-id-header", "log-format", "log-format-sd", "log-tag", "log",
    "source", "usesrc", "error-log-format",
)  # fmt: skip

# proxy_find_best_option(): cfg_opts, cfg_opts2, then common_options (sic: "original-to").
OPTION_CANDIDATES: tuple[str, ...] = (
    "abortonclose", "allbackups", "checkcache", "clitcpka", "contstats", "dontlognull",
    "http-buffer-request", "http-ignore-probes", "idle-close-on-response",
    "prefer-last-server", "logasap", "nolinger", "persist", "srvtcpka", "transparent",
    "splice-request", "splice-response", "splice-auto", "accept-invalid-http-request",
    "accept-invalid-http-response", "dontlog-normal", "log-separate-errors",
    "log-health-checks", "socket-stats", "tcp-smart-accept", "tcp-smart-connect",
    "independent-streams", "http-use-proxy-header", "http-pretend-keepalive", "http-no-delay",
    "h1-case-adjust-bogus-client", "h1-case-adjust-bogus-server", "disable-h2-upgrade",
    "httpclose", "http-server-close", "http-keep-alive", "redispatch", "httplog", "tcplog",
    "tcpka", "httpchk", "ssl-hello-chk", "smtpchk", "pgsql-check", "redis-check",
    "mysql-check", "ldap-check", "spop-check", "tcp-check", "external-check", "forwardfor",
    "original-to",
)  # fmt: skip


def _support(planned: str) -> Support:
    return Support.PLANNED if planned else Support.UNSUPPORTED


def proxy_keywords() -> list[Keyword]:
    return [
        Keyword(name, None, sections, _support(planned), planned)
        for name, (sections, planned) in PROXY.items()
    ]


def global_keywords() -> list[Keyword]:
    return [Keyword(name, None, _G, _support(planned), planned) for name, planned in GLOBAL.items()]
