"""Error pages: ``errorfile``, ``errorloc``/``errorloc302``/``errorloc303``,
``errorfiles`` and the ``http-errors`` sections (``src/http_htx.c``, 2.6).

Each page is loaded while its line is read: the status must be one of
HAProxy's (``http_err_codes[]``, the statuses of ``DEFAULT_PAGES``), the file
is read (at most ``tune.bufsize`` bytes, with a warning when it is cut) and
must convert as HAProxy converts it (``http/errorfile.py``). A file or a
redirection is loaded once per run, so a second ``errorfile`` naming the
same file says nothing (``http_error_messages``); a page that failed is
tried again.

A proxy keeps its lines in order (``HttpSettings.error_rules``, those of
its defaults section first); once every section is read, ``resolve()``
applies them as ``proxy_check_errors()`` does: an ``errorfiles`` line takes
the pages its section declares, and warns about a status it names that the
section lacks.
"""

from __future__ import annotations

import os

from herdsman.config.diag import ConfigError, Diagnostics, Err
from herdsman.config.errpages import DEFAULT_PAGES
from herdsman.config.keywords import Ctx, Keyword, Parser, Support, arg, words_from
from herdsman.config.model import ErrorRule, HttpErrors, ProxyConfig
from herdsman.config.sections import invalid_char
from herdsman.config.units import c_atoi
from herdsman.http.errorfile import convert

STATUSES = tuple(DEFAULT_PAGES)  # http_err_codes[], in HAProxy's order

_REDIRECT = {
    302: b"HTTP/1.1 302 Found\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: ",
    303: b"HTTP/1.1 303 See Other\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: ",
}


def _status(text: str) -> int:
    """``atol()`` into an int, which must be one of HAProxy's statuses."""
    status = c_atoi(text)
    if status not in STATUSES:
        raise ConfigError(f"status code '{status}' not handled.")
    return status


def read_errorfile(ctx: Ctx, path: str) -> bytes:
    """``http_load_errorfile()``: the file's content, converted or refused."""
    cache = ctx.config.error_messages
    if path in cache:
        return cache[path]
    bufsize = ctx.global_.tune_bufsize
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        raise ConfigError(f"error opening file '{path}'.") from None
    try:
        size = os.fstat(fd).st_size
        if size > bufsize:
            ctx.diag.warning(
                f"custom error message file '{path}' larger than {bufsize} bytes. Truncating."
            )
            size = bufsize
        try:
            data = os.read(fd, size)  # one read(), as HAProxy does
        except OSError:
            data = None
    finally:
        os.close(fd)
    if data is None or len(data) != size:
        raise ConfigError(f"error reading file '{path}'.")
    err = convert(data, bufsize, ctx.global_.tune_http_maxhdr)
    if err is not None:
        raise ConfigError(f"'{path}': {err}")
    cache[path] = data
    return data


def _redirect(ctx: Ctx, code: int, url: str) -> bytes:
    """``http_parse_errorloc()``: an empty 302 or 303 response to ``url``."""
    key = f"errorloc{code} {url}"
    cache = ctx.config.error_messages
    if key not in cache:
        message = _REDIRECT[code] + url.encode("utf-8", "surrogateescape") + b"\r\n\r\n"
        err = convert(message, ctx.global_.tune_bufsize, ctx.global_.tune_http_maxhdr)
        if err is not None:
            raise ConfigError(f"invalid error message: {err}")
        cache[key] = message
    return cache[key]


# -- proxy keywords ------------------------------------------------------------------


def _page(ctx: Ctx, args: list[str]) -> bytes:
    """The page of an ``errorfile`` or ``errorloc*`` line; errors without the keyword."""
    if args[0] == "errorfile":
        return read_errorfile(ctx, args[2])
    return _redirect(ctx, 303 if args[0] == "errorloc303" else 302, args[2])


def kw_errorpage(ctx: Ctx, args: list[str]) -> None:
    """``errorfile <status> <file>``, ``errorloc[302|303] <status> <url>``."""
    if not arg(args, 1) or not arg(args, 2):
        what = "file" if args[0] == "errorfile" else "url"
        raise ConfigError(f"{args[0]} : expects <status_code> and <{what}> as arguments.\n")
    try:
        status = _status(args[1])
        message = _page(ctx, args)
    except ConfigError as err:
        raise ConfigError(f"{args[0]} : {err.message}") from None
    ctx.px.http.error_rules.append(ErrorRule(ctx.loc, status, message))


def kw_errorfiles(ctx: Ctx, args: list[str]) -> None:
    if not arg(args, 1):
        raise ConfigError(f"{args[0]} : expects <name> as argument.")
    try:
        statuses = tuple(_status(word) for word in words_from(args, 2))
    except ConfigError as err:
        raise ConfigError(f"{args[0]} : {err.message}") from None
    ctx.px.http.error_rules.append(ErrorRule(ctx.loc, section=args[1], statuses=statuses))


# -- http-errors sections ------------------------------------------------------------


def start_section(ctx: Ctx, args: list[str]) -> HttpErrors | None:
    """An ``http-errors <name>`` line: the new section, or None without a name
    (an ERR_ABORT). A bad or repeated name is fatal, but the section exists."""
    loc = ctx.loc
    name = arg(args, 1)
    if not name:
        ctx.diag.alert(f"{loc.parsing}missing name for http-errors section.", Err.ALERT | Err.ABORT)
        return None
    bad = invalid_char(name)
    if bad is not None:
        ctx.alert(f"character '{bad}' is not permitted in '{args[0]}' name '{name}'.")
    for other in ctx.config.http_errors:
        if other.name == name:
            ctx.diag.alert(
                f"parsing [{loc.file}:{loc.line}]: http-errors section '{name}' already exists "
                f"(declared at {other.loc})."
            )
    section = HttpErrors(name, loc)
    ctx.config.http_errors.append(section)
    return section


def section_line(ctx: Ctx, args: list[str], section: HttpErrors) -> None:
    """A line inside an ``http-errors`` section: only ``errorfile`` is known."""
    if args[0] != "errorfile":
        ctx.alert(f"unknown keyword '{args[0]}' in 'http-errors' section")
        return
    if not arg(args, 1) or not arg(args, 2):
        ctx.alert(f"{args[0]}: expects <status_code> and <file> as arguments.")
        return
    try:
        status = _status(args[1])
        message = read_errorfile(ctx, args[2])
    except ConfigError as err:
        ctx.alert(f"{args[0]} : {err.message}")
        return
    section.replies[status] = message


# -- after parsing -----------------------------------------------------------------------


def resolve(sections: list[HttpErrors], px: ProxyConfig, diag: Diagnostics) -> None:
    """``proxy_check_errors()``: the proxy's pages from its lines, in order."""
    http = px.http
    for rule in http.error_rules:
        if rule.section is None:
            http.errors[rule.status] = rule.message
            continue
        section = next((s for s in sections if s.name == rule.section), None)
        if section is None:
            diag.alert(
                f"proxy '{px.name}': unknown http-errors section '{rule.section}' (at {rule.loc})."
            )
            continue
        for status in STATUSES:
            if rule.statuses and status not in rule.statuses:
                continue
            if status in section.replies:
                http.errors[status] = section.replies[status]
            elif rule.statuses:
                diag.warning(
                    f"config: proxy '{px.name}' : status '{status}' not declared in "
                    f"http-errors section '{section.name}' (at {rule.loc})."
                )


def _row(name: str, parser: Parser, doc: str) -> Keyword:
    sections = ("defaults", "frontend", "listen", "backend")
    return Keyword(name, parser, sections, Support.IMPLEMENTED, doc=doc)


KEYWORDS = [
    _row("errorfile", kw_errorpage, "`<status> <file>`: a raw HTTP response replacing HAProxy's"),
    _row("errorfiles", kw_errorfiles, "`<http-errors name> [<status>...]`: pages of a section"),
    _row("errorloc", kw_errorpage, "`<status> <url>`: a 302 redirection instead of the page"),
    _row("errorloc302", kw_errorpage, "`<status> <url>`: a 302 redirection instead of the page"),
    _row("errorloc303", kw_errorpage, "`<status> <url>`: a 303 redirection instead of the page"),
]

__all__ = ["KEYWORDS", "STATUSES", "resolve", "section_line", "start_section"]
