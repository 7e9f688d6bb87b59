"""herdsman: a load balancer that speaks HAProxy's configuration language."""

from herdsman import _accel
from herdsman.version import VERSION as __version__

_accel.install()  # before any compiled module is imported: compiled only when current

__all__ = ["__version__"]
