"""The certificate commands of the runtime API (``ssl_ckch.c``, ``ssl_crtlist.c`` of
HAProxy 2.6): ``show ssl cert``, ``set ssl cert`` / ``commit ssl cert`` /
``abort ssl cert`` (a certificate replaced without a reload: new handshakes get
the new one, established connections keep theirs), ``show ssl crt-list``.

One transaction at a time, as in HAProxy: ``set`` loads the payload into a
pending copy of the file, ``commit`` makes it live (the store rebuilds the
contexts of every bind line and server using the file), ``abort`` drops it.
Texts are HAProxy's, its typos included ("No ongoing transaction! !").
"""

from __future__ import annotations

from herdsman.admin.api.cli import PERMISSION_DENIED, Command, Level, Session, arg
from herdsman.admin.api.context import Api
from herdsman.tls.context import VERSION_TEXT
from herdsman.tls.model import CrtEntry, TlsOptions, Version
from herdsman.tls.pem import Ckch, CkchError, check_key, load_ckch_pem
from herdsman.tls.x509 import dn_oneline

NOT_FOUND = "Can't display the certificate: Not found or the certificate is a bundle!\n"


def _detail(path: str, ckch: Ckch, status: str) -> str:
    """``cli_io_handler_show_cert_detail()`` and ``show_cert_detail()``."""
    c = ckch.cert
    lines = [
        f"Filename: {path}",
        f"Status: {status}",
        f"Serial: {c.serial_hex}",
        f"notBefore: {c.not_before}",
        f"notAfter: {c.not_after}",
        f"Subject Alternative Name: {c.san_text}",
        f"Algorithm: {c.algorithm}",
        f"SHA1 FingerPrint: {c.sha1.hex().upper()}",
        f"Subject: {dn_oneline(c.subject)}",
        f"Issuer: {dn_oneline(c.issuer)}",
    ]
    for ca in ckch.chain:
        lines.append(f"Chain Subject: {dn_oneline(ca.subject)}")
        lines.append(f"Chain Issuer: {dn_oneline(ca.issuer)}")
    lines.append("OCSP Response Key: ")  # no OCSP response: an empty key
    return "\n".join(lines) + "\n"


def show_cert(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    store = api.config.certs
    if not session.allows(Level.OPER):
        return "Can't allocate memory!\n"  # sic: cli_parse_show_cert()
    name = arg(args, 3)
    if name:
        if name.startswith("*"):
            pending = store.pending
            if pending is None or pending[0] != name[1:]:
                return NOT_FOUND
            return _detail(name, pending[1], "Unused")
        ckch = store.files.get(name)
        if ckch is None:
            return NOT_FOUND
        return _detail(name, ckch, "Used" if store.used(name) else "Unused")
    out = ""
    if store.pending is not None:
        out += f"# transaction\n*{store.pending[0]}\n"
    out += "# filename\n" + "".join(f"{path}\n" for path in sorted(store.files, key=str.encode))
    return out


def set_cert(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    path = arg(args, 3)
    if not path or payload is None:
        return "'set ssl cert expects a filename and a certificate as a payload\n"
    store = api.config.certs
    pending = store.pending
    if pending is not None and pending[0] != path:
        return (
            f"The ongoing transaction is about '{pending[0]}' but you are trying to set "
            f"'{path}'\nCan't update {path}!\n"
        )
    if path not in store.files:
        return (
            "Can't replace a certificate which is not referenced by the configuration!\n"
            f"Can't update {path}!\n"
        )
    try:
        ckch = load_ckch_pem(payload.encode("utf-8", "surrogateescape"), path, key_file=False)
    except CkchError as err:
        return f"{err}Can't load the payload\nCan't update {path}!\n"
    store.pending = (path, ckch)
    word = "updated" if pending is not None else "created"
    return f"Transaction {word} for certificate {path}!\n"


def commit_cert(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    path = arg(args, 3)
    if not path:
        return "'commit ssl cert expects a filename\n"
    store = api.config.certs
    pending = store.pending
    if pending is None:
        return f"No ongoing transaction! !\nCan't commit {path}!\n"
    if pending[0] != path:
        return (
            f"The ongoing transaction is about '{pending[0]}' but you are trying to set "
            f"'{path}'\nCan't commit {path}!\n"
        )
    if not pending[1].key_pem:
        return (
            "The transaction must contain at least a certificate and a private key!\n"
            f"Can't commit {path}!\n"
        )
    try:
        check_key(pending[1], path)
    except CkchError as err:
        return f"{err}Can't commit {path}!\n"
    uses = _instances(api, path)
    store.commit()
    return f"Committing {path}" + "." * uses + "\nSuccess!\n"


def _instances(api: Api, path: str) -> int:
    """How many certificate instances use ``path`` (one "." each in the commit's
    progress): each bind line's, and each server's client certificate."""
    count = 0
    seen: set[object] = set()
    for px in api.config.proxies:
        for b in px.binds:
            if b.tls is None or b.loc in seen:
                continue
            seen.add(b.loc)
            count += sum(1 for e in b.tls.crts if e.path == path)
        count += sum(1 for s in px.servers if s.tls.crt == path)
    return count


def abort_cert(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    path = arg(args, 3)
    if not path:
        return "'abort ssl cert' expects a filename\n"
    store = api.config.certs
    pending = store.pending
    if pending is None:
        return "No ongoing transaction!\n"
    if pending[0] != path:
        return (
            f"The ongoing transaction is about '{pending[0]}' but you are trying to abort a "
            f"transaction for '{path}'\n"
        )
    store.pending = None
    return f"Transaction aborted for certificate '{path}'!\n"


def _sslconf(o: TlsOptions | None) -> str:
    """``dump_crtlist_sslconf()``: a crt-list line's options as 2.6 prints them
    (a NUL byte after the ALPN list, as its ``chunk_memcat(buf, "", 1)``)."""
    if o is None:
        return ""
    parts: list[str] = []
    if o.alpn is not None:
        parts.append("alpn " + ",".join(o.alpn) + "\0")
    if o.verify is not None:
        parts.append(f"verify {o.verify.value}")
    if o.no_ca_names:
        parts.append("no-ca-names")
    for label, value in (
        ("ca-file", o.ca_file),
        ("crl-file", o.crl_file),
        ("ciphers", o.ciphers),
        ("ciphersuites", o.ciphersuites),
        ("curves", o.curves),
    ):
        if value:
            parts.append(f"{label} {value}")
    if o.methods.min:
        parts.append(f"ssl-min-ver {VERSION_TEXT[Version(o.methods.min)]}")
    if o.methods.max:
        parts.append(f"ssl-max-ver {VERSION_TEXT[Version(o.methods.max)]}")
    return " [" + " ".join(parts) + "]"


def _entry(e: CrtEntry, numbers: bool) -> str:
    line = e.path + (f":{e.line}" if numbers else "") + _sslconf(e.opts)
    return line + "".join(f" {f}" for f in e.filters) + "\n"


def show_crt_list(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    numbers = arg(args, 3) == "-n"
    name = arg(args, 4) if numbers else arg(args, 3)
    if numbers and not name:
        return "'show ssl crt-list -n' expects a filename or a directory\n"
    lists = api.config.certs.crtlists
    if not name:
        return "".join(f"{path}\n" for path in sorted(lists, key=str.encode))
    crtlist = lists.get(name.rstrip("/"))
    if crtlist is None:
        return "didn't find the specified filename\n"
    return f"# {crtlist.path}\n" + "".join(_entry(e, numbers) for e in crtlist.entries)


COMMANDS: list[Command[Api]] = [
    Command(
        ("set", "ssl", "cert"),
        "set ssl cert <certfile> <payload>       : replace a certificate file",
        set_cert,
    ),
    Command(
        ("commit", "ssl", "cert"),
        "commit ssl cert <certfile>              : commit a certificate file",
        commit_cert,
    ),
    Command(
        ("abort", "ssl", "cert"),
        "abort ssl cert <certfile>               : abort a transaction for a certificate file",
        abort_cert,
    ),
    Command(
        ("show", "ssl", "cert"),
        "show ssl cert [<certfile>]              : display the SSL certificates used in memory, "
        "or the details of a file",
        show_cert,
    ),
    Command(
        ("show", "ssl", "crt-list"),
        "show ssl crt-list [-n] [<list>]         : show the list of crt-lists or the content of "
        "a crt-list file <list>",
        show_crt_list,
    ),
]
