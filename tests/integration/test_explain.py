"""``herdsman -c --explain``: the numbers of spec §2 with their derivation (docs/limits.md).

The derived ``fullconn`` values are those haproxy 2.6.12 shows as the backends'
``slim`` in ``show stat`` for the same configuration (read in the same test);
the JSON form validates against a schema.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from herdsman.testing import Haproxy, free_port, wait_for

SEED = """\
global
    maxconn 81920

defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe1
    bind 127.0.0.1:{p1}
    maxconn 1024
    default_backend app

frontend fe2
    bind 127.0.0.1:{p2}
    maxconn 1000
    default_backend app

backend app
    {fullconn}
    server s1 127.0.0.1:9001 minconn 10 maxconn 100 check
    server s2 127.0.0.1:9002 minconn 1000 maxconn 10000 check
"""

# §2.3: a listen counts itself, use_backend targets once each, the default backend once
SPEC_2_3 = """\
global
    maxconn 2000

defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend f
    bind 127.0.0.1:{p1}
    use_backend b1
    use_backend b2
    use_backend b1
    default_backend b2

listen l
    bind 127.0.0.1:{p2}
    maxconn 35
    server s 127.0.0.1:9003

backend b1
    server s 127.0.0.1:9004 minconn 2 maxconn 10

backend b2
    server s 127.0.0.1:9005

backend lonely
    server s 127.0.0.1:9006
"""

SCHEMA = {
    "type": "object",
    "required": ["global_maxconn", "global_maxconn_from", "frontends", "backends"],
    "properties": {
        "global_maxconn": {"type": "integer", "minimum": 1},
        "global_maxconn_from": {"type": "string"},
        "frontends": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "maxconn", "from"],
                "properties": {
                    "name": {"type": "string"},
                    "maxconn": {"type": "integer"},
                    "from": {"type": "string"},
                },
            },
        },
        "backends": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "fullconn", "fullconn_from", "contributions", "servers"],
                "properties": {
                    "fullconn": {"type": "integer", "minimum": 1},
                    "contributions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["frontend", "maxconn", "via"],
                            "properties": {
                                "via": {"enum": ["default_backend", "listen", "use_backend"]}
                            },
                        },
                    },
                    "servers": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "minconn", "maxconn", "limit", "maxqueue"],
                            "properties": {
                                "limit": {"enum": ["none", "static", "dynamic"]},
                                "limit_at_load": {
                                    "type": ["object", "null"],
                                    "required": ["0%", "25%", "50%", "75%", "100%"],
                                },
                                "checks": {
                                    "type": ["object", "null"],
                                    "required": [
                                        "first_check_ms",
                                        "inter_ms",
                                        "fastinter_ms",
                                        "downinter_ms",
                                    ],
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def _explain(tmp_path: Path, text: str, mode: str = "text") -> str:
    path = tmp_path / "h.cfg"
    path.write_text(text)
    flag = "--explain" if mode == "text" else f"--explain={mode}"
    res = subprocess.run(
        [sys.executable, "-m", "herdsman", "-c", flag, "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def _haproxy_slims(text: str, port: int) -> dict[str, str]:
    """Each backend's ``slim`` in haproxy's ``show stat``."""
    sock_path = f"/tmp/hm-explain-{os.getpid()}-{port}.sock"
    cfg = text.replace("global\n", f"global\n    stats socket {sock_path} level admin\n", 1)
    with Haproxy(cfg) as hp:
        hp.start(port)
        wait_for(lambda: os.path.exists(sock_path), timeout=5)
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(sock_path)
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {r["pxname"]: r["slim"] for r in rows if r["svname"] == "BACKEND"}


@pytest.mark.haproxy
@pytest.mark.parametrize(
    ("text", "fullconn"),
    [(SEED, ""), (SEED, "fullconn 1024"), (SPEC_2_3, "")],
    ids=["seed-derived", "seed-configured", "spec-2.3"],
)
def test_fullconn_is_haproxys(tmp_path: Path, text: str, fullconn: str) -> None:
    p1, p2 = free_port(), free_port()
    # this machine's descriptor limit would not let haproxy start with 81920
    cfg = text.format(p1=p1, p2=p2, fullconn=fullconn).replace("maxconn 81920", "maxconn 8000")
    report = json.loads(_explain(tmp_path, cfg, "json"))
    ours = {be["name"]: str(be["fullconn"]) for be in report["backends"]}
    assert ours == _haproxy_slims(cfg, p1)


def test_json_validates_and_tells_where_numbers_come_from(tmp_path: Path) -> None:
    cfg = SPEC_2_3.format(p1=free_port(), p2=free_port())
    report = json.loads(_explain(tmp_path, cfg, "json"))
    jsonschema.validate(report, SCHEMA)
    backends = {be["name"]: be for be in report["backends"]}
    assert backends["b1"]["contributions"] == [
        {"frontend": "f", "maxconn": 2000, "via": "use_backend"}
    ]
    assert backends["b2"]["contributions"] == [
        {"frontend": "f", "maxconn": 2000, "via": "default_backend"}
    ]
    assert backends["l"]["contributions"] == [{"frontend": "l", "maxconn": 35, "via": "listen"}]
    assert (backends["b1"]["fullconn"], backends["l"]["fullconn"]) == (200, 4)
    assert backends["lonely"]["fullconn"] == 1
    [b1] = backends["b1"]["servers"]
    assert b1["limit_at_load"] == {"0%": 2, "25%": 2, "50%": 5, "75%": 7, "100%": 10}
    assert report["global_maxconn_from"].startswith("global 'maxconn' at ")


def test_text_on_the_seed_example(tmp_path: Path) -> None:
    cfg = SEED.format(p1=18081, p2=18082, fullconn="fullconn 1024")
    out = _explain(tmp_path, cfg)
    path = tmp_path / "h.cfg"
    assert out == (
        "Configuration file is valid\n"
        f"global maxconn 81920 (global 'maxconn' at {path}:2)\n"
        "\n"
        f"frontend fe1: maxconn 1024 (its 'maxconn' at {path}:12)\n"
        f"frontend fe2: maxconn 1000 (its 'maxconn' at {path}:17)\n"
        "\n"
        f"backend app: fullconn 1024 (its 'fullconn' at {path}:21)\n"
        "  reached by 1024 (fe1, default_backend) + 1000 (fe2, default_backend); "
        "without 'fullconn' it would be 203\n"
        "  server s1: minconn 10 maxconn 100 (dynamic: max(10, beconn * 100 / 1024), "
        "100 from beconn 1024 on)\n"
        "    limit at 0% of fullconn (beconn 0): 10, 25% of fullconn (beconn 256): 25, "
        "50% of fullconn (beconn 512): 50, 75% of fullconn (beconn 768): 75, "
        "100% of fullconn (beconn 1024): 100\n"
        "    queue: unbounded\n"
        "    checks: first at +0 ms; then every 2000 ms when up, 2000 ms while going up "
        "or down, 2000 ms when down (rise 2, fall 3)\n"
        "  server s2: minconn 1000 maxconn 10000 (dynamic: max(1000, beconn * 10000 / 1024), "
        "10000 from beconn 1024 on)\n"
        "    limit at 0% of fullconn (beconn 0): 1000, 25% of fullconn (beconn 256): 2500, "
        "50% of fullconn (beconn 512): 5000, 75% of fullconn (beconn 768): 7500, "
        "100% of fullconn (beconn 1024): 10000\n"
        "    queue: unbounded\n"
        "    checks: first at +1000 ms; then every 2000 ms when up, 2000 ms while going up "
        "or down, 2000 ms when down (rise 2, fall 3)\n"
    )


def test_computed_global_maxconn_says_how(tmp_path: Path) -> None:
    cfg = "global\n    ulimit-n 10000\n" + SEED.split("\n", 2)[2].format(
        p1=free_port(), p2=free_port(), fullconn=""
    )
    report = json.loads(_explain(tmp_path, cfg, "json"))
    # 2 binds and 2 checks reserved: 2 * (10000 - 4) / 5
    assert report["global_maxconn"] == 3998
    assert report["global_maxconn_from"] == (
        "computed: max(100, 2 * (10000 descriptors from global 'ulimit-n' - "
        "4 for listeners and checks) / 5)"
    )
