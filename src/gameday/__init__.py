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

__all__ = ["GamedayError", "ConfigError", "DriverError", "LabError", "Aborted"]
__version__ = "0.1.0"
