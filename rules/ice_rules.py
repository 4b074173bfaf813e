"""Domain rules: what a new ICE list means, given the records in force. Pure: no I/O, no clock.

- A list is first checked for plausibility; an implausible one is quarantined (no agreement events).
- Records are matched by key, then leftovers by rename rules (monitors/ice/match.py).
- Absence is a state before it is an event: `missing` at the first absent list; `agreement.terminated`
  (or `pending.withdrawn`) only after `Rules.absent_lists` consecutive valid lists AND `Rules.absent_days`
  days. In the real 2025 lists agreements vanished for up to 4 lists / 5 days and came back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from events.event import Event
from monitors.ice.lists import ParsedList
from monitors.ice.match import match_renames_explained, same_agency
from rules.ice_events import agreement_changes, convert, rename_converts, termination_contradicted
from rules.ice_events import correction as _correction
from rules.ice_events import rule_event as _event

AGREEMENT, PENDING = "agreement", "pending"
IN_FORCE = {AGREEMENT: ("active", "missing"), PENDING: ("pending", "missing")}


@dataclass(frozen=True)
class Rules:
    absent_lists: int = 3  # consecutive valid lists an agreement must be absent from...
    absent_days: float = 10.0  # ...and for how long, before it is terminated / withdrawn
    mass_removal_share: float = 0.2  # a participating list losing more than this share is quarantined
    mass_removal_min: int = 10  # ...when that is also more than this many agreements
    bad_rows_share: float = 0.1  # more unreadable rows than this share: quarantined
    # More new agreements (or requests) at once than this share of those in force AND than this many: the
    # largest real growth of 2025 was +88 on 151 agreements (58%) and +33 on 25 pending requests; a manifest
    # with a gap (03-17 -> 05-29) grows +277 on 360.
    mass_addition_share: float = 1.0
    mass_addition_min: int = 150
    # A kept MOA whose signatures date it more than this many days from the row's signed date disagrees with it.
    moa_mismatch_days: float = 7.0


@dataclass(frozen=True)
class Tracked:
    """One agreement or pending request as we know it now (the `records` table)."""

    id: str
    kind: str  # AGREEMENT or PENDING
    key: str
    record: dict[str, Any]
    status: str  # agreement: active|missing|terminated; pending: pending|missing|withdrawn|converted
    first_seen: str
    last_seen: str
    missing_lists: int = 0
    missing_since: str | None = None


@dataclass(frozen=True)
class Context:
    source: str
    detected_at: str
    baseline: bool  # first valid list of this kind for this source: events are marked, never alerted
    rules: Rules = field(default_factory=Rules)
    previous_list_at: str | None = None  # when the previous valid list of this kind was seen


@dataclass
class Outcome:
    events: list[Event] = field(default_factory=list)
    updated: list[Tracked] = field(default_factory=list)  # new or changed tracked records (last write wins)
    quarantine: str | None = None


def plausibility(list_kind: str, parsed: ParsedList, rules: Rules) -> str | None:
    """Why this list must not be believed, or None."""
    if parsed.shape != list_kind:
        return f"wrong list: the {list_kind} link serves a {parsed.shape}-shaped list (columns {list(parsed.columns)})"
    if not parsed.records:
        return "empty list: no agreements in the spreadsheet"
    bad_rows = sum("skipped" in w for w in parsed.warnings)
    if bad_rows > rules.bad_rows_share * (len(parsed.records) + bad_rows):
        return f"{bad_rows} of {len(parsed.records) + bad_rows} rows could not be read"
    return None


def interpret(list_kind: str, parsed: ParsedList, known: dict[str, Tracked], ctx: Context) -> Outcome:
    """Events and record updates for one valid-looking list. `known` holds both kinds, by id."""
    kind = AGREEMENT if list_kind == "participating" else PENDING
    mine = {t.id: t for t in known.values() if t.kind == kind}
    in_force = [t for t in mine.values() if t.status in IN_FORCE[kind]]
    reason = plausibility(list_kind, parsed, ctx.rules)
    if reason:
        return Outcome(quarantine=reason)
    by_key = {t.key: t for t in mine.values()}
    out = Outcome()
    seen_ids, arrivals = _still_listed(out, kind, by_key, parsed.records, ctx)
    gone = [t for t in in_force if t.id not in seen_ids]
    new_records = _renames(out, kind, gone, arrivals, known, ctx, seen_ids)
    if _mass_addition(new_records, in_force, ctx):
        noun = "agreements" if kind == AGREEMENT else "pending requests"
        return Outcome(
            quarantine=f"mass addition: {len(new_records)} new {noun} at once, against {len(in_force)} in force"
            f" (limit: more than max({ctx.rules.mass_addition_min}, {ctx.rules.mass_addition_share:.0%}))"
        )
    for record in new_records:
        _arrive(out, kind, record, by_key.get(record["key"]), known, ctx)
    removed = [t for t in gone if t.id not in seen_ids]
    if _mass_removal(kind, removed, in_force, ctx):
        return Outcome(quarantine=f"mass removal: {len(removed)} of {len(in_force)} agreements gone at once")
    still_here = [t for t in in_force if t.id in seen_ids]
    for tracked in removed:
        _absent(out, tracked, known, still_here, ctx)
    return out


def _still_listed(
    out: Outcome, kind: str, by_key: dict[str, Tracked], records: list[dict[str, Any]], ctx: Context
) -> tuple[set[str], list[dict[str, Any]]]:
    """Records listed under a key already tracked (in force, converted or merged) are updated; the ids seen,
    and the other records (arrivals: new, or renamed)."""
    seen_ids: set[str] = set()
    arrivals = []
    for key, record in {r["key"]: r for r in records}.items():
        tracked = by_key.get(key)
        if tracked and (tracked.status in IN_FORCE[kind] or tracked.status in ("converted", "merged")):
            seen_ids.add(tracked.id)
            _update_seen(out, tracked, record, ctx, renamed_from=None)
        else:
            arrivals.append(record)
    return seen_ids, arrivals


def _renames(
    out: Outcome,
    kind: str,
    gone: list[Tracked],
    arrivals: list[dict[str, Any]],
    known: dict[str, Tracked],
    ctx: Context,
    seen_ids: set[str],
) -> list[dict[str, Any]]:
    """Pair records gone with arrivals by the rename rules (the renamed are added to `seen_ids`); the
    arrivals left, which are new."""
    pairs = match_renames_explained([t.record for t in gone], arrivals)
    gone_by_record = {id(t.record): t for t in gone}
    for old_record, new_record, evidence in pairs:
        tracked = gone_by_record[id(old_record)]
        seen_ids.add(tracked.id)
        _update_seen(out, tracked, new_record, ctx, renamed_from=old_record, evidence=evidence)
    if kind == AGREEMENT:
        for old_record, new_record, _evidence in pairs:
            rename_converts(out, gone_by_record[id(old_record)], new_record, known, ctx)
    paired_new = {id(new) for _old, new, _evidence in pairs}
    return [record for record in arrivals if id(record) not in paired_new]


def _mass_removal(kind: str, removed: list[Tracked], in_force: list[Tracked], ctx: Context) -> bool:
    newly_gone = [t for t in removed if t.status != "missing"]
    limit = max(ctx.rules.mass_removal_min, ctx.rules.mass_removal_share * len(in_force))
    return kind == AGREEMENT and not ctx.baseline and len(newly_gone) > limit


def _mass_addition(new_records: list[dict[str, Any]], in_force: list[Tracked], ctx: Context) -> bool:
    """Growth no real list has shown (the baseline is exempt: everything in it is new)."""
    limit = max(ctx.rules.mass_addition_min, ctx.rules.mass_addition_share * len(in_force))
    return not ctx.baseline and len(new_records) > limit


def _update_seen(
    out: Outcome,
    tracked: Tracked,
    record: dict[str, Any],
    ctx: Context,
    renamed_from: dict[str, Any] | None,
    evidence: tuple[str, ...] = (),
) -> None:
    status = "active" if tracked.kind == AGREEMENT else "pending"
    before = tracked.record
    record = _keep_blanked(before, record)
    # last_seen is not bumped on every list (that would rewrite every record every time); an active
    # record is by definition seen in the latest list, and _absent records when it was last seen.
    updated = replace(
        tracked, key=record["key"], record=record, status=status, missing_lists=0, missing_since=None
    )
    if tracked.kind == AGREEMENT:
        agreement_changes(out, tracked, before, record, ctx, evidence if renamed_from else None)
    if _essence(updated) != _essence(tracked):
        out.updated.append(updated)


# A cell left blank in one list and filled again in the next (seen: TYPE of Grafton County, NH) is not news.
_BLANK_KEEPS_OLD = ("type", "county", "signed", "signed_text")


def _keep_blanked(before: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """A field that goes blank keeps its previous value; only a new non-blank value is a change."""
    kept = {
        f: before[f]
        for f in _BLANK_KEEPS_OLD
        if f in record and record[f] is None and before.get(f) is not None
    }
    if "signed" in kept and record.get("signed_text"):  # a readable date replaced by broken text: keep both
        kept.pop("signed_text", None)
    return {**record, **kept} if kept else record


def _essence(tracked: Tracked) -> tuple[Any, ...]:
    """What makes a tracked record different: not the row it sits on in this particular file."""
    content = {k: v for k, v in tracked.record.items() if k not in ("row", "hidden")}
    return (
        tracked.key,
        tracked.status,
        tracked.missing_lists,
        tracked.missing_since,
        tracked.last_seen,
        content,
    )


def _arrive(
    out: Outcome,
    kind: str,
    record: dict[str, Any],
    previous: Tracked | None,
    known: dict[str, Tracked],
    ctx: Context,
) -> None:
    record_id = previous.id if previous else f"{ctx.source}:{kind}:{record['key']}"
    tracked = Tracked(record_id, kind, record["key"], record, "active" if kind == AGREEMENT else "pending",
                      previous.first_seen if previous else ctx.detected_at, ctx.detected_at)  # fmt: skip
    out.updated.append(tracked)
    if kind == PENDING:
        out.events.append(_event("pending.added", record_id, ctx, None, record))
        return
    request = _pending_request(record, known)
    details: dict[str, Any] = {"was_pending": request is not None}
    if request:
        details["pending_since"] = request.first_seen
        convert(out, request, record_id, record, ctx)
    if previous and termination_contradicted(previous, record, ctx):
        out.events.append(
            _correction(previous, ctx, record, "agreement.terminated", "active", by=record_id,
                        absent_since=previous.missing_since)
        )  # fmt: skip
        return
    if previous:
        details["re_added_after"] = previous.status
    out.events.append(_event("agreement.added", record_id, ctx, None, record, **details))


def _pending_request(record: dict[str, Any], known: dict[str, Tracked]) -> Tracked | None:
    """The pending request this new agreement came from: same key, else strictly the same body in the same
    state. A pending request has no signed date, so the looser rename rules would match any "... Beach"
    agency; and a same-named request in another state is not linked (30 states have a Washington County)."""
    requests = [
        t for t in known.values() if t.kind == PENDING and t.status in ("pending", "missing", "withdrawn")
    ]
    exact = next((t for t in requests if t.key == record["key"]), None)
    return exact or next((t for t in requests if same_agency(t.record, record)), None)


def _absent(
    out: Outcome, tracked: Tracked, known: dict[str, Tracked], still_here: list[Tracked], ctx: Context
) -> None:
    if tracked.kind == PENDING and _became_agreement(tracked, known):
        out.updated.append(replace(tracked, status="converted"))
        return
    twin = _duplicate_of(tracked, still_here)
    if twin:  # ICE deleted one of two rows for the same agreement: nothing ended
        out.updated.append(replace(tracked, status="merged", missing_since=ctx.detected_at))
        return
    since = tracked.missing_since or ctx.detected_at
    last_seen = (
        tracked.last_seen if tracked.status == "missing" else (ctx.previous_list_at or tracked.last_seen)
    )
    tracked = replace(tracked, last_seen=last_seen)
    lists = tracked.missing_lists + 1
    days = (datetime.fromisoformat(ctx.detected_at) - datetime.fromisoformat(since)).total_seconds() / 86400
    if lists >= ctx.rules.absent_lists and days >= ctx.rules.absent_days:
        ended = "terminated" if tracked.kind == AGREEMENT else "withdrawn"
        details = {"absent_lists": lists, "absent_since": since, "last_seen": tracked.last_seen}
        out.events.append(_event(f"{tracked.kind}.{ended}", tracked.id, ctx, tracked.record, None, **details))
        out.updated.append(replace(tracked, status=ended, missing_lists=lists, missing_since=since))
    else:
        out.updated.append(replace(tracked, status="missing", missing_lists=lists, missing_since=since))


def _duplicate_of(tracked: Tracked, still_here: list[Tracked]) -> Tracked | None:
    """Another agreement in the same list that is strictly the same body (ICE deleted a duplicate row)."""
    return next((t for t in still_here if same_agency(t.record, tracked.record)), None)


def _became_agreement(request: Tracked, known: dict[str, Tracked]) -> bool:
    agreements = [t for t in known.values() if t.kind == AGREEMENT and t.status in IN_FORCE[AGREEMENT]]
    return any(t.key == request.key or same_agency(t.record, request.record) for t in agreements)
