"""The database schema, created and evolved only by these migrations (sqlite-utils Migrations).

tests/test_schema.py asserts the exact resulting schema, so a change here is a deliberate, visible change.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("watch287g")


@migrations()
def m001_core(db: Database) -> None:
    # long: the first schema, one table per statement; it is what tests/test_schema.py asserts, table by table.
    # Raw bytes, once per sha256: storage grows with changes, not with polls.
    db.table("bodies").create({"sha256": str, "size": int, "body": bytes, "first_seen": str}, pk="sha256")
    # One row per observation of new-for-this-channel bytes (a revert to old bytes is a new observation).
    db.table("snapshots").create(
        {
            "id": int, "source": str, "channel": str, "url": str, "sha256": str, "fetched_at": str,
            "http_status": int, "content_type": str, "etag": str, "last_modified": str, "origin": str,
            "outcome": str, "detail": str,
        },
        pk="id", foreign_keys=[("sha256", "bodies", "sha256")], not_null={"source", "channel", "sha256"},
    )  # fmt: skip
    db.table("snapshots").create_index(["source", "channel", "fetched_at"])
    # Every check, even unchanged ones: the source's heartbeat.
    db.table("fetches").create(
        {
            "id": int, "source": str, "channel": str, "url": str, "started_at": str, "duration_ms": int,
            "outcome": str, "http_status": int, "bytes": int, "error": str, "snapshot_id": int,
        },
        pk="id", foreign_keys=[("snapshot_id", "snapshots", "id")],
    )  # fmt: skip
    db.table("fetches").create_index(["source", "started_at"])
    # Parse results cached per (bytes, parser version): identical bytes are never parsed twice.
    # `records` is zlib-compressed JSON (a list is ~250 KB of JSON, ~25 KB compressed).
    db.table("parses").create(
        {
            "sha256": str, "parser_version": str, "shape": str, "columns": str, "records": bytes,
            "warnings": str, "hidden_rows": int, "error": str,
        },
        pk=("sha256", "parser_version"), foreign_keys=[("sha256", "bodies", "sha256")],
    )  # fmt: skip
    # Where each channel of a source stands: bytes last processed, conditional-request validators.
    db.table("channels").create(
        {
            "source": str, "channel": str, "url": str, "current_sha256": str, "valid_sha256": str,
            "etag": str, "last_modified": str, "text_sha256": str, "valid_lists": int, "valid_at": str,
            "updated_at": str,
        },
        pk=("source", "channel"),
    )  # fmt: skip
    # What each agreement / pending request looks like now...
    db.table("records").create(
        {
            "id": str, "source": str, "kind": str, "key": str, "state": str, "agency": str, "model": str,
            "status": str, "first_seen": str, "last_seen": str, "missing_lists": int, "missing_since": str,
            "record": str, "hash": str,
        },
        pk="id", not_null={"source", "kind", "key", "status"},
    )  # fmt: skip
    db.table("records").create_index(["source", "kind", "status"])
    # ...and what it looked like at any time (valid_from..next version).
    db.table("record_versions").create(
        {
            "id": int, "record_id": str, "version": int, "valid_from": str, "status": str, "record": str,
            "hash": str, "changed": str, "snapshot_id": int,
        },
        pk="id",
        foreign_keys=[("record_id", "records", "id"), ("snapshot_id", "snapshots", "id")],
    )  # fmt: skip
    db.table("record_versions").create_index(["record_id", "version"], unique=True)
    db.table("record_versions").create_index(["valid_from"])
    db.table("events").create(
        {
            "id": str, "type": str, "source": str, "detected_at": str, "record_id": str, "state": str,
            "agency": str, "model": str, "before": str, "after": str, "details": str, "baseline": int,
            "origin": str, "snapshot_id": int, "snapshot_sha256": str, "url": str,
        },
        pk="id", foreign_keys=[("snapshot_id", "snapshots", "id")], not_null={"type", "source", "detected_at"},
    )  # fmt: skip
    db.table("events").create_index(["detected_at"])
    db.table("events").create_index(["type"])
    db.table("events").create_index(["state"])
    db.table("source_health").create(
        {
            "source": str, "consecutive_failures": int, "last_success": str, "last_failure": str,
            "last_error": str, "alerted": int,
        },
        pk="source",
    )  # fmt: skip


@migrations()
def m002_outbox(db: Database) -> None:
    # One row per (event, subscriber, channel), created in the same transaction as the event.
    db.table("deliveries").create(
        {
            "id": int, "event_id": str, "subscriber": str, "target": int, "label": str, "status": str,
            "due_at": str, "next_attempt_at": str, "attempts": int, "last_error": str, "created_at": str,
            "sent_at": str, "message_id": int,
        },
        pk="id", foreign_keys=[("event_id", "events", "id")], not_null={"event_id", "subscriber", "status"},
    )  # fmt: skip
    db.table("deliveries").create_index(["event_id", "subscriber", "target"], unique=True)
    db.table("deliveries").create_index(["status", "next_attempt_at"])
    # What was sent: one row per message (an alert or a digest may carry many deliveries).
    db.table("messages").create(
        {"id": int, "subscriber": str, "target": int, "label": str, "kind": str, "title": str, "events": int,
         "sent_at": str},
        pk="id",
    )  # fmt: skip
    # Per channel: the failure streak, so operators hear once when it starts failing and once when it recovers.
    db.table("channel_health").create(
        {"subscriber": str, "target": int, "label": str, "consecutive_failures": int, "alerted": int,
         "last_error": str, "last_failure": str, "last_success": str},
        pk=("subscriber", "target"),
    )  # fmt: skip
    db.table("source_health").add_column("stale_alerted", int)


@migrations()
def m003_documents(db: Database) -> None:
    # A followed document (an MOA behind a list's link) is a channel "moa:<hash of its URL>": when it was last
    # asked (re-checked on a slower schedule than the lists) and since when it answers 404/410.
    db.table("channels").add_column("checked_at", str)
    db.table("channels").add_column("gone_since", str)
    # What a reader made of a kept body, once per (bytes, reader version): fields as JSON, the whole text for
    # full-text search, or why it could not be read.
    db.table("readings").create(
        {"sha256": str, "reader_version": str, "read_at": str, "pages": int, "text_source": str, "fields": str,
         "text": str, "error": str, "seconds": float},
        pk=("sha256", "reader_version"), foreign_keys=[("sha256", "bodies", "sha256")],
    )  # fmt: skip
    db.table("readings").enable_fts(["text"], create_triggers=True, tokenize="porter")


@migrations()
def m004_sightings(db: Database) -> None:
    # Every time a public archive showed a file (a Wayback capture, a file in a git commit): where and when,
    # and what became of it. The bytes are a body like any other; a snapshot exists only where they changed a
    # channel, so this is where repeated sightings of the same bytes keep their provenance. `key` is the capture
    # URL or repository@commit:path: a resumed import asks it before downloading.
    db.table("sightings").create(
        {"source": str, "key": str, "archive": str, "channel": str, "sha256": str, "fetched_at": str,
         "name": str, "provenance": str, "kept_at": str, "outcome": str, "detail": str},
        pk=("source", "key"), not_null={"archive", "sha256", "fetched_at", "outcome"},
    )  # fmt: skip
    db.table("sightings").create_index(["source", "outcome", "fetched_at"])
    db.table("sightings").create_index(["sha256"])


def migrate(db: Database) -> None:
    migrations.apply(db)
