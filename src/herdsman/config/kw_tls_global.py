"""The TLS keywords of the global section (``cfgparse-ssl.c`` of HAProxy 2.6):
``ca-base``, ``crt-base``, ``ssl-default-bind-*``, ``ssl-default-server-*``,
``ssl-dh-param-file``, ``ssl-server-verify``, with 2.6's messages. The defaults
are copied into each ``ssl`` bind line and server as they are parsed
(``kw_tls.py``).
"""

from __future__ import annotations

from herdsman.config.diag import ConfigError
from herdsman.config.keywords import Ctx
from herdsman.config.kw_tls import method_flag, minmax
from herdsman.tls.model import TlsGlobal, Verify
from herdsman.tls.pem import read_pem


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
                minmax(m, word, args[i + 1] if i + 1 < len(args) else "")
            except ConfigError as err:
                raise ConfigError(f"{err.message} on global statement '{kw}'.") from None
            i += 1
        elif not method_flag(m, word):
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
