"""Ingest load whose requests are built in Python: each write carries an HMAC-SHA256 of its body in
``X-Signature``, which no template can express. Still open-model: gameday schedules the requests at
their intended times and measures latency from then; only their content comes from ``build_request``.

    GAMEDAY_SIGNING_KEY=... gameday load gate loadprofiles/ingest_signed.py --host https://staging.example \
        --rate 200 --duration 60 --slo 'p95<300ms' --slo 'errors<0.1%'

``ids`` are the batch's event ids as gameday's ledger records them; the description's headers (a token,
the content type) are added to the ones returned here.
"""

import hashlib
import hmac
import json
import os
import time

from gameday.load.users import IngestUser, RateDrivenShape, Request

KEY = os.environ.get("GAMEDAY_SIGNING_KEY", "").encode()


class SignedIngest(IngestUser):
    shape_kind = "steady"

    def build_request(self, ids: list[str]) -> Request:
        now = time.time()
        body = json.dumps({"events": [{"event_id": i, "trip_id": f"trip-{i[-4:]}", "kind": "update", "ts": now,
                                       "lat": 40.7, "lon": -74.0} for i in ids]}).encode()
        signature = hmac.new(KEY, body, hashlib.sha256).hexdigest()
        return Request("POST", "/v1/trips", {"X-Signature": signature, "Content-Type": "application/json"}, body)


class Shape(RateDrivenShape):
    pass
