"""TLS keywords of bind lines, crt-list lines, server lines and the global section
(``cfgparse-ssl.c``, ``ssl_crtlist.c``, ``ssl_ckch.c`` of HAProxy 2.6), with 2.6's
messages.

As in HAProxy, certificate files, CA files and CRL files are read while the
line is parsed, so a missing or unusable file is reported at its line; the
post-parse checks (``check_bind()``, ``check_server()``) are those of
``ssl_sock_prepare_bind_conf()`` and ``ssl_sock_prepare_srv_ctx()``. Every
certificate file is read once (``config.certs``, HAProxy's ckch store).
"""

from __future__ import annotations

import os
import re
import ssl
import stat

from herdsman.config.diag import ConfigError, Diagnostics, Err
from herdsman.config.keywords import Ctx
from herdsman.config.model import BindConfig, Config, Mode, ProxyConfig, ServerConfig
from herdsman.tls import openssl
from herdsman.tls.context import DEFAULT_MIN, VERSION_TEXT, effective_range
from herdsman.tls.model import (
    VERSION_FLAGS,
    VERSION_NAMES,
    CrtEntry,
    Methods,
    TlsBind,
    TlsGlobal,
    TlsOptions,
    TlsServer,
    Verify,
    Version,
)
from herdsman.tls.pem import CkchError, load_ckch_file, read_pem
from herdsman.tls.store import CertStore, CrtList

# keywords of a crt-list line's [options] (ssl_bind_kws[]), also bind keywords
LINE_KEYWORDS = (
    "alpn", "ca-file", "ciphers", "ciphersuites", "crl-file", "curves", "no-ca-names",
    "ssl-min-ver", "ssl-max-ver", "verify",
)  # fmt: skip
BIND_KEYWORDS = (
    "ssl", "crt", "crt-list", "strict-sni", "prefer-client-ciphers", "no-tls-tickets",
    *LINE_KEYWORDS,
    *(f"{p}-{v}" for p in ("no", "force") for v in VERSION_FLAGS),
)  # fmt: skip
SERVER_KEYWORDS = (
    "ssl", "no-ssl", "verify", "verifyhost", "ca-file", "crl-file", "crt", "sni", "alpn",
    "ciphers", "ciphersuites", "ssl-min-ver", "ssl-max-ver", "ssl-reuse", "no-ssl-reuse",
    "tls-tickets", "no-tls-tickets", "check-ssl", "no-check-ssl", "check-sni", "check-alpn",
    *(f"{p}-{v}" for p in ("no", "force") for v in VERSION_FLAGS),
)  # fmt: skip
_SNI_STR = re.compile(r"str\(([^()]*)\)")


class Reported(Exception):
    """The error was printed already (as 2.6 does, in two alerts): stop the line."""


def base_path(base: str | None, arg: str) -> str:
    return f"{base}/{arg}" if base and not arg.startswith("/") else arg


def _openssl_reason(exc: ssl.SSLError) -> str:
    """``ERR_reason_error_string()`` of a Python SSLError: "no certificate or crl found"."""
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    text = text.split("] ", 1)[-1]
    return text.split(" (_ssl.c", 1)[0]


def load_cafile(diag: Diagnostics, path: str, prefix: str = "") -> bool:
    """``ssl_store_load_locations_file()``: a CA (or CRL) file or directory OpenSSL
    can load; its own alert otherwise (``prefix`` is a server line's context)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        diag.alert(f"{prefix}Couldn't open the ca-file '{path}' ({os.strerror(exc.errno or 0)}).")
        return False
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        if stat.S_ISDIR(st.st_mode):
            ctx.load_verify_locations(capath=path)
        else:
            ctx.load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        diag.alert(f"{prefix}Couldn't open the ca-file '{path}' ({_openssl_reason(exc)}).")
        return False
    return True


def parse_alpn(arg: str) -> tuple[str, ...]:
    """``ssl_sock_parse_alpn()``: comma-separated names of at most 255 bytes."""
    if not arg:
        raise ConfigError("missing the comma-delimited ALPN protocol suite")
    names = tuple(arg.split(","))
    for name in names:
        if len(name.encode()) > 255:
            raise ConfigError(f"ALPN protocol name too long : '{name}'")
    return names


def _minmax(m: Methods, kw: str, arg: str) -> None:
    """``parse_tls_method_minmax()``."""
    if not arg:
        raise ConfigError(f"'{kw}' : missing the ssl/tls version")
    v = VERSION_NAMES.get(arg)
    if v is None:
        raise ConfigError(f"'{arg}' : unknown ssl/tls version")
    if kw == "ssl-min-ver":
        m.min = v
    else:
        m.max = v


def _method_flag(m: Methods, word: str) -> bool:
    """``parse_tls_method_options()``: ``no-<v>`` disables, ``force-<v>`` pins."""
    prefix, _, ver = word.partition("-")
    v = VERSION_FLAGS.get(ver)
    if v is None or prefix not in ("no", "force"):
        return False
    if prefix == "no":
        m.disabled.add(v)
    else:
        m.min = m.max = v
    return True


def _need(kw: str, arg: str, what: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' : missing {what}")


# -- options common to bind lines and crt-list lines ------------------------------------


def line_option(config: Config, diag: Diagnostics, o: TlsOptions, kw: str, arg: str) -> None:
    """One ``ssl_bind_kws[]`` keyword into ``o``; ConfigError with 2.6's text."""
    g = config.global_.tls
    if kw == "alpn":
        try:
            o.alpn = parse_alpn(arg)
        except ConfigError as err:
            raise ConfigError(f"'{kw}' : {err.message}") from None
    elif kw in ("ca-file", "crl-file"):
        _need(kw, arg, "CAfile path" if kw == "ca-file" else "CRLfile path")
        path = base_path(g.ca_base, arg)
        if not load_cafile(diag, path):
            raise ConfigError(f"'{kw}' : unable to load {path}")
        if kw == "ca-file":
            o.ca_file = path
        else:
            o.crl_file = path
    elif kw in ("ciphers", "ciphersuites"):
        _need(kw, arg, "cipher suite")
        setattr(o, kw, arg)
    elif kw == "curves":
        _need(kw, arg, "curve suite")
        o.curves = arg
    elif kw in ("ssl-min-ver", "ssl-max-ver"):
        _minmax(o.methods, kw, arg)
    elif kw == "verify":
        _need(kw, arg, "verify method")
        try:
            o.verify = Verify(arg)
        except ValueError:
            raise ConfigError(
                f"'{kw}' : unknown verify method '{arg}', only 'none', 'optional', and "
                "'required' are supported\n"
            ) from None
    elif kw == "no-ca-names":
        o.no_ca_names = True


# -- bind lines ------------------------------------------------------------------------------


def bind_keyword(ctx: Ctx, b: BindConfig, kw: str, arg: str) -> None:
    """A TLS keyword of a bind line."""
    tb = b.tls
    if tb is None:
        tb = b.tls = TlsBind()
    g = ctx.global_.tls
    if kw == "ssl":
        _enable_ssl(tb, g)
    elif kw == "crt":
        _need(kw, arg, "certificate location")
        before = len(tb.crts)
        load_crt(ctx, tb, base_path(g.crt_base, arg))
        _dh_warnings(ctx.config, tb.crts[before:])
    elif kw == "crt-list":
        _need(kw, arg, "certificate location")
        before = len(tb.crts)
        try:
            load_crt_list(ctx.config, ctx.diag, tb, arg)
        except ConfigError as err:
            raise ConfigError(f"'{kw}' : {err.message}") from None
        _dh_warnings(ctx.config, tb.crts[before:])
    elif kw == "strict-sni":
        tb.strict_sni = True
    elif kw == "prefer-client-ciphers":
        tb.prefer_client_ciphers = True
    elif kw == "no-tls-tickets":
        tb.no_tls_tickets = True
    elif _method_flag(tb.opts.methods, kw):
        pass
    else:
        line_option(ctx.config, ctx.diag, tb.opts, kw, arg)


def _dh_warnings(config: Config, entries: list[CrtEntry]) -> None:
    """``ssl_sock_load_dh_params()`` with OpenSSL 3: 1024-bit parameters are refused,
    so ``tune.ssl.default-dh-param 1024`` warns for each certificate without its own."""
    g = config.global_.tls
    if g.dh_pem is not None or not 0 < g.default_dh_param <= 1024:
        return
    text = ""
    for e in entries:
        if config.certs.files[e.path].dh_pem is None:
            text += (
                f"unable to load default 1024 bits DH parameter for certificate '{e.path}'.\n"
                ", DH ciphers won't be available.\n"
            )
    if text:
        raise ConfigError(text, Err.WARN)


def _enable_ssl(tb: TlsBind, g: TlsGlobal) -> None:
    """``bind_parse_ssl()``: the global defaults fill what the line did not set so far."""
    tb.enabled = True
    d = g.bind
    o = tb.opts
    o.ciphers = o.ciphers or d.ciphers
    o.curves = o.curves or d.curves
    o.ciphersuites = o.ciphersuites or d.ciphersuites
    tb.prefer_client_ciphers |= g.bind_prefer_client_ciphers
    tb.no_tls_tickets |= g.bind_no_tls_tickets
    o.methods.disabled |= d.methods.disabled
    o.methods.min = o.methods.min or d.methods.min
    o.methods.max = o.methods.max or d.methods.max


def _load_file(store: CertStore, path: str) -> None:
    if path not in store.files:
        try:
            store.files[path] = load_ckch_file(path)
        except CkchError as err:
            raise ConfigError(str(err)) from None


def load_crt(ctx: Ctx, tb: TlsBind, path: str) -> None:
    """``ssl_sock_load_cert()``: a file, or a directory of files in name order."""
    store = ctx.config.certs
    if path in store.files:
        tb.crts.append(CrtEntry(path))
        store.bind_files.add(path)
        return
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ConfigError(
            f"unable to stat SSL certificate from file '{path}' : {os.strerror(exc.errno or 0)}.\n"
        ) from None
    if not stat.S_ISDIR(st.st_mode):
        _load_file(store, path)
        tb.crts.append(CrtEntry(path))
        store.bind_files.add(path)
        return
    crtlist = store.crtlists.get(path)
    if crtlist is None:
        crtlist = CrtList(path, is_dir=True)
        try:
            names = sorted(os.listdir(path), key=os.fsencode)  # scandir() with alphasort
        except OSError as exc:
            raise ConfigError(
                f"unable to scan directory '{path}' : {os.strerror(exc.errno or 0)}.\n"
            ) from None
        for name in names:
            ext = name.rsplit(".", 1)[-1] if "." in name else None
            if ext is not None and (
                name.startswith(".") or ext in ("issuer", "ocsp", "sctl", "key")
            ):
                continue
            fp = f"{path}/{name}"
            try:
                if not stat.S_ISREG(os.stat(fp).st_mode):
                    continue
            except OSError as exc:
                raise ConfigError(
                    f"unable to stat SSL certificate from file '{fp}' : "
                    f"{os.strerror(exc.errno or 0)}.\n"
                ) from None
            _load_file(store, fp)
            crtlist.entries.append(CrtEntry(fp, source=path))
        store.crtlists[path] = crtlist
    for entry in crtlist.entries:
        tb.crts.append(CrtEntry(entry.path, source=path))
        store.bind_files.add(entry.path)


def _split_line(line: str, file: str, n: int) -> tuple[list[str], int, int]:
    """``crtlist_parse_line()``'s tokenizer: (words, index of "[" word, of "]" word)."""
    args: list[str] = []
    ssl_b = ssl_e = 0
    cur: list[str] | None = None
    for ch in line:
        if ch.isspace():
            cur = None
        elif ch == "[":
            if ssl_b:
                raise ConfigError(f"parsing [{file}:{n}]: too many '['")
            if not args:
                raise ConfigError(f"parsing [{file}:{n}]: file must start with a cert")
            ssl_b = len(args)
            cur = None
        elif ch == "]":
            if ssl_e:
                raise ConfigError(f"parsing [{file}:{n}]: too many ']'")
            if not ssl_b:
                raise ConfigError(f"parsing [{file}:{n}]: missing '['")
            ssl_e = len(args)
            cur = None
        elif cur is None:
            cur = [ch]
            args.append("")
            args[-1] = ch
        else:
            args[-1] += ch
    return args, ssl_b, ssl_e


def load_crt_list(config: Config, diag: Diagnostics, tb: TlsBind, path: str) -> None:
    """``crtlist_parse_file()``: one instance per line, with its options and filters."""
    store = config.certs
    g = config.global_.tls
    crtlist = store.crtlists.get(path)
    if crtlist is None:
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape")
        except OSError as exc:
            raise ConfigError(
                f"cannot open file '{path}' : {os.strerror(exc.errno or 0)}"
            ) from None
        crtlist = CrtList(path, is_dir=False)
        lines = text.split("\n")
        last = len(lines) - 1
        for n, line in enumerate(lines, 1):
            if n - 1 == last and not line:
                break
            if line.startswith(("#", "\r")) or not line:
                continue
            if n - 1 == last:
                raise ConfigError(
                    f"parsing [{path}:{n}]: Missing LF on last line, file might have been "
                    f"truncated at position {len(line) + 1}.\n"
                )
            crtlist.entries.extend(_crt_list_line(config, diag, g, path, n, line))
        store.crtlists[path] = crtlist
    for entry in crtlist.entries:
        tb.crts.append(entry)
        store.bind_files.add(entry.path)


def _crt_list_line(
    config: Config, diag: Diagnostics, g: TlsGlobal, file: str, n: int, line: str
) -> list[CrtEntry]:
    args, ssl_b, ssl_e = _split_line(line, file, n)
    if not args:
        return []
    opts: TlsOptions | None = None
    cur = ssl_b if ssl_b else 1
    if ssl_b:
        opts = TlsOptions(text=" ".join(args[ssl_b:ssl_e]))
        while cur < ssl_e:
            word = args[cur]
            if word not in LINE_KEYWORDS:
                raise ConfigError(f"parsing [{file}:{n}]: unknown ssl keyword {word}")
            takes = 0 if word == "no-ca-names" else 1
            arg = args[cur + 1] if takes and cur + 1 < len(args) else ""
            line_option(config, diag, opts, word, arg)
            if cur + 1 + takes > ssl_e:
                raise ConfigError(f"parsing [{file}:{n}]: ssl args out of '[]' for {word}")
            cur += 1 + takes
    crt = base_path(g.crt_base, args[0])
    store = config.certs
    if crt not in store.files:
        try:
            os.stat(crt)
        except OSError as exc:
            raise ConfigError(
                f"unable to stat SSL certificate from file '{crt}' : "
                f"{os.strerror(exc.errno or 0)}.\n"
            ) from None
        _load_file(store, crt)
    return [CrtEntry(crt, tuple(args[cur:]), opts, file, n)]


# -- server lines ------------------------------------------------------------------------------


def server_keyword(ctx: Ctx, srv: ServerConfig, kw: str, arg: str, prefix: str) -> None:
    """A TLS keyword of a server line; ConfigError with 2.6's text."""
    ts = srv.tls
    g = ctx.global_.tls
    if kw == "ssl":
        ts.enabled = True
        _init_server(ts, g)
    elif kw == "no-ssl":
        ts.enabled = False
    elif kw == "check-ssl":
        srv.check_ssl = 1
        _init_server(ts, g)
    elif kw == "no-check-ssl":
        srv.check_ssl = -1
    elif kw == "verify":
        _need(kw, arg, "verify method")
        if arg not in ("none", "required"):
            raise ConfigError(
                f"'{kw}' : unknown verify method '{arg}', only 'none' and 'required' are supported\n"
            )
        ts.verify = Verify(arg)
    elif kw == "verifyhost":
        _need(kw, arg, "hostname to verify against")
        ts.verifyhost = arg
    elif kw in ("ca-file", "crl-file"):
        _need(kw, arg, "CAfile path" if kw == "ca-file" else "CRLfile path")
        path = base_path(g.ca_base, arg)
        if not load_cafile(ctx.diag, path, prefix):
            # the second alert has no server context (2.6 prints it once)
            ctx.diag.alert(f"'{kw}' : unable to load {path}.", Err.ALERT | Err.FATAL)
            raise Reported
        setattr(ts, kw.replace("-file", "_file"), path)
    elif kw == "crt":
        _need(kw, arg, "certificate file path")
        ts.crt = base_path(g.crt_base, arg)
    elif kw == "sni":
        _need(kw, arg, "sni expression")
        ts.sni = arg
    elif kw in ("alpn", "check-alpn"):
        try:
            alpn = parse_alpn(arg)
        except ConfigError as err:
            raise ConfigError(f"'{kw}' : {err.message}") from None
        if kw == "alpn":
            ts.alpn = alpn
        else:
            srv.check_alpn = arg
    elif kw == "check-sni":
        _need(kw, arg, "SNI")
        srv.check_sni = arg
    elif kw in ("ciphers", "ciphersuites"):
        _need(kw, arg, "cipher suite")
        setattr(ts, kw, arg)
    elif kw in ("ssl-min-ver", "ssl-max-ver"):
        _minmax(ts.methods, kw, arg)
    elif kw in ("ssl-reuse", "no-ssl-reuse"):
        ts.reuse = kw == "ssl-reuse"
    elif kw in ("tls-tickets", "no-tls-tickets"):
        ts.tickets = kw == "tls-tickets"
    else:
        _method_flag(ts.methods, kw)


def _init_server(ts: TlsServer, g: TlsGlobal) -> None:
    """``ssl_sock_init_srv()``: the global server defaults fill what is unset."""
    d = g.server
    ts.ciphers = ts.ciphers or d.ciphers
    ts.ciphersuites = ts.ciphersuites or d.ciphersuites
    if g.server_no_tls_tickets:
        ts.tickets = False
    ts.methods.disabled |= d.methods.disabled
    ts.methods.min = ts.methods.min or d.methods.min
    ts.methods.max = ts.methods.max or d.methods.max


def sni_constant(expr: str) -> str | None:
    """The value of a ``sni`` expression herdsman evaluates today: ``str(<text>)``.
    Other sample expressions need the routing engine (fetches and converters)."""
    m = _SNI_STR.fullmatch(expr)
    return m.group(1) if m else None


# -- post-parse --------------------------------------------------------------------------------


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


# -- global section ----------------------------------------------------------------------------


def dh_param_file(path: str) -> bytes:
    """``ssl-dh-param-file``: the first DH PARAMETERS block of a file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        data = b""
    for label, _der, text in read_pem(data):
        if label == b"DH PARAMETERS":
            return text
    raise ConfigError(f"'ssl-dh-param-file': unable to load DH parameters from file <{path}>.")


def default_options(tg: TlsGlobal, kw: str, args: list[str]) -> None:
    """``ssl-default-bind-options`` / ``ssl-default-server-options``."""
    bind = kw == "ssl-default-bind-options"
    m = (tg.bind if bind else tg.server).methods
    if len(args) < 2 or not args[1]:
        raise ConfigError(f"global statement '{kw}' expects an option as an argument.")
    i = 1
    while i < len(args) and args[i]:
        word = args[i]
        if word == "no-tls-tickets":
            if bind:
                tg.bind_no_tls_tickets = True
            else:
                tg.server_no_tls_tickets = True
        elif word == "prefer-client-ciphers" and bind:
            tg.bind_prefer_client_ciphers = True
        elif word in ("ssl-min-ver", "ssl-max-ver"):
            try:
                _minmax(m, word, args[i + 1] if i + 1 < len(args) else "")
            except ConfigError as err:
                raise ConfigError(f"{err.message} on global statement '{kw}'.") from None
            i += 1
        elif not _method_flag(m, word):
            raise ConfigError(f"unknown option '{word}' on global statement '{kw}'.")
        i += 1


def global_keyword(ctx: Ctx, args: list[str]) -> None:
    """The TLS keywords of the global section."""
    kw = args[0]
    tg = ctx.global_.tls
    arg = args[1] if len(args) > 1 else ""
    if kw in ("ca-base", "crt-base"):
        attr = "ca_base" if kw == "ca-base" else "crt_base"
        if len(args) > 2 and args[2]:
            raise ConfigError(f"'{kw}' cannot handle unexpected argument '{args[2]}'.")
        if getattr(tg, attr) is not None:
            raise ConfigError(f"'{kw}' already specified.")
        if not arg:
            raise ConfigError(f"global statement '{kw}' expects a directory path as an argument.")
        setattr(tg, attr, arg)
    elif kw in ("ssl-default-bind-options", "ssl-default-server-options"):
        default_options(tg, kw, args)
    elif kw.startswith(("ssl-default-bind-", "ssl-default-server-")):
        side = tg.bind if kw.startswith("ssl-default-bind-") else tg.server
        what = kw.rsplit("-", 1)[1]  # ciphers, ciphersuites, curves
        if not arg:
            if what == "curves":
                raise ConfigError(
                    f"global statement '{kw}' expects a curves suite as an arguments."
                )
            raise ConfigError(f"global statement '{kw}' expects a cipher suite as an argument.")
        setattr(side, what, arg)
    elif kw == "ssl-dh-param-file":
        if not arg:
            raise ConfigError(f"'{kw}' expects a file path as an argument.")
        tg.dh_param_file = arg
        tg.dh_pem = dh_param_file(arg)
    elif kw == "ssl-server-verify":
        if arg not in ("none", "required"):
            raise ConfigError(f"'{kw}' expects 'none' or 'required' as argument.")
        tg.server_verify = Verify(arg)


GLOBAL_KEYWORDS = {
    "ca-base": "base directory of relative CA and CRL file paths",
    "crt-base": "base directory of relative certificate paths",
    "ssl-default-bind-options": "TLS options every `ssl` bind line starts with",
    "ssl-default-bind-ciphers": "TLS 1.2 cipher list of `ssl` bind lines without `ciphers`",
    "ssl-default-bind-ciphersuites": "TLS 1.3 cipher suites of `ssl` bind lines",
    "ssl-default-bind-curves": "key exchange groups of `ssl` bind lines",
    "ssl-default-server-options": "TLS options every `ssl` server starts with",
    "ssl-default-server-ciphers": "TLS 1.2 cipher list of `ssl` servers without `ciphers`",
    "ssl-default-server-ciphersuites": "TLS 1.3 cipher suites of `ssl` servers",
    "ssl-dh-param-file": "DH parameters of every TLS bind line without its own",
    "ssl-server-verify": "whether servers' certificates are verified by default (`required`)",
}
