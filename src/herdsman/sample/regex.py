"""Regular expressions as HAProxy 2.6.12 compiles them (PCRE2, ``regex_comp()``),
evaluated by Python's ``re`` on bytes.

``compile_regex(text, icase)`` translates the PCRE2 syntax that configurations
use into ``re``'s: the escapes whose meaning differs (``\\Z``, ``\\z``,
``\\h``, ``\\v``, ``\\R``, ``\\Q..\\E``, ``\\x{..}``, ``\\e``, ``\\cX``),
POSIX classes inside sets (``[[:alpha:]]``), named groups in PCRE's forms
(``(?<n>..)``, ``\\k<n>``), flags set in the middle of a pattern, and the
literal braces PCRE2 10.42 does not read as a quantifier (``a{,3}``). A
pattern using what ``re`` cannot do (recursion, ``\\K``, ``\\G``, Unicode
properties, branch reset, backtracking verbs, relative references) raises
``RegexError`` naming it: a configuration must not start with a regex that
would match differently.

Subjects are bytes and there is no UTF mode, as in HAProxy: ``\\d``, ``\\w``,
``\\s`` and case folding are ASCII. Invalid patterns get PCRE2's own message
when the system's ``libpcre2-8`` can be loaded (the text HAProxy prints:
``regex '<p>' is invalid (error=<text>, erroffset=<n>)``), else ``re``'s.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from typing import Final

_POSIX: Final = {
    "alpha": "A-Za-z",
    "digit": "0-9",
    "alnum": "A-Za-z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": "\\t\\n\\x0b\\x0c\\r ",
    "blank": "\\t ",
    "punct": "!-/:-@\\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": "A-Za-z0-9_",
    "cntrl": "\\x00-\\x1f\\x7f",
    "print": " -~",
    "graph": "!-~",
    "ascii": "\\x00-\\x7f",
}
_HSPACE: Final = "\\t \\xa0"
_VSPACE: Final = "\\n\\x0b\\x0c\\r\\x85"
_UNSUPPORTED_ESC: Final = {
    "K": "\\K (reset match start)",
    "G": "\\G (start of match anchor)",
    "X": "\\X (extended grapheme)",
    "p": "\\p (Unicode property)",
    "P": "\\P (Unicode property)",
    "C": "\\C (single code unit)",
}


class RegexError(ValueError):
    """``message`` is the text HAProxy (or herdsman) gives after the keyword."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- PCRE2's own verdict on a pattern (error texts) ------------------------------------


class _Pcre2:
    """``pcre2_compile()`` of the system library, for its error messages only."""

    def __init__(self) -> None:
        self.lib: ctypes.CDLL | None = None
        name = ctypes.util.find_library("pcre2-8") or "libpcre2-8.so.0"
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            return
        lib.pcre2_compile_8.restype = ctypes.c_void_p
        lib.pcre2_compile_8.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint32,
            ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_size_t),
            ctypes.c_void_p,
        ]
        lib.pcre2_code_free_8.argtypes = [ctypes.c_void_p]
        lib.pcre2_get_error_message_8.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        self.lib = lib

    def error(self, pattern: bytes, icase: bool) -> tuple[str, int] | None:
        """(message, offset) when PCRE2 refuses ``pattern``, None when it accepts it
        or the library is not there."""
        lib = self.lib
        if lib is None:
            return None
        errn = ctypes.c_int()
        off = ctypes.c_size_t()
        flags = 0x00000008 if icase else 0  # PCRE2_CASELESS
        code = lib.pcre2_compile_8(pattern, len(pattern), flags, errn, off, None)
        if code:
            lib.pcre2_code_free_8(code)
            return None
        buf = ctypes.create_string_buffer(256)
        lib.pcre2_get_error_message_8(errn.value, buf, 256)
        return buf.value.decode("latin-1"), off.value


_PCRE2: _Pcre2 | None = None


def _pcre2() -> _Pcre2:
    global _PCRE2
    if _PCRE2 is None:
        _PCRE2 = _Pcre2()
    return _PCRE2


# -- translation -----------------------------------------------------------------------


def _set_char(ch: str) -> str:
    """A literal character inside a Python set, escaped so that ``re`` never warns."""
    return ch if ch.isalnum() or ch == "_" else "\\" + ch if ch != "\n" else "\\n"


class _Translator:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.out: list[str] = []
        # per open group: how many scoped-flag groups to close with it
        self.groups: list[int] = [0]

    def unsupported(self, what: str) -> RegexError:
        return RegexError(
            f"regex '{self.s}' uses {what}, which herdsman cannot evaluate (Python's re)"
        )

    def run(self) -> str:
        s = self.s
        while self.i < len(s):
            ch = s[self.i]
            if ch == "\\":
                self.out.append(self.escape(in_set=False))
            elif ch == "[":
                self.out.append(self.char_set())
            elif ch == "(":
                self.open_group()
            elif ch == ")":
                self.out.append(")" * (self.groups.pop() if len(self.groups) > 1 else 0))
                if not self.groups:
                    self.groups.append(0)
                self.out.append(")")
                self.i += 1
            elif ch == "{":
                self.brace()
            elif ch == "|" and self.groups[-1]:
                raise self.unsupported("an option setting followed by alternatives")
            else:
                self.out.append(ch)
                self.i += 1
        self.out.append(")" * self.groups[0])
        return "".join(self.out)

    def brace(self) -> None:
        """``{n}``, ``{n,}``, ``{n,m}`` quantify; anything else is a literal brace."""
        m = re.compile(r"\{(\d+)(,(\d*))?\}").match(self.s, self.i)
        if m is not None:
            self.out.append(m.group(0))
            self.i = m.end()
        else:
            self.out.append("\\{")
            self.i += 1

    def open_group(self) -> None:
        s, i = self.s, self.i
        if s.startswith("(*", i):
            raise self.unsupported("a backtracking control verb")
        if not s.startswith("(?", i):
            self.groups.append(0)
            self.out.append("(")
            self.i += 1
            return
        rest = s[i + 2 : i + 3]
        if rest in (":", "=", "!", ">", "#"):
            if rest == "#":  # a comment: drop it
                end = s.find(")", i)
                self.i = len(s) if end < 0 else end + 1
                return
            self.groups.append(0)
            self.out.append(s[i : i + 3])
            self.i += 3
            return
        if s.startswith("(?<=", i) or s.startswith("(?<!", i):
            self.groups.append(0)
            self.out.append(s[i : i + 4])
            self.i += 4
            return
        m = re.compile(r"\(\?(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')").match(s, i)
        if m is not None:
            self.groups.append(0)
            self.out.append(f"(?P<{m.group(1) or m.group(2)}>")
            self.i = m.end()
            return
        m = re.compile(r"\(\?P=([A-Za-z_]\w*)\)").match(s, i)
        if m is not None:
            self.out.append(m.group(0))
            self.i = m.end()
            return
        m = re.compile(r"\(\?\((\d+|[A-Za-z_]\w*|<[A-Za-z_]\w*>|'[A-Za-z_]\w*')\)").match(s, i)
        if m is not None:
            self.groups.append(0)
            self.out.append(f"(?({m.group(1).strip(chr(39)).strip('<>')})")
            self.i = m.end()
            return
        m = re.compile(r"\(\?([imsxn]*)(?:-([imsx]*))?([:)])").match(s, i)
        if m is not None:
            on, off, close = m.group(1), m.group(2) or "", m.group(3)
            if "n" in on:
                raise self.unsupported("the (?n) option")
            flags = on + (f"-{off}" if off else "")
            if close == ":":
                self.groups.append(0)
                self.out.append(f"(?{flags}:" if flags else "(?:")
            elif flags and i == 0:
                self.out.append(m.group(0))  # global flags at the start: re's own
            elif flags:
                # a setting for the rest of the enclosing group: re wants a scope
                self.out.append(f"(?{flags}:")
                self.groups[-1] += 1
            self.i = m.end()
            return
        if s.startswith("(?|", i):
            raise self.unsupported("a branch reset group (?|...)")
        raise self.unsupported("recursion, subroutine calls or callouts (?...)")

    def escape(self, *, in_set: bool) -> str:
        s = self.s
        i = self.i
        if i + 1 >= len(s):
            self.i = len(s)
            return "\\\\"  # PCRE2 refuses a trailing backslash (checked before)
        c = s[i + 1]
        self.i = i + 2
        if c == "Q":
            end = s.find("\\E", self.i)
            body = s[self.i :] if end < 0 else s[self.i : end]
            self.i = len(s) if end < 0 else end + 2
            if in_set:
                return "".join(_set_char(ch) for ch in body)
            return re.escape(body)
        if c == "E":
            return ""
        if c in _UNSUPPORTED_ESC:
            raise self.unsupported(_UNSUPPORTED_ESC[c])
        if c == "x" and s.startswith("{", self.i):
            end = s.find("}", self.i)
            value = int(s[self.i + 1 : end] or "0", 16)
            self.i = end + 1
            if value > 0xFF:
                raise self.unsupported("a character above \\xff without UTF mode")
            return f"\\x{value:02x}"
        if c == "o" and s.startswith("{", self.i):
            end = s.find("}", self.i)
            value = int(s[self.i + 1 : end] or "0", 8)
            self.i = end + 1
            return f"\\x{value:02x}"
        if c == "e":
            return "\\x1b"
        if c == "c" and self.i < len(s):
            value = ord(s[self.i].upper()) ^ 0x40
            self.i += 1
            return f"\\x{value:02x}"
        if c == "h":
            return _HSPACE if in_set else f"[{_HSPACE}]"
        if c == "H":
            if in_set:
                raise self.unsupported("\\H inside a character class")
            return f"[^{_HSPACE}]"
        if c == "v":
            return _VSPACE if in_set else f"[{_VSPACE}]"
        if c == "V":
            if in_set:
                raise self.unsupported("\\V inside a character class")
            return f"[^{_VSPACE}]"
        if in_set:
            if c == "b":
                return "\\x08"
            return "\\" + c
        if c == "R":
            return "(?:\\r\\n|[\\n\\x0b\\x0c\\r\\x85])"
        if c == "N":
            return "[^\\n]"
        if c == "Z":
            return "(?=\\n?\\Z)"
        if c == "z":
            return "\\Z"
        if c in "kg":
            m = re.compile(
                r"(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|\{([A-Za-z_]\w*|\d+)\}|(\d+))"
            ).match(s, self.i)
            if m is None:
                raise self.unsupported(f"the \\{c} reference form")
            self.i = m.end()
            name = next(g for g in m.groups() if g is not None)
            return f"(?P={name})" if not name.isdigit() else f"(?:\\{int(name)})"
        return "\\" + c

    def char_set(self) -> str:
        s = self.s
        i = self.i + 1
        parts = ["["]
        if i < len(s) and s[i] == "^":
            parts.append("^")
            i += 1
        first = True
        while i < len(s):
            ch = s[i]
            if ch == "]" and not first:
                parts.append("]")
                self.i = i + 1
                return "".join(parts)
            first = False
            if ch == "[" and s.startswith("[:", i):
                end = s.find(":]", i + 2)
                name = s[i + 2 : end] if end > 0 else ""
                neg = name.startswith("^")
                if neg or name not in _POSIX:
                    raise self.unsupported(f"the POSIX class [:{name}:] here")
                parts.append(_POSIX[name])
                i = end + 2
                continue
            if ch == "\\":
                self.i = i
                parts.append(self.escape(in_set=True))
                i = self.i
                continue
            if ch == "-" and parts[-1] not in ("[", "^") and i + 1 < len(s) and s[i + 1] != "]":
                parts.append("-")
            else:
                parts.append(_set_char(ch))
            i += 1
        self.i = len(s)
        parts.append("]")
        return "".join(parts)


def translate(text: str) -> str:
    """The Python ``re`` pattern for a PCRE2 pattern (raises RegexError)."""
    return _Translator(text).run()


def compile_regex(text: str, icase: bool = False) -> re.Pattern[bytes]:
    """``regex_comp(text, !icase, ...)``: the compiled pattern, for bytes subjects."""
    raw = text.encode("utf-8", "surrogateescape")
    found = _pcre2().error(raw, icase)
    if found is not None:
        message, offset = found
        raise RegexError(f"regex '{text}' is invalid (error={message}, erroffset={offset})")
    pattern = translate(text)
    try:
        return re.compile(pattern.encode("utf-8", "surrogateescape"), re.IGNORECASE if icase else 0)
    except re.error as exc:
        raise RegexError(
            f"regex '{text}' is invalid (error={exc.msg}, erroffset={exc.pos or 0})"
        ) from None
