"""Time and size arguments (``tools.c parse_time_err()`` / ``parse_size_err()``).

Every message below was printed by ``haproxy -c`` 2.6.12; the tests marked
``haproxy`` replay the tables through the binary.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from herdsman.config.diag import ConfigError
from herdsman.config.units import (
    UnitError,
    c_atoi,
    c_strtol,
    parse_size,
    parse_time,
    proxy_time_arg,
    server_time_arg,
)

HAPROXY = shutil.which("haproxy")
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="haproxy binary not installed")

TIMES_MS = [
    ("0", 0),
    ("10", 10),
    ("10ms", 10),
    ("10s", 10_000),
    ("1m", 60_000),
    ("1h", 3_600_000),
    ("24d", 2_073_600_000),
    ("2147483647", 2147483647),
    ("2147483s", 2147483000),
    ("1000us", 1),
    # Conversions round up, so a non-zero sub-millisecond value is 1 ms.
    ("1us", 1),
    ("500us", 1),
    ("1001us", 2),
    ("0us", 0),
    # The digits wrap around in 64 bits, as in C.
    ("18446744073709551616", 0),
    ("18446744073709551617", 1),
]


@pytest.mark.parametrize(("text", "ms"), TIMES_MS)
def test_parse_time_milliseconds(text: str, ms: int) -> None:
    assert parse_time(text) == ms


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("30", "s", 30),  # a bare number is in the caller's unit...
        ("1500ms", "s", 2),  # ...and so is the result, rounded up
        ("1m", "s", 60),
        ("90s", "m", 2),
        ("5", "us", 5),
        ("2ms", "us", 2000),
    ],
)
def test_parse_time_result_is_in_the_default_unit(text: str, unit: str, value: int) -> None:
    assert parse_time(text, unit) == value


@pytest.mark.parametrize(
    ("text", "kind", "char"),
    [
        ("", "empty", ""),
        ("x", "char", "x"),
        ("-5", "char", "-"),
        ("+5", "char", "+"),
        ("1.5s", "char", "."),
        ("10S", "char", "S"),  # suffixes are case-sensitive
        ("10u", "char", "u"),
        ("10ux", "char", "u"),
        ("2147483648", "overflow", "2"),
        ("25d", "overflow", "2"),
        ("597h", "overflow", "5"),
        ("2147483647001us", "overflow", "2"),
        ("99999999999999999999999", "overflow", "9"),
    ],
)
def test_parse_time_errors(text: str, kind: str, char: str) -> None:
    with pytest.raises(UnitError) as exc:
        parse_time(text)
    assert (exc.value.kind, exc.value.char) == (kind, char)


def test_parse_time_limit_is_counted_in_the_output_unit() -> None:
    assert parse_time("2147483647s", "s") == 2147483647
    with pytest.raises(UnitError):
        parse_time("2147483648s", "s")


@pytest.mark.parametrize(
    ("text", "value", "warning"),
    [
        ("10sx", 10_000, "'x' after the timer value '10sx'"),
        ("10msx", 10, "'x' after the timer value '10msx'"),
        ("1mx", 60_000, "'x' after the timer value '1mx'"),
        ("10s", 10_000, None),
    ],
)
def test_characters_after_a_suffix_are_only_a_warning(
    text: str, value: int, warning: str | None
) -> None:
    seen: list[str] = []
    assert parse_time(text, warn=seen.append) == value
    if warning is None:
        assert seen == []
    else:
        assert seen == [
            f"unexpected character {warning}, only (us=microseconds,ms=milliseconds,"
            "s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported "
            "as an error in next versions."
        ]


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("100", 100), ("1k", 1024), ("1K", 1024), ("2m", 2 << 20), ("3G", 3 << 30)],
    ids=str,
)
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize(
    ("text", "kind", "pos"),
    [
        ("", "empty", 0),
        ("k", "char", 0),
        ("1kb", "char", 2),  # one character after the suffix
        ("1t", "char", 1),
        ("4294967295", None, 0),
        ("4294967296", "overflow", 9),
        ("42949672950", "overflow", 10),
        ("4194304k", "overflow", 7),
        ("4g", "overflow", 1),
    ],
)
def test_parse_size_errors(text: str, kind: str | None, pos: int) -> None:
    if kind is None:
        assert parse_size(text) == 4294967295
        return
    with pytest.raises(UnitError) as exc:
        parse_size(text)
    assert (exc.value.kind, exc.value.pos) == (kind, pos)


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        ("12", 10, (12, 2)),
        ("  -7x", 10, (-7, 4)),
        ("x", 10, (0, 0)),
        ("+", 10, (0, 0)),
        ("0x1f", 0, (31, 4)),
        ("0x", 0, (0, 1)),  # "0" then an unused 'x'
        ("017", 0, (15, 3)),
        ("08", 0, (0, 1)),
        ("99999999999999999999", 10, ((1 << 63) - 1, 20)),  # clamped
    ],
)
def test_c_strtol(text: str, base: int, expected: tuple[int, int]) -> None:
    assert c_strtol(text, 0, base) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [("80", 80), ("1x", 1), ("x", 0), ("4294967297", 1), ("99999999999999999999", -1)],
)
def test_c_atoi_truncates_to_an_int(text: str, value: int) -> None:
    assert c_atoi(text) == value


# -- keyword messages --------------------------------------------------------------

PROXY_ERRORS = [
    ("", "'timeout connect' expects an integer value (in milliseconds)"),
    ("10x", "unexpected character 'x' in 'timeout connect'"),
    ("1.5s", "unexpected character '.' in 'timeout connect'"),
    ("10S", "unexpected character 'S' in 'timeout connect'"),
    (
        "2147483648",
        "timer overflow in argument '2147483648' to 'timeout connect' "
        "(maximum value is 2147483647 ms or ~24.8 days)",
    ),
    (
        "25d",
        "timer overflow in argument '25d' to 'timeout connect' "
        "(maximum value is 2147483647 ms or ~24.8 days)",
    ),
]


@pytest.mark.parametrize(("arg", "message"), PROXY_ERRORS)
def test_proxy_time_messages(arg: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        proxy_time_arg("timeout connect", arg)
    assert exc.value.message == message


OVERFLOW = "maximum value is 2147483647 ms (~24.8 days)."

# (keyword, argument, message as the keyword parser builds it; the server
# dispatcher appends one more '.')
SERVER_ERRORS = [
    ("inter", "", "'inter' expects a delay as argument."),
    ("inter", "10x", "unexpected character 'x' in 'agent-inter' argument of server s1."),
    ("fastinter", "10x", "unexpected character 'x' in 'agent-inter' argument of server s1."),
    ("downinter", "10x", "unexpected character 'x' in 'agent-inter' argument of server s1."),
    ("agent-inter", "1x", "unexpected character 'x' in 'agent-inter' argument of server s1."),
    ("inter", "0", "invalid value 0 for argument 'inter' of server s1."),
    ("downinter", "0us", "invalid value 0 for argument 'downinter' of server s1."),
    ("inter", "25d", f"timer overflow in argument <25d> to <inter> of server s1, {OVERFLOW}"),
    (
        "agent-inter",
        "25d",
        f"timer overflow in argument <25d> to <agent-inter> of server s1, {OVERFLOW}",
    ),
    ("slowstart", "25d", f"overflow in argument <25d> to <slowstart> of server s1, {OVERFLOW}"),
    ("slowstart", "10x", "unexpected character 'x' in 'slowstart' argument of server s1."),
    ("slowstart", "", "unexpected character '"),  # the C string stops at the NUL
    ("pool-purge-delay", "", "'pool-purge-delay' expects <value> as argument.\n"),
    ("pool-purge-delay", "10x", "unexpected character 'x' in argument to <pool-purge-delay>.\n"),
    (
        "pool-purge-delay",
        "25d",
        "timer overflow in argument '25d' to 'pool-purge-delay' "
        "(maximum value is 2147483647 ms or ~24.8 days)",
    ),
]


@pytest.mark.parametrize(("kw", "arg", "message"), SERVER_ERRORS)
def test_server_time_messages(kw: str, arg: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        server_time_arg(kw, arg, "s1")
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("kw", "arg", "ms"),
    [
        ("inter", "1us", 1),
        ("slowstart", "0", 0),
        ("pool-purge-delay", "0", 0),
        ("inter", "3s", 3000),
    ],
)
def test_server_time_values(kw: str, arg: str, ms: int) -> None:
    assert server_time_arg(kw, arg, "s1") == ms


# -- against the binary ------------------------------------------------------------

_LINE = re.compile(r"\[(ALERT|WARNING)\] +\(\d+\) : config : (.*)")


def _haproxy_messages(cfg: Path) -> list[str]:
    assert HAPROXY is not None
    out = subprocess.run(
        [HAPROXY, "-c", "-f", cfg.name],
        cwd=cfg.parent,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    skip = ("Error(s) found", "Fatal errors found")
    return [
        m.group(2)
        for line in out.stderr.splitlines()
        if (m := _LINE.match(line)) and not any(s in m.group(2) for s in skip)
    ]


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize(("arg", "message"), PROXY_ERRORS[1:])
def test_proxy_messages_match_haproxy(tmp_path: Path, arg: str, message: str) -> None:
    cfg = tmp_path / "t.cfg"
    cfg.write_text(f"defaults\n    timeout connect {arg}\n")
    assert _haproxy_messages(cfg) == [f"parsing [t.cfg:2] : {message}"]


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize(("kw", "arg", "message"), SERVER_ERRORS)
def test_server_messages_match_haproxy(tmp_path: Path, kw: str, arg: str, message: str) -> None:
    cfg = tmp_path / "t.cfg"
    cfg.write_text(f"backend b\n    server s1 127.0.0.1:80 {kw} {arg}\n")
    # display_parser_err() appends '.', and a message ending in a newline loses it.
    text = message.rstrip("\n") + "."
    assert _haproxy_messages(cfg) == [f"[t.cfg:2] : 'server b/s1' : {text}"]


@pytest.mark.haproxy
@needs_haproxy
def test_trailing_character_warning_matches_haproxy(tmp_path: Path) -> None:
    cfg = tmp_path / "t.cfg"
    cfg.write_text("defaults\n    timeout connect 10sx\n")
    seen: list[str] = []
    parse_time("10sx", warn=seen.append)
    assert _haproxy_messages(cfg) == seen  # no location prefix for proxy keywords


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize("arg", ["1us", "500us", "999us", "0us", "1001us"])
def test_sub_millisecond_rounding_matches_haproxy(tmp_path: Path, arg: str) -> None:
    """``inter`` refuses 0: HAProxy keeps every non-zero sub-ms value non-zero."""
    cfg = tmp_path / "t.cfg"
    cfg.write_text(
        "backend b\n    timeout connect 1s\n    timeout server 1s\n"
        f"    server s1 127.0.0.1:80 inter {arg}\n"
    )
    refused = bool(_haproxy_messages(cfg))
    assert refused == (parse_time(arg) == 0)
