"""TLS keywords of bind lines, crt-list lines and server lines (``cfgparse-ssl.c``,
``ssl_crtlist.c``, ``ssl_ckch.c`` of HAProxy 2.6), with 2.6's messages.

As in HAProxy, certificate files, CA files and CRL files are read while the
line is parsed, so a missing or unusable file is reported at its line; every
certificate file is read once (``config.certs``, HAProxy's ckch store). The
global section's TLS keywords are ``kw_tls_global.py``'s, the post-parse
checks ``tls_checks.py``'s.
"""

from __future__ import annotations

import os
import re
import ssl
import stat

from herdsman.config.diag import ConfigError, Diagnostics, Err
from herdsman.config.keywords import Ctx
from herdsman.config.model import BindConfig, Config, ServerConfig
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
)
from herdsman.tls.pem import CkchError, load_ckch_file
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


def minmax(m: Methods, kw: str, arg: str) -> None:
    """``parse_tls_methodminmax()``."""
    if not arg:
        raise ConfigError(f"'{kw}' : missing the ssl/tls version")
    v = VERSION_NAMES.get(arg)
    if v is None:
        raise ConfigError(f"'{arg}' : unknown ssl/tls version")
    if kw == "ssl-min-ver":
        m.min = v
    else:
        m.max = v


def method_flag(m: Methods, word: str) -> bool:
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
        minmax(o.methods, kw, arg)
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
    elif method_flag(tb.opts.methods, kw):
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
        minmax(ts.methods, kw, arg)
    elif kw in ("ssl-reuse", "no-ssl-reuse"):
        ts.reuse = kw == "ssl-reuse"
    elif kw in ("tls-tickets", "no-tls-tickets"):
        ts.tickets = kw == "tls-tickets"
    else:
        method_flag(ts.methods, kw)


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
