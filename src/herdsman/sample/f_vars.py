"""Variables (``vars.c``): their names and scopes, where a transaction keeps
them, ``set-var``'s conditions, and the ``var()`` fetch.
"""

from __future__ import annotations

from herdsman.sample import args as A
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.f_internal import wire
from herdsman.sample.registry import USE_CONST, CompileError, Compiler, Fn, fetch
from herdsman.sample.txn import Txn
from herdsman.sample.types import Value

SCOPES = ("proc", "sess", "txn", "req", "res", "check")


def var_name(name: str) -> tuple[str, str]:
    """``vars_hash_name()``: (scope, name); raises CompileError with HAProxy's text."""
    if not name:
        raise CompileError("Empty variable name cannot be accepted")
    scope, dot, rest = name.partition(".")
    if not dot or scope not in SCOPES or not rest:
        raise CompileError(
            f"invalid variable name '{name}'. A variable name must be start by its scope. "
            "The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
        )
    for i, ch in enumerate(rest):
        if not (ch.isascii() and (ch.isalnum() or ch in "_.")):
            raise CompileError(f"invalid syntax at char '{rest[i:]}'")
    return scope, rest


def var_store(txn: Txn, scope: str, create: bool) -> dict[str, Value] | None:
    """The variables of ``scope`` at this point (``get_vars()``): None when the
    scope is not available (``req`` during the response and ``res`` before it)."""
    if scope == "txn":
        store = txn.txn_vars
        if store is None and create:
            store = txn.txn_vars = {}
        return store
    if scope == "req":
        if txn.status:
            return None
        store = txn.req_vars
        if store is None and create:
            store = txn.req_vars = {}
        return store
    if scope == "res":
        if not txn.status:
            return None
        store = txn.res_vars
        if store is None and create:
            store = txn.res_vars = {}
        return store
    if scope == "sess":
        store = txn.sess_vars
        if store is None and create:
            store = txn.sess_vars = {}
        return store
    if scope == "proc":
        world = txn.world
        return world.proc_vars if world is not None else None
    store = txn.check_vars
    if store is None and create:
        store = txn.check_vars = {}
    return store


VAR_CONDITIONS = (
    "ifexists",
    "ifnotexists",
    "ifempty",
    "ifnotempty",
    "ifset",
    "ifnotset",
    "ifgt",
    "iflt",
)


def var_set(
    txn: Txn, scope: str, key: str, value: Value, conds: frozenset[str] = frozenset()
) -> bool:
    """``var_set()`` with its conditions (``ifexists``, ``ifgt``...)."""
    store = var_store(txn, scope, True)
    if store is None:
        return False
    if conds:
        old = store.get(key)
        if ("ifnotexists" in conds and old is not None) or ("ifexists" in conds and old is None):
            return False
        if ("ifset" in conds and old is None) or ("ifnotset" in conds and old is not None):
            return False
        blob = isinstance(value, bytes)
        if "ifempty" in conds and (not blob or value):
            return False
        if "ifnotempty" in conds and blob and not value:
            return False
        if (
            type(value) is int
            and type(old) is int
            and (("ifgt" in conds and not old > value) or ("iflt" in conds and not old < value))
        ):
            return False
    store[key] = value
    return True


def var_getter(name: str) -> Fn:
    """A closure reading variable ``name`` (already checked by ``var_name()``)."""
    scope, key = var_name(name)

    def fn(txn: Txn) -> Value | None:
        store = var_store(txn, scope, False)
        return None if store is None else store.get(key)

    return fn


def _check_var(args: list[Arg]) -> str | None:
    try:
        var_name(str(args[0]))
    except CompileError as err:
        return err.message
    return None


@fetch("var", T.ANY, USE_CONST, ArgSpec((A.STR, A.STR), 1), check=_check_var)
def _var(args: list[Arg], c: Compiler) -> Fn:
    get = var_getter(str(args[0]))
    if len(args) < 2:
        return get
    default = wire(str(args[1]))

    def fn(txn: Txn) -> Value | None:
        value = get(txn)
        return default if value is None else value

    return fn
