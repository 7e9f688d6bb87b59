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

from herdsman.sample.logformat import LogFormat, LogFormatError, SampleExpr, parse_expr

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
]


@pytest.mark.parametrize(("fmt", "message"), HAPROXY_ERRORS)
def test_haproxy_errors(fmt: str, message: str) -> None:
    """Parse errors of the supported subset carry HAProxy's inner text."""
    with pytest.raises(LogFormatError) as info:
        LogFormat(fmt)
    assert info.value.message == message


REFUSED = [
    (
        "%[src]",
        "fetch method 'src' is not supported by herdsman (supported: be_id, be_name, "
        "env, hostname, int, srv_id, srv_name, str)",
    ),
    ("%[nbsrv(b1)]", "fetch method 'nbsrv' is not supported by herdsman"),
    (
        "%[srv_name,json]",
        "converter 'json' is not supported by herdsman (supported: base64, hex, lower, upper)",
    ),
    ("%ci", "log-format variable '%ci' is not supported by herdsman in checks"),
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
    assert parse_expr("int(80),lower") == SampleExpr("int(80),lower", "int", 80, ("lower",))
    assert parse_expr("int(42)").evaluate_int({}) == 42
    assert parse_expr("str(12)").evaluate_int({}) == 12
    assert parse_expr("str(x1)").evaluate_int({}) is None  # c_str2int fails
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
