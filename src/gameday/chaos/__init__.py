"""gameday's Chaos Toolkit extension: actions and probes on the Target interface, and a control.

Experiments name the environment through their configuration, e.g.::

    configuration:
      gameday_env: {type: env, key: GAMEDAY_ENV, default: environments/local.yaml}

and ``chaos discover gameday-drills`` lists what is here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["discover", "__version__"]
__version__ = "0.1.0"


def discover(discover_system: bool = True) -> dict[str, Any]:
    """The Chaos Toolkit discovery: this extension's actions and probes, from their signatures."""
    from chaoslib.discovery.discover import discover_actions, discover_probes, initialize_discovery_result

    result = initialize_discovery_result("gameday-drills", __version__, "gameday")
    result["activities"].extend(discover_actions("gameday.chaos.actions"))
    result["activities"].extend(discover_probes("gameday.chaos.probes"))
    return result
