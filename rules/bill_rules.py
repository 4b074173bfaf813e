"""Domain rules for legislation (pure): bill records + what we knew -> bill events and updated bills.

A bill is keyed by (state, session, normalised identifier) across sources, so Open States, LegiScan and a
state's own page all advance the same bill. Its stage never goes backwards (sources lag each other); only
bills about 287(g)-type agreements produce events. See rules/policy.py for the per-state view.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from events.event import Event, new_event
from monitors.legislation.bills import stage_rank
from rules.classify import CLASSIFIER_VERSION, classify
from rules.ice_rules import Context, Outcome, Tracked

BILL = "bill"
FINAL_FAILURES = ("vetoed", "failed")


def bill_id(key: str) -> str:
    return f"bill:{key}"


def classified(record: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """The record with its classification, read from what every source says of the bill (`_texts`, see
    `merged`); re-classified only when that text changed or the rules did."""
    texts = record.get("_texts") or {_origin(record): _own_text(record)}
    text = "\n\n".join(texts[origin] for origin in sorted(texts))
    old = (previous or {}).get("classification") or {}
    if previous and old.get("version") == CLASSIFIER_VERSION and previous.get("_text") == text:
        return {**record, "classification": old, "_text": text}
    result = classify(text)
    return {**record, "classification": {"label": result.label, "scope": result.scope, "phrase": result.phrase,
                                         "about": result.about_phrase, "version": result.version},
            "_text": text}  # fmt: skip


def about_287g(record: dict[str, Any]) -> bool:
    return (record.get("classification") or {}).get("label", "not_287g") != "not_287g"


def merged(previous: dict[str, Any] | None, record: dict[str, Any]) -> dict[str, Any]:
    """Sources lag each other: keep the furthest stage seen, and everything any source told us (its actions
    too: a lagging source's history must not drop the signing action that states the effective date)."""
    if not previous:
        return {**record, "_texts": {_origin(record): _own_text(record)}}
    if stage_rank(previous.get("stage") or "introduced") > stage_rank(record.get("stage") or "introduced"):
        record = {**record, "stage": previous["stage"], "stage_date": previous.get("stage_date")}
    sources = list(dict.fromkeys([*(previous.get("sources") or []), *(record.get("sources") or [])]))
    companions = list(dict.fromkeys([*(previous.get("companions") or []), *(record.get("companions") or [])]))
    # Each source's latest text: one source's short title must not undo what another's synopsis showed
    # (the label flapped with the order the sources were read in, and the policy was told again each time).
    texts = {
        **(previous.get("_texts") or {_origin(previous): _own_text(previous)}),
        _origin(record): _own_text(record),
    }
    return {**record, "sources": sources, "companions": companions, "_texts": texts,
            "actions": _all_actions(previous.get("actions") or [], record.get("actions") or [])}  # fmt: skip


def _origin(record: dict[str, Any]) -> str:
    return f"{record.get('source_kind')}:{record.get('source_id')}"


def _own_text(record: dict[str, Any]) -> str:
    return "\n".join(str(record.get(f) or "") for f in ("title", "abstract", "text"))


def _all_actions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Both histories, each action once (by day and words), oldest first (undated ones first)."""
    seen = {(str(a.get("date") or "")[:10], a.get("description")) for a in new}
    kept = [*new, *(a for a in old if (str(a.get("date") or "")[:10], a.get("description")) not in seen)]
    return sorted(kept, key=lambda a: str(a.get("date") or "")[:10])


def interpret_bills(records: list[dict[str, Any]], known: dict[str, Tracked], ctx: Context) -> Outcome:
    out = Outcome()
    for raw in records:
        tracked = known.get(bill_id(raw["key"]))
        previous = tracked.record if tracked else None
        record = classified(merged(previous, raw), previous)
        if tracked is None:
            tracked = Tracked(bill_id(raw["key"]), BILL, raw["key"], record, record.get("stage") or "introduced",
                              ctx.detected_at, ctx.detected_at)  # fmt: skip
            if about_287g(record):
                out.events.append(_bill_event(_first_seen_type(record), tracked.id, ctx, None, record))
            out.updated.append(tracked)
            continue
        updated = replace(tracked, record=record, status=record.get("stage") or tracked.status,
                          last_seen=ctx.detected_at)  # fmt: skip
        kind = _transition(previous or {}, record)
        if kind and about_287g(record):
            out.events.append(_bill_event(kind, tracked.id, ctx, previous, record))
        elif about_287g(record) and not about_287g(previous or {}):  # its text now shows it is about 287(g)
            out.events.append(_bill_event(_first_seen_type(record), tracked.id, ctx, previous, record))
        if updated.record != tracked.record or updated.status != tracked.status:
            out.updated.append(updated)
    return out


def _first_seen_type(record: dict[str, Any]) -> str:
    stage = record.get("stage") or "introduced"
    if stage == "enacted":
        return "bill.enacted"
    return "bill.failed" if stage in FINAL_FAILURES else "bill.introduced"


def _transition(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    old, new = before.get("stage") or "introduced", after.get("stage") or "introduced"
    if old == new or stage_rank(new) <= stage_rank(old) and new not in FINAL_FAILURES:
        return None
    if new == "enacted":
        return "bill.enacted"
    return "bill.failed" if new in FINAL_FAILURES else "bill.advanced"


def _bill_event(
    kind: str, record_id: str, ctx: Context, before: dict[str, Any] | None, after: dict[str, Any]
) -> Event:
    label = (after.get("classification") or {}).get("label")
    details = {
        "bill": after["key"], "identifier": after.get("identifier"), "session": after.get("session"),
        "title": after.get("title"), "stage": after.get("stage"), "stage_date": after.get("stage_date"),
        "previous_stage": (before or {}).get("stage"), "effect": label if label != "not_287g" else None,
        "classification": after.get("classification"), "sources": after.get("sources") or [],
        "companions": after.get("companions") or [],
    }  # fmt: skip
    return new_event(
        kind,
        ctx.source,
        ctx.detected_at,
        record_id=record_id,
        state=after.get("state"),
        before=_public(before),
        after=_public(after),
        details=details,
        baseline=ctx.baseline,
    )


def _public(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The record as shown in events: without the texts kept to decide (re-)classification."""
    return None if record is None else {k: v for k, v in record.items() if k not in ("_text", "_texts")}
