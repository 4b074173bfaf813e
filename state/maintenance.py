"""Database health and backups (SQL lives in state/)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from state.store import Store


def doctor(store: Store) -> tuple[list[str], dict[str, Any]]:
    """(problems, facts): integrity and foreign keys checked, WAL expected, migrations and backlog reported."""
    try:
        return _doctor(store)
    except sqlite3.DatabaseError as exc:  # a damaged page can make even the checks fail
        return [f"integrity: the database is damaged ({exc})"], {}


def _doctor(store: Store) -> tuple[list[str], dict[str, Any]]:
    db = store.db
    problems = []
    integrity = [row[0] for row in db.execute("pragma integrity_check").fetchall()]
    if integrity != ["ok"]:
        problems += [f"integrity: {line}" for line in integrity[:20]]
    for table, rowid, parent, _index in db.execute("pragma foreign_key_check").fetchall()[:20]:
        problems.append(f"foreign key: {table} row {rowid} points to a missing {parent} row")
    mode = db.execute("pragma journal_mode").fetchone()[0]
    if mode != "wal" and store.path is not None:
        problems.append(f"journal mode is {mode}, expected wal")
    facts = {
        "journal_mode": mode,
        "migrations": [r[0] for r in db.execute("select name from _sqlite_migrations order by id")],
        "events": db.table("events").count,
        "snapshots": db.table("snapshots").count,
        "bodies_bytes": db.execute("select coalesce(sum(size), 0) from bodies").fetchone()[0],
        "deliveries_due": db.execute("select count(*) from deliveries where status != 'sent'").fetchone()[0],
        "last_check": dict(
            db.execute("select source, max(started_at) from fetches group by source").fetchall()
        ),
    }
    return problems, facts


def backup(db_path: str | Path, target: str | Path) -> None:
    """A consistent copy while runs may be writing (SQLite's online backup API, read-only on the source), as
    one self-contained file (out of WAL mode, so a plain or immutable reader sees everything), verified."""
    target = Path(target)
    if target.exists():
        raise FileExistsError(f"{target} exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("pragma journal_mode = delete")
        if copy.execute("pragma integrity_check").fetchone()[0] != "ok":
            raise RuntimeError(f"the backup {target} failed its integrity check")
    finally:
        copy.close()
        source.close()
