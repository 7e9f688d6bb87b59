"""``option tcp-check``, ``option httpchk``, ``tcp-check ...`` and ``http-check ...``.

The parsers follow ``src/tcpcheck.c`` of HAProxy 2.6 (``proxy_parse_tcpcheck()``,
``proxy_parse_httpcheck()``, ``proxy_parse_httpchk_opt()``,
``proxy_parse_tcp_check_opt()``, ``tcpcheck_add_http_rule()``) and print their
messages as the 2.6.12 binary does; rule parsing proper is in
``check_rules.py``. ``finalize_checks()`` is ``check_proxy_tcpcheck()`` plus the
warnings of ``check_config_validity()`` about unused rules.

HAProxy keeps named rulesets: ``tcp-check``/``http-check`` lines of a section
go to the ruleset named after that section (``*tcp-check-<proxy>_<file>-<line>``),
and a check option selects a ruleset. A proxy copies its defaults' *selected*
ruleset and nothing else, which gives these rules (checked on the binary):

* ``px.checks`` is the selected ruleset (None: the built-in connect check);
  ``px.tcpcheck_rules`` / ``px.httpcheck_rules`` are the section's own ones,
  recognised by their name (a copy taken from the defaults is not "own").
* a ``tcp-check`` line while tcp-check is selected switches the selection to
  the section's own ruleset, so inherited rules are dropped; ``http-check``
  alike. ``option httpchk`` always selects the section's own HTTP ruleset: the
  request inherited from defaults is lost, and so is its request line when
  the section only adds ``http-check send hdr ...``.
* ``option tcp-check`` keeps an inherited tcp-check selection, else selects the
  section's own (possibly empty) ruleset: rules of a defaults section without
  ``option tcp-check`` are never used by its proxies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from herdsman.config.check_expect import parse_expect
from herdsman.config.check_rules import (
    SendSpec,
    http_header_list,
    merge_send,
    parse_comment,
    parse_connect,
    parse_send,
    parse_send_http,
    send_rule,
)
from herdsman.config.diag import ConfigError, Diagnostics
from herdsman.config.keywords import Ctx, Keyword, Support, too_many_args
from herdsman.config.model import Cap, ConnMode, ProxyConfig
from herdsman.defs.rules import (
    ActionRule,
    CommentRule,
    ConnectRule,
    ExpectKind,
    ExpectRule,
    HttpSendRule,
    Rule,
    Ruleset,
    RulesetKind,
)

SECTIONS = ("defaults", "frontend", "listen", "backend")
DISABLE_404 = "http-check disable-on-404"  # keys of ProxyConfig.options
SEND_STATE = "http-check send-state"
_ACTIONS = ("set-var(", "set-var-fmt(", "unset-var(")
_ACTION_LIST = "'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'"
_TYPE_WORD = {"frontend": "frontend", "backend": "backend", "listen": "proxy", "defaults": "proxy"}

ParsedRule = Rule | SendSpec


def warn_not_backend(ctx: Ctx, what: str) -> bool:
    """``warnifnotcap(PR_CAP_BE)``: warn, and go on, in a frontend."""
    px = ctx.px
    if px.cap & Cap.BE or px.kind == "defaults":  # a defaults section has both capabilities
        return False
    kind = _TYPE_WORD.get(px.kind, "proxy")
    ctx.warn(f"'{what}' ignored because {kind} '{px.name}' has no backend capability.")
    return True


def _null_warning(ctx: Ctx) -> None:
    # A keyword parser that returned "warning" without a message makes
    # HAProxy print its NULL message pointer, which glibc renders "(null)".
    ctx.warn("(null)")


# -- rulesets --------------------------------------------------------------------------


def _rs_name(px: ProxyConfig, what: str) -> str:
    owner = "defaults" if px.kind == "defaults" else px.name
    return f"*{what}-{owner}_{px.loc.file}-{px.loc.line}"


def _own(px: ProxyConfig, kind: RulesetKind, *, create: bool) -> Ruleset | None:
    """The section's own tcp-check or http-check ruleset (``find_tcpcheck_ruleset()``)."""
    http = kind is RulesetKind.HTTP
    name = _rs_name(px, "http-check" if http else "tcp-check")
    current = px.httpcheck_rules if http else px.tcpcheck_rules
    if isinstance(current, Ruleset) and current.name == name:
        return current
    if not create:
        return None
    rs = Ruleset(kind=kind, name=name)
    if http:
        px.httpcheck_rules = rs
    else:
        px.tcpcheck_rules = rs
    return rs


def _drop(px: ProxyConfig, kind: RulesetKind) -> None:
    """A rule that fails to parse frees its whole ruleset (``free_tcpcheck_ruleset()``):
    the section's next line of that kind starts a new one. Only later error
    messages can tell, since the error is fatal."""
    if kind is RulesetKind.HTTP:
        px.httpcheck_rules = None
    else:
        px.tcpcheck_rules = Ruleset()


def _selected(px: ProxyConfig, kind: RulesetKind) -> bool:
    return px.checks is not None and px.checks.kind is kind


def select_ruleset(px: ProxyConfig, rs: Ruleset) -> None:
    """A check option selects ``rs`` and clears both "unused" flags."""
    px.checks = rs
    for own in (_own(px, RulesetKind.TCP, create=False), _own(px, RulesetKind.HTTP, create=False)):
        if own is not None:
            own.unused = False


def _skippable(rule: Rule) -> bool:
    return isinstance(rule, CommentRule | ActionRule)


def _first(rs: Ruleset, start: int = 0) -> int:
    """``get_first_tcpcheck_rule()``/``get_next_...()``: -1 when there is none."""
    for i in range(start, len(rs.rules)):
        if not _skippable(rs.rules[i]):
            return i
    return -1


def _last(rs: Ruleset) -> int:
    for i in range(len(rs.rules) - 1, -1, -1):
        if not _skippable(rs.rules[i]):
            return i
    return -1


def _is_implicit_send(rule: Rule | None) -> bool:
    return isinstance(rule, HttpSendRule) and rule.from_option


def _append(rs: Ruleset, rule: Rule, index: int) -> None:
    rs.rules.append(rule)
    rs.indexes.append(index)


def _add_http_rule(rs: Ruleset, chk: ParsedRule, index: int) -> None:
    """``tcpcheck_add_http_rule()``: order checks and the implicit send merge."""
    if isinstance(chk, SendSpec) and chk.from_option:
        i = _first(rs)
        if i >= 0 and isinstance(rs.rules[i], ConnectRule):
            i = _first(rs, i + 1)
        old = rs.rules[i] if i >= 0 else None
        if not isinstance(old, HttpSendRule):
            rs.rules.insert(0, send_rule(chk))
            rs.indexes.insert(0, 0)
        elif old.from_option:
            del rs.rules[i], rs.indexes[i]
            rs.rules.insert(0, send_rule(chk))
            rs.indexes.insert(0, 0)
        else:
            merge_send(old, chk)
        return
    j = _last(rs)
    last = rs.rules[j] if j >= 0 else None
    step = index + 1
    if last is None or _is_implicit_send(last):
        pass
    elif not isinstance(last, ConnectRule) and isinstance(chk, SendSpec):
        raise ConfigError(
            f"unable to add http-check send rule at step {step} (missing connect rule)."
        )
    elif not isinstance(last, HttpSendRule | ExpectRule) and isinstance(chk, ExpectRule):
        raise ConfigError(
            f"unable to add http-check expect rule at step {step} (missing send rule)."
        )
    elif not isinstance(last, ExpectRule) and isinstance(chk, ConnectRule):
        raise ConfigError(
            f"unable to add http-check connect rule at step {step} (missing expect rule)."
        )
    if isinstance(chk, SendSpec):
        i = _first(rs)
        first = rs.rules[i] if i >= 0 else None
        if isinstance(first, HttpSendRule) and first.from_option:
            merge_send(first, chk)
            first.from_option = False
            index = rs.indexes[i]
            del rs.rules[i], rs.indexes[i]
            _append(rs, first, index)
            return
        _append(rs, send_rule(chk), index)
        return
    _append(rs, chk, index)


# -- keyword parsers -------------------------------------------------------------------


def kw_option_tcp_check(ctx: Ctx, args: list[str]) -> None:
    """``proxy_parse_tcp_check_opt()``."""
    warn_not_backend(ctx, "tcp-check")
    too_many = too_many_args(args, 0, 1)
    if too_many:
        raise ConfigError(too_many)
    px = ctx.px
    if _selected(px, RulesetKind.TCP):
        return  # a tcp-check ruleset is already selected (own or inherited)
    rs = _own(px, RulesetKind.TCP, create=True)
    assert rs is not None
    select_ruleset(px, rs)


def kw_option_httpchk(ctx: Ctx, args: list[str]) -> None:
    """``proxy_parse_httpchk_opt()`` and ``proxy_parse_httpchk_req()``."""
    warn_not_backend(ctx, "httpchk")
    too_many = too_many_args(args, 3, 1)
    if too_many:
        raise ConfigError(too_many)
    words = [*args[2:5], "", "", ""][:3]
    meth = uri = ver = None
    if words[0]:
        if words[1]:
            meth = words[0]
        else:
            uri = words[0]
    uri = words[1] or uri
    ver = words[2] or None
    headers_text = body = None
    if ver is not None:
        hdrs_at, body_at = ver.find("\r\n"), ver.find("\r\n\r\n")
        if body_at >= 0:
            body = ver[body_at + 4 :]
        if hdrs_at >= 0 and hdrs_at != body_at:
            headers_text = ver[hdrs_at + 2 : body_at if body_at >= 0 else len(ver)]
        cut = [at for at in (hdrs_at, body_at) if at >= 0]
        ver = ver[: min(cut)] if cut else ver
    try:
        headers = http_header_list(headers_text) if headers_text is not None else []
    except ConfigError as err:
        raise ConfigError(f"'option httpchk' : {err.message}.") from None
    if headers_text is not None or body is not None:
        ctx.diag.warning(
            f"parsing [{ctx.loc.file}:{ctx.loc.line}]: 'option httpchk' : hiding headers or body "
            "at the end of the version string is deprecated. Please, consider to use 'http-check "
            "send' directive instead."
        )
    spec = SendSpec(
        meth=meth, uri=uri, ver=ver, headers=headers, body=body or None, from_option=True
    )
    px = ctx.px
    rs = _own(px, RulesetKind.HTTP, create=True)
    assert rs is not None
    select_ruleset(px, rs)
    try:
        _add_http_rule(rs, spec, 0)
    except ConfigError as err:
        px.checks = None
        raise ConfigError(f"'option httpchk' : {err.message}.") from None


def _action_refusal(args: list[str]) -> ConfigError:
    return ConfigError(
        f"'{args[0]} {args[1]}' is not implemented in herdsman yet (check variables); "
        "remove it or use haproxy."
    )


def kw_tcp_check(ctx: Ctx, args: list[str]) -> None:
    """``proxy_parse_tcpcheck()``."""
    warned = warn_not_backend(ctx, "tcp-check")
    px = ctx.px
    sub = args[1] if len(args) > 1 else ""
    rs = _own(px, RulesetKind.TCP, create=True)
    assert rs is not None
    index = rs.indexes[-1] + 1 if rs.indexes else 0
    parse = _TCP_PARSERS.get(sub)
    if parse is None:
        if sub.startswith(_ACTIONS):
            raise _action_refusal(args)
        raise ConfigError(
            f"'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', "
            f"{_ACTION_LIST}. but got '{sub}'"
        )
    try:
        rule = parse(args, rs.rules, ctx.env)
    except ConfigError as err:
        _drop(px, RulesetKind.TCP)
        raise ConfigError(f"'tcp-check {sub}' : {err.message}.") from None
    _append(rs, rule, index)
    if _selected(px, RulesetKind.TCP):
        px.checks = rs
        rs.unused = False
    else:
        rs.unused = True
    if warned:
        _null_warning(ctx)


def kw_http_check(ctx: Ctx, args: list[str]) -> None:
    """``proxy_parse_httpcheck()``."""
    warned = warn_not_backend(ctx, "http-check")
    px = ctx.px
    sub = args[1] if len(args) > 1 else ""
    if sub in ("disable-on-404", "send-state"):
        px.options[DISABLE_404 if sub == "disable-on-404" else SEND_STATE] = True
        too_many = too_many_args(args, 1, 0)
        if too_many:
            raise ConfigError(too_many)
        if warned:
            _null_warning(ctx)
        return
    rs = _own(px, RulesetKind.HTTP, create=True)
    assert rs is not None
    index = 0
    if rs.rules and not _is_implicit_send(rs.rules[-1]):
        index = rs.indexes[-1] + 1
    parse = _HTTP_PARSERS.get(sub)
    if parse is None:
        if sub.startswith(_ACTIONS):
            raise _action_refusal(args)
        raise ConfigError(
            "'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', "
            f"'send', 'expect', {_ACTION_LIST}. but got '{sub}'"
        )
    try:
        rule = parse(args, rs.rules, ctx.env)
        if _selected(px, RulesetKind.HTTP):
            px.checks = rs
            rs.unused = False
            _add_http_rule(rs, rule, index)
        else:
            rs.unused = True
            _append(rs, send_rule(rule) if isinstance(rule, SendSpec) else rule, index)
    except ConfigError as err:
        _drop(px, RulesetKind.HTTP)
        raise ConfigError(f"'http-check {sub}' : {err.message}.") from None


_Env = Mapping[str, str]
_TCP_PARSERS: dict[str, Callable[[list[str], list[Rule], _Env], Rule]] = {
    "connect": parse_connect,
    "send": lambda args, _r, _e: parse_send(args),
    "send-binary": lambda args, _r, _e: parse_send(args),
    "send-lf": lambda args, _r, _e: parse_send(args),
    "send-binary-lf": lambda args, _r, _e: parse_send(args),
    "expect": lambda args, _r, _e: parse_expect(args, http=False),
    "comment": lambda args, _r, _e: parse_comment(args),
}
_HTTP_PARSERS: dict[str, Callable[[list[str], list[Rule], _Env], ParsedRule]] = {
    "connect": parse_connect,
    "send": lambda args, _r, _e: parse_send_http(args),
    "expect": lambda args, _r, _e: parse_expect(args, http=True),
    "comment": lambda args, _r, _e: parse_comment(args),
}


KEYWORDS: list[Keyword] = [
    Keyword(
        "option tcp-check",
        kw_option_tcp_check,
        SECTIONS,
        Support.IMPLEMENTED,
        doc="run the `tcp-check` rules as the health check (plain connect check without rules)",
    ),
    Keyword(
        "option httpchk",
        kw_option_httpchk,
        SECTIONS,
        Support.IMPLEMENTED,
        doc="HTTP health check: `[<method>] [<uri>] [<version>]`, completed by `http-check send`",
    ),
    Keyword(
        "tcp-check",
        kw_tcp_check,
        SECTIONS,
        Support.IMPLEMENTED,
        doc="`connect`, `send[-binary][-lf]`, `expect`, `comment` rules "
        "(set-var/unset-var: not yet; connect `via-socks4`: not yet)",
    ),
    Keyword(
        "http-check",
        kw_http_check,
        SECTIONS,
        Support.IMPLEMENTED,
        doc="`connect`, `send`, `expect`, `comment`, `disable-on-404`, `send-state` "
        "for `option httpchk`",
    ),
]


# -- post-parse ------------------------------------------------------------------------


def _propagate_comments(rules: list[Rule]) -> list[Rule]:
    """The comment pass of ``check_proxy_tcpcheck()``.

    A comment applies to the rules that follow it while they are of one kind
    (a connect takes it and stops it). Comment rules stay in the list: they
    count as steps, and the interpreter skips them.
    """
    out: list[Rule] = []
    comment: str | None = None
    prev: type | None = CommentRule
    for rule in rules:
        kind = HttpSendRule if isinstance(rule, HttpSendRule) else type(rule)
        if kind is not prev and prev is not CommentRule:
            comment = None
        prev = kind
        if isinstance(rule, CommentRule):
            comment = rule.text
        elif isinstance(rule, ActionRule):
            comment = None
        elif comment is not None and not rule.comment:
            if isinstance(rule, HttpSendRule):
                rule.comment = comment
            else:
                rule = dataclasses.replace(rule, comment=comment)
            if isinstance(rule, ConnectRule):
                comment = None
        elif isinstance(rule, ConnectRule):
            comment = None
        out.append(rule)
    return out


def _finalize_http(rs: Ruleset) -> None:
    i = _first(rs)
    if i >= 0 and _is_implicit_send(rs.rules[i]):
        j = _first(rs, i + 1)
        if j >= 0 and isinstance(rs.rules[j], ConnectRule):
            send, index = rs.rules.pop(i), rs.indexes.pop(i)
            rs.rules.insert(j, send)
            rs.indexes.insert(j, index)
    j = _last(rs)
    if j >= 0 and isinstance(rs.rules[j], HttpSendRule):
        implicit = ExpectRule(ExpectKind.HTTP_STATUS, ((200, 399),), "200-399")
        _append(rs, implicit, rs.indexes[j] + 1)


def finalize_checks(px: ProxyConfig, diag: Diagnostics) -> None:
    """Post-parse: the warnings of ``check_config_validity()``, then
    ``check_proxy_tcpcheck()`` on a backend's selected ruleset.

    Adds the implicit ``http-check expect status 200-399`` after a final send,
    moves the request of ``option httpchk`` after a first ``http-check
    connect``, puts an implicit ``connect default`` first when the rules do not
    start with a connect, and spreads comments onto the rules that follow.
    """
    kind = _TYPE_WORD.get(px.kind, "proxy")
    own_http = _own(px, RulesetKind.HTTP, create=False)
    own_tcp = _own(px, RulesetKind.TCP, create=False)
    if own_http is not None and own_http.unused:
        diag.warning(
            f"{kind} '{px.name}' uses http-check rules without 'option httpchk', "
            "so the rules are ignored."
        )
    if px.checks is not None and px.checks.kind is not RulesetKind.HTTP:
        for key, word in ((DISABLE_404, "disable-on-404"), (SEND_STATE, "send-state")):
            if px.options.get(key):
                diag.warning(
                    f"'{word}' will be ignored for {kind} '{px.name}' (requires 'option httpchk')."
                )
        px.options[DISABLE_404] = False
    if own_tcp is not None and own_tcp.unused:
        diag.warning(
            f"{kind} '{px.name}' uses tcp-check rules without 'option tcp-check', "
            "so the rules are ignored."
        )
    rs = px.checks
    if not px.cap & Cap.BE or rs is None:
        return
    if len(rs.indexes) != len(rs.rules):
        rs.indexes = list(range(len(rs.rules)))
        px.checks = rs
    if rs.kind is RulesetKind.HTTP:
        _finalize_http(rs)
        rs.disable_on_404 = bool(px.options.get(DISABLE_404))
        rs.send_state = bool(px.options.get(SEND_STATE))
        # the H1 mux applies the backend's connection mode to checks too
        rs.http_force_close = px.http.conn_mode is not ConnMode.KEEP_ALIVE
        rs.http_fake_keepalive = px.option("http-pretend-keepalive")
    i = _first(rs)
    if i < 0 or not isinstance(rs.rules[i], ConnectRule):
        rs.rules.insert(0, ConnectRule(default=True, implicit=True))
        rs.indexes.insert(0, 0)
    rs.rules = _propagate_comments(rs.rules)
