"""Sample expressions and log-format strings (HAProxy's ``sample.c``, ``log.c``).

A leaf: it imports nothing of herdsman, so the configuration parser, the
checks and the data path can all compile and evaluate expressions.
"""
