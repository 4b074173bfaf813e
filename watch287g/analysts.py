"""For analysts: one agreement's or bill's whole history (exports and feeds: `watch287g/exports.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.event import StoredEvent
from monitors.ice.names import agency_key
from monitors.legislation.bills import bill_key, normalise_identifier
from notifiers.headline import headline
from notifiers.text import utc
from state import history as sql
from state.store import LAYOUT_FIELDS, Store
from watch287g.moa_views import document_rows, format_document

HIDDEN = {*LAYOUT_FIELDS, "_text"}  # bookkeeping, not content


def matching_records(store: Store, term: str) -> list[str]:
    """Record ids for a term: a record id, a bill key or identifier, else an agency name (any it has had)."""
    term = term.strip()
    if not term:
        return []
    if sql.records(store, [term]):
        return [term]
    parts = term.split("|")
    try:  # a bill key ("MD|2026RS|HB444") or a bill identifier ("HB 444")?
        key = bill_key(*parts) if len(parts) == 3 else None
        number = None if key else normalise_identifier(term)
    except ValueError:
        key = number = None
    found = [b["id"] for b in sql.bills(store) if b["key"] == key or b["key"].rsplit("|", 1)[-1] == number]
    if found:
        return found
    folded, canonical = term.casefold(), agency_key(term)
    names = sql.record_names(store)
    return sorted({row["id"] for row in names
                   if row["name"] and (folded in row["name"].casefold() or canonical in agency_key(row["name"]))})  # fmt: skip


def _public(record: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (record or {}).items() if k not in HIDDEN}


def _diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """The fields that differ; a whole record when there is only one side."""
    if not before or not after:
        return _public(before), _public(after)
    keys = sorted(k for k in set(before) | set(after) if k not in HIDDEN and before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def _label(record: dict[str, Any]) -> str:
    if record["kind"] == "bill":
        body = record["record"]
        return f"{body.get('state')} {body.get('identifier')} ({body.get('session')}): {body.get('title')}"
    return f"{record.get('state') or '--'} {record.get('agency')} ({record.get('model')})"


def history(store: Store, term: str) -> list[dict[str, Any]]:
    """Everything that happened to the records matching `term`, grouped per record, oldest first.

    Each row: record_id, kind, name, time, type ("version" or the event type), what (in words), version,
    status, changed, before / after (the values that changed), event_id, baseline, and the evidence:
    snapshot_id, snapshot_sha256, url, fetched_at. An agreement's events are followed by its documents (MOA
    and addendum links of any of its versions), one row each of type "document" (`moa_views.document_rows`)."""
    ids = matching_records(store, term)
    found = sorted(sql.records(store, ids), key=lambda r: (_label(r).casefold(), r["id"]))
    versions: dict[str, list[dict[str, Any]]] = {}
    for version in sql.versions(store, ids):
        versions.setdefault(version["record_id"], []).append(version)
    events: dict[str | None, list[StoredEvent]] = {}
    for event in sql.record_events(store, ids):
        events.setdefault(event["record_id"], []).append(event)
    bases = {r["id"]: {"record_id": r["id"], "kind": r["kind"], "name": _label(r)} for r in found}
    documents = document_rows(store, {i: base for i, base in bases.items() if base["kind"] == "agreement"})
    rows: list[dict[str, Any]] = []
    for record in found:
        base = bases[record["id"]]
        own = [_event_row(base, e) for e in events.get(record["id"], [])]
        if record["kind"] == "bill":
            instrument = f"{record['record'].get('identifier')} ({record['record'].get('session')})"
            own += [
                _event_row(base, e)
                for e in sql.policy_events(store, str(record["record"].get("state")))
                if any(i.get("name") == instrument for i in (e["details"] or {}).get("instruments", []))
            ]
        previous: dict[str, Any] | None = None
        for version in versions.get(record["id"], []):
            own.append(_version_row(base, version, previous))
            previous = version
        rows += sorted(
            own, key=lambda r: (r["time"], r["snapshot_id"] or 0, r["version"] is not None, r["version"] or 0)
        )
        rows += documents.get(record["id"], [])
    return rows


def _evidence(row: Mapping[str, Any], sha: str | None) -> dict[str, Any]:
    return {"snapshot_id": row.get("snapshot_id"), "snapshot_sha256": sha, "url": row.get("url"),
            "fetched_at": row.get("fetched_at")}  # fmt: skip


def _event_row(base: dict[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    before, after = _diff(event["before"], event["after"])
    return {**base, "time": event["detected_at"], "type": event["type"], "what": headline(event), "version": None,
            "status": None, "changed": sorted(after or before), "before": before, "after": after,
            "event_id": event["id"], "baseline": event["baseline"],
            **_evidence(event, event.get("snapshot_sha256"))}  # fmt: skip


def _version_row(base: dict[str, Any], version: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    changed = list(dict.fromkeys(version["changed"]))
    before: dict[str, Any]
    if previous is None:
        what, before, after = f"first seen: {version['status']}", {}, _public(version["record"])
    else:
        before, after = _diff(previous["record"], version["record"])
        if previous["status"] != version["status"]:
            before, after = {**before, "status": previous["status"]}, {**after, "status": version["status"]}
        shown = [c for c in changed if c not in HIDDEN]
        what = f"{version['status']}: {', '.join(shown) or 'nothing'} changed"
    return {**base, "time": version["valid_from"], "type": "version", "what": what, "version": version["version"],
            "status": version["status"], "changed": changed, "before": before, "after": after, "event_id": None,
            "baseline": None, **_evidence(version, version["snapshot_sha256"])}  # fmt: skip


def _short(value: Any, width: int = 70) -> str:
    text = "(blank)" if value is None or value == "" else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def format_history(rows: list[dict[str, Any]]) -> str:
    """The history for the terminal: a header per record, a line per change, the evidence when it changes."""
    lines: list[str] = []
    record, snapshot = None, None
    for row in rows:
        if row["record_id"] != record:
            record, snapshot = row["record_id"], None
            lines += ([""] if lines else []) + [
                f"{row['name']}  [{row['kind']}]",
                f"  id: {row['record_id']}",
            ]
        if row["type"] == "document":
            lines += format_document(row)
            continue
        label = row["type"] if row["version"] is None else f"version {row['version']}"
        flag = "  [baseline]" if row["baseline"] else ""
        lines.append(f"  {utc(row['time'])}  {label:<24} {row['what']}{flag}")
        if row["version"] is not None and row["version"] > 1:
            lines += [f"{'':<48}{field}: {_short(row['before'].get(field))} -> {_short(value)}"
                      for field, value in row["after"].items() if field != "key"]  # fmt: skip
        if row["snapshot_id"] is not None and row["snapshot_id"] != snapshot:
            snapshot = row["snapshot_id"]
            lines.append(f"{'':<48}evidence: snapshot {snapshot}, sha256 {str(row['snapshot_sha256'])[:16]}…, "
                         f"{row['url']} (fetched {utc(row['fetched_at'])})")  # fmt: skip
    return "\n".join(lines)
