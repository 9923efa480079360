"""``python -m gameday.cli``: the same as the ``gameday`` command."""

from gameday.cli import main

main()
