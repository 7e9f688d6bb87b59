"""What ``check_config_validity()`` (``cfgparse.c``, 2.6) checks about HTTP mode once
every section is read; ``config/validate.py`` calls each in HAProxy's order.

* A TCP proxy says which HTTP settings it ignores (``proxy_cfg_ensure_no_http()``):
  ``monitor-uri``, and the L7 hashes, which fall back to round robin.
* An HTTP frontend cannot use a TCP backend; a TCP frontend may use an HTTP
  one (its connection is upgraded to HTTP when the backend is chosen).
* In a TCP proxy, the HTTP options are cleared with a warning each, for the
  sections that have their capability (an option inherited from ``defaults``
  by a frontend that lacks it says nothing); ``http-reuse`` silently becomes
  ``never`` once the proxy has servers.
* ``timeout tarpit`` falls back to ``timeout connect``.
"""

from __future__ import annotations

from herdsman.config.diag import Diagnostics
from herdsman.config.keywords import proxy_type_str
from herdsman.config.model import HttpReuse, Mode, ProxyConfig
from herdsman.config.options import SIMPLE

L7_HASHES = ("uri", "url_param", "hdr")


def ensure_no_http(px: ProxyConfig, diag: Diagnostics) -> None:
    """``proxy_cfg_ensure_no_http()``, for a TCP proxy."""
    kind = proxy_type_str(px)
    if px.http.monitor_uri is not None:
        diag.warning(f"monitor-uri will be ignored for {kind} '{px.name}' (needs 'mode http').")
    if px.balance.algo in L7_HASHES:
        px.balance.algo = "roundrobin"
        diag.warning(
            f"Layer 7 hash not possible for {kind} '{px.name}' (needs 'mode http'). "
            "Falling back to round robin."
        )


def incompatible(px: ProxyConfig, target: ProxyConfig, use: str) -> str | None:
    """The alert when ``px`` cannot use ``target`` as ``use`` describes, else None."""
    if target.mode is px.mode or (px.mode is Mode.TCP and target.mode is Mode.HTTP):
        return None
    return (
        f"{px.mode.value} {proxy_type_str(px)} '{px.name}' ({px.loc}) tries to use incompatible "
        f"{target.mode.value} {proxy_type_str(target)} '{target.name}' ({target.loc}) {use} "
        "(see 'mode')."
    )


def tcp_mode_options(px: ProxyConfig) -> list[str]:
    """The HTTP options of a TCP proxy, cleared; the warning for each, which
    HAProxy prints after the server checks. They are cleared first because
    the health checks read the result (``option http-pretend-keepalive``)."""
    if px.mode is Mode.HTTP:
        return []
    kind = proxy_type_str(px)
    ignored: list[str] = []
    if px.http.forwardfor is not None:
        ignored.append("forwardfor")
        px.http.forwardfor = None
    if px.http.originalto is not None:
        ignored.append("originalto")
        px.http.originalto = None
    for opt in SIMPLE.values():
        if opt.http and px.cap & opt.cap and px.options.get(opt.name):
            ignored.append(opt.name)
            px.options[opt.name] = False
    return [
        f"'option {name}' ignored for {kind} '{px.name}' as it requires HTTP mode."
        for name in ignored
    ]


def tcp_mode_reuse(px: ProxyConfig) -> None:
    """A TCP proxy with servers never reuses a connection (checked per server in 2.6)."""
    if px.mode is not Mode.HTTP and px.servers:
        px.http.reuse_mode = HttpReuse.NEVER


def tarpit_fallback(px: ProxyConfig) -> None:
    """An unset (or zero) ``timeout tarpit`` is ``timeout connect``, for old configurations."""
    t = px.timeouts
    if not t.tarpit:
        t.tarpit = t.connect


__all__ = [
    "L7_HASHES",
    "ensure_no_http",
    "incompatible",
    "tarpit_fallback",
    "tcp_mode_options",
    "tcp_mode_reuse",
]
