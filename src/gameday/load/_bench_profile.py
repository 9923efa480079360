"""The locustfile make bench-load drives (steady shape)."""

from gameday.load.users import IngestUser, RateDrivenShape


class Ingest(IngestUser):
    shape_kind = "steady"


class Shape(RateDrivenShape):
    pass
