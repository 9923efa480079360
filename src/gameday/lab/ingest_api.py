"""The lab's own ingest API as a service description: the default when an environment has no
``service:`` section. The only place outside the lab's node and database code that knows its paths
and tables."""

from __future__ import annotations

from gameday.service.spec import ReadSpec, ServiceSpec, StoreSpec, WriteSpec

__all__ = ["LAB_SERVICE"]

# The data faults' statements on the lab's own table, bounded, the ids returned for the data probe: a bad
# deploy's migration corrupts the newest rows; a clean-up job with a wrong date deletes the oldest.
_ROWS = ("{op} WHERE event_id IN (SELECT event_id FROM trips WHERE kind IS NOT NULL "
         "ORDER BY inserted_at {order}, event_id LIMIT %(max_rows)s) RETURNING event_id")

LAB_SERVICE = ServiceSpec(
    write=WriteSpec(method="POST", path="/v1/trips", body='{"events":[{{events}}]}',
                    event='{"event_id":"{{event_id}}","trip_id":"trip-{{seq}}","kind":"update","ts":{{ts}},'
                          '"lat":40.7,"lon":-74.0}',
                    ok=[202]),
    read=ReadSpec(method="GET", path="/v1/trips/{{event_id}}", ok=[200], intact=r'"kind":\s*"'),
    # present means present with its data: a corrupted row (kind NULL) is not what the service acknowledged
    store=StoreSpec(present_query="SELECT event_id FROM trips WHERE event_id = ANY(%(ids)s) AND kind IS NOT NULL",
                    corrupt_statement=_ROWS.format(op="UPDATE trips SET kind = NULL", order="DESC"),
                    delete_statement=_ROWS.format(op="DELETE FROM trips", order="ASC")),
)
