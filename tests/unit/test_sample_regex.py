"""PCRE2 patterns evaluated by Python's re (``sample/regex.py``).

The oracle is the system's libpcre2-8 (the library the haproxy 2.6.12 binary
links), called through ctypes: every translated pattern must find a match
exactly where PCRE2 finds one, on chosen and on random subjects.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herdsman.sample.regex import RegexError, compile_regex

_NAME = ctypes.util.find_library("pcre2-8") or "libpcre2-8.so.0"
try:
    _LIB: ctypes.CDLL | None = ctypes.CDLL(_NAME)
except OSError:
    _LIB = None

needs_pcre2 = pytest.mark.skipif(_LIB is None, reason="libpcre2-8 is not installed")


def pcre2_search(pattern: bytes, subject: bytes, icase: bool = False) -> tuple[int, int] | None:
    """Where PCRE2 (no UTF, as HAProxy compiles) matches: (start, end) or None."""
    assert _LIB is not None
    lib = _LIB
    lib.pcre2_compile_8.restype = ctypes.c_void_p
    lib.pcre2_compile_8.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.c_void_p,
    ]
    lib.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
    lib.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.pcre2_match_8.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_size_t,
        ctypes.c_uint32,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(ctypes.c_size_t)
    lib.pcre2_get_ovector_pointer_8.argtypes = [ctypes.c_void_p]
    lib.pcre2_match_data_free_8.argtypes = [ctypes.c_void_p]
    lib.pcre2_code_free_8.argtypes = [ctypes.c_void_p]
    err = ctypes.c_int()
    off = ctypes.c_size_t()
    code = lib.pcre2_compile_8(pattern, len(pattern), 8 if icase else 0, err, off, None)
    assert code, pattern
    md = lib.pcre2_match_data_create_from_pattern_8(code, None)
    try:
        rc = lib.pcre2_match_8(code, subject, len(subject), 0, 0, md, None)
        if rc < 0:
            return None
        ov = lib.pcre2_get_ovector_pointer_8(md)
        return ov[0], ov[1]
    finally:
        lib.pcre2_match_data_free_8(md)
        lib.pcre2_code_free_8(code)


PATTERNS = [
    r"^/api/",
    r"\.(jpg|png|gif)$",
    r"^[^/:]*://",
    r"a{,3}",
    r"a{2,3}b",
    r"[[:alpha:]]+[[:digit:]]",
    r"[^[:space:]]+",
    r"\Qa.b*\E+",
    r"(?<word>\w+)-\k<word>",
    r"foo\Z",
    r"foo\z",
    r"foo$",
    r"(?i)abc",
    r"x(?i)abc",
    r"\h+",
    r"\d{3}-\d{4}",
    r"[a-z-]+",
    r"[]a]",
    r"[^]a]",
    r"\x{41}\x42",
    r"(?:ab)+?c",
    r"a++b",
    r"(?>a+)b",
    r"^\s*$",
    r"\bword\b",
    r"[\w.]+@[\w.]+",
    r"a|b|",
    r"(a)?b\1?",
    r"[\\\]]",
    r"\e\cA",
]
SUBJECTS = [
    b"",
    b"/api/v1",
    b"GET /img/a.png",
    b"http://x/y",
    b"aaaab",
    b"abc123",
    b"  \t",
    b"a.b*a.b*",
    b"hello-hello",
    b"foo\n",
    b"foo",
    b"xABC",
    b"a \t\xa0b",
    b"555-1234",
    b"x-y-z",
    b"]",
    b"AB",
    b"ababc",
    b"aaab",
    b"a word here",
    b"me@example.com",
    b"bab",
    b"\\",
    b"\x1b\x01",
]


@needs_pcre2
@pytest.mark.parametrize("pattern", PATTERNS)
def test_matches_like_pcre2(pattern: str) -> None:
    rx = compile_regex(pattern)
    for subject in SUBJECTS:
        m = rx.search(subject)
        got = None if m is None else m.span()
        assert got == pcre2_search(pattern.encode(), subject), (pattern, subject, rx.pattern)


@needs_pcre2
@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(PATTERNS),
    st.binary(max_size=12).map(lambda b: bytes(c % 128 for c in b)),
    st.booleans(),
)
def test_random_subjects(pattern: str, subject: bytes, icase: bool) -> None:
    m = compile_regex(pattern, icase).search(subject)
    assert (None if m is None else m.span()) == pcre2_search(pattern.encode(), subject, icase)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(", "regex '(' is invalid (error=missing closing parenthesis, erroffset=1)"),
        ("a{2,1}", "regex 'a{2,1}' is invalid (error=numbers out of order in {} quantifier, erroffset=5)"),
        ("\\p{L}", "regex '\\p{L}' uses \\p (Unicode property), which herdsman cannot evaluate (Python's re)"),
        ("a\\Kb", "regex 'a\\Kb' uses \\K (reset match start), which herdsman cannot evaluate (Python's re)"),
        ("(?R)", "regex '(?R)' uses recursion, subroutine calls or callouts (?...), which herdsman cannot evaluate (Python's re)"),
        ("a(?i)b|c", "regex 'a(?i)b|c' uses an option setting followed by alternatives, which herdsman cannot evaluate (Python's re)"),
    ],
)  # fmt: skip
def test_refused(pattern: str, message: str) -> None:
    """An invalid pattern gets PCRE2's text; one re cannot express is refused."""
    if _LIB is None and "invalid" in message:
        pytest.skip("PCRE2's texts need libpcre2-8")
    with pytest.raises(RegexError) as info:
        compile_regex(pattern)
    assert info.value.message == message
