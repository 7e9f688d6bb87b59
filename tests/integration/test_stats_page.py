"""The stats page served by the HTTP data path (``stats enable``, ``stats uri``...):
its HTML against the page haproxy 2.6.12 serves for the same configuration,
its exports against ``show stat``, authentication, the admin form, and the
page rendered by headless Chromium (a DOWN server's row in haproxy's colour).
"""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from herdsman.core.states import SrvAdmin
from herdsman.testing import Acceptor, Haproxy, cli_command, free_port, running

pytestmark = pytest.mark.haproxy


async def fetch(
    port: int, path: str, *, method: str = "GET", body: bytes = b"", headers: str = ""
) -> tuple[int, dict[str, str], bytes]:
    """One request (Connection: close); the status, the headers, the body (de-chunked)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    extra = f"Content-Length: {len(body)}\r\n" if method == "POST" else ""
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}{extra}\r\n".encode()
        + body
    )
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, data = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if fields.get("transfer-encoding") == "chunked":
        out, rest = b"", data
        while True:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if not n:
                break
            out, rest = out + rest[:n], rest[n + 2 :]
        data = out
    return int(lines[0].split()[1]), fields, data


def config(port: int, up: int, down: int, sock: str, extra: str = "") -> str:
    return f"""\
global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen stats
    bind 127.0.0.1:{port}
    stats enable
    stats uri /st
    stats refresh 10s
    stats show-legends
    stats admin if TRUE
{extra}backend be
    balance roundrobin
    server up1 127.0.0.1:{up} check inter 100
    server down1 127.0.0.1:{down} check inter 100
    server nochk 127.0.0.1:{up}
    server mnt 127.0.0.1:{up} disabled
    server bk 127.0.0.1:{up} backup
"""


@pytest.fixture
def backend_port() -> Iterator[int]:
    """A port that accepts and closes (a health check passes there)."""
    with Acceptor() as acceptor:
        yield acceptor.port


def normalise(page: str) -> str:
    """Everything that differs by nature or by design masked: numbers, the version
    line, herdsman's history strip, the digit grouping that depends on them, and
    whether a check happens to be running."""
    page = re.sub(r"<span class=hist.*?</span>", "", page)
    page = re.sub(r'<span class="rls">(\d)</span>', r"\1", page)
    page = re.sub(r"version [^<]*, released [^<]*<", "version V<", page)
    page = re.sub(r"<td>(\d+[dhms])+</td>|<td>\?</td>", "<td>T</td>", page)  # lastsess
    # "* " marks a check running at the moment the page is made (timing, not state)
    page = page.replace("<u> * ", "<u> ")
    return re.sub(r"\d+", "N", page)


async def down_seen(port: int, timeout: float = 10.0) -> str:
    """The page, polled (with a deadline) until the checks have run: one server
    DOWN, one UP after a successful check."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        _, _, body = await fetch(port, "/st")
        page = body.decode("latin-1")
        if '<tr class="active_down">' in page and "L4OK" in page:
            return page
        assert loop.time() < deadline, "the checks did not run"
        await asyncio.sleep(0.05)


async def test_page_matches_haproxy(backend_port: int, tmp_path: Path) -> None:
    """The same configuration, the same states (an UP, a DOWN, an unchecked, a
    disabled and a backup server): the same page, once numbers are masked."""
    port = free_port()
    text = config(port, backend_port, free_port(), str(tmp_path / "s.sock"))
    async with running(text) as hm:
        mine = await down_seen(port)
        status, fields, _ = await fetch(port, "/st;up;norefresh?scope=be")
        assert hm.server("be/mnt").cur_admin & SrvAdmin.FMAINT
        _, _, scoped = await fetch(port, "/st;up;norefresh?scope=be")
        _, _, short = await fetch(port, "/st;norefresh?scope=b")
    with Haproxy(text.replace("s.sock", "h.sock")).start(port):
        theirs = await down_seen(port)
        _, their_fields, their_scoped = await fetch(port, "/st;up;norefresh?scope=be")
        _, _, their_short = await fetch(port, "/st;norefresh?scope=b")
    assert normalise(mine) == normalise(theirs)
    assert normalise(scoped.decode("latin-1")) == normalise(their_scoped.decode("latin-1"))
    # 2.6 looks for "scope=" only where 8 characters remain: a one-letter scope is ignored
    assert normalise(short.decode("latin-1")) == normalise(their_short.decode("latin-1"))
    assert status == 200
    for name in ("cache-control", "content-type"):
        assert fields[name] == their_fields[name]
    assert "refresh" not in fields
    assert "refresh" not in their_fields


async def exchange(port: int, requests: list[bytes]) -> list[tuple[list[str], str]]:
    """The requests one after the other on one connection: for each answer its
    status line and header lines as sent, and its framing ("chunked" when the
    body is in chunks ending with the last one, "none" without a body); then
    "EOF" if the connection closed after the last answer, else "open"."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    out: list[tuple[list[str], str]] = []
    try:
        for req in requests:
            writer.write(req)
            head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode()
            lines = head.split("\r\n")[:-2]
            framing = "none"
            if "transfer-encoding: chunked" in lines:
                while True:
                    size = int(await asyncio.wait_for(reader.readuntil(b"\r\n"), 10), 16)
                    await asyncio.wait_for(reader.readexactly(size + 2), 10)
                    if not size:
                        break
                framing = "chunked"
            out.append((lines, framing))
        try:
            rest = await asyncio.wait_for(reader.read(1), 0.5)
            out.append(([], "EOF" if rest == b"" else repr(rest)))
        except TimeoutError:
            out.append(([], "open"))
    finally:
        writer.close()
    return out


FRAMING_CASES = {
    "get-11": [b"GET /st HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /st;csv HTTP/1.1\r\nHost: x\r\n\r\n"],
    "get-11-close": [b"GET /st;json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
    "get-10": [b"GET /st;csv HTTP/1.0\r\nHost: x\r\n\r\n"],
    "get-10-keepalive": [b"GET /st HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"],
    "head-11": [b"HEAD /st HTTP/1.1\r\nHost: x\r\n\r\n", b"HEAD /st;csv HTTP/1.1\r\n\r\n"],
    "head-10": [b"HEAD /st HTTP/1.0\r\n\r\n"],
}


async def test_framing_as_haproxy(backend_port: int, tmp_path: Path) -> None:
    """2.6.12 sends the page chunked: an HTTP/1.1 GET gets the page's own
    "transfer-encoding: chunked" before the Connection header, an HTTP/1.0 one
    the H1 output's after it; a HEAD gets neither nor a Content-Length. The
    same header lines in the same order, the same framing and connection."""
    port = free_port()
    text = config(port, backend_port, free_port(), str(tmp_path / "s.sock"))
    async with running(text):
        mine = {k: await exchange(port, reqs) for k, reqs in FRAMING_CASES.items()}
    with Haproxy(text.replace("s.sock", "h.sock")).start(port):
        theirs = {k: await exchange(port, reqs) for k, reqs in FRAMING_CASES.items()}
    assert mine == theirs
    assert mine["get-10"][0] == (
        [
            "HTTP/1.1 200 OK",
            "cache-control: no-cache",
            "content-type: text/plain",
            "refresh: 10",
            "connection: close",
            "transfer-encoding: chunked",
        ],
        "chunked",
    )
    assert mine["get-11"][-1] == ([], "open")


async def test_history_strip(backend_port: int, tmp_path: Path) -> None:
    """herdsman's extension: each checked server shows its last results as cells."""
    port = free_port()
    async with running(config(port, backend_port, free_port(), str(tmp_path / "s.sock"))):
        page = await down_seen(port)
    row = page.split('<tr class="active_down">', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<i class="(\w+)"[^>]* title="([^"]*)"', row)
    assert cells
    assert {cls for cls, _ in cells} <= {"active_down", "active_going_down"}
    assert all("check L4CON" in title for _, title in cells)


async def test_csv_equals_show_stat(backend_port: int, tmp_path: Path) -> None:
    """``;csv`` is ``show stat``: the same header and rows for the backend (the
    stats proxy's own rows move with each request)."""
    port = free_port()
    sock = str(tmp_path / "s.sock")
    mask = re.compile(r"^(([^,]*,){23})[^,]*")  # lastchg may tick between the two

    def rows(text: str) -> list[str]:
        return [mask.sub(r"\1", x) for x in text.splitlines() if x.startswith("be,")]

    async with running(config(port, backend_port, free_port(), sock)):
        await down_seen(port)
        # a check may end between the two snapshots (a loaded machine): take
        # the pair again until they agree, with a deadline
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            _, fields, body = await fetch(port, "/st;csv")
            shown = await asyncio.to_thread(cli_command, sock, "show stat")
            page = body.decode()
            if rows(page) == rows(shown) or loop.time() > deadline:
                break
        _, json_fields, json_body = await fetch(port, "/st;json")
    assert fields["content-type"] == "text/plain"
    assert page.splitlines()[0] == shown.splitlines()[0]
    assert rows(page)
    assert rows(page) == rows(shown)
    assert json_fields["content-type"] == "application/json"
    assert json_body.startswith(b"[[{")


async def test_basic_auth_as_haproxy(backend_port: int, tmp_path: Path) -> None:
    port = free_port()
    text = config(port, backend_port, free_port(), str(tmp_path / "s.sock")).replace(
        "    stats admin if TRUE\n", "    stats auth admin:secret\n    stats realm Herd\\ room\n"
    )
    good = "Authorization: Basic " + base64.b64encode(b"admin:secret").decode() + "\r\n"
    bad = "Authorization: Basic " + base64.b64encode(b"admin:nope").decode() + "\r\n"
    results = []
    for start in ("herdsman", "haproxy"):
        if start == "herdsman":
            async with running(text):
                results.append([await fetch(port, "/st", headers=h) for h in ("", bad, good)])
        else:
            with Haproxy(text.replace("s.sock", "h.sock")).start(port):
                results.append([await fetch(port, "/st", headers=h) for h in ("", bad, good)])
    mine, theirs = results
    assert [r[0] for r in mine] == [r[0] for r in theirs] == [401, 401, 200]
    assert (
        mine[0][1]["www-authenticate"]
        == theirs[0][1]["www-authenticate"]
        == ('Basic realm="Herd room"')
    )
    assert mine[0][2] == theirs[0][2]


async def test_admin_form_sets_states(backend_port: int, tmp_path: Path) -> None:
    """The form's actions go through the state transitions; the answer is the
    redirect with the result code, as 2.6's."""
    port = free_port()
    async with running(config(port, backend_port, free_port(), str(tmp_path / "s.sock"))) as hm:
        be = hm.backend("be")
        form = f"s=up1&s=nochk&action=maint&b=%23{be.cfg.uuid}".encode()
        status, fields, _ = await fetch(port, "/st", method="POST", body=form)
        assert status == 303
        assert fields["location"] == "/st;st=DONE"
        assert hm.server("be/up1").cur_admin & SrvAdmin.FMAINT
        assert hm.server("be/nochk").cur_admin & SrvAdmin.FMAINT
        again = await fetch(port, "/st", method="POST", body=form.replace(b"maint", b"disable"))
        assert again[1]["location"] == "/st;st=NONE"  # 'disable' counts only a change
        form = f"s=up1&s=nosuch&action=ready&b=%23{be.cfg.uuid}".encode()
        assert (await fetch(port, "/st", method="POST", body=form))[1]["location"] == (
            "/st;st=PART"
        )
        assert not hm.server("be/up1").cur_admin & SrvAdmin.FMAINT
        _, _, page = await fetch(port, "/st;st=PART")
        assert b"Action partially processed." in page


async def test_post_without_admin_is_denied(backend_port: int, tmp_path: Path) -> None:
    port = free_port()
    text = config(port, backend_port, free_port(), str(tmp_path / "s.sock")).replace(
        "    stats admin if TRUE\n", "    stats admin if FALSE\n"
    )
    form = b"s=up1&action=maint&b=be"
    async with running(text) as hm:
        mine = await fetch(port, "/st", method="POST", body=form)
        assert not hm.server("be/up1").cur_admin & SrvAdmin.FMAINT
    with Haproxy(text.replace("s.sock", "h.sock")).start(port):
        theirs = await fetch(port, "/st", method="POST", body=form)
    assert mine[0] == theirs[0] == 303
    assert mine[1]["location"] == theirs[1]["location"] == "/st;st=DENY"


ADMIN_CASES = [
    ("src-in", "    stats admin if { src 127.0.0.0/8 }\n", (True, True)),
    ("src-out", "    stats admin if { src 10.0.0.0/8 }\n", (False, False)),
    ("named-acl", "    acl local src 127.0.0.1\n    stats admin if local\n", (True, True)),
    ("unless-localhost", "    stats admin unless LOCALHOST\n", (False, False)),
    (
        "header",
        "    stats admin if { hdr(x-admin) yes } METH_POST || { hdr(x-admin) yes }\n",
        (False, True),
    ),
    (
        "second-rule",
        "    stats admin if FALSE\n    stats admin unless { path_beg /nope }\n",
        (True, True),
    ),
    ("empty-if", "    stats admin if\n", (False, False)),  # an empty condition fails
]


@pytest.mark.parametrize(("name", "lines", "admin"), ADMIN_CASES, ids=[c[0] for c in ADMIN_CASES])
async def test_admin_conditions_as_haproxy(
    backend_port: int, tmp_path: Path, name: str, lines: str, admin: tuple[bool, bool]
) -> None:
    """``stats admin if|unless <cond>`` with the routing engine's conditions: the
    page shows the admin form, and a POST applies, exactly when haproxy's does
    (the same request with and without ``x-admin: yes``)."""
    port = free_port()
    text = config(port, backend_port, free_port(), str(tmp_path / "s.sock")).replace(
        "    stats admin if TRUE\n", lines
    )
    form = b"s=up1&action=maint&b=be"

    async def outcomes() -> list[tuple[bool, str]]:
        out = []
        for headers in ("", "x-admin: yes\r\n"):
            _, _, page = await fetch(port, "/st", headers=headers)
            _, fields, _ = await fetch(port, "/st", method="POST", body=form, headers=headers)
            out.append((b'<form method="post">' in page, fields["location"]))
        return out

    async with running(text) as hm:
        mine = await outcomes()
        maint = bool(hm.server("be/up1").cur_admin & SrvAdmin.FMAINT)
    with Haproxy(text.replace("s.sock", "h.sock")).start(port):
        theirs = await outcomes()
    assert mine == theirs
    assert tuple(shown for shown, _ in mine) == admin
    assert maint == any(loc == "/st;st=DONE" for _, loc in mine)


def _pixels(png: bytes) -> tuple[int, int, bytes, int]:
    """A minimal PNG decoder (8-bit RGB/RGBA, not interlaced): width, height, rows, bpp."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = bpp = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", data[:10])
            assert depth == 8
            bpp = {2: 3, 6: 4}[color]
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    out = bytearray()
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return width, height, bytes(out), bpp


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
async def test_rendered_in_chromium(backend_port: int, tmp_path: Path) -> None:
    """The page in headless Chromium: the DOWN server's row is drawn in haproxy's
    ``active_down`` colour (#ff9090), the maintenance one in ``maintain`` (#c07820)."""
    port = free_port()
    shot = tmp_path / "stats.png"
    async with running(config(port, backend_port, free_port(), str(tmp_path / "s.sock"))):
        await down_seen(port)
        proc = await asyncio.create_subprocess_exec(
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1400,900",
            f"--screenshot={shot}",
            f"http://127.0.0.1:{port}/st;norefresh",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert await asyncio.wait_for(proc.wait(), 90) == 0
    width, height, pixels, bpp = await asyncio.to_thread(_pixels, shot.read_bytes())
    colours = {pixels[i : i + 3] for i in range(0, width * height * bpp, bpp)}
    assert bytes((0xFF, 0x90, 0x90)) in colours  # active_down
    assert bytes((0xC0, 0x78, 0x20)) in colours  # maintain
    assert bytes((0xC0, 0xFF, 0xC0)) in colours  # active_up
