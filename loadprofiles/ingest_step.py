"""Ingest load, step shape: a plain locustfile.

    locust -f loadprofiles/ingest_step.py --headless --host http://127.0.0.1:PORT \
        --gameday-rate 500 --gameday-duration 60 --gameday-batch 10 --gameday-out out/load

or through gameday: gameday load run loadprofiles/ingest_step.py --rate 500 --duration 60.
"""

from gameday.load.users import IngestUser, RateDrivenShape


class Ingest(IngestUser):
    shape_kind = "step"


class Shape(RateDrivenShape):
    pass
