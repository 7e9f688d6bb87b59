"""The few OpenSSL settings Python's ``ssl`` module has no method for.

HAProxy sets them on every context: TLS 1.3 cipher suites
(``SSL_CTX_set_ciphersuites``, for ``ciphersuites``), a list of key exchange
groups (``SSL_CTX_set1_curves_list``, for ``curves``: ``set_ecdh_curve()``
takes one), the session cache size and lifetime (``tune.ssl.cachesize``,
``tune.ssl.lifetime``) and automatic DH parameters. They are called through
ctypes on the ``SSL_CTX`` of a Python context, in the very libssl that
Python's ``_ssl`` module uses (found in the process's memory maps).

The ``SSL_CTX`` pointer is the first field after the object header of
CPython's ``PySSLContext``; ``_handle()`` proves it on every context by
reading the options through OpenSSL and comparing them with
``SSLContext.options``, and refuses to go on otherwise.
"""

from __future__ import annotations

import ctypes
import ssl
import sys

__all__ = ["OpenSSLError", "set_ciphersuites", "set_curves", "set_session_cache", "set_dh_auto"]

_SSL_CTRL_SET_SESS_CACHE_SIZE = 42
_SSL_CTRL_SET_SESS_CACHE_MODE = 44
_SSL_CTRL_SET_GROUPS_LIST = 92
_SSL_CTRL_SET_DH_AUTO = 118
_HEADER = 2 * ctypes.sizeof(ctypes.c_void_p)  # ob_refcnt, ob_type


class OpenSSLError(RuntimeError):
    """OpenSSL refused a setting, or herdsman could not reach it."""


def _libssl_path() -> str:
    import _ssl

    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.rstrip("\n").split(" ")[-1]
            if "/libssl.so" in path:
                return path
    return _ssl.__file__  # statically linked: the symbols are in the module itself


def _load() -> ctypes.CDLL:
    lib = ctypes.CDLL(_libssl_path())
    lib.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_get_options.restype = ctypes.c_uint64
    lib.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.SSL_CTX_set_ciphersuites.restype = ctypes.c_int
    lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    lib.SSL_CTX_ctrl.restype = ctypes.c_long
    lib.SSL_CTX_set_timeout.argtypes = [ctypes.c_void_p, ctypes.c_long]
    lib.SSL_CTX_set_timeout.restype = ctypes.c_long
    return lib


_LIB = _load()


def _handle(ctx: ssl.SSLContext) -> int:
    if sys.implementation.name != "cpython":
        raise OpenSSLError("needs CPython's ssl module")
    ptr = ctypes.c_void_p.from_address(id(ctx) + _HEADER).value
    if not ptr or _LIB.SSL_CTX_get_options(ptr) != ctx.options:
        raise OpenSSLError("cannot reach the SSL_CTX of a Python context")
    return ptr


def set_ciphersuites(ctx: ssl.SSLContext, suites: str) -> None:
    if not _LIB.SSL_CTX_set_ciphersuites(_handle(ctx), suites.encode()):
        raise OpenSSLError(f"unable to set TLS 1.3 cipher suites to '{suites}'")


def set_curves(ctx: ssl.SSLContext, curves: str) -> None:
    arg = ctypes.c_char_p(curves.encode())
    if not _LIB.SSL_CTX_ctrl(
        _handle(ctx), _SSL_CTRL_SET_GROUPS_LIST, 0, ctypes.cast(arg, ctypes.c_void_p)
    ):
        raise OpenSSLError(f"unable to set SSL curves list to '{curves}'")


def set_session_cache(ctx: ssl.SSLContext, size: int, lifetime: int) -> None:
    """``tune.ssl.cachesize`` sessions kept for ``tune.ssl.lifetime`` seconds; a
    size of 0 turns the cache off (for OpenSSL 0 would mean no limit)."""
    ptr = _handle(ctx)
    if size:
        _LIB.SSL_CTX_ctrl(ptr, _SSL_CTRL_SET_SESS_CACHE_SIZE, size, None)
    else:
        _LIB.SSL_CTX_ctrl(ptr, _SSL_CTRL_SET_SESS_CACHE_MODE, 0, None)  # SSL_SESS_CACHE_OFF
    _LIB.SSL_CTX_set_timeout(ptr, lifetime)


def set_dh_auto(ctx: ssl.SSLContext) -> None:
    """DH parameters sized after the certificate's key (DHE cipher suites usable)."""
    _LIB.SSL_CTX_ctrl(_handle(ctx), _SSL_CTRL_SET_DH_AUTO, 1, None)
