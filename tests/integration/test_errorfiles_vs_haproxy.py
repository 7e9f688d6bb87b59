"""Error page files through ``haproxy -c`` and ``herdsman -c``, side by side.

A corpus of HTTP/1 responses -- a few valid ones, every prefix of them, and
every one-byte substitution with the bytes that matter to a parser (CR, LF,
blanks, colon, comma, NUL, a letter, a digit, a byte above 127) -- is
written to files and loaded with ``errorfile``, a batch per configuration
(below HAProxy's 50 fatal errors per file). Both programs must print the
same: which files load, and for each other one the same complaint at the
same offset (``config/htxmsg.py``).
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


def test_the_corpus_is_large() -> None:
    assert len(MESSAGES) > 1500
