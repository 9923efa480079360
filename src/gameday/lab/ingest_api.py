"""The lab's own ingest API as a service description: the default when an environment has no
``service:`` section. The only place outside the lab's node and database code that knows its paths
and tables."""

from __future__ import annotations

from gameday.service.spec import ReadSpec, ServiceSpec, StoreSpec, WriteSpec

__all__ = ["LAB_SERVICE"]

LAB_SERVICE = ServiceSpec(
    write=WriteSpec(method="POST", path="/v1/trips", body='{"events":[{{events}}]}',
                    event='{"event_id":"{{event_id}}","trip_id":"trip-{{seq}}","kind":"update","ts":{{ts}},'
                          '"lat":40.7,"lon":-74.0}',
                    ok=[202]),
    read=ReadSpec(method="GET", path="/v1/trips/{{event_id}}", ok=[200]),
    store=StoreSpec(present_query="SELECT event_id FROM trips WHERE event_id = ANY(%(ids)s)"),
)
