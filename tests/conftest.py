"""Shared pytest configuration: run asyncio tests on uvloop, skip haproxy comparisons when absent."""

from __future__ import annotations

import inspect
import os
import shutil
from collections.abc import Iterator

import pytest
import uvloop


def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests on a fresh uvloop event loop (no plugin needed)."""
    func = pyfuncitem.obj
    if inspect.iscoroutinefunction(func):
        kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        uvloop.run(func(**kwargs))
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("haproxy") is None:
        skip = pytest.mark.skip(reason="haproxy is not installed")
        for item in items:
            if "haproxy" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _environ_restored() -> Iterator[None]:
    """Each test gets the environment the session started with: the CLI and the
    parser run in-process write to ``os.environ`` as haproxy writes to its own
    (``HAPROXY_CFGFILES``, ``HAPROXY_LOCALPEER``), and a later test's child
    processes would inherit it."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
