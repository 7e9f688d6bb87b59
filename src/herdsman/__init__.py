"""herdsman: a load balancer that speaks HAProxy's configuration language."""

from herdsman.version import VERSION as __version__

__all__ = ["__version__"]
