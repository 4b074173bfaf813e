"""For analysts: event exports (CSV / JSON lines), agreements as of a date, and Atom feeds.

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
  moa_url          the agreement's MOA (for agreement.moa_*: the document the event is about), if any
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

from monitors.base import instant, utc_now
from notifiers.headline import DOCUMENT_EVENTS, backfill_source, describe, document_of, headline
from notifiers.render import link_url
from notifiers.text import one_line, utc
from state import queries
from state.store import Store
from watch287g.terminal import printable

EXPORT_COLUMNS = ("id", "type", "detected_at", "state", "agency", "model", "bill", "summary", "source_url",
                  "moa_url", "snapshot_sha256", "baseline", "origin")  # fmt: skip
AGREEMENT_COLUMNS = ("state", "agency", "model", "signed", "status", "county", "type", "moa_url", "since", "id")  # fmt: skip
FEED_LIMIT = 200
ATOM = "http://www.w3.org/2005/Atom"


def _moa_url(event: Mapping[str, Any]) -> str | None:
    after, before = event.get("after") or {}, event.get("before") or {}
    if event["type"] == "agreement.moa_published" or event["type"] in DOCUMENT_EVENTS:
        return document_of(event)[1]
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
        _entry(feed, event)
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry(feed: ET.Element, event: Mapping[str, Any]) -> None:
    """One event as an Atom entry: its words, links to its source document and MOA, and the evidence."""
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
