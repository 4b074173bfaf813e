"""Database health and backups (SQL lives in state/)."""

from __future__ import annotations

import os
import sqlite3
import tempfile
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
    one self-contained file (out of WAL mode, so a plain or immutable reader sees everything), verified.

    It is written under a temporary name in the target's folder and given its name only once complete and
    verified: a failure (disk full) removes it, so nothing half-written looks like a backup or blocks a retry."""
    target = Path(target)
    if target.exists():
        raise FileExistsError(f"{target} exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it owner-only; a backup has the mode any new file has
    try:
        _copy(Path(db_path), partial)
        _name(partial, target)
    finally:
        for leftover in (partial, Path(f"{partial}-journal")):
            leftover.unlink(missing_ok=True)


def _copy(db_path: Path, partial: Path) -> None:
    source = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
        copy.execute("pragma journal_mode = delete")
        if copy.execute("pragma integrity_check").fetchone()[0] != "ok":
            raise RuntimeError(f"the backup of {db_path} failed its integrity check")
    finally:
        copy.close()
        source.close()
    with open(partial, "rb") as written:  # on disk before it gets its name
        os.fsync(written.fileno())


def _name(partial: Path, target: Path) -> None:
    try:
        os.link(partial, target)  # fails if the name was taken meanwhile: a backup never overwrites a file
    except FileExistsError:
        raise FileExistsError(f"{target} exists; choose a new file name") from None
    except OSError:  # a file system without hard links (FAT): a rename, checked for the name above
        os.rename(partial, target)
