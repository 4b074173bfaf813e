"""Does a kept MOA disagree with ICE's row of an agreement that links it? Pure.

Three fields are compared: the support model, the agency (loosely: on the distinctive words of its name, as
renames are matched, so "Sheriff's Office of Calhoun County" is "Calhoun County Sheriff's Office" and OCR's
"Sheriffs" is no disagreement), and the signed date. A field the document does not state is never a
disagreement; the list's values are only reported against, never changed.
"""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from events.event import Event, new_event
from monitors.ice.match import distinctive
from monitors.ice.names import support_model

MISMATCH = "agreement.moa_mismatch"
# Two spellings of one place word ("Calhoun" read as "Calhcun") are at least this alike; measured on the real
# MOAs against ICE's rows (bench/README.md), the closest pair of different places was well under it.
CLOSE_SPELLING = 0.8


def disagreements(
    fields: dict[str, Any], record: dict[str, Any], link: str, max_days: float
) -> list[dict[str, Any]]:
    """[{field, list, document}] where the reading `fields` (MoaReading.as_dict()) contradicts ICE's `record`.
    `link` says how the row links the document: its signed date is the MOA's, so an addendum is not dated
    against it."""
    found = []
    listed_model = support_model(record.get("model"))
    models = [m for m in (support_model(name) for name in fields.get("models") or []) if m]
    if listed_model and models and listed_model not in models:
        found.append({"field": "model", "list": record.get("model"), "document": ", ".join(models)})
    if fields.get("agency") and record.get("agency") and not same_agency(fields["agency"], record["agency"]):
        found.append({"field": "agency", "list": record["agency"], "document": fields["agency"]})
    signed = document_signed(fields.get("signatures") or []) if link == "moa_url" else None
    listed_signed = _date(record.get("signed"))
    if signed and listed_signed and abs((signed - listed_signed).days) > max_days:
        found.append({"field": "signed", "list": listed_signed.isoformat(), "document": signed.isoformat()})
    return found


def same_agency(document: str, listed: str) -> bool:
    """The same body, as far as the names tell: a shared distinctive word, or distinctive words spelled alike.
    A name with no distinctive word ("the Sheriff's Office") cannot contradict anything."""
    ours, theirs = distinctive(document), distinctive(listed)
    if not ours or not theirs or ours & theirs:
        return True
    return any(difflib.SequenceMatcher(None, a, b).ratio() >= CLOSE_SPELLING for a in ours for b in theirs)


def document_signed(signatures: list[dict[str, Any]]) -> date | None:
    """When the MOA took effect by its own signatures: ICE signs last, so its side's latest date; without
    one, the agency side's latest. An addendum's signatures are not the MOA's."""
    dated = [s for s in signatures if s.get("document") == "MOA" and _date(s.get("date"))]
    ice = [_date(s["date"]) for s in dated if s.get("party") == "ICE"]
    agency = [_date(s["date"]) for s in dated if s.get("party") != "ICE"]
    chosen = [d for d in (ice or agency) if d is not None]
    return max(chosen) if chosen else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def mismatch_events(
    fields: dict[str, Any],
    agreements: list[dict[str, Any]],
    *,
    sha256: str,
    reader_version: str,
    detected_at: str,
    max_days: float,
) -> list[Event]:
    """One `agreement.moa_mismatch` per agreement (state/readings.py `agreements_linking` rows) whose row the
    document contradicts; none for a document that could not be read."""
    events = []
    for agreement in agreements:
        record, link = agreement["record"], agreement["link"]
        found = disagreements(fields, record, link, max_days)
        if not found:
            continue
        details = {"url": record[link], "document": "moa" if link == "moa_url" else "addendum",
                   "sha256": sha256, "reader_version": reader_version, "disagreements": found}  # fmt: skip
        events.append(
            new_event(MISMATCH, agreement["source"], detected_at, record_id=agreement["id"],
                      state=agreement["state"], agency=agreement["agency"], model=agreement["model"],
                      details=details)
        )  # fmt: skip
    return events
