"""Prototypes of the optimisations proposed in docs/performance.md, applied at run time.

Nothing under src/ is changed: each experiment replaces one function of the
running process, so that the gain of a proposal can be measured before
anyone writes it properly. The benchmarks take ``--experiments a,b``; run
the real command line with them::

    .venv/bin/python bench/experiments.py fast_connect -- -db -f haproxy.cfg

Each experiment is a proposal of docs/performance.md, registered in
``EXPERIMENTS`` under its name. Pending: ``read_on`` (measured, left: §7). The
four before it (``fast_connect``,
``uv_connect``, ``check_quickack``, ``check_target_cache``) were measured here,
then written properly in src/ (commits a825b55, 1fd9e36, 0028858 and e41ed2f),
and removed from this file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

EXPERIMENTS: dict[str, Callable[[], None]] = {}


def _read_on() -> None:
    """docs/performance.md §7 "reading the client between requests": the client
    is not paused while its complete request is served (HAProxy keeps reading,
    ``h1_recv_allowed()``); back-pressure on a full buffer still pauses. A
    prototype: a FIN read meanwhile is not handled as haproxy 2.6.12 does."""
    from herdsman.proxy.http import HttpSession
    from herdsman.proxy.http_state import WAITING

    pause = HttpSession.pause_client

    def pause_client(self: HttpSession) -> None:
        if self.phase != WAITING or len(self.buf) >= self.ctx.limits.bufsize:
            pause(self)

    HttpSession.pause_client = pause_client  # type: ignore[method-assign]


EXPERIMENTS["read_on"] = _read_on


def apply(names: str) -> list[str]:
    """Apply a comma-separated list of experiments; returns their names."""
    applied = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name not in EXPERIMENTS:
            raise SystemExit(f"unknown experiment {name!r} (known: {', '.join(EXPERIMENTS)})")
        EXPERIMENTS[name]()
        applied.append(name)
    if applied:
        print(f"bench: experiments applied: {', '.join(applied)}", file=sys.stderr)
    return applied


def main(argv: list[str]) -> int:
    """``experiments.py NAMES [--] herdsman-arguments...``: the CLI with the experiments."""
    if not argv:
        print(__doc__)
        return 2
    names, rest = argv[0], argv[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    apply(names)
    from _patches import patch_scheduler_ties

    patch_scheduler_ties()
    from herdsman.cli import main as cli_main

    return cli_main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
