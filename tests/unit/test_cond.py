"""``.if`` conditions and ``-cc`` (``cfgcond.c``, ``haproxy.c``).

The results and messages were produced by ``haproxy -cc`` 2.6.12 (Debian);
the tests marked ``haproxy`` replay the tables through the binary.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from herdsman.config.cond import (
    CondError,
    check_condition,
    compare_version,
    eval_condition,
    eval_condition_text,
    split_version,
)
from herdsman.version import FEATURES

HAPROXY = shutil.which("haproxy")
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="haproxy binary not installed")

ENV = {"FOO": "foo", "SP": "a  b", "LONG": "x" * 50, "PATH": "/usr/bin"}

# expression -> value (both herdsman and haproxy 2.6.12)
TRUTH = [
    ("", False),
    ("1", True),
    ("0", False),
    ("!0", True),
    ("! ! 1", True),
    ("0x10", True),
    ("-1", True),
    ("1 && 0", False),
    ("1&&0", False),
    ("1 || 0", True),
    ("streq(a,a)||0", True),
    ("(0 || 1) && 1", True),
    ("0 || 1 && 0", False),  # && binds tighter
    ("((((1))))", True),
    ("!(0)", True),
    ("1\t&&\t1", True),
    ("(" * 300 + "1" + ")" * 300, True),
    ("defined(FOO)", True),
    ("defined(NOPE)", False),
    ("defined", False),  # no parenthesis: one empty argument
    ("defined()", False),
    ("defined(FOO) && !defined(NOPE)", True),
    ("streq(a,a)", True),
    ("streq(,)", True),
    ("strneq(a,b)", True),
    ('streq("a b","a b")', True),
    ("streq(a\\,a)", False),  # a lone backslash is kept: "a\\" vs "a"
    ("streq(${FOO},foo)", False),  # no expansion outside double quotes
    ('streq("${FOO}",foo)', True),
    ("streq('${FOO}',foo)", False),
    ('streq(x,"${SP}")', False),
    ("streq(\"'a,b'\",\"'a,b'\")", True),  # quotes inside the predicate protect ','
    ("feature(OPEN)", False),  # whole feature names only
    ("version_atleast(2.6)", True),
    ("version_atleast(2.6.12)", True),
    ("version_atleast(2.6.13)", False),
    ("version_before(2.6.13)", True),
    ("version_before(2.7-dev0)", True),
    ("version_atleast(2.6-dev1)", True),
    ("version_atleast(2.6.12-rc1)", True),
    ("version_atleast(2.6.12-1)", False),  # a commit number after the release
    ("version_atleast(2.6.12.1)", False),
    ("version_atleast(3)", False),
    ("version_atleast(foo)", True),  # unparsable compares as older
    ("version_before(foo)", False),
    ("version_atleast()", True),
]


@pytest.mark.parametrize(("expr", "value"), TRUTH)
def test_values(expr: str, value: bool) -> None:
    assert check_condition(expr, ENV) == (0 if value else 1, None)
    if not any(c in expr for c in "\"'$"):  # the same text after word splitting
        assert eval_condition_text(expr, ENV) is value


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_feature_follows_the_feature_table(name: str) -> None:
    assert eval_condition_text(f"feature({name})", {}) is FEATURES[name]


def test_openssl_predicates_read_the_linked_openssl() -> None:
    """herdsman has OpenSSL (Python's ssl module): the predicates compare its version."""
    assert FEATURES["OPENSSL"] is True
    for expr, value in (
        ("openssl_version_atleast(1.0.0)", True),
        ("openssl_version_before(9.0.0)", True),
        ("openssl_version_before(1.0.0)", False),
        ("ssllib_name_startswith(OpenSSL)", True),
        ("ssllib_name_startswith(BoringSSL)", False),
    ):
        assert eval_condition_text(expr, {}) is value


def test_words_are_glued_with_single_spaces() -> None:
    """readcfgfile() re-merges the words after ``.if`` (NULs from \\x00 too)."""
    assert eval_condition(["streq(a", "b,a", "b)"], {}) is True
    assert eval_condition(["streq(a\0b,a", "b)"], {}) is True
    assert eval_condition(["1", "&&", "0"], {}) is False
    assert eval_condition([], {}) is False


# expression -> (message, 0-based position of HAProxy's error pointer)
ERRORS = [
    ("(1", "expected ')' after conditional expression '(1'", 0),
    ("! (1", "expected ')' after conditional expression '! (1'", 0),
    ("1)", "unexpected character ')' at the end of conditional expression '1)'", 1),
    ("1 1", "unexpected character '1' at the end of conditional expression '1 1'", 2),
    ("1 & 1", "unexpected character '&' at the end of conditional expression '1 & 1'", 2),
    ("1 | 1", "unexpected character '|' at the end of conditional expression '1 | 1'", 2),
    ("1abc", "unexpected character 'a' at the end of conditional expression '1abc'", 1),
    ("0x", "unexpected character 'x' at the end of conditional expression '0x'", 1),
    ("08", "unexpected character '8' at the end of conditional expression '08'", 1),
    ("(1) (1)", "unexpected character '(' at the end of conditional expression '(1) (1)'", 4),
    (
        "defined (FOO)",
        "unexpected character '(' at the end of conditional expression 'defined (FOO)'",
        8,
    ),
    ("foo", "unparsable conditional expression 'foo'", 0),
    ("- 1", "unparsable conditional expression '- 1'", 0),
    ("!", "unparsable conditional expression '!'", 0),
    ("!!", "unparsable conditional expression '!!'", 0),
    ("()", "unparsable conditional expression ')'", 1),
    ("(   )", "unparsable conditional expression ')'", 4),
    ("!(foo)", "unparsable conditional expression 'foo)'", 2),
    ("1 &&", "unparsable conditional expression '&&'", 2),
    ("&& 1", "unparsable conditional expression '&& 1'", 0),
    ("1 && 1 &&", "unparsable conditional expression '&& 1 &&'", 2),
    ("1 ||", "unparsable conditional expression '1 ||'", 2),
    ("0 || 1 && 1 ||", "unparsable conditional expression '0 || 1 && 1 ||'", 2),
    ("defined(FOO) && (1 || foo)", "unparsable conditional expression 'foo)'", 22),
    ("  ", "unparsable conditional sub-expression '  '", 0),
    (
        "defined(FOO",
        "expected ')' in argument 1 of predicate 'defined' used in conditional expression",
        11,
    ),
    (
        "defined(FOO,BAR)",
        "expected ')' before ',BAR)' in argument 1 of predicate 'defined' "
        "used in conditional expression",
        11,
    ),
    (
        "streq(a)",
        "missing arguments (got 1/2), type 'string' expected in argument 1 of "
        "predicate 'streq' used in conditional expression",
        7,
    ),
    (
        "streq",
        "missing arguments (got 1/2), type 'string' expected in argument 1 of "
        "predicate 'streq' used in conditional expression",
        5,
    ),
    (
        "streq(a,b,c)",
        "expected ')' before ',c)' in argument 1 of predicate 'streq' used in "
        "conditional expression",
        9,
    ),
    (
        "streq(a\\",
        "failed to parse '\\' after 'a' as type 'string' at position 1 in "
        "argument 0 of predicate 'streq' used in conditional expression",
        7,
    ),
    # The depth budget of MAX_CFG_RECURSION (1024) runs out.
    (
        "1" + "&&1" * 1100,
        "unparsable conditional expression '1" + "&&1" * 78 + "'",
        3066,
    ),
    (
        "(" * 345 + "1" + ")" * 345,
        "unparsable conditional sub-expression '((((1" + ")" * 345 + "'",
        341,
    ),
]


@pytest.mark.parametrize(("expr", "message", "position"), ERRORS)
def test_errors(expr: str, message: str, position: int) -> None:
    with pytest.raises(CondError) as exc:
        eval_condition_text(expr, ENV)
    assert (exc.value.message, exc.value.position) == (message, position)


@pytest.mark.parametrize(
    ("version", "parts"),
    [
        ("2.6.12", (2, 6, 12, 0, 3, 0, 0)),
        ("2.6.12-1+deb12u4", (2, 6, 12, 0, 3, 0, 0)),
        ("1.2.1-pre2", (1, 2, 1, 0, 2, 2, 0)),
        ("1.2.10.1", (1, 2, 10, 1, 3, 0, 0)),
        ("1.3.16-rc1", (1, 3, 16, 0, 2, 1, 0)),
        ("1.5-dev18-43", (1, 5, 0, 0, 1, 18, 43)),
        ("2.4-dev18-f6818d-20", (2, 4, 0, 0, 1, 18, 20)),
        ("", None),
        ("foo", None),
        ("1.2.3.4.5", None),
        ("2.6-", (2, 6, 0, 0, 3, 0, 0)),
        ("2.6-dev", (2, 6, 0, 0, 1, 0, 0)),
    ],
)
def test_split_version(version: str, parts: tuple[int, ...] | None) -> None:
    assert split_version(version) == parts


def test_compare_version_error_codes() -> None:
    assert compare_version("2.6.12") == 0
    assert compare_version("2.6.11") == -1
    assert compare_version("x") == -3
    assert compare_version("2.6", current="") == -2


# -c c: the words are split first, without comments, and in place.
CC = [
    ('"1', 2, "Syntax Error in condition: Unmatched quote."),
    ("\\x4", 2, "Syntax Error in condition: Truncated or invalid hexadecimal sequence."),
    ('"${1X}"', 2, "Unhandled error in condition, please report this to the developers."),
    ('"${FOO"', 2, "Unhandled error in condition, please report this to the developers."),
    ('"${SP[x]}"', 2, "Unhandled error in condition, please report this to the developers."),
    (" ".join(["1"] * 70), 2, "Error in condition: Too many words."),
    ('"${LONG}${LONG}"', 2, "Syntax Error in condition: Unmatched quote."),  # overwritten
    ('streq("${LONG}",x)', 2, "Syntax Error in condition: Unmatched quote."),
    ('streq("$FOO","foo")', 0, None),  # shorter than its reference: no harm
    ('"${SP[*]}"', 2, "Failed to evaluate condition: unparsable conditional expression 'a b'"),
    (
        "streq(a,a)#x",
        2,
        "Failed to evaluate condition: unexpected character '#' at the end "
        "of conditional expression 'streq(a,a)#x'",
    ),
    ("foo", 2, "Failed to evaluate condition: unparsable conditional expression 'foo'"),
]


@pytest.mark.parametrize(("expr", "status", "message"), CC)
def test_check_condition(expr: str, status: int, message: str | None) -> None:
    assert check_condition(expr, ENV) == (status, message)


# -- against the binary ------------------------------------------------------------

_ALERT = re.compile(r"\[ALERT\] +\(\d+\) : (?:config : )?(.*)")


def _haproxy_cc(expr: str) -> tuple[int, str | None]:
    assert HAPROXY is not None
    out = subprocess.run(
        [HAPROXY, "-cc", expr], env=ENV, capture_output=True, text=True, timeout=30, check=False
    )
    alerts = [m.group(1) for line in out.stderr.splitlines() if (m := _ALERT.match(line))]
    return out.returncode, alerts[0] if alerts else None


_NOT_FEATURES: set[str] = set()  # features where herdsman's build differs from Debian's


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize(
    "expr",
    [e for e, _ in TRUTH if e not in _NOT_FEATURES]
    + [e for e, _, _ in ERRORS]
    + [e for e, _, _ in CC],
)
def test_cc_matches_haproxy(expr: str) -> None:
    assert check_condition(expr, ENV) == _haproxy_cc(expr)
