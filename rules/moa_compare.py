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
from monitors.ice.names import agency_key, support_model

MISMATCH = "agreement.moa_mismatch"
# Two spellings of one place word ("Calhoun" read as "Calhcun": 0.86) are at least this alike ("Saint" and
# "Santa" are 0.8). Measured with bench/moa_mismatch.py on the 23 real MOAs: none disagrees with its own row;
# the agency alone tells 87% of the other agencies' rows of its state apart (the rest: a shared word, "Manatee
# County" vs "Sarasota Manatee Airport", a name with no distinctive word, or the one OCR'd name not trusted).
CLOSE_SPELLING = 0.85
# A name read from a document is trusted only when it names a kind of body with a correctly spelled word.
BODY_WORDS = frozenset(
    {"office", "department", "sheriff", "sheriffs", "police", "jail", "corrections", "correction", "patrol",
     "commission", "commissioners", "marshal", "marshals", "constable", "constables", "authority", "board",
     "detention", "facility", "division", "bureau", "agency", "center", "university", "college", "district"}
)  # fmt: skip


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
    listed_signed = _date(record.get("signed"))
    if link == "moa_url" and listed_signed:
        signed = signed_against(document_signed(fields.get("signatures") or []), listed_signed, max_days)
        if signed:
            found.append(
                {"field": "signed", "list": listed_signed.isoformat(), "document": signed.isoformat()}
            )
    return found


def same_agency(document: str, listed: str) -> bool:
    """The same body, as far as the names tell: a shared distinctive word, or distinctive words spelled alike.
    A name with no distinctive word ("the Sheriff's Office"), or without a word naming a kind of body (OCR's
    "Law Comaly Shuntts Ofn" for Lee County Sheriff's Office), cannot contradict anything."""
    ours, theirs = distinctive(document), distinctive(listed)
    if not BODY_WORDS & set(agency_key(document).split()):
        return True
    if not ours or not theirs or ours & theirs:
        return True
    return any(difflib.SequenceMatcher(None, a, b).ratio() >= CLOSE_SPELLING for a in ours for b in theirs)


def document_signed(signatures: list[dict[str, Any]]) -> tuple[date | None, date | None]:
    """The MOA's latest signature date on ICE's side and on the agency's (an addendum's are not the MOA's)."""
    dated = [(s.get("party"), _date(s.get("date"))) for s in signatures if s.get("document") == "MOA"]
    ice = [d for party, d in dated if d and party == "ICE"]
    agency = [d for party, d in dated if d and party != "ICE"]
    return (max(ice) if ice else None, max(agency) if agency else None)


def signed_against(sides: tuple[date | None, date | None], listed: date, max_days: float) -> date | None:
    """The document's date when it contradicts the list's `listed` date, else None. ICE signs last, and its date
    is the agreement's; an agency signs first, often months before (Taylor County's 2019 WSO: June 20 vs ICE's
    October 15). The reader cannot always tell the two columns apart (it gives Taylor's June date as ICE's),
    so a date before the list's counts only when ICE's was read beside the agency's; any side signing after
    the list's date contradicts it (ICE's date first: an agency's typo, 2028 for 2025, is not the agreement's)."""
    ice, agency = sides
    latest = ice or agency
    if latest and (latest - listed).days > max_days:
        return latest
    if ice and agency and (listed - ice).days > max_days:
        return ice
    return None


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
