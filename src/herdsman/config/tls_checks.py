"""The post-parse TLS checks of bind lines and servers (``ssl_sock_prepare_bind_conf()``,
``ssl_sock_prepare_srv_ctx()`` of HAProxy 2.6), with 2.6's messages: no certificate,
version ranges, ``verify`` without CA, cipher, cipher-suite and curve lists OpenSSL
refuses (one line per certificate instance plus one, as 2.6 prints them), client
certificates of servers, and what herdsman refuses (HTTP/2 ALPN, server ``sni``
expressions other than ``str()``).
"""

from __future__ import annotations

import os
import ssl

from herdsman.config.diag import Diagnostics
from herdsman.config.kw_tls import sni_constant
from herdsman.config.model import BindConfig, Config, Mode, ProxyConfig, ServerConfig
from herdsman.tls import openssl
from herdsman.tls.context import DEFAULT_MIN, VERSION_TEXT, effective_range
from herdsman.tls.model import TlsBind, TlsOptions, Verify, Version
from herdsman.tls.pem import CkchError, load_ckch_file


def check_bind(px: ProxyConfig, b: BindConfig, diag: Diagnostics, config: Config) -> None:
    """``ssl_sock_prepare_bind_conf()`` for one bind line (its first address)."""
    tb = b.tls
    if tb is None or not tb.enabled:
        return
    where = f"for bind '{b.arg}' at [{b.loc.file}:{b.loc.line}]"
    if not tb.crts:
        if tb.strict_sni:
            diag.warning(
                f"Proxy '{px.name}': no SSL certificate specified {where}, ssl connections "
                "will fail (use 'crt')."
            )
        else:
            diag.alert(f"Proxy '{px.name}': no SSL certificate specified {where} (use 'crt').")
            return
    m = tb.opts.methods
    if m.disabled and (m.min or m.max):
        diag.warning(
            f"Proxy '{px.name}': no-sslv3/no-tlsv1x are ignored {where}. Use only 'ssl-min-ver' "
            "and 'ssl-max-ver' to fix."
        )
    if not m.min and m.max and m.max < DEFAULT_MIN:
        diag.warning(
            f"Proxy '{px.name}': Ambiguous configuration {where}: the ssl-min-ver value is not "
            "configured and the ssl-max-ver value is lower than the default ssl-min-ver value "
            f"({VERSION_TEXT[DEFAULT_MIN]}). Setting the ssl-min-ver to "
            f"{VERSION_TEXT[Version(m.max)]}. Use 'ssl-min-ver' to fix this."
        )
    lo, _hi, holes = effective_range(m)
    for hole in holes:
        diag.warning(
            f"Proxy '{px.name}': SSL/TLS versions range not contiguous {where}. Hole find for "
            f"{hole}. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix."
        )
    if lo is None:
        diag.alert(f"Proxy '{px.name}': all SSL/TLS versions are disabled {where}.")
    if px.mode is Mode.HTTP and any(
        "h2" in (o.alpn or ()) for o in (tb.opts, *(e.opts for e in tb.crts if e.opts))
    ):
        diag.alert(
            f"Proxy '{px.name}': 'alpn h2' {where}: HTTP/2 is not implemented in herdsman yet; "
            "remove it or use haproxy."
        )
    # ssl_sock_prep_ctx_and_inst(): the initial context, then each instance
    errors: list[str] = []
    for opts in [None, *(e.opts for e in tb.crts)]:
        errors += _context_errors(px, tb, opts, where)
    if errors:
        diag.alert("\n".join(errors))


def _context_errors(px: ProxyConfig, tb: TlsBind, line: TlsOptions | None, where: str) -> list[str]:
    o = tb.opts

    def pick(name: str) -> str | None:
        value = getattr(line, name) if line is not None else None
        return str(value or getattr(o, name) or "") or None

    out = []
    verify = (line.verify if line is not None else None) or o.verify or Verify.NONE
    if verify is not Verify.NONE and not pick("ca_file"):
        out.append(f"Proxy '{px.name}': verify is enabled but no CA file specified {where}.")
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ciphers = pick("ciphers")
    if ciphers:
        try:
            probe.set_ciphers(ciphers)
        except ssl.SSLError:
            out.append(f"Proxy '{px.name}': unable to set SSL cipher list to '{ciphers}' {where}.")
    suites = pick("ciphersuites")
    if suites:
        try:
            openssl.set_ciphersuites(probe, suites)
        except openssl.OpenSSLError:
            out.append(
                f"Proxy '{px.name}': unable to set TLS 1.3 cipher suites to '{suites}' {where}."
            )
    curves = pick("curves")
    if curves:
        try:
            openssl.set_curves(probe, curves)
        except openssl.OpenSSLError:
            out.append(f"Proxy '{px.name}': unable to set SSL curves list to '{curves}' {where}.")
    return out


def check_server(px: ProxyConfig, srv: ServerConfig, diag: Diagnostics, config: Config) -> None:
    """``ssl_sock_prepare_srv_ctx()``: the client certificate, verify without CA."""
    ts = srv.tls
    if not (ts.enabled or srv.check_ssl == 1):
        return
    prefix = f"[{srv.loc.file}:{srv.loc.line}] : 'server {px.name}/{srv.name}' : "
    g = config.global_.tls
    if ts.crt is not None:
        store = config.certs
        if ts.crt not in store.files:
            try:
                os.stat(ts.crt)
                store.files[ts.crt] = load_ckch_file(ts.crt)
            except OSError as exc:
                diag.alert(
                    f"{prefix}unable to stat SSL certificate from file '{ts.crt}' : "
                    f"{os.strerror(exc.errno or 0)}."
                )
                return
            except CkchError as err:
                diag.alert(prefix + str(err).rstrip("\n"))
                return
        store.server_files.add(ts.crt)
    if (ts.verify or g.server_verify) is Verify.REQUIRED and not ts.ca_file:
        diag.alert(
            f"{prefix}verify is enabled by default but no CA file specified. If you're running on "
            "a LAN where you're certain to trust the server's certificate, please set an explicit "
            "'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the "
            "global section to disable server-side verifications by default."
        )
        return
    if px.mode is Mode.HTTP and "h2" in (ts.alpn or ()):
        diag.alert(
            f"{prefix}'alpn h2': HTTP/2 is not implemented in herdsman yet; remove it or use "
            "haproxy."
        )
    if ts.sni is not None and sni_constant(ts.sni) is None:
        diag.alert(
            f"{prefix}'sni {ts.sni}' is not implemented in herdsman yet (sample fetches of the "
            "routing engine; 'sni str(<name>)' is); remove it or use haproxy."
        )
