"""Types of the tcp-check rule language (``include/haproxy/tcpcheck-t.h``).

Every active check in herdsman is a list of these rules run by one interpreter
(``checks/tcpcheck.py``), as in HAProxy: ``option tcp-check`` rules are written
by the operator, ``option httpchk`` and ``http-check`` compile into the same
rules (with HTTP send/expect kinds), and protocol checks are predefined lists.

This module holds data only. Parsing lives in ``config/checks.py``, evaluation
in ``checks/tcpcheck.py``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from herdsman.defs.status import Status
from herdsman.sample.logformat import LogFormat


class ExpectKind(enum.Enum):
    """``enum tcpcheck_expect_type``."""

    STRING = "string"
    RSTRING = "rstring"
    STRING_LF = "string-lf"
    BINARY = "binary"
    RBINARY = "rbinary"
    BINARY_LF = "binary-lf"
    CUSTOM = "custom"
    HTTP_STATUS = "status"
    HTTP_RSTATUS = "rstatus"
    HTTP_HEADER = "hdr"  # also "fhdr" (full value), see HeaderMatch.full
    HTTP_BODY = "http-string"
    HTTP_RBODY = "http-rstring"
    HTTP_BODY_LF = "http-string-lf"


class StrMatch(enum.Enum):
    """Matching methods of ``http-check expect hdr`` (``-m str|beg|end|sub|reg``)."""

    STR = "str"
    BEG = "beg"
    END = "end"
    SUB = "sub"
    REG = "reg"


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """``http-check expect [!] hdr|fhdr name [-m meth] <name> [value [-m meth] <value>]``."""

    name: str | LogFormat | re.Pattern[str]
    name_method: StrMatch = StrMatch.STR
    value: str | LogFormat | re.Pattern[str] | None = None
    value_method: StrMatch = StrMatch.STR
    full: bool = False  # fhdr: compare the whole value, do not split on commas


@dataclass(frozen=True, slots=True)
class ConnectRule:
    """``tcp-check connect`` / ``http-check connect`` (and the implicit first connect)."""

    port: int | None = None
    addr: tuple[str, int | None] | None = None  # resolved IP, optional port
    send_proxy: bool = False
    via_socks4: bool = False
    ssl: bool = False
    sni: str | None = None
    alpn: str | None = None
    linger: bool = False
    proto: str | None = None
    default: bool = False  # inherit the server's check settings
    implicit: bool = False  # inserted by the parser, reports no "(tcp-check)" info
    comment: str | None = None


class SendKind(enum.Enum):
    STRING = "send"
    BINARY = "send-binary"
    STRING_LF = "send-lf"
    BINARY_LF = "send-binary-lf"


@dataclass(frozen=True, slots=True)
class SendRule:
    """``tcp-check send``, ``send-binary``, ``send-lf``, ``send-binary-lf``."""

    kind: SendKind
    data: bytes = b""  # STRING / BINARY
    fmt: LogFormat | None = None  # *_LF
    comment: str | None = None


@dataclass(slots=True)
class HttpSendRule:
    """``http-check send`` merged with the request of ``option httpchk`` (spec §5.2).

    Mutable because the first explicit ``http-check send`` is merged into the
    implicit one from the option line (``tcpcheck_overwrite_send_http_rule``).
    """

    meth: str = "OPTIONS"
    uri: str = "/"
    uri_fmt: LogFormat | None = None
    ver: str = "HTTP/1.0"
    headers: list[tuple[str, LogFormat]] = field(default_factory=list)
    body: str = ""
    body_fmt: LogFormat | None = None
    from_option: bool = False  # TCPCHK_SND_HTTP_FROM_OPT
    comment: str | None = None
    # the request bytes when nothing in it varies between runs, by
    # (force_close, fake_keepalive): filled by checks/http_request.py at run time
    wire: dict[tuple[bool, bool], bytes] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ExpectRule:
    """``tcp-check expect`` / ``http-check expect``."""

    kind: ExpectKind
    # STRING/BINARY: the bytes to find; STATUS: tuple of (lo, hi) ranges;
    # R*: compiled regex; *_LF: LogFormat; HTTP_HEADER: HeaderMatch.
    pattern: object = None
    pattern_text: str = ""  # as written, for "did not match content '<pattern>'"
    inverse: bool = False
    min_recv: int = -1
    ok_status: Status = Status.L7OK
    error_status: Status | None = None  # None: the kind's default (L7RSP or L7STS)
    tout_status: Status = Status.L7TOUT
    on_success: LogFormat | None = None
    on_error: LogFormat | None = None
    status_code: str | None = None  # sample expression text (subset)
    comment: str | None = None
    custom: str | None = None  # name of a built-in expect function (protocol checks)


@dataclass(frozen=True, slots=True)
class CommentRule:
    """``tcp-check comment``: no runtime effect, but it counts as a step."""

    text: str


@dataclass(frozen=True, slots=True)
class ActionRule:
    """``tcp-check set-var(...)``, ``set-var-fmt(...)``, ``unset-var(...)``."""

    action: str  # "set-var" | "set-var-fmt" | "unset-var"
    scope: str  # "proc" | "sess" | "check"
    name: str
    expr: str | LogFormat | None = None
    comment: str | None = None


Rule = ConnectRule | SendRule | HttpSendRule | ExpectRule | CommentRule | ActionRule


class RulesetKind(enum.Enum):
    """Which option selected the ruleset (``TCPCHK_RULES_*_CHK``)."""

    TCP = "tcp-check"
    HTTP = "httpchk"
    REDIS = "redis-check"
    MYSQL = "mysql-check"
    PGSQL = "pgsql-check"
    SMTP = "smtpchk"
    LDAP = "ldap-check"
    SSL3 = "ssl-hello-chk"
    SPOP = "spop-check"
    AGENT = "agent-check"


@dataclass(slots=True)
class Ruleset:
    """An ordered rule list plus the flags that change how it runs."""

    kind: RulesetKind = RulesetKind.TCP
    rules: list[Rule] = field(default_factory=list)
    # http-check options (spec §5.5, §5.6); meaningful for HTTP rulesets only.
    disable_on_404: bool = False
    send_state: bool = False
    # HAProxy's ruleset name (``*tcp-check-<proxy>_<file>-<line>``): tells a
    # proxy's own rules from those copied from its defaults section.
    name: str = ""
    unused: bool = False  # TCPCHK_RULES_UNUSED_*_RS: rules without their option
    indexes: list[int] = field(default_factory=list)  # rule numbers quoted in errors
    # backend options the H1 mux applies to HTTP check requests
    http_force_close: bool = False
    http_fake_keepalive: bool = False

    def first_connect_port(self) -> int | None:
        """Port of the first connect rule, if it carries one (spec §1.3, §4.2)."""
        for rule in self.rules:
            if isinstance(rule, ConnectRule):
                if rule.port:
                    return rule.port
                if rule.addr is not None and rule.addr[1]:
                    return rule.addr[1]
                return None
            if not isinstance(rule, CommentRule | ActionRule):
                return None
        return None
