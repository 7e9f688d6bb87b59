"""Integer and hash converters (``sample.c``): ``add``/``sub``/``mul``/``div``/
``mod`` with a constant or a variable, ``neg``, ``and``/``or``/``xor``, ``cpl``,
``odd``/``even``, ``bool``/``not``, and the hashes (``crc32``, ``djb2``,
``sdbm``, ``wt6``, ``sha1``, ``xxh32``/``xxh64``...), 64-bit as HAProxy's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from herdsman.sample import args as A
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.f_internal import wire
from herdsman.sample.f_vars import var_getter
from herdsman.sample.hash import full_hash, hash_crc32, hash_djb2, hash_sdbm, hash_wt6
from herdsman.sample.registry import (
    CompileError,
    Compiler,
    ConvFn,
    conv,
    simple,
)
from herdsman.sample.txn import Txn
from herdsman.sample.types import INT64_MAX, INT64_MIN, Value, wrap64
from herdsman.sample.xxh import xxh32, xxh64

_STR1 = ArgSpec((A.STR,), 1)


# -- integers ------------------------------------------------------------------------------


def arith_add(a: int, b: int) -> int:
    """Capped 64-bit addition (``arith_add()``)."""
    return max(INT64_MIN, min(INT64_MAX, a + b))


def _operand(args: list[Arg]) -> Callable[[Txn], int | None]:
    """An integer or a variable (``check_operator()``): a closure giving the operand."""
    text = str(args[0])
    try:
        get = var_getter(text)
    except CompileError:
        raw = wire(text)
        value = T.read_int64(raw)
        body = raw[1:] if raw[:1] in (b"-", b"+") else raw
        if body and not body.isdigit():
            raise CompileError("expects an integer or a variable name") from None
        return lambda txn: value

    def operand(txn: Txn) -> int | None:
        found = get(txn)
        return None if found is None else T.to_int(found)

    return operand


def _check_operator(args: list[Arg]) -> str | None:
    try:
        _operand(args)
    except CompileError as err:
        return err.message
    return None


def _arith(name: str, op: Callable[[int, int], int]) -> None:
    @conv(name, T.SINT, T.SINT, _STR1, check=_check_operator)
    def build(args: list[Arg], c: Compiler) -> ConvFn:
        operand = _operand(args)

        def fn(v: Value, txn: Txn) -> Value | None:
            b = operand(txn)
            return None if b is None else op(int(v), b)

        return fn


def _div(a: int, b: int) -> int:
    if not b:
        return INT64_MAX
    if a == INT64_MIN and b == -1:
        return INT64_MAX
    q = abs(a) // abs(b)  # C truncates toward zero
    return q if (a < 0) == (b < 0) else -q


def _mod(a: int, b: int) -> int:
    if not b or (a == INT64_MIN and b == -1):
        return 0
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _sub(a: int, b: int) -> int:
    if b == INT64_MIN:
        r = arith_add(a, INT64_MAX)
        return r + 1 if r < INT64_MAX else r
    return arith_add(a, -b)


def _mul(a: int, b: int) -> int:
    if not a or not b:
        return 0
    if a == INT64_MIN and b == -1:
        return INT64_MAX
    return max(INT64_MIN, min(INT64_MAX, a * b))


_arith("add", arith_add)
_arith("sub", _sub)
_arith("mul", _mul)
_arith("div", _div)
_arith("mod", _mod)
_arith("and", lambda a, b: wrap64(a & b))
_arith("or", lambda a, b: wrap64(a | b))
_arith("xor", lambda a, b: wrap64(a ^ b))

conv("neg", T.SINT, T.SINT)(simple(lambda v, t: INT64_MAX if v == INT64_MIN else -int(v)))
conv("cpl", T.SINT, T.SINT)(simple(lambda v, t: ~int(v)))
conv("bool", T.SINT, T.BOOL)(simple(lambda v, t: bool(v)))
conv("not", T.SINT, T.BOOL)(simple(lambda v, t: not v))
conv("odd", T.SINT, T.BOOL)(simple(lambda v, t: bool(int(v) & 1)))
conv("even", T.SINT, T.BOOL)(simple(lambda v, t: not int(v) & 1))


# -- hashes ------------------------------------------------------------------------------------

_SEED = ArgSpec((A.SINT,), 0)


def _hash(name: str, fn: Callable[[bytes], int]) -> None:
    @conv(name, T.BIN, T.SINT, _SEED)
    def build(args: list[Arg], c: Compiler) -> ConvFn:
        avalanche = bool(args and args[0])

        def apply(v: Value, txn: Txn) -> Value | None:
            data: bytes = v  # type: ignore[assignment]
            h = fn(data) & 0xFFFFFFFF
            return full_hash(h) if avalanche else h

        return apply


_hash("sdbm", hash_sdbm)
_hash("djb2", hash_djb2)
_hash("wt6", hash_wt6)
_hash("crc32", hash_crc32)


def _xxh(name: str, fn: Callable[[bytes, int], int], bits: int) -> None:
    @conv(name, T.BIN, T.SINT, _SEED)
    def build(args: list[Arg], c: Compiler) -> ConvFn:
        seed = int(args[0]) if args else 0

        def apply(v: Value, txn: Txn) -> Value | None:
            h = fn(v, seed)  # type: ignore[arg-type]
            return h if bits == 32 else wrap64(h)

        return apply


_xxh("xxh32", xxh32, 32)
_xxh("xxh64", xxh64, 64)
conv("sha1", T.BIN, T.BIN)(simple(lambda v, t: T.Bin(hashlib.sha1(v).digest())))  # type: ignore[arg-type]
