"""ACLs and conditions (``src/acl.c``): ``acl <name> <criterion> [flags] [operator]
<value>...``, anonymous ``{ ... }`` ACLs, ``if``/``unless`` conditions with
``!``, ``or``/``||`` and the implicit and, and the predefined ACLs.

Everything is parsed once, with HAProxy's texts, and compiled into the
closures of ``acl_exec.py``, which return HAProxy's three-valued result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from herdsman.sample import acl_exec, known
from herdsman.sample import args as A
from herdsman.sample import pattern as P
from herdsman.sample import types as T
from herdsman.sample.acl_exec import FAIL, MISS, PASS, Cond
from herdsman.sample.args import ArgError, make_arg_list
from herdsman.sample.expr import (
    Expr,
    ExprError,
    compile_expr,
    is_idchar,
    keyword_end,
    parse_converters,
    parse_expr,
)
from herdsman.sample.registry import FETCHES, CompileError, Compiler
from herdsman.sample.txn import Txn
from herdsman.sample.types import Value


class AclError(ValueError):
    """``message`` is the text after "error detected while parsing ACL '<n>' : "."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def invalid_char(name: str) -> str | None:
    """``invalid_char()``: the first character not allowed in a name."""
    for ch in name:
        if not (ch.isascii() and (ch.isalnum() or ch in ".:_-")):
            return ch
    return None


@dataclass
class AclExpr:
    """One ``<criterion> [flags] <patterns>`` of an ACL, compiled: ``term(txn)``."""

    kw: str
    expr: Expr
    method: int
    term: Cond
    use: int
    val: int
    # the same as a yes/no closure when the value never waits for more data
    # (PASS or FAIL only): what a one-ACL condition runs, one call less
    test: Callable[[Txn], bool] | None = None
    # the patterns, for the look-ups compiled over several rules (proxy/switching.py)
    patterns: list[P.PatternExpr] = field(default_factory=list)


@dataclass
class Acl:
    """A named (or anonymous, ``name == ""``) ACL: its expressions are ORed."""

    name: str
    exprs: list[AclExpr] = field(default_factory=list)
    use: int = 0
    val: int = 0
    _term: Cond | None = None

    def term(self) -> Cond:
        """The closure of the whole ACL, built once (every expression is known
        when a condition first uses it: ACLs are declared before their use)."""
        if self._term is None:
            terms = [e.term for e in self.exprs]
            if len(terms) == 1:
                self._term = terms[0]
            else:

                def any_term(txn: Txn) -> int:
                    res = FAIL
                    for t in terms:
                        res |= t(txn)
                        if res == PASS:
                            return PASS
                    return res

                self._term = any_term
        return self._term


# The predefined ACLs (default_acl_list[])
DEFAULT_ACLS: Final = {
    "TRUE": ("always_true",),
    "FALSE": ("always_false",),
    "LOCALHOST": ("src", "127.0.0.1/8", "::1"),
    "HTTP": ("req.proto_http",),
    "HTTP_1.0": ("req.ver", "1.0"),
    "HTTP_1.1": ("req.ver", "1.1"),
    "HTTP_2.0": ("req.ver", "2.0"),
    "METH_CONNECT": ("method", "CONNECT"),
    "METH_DELETE": ("method", "DELETE"),
    "METH_GET": ("method", "GET", "HEAD"),
    "METH_HEAD": ("method", "HEAD"),
    "METH_OPTIONS": ("method", "OPTIONS"),
    "METH_POST": ("method", "POST"),
    "METH_PUT": ("method", "PUT"),
    "METH_TRACE": ("method", "TRACE"),
    "HTTP_URL_ABS": ("url_reg", "^[^/:]*://"),
    "HTTP_URL_SLASH": ("url_beg", "/"),
    "HTTP_URL_STAR": ("url", "*"),
    "HTTP_CONTENT": ("req.hdr_val(content-length)", "gt", "0"),
    "RDP_COOKIE": ("req.rdp_cookie_cnt", "gt", "0"),
    "REQ_CONTENT": ("req.len", "gt", "0"),
    "WAIT_END": ("wait_end",),
}

_OPS: Final = {"eq": 0, "gt": 1, "ge": 2, "lt": 3, "le": 4}
# ACL keywords with their own pattern parser (acl_kws[] entries with .parse)
_DOTTED: Final = frozenset({"req.ssl_ver", "req_ssl_ver"})


def unsupported_fetch(name: str) -> str:
    return f"fetch method '{name}' is not supported by herdsman"


def _dotted(text: str) -> int | None:
    """``strl2llrc_dotted()``: ``major[.minor]`` as major << 16 | minor."""
    major, dot, minor = text.partition(".")
    if not major.isdigit() or (dot and not minor.isdigit()):
        return None
    return (int(major) << 16) | (int(minor) if dot else 0)


def _dotted_range(text: str) -> P.Range:
    sep = next((i for i, ch in enumerate(text) if ch in ":-"), -1)
    if sep < 0 and text:
        value = _dotted(text)
        if value is None:
            raise P.PatternError(f"'{text}' is not a dotted number")
        return value, value
    bad = P.PatternError(f"'{text}' is not a valid dotted number range")
    if sep == 0 and len(text) > 1:
        high = _dotted(text[1:])
        if high is None:
            raise bad
        return None, high
    if sep == len(text) - 1:
        low = _dotted(text[:sep])
        if low is None:
            raise bad
        return low, None
    low, high = _dotted(text[:sep]), _dotted(text[sep + 1 :])
    if low is None or high is None or low > high:
        raise bad
    return low, high


def _acl_keyword_expr(word: str, c: Compiler) -> tuple[Expr, str, int] | None:
    """An ACL keyword (``hdr_beg(host),lower``): the expression, its keyword
    and its match method (-1 when converters follow: the output type decides)."""
    end = keyword_end(word, 0)
    kw = word[:end]
    found = known.ACL_KEYWORDS.get(kw)
    if found is None:
        return None
    fetch_name, method_name = found
    fetch = FETCHES.get(fetch_name)
    if fetch is None:
        raise AclError(unsupported_fetch(fetch_name))
    try:
        args, end = make_arg_list(word, end, fetch.spec)
    except ArgError as arg_err:
        raise AclError(f"ACL keyword '{kw}' : {arg_err.message}") from None
    if fetch.check is not None and args:
        problem = fetch.check(args)
        if problem is not None:
            raise AclError(f"in argument to '{kw}', {problem}")
    convs: list = []  # type: ignore[type-arg]
    if end < len(word):
        if word[end] != ",":
            raise AclError(f"ACL keyword '{kw}' : missing comma after fetch keyword.")
        try:
            convs, _ = parse_converters(word, end, fetch.out, c, kw, embedded=False)
        except ExprError as err:
            raise AclError(_acl_conv_error(kw, err.message)) from None
    try:
        expr = compile_expr(word, fetch, args, convs, c)
    except ExprError as err:
        raise AclError(err.message) from None
    method = -1 if convs else P.method_index(method_name)
    return expr, kw, method


def _acl_conv_error(kw: str, message: str) -> str:
    """parse_acl_expr()'s own framing of converter errors after an ACL keyword."""
    if message.startswith("converter '") and message.endswith("does not support any args"):
        return message
    return f"ACL keyword '{kw}' : {message}."


def _default_method(out: int) -> int:
    if out == T.BOOL:
        return P.BOOL
    if out == T.SINT:
        return P.INT
    if out in (T.ADDR, T.IPV4, T.IPV6):
        return P.IP
    if out == T.STR:
        return P.STR
    return -1


@dataclass
class AclContext:
    """What ACL parsing needs besides the words: the compiler, the pattern files
    and where warnings go."""

    c: Compiler
    warnings: list[str] = field(default_factory=list)

    @property
    def files(self) -> P.PatternFiles:
        if self.c.files is None:
            self.c.files = P.PatternFiles()
        return self.c.files


def parse_acl_expr(words: list[str], ctx: AclContext) -> AclExpr:
    """``parse_acl_expr()``: ``words[0]`` is the criterion, then flags and patterns.
    Raises AclError."""
    c = ctx.c
    c.acl = True
    first = words[0] if words else ""
    try:
        found = _acl_keyword_expr(first, c)
    except CompileError as comp_err:
        raise AclError(comp_err.message) from None
    if found is not None:
        expr, kw, method = found
        cur_type = expr.out
    else:
        try:
            expr = parse_expr(first, c)[0]
        except ExprError as err:
            raise AclError(f"{err.message} in ACL expression '{first}'") from None
        kw, method = expr.fetch.name, -1
        cur_type = expr.out
    if method < 0:
        method = _default_method(cur_type)
    rest = words[1:]
    if method >= 0 and cur_type != T.BOOL and not (rest and rest[0]):
        ctx.warnings.append(
            f"parsing acl keyword '{first}' :\n"
            "  no pattern to match against were provided, so this ACL will never match.\n"
            "  If this is what you intended, please add '--' to get rid of this warning.\n"
            "  If you intended to match only for existence, please use '-m found'.\n"
            "  If you wanted to force an int to match as a bool, please use '-m bool'.\n"
        )
    exprs: list[P.PatternExpr] = []
    icase = no_dns = False
    loaded = False
    as_map = False
    i = 0
    while i < len(rest) and rest[i][:1] == "-":
        flag = rest[i]
        if flag == "-i":
            icase = True
        elif flag == "-n":
            no_dns = True
        elif flag == "-u":
            nxt = rest[i + 1] if i + 1 < len(rest) else ""
            if not nxt.lstrip("-").isdigit():
                raise AclError("the argument of -u must be an integer")
            i += 1
        elif flag == "-f":
            if method < 0:
                raise AclError(
                    "matching method must be specified first (using '-m') when using a "
                    f"sample fetch of this type ('{kw}')"
                )
            path = rest[i + 1] if i + 1 < len(rest) else ""
            exprs.append(_load_file(ctx, path, method, icase, no_dns, as_map))
            loaded = True
            i += 1
        elif flag == "-m":
            if loaded:
                raise AclError(
                    "'-m' must only be specified before patterns and files in parsing ACL "
                    "expression"
                )
            name = rest[i + 1] if i + 1 < len(rest) else ""
            idx = P.method_index(name)
            if idx < 0:
                raise AclError(f"unknown matching method '{name}' when parsing ACL expression")
            if idx != P.FOUND and not T.castable(cur_type, P.EXPECT[idx]):
                raise AclError(f"matching method '{name}' cannot be used with fetch keyword '{kw}'")
            method = idx
            i += 1
        elif flag == "-M":
            as_map = True
        elif flag == "--":
            i += 1
            break
        else:
            raise AclError(
                f"'{flag}' is not a valid ACL option. Please use '--' before any pattern "
                "beginning with a '-'"
            )
        i += 1
    if method < 0:
        raise AclError(
            "matching method must be specified first (using '-m') when using a sample fetch "
            f"of this type ('{kw}')"
        )
    inline = P.PatternExpr(icase)
    operator = 0
    dotted = kw in _DOTTED and method == P.INT
    for text in rest[i:]:
        if not text:
            break
        if method in (P.INT, P.LEN):
            if text in _OPS:
                operator = _OPS[text]
                continue
            if ":" not in text and "-" not in text and operator:
                text = _apply_operator(text, operator, dotted)
        try:
            parsed = _dotted_range(text) if dotted else P.parse_pattern(method, text, icase, no_dns)
        except P.PatternError as pat_err:
            raise AclError(pat_err.message) from None
        inline.items.append((parsed, None))
    exprs.append(inline)
    if kw == "http_auth_group":
        matcher = _auth_group_matcher(c, exprs)
    else:
        matcher = P.compile_match(method, exprs)
    may_change = expr.fetch.name in MAY_CHANGE
    term = acl_exec.term(expr, method, matcher, may_change)
    plain = exprs if kw != "http_auth_group" else []  # (its own matcher)
    single = method != P.FOUND and expr.fetch.many is None and not may_change  # term()'s single
    test = acl_exec.test(expr, method, matcher, plain) if single else None
    return AclExpr(kw, expr, method, term, expr.fetch.use, expr.fetch.val, test, exprs)


def _auth_group_matcher(c: Compiler, exprs: list[P.PatternExpr]) -> P.Matcher:
    """``pat_match_auth()``: the user (the fetch's value) is in one of the groups
    named by the patterns, in the user list of the fetch's argument. The groups
    are checked against the list once it is known (``acl_find_targets()``)."""
    ref = next(r for r in reversed(c.refs) if r.kind == A.USR)
    groups = [p for e in exprs for p, _ in e.items if isinstance(p, bytes)]
    ref.groups = groups

    def match(v: Value) -> bool:
        found: set[bytes] = ref.target.groups_of(v)
        return any(g in found for g in groups)

    return match


# fetches whose value may grow with more data (SMP_F_MAY_CHANGE): ACLs on them
# may answer MISS while contents are incomplete
MAY_CHANGE: Final = frozenset(
    {
        "req.len",
        "req_len",
        "req.payload",
        "payload",
        "req.payload_lv",
        "payload_lv",
        "req.ssl_sni",
        "req_ssl_sni",
        "req.ssl_hello_type",
        "req_ssl_hello_type",
        "req.ssl_ver",
        "req_ssl_ver",
        "req.body",
        "wait_end",
        "res.len",
        "res.payload",
        "req.rdp_cookie",
        "req.rdp_cookie_cnt",
    }
)


def _apply_operator(text: str, op: int, dotted: bool) -> str:
    """parse_acl_expr()'s rewriting of "gt 5" into "6:" and the like."""
    main, dot, minor_text = text.partition(".")
    minor = 0
    if dotted and dot:
        body = minor_text[1:] if minor_text[:1] == "-" else minor_text
        if not body.isdigit():
            raise AclError(f"'{text}' is neither a number nor a supported operator")
        minor = int(minor_text)
        if minor >= 65536:
            raise AclError(f"'{text}' contains too large a minor value")
    body = main[1:] if main[:1] == "-" else main
    if not (body.isdigit() or (not body and main[:1] == "-")):
        raise AclError(f"'{text}' is neither a number nor a supported operator")
    value = int(main) if body else 0
    if dotted:
        if value >= 65536:
            raise AclError(f"'{text}' contains too large a major value")
        value = (value << 16) | (minor & 0xFFFF)
    if op == 1:
        value += 1
    elif op == 3:
        value -= 1

    def fmt(v: int) -> str:
        return f"{v >> 16}.{v & 0xFFFF}" if dotted else str(v)

    return f"{fmt(value)}:" if op in (1, 2) else f":{fmt(value)}"


def _load_file(
    ctx: AclContext, path: str, method: int, icase: bool, no_dns: bool, as_map: bool
) -> P.PatternExpr:
    try:
        lines = ctx.files.read(path, as_map)
    except P.PatternError as err:
        raise AclError(err.message) from None
    out = P.PatternExpr(icase)
    for number, key, _value in lines:
        try:
            out.items.append((P.parse_pattern(method, key, icase, no_dns), None))
        except P.PatternError as err:
            raise AclError(f"{err.message} at line {number} of file '{path}'") from None
    return out


def parse_acl(words: list[str], known_acls: dict[str, Acl], ctx: AclContext) -> Acl:
    """``parse_acl()``: ``words[0]`` is the name ("" for an anonymous ACL)."""
    name = words[0]
    if name:
        bad = invalid_char(name)
        if bad is not None:
            raise AclError(f"invalid character in ACL name : '{bad}'")
    expr = parse_acl_expr(words[1:], ctx)
    crit = words[1] if len(words) > 1 else ""
    nxt = words[2] if len(words) > 2 else ""
    if "(" not in crit and nxt[:1] == "(":
        ctx.warnings.append(
            f"parsing acl '{name}' :\n"
            f"  matching '{crit}' for pattern '{nxt}' is likely a mistake and probably\n"
            "  not what you want. Maybe you need to remove the extraneous space before '('.\n"
            "  If you are really sure this is not an error, please insert '--' between the\n"
            "  match and the pattern to make this warning message disappear."
        )
    acl = known_acls.get(name) if name else None
    if acl is None:
        acl = Acl(name)
        if name:
            known_acls[name] = acl
    acl.exprs.append(expr)
    acl.use |= expr.use
    acl.val |= expr.val
    acl._term = None
    return acl


def default_acl(name: str, known_acls: dict[str, Acl], ctx: AclContext) -> Acl:
    """``find_acl_default()``: a predefined ACL, added to the proxy's list."""
    words = DEFAULT_ACLS.get(name)
    if words is None:
        raise AclError(f"no such ACL : '{name}'")
    saved = (ctx.c.kw, ctx.c.conv)
    expr = parse_acl_expr(list(words), ctx)
    ctx.c.kw, ctx.c.conv = saved
    acl = Acl(name, [expr], expr.use, expr.val)
    known_acls[name] = acl
    return acl


__all__ = [
    "Acl",
    "AclContext",
    "AclError",
    "Cond",
    "FAIL",
    "MISS",
    "PASS",
    "default_acl",
    "invalid_char",
    "is_idchar",
    "parse_acl",
]
