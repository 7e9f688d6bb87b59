"""Protocol health checks as data: the bytes each sends and its tcp-check ruleset (spec §7).

HAProxy compiles ``option redis-check``, ``mysql-check``, ``pgsql-check``,
``smtpchk``, ``ldap-check``, ``ssl-hello-chk`` and ``spop-check`` into rules of
the one tcp-check engine (``tcpcheck.c proxy_parse_*_opt()``); so does
herdsman, at configuration time (``config/proto_checks.py``). Each module
holds one protocol's request bytes and ruleset builder; the built-in expect
functions some rulesets name (``custom="tcpcheck_mysql_expect_iniths"``...)
run in ``checks/protocols/``.

The rules are those HAProxy builds, in its order (the step numbers quoted by
"TCPCHK got an empty response at step N" depend on it). Where HAProxy fills
per-proxy variables into a shared log-format request (``var(check.username)``,
``var(check.smtp_cmd)``...), the request is built here once with the same
bytes; only what varies per run (the time in the SSLv3 ClientHello) and the
texts quoting the reply stay log-format strings.
"""
