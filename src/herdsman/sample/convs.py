"""Converters (``sample.c sample_conv_kws[]``, ``http_conv.c``): each takes the
value cast to its input type and returns the new value, or None to make the
expression fail.

A converter that does not set a type in HAProxy keeps the one it received
(``bytes(1)`` on a string is a string): these keep the input's class.
"""

from __future__ import annotations

import base64
import binascii
import re
from ipaddress import IPv4Address, IPv6Address

from herdsman.sample import args as A
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.f_internal import wire
from herdsman.sample.f_vars import var_getter, var_name
from herdsman.sample.regex import RegexError, compile_regex
from herdsman.sample.registry import (
    CompileError,
    Compiler,
    ConvFn,
    conv,
    simple,
)
from herdsman.sample.txn import Txn
from herdsman.sample.types import Value, wrap64

_STR1 = ArgSpec((A.STR,), 1)

# -- strings ---------------------------------------------------------------------------

_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
_UPPER = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def ascii_lower(v: bytes) -> bytes:
    return v.translate(_LOWER)


conv("lower", T.STR, T.STR)(simple(lambda v, t: v.translate(_LOWER)))  # type: ignore[union-attr]
conv("upper", T.STR, T.STR)(simple(lambda v, t: v.translate(_UPPER)))  # type: ignore[union-attr]
conv("length", T.STR, T.SINT)(simple(lambda v, t: len(v)))  # type: ignore[arg-type]
conv("hex", T.BIN, T.STR)(simple(lambda v, t: v.hex().upper().encode()))  # type: ignore[union-attr]


def _hex2i(v: Value, txn: Txn) -> Value | None:
    n = 0
    for c in v:  # type: ignore[union-attr]
        d = _HEXVAL.get(c)
        if d is None:
            return None
        n = (n << 4) + d
    return wrap64(n)


_HEXVAL = {c: int(chr(c), 16) for c in b"0123456789abcdefABCDEF"}
conv("hex2i", T.STR, T.SINT)(simple(_hex2i))
conv("base64", T.BIN, T.STR)(simple(lambda v, t: base64.b64encode(v)))  # type: ignore[arg-type]
conv("ub64enc", T.BIN, T.STR)(
    simple(lambda v, t: base64.urlsafe_b64encode(v).rstrip(b"="))  # type: ignore[arg-type]
)


def _b64dec(v: Value, txn: Txn) -> Value | None:
    from herdsman.sample.httpfmt import base64dec

    out = base64dec(v)  # type: ignore[arg-type]
    return None if out is None else T.Bin(out)


def _ub64dec(v: Value, txn: Txn) -> Value | None:
    data: bytes = v  # type: ignore[assignment]
    if len(data) % 4 == 1:
        return None
    try:
        return T.Bin(base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4)))
    except (binascii.Error, ValueError):
        return None


conv("b64dec", T.STR, T.BIN)(simple(_b64dec))
conv("ub64dec", T.STR, T.BIN)(simple(_ub64dec))


def _cut_crlf(v: Value, txn: Txn) -> Value | None:
    data: bytes = v  # type: ignore[assignment]
    for i, c in enumerate(data):
        if c in (13, 10):
            return data[:i]
    return data


conv("cut_crlf", T.STR, T.STR)(simple(_cut_crlf))


@conv("ltrim", T.STR, T.STR, _STR1)
def _ltrim(args: list[Arg], c: Compiler) -> ConvFn:
    chars = wire(str(args[0]))
    return lambda v, t: v.lstrip(chars)  # type: ignore[union-attr]


@conv("rtrim", T.STR, T.STR, _STR1)
def _rtrim(args: list[Arg], c: Compiler) -> ConvFn:
    chars = wire(str(args[0]))
    return lambda v, t: v.rstrip(chars)  # type: ignore[union-attr]


def _check_field(args: list[Arg]) -> str | None:
    """``sample_conv_field_check()``"""
    if not args[0]:
        return "Unexpected value 0 for index"
    if not str(args[1]):
        return "Empty separators list"
    return None


def field_of(data: bytes, index: int, seps: bytes, count: int) -> bytes | None:
    """``sample_conv_field()``: field ``index`` (from 1, or from the end when
    negative) and the ``count`` - 1 fields after it (0: to the end)."""
    if index > 0:
        field = 1
        start = end = 0
        while end < len(data):
            if data[end] in seps:
                if field == index:
                    if count == 1:
                        return data[start:end]
                    if count > 1:
                        count -= 1
                else:
                    start = end + 1
                    field += 1
            end += 1
        return data[start:end] if field == index else None
    field = -1
    end = start = len(data)
    while start > 0:
        if data[start - 1] in seps:
            if field == index:
                if count == 1:
                    return data[start:end]
                if count > 1:
                    count -= 1
            else:
                end = start - 1
                field -= 1
        start -= 1
    return data[start:end] if field == index else None


def word_of(data: bytes, index: int, seps: bytes, count: int) -> bytes:
    """``sample_conv_word()``: like ``field`` but empty words do not count; an
    absent word is an empty string."""
    word = 0
    inword = False
    if index > 0:
        start = end = 0
        while end < len(data):
            issep = data[end] in seps
            if not inword:
                if not issep:
                    if word != index:
                        word += 1
                        start = end
                    inword = True
            elif issep:
                if word == index:
                    if count == 1:
                        return data[start:end]
                    if count > 1:
                        count -= 1
                inword = False
            end += 1
        return data[start:end] if word == index else b""
    end = start = len(data)
    while start > 0:
        issep = data[start - 1] in seps
        if not inword:
            if not issep:
                if word != index:
                    word -= 1
                    end = start
                inword = True
        elif issep:
            if word == index:
                if count == 1:
                    return data[start:end]
                if count > 1:
                    count -= 1
            inword = False
        start -= 1
    return data[start:end] if word == index else b""


_FIELD = ArgSpec((A.SINT, A.STR, A.SINT), 2)


@conv("field", T.STR, T.STR, _FIELD, check=_check_field)
def _field(args: list[Arg], c: Compiler) -> ConvFn:
    index, seps = int(args[0]), wire(str(args[1]))
    count = int(args[2]) if len(args) > 2 else 1
    return lambda v, t: field_of(v, index, seps, count)  # type: ignore[arg-type]


@conv("word", T.STR, T.STR, _FIELD, check=_check_field)
def _word(args: list[Arg], c: Compiler) -> ConvFn:
    index, seps = int(args[0]), wire(str(args[1]))
    count = int(args[2]) if len(args) > 2 else 1
    return lambda v, t: word_of(v, index, seps, count)  # type: ignore[arg-type]


def _check_regsub(args: list[Arg]) -> str | None:
    if len(args) > 2:
        for ch in str(args[2]):
            if ch not in "ig":
                return f"invalid regex flag '{ch}', only 'i' and 'g' are supported"
    return None


def _hexdigit(c: int) -> int:
    # exp_replace()'s loose reading: toupper(c) - '0', letters shifted down
    v = (ord(chr(c).upper()) - 0x30) & 0xFF
    return (v - 7) & 0xFF if v > 9 else v


def exp_replace(template: bytes, m: re.Match[bytes]) -> bytes:
    """``exp_replace()``: ``\\N`` (a digit) inserts group N (nothing when it did
    not take part), ``\\xHH`` a byte, ``\\c`` any other character itself."""
    out = bytearray()
    i = 0
    n = len(template)
    groups = m.re.groups
    while i < n:
        c = template[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            break
        c = template[i]
        if 0x30 <= c <= 0x39:
            num = c - 0x30
            if num <= groups:
                out += m.group(num) or b""
            i += 1
        elif c == 0x78:
            if i + 2 >= n:
                break  # a truncated \\x: exp_replace() fails there
            out.append(((_hexdigit(template[i + 1]) << 4) + _hexdigit(template[i + 2])) & 0xFF)
            i += 3
        else:
            out.append(c)
            i += 1
    return bytes(out)


@conv("regsub", T.STR, T.STR, ArgSpec((A.REG, A.STR, A.STR), 2), check=_check_regsub)
def _regsub(args: list[Arg], c: Compiler) -> ConvFn:
    flags = str(args[2]) if len(args) > 2 else ""
    if not str(args[0]):
        raise CompileError("missing regex")
    try:
        rx = compile_regex(str(args[0]), "i" in flags)
    except RegexError as err:
        raise CompileError(err.message) from None
    repl = wire(str(args[1]))
    glob = "g" in flags

    def fn(v: Value, txn: Txn) -> Value | None:
        data: bytes = v  # type: ignore[assignment]
        out = bytearray()
        pos = 0
        notbol = False
        while True:
            m = rx.search(data, pos) if (glob or not notbol) else None
            if m is None:
                out += data[pos:]
                break
            out += data[pos : m.start()]
            out += exp_replace(repl, m)
            if pos >= len(data):
                break
            end = m.end()
            if end == m.start():  # an empty match: keep a character and move on
                if end < len(data):
                    out.append(data[end])
                end += 1
            pos = end
            notbol = True
        return bytes(out)

    return fn


def _check_json(args: list[Arg]) -> str | None:
    if str(args[0]) not in ("", "ascii", "utf8", "utf8s", "utf8p", "utf8ps"):
        return (
            "Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' "
            "and 'utf8ps'"
        )
    return None


_JSON_ESC = {
    0x22: b'\\"',
    0x5C: b"\\\\",
    0x2F: b"\\/",
    0x08: b"\\b",
    0x0C: b"\\f",
    0x0D: b"\\r",
    0x0A: b"\\n",
    0x09: b"\\t",
}


def _json_char(c: int) -> bytes:
    esc = _JSON_ESC.get(c)
    if esc is not None:
        return esc
    if c > 0xFF or not 0x20 <= c <= 0x7E:
        return b"\\u%04x" % (c & 0xFFFF)
    return bytes((c,))


@conv("json", T.STR, T.STR, _STR1, check=_check_json)
def _json(args: list[Arg], c: Compiler) -> ConvFn:
    mode = str(args[0]) or "ascii"
    if mode != "ascii":
        raise CompileError(f"json({mode}) is not supported by herdsman: use json(ascii)")
    return lambda v, t: b"".join(_json_char(ch) for ch in v)  # type: ignore[union-attr]


def _check_strcmp(args: list[Arg]) -> str | None:
    if not str(args[0]):
        return "missing variable name"
    try:
        var_name(str(args[0]))
    except CompileError:
        return f"failed to register variable name '{args[0]}'"
    return None


@conv("strcmp", T.STR, T.SINT, _STR1, check=_check_strcmp)
def _strcmp(args: list[Arg], c: Compiler) -> ConvFn:
    get = var_getter(str(args[0]))

    def fn(v: Value, txn: Txn) -> Value | None:
        other = get(txn)
        other = None if other is None else T.to_str(other)
        if other is None:
            return None
        a: bytes = v  # type: ignore[assignment]
        n = min(len(a), len(other))
        # strncmp() over the shorter length stops at a NUL
        x, y = a[:n].split(b"\0", 1)[0], other[:n].split(b"\0", 1)[0]
        if x != y:
            return -1 if x < y else 1
        if b"\0" in a[:n] or len(a) == len(other):
            return 0
        return -1 if len(a) < len(other) else 1

    return fn


def _check_concat(args: list[Arg]) -> str | None:
    if len(args) > 1 and str(args[1]):
        try:
            var_name(str(args[1]))
        except CompileError:
            return f"failed to register variable name '{args[1]}'"
    return None


@conv("concat", T.STR, T.STR, ArgSpec((A.STR, A.STR, A.STR), 1), check=_check_concat)
def _concat(args: list[Arg], c: Compiler) -> ConvFn:
    before = wire(str(args[0]))
    get = var_getter(str(args[1])) if len(args) > 1 and str(args[1]) else None
    after = wire(str(args[2])) if len(args) > 2 else b""

    def fn(v: Value, txn: Txn) -> Value | None:
        middle = b""
        if get is not None:
            found = get(txn)
            if found is not None:
                middle = T.to_str(found) or b""
        return v + before + middle + after  # type: ignore[operator]

    return fn


@conv("iif", T.BOOL, T.STR, ArgSpec((A.STR, A.STR), 2))
def _iif(args: list[Arg], c: Compiler) -> ConvFn:
    yes, no = wire(str(args[0])), wire(str(args[1]))
    return lambda v, t: yes if v else no


@conv("bytes", T.BIN, T.BIN, ArgSpec((A.SINT, A.SINT), 1))
def _bytes(args: list[Arg], c: Compiler) -> ConvFn:
    offset = int(args[0])
    length = int(args[1]) if len(args) > 1 else None

    def fn(v: Value, txn: Txn) -> Value | None:
        data: bytes = v  # type: ignore[assignment]
        cls = type(data)
        if len(data) <= offset:
            return cls(b"")
        data = data[offset:]
        if length is not None and length < len(data):
            data = data[:length]
        return cls(data)

    return fn


@conv("ipmask", T.ADDR, T.IPV4, ArgSpec((A.MSK4, A.MSK6), 1))
def _ipmask(args: list[Arg], c: Compiler) -> ConvFn:
    m4 = int(args[0])
    m6 = int(args[1]) if len(args) > 1 else None

    def fn(v: Value, txn: Txn) -> Value | None:
        if isinstance(v, IPv6Address):
            v4 = T.v6tov4(v)  # c_ipv62ip(): a mapped address becomes IPv4
            if v4 is None:
                return None if m6 is None else IPv6Address(int(v) & m6)
            v = v4
        return IPv4Address(int(v) & m4)

    return fn


@conv("htonl", T.SINT, T.BIN)
def _htonl(args: list[Arg], c: Compiler) -> ConvFn:
    return lambda v, t: T.Bin((int(v) & 0xFFFFFFFF).to_bytes(4, "big"))


# -- variables (vars.c) ---------------------------------------------------------------------


@conv("set-var", T.ANY, T.ANY, ArgSpec((A.STR,) * 5, 1), check=lambda a: _var_problem(a))
def _set_var_conv(args: list[Arg], c: Compiler) -> ConvFn:
    from herdsman.sample.f_vars import VAR_CONDITIONS, var_set

    scope, key = var_name(str(args[0]))
    conds: set[str] = set()
    for word in args[1:]:
        if str(word) not in VAR_CONDITIONS:
            break  # smp_conv_store(): the first unknown condition ends the list
        conds.add(str(word))
    frozen = frozenset(conds)

    def fn(v: Value, txn: Txn) -> Value | None:
        return v if var_set(txn, scope, key, v, frozen) else None

    return fn


@conv("unset-var", T.ANY, T.ANY, ArgSpec((A.STR,), 1), check=lambda a: _var_problem(a))
def _unset_var_conv(args: list[Arg], c: Compiler) -> ConvFn:
    from herdsman.sample.f_vars import var_store

    scope, key = var_name(str(args[0]))

    def fn(v: Value, txn: Txn) -> Value | None:
        store = var_store(txn, scope, False)
        if store is not None:
            store.pop(key, None)
        return v

    return fn


def _var_problem(args: list[Arg]) -> str | None:
    try:
        var_name(str(args[0]))
    except CompileError as err:
        return err.message
    return None


# -- URLs (http_conv.c) -------------------------------------------------------------------------


def url_decode(data: bytes, in_form: bool) -> bytes | None:
    """``url_decode()``: %XX, and '+' as a space after a '?' (or everywhere in a form)."""
    out = bytearray()
    i = 0
    n = len(data)
    plus = in_form
    while i < n:
        c = data[i]
        if c == 0x3F:
            plus = True
            out.append(c)
        elif c == 0x2B and plus:
            out.append(0x20)
        elif c == 0x25:
            if i + 2 >= n:
                return None
            try:
                out.append(int(data[i + 1 : i + 3], 16))
            except ValueError:
                return None
            i += 2
        else:
            out.append(c)
        i += 1
    return bytes(out)


@conv("url_dec", T.STR, T.STR, ArgSpec((A.SINT,), 0))
def _url_dec(args: list[Arg], c: Compiler) -> ConvFn:
    in_form = bool(args and args[0])
    return lambda v, t: url_decode(v, in_form)  # type: ignore[arg-type]
