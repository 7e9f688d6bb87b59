"""Log-format strings and sample expressions of checks (``sample/logformat.py``).

Every error text in ``HAPROXY_ERRORS`` was printed by ``haproxy -c`` 2.6.12
inside ``'tcp-check send-lf' : '<fmt>' invalid log-format string (<here>).``;
the ``haproxy`` test replays them through the binary.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from herdsman.sample.logformat import (
    DATE_US,
    PAYLOAD,
    LogFormat,
    LogFormatError,
    cast_int,
    parse_expr,
)
from herdsman.sample.types import Bin

CTX = {"srv_name": "s1", "srv_id": "3", "be_name": "app", "be_id": "7", "hostname": "lb1"}

EVALUATIONS = [
    ("plain text", "plain text"),
    ("100%% sure", "100% sure"),
    ("%[srv_name]/%[be_name]", "s1/app"),
    ("%[srv_id]-%[be_id]", "3-7"),
    ("%[str(Ab),lower]%[str(Ab),upper]", "abAB"),
    ("%[str(Ab),hex]", "4162"),
    ("%[str(Ab),base64]", "QWI="),
    # c_int2bin: an integer is 8 bytes, big endian, before hex/base64
    ("%[int(7),hex]", "0000000000000007"),
    ("%[int(-1),hex]", "FFFFFFFFFFFFFFFF"),
    ("%[srv_id,hex]", "0000000000000003"),
    ("%[int(42)]", "42"),
    ("%[str('a b'),upper]", "A B"),
    ("%[srv_name,,upper]", "S1"),
    ("%[hostname]", "lb1"),
    # a failed fetch adds nothing in checks (no LOG_OPT_MANDATORY "-")
    ("<%[env(HERDSMAN_TEST_UNSET_VARIABLE)]>", "<>"),
    ("<%[env]><%[str()]>", "<><>"),
    # "%-" and the like: HAProxy drops the '%' and keeps the character
    ("a%-b", "a-b"),
    ("%[int(1),htonl,hex]", "00000001"),
    ("%[int(-1),htonl,hex]", "FFFFFFFF"),
    ("%[str(12x),htonl,hex]", "0000000C"),  # c_str2int reads the leading digits
    ("<%[str(a\r\nb),cut_crlf]>", "<a>"),
    ("<%[str(  a ),ltrim(' ')]>", "<a >"),
    ("<%[str(xxya),ltrim(xy)]>", "<a>"),
    ("<%[res.payload(0,0)]>", "<>"),  # not a tcp-check: no payload
]

# The check's input buffer, and a fixed time (2023-11-14T22:13:20.123456Z).
PAYLOAD_CTX = {PAYLOAD: b"250-mx.example Hello\r\n250 OK\r\n", DATE_US: 1700000000123456}
PAYLOAD_EVALUATIONS = [
    ("%[res.payload(0,0)]", "250-mx.example Hello\r\n250 OK\r\n"),
    ("%[res.payload(0,0),cut_crlf]", "250-mx.example Hello"),
    ("%[res.payload(4,0),ltrim(' '),cut_crlf]", "mx.example Hello"),
    ("%[res.payload(0,3)]", "250"),
    ("<%[res.payload(30,0)]>", "<>"),  # offset at the end: empty
    ("<%[res.payload(31,0)]>", "<>"),  # beyond: the fetch fails
    ("<%[res.payload(0,40)]>", "<>"),  # not all there yet
    ("<%[res.payload(-1,0)]>", "<>"),  # unsigned in HAProxy: out of range
    ("<%[res.payload(0,16385)]>", "<>"),  # more than a buffer
    ("%[date()]", "1700000000"),
    ("%[date(10)]", "1700000010"),
    ("%[date(0,ms)]", "1700000000123"),
    ("%[date(0,us)]", "1700000000123456"),
    ("%[date(),htonl,hex]", "6553F100"),
]


@pytest.mark.parametrize(("fmt", "expected"), PAYLOAD_EVALUATIONS)
def test_payload_and_date(fmt: str, expected: str) -> None:
    """``res.payload`` reads the check's input buffer; ``date`` the clock (fixed here)."""
    assert LogFormat(fmt).evaluate(PAYLOAD_CTX) == expected


def test_binary_values_stop_at_nul() -> None:
    """A value is copied as a C string (``c_bin2str``, ``strlcpy2``): up to its first NUL."""
    ctx = {PAYLOAD: b"E\x00\x00\x00\x52SFATAL\x00VFATAL\x00C28000\x00"}
    assert LogFormat("[%[res.payload(6,0)]]").evaluate(ctx) == "[FATAL]"
    assert LogFormat("%[res.payload(0,0),hex]").evaluate(ctx).startswith("4500000052")


def test_runtime_integer_cast() -> None:
    """``c_str2int``: leading digits, an optional sign; empty and binary do not cast."""
    assert [cast_int(v) for v in ("250 OK", "-12", "+7", "x", "", Bin(b"250"), 3)] == [
        250,
        -12,
        7,
        0,
        None,
        None,
        3,
    ]


@pytest.mark.parametrize(("fmt", "expected"), EVALUATIONS)
def test_evaluation(fmt: str, expected: str) -> None:
    """A log-format string evaluates like sess_build_logline() in a check."""
    assert LogFormat(fmt).evaluate(CTX) == expected


def test_env_is_read_at_evaluation_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """env() reads the environment when the check runs, not when parsing."""
    fmt = LogFormat("%[env(HERDSMAN_LF_TEST)]")
    monkeypatch.setenv("HERDSMAN_LF_TEST", "v1")
    assert fmt.evaluate({}) == "v1"
    monkeypatch.setenv("HERDSMAN_LF_TEST", "v2")
    assert fmt.evaluate({}) == "v2"


def test_missing_context_is_a_failed_fetch() -> None:
    assert LogFormat("[%[srv_name]]").evaluate({}) == "[]"


def test_literal_and_bytes() -> None:
    assert LogFormat("abc").is_literal
    assert not LogFormat("%[srv_name]").is_literal
    assert LogFormat("é%[str(x)]").evaluate_bytes({}) == "éx".encode()


HAPROXY_ERRORS = [
    ("%[srv_name", "missing ']' after 'srv_name'"),
    ("%[srv_name] %[srv_name ]", "expected ']' after 'srv_name', but found ' '"),
    ("%[srv_name,lower,hex]%%ab%", "truncated line after '%'"),
    ("a%", "truncated line after '%'"),
    ("%{+Q", "truncated line after '+Q'"),
    ("%[", "failed to parse sample expression <> : missing fetch method"),
    (
        "%[int(x)]",
        "failed to parse sample expression <int(x)]> : fetch method 'int' : "
        "failed to parse 'x' as type 'integer' at position 1",
    ),
    (
        "%[int(12x)]",
        "failed to parse sample expression <int(12x)]> : fetch method 'int' : "
        "failed to parse '12x' as type 'integer' at position 1",
    ),
    (
        "%[int()]",
        "failed to parse sample expression <int()]> : fetch method 'int' : "
        "expected type 'integer' at position 1, but got nothing",
    ),
    (
        "%[srv_name(x)]",
        "failed to parse sample expression <srv_name(x)]> : fetch method 'srv_name' : "
        "expected ')' before 'x)]'",
    ),
    (
        "%[srv_name,lower(1)]",
        "failed to parse sample expression <srv_name,lower(1)]> : invalid arg 1 in converter "
        "'lower' : expected ')' before '1)]'",
    ),
    (
        "%[str(a,b)]",
        "failed to parse sample expression <str(a,b)]> : fetch method 'str' : "
        "expected ')' before ',b)]'",
    ),
    ("%[str(a)b]", "expected ']' after 'str(a)', but found 'b'"),
    ("%[str(a]", "failed to parse sample expression <str(a]> : fetch method 'str' : expected ')'"),
    ("%[srv_name,]", "failed to parse sample expression <srv_name,]> : unknown converter ''"),
    (
        "%1",
        "unexpected variable name near '1' at position 1 line : '%1'. Maybe you want to write "
        "a single '%', use the syntax '%%'",
    ),
    (
        "a% b",
        "unexpected variable name near ' ' at position 2 line : 'a% b'. Maybe you want to "
        "write a single '%', use the syntax '%%'",
    ),
    (
        "%[res.payload(0)]",
        "failed to parse sample expression <res.payload(0)]> : fetch method 'res.payload' : "
        "missing arguments (got 1/2), type 'integer' expected",
    ),
    (
        "%[res.payload]",
        "failed to parse sample expression <res.payload]> : fetch method 'res.payload' : "
        "expected type 'integer' at position 1, but got nothing",
    ),
    (
        "%[res.payload(0,x)]",
        "failed to parse sample expression <res.payload(0,x)]> : fetch method 'res.payload' : "
        "failed to parse 'x' as type 'integer' at position 2",
    ),
    (
        "%[res.payload(0,1,2)]",
        "failed to parse sample expression <res.payload(0,1,2)]> : fetch method 'res.payload' : "
        "expected ')' before ',2)]'",
    ),
    (
        "%[res.payload(0,)]",
        "failed to parse sample expression <res.payload(0,)]> : fetch method 'res.payload' : "
        "expected type 'integer' at position 2, but got nothing",
    ),
    (
        "%[res.payload(,1)]",
        "failed to parse sample expression <res.payload(,1)]> : fetch method 'res.payload' : "
        "expected type 'integer' at position 1, but got nothing",
    ),
    (
        "%[str(a),ltrim(a,b)]",
        "failed to parse sample expression <str(a),ltrim(a,b)]> : invalid arg 2 in converter "
        "'ltrim' : expected ')' before ',b)]'",
    ),
    (
        "%[date(x)]",
        "failed to parse sample expression <date(x)]> : fetch method 'date' : "
        "failed to parse 'x' as type 'integer' at position 1",
    ),
    (
        "%[date(1,2,3)]",
        "failed to parse sample expression <date(1,2,3)]> : fetch method 'date' : "
        "expected ')' before ',3)]'",
    ),
    (
        "%[date(1,x)]",
        "failed to parse sample expression <date(1,x)]> : invalid args in fetch method 'date' : "
        "expects 's', 'ms' or 'us', got 'x'",
    ),
    (
        "%[date(1,)]",
        "failed to parse sample expression <date(1,)]> : invalid args in fetch method 'date' : "
        "expects 's', 'ms' or 'us', got ''",
    ),
    (
        "%[date(,ms)]",
        "failed to parse sample expression <date(,ms)]> : fetch method 'date' : "
        "expected ')' before ',ms)]'",
    ),
    (
        "%[int(1),htonl(1)]",
        "failed to parse sample expression <int(1),htonl(1)]> : invalid arg 1 in converter "
        "'htonl' : expected ')' before '1)]'",
    ),
    (
        "%[str(a),cut_crlf(1)]",
        "failed to parse sample expression <str(a),cut_crlf(1)]> : invalid arg 1 in converter "
        "'cut_crlf' : expected ')' before '1)]'",
    ),
]


@pytest.mark.parametrize(("fmt", "message"), HAPROXY_ERRORS)
def test_haproxy_errors(fmt: str, message: str) -> None:
    """Parse errors of the supported subset carry HAProxy's inner text."""
    with pytest.raises(LogFormatError) as info:
        LogFormat(fmt)
    assert info.value.message == message


REFUSED = [
    ("%[ssl_fc]", "fetch method 'ssl_fc' is not supported by herdsman"),
    ("%[srv_name,sha2]", "converter 'sha2' is not supported by herdsman"),
    ("%ci", "log-format variable '%ci' is not supported by herdsman"),
    ("%{+Q}[srv_name]", "log-format options '%{+Q}' are not supported by herdsman"),
]


@pytest.mark.parametrize(("fmt", "fragment"), REFUSED)
def test_outside_the_subset_is_refused(fmt: str, fragment: str) -> None:
    """What herdsman does not evaluate is refused, naming what it supports."""
    with pytest.raises(LogFormatError) as info:
        LogFormat(fmt)
    assert fragment in info.value.message


def test_standalone_expressions() -> None:
    """``connect port`` / ``status-code`` expressions: the whole word is the expression."""
    assert parse_expr("int(80),lower").text == "int(80),lower"
    assert parse_expr("int(80),lower").evaluate({}) == b"80"
    assert parse_expr("res.payload(0,3),ltrim(' ')").evaluate({PAYLOAD: b" 2x"}) == b"2x"
    assert parse_expr("int(42)").evaluate_int({}) == 42
    assert parse_expr("str(12)").evaluate_int({}) == 12
    assert parse_expr("str(x1)").evaluate_int({}) == 0  # c_str2int() reads no digit
    assert parse_expr("str(a),hex").evaluate_int({}) == 61  # "61" casts to an integer
    for text, message in [
        ("int(80) x", "missing comma after fetch keyword 'int'"),
        ("int(1),lower x", "missing comma after converter 'lower'"),
        ("-1", "unknown fetch method '-1'"),
        ("12x", "unknown fetch method '12x'"),
    ]:
        with pytest.raises(LogFormatError) as info:
            parse_expr(text)
        assert info.value.message == message


@pytest.mark.haproxy
@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
def test_errors_match_haproxy(tmp_path: Path) -> None:
    """The same strings, given to ``tcp-check send-lf``, fail with the same texts."""
    lines = ["defaults", "    mode tcp", "backend b"]
    for fmt, _ in HAPROXY_ERRORS:
        escaped = fmt.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'    tcp-check send-lf "{escaped}"')
    cfg = tmp_path / "lf.cfg"
    cfg.write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        ["haproxy", "-c", "-f", str(cfg)],
        capture_output=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    text = (out.stdout + out.stderr).decode()
    found = re.findall(r"invalid log-format string \((.*)\)\.\n\.", text)
    assert found == [message for _, message in HAPROXY_ERRORS]
