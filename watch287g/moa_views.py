"""The kept MOA documents for a person: `moa search` hits as lines or JSON, and an agreement's documents with
their versions as `history` rows and lines. The SQL is state/moa_search.py's."""

from __future__ import annotations

import re
from typing import Any

from notifiers.text import utc
from state import moa_search
from state.store import Store
from watch287g.terminal import printable

_SPACE = re.compile(r"\s+")


def one_line(text: str | None) -> str:
    """Text from a document on one printable line (a PDF's text is full of line breaks and odd spaces)."""
    return printable(_SPACE.sub(" ", text or "")).strip()


def search_hits(store: Store, phrase: str, state: str | None, limit: int) -> list[dict[str, Any]]:
    """One object per document: sha256, snippet (matches between « »), rank (bm25: lower is better), url
    (where it was first kept), urls, current (its URL serves these bytes now), agreements linking it (state, agency, model, status, record_id,
    document), and what its reading says (agency, state, models, text_source)."""
    hits = []
    for hit in moa_search.search(store, phrase, state=state, limit=limit):
        fields, links = hit["fields"], hit["links"]
        urls = list(dict.fromkeys(link["url"] for link in links))
        agreements = [{key: link[key] for key in ("record_id", "state", "agency", "model", "status", "document")}
                      for link in links if link["record_id"]]  # fmt: skip
        hits.append({
            "sha256": hit["sha256"], "snippet": one_line(hit["snippet"]), "rank": hit["rank"],
            "url": urls[0] if urls else None, "urls": urls, "agreements": agreements,
            "current": any(link["current"] for link in links),
            "reading": {"agency": fields.get("agency"), "state": fields.get("state"),
                        "models": fields.get("models") or [], "text_source": hit["text_source"]},
        })  # fmt: skip
    return hits


def search_line(hit: dict[str, Any]) -> str:
    """state, agency (the linking agreements', else the document's own words), URL, snippet."""
    agreements = hit["agreements"]
    if agreements:
        state = "/".join(sorted({a["state"] or "--" for a in agreements}))
        agency = "; ".join(dict.fromkeys(a["agency"] or "?" for a in agreements))
    else:
        state = hit["reading"]["state"] or "--"
        agency = f"{hit['reading']['agency'] or '(agency not stated)'} (no agreement links it)"
    more = f" (+{len(hit['urls']) - 1} more)" if len(hit["urls"]) > 1 else ""
    earlier = "" if hit["current"] else " (an earlier version)"
    url = one_line(hit["url"]) or "(no URL)"
    return f"{one_line(state):<3}{one_line(agency)}  {url}{more}{earlier}  {hit['snippet']}"


# ---- history: an agreement's documents ------------------------------------------------------------------


def document_rows(store: Store, base_rows: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For each record (`base_rows`: record_id -> its history rows' common keys), one row per document it has
    ever linked that was asked for at least once: type "document", document ("moa" | "addendum"), url, first_linked, gone_since, checked_at,
    and versions (fetched_at, sha256, size, http_status, current, reading summary)."""
    linked = moa_search.linked_urls(store, base_rows)
    kept = moa_search.kept_versions(store, {row["url"] for row in linked})
    rows: dict[str, list[dict[str, Any]]] = {}
    for link in linked:
        document = kept[link["url"]]
        if not document["versions"] and document["checked_at"] is None and document["gone_since"] is None:
            continue  # never asked: the link itself is in the record's versions
        versions = [_version(v, document["current_sha256"]) for v in document["versions"]]
        rows.setdefault(link["record_id"], []).append({
            **base_rows[link["record_id"]], "type": "document", "document": link["document"],
            "version": None, "baseline": None, "snapshot_id": None,
            "url": link["url"], "first_linked": link["first_linked"], "gone_since": document["gone_since"],
            "checked_at": document["checked_at"], "versions": versions,
            "time": versions[-1]["fetched_at"] if versions else link["first_linked"],
            "what": _what(link["document"], versions, document["gone_since"]),
        })  # fmt: skip
    return rows


def _version(version: dict[str, Any], current: str | None) -> dict[str, Any]:
    reading = version["reading"]
    summary = None
    if reading is not None:
        fields = reading["fields"]
        summary = {
            "agency": fields.get("agency"), "state": fields.get("state"),
            "models": fields.get("models") or ([fields["model"]] if fields.get("model") else []),
            "signed": [s.get("date") for s in fields.get("signatures") or [] if s.get("date")],
            "text_source": reading["text_source"], "error": reading["error"],
        }  # fmt: skip
    return {"fetched_at": version["fetched_at"], "sha256": version["sha256"], "size": version["size"],
            "http_status": version["http_status"], "url": version["url"],
            "current": version["sha256"] == current, "reading": summary}  # fmt: skip


def _what(document: str, versions: list[dict[str, Any]], gone_since: str | None) -> str:
    kept = f"{len(versions)} version{'s' if len(versions) != 1 else ''} kept" if versions else "not kept yet"
    gone = f"; gone since {utc(gone_since)}" if gone_since else ""
    return f"{'MOA' if document == 'moa' else 'addendum'}: {kept}{gone}"


def format_document(row: dict[str, Any]) -> list[str]:
    """A document of `history` as lines: its URL and state, then one line per kept version."""
    lines = [f"  document  {row['what']}", f"{'':<12}{one_line(row['url'])}"]
    for version in row["versions"]:
        size = f"{version['size']:,} bytes" if version["size"] is not None else "size unknown"
        lines.append(f"{'':<12}{utc(version['fetched_at'])}  sha256 {version['sha256'][:16]}…  {size}, "
                     f"HTTP {version['http_status']}{'  (current)' if version['current'] else ''}")  # fmt: skip
        lines.append(f"{'':<14}{_reading_words(version['reading'])}")
    return lines


def _reading_words(summary: dict[str, Any] | None) -> str:
    if summary is None:
        return "not read yet"
    if summary["error"]:
        return one_line(f"unread: {summary['error']}")
    if summary["text_source"] == "none":
        return "read: no usable text (a scan without OCR)"
    models = ", ".join(summary["models"]) or "model not stated"
    signed = ", ".join(summary["signed"]) or "no signature date"
    return one_line(f"read ({summary['text_source']}): {summary['agency'] or 'agency not stated'}, "
                    f"{summary['state'] or '--'}; {models}; signed {signed}")  # fmt: skip
