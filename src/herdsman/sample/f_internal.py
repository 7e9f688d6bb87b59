"""Fetches of constants, the environment, proxies, servers and the client
connection (``sample.c``, ``backend.c``, ``frontend.c``, ``tcp_sample.c``);
variables are ``f_vars.py``.
"""

from __future__ import annotations

import os
import random
import socket
import time
import uuid
from ipaddress import IPv4Address, IPv6Address

from herdsman.sample import args as A
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.registry import (
    USE_BKEND,
    USE_CONST,
    USE_FTEND,
    USE_INTRN,
    USE_L4CLI,
    USE_SERVR,
    CompileError,
    Compiler,
    Fn,
    const,
    fetch,
)
from herdsman.sample.txn import BackendView, Ref, Txn
from herdsman.sample.types import Value

_STR1 = ArgSpec((A.STR,), 1)

# -- constants (smp_kws[] of sample.c) ----------------------------------------------------


@fetch("always_true", T.BOOL, USE_CONST)
def _true(args: list[Arg], c: Compiler) -> Fn:
    return const(True)


@fetch("always_false", T.BOOL, USE_CONST)
def _false(args: list[Arg], c: Compiler) -> Fn:
    return const(False)


def wire(text: str) -> bytes:
    """The configuration's bytes (it is read as UTF-8 with surrogateescape)."""
    return text.encode("utf-8", "surrogateescape")


@fetch("str", T.STR, USE_CONST, _STR1)
def _str(args: list[Arg], c: Compiler) -> Fn:
    return const(wire(str(args[0])))


@fetch("int", T.SINT, USE_CONST, ArgSpec((A.SINT,), 1))
def _int(args: list[Arg], c: Compiler) -> Fn:
    return const(int(args[0]))


def _check_bool(args: list[Arg]) -> str | None:
    if str(args[0]).lower() not in ("true", "1", "false", "0"):
        return "Expects 'true', 'false', '0' or '1'"
    return None


@fetch("bool", T.BOOL, USE_CONST, _STR1, check=_check_bool)
def _bool(args: list[Arg], c: Compiler) -> Fn:
    return const(str(args[0]).lower() in ("true", "1"))


def parse_binary(text: str) -> bytes:
    """``parse_binary()``: an even number of hex digits; raises CompileError."""
    if len(text) % 2:
        raise CompileError("an even number of hex digit is expected")
    out = bytearray()
    for i in range(0, len(text), 2):
        pair = text[i : i + 2]
        for ch in pair:
            if ch not in "0123456789abcdefABCDEF":
                raise CompileError(f"an hex digit is expected (found '{ch}')")
        out.append(int(pair, 16))
    return bytes(out)


def _check_bin(args: list[Arg]) -> str | None:
    try:
        parse_binary(str(args[0]))
    except CompileError as err:
        return err.message
    return None


@fetch("bin", T.BIN, USE_CONST, _STR1, check=_check_bin)
def _bin(args: list[Arg], c: Compiler) -> Fn:
    return const(T.Bin(parse_binary(str(args[0]))))


@fetch("ipv4", T.IPV4, USE_CONST, ArgSpec((A.IPV4,), 1))
def _ipv4(args: list[Arg], c: Compiler) -> Fn:
    addr = args[0]
    assert isinstance(addr, IPv4Address)
    return const(addr)


@fetch("ipv6", T.IPV6, USE_CONST, ArgSpec((A.IPV6,), 1))
def _ipv6(args: list[Arg], c: Compiler) -> Fn:
    addr = args[0]
    assert isinstance(addr, IPv6Address)
    return const(addr)


_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _check_meth(args: list[Arg]) -> str | None:
    if not all(b in _TCHAR for b in wire(str(args[0]))):
        return "expects valid method."
    return None


@fetch("meth", T.METH, USE_CONST, _STR1, check=_check_meth)
def _meth(args: list[Arg], c: Compiler) -> Fn:
    return const(T.Meth(wire(str(args[0]))))


@fetch("env", T.STR, USE_CONST, _STR1)
def _env(args: list[Arg], c: Compiler) -> Fn:
    name = str(args[0])

    def fn(txn: Txn) -> Value | None:
        value = os.environ.get(name)  # getenv() at each evaluation
        return None if value is None else wire(value)

    return fn


_UNITS = {"s": 1, "ms": 1000, "us": 1000000}


def _check_date(args: list[Arg]) -> str | None:
    if len(args) > 1 and str(args[1]) not in _UNITS:
        return f"expects 's', 'ms' or 'us', got '{args[1]}'"
    return None


def now_us(txn: Txn) -> int:
    fixed = txn.date_us
    return fixed if fixed is not None else time.time_ns() // 1000


@fetch("date", T.SINT, USE_CONST, ArgSpec((A.SINT, A.STR), 0), check=_check_date)
def _date(args: list[Arg], c: Compiler) -> Fn:
    offset = args[0] if args and isinstance(args[0], int) else 0
    unit = _UNITS[str(args[1])] if len(args) > 1 else 1

    def fn(txn: Txn) -> Value | None:
        sec, usec = divmod(now_us(txn), 1000000)
        if unit == 1000:
            return sec * 1000 + usec // 1000 + offset
        if unit == 1000000:
            return sec * 1000000 + usec + offset
        return sec + offset

    return fn


@fetch("date_us", T.SINT, USE_CONST)
def _date_us(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: now_us(txn) % 1000000


_HOSTNAME: list[bytes] = []


def hostname() -> bytes:
    # HAProxy reads gethostname() once at start-up
    if not _HOSTNAME:
        _HOSTNAME.append(wire(socket.gethostname()))
    return _HOSTNAME[0]


@fetch("hostname", T.STR, USE_CONST)
def _hostname(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        extra = txn.extra
        name = extra.get("hostname") if extra is not None else None
        return wire(name) if isinstance(name, str) else hostname()

    return fn


@fetch("nbproc", T.SINT, USE_CONST)
def _nbproc(args: list[Arg], c: Compiler) -> Fn:
    return const(1)


@fetch("proc", T.SINT, USE_CONST)
def _proc(args: list[Arg], c: Compiler) -> Fn:
    return const(1)


@fetch("thread", T.SINT, USE_CONST)
def _thread(args: list[Arg], c: Compiler) -> Fn:
    return const(0)


@fetch("rand", T.SINT, USE_CONST, ArgSpec((A.SINT,), 0))
def _rand(args: list[Arg], c: Compiler) -> Fn:
    limit = args[0] if args else None

    def fn(txn: Txn) -> Value | None:
        value = random.getrandbits(32)
        if isinstance(limit, int):
            # a 32-bit random number scaled to the range (smp_fetch_rand())
            value = (value * (limit & 0xFFFFFFFFFFFFFFFF)) >> 32
        return value

    return fn


def _check_uuid(args: list[Arg]) -> str | None:
    if args and args[0] != 4:
        return f"Unsupported UUID version: '{args[0]}'"
    return None


@fetch("uuid", T.STR, USE_CONST, ArgSpec((A.SINT,), 0), check=_check_uuid)
def _uuid(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: wire(str(uuid.uuid4()))


@fetch("stopping", T.BOOL, USE_INTRN)
def _stopping(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        world = txn.world
        return world.stopping() if world is not None else False

    return fn


# -- proxies and servers (backend.c, frontend.c) -------------------------------------------


def be_ref(args: list[Arg], c: Compiler) -> Ref:
    return c.ref(A.BE, str(args[0]) if args else "", 0)


def srv_ref(args: list[Arg], c: Compiler) -> Ref:
    return c.ref(A.SRV, str(args[0]) if args else "", 0)


def _backend(ref: Ref, txn: Txn) -> BackendView | None:
    """The named backend, or the stream's when the argument names a defaults section."""
    target: BackendView | None = ref.target
    return txn.be if target is None else target


_BE1 = ArgSpec((A.BE,), 1)
_SRV1 = ArgSpec((A.SRV,), 1)


@fetch("be_name", T.STR, USE_BKEND)
def _be_name(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        be = txn.be
        return None if be is None else wire(be.name)

    return fn


@fetch("be_id", T.SINT, USE_BKEND)
def _be_id(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        be = txn.be
        return None if be is None else be.uuid

    return fn


@fetch("fe_name", T.STR, USE_FTEND)
def _fe_name(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        fe = txn.fe
        return None if fe is None else wire(fe.name)

    return fn


@fetch("fe_id", T.SINT, USE_FTEND)
def _fe_id(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        fe = txn.fe
        return None if fe is None else fe.uuid

    return fn


@fetch("srv_name", T.STR, USE_SERVR)
def _srv_name(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        srv = txn.srv
        return None if srv is None else wire(srv.name)

    return fn


@fetch("srv_id", T.SINT, USE_SERVR)
def _srv_id(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        srv = txn.srv
        return None if srv is None else srv.puid

    return fn


@fetch("nbsrv", T.SINT, USE_INTRN, _BE1)
def _nbsrv(args: list[Arg], c: Compiler) -> Fn:
    ref = be_ref(args, c)

    def fn(txn: Txn) -> Value | None:
        be = _backend(ref, txn)
        return None if be is None else be.usable()

    return fn


@fetch("be_conn", T.SINT, USE_INTRN, _BE1)
def _be_conn(args: list[Arg], c: Compiler) -> Fn:
    ref = be_ref(args, c)

    def fn(txn: Txn) -> Value | None:
        be = _backend(ref, txn)
        return None if be is None else be.beconn()

    return fn


@fetch("queue", T.SINT, USE_INTRN, _BE1)
def _queue(args: list[Arg], c: Compiler) -> Fn:
    ref = be_ref(args, c)

    def fn(txn: Txn) -> Value | None:
        be = _backend(ref, txn)
        return None if be is None else be.totpend()

    return fn


@fetch("avg_queue", T.SINT, USE_INTRN, _BE1)
def _avg_queue(args: list[Arg], c: Compiler) -> Fn:
    ref = be_ref(args, c)

    def fn(txn: Txn) -> Value | None:
        be = _backend(ref, txn)
        if be is None:
            return None
        nbsrv = be.usable()
        # smp_fetch_avg_queue_size(): twice the queue when nothing is usable
        return (be.totpend() + nbsrv - 1) // nbsrv if nbsrv > 0 else be.totpend() * 2

    return fn


@fetch("connslots", T.SINT, USE_INTRN, _BE1)
def _connslots(args: list[Arg], c: Compiler) -> Fn:
    ref = be_ref(args, c)

    def fn(txn: Txn) -> Value | None:
        be = _backend(ref, txn)
        return None if be is None else be.connslots()

    return fn


@fetch("fe_conn", T.SINT, USE_INTRN, ArgSpec((A.FE,), 1))
def _fe_conn(args: list[Arg], c: Compiler) -> Fn:
    ref = c.ref(A.FE, str(args[0]) if args else "", 0)

    def fn(txn: Txn) -> Value | None:
        fe = ref.target if ref.target is not None else txn.fe
        return None if fe is None else fe.feconn()

    return fn


@fetch("srv_is_up", T.BOOL, USE_INTRN, _SRV1)
def _srv_is_up(args: list[Arg], c: Compiler) -> Fn:
    ref = srv_ref(args, c)
    return lambda txn: ref.target is not None and ref.target.is_up()


@fetch("srv_conn", T.SINT, USE_INTRN, _SRV1)
def _srv_conn(args: list[Arg], c: Compiler) -> Fn:
    ref = srv_ref(args, c)
    return lambda txn: None if ref.target is None else ref.target.cur_sess()


@fetch("srv_queue", T.SINT, USE_INTRN, _SRV1)
def _srv_queue(args: list[Arg], c: Compiler) -> Fn:
    ref = srv_ref(args, c)
    return lambda txn: None if ref.target is None else ref.target.queued()


@fetch("srv_weight", T.SINT, USE_INTRN, _SRV1)
def _srv_weight(args: list[Arg], c: Compiler) -> Fn:
    ref = srv_ref(args, c)
    return lambda txn: None if ref.target is None else ref.target.weights()[0]


@fetch("srv_iweight", T.SINT, USE_INTRN, _SRV1)
def _srv_iweight(args: list[Arg], c: Compiler) -> Fn:
    ref = srv_ref(args, c)
    return lambda txn: None if ref.target is None else ref.target.weights()[1]


@fetch("srv_uweight", T.SINT, USE_INTRN, _SRV1)
def _srv_uweight(args: list[Arg], c: Compiler) -> Fn:
    ref = srv_ref(args, c)
    return lambda txn: None if ref.target is None else ref.target.weights()[2]


# -- the client connection (tcp_sample.c) ---------------------------------------------------


@fetch("src", T.IPV4, USE_L4CLI, aliases=("fc_src",))
def _src(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: txn.src


@fetch("dst", T.IPV4, USE_L4CLI, aliases=("fc_dst",))
def _dst(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: txn.dst


@fetch("src_port", T.SINT, USE_L4CLI, aliases=("fc_src_port",))
def _src_port(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: txn.src_port if txn.src is not None else None


@fetch("dst_port", T.SINT, USE_L4CLI, aliases=("fc_dst_port",))
def _dst_port(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: txn.dst_port if txn.dst is not None else None


# the PROXY header the connection came with (connection.c): the data path puts
# (authority, unique id) in txn.extra["pp"] when there was one


def _pp(txn: Txn) -> tuple[bytes | None, bytes | None] | None:
    extra = txn.extra
    return None if extra is None else extra.get("pp")


@fetch("fc_rcvd_proxy", T.BOOL, USE_L4CLI)
def _fc_rcvd_proxy(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: _pp(txn) is not None


@fetch("fc_pp_authority", T.STR, USE_L4CLI)
def _fc_pp_authority(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        pp = _pp(txn)
        return None if pp is None else pp[0]

    return fn


@fetch("fc_pp_unique_id", T.STR, USE_L4CLI)
def _fc_pp_unique_id(args: list[Arg], c: Compiler) -> Fn:
    def fn(txn: Txn) -> Value | None:
        pp = _pp(txn)
        return None if pp is None else pp[1]

    return fn


def is_local(addr: IPv4Address | IPv6Address) -> bool:
    """``addr_is_local()``: whether an address of this host's (binding it works)."""
    fam = socket.AF_INET6 if isinstance(addr, IPv6Address) else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((str(addr), 0))
        except OSError:
            return False
    return True


@fetch("src_is_local", T.BOOL, USE_L4CLI, aliases=("fc_src_is_local",))
def _src_is_local(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: None if txn.src is None else is_local(txn.src)


@fetch("dst_is_local", T.BOOL, USE_L4CLI, aliases=("fc_dst_is_local",))
def _dst_is_local(args: list[Arg], c: Compiler) -> Fn:
    return lambda txn: None if txn.dst is None else is_local(txn.dst)
