"""Map converters (``src/map.c``): ``map_<match>[_<output>](<file>[,<default>])``.

The file is read once per configuration (``PatternFiles``), two columns: the
pattern, parsed by the match method, and the value, parsed by the output
type (``map_parse_str/int/ip``). A sample without a matching pattern gets
the default, or makes the converter fail.
"""

from __future__ import annotations

from collections.abc import Callable

from herdsman.sample import args as A
from herdsman.sample import pattern as P
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.convs import exp_replace
from herdsman.sample.registry import CompileError, Compiler, ConvFn, conv
from herdsman.sample.txn import Txn
from herdsman.sample.types import Value

_MATCHES = {
    "str": (P.STR, T.STR),
    "beg": (P.BEG, T.STR),
    "sub": (P.SUB, T.STR),
    "dir": (P.DIR, T.STR),
    "dom": (P.DOM, T.STR),
    "end": (P.END, T.STR),
    "reg": (P.REG, T.STR),
    "regm": (P.REGM, T.STR),
    "ip": (P.IP, T.ADDR),
    "int": (P.INT, T.SINT),
}
_OUTPUTS = {"": T.STR, "_int": T.SINT, "_ip": T.ADDR}


def _parse_value(out: int, text: str) -> Value | None:
    raw = text.encode("utf-8", "surrogateescape")
    if out == T.STR:
        return raw
    if out == T.SINT:
        value = T.read_int64(raw)
        body = raw[1:] if raw[:1] in (b"-", b"+") else raw
        return value if not body or body.isdigit() else None
    return T.buf2ip(raw) or T.buf2ip6(raw)


def _builder(method: int, out: int) -> Callable[[list[Arg], Compiler], ConvFn]:
    def build(args: list[Arg], c: Compiler) -> ConvFn:
        path = str(args[0])
        files = c.files if c.files is not None else P.PatternFiles()
        try:
            lines = files.read(path, True)
        except P.PatternError as err:
            raise CompileError(err.message) from None
        expr = P.PatternExpr(False)
        for number, key, text in lines:
            value = _parse_value(out, text or "")
            if value is None:
                raise CompileError(f"unable to parse '{text}' at line {number} of file '{path}'")
            try:
                # maps never resolve names (PAT_MF_NO_DNS)
                expr.items.append((P.parse_pattern(method, key, False, True), value))
            except P.PatternError as err:
                raise CompileError(f"{err.message} at line {number} of file '{path}'") from None
        default: Value | None = None
        if len(args) > 1:
            if out == T.ADDR:
                default = _parse_value(out, str(args[1]))
                if default is None:
                    raise CompileError(f"map: cannot parse default ip <{args[1]}>.")
            elif out == T.SINT:
                default = int(args[1])
            else:
                default = str(args[1]).encode("utf-8", "surrogateescape")
        lookup = P.compile_lookup(method, [expr])
        expect = P.EXPECT[method]

        def fn(v: Value, txn: Txn) -> Value | None:
            key = T.cast(v, expect)
            found = lookup(key) if key is not None else None
            if found is None:
                return default
            pat, data = found
            if method == P.REGM and data is not None and isinstance(key, bytes):
                m = pat.search(key)  # type: ignore[attr-defined]
                return exp_replace(data, m) if m is not None else data  # type: ignore[arg-type]
            return data if data is not None else 1

        return fn

    return build


def _register() -> None:
    for match, (method, in_type) in _MATCHES.items():
        for suffix, out in _OUTPUTS.items():
            if match == "regm" and suffix:
                continue
            default_type = A.SINT if out == T.SINT else A.STR
            spec = ArgSpec((A.STR, default_type), 1)
            conv(f"map_{match}{suffix}", in_type, out, spec)(_builder(method, out))
    conv("map", T.STR, T.STR, ArgSpec((A.STR, A.STR), 1))(_builder(P.STR, T.STR))


_register()
