"""The only SQL. Every public read or write takes the `Store` as its first argument (or is a `Store` method);
`Store.db`, the sqlite-utils Database, is used inside this package only (tests/test_state_contract.py).
`maintenance.backup` is the exception that proves it: it copies the file through a connection of its own."""
