"""The compiled modules load only when they match the sources (herdsman/_accel.py)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from herdsman import _accel


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "herdsman" / "http"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("A = 1\n")
    (pkg / "b.py").write_text("B = 2\n")
    monkeypatch.setattr(_accel, "SRC", tmp_path)
    monkeypatch.setattr(_accel, "RECORD", tmp_path / "herdsman" / "_accel.json")
    monkeypatch.setattr(_accel, "COMPILED", ("herdsman/http",))
    monkeypatch.delenv("HERDSMAN_PURE", raising=False)
    return tmp_path


def test_state_follows_the_sources(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [p.name for p in _accel.sources()] == ["a.py", "b.py"]  # never __init__
    assert _accel.state() == "none"
    record = _accel.digests(_accel.sources())
    assert sorted(record) == ["herdsman.http.a", "herdsman.http.b"]
    _accel.RECORD.write_text(json.dumps(record))
    assert _accel.state() == "compiled"
    monkeypatch.setenv("HERDSMAN_PURE", "1")
    assert _accel.state() == "pure"
    monkeypatch.delenv("HERDSMAN_PURE")
    (tree / "herdsman" / "http" / "b.py").write_text("B = 3\n")  # edited, not rebuilt
    assert _accel.state() == "stale"
    (tree / "herdsman" / "http" / "b.py").unlink()
    assert _accel.state() == "stale"
    _accel.RECORD.write_text("not json")
    assert _accel.state() == "none"


def _loaded_from(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import herdsman.http.parse as m; print(m.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_pure_loads_every_module_from_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HERDSMAN_PURE", raising=False)  # the suite may run with it set
    env = dict(os.environ)
    expected = ".py" if _accel.state() != "compiled" else ".so"
    assert _loaded_from(env).endswith(expected)
    assert _loaded_from({**env, "HERDSMAN_PURE": "1"}).endswith("/http/parse.py")


def _except_names(fn: ast.AST) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.ExceptHandler) and node.name and node.type is not None:
            names.setdefault(node.name, set()).add(ast.unparse(node.type))
    return names


def test_no_exception_name_holds_two_types() -> None:
    """mypyc types a local once: ``except A as err`` then ``except B as err`` in
    one compiled function fails at run time with a TypeError (docs/architecture.md)."""
    found = []
    for path in _accel.sources():
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for name, types in _except_names(fn).items():
                    if len(types) > 1:
                        found.append(f"{path.name}:{fn.lineno} {fn.name}: {name} {sorted(types)}")
    assert found == []
    assert _except_names(ast.parse("try: f()\nexcept A as e: g()\nexcept B as e: h()")) == {
        "e": {"A", "B"}
    }
