"""Protocol health checks, each a predefined tcp-check ruleset (spec §7).

HAProxy compiles ``option redis-check``, ``mysql-check``, ``pgsql-check``,
``smtpchk``, ``ldap-check``, ``ssl-hello-chk`` and ``spop-check`` into rules of
the one tcp-check engine (``tcpcheck.c proxy_parse_*_opt()``); so does
herdsman. Each module here holds one protocol: the bytes it sends, the
ruleset builder, and the custom expect function where HAProxy has one
(registered in ``tcpcheck.CUSTOM_EXPECTS`` under HAProxy's function name when
the module is imported). Option parsing and its messages live in
``config/proto_checks.py``.

The rules are those HAProxy builds, in its order (the step numbers quoted by
"TCPCHK got an empty response at step N" depend on it). Where HAProxy fills
per-proxy variables into a shared log-format request (``var(check.username)``,
``var(check.smtp_cmd)``...), the request is built here once with the same
bytes; only what varies per run (the time in the SSLv3 ClientHello) and the
texts quoting the reply stay log-format strings.
"""
