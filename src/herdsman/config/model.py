"""The typed configuration model: what a parsed ``haproxy.cfg`` says.

Plain dataclasses, no behaviour beyond small derived properties. The parser
(``config/parser.py`` and the keyword modules) fills them in; the runtime
(``core/``) is built from them. Defaults are HAProxy 2.6's (spec Appendix A).

Mutability: HAProxy builds a proxy by copying its ``defaults`` section and a
server by copying the proxy's ``default-server`` as it stands when the server
line is read (spec §1.8), so these objects are mutable and copied with
``copy.deepcopy`` at those two moments.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from herdsman.config.diag import NOWHERE, Location
from herdsman.config.model_addr import Address, Network
from herdsman.defs.rules import Ruleset
from herdsman.rules.model import Routing
from herdsman.rules.userlist import Userlist
from herdsman.sample.cond import Condition
from herdsman.sample.pattern import PatternFiles
from herdsman.tls.model import TlsBind, TlsGlobal, TlsServer
from herdsman.tls.store import CertStore

# -- logs ------------------------------------------------------------------------


@dataclass(slots=True)
class LogTarget:
    """One ``log`` line.

    ``log <target> [len <n>] [format <f>] [sample <r>:<s>] <fac> [<lvl> [<min>]]``
    """

    target: str  # as written: "stdout", "stderr", "127.0.0.1:514", "/dev/log", ...
    address: Address | None
    facility: str
    level: str = "debug"  # max level sent
    minlevel: str = "emerg"
    format: str = ""  # "" = unspecified: HAProxy's legacy "local"-like header
    maxlen: int = 1024
    sample: tuple[tuple[tuple[int, int], ...], int] | None = None
    loc: Location = NOWHERE


# -- servers ---------------------------------------------------------------------


class Observe(enum.Enum):
    NONE = "none"
    LAYER4 = "layer4"
    LAYER7 = "layer7"


class OnError(enum.Enum):
    FASTINTER = "fastinter"
    FAIL_CHECK = "fail-check"
    SUDDEN_DEATH = "sudden-death"
    MARK_DOWN = "mark-down"


@dataclass(slots=True)
class ServerConfig:
    """A ``server`` (or the ``default-server`` object). Defaults: spec §1, §4.1, App. A."""

    name: str = ""
    addr: Address | None = None
    loc: Location = NOWHERE
    puid: int = 0  # explicit "id", 0 when automatic
    puid_loc: Location | None = None
    template: str | None = None  # prefix when created by server-template
    # state and LB (spec §1.7)
    backup: bool = False
    weight: int = 1
    disabled: bool = False
    # address resolution and sockets (spec §1.4, §1.5)
    init_addr: list[str] = field(default_factory=list)  # methods and at most one literal
    unresolved: bool = False  # init-addr ended on "none": starts in MAINT (resolution)
    namespace: str | None = None
    source: str | None = None
    resolvers: str | None = None
    resolve_prefer: str = "ipv6"
    send_proxy: bool = False
    send_proxy_v2: bool = False
    tfo: bool = False
    # health checks (spec §4.1)
    check: bool = False
    inter: int = 2000
    fastinter: int = 0
    downinter: int = 0
    rise: int = 2
    fall: int = 3
    check_port: int = 0
    check_addr: Address | None = None
    check_send_proxy: bool = False
    check_ssl: int = 0  # check.use_ssl: 1 check-ssl, -1 no-check-ssl, 0 unset (inherited)
    check_sni: str | None = None
    check_alpn: str | None = None
    check_proto: str | None = None
    check_via_socks4: bool = False
    observe: Observe = Observe.NONE
    error_limit: int = 10
    on_error: OnError = OnError.FAIL_CHECK
    on_marked_down_shutdown: bool = False
    on_marked_up_shutdown_backup: bool = False
    track: str | None = None  # "[backend/]server"
    # agent checks (spec §9), slowstart (§10)
    agent_check: bool = False
    agent_inter: int = 2000
    agent_port: int = 0
    agent_addr: Address | None = None
    agent_send: str | None = None
    agent_rise: int = 1
    agent_fall: int = 1
    slowstart: int = 0  # ms as written; HAProxy stores whole seconds rounded up
    # limits and queues (spec §2)
    maxconn: int = 0
    minconn: int = 0
    maxqueue: int = 0
    # connection reuse (spec §3.6)
    pool_max_conn: int = -1
    pool_purge_delay: int = 5000
    pool_low_conn: int = 0
    max_reuse: int = -1
    # HTTP-only
    cookie: str | None = None
    redir: str | None = None
    proto: str | None = None
    ws: str = "auto"
    tls: TlsServer = field(default_factory=TlsServer)
    # everything else stored as written: keyword -> arguments
    extra: dict[str, list[str]] = field(default_factory=dict)
    # keywords present on the line (or inherited from default-server), with where
    keywords: dict[str, Location] = field(default_factory=dict)


# -- binds -----------------------------------------------------------------------


@dataclass(slots=True)
class BindConfig:
    """One address of a ``bind`` line (a line with a list gives several)."""

    addr: Address
    loc: Location = NOWHERE
    arg: str = ""  # the line's address list as written (HAProxy's bind_conf->arg)
    name: str | None = None
    maxconn: int = 0
    backlog: int = 0
    v4v6: bool = False
    v6only: bool = False
    transparent: bool = False
    interface: str | None = None
    namespace: str | None = None
    defer_accept: bool = False
    tfo: bool = False
    mode: int | None = None  # UNIX socket permissions
    uid: int | None = None
    gid: int | None = None
    accept_proxy: bool = False
    tls: TlsBind | None = None  # set by any TLS keyword; TLS is on with "ssl"
    extra: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class StatsSocket:
    """A ``stats socket`` line: a listener of the runtime API (``cli.c cli_parse_global()``)."""

    bind: BindConfig
    level: str = "operator"  # user, operator or admin
    expose_fd_listeners: bool = False  # "expose-fd listeners": may hand listeners over


# -- proxies ---------------------------------------------------------------------


class Mode(enum.Enum):
    """``mode``. A TCP frontend may use an HTTP backend: its connection is then
    upgraded to HTTP when the backend is chosen; the reverse is refused."""

    TCP = "tcp"
    HTTP = "http"
    LOG = "log"


class Cap(enum.IntFlag):
    """``PR_CAP_*``: which roles a section can play."""

    NONE = 0
    FE = 1
    BE = 2
    DEF = 4
    LISTEN = FE | BE


class HashMethod(enum.Enum):
    MAP_BASED = "map-based"
    CONSISTENT = "consistent"


@dataclass(slots=True)
class Balance:
    """``balance`` and ``hash-type`` (spec §12.2)."""

    algo: str = "roundrobin"
    draws: int = 2  # random(<draws>)
    uri_len: int = 0
    uri_depth: int = 0
    uri_whole: bool = False
    uri_path_only: bool = False
    param: str | None = None  # url_param
    hdr: str | None = None  # hdr(<name>)
    hdr_domain_only: bool = False
    rdp_cookie: str | None = None
    expr: str | None = None  # balance hash <expr>
    hash_method: HashMethod = HashMethod.MAP_BASED
    hash_function: str = "sdbm"
    avalanche: bool = False
    hash_balance_factor: int = 0
    loc: Location = NOWHERE

    @property
    def is_hash(self) -> bool:
        return self.algo in ("source", "uri", "url_param", "hdr", "rdp-cookie", "hash")


@dataclass(slots=True)
class Timeouts:
    """``timeout <name>`` values in milliseconds; None means unset."""

    connect: int | None = None
    client: int | None = None
    server: int | None = None
    tunnel: int | None = None
    client_fin: int | None = None
    server_fin: int | None = None
    check: int | None = None
    queue: int | None = None
    http_request: int | None = None
    # unset: an idle keep-alive client connection waits for "http_request"
    # (mux_h1.c h1_set_idle_expiration()), then "client"
    http_keep_alive: int | None = None
    tarpit: int | None = None  # unset: "connect" once validated (cfgparse.c)


class ConnMode(enum.Enum):
    """The HTTP connection mode (``PR_O_HTTP_MODE``, spec §3.1).

    A stream uses the strongest of its frontend's and its backend's modes,
    in the order KEEP_ALIVE < SERVER_CLOSE < CLOSE.
    """

    KEEP_ALIVE = "http-keep-alive"  # the default
    SERVER_CLOSE = "http-server-close"
    CLOSE = "httpclose"


class HttpReuse(enum.Enum):
    """``http-reuse`` (spec §3.4, §3.5): ``safe`` by default; ``never`` in a TCP proxy."""

    NEVER = "never"
    SAFE = "safe"
    AGGRESSIVE = "aggressive"
    ALWAYS = "always"


class HdrNames(enum.Enum):
    """``option http-restrict-req-hdr-names``: request header names with a character
    outside ``[A-Za-z0-9-]`` are kept, deleted, or answered with a 403."""

    PRESERVE = "preserve"  # the default
    DELETE = "delete"
    REJECT = "reject"


class RetryOn(enum.Flag):
    """``retry-on`` (``PR_RE_*``, spec §2.7). The default is CONN_FAILURE: without
    it no connection failure is retried, in TCP mode too (``back_handle_st_cer()``).
    The other conditions need HTTP mode."""

    NONE = 0
    CONN_FAILURE = enum.auto()
    EMPTY_RESPONSE = enum.auto()
    RESPONSE_TIMEOUT = enum.auto()
    JUNK_RESPONSE = enum.auto()
    ZERO_RTT_REJECTED = enum.auto()  # "0rtt-rejected"
    S401 = enum.auto()
    S403 = enum.auto()
    S404 = enum.auto()
    S408 = enum.auto()
    S425 = enum.auto()
    S500 = enum.auto()
    S501 = enum.auto()
    S502 = enum.auto()
    S503 = enum.auto()
    S504 = enum.auto()


@dataclass(frozen=True, slots=True)
class AddedHeader:
    """``option forwardfor`` or ``option originalto`` (spec §3.3): the header to add,
    the network whose addresses do not get it, and (forwardfor) ``if-none``."""

    header: str
    except_net: Network | None = None
    if_none: bool = False


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """An ``errorfile``/``errorloc*`` line (``status`` and its ``message``) or an
    ``errorfiles`` line (``section``, and the statuses it names, () for all), in
    the order written, defaults first; resolved into ``HttpSettings.errors`` once
    the whole configuration is read (``http_htx.c proxy_check_errors()``)."""

    loc: Location
    status: int = 0
    message: bytes = b""
    section: str | None = None
    statuses: tuple[int, ...] = ()


@dataclass(slots=True)
class HttpSettings:
    """What a proxy says about HTTP; read by HTTP mode. Inherited from ``defaults``
    except ``monitor_uri`` (frontends) and ``max_keep_alive_queue`` (backends)."""

    conn_mode: ConnMode = ConnMode.KEEP_ALIVE
    reuse_mode: HttpReuse = HttpReuse.SAFE
    forwardfor: AddedHeader | None = None  # header default "X-Forwarded-For"
    originalto: AddedHeader | None = None  # header default "X-Original-To"
    restrict_req_hdr_names: HdrNames = HdrNames.PRESERVE
    monitor_uri: str | None = None  # answered 200 by the frontend itself
    send_name_header: str | None = None  # lower case, as HAProxy stores it
    # -1: no limit; 0: a keep-alive request never waits in its server's queue
    max_keep_alive_queue: int = -1
    error_rules: list[ErrorRule] = field(default_factory=list)
    # The responses replacing HAProxy's own (config/errpages.py DEFAULT_PAGES),
    # by status, as raw HTTP/1 messages; b"" means "send nothing, close". At run
    # time the backend's page wins over the frontend's (http_error_message()).
    errors: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class HttpErrors:
    """An ``http-errors`` section: its ``errorfile`` messages by status."""

    name: str
    loc: Location
    replies: dict[int, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class StatsPage:
    """A proxy's stats page settings (HAProxy's ``struct uri_auth``); ``owner`` is
    the (kind, name) of the section whose ``stats`` lines made them."""

    owner: tuple[str, str]
    uri: str = "/haproxy?stats"
    realm: str | None = None
    users: list[tuple[str, str]] = field(default_factory=list)  # newest first, as HAProxy
    refresh: int = 0  # seconds
    scopes: list[str] = field(default_factory=list)
    hide_version: bool = False
    show_legends: bool = False
    show_node: bool = False
    node: str | None = None
    show_desc: bool = False
    desc: str | None = None
    admin: list[Condition] = field(default_factory=list)  # stats admin if|unless <cond>


@dataclass(frozen=True, slots=True)
class Capture:
    """``capture request|response header <name> len <len>``: the name in lower case."""

    name: str
    length: int


@dataclass(slots=True)
class ProxyConfig:
    """A ``defaults``, ``frontend``, ``backend`` or ``listen`` section."""

    name: str
    kind: str  # "defaults" | "frontend" | "backend" | "listen"
    cap: Cap
    loc: Location = NOWHERE
    from_defaults: str | None = None
    mode: Mode = Mode.TCP
    disabled: bool = False
    uuid: int = 0  # explicit "id"
    description: str | None = None
    # frontend side
    binds: list[BindConfig] = field(default_factory=list)
    maxconn: int = 0
    backlog: int = 0
    rate_limit_sessions: int = 0  # "rate-limit sessions": per second (0: no limit)
    default_backend: str | None = None
    default_backend_loc: Location = NOWHERE
    # backend side
    balance: Balance = field(default_factory=Balance)
    fullconn: int = 0
    retries: int = 3
    redispatch: int | None = None  # None: off; -1: on the last retry (default interval)
    retry_on: RetryOn = RetryOn.CONN_FAILURE
    default_server: ServerConfig = field(default_factory=ServerConfig)
    servers: list[ServerConfig] = field(default_factory=list)
    checks: Ruleset | None = None  # selected by an "option ..." check keyword
    external_command: str | None = None  # external-check command (spec §8)
    external_path: str | None = None  # external-check path: the PATH of the command
    tcpcheck_rules: Ruleset = field(default_factory=Ruleset)  # "tcp-check ..." lines
    httpcheck_rules: Ruleset | None = None  # "http-check ..." lines before/without option
    # server-state file (spec §13.8): "global", "local", "none" or None (unset: none)
    load_server_state_from_file: str | None = None
    server_state_file_name: str | None = None
    # both
    timeouts: Timeouts = field(default_factory=Timeouts)
    options: dict[str, bool] = field(default_factory=dict)  # "option X" / "no option X"
    http: HttpSettings = field(default_factory=HttpSettings)
    logs: list[LogTarget] = field(default_factory=list)
    log_global: bool = False
    log_tag: str | None = None
    # ACLs, rules, cookie persistence, stick table (rules/, docs/routing.md)
    routing: Routing = field(default_factory=Routing)
    # the named defaults section whose rules run before this proxy's own (px->defpx)
    rules_from: ProxyConfig | None = None
    rules_cap: str = ""  # a defaults section with rules: the kind of proxies using it
    rules_ready: bool = False  # its rules were checked (PR_FL_READY)
    # traffic logs: the format string, the keyword that set it ("option tcplog",
    # "log-format"...) and where; its nodes once compiled (config/kw_logs.py)
    log_format: str | None = None
    log_format_kw: str = ""
    log_format_loc: Location = NOWHERE
    log_nodes: tuple[object, ...] = ()
    capture_req: list[Capture] = field(default_factory=list)
    capture_rsp: list[Capture] = field(default_factory=list)
    # "capture cookie <name> len <n>": the name prefix and the length (%CC, %CS)
    capture_cookie: tuple[str, int] | None = None
    stats: StatsPage | None = None  # the stats page, with any "stats" line
    # every keyword seen, for diagnostics ("used in defaults", not implemented...)
    keywords: dict[str, Location] = field(default_factory=dict)

    def option(self, name: str) -> bool:
        return self.options.get(name, False)


@dataclass(slots=True)
class GlobalConfig:
    """The ``global`` section."""

    maxconn: int = 0  # 0: computed from RLIMIT_NOFILE (spec §2.1)
    maxconnrate: int = 0  # accepted connections per second, process-wide (0: no limit)
    maxsessrate: int = 0  # sessions per second, process-wide (0: no limit)
    nbthread: int = 1
    daemon: bool = False
    master_worker: bool = False
    mworker_exit_on_failure: bool = True  # "master-worker no-exit-on-failure" clears it
    pidfile: str | None = None
    node: str | None = None  # defaults to the host name
    description: str | None = None
    spread_checks: int = 0
    max_spread_checks: int = 0
    logs: list[LogTarget] = field(default_factory=list)
    log_tag: str | None = None
    log_send_hostname: str | None = None
    chroot: str | None = None
    uid: int | None = None
    gid: int | None = None
    user: str | None = None
    group: str | None = None
    ulimit_n: int = 0
    hard_stop_after: int | None = None
    grace: int = 0
    quiet: bool = False
    zero_warning: bool = False
    pp2_never_send_local: bool = False
    external_check: bool = False  # "external-check": external checks may run (spec §8.1)
    insecure_fork_wanted: bool = False  # without it 2.6 forbids fork() (RLIMIT_NPROC 0)
    expose_experimental: bool = False  # "expose-experimental-directives" seen
    # tune.* read by the data path and HTTP mode, as HAProxy 2.6 stores them in
    # global.tune (defaults from haproxy.c and cfgparse.c check_config_validity()).
    tune_bufsize: int = 16384
    tune_maxrewrite: int = 1024  # never above tune_bufsize // 2 once validated
    tune_http_maxhdr: int = 101
    # The logged URI's buffer in bytes with the trailing NUL: "tune.http.logurilen 1023"
    # stores 1024 (the default) and at most 1023 characters are kept.
    tune_http_logurilen: int = 1024
    # "capture cookie" buffers with the trailing NUL: "tune.http.cookielen 63"
    tune_http_cookielen: int = 64
    # h1-case-adjust <from> <to> (lower case -> as sent), h1-case-adjust-file
    h1_case_adjust: dict[str, str] = field(default_factory=dict)
    h1_case_adjust_file: str | None = None
    # SO_RCVBUF / SO_SNDBUF for client and server sockets; 0 leaves the kernel's default.
    tune_rcvbuf_client: int = 0
    tune_rcvbuf_server: int = 0
    tune_sndbuf_client: int = 0
    tune_sndbuf_server: int = 0
    # Values of the accepted keywords that have no effect in herdsman (Support.NO_EFFECT),
    # as HAProxy stores them: its "already specified" checks read them.
    tuning: dict[str, int] = field(default_factory=dict)
    setenv: list[tuple[str, str, str]] = field(default_factory=list)  # (kw, name, value)
    # the runtime API: any "stats" line creates HAProxy's internal "GLOBAL" frontend
    stats_sockets: list[StatsSocket] = field(default_factory=list)
    cli_frontend: bool = False
    stats_timeout: int = 10_000  # ms, the CLI's idle timeout
    stats_maxconn: int = 10  # concurrent CLI connections
    server_state_base: str | None = None
    server_state_file: str | None = None
    tls: TlsGlobal = field(default_factory=TlsGlobal)
    keywords: dict[str, Location] = field(default_factory=dict)


@dataclass(slots=True)
class Config:
    """A whole parsed configuration."""

    global_: GlobalConfig = field(default_factory=GlobalConfig)
    defaults: dict[str, ProxyConfig] = field(default_factory=dict)  # by name ("" = anonymous)
    proxies: list[ProxyConfig] = field(default_factory=list)  # frontends/backends/listens
    http_errors: list[HttpErrors] = field(default_factory=list)  # in order; names may repeat
    # Error messages loaded so far, by file name or "errorloc30x <url>": HAProxy
    # reads a file once (http_htx.c http_error_messages), whatever its size is then.
    error_messages: dict[str, bytes] = field(default_factory=dict)
    userlists: list[Userlist] = field(default_factory=list)  # in declaration order
    pattern_files: PatternFiles = field(default_factory=PatternFiles)  # -f files, read once
    files: list[str] = field(default_factory=list)
    certs: CertStore = field(default_factory=CertStore)  # every certificate file read

    def proxy(self, name: str, cap: Cap = Cap.NONE) -> ProxyConfig | None:
        for px in self.proxies:
            if px.name == name and (not cap or px.cap & cap):
                return px
        return None

    @property
    def backends(self) -> list[ProxyConfig]:
        return [px for px in self.proxies if px.cap & Cap.BE]

    @property
    def frontends(self) -> list[ProxyConfig]:
        return [px for px in self.proxies if px.cap & Cap.FE]
