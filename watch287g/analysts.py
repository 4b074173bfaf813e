"""For analysts: one agreement's or bill's whole history, event exports (CSV / JSON lines) and Atom feeds.

Export columns (one row per event; CSV and JSON lines carry the same columns in this order):
  id               the event's stable id (also the Atom entry id, as urn:watch287g:event:ID)
  type             event type, e.g. agreement.added (see README, Events)
  detected_at      when it was seen (ISO 8601, UTC); for a backfill, the archive's time
  state            USPS code
  agency           the agency's name (after the change, for a rename)
  model            support model
  bill             bill key for bill.* events ("MD|2026RS|HB444"), else empty
  summary          what happened, in words (the same wording as the terminal and the alerts)
  source_url       the document it was read from (spreadsheet, bill page, API response)
  moa_url          the agreement's MOA (or the published document for agreement.moa_published), if any
  snapshot_sha256  sha256 of the stored bytes it was read from (the evidence, kept in the database)
  baseline         true for the events of a source's first check (excluded unless asked for)
  origin           live, backfill or demo
In CSV, baseline is `true` / `false`, an empty cell is a missing value, and a text cell starting with
= + - @ (a spreadsheet formula) is prefixed with ' so that opening the file cannot run it; JSON is verbatim.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from events.event import StoredEvent
from monitors.base import instant, utc_now
from monitors.ice.names import agency_key
from monitors.legislation.bills import bill_key, normalise_identifier
from notifiers.headline import backfill_source, describe, headline, published_document
from notifiers.render import link_url
from notifiers.text import one_line, utc
from state import history as sql
from state import queries
from state.store import LAYOUT_FIELDS, Store
from watch287g.terminal import printable

EXPORT_COLUMNS = ("id", "type", "detected_at", "state", "agency", "model", "bill", "summary", "source_url",
                  "moa_url", "snapshot_sha256", "baseline", "origin")  # fmt: skip
AGREEMENT_COLUMNS = ("state", "agency", "model", "signed", "status", "county", "type", "moa_url", "since", "id")  # fmt: skip
HIDDEN = {*LAYOUT_FIELDS, "_text"}  # bookkeeping, not content
FEED_LIMIT = 200
ATOM = "http://www.w3.org/2005/Atom"


# ---- history ---------------------------------------------------------------------------------------------


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
    snapshot_id, snapshot_sha256, url, fetched_at."""
    ids = matching_records(store, term)
    found = sorted(sql.records(store, ids), key=lambda r: (_label(r).casefold(), r["id"]))
    versions: dict[str, list[dict[str, Any]]] = {}
    for version in sql.versions(store, ids):
        versions.setdefault(version["record_id"], []).append(version)
    events: dict[str | None, list[StoredEvent]] = {}
    for event in sql.record_events(store, ids):
        events.setdefault(event["record_id"], []).append(event)
    rows: list[dict[str, Any]] = []
    for record in found:
        base = {"record_id": record["id"], "kind": record["kind"], "name": _label(record)}
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


# ---- exports ---------------------------------------------------------------------------------------------


def _moa_url(event: Mapping[str, Any]) -> str | None:
    after, before = event.get("after") or {}, event.get("before") or {}
    if event["type"] == "agreement.moa_published":
        return published_document(event)[1]
    return after.get("moa_url") or before.get("moa_url")


def event_rows(store: Store, *, type_glob: str | None = None, state: str | None = None, since: str | None = None,
               include_baseline: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    """Events, oldest first, flattened to EXPORT_COLUMNS (see the module docstring)."""
    events = queries.events(
        store, since=since, type_glob=type_glob, state=state, include_baseline=include_baseline
    )
    return [_flat(e) for e in events]


def _flat(e: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": e["id"], "type": e["type"], "detected_at": e["detected_at"], "state": e["state"],
            "agency": e["agency"] or (e["after"] or e["before"] or {}).get("agency"), "model": e["model"],
            "bill": (e["details"] or {}).get("bill") if e["type"].startswith("bill.") else None,
            "summary": headline(e), "source_url": e["url"], "moa_url": _moa_url(e),
            "snapshot_sha256": e["snapshot_sha256"], "baseline": e["baseline"], "origin": e["origin"]}  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_rows(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str = "csv") -> str:
    """CSV (with a header) or JSON lines (`fmt` json), the columns in this order."""
    if fmt == "json":
        return "".join(
            json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n" for row in rows
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(row.get(c)) for c in columns] for row in rows)
    return out.getvalue()


def export_events(store: Store, fmt: str = "csv", **filters: Any) -> str:
    """Events as CSV or JSON lines (`fmt` csv|json); filters as `event_rows`."""
    return write_rows(event_rows(store, **filters), EXPORT_COLUMNS, fmt)


def export_agreements(
    store: Store, as_of: str | None = None, fmt: str = "csv", state: str | None = None
) -> str:
    """Agreements in force at `as_of` (default now), as `watch287g agreements` lists them."""
    datetime.fromisoformat(as_of or utc_now())  # ValueError for anything but a date or an ISO timestamp
    return write_rows(
        queries.agreements_as_of(store, as_of or utc_now(), state=state), AGREEMENT_COLUMNS, fmt
    )


# ---- Atom ------------------------------------------------------------------------------------------------

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(value: Any) -> str:
    """Text XML 1.0 can carry, without control or format characters (bidi overrides: `printable`); escaping
    itself is the XML library's job."""
    return _NOT_XML.sub("\ufffd", printable(str(value)))


def _stamp(value: str) -> str:
    """RFC 3339 as Atom wants it (a time zone is required; none means UTC)."""
    return instant(value).isoformat()


def feed_id(type_glob: str | None, state: str | None, since: str | None) -> str:
    """A stable feed id per filter."""
    parts = [type_glob or "*", (state or "all").upper(), since or "all"]
    return "urn:watch287g:feed:" + ":".join(quote(p, safe="*.-_") for p in parts)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, {k: _xml(v) for k, v in attrs.items()})
    if text is not None:
        node.text = _xml(text)
    return node


def atom_feed(store: Store, *, type_glob: str | None = None, state: str | None = None, since: str | None = None,
              feed_url: str | None = None, include_baseline: bool = False, limit: int = FEED_LIMIT) -> bytes:  # fmt: skip
    """An Atom 1.0 feed (RFC 4287) of the newest `limit` events matching the filters, newest first; baseline
    events excluded unless asked for. Entry ids are the events' ids as URNs, so readers never see one twice."""
    events = queries.events(
        store, since=since, type_glob=type_glob, state=state, include_baseline=include_baseline
    )
    events = list(reversed(events[-limit:] if limit else events))
    words = " ".join(w for w in (type_glob, state and state.upper(), since and f"since {since}") if w)
    feed = ET.Element("feed", {"xmlns": ATOM})  # children unqualified: in the default namespace
    _element(feed, "id", feed_id(type_glob, state, since))
    _element(feed, "title", f"watch287g: 287(g) events{' (' + words + ')' if words else ''}")
    _element(feed, "subtitle", "Changes to ICE 287(g) agreements, pending requests and state legislation")
    _element(feed, "updated", _stamp(events[0]["detected_at"] if events else utc_now()))
    _element(_element(feed, "author"), "name", "watch287g")
    _element(feed, "generator", "watch287g")
    if feed_url:
        _element(feed, "link", href=feed_url, rel="self", type="application/atom+xml")
    for event in events:
        entry = _element(feed, "entry")
        _element(entry, "id", f"urn:watch287g:event:{event['id']}")
        where = f"{event['state']}: " if event.get("state") else ""
        _element(entry, "title", f"{where}{event['type']}: {headline(event, one_line)}")
        _element(entry, "updated", _stamp(event["detected_at"]))
        _element(entry, "category", term=event["type"])
        evidence = [f"Seen {utc(event['detected_at'])} ({event['origin']})."]
        archived = backfill_source(event)  # a backfilled list was never at the live page's address: no link
        source, moa = link_url(event.get("url")), link_url(_moa_url(event))  # http(s) only, no user:pass@
        if archived:
            evidence.append(f"Source document: {one_line(archived, 2000)} (kept in the database)")
        elif event.get("url"):
            if source:
                _element(entry, "link", href=source, rel="alternate", title="source document")
            evidence.append(f"Source document: {one_line(event['url'], 2000)}")
        if moa:
            _element(entry, "link", href=moa, rel="related", title="MOA")
        if event.get("snapshot_sha256"):
            evidence.append(f"Stored snapshot sha256: {event['snapshot_sha256']}")
        _element(entry, "content", "\n".join([describe(event), *evidence]), type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
