"""Keyword tables: how every configuration keyword is dispatched and documented.

A keyword row says where the keyword is allowed, which function parses it and
what herdsman does with it:

* ``IMPLEMENTED``: parsed into the model and acted upon.
* ``PLANNED``: parsed and validated into the model (so the model is complete),
  then refused with a fatal error naming the feature it waits for. herdsman
  never accepts a keyword it does not act upon.
* ``UNSUPPORTED``: a HAProxy keyword herdsman does not parse at all; refused
  with a fatal error that says so (rather than "unknown keyword").
* ``NO_EFFECT``: a tuning knob for a mechanism herdsman does not have (HTTP/2,
  Lua, memory pools...). Its value is checked as HAProxy checks it, then it is
  accepted with one NOTICE per occurrence naming the reason (``reason``), so
  that configurations written for HAProxy start without a silent difference.

``docs/configuration.md`` is generated from these tables (``herdsman.config.docs``),
and a test keeps it in sync.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field

from herdsman.config.diag import ConfigError, Diagnostics, Err, Location
from herdsman.config.model import Cap, Config, GlobalConfig, ProxyConfig


class Support(enum.Enum):
    IMPLEMENTED = "implemented"
    PLANNED = "parsed, not implemented yet"
    UNSUPPORTED = "not supported"
    NO_EFFECT = "accepted, no effect"


@dataclass
class Ctx:
    """What a keyword parser gets besides its arguments."""

    diag: Diagnostics
    loc: Location
    config: Config
    section: str  # "global", "defaults", "frontend", "backend", "listen"
    proxy: ProxyConfig | None = None
    env: MutableMapping[str, str] = field(default_factory=dict)
    modifier: str = ""  # "no" or "default" before the keyword (options, log)
    # The defaults section the proxy was created from (``curr_defproxy``): some
    # keywords compare against it. For a defaults section, itself.
    defaults: ProxyConfig | None = None

    @property
    def global_(self) -> GlobalConfig:
        return self.config.global_

    @property
    def px(self) -> ProxyConfig:
        assert self.proxy is not None
        return self.proxy

    def warn(self, text: str) -> None:
        """A warning with the ``parsing [file:line] : `` prefix."""
        self.diag.warning(self.loc.parsing + text)

    def alert(self, text: str, flags: Err = Err.ALERT | Err.FATAL) -> None:
        """An alert with the ``parsing [file:line] : `` prefix (fatal by default)."""
        self.diag.alert(self.loc.parsing + text, flags)


class BrokenFile(Exception):
    """A keyword parser "returned -1", i.e. every ``ERR_*`` bit at once.

    2.6 has one such path (``description`` without text in a proxy): the file
    is abandoned and haproxy reports it as if it could not be read,
    ``Could not open configuration file <f> : Success``, and exits.
    """


# A keyword parser receives the whole argument list (args[0] is the keyword,
# or for two-word keywords such as "timeout connect", args[0:2]). It raises
# ConfigError for an error at this line, or reports through ctx itself.
Parser = Callable[[Ctx, list[str]], None]

SECTIONS_PROXY = ("defaults", "frontend", "listen", "backend")
CAP_OF = {
    "defaults": Cap.DEF | Cap.LISTEN,
    "frontend": Cap.FE,
    "listen": Cap.LISTEN,
    "backend": Cap.BE,
}


@dataclass(frozen=True)
class Keyword:
    name: str  # "balance", "timeout connect", "option httpchk", "tcp-check connect"
    parser: Parser | None
    sections: tuple[str, ...]  # where it is allowed
    support: Support = Support.IMPLEMENTED
    planned_for: str = ""  # for PLANNED: the feature that will implement it
    doc: str = ""  # one line for docs/configuration.md
    reason: str = ""  # for NO_EFFECT: why it has no effect in herdsman (the notice says it)


@dataclass
class Table:
    """Keywords of one family (global, proxy, server, bind...)."""

    title: str
    rows: dict[str, Keyword] = field(default_factory=dict)

    def add(self, kw: Keyword) -> None:
        if kw.name in self.rows:
            raise ValueError(f"duplicate keyword {kw.name!r} in {self.title}")
        self.rows[kw.name] = kw

    def extend(self, kws: Iterable[Keyword]) -> None:
        for kw in kws:
            self.add(kw)

    def get(self, name: str) -> Keyword | None:
        return self.rows.get(name)

    def names(self, section: str | None = None) -> list[str]:
        return [k for k, v in self.rows.items() if section is None or section in v.sections]


_TYPE_WORD = {"frontend": "frontend", "backend": "backend", "listen": "proxy", "defaults": "proxy"}


def proxy_type_str(px: ProxyConfig) -> str:
    """``proxy_type_str()``: the word HAProxy uses for an existing section in messages."""
    return _TYPE_WORD[px.kind]


def warn_if_not_cap(ctx: Ctx, cap: Cap, what: str, hint: str = "") -> bool:
    """``warnifnotcap()``: warn (and tell the caller) when the section lacks ``cap``."""
    px = ctx.px
    if px.cap & cap:
        return False
    lack = {Cap.BE: "no backend", Cap.FE: "no frontend"}.get(cap, "neither frontend nor backend")
    ctx.warn(
        f"'{what}' ignored because {proxy_type_str(px)} '{px.name}' has {lack} capability.{hint}"
    )
    return True


def refuse(kw: Keyword) -> ConfigError:
    """The fatal error for a keyword herdsman does not act upon."""
    if kw.support is Support.PLANNED:
        what = f" ({kw.planned_for})" if kw.planned_for else ""
        return ConfigError(
            f"'{kw.name}' is not implemented in herdsman yet{what}; remove it or use haproxy."
        )
    return ConfigError(f"'{kw.name}' is not supported by herdsman; remove it or use haproxy.")


def no_effect(kw: Keyword) -> str:
    """The NOTICE text (after the location) for an accepted NO_EFFECT keyword."""
    return f"'{kw.name}' has no effect in herdsman ({kw.reason})."


def arg(args: list[str], i: int) -> str:
    """``args[i]``, or "" past the end: HAProxy's argument array is padded with empty words."""
    return args[i] if i < len(args) else ""


def too_many_args(args: list[str], maxarg: int, index: int = 0) -> str | None:
    """``too_many_args_idx()``: the text when a word follows the ``maxarg`` arguments
    of the keyword ``args[:index + 1]``, else None.

    Only that one position is looked at, so an empty word there (an undefined
    ``"${VAR[*]}"``) hides whatever follows it.
    """
    extra = arg(args, index + maxarg + 1)
    if not extra:
        return None
    return f"'{' '.join(args[: index + 1])}' cannot handle unexpected argument '{extra}'."


def parse_int(text: str) -> int:
    """C ``atol()``: leading blanks, optional sign, digits; anything else stops; "" is 0."""
    s = text.lstrip(" \t\n\r\f\v")
    i = 0
    if s[:1] in ("+", "-"):
        i = 1
    j = i
    while j < len(s) and s[j].isdigit():
        j += 1
    if j == i:
        return 0
    return int(s[:j])


def words_from(args: list[str], start: int) -> list[str]:
    """``args[start:]`` up to the first empty word, where HAProxy's ``while (*args[i])``
    loops stop: an undefined ``"${VAR[*]}"`` ends the line there."""
    out: list[str] = []
    for word in args[start:]:
        if not word:
            break
        out.append(word)
    return out


def parse_uint_strict(text: str) -> int | None:
    """A decimal unsigned integer with nothing else, or None."""
    if text.isdigit() and text.isascii():
        return int(text)
    return None
