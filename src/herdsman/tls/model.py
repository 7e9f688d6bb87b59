"""TLS settings as the configuration states them (types only, HAProxy's
``ssl_bind_conf``, ``bind_conf`` and ``server`` SSL fields).

``config/kw_tls.py`` fills them, ``tls/context.py`` turns them into
``ssl.SSLContext`` objects. A leaf: nothing here knows the configuration's
other types, so the parser, the data path, the checks and the runtime API
all read the same objects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Verify(enum.Enum):
    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


class Version(enum.IntEnum):
    """``methodVersions[]`` indices (``CONF_SSLV3``..``CONF_TLSV13``)."""

    SSLV3 = 1
    TLSV10 = 2
    TLSV11 = 3
    TLSV12 = 4
    TLSV13 = 5


VERSION_NAMES = {
    "SSLv3": Version.SSLV3,
    "TLSv1.0": Version.TLSV10,
    "TLSv1.1": Version.TLSV11,
    "TLSv1.2": Version.TLSV12,
    "TLSv1.3": Version.TLSV13,
}
# no-<proto> and force-<proto> keyword suffixes
VERSION_FLAGS = {
    "sslv3": Version.SSLV3,
    "tlsv10": Version.TLSV10,
    "tlsv11": Version.TLSV11,
    "tlsv12": Version.TLSV12,
    "tlsv13": Version.TLSV13,
}


@dataclass(slots=True)
class Methods:
    """``struct tls_version_filter``: ``ssl-min-ver``/``ssl-max-ver`` (0: unset),
    the ``no-*`` flags and the ``force-*`` flag (which sets min and max)."""

    min: int = 0
    max: int = 0
    disabled: set[Version] = field(default_factory=set)


@dataclass(slots=True)
class TlsOptions:
    """The settings a bind line, a crt-list line and the global defaults share
    (``struct ssl_bind_conf``); None/empty means "not set here"."""

    ciphers: str | None = None
    ciphersuites: str | None = None
    curves: str | None = None
    alpn: tuple[str, ...] | None = None
    methods: Methods = field(default_factory=Methods)
    verify: Verify | None = None
    ca_file: str | None = None
    crl_file: str | None = None
    no_ca_names: bool = False
    # text as written in a crt-list line, for "show ssl crt-list" ("[alpn h2  verify none]")
    text: str = ""


@dataclass(slots=True)
class CrtEntry:
    """One certificate instance on a bind line (``ckch_inst``): a ``crt`` file, a
    file of a ``crt`` directory, or a crt-list line. ``filters`` are the line's SNI
    filters (``!name`` excludes); without filters the certificate's own names count."""

    path: str  # key of the certificate store
    filters: tuple[str, ...] = ()
    opts: TlsOptions | None = None  # crt-list line options
    source: str = ""  # the crt-list file or directory it comes from ("" for a "crt" file)
    line: int = 0  # its line in a crt-list file


@dataclass(slots=True)
class TlsBind:
    """A bind line's TLS side (``bind_conf`` SSL fields)."""

    enabled: bool = False  # the "ssl" keyword
    crts: list[CrtEntry] = field(default_factory=list)
    opts: TlsOptions = field(default_factory=TlsOptions)
    strict_sni: bool = False
    prefer_client_ciphers: bool = False
    no_tls_tickets: bool = False


@dataclass(slots=True)
class TlsServer:
    """A server's TLS side (``srv->ssl_ctx``, ``srv->ssl_*``)."""

    enabled: bool = False  # "ssl"
    verify: Verify | None = None  # None: global ssl-server-verify (required by default)
    verifyhost: str | None = None
    ca_file: str | None = None
    crl_file: str | None = None
    crt: str | None = None  # client certificate path (store key)
    sni: str | None = None  # sample expression text
    alpn: tuple[str, ...] | None = None
    ciphers: str | None = None
    ciphersuites: str | None = None
    methods: Methods = field(default_factory=Methods)
    reuse: bool = True  # "no-ssl-reuse" clears it
    tickets: bool = True  # "no-tls-tickets" clears it


@dataclass(slots=True)
class TlsGlobal:
    """The global section's TLS settings (``global_ssl``)."""

    bind: TlsOptions = field(default_factory=TlsOptions)  # ssl-default-bind-*
    server: TlsOptions = field(default_factory=TlsOptions)  # ssl-default-server-*
    bind_prefer_client_ciphers: bool = False
    bind_no_tls_tickets: bool = False
    server_no_tls_tickets: bool = False
    server_verify: Verify = Verify.REQUIRED  # ssl-server-verify
    ca_base: str | None = None
    crt_base: str | None = None
    dh_param_file: str | None = None
    dh_pem: bytes | None = None  # the DH parameters ssl-dh-param-file named
    default_dh_param: int = 0  # tune.ssl.default-dh-param (0: no DHE without parameters)
    cachesize: int = 20000  # tune.ssl.cachesize (sessions)
    lifetime: int = 300  # tune.ssl.lifetime (seconds)
