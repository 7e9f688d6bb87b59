"""TLS keywords as ``-c`` reports them (``cfgparse-ssl.c``, ``ssl_ckch.c``,
``ssl_crtlist.c``, ``ssl_sock_prepare_bind_conf()``, ``ssl_sock_prepare_srv_ctx()``):
missing or unusable files with their file:line, bad values, the post-parse checks.

The certificates are made by the tests (``tests/tlscerts.py``) and written beside
the configuration; the texts were captured from the 2.6.12 binary and
tests/integration/test_config_vs_haproxy.py runs every case through it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from configcase import (
    DEFAULTS,
    FATAL_PARSE,
    FATAL_POST,
    Case,
    case,
    check_herdsman,
    params,
    refused,
    section,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tlscerts

FILES = {
    name: tlscerts.read(name)
    for name in ("a.pem", "b.pem", "c.pem", "ca.pem", "cert-only.pem", "junk.pem", "client.pem")
}
LIST = b"a.pem\nb.pem [alpn h2 verify none] b.test !c.test\nc.pem\n"
FILES["l.lst"] = LIST
FILES["bad.lst"] = b"a.pem [foo] x\n"
FILES["missing.lst"] = b"a.pem\nnope.pem\n"
FILES["nolf.lst"] = b"a.pem"
FE = "frontend fe"
BE = "backend be"


def tls(id: str, header: str, line: str, *messages: str, rc: int | None = None) -> Case:
    return case(id, section(header, line), *messages, rc=rc, files=FILES)


B = "parsing [F:7] : 'bind :19443' in section 'frontend' : "
S = "[F:7] : 'server be/s1' : "
VERIFY = (
    "verify is enabled by default but no CA file specified. If you're running on a LAN where "
    "you're certain to trust the server's certificate, please set an explicit 'verify none' "
    "statement on the 'server' line, or use 'ssl-server-verify none' in the global section to "
    "disable server-side verifications by default."
)

ALL: list[Case] = [
    tls("ok", FE, "bind :19443 ssl crt a.pem crt b.pem alpn h2,http/1.1 strict-sni", rc=0),
    tls("crt-list", FE, "bind :19443 ssl crt-list l.lst ca-file ca.pem verify optional", rc=0),
    tls(
        "no-crt",
        FE,
        "bind :19443 ssl",
        "Proxy 'fe': no SSL certificate specified for bind ':19443' at [F:7] (use 'crt').",
        *FATAL_POST,
    ),
    tls(
        "strict-no-crt",
        FE,
        "bind :19443 ssl strict-sni",
        "WARNING: Proxy 'fe': no SSL certificate specified for bind ':19443' at [F:7], ssl "
        "connections will fail (use 'crt').",
    ),
    tls(
        "crt-missing",
        FE,
        "bind :19443 ssl crt nope.pem",
        B + "unable to stat SSL certificate from file 'nope.pem' : No such file or directory.",
        *FATAL_PARSE,
    ),
    tls(
        "crt-junk",
        FE,
        "bind :19443 ssl crt junk.pem",
        B + "unable to load certificate from file 'junk.pem'.",
        *FATAL_PARSE,
    ),
    tls(
        "crt-no-key",
        FE,
        "bind :19443 ssl crt cert-only.pem",
        B + "No Private Key found in 'cert-only.pem.key'.",
        *FATAL_PARSE,
    ),
    tls(
        "crt-empty",
        FE,
        "bind :19443 ssl crt",
        B + "'crt' : missing certificate location",
        *FATAL_PARSE,
    ),
    tls(
        "ca-missing",
        FE,
        "bind :19443 ssl crt a.pem ca-file nope verify required",
        "Couldn't open the ca-file 'nope' (No such file or directory).",
        B + "'ca-file' : unable to load nope",
        *FATAL_PARSE,
    ),
    tls(
        "ca-junk",
        FE,
        "bind :19443 ssl crt a.pem ca-file junk.pem",
        "Couldn't open the ca-file 'junk.pem' (no certificate or crl found).",
        B + "'ca-file' : unable to load junk.pem",
        *FATAL_PARSE,
    ),
    tls(
        "crl-missing",
        FE,
        "bind :19443 ssl crt a.pem crl-file nope",
        "Couldn't open the ca-file 'nope' (No such file or directory).",
        B + "'crl-file' : unable to load nope",
        *FATAL_PARSE,
    ),
    tls(
        "verify-bad",
        FE,
        "bind :19443 ssl crt a.pem verify foo",
        B + "'verify' : unknown verify method 'foo', only 'none', 'optional', and 'required' "
        "are supported",
        *FATAL_PARSE,
    ),
    tls(
        "verify-no-ca",
        FE,
        "bind :19443 ssl crt a.pem crt b.pem verify required",
        "Proxy 'fe': verify is enabled but no CA file specified for bind ':19443' at [F:7].\n"
        "Proxy 'fe': verify is enabled but no CA file specified for bind ':19443' at [F:7].\n"
        "Proxy 'fe': verify is enabled but no CA file specified for bind ':19443' at [F:7].",
        *FATAL_POST,
    ),
    tls(
        "crt-list-bad-keyword",
        FE,
        "bind :19443 ssl crt-list bad.lst",
        B + "'crt-list' : parsing [bad.lst:1]: unknown ssl keyword foo",
        *FATAL_PARSE,
    ),
    tls(
        "crt-list-missing-crt",
        FE,
        "bind :19443 ssl crt-list missing.lst",
        B + "'crt-list' : unable to stat SSL certificate from file 'nope.pem' : No such file "
        "or directory.",
        *FATAL_PARSE,
    ),
    tls(
        "crt-list-missing",
        FE,
        "bind :19443 ssl crt-list nope.lst",
        B + "'crt-list' : cannot open file 'nope.lst' : No such file or directory",
        *FATAL_PARSE,
    ),
    tls(
        "crt-list-no-lf",
        FE,
        "bind :19443 ssl crt-list nolf.lst",
        B + "'crt-list' : parsing [nolf.lst:1]: Missing LF on last line, file might have been "
        "truncated at position 6.",
        *FATAL_PARSE,
    ),
    tls(
        "alpn-empty",
        FE,
        "bind :19443 ssl crt a.pem alpn",
        B + "'alpn' : missing the comma-delimited ALPN protocol suite",
        *FATAL_PARSE,
    ),
    tls(
        "version-bad",
        FE,
        "bind :19443 ssl crt a.pem ssl-min-ver TLSv9",
        B + "'TLSv9' : unknown ssl/tls version",
        *FATAL_PARSE,
    ),
    tls(
        "ciphers-bad",
        FE,
        "bind :19443 ssl crt a.pem ciphers FOO",
        "Proxy 'fe': unable to set SSL cipher list to 'FOO' for bind ':19443' at [F:7].\n"
        "Proxy 'fe': unable to set SSL cipher list to 'FOO' for bind ':19443' at [F:7].",
        *FATAL_POST,
    ),
    tls(
        "curves-bad",
        FE,
        "bind :19443 ssl crt a.pem curves FOO",
        "Proxy 'fe': unable to set SSL curves list to 'FOO' for bind ':19443' at [F:7].\n"
        "Proxy 'fe': unable to set SSL curves list to 'FOO' for bind ':19443' at [F:7].",
        *FATAL_POST,
    ),
    tls(
        "all-disabled",
        FE,
        "bind :19443 ssl crt a.pem ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2",
        "Proxy 'fe': all SSL/TLS versions are disabled for bind ':19443' at [F:7].",
        *FATAL_POST,
    ),
    tls(
        "no-flags-ignored",
        FE,
        "bind :19443 ssl crt a.pem force-tlsv12 no-tlsv12",
        "WARNING: Proxy 'fe': no-sslv3/no-tlsv1x are ignored for bind ':19443' at [F:7]. Use "
        "only 'ssl-min-ver' and 'ssl-max-ver' to fix.",
    ),
    tls("server-verify-default", BE, "server s1 127.0.0.1:443 ssl", S + VERIFY, *FATAL_POST),
    tls("server-ok", BE, "server s1 127.0.0.1:443 ssl verify none sni str(x) alpn h2", rc=2),
    tls(
        "server-verify-bad",
        BE,
        "server s1 127.0.0.1:443 ssl verify foo",
        S + "'verify' : unknown verify method 'foo', only 'none' and 'required' are supported.",
        *FATAL_PARSE,
    ),
    tls(
        "server-ca-missing",
        BE,
        "server s1 127.0.0.1:443 ssl ca-file nope",
        S + "Couldn't open the ca-file 'nope' (No such file or directory).",
        "'ca-file' : unable to load nope.",
        *FATAL_PARSE,
    ),
    tls(
        "server-crt-missing",
        BE,
        "server s1 127.0.0.1:443 ssl ca-file ca.pem crt nope.pem",
        S + "unable to stat SSL certificate from file 'nope.pem' : No such file or directory.",
        *FATAL_POST,
    ),
    tls(
        "server-crt-junk",
        BE,
        "server s1 127.0.0.1:443 ssl verify none crt junk.pem",
        S + "unable to load certificate from file 'junk.pem'.",
        *FATAL_POST,
    ),
    tls(
        "server-sni-empty",
        BE,
        "server s1 127.0.0.1:443 ssl verify none sni",
        S + "'sni' : missing sni expression.",
        *FATAL_PARSE,
    ),
    case(
        "crt-base",
        "global\n    crt-base .\n    ca-base .\n"
        + DEFAULTS
        + "frontend fe\n    bind :19443 ssl crt a.pem ca-file ca.pem verify required\n",
        rc=0,
        files=FILES,
    ),
    case(
        "crt-base-twice",
        "global\n    crt-base .\n    crt-base /tmp\n" + DEFAULTS,
        "parsing [F:3] : 'crt-base' already specified.",
        *FATAL_PARSE,
        files=FILES,
    ),
    case(
        "default-options-bad",
        "global\n    ssl-default-bind-options no-sslv3 foo\n" + DEFAULTS,
        "parsing [F:2] : unknown option 'foo' on global statement 'ssl-default-bind-options'.",
        *FATAL_PARSE,
    ),
    case(
        "dh-param-missing",
        "global\n    ssl-dh-param-file nope\n" + DEFAULTS,
        "parsing [F:2] : 'ssl-dh-param-file': unable to load DH parameters from file <nope>.",
        *FATAL_PARSE,
    ),
    case(
        "server-verify-bad-global",
        "global\n    ssl-server-verify foo\n" + DEFAULTS,
        "parsing [F:2] : 'ssl-server-verify' expects 'none' or 'required' as argument.",
        *FATAL_PARSE,
    ),
    case(
        "global-defaults",
        "global\n    ssl-server-verify none\n    ssl-default-bind-ciphers FOO\n"
        + DEFAULTS
        + "frontend fe\n    bind :19443 ssl crt a.pem\n",
        "Proxy 'fe': unable to set SSL cipher list to 'FOO' for bind ':19443' at [F:10].\n"
        "Proxy 'fe': unable to set SSL cipher list to 'FOO' for bind ':19443' at [F:10].",
        *FATAL_POST,
        files=FILES,
    ),
]


# What herdsman refuses (haproxy accepts these).
H2 = "HTTP/2 is not implemented in herdsman yet; remove it or use haproxy."
ALL += [
    refused(
        "bind-alpn-h2-http",
        section(FE, "mode http", "bind :19443 ssl crt a.pem alpn h2,http/1.1"),
        f"Proxy 'fe': 'alpn h2' for bind ':19443' at [F:8]: {H2}",
        *FATAL_POST,
        why="herdsman speaks HTTP/1 only",
        files=FILES,
    ),
    refused(
        "server-alpn-h2-http",
        section(BE, "mode http", "server s1 127.0.0.1:443 ssl verify none alpn h2"),
        f"[F:8] : 'server be/s1' : 'alpn h2': {H2}",
        *FATAL_POST,
        why="herdsman speaks HTTP/1 only",
        rc=2,
    ),
    refused(
        "server-sni-expression",
        section(BE, "server s1 127.0.0.1:443 ssl verify none sni req.hdr(host)"),
        "[F:7] : 'server be/s1' : 'sni req.hdr(host)' is not implemented in herdsman yet (sample "
        "fetches of the routing engine; 'sni str(<name>)' is); remove it or use haproxy.",
        *FATAL_POST,
        why="sample expressions wait for the routing engine",
        rc=2,
    ),
]


@pytest.mark.parametrize("c", params(ALL))
def test_tls_keywords(c: Case, tmp_path: Path) -> None:
    check_herdsman(c, tmp_path)
