"""``python -m herdsman.accel build|state|clean``: compile the hot modules with
mypyc (herdsman/_accel.py says which and when they are used).

The build needs a C compiler and Python's headers; without them it says so and
herdsman runs interpreted, with the same behaviour.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path

from herdsman._accel import COMPILED, GROUP, RECORD, SRC, digests, recorded, sources, state

__all__ = ["build"]


def build() -> int:
    """Compile the modules (skipped when the record is current); 0 on success or
    when compiling is not possible here (herdsman then runs interpreted)."""
    paths = sources()
    wanted = digests(paths)
    if recorded() == wanted and all(_ext(p).exists() for p in paths):
        print("herdsman.accel: compiled modules are up to date")
        return 0
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    cc = shutil.which(sysconfig.get_config_var("CC").split()[0] or "cc")
    if not include.exists() or cc is None:
        why = "no Python.h" if not include.exists() else "no C compiler"
        print(f"herdsman.accel: not compiled ({why}): herdsman runs interpreted")
        _clean(paths)
        return 0
    _clean(paths)
    rel = [str(p.relative_to(SRC)) for p in paths]
    script = (
        "import sys\n"
        "from setuptools import setup\n"
        "from mypyc.build import mypycify\n"
        "setup(name='herdsman-accel', ext_modules=mypycify(sys.argv[2:], opt_level='3',"
        f" group_name={GROUP!r}, target_dir=sys.argv[1], multi_file=True),"
        " script_args=['-q', 'build_ext', '--inplace', '--build-temp', sys.argv[1],"
        f" '--parallel', '{os.cpu_count() or 1}'])\n"
    )  # multi_file: one C file per module, compiled in parallel
    with tempfile.TemporaryDirectory(prefix="herdsman-accel-") as tmp:
        done = subprocess.run(
            [sys.executable, "-c", script, tmp, *rel], cwd=SRC, capture_output=True, text=True
        )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        print("herdsman.accel: the build failed: herdsman runs interpreted", file=sys.stderr)
        _clean(paths)
        return 1
    RECORD.write_text(json.dumps(wanted, indent=1, sort_keys=True) + "\n")
    print(f"herdsman.accel: compiled {len(paths)} modules")
    return 0


def _ext(path: Path) -> Path:
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    return path.with_name(path.stem + suffix)


def _clean(paths: Sequence[Path]) -> None:
    """Remove the record and every extension in the compiled packages (a failed
    build leaves none, a module taken off the list leaves no stale one)."""
    RECORD.unlink(missing_ok=True)
    for p in paths:
        _ext(p).unlink(missing_ok=True)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for pkg in COMPILED:
            for ext in (SRC / pkg).glob("*" + suffix):
                ext.unlink()
        for lib in SRC.glob(f"{GROUP}__mypyc*{suffix}"):
            lib.unlink()


if __name__ == "__main__":
    if sys.argv[1:] == ["build"]:
        sys.exit(build())
    if sys.argv[1:] == ["state"]:
        print(state())
        sys.exit(0)
    if sys.argv[1:] == ["clean"]:
        _clean(sources())
        sys.exit(0)
    print("usage: python -m herdsman.accel build|state|clean", file=sys.stderr)
    sys.exit(2)
