"""The stats page's keywords: ``stats enable|uri|realm|auth|refresh|scope|hide-version|
show-legends|show-node|show-desc|admin`` in a proxy (``cfgparse-listen.c``,
``uri_auth.c``).

A proxy without ``stats`` lines shares its defaults section's settings; its
first ``stats`` line starts settings of its own, from scratch, as 2.6 detaches
``uri_auth`` from the defaults (nothing is merged). Any ``stats`` line enables
the page (with the default URI ``/haproxy?stats``); ``stats auth`` turns into
a Basic authentication rule at the end of parsing.

``stats admin if|unless <cond>`` takes any condition of the routing engine
(``build_acl_cond()`` on the proxy's ACLs declared so far); the data path
evaluates them on the request (``http_handle_stats()``: the first that
passes grants the admin form). ``stats http-request`` and ``stats
show-modules`` are refused with their line.
"""

from __future__ import annotations

from herdsman.config.diag import ConfigError, Diagnostics
from herdsman.config.keywords import Ctx, Keyword, Support, proxy_type_str
from herdsman.config.kw_rules import cond_warnings, rule_env
from herdsman.config.model import Cap, Mode, ProxyConfig, StatsPage
from herdsman.config.units import UnitError, parse_time
from herdsman.sample import registry as R
from herdsman.sample.acl import AclError

ACL = "ACLs and tcp/http rules"


def _own(ctx: Ctx) -> StatsPage:
    """The proxy's own settings, created (from scratch) at its first ``stats`` line."""
    px = ctx.px
    owner = (px.kind, px.name)
    if px.stats is None or px.stats.owner != owner:
        px.stats = StatsPage(owner=owner)
    return px.stats


def _admin(ctx: Ctx, args: list[str]) -> None:
    if ctx.px.cap & Cap.DEF:
        ctx.diag.alert(
            f"parsing [{ctx.loc.file}:{ctx.loc.line}]: '{args[0]} {args[1]}' not allowed in "
            "'defaults' section."
        )
        return
    page = _own(ctx)
    if len(args) < 3 or args[2] not in ("if", "unless"):
        raise ConfigError(
            f"'{args[0]} {args[1]}' requires either 'if' or 'unless' followed by a condition."
        )
    try:
        cond = rule_env(ctx).condition(args[2:])
    except AclError as err:
        raise ConfigError(
            f"error detected while parsing a '{args[0]} {args[1]}' rule : {err.message}."
        ) from None
    px = ctx.px
    cond_warnings(
        ctx,
        cond,
        (R.FE_HRQ_HDR if px.cap & Cap.FE else 0) | (R.BE_HRQ_HDR if px.cap & Cap.BE else 0),
    )
    page.admin.append(cond)


def _refresh(ctx: Ctx, args: list[str]) -> None:
    text = args[2] if len(args) > 2 else ""
    loc = f"parsing [{ctx.loc.file}:{ctx.loc.line}]"
    try:
        value = parse_time(text, "s")
    except UnitError as err:
        if err.kind == "overflow":
            ctx.diag.alert(
                f"{loc}: timer overflow in argument <{text}> to stats refresh interval, maximum "
                "value is 2147483647 s (~68 years)."
            )
        elif err.kind == "underflow":
            ctx.diag.alert(
                f"{loc}: timer underflow in argument <{text}> to stats refresh interval, minimum "
                "non-null value is 1 s."
            )
        else:
            ctx.diag.alert(
                f"{loc}: unexpected character '{err.char}' in argument to stats refresh interval."
            )
        return
    _own(ctx).refresh = value


def _node(ctx: Ctx, args: list[str]) -> None:
    name = args[2] if len(args) > 2 else ""
    if name and not all(c.isascii() and (c.isalnum() or c in "_-.") for c in name):
        ctx.diag.alert(
            f"parsing [{ctx.loc.file}:{ctx.loc.line}]: '{args[0]} {args[1]}' invalid node name - "
            "should be a stringwith digits(0-9), letters(A-Z, a-z), hyphen(-) or underscode(_)."
        )
        return
    page = _own(ctx)
    page.show_node = True
    if name:
        page.node = name


def _desc(ctx: Ctx, args: list[str]) -> None:
    words = [a for a in args[2:] if a]
    if not words and not ctx.global_.description:
        ctx.diag.warning(
            f"parsing [{ctx.loc.file}:{ctx.loc.line}]: '{args[1]}' requires a parameter or "
            "'desc' to be set in the global section."
        )
        return
    page = _own(ctx)
    page.show_desc = True
    if words:
        page.desc = " ".join(words)


def kw_stats(ctx: Ctx, args: list[str]) -> None:
    """``stats <what> ...`` in a proxy section."""
    sub = args[1] if len(args) > 1 else ""
    value = args[2] if len(args) > 2 else ""
    loc = f"parsing [{ctx.loc.file}:{ctx.loc.line}]"
    if sub == "admin":
        _admin(ctx, args)
    elif sub == "uri":
        if not value:
            raise ConfigError("'uri' needs an URI prefix.")
        _own(ctx).uri = value
    elif sub == "realm":
        if not value:
            raise ConfigError("'realm' needs an realm name.")
        _own(ctx).realm = value
    elif sub == "refresh":
        _refresh(ctx, args)
    elif sub == "http-request":
        if ctx.px.cap & Cap.DEF:
            ctx.diag.alert(f"{loc}: '{args[0]}' not allowed in 'defaults' section.")
            return
        raise ConfigError(
            f"'stats http-request' is not implemented in herdsman yet ({ACL}); "
            "remove it or use haproxy."
        )
    elif sub == "auth":
        if not value:
            raise ConfigError("'auth' needs a user:password account.")
        page = _own(ctx)
        user, _, password = value.partition(":")
        if any(u == user for u, _ in page.users):
            ctx.diag.warning(f"uri auth: ignoring duplicated user '{user}'.")
        else:
            page.users.insert(0, (user, password))  # HAProxy prepends
    elif sub == "scope":
        if not value:
            raise ConfigError("'scope' needs a proxy name.")
        page = _own(ctx)
        if value not in page.scopes:
            page.scopes.append(value)
    elif sub == "enable":
        _own(ctx)
    elif sub == "hide-version":
        _own(ctx).hide_version = True
    elif sub == "show-legends":
        _own(ctx).show_legends = True
    elif sub == "show-modules":
        raise ConfigError(
            "'stats show-modules' is not implemented in herdsman yet (stats modules); "
            "remove it or use haproxy."
        )
    elif sub == "show-node":
        _node(ctx, args)
    elif sub == "show-desc":
        _desc(ctx, args)
    else:
        what = "unknown stats parameter" if sub else "missing keyword in"
        ctx.diag.alert(
            f"{loc}: {what} '{args[1] if sub else args[0]}', expects 'admin', 'uri', 'realm', "
            "'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or "
            "'show-legends'."
        )


def finish(px: ProxyConfig, diag: Diagnostics) -> None:
    """``check_config_validity()``: the page needs HTTP mode."""
    if px.stats is not None and px.mode is not Mode.HTTP:
        diag.warning(
            f"'stats' statement ignored for {proxy_type_str(px)} '{px.name}' as it requires "
            "HTTP mode."
        )
        px.stats = None


KEYWORDS = [
    Keyword(
        "stats",
        kw_stats,
        ("defaults", "frontend", "listen", "backend"),
        Support.IMPLEMENTED,
        doc="the stats page: `enable`, `uri`, `realm`, `auth`, `refresh`, `scope`, "
        "`hide-version`, `show-legends`, `show-node`, `show-desc`, `admin if|unless <cond>` "
        "(`http-request` and `show-modules` are refused)",
    ),
]
