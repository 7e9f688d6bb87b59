"""The house's arrows run one way (docs/architecture.md).

Every ``import`` of a herdsman module anywhere in a file counts, including
imports inside functions and under ``TYPE_CHECKING``: a cycle hidden in a
function is still a cycle a reader has to hold in their head. The implicit
import of a parent package (``herdsman.lb`` when ``herdsman.lb.fwrr`` is
imported) is not an arrow.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PKG = SRC / "herdsman"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The herdsman modules that ``path`` imports, resolved to known module names."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # "from herdsman.config import checks" imports the module config.checks;
            # "from herdsman.config.model import Cap" the module config.model
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in known else base)
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("herdsman") and target != name:
                out.add(target)
    return out


@functools.cache  # read-only for the tests: one parse of the tree per process
def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    graph = {name: _imports(path, name, known) for name, path in mods.items()}
    # a package importing its own submodules is its face, not an arrow back
    for name, deps in graph.items():
        deps.discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


# What each area may import besides itself (docs/architecture.md, "The house").
# cli -> process/runtime -> proxy, checks, admin -> core -> lb; config, defs,
# sample and rules are read by all and read none of them.
_LEAVES = {"defs", "sample", "rules", "http", "tls", "version"}
ALLOWED: dict[str, set[str]] = {
    "sample": set(),
    "http": set(),
    "tls": set(),
    "defs": {"sample"},
    "rules": {"sample", "http", "defs"},
    "version": set(),
    "config": {"defs", "sample", "rules", "http", "tls", "version"},
    # http: the request keys read the engine's heads; sample: HAProxy's hash functions
    "lb": {"config", "defs", "http", "sample"},
    "core": {"lb", "config"} | _LEAVES,
    "checks": {"core", "lb", "config"} | _LEAVES,
    "proxy": {"core", "lb", "config"} | _LEAVES,
    "admin": {"core", "lb", "config"} | _LEAVES,
    "control": {"proxy", "checks", "admin", "core", "config"} | _LEAVES,
    "runtime": {"proxy", "checks", "admin", "control", "core", "lb", "handover", "daemon", "config"}
    | _LEAVES,
    "handover": {"proxy", "config"} | _LEAVES,
    "startup": {"config"} | _LEAVES,
    "daemon": {"startup", "config"} | _LEAVES,
    "process": {"runtime", "handover", "daemon", "startup", "proxy", "core", "config"} | _LEAVES,
    "mworker": {"daemon", "startup", "core", "config"} | _LEAVES,
    "cli": {"process", "mworker", "startup", "config"} | _LEAVES,
    "testing": {"runtime", "core", "config"} | _LEAVES,
    "demo": {"testing", "runtime", "config"} | _LEAVES,
    "__main__": {"cli"},
    # the package loads its compiled modules only when they match the sources (_accel)
    "_accel": set(),
    "accel": {"_accel"},
    "": {"version", "_accel"},
}


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_arrows_run_one_way() -> None:
    wrong = []
    for module, deps in sorted(import_graph().items()):
        area = _area(module)
        for dep in sorted(deps):
            dep_area = _area(dep)
            if dep_area != area and dep_area not in ALLOWED[area]:
                wrong.append(f"{module} -> {dep}")
    assert wrong == [], "arrows against the house's direction:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_cycle_finder(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    """The finder itself finds what it must (a test that cannot fail proves nothing)."""
    assert cycles(graph) == expected


def test_resolves_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from herdsman.core.clock import Clock\n"
        "def f():\n    from herdsman.config import parser\n"
    )
    known = {"herdsman.core.clock", "herdsman.config", "herdsman.config.parser"}
    assert _imports(src, "herdsman.x", known) == {"herdsman.core.clock", "herdsman.config.parser"}
