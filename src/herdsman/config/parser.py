"""Section dispatch: from configuration lines to the ``Config`` model.

This is ``readcfgfile()`` + ``cfg_parse_global()`` + ``cfg_parse_listen()``
reduced to tables: the reader (``config/reader.py``) yields active lines with
their location, this module applies the ``no`` / ``default`` modifiers, tracks
the current section and hands each line to the keyword's parser. Errors are
collected in ``Diagnostics``; parsing goes on after an error, as HAProxy does,
so one run reports every mistake.

How reading ends, as ``haproxy.c`` decides it after each file:

* a missing file: ``Cannot open configuration file/directory ...`` and nothing else;
* an error flagged ``ERR_ABORT`` (a section without a name, an unknown
  ``from`` target, ``.alert``...): the file is abandoned, ``Error(s) found in
  configuration file : <f>`` is printed and haproxy exits, without the final
  "Fatal errors found" line and without reading the next files;
* a keyword parser that "returned -1" (see ``BrokenFile``): ``Could not open
  configuration file <f> : Success``, and exit;
* otherwise a fatal error in a file adds ``Error(s) found in configuration
  file`` after it, and once every file was read ``Fatal errors found in
  configuration.`` ends the run before the post-parse checks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping

from herdsman.config import errfiles, known, kw_bind, kw_global, kw_proxy, kw_users, server_line
from herdsman.config.diag import ConfigError, Diagnostics, Err, Location
from herdsman.config.keywords import SECTIONS_PROXY, BrokenFile, Ctx, Keyword, Support, refuse
from herdsman.config.lexer import SECTION_KEYWORDS
from herdsman.config.model import Cap, Config, HttpErrors, ProxyConfig
from herdsman.config.reader import ConfigFilesError, Line, config_files, read_config
from herdsman.config.sections import Sections
from herdsman.defs.words import best_match
from herdsman.rules.userlist import Userlist

# HAProxy sections herdsman does not implement: the whole section is refused
# at its first line and its body skipped.
OTHER_SECTIONS = {
    "peers": "peers (stick-table synchronisation)",
    "resolvers": "DNS resolvers",
    "mailers": "e-mail alerts",
    "program": "external programs",
    "ring": "ring buffers",
    "cache": "HTTP caching",
    "log-forward": "syslog forwarding",
    "fcgi-app": "FastCGI applications",
    "namespace_list": "network namespace lists",
}
assert set(OTHER_SECTIONS) | {"global", "http-errors", "userlist", *SECTIONS_PROXY} == (
    SECTION_KEYWORDS
)

# Keywords that may follow "no" / "default" (readcfgfile()).
MODIFIABLE = {
    "option",
    "log",
    "busy-polling",
    "set-dumpable",
    "strict-limits",
    "insecure-fork-wanted",
    "numa-cpu-mapping",
}


def apply_modifier(args: list[str]) -> tuple[str, list[str]]:
    """readcfgfile()'s ``no``/``default`` prefix: (modifier, the words the section sees).

    Both shift the words left up to the first empty one. ``no`` leaves an
    empty word behind; ``default`` leaves the last word where it was, so
    ``default option tcpka`` reaches the option parser as ``option tcpka tcpka``.
    """
    if args[0] not in ("no", "default"):
        return "", args
    end = next((i for i in range(1, len(args)) if not args[i]), len(args))
    if args[0] == "no":
        shifted = args[1:end] + [""] + args[end + 1 :]
    else:
        shifted = args[1:end] + args[end - 1 : end] + args[end + 1 :] if end > 1 else args
    while len(shifted) > 1 and not shifted[-1]:
        shifted.pop()
    return args[0], shifted


class ConfigParser:
    """Feeds lines into a ``Config``; ``finish()`` returns it.

    ``env`` is the environment used for ``${VAR}`` expansion; the global
    section's ``setenv``/``unsetenv`` modify it, so it must be the mapping
    the lexer reads (``os.environ`` in the command-line tool).
    """

    def __init__(self, diag: Diagnostics, env: MutableMapping[str, str] | None = None) -> None:
        self.diag = diag
        self.env: MutableMapping[str, str] = os.environ if env is None else env
        self.config = Config()
        self.section: str | None = None
        self.proxy: ProxyConfig | None = None
        self.sections = Sections()
        self.skipping = False  # inside a refused section
        self.http_errors: HttpErrors | None = None  # the current http-errors section
        self.userlist: Userlist | None = None  # the list "user" and "group" lines fill
        self.broken = False  # a keyword "returned -1" (BrokenFile)
        self.aborted = False  # reading stopped on ERR_ABORT or BrokenFile

    # -- input -----------------------------------------------------------------

    def feed_paths(self, paths: Iterable[str]) -> bool:
        """Read every file (directories expanded); False when haproxy would exit at once.

        After False the alerts are already out, and nothing more is printed.
        """
        try:
            files = config_files(list(paths))
        except ConfigFilesError as exc:
            self.diag.alert(exc.message)
            return False
        for path in files:
            try:
                with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
                    text = f.read()
            except OSError as exc:
                self.diag.alert(f"Could not open configuration file {path} : {exc.strerror}")
                return False
            if not self.feed_text(text, path):
                return False
        return True

    def feed_text(self, text: str, filename: str) -> bool:
        """Parse one file's text. False when reading must stop (ERR_ABORT, BrokenFile)."""
        before = self.diag.flags
        self.diag.flags = Err.NONE
        self.config.files.append(filename)
        for line in read_config(text, filename, self.env, self.diag):
            self.line(line)
            if self.broken:
                self.diag.flags |= Err.ABORT
                break
        file_flags = self.diag.flags
        self.diag.flags |= before
        if self.broken:
            self.diag.alert(f"Could not open configuration file {filename} : Success")
            self.aborted = True
            return False
        if file_flags & (Err.FATAL | Err.ABORT):
            self.diag.alert(f"Error(s) found in configuration file : {filename}")
        if file_flags & Err.ABORT:
            self.aborted = True
            return False
        return True

    # -- lines -----------------------------------------------------------------

    def line(self, line: Line) -> None:
        loc = line.loc
        modifier, args = apply_modifier(list(line.args))
        word = args[0]
        if self.skipping and word not in SECTION_KEYWORDS:
            return
        if modifier and word not in MODIFIABLE:
            # readcfgfile() complains, then hands the line over all the same.
            self.diag.alert(
                f"parsing [{loc.file}:{loc.line}]: negation/default currently supported "
                "only for options, log, busy-polling, set-dumpable, strict-limits, "
                "insecure-fork-wanted and numa-cpu-mapping."
            )
        if word == "global" or word in SECTIONS_PROXY:
            self._start_section(loc, args)
            return
        if word == "http-errors":
            self.skipping = False
            self.section, self.proxy = word, None
            ctx = Ctx(self.diag, loc, self.config, word, env=self.env)
            self.http_errors = errfiles.start_section(ctx, args)
            return
        if word == "userlist":
            self.skipping = False
            self.section, self.proxy = word, None
            ctx = Ctx(self.diag, loc, self.config, word, env=self.env)
            try:
                kw_users.start_section(ctx, args)
            except ConfigError as err:
                self.diag.report(loc.parsing, err)
            # the lines go to the last list created (cfg_parse_users())
            self.userlist = self.config.userlists[-1] if self.config.userlists else None
            return
        if word in OTHER_SECTIONS:
            self.skipping = True
            self.section = word
            self.diag.alert(
                f"{loc.parsing}section '{word}' ({OTHER_SECTIONS[word]}) is not supported "
                "by herdsman; remove it or use haproxy."
            )
            return
        if self.section is None:
            self.diag.alert(
                f"parsing [{loc.file}:{loc.line}]: unknown keyword '{word}' out of section."
            )
            return
        ctx = Ctx(self.diag, loc, self.config, self.section, self.proxy, self.env)
        ctx.modifier = modifier
        ctx.defaults = self.sections.curr_defaults
        try:
            if self.section == "global":
                self._global_line(ctx, args)
            elif self.section == "userlist":
                try:
                    kw_users.section_line(ctx, args, self.userlist)
                except ConfigError as err:
                    self.diag.report(loc.parsing, err)
            elif self.section == "http-errors":
                if self.http_errors is not None:
                    errfiles.section_line(ctx, args, self.http_errors)
            else:
                self._proxy_line(ctx, args)
        except BrokenFile:
            self.broken = True

    def _start_section(self, loc: Location, args: list[str]) -> None:
        self.skipping = False
        word = args[0]
        self.section = word
        if word == "global":
            self.proxy = None
            if len(args) > 1:
                self.diag.alert(
                    f"{loc.parsing}'global' cannot handle unexpected argument '{args[1]}'."
                )
            return
        self.proxy = self.sections.start(self.diag, self.config, loc, args)

    def _global_line(self, ctx: Ctx, args: list[str]) -> None:
        word = args[0]
        if word in known.REMOVED_GLOBAL:
            ctx.diag.alert(
                f"parsing [{ctx.loc.file}:{ctx.loc.line}]: {known.REMOVED_GLOBAL[word] % word}"
            )
            return
        self.config.global_.keywords[word] = ctx.loc  # the last occurrence: the value in force
        self._dispatch(ctx, args, kw_global.TABLE.rows, known.GLOBAL_CANDIDATES)

    def _proxy_line(self, ctx: Ctx, args: list[str]) -> None:
        if self.proxy is None:
            ctx.alert("'listen' or 'defaults' expected.")
            return
        word = args[0]
        self.proxy.keywords.setdefault(word, ctx.loc)
        if word in ("server", "default-server", "server-template"):
            server_line.parse_server_line(ctx, args)
            return
        if word == "bind":
            kw_bind.parse_bind_line(ctx, args)
            return
        if word in known.REMOVED_PROXY:
            text = known.REMOVED_PROXY[word] % word
            if word in known.REMOVED_PROXY_TIGHT:
                ctx.diag.alert(f"parsing [{ctx.loc.file}:{ctx.loc.line}]: {text}")
            else:
                ctx.alert(text)
            return
        self._dispatch(ctx, args, kw_proxy.TABLE.rows, known.LISTEN_CANDIDATES)

    def _dispatch(
        self, ctx: Ctx, args: list[str], rows: dict[str, Keyword], candidates: Iterable[str]
    ) -> None:
        word = args[0]
        kw = rows.get(word)
        if kw is None:
            best = best_match(word, candidates)
            hint = f"; did you mean '{best}' maybe ?" if best else ""
            ctx.alert(f"unknown keyword '{word}' in '{ctx.section}' section{hint}")
            return
        if kw.parser is None:
            ctx.diag.report(ctx.loc.parsing, refuse(kw))
            return
        try:
            kw.parser(ctx, args)
        except ConfigError as err:
            ctx.diag.report(ctx.loc.parsing, err)
            return
        if kw.support in (Support.PLANNED, Support.UNSUPPORTED):
            ctx.diag.report(ctx.loc.parsing, refuse(kw))

    # -- end -------------------------------------------------------------------


def parse(
    paths: Iterable[str],
    diag: Diagnostics,
    env: MutableMapping[str, str] | None = None,
    dont_fail_resolve: bool = False,
) -> Config | None:
    """Read and validate a configuration as ``haproxy -c`` does.

    Returns the model, or None after a fatal error; ``diag`` then holds every
    message haproxy would print, its closing lines included. ``env`` (default
    ``os.environ``) serves ``${VAR}`` and receives ``setenv`` and
    ``HAPROXY_CFGFILES``. ``dont_fail_resolve`` is ``-dr``.
    """
    from herdsman.config.validate import validate

    parser = ConfigParser(diag, env)
    if not parser.feed_paths(paths):
        return None
    if diag.fatal:
        diag.alert("Fatal errors found in configuration.")
        return None
    parser.env["HAPROXY_CFGFILES"] = ";".join(parser.config.files)
    return validate(parser.config, diag, dont_fail_resolve)


def parse_text(
    text: str,
    diag: Diagnostics,
    filename: str = "haproxy.cfg",
    env: MutableMapping[str, str] | None = None,
) -> Config | None:
    """Like ``parse`` for an in-memory configuration (tests, embedding); ``env`` defaults to {}."""
    from herdsman.config.validate import validate

    parser = ConfigParser(diag, {} if env is None else env)
    if not parser.feed_text(text, filename):
        return None
    if diag.fatal:
        diag.alert("Fatal errors found in configuration.")
        return None
    return validate(parser.config, diag)


__all__ = ["ConfigParser", "apply_modifier", "parse", "parse_text", "Cap"]
