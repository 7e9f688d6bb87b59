"""Every certificate file of a configuration, by path (HAProxy's ``ckchs_tree``),
and the crt-lists and directories that name them (``crtlists_tree``).

A file named by several bind lines (or twice in one) is read once; each use is
an instance (``CrtEntry``) of its bind line. The runtime API replaces a file's
contents through a transaction (``set ssl cert`` then ``commit ssl cert``): the
store keeps the pending ckch, and on commit tells its subscribers (the TLS
listeners and servers that use the file) to rebuild their contexts. Existing
connections keep the context they were made with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from herdsman.tls.model import CrtEntry
from herdsman.tls.pem import Ckch


@dataclass(slots=True)
class CrtList:
    """A crt-list file or a certificate directory, with its entries in file order."""

    path: str
    is_dir: bool
    entries: list[CrtEntry] = field(default_factory=list)


@dataclass(slots=True)
class CertStore:
    files: dict[str, Ckch] = field(default_factory=dict)
    crtlists: dict[str, CrtList] = field(default_factory=dict)
    # paths used by a server line (client certificates), for "Status: Used"
    server_files: set[str] = field(default_factory=set)
    bind_files: set[str] = field(default_factory=set)
    pending: tuple[str, Ckch] | None = None  # the one "set ssl cert" transaction
    subscribers: list[Callable[[str, Ckch], None]] = field(default_factory=list)

    def used(self, path: str) -> bool:
        return path in self.bind_files or path in self.server_files

    def commit(self) -> str:
        """Apply the pending transaction: the file's new contents go live."""
        assert self.pending is not None
        path, ckch = self.pending
        self.pending = None
        self.files[path] = ckch
        for notify in self.subscribers:
            notify(path, ckch)
        return path
