"""Version strings.

herdsman has its own version, and declares the HAProxy version whose behaviour
it reproduces: ``.if version_atleast(...)`` in configurations and ``-cc``
compare against that one, so configurations written for HAProxy 2.6 select
the branches meant for 2.6.
"""

VERSION = "0.1.0"
RELEASE_DATE = "2026/11/24"
HAPROXY_COMPAT = "2.6.12"

# Build features, as "haproxy -vv" lists them ("+NAME" present, "-NAME" absent).
# ``.if feature(NAME)`` is true for the present ones.
FEATURES: dict[str, bool] = {
    "EPOLL": True,  # through uvloop (libuv)
    "GETADDRINFO": True,
    "NS": True,  # network namespaces (setns)
    "TFO": True,
    "THREAD": False,
    "OPENSSL": True,  # Python's ssl module (the OpenSSL it is linked with)
    "LUA": False,
    "PCRE": False,
    "PCRE2": False,
    "QUIC": False,
    "PROMEX": True,  # the exporter is built in (admin/prometheus.py)
    "ZLIB": False,
    "SLZ": False,
    "SYSTEMD": True,  # -Ws notifies through $NOTIFY_SOCKET
    "LINUX_SPLICE": False,
    "ACCEPT4": True,
    "TPROXY": False,
}
