"""gameday: chaos, load and disaster-recovery drills, with an embedded local lab.

The public API is what ``__all__`` exports; the CLI (``gameday.cli``) is a thin layer over it.
"""

from gameday.errors import (
    Aborted,
    ConfigError,
    DriverError,
    GamedayError,
    LabError,
)

__all__ = ["GamedayError", "ConfigError", "DriverError", "LabError", "Aborted", "discover"]


def discover(discover_system: bool = True) -> dict[str, object]:
    """Chaos Toolkit discovery (``chaos discover gameday-drills``): the actions and probes of gameday.chaos."""
    from gameday.chaos import discover as discover_chaos

    return discover_chaos(discover_system)
__version__ = "0.1.0"
