"""Start-up name resolution of server addresses (``server.c srv_init_addr()``, spec §1.4).

Hostnames on ``server`` lines are kept while parsing and resolved here, after
the whole configuration was read, by trying the server's ``init-addr`` methods
in order (default ``last,libc``). A server whose resolution ends on ``none``
starts in maintenance (RMAINT, "MAINT (resolution)"). Servers of disabled
proxies are not resolved, as in HAProxy.
"""

from __future__ import annotations

import dataclasses
import socket

from herdsman.config.diag import Diagnostics
from herdsman.config.model import Config, ServerConfig
from herdsman.config.model_addr import Address, Family


def _getaddrinfo(host: str, force: Family | None) -> tuple[Family, str] | None:
    family = {Family.INET: socket.AF_INET, Family.INET6: socket.AF_INET6}.get(
        force or Family.HOSTNAME, socket.AF_UNSPEC
    )
    try:
        infos = socket.getaddrinfo(host, None, family, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for fam, _, _, _, sockaddr in infos:
        if fam == socket.AF_INET:
            return Family.INET, str(sockaddr[0])
        if fam == socket.AF_INET6:
            return Family.INET6, str(sockaddr[0])
    return None


def resolve_now(addr: Address) -> Address | None:
    """Resolve a hostname with the system resolver (first answer), or None."""
    if addr.family is not Family.HOSTNAME:
        return addr
    found = _getaddrinfo(addr.host, addr.force_family)
    if found is None:
        return None
    return dataclasses.replace(addr, family=found[0], host=found[1])


def _resolve_server(srv: ServerConfig, dont_fail: bool, diag: Diagnostics, prefix: str) -> bool:
    """``srv_iterate_initaddr()``: True on success (including "none")."""
    assert srv.addr is not None
    name = srv.addr.host
    methods = list(srv.init_addr) or ["last", "libc"]
    if srv.resolvers and not srv.init_addr:
        methods.append("none")
    if dont_fail:
        methods.append("none")
    failed = False
    for method in methods:
        if method == "last":
            continue  # no server-state file support (yet): never applicable
        if method == "libc":
            resolved = resolve_now(srv.addr)
            if resolved is not None:
                srv.addr = resolved
                return True
            failed = True
            continue
        if method == "none":
            srv.unresolved = True
            if failed:
                diag.warning(f"{prefix}could not resolve address '{name}', disabling server.")
            return True
        # a literal fallback address
        fam = Family.INET6 if ":" in method else Family.INET
        srv.addr = dataclasses.replace(srv.addr, family=fam, host=method)
        if failed:
            diag.warning(
                f"{prefix}could not resolve address '{name}', falling back to configured address."
            )
        return True
    if not failed:
        diag.alert(f"{prefix}no method found to resolve address '{name}'.")
    else:
        diag.alert(f"{prefix}could not resolve address '{name}'.")
    return False


def init_addresses(config: Config, diag: Diagnostics, dont_fail: bool = False) -> bool:
    """Resolve every server hostname; False (after alerts) if one could not be."""
    ok = True
    for px in config.backends:
        if px.disabled:
            continue
        for srv in px.servers:
            if srv.addr is None or srv.addr.family is not Family.HOSTNAME:
                continue
            prefix = f"{srv.loc.at}'server {px.name}/{srv.name}' : "
            if srv.addr.host.startswith("_"):
                diag.alert(f"{prefix}no method found to resolve address '{srv.addr.host}'.")
                ok = False
                continue
            ok = _resolve_server(srv, dont_fail, diag, prefix) and ok
    if not ok:
        diag.alert("Failed to initialize server(s) addr.")
    return ok
