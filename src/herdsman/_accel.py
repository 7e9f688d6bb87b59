"""Compiled modules: herdsman's protocol logic built with mypyc, used only when it
matches the sources.

``./run.sh`` runs ``python -m herdsman.accel build``: the modules of ``COMPILED``
are compiled by mypyc (the type-checked sources as they are, no second
implementation) into extension modules next to their sources, plus one shared
library ``herdsman__mypyc``, and ``_accel.json`` records each source's SHA-256.
The modules are those of a transaction's hot path; compiled, they cost about a
third less CPU (docs/performance.md §7).

At import (``herdsman/__init__.py`` calls :func:`install`), the record is checked
against the sources. All match: the extensions load. Any source changed since
the build (a file edited and not rebuilt), ``HERDSMAN_PURE=1`` in the
environment, or no build at all: every module of the record loads from its
``.py`` instead. Never a mix: an interpreted class cannot inherit from a
compiled one, so a half-compiled tree would not even start.

The build needs a C compiler and Python's headers; without them it says so and
herdsman runs interpreted, with the same behaviour.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = [
    "COMPILED",
    "GROUP",
    "RECORD",
    "SRC",
    "digests",
    "install",
    "recorded",
    "sources",
    "state",
]

# packages compiled whole (every module but __init__), relative to src/
COMPILED = (
    "herdsman/http",
    "herdsman/lb",
    "herdsman/core",
    "herdsman/proxy",
    "herdsman/sample",
    "herdsman/rules",
)
# left interpreted: classes mypyc cannot compile (``bytes`` subclasses, a generic
# dataclass)
INTERPRETED = frozenset({"herdsman/sample/types.py", "herdsman/rules/cookie.py"})

SRC = Path(__file__).resolve().parent.parent  # src/
RECORD = SRC / "herdsman" / "_accel.json"
GROUP = "herdsman"  # the shared library: herdsman__mypyc.<abi>.so in src/


def sources() -> list[Path]:
    """The source files that the build compiles, sorted."""
    out: list[Path] = []
    for pkg in COMPILED:
        out += sorted(
            p
            for p in (SRC / pkg).glob("*.py")
            if p.name != "__init__.py" and str(p.relative_to(SRC)) not in INTERPRETED
        )
    return out


def _module(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts)


def digests(paths: Sequence[Path]) -> dict[str, str]:
    return {_module(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def recorded() -> dict[str, str] | None:
    try:
        data = json.loads(RECORD.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def state() -> str:
    """``compiled``, ``stale`` (sources changed since the build), ``pure``
    (HERDSMAN_PURE set) or ``none`` (never built)."""
    rec = recorded()
    if rec is None:
        return "none"
    if os.environ.get("HERDSMAN_PURE"):
        return "pure"
    try:
        now = digests([SRC / (m.replace(".", "/") + ".py") for m in rec])
    except OSError:
        return "stale"
    return "compiled" if now == rec else "stale"


class _FromSource(importlib.abc.MetaPathFinder):
    """Finds the listed modules' ``.py`` files, ahead of their extensions."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        leaf = fullname.rpartition(".")[2] + ".py"
        for entry in path or sys.path:
            candidate = os.path.join(entry, leaf)
            if os.path.isfile(candidate):
                return importlib.util.spec_from_file_location(fullname, candidate)
        return None


def install() -> None:
    """Load every recorded module from its source unless the build is current."""
    if state() == "compiled":
        return
    rec = recorded()
    if rec:
        sys.meta_path.insert(0, _FromSource(frozenset(rec)))
