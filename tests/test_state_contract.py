"""The storage contract, checked on the code itself: SQL only in `state/` (nothing else reaches a connection),
and every write to the history inside `Store.transaction()` (BEGIN IMMEDIATE), traced on real runs."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from state import deliveries
from state.store import Store
from tests.test_analysts import build_database

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE_STATE = ("watch287g", "flows", "monitors", "rules", "events", "notifiers")  # every package but state/
CONNECTION_CALLS = {"query", "execute", "executemany", "executescript", "table", "create_function"}
CONNECTION_ATTRIBUTES = {"db", "conn"}  # a Store's sqlite-utils Database and its sqlite3 connection
SQL = re.compile(
    r"\b(select\s.+?\sfrom|insert\s+(or\s+\w+\s+)?into|update\s+\S+\s+set|delete\s+from|replace\s+into"
    r"|pragma\s+\w+|create\s+(table|index|view|trigger)|drop\s+(table|index|view)|alter\s+table)\b",
    re.IGNORECASE | re.DOTALL,
)


def sql_outside_state(source: str, name: str) -> list[str]:
    """Where a module's code speaks SQL or reaches a connection: SQL in a string, a call such as
    `.query(` or `.execute(`, the `.db` / `.conn` of a Store, `sqlite_utils`, or `sqlite3.connect`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"{where}: SQL text {node.value.strip()[:60]!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in CONNECTION_CALLS:
                found.append(f"{where}: .{node.func.attr}(")
            if node.func.attr == "connect" and ast.unparse(node.func.value) == "sqlite3":
                found.append(f"{where}: sqlite3.connect(")
        elif isinstance(node, ast.Attribute) and node.attr in CONNECTION_ATTRIBUTES:
            found.append(f"{where}: .{node.attr}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{where}: imports {m}" for m in modules if m.split(".")[0] == "sqlite_utils"]
    return found


def test_no_sql_outside_state() -> None:
    modules = [path for package in OUTSIDE_STATE for path in sorted((ROOT / package).rglob("*.py"))]
    assert len(modules) > 40
    found = [
        hit for path in modules for hit in sql_outside_state(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == []


@pytest.mark.parametrize(
    "code",
    [
        'rows = store.db.query("select fetched_at from snapshots where channel = ?", ["pending"])',
        'store.db.conn.execute("PRAGMA hard_heap_limit = 1")',
        "from sqlite_utils import Database",
        "connection = sqlite3.connect(path)",
        'SQL = """\nSELECT id\n  FROM events\n"""',
        "db.table('events').insert(row)",
    ],
)
def test_the_scan_sees_sql_and_connections(code: str) -> None:
    assert sql_outside_state(code, "example.py")


def test_the_scan_leaves_words_and_error_types_alone() -> None:
    code = (
        "try:\n    pass\nexcept sqlite3.OperationalError:\n"
        '    message = "the answer is too large; select fewer rows or columns"\n'
    )
    assert sql_outside_state(code, "example.py") == []


# ---- every write inside Store.transaction() ----------------------------------------------------------------

WRITE = re.compile(r"\s*(insert|update|delete|replace|create|drop|alter)\b", re.IGNORECASE)


def writes_outside_immediate(statements: list[str]) -> list[str]:
    """Writes (in the order one connection ran them) not inside a transaction begun IMMEDIATE: a write
    under autocommit or in a deferred transaction (sqlite3's implicit BEGIN) did not come through
    `Store.transaction()`, and could fail with `database is locked` when a read turns into a write."""
    open_, found = None, []
    for sql in statements:
        word = sql.strip().upper()
        if word.startswith("BEGIN"):
            open_ = "immediate" if word.startswith("BEGIN IMMEDIATE") else "deferred"
        elif word.startswith(("COMMIT", "END")) or (word.startswith("ROLLBACK") and " TO " not in word):
            open_ = None
        elif word.startswith("SAVEPOINT") and open_ is None:
            open_ = "deferred"  # a savepoint outside a transaction begins a deferred one
        elif WRITE.match(sql) and open_ != "immediate":
            found.append(sql.strip()[:80])
    return found


def written_table(sql: str) -> str:
    match = re.search(r"(?:into|update|from)\s+[\[\"`]?(\w+)", sql, re.IGNORECASE)
    return match.group(1) if match else "?"


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The statements of every Store opened meanwhile, per connection, from the end of its opening on (the
    migrations, run when a Store opens, are the one writer outside `transaction()`: sqlite-utils' own)."""
    connections: list[list[str]] = []
    opened = Store.__init__

    def traced_init(self: Store, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        statements: list[str] = []
        connections.append(statements)
        self.db.conn.set_trace_callback(statements.append)

    monkeypatch.setattr(Store, "__init__", traced_init)
    return connections


def test_every_write_of_a_real_history_runs_in_an_immediate_transaction(
    tmp_path: Path, traced: list[list[str]]
) -> None:
    # A backfill, live checks of a bill page, a delivery that fails, an event without a document...
    path = build_database(tmp_path / "watch287g.db")
    store = Store(path)  # ...and a receipt
    try:
        [row] = store.db.execute("select id from deliveries order by id limit 1").fetchall()
        deliveries.mark_sent(store, [row[0]], {"subscriber": "desk", "target": 0, "label": "json://127.0.0.1",
                                               "kind": "immediate", "title": "t", "events": 1,
                                               "sent_at": "2025-08-02T00:00:00+00:00"})  # fmt: skip
    finally:
        store.close()
    statements = [sql for connection in traced for sql in connection]
    tables = Counter(written_table(sql) for sql in statements if WRITE.match(sql))
    assert set(tables) >= {"bodies", "snapshots", "parses", "records", "record_versions", "events", "channels",
                           "fetches", "source_health", "deliveries", "channel_health", "messages"}  # fmt: skip
    assert [hit for connection in traced for hit in writes_outside_immediate(connection)] == []


def test_a_write_outside_a_transaction_is_seen(traced: list[list[str]]) -> None:
    store = Store()
    try:
        store.db.table("fetches").insert({"source": "x", "url": "https://example.org/", "started_at": "now"})
        with store.transaction() as db:
            db.table("fetches").insert({"source": "y", "url": "https://example.org/", "started_at": "now"})
    finally:
        store.close()
    [statements] = traced
    assert [written_table(sql) for sql in writes_outside_immediate(statements)] == ["fetches"]
    assert len([sql for sql in statements if WRITE.match(sql)]) == 2
