"""``.if`` / ``.elif`` conditions and ``-cc``, as in HAProxy 2.6 ``cfgcond.c``.

Grammar (no precedence surprises: ``&&`` binds tighter than ``||``)::

    expr := and ( '||' expr )?
    and  := term ( '&&' and )?
    term := '!'* ( number | '(' expr ')' | predicate [ '(' args ')' ] )

A number is anything C ``strtol(.., 0)`` converts (``0x10``, ``-1``, ``010``)
and is true when non-zero. The whole expression is parsed before anything is
evaluated, so a syntax error anywhere wins over a short-circuit.

The parser mirrors HAProxy's recursive descent closely, pointer updates
included, because its error texts quote "the rest of the expression" from
whichever position the C code happened to hold (``unparsable conditional
expression '&& 1 &&'`` for ``1 && 1 &&``), and the caret of the ``.if``
alert points there too. The ``&&``/``||`` recursion is written as loops
that spend the same depth budget (``MAX_CFG_RECURSION``) as the C code.

Predicate arguments go through ``arg.c make_arg_list()`` rules: quotes and
a few backslash escapes, ``,`` and ``)`` separate; a predicate written without
parentheses gets empty arguments (``defined`` is ``defined("")``, false).

Versions compare against :data:`herdsman.version.HAPROXY_COMPAT` with
``haproxy.c split_version()``; an unparsable version compares as "older",
so ``version_atleast(foo)`` is true, as in 2.6.12. The OpenSSL predicates
look at Python's ``ssl`` module when ``FEATURES["OPENSSL"]`` is set and are
false otherwise (HAProxy built without OpenSSL would report an error with
no message; herdsman chooses not to abort such configurations).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from herdsman.config.units import c_strtol
from herdsman.version import FEATURES, HAPROXY_COMPAT

__all__ = [
    "PREDICATES",
    "CondError",
    "check_condition",
    "compare_version",
    "eval_condition",
    "eval_condition_text",
    "split_version",
]

MAX_CFG_RECURSION = 1024
_TRASH_SIZE = 16384  # tune.bufsize: the scratch buffer make_arg_list() decodes into

# predicate name -> number of (string) arguments, all mandatory
PREDICATES: dict[str, int] = {
    "defined": 1,
    "feature": 1,
    "streq": 2,
    "strneq": 2,
    "version_atleast": 1,
    "version_before": 1,
    "openssl_version_atleast": 1,
    "openssl_version_before": 1,
    "ssllib_name_startswith": 1,
}


class CondError(Exception):
    """A condition HAProxy refuses; ``position`` is a 0-based index into the text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True, slots=True)
class _Term:
    neg: bool
    const: bool = False
    pred: str = ""
    args: tuple[str, ...] = ()
    sub: tuple[tuple[_Term, ...], ...] | None = None  # '(' expr ')': ORs of ANDs


_Expr = tuple[tuple[_Term, ...], ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)

    def at(self, i: int) -> str:
        return self.s[i] if i < self.n else ""

    def skip(self, i: int) -> int:
        while i < self.n and self.s[i] in " \t":
            i += 1
        return i

    # expr() returns (end, node) on success or (text, None) when the input is
    # empty where something was expected ("desynchronized"), where ``text``
    # is what the C caller's text pointer holds at that point. Errors raise
    # CondError. The and-chain (cfg_parse_cond_and) is inlined so that each
    # level of parentheses costs two Python frames, not three.

    def expr(self, start: int, depth: int) -> tuple[int, _Expr | None]:
        ors: list[tuple[_Term, ...]] = []
        cur = visible = start
        while True:
            if cur >= self.n:
                return visible, None
            if depth <= 0:
                raise CondError(f"unparsable conditional expression '{self.s[cur:]}'", cur)
            terms: list[_Term] = []
            and_depth = depth - 1
            and_visible = cur
            while True:
                if cur >= self.n:  # nothing after '&&'
                    raise CondError(
                        f"unparsable conditional expression '{self.s[and_visible:]}'",
                        and_visible,
                    )
                if and_depth <= 0:
                    raise CondError(f"unparsable conditional sub-expression '{self.s[cur:]}'", cur)
                end, term = self.term(cur, and_depth - 1)
                if term is None:
                    raise CondError(f"unparsable conditional sub-expression '{self.s[cur:]}'", cur)
                terms.append(term)
                cur = self.skip(end)
                if len(terms) == 1:
                    and_visible = cur
                if not self.s.startswith("&&", cur):
                    break
                cur = self.skip(cur + 2)
                and_depth -= 1
            ors.append(tuple(terms))
            if len(ors) == 1:
                visible = cur  # only the outermost level updates the caller's pointer
            if not self.s.startswith("||", cur):
                return cur, tuple(ors)
            cur = self.skip(cur + 2)
            depth -= 1

    def term(self, start: int, depth: int) -> tuple[int, _Term | None]:
        cur = self.skip(start)
        if cur >= self.n:
            return start, None
        unparsable = CondError(f"unparsable conditional expression '{self.s[start:]}'", start)
        if depth <= 0:
            raise unparsable
        neg = False
        while self.at(cur) == "!":
            neg = not neg
            cur = self.skip(cur + 1)
        value, end = c_strtol(self.s, cur, 0)
        if end != cur:
            return end, _Term(neg, const=value != 0)
        if self.at(cur) == "(":
            end, sub = self.expr(self.skip(cur + 1), depth - 1)
            if sub is None:
                raise unparsable
            cur = self.skip(end)
            if self.at(cur) != ")":
                raise CondError(
                    f"expected ')' after conditional expression '{self.s[start:]}'", start
                )
            return self.skip(cur + 1), _Term(neg, sub=sub)
        # The predicate name ends at a space or '(' only (cfg_lookup_cond_pred).
        word_end = cur
        while word_end < self.n and self.s[word_end] not in " (":
            word_end += 1
        pred = self.s[cur:word_end]
        if pred not in PREDICATES:
            raise unparsable
        args, end = self.args(word_end, pred)
        return end, _Term(neg, pred=pred, args=args)

    def args(self, i: int, pred: str) -> tuple[tuple[str, ...], int]:
        """make_arg_list() for string arguments; returns (args, end)."""
        nbarg = PREDICATES[pred]

        def fail(msg: str, arg: int, pos: int) -> CondError:
            return CondError(
                f"{msg} in argument {arg} of predicate '{pred}' used in conditional expression",
                pos,
            )

        if self.at(i) != "(":
            # No parenthesis: the mandatory arguments read as one empty string.
            if nbarg > 1:
                raise fail(f"missing arguments (got 1/{nbarg}), type 'string' expected", 1, i)
            return ("",), i
        i += 1
        args: list[str] = []
        while len(args) < nbarg:
            buf: list[str] = []
            squote = dquote = False
            while i < self.n and len(buf) < _TRASH_SIZE - 1:
                c = self.s[i]
                if c == '"' and not squote:
                    dquote = not dquote
                elif c == "'" and not dquote:
                    squote = not squote
                elif c == "\\" and not squote:
                    nxt = self.at(i + 1)
                    if not nxt:
                        raise fail(
                            f"failed to parse '{self.s[i:]}' after '{''.join(buf)}' "
                            f"as type 'string' at position {len(args) + 1}",
                            len(args),
                            i,
                        )
                    if nxt in "\\ \"'rnt":
                        buf.append({"r": "\r", "n": "\n", "t": "\t"}.get(nxt, nxt))
                        i += 1
                    else:
                        buf.append("\\")  # a lone backslash is kept
                elif not squote and not dquote and c in ",)":
                    break
                else:
                    buf.append(c)
                i += 1
            if i < self.n and self.s[i] not in ",)":
                raise fail(
                    "too small buffer size to store decoded argument "
                    f"{len(args) + 1}, increase bufsize ?",
                    len(args),
                    i,
                )
            args.append("".join(buf))
            if i >= self.n or self.s[i] == ")" or len(args) >= nbarg:
                break
            i += 1  # the comma
        got = len(args)
        if got < nbarg:
            raise fail(f"missing arguments (got {got}/{nbarg}), type 'string' expected", got, i)
        if self.at(i) != ")":
            rest = self.s[i:]
            msg = f"expected ')' before '{rest}'" if rest else "expected ')'"
            # make_arg_list() takes one back: the failed search created an argument
            raise fail(msg, got - 1 if got > 1 else got, i)
        return tuple(args), i + 1


def _parse(text: str) -> _Expr | None:
    """cfg_eval_condition()'s parsing half; None for an empty (false) condition."""
    if not text:
        return None
    p = _Parser(text)
    end, expr = p.expr(0, MAX_CFG_RECURSION)
    if expr is None:
        raise CondError(f"unparsable conditional expression '{text}'", end)
    end = p.skip(end)
    if end < p.n:
        raise CondError(
            f"unexpected character '{text[end]}' at the end of conditional expression '{text}'",
            end,
        )
    return expr


def _eval_expr(expr: _Expr, env: Mapping[str, str]) -> bool:
    # OR of ANDs, short-circuited like cfg_eval_cond_expr()/_and(). Written
    # with plain loops: one Python frame per level of parentheses.
    for terms in expr:
        for term in terms:
            if term.sub is not None:
                value = _eval_expr(term.sub, env)
            elif term.pred:
                value = _eval_pred(term.pred, term.args, env)
            else:
                value = term.const
            if value == term.neg:
                break  # this term is false: the AND is false
        else:
            return True
    return False


def _eval_pred(pred: str, args: tuple[str, ...], env: Mapping[str, str]) -> bool:
    arg = args[0]
    if pred == "defined":
        return arg in env
    if pred == "feature":
        return FEATURES.get(arg) is True
    if pred == "streq":
        return arg == args[1]
    if pred == "strneq":
        return arg != args[1]
    if pred == "version_atleast":
        return compare_version(arg) <= 0
    if pred == "version_before":
        return compare_version(arg) > 0
    if not FEATURES.get("OPENSSL"):
        return False
    if pred == "ssllib_name_startswith":
        return ssl.OPENSSL_VERSION.startswith(arg)
    wanted = _openssl_version_number(arg)
    if not wanted:
        # HAProxy fails without a message here ("(null)" in a .if alert).
        raise CondError("", 0)
    current = ssl.OPENSSL_VERSION_NUMBER
    if pred == "openssl_version_atleast":
        return wanted <= current
    return wanted > current  # openssl_version_before


def _openssl_version_number(version: str) -> int:
    """ssl_utils.c openssl_version_parser(): "1.1.1k" -> 0x1010110f; 0 if invalid."""
    major, end = c_strtol(version, 0)
    if version[end : end + 1] != "." or not 0 <= major <= 0xF:
        return 0
    minor, end = c_strtol(version, end + 1)
    if version[end : end + 1] != "." or not 0 <= minor <= 0xFF:
        return 0
    fix, end = c_strtol(version, end + 1)
    if not 0 <= fix <= 0xFF:
        return 0
    rest = version[end:]
    patch = status = 0
    if not rest:
        status = 0xF
    elif rest[0] == "-":
        if rest.startswith("-beta"):
            status = c_strtol(rest, 5)[0]
            if not 0 <= status <= 14:
                return 0
    else:
        patch = 1 + sum((ord(c) & ~0x20) - ord("A") for c in rest)
        status = 0xF
    return (
        ((major & 0xF) << 28)
        | ((minor & 0xFF) << 20)
        | ((fix & 0xFF) << 12)
        | ((patch & 0xFF) << 4)
        | (status & 0xF)
    )


# -- versions (haproxy.c split_version / compare_current_version) ---------------


def split_version(version: str) -> tuple[int, ...] | None:
    """``<a>[.<b>[.<c>[.<d>]]][-{dev,pre,rc}<f>][-*][-<g>]`` -> 7 numbers, or None.

    The tag weighs 1 for dev, 2 for rc/pre and 3 when absent, so that
    ``2.6-dev1`` < ``2.6``. The numbers are C unsigned ints.
    """
    values = [0, 0, 0, 0, 3, 0, 0]
    if not version:
        return None
    p = 0
    for idx in range(4):
        num, end = c_strtol(version, p)
        values[idx] = num & 0xFFFFFFFF
        sep = version[end : end + 1]
        p = end + 1
        if not sep:
            return tuple(values)
        if sep == "-":
            break
        if sep != "." or idx == 3:
            return None
    # tag: "-dev<f>", "-rc<f>", "-pre<f>", or straight to the commit number
    if not version[p : p + 1].isdigit():
        for tag, weight in (("dev", 1), ("rc", 2), ("pre", 2)):
            if version.startswith(tag, p):
                values[4] = weight
                num, end = c_strtol(version, p + len(tag))
                values[5] = num & 0xFFFFFFFF
                sep = version[end : end + 1]
                if not sep:
                    return tuple(values)
                if sep != "-":
                    return None
                p = end + 1
                break
    # commit number: whatever follows the last '-', if it is a number
    dash = version.rfind("-", p)
    if dash >= 0:
        p = dash + 1
        if p == len(version):
            return None
    num, end = c_strtol(version, p)
    values[6] = num & 0xFFFFFFFF if end == len(version) else 0
    return tuple(values)


def compare_version(version: str, current: str = HAPROXY_COMPAT) -> int:
    """compare_current_version(): -1 if ``version`` is older than ``current``,
    0 if equal, 1 if newer; -2 if ``current`` and -3 if ``version`` is unparsable."""
    loc = split_version(current)
    if loc is None:
        return -2
    mod = split_version(version)
    if mod is None:
        return -3
    return (mod > loc) - (mod < loc)


# -- entry points ----------------------------------------------------------------


def eval_condition_text(text: str, env: Mapping[str, str]) -> bool:
    """Evaluate one condition string; an empty one is false."""
    text = text.split("\0", 1)[0]  # a C string ends at the first NUL
    expr = _parse(text)
    return expr is not None and _eval_expr(expr, env)


def eval_condition(args: list[str], env: Mapping[str, str]) -> bool:
    """Evaluate the words after ``.if``/``.elif``.

    readcfgfile() glues the words back together with single spaces (any NUL
    produced by ``\\x00`` becomes a space too) before parsing; so do we, and
    CondError positions are indexes into that joined text.
    """
    return eval_condition_text(" ".join(args).replace("\0", " "), env)


def check_condition(expr: str, env: Mapping[str, str]) -> tuple[int, str | None]:
    """What ``haproxy -cc <expr>`` does: (exit status, alert text or None).

    Exit 0 when true, 1 when false, 2 on error. The expression is first split
    like a configuration line but without ``#`` comments, and in place, as
    haproxy.c does: an environment variable longer than its reference
    overwrites the rest of the expression (``streq("${LONG}",x)`` loses its
    closing quote). Offsets count characters, not bytes, in this emulation.
    """
    # Imported here: the lexer uses this module for .if lines.
    from herdsman.config.lexer import split_words

    res = split_words(expr, env, comments=False, skip_leading=False, inplace=True)
    for kind, text in (
        ("quote", "Syntax Error in condition: Unmatched quote."),
        ("hex", "Syntax Error in condition: Truncated or invalid hexadecimal sequence."),
        ("toolarge", "Error in condition: Line too long."),
        ("toomany", "Error in condition: Too many words."),
    ):
        if kind in res.errors:
            return 2, text
    if res.errors:
        return 2, "Unhandled error in condition, please report this to the developers."
    try:
        result = eval_condition_text(res.merged, env)
    except CondError as err:
        return 2, f"Failed to evaluate condition: {err.message}" if err.message else None
    return (0 if result else 1), None
