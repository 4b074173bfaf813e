"""The exact database schema the migrations create. A schema change must change this file too (on purpose)."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from state.schema import migrate
from state.store import Store

# table -> columns as (name, declared type, not null, primary-key position)
COLUMNS = {
    "_sqlite_migrations": [
        ("id", "INTEGER", 0, 1),
        ("migration_set", "TEXT", 0, 0),
        ("name", "TEXT", 0, 0),
        ("applied_at", "TEXT", 0, 0),
    ],
    "bodies": [
        ("sha256", "TEXT", 0, 1),
        ("size", "INTEGER", 0, 0),
        ("body", "BLOB", 0, 0),
        ("first_seen", "TEXT", 0, 0),
    ],
    "snapshots": [
        ("id", "INTEGER", 0, 1),
        ("source", "TEXT", 1, 0),
        ("channel", "TEXT", 1, 0),
        ("url", "TEXT", 0, 0),
        ("sha256", "TEXT", 1, 0),
        ("fetched_at", "TEXT", 0, 0),
        ("http_status", "INTEGER", 0, 0),
        ("content_type", "TEXT", 0, 0),
        ("etag", "TEXT", 0, 0),
        ("last_modified", "TEXT", 0, 0),
        ("origin", "TEXT", 0, 0),
        ("outcome", "TEXT", 0, 0),
        ("detail", "TEXT", 0, 0),
    ],
    "fetches": [
        ("id", "INTEGER", 0, 1),
        ("source", "TEXT", 0, 0),
        ("channel", "TEXT", 0, 0),
        ("url", "TEXT", 0, 0),
        ("started_at", "TEXT", 0, 0),
        ("duration_ms", "INTEGER", 0, 0),
        ("outcome", "TEXT", 0, 0),
        ("http_status", "INTEGER", 0, 0),
        ("bytes", "INTEGER", 0, 0),
        ("error", "TEXT", 0, 0),
        ("snapshot_id", "INTEGER", 0, 0),
    ],
    "parses": [
        ("sha256", "TEXT", 0, 1),
        ("parser_version", "TEXT", 0, 2),
        ("shape", "TEXT", 0, 0),
        ("columns", "TEXT", 0, 0),
        ("records", "BLOB", 0, 0),
        ("warnings", "TEXT", 0, 0),
        ("hidden_rows", "INTEGER", 0, 0),
        ("error", "TEXT", 0, 0),
    ],
    "channels": [
        ("source", "TEXT", 0, 1),
        ("channel", "TEXT", 0, 2),
        ("url", "TEXT", 0, 0),
        ("current_sha256", "TEXT", 0, 0),
        ("valid_sha256", "TEXT", 0, 0),
        ("etag", "TEXT", 0, 0),
        ("last_modified", "TEXT", 0, 0),
        ("text_sha256", "TEXT", 0, 0),
        ("valid_lists", "INTEGER", 0, 0),
        ("valid_at", "TEXT", 0, 0),
        ("updated_at", "TEXT", 0, 0),
        ("checked_at", "TEXT", 0, 0),  # m003: a followed document last asked
        ("gone_since", "TEXT", 0, 0),  # m003: since when it answers 404/410
    ],
    "records": [
        ("id", "TEXT", 0, 1),
        ("source", "TEXT", 1, 0),
        ("kind", "TEXT", 1, 0),
        ("key", "TEXT", 1, 0),
        ("state", "TEXT", 0, 0),
        ("agency", "TEXT", 0, 0),
        ("model", "TEXT", 0, 0),
        ("status", "TEXT", 1, 0),
        ("first_seen", "TEXT", 0, 0),
        ("last_seen", "TEXT", 0, 0),
        ("missing_lists", "INTEGER", 0, 0),
        ("missing_since", "TEXT", 0, 0),
        ("record", "TEXT", 0, 0),
        ("hash", "TEXT", 0, 0),
    ],
    "record_versions": [
        ("id", "INTEGER", 0, 1),
        ("record_id", "TEXT", 0, 0),
        ("version", "INTEGER", 0, 0),
        ("valid_from", "TEXT", 0, 0),
        ("status", "TEXT", 0, 0),
        ("record", "TEXT", 0, 0),
        ("hash", "TEXT", 0, 0),
        ("changed", "TEXT", 0, 0),
        ("snapshot_id", "INTEGER", 0, 0),
    ],
    "events": [
        ("id", "TEXT", 0, 1),
        ("type", "TEXT", 1, 0),
        ("source", "TEXT", 1, 0),
        ("detected_at", "TEXT", 1, 0),
        ("record_id", "TEXT", 0, 0),
        ("state", "TEXT", 0, 0),
        ("agency", "TEXT", 0, 0),
        ("model", "TEXT", 0, 0),
        ("before", "TEXT", 0, 0),
        ("after", "TEXT", 0, 0),
        ("details", "TEXT", 0, 0),
        ("baseline", "INTEGER", 0, 0),
        ("origin", "TEXT", 0, 0),
        ("snapshot_id", "INTEGER", 0, 0),
        ("snapshot_sha256", "TEXT", 0, 0),
        ("url", "TEXT", 0, 0),
    ],
    "source_health": [
        ("source", "TEXT", 0, 1),
        ("consecutive_failures", "INTEGER", 0, 0),
        ("last_success", "TEXT", 0, 0),
        ("last_failure", "TEXT", 0, 0),
        ("last_error", "TEXT", 0, 0),
        ("alerted", "INTEGER", 0, 0),
        ("stale_alerted", "INTEGER", 0, 0),  # m002
    ],
    # m002_outbox
    "deliveries": [
        ("id", "INTEGER", 0, 1),
        ("event_id", "TEXT", 1, 0),
        ("subscriber", "TEXT", 1, 0),
        ("target", "INTEGER", 0, 0),
        ("label", "TEXT", 0, 0),
        ("status", "TEXT", 1, 0),
        ("due_at", "TEXT", 0, 0),
        ("next_attempt_at", "TEXT", 0, 0),
        ("attempts", "INTEGER", 0, 0),
        ("last_error", "TEXT", 0, 0),
        ("created_at", "TEXT", 0, 0),
        ("sent_at", "TEXT", 0, 0),
        ("message_id", "INTEGER", 0, 0),
    ],
    "messages": [
        ("id", "INTEGER", 0, 1),
        ("subscriber", "TEXT", 0, 0),
        ("target", "INTEGER", 0, 0),
        ("label", "TEXT", 0, 0),
        ("kind", "TEXT", 0, 0),
        ("title", "TEXT", 0, 0),
        ("events", "INTEGER", 0, 0),
        ("sent_at", "TEXT", 0, 0),
    ],
    "channel_health": [
        ("subscriber", "TEXT", 0, 1),
        ("target", "INTEGER", 0, 2),
        ("label", "TEXT", 0, 0),
        ("consecutive_failures", "INTEGER", 0, 0),
        ("alerted", "INTEGER", 0, 0),
        ("last_error", "TEXT", 0, 0),
        ("last_failure", "TEXT", 0, 0),
        ("last_success", "TEXT", 0, 0),
    ],
    # m003_documents: what a reader made of a kept document, and its full-text index (FTS5, porter stemming)
    "readings": [
        ("sha256", "TEXT", 0, 1),
        ("reader_version", "TEXT", 0, 2),
        ("read_at", "TEXT", 0, 0),
        ("pages", "INTEGER", 0, 0),
        ("text_source", "TEXT", 0, 0),
        ("fields", "TEXT", 0, 0),
        ("text", "TEXT", 0, 0),
        ("error", "TEXT", 0, 0),
        ("seconds", "REAL", 0, 0),
    ],
    "readings_fts": [("text", "", 0, 0)],
    "readings_fts_data": [("id", "INTEGER", 0, 1), ("block", "BLOB", 0, 0)],
    "readings_fts_idx": [("segid", "", 1, 1), ("term", "", 1, 2), ("pgno", "", 0, 0)],
    "readings_fts_docsize": [("id", "INTEGER", 0, 1), ("sz", "BLOB", 0, 0)],
    "readings_fts_config": [("k", "", 1, 1), ("v", "", 0, 0)],
    # m004_sightings: every time an archive showed a file, with its provenance and what became of it
    "sightings": [
        ("source", "TEXT", 0, 1),
        ("key", "TEXT", 0, 2),
        ("archive", "TEXT", 1, 0),
        ("channel", "TEXT", 0, 0),
        ("sha256", "TEXT", 1, 0),
        ("fetched_at", "TEXT", 1, 0),
        ("name", "TEXT", 0, 0),
        ("provenance", "TEXT", 0, 0),
        ("kept_at", "TEXT", 0, 0),
        ("outcome", "TEXT", 1, 0),
        ("detail", "TEXT", 0, 0),
    ],
}

# (table, index name, columns, unique); SQLite's automatic indexes for primary keys included
INDEXES = {
    ("_sqlite_migrations", "idx__sqlite_migrations_migration_set_name", ("migration_set", "name"), 1),
    ("bodies", "sqlite_autoindex_bodies_1", ("sha256",), 1),
    ("snapshots", "idx_snapshots_source_channel_fetched_at", ("source", "channel", "fetched_at"), 0),
    ("fetches", "idx_fetches_source_started_at", ("source", "started_at"), 0),
    ("parses", "sqlite_autoindex_parses_1", ("sha256", "parser_version"), 1),
    ("channels", "sqlite_autoindex_channels_1", ("source", "channel"), 1),
    ("records", "sqlite_autoindex_records_1", ("id",), 1),
    ("records", "idx_records_source_kind_status", ("source", "kind", "status"), 0),
    ("record_versions", "idx_record_versions_record_id_version", ("record_id", "version"), 1),
    ("record_versions", "idx_record_versions_valid_from", ("valid_from",), 0),
    ("events", "sqlite_autoindex_events_1", ("id",), 1),
    ("events", "idx_events_detected_at", ("detected_at",), 0),
    ("events", "idx_events_type", ("type",), 0),
    ("events", "idx_events_state", ("state",), 0),
    ("source_health", "sqlite_autoindex_source_health_1", ("source",), 1),
    ("deliveries", "idx_deliveries_event_id_subscriber_target", ("event_id", "subscriber", "target"), 1),
    ("deliveries", "idx_deliveries_status_next_attempt_at", ("status", "next_attempt_at"), 0),
    ("channel_health", "sqlite_autoindex_channel_health_1", ("subscriber", "target"), 1),
    ("readings", "sqlite_autoindex_readings_1", ("sha256", "reader_version"), 1),
    ("readings_fts_config", "sqlite_autoindex_readings_fts_config_1", ("k",), 1),
    ("readings_fts_idx", "sqlite_autoindex_readings_fts_idx_1", ("segid", "term"), 1),
    ("sightings", "sqlite_autoindex_sightings_1", ("source", "key"), 1),
    ("sightings", "idx_sightings_source_outcome_fetched_at", ("source", "outcome", "fetched_at"), 0),
    ("sightings", "idx_sightings_sha256", ("sha256",), 0),
}

# (table, column, referenced table, referenced column)
FOREIGN_KEYS = {
    ("snapshots", "sha256", "bodies", "sha256"),
    ("fetches", "snapshot_id", "snapshots", "id"),
    ("parses", "sha256", "bodies", "sha256"),
    ("record_versions", "record_id", "records", "id"),
    ("record_versions", "snapshot_id", "snapshots", "id"),
    ("events", "snapshot_id", "snapshots", "id"),
    ("deliveries", "event_id", "events", "id"),
    ("readings", "sha256", "bodies", "sha256"),
}


def columns(db: Database) -> dict[str, list[tuple[str, str, int, int]]]:
    tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table' order by rowid")]
    return {
        t: [(c[1], c[2], c[3], c[5]) for c in db.execute(f"pragma table_info('{t}')").fetchall()]
        for t in tables
    }


def indexes(db: Database) -> set[tuple[str, str, tuple[str, ...], int]]:
    found = set()
    for table in columns(db):
        for _seq, name, unique, *_rest in db.execute(f"pragma index_list('{table}')").fetchall():
            cols = tuple(c[2] for c in db.execute(f"pragma index_info('{name}')").fetchall())
            found.add((table, name, cols, unique))
    return found


def foreign_keys(db: Database) -> set[tuple[str, str, str, str]]:
    return {
        (table, fk[3], fk[2], fk[4])
        for table in columns(db)
        for fk in db.execute(f"pragma foreign_key_list('{table}')").fetchall()
    }


def schema_sql(db: Database) -> list[tuple[str, str, str | None]]:
    return db.execute("select type, name, sql from sqlite_master order by type, name").fetchall()


def test_exact_schema() -> None:
    db = Store(None).db
    assert (
        columns(db) == COLUMNS
    )  # table names, their order of creation, columns, types, NOT NULL, primary keys
    assert indexes(db) == INDEXES
    assert foreign_keys(db) == FOREIGN_KEYS
    # The triggers that keep the full-text index in step with `readings`.
    others = db.execute(
        "select type, name from sqlite_master where type not in ('table', 'index')"
    ).fetchall()
    assert sorted(others) == [
        ("trigger", "readings_ad"),
        ("trigger", "readings_ai"),
        ("trigger", "readings_au"),
    ]
    applied = db.execute("select migration_set, name from _sqlite_migrations order by id").fetchall()
    assert applied == [
        ("watch287g", "m001_core"),
        ("watch287g", "m002_outbox"),
        ("watch287g", "m003_documents"),
        ("watch287g", "m004_sightings"),
    ]


def test_migrating_twice_is_a_no_op(tmp_path: Path) -> None:
    store = Store(None)
    before = schema_sql(store.db)
    migrate(store.db)
    assert schema_sql(store.db) == before
    assert store.db.execute("select count(*) from _sqlite_migrations").fetchone()[0] == 4
    # A file database opened again keeps its schema, its migration log and its rows.
    path = tmp_path / "history.db"
    first = Store(path)
    first.db.table("source_health").insert({"source": "ice-287g", "consecutive_failures": 2, "alerted": 0})
    first.close()
    second = Store(path)
    assert schema_sql(second.db) == before
    assert second.db.execute("select count(*) from _sqlite_migrations").fetchone()[0] == 4
    assert second.health("ice-287g")["consecutive_failures"] == 2
    second.close()


def test_file_store_settings(tmp_path: Path) -> None:
    store = Store(tmp_path / "sub" / "history.db")
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("pragma foreign_keys").fetchone()[0] == 1
    assert store.db.execute("pragma busy_timeout").fetchone()[0] == 30000
    assert (tmp_path / "sub" / "history.db").is_file()
    store.close()
