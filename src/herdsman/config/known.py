"""HAProxy 2.6 keywords herdsman does not act on (yet), so they are refused by name.

The lists come from the keyword matrix of HAProxy's configuration manual
(section 4.1) and ``cfgparse-global.c``. A keyword here is either PLANNED (a
later herdsman feature implements it; the text names it) or UNSUPPORTED.
"""

from __future__ import annotations

from herdsman.config.keywords import Keyword, Support

HTTP = "HTTP mode"
ACL = "ACLs and tcp/http rules"
LOGS = "traffic logs (runtime API, stats and logs)"
API = "runtime API and stats"
LIMITS = "connection limits and queues"
MULTI = "multi-core"
PROTO = "protocol checks"

_ALL = ("defaults", "frontend", "listen", "backend")
_FE = ("defaults", "frontend", "listen")
_BE = ("defaults", "listen", "backend")

# name -> (sections, planned_for or "" for unsupported)
PROXY: dict[str, tuple[tuple[str, ...], str]] = {
    "acl": (_ALL, ACL),
    "bind-process": (_ALL, ""),
    "capture": (("frontend", "listen"), HTTP),
    "clitcpka-cnt": (_FE, "TCP keep-alive tuning"),
    "clitcpka-idle": (_FE, "TCP keep-alive tuning"),
    "clitcpka-intvl": (_FE, "TCP keep-alive tuning"),
    "srvtcpka-cnt": (_BE, "TCP keep-alive tuning"),
    "srvtcpka-idle": (_BE, "TCP keep-alive tuning"),
    "srvtcpka-intvl": (_BE, "TCP keep-alive tuning"),
    "compression": (_ALL, ""),
    "cookie": (_BE, HTTP),
    "declare": (("frontend", "listen"), HTTP),
    "dispatch": (("listen", "backend"), ""),
    "dynamic-cookie-key": (_BE, HTTP),
    "email-alert": (_ALL, ""),
    "errorfile": (_ALL, HTTP),
    "errorfiles": (_ALL, HTTP),
    "errorloc": (_ALL, HTTP),
    "errorloc302": (_ALL, HTTP),
    "errorloc303": (_ALL, HTTP),
    "error-log-format": (_FE, LOGS),
    "filter": (_ALL, ""),
    "force-persist": (("frontend", "listen", "backend"), ACL),
    "grace": (_ALL, ""),
    "http-after-response": (_ALL, HTTP),
    "http-error": (_ALL, HTTP),
    "http-request": (_ALL, HTTP),
    "http-response": (_ALL, HTTP),
    "http-reuse": (_BE, HTTP),
    "http-send-name-header": (_BE, HTTP),
    "ignore-persist": (("frontend", "listen", "backend"), ACL),
    "load-server-state-from-file": (_BE, API),
    "log-format": (_FE, LOGS),
    "log-format-sd": (_FE, LOGS),
    "max-keep-alive-queue": (_BE, HTTP),
    "max-session-srv-conns": (_FE, HTTP),
    "monitor": (("frontend", "listen"), ACL),
    "monitor-uri": (_FE, HTTP),
    "persist": (_BE, ""),
    "rate-limit": (_FE, LIMITS),
    "redirect": (("frontend", "listen", "backend"), HTTP),
    "retry-on": (_BE, HTTP),
    "server-state-file-name": (_BE, API),
    "source": (_BE, "source address selection"),
    "stats": (_ALL, API),
    "stick": (("listen", "backend"), ""),
    "stick-table": (("frontend", "listen", "backend"), ""),
    "tcp-request": (_ALL, ACL),
    "tcp-response": (_BE, ACL),
    "transparent": (_BE, ""),
    "unique-id-format": (_FE, HTTP),
    "unique-id-header": (_FE, HTTP),
    "use-fcgi-app": (("listen", "backend"), ""),
    "use-server": (("listen", "backend"), ACL),
}

_G = ("global",)
GLOBAL: dict[str, str] = {
    "stats": API,
    "cpu-map": MULTI,
    "numa-cpu-mapping": MULTI,
    "external-check": "external checks",
    "insecure-fork-wanted": "external checks",
    "insecure-setuid-wanted": "",
    "server-state-base": API,
    "server-state-file": API,
    "mworker-max-reloads": "hitless reload",
    "close-spread-time": "hitless reload",
    "maxconnrate": LIMITS,
    "maxsessrate": LIMITS,
    "fd-hard-limit": LIMITS,
    "strict-limits": LIMITS,
    "unix-bind": "UNIX socket listener defaults",
    "h1-case-adjust": HTTP,
    "h1-case-adjust-file": HTTP,
    "h1-accept-payload-with-any-method": HTTP,
    "h2-workaround-bogus-websocket-clients": HTTP,
    "default-path": "relative paths",
    "localpeer": "",
    "busy-polling": "",
    "set-dumpable": "",
    "noepoll": "",
    "nokqueue": "",
    "noevports": "",
    "nopoll": "",
    "nosplice": "",
    "nogetaddrinfo": "",
    "noreuseport": "",
    "maxsslconn": "",
    "maxsslrate": "",
    "maxcomprate": "",
    "maxcompcpuusage": "",
    "maxpipes": "",
    "maxzlibmem": "",
    "ssl-server-verify": "",
    "cluster-secret": "",
    "ca-base": "",
    "crt-base": "",
    "issuers-chain-path": "",
    "lua-load": "",
    "lua-load-per-thread": "",
    "lua-prepend-path": "",
    "profiling.tasks": "",
    "no-memory-trimming": "",
    "set-var": "",
    "set-var-fmt": "",
    "httpclient.resolvers.id": "",
    "httpclient.resolvers.prefer": "",
    "httpclient.ssl.ca-file": "",
    "httpclient.ssl.verify": "",
    "anonkey": "",
    "thread-group": MULTI,
    "thread-groups": MULTI,
    "wurfl-data-file": "",
    "51degrees-data-file": "",
    "deviceatlas-json-file": "",
}
for _name in (
    "ssl-default-bind-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-bind-curves",
    "ssl-default-bind-options",
    "ssl-default-server-ciphers",
    "ssl-default-server-ciphersuites",
    "ssl-default-server-options",
    "ssl-dh-param-file",
    "ssl-load-extra-del-ext",
    "ssl-load-extra-files",
    "ssl-mode-async",
    "ssl-propquery",
    "ssl-provider",
    "ssl-provider-path",
    "ssl-skip-self-issued-ca",
    "ssl-engine",
):
    GLOBAL[_name] = ""


def _support(planned: str) -> Support:
    return Support.PLANNED if planned else Support.UNSUPPORTED


def proxy_keywords() -> list[Keyword]:
    return [
        Keyword(name, None, sections, _support(planned), planned)
        for name, (sections, planned) in PROXY.items()
    ]


def global_keywords() -> list[Keyword]:
    return [Keyword(name, None, _G, _support(planned), planned) for name, planned in GLOBAL.items()]
