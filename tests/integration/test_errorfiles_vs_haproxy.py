"""Error page files through ``haproxy -c`` and ``herdsman -c``, side by side.

A corpus of HTTP/1 responses -- a few valid ones, every prefix of them, and
every one-byte substitution with the bytes that matter to a parser (CR, LF,
blanks, colon, comma, NUL, a letter, a digit, a byte above 127) -- is
written to files and loaded with ``errorfile``, a batch per configuration
(below HAProxy's 50 fatal errors per file). Both programs must print the
same: which files load, and for each other one the same complaint at the
same offset (``http/errorfile.py``). A few messages more, each alone: the
corner cases of Content-Length, Transfer-Encoding and the header array.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from configcase import DEFAULTS, assert_same, run_haproxy, run_herdsman

pytestmark = pytest.mark.haproxy

BASES = [
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nX-A: b, c\r\n\r\nbody",
    b"HTTP/1.0 404 Not Found\nContent-Type: text/plain\n folded\nConnection: close\n\nok",
    b"\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    b"HTTP/1.1 204\r\nContent-Length: 0, 0\r\n\r\n",
]
SUBSTITUTES = b"\r\n \t:,\x00x7\xe9"


def corpus() -> list[bytes]:
    out: list[bytes] = []
    for base in BASES:
        out.append(base)
        out += [base[:i] for i in range(1, len(base))]
        for i in range(len(base)):
            out += [base[:i] + bytes([c]) + base[i + 1 :] for c in SUBSTITUTES if c != base[i]]
    return list(dict.fromkeys(out))  # once each, in order


BATCH = 45
MESSAGES = corpus()
BATCHES = [MESSAGES[i : i + BATCH] for i in range(0, len(MESSAGES), BATCH)]


@pytest.mark.parametrize("batch", BATCHES, ids=[f"batch{i}" for i in range(len(BATCHES))])
def test_errorfiles_as_haproxy(batch: list[bytes], tmp_path: Path) -> None:
    lines = []
    for n, message in enumerate(batch):
        (tmp_path / f"m{n}.http").write_bytes(message)
        lines.append(f"    errorfile 503 m{n}.http\n")
    text = (
        DEFAULTS + "listen L\n    bind :18000\n" + "".join(lines) + "    server s1 127.0.0.1:80\n"
    )
    theirs = run_haproxy(tmp_path, text)
    assert_same(run_herdsman(tmp_path, text), theirs, "herdsman", "haproxy")


# loaded alone (not expanded), under tune.http.maxhdr 2 and 3 too
SINGLES = [
    # Content-Length wraps past 2**64 - 1 in the 2.6.12 binary: 2**64 is 0, 2**64 + 1 is 1
    b"HTTP/1.1 503 X\r\nContent-Length: 18446744073709551616\r\n\r\n",
    b"HTTP/1.1 503 X\r\nContent-Length: 18446744073709551616\r\n\r\nx",
    b"HTTP/1.1 503 X\r\nContent-Length: 18446744073709551617\r\n\r\nx",
    b"HTTP/1.1 503 X\r\nContent-Length: 184467440737095516150\r\n\r\nx",
    # Transfer-Encoding drops Content-Length: the body is not measured
    b"HTTP/1.1 503 X\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nabc",
    # "close" stays in an errorfile's Connection value and takes its place in the array
    b"HTTP/1.1 503 X\r\nConnection: close\r\nA: b\r\n\r\n",
    b"HTTP/1.1 503 X\r\nA: b\r\nConnection: keep-alive\r\n\r\n",
    b"HTTP/1.1 503 X\r\nConnection:\r\nA: b\r\n\r\n",
    # a repeated Content-Length takes no place, but is refused when the array is full
    b"HTTP/1.1 503 X\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
    b"HTTP/1.1 503 X\r\nA: b\r\nC: d\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
    b"HTTP/1.1 503 X\r\nA: b\r\nC: d\r\nE: f\r\n\r\n",
]


@pytest.mark.parametrize("maxhdr", [None, 2, 3])
def test_single_errorfiles_as_haproxy(maxhdr: int | None, tmp_path: Path) -> None:
    lines = []
    for n, message in enumerate(SINGLES):
        (tmp_path / f"s{n}.http").write_bytes(message)
        lines.append(f"    errorfile 503 s{n}.http\n")
    tune = f"global\n    tune.http.maxhdr {maxhdr}\n" if maxhdr else ""
    text = (
        tune
        + DEFAULTS
        + "listen L\n    bind :18000\n"
        + "".join(lines)
        + "    server s1 127.0.0.1:80\n"
    )
    theirs = run_haproxy(tmp_path, text)
    assert_same(run_herdsman(tmp_path, text), theirs, "herdsman", "haproxy")


def test_the_corpus_is_large() -> None:
    assert len(MESSAGES) > 1500
