"""The ``log`` keyword (global and proxy sections), ``log-tag``, ``log-send-hostname``.

``log <target> [len <n>] [format <fmt>] [sample <ranges>:<size>] <facility> [<max> [<min>]]``
is parsed the way HAProxy 2.6 parses it (``src/log.c parse_logsrv()``): the
optional words are recognised only in that order, right after the target, and
the target itself is parsed *last*, so a line with both a bad facility and a
bad address reports the facility. The target grammar is the datagram subset of
``str2sa_range()`` (``src/tools.c``) called with ``PA_O_RESOLVE | PA_O_PORT_OK |
PA_O_RAW_FD | PA_O_DGRAM | PA_O_STREAM | PA_O_DEFAULT_DGRAM``: host names are
resolved while parsing, a missing or zero port means 514, ``fd@<n>`` is a raw
file descriptor and ``stdout``/``stderr`` are ``fd@1``/``fd@2``. Like every
``str2sa_range()`` caller, the target expands ``$VAR``/``${VAR}`` itself (the
lexer leaves ``$`` outside double quotes alone) and an undefined variable
expands to nothing: ``log ${HOST}:${PORT} daemon`` with neither defined is
``log : daemon``, the "any" address on port 514 (sent to the local host).

What herdsman refuses (HAProxy accepts them): ``ring@<name>``, and stream
addresses (``tcp@``, ``tcp4@``, ``tcp6@``, ``uxst@``, ``stream+``) for which
HAProxy creates an implicit ring and a TCP forwarder; ``sockpair@``.

Error messages are HAProxy's ``errmsg`` texts, without the ``log : `` that the
section parser puts in front (``ha_alert("parsing [%s:%d] : %s : %s\\n")``).
Texts produced by ``str2sa_range()`` end with their own ``"\\n"`` and HAProxy
prints them followed by an empty line; they keep that newline here.

Forms the caller handles before calling :func:`parse_log`:

* ``log global`` (exactly two words, proxy sections only): appends a copy of
  every global target not already copied by an earlier ``log global`` of the
  same proxy, at that position in the proxy's list. Only the global lines
  parsed *so far* are copied. In the ``global`` section the same words are an
  error: :func:`parse_log` with ``in_global=True`` raises it.
* ``no log``: empties the list (global or proxy, including what was copied by
  ``log global`` or inherited from ``defaults``); see :func:`check_no_log`.

A proxy without any target sends nothing, even if ``global`` has targets: only
messages that belong to no proxy go to the global list (``__send_log()``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Mapping

from herdsman.config.address import env_expand
from herdsman.config.diag import NOWHERE, ConfigError, Location
from herdsman.config.keywords import parse_int
from herdsman.config.model import LogTarget
from herdsman.config.model_addr import Address, Family

__all__ = [
    "DEFAULT_MAXLEN",
    "FACILITIES",
    "FORMATS",
    "FORMAT_UNSPEC",
    "LEVELS",
    "SYSLOG_PORT",
    "Resolver",
    "check_no_log",
    "get_facility",
    "get_format",
    "get_level",
    "is_log_global",
    "max_syslog_len",
    "parse_log",
    "parse_log_address",
    "parse_log_send_hostname",
    "parse_log_tag",
    "parse_sample",
]

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
    "uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip
LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
# The eight names of log_formats[] in 2.6, in enum order (LOG_FORMAT_LOCAL=1...).
FORMATS = ("local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw")
# No "format" word: HAProxy's LOG_FORMAT_UNSPEC, which the sender turns into
# "local", or "rfc3164" when log-send-hostname is set (build_log_header()).
FORMAT_UNSPEC = ""
DEFAULT_MAXLEN = 1024  # MAX_SYSLOG_LEN
SYSLOG_PORT = 514

# resolve(host, family) -> textual IP, or None. family is socket.AF_UNSPEC,
# AF_INET or AF_INET6; the answer must be of that family unless AF_UNSPEC.
Resolver = Callable[[str, int], str | None]


def _arg(args: list[str], i: int) -> str:
    # HAProxy's args[] array is padded with empty strings.
    return args[i] if i < len(args) else ""


def get_facility(name: str) -> int:
    """``get_log_facility()``: the facility number, -1 if unknown (case-sensitive)."""
    return FACILITIES.index(name) if name in FACILITIES else -1


def get_level(name: str) -> int:
    """``get_log_level()``: 0 (emerg) to 7 (debug), -1 if unknown (case-sensitive)."""
    return LEVELS.index(name) if name in LEVELS else -1


def get_format(name: str) -> str | None:
    """``get_log_format()``: the format name if known, else None."""
    return name if name in FORMATS else None


# -- the log line ----------------------------------------------------------------


def is_log_global(args: list[str]) -> bool:
    """True for exactly ``log global``, the form the proxy parser must handle itself."""
    return _arg(args, 1) == "global" and not _arg(args, 2)


def check_no_log(args: list[str]) -> None:
    """Validate ``no log`` (``args[0]`` is ``log``): it takes no argument."""
    if _arg(args, 1):
        raise ConfigError("'no log' does not expect arguments")


def parse_log(
    args: list[str],
    loc: Location = NOWHERE,
    *,
    in_global: bool = False,
    resolve: Resolver | None = None,
    env: Mapping[str, str] | None = None,
) -> LogTarget:
    """Parse one ``log`` line (``args[0] == "log"``) into a LogTarget.

    ``in_global`` selects the global section's wording of the errors; ``env``
    serves the target's ``$VAR`` expansion (None: no variable is defined).
    Raises ConfigError with HAProxy's text (see the module docstring for the
    prefix).
    """
    if in_global and is_log_global(args):
        raise ConfigError("'global' is not supported for a global syslog server")
    if not _arg(args, 1) or not _arg(args, 2):
        alt = "" if in_global else "or global"
        raise ConfigError(f"expects <address> and <facility> {alt} as arguments")
    cur = 2
    maxlen = DEFAULT_MAXLEN
    if _arg(args, cur) == "len":
        # atoi(): "100abc" is 100, "" is 0.
        maxlen = parse_int(_arg(args, cur + 1))
        if maxlen < 80 or maxlen > 65535:
            raise ConfigError(
                f"invalid log length '{_arg(args, cur + 1)}', must be between 80 and 65535"
            )
        cur += 2
    fmt = FORMAT_UNSPEC
    if _arg(args, cur) == "format":
        found = get_format(_arg(args, cur + 1))
        if found is None:
            raise ConfigError(f"unknown log format '{_arg(args, cur + 1)}'")
        fmt = found
        cur += 2
    sample = None
    if _arg(args, cur) == "sample":
        sample = parse_sample(_arg(args, cur + 1))
        cur += 2
    facility = _arg(args, cur)
    if get_facility(facility) < 0:
        raise ConfigError(f"unknown log facility '{facility}'")
    cur += 1
    level = "debug"
    if _arg(args, cur):
        level = args[cur]
        if get_level(level) < 0:
            raise ConfigError(f"unknown optional log level '{level}'")
        cur += 1
    minlevel = "emerg"
    if _arg(args, cur):
        minlevel = args[cur]
        if get_level(minlevel) < 0:
            raise ConfigError(f"unknown optional minimum log level '{minlevel}'")
        cur += 1
    if _arg(args, cur):
        raise ConfigError(f"cannot handle unexpected argument '{args[cur]}'")

    target = args[1]
    if target.startswith("ring@"):
        raise ConfigError(
            f"'{target}': ring buffer log targets are not supported by herdsman; "
            "remove it or use haproxy."
        )
    addr = parse_log_address(target, resolve, env)
    return LogTarget(
        target=target,
        address=addr,
        facility=facility,
        level=level,
        minlevel=minlevel,
        format=fmt,
        maxlen=maxlen,
        sample=sample,
        loc=loc,
    )


def max_syslog_len(targets: Iterable[LogTarget]) -> int:
    """``global.max_syslog_len``: the largest ``len`` of every log line in the config.

    HAProxy formats each message into a buffer of that size before sending it
    to any target, so the message itself is cut to this length minus one.
    Pass every target of the configuration (global, defaults, proxies).
    """
    return max((t.maxlen for t in targets), default=0)


# -- sample <ranges>:<size> -------------------------------------------------------


def _read_uint(text: str, pos: int, end: int) -> tuple[int, int]:
    """``__read_uint()``: digits from ``pos``; wraps like a C unsigned int."""
    value = 0
    while pos < end and "0" <= text[pos] <= "9":
        value = (value * 10 + ord(text[pos]) - 48) & 0xFFFFFFFF
        pos += 1
    return value, pos


def parse_sample(text: str) -> tuple[tuple[tuple[int, int], ...], int]:
    """``sample <ranges>:<size>``: sorted ``(low, high)`` ranges (from 1) and the size."""
    ranges_text, colon, size_text = text.partition(":")
    if not colon:
        raise ConfigError("Missing sample size")
    ranges: list[tuple[int, int]] = []
    highest = 0
    p, end = 0, len(ranges_text)
    while p != end:  # get_logsrv_smp_range()
        stop = ranges_text.find(",", p)
        if stop < 0:
            stop = end
        low, q = _read_uint(ranges_text, p, stop)
        high = low
        bad = not low or (q != stop and ranges_text[q] != "-")
        if not bad and q != stop:
            high, q = _read_uint(ranges_text, q + 1, stop)
            bad = not high or high <= low or q != stop
        if bad:
            # the text from this range to the end of the list, as HAProxy prints it
            raise ConfigError(f"wrong sample range '{ranges_text[p:]}'")
        # smp_log_ranges_overlap() only tests the new bounds against each range
        for lo, hi in ranges:
            if lo <= low <= hi or lo <= high <= hi:
                raise ConfigError("ranges are overlapping")
        ranges.append((low, high))
        highest = max(highest, high)
        p = stop + 1 if stop < end else stop
    if not ranges:
        raise ConfigError("no sampling ranges given")
    size, q = _read_uint(size_text, 0, len(size_text))
    if not size or q != len(size_text):
        raise ConfigError(f"wrong sample size '{size_text}' for sample range '{ranges_text}'")
    if size < highest:
        raise ConfigError(
            f"sample size {size} should be greater or equal to {highest} "
            "the maximum of the high ranges limits"
        )
    return tuple(sorted(ranges)), size


# -- log-tag, log-send-hostname ------------------------------------------------------


def parse_log_tag(args: list[str], *, in_global: bool) -> str:
    """``log-tag <tag>``. Only the global section refuses extra words."""
    if in_global and len(args) > 2 and args[2]:
        raise ConfigError(f"'{args[0]}' cannot handle unexpected argument '{args[2]}'.")
    if not _arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects a tag for use in syslog.")
    return args[1]


def parse_log_send_hostname(args: list[str], hostname: str | None = None) -> str:
    """``log-send-hostname [<name>]``: the name, else the system host name.

    A second ``log-send-hostname`` is a non-fatal alert ("'%s' already
    specified. Continuing.") that the caller emits. Extra words are ignored.
    """
    if _arg(args, 1):
        return args[1]
    return hostname if hostname is not None else socket.gethostname()


# -- the target: str2sa_range() restricted to what "log" accepts -------------------

# (prefix, family, stream) in str2sa_range()'s order; stream None keeps the default.
_PREFIXES: tuple[tuple[str, Family | None, bool | None], ...] = (
    ("unix@", Family.UNIX, None),
    ("uxdg@", Family.UNIX, False),
    ("uxst@", Family.UNIX, True),
    ("abns@", Family.ABNS, None),
    ("ip@", None, None),
    ("ipv4@", Family.INET, None),
    ("ipv6@", Family.INET6, None),
    ("tcp4@", Family.INET, True),
    ("udp4@", Family.INET, False),
    ("tcp6@", Family.INET6, True),
    ("udp6@", Family.INET6, False),
    ("tcp@", None, True),
    ("udp@", None, False),
    ("fd@", Family.FD, None),
    ("sockpair@", Family.SOCKPAIR, None),
)
_AF = {None: socket.AF_UNSPEC, Family.INET: socket.AF_INET, Family.INET6: socket.AF_INET6}
_SUN_PATH = 108  # sizeof(sun_path) on Linux
_STRTOL = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+")
_DNS_LABEL = re.compile(r"[A-Za-z0-9_-]{0,63}")


def _c_int(value: int) -> int:
    """C's ``(int)strtol(...)``: saturate to a long, then keep the low 32 bits."""
    value = max(min(value, 2**63 - 1), -(2**63))
    value &= 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def _resolve(host: str, family: int) -> str | None:
    """``str2ip2(..., resolve=1)``: the first getaddrinfo() answer (HAProxy built with GAI)."""
    try:
        infos = socket.getaddrinfo(host, None, family, socket.SOCK_DGRAM)
    except (OSError, UnicodeError):
        return None
    if not infos:
        return None
    # the first answer only; its family is checked by the caller
    return str(infos[0][4][0]).split("%", 1)[0]


def _valid_hostname(host: str) -> bool:
    """``resolv_hostname_validation()``: letters, digits, '-', '_' in labels of <= 63.

    Like HAProxy, empty labels ("a..b", a leading or trailing dot) pass.
    """
    return len(host) <= 255 and all(_DNS_LABEL.fullmatch(label) for label in host.split("."))


def _str2ip(text: str, family: Family | None, resolve: Resolver) -> tuple[Family, str] | None:
    """``str2ip2()``: an IP literal, ``::``, ``*``/empty (any), or a host name."""
    if text.startswith("["):
        if len(text) < 4 or len(text) >= 48 or not text.endswith("]"):
            return None
        text = text[1:-1]
    if text == "::":
        return (Family.INET6, "::") if family in (None, Family.INET6) else None
    if text in ("", "*"):
        fam = family or Family.INET
        return fam, ("::" if fam is Family.INET6 else "0.0.0.0")
    for fam, af in ((Family.INET6, socket.AF_INET6), (Family.INET, socket.AF_INET)):
        if family in (None, fam):
            try:  # inet_pton(): the same strict syntax as the C library's
                packed = socket.inet_pton(af, text)
            except (OSError, ValueError):
                continue
            return fam, str(ipaddress.ip_address(packed))
    if not _valid_hostname(text):
        return None
    found = resolve(text, _AF[family])
    if found is None:
        return None
    fam = Family.INET6 if ":" in found else Family.INET
    if family is not None and fam is not family:
        return None
    return fam, found


def parse_log_address(
    text: str, resolve: Resolver | None = None, env: Mapping[str, str] | None = None
) -> Address:
    """Parse a log target (``stdout``, ``fd@2``, ``/dev/log``, ``udp@host:port``...).

    Raises ConfigError with ``str2sa_range()``'s texts, or herdsman's refusal of
    stream targets. ``resolve`` defaults to getaddrinfo(); ``env`` serves
    ``$VAR`` (None: no variable is defined).
    """
    raw = text
    # The aliases are recognised before the expansion: "std${X}out" is a host name.
    if text == "stdout":
        text = "fd@1"
    elif text == "stderr":
        text = "fd@2"
    text = env_expand(text, env or {})
    if not text:
        raise ConfigError(f"'{raw}' resolves to an empty address (environment variable missing?)\n")
    stream = False  # PA_O_DEFAULT_DGRAM
    quic = False
    if text.startswith("stream+"):
        text, stream = text[7:], True
    elif text.startswith("dgram+"):
        text, stream = text[6:], False
    family: Family | None = None
    for prefix, fam, kind in _PREFIXES:
        if text.startswith(prefix):
            text, family = text[len(prefix) :], fam
            stream = stream if kind is None else kind
            break
    else:
        if text.startswith(("quic4@", "quic6@")):
            family = Family.INET if text[4] == "4" else Family.INET6
            text, quic = text[6:], True
        elif text.startswith("/"):
            family = Family.UNIX

    if family in (Family.FD, Family.SOCKPAIR):
        if not text or not _STRTOL.fullmatch(text) or _c_int(int(text)) < 0:
            raise ConfigError(f"file descriptor '{text}' is not a valid integer in '{raw}'\n")
        if family is Family.SOCKPAIR:
            raise ConfigError(
                f"'{raw}': sockpair@ log targets are not supported by herdsman; "
                "remove it or use haproxy."
            )
        return Address(raw=raw, family=Family.FD, fd=_c_int(int(text)))

    if family in (Family.UNIX, Family.ABNS):
        # room for HAProxy's ".<pid>.tmp" suffix, except for abstract names
        limit = _SUN_PATH - 1 - (0 if family is Family.ABNS else 1 + 5 + 1 + 3)
        if len(text.encode()) > limit:
            raise ConfigError(f"socket path '{raw}' too long (max {limit})\n")
        addr = Address(raw=raw, family=family, host=text)
    else:
        addr = _parse_ip(raw, text, family, resolve or _resolve)
        if quic:
            af = socket.AF_INET if addr.family is Family.INET else socket.AF_INET6
            raise ConfigError(
                f"unsupported stream protocol for datagram family {int(af)} address '{raw}'; "
                "QUIC is not compiled in if this is what you were looking for."
            )
    if stream:
        raise ConfigError(
            f"'{raw}': stream log targets (an implicit ring buffer) are not supported by "
            "herdsman; remove it or use haproxy."
        )
    return addr


def _parse_ip(raw: str, text: str, family: Family | None, resolve: Resolver) -> Address:
    """The IPv4/IPv6 branch of ``str2sa_range()``: ``host[:port]``, ``[v6][:port]``."""
    # The last ':' or ']' (never the first character) decides whether a port follows;
    # an unbracketed IPv6 address therefore needs a trailing ':'.
    port_text = ""
    i = len(text) - 1
    while i > 0 and text[i] not in "]:":
        i -= 1
    if text[i : i + 1] == ":":
        text, port_text = text[:i], text[i + 1 :]
    port = 0
    if port_text[:1].isdigit() and port_text[:1].isascii():
        if "-" in port_text:
            raise ConfigError(f"port range not permitted here in '{raw}'")
        port = _c_int(parse_int(port_text))  # atoi()
        if port < 0 or port > 65535:
            raise ConfigError(f"invalid port '{port_text}'")
    elif port_text[:1] in ("-", "+"):
        raise ConfigError(f"port offset not permitted here in '{raw}'")
    elif port_text:
        raise ConfigError(
            f"invalid character '{port_text[0]}' in port number '{port_text}' in '{raw}'\n"
        )
    found = _str2ip(text, family, resolve)
    if found is None:
        raise ConfigError(f"invalid address: '{text}' in '{raw}'\n")
    fam, host = found
    return Address(raw=raw, family=fam, host=host, port=port or SYSLOG_PORT)
