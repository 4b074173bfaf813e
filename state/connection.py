"""What every SQLite connection to the history is given: the SQL functions the queries use, and for Datasette's
connections the limits that keep one query from taking the machine.

`agency_key` in SQL is the Python `monitors.ice.names.agency_key` itself (one definition: the canned query
finds what `watch287g history` finds, abbreviations and all); so is `document_channel` (`monitors.source`: the
channel an MOA link's document is kept under, which a redirect does not change, unlike the snapshot's URL).
"""

from __future__ import annotations

import sqlite3

from monitors.ice.names import agency_key
from monitors.source import document_channel


def register_functions(conn: sqlite3.Connection) -> None:
    """SQL functions of this project's queries, on one connection (the Store's, or one Datasette opens)."""
    conn.create_function("agency_key", 1, _agency_key, deterministic=True)
    conn.create_function("document_channel", 1, _document_channel, deterministic=True)


def _agency_key(value: object) -> str | None:
    return None if value is None else agency_key(value)


def _document_channel(value: object) -> str | None:
    return document_channel(value) if isinstance(value, str) and value else None


def limit_served(conn: sqlite3.Connection, *, value_bytes: int, heap_bytes: int) -> None:
    """Caps for a connection that serves arbitrary queries: the longest value (and with it each step's time
    and memory) and SQLite's own heap (sorts, temporary tables) for the process."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, value_bytes)
    conn.execute(f"PRAGMA hard_heap_limit = {int(heap_bytes)}")
