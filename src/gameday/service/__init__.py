"""The team's data plane as gameday sees it: a description (``spec``), made ready to use (``resolved``),
its event ids and ledger (``ids``), and the HTTP and SQL it takes to write, read and reconcile."""
