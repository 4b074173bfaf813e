"""The copies watch287g keeps of MOA documents, in alerts. At delivery time an agreement.moa_published,
moa_changed, moa_restored or moa_removed event is given `kept_copies`: the document's current kept copy (for a
change, the earlier one too; for a removal, the last one), each with its sha256, size, when it was fetched and,
when the config says where readers reach `watch287g serve` (`public_url`), the URL at which Datasette serves its
bytes. The messages (notifiers/render.py) stay a pure function of the events and this data."""

from __future__ import annotations

from typing import Any

from monitors.source import document_channel
from notifiers.headline import document_of
from notifiers.outbox import Enrich
from state import kept
from state.store import Store

KEPT_FOR = (
    "agreement.moa_published",
    "agreement.moa_changed",
    "agreement.moa_restored",
    "agreement.moa_removed",
)
# Datasette's URL encoding of a database name ("tilde encoding"): these bytes stay, any other is ~XX.
_NAME_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def blob_url(public_url: str, database: str, sha256: str) -> str:
    """Where `serve` answers with a kept body's bytes: Datasette's blob of column `body` in row `sha256` of
    table `bodies` (hidden from its listings, served all the same)."""
    name = "".join(chr(b) if b in _NAME_SAFE else f"~{b:02X}" for b in database.encode())
    return f"{public_url.rstrip('/')}/{name}/bodies/{sha256}.blob?_blob_column=body"


def kept_copies_adder(store: Store, public_url: str | None, database: str) -> Enrich:
    """A function that returns the events with `kept_copies` added where a copy of their document is kept."""

    def copy_of(sha256: str, size: int, fetched_at: str | None, label: str) -> dict[str, Any]:
        url = blob_url(public_url, database, sha256) if public_url else None
        return {"label": label, "sha256": sha256, "size": size, "fetched_at": fetched_at, "url": url}

    def copies(event: dict[str, Any]) -> list[dict[str, Any]]:
        if event["type"] == "agreement.moa_removed":  # the copy kept from before it vanished
            last = str((event.get("details") or {}).get("last_sha256") or "")
            sizes = kept.kept_sizes(store, [last]) if last else {}
            return [copy_of(sha256, size, None, "last kept copy") for sha256, size in sizes.items()]
        url = document_of(event)[1]
        current = kept.current_copy(store, str(event.get("source")), document_channel(url)) if url else None
        if current is None:
            return []
        found = [copy_of(current["sha256"], current["size"], current["fetched_at"], "kept copy")]
        earlier = (
            (event.get("before") or {}).get("sha256") if event["type"] == "agreement.moa_changed" else None
        )
        sizes = kept.kept_sizes(store, [str(earlier)]) if earlier and earlier != current["sha256"] else {}
        found += [copy_of(sha256, size, None, "earlier copy") for sha256, size in sizes.items()]
        return found

    def add(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        enriched = []
        for event in events:
            found = copies(event) if event.get("type") in KEPT_FOR else []
            enriched.append({**event, "kept_copies": found} if found else event)
        return enriched

    return add
