"""Connection limits derived from the configuration (``proxy_adjust_all_maxconn()``).

Pure functions of the model and the process's global ``maxconn`` (known only
at start-up, when it defaults to what the file-descriptor limit allows):

* a frontend's effective ``maxconn`` is its own, else the global one (spec §2.2);
* a backend's ``fullconn`` is its own, else 10 % (rounded up, at least 1) of
  the ``maxconn`` of the frontends that can reach it statically: their
  ``default_backend``, a ``listen`` section itself when it has none, each
  distinct static ``use_backend`` target other than the default backend
  (spec §2.3). Sums are C ``unsigned int``: they wrap at 2^32.

The runtime uses them to build its backends; ``herdsman -c --explain`` prints
them with where each number came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from herdsman.config.model import Cap, Config, ProxyConfig

U32 = 0xFFFFFFFF
DEFAULT_MAXCONN = 100  # the floor of the computed global maxconn


def ideal_maxconn(nofile: int, reserved: int) -> int:
    """``compute_ideal_maxconn()`` without pipes or memory limit (spec §2.1)."""
    remain = nofile - reserved
    return max(DEFAULT_MAXCONN, 2 * remain // 5)


def reserved_fds(config: Config) -> int:
    """The descriptors kept for listeners and checks before connections count."""
    binds = sum(len(px.binds) for px in config.frontends)
    checks = sum(1 for px in config.backends for s in px.servers if s.check)
    return binds + checks


def default_maxconn(config: Config, nofile: int) -> int:
    """The global maxconn when neither ``maxconn`` nor ``-n`` sets it (``ulimit-n`` wins
    over the process's file-descriptor limit ``nofile``)."""
    return ideal_maxconn(config.global_.ulimit_n or nofile, reserved_fds(config))


def frontend_maxconn(px: ProxyConfig, global_maxconn: int) -> int:
    """The accept limit of a frontend (0 in the file means "the global maxconn")."""
    return px.maxconn or global_maxconn


@dataclass
class Fullconn:
    """A backend's ``fullconn`` and, when it was derived, from which frontends."""

    value: int
    configured: bool
    # (frontend, its maxconn, how it reaches the backend: default_backend, listen, use_backend)
    contributions: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(m for _, m, _ in self.contributions) & U32


def _dynamic(name: str) -> bool:
    return "%" in name  # a log-format backend name: not counted


def fullconns(config: Config, global_maxconn: int) -> dict[str, Fullconn]:
    """Every enabled backend's ``fullconn``, by name."""
    backends = {px.name: px for px in config.backends if not px.disabled}
    contributions: dict[str, list[tuple[str, int, str]]] = {name: [] for name in backends}
    for px in config.proxies:
        if px.disabled or not px.cap & Cap.FE:
            continue
        maxconn = frontend_maxconn(px, global_maxconn)
        default = px.default_backend
        if default:
            if default in contributions:
                contributions[default].append((px.name, maxconn, "default_backend"))
        elif px.kind == "listen" and px.name in contributions:
            contributions[px.name].append((px.name, maxconn, "listen"))
        seen: set[str] = set()
        for rule in px.routing.switching:
            target = rule.name
            if _dynamic(target) or target == default or target in seen:
                continue
            seen.add(target)
            if target in contributions:
                contributions[target].append((px.name, maxconn, "use_backend"))
    out: dict[str, Fullconn] = {}
    for name, px in backends.items():
        if px.fullconn:
            out[name] = Fullconn(px.fullconn, True, contributions[name])
            continue
        derived = Fullconn(0, False, contributions[name])
        derived.value = (derived.total + 9) // 10 or 1
        out[name] = derived
    return out
