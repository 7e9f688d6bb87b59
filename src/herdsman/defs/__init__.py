"""Definitions shared by the configuration model, core, checks and the data path.

HAProxy's ``-t.h`` headers: check statuses, the tcp-check rule types, the
PROXY protocol header and syslog levels. A leaf: it imports nothing of
herdsman but ``herdsman.sample`` (the log-format type rules carry).
"""
