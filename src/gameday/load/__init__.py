"""Load: open-model ingest load on Locust, honest latency, SLO gate.

Modules that import ``locust`` (and so gevent's monkey-patching) are ``users`` and ``engine``;
everything else here is plain Python the runner and tests import directly.
"""
