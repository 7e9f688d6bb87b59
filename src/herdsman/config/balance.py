"""``balance`` arguments (``backend.c backend_parse_balance()``, spec §12.2).

Errors are raised without the leading ``balance`` word; the keyword parser
prefixes it, as HAProxy's caller does (``parsing [f:l] : balance <msg>``).
"""

from __future__ import annotations

from herdsman.config.diag import ConfigError
from herdsman.config.model import Balance
from herdsman.config.units import c_atoi, c_strtol


def parse_balance(args: list[str], bal: Balance) -> None:
    """Update ``bal`` from the words after ``balance``; raise ConfigError."""
    a = args + ["", "", ""]
    word = a[0]
    if not word or word == "roundrobin":
        bal.algo = "roundrobin"
    elif word in ("static-rr", "first", "leastconn", "source"):
        bal.algo = word
    elif word.startswith("random"):
        # strncmp(args[0], "random", 6): any suffix is accepted; only a
        # parenthesised argument is looked at.
        bal.algo = "random"
        bal.draws = 2
        if word[6:7] == "(" and word[7:8] != ")":
            value, stop = c_strtol(word, 7, 0)  # strtol(beg, &end, 0)
            rest = word[stop:] if stop > 7 else word[7:]
            if not rest.startswith(")"):
                if not rest:
                    raise ConfigError("random : missing closing parenthesis.")
                raise ConfigError(f"random : unexpected character '{rest[0]}' after argument.")
            if value < 1:
                raise ConfigError("random : number of draws must be at least 1.")
            bal.draws = value
    elif word == "uri":
        bal.algo = "uri"
        bal.uri_whole = bal.uri_path_only = False
        bal.uri_len = bal.uri_depth = 0
        i = 1
        while a[i]:
            opt = a[i]
            if opt in ("len", "depth"):
                if not a[i + 1] or c_atoi(a[i + 1]) <= 0:
                    raise ConfigError(
                        f"uri : '{opt}' expects a positive integer (got '{a[i + 1]}')."
                    )
                if opt == "len":
                    bal.uri_len = c_atoi(a[i + 1])
                else:
                    bal.uri_depth = c_atoi(a[i + 1])
                i += 2
            elif opt == "whole":
                bal.uri_whole = True
                i += 1
            elif opt == "path-only":
                bal.uri_path_only = True
                i += 1
            else:
                raise ConfigError(
                    "uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' "
                    f"(got '{opt}')."
                )
            a += ["", ""]
    elif word == "url_param":
        if not a[1]:
            raise ConfigError("url_param requires an URL parameter name.")
        bal.algo = "url_param"
        bal.param = a[1]
        # 2.6 accepts "check_post" and stores nothing: a POST without the
        # parameter in its query string always has its body searched.
        if a[2] and a[2] != "check_post":
            raise ConfigError(f"url_param only accepts 'check_post' modifier (got '{a[2]}').")
    elif word == "hash":
        if not a[1]:
            raise ConfigError("hash requires a sample expression.")
        bal.algo = "hash"
        bal.expr = a[1]
        if a[2]:
            raise ConfigError(f"hash takes no other argument (got '{a[2]}').")
    elif word.startswith("hdr("):
        end = word.find(")", 4)
        if end <= 4:
            raise ConfigError("hdr requires an http header field name.")
        bal.algo = "hdr"
        bal.hdr = word[4:end]
        bal.hdr_domain_only = False
        if a[1]:
            if a[1] != "use_domain_only":
                raise ConfigError(f"{word} only accepts 'use_domain_only' modifier (got '{a[1]}').")
            bal.hdr_domain_only = True
    elif word.startswith("rdp-cookie"):
        bal.algo = "rdp-cookie"
        rest = word[10:]
        if rest.startswith("("):
            end = rest.find(")", 1)
            if end <= 1:
                raise ConfigError("rdp-cookie : missing cookie name.")
            bal.rdp_cookie = rest[1:end]
        elif not rest:
            bal.rdp_cookie = "mstshash"
        else:
            raise ConfigError("rdp-cookie : missing cookie name.")
    else:
        raise ConfigError(
            "only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', "
            "'url_param', 'hdr(name)' and 'rdp-cookie(name)' options."
        )


__all__ = ["parse_balance"]
