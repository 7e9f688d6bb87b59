"""Configuration lines (``parse_line()``) and files (``readcfgfile()``).

The texts and behaviours below were observed with ``haproxy -c`` 2.6.12;
the tests marked ``haproxy`` replay the file-level table through the binary
(configurations made only of directives, so every message comes from the
reader itself).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from herdsman.config.diag import Diagnostics, Err, Level
from herdsman.config.lexer import LexError, split_words, tokenize
from herdsman.config.reader import ConfigFilesError, config_files, read_config

HAPROXY = shutil.which("haproxy")
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="haproxy binary not installed")

ENV = {"FOO": "foo", "SP": "a  b", "LEAD": " x y ", "EMPTY": "", "PATH": "/usr/bin"}

TOKENS = [
    ("", []),
    ("   # only a comment", []),
    ("server s1 127.0.0.1:80", ["server", "s1", "127.0.0.1:80"]),
    ("  \tbind  :80\t# comment", ["bind", ":80"]),
    ("a\\ b", ["a b"]),
    ("a\\#b", ["a#b"]),
    ("a#b", ["a"]),
    ('"x # y"', ["x # y"]),
    ("a\\qb", ["a\\qb"]),  # not an escape: kept
    ("a\\\\b", ["a\\b"]),
    ('"a\\tb"', ["a\tb"]),
    ("'a\\nb'", ["a\\nb"]),  # nothing is special in single quotes
    ('"a\\"b"', ['a"b']),
    ("'a\"b'", ['a"b']),
    ('"a\'b"', ["a'b"]),
    ("a\\'b", ["a'b"]),
    ('"a\\x41b"', ["aAb"]),
    ("\\xc3\\xa9", ["é"]),  # raw bytes that happen to be UTF-8
    ('a"b c"d', ["ab cd"]),
    ('"a${FOO}b"', ["afoob"]),
    ("'a${FOO}b'", ["a${FOO}b"]),
    ("a${FOO}b", ["a${FOO}b"]),  # no expansion outside double quotes
    ("a$FOO", ["a$FOO"]),
    ('"a$FOO-x"', ["afoo-x"]),
    ('"$FOO$FOO"', ["foofoo"]),
    ('"$FOO_x"', []),  # the name is FOO_x, which is not set
    ('"a\\$b"', ["a$b"]),
    ("a\\$b", ["a\\$b"]),
    ('"${NOPE-def}"', ["def"]),
    ('"${FOO-def}"', ["foo"]),
    ('"${EMPTY-def}"', []),  # set but empty: no default
    ('x "${SP}"', ["x", "a  b"]),
    ('x "${SP[*]}" y', ["x", "a", "b", "y"]),
    ('x "${LEAD[*]}" y', ["x", "", "x", "y", "", "y"]),
    ('"${NOPE[*]-a b}"', ["a", "b"]),
    ("${SP[*]}", ["${SP[*]}"]),
    ('"$.LINE"', ["7"]),
    ('"${.FILE}"', ["f.cfg"]),
    ('"${.SECTION}"', ["listen"]),
    ('"" x', ["", "x"]),
    ('x ""', ["x"]),  # trailing empty words carry nothing
    ("a\rb", ["a"]),  # CR ends the line
    ("a\x0bb\x0cc", ["a", "b", "c"]),  # C isspace()
    ('"\\x00ab" c', ["", "c"]),  # a word is a C string
]


@pytest.mark.parametrize(("line", "words"), TOKENS)
def test_tokenize(line: str, words: list[str]) -> None:
    assert tokenize(line, ENV, file="f.cfg", lineno=7, section="listen") == words


def test_split_words_keeps_what_tokenize_trims() -> None:
    split = split_words('.if 1 "" ', ENV)
    assert split.words == [".if", "1", "", ""]
    assert split.merged == ".if 1  "
    assert split.out_len == 8  # ".if\0" "1\0" "\0" "\0"


# (line, message for file f.cfg line 3); HAProxy prints 3 lines for most errors.
LEX_ERRORS = [
    ('  .notice "abc', 'unmatched quote at position 11:\n  .notice "abc\n          ^'),
    (".notice 'abc", "unmatched quote at position 9:\n  .notice 'abc\n          ^"),
    (
        '.notice "${FOO"',
        "unmatched brace in environment variable name at position 11:\n"
        '  .notice "${FOO"\n            ^',
    ),
    (
        '.notice "${1FOO}"',
        "forbidden first char in environment variable name at position 12:\n"
        '  .notice "${1FOO}"\n             ^',
    ),
    (
        '.notice "$"',
        "forbidden first char in environment variable name at position 11:\n"
        '  .notice "$"\n            ^',
    ),
    (
        '.notice "${.NOPE}"',  # the echo stops where HAProxy wrote a NUL
        "forbidden first char in environment variable name at position 12:\n"
        '  .notice "${.NOPE\n             ^',
    ),
    (
        '.notice "\\x4"',
        'truncated or invalid hexadecimal sequence at position 10:\n  .notice "\\x4"\n           ^',
    ),
    (
        '.notice "${SP[x]}"',
        "truncated or invalid word expansion sequence at position 14:\n"
        '  .notice "${SP[x]}"\n               ^',
    ),
    (
        '.notice "${FOO-a}"  "',
        'unmatched quote at position 21:\n  .notice "${FOO-a\n                      ^',
    ),
    (
        '.notice "é',
        'unmatched quote at position 9:\n  .notice "??\n          ^',  # bytes, not characters
    ),
    (
        '.notice "' + "a" * 100 + "${X" + "b" * 100,
        "unmatched brace in environment variable name at position 111:\n"
        "  ..." + "a" * 36 + "${X" + "b" * 35 + "...\n" + " " * 42 + "^",
    ),
    (
        ".notice " + " ".join(f"w{i}" for i in range(63)) + " ",
        "too many words, truncating after word 64, position 247: <w62>.",
    ),
]


@pytest.mark.parametrize(("line", "message"), LEX_ERRORS)
def test_lex_errors(line: str, message: str) -> None:
    with pytest.raises(LexError) as exc:
        tokenize(line, ENV)
    assert exc.value.message("f.cfg", 3) == f"parsing [f.cfg:3]: {message}"


def test_64_words_are_accepted() -> None:
    words = [f"w{i}" for i in range(64)]
    assert tokenize(" ".join(words), ENV) == words


# -- whole files -------------------------------------------------------------------

A, W, N = "ALERT", "WARNING", "NOTICE"
W63 = " ".join(f"w{i}" for i in range(63))

# (file contents, messages as (level, text)); the file is named t.cfg
FILES: list[tuple[str, list[tuple[str, str]]]] = [
    ('.notice "a"\n.warning "b"\n.diag "c"\n', [(N, "parsing [t.cfg:1]: 'a'."),
                                                (W, "parsing [t.cfg:2]: 'b'.")]),
    ('.notice a b\n.notice "ok"\n', [
        (A, "parsing [t.cfg:1]: Unexpected argument 'b' for '.notice'. Use quotes if the "
            "message should contain spaces."),
        (N, "parsing [t.cfg:2]: 'ok'.")]),
    ('.notice a "" b\n.notice\n', [(N, "parsing [t.cfg:1]: 'a'."), (N, "parsing [t.cfg:2]: ''.")]),
    ('.alert "boom"\n.notice "after"\n', [(A, "parsing [t.cfg:1]: 'boom'.")]),
    ('.alert a b\n.notice "after"\n', [
        (A, "parsing [t.cfg:1]: Unexpected argument 'b' for '.alert'. Use quotes if the "
            "message should contain spaces."),
        (N, "parsing [t.cfg:2]: 'after'.")]),
    ('.foo\n.notice "after"\n', [(A, "parsing [t.cfg:1]: unknown directive '.foo'.")]),
    # the first line: the output buffer grows, the line is parsed again, and
    # the '}' the first pass overwrote is gone
    ('.notice "${NOPE-def}"\n.notice "${NOPE-def}"\n', [
        (A, 'parsing [t.cfg:1]: unmatched brace in environment variable name at position 11:\n'
            '  .notice "${NOPE-def\n            ^'),
        (N, "parsing [t.cfg:2]: 'def'.")]),
    ('\n.notice "' + "x" * 1100 + '${NOPE-d}"\n', [
        (A, "parsing [t.cfg:2]: unmatched brace in environment variable name at position "
            "1111:\n  ..." + "x" * 36 + "${NOPE-d...\n" + " " * 42 + "^")]),
    # conditions
    ('.if defined(FOO)\n.notice "yes"\n.elif 1\n.notice "no"\n.else\n.notice "no"\n.endif\n',
     [(N, "parsing [t.cfg:2]: 'yes'.")]),
    ('.if 0\n.notice "a"\n.elif 0\n.notice "b"\n.elif 1\n.notice "c"\n.elif 1\n.notice "d"\n'
     '.else\n.notice "e"\n.endif\n', [(N, "parsing [t.cfg:6]: 'c'.")]),
    ('.if 0\n.if garbage(\n.elif garbage(\n.else\n.endif\n.notice "x"\n.elif 1\n.endif\n'
     '.notice "z"\n', [(N, "parsing [t.cfg:9]: 'z'.")]),
    ('.if 0\n.if 1\n.notice "x"\n.else\n.notice "y"\n.endif\n.else\n.notice "z"\n.endif\n',
     [(N, "parsing [t.cfg:8]: 'z'.")]),
    ('.if 0\n.foo\n.notice "x" y\n.endif\n.notice "z"\n', [(N, "parsing [t.cfg:5]: 'z'.")]),
    ('.if\n.notice "in"\n.endif\n', []),
    ('.if streq("${FOO}",foo) && !defined(NOPE)\n.notice "t"\n.endif\n',
     [(N, "parsing [t.cfg:2]: 't'.")]),
    ('.if streq("a b","a b")\n.notice "in"\n.endif\n', [(N, "parsing [t.cfg:2]: 'in'.")]),
    ('.if 1\n.else x\n.notice "after"\n', [
        (A, "parsing [t.cfg:2]: Unexpected argument 'x' for '.else'."),
        (A, "parsing [t.cfg:2]: non-terminated '.if' block.")]),
    ('.if 1\n.endif x\n', [
        (A, "parsing [t.cfg:2]: Unexpected argument 'x' for '.endif'."),
        (A, "parsing [t.cfg:2]: non-terminated '.if' block.")]),
    ('.endif\n.notice "after"\n',
     [(A, "parsing [t.cfg:1]: lone '.endif' with no matching '.if'.")]),
    ('.else\n', [(A, "parsing [t.cfg:1]: lone '.else' with no matching '.if'.")]),
    ('.elif 1\n', [(A, "parsing [t.cfg:1]: lone '.elif' with no matching '.if'.")]),
    ('.if 0\n.else\n.elif 1\n.endif\n',
     [(A, "parsing [t.cfg:3]: '.elif' after '.else' is not permitted.")]),
    ('.if 1\n.else\n.else\n.endif\n',
     [(A, "parsing [t.cfg:3]: '.else' after '.else' is not permitted.")]),
    ('.if 1\n.notice "x"\n', [(N, "parsing [t.cfg:2]: 'x'."),
                               (A, "parsing [t.cfg:2]: non-terminated '.if' block.")]),
    (".if 1\n" * 98 + '.notice "deep"\n' + ".endif\n" * 98, [(N, "parsing [t.cfg:99]: 'deep'.")]),
    (".if 1\n" * 99, [(A, "parsing [t.cfg:99]: non-terminated '.if' block.")]),
    (".if 1\n" * 100, [(A, "parsing [t.cfg:100]: too many nested '.if', max is 100.")]),
    ('.if foo \n', [(A, "parsing [t.cfg:1]: unparsable conditional expression 'foo ' in '.if' "
                        "at position 1:\n  .if foo \n      ^")]),
    ('.if 1 &&\n', [(A, "parsing [t.cfg:1]: unparsable conditional expression '&&' in '.if' at "
                        "position 3:\n  .if 1 &&\n        ^")]),
    ('.if defined(FOO\n', [(A, "parsing [t.cfg:1]: expected ')' in argument 1 of predicate "
                               "'defined' used in conditional expression in '.if' at position "
                               "12:\n  .if defined(FOO\n                 ^")]),
    ('.if 0\n.elif (foo\n.endif\n', [
        (A, "parsing [t.cfg:2]: unparsable conditional expression 'foo' in '.elif' at "
            "position 2:\n  .elif (foo\n         ^")]),
    ('.if 0\n.elif 1 && ' + "a" * 100 + "\n", [
        (A, "parsing [t.cfg:2]: unparsable conditional expression '" + "a" * 100 + "' in "
            "'.elif' at position 6:\n  .elif 1 && " + "a" * 69 + "\n" + " " * 13 + "^")]),
    # scopes, even in masked blocks
    ('[scope]\n.notice "x"\n[]\n[a b]\n', [
        (N, "parsing [t.cfg:2]: 'x'."),
        (A, "parsing [t.cfg:3] : empty scope name is forbidden."),
        (A, "parsing [t.cfg:4] : character ' ' is not permitted in a scope name.")]),
    ('[scope] x\n.notice "x"\n', [
        (A, "parsing [t.cfg:1] : character 'x' is not permitted after scope declaration."),
        (N, "parsing [t.cfg:2]: 'x'.")]),
    ('.if 0\n[scope] #c\n[s\n.endif\n',
     [(A, "parsing [t.cfg:3] : empty scope name is forbidden.")]),
    # odd lines
    ('"" .notice "x"\n.notice "y"\n', [(N, "parsing [t.cfg:2]: 'y'.")]),
    ('.notice "a\rb"\n.notice x\r\n.notice "c\r\n', [
        (A, 'parsing [t.cfg:1]: unmatched quote at position 9:\n  .notice "a b"\n          ^'),
        (N, "parsing [t.cfg:2]: 'x'."),
        (A, 'parsing [t.cfg:3]: unmatched quote at position 9:\n  .notice "c \n          ^')]),
    ('.notice "a"\n.notice "b"', [
        (N, "parsing [t.cfg:1]: 'a'."), (N, "parsing [t.cfg:2]: 'b'."),
        (A, "parsing [t.cfg:2]: Missing LF on last line, file might have been truncated at "
            "position 12.")]),
    ('.notice "a"\n.notice "b\0c"\n.notice "d"\n', [
        (N, "parsing [t.cfg:1]: 'a'."),
        (A, 'parsing [t.cfg:2]: unmatched quote at position 9:\n  .notice "b\n          ^'),
        (A, "parsing [t.cfg:2]: Stray NUL character at position 11.")]),
    ('.notice "b\0c"', [
        (A, 'parsing [t.cfg:1]: unmatched quote at position 9:\n  .notice "b\n          ^'),
        (A, "parsing [t.cfg:1]: Missing LF on last line, file might have been truncated at "
            "position 11.")]),
    ('.if 1\n.notice "b\0c"\n.notice "d"\n', [
        (A, 'parsing [t.cfg:2]: unmatched quote at position 9:\n  .notice "b\n          ^'),
        (A, "parsing [t.cfg:2]: Stray NUL character at position 11."),
        (A, "parsing [t.cfg:2]: non-terminated '.if' block.")]),
    # a last line of exactly 2047 (or 4095...) bytes without LF is never parsed
    ('.notice "ok"\n.notice "' + "a" * 2037 + '"', [(N, "parsing [t.cfg:1]: 'ok'.")]),
    ('.notice "ok"\n.notice "' + "a" * 4085 + '"', [(N, "parsing [t.cfg:1]: 'ok'.")]),
    ('.notice "ok"\n.notice "' + "a" * 2036 + '"', [
        (N, "parsing [t.cfg:1]: 'ok'."), (N, "parsing [t.cfg:2]: '" + "a" * 2036 + "'."),
        (A, "parsing [t.cfg:2]: Missing LF on last line, file might have been truncated at "
            "position 2047.")]),
    ('.notice "' + "a" * 5000 + '"\n', [(N, "parsing [t.cfg:1]: '" + "a" * 5000 + "'.")]),
    ('.notice "\n' * 51, [
        (A, f'parsing [t.cfg:{n}]: unmatched quote at position 9:\n  .notice "\n          ^')
        for n in range(1, 51)
    ] + [(A, "parsing [t.cfg:51]: too many fatal errors (50), stopping now.")]),
    (".notice " + W63 + " x\n", [
        (A, "parsing [t.cfg:1]: too many words, truncating after word 64, position 247: <w62>.")]),
]  # fmt: skip


def _read(text: str) -> tuple[list[tuple[str, str]], list[list[str]]]:
    diag = Diagnostics()
    lines = [line.args for line in read_config(text, "t.cfg", dict(ENV), diag)]
    return [(m.level.value, m.text) for m in diag.messages], lines


@pytest.mark.parametrize(("text", "messages"), FILES, ids=lambda v: repr(v)[:40])
def test_read_config_directives(text: str, messages: list[tuple[str, str]]) -> None:
    assert _read(text) == (messages, [])


def test_diag_directive_prints_only_in_diag_mode() -> None:
    diag = Diagnostics(diag_mode=True)
    assert list(read_config('.diag "d"\n', "t.cfg", {}, diag)) == []
    assert [(m.level, m.text) for m in diag.messages] == [(Level.DIAG, "parsing [t.cfg:1]: 'd'.")]


def test_lines_are_tokenized_lazily_with_the_current_environment() -> None:
    env: dict[str, str] = {}
    diag = Diagnostics()
    seen = []
    text = 'global\n    setenv X one\n    x "${X}"\n    x "${X}" "${.SECTION}" "$.LINE"\n'
    for line in read_config(text, "t.cfg", env, diag):
        seen.append((line.loc.line, line.args))
        if line.args[0] == "setenv":
            env[line.args[1]] = line.args[2]
            env["X"] = "two" if len(seen) > 2 else env["X"]
        elif line.args[0] == "x":
            env["X"] = "two"
    assert seen == [
        (1, ["global"]),
        (2, ["setenv", "X", "one"]),
        (3, ["x", "one"]),
        (4, ["x", "two", "global", "4"]),
    ]


@pytest.mark.parametrize(
    ("text", "section"),
    [
        ("listen app\n", "app"),
        ("backend\n", "backend"),
        ("no listen\n", "listen"),
        ("server x\n", ""),  # not a section keyword
    ],
)
def test_section_pseudo_variable(text: str, section: str) -> None:
    env: dict[str, str] = {}
    lines = list(read_config(text + 'k "${.SECTION}"\n', "t.cfg", env, Diagnostics()))
    assert lines[-1].args == ["k", section] if section else ["k"]


def test_an_abort_from_the_caller_stops_reading() -> None:
    diag = Diagnostics()
    seen = []
    for line in read_config("a\nb\n.if 1\n", "t.cfg", {}, diag):
        seen.append(line.args[0])
        diag.alert("stop", Err.ALERT | Err.ABORT)
    assert seen == ["a"]
    assert diag.texts() == ["stop"]  # no end-of-file checks after an abort


def test_the_callers_fatal_errors_count_towards_the_limit() -> None:
    diag = Diagnostics()
    seen = []
    for line in read_config("k\n" * 60, "t.cfg", {}, diag):
        seen.append(line.loc.line)
        diag.alert(f"bad {line.loc.line}")
    assert seen == list(range(1, 51))
    assert diag.texts()[-1] == "parsing [t.cfg:51]: too many fatal errors (50), stopping now."


def test_lines_keep_their_location_and_skip_masked_blocks() -> None:
    text = "a 1\n.if 0\nb\n.else\n  c 2 # x\n.endif\n\n# d\nd\n"
    lines = list(read_config(text, "t.cfg", {}, Diagnostics()))
    assert [(line.loc.file, line.loc.line, line.args) for line in lines] == [
        ("t.cfg", 1, ["a", "1"]),
        ("t.cfg", 5, ["c", "2"]),
        ("t.cfg", 9, ["d"]),
    ]


# -- -f <dir> ----------------------------------------------------------------------


def test_config_files_expands_directories(tmp_path: Path) -> None:
    d = tmp_path / "d"
    (d / "sub.cfg").mkdir(parents=True)
    for name in ["b.cfg", "a.cfg", "B.cfg", "_u.cfg", "x.cfg.cfg", ".h.cfg", "y.conf", "cfg"]:
        (d / name).write_text("")
    (d / "sub.cfg" / "in.cfg").write_text("")
    os.symlink("a.cfg", d / "l.cfg")
    single = tmp_path / "single.conf"
    single.write_text("")
    assert config_files([str(single), str(d)]) == [
        str(single),
        *(f"{d}/{n}" for n in ["B.cfg", "_u.cfg", "a.cfg", "b.cfg", "l.cfg"]),
    ]


def test_config_files_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigFilesError) as exc:
        config_files([str(tmp_path / "nope.cfg")])
    assert isinstance(exc.value, OSError)
    assert exc.value.message == (
        f"Cannot open configuration file/directory {tmp_path}/nope.cfg : No such file or directory"
    )
    os.symlink("nowhere", tmp_path / "dangling.cfg")
    with pytest.raises(ConfigFilesError) as exc:
        config_files([str(tmp_path)])
    # sic: 2.6 names the directory
    assert exc.value.message == (
        f"Cannot open configuration file {tmp_path} : No such file or directory"
    )


# -- against the binary ------------------------------------------------------------

_LINE = re.compile(r"\[(\w+)\] +\(\d+\) : config : (.*)")
_SKIP = ("Error(s) found in configuration file", "Fatal errors found", "no listener")


def _haproxy_messages(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    assert HAPROXY is not None
    cfg = tmp_path / "t.cfg"
    cfg.write_bytes(text.encode("utf-8", "surrogateescape"))
    out = subprocess.run(
        [HAPROXY, "-c", "-f", cfg.name],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        timeout=30,
        check=False,
    )
    found: list[tuple[str, str]] = []
    for line in out.stderr.decode("utf-8", "surrogateescape").split("\n"):
        if m := _LINE.match(line):
            if not any(s in m.group(2) for s in _SKIP):
                found.append((m.group(1), m.group(2)))
        elif line and found and not line.startswith("["):
            found[-1] = (found[-1][0], found[-1][1] + "\n" + line)  # continuation line
    return found


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize("text", [t for t, _ in FILES], ids=lambda v: repr(v)[:40])
def test_files_match_haproxy(tmp_path: Path, text: str) -> None:
    assert _read(text)[0] == _haproxy_messages(tmp_path, text)


@pytest.mark.haproxy
@needs_haproxy
@pytest.mark.parametrize("line", [line for line, _ in TOKENS])
def test_tokens_match_haproxy(tmp_path: Path, line: str) -> None:
    """``.notice <line>`` on line 7 shows the first word, or complains about the second."""
    words = tokenize(line, ENV, file="t.cfg", lineno=7)
    if len(words) > 1 and words[1]:
        expected = (
            "ALERT",
            f"parsing [t.cfg:7]: Unexpected argument '{words[1]}' for '.notice'. "
            "Use quotes if the message should contain spaces.",
        )
    else:
        expected = ("NOTICE", f"parsing [t.cfg:7]: '{words[0] if words else ''}'.")
    assert _haproxy_messages(tmp_path, "\n" * 6 + f".notice {line}\n") == [expected]
