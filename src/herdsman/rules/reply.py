"""HTTP replies of rules (``http_parse_http_reply()``, ``http_reply_to_htx()``):
``deny``, ``tarpit``, ``return``, ``auth``, redirects.

A reply is either the proxy's error page for a status (``Errmsg``: the
``errorfile`` of the backend, else the frontend's, else HAProxy's message,
chosen by the data path) or a message built here at run time: the status
line with HAProxy's reason text, the ``hdr`` lines, ``content-length`` and
``content-type``, the body (a string, a file, or a log-format string). Header
names are lower case, as HTX holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from herdsman.http.errors import STATUSES, Reply
from herdsman.http.model import Flag
from herdsman.rules.parsing import ParseEnv, RuleError
from herdsman.sample.logformat import Piece
from herdsman.sample.txn import Txn

_REASONS = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing", 200: "OK", 201: "Created",
    202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content",
    205: "Reset Content", 206: "Partial Content", 207: "Multi-Status", 210: "Content Different",
    226: "IM Used", 300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily",
    303: "See Other", 304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect",
    308: "Permanent Redirect", 310: "Too many Redirects", 400: "Bad Request",
    401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required",
    408: "Request Time-out", 409: "Conflict", 410: "Gone", 411: "Length Required",
    412: "Precondition Failed", 413: "Request Entity Too Large", 414: "Request-URI Too Long",
    415: "Unsupported Media Type", 416: "Requested range unsatisfiable",
    417: "Expectation failed", 418: "I'm a teapot", 421: "Misdirected Request",
    422: "Unprocessable Content", 423: "Locked", 424: "Method failure", 425: "Too Early",
    426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 449: "Retry With",
    450: "Blocked by Windows Parental Controls", 451: "Unavailable For Legal Reasons",
    456: "Unrecoverable Error", 499: "client has closed connection",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway or Proxy Error",
    503: "Service Unavailable", 504: "Gateway Time-out", 505: "HTTP Version not supported",
    506: "Variant also negotiate", 507: "Insufficient storage", 508: "Loop detected",
    509: "Bandwidth Limit Exceeded", 510: "Not extended", 511: "Network authentication required",
    520: "Web server is returning an unknown error",
}  # fmt: skip


def reason(status: int) -> str:
    """``http_get_reason()``"""
    found = _REASONS.get(status)
    if found is not None:
        return found
    return {
        1: "Informational",
        2: "Success",
        3: "Redirection",
        4: "Client Error",
        5: "Server Error",
    }.get(status // 100, "Other")


@dataclass(frozen=True, slots=True)
class Errmsg:
    """The proxy's error page for ``status`` (``HTTP_REPLY_ERRMSG`` without a body),
    or that of an ``http-errors`` section (``errorfiles <name>``)."""

    status: int
    section: str | None = None


@dataclass(frozen=True)
class ReplySpec:
    """A parsed ``http reply``: ``message`` (an errorfile, ready), ``body`` (raw
    bytes) or ``lf_body`` (log-format), with ``hdrs`` and ``ctype``."""

    status: int
    errmsg: bool = False  # the proxy's page for the status, or ``message``
    message: Reply | None = None
    errorfiles: str | None = None  # an http-errors section's page
    body: bytes | None = None
    lf_body: Piece | None = None
    ctype: str | None = None
    hdrs: tuple[tuple[bytes, Piece], ...] = field(default=())

    def build(self, txn: Txn) -> Reply | Errmsg:
        """The reply for this transaction (``http_reply_to_htx()``)."""
        if self.message is not None:
            return self.message
        if self.errmsg or self.errorfiles is not None:
            return Errmsg(self.status, self.errorfiles)
        body = self.body if self.lf_body is None else self.lf_body(txn)
        return make_reply(self.status, self.hdrs, body or b"", self.ctype, txn)


def make_reply(
    status: int,
    hdrs: tuple[tuple[bytes, Piece], ...],
    body: bytes,
    ctype: str | None,
    txn: Txn,
) -> Reply:
    start = b"HTTP/1.1 %d %s\r\n" % (status, reason(status).encode())
    fields: list[tuple[bytes, bytes]] = []
    for name, value in hdrs:
        v = value(txn)
        if v:
            fields.append((name, v))
    if status not in (204, 304):  # the H1 output drops it for these (h1_process_mux())
        fields.append((b"content-length", str(len(body)).encode()))
    if body and ctype:
        fields.append((b"content-type", ctype.encode("utf-8", "surrogateescape")))
    return Reply(status, start, tuple(fields), body, Flag.VER_11)


def _read(path: str, env: ParseEnv) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        raise RuleError(f"error opening file '{path}'") from None
    if len(data) > env.bufsize:
        raise RuleError(f"file '{path}' exceeds the buffer size ({len(data)} > {env.bufsize})")
    return data


_BODIES = (
    "errorfiles",
    "default-errorfiles",
    "errorfile",
    "file",
    "string",
    "lf-file",
    "lf-string",
)


def parse_http_reply(
    words: list[str], i: int, env: ParseEnv, default_status: int, cap: int, response: bool
) -> tuple[ReplySpec, int]:
    """``http_parse_http_reply()``: from ``words[i]``; returns the spec and the
    index of the first word that is not part of it."""
    status = default_status
    ctype: str | None = None
    kind = ""  # the body option used
    message: Reply | None = None
    errorfiles: str | None = None
    body: bytes | None = None
    lf_text: str | None = None
    hdrs: list[tuple[bytes, Piece]] = []
    where = "in http-response response in" if response else "in http-request expression in"

    def value(n: int, what: str) -> str:
        if n >= len(words) or not words[n]:
            raise RuleError(f"'{words[n - 1]}' expects <{what}> as argument")
        return words[n]

    while i < len(words) and words[i]:
        word = words[i]
        if word == "status":
            text = value(i + 1, "status_code")
            status = _atol(text)
            if status < 200 or status > 599:
                raise RuleError(f"Unexpected status code '{status}'")
            i += 2
        elif word == "content-type":
            ctype = value(i + 1, "ctype")
            i += 2
        elif word in _BODIES:
            if kind:
                raise RuleError(f"unexpected '{word}' argument, '{kind}' already defined")
            kind = word
            if word == "default-errorfiles":
                i += 1
                continue
            what = {"errorfiles": "name", "errorfile": "fmt", "string": "str", "lf-string": "fmt"}
            arg = value(i + 1, what.get(word, "file"))
            if word == "errorfiles":
                errorfiles = arg
            elif word == "errorfile":
                message = env.load_errorfile(arg)
            elif word == "file":
                body = _read(arg, env)
            elif word == "string":
                body = arg.encode("utf-8", "surrogateescape")
            elif word == "lf-file":
                lf_text = _read(arg, env).decode("utf-8", "surrogateescape")
            else:
                lf_text = arg
            i += 2
        elif word == "hdr":
            if i + 2 >= len(words) or not words[i + 1] or not words[i + 2]:
                raise RuleError(f"'{word}' expects <name> and <value> as arguments")
            name = words[i + 1]
            if name.lower() in ("content-length", "transfer-encoding", "content-type"):
                env.warn(f"header '{name}' always ignored by the http reply.")
                i += 3
                continue
            piece = env.logformat(words[i + 2], cap, where, response)
            hdrs.append((name.encode("utf-8", "surrogateescape").lower(), piece))
            i += 3
        else:
            break
    errmsg = False
    lf_body: Piece | None = None
    if not kind:
        if ctype:
            env.warn(
                f"content-type '{ctype}' ignored by the http reply because neither errorfile "
                "nor payload defined."
            )
            ctype = None
    elif kind in ("errorfiles", "default-errorfiles", "errorfile"):
        errmsg = kind != "errorfile"
        if (kind != "errorfile" or message is None) and status not in STATUSES:
            raise RuleError(
                f"status code '{status}' not handled by default with '{kind}' argument."
            )
        if kind == "errorfile" and message is None:
            errmsg = True  # an empty errorfile: the connection just closes
        if ctype:
            env.warn(
                f"content-type '{ctype}' ignored by the http reply when used with an erorrfile."
            )
            ctype = None
        if hdrs:
            env.warn("hdr parameters ignored by the http reply when used with an erorrfile.")
            hdrs = []
    elif kind in ("file", "string"):
        assert body is not None
        if status in (204, 304) and body:
            raise RuleError(f"No body expected for {status} responses")
        if not ctype and body:
            raise RuleError("a content type must be defined when non-empty payload is configured")
        if ctype and not body:
            env.warn(
                f"content-type '{ctype}' ignored by the http reply when used with an empty payload."
            )
            ctype = None
        if env.bufsize - len(body) < env.maxrewrite:
            env.warn(
                "http reply payload runs over the buffer space reserved to headers rewriting. "
                "It may lead to internal errors if strict rewriting mode is enabled."
            )
    else:
        if status in (204, 304):
            raise RuleError(f"No body expected for {status} responses")
        if not ctype:
            raise RuleError("a content type must be defined with a log-format payload")
        assert lf_text is not None
        lf_body = env.logformat(lf_text, cap, where, response)
    spec = ReplySpec(
        status,
        errmsg or not kind,
        message,
        errorfiles,
        body if kind in ("file", "string") else None,
        lf_body,
        ctype,
        tuple(hdrs),
    )
    if not kind:
        # HTTP_REPLY_EMPTY: a status line and content-length: 0
        spec = ReplySpec(status, False, None, None, b"", None, None, tuple(hdrs))
    return spec, i


def _atol(text: str) -> int:
    """C ``atol()``: leading blanks, sign, digits; anything else stops."""
    s = text.lstrip(" \t\n\r\f\v")
    sign = -1 if s[:1] == "-" else 1
    if s[:1] in "+-":
        s = s[1:]
    digits = len(s) - len(s.lstrip("0123456789"))
    return sign * int(s[:digits] or "0")


def deny_reply(status: int) -> ReplySpec:
    """The legacy ``deny``/``deny_status``: the proxy's error page."""
    return ReplySpec(status, errmsg=True)
