"""Rules: what ``http-request``, ``tcp-request``, ``use_backend``, ``redirect``,
``cookie``, ``stick``... lines do, compiled once into closures over the
``sample`` engine's ``Txn`` (HAProxy's ``http_act.c``, ``tcp_act.c``,
``http_ana.c``, ``stream.c``).

A leaf beside ``sample`` and ``http``: pure, no I/O. The configuration parser
(``config/kw_rules.py``) builds the rules with these parsers, the data path
(``proxy/``) runs them at HAProxy's points and applies what they decided
(a reply, a backend, a server, rewritten heads). docs/routing.md.
"""
