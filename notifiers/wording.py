"""Counts in words: alert and digest titles, per-state summaries, a run's events, and the order of sections.

Pure functions of events (events.event.Event). Titles are plain text on one line.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from monitors.ice.names import STATES
from notifiers.headline import OPERATOR_WORDS, operator_subject
from notifiers.text import flat, plural

TITLE_LIMIT = 200


def clean(value: object) -> str:
    """One line of plain text: control, line-separator and format characters (bidi overrides, zero-width
    characters) never reach a message (notifiers.text.flat)."""
    return flat(value)


@dataclass(frozen=True)
class Kind:
    rank: int
    heading: str  # section heading in message bodies
    count: tuple[str, str]  # "{n} ..." singular/plural: digest summaries and later parts of a title
    lead: tuple[str, str] | None = None  # the first part of a title, when it needs more words
    later: tuple[str, str] | None = None  # a later part of a title, when unlike `count`


def _same(singular: str, many: str) -> tuple[str, str]:
    return singular, many


KINDS = {
    "agreement.added": Kind(0, "New agreements", _same("{n} new agreement", "{n} new agreements"),
                            lead=_same("{n} new 287(g) agreement", "{n} new 287(g) agreements")),
    "agreement.terminated": Kind(1, "Terminated agreements", _same("{n} terminated", "{n} terminated"),
                                 lead=_same("{n} agreement terminated", "{n} agreements terminated")),
    "pending.added": Kind(3, "New pending requests",
                          _same("{n} new pending request", "{n} new pending requests")),
    "pending.withdrawn": Kind(4, "Withdrawn pending requests",
                              _same("{n} request withdrawn", "{n} requests withdrawn"),
                              lead=_same("{n} pending request withdrawn", "{n} pending requests withdrawn")),
    "agreement.renamed": Kind(5, "Renamed agreements", _same("{n} renamed", "{n} renamed"),
                              lead=_same("{n} agreement renamed", "{n} agreements renamed")),
    "agreement.changed": Kind(6, "Changed agreements", _same("{n} changed", "{n} changed"),
                              lead=_same("{n} agreement changed", "{n} agreements changed")),
    "agreement.moa_published": Kind(7, "MOAs published", _same("{n} MOA published", "{n} MOAs published")),
    # A document that changed or vanished under the same link stands out in a title as a termination does.
    "agreement.moa_changed": Kind(8, "MOAs changed under the same link", _same("{n} MOA changed", "{n} MOAs changed"),
                                  lead=_same("{n} 287(g) MOA changed under the same link",
                                             "{n} 287(g) MOAs changed under the same link")),
    "agreement.moa_removed": Kind(9, "MOAs removed", _same("{n} MOA removed", "{n} MOAs removed"),
                                  lead=_same("{n} 287(g) MOA link removed", "{n} 287(g) MOA links removed")),
    "agreement.moa_restored": Kind(10, "MOAs back", _same("{n} MOA back", "{n} MOAs back")),
    "agreement.moa_mismatch": Kind(11, "MOAs that disagree with ICE's list",
                                   _same("{n} MOA disagrees with the list", "{n} MOAs disagree with the list")),
    "event.corrected": Kind(12, "Corrections", _same("{n} correction", "{n} corrections"),
                            lead=_same("{n} earlier alert corrected", "{n} earlier alerts corrected")),
    "list.quarantined": Kind(13, "Quarantined lists", _same("{n} list quarantined", "{n} lists quarantined")),
    "page.changed": Kind(14, "Program page", _same("{n} page change", "{n} page changes"),
                         later=_same("program page changed", "program page changed {n} times")),
    "source.failed": Kind(15, "Failing sources", _same("{n} source failure", "{n} source failures")),
    "source.stale": Kind(16, "Stale sources", _same("{n} stale source", "{n} stale sources")),
    "delivery.failing": Kind(17, "Failing deliveries", _same("{n} delivery failure", "{n} delivery failures")),
    "source.recovered": Kind(18, "Recovered sources", _same("{n} source recovered", "{n} sources recovered")),
    "delivery.recovered": Kind(19, "Recovered deliveries",
                               _same("{n} delivery recovered", "{n} deliveries recovered")),
}  # fmt: skip
_NOUNS = {"policy": "policies", "bill": "bills"}


def kind_of(event_type: str) -> Kind:
    """The words for a type; policy.* / bill.* and unknown types get generic words from the type's name."""
    if event_type in KINDS:
        return KINDS[event_type]
    noun, _, verb = clean(event_type).partition(".")
    verb = verb.replace("_", " ").strip() or "event"
    many = _NOUNS.get(noun) or (noun + "s" if noun else "events")
    rank = 2 if noun in _NOUNS else 12  # unknown types: with the corrections
    return Kind(rank, f"{many.capitalize()} {verb}", _same(f"{{n}} {noun} {verb}", f"{{n}} {many} {verb}"))


def words(forms: tuple[str, str], n: int) -> str:
    return forms[0 if n == 1 else 1].format(n=n)


def state_name(code: object) -> str | None:
    return STATES.get(str(code), clean(code)) if code else None


def _type_order(events: list[dict[str, Any]]) -> list[str]:
    return sorted({str(e.get("type")) for e in events}, key=lambda t: (kind_of(t).rank, t))


def summary(events: list[dict[str, Any]]) -> list[str]:
    """["31 new agreements", "9 renamed", ...]: counts by type, most newsworthy first."""
    counts = Counter(str(e.get("type")) for e in events)
    return [words(kind_of(t).count, counts[t]) for t in _type_order(events)]


def _state_key(name: str | None) -> tuple[int, str]:
    return (1, "") if name is None else (0, name.casefold())


def sections(events: list[dict[str, Any]]) -> list[tuple[str | None, list[tuple[str, list[dict[str, Any]]]]]]:
    """[(state name or None, [(type, events), ...]), ...]: states alphabetically (events tied to no state
    last), types within a state most newsworthy first, events in their given order."""
    by_state: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_state[state_name(event.get("state"))].append(event)
    return [
        (name, [(t, [e for e in group if str(e.get("type")) == t]) for t in _type_order(group)])
        for name, group in sorted(by_state.items(), key=lambda item: _state_key(item[0]))
    ]


def _fit(prefix: str, parts: list[tuple[str, int]], separators: list[str]) -> str:
    """prefix + as many parts as fit in TITLE_LIMIT, then "and N more…" (N: events not mentioned)."""
    for shown in range(len(parts), 0, -1):
        text = prefix + "".join(sep + part for sep, (part, _) in zip(separators, parts[:shown], strict=False))
        rest = sum(n for _, n in parts[shown:])
        text += f" and {rest} more…" if rest else ""
        if len(text) <= TITLE_LIMIT:
            return text
    text = prefix + (parts[0][0] if parts else "")
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"


def title_for(events: list[dict[str, Any]]) -> str:
    """E.g. "3 new 287(g) agreements in Texas; 1 terminated in Maryland": by type, then by state."""
    if not events:
        return "No 287(g) changes"
    parts: list[tuple[str, int]] = []
    separators: list[str] = []
    for index, event_type in enumerate(_type_order(events)):
        kind = kind_of(event_type)
        of_type = [e for e in events if str(e.get("type")) == event_type]
        if event_type in OPERATOR_WORDS:
            lead, verb = OPERATOR_WORDS[event_type]
            subjects = Counter(clean(operator_subject(e)) for e in of_type)
            for subject, n in sorted(subjects.items(), key=lambda item: (-item[1], item[0])):
                separators.append("; " if parts else "")
                parts.append((f"{lead} {subject} {verb}", n))
            continue
        places = Counter(state_name(e.get("state")) for e in of_type)
        ordered = sorted(places.items(), key=lambda item: (-item[1], _state_key(item[0])))
        for position, (place, n) in enumerate(ordered):
            where = f" in {place}" if place else ("" if position == 0 else " other")
            if position:
                separators.append(", ")
                parts.append((f"{n}{where}", n))
                continue
            forms = (kind.lead or kind.later or kind.count) if index == 0 else (kind.later or kind.count)
            separators.append("; " if parts else "")
            parts.append((words(forms, n) + where, n))
    first = _type_order(events)[0]
    prefix = "watch287g: " if first in OPERATOR_WORDS else ""
    if not prefix and "287(g)" not in parts[0][0]:
        prefix = "287(g): "
    return _fit(prefix, parts, separators)


def digest_title(events: list[dict[str, Any]], period: str, start: str, end: str) -> str:
    """E.g. "Weekly 287(g) digest, 2025-07-07 to 2025-07-14: 31 new agreements, 9 renamed, ..."."""
    label = clean(period).capitalize() or "Periodic"
    prefix = f"{label} 287(g) digest, {span(start, end)}: "
    if not events:
        return _fit(prefix, [("no changes", 0)], [""])
    counts = Counter(str(e.get("type")) for e in events)
    parts = [(text, counts[t]) for text, t in zip(summary(events), _type_order(events), strict=True)]
    return _fit(prefix, parts, [""] + [", "] * (len(parts) - 1))


def events_phrase(events: int, baseline: int) -> str:
    """'3 new events', or for a source's first check 'baseline recorded: 826 events (never alerted)'."""
    new = events - baseline
    parts = [f"baseline recorded: {plural(baseline, 'event')} (never alerted)"] if baseline else []
    return ", ".join(parts + ([plural(new, "new event")] if new or not baseline else []))


def span(start: str, end: str) -> str:
    first, last = clean(start)[:10], clean(end)[:10]
    return first if first == last else f"{first} to {last}"
