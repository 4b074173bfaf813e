"""The only SQL. Every public read or write takes the `Store` as its first argument (or is a `Store` method);
`Store.db`, the sqlite-utils Database, is used inside this package only (tests/test_state_contract.py).
Below a Store, by necessity: `schema.migrate` (run while a Store opens), `connection` (also given Datasette's
own connections) and `maintenance.backup` (copies the file through a connection of its own)."""
