"""Version strings.

herdsman has its own version, and declares the HAProxy version whose behaviour
it reproduces: ``.if version_atleast(...)`` in configurations and ``-cc``
compare against that one, so configurations written for HAProxy 2.6 select
the branches meant for 2.6.
"""

VERSION = "0.1.0"
RELEASE_DATE = "2026/11/24"
HAPROXY_COMPAT = "2.6.12"
