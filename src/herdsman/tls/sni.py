"""A TLS bind line at run time: its contexts and the certificate each client gets
(``ssl_sock_switchctx_cbk()`` of HAProxy 2.6).

Names: each certificate instance answers for its crt-list filters, else for
its certificate's SAN DNS names then CNs, lower-cased; ``*.example.com``
answers for any ``<label>.example.com``. A client's name is looked up exactly
first, then as a wildcard (what follows its first dot), skipping a wildcard
whose own crt-list line excludes the name (``!name``). Among the instances
found, the first ECDSA one and the first RSA one are combined in one context
and OpenSSL presents the ECDSA certificate to clients that accept it (HAProxy
chooses from the client's signature algorithms itself; the result is the same
for common clients). Without SNI, or without a match, the client gets the
default certificate, the first instance of the line, unless ``strict-sni``:
then the handshake fails with an ``unrecognized_name`` alert.

``set ssl cert`` replaces a file's contents: the store calls ``cert_changed()``
and the line's contexts are rebuilt; a handshake already started keeps the
context it has.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

from herdsman.tls.context import bind_context
from herdsman.tls.model import CrtEntry, TlsBind, TlsGlobal
from herdsman.tls.pem import Ckch
from herdsman.tls.store import CertStore

__all__ = ["BindTls", "entry_names"]


def entry_names(entry: CrtEntry, ckch: Ckch) -> list[tuple[str, bool, bool]]:
    """(name, wildcard, negated) of an instance, as ``ckch_inst_add_cert_sni()``
    stores them: filters in reverse order (its ``fcount--`` loop), else the
    certificate's names; ``!*...`` filters are dropped."""
    raw = list(reversed(entry.filters)) if entry.filters else list(ckch.cert.sni_names)
    out = []
    for name in raw:
        neg = name.startswith("!")
        if neg:
            name = name[1:]
        wild = name.startswith("*")
        if wild:
            name = name[1:]
        if (neg and wild) or not name:
            continue
        out.append((name.lower(), wild, neg))
    return out


@dataclass(slots=True)
class _Node:
    entry: CrtEntry
    ecdsa: bool
    neg: bool


@dataclass(slots=True)
class _Tables:
    exact: dict[str, list[_Node]] = field(default_factory=dict)
    wild: dict[str, list[_Node]] = field(default_factory=dict)
    excluded: dict[int, set[str]] = field(default_factory=dict)  # id(entry) -> !names


class BindTls:
    """The contexts of one TLS bind line and its SNI callback."""

    def __init__(self, tb: TlsBind, g: TlsGlobal, store: CertStore) -> None:
        self.tb = tb
        self.g = g
        self.store = store
        self.initial: ssl.SSLContext
        self._tables = _Tables()
        self._ctx: dict[tuple[int, ...], ssl.SSLContext] = {}
        self._build()
        store.subscribers.append(self.cert_changed)

    def _context(self, entries: list[CrtEntry]) -> ssl.SSLContext:
        key = tuple(id(e) for e in entries)
        ctx = self._ctx.get(key)
        if ctx is None:
            ckchs = [self.store.files[e.path] for e in entries]
            opts = entries[0].opts if entries else None
            ctx = self._ctx[key] = bind_context(self.tb, self.g, opts, ckchs)
        return ctx

    def _build(self) -> None:
        tables = _Tables()
        self._ctx = {}
        for entry in self.tb.crts:
            ckch = self.store.files[entry.path]
            for name, wild, neg in entry_names(entry, ckch):
                node = _Node(entry, ckch.cert.is_ecdsa, neg)
                (tables.wild if wild else tables.exact).setdefault(name, []).append(node)
                if neg:
                    tables.excluded.setdefault(id(entry), set()).add(name)
        self._tables = tables
        # without a certificate ("strict-sni" alone) every handshake fails
        initial = self._context(self.tb.crts[:1])
        initial.sni_callback = self._on_sni
        self.initial = initial

    def cert_changed(self, path: str, ckch: Ckch) -> None:
        if any(e.path == path for e in self.tb.crts):
            self._build()

    def select(self, name: str) -> ssl.SSLContext | None:
        """The context for a client's server name; None when none matches."""
        name = name.lower()
        tables = self._tables
        dot = name.find(".")
        found: list[_Node] = [n for n in tables.exact.get(name, ()) if not n.neg]
        if dot >= 0:
            for n in tables.wild.get(name[dot:], ()):
                if not n.neg and name not in tables.excluded.get(id(n.entry), ()):
                    found.append(n)
        if not found:
            return None
        ecdsa = next((n.entry for n in found if n.ecdsa), None)
        rsa = next((n.entry for n in found if not n.ecdsa), None)
        return self._context([e for e in (ecdsa, rsa) if e is not None])

    def _on_sni(self, sslobj: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> int | None:
        sslobj.herdsman_sni = name  # type: ignore[attr-defined]  # ssl_fc_sni
        target = self.select(name) if name is not None else None
        if target is None:
            if self.tb.strict_sni:
                return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
            return None
        if target is not ctx:
            sslobj.context = target
        return None
