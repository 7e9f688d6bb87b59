"""The stats page's process block, as 2.6.12 writes it (``stats.c
stats_dump_html_info()``): the process facts, the legend of the row colours,
the display options and links, and the banner of an admin form's result.
"""

from __future__ import annotations

from dataclasses import dataclass

from herdsman.admin.page.html import View

PRODUCT_URL = "http://www.haproxy.org/"
# the st=<code> of a redirect after a POST, and its banner
STATUS = {
    "DONE": ("active_up", "Action processed successfully."),
    "NONE": ("active_going_down", "Nothing has changed."),
    "PART": (
        "active_going_down",
        "Action partially processed.<br>Some server names are probably unknown or ambiguous "
        "(duplicated names in the backend).",
    ),
    "ERRP": (
        "active_down",
        "Action not processed because of invalid parameters.<ul><li>The action is maybe "
        "unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name "
        "is probably unknown or ambiguous (duplicated names).</li><li>Some server names are "
        "probably unknown or ambiguous (duplicated names in the backend).</li></ul>",
    ),
    "EXCD": (
        "active_down",
        "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry "
        "with less servers at a time.</b>",
    ),
    "DENY": ("active_down", "<b>Action denied.</b>"),
    "IVAL": (
        "active_down",
        "<b>Invalid requests (unsupported method or chunked encoded request).</b>",
    ),
    "UNKN": ("active_no_check", "Unexpected result."),
}


@dataclass
class Process:
    """The process facts of the info block."""

    version: str  # "" with stats hide-version
    release: str
    pid: int
    node: str  # "" without show-node
    desc: str  # "" without show-desc
    nbthread: int
    uptime_s: int
    ulimit_n: int
    maxsock: int
    maxconn: int
    actconn: int
    conn_rate: int
    tasks: tuple[int, int]


def _links(view: View) -> tuple[str, str]:
    scope = f"?scope={view.scope}" if view.scope else ""
    keep = (";up" if view.hide_down else "") + (";norefresh" if view.no_refresh else "")
    return scope, keep


def info(p: Process, view: View) -> str:
    """``stats_dump_html_info()``: the process block, the legend, the display options."""
    up = p.uptime_s
    version = f" version {p.version}, released {p.release}" if p.version else ""
    out = [
        f'<body><h1><a href="{PRODUCT_URL}" style="text-decoration: none;">HAProxy{version}'
        f"</a></h1>\n<h2>Statistics Report for pid {p.pid}"
        f"{' on ' + p.node if p.node else ''}{': ' + p.desc if p.desc else ''}</h2>\n"
        '<hr width="100%" class="hr">\n<h3>&gt; General process information</h3>\n'
        '<table border=0><tr><td align="left" nowrap width="1%">\n'
        f"<p><b>pid = </b> {p.pid} (process #1, nbproc = 1, nbthread = {p.nbthread})<br>\n"
        f"<b>uptime = </b> {up // 86400}d {up % 86400 // 3600}h{up % 3600 // 60:02d}m"
        f"{up % 60:02d}s<br>\n"
        f"<b>system limits:</b> memmax = unlimited; ulimit-n = {p.ulimit_n}<br>\n"
        f"<b>maxsock = </b> {p.maxsock}; <b>maxconn = </b> {p.maxconn}; "
        "<b>maxpipes = </b> 0<br>\n"
        f"current conns = {p.actconn}; current pipes = 0/0; conn rate = {p.conn_rate}/sec; "
        "bit rate = 0.000 kbps<br>\n"
        f"Running tasks: {p.tasks[0]}/{p.tasks[1]}; idle = 100 %<br>\n"
        '</td><td align="center" nowrap>\n<table class="lgd"><tr>\n'
        '<td class="active_up">&nbsp;</td><td class="noborder">active UP </td>'
        '<td class="backup_up">&nbsp;</td><td class="noborder">backup UP </td></tr><tr>\n'
        '<td class="active_going_down"></td><td class="noborder">active UP, going down </td>'
        '<td class="backup_going_down"></td><td class="noborder">backup UP, going down </td>'
        "</tr><tr>\n"
        '<td class="active_going_up"></td><td class="noborder">active DOWN, going up </td>'
        '<td class="backup_going_up"></td><td class="noborder">backup DOWN, going up </td>'
        "</tr><tr>\n"
        '<td class="active_down"></td><td class="noborder">active or backup DOWN &nbsp;</td>'
        '<td class="active_no_check"></td><td class="noborder">not checked </td></tr><tr>\n'
        '<td class="maintain"></td><td class="noborder" colspan="3">active or backup DOWN for '
        "maintenance (MAINT) &nbsp;</td></tr><tr>\n"
        '<td class="active_draining"></td><td class="noborder" colspan="3">active or backup '
        "SOFT STOPPED for maintenance &nbsp;</td></tr></table>\n"
        'Note: "NOLB"/"DRAIN" = UP with load-balancing disabled.</td>'
        '<td align="left" valign="top" nowrap width="1%"><b>Display option:</b>'
        '<ul style="margin-top: 0.25em;">'
        f'<li><form method="GET">Scope : <input value="{view.scope}" name="scope" size="8" '
        'maxlength="20" tabindex="1"/></form>\n'
    ]
    scope, keep = _links(view)
    uri = view.uri
    norefresh = ";norefresh" if view.no_refresh else ""
    up_flag = ";up" if view.hide_down else ""
    if view.hide_down:
        out.append(f'<li><a href="{uri}{norefresh}{scope}">Show all servers</a><br>\n')
    else:
        out.append(f"<li><a href=\"{uri};up{norefresh}{scope}\">Hide 'DOWN' servers</a><br>\n")
    if view.refresh > 0:
        if view.no_refresh:
            out.append(f'<li><a href="{uri}{up_flag}{scope}">Enable refresh</a><br>\n')
        else:
            out.append(f'<li><a href="{uri}{up_flag};norefresh{scope}">Disable refresh</a><br>\n')
    out.append(f'<li><a href="{uri}{keep}{scope}">Refresh now</a><br>\n')
    export = ";norefresh" if view.refresh > 0 else ""
    out.append(f'<li><a href="{uri};csv{export}{scope}">CSV export</a><br>\n')
    out.append(
        f'<li><a href="{uri};json{export}{scope}">JSON export</a> '
        f'(<a href="{uri};json-schema">schema</a>)<br>\n'
    )
    out.append(
        '</ul></td><td align="left" valign="top" nowrap width="1%"><b>External resources:</b>'
        '<ul style="margin-top: 0.25em;">\n'
        f'<li><a href="{PRODUCT_URL}">Primary site</a><br>\n'
        f'<li><a href="{PRODUCT_URL}#down">Updates (v2.6)</a><br>\n'
        f'<li><a href="{PRODUCT_URL}#docs">Online manual</a><br>\n'
        "</ul></td></tr></table>\n"
    )
    if view.st_code:
        cls, text = STATUS.get(view.st_code, STATUS["UNKN"])
        out.append(
            f'<p><div class={cls}><a class=lfsb href="{uri}{keep}{scope}" '
            f'title="Remove this message">[X]</a> {text}</div>\n<p>\n'
        )
    return "".join(out)
