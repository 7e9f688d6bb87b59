"""The ``log`` keyword, ``log-tag`` and ``log-send-hostname`` (``src/log.c parse_logsrv()``).

Every error text below was produced by ``haproxy -c`` 2.6.12; the test marked
``haproxy`` replays the whole table through the binary in one run.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from herdsman.config.diag import ConfigError, Location
from herdsman.config.log import (
    DEFAULT_MAXLEN,
    FACILITIES,
    FORMAT_UNSPEC,
    FORMATS,
    LEVELS,
    check_no_log,
    get_facility,
    get_level,
    is_log_global,
    max_syslog_len,
    parse_log,
    parse_log_send_hostname,
    parse_log_tag,
    parse_sample,
)
from herdsman.config.model import LogTarget
from herdsman.config.model_addr import Family

HAPROXY = shutil.which("haproxy")
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


def fake_resolve(host: str, family: int) -> str | None:
    """A resolver that knows two names and answers for the family asked."""
    table = {"v4.test": "192.0.2.7", "v6.test": "2001:db8::7"}
    ip = table.get(host)
    if ip is None:
        return None
    if family == socket.AF_INET and ":" in ip:
        return None
    if family == socket.AF_INET6 and ":" not in ip:
        return None
    return ip


def parse(line: str, *, in_global: bool = False) -> LogTarget:
    return parse_log(line.split(), Location("t.cfg", 3), in_global=in_global, resolve=fake_resolve)


# -- accepted lines ------------------------------------------------------------------

# (line, family, host, port, fd)
ADDRESSES = [
    ("log 127.0.0.1 local0", Family.INET, "127.0.0.1", 514, -1),
    ("log 127.0.0.1:0 local0", Family.INET, "127.0.0.1", 514, -1),
    ("log 127.0.0.1: local0", Family.INET, "127.0.0.1", 514, -1),
    ("log 127.0.0.1:1514 local0", Family.INET, "127.0.0.1", 1514, -1),
    ("log 127.0.0.1:12ab local0", Family.INET, "127.0.0.1", 12, -1),  # atoi()
    ("log udp@127.0.0.1:9 local0", Family.INET, "127.0.0.1", 9, -1),
    ("log udp4@127.0.0.1:9 local0", Family.INET, "127.0.0.1", 9, -1),
    ("log ipv4@127.0.0.1:9 local0", Family.INET, "127.0.0.1", 9, -1),
    ("log ip@127.0.0.1 local0", Family.INET, "127.0.0.1", 514, -1),
    ("log dgram+127.0.0.1 local0", Family.INET, "127.0.0.1", 514, -1),
    ("log :514 local0", Family.INET, "0.0.0.0", 514, -1),
    ("log * local0", Family.INET, "0.0.0.0", 514, -1),
    ("log [::1] local0", Family.INET6, "::1", 514, -1),
    ("log [::1]:515 local0", Family.INET6, "::1", 515, -1),
    ("log ::1: local0", Family.INET6, "::1", 514, -1),
    ("log ipv6@::1:600 local0", Family.INET6, "::1", 600, -1),
    ("log udp6@[2001:DB8::1] local0", Family.INET6, "2001:db8::1", 514, -1),
    ("log v4.test:7 local0", Family.INET, "192.0.2.7", 7, -1),
    ("log v6.test local0", Family.INET6, "2001:db8::7", 514, -1),
    ("log ipv6@v6.test local0", Family.INET6, "2001:db8::7", 514, -1),
    ("log /dev/log local0", Family.UNIX, "/dev/log", 0, -1),
    ("log unix@/tmp/x.sock local0", Family.UNIX, "/tmp/x.sock", 0, -1),
    ("log uxdg@rel.sock local0", Family.UNIX, "rel.sock", 0, -1),
    ("log abns@syslog local0", Family.ABNS, "syslog", 0, -1),
    ("log stdout local0", Family.FD, "", 0, 1),
    ("log stderr local0", Family.FD, "", 0, 2),
    ("log fd@3 local0", Family.FD, "", 0, 3),
    ("log fd@+4 local0", Family.FD, "", 0, 4),
    ("log stream+fd@1 local0", Family.FD, "", 0, 1),
]


@pytest.mark.parametrize(("line", "family", "host", "port", "fd"), ADDRESSES)
def test_target_addresses(line: str, family: Family, host: str, port: int, fd: int) -> None:
    """The target is str2sa_range()'s datagram subset; no port or port 0 means 514."""
    t = parse(line)
    assert t.address is not None
    assert (t.address.family, t.address.host, t.address.port, t.address.fd) == (
        family,
        host,
        port,
        fd,
    )
    assert t.target == line.split()[1]
    assert t.address.raw == line.split()[1]


def test_defaults() -> None:
    """Without options: len 1024, format unspecified, levels debug..emerg, no sampling."""
    t = parse("log 127.0.0.1 daemon")
    assert (t.facility, t.level, t.minlevel) == ("daemon", "debug", "emerg")
    assert t.format == FORMAT_UNSPEC
    assert t.maxlen == DEFAULT_MAXLEN
    assert t.sample is None
    assert t.loc == Location("t.cfg", 3)


def test_all_options() -> None:
    """The options come in a fixed order: len, format, sample, facility, max, min."""
    t = parse("log 127.0.0.1 len 80 format rfc5424 sample 2-3,1:4 local7 info crit")
    assert t.maxlen == 80
    assert t.format == "rfc5424"
    assert t.sample == (((1, 1), (2, 3)), 4)
    assert (t.facility, t.level, t.minlevel) == ("local7", "info", "crit")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_name(fmt: str) -> None:
    assert parse(f"log 127.0.0.1 format {fmt} local0").format == fmt


@pytest.mark.parametrize("facility", FACILITIES)
def test_every_facility(facility: str) -> None:
    assert get_facility(facility) == FACILITIES.index(facility)
    assert parse(f"log 127.0.0.1 {facility}").facility == facility


def test_levels_and_names_are_case_sensitive() -> None:
    assert [get_level(n) for n in LEVELS] == list(range(8))
    assert get_level("INFO") == -1
    assert get_facility("Local0") == -1
    assert len(FACILITIES) == 24


def test_len_uses_atoi() -> None:
    assert parse("log 127.0.0.1 len 100abc local0").maxlen == 100


SAMPLES = [
    ("1:1", (((1, 1),), 1)),
    ("1-3,5:10", (((1, 3), (5, 5)), 10)),
    ("5,1-3:10", (((1, 3), (5, 5)), 10)),
    ("1,:5", (((1, 1),), 5)),
    ("2-3,1-5:5", (((1, 5), (2, 3)), 5)),  # accepted: only the new bounds are tested
    ("1:99999999999", (((1, 1),), 1215752191)),  # read_uint() wraps
]


@pytest.mark.parametrize(("text", "expected"), SAMPLES)
def test_sample(text: str, expected: object) -> None:
    assert parse_sample(text) == expected


def test_max_syslog_len() -> None:
    targets = [parse("log 127.0.0.1 len 80 local0"), parse("log 127.0.0.1 len 2000 local0")]
    assert max_syslog_len(targets) == 2000
    assert max_syslog_len([]) == 0


# -- errors ---------------------------------------------------------------------------

# (section, line, message after "log : "); section "g" = global, "p" = proxy.
ERRORS = [
    ("g", "log", "expects <address> and <facility>  as arguments"),
    ("p", "log", "expects <address> and <facility> or global as arguments"),
    ("g", "log 1.2.3.4", "expects <address> and <facility>  as arguments"),
    ("p", "log Local0", "expects <address> and <facility> or global as arguments"),
    ("g", "log global", "'global' is not supported for a global syslog server"),
    ("g", "log global local0", "invalid address: 'global' in 'global'\n"),
    ("p", "log global local0", "invalid address: 'global' in 'global'\n"),
    ("g", "log 1.2.3.4 len 79 local0", "invalid log length '79', must be between 80 and 65535"),
    (
        "g",
        "log 1.2.3.4 len 65536 local0",
        "invalid log length '65536', must be between 80 and 65535",
    ),
    ("g", "log 1.2.3.4 len abc local0", "invalid log length 'abc', must be between 80 and 65535"),
    ("g", "log 1.2.3.4 len", "invalid log length '', must be between 80 and 65535"),
    ("g", "log 1.2.3.4 len 100", "unknown log facility ''"),
    ("g", "log 1.2.3.4 len 100 format foo local0", "unknown log format 'foo'"),
    ("g", "log 1.2.3.4 format", "unknown log format ''"),
    ("g", "log format raw local0", "unknown log facility 'raw'"),
    ("g", "log 1.2.3.4 format raw len 100 local0", "unknown log facility 'len'"),
    ("g", "log 1.2.3.4 foo", "unknown log facility 'foo'"),
    ("g", "log 1.2.3.4 local0 foo", "unknown optional log level 'foo'"),
    ("p", "log 1.2.3.4 local0 INFO", "unknown optional log level 'INFO'"),
    ("g", "log 1.2.3.4 local0 info foo", "unknown optional minimum log level 'foo'"),
    ("g", "log 1.2.3.4 local0 info info x", "cannot handle unexpected argument 'x'"),
    ("g", "log 1.2.3.4 sample 1-3 local0", "Missing sample size"),
    ("g", "log 1.2.3.4 sample local0", "Missing sample size"),
    ("g", "log 1.2.3.4 sample 0:3 local0", "wrong sample range '0'"),
    ("g", "log 1.2.3.4 sample 1,x,3:5 local0", "wrong sample range 'x,3'"),
    ("g", "log 1.2.3.4 sample 3-1:5 local0", "wrong sample range '3-1'"),
    ("g", "log 1.2.3.4 sample 1-:5 local0", "wrong sample range '1-'"),
    ("g", "log 1.2.3.4 sample 1-3,2:5 local0", "ranges are overlapping"),
    ("g", "log 1.2.3.4 sample :5 local0", "no sampling ranges given"),
    ("g", "log 1.2.3.4 sample 1-3:2x local0", "wrong sample size '2x' for sample range '1-3'"),
    (
        "g",
        "log 1.2.3.4 sample 1-3:2 local0",
        "sample size 2 should be greater or equal to 3 the maximum of the high ranges limits",
    ),
    (
        "g",
        "log 1.2.3.4 sample 99999999999:5 local0",
        "sample size 5 should be greater or equal to 1215752191 the maximum of the high "
        "ranges limits",
    ),
    # the facility is checked before the address
    ("g", "log 1.2.3.4:99999 nofac", "unknown log facility 'nofac'"),
    ("g", "log 1.2.3.4:99999 local0", "invalid port '99999'"),
    (
        "g",
        "log 1.2.3.4:abc local0",
        "invalid character 'a' in port number 'abc' in '1.2.3.4:abc'\n",
    ),
    ("g", "log 1.2.3.4:1-5 local0", "port range not permitted here in '1.2.3.4:1-5'"),
    ("p", "log 1.2.3.4:+5 local0", "port offset not permitted here in '1.2.3.4:+5'"),
    ("p", "log 1.2.3.4:-5 local0", "port offset not permitted here in '1.2.3.4:-5'"),
    ("g", "log ipv6@::1 local0", "invalid address: ':' in 'ipv6@::1'\n"),
    ("p", "log ipv4@::1: local0", "invalid address: '::1' in 'ipv4@::1:'\n"),
    ("p", "log ipv6@1.2.3.4 local0", "invalid address: '1.2.3.4' in 'ipv6@1.2.3.4'\n"),
    ("p", "log udp6@1.2.3.4 local0", "invalid address: '1.2.3.4' in 'udp6@1.2.3.4'\n"),
    ("p", "log [::1 local0", "invalid address: '[:' in '[::1'\n"),
    ("g", "log foo.invalid local0", "invalid address: 'foo.invalid' in 'foo.invalid'\n"),
    ("g", "log fd@x local0", "file descriptor 'x' is not a valid integer in 'fd@x'\n"),
    ("p", "log fd@-1 local0", "file descriptor '-1' is not a valid integer in 'fd@-1'\n"),
    ("p", "log fd@ local0", "file descriptor '' is not a valid integer in 'fd@'\n"),
    (
        "p",
        "log quic4@1.2.3.4 local0",
        "unsupported stream protocol for datagram family 2 address 'quic4@1.2.3.4'; "
        "QUIC is not compiled in if this is what you were looking for.",
    ),
    (
        "g",
        "log unix@/" + "a" * 97 + " local0",
        "socket path 'unix@/" + "a" * 97 + "' too long (max 97)\n",
    ),
    (
        "g",
        "log abns@" + "a" * 108 + " local0",
        "socket path 'abns@" + "a" * 108 + "' too long (max 107)\n",
    ),
]


@pytest.mark.parametrize(("section", "line", "message"), ERRORS)
def test_error_texts(section: str, line: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(line, in_global=section == "g")
    assert info.value.message == message


# Accepted by HAProxy, refused by herdsman (a ring buffer or a TCP forwarder).
REFUSED = [
    ("log ring@buf local0", "'ring@buf': ring buffer log targets"),
    ("log tcp@127.0.0.1:514 local0", "'tcp@127.0.0.1:514': stream log targets"),
    ("log tcp4@127.0.0.1 local0", "'tcp4@127.0.0.1': stream log targets"),
    ("log tcp6@[::1] local0", "'tcp6@[::1]': stream log targets"),
    ("log uxst@/tmp/x local0", "'uxst@/tmp/x': stream log targets"),
    ("log stream+127.0.0.1 local0", "'stream+127.0.0.1': stream log targets"),
    ("log sockpair@3 local0", "'sockpair@3': sockpair@ log targets"),
]


@pytest.mark.parametrize(("line", "start"), REFUSED)
def test_refused_targets(line: str, start: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(line)
    assert info.value.message.startswith(start)
    assert info.value.message.endswith("are not supported by herdsman; remove it or use haproxy.")


def test_ring_refused_only_after_the_other_words() -> None:
    """HAProxy reads the target last: a bad facility is reported first."""
    with pytest.raises(ConfigError) as info:
        parse("log ring@buf nofac")
    assert info.value.message == "unknown log facility 'nofac'"


def test_log_global_and_no_log_forms() -> None:
    assert is_log_global(["log", "global"])
    assert not is_log_global(["log", "global", "local0"])
    assert not is_log_global(["log", "127.0.0.1", "local0"])
    check_no_log(["log"])
    with pytest.raises(ConfigError) as info:
        check_no_log(["log", "x"])
    assert info.value.message == "'no log' does not expect arguments"


def test_log_tag() -> None:
    assert parse_log_tag(["log-tag", "web"], in_global=True) == "web"
    assert parse_log_tag(["log-tag", "web", "extra"], in_global=False) == "web"
    with pytest.raises(ConfigError) as info:
        parse_log_tag(["log-tag"], in_global=False)
    assert info.value.message == "'log-tag' expects a tag for use in syslog."
    with pytest.raises(ConfigError) as info:
        parse_log_tag(["log-tag", "a", "b"], in_global=True)
    assert info.value.message == "'log-tag' cannot handle unexpected argument 'b'."


def test_log_send_hostname() -> None:
    assert parse_log_send_hostname(["log-send-hostname", "lb1"], "sys") == "lb1"
    assert parse_log_send_hostname(["log-send-hostname"], "sys") == "sys"
    assert parse_log_send_hostname(["log-send-hostname"]) == socket.gethostname()


# -- the same table through the real binary ----------------------------------------------

_ALERT = re.compile(r"\[ALERT\]    \(\d+\) : config : parsing \[[^]]*:(\d+)\] : (.*)")


def _haproxy_alerts(cfg: Path) -> dict[int, str]:
    """Line number -> alert text (with a "\\n" when HAProxy printed an empty line after)."""
    assert HAPROXY is not None
    out = subprocess.run(
        [HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30, check=False
    )
    found: dict[int, str] = {}
    lines = out.stderr.split("\n")
    for i, text in enumerate(lines):
        m = _ALERT.match(text)
        if m:
            blank = i + 1 < len(lines) and lines[i + 1] == ""
            found[int(m.group(1))] = m.group(2) + ("\n" if blank else "")
    return found


@pytest.mark.haproxy
@needs_haproxy
def test_error_texts_match_haproxy(tmp_path: Path) -> None:
    """One config holding every erroneous line; HAProxy reports each and goes on."""
    glob = [line for sec, line, _ in ERRORS if sec == "g"]
    prox = [line for sec, line, _ in ERRORS if sec == "p"]
    text = ["global", *(f"    {line}" for line in glob), "defaults", "backend b"]
    text += [f"    {line}" for line in prox]
    cfg = tmp_path / "h.cfg"
    cfg.write_text("\n".join(text) + "\n")
    alerts = _haproxy_alerts(cfg)
    expected: dict[int, str] = {}
    for n, line in enumerate(glob, start=2):
        expected[n] = "log : " + next(m for s, l_, m in ERRORS if s == "g" and l_ == line)
    base = 2 + len(glob) + 2
    for n, line in enumerate(prox, start=base):
        expected[n] = "log : " + next(m for s, l_, m in ERRORS if s == "p" and l_ == line)
    # The last line of the output is the final alert, never followed by a blank line:
    # only compare the texts HAProxy printed for our lines.
    assert {n: alerts.get(n) for n in expected} == expected


@pytest.mark.haproxy
@needs_haproxy
def test_accepted_lines_match_haproxy(tmp_path: Path) -> None:
    """Every line herdsman accepts (except the fake-resolver names) passes ``haproxy -c``."""
    lines = [line for line, *_ in ADDRESSES if ".test" not in line]
    lines += [
        "log 127.0.0.1 len 80 format rfc5424 sample 2-3,1:4 local7 info crit",
        "log 127.0.0.1 len 100abc local0",
        *(f"log 127.0.0.1 format {f} local0" for f in FORMATS),
        *(f"log 127.0.0.1 sample {s} local0" for s, _ in SAMPLES),
    ]
    body = "\n".join(f"    {line}" for line in lines)
    cfg = tmp_path / "ok.cfg"
    cfg.write_text(f"global\n{body}\ndefaults\nbackend b\n    log global\n    no log\n")
    assert _haproxy_alerts(cfg) == {}
    for line in lines:
        parse(line)
