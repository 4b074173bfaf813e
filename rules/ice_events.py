"""The event dicts the ICE rules emit, and corrections of earlier events that a later list contradicts.

An event is never rewritten: `event.corrected` names the event it corrects (`corrects`: its id, filled in by the
store from the record's latest event of type `was`), what it was and what it now is, and carries that event's
state, agency and model so that it reaches the subscribers who got the original. Pure, like rules/ice_rules.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from events.event import Event, new_event
from monitors.ice.lists import CONTENT_FIELDS
from monitors.ice.match import same_agency

if TYPE_CHECKING:  # ice_rules imports this module
    from rules.ice_rules import Context, Outcome, Tracked


def rule_event(
    type_: str,
    record_id: str,
    ctx: Context,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    **details: Any,
) -> Event:
    """An event about one record, as the rules emit it (the store adds id, origin and provenance)."""
    subject = after or before or {}
    return new_event(type_, ctx.source, ctx.detected_at, record_id=record_id, state=subject.get("state"),
                     agency=subject.get("agency"), model=subject.get("model"), before=before, after=after,
                     details=details, baseline=ctx.baseline)  # fmt: skip


def agreement_changes(
    out: Outcome,
    tracked: Tracked,
    before: dict[str, Any],
    after: dict[str, Any],
    ctx: Context,
    evidence: tuple[str, ...] | None,
) -> None:
    """The events of an agreement seen again: renamed, MOA published, changed. `evidence`: why a record that
    left was paired with one that arrived (None: same key)."""

    def norm(name: str) -> str:
        return "".join(ch for ch in name.casefold() if ch.isalnum())

    identity = [f for f in ("agency", "state") if before[f] != after[f] and norm(before[f]) != norm(after[f])]
    if evidence is not None or identity:
        why = {"evidence": list(evidence)} if evidence else {}
        out.events.append(
            rule_event(
                "agreement.renamed", tracked.id, ctx, before, after, changed=identity or ["agency"], **why
            )
        )
    if after.get("moa_url") and after.get("moa_url") != before.get("moa_url"):
        out.events.append(
            rule_event("agreement.moa_published", tracked.id, ctx, before, after, document="moa")
        )
    if after.get("addendum_url") and after.get("addendum_url") != before.get("addendum_url"):
        out.events.append(
            rule_event("agreement.moa_published", tracked.id, ctx, before, after, document="addendum")
        )
    changed = [
        f
        for f in CONTENT_FIELDS
        if f not in ("agency", "moa_pending", "addendum_url") and f in before and f in after
        if before[f] != after[f] and not (f == "moa_url" and after["moa_url"])  # a new link: moa_published
    ]
    if changed:
        out.events.append(rule_event("agreement.changed", tracked.id, ctx, before, after, fields=changed))


def convert(out: Outcome, request: Tracked, by: str, record: dict[str, Any], ctx: Context) -> None:
    """A request became the agreement `by`; if it had been reported withdrawn, say that this was wrong."""
    out.updated.append(replace(request, status="converted"))
    if request.status == "withdrawn":
        out.events.append(correction(request, ctx, record, "pending.withdrawn", "converted", by=by))


def termination_contradicted(previous: Tracked, record: dict[str, Any], ctx: Context) -> bool:
    """A terminated agreement back with the same signed date (the same MOA, not a new one) within the
    hold-back window of its termination (absent less than twice `absent_days` in all) was never terminated:
    a longer dropout than the hold-back allowed for."""
    if previous.status != "terminated" or not previous.missing_since:
        return False
    if not record.get("signed") or record.get("signed") != previous.record.get("signed"):
        return False
    absent = datetime.fromisoformat(ctx.detected_at) - datetime.fromisoformat(previous.missing_since)
    return absent.total_seconds() < 2 * ctx.rules.absent_days * 86400


def correction(
    corrected: Tracked, ctx: Context, now_record: dict[str, Any], was: str, now: str, **details: Any
) -> Event:
    """`event.corrected` of the last `was` event of `corrected` (its id is filled in when it is stored), with
    that event's state, agency and model so that it reaches the subscribers who got it."""
    event = rule_event("event.corrected", corrected.id, ctx, corrected.record, now_record,
                       corrects=None, was=was, now=now, **details)  # fmt: skip
    event["state"], event["agency"] = corrected.record.get("state"), corrected.record.get("agency")
    event["model"] = corrected.record.get("model")
    return event


def rename_converts(
    out: Outcome, agreement: Tracked, renamed: dict[str, Any], known: dict[str, Tracked], ctx: Context
) -> None:
    """An agreement first printed under another office of the county, then renamed: the request reported
    withdrawn meanwhile that is strictly this agency became this agreement."""
    for request in known.values():
        if (
            request.kind != "pending"
            or request.status != "withdrawn"
            or not same_agency(request.record, renamed)
        ):
            continue
        if not any(t.id == request.id and t.status == "converted" for t in out.updated):
            convert(out, request, agreement.id, renamed, ctx)
