"""The history's connection and its writes. Every write in state/ (here; the outbox's receipts in
state/deliveries.py) runs inside `Store.transaction()` (BEGIN IMMEDIATE); the migrations run when a Store
opens. One logical change (one document processed) is one transaction. tests/test_state_contract.py checks it."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from events.event import Event
from state.connection import register_functions
from state.faults import crash_point
from state.schema import migrate

BUSY_TIMEOUT_MS = 30000  # how long a write waits for another process's transaction before giving up

# Record fields that are layout, not content: a moved row is not a new version.
LAYOUT_FIELDS = ("row", "hidden")


_RECORD_COLUMNS = ("id", "source", "kind", "key", "state", "agency", "model", "status", "first_seen", "last_seen",
                   "missing_lists", "missing_since", "record", "hash")  # fmt: skip
_UPSERT_RECORD = (
    f"insert into records ({', '.join(_RECORD_COLUMNS)}) values ({', '.join(':' + c for c in _RECORD_COLUMNS)}) "
    f"on conflict(id) do update set {', '.join(f'{c} = excluded.{c}' for c in _RECORD_COLUMNS[1:])}"
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def _content(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in LAYOUT_FIELDS}


DeliveriesFor = Callable[[dict[str, Any]], list[dict[str, Any]]]


@dataclass
class DocumentCommit:
    """Everything that results from one fetched document, written in one transaction."""

    source: str
    channel: str
    url: str
    sha256: str
    body: bytes
    fetched_at: str
    origin: str  # "live", "backfill", "import" or "demo"
    outcome: str  # "processed", "quarantined", "page"
    detail: str | None = None
    http_status: int = 200
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    parse: dict[str, Any] | None = None  # a new parses row, when the bytes were parsed now
    tracked: list[dict[str, Any]] = field(default_factory=list)  # new or updated records
    events: list[Event] = field(default_factory=list)
    channel_update: dict[str, Any] = field(default_factory=dict)
    # Who must hear about an event: rows (subscriber, target, label, due_at) written with the event.
    deliveries_for: DeliveriesFor | None = None


class Store:
    def __init__(self, path: str | Path | None = None):
        """A file database (WAL, foreign keys on), or in memory when path is None (tests)."""
        self.path = Path(path) if path is not None else None
        if path is None:
            self.db = Database(memory=True)
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.db = Database(path)
            # Another process may be writing (a `notify` beside a run): wait for its lock, even here.
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.enable_wal()  # outside any transaction, or SQLite ignores it
        self.db.execute("PRAGMA foreign_keys = ON")
        register_functions(self.db.conn)
        migrate(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """BEGIN IMMEDIATE: take the write lock first (waiting busy_timeout for it). A deferred transaction that
        reads, then writes after another process committed, fails at once with `database is locked`."""
        if self.db.conn.in_transaction:
            with self.db.atomic() as db:
                yield db
            return
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.conn.execute("COMMIT")
        except BaseException:
            self.db.rollback()
            raise

    # -- reading state -------------------------------------------------------------------------------
    def channel(self, source: str, channel: str) -> dict[str, Any] | None:
        rows = list(
            self.db.query("select * from channels where source = ? and channel = ?", [source, channel])
        )
        return rows[0] if rows else None

    def tracked(self, source: str) -> list[dict[str, Any]]:
        rows = self.db.query("select * from records where source = ?", [source])
        return [{**row, "record": json.loads(row["record"])} for row in rows]

    def tracked_of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Records of one kind from every source (a bill is one record whichever tracker saw it)."""
        rows = self.db.query("select * from records where kind = ?", [kind])
        return [{**row, "record": json.loads(row["record"])} for row in rows]

    def cached_parse(self, sha256: str, parser_version: str) -> dict[str, Any] | None:
        rows = list(
            self.db.query(
                "select * from parses where sha256 = ? and parser_version = ?", [sha256, parser_version]
            )
        )
        if not rows:
            return None
        row = rows[0]
        records = json.loads(zlib.decompress(row["records"])) if row["records"] else []
        return {
            **row, "records": records, "warnings": json.loads(row["warnings"] or "[]"),
            "columns": json.loads(row["columns"] or "[]"),
        }  # fmt: skip

    def body(self, sha256: str) -> bytes | None:
        rows = list(self.db.query("select body from bodies where sha256 = ?", [sha256]))
        return rows[0]["body"] if rows else None

    # -- writing ---------------------------------------------------------------------------------------
    def keep_body(self, sha256: str, body: bytes, first_seen: str) -> None:
        """The bytes once per sha256, with the time they were first seen; called inside a transaction. (Insert
        or ignore: asking first would read the whole blob back.)"""
        self.db.execute(
            "insert or ignore into bodies (sha256, size, body, first_seen) values (?, ?, ?, ?)",
            [sha256, len(body), body, first_seen],
        )

    def log_fetch(self, row: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.table("fetches").insert(row)

    def update_channel(self, source: str, channel: str, values: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.table("channels").upsert(
                {"source": source, "channel": channel, **values}, pk=("source", "channel")
            )

    def commit_document(self, doc: DocumentCommit) -> list[str]:
        """Store the snapshot, parse, records, versions and events atomically; returns the new event ids."""
        with self.transaction() as db:
            self.keep_body(doc.sha256, doc.body, doc.fetched_at)
            snapshot_id = db.table("snapshots").insert(
                {
                    "source": doc.source, "channel": doc.channel, "url": doc.url, "sha256": doc.sha256,
                    "fetched_at": doc.fetched_at, "http_status": doc.http_status,
                    "content_type": doc.content_type, "etag": doc.etag, "last_modified": doc.last_modified,
                    "origin": doc.origin, "outcome": doc.outcome, "detail": doc.detail,
                }
            ).last_pk  # fmt: skip
            assert isinstance(snapshot_id, int)
            crash_point("mid_transaction")
            if doc.parse:
                db.table("parses").upsert(self._parse_row(doc), pk=("sha256", "parser_version"))
            for tracked in doc.tracked:
                self._write_record(db, doc, tracked, snapshot_id)
            event_ids = [self._write_event(db, doc, event, snapshot_id) for event in doc.events]
            for event_id, event in zip(event_ids, doc.events, strict=True):
                routed = {**event, "id": event_id, "origin": doc.origin}
                self._write_deliveries(db, routed, doc.deliveries_for, doc.fetched_at)
            db.table("channels").upsert(
                {"source": doc.source, "channel": doc.channel, "url": doc.url, "current_sha256": doc.sha256,
                 "updated_at": doc.fetched_at, **doc.channel_update},
                pk=("source", "channel"),
            )  # fmt: skip
        crash_point("after_commit")
        return event_ids

    def _parse_row(self, doc: DocumentCommit) -> dict[str, Any]:
        parse = dict(doc.parse or {})
        parse["sha256"] = doc.sha256
        parse["records"] = zlib.compress(canonical_json(parse.get("records") or []).encode(), 6)
        parse["warnings"] = json.dumps(parse.get("warnings") or [])
        parse["columns"] = json.dumps(parse.get("columns") or [])
        return parse

    def _write_record(
        self, db: Database, doc: DocumentCommit, tracked: dict[str, Any], snapshot_id: int
    ) -> None:
        record = tracked["record"]
        version_hash = content_hash({"status": tracked["status"], "record": _content(record)})
        # Raw SQL on this hot path: sqlite-utils re-reads the table schema on every upsert (~10x slower).
        previous = db.execute(
            "select version, record, status, hash from record_versions where record_id = ? "
            "order by version desc limit 1",
            [tracked["id"]],
        ).fetchone()
        row = {**tracked, "source": doc.source, "record": canonical_json(record), "hash": version_hash,
               "state": record.get("state"), "agency": record.get("agency"), "model": record.get("model")}  # fmt: skip
        db.execute(_UPSERT_RECORD, row)
        if previous and previous[3] == version_hash:
            return
        before = json.loads(previous[1]) if previous else {}
        changed = sorted(
            k for k in set(before) | set(record) if k not in LAYOUT_FIELDS and before.get(k) != record.get(k)
        )
        if previous and previous[2] != tracked["status"]:
            changed.append("status")
        db.execute(
            "insert into record_versions (record_id, version, valid_from, status, record, hash, changed, snapshot_id)"
            " values (?, ?, ?, ?, ?, ?, ?, ?)",
            [tracked["id"], (previous[0] + 1) if previous else 1, doc.fetched_at, tracked["status"],
             canonical_json(record), version_hash, json.dumps(changed), snapshot_id],
        )  # fmt: skip

    def _write_event(self, db: Database, doc: DocumentCommit, event: Event, snapshot_id: int) -> str:
        identity = [doc.source, doc.channel, doc.sha256, doc.fetched_at, event["type"], event.get("record_id"),
                    event.get("details", {}).get("document")]  # fmt: skip
        event_id = content_hash(identity)[:24]
        if event["type"] == "event.corrected" and not event["details"].get("corrects"):
            event["details"]["corrects"] = self._last_event_id(
                db, event["record_id"], event["details"]["was"]
            )
        db.table("events").insert(
            {
                **event, "id": event_id, "before": canonical_json(event.get("before")),
                "after": canonical_json(event.get("after")), "details": canonical_json(event.get("details", {})),
                "baseline": int(bool(event.get("baseline"))), "origin": doc.origin, "snapshot_id": snapshot_id,
                "snapshot_sha256": doc.sha256, "url": doc.url,
            },
            ignore=True,
        )  # fmt: skip
        return event_id

    @staticmethod
    def _last_event_id(db: Database, record_id: str | None, type_: str) -> str | None:
        """The event a correction corrects: the record's latest event of that type."""
        row = db.execute(
            "select id from events where record_id = ? and type = ? order by detected_at desc, rowid desc limit 1",
            [record_id, type_],
        ).fetchone()
        return row[0] if row else None

    def _write_deliveries(
        self, db: Database, event: dict[str, Any], deliveries_for: DeliveriesFor | None, at: str
    ) -> None:
        for row in deliveries_for(event) if deliveries_for else []:
            db.execute(
                "insert or ignore into deliveries (event_id, subscriber, target, label, status, due_at, "
                "next_attempt_at, attempts, created_at) values (?, ?, ?, ?, 'pending', ?, ?, 0, ?)",
                [
                    event["id"],
                    row["subscriber"],
                    row["target"],
                    row["label"],
                    row["due_at"],
                    row["due_at"],
                    at,
                ],
            )

    def add_events(
        self,
        events: list[Event],
        deliveries_for: DeliveriesFor | None,
        *,
        health: dict[str, Any] | None = None,
        origin: str = "live",
    ) -> list[str]:
        """Events that come from no document (source.failed, delivery.failing, policy.compliance...), with
        their deliveries and the health row that caused them, in one transaction."""
        ids = []
        with self.transaction() as db:
            for event in events:
                identity = [
                    event["source"],
                    event["type"],
                    event["detected_at"],
                    canonical_json(event.get("details")),
                ]
                event_id = content_hash(identity)[:24]
                row = {**event, "id": event_id, "before": None, "after": None, "baseline": int(bool(event.get("baseline"))), "origin": origin,
                       "details": canonical_json(event.get("details", {}))}  # fmt: skip
                db.table("events").insert(row, ignore=True)
                self._write_deliveries(db, {**event, "id": event_id}, deliveries_for, event["detected_at"])
                ids.append(event_id)
            if health is not None:
                db.table("source_health").upsert(health, pk="source")
        return ids

    # -- source health -----------------------------------------------------------------------------------
    def health(self, source: str) -> dict[str, Any]:
        rows = list(self.db.query("select * from source_health where source = ?", [source]))
        return rows[0] if rows else {"source": source, "consecutive_failures": 0, "alerted": 0}
