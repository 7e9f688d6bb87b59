"""The protocol check options: ``option redis-check``, ``mysql-check``,
``pgsql-check``, ``smtpchk``, ``ldap-check``, ``ssl-hello-chk``, ``spop-check``.

``proxy_parse_*_opt()`` of HAProxy 2.6's ``src/tcpcheck.c``, with the
messages the 2.6.12 binary prints. Each warns in a section without backend
capability and goes on, refuses extra words, then selects its ruleset (built
by ``defs/protocols/``) and clears the "unused" marks of the section's own
tcp-check and http-check rules, as every check option does: a later ``option
tcp-check`` or ``option httpchk`` selects those again, and a later
``tcp-check``/``http-check`` line is kept aside ("uses tcp-check rules without
'option tcp-check'").
"""

from __future__ import annotations

from collections.abc import Callable

from herdsman.config.checks import select_ruleset, warn_not_backend
from herdsman.config.diag import ConfigError
from herdsman.config.keywords import Ctx, too_many_args
from herdsman.defs.protocols import ldap, mysql, pgsql, redis, smtp, spop, ssl_hello
from herdsman.defs.rules import Ruleset


def _wire(text: str) -> bytes:
    # configuration words are read as UTF-8 with surrogateescape: the raw bytes
    return text.encode("utf-8", "surrogateescape")


def _words(ctx: Ctx, args: list[str], maxarg: int) -> list[str]:
    """Warn without backend capability, refuse more than ``maxarg`` words after the name;
    returns those words, padded with empty strings as HAProxy's ``args``."""
    warn_not_backend(ctx, args[1])
    too_many = too_many_args(args, maxarg, 1)
    if too_many:
        raise ConfigError(too_many)
    return [*args[2:], "", "", ""]


def _mysql(ctx: Ctx, args: list[str]) -> Ruleset:
    words = _words(ctx, args, 3)
    if not words[0]:
        return mysql.ruleset()
    if words[0] != "user":
        raise ConfigError(
            f"'{args[0]} {args[1]}' only supports optional values: 'user' (got '{words[0]}')."
        )
    if not words[1]:
        raise ConfigError(f"'{args[0]} {args[1]} {words[0]}' expects <username> as argument.")
    if words[2] not in ("", "post-41", "pre-41"):
        raise ConfigError(
            f"keyword '{words[0]}' only supports 'post-41' and 'pre-41' (got '{words[2]}')."
        )
    return mysql.ruleset(_wire(words[1]), pre41=words[2] == "pre-41")


def _pgsql(ctx: Ctx, args: list[str]) -> Ruleset:
    words = _words(ctx, args, 2)
    if not words[0] or not words[1]:
        raise ConfigError(f"'{args[0]} {args[1]}' expects 'user <username>' as argument.")
    if words[0] != "user":
        raise ConfigError(f"'{args[0]} {args[1]}' only supports optional values: 'user'.")
    return pgsql.ruleset(_wire(words[1]))


def _smtp(ctx: Ctx, args: list[str]) -> Ruleset:
    # Anything but exactly "HELO <domain>" or "EHLO <domain>" is "HELO localhost".
    words = _words(ctx, args, 2)
    if words[0] in ("EHLO", "HELO") and words[1]:
        return smtp.ruleset(_wire(f"{words[0]} {words[1]}"))
    return smtp.ruleset()


def _plain(build: Callable[[], Ruleset]) -> Callable[[Ctx, list[str]], Ruleset]:
    def parse(ctx: Ctx, args: list[str]) -> Ruleset:
        _words(ctx, args, 0)
        return build()

    return parse


PARSERS: dict[str, Callable[[Ctx, list[str]], Ruleset]] = {
    "redis-check": _plain(redis.ruleset),
    "mysql-check": _mysql,
    "pgsql-check": _pgsql,
    "smtpchk": _smtp,
    "ldap-check": _plain(ldap.ruleset),
    "ssl-hello-chk": _plain(ssl_hello.ruleset),
    "spop-check": _plain(spop.ruleset),
}


def parse_protocol_option(ctx: Ctx, args: list[str]) -> None:
    """``option <protocol check> ...``: select the protocol's ruleset."""
    select_ruleset(ctx.px, PARSERS[args[1]](ctx, args))
