"""Plain functions that move one document through the pipeline: snapshot -> parse -> interpret -> commit.

`run` (live, via Prefect), `backfill` (archived files) and `demo` all call `process_list` / `process_page`,
so history replayed from an archive is computed exactly as a live check would have computed it; the
legislation kinds' documents go through `process_bills`.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from events.event import Event, new_event
from monitors.base import Monitor, ParseError, Snapshot, instant
from monitors.ice.lists import PARSER_VERSION, ParsedList, parse_list
from monitors.ice.page import normalized_text
from monitors.source import Parsed, Request
from rules.bill_rules import BILL, interpret_bills
from rules.ice_rules import Context, Outcome, Rules, Tracked, interpret
from rules.policy import from_bills, load_seed, policies, policy_events
from state.store import DeliveriesFor, DocumentCommit, Store
from watch287g.compliance_settling import with_related_policy

if TYPE_CHECKING:
    from watch287g.check_loop import Check


@dataclass(frozen=True)
class Processed:
    channel: str
    outcome: str  # "unchanged" | "already_seen" | "processed" | "quarantined" | "page"
    event_ids: tuple[str, ...] = ()
    detail: str | None = None
    states: frozenset[str] = frozenset()  # the states of the records it wrote (before or after the list)


def load_parse(
    store: Store, snapshot: Snapshot, parse: Callable[[bytes], ParsedList] = parse_list
) -> tuple[ParsedList | None, dict[str, Any] | None, str | None]:
    """(parsed, new parses row or None when cached, error). Identical bytes are parsed once per parser version
    (`parse` is the source's reading of a list: monitors.ice.lists.parse_list, whose version is PARSER_VERSION)."""
    cached = store.cached_parse(snapshot.sha256, PARSER_VERSION)
    if cached:
        if cached["error"]:
            return None, None, cached["error"]
        parsed = ParsedList(
            cached["shape"],
            tuple(cached["columns"]),
            cached["records"],
            cached["warnings"],
            cached["hidden_rows"],
        )
        return parsed, None, None
    try:
        parsed = parse(snapshot.body)
    except ParseError as exc:
        return None, {"parser_version": PARSER_VERSION, "error": str(exc)}, str(exc)
    row = {
        "parser_version": PARSER_VERSION, "shape": parsed.shape, "columns": list(parsed.columns),
        "records": parsed.records, "warnings": parsed.warnings, "hidden_rows": parsed.hidden_rows, "error": None,
    }  # fmt: skip
    return parsed, row, None


def process_list(
    store: Store, snapshot: Snapshot, *, origin: str, rules: Rules, known: dict[str, Tracked] | None = None,
    deliveries_for: DeliveriesFor | None = None, parse: Callable[[bytes], ParsedList] = parse_list,
) -> Processed:  # fmt: skip
    """Interpret one participating/pending spreadsheet against the records in force, and commit it.

    `known` may be passed by a caller that processes many lists in a row (backfill): it must hold the
    source's records as stored, and is updated here after the commit, which saves re-reading them.
    """
    channel = store.channel(snapshot.source, snapshot.channel) or {}
    skipped = _already_known(store, snapshot, channel)
    if skipped:
        return skipped
    parsed, parse_row, error = load_parse(store, snapshot, parse)
    if known is None:
        known = load_known(store, snapshot.source)
    baseline = not channel.get("valid_sha256")
    ctx = Context(
        snapshot.source, snapshot.fetched_at, baseline, rules, previous_list_at=channel.get("valid_at")
    )
    outcome = None if parsed is None else interpret(snapshot.channel, parsed, known, ctx)
    reason = f"unreadable spreadsheet: {error}" if error else (outcome.quarantine if outcome else None)
    doc = _document(snapshot, origin, parse_row)
    doc.deliveries_for = deliveries_for
    if reason or outcome is None:
        doc.outcome, doc.detail = "quarantined", reason
        doc.events = [_quarantine_event(snapshot, reason or "unreadable")]
    else:
        _believed(store, doc, outcome, channel)
    event_ids = store.commit_document(doc)
    states: frozenset[str] = frozenset()
    if outcome and not reason:
        states = _states_written(outcome.updated, known)
        _remember(known, outcome.updated)
    return Processed(snapshot.channel, doc.outcome, tuple(event_ids), reason, states)


def _already_known(store: Store, snapshot: Snapshot, channel: dict[str, Any]) -> Processed | None:
    """`already_seen` or `unchanged` when these bytes must not be interpreted, else None."""
    # History only moves forward: a list earlier than the last one interpreted on this channel (a manifest
    # run again or resumed, an archive older than the live history) is never interpreted against newer state.
    # The same instant with other bytes is a later list: times have one-second steps and two live checks can
    # share one (a manifest cannot: it refuses two lists of one kind at one time), and the same bytes at the
    # same instant (a resumed backfill's last list) are `unchanged` below.
    last_at = channel.get("updated_at")
    if last_at and _later(last_at, snapshot.fetched_at):
        detail = f"fetched {snapshot.fetched_at}, before the list interpreted at {last_at}"
        return Processed(snapshot.channel, "already_seen", detail=detail)
    # The same bytes as the last processed list, or as the last valid one (a list served again after a
    # quarantined one): the records in force already say what these bytes say.
    if snapshot.sha256 in (channel.get("current_sha256"), channel.get("valid_sha256")):
        if snapshot.sha256 != channel.get("current_sha256"):  # the good list is back: a bad one is news again
            store.update_channel(snapshot.source, snapshot.channel, {"current_sha256": snapshot.sha256})
        return Processed(snapshot.channel, "unchanged")
    return None


def _believed(store: Store, doc: DocumentCommit, outcome: Outcome, channel: dict[str, Any]) -> None:
    """A valid list's commit: its record updates, its events and the channel's new valid list."""
    doc.outcome = "processed"
    doc.tracked = [vars(t).copy() for t in _last_write(outcome.updated)]
    # an agreement.terminated names the state ban in force over its agency, if any
    doc.events = with_related_policy(store, outcome.events, doc.fetched_at)
    doc.channel_update = {
        "valid_sha256": doc.sha256, "valid_at": doc.fetched_at,
        "valid_lists": (channel.get("valid_lists") or 0) + 1,
    }  # fmt: skip


def process_page(
    store: Store, snapshot: Snapshot, *, origin: str, deliveries_for: DeliveriesFor | None = None
) -> Processed:
    """Store a new ICE page snapshot; `page.changed` when its normalised text changed (the text is read only
    when the bytes changed)."""
    channel = store.channel(snapshot.source, "page") or {}
    if channel.get("current_sha256") == snapshot.sha256:
        return Processed("page", "unchanged")
    text = normalized_text(snapshot.body)
    text_sha = hashlib.sha256(text.encode()).hexdigest()
    doc = _document(snapshot, origin, None)
    doc.outcome, doc.deliveries_for = "page", deliveries_for
    doc.channel_update = {"text_sha256": text_sha}
    previous_sha = channel.get("text_sha256")
    if previous_sha and previous_sha != text_sha:
        old_body = store.body(channel["current_sha256"]) or b""
        doc.events = [page_changed(snapshot, normalized_text(old_body), text)]
    return Processed("page", "page", tuple(store.commit_document(doc)))


def _later(moment: str, than: str) -> bool:
    return instant(moment) > instant(than)


def _document(snapshot: Snapshot, origin: str, parse_row: dict[str, Any] | None) -> DocumentCommit:
    return DocumentCommit(
        source=snapshot.source, channel=snapshot.channel, url=snapshot.url, sha256=snapshot.sha256,
        body=snapshot.body, fetched_at=snapshot.fetched_at, origin=origin, outcome="", parse=parse_row,
        http_status=snapshot.http_status, content_type=snapshot.content_type, etag=snapshot.etag,
        last_modified=snapshot.last_modified,
    )  # fmt: skip


def load_known(store: Store, source: str) -> dict[str, Tracked]:
    """The source's records by id, in id order: the rules see them in one order whether a backfill carried
    them from list to list or a resumed one read them back, so both interpret a list identically."""
    return {row["id"]: _tracked(row) for row in sorted(store.tracked(source), key=lambda row: row["id"])}


def _states_written(updated: list[Tracked], known: dict[str, Tracked]) -> frozenset[str]:
    """The states whose records this list wrote, as they were and as they are (a record may change state)."""
    before = [known[t.id].record for t in updated if t.id in known]
    return frozenset(str(r["state"]) for r in [*before, *(t.record for t in updated)] if r.get("state"))


def _remember(known: dict[str, Tracked], updated: list[Tracked]) -> None:
    new = any(t.id not in known for t in updated)
    known.update((t.id, t) for t in updated)
    if new:  # keep load_known's order
        ordered = sorted(known.items())
        known.clear()
        known.update(ordered)


def _tracked(row: dict[str, Any]) -> Tracked:
    return Tracked(
        id=row["id"], kind=row["kind"], key=row["key"], record=row["record"], status=row["status"],
        first_seen=row["first_seen"], last_seen=row["last_seen"], missing_lists=row["missing_lists"] or 0,
        missing_since=row["missing_since"],
    )  # fmt: skip


def _last_write(updated: list[Tracked]) -> list[Tracked]:
    """Rules may update one record twice in a list (e.g. a pending request converted); keep the last."""
    return list({t.id: t for t in updated}.values())


def _quarantine_event(snapshot: Snapshot, reason: str) -> Event:
    details = {"list": snapshot.channel, "reason": reason, "url": snapshot.url}
    return new_event("list.quarantined", snapshot.source, snapshot.fetched_at, details=details)


def page_changed(
    snapshot: Snapshot, old_text: str, new_text: str, *, state: str | None = None, baseline: bool = False
) -> Event:
    """`page.changed` for any watched page (the ICE page, a webpage source): a diff of its sentences, one
    line each, with one line of context."""
    diff = difflib.unified_diff(
        _sentences(old_text), _sentences(new_text), "before", "after", lineterm="", n=1
    )
    details = {"url": snapshot.url, "diff": "\n".join(diff)[:4000]}
    return new_event(
        "page.changed", snapshot.source, snapshot.fetched_at, state=state, details=details, baseline=baseline
    )


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in text.replace(". ", ".\n").splitlines() if s.strip()]


def process_bills(
    check: Check, monitor: Monitor, request: Request, snapshot: Snapshot
) -> tuple[Processed, list[Request]]:
    """A legislation document: parse it to bill records (or page text), apply the bill and policy rules,
    commit it in one transaction. Its follow-up requests (LegiScan: getBills)."""
    store = check.store
    channel = store.channel(snapshot.source, snapshot.channel) or {}
    if channel.get("current_sha256") == snapshot.sha256:
        return Processed(snapshot.channel, "unchanged"), []
    doc = _document(snapshot, check.origin, None)
    doc.deliveries_for = check.deliveries_for
    try:
        parsed = monitor.parse(request, snapshot.body)
    except (ParseError, ValueError, KeyError, TypeError) as exc:  # not what the source should send
        reason = f"unreadable {monitor.kind} response: {exc}"
        doc.outcome, doc.detail = "quarantined", reason
        doc.events = [_quarantine_event(snapshot, reason)]
        return Processed(snapshot.channel, "quarantined", tuple(store.commit_document(doc)), reason), []
    baseline = not channel.get("valid_sha256") if request.baseline is None else request.baseline
    ctx = Context(snapshot.source, snapshot.fetched_at, baseline=baseline)
    doc.outcome = "processed"
    doc.channel_update = {"valid_sha256": snapshot.sha256, "valid_at": snapshot.fetched_at}
    if parsed.page_text is not None:
        old_body = store.body(channel.get("current_sha256") or "")
        old_text = (monitor.parse(request, old_body).page_text or "") if old_body else ""
        _page(doc, channel, old_text, parsed.page_text, snapshot, monitor, ctx)
    if parsed.bills:
        outcome = _bills(store, parsed, ctx)
        doc.tracked, doc.events = [asdict(t) for t in outcome.updated], outcome.events
    follow = [replace(r, baseline=baseline) for r in parsed.follow]
    return Processed(snapshot.channel, "processed", tuple(store.commit_document(doc))), follow


def _bills(store: Store, parsed: Parsed, ctx: Context) -> Outcome:
    known = {row["id"]: _tracked(row) for row in store.tracked_of_kind(BILL)}
    outcome = interpret_bills(parsed.bills, known, ctx)
    seed = load_seed()
    before = policies(seed + from_bills([t.record for t in known.values()]))
    after_known: dict[str, Tracked] = {**known, **{t.id: t for t in outcome.updated}}
    after = policies(seed + from_bills([t.record for t in after_known.values()]))
    for kind, view, old in policy_events(before, after):
        details = {
            "effect": kind.removeprefix("policy.").removesuffix("_enacted").replace("restriction", "restrict"),
            "state_agencies": view.state_agencies, "local_agencies": view.local_agencies,
            "previous": list(old.label()) if old else ["none", "none"],
            "instruments": [{"name": i.name, "effect": i.effect, "enacted": i.enacted, "effective": i.effective or None,
                             "source_url": i.source_url} for i in view.instruments],
        }  # fmt: skip
        outcome.events.append(new_event(kind, ctx.source, ctx.detected_at, state=view.state, details=details,
                                        baseline=ctx.baseline))  # fmt: skip
    return outcome


def _page(doc: DocumentCommit, channel: dict[str, Any], old: str, text: str, snapshot: Snapshot,
          monitor: Any, ctx: Context) -> None:  # fmt: skip
    digest = hashlib.sha256(text.encode()).hexdigest()
    doc.channel_update["text_sha256"] = digest
    if channel.get("text_sha256") and channel["text_sha256"] != digest:
        doc.events = [
            page_changed(snapshot, old, text, state=monitor.config.get("state"), baseline=ctx.baseline)
        ]
