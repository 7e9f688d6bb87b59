"""Section dispatch: from configuration lines to the ``Config`` model.

This is ``readcfgfile()`` + ``cfg_parse_global()`` + ``cfg_parse_listen()``
reduced to tables: the lexer (``config/lexer.py``) yields active lines with
their location, this module tracks the current section, applies the ``no`` /
``default`` modifiers and hands each line to the keyword's parser. Errors are
collected in ``Diagnostics``; parsing goes on after an error, as HAProxy does,
so one run reports every mistake.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, MutableMapping

from herdsman.config import kw_bind, kw_global, kw_proxy, kw_server
from herdsman.config.diag import ConfigError, Diagnostics, Err, Location
from herdsman.config.keywords import (
    CAP_OF,
    SECTIONS_PROXY,
    Ctx,
    Keyword,
    Support,
    best_match,
    refuse,
)
from herdsman.config.lexer import ConfigFilesError, Line, config_files, read_config
from herdsman.config.model import Cap, Config, ProxyConfig

# HAProxy sections herdsman does not implement: the whole section is refused
# at its first line and its body skipped.
OTHER_SECTIONS = {
    "userlist": "user lists (HTTP authentication)",
    "peers": "peers (stick-table synchronisation)",
    "resolvers": "DNS resolvers",
    "mailers": "e-mail alerts",
    "program": "external programs",
    "http-errors": "HTTP error pages",
    "ring": "ring buffers",
    "cache": "HTTP caching",
    "log-forward": "syslog forwarding",
    "fcgi-app": "FastCGI applications",
    "dynamic-update": "51Degrees device detection",
}

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
        # The defaults a new proxy copies: the last anonymous/named defaults
        # section read so far, or HAProxy's built-in defaults.
        self.last_defaults = ProxyConfig(name="", kind="defaults", cap=Cap.DEF | Cap.LISTEN)
        self.skipping = False  # inside a refused section

    # -- input -----------------------------------------------------------------

    def feed_paths(self, paths: Iterable[str]) -> bool:
        """Read every file (directories expanded); False if a file is missing."""
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
                self.diag.alert(f"Cannot open configuration file {path} : {exc.strerror}")
                return False
            if not self.feed_text(text, path):
                return False
        return True

    def feed_text(self, text: str, filename: str) -> bool:
        """Parse one file's text. False when an error must stop reading (ERR_ABORT)."""
        before = self.diag.flags
        self.diag.flags = Err.NONE
        self.config.files.append(filename)
        for line in read_config(text, filename, self.env, self.diag):
            self.line(line)
            if self.diag.flags & Err.ABORT:
                break
        file_flags = self.diag.flags
        self.diag.flags |= before
        if file_flags & (Err.FATAL | Err.ABORT):
            self.diag.alert(f"Error(s) found in configuration file : {filename}")
        return not file_flags & Err.ABORT

    # -- lines -----------------------------------------------------------------

    def line(self, line: Line) -> None:
        args = list(line.args)
        loc = line.loc
        modifier = ""
        if args[0] in ("no", "default") and len(args) > 1:
            modifier = args.pop(0)
            if args[0] not in MODIFIABLE:
                self.diag.alert(
                    f"parsing [{loc.file}:{loc.line}]: negation/default currently supported "
                    "only for options, log, busy-polling, set-dumpable, strict-limits, "
                    "insecure-fork-wanted and numa-cpu-mapping."
                )
                return
        word = args[0]
        if word == "global" or word in SECTIONS_PROXY:
            self._start_section(loc, args)
            return
        if word in OTHER_SECTIONS:
            self.skipping = True
            self.section = word
            self.diag.alert(
                f"{loc.parsing}section '{word}' ({OTHER_SECTIONS[word]}) is not supported "
                "by herdsman; remove it or use haproxy."
            )
            return
        if self.skipping:
            return
        if self.section is None:
            self.diag.alert(
                f"parsing [{loc.file}:{loc.line}]: unknown keyword '{word}' out of section."
            )
            return
        ctx = Ctx(self.diag, loc, self.config, self.section, self.proxy, self.env)
        ctx.modifier = modifier
        if self.section == "global":
            if word.startswith("tune."):
                ctx.alert(f"'{word}' is not supported by herdsman; remove it or use haproxy.")
                return
            self._dispatch(ctx, args, kw_global.TABLE.rows, "global")
        else:
            self._proxy_line(ctx, args)

    def _start_section(self, loc: Location, args: list[str]) -> None:
        self.skipping = False
        word = args[0]
        self.section = word
        if word == "global":
            self.proxy = None
            return
        px = kw_proxy.start_proxy(self, loc, args)
        self.proxy = px

    def _proxy_line(self, ctx: Ctx, args: list[str]) -> None:
        if self.proxy is None:
            ctx.alert("'listen' or 'defaults' expected.")
            return
        word = args[0]
        self.proxy.keywords.setdefault(word, ctx.loc)
        if word in ("server", "default-server", "server-template"):
            kw_server.parse_server_line(ctx, args, self.last_defaults)
            return
        if word == "bind":
            kw_bind.parse_bind_line(ctx, args)
            return
        self._dispatch(ctx, args, kw_proxy.TABLE.rows, self.section or "")

    def _dispatch(self, ctx: Ctx, args: list[str], rows: dict[str, Keyword], section: str) -> None:
        word = args[0]
        kw = rows.get(word)
        if kw is None:
            candidates = [k.split()[0] for k, v in rows.items() if section in v.sections]
            best = best_match(word, dict.fromkeys(candidates))
            hint = f"; did you mean '{best}' maybe ?" if best else ""
            ctx.alert(f"unknown keyword '{word}' in '{section}' section{hint}")
            return
        if kw.parser is None:
            ctx.diag.report(ctx.loc.parsing, refuse(kw))
            return
        try:
            kw.parser(ctx, args)
        except ConfigError as err:
            ctx.diag.report(ctx.loc.parsing, err)
            return
        if kw.support is not Support.IMPLEMENTED:
            ctx.diag.report(ctx.loc.parsing, refuse(kw))

    # -- end -------------------------------------------------------------------

    def new_proxy(self, name: str, kind: str, loc: Location, defaults: ProxyConfig) -> ProxyConfig:
        """``parse_new_proxy()``: a copy of ``defaults`` with this section's identity."""
        px = copy.deepcopy(defaults)
        px.name = name
        px.kind = kind
        px.cap = CAP_OF[kind]
        px.loc = loc
        px.keywords = {}
        px.servers = []
        px.binds = []
        px.use_backend = []
        px.uuid = 0
        px.description = None
        return px


def parse(
    paths: Iterable[str], diag: Diagnostics, env: MutableMapping[str, str] | None = None
) -> Config | None:
    """Read and validate a configuration as ``haproxy -c`` does.

    Returns the model, or None when a fatal error was reported (the caller
    prints nothing more: ``diag`` already holds HAProxy's closing lines).
    """
    from herdsman.config.validate import validate

    parser = ConfigParser(diag, env)
    ok = parser.feed_paths(paths)
    if not ok or diag.fatal:
        diag.alert("Fatal errors found in configuration.")
        return None
    return validate(parser.config, diag)


def parse_text(
    text: str,
    diag: Diagnostics,
    filename: str = "haproxy.cfg",
    env: MutableMapping[str, str] | None = None,
) -> Config | None:
    """Like ``parse`` for an in-memory configuration (tests, embedding)."""
    from herdsman.config.validate import validate

    parser = ConfigParser(diag, {} if env is None else env)
    parser.feed_text(text, filename)
    if diag.fatal:
        diag.alert("Fatal errors found in configuration.")
        return None
    return validate(parser.config, diag)


__all__ = ["ConfigParser", "parse", "parse_text", "Cap"]
