"""The stats page's HTML, as 2.6.12 writes it (``stats.c``: ``stats_dump_html_px_hdr()``,
``stats_dump_fields_html()``, ``stats_dump_html_px_end()``; the process block on
top, ``stats_dump_html_info()``, is ``info.py``'s).

The rows are ``show stat``'s (``admin/api/stat.py``): the page is the same
fields as the CSV export, laid out in HAProxy's table, with its number
grouping (``ulltoh()``: ``<span class="rls">`` before each group of three
digits), its durations (``human_time()``) and the class of each server row,
which gives its colour: ``active_up``, ``backup_going_down``, ``maintain``...
(the style sheet is ``style.py``).

herdsman's extension: each server's name cell ends with a strip of coloured
cells, its last health-check results (``admin/history.py``), oldest first,
with the result in each cell's title. The strip is a ``<span class=hist>``:
a tool that reads HAProxy's page finds every cell of HAProxy's where it is.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from herdsman.admin.api.fields import Row
from herdsman.admin.api.names import STAT_FIELDS
from herdsman.config.model import Cap, ProxyConfig

F = {name: pos for pos, (name, _) in enumerate(STAT_FIELDS)}
TYPE_FE, TYPE_BE, TYPE_SV = 0, 1, 2
ACTIONS = (
    ("", ""),
    ("ready", "Set state to READY"),
    ("drain", "Set state to DRAIN"),
    ("maint", "Set state to MAINT"),
    ("dhlth", "Health: disable checks"),
    ("ehlth", "Health: enable checks"),
    ("hrunn", "Health: force UP"),
    ("hnolb", "Health: force NOLB"),
    ("hdown", "Health: force DOWN"),
    ("dagent", "Agent: disable checks"),
    ("eagent", "Agent: enable checks"),
    ("arunn", "Agent: force UP"),
    ("adown", "Agent: force DOWN"),
    ("shutdown", "Kill Sessions"),
)


@dataclass
class View:
    """What one rendering of the page needs besides the rows (``ctx->flags`` and the
    ``uri_auth``): the URI prefix, the query's scope, the display flags."""

    uri: str
    admin: bool = False
    legends: bool = False
    hide_down: bool = False
    no_refresh: bool = False
    refresh: int = 0
    scope: str = ""
    st_code: str = ""


def u2h(n: int) -> str:
    """``ulltoh()``: digits grouped by three for HTML, the digit before each group
    in a ``rls`` span (letter spacing)."""
    out = ""
    digit = 0
    while True:
        piece = str(n % 10)
        n //= 10
        if digit == 3:
            piece = '<span class="rls">' + piece + "</span>"
        out = piece + out
        digit = 1 if digit == 3 else digit + 1
        if not n:
            return out


def lim(n: int, alt: str = "") -> str:
    """``LIM2A()``: the number, or ``alt`` for 0 (no limit)."""
    return str(n) if n else alt


def human_time(t: int) -> str:
    """``human_time(t, 1)``: the two most significant units of ``t`` seconds."""
    if t < 0:
        return "?"
    out = ""
    count = 2
    if t >= 86400:
        out += f"{t // 86400}d"
        count -= 1
    if count and t % 86400 // 3600:
        out += f"{t % 86400 // 3600}h"
        count -= 1
    if count and t % 3600 // 60:
        out += f"{t % 3600 // 60}m"
        count -= 1
    if (count and t % 60) or not t:
        out += f"{t % 60}s"
    return out


class _R:
    """A row read as ``stats_dump_fields_html()`` reads its fields: an absent
    field is 0 or "" (``memset()`` before the fill)."""

    __slots__ = ("row",)

    def __init__(self, row: Row) -> None:
        self.row = row

    def n(self, name: str) -> int:
        v = self.row.get(F[name])
        return v[2] if v is not None and isinstance(v[2], int) else 0

    def s(self, name: str) -> str:
        v = self.row.get(F[name])
        return v[2] if v is not None and isinstance(v[2], str) else ""

    def has(self, name: str) -> bool:
        return F[name] in self.row

    def h(self, name: str) -> str:
        return u2h(self.n(name))


def _pct(part: int, whole: int) -> int:
    return 100 * part // whole if whole else 0


def _legend_addr(r: _R) -> str:
    addr = r.s("addr")
    if addr[:1].isdigit():
        return f"IPv4: {addr}, "
    if addr.startswith("["):
        return f"IPv6: {addr}, "
    return f"{addr}, " if addr else ""


def _http_tips_fe(r: _R) -> str:
    return (
        f"<tr><th>Cum. HTTP requests:</th><td>{r.h('req_tot')}</td></tr>"
        f"<tr><th>- HTTP 1xx responses:</th><td>{r.h('hrsp_1xx')}</td></tr>"
        f"<tr><th>- HTTP 2xx responses:</th><td>{r.h('hrsp_2xx')}</td></tr>"
        f"<tr><th>&nbsp;&nbsp;Compressed 2xx:</th><td>{r.h('comp_rsp')}</td>"
        f"<td>({_pct(r.n('comp_rsp'), r.n('hrsp_2xx'))}%)</td></tr>"
        f"<tr><th>- HTTP 3xx responses:</th><td>{r.h('hrsp_3xx')}</td></tr>"
        f"<tr><th>- HTTP 4xx responses:</th><td>{r.h('hrsp_4xx')}</td></tr>"
        f"<tr><th>- HTTP 5xx responses:</th><td>{r.h('hrsp_5xx')}</td></tr>"
        f"<tr><th>- other responses:</th><td>{r.h('hrsp_other')}</td></tr>"
    )


def _bytes_out(r: _R) -> str:
    """Bytes out and the compression tips (``<u>`` only when compression was seen)."""
    cin, cout, byp, bout = r.n("comp_in"), r.n("comp_out"), r.n("comp_byp"), r.n("bout")
    u = cin or byp
    return (
        f"<td>{'<u>' if u else ''}{r.h('bout')}<div class=tips><table class=det>"
        f"<tr><th>Response bytes in:</th><td>{r.h('bout')}</td></tr>"
        f"<tr><th>Compression in:</th><td>{r.h('comp_in')}</td></tr>"
        f"<tr><th>Compression out:</th><td>{r.h('comp_out')}</td><td>({_pct(cout, cin)}%)</td></tr>"
        f"<tr><th>Compression bypass:</th><td>{r.h('comp_byp')}</td></tr>"
        f"<tr><th>Total bytes saved:</th><td>{u2h(cin - cout)}</td>"
        f"<td>({(cin - cout) * 100 // bout if bout else 0}%)</td></tr>"
        f"</table></div>{'</u>' if u else ''}</td>"
    )


def frontend_html(r: _R, admin: bool) -> str:
    px = r.s("pxname")
    http = r.s("mode") == "http"
    out = ['<tr class="frontend">', "<td></td>" if admin else ""]
    out.append(
        f'<td class=ac><a name="{px}/Frontend"></a><a class=lfsb href="#{px}/Frontend">'
        "Frontend</a></td><td colspan=3></td>"
    )
    out.append(
        f"<td><u>{r.h('rate')}<div class=tips><table class=det>"
        f"<tr><th>Current connection rate:</th><td>{r.h('conn_rate')}/s</td></tr>"
        f"<tr><th>Current session rate:</th><td>{r.h('rate')}/s</td></tr>"
    )
    if http:
        out.append(f"<tr><th>Current request rate:</th><td>{r.h('req_rate')}/s</td></tr>")
    out.append(
        f"</table></div></u></td><td><u>{r.h('rate_max')}<div class=tips><table class=det>"
        f"<tr><th>Max connection rate:</th><td>{r.h('conn_rate_max')}/s</td></tr>"
        f"<tr><th>Max session rate:</th><td>{r.h('rate_max')}/s</td></tr>"
    )
    if http:
        out.append(f"<tr><th>Max request rate:</th><td>{r.h('req_rate_max')}/s</td></tr>")
    out.append(f"</table></div></u></td><td>{lim(r.n('rate_lim'), '-')}</td>")
    out.append(
        f"<td>{r.h('scur')}</td><td>{r.h('smax')}</td><td>{r.h('slim')}</td>"
        f"<td><u>{r.h('stot')}<div class=tips><table class=det>"
        f"<tr><th>Cum. connections:</th><td>{r.h('conn_tot')}</td></tr>"
        f"<tr><th>Cum. sessions:</th><td>{r.h('stot')}</td></tr>"
    )
    if http:
        out.append(
            _http_tips_fe(r)
            + f"<tr><th>Intercepted requests:</th><td>{r.h('intercepted')}</td></tr>"
            f"<tr><th>Cache lookups:</th><td>{r.h('cache_lookups')}</td></tr>"
            f"<tr><th>Cache hits:</th><td>{r.h('cache_hits')}</td>"
            f"<td>({_pct(r.n('cache_hits'), r.n('cache_lookups'))}%)</td></tr>"
            f"<tr><th>Failed hdr rewrites:</th><td>{r.h('wrew')}</td></tr>"
            f"<tr><th>Internal errors:</th><td>{r.h('eint')}</td></tr>"
        )
    out.append(f"</table></div></u></td><td></td><td></td><td>{r.h('bin')}</td>")
    out.append(_bytes_out(r))
    out.append(
        f"<td>{r.h('dreq')}</td><td>{r.h('dresp')}</td><td>{r.h('ereq')}</td><td></td><td></td>"
        f"<td></td><td></td><td class=ac>{r.s('status')}</td><td class=ac colspan=8></td></tr>"
    )
    return "".join(out)


def _server_style(r: _R) -> str:
    status = r.s("status")
    if status in ("DOWN", "DOWN (agent)"):
        return "down"
    if status.startswith("DOWN "):
        return "going_up"
    if status == "DRAIN":
        return "draining"
    if status.startswith("NOLB "):
        return "going_down"
    if status == "NOLB":
        return "nolb"
    if status == "no check":
        return "no_check"
    if not r.has("chkfail") or r.n("check_health") == r.n("check_rise") + r.n("check_fall") - 1:
        return "up" if r.n("weight") else "draining"
    return "going_down"


def _check_cell(r: _R) -> str:
    """The LastChk cell: the agent's result when it keeps the server down, else the check's."""
    status = r.s("status")
    prefix = "agent" if status.startswith("DOWN") and r.has("agent_status") else ""
    if prefix and not r.n("agent_health"):
        names = ("agent_status", "agent_code", "agent_duration", "agent_desc", "last_agt")
    elif r.has("check_status"):
        names = ("check_status", "check_code", "check_duration", "check_desc", "last_chk")
    else:
        return "</td><td>"
    st, code, dur, desc, last = names
    out = f"</td><td class=ac><u> {r.s(st)}"
    if r.has(code):
        out += f"/{r.n(code)}"
    if r.has(dur):
        out += f" in {r.n(dur)}ms"
    out += f"<div class=tips>{r.s(desc)}"
    if r.s(last):
        out += ": " + html.escape(r.s(last), quote=True)
    return out + "</div></u>"


def server_html(r: _R, admin: bool, legends: bool, strip: str = "") -> str:
    px, sv, status = r.s("pxname"), r.s("svname"), r.s("status")
    cls = (
        "maintain"
        if status.startswith("MAINT")
        else f"{'backup' if r.n('bck') else 'active'}_{_server_style(r)}"
    )
    out = [f'<tr class="{cls}">']
    if admin:
        out.append(
            f'<td><input class=\'{px}-checkbox\' type="checkbox" name="s" value="{sv}"></td>'
        )
    out.append(
        f'<td class=ac><a name="{px}/{sv}"></a>{"<u>" if legends else ""}'
        f'<a class=lfsb href="#{px}/{sv}">{sv}</a>'
    )
    if legends:
        out.append(f"<div class=tips>{_legend_addr(r)}id: {r.n('sid')}")
        if r.has("cookie"):
            out.append(f", cookie: '{html.escape(r.s('cookie'), quote=True)}'")
        out.append("</div>")
    out.append(
        f"{'</u>' if legends else ''}{strip}</td><td>{r.h('qcur')}</td><td>{r.h('qmax')}</td>"
        f"<td>{lim(r.n('qlimit'), '-')}</td><td>{r.h('rate')}</td><td>{r.h('rate_max')}</td>"
        "<td></td>"
    )
    out.append(
        f"<td><u>{r.h('scur')}<div class=tips><table class=det>"
        f"<tr><th>Current active connections:</th><td>{r.h('scur')}</td></tr>"
        f"<tr><th>Current used connections:</th><td>{r.h('used_conn_cur')}</td></tr>"
        f"<tr><th>Current idle connections:</th><td>{r.h('srv_icur')}</td></tr>"
        f"<tr><th>- unsafe:</th><td>{r.h('idle_conn_cur')}</td></tr>"
        f"<tr><th>- safe:</th><td>{r.h('safe_conn_cur')}</td></tr>"
        f"<tr><th>Estimated need of connections:</th><td>{r.h('need_conn_est')}</td></tr>"
        f"<tr><th>Active connections limit:</th><td>{lim(r.n('slim'), '-')}</td></tr>"
        "<tr><th>Idle connections limit:</th>"
        f"<td>{r.h('src_ilim') if r.has('src_ilim') else '-'}</td></tr>"
        f"</table></div></u></td><td>{r.h('smax')}</td><td>{lim(r.n('slim'), '-')}</td>"
        f"<td><u>{r.h('stot')}<div class=tips><table class=det>"
        f"<tr><th>Cum. sessions:</th><td>{r.h('stot')}</td></tr>"
    )
    out.append(_http_tips_sv(r) if r.s("mode") == "http" else "")
    out.append(_times(r))
    out.append(
        f"</table></div></u></td><td>{r.h('lbtot')}</td><td>{human_time(r.n('lastsess'))}</td>"
        f"<td>{r.h('bin')}</td><td>{r.h('bout')}</td><td></td><td>{r.h('dresp')}</td>"
        f"<td></td><td>{r.h('econ')}</td>"
        f"<td><u>{r.h('eresp')}<div class=tips>Connection resets during transfers: "
        f"{r.n('cli_abrt')} client, {r.n('srv_abrt')} server</div></u></td>"
        f"<td>{r.n('wretr')}</td><td>{r.n('wredis')}</td><td class=ac>"
    )
    lastchg = human_time(r.n("lastchg"))
    if status.startswith("MAINT"):
        out.append(f"{lastchg} MAINT")
    elif status == "no check":
        out.append("<i>no check</i>")
    else:
        out.append(f"{lastchg} {status}")
        if status.startswith("DOWN"):
            if r.n("check_health"):
                out.append(" &uarr;")
        elif r.n("check_health") < r.n("check_rise") + r.n("check_fall") - 1:
            out.append(" &darr;")
    out.append(_check_cell(r))
    out.append(
        f"</td><td class=ac>{r.n('weight')}/{r.n('uweight')}</td>"
        f"<td class=ac>{'-' if r.n('bck') else 'Y'}</td>"
        f"<td class=ac>{'Y' if r.n('bck') else '-'}</td>"
    )
    if status == "MAINT (resolution)":
        out.append("<td class=ac colspan=3>resolution</td>")
    elif r.has("chkfail"):
        out.append(f"<td><u>{r.n('chkfail')}")
        if r.has("hanafail"):
            out.append(f"/{r.n('hanafail')}")
        out.append(
            "<div class=tips>Failed Health Checks"
            f"{'/Health Analyses' if r.has('hanafail') else ''}</div></u></td>"
            f"<td>{r.n('chkdown')}</td><td>{human_time(r.n('downtime'))}</td>"
        )
    elif status != "MAINT" and r.has("tracked"):
        t = r.s("tracked")
        out.append(f'<td class=ac colspan=3><a class=lfsb href="#{t}">via {t}</a></td>')
    else:
        out.append("<td colspan=3></td>")
    if r.has("throttle"):
        out.append(f"<td class=ac>{r.n('throttle')} %</td>\n")
    else:
        out.append("<td class=ac>-</td>")
    out.append("</tr>\n")
    return "".join(out)


def _http_tips_sv(r: _R) -> str:
    req = r.n("req_tot")
    rows = [
        f"<tr><th>New connections:</th><td>{r.h('connect')}</td></tr>"
        f"<tr><th>Reused connections:</th><td>{r.h('reuse')}</td>"
        f"<td>({_pct(r.n('reuse'), r.n('connect') + r.n('reuse'))}%)</td></tr>"
        f"<tr><th>Cum. HTTP requests:</th><td>{r.h('req_tot')}</td></tr>"
    ]
    for code, label in (
        ("1xx", "HTTP 1xx"),
        ("2xx", "HTTP 2xx"),
        ("3xx", "HTTP 3xx"),
        ("4xx", "HTTP 4xx"),
        ("5xx", "HTTP 5xx"),
        ("other", "other"),
    ):
        name = f"hrsp_{code}"
        rows.append(
            f"<tr><th>- {label} responses:</th><td>{r.h(name)}</td>"
            f"<td>({_pct(r.n(name), req)}%)</td></tr>"
        )
    rows.append(
        f"<tr><th>Failed hdr rewrites:</th><td>{r.h('wrew')}</td></tr>"
        f"<tr><th>Internal error:</th><td>{r.h('eint')}</td></tr>"
    )
    return "".join(rows)


def _times(r: _R) -> str:
    out = (
        "<tr><th colspan=3>Max / Avg over last 1024 success. conn.</th></tr>"
        f"<tr><th>- Queue time:</th><td>{r.h('qtime_max')} / {r.h('qtime')}</td><td>ms</td></tr>"
        "<tr><th>- Connect time:</th>"
        f"<td>{r.h('ctime_max')} / {r.h('ctime')}</td><td>ms</td></tr>"
    )
    if r.s("mode") == "http":
        out += (
            "<tr><th>- Responses time:</th>"
            f"<td>{r.h('rtime_max')} / {r.h('rtime')}</td><td>ms</td></tr>"
        )
    return out + (
        f"<tr><th>- Total time:</th><td>{r.h('ttime_max')} / {r.h('ttime')}</td><td>ms</td></tr>"
    )


def backend_html(r: _R, admin: bool, legends: bool) -> str:
    px = r.s("pxname")
    http = r.s("mode") == "http"
    out = ['<tr class="backend">', "<td></td>" if admin else ""]
    out.append(
        f'<td class=ac>{"<u>" if legends else ""}<a name="{px}/Backend"></a>'
        f'<a class=lfsb href="#{px}/Backend">Backend</a>'
    )
    if legends:
        out.append(f"<div class=tips>balancing: {r.s('algo')}")
        if r.has("cookie"):
            out.append(f", cookie: '{html.escape(r.s('cookie'), quote=True)}'")
        out.append("</div>")
    out.append(
        f"{'</u>' if legends else ''}</td><td>{r.h('qcur')}</td><td>{r.h('qmax')}</td><td></td>"
        f"<td>{r.h('rate')}</td><td>{r.h('rate_max')}</td><td></td>"
        f"<td>{r.h('scur')}</td><td>{r.h('smax')}</td><td>{r.h('slim')}</td>"
        f"<td><u>{r.h('stot')}<div class=tips><table class=det>"
        f"<tr><th>Cum. sessions:</th><td>{r.h('stot')}</td></tr>"
    )
    if http:
        out.append(
            f"<tr><th>New connections:</th><td>{r.h('connect')}</td></tr>"
            f"<tr><th>Reused connections:</th><td>{r.h('reuse')}</td>"
            f"<td>({_pct(r.n('reuse'), r.n('connect') + r.n('reuse'))}%)</td></tr>"
            + _http_tips_fe(r)
            + f"<tr><th>Cache lookups:</th><td>{r.h('cache_lookups')}</td></tr>"
            f"<tr><th>Cache hits:</th><td>{r.h('cache_hits')}</td>"
            f"<td>({_pct(r.n('cache_hits'), r.n('cache_lookups'))}%)</td></tr>"
            f"<tr><th>Failed hdr rewrites:</th><td>{r.h('wrew')}</td></tr>"
            f"<tr><th>Internal errors:</th><td>{r.h('eint')}</td></tr>"
        )
    out.append(_times(r))
    out.append(
        f"</table></div></u></td><td>{r.h('lbtot')}</td><td>{human_time(r.n('lastsess'))}</td>"
        f"<td>{r.h('bin')}</td>"
    )
    out.append(_bytes_out(r))
    status = r.s("status")
    shown = '<font color="red"><b>DOWN</b></font>' if status == "DOWN" else status
    out.append(
        f"<td>{r.h('dreq')}</td><td>{r.h('dresp')}</td><td></td><td>{r.h('econ')}</td>"
        f"<td><u>{r.h('eresp')}<div class=tips>Connection resets during transfers: "
        f"{r.n('cli_abrt')} client, {r.n('srv_abrt')} server</div></u></td>"
        f"<td>{r.n('wretr')}</td><td>{r.n('wredis')}</td>"
        f"<td class=ac>{human_time(r.n('lastchg'))} {shown}</td><td class=ac>&nbsp;</td>"
        f"<td class=ac>{r.n('weight')}/{r.n('uweight')}</td>"
        f"<td class=ac>{r.n('act')}</td><td class=ac>{r.n('bck')}</td>"
        f"<td class=ac>&nbsp;</td><td>{r.n('chkdown')}</td>"
        f"<td>{human_time(r.n('downtime')) if r.has('downtime') else '&nbsp;'}</td><td></td></tr>"
    )
    return "".join(out)


def row_html(row: Row, view: View, strip: str = "") -> str:
    r = _R(row)
    kind = r.n("type")
    if kind == TYPE_FE:
        return frontend_html(r, view.admin)
    if kind == TYPE_SV:
        return server_html(r, view.admin, view.legends, strip)
    return backend_html(r, view.admin, view.legends)


def _cap_str(cap: Cap) -> str:
    """``proxy_cap_str()``."""
    if cap & Cap.LISTEN == Cap.LISTEN:
        return "proxy"
    return "frontend" if cap & Cap.FE else "backend" if cap & Cap.BE else "none"


def proxy_header(px: ProxyConfig, view: View, has_servers: bool) -> str:
    """``stats_dump_html_px_hdr()``: the proxy's title bar and column headings."""
    form = view.admin and px.cap & Cap.BE and has_servers
    out = ['<form method="post">' if form else ""]
    out.append(
        '<table class="tbl" width="100%">\n<tr class="titre"><th class="pxname" width="10%">'
        f'<a name="{px.name}"></a>{"<u>" if view.legends else ""}'
        f'<a class=px href="#{px.name}">{px.name}</a>'
    )
    if view.legends:
        out.append(
            f"<div class=tips>cap: {_cap_str(px.cap)}, mode: {px.mode.value}, id: {px.uuid}</div>"
        )
    desc = px.description
    out.append(
        f"{'</u>' if view.legends else ''}</th>"
        f'<th class="{"desc" if desc else "empty"}" width="90%">{desc or ""}</th></tr>\n'
        '</table>\n<table class="tbl" width="100%">\n<tr class="titre">'
    )
    if view.admin:
        if form:
            out.append(
                '<th rowspan=2 width=1><input type="checkbox" onclick="for(c in '
                f"document.getElementsByClassName('{px.name}-checkbox')) "
                f"document.getElementsByClassName('{px.name}-checkbox').item(c).checked = "
                'this.checked"></th>'
            )
        else:
            out.append("<th rowspan=2></th>")
    out.append(
        "<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th>"
        "<th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th>"
        "<th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n"
        '<tr class="titre"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th>'
        "<th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th>"
        "<th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th>"
        "<th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th>"
        "<th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>"
    )
    return "".join(out)


def proxy_footer(px: ProxyConfig, view: View, has_servers: bool) -> str:
    """``stats_dump_html_px_end()``: the table's end and the admin form's actions."""
    out = "</table>"
    if view.admin and px.cap & Cap.BE and has_servers:
        options = "".join(f'<option value="{v}">{label}</option>' for v, label in ACTIONS)
        out += (
            "Choose the action to perform on the checked servers : "
            f"<select name=action>{options}</select>"
            f'<input type="hidden" name="b" value="#{px.uuid}">'
            '&nbsp;<input type="submit" value="Apply"></form>'
        )
    return out + "<p>\n"


def history_strip(marks: Sequence[tuple[str, str]]) -> str:
    """herdsman's extension: one coloured cell per recent check result (oldest first)."""
    if not marks:
        return ""
    cells = "".join(
        f'<i class="{cls}" style="display:inline-block;width:5px" '
        f'title="{html.escape(title, quote=True)}">&nbsp;</i>'
        for cls, title in marks
    )
    return f'<span class=hist style="margin-left:4px">{cells}</span>'
