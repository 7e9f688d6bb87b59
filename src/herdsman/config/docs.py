"""``docs/configuration.md`` generated from the keyword tables, and ``-dK`` output.

    python -m herdsman.config.docs > docs/configuration.md

A test regenerates the file and compares, so the document always says what
the parser does.
"""

from __future__ import annotations

from herdsman.config import kw_bind, kw_global, kw_proxy, kw_server, options
from herdsman.config.keywords import Keyword, Support

_STATUS = {
    Support.IMPLEMENTED: "implemented",
    Support.PLANNED: "parsed, not implemented yet",
    Support.UNSUPPORTED: "not supported",
    Support.NO_EFFECT: "accepted, no effect",
}

HEADER = """\
# Configuration keywords

herdsman reads HAProxy 2.6 configuration files. This list is generated from the
parser's keyword tables (`python -m herdsman.config.docs`), so it is exactly
what herdsman does with each keyword:

* **implemented**: behaves as HAProxy 2.6 documents it;
* **parsed, not implemented yet**: the arguments are checked, then start-up
  fails with `'<keyword>' is not implemented in herdsman yet (<feature>)`,
  naming the feature that will implement it;
* **not supported**: start-up fails with `'<keyword>' is not supported by
  herdsman`;
* **accepted, no effect**: a tuning knob of a mechanism herdsman does not have;
  its value is checked as HAProxy checks it, then start-up goes on with one
  notice per line, `'<keyword>' has no effect in herdsman (<reason>).`

herdsman never ignores a keyword silently. Unknown keywords are reported with
HAProxy's message and its "did you mean" suggestion.

Sections `global`, `defaults` (anonymous or named, with `from`), `frontend`,
`backend`, `listen` and `http-errors` are supported; {refused_sections} are refused. The conditional blocks `.if/.elif/.else/.endif` with
`defined()`, `feature()`, `streq()`, `strneq()`, `version_atleast()` and
`version_before()`, and the `.diag/.notice/.warning/.alert` directives work as
in HAProxy 2.6; versions compare against HAProxy {compat}, the version whose
behaviour herdsman reproduces.
"""


def _rows(rows: list[Keyword]) -> str:
    out = ["| keyword | sections | status | notes |", "|---|---|---|---|"]
    for kw in sorted(rows, key=lambda k: k.name):
        note = kw.doc or (kw.planned_for and f"planned: {kw.planned_for}") or kw.reason
        out.append(f"| `{kw.name}` | {', '.join(kw.sections)} | {_STATUS[kw.support]} | {note} |")
    return "\n".join(out) + "\n"


def _server_rows() -> str:
    out = ["| keyword | default-server | status | notes |", "|---|---|---|---|"]
    for row in sorted(kw_server.KEYWORDS.values(), key=lambda r: r.name):
        note = row.doc or (row.planned_for and f"planned: {row.planned_for}") or row.reason
        ds = "yes" if row.default_ok else "no"
        out.append(f"| `{row.name}` | {ds} | {_STATUS[row.support]} | {note} |")
    return "\n".join(out) + "\n"


def _bind_rows() -> str:
    out = ["| keyword | status | notes |", "|---|---|---|"]
    for row in sorted(kw_bind.KEYWORDS.values(), key=lambda r: r.name):
        note = row.doc or (row.planned_for and f"planned: {row.planned_for}") or ""
        out.append(f"| `{row.name}` | {_STATUS[row.support]} | {note} |")
    return "\n".join(out) + "\n"


def generate() -> str:
    from herdsman.version import HAPROXY_COMPAT

    proxy_rows = [kw for kw in kw_proxy.TABLE.rows.values() if kw.name != "option"]
    from herdsman.config.parser import OTHER_SECTIONS

    names = [f"`{name}`" for name in OTHER_SECTIONS]
    refused_sections = ", ".join(names[:-1]) + " and " + names[-1]
    parts = [
        HEADER.format(compat=HAPROXY_COMPAT, refused_sections=refused_sections),
        "\n## `global` section\n\n",
        _rows(list(kw_global.TABLE.rows.values())),
        "\nEvery `tune.*` keyword of HAProxy 2.6 is parsed with HAProxy's syntax, limits and "
        "messages. `tune.bufsize` and `tune.http.maxhdr` must leave room for HAProxy's default "
        "error pages, as in HAProxy, and `tune.maxrewrite` is capped to half the buffer. "
        "Directives HAProxy itself no longer accepts (`tune.chksize`) are refused with "
        "HAProxy's message.\n",
        "\n## Proxy sections (`defaults`, `frontend`, `listen`, `backend`)\n\n",
        _rows(proxy_rows),
        "\nDirectives removed from HAProxy (`reqadd`, `rspdel`, `block`, `appsession`, "
        "`redispatch` as a keyword, `grace` in a proxy, `monitor-net`...) are refused with "
        "HAProxy 2.6's own message.\n",
        "\n## `option` keywords\n\n",
        "`no option <name>` turns off a boolean option (herdsman's behaviour anyway when the "
        "option is not implemented); `default option <name>` is refused as HAProxy 2.6.12 "
        "refuses it.\n\n",
        _rows(options.option_rows()),
        "\n## `server`, `default-server` and `server-template` keywords\n\n",
        "Address forms: IPv4, IPv6 (`[v6]`, `v6:port`), host names (resolved at start-up "
        "per `init-addr`), `ipv4@`, `ipv6@`, `ip@`, `tcp@`, `unix@`, `abns@`, `sockpair@`; a "
        "missing port, `:0`, `+N` and `-N` follow the client's destination port. `fd@` and "
        "datagram forms are refused with HAProxy's messages.\n\n",
        _server_rows(),
        "\n## `bind` keywords\n\n",
        "Addresses: IPv4, IPv6, `*`, port ranges, comma-separated lists, `unix@`/paths, "
        "`abns@`, `fd@<n>` (an inherited listening descriptor).\n\n",
        _bind_rows(),
    ]
    return "".join(parts)


def dump_keywords(classes: str) -> str:
    """``-dK``: list the keywords herdsman knows, by class."""
    if classes in ("", "help"):
        return "# List of supported keyword classes:\n  all: list all keywords\n  cfg: configuration keywords\n  srv: server keywords\n  bind: bind keywords\n"
    wanted = set(classes.split(",")) if classes != "all" else {"cfg", "srv", "bind"}
    out: list[str] = []
    if "cfg" in wanted:
        out.append("# List of registered configuration keywords:\n")
        out.append("global\n" + "".join(f"\t{k}\n" for k in sorted(kw_global.TABLE.rows)))
        out.append("listen\n" + "".join(f"\t{k}\n" for k in sorted(kw_proxy.TABLE.rows)))
    if "srv" in wanted:
        out.append("# List of registered server keywords:\n")
        out.append("".join(f"\t{k}\n" for k in sorted(kw_server.KEYWORDS)))
    if "bind" in wanted:
        out.append("# List of registered bind keywords:\n")
        out.append("".join(f"\t{k}\n" for k in sorted(kw_bind.KEYWORDS)))
    return "".join(out)


if __name__ == "__main__":
    import sys

    sys.stdout.write(generate())
