"""Syslog severity levels (RFC 5424), as HAProxy's ``LOG_*`` constants."""

LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG = range(8)
