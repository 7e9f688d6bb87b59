"""``userlist`` sections (``cfgparse.c cfg_parse_users()``): ``group`` and
``user`` lines with 2.6's messages. The lists themselves, password checks
and the group resolution at the end (``userlist_postinit()``) are
``rules/userlist.py``.
"""

from __future__ import annotations

from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import Ctx, arg
from herdsman.rules.userlist import Group, User, Userlist, crypt


def _invalid(name: str) -> str | None:
    from herdsman.config.sections import invalid_char

    return invalid_char(name)


def start_section(ctx: Ctx, args: list[str]) -> Userlist | None:
    """A ``userlist <name>`` line: the list its lines fill, None when they fill none."""
    name = arg(args, 1)
    if not name:
        raise ConfigError(f"'{args[0]}' expects <name> as arguments.", tight=True)
    if arg(args, 2):
        ctx.alert(f"'{args[0]}' cannot handle unexpected argument '{args[2]}'.")
        return None
    bad = _invalid(name)
    if bad is not None:
        raise ConfigError(
            f"character '{bad}' is not permitted in '{args[0]}' name '{name}'.", tight=True
        )
    if any(u.name == name for u in ctx.config.userlists):
        raise ConfigError(f"ignoring duplicated userlist '{name}'.", Err.WARN, tight=True)
    ul = Userlist(name)
    ctx.config.userlists.append(ul)
    return ul


def section_line(ctx: Ctx, args: list[str], ul: Userlist | None) -> None:
    word = args[0]
    name = arg(args, 1)
    if word not in ("group", "user"):
        ctx.alert(f"unknown keyword '{word}' in 'users' section")
        return
    if not name:
        raise ConfigError(f"'{word}' expects <name> as arguments.", tight=True)
    if word == "group":
        bad = _invalid(name)
        if bad is not None:
            raise ConfigError(
                f"character '{bad}' is not permitted in '{word}' name '{name}'.", tight=True
            )
        if ul is None:
            return
        if ul.group(name) is not None:
            raise ConfigError(
                f"ignoring duplicated group '{name}' in userlist '{ul.name}'.",
                Err.ALERT,
                tight=True,
            )
        group = Group(name)
        i = 2
        while arg(args, i):
            if args[i] != "users":
                raise ConfigError(f"'{word}' only supports 'users' option.", tight=True)
            group.users = arg(args, i + 1)
            i += 2
        ul.groups.append(group)
        return
    if ul is None:
        return
    if ul.user(name) is not None:
        raise ConfigError(
            f"ignoring duplicated user '{name}' in userlist '{ul.name}'.", Err.ALERT, tight=True
        )
    user = User(name)
    ul.users.append(user)
    i = 2
    while arg(args, i):
        opt, value = args[i], arg(args, i + 1)
        if opt == "password":
            if crypt(b"", value.encode("utf-8", "surrogateescape")) is None:
                raise ConfigError(
                    f"the encrypted password used for user '{name}' is not supported by crypt(3).",
                    tight=True,
                )
            user.password, user.insecure = value, False
        elif opt == "insecure-password":
            user.password, user.insecure = value, True
        elif opt == "groups":
            user.groups_names = value
        else:
            raise ConfigError(
                f"'{word}' only supports 'password', 'insecure-password' and 'groups' options.",
                tight=True,
            )
        i += 2


def postinit(ctx_alert: list[str], userlists: list[Userlist]) -> None:
    """``userlist_postinit()``: the first alert stops it."""
    for ul in userlists:
        text = ul.postinit()
        if text is not None:
            ctx_alert.append(text)
            return
