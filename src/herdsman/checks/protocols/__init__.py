"""The built-in expect functions of protocol checks (``expect->custom`` in HAProxy).

Importing this package registers them in ``checks.custom.CUSTOM_EXPECTS``
under HAProxy's function names; the rulesets that name them are built in
``defs/protocols/``.
"""

from herdsman.checks.protocols import ldap, mysql, spop

__all__ = ["ldap", "mysql", "spop"]
