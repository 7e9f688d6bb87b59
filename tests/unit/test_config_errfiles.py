"""Error pages as ``-c`` reports them: ``errorfile``, ``errorloc*``, ``errorfiles``
and ``http-errors`` sections (``src/http_htx.c``), and the pages a proxy ends up
with. The files named by the cases are written beside the configuration.

Texts were captured from the 2.6.12 binary; tests/integration/test_config_vs_haproxy.py
runs every case through it, and tests/integration/test_errorfiles_vs_haproxy.py
compares the two programs on a corpus of page files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config_http import HTTP_DEFAULTS, H, P, S, T, W, parsed

from configcase import FATAL_PARSE, FATAL_POST, Case, case, check_herdsman, params
from herdsman.config.errpages import DEFAULT_PAGES

# -- the cases ------------------------------------------------------------------------

PAGE = b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<html>x</html>\n"
R = b"HTTP/1.1 503 X\r\n"
BIG = R + b"\r\n" + b"x" * 20000
FILES = {
    "ok.http": PAGE,
    "bad.http": b"xx",
    "big.http": BIG,
    "bigcl.http": R + b"Content-Length: 20000\r\n\r\n" + b"x" * 20000,
}
HE = "http-errors E\n    errorfile 503 ok.http\n    errorfile 404 ok.http\n"


def err(id: str, text: str, *messages: str, rc: int | None = None) -> Case:
    """A case with the error page files beside the configuration."""
    return case(id, text, *messages, rc=rc, files=FILES)


# (file content, haproxy's complaint or None): http_str_to_htx() through the binary
PAGES: list[tuple[str, bytes, str | None]] = [
    ("cl", R + b"Content-Length: 3\r\n\r\nabc", None),
    ("cl-mismatch", R + b"Content-Length: 4\r\n\r\nabc",
     "payload size does not match the announced content-length (3 != 4)"),
    ("chunked", R + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     "chunk-encoded payload not supported"),
    ("version", b"HTTP/1.11 503 X\r\n\r\n", "invalid http version (HTTP/1.11)"),
    ("version-short", b"HTP/1.1 503 X\r\n\r\n", "invalid http version (HTP/1.1)"),
    ("status-101", b"HTTP/1.1 101 X\r\n\r\n", None),
    ("status-100", b"HTTP/1.1 100 X\r\n\r\n", "invalid http status code for an error message (100)"),
    ("status-wraps", b"HTTP/1.1 65636 X\r\n\r\n", "invalid http status code for an error message (100)"),
    ("status-letters", b"HTTP/1.1 abc X\r\n\r\n", "unable to parse headers (error offset: 9)"),
    ("incomplete", R + b"A: b\r\n", "unable to parse headers (error offset: -2)"),
    ("close-delimited", R + b"\r\nbody", None),
    ("204-body", b"HTTP/1.1 204 X\r\n\r\nbody", "message payload not expected"),
    ("cl0-body", R + b"Content-Length: 0\r\n\r\nabc", "message payload not expected"),
    ("space-in-name", R + b"A b: c\r\n\r\n", "unable to parse headers (error offset: 17)"),
    ("empty-name", R + b": v\r\n\r\n", "unable to parse headers (error offset: 16)"),
    ("bare-lf", b"HTTP/1.1 503 X\nA: c\n\nbody", None),
    ("leading-crlf", b"\r\n\r\nHTTP/1.1 503 X\r\n\r\n", None),
    ("html", b"<html>oops</html>\n", "unable to parse headers (error offset: 0)"),
    ("cl-two-values", R + b"Content-Length: 3, 4\r\n\r\nabc", "unable to parse headers (error offset: 32)"),
    ("cl-repeated", R + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", None),
    ("cl-empty", R + b"Content-Length:\r\n\r\nabc", "unable to parse headers (error offset: 31)"),
    ("cl-trailing-comma", R + b"Content-Length: 3,\r\n\r\nabc", "unable to parse headers (error offset: 32)"),
    ("te-twice-chunked", R + b"Transfer-Encoding: chunked, chunked\r\n\r\nabc",
     "unable to parse headers (error offset: 35)"),
    ("te-and-cl", R + b"Transfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabc", None),
    ("name-256", R + b"a" * 256 + b": v\r\n\r\n", "unable to add headers into the HTX message"),
    ("fold", R + b"A: b\r\n c\r\nB:\r\n  d\r\n\r\n", None),
    ("lowercase-version", b"http/1.1 503 X\r\n\r\n", "unable to parse headers (error offset: 0)"),
    ("empty", b"", None),
]  # fmt: skip

FILES.update({f"{name}.http": data for name, data, _ in PAGES})

ERRORS = [
    *[
        err(
            f"errorfile-{name}",
            H(f"errorfile 503 {name}.http"),
            *([P() + f"errorfile : '{name}.http': {text}", *FATAL_PARSE] if text else []),
        )
        for name, _, text in PAGES
    ],
    err(
        "errorfile-args",
        H("errorfile 503"),
        P() + "errorfile : expects <status_code> and <file> as arguments.\n",
        *FATAL_PARSE,
    ),
    err(
        "errorloc-args",
        H("errorloc 503"),
        P() + "errorloc : expects <status_code> and <url> as arguments.\n",
        *FATAL_PARSE,
    ),
    err(
        "errorfile-status",
        H("errorfile 999 ok.http"),
        P() + "errorfile : status code '999' not handled.",
        *FATAL_PARSE,
    ),
    err(
        "errorfile-status-x",
        H("errorfile x ok.http"),
        P() + "errorfile : status code '0' not handled.",
        *FATAL_PARSE,
    ),
    err(
        "errorloc-status",
        H("errorloc302 x /x"),
        P() + "errorloc302 : status code '0' not handled.",
        *FATAL_PARSE,
    ),
    err(
        "errorfile-missing",
        H("errorfile 503 nope.http"),
        P() + "errorfile : error opening file 'nope.http'.",
        *FATAL_PARSE,
    ),
    err(
        "errorfile-directory",
        H("errorfile 503 ."),
        P() + "errorfile : error reading file '.'.",
        *FATAL_PARSE,
    ),
    err(
        "errorfile-too-big",
        H("errorfile 503 bigcl.http"),
        W("custom error message file 'bigcl.http' larger than 16384 bytes. Truncating."),
        P() + "errorfile : 'bigcl.http': payload size does not match the announced content-length "
        "(16343 != 20000)",
        *FATAL_PARSE,
    ),
    err("errorloc", H("errorloc 503 http://x/", "errorloc302 502 /y", "errorloc303 504 /z extra")),
    err(
        "errorloc-too-long",
        H("errorloc 503 /" + "x" * 17000),
        P() + "errorloc : invalid error message: unable to add headers into the HTX message",
        *FATAL_PARSE,
    ),
    err("errorfile-extra-and-200", H("errorfile 503 ok.http extra", "errorfile 200 ok.http")),
    err("errorfiles-all", H("errorfiles E") + HE),
    err(
        "errorfiles-codes",
        H("errorfiles E 503 500 404 200") + HE,
        W("config: proxy 'L' : status '200' not declared in http-errors section 'E' (at F:8)."),
        W("config: proxy 'L' : status '500' not declared in http-errors section 'E' (at F:8)."),
    ),
    err(
        "errorfiles-bad-code",
        H("errorfiles E 503 999") + HE,
        P() + "errorfiles : status code '999' not handled.",
        *FATAL_PARSE,
    ),
    err(
        "errorfiles-no-name",
        H("errorfiles") + HE,
        P() + "errorfiles : expects <name> as argument.",
        *FATAL_PARSE,
    ),
    err(
        "errorfiles-unknown",
        H("errorfiles X", "errorfiles Y 503") + HE,
        "proxy 'L': unknown http-errors section 'X' (at F:8).",
        "proxy 'L': unknown http-errors section 'Y' (at F:9).",
        *FATAL_POST,
    ),
    err(
        "errorfiles-before-section",
        HE + H("errorfiles E 502"),
        W("config: proxy 'L' : status '502' not declared in http-errors section 'E' (at F:11)."),
    ),
    err(
        "errorfiles-from-defaults",
        HTTP_DEFAULTS + "    errorfiles E\n" + f"listen L\n    bind :18000\n    {S}\n" + HE,
    ),
    err(
        # a disabled proxy is not checked, nor the defaults section itself
        "errorfiles-unused",
        HTTP_DEFAULTS
        + "    errorfiles E\n"
        + f"listen L\n    disabled\n    bind :18000\n    {S}\n",
        rc=2,
    ),
    err(
        "errorfiles-order",
        HTTP_DEFAULTS
        + "frontend F\n    bind :18000\n    errorfiles E 503\n    default_backend nope\n"
        "    errorfiles X\n"
        + HE.replace("503", "502")
        + "backend B\n    server s1 127.0.0.1\n    server s2 127.0.0.1 check\n    errorfiles Z\n",
        "Proxy 'F': unable to find required default_backend: 'nope'.",
        W("config: proxy 'F' : status '503' not declared in http-errors section 'E' (at F:8)."),
        "proxy 'F': unknown http-errors section 'X' (at F:10).",
        "config: backend 'B': server 's2' has neither service port nor check port.",
        "proxy 'B': unknown http-errors section 'Z' (at F:17).",
        *FATAL_POST,
    ),
    err("errorfile-in-tcp", T("errorfile 503 ok.http")),
    err(
        "he-no-name",
        HE + "http-errors\n" + H(),
        "parsing [F:4] : missing name for http-errors section.",
        "Error(s) found in configuration file : F",
    ),
    err(
        "he-bad-name",
        HE + "http-errors E!x\n" + H(),
        "parsing [F:4] : character '!' is not permitted in 'http-errors' name 'E!x'.",
        *FATAL_PARSE,
    ),
    err(
        "he-twice",
        HE + "http-errors E\n    errorfile 503 ok.http\nhttp-errors E\n" + H(),
        "parsing [F:4]: http-errors section 'E' already exists (declared at F:1).",
        "parsing [F:6]: http-errors section 'E' already exists (declared at F:1).",
        "parsing [F:6]: http-errors section 'E' already exists (declared at F:4).",
        *FATAL_PARSE,
    ),
    err(
        "he-unknown-keyword",
        "http-errors E\n    foo 503 ok.http\n    errorloc 503 /x\n" + H(),
        "parsing [F:2] : unknown keyword 'foo' in 'http-errors' section",
        "parsing [F:3] : unknown keyword 'errorloc' in 'http-errors' section",
        *FATAL_PARSE,
    ),
    err(
        "he-errorfile-args",
        "http-errors E\n    errorfile 503\n" + H(),
        "parsing [F:2] : errorfile: expects <status_code> and <file> as arguments.",
        *FATAL_PARSE,
    ),
    err(
        "he-errorfile-errors",
        "http-errors E\n    errorfile 503 bad.http\n    errorfile 999 ok.http\n"
        "    errorfile 503 nope.http\n" + H(),
        "parsing [F:2] : errorfile : 'bad.http': unable to parse headers (error offset: 0)",
        "parsing [F:3] : errorfile : status code '999' not handled.",
        "parsing [F:4] : errorfile : error opening file 'nope.http'.",
        *FATAL_PARSE,
    ),
    err(
        # a page that failed is loaded again, and warned about again
        "he-failed-twice",
        "http-errors E\n    errorfile 503 big.http\n    errorfile 504 big.http\n" + H(),
        W("custom error message file 'big.http' larger than 16384 bytes. Truncating."),
        "parsing [F:2] : errorfile : 'big.http': unable to add payload into the HTX message",
        W("custom error message file 'big.http' larger than 16384 bytes. Truncating."),
        "parsing [F:3] : errorfile : 'big.http': unable to add payload into the HTX message",
        *FATAL_PARSE,
    ),
    err(
        # a page that loaded is not read again, even when it would no longer fit
        "he-loaded-once",
        "global\n    tune.bufsize 32768\nhttp-errors E\n    errorfile 503 big.http\n"
        "global\n    tune.bufsize 16384\n"
        + H("errorfile 503 big.http", "errorfile 504 ./big.http"),
        W("custom error message file './big.http' larger than 16384 bytes. Truncating."),
        P(15) + "errorfile : './big.http': unable to add payload into the HTX message",
        *FATAL_PARSE,
    ),
    err(
        "he-modifier",
        "http-errors E\n    no errorfile 503 ok.http\n" + H(),
        "parsing [F:2]: negation/default currently supported only for options, log, busy-polling, "
        "set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
        *FATAL_PARSE,
    ),
    err(
        "he-empty",
        "http-errors E x\n" + H("errorfiles E 503"),
        W("config: proxy 'L' : status '503' not declared in http-errors section 'E' (at F:9)."),
    ),
]

ALL: list[Case] = ERRORS


@pytest.mark.parametrize("c", params(ALL))
def test_error_page_keywords(c: Case, tmp_path: Path) -> None:
    check_herdsman(c, tmp_path)


# -- the model --------------------------------------------------------------------------


def test_error_pages(tmp_path: Path) -> None:
    """Lines apply in order, defaults first; ``errorfiles`` takes the pages its section
    declares; an empty file means "send nothing"."""
    (tmp_path / "a.http").write_bytes(PAGE)
    (tmp_path / "empty.http").write_bytes(b"")
    a, empty = tmp_path / "a.http", tmp_path / "empty.http"
    config = parsed(
        HTTP_DEFAULTS.replace("timeout server 1s\n", f"timeout server 1s\n    errorfile 500 {a}\n")
        + f"http-errors E\n    errorfile 503 {empty}\n    errorfile 404 {a}\n"
        + f"listen L\n    bind :18000\n    errorloc303 503 /x\n    errorfiles E\n"
        f"    errorfile 404 {empty}\n    errorloc 502 https://example.com/\n    {S}\n"
    )
    errors = config.proxies[0].http.errors
    assert errors == {
        500: PAGE,
        503: b"",
        404: b"",
        502: b"HTTP/1.1 302 Found\r\nCache-Control: no-cache\r\nContent-length: 0\r\n"
        b"Location: https://example.com/\r\n\r\n",
    }
    assert set(errors) <= set(DEFAULT_PAGES)
    assert [s.name for s in config.http_errors] == ["E"]
