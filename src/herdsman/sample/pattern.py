"""Pattern matching (``src/pattern.c``): how ACLs and maps compare a sample with
their patterns.

A match method (``-m str``, ``beg``, ``ip``...) says how a pattern text is
parsed (``pat_parse_*``), which type the sample is cast to first
(``pat_match_types[]``) and how they are compared (``pat_match_*``).
Patterns come in groups (``PatternExpr``): the words of an ACL line, each
``-f`` file, each map file, each with its ``-i`` flag.

``compile_match()`` turns the groups into one closure answering "does this
sample match any pattern" with the fastest Python operation for the method
(a set for exact strings, ``bytes.startswith`` with a tuple for prefixes);
``compile_lookup()`` answers which pattern matched, for maps: the longest
prefix or network wins for case-sensitive ``beg`` and ``ip`` (HAProxy's trees),
otherwise the first in file order.

Pattern files (``-f``, maps) are read once per configuration by name, as
``pat_ref_lookup()`` does, through a ``PatternFiles`` cache.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Final

from herdsman.sample import types as T
from herdsman.sample.net import str2net, str62net
from herdsman.sample.regex import RegexError, compile_regex
from herdsman.sample.types import Value

# PAT_MATCH_* in pat_match_names[] order
FOUND, BOOL, INT, IP, BIN, LEN, STR, BEG, SUB, DIR, DOM, END, REG, REGM = range(14)
NAMES: Final = (
    "found",
    "bool",
    "int",
    "ip",
    "bin",
    "len",
    "str",
    "beg",
    "sub",
    "dir",
    "dom",
    "end",
    "reg",
    "regm",
)
# pat_match_types[]: what the sample is cast to before matching
EXPECT: Final = (
    T.SINT,
    T.SINT,
    T.SINT,
    T.ADDR,
    T.BIN,
    T.STR,
    T.STR,
    T.STR,
    T.STR,
    T.STR,
    T.STR,
    T.STR,
    T.STR,
    T.STR,
)
_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


class PatternError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def method_index(name: str) -> int:
    """``pat_find_match_name()``; -1 when unknown."""
    return NAMES.index(name) if name in NAMES else -1


# -- parsing (pat_parse_*) -------------------------------------------------------------


def _strl2llrc(text: str) -> int | None:
    """``strl2llrc()``: an optional '-', then digits only; None otherwise."""
    body = text[1:] if text[:1] == "-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None if body or text[:1] != "-" else 0
    return int(text)


Range = tuple[int | None, int | None]


def parse_int(text: str) -> Range:
    """``pat_parse_int()``: ``n``, ``a:b`` (or ``a-b``), ``:b``, ``a:``."""
    if not text:
        raise PatternError(f"'{text}' is not a valid number range")
    sep = next((i for i, ch in enumerate(text) if ch in ":-"), -1)
    if sep < 0:
        value = _strl2llrc(text)
        if value is None:
            raise PatternError(f"'{text}' is not a number")
        return value, value
    bad = PatternError(f"'{text}' is not a valid number range")
    if sep == 0 and len(text) > 1:
        high = _strl2llrc(text[1:])
        if high is None:
            raise bad
        return None, high
    if sep == len(text) - 1:
        low = _strl2llrc(text[:sep])
        if low is None:
            raise bad
        return low, None
    low, high = _strl2llrc(text[:sep]), _strl2llrc(text[sep + 1 :])
    if low is None or high is None or low > high:
        raise bad
    return low, high


def parse_binary(text: str) -> bytes:
    if len(text) % 2:
        raise PatternError("an even number of hex digit is expected")
    out = bytearray()
    for i in range(0, len(text), 2):
        for ch in text[i : i + 2]:
            if ch not in "0123456789abcdefABCDEF":
                raise PatternError(f"an hex digit is expected (found '{ch}')")
        out.append(int(text[i : i + 2], 16))
    return bytes(out)


@dataclass(frozen=True, slots=True)
class Net:
    """An IP pattern: ``bits`` 32 or 128, the address (masked) and the mask as ints."""

    bits: int
    addr: int
    mask: int

    @property
    def contiguous(self) -> bool:
        full = (1 << self.bits) - 1
        inv = ~self.mask & full
        return inv & (inv + 1) == 0

    @property
    def prefix(self) -> int:
        return bin(self.mask).count("1")


def parse_ip(text: str, no_dns: bool) -> Net:
    v4 = str2net(text, resolve=not no_dns)
    if v4 is not None:
        return Net(32, int.from_bytes(v4[0], "big"), int.from_bytes(v4[1], "big"))
    v6 = str62net(text)
    if v6 is not None:
        return Net(128, int.from_bytes(v6[0], "big"), int.from_bytes(v6[1], "big"))
    raise PatternError(f"'{text}' is not a valid IPv4 or IPv6 address")


def _wire(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def parse_pattern(method: int, text: str, icase: bool, no_dns: bool) -> object:
    """The parsed form of one pattern text for ``method``."""
    if method in (FOUND, BOOL):
        return None
    if method in (INT, LEN):
        return parse_int(text)
    if method == IP:
        return parse_ip(text, no_dns)
    if method == BIN:
        return parse_binary(text)
    if method in (REG, REGM):
        try:
            return compile_regex(text, icase)
        except RegexError as err:
            raise PatternError(err.message) from None
    raw = _wire(text)
    return raw.translate(_LOWER) if icase else raw


# -- groups of patterns ------------------------------------------------------------------


@dataclass
class PatternExpr:
    """Patterns sharing their flags (``struct pattern_expr``): parsed value and
    associated map data, in order."""

    icase: bool = False
    items: list[tuple[object, Value | None]] = field(default_factory=list)


def _ip_of(value: Value) -> tuple[int, int] | None:
    """(bits, int) of an address sample."""
    if isinstance(value, IPv4Address):
        return 32, int(value)
    if isinstance(value, IPv6Address):
        return 128, int(value)
    return None


def _v6_as_v4(v: int) -> int | None:
    """The IPv4 address in ``::ffff:a.b.c.d``, ``::a.b.c.d`` or 6to4 ``2002:AABB:CCDD::``."""
    if v >> 64 == 0 and ((v >> 32) & 0xFFFFFFFF) in (0, 0xFFFF):
        return v & 0xFFFFFFFF
    if v >> 112 == 0x2002:
        return (v >> 80) & 0xFFFFFFFF
    return None


def ip_matches(net: Net, value: Value) -> bool:
    """``pat_match_ip()`` for one pattern."""
    ip = _ip_of(value)
    if ip is None:
        return False
    bits, v = ip
    if net.bits == 32:
        if bits == 128:
            v4 = _v6_as_v4(v)
            if v4 is None:
                return False
            v = v4
        return v & net.mask == net.addr
    if bits == 32:
        v = 0xFFFF00000000 | v  # ::ffff:a.b.c.d
    return v & net.mask == net.addr


def match_word(data: bytes, pattern: bytes, icase: bool, delims: bytes) -> bool:
    """``match_word()``: ``pattern`` (delimiters around it ignored) between
    delimiters or the ends of ``data``."""
    p = pattern.strip(delims)
    if len(p) > len(data):
        return False
    if icase:
        data = data.translate(_LOWER)
    end = len(data) - len(p)
    may = True
    for i in range(end + 1):
        c = data[i]
        if c in delims:
            may = True
            continue
        if not may:
            continue
        if data.startswith(p, i) and (i == end or data[i + len(p)] in delims):
            return True
        may = False
    return False


Matcher = Callable[[Value], bool]


def _str_matcher(method: int, exprs: list[PatternExpr]) -> Matcher:
    cs = [p for e in exprs if not e.icase for p, _ in e.items]
    ci = [p for e in exprs if e.icase for p, _ in e.items]
    lower = _LOWER
    if method == STR:
        exact = frozenset(cs)
        folded = frozenset(ci)
        if not folded:
            return lambda v: v in exact
        return lambda v: v in exact or v.translate(lower) in folded  # type: ignore[union-attr]
    if method in (BEG, END):
        t_cs, t_ci = tuple(cs), tuple(ci)
        op = bytes.startswith if method == BEG else bytes.endswith
        if not t_ci:
            return lambda v: op(v, t_cs)  # type: ignore[arg-type]
        return lambda v: op(v, t_cs) or op(v.translate(lower), t_ci)  # type: ignore[arg-type, union-attr]
    if method == SUB:

        def sub(v: Value) -> bool:
            data: bytes = v  # type: ignore[assignment]
            if any(p in data for p in cs):  # type: ignore[operator]
                return True
            if ci:
                low = data.translate(lower)
                return any(p in low for p in ci)  # type: ignore[operator]
            return False

        return sub
    delims = b"/?" if method == DIR else b"/?.:"
    groups = [(p, e.icase) for e in exprs for p, _ in e.items]
    return lambda v: any(match_word(v, p, ic, delims) for p, ic in groups)  # type: ignore[arg-type]


def compile_match(method: int, exprs: list[PatternExpr]) -> Matcher:
    """A closure: does a sample (already cast to ``EXPECT[method]``) match any pattern?"""
    if method == FOUND:
        return lambda v: True
    if method == BOOL:
        return lambda v: bool(v)
    items = [p for e in exprs for p, _ in e.items]
    if method == INT and len(items) == 1:
        only: Range = items[0]  # type: ignore[assignment]
        low, high = only
        # one bound, as "gt 10" makes it: one comparison
        if high is None and low is not None:
            floor = low
            return lambda v: floor <= v  # type: ignore[operator]
        if low is None and high is not None:
            ceiling = high
            return lambda v: v <= ceiling  # type: ignore[operator]
    if method in (INT, LEN):
        ranges: list[Range] = items  # type: ignore[assignment]

        def in_range(v: Value) -> bool:
            n = len(v) if method == LEN else v  # type: ignore[arg-type]
            for low, high in ranges:
                if (low is None or low <= n) and (high is None or n <= high):  # type: ignore[operator]
                    return True
            return False

        return in_range
    if method == IP:
        nets: list[Net] = items  # type: ignore[assignment]
        return lambda v: any(ip_matches(n, v) for n in nets)
    if method == BIN:
        blocks = frozenset(items)
        return lambda v: v in blocks
    if method in (REG, REGM):
        rxs: list[re.Pattern[bytes]] = items  # type: ignore[assignment]
        return lambda v: any(rx.search(v) is not None for rx in rxs)  # type: ignore[arg-type]
    return _str_matcher(method, exprs)


Lookup = Callable[[Value], tuple[object, Value | None] | None]


def _one_matches(method: int, pat: object, icase: bool, v: Value) -> bool:
    if method == STR:
        return (v.translate(_LOWER) if icase else v) == pat  # type: ignore[union-attr]
    if method == BEG:
        return (v.translate(_LOWER) if icase else v).startswith(pat)  # type: ignore[union-attr, arg-type]
    if method == END:
        return (v.translate(_LOWER) if icase else v).endswith(pat)  # type: ignore[union-attr, arg-type]
    if method == SUB:
        return pat in (v.translate(_LOWER) if icase else v)  # type: ignore[operator, union-attr]
    if method in (DIR, DOM):
        return match_word(v, pat, icase, b"/?" if method == DIR else b"/?.:")  # type: ignore[arg-type]
    return compile_match(method, [PatternExpr(icase, [(pat, None)])])(v)


def compile_lookup(method: int, exprs: list[PatternExpr]) -> Lookup:
    """A closure returning (pattern, data) of the pattern a sample matches, as
    ``pattern_exec_match()`` picks it: per group, the tree (case-sensitive
    ``str``/``beg``, ``ip`` with a contiguous mask: the exact string, the
    longest prefix or network) before the list, in order."""
    Item = tuple[object, Value | None]
    plans: list[tuple[bool, list[Item], list[Item]]] = []
    for e in exprs:
        tree: list[Item] = []
        rest: list[Item] = []
        for item in e.items:
            pat = item[0]
            in_tree = (method in (STR, BEG) and not e.icase) or (
                method == IP and isinstance(pat, Net) and pat.contiguous
            )
            (tree if in_tree else rest).append(item)
        plans.append((e.icase, tree, rest))

    def lookup(v: Value) -> tuple[object, Value | None] | None:
        for icase, tree, rest in plans:
            best: Item | None = None
            best_len = -1
            for item in tree:
                pat = item[0]
                if not _one_matches(method, pat, icase, v):
                    continue
                size = pat.prefix if isinstance(pat, Net) else len(pat)  # type: ignore[arg-type]
                if isinstance(pat, Net) and pat.bits == 128 and isinstance(v, IPv4Address):
                    size -= 1000  # the IPv4 tree is looked up first
                if size > best_len:
                    best, best_len = item, size
            if best is not None:
                return best
            for item in rest:
                if _one_matches(method, item[0], icase, v):
                    return item
        return None

    return lookup


# -- pattern files ------------------------------------------------------------------------


class PatternFiles:
    """Files already read (``pat_ref_lookup()``): each is read once, as one or
    two columns, whichever it was first."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bool, list[tuple[int, str, str | None]]]] = {}

    def read(self, path: str, two_columns: bool) -> list[tuple[int, str, str | None]]:
        found = self.files.get(path)
        if found is not None:
            was_two, lines = found
            if two_columns and not was_two:
                raise PatternError(
                    f'The file "{path}" is already used as one column file and cannot be '
                    "used by as two column file."
                )
            if not two_columns and was_two:
                raise PatternError(
                    f'The file "{path}" is already used as two column file and cannot be '
                    "used by as one column file."
                )
            return lines
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            raise PatternError(f"failed to open pattern file <{path}>") from None
        lines = read_pattern_lines(data, two_columns)
        self.files[path] = (two_columns, lines)
        return lines


def read_pattern_lines(data: bytes, two_columns: bool) -> list[tuple[int, str, str | None]]:
    """``pat_ref_read_from_file()`` / ``_smp()``: (line number, key, value)."""
    out: list[tuple[int, str, str | None]] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        line = raw.split(b"\0", 1)[0]
        if line[:1] == b"#":
            continue
        line = line.lstrip(b" \t")
        cut = len(line)
        for i, c in enumerate(line):
            if c in (10, 13):
                cut = i
                break
        line = line[:cut]
        if not line:
            continue
        text = line.decode("utf-8", "surrogateescape")
        if not two_columns:
            out.append((number, text, None))
            continue
        key_end = next((i for i, ch in enumerate(text) if ch in " \t"), len(text))
        value = text[key_end:].lstrip(" \t").rstrip(" \t")
        out.append((number, text[:key_end], value))
    return out
