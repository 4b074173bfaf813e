"""The parts of one event a message shows, in any format: its document links, its evidence (where and when it
was seen), a page diff, the words naming its source list, and the "…and N more" sentence of a capped message.

Pure functions of events; the wording of what happened is notifiers/headline.py's.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from monitors.archive.file_names import channel_by_name, time_in_name
from notifiers.audience import Audience
from notifiers.formats import TextFormat, link_url
from notifiers.headline import DOCUMENT_EVENTS, document_of, headline
from notifiers.text import plural, utc
from notifiers.wording import summary

DIFF_LINES = 20  # changed lines of a page.changed diff shown in a message
SOURCE_LINKS = 3  # source lists linked for the events not listed


# Events that must not read like an addition: (word shown, colour of the word and of the row's left border).
STANDOUT = {
    "agreement.terminated": ("Terminated", "#b91c1c"),
    "agreement.moa_removed": ("MOA removed", "#b91c1c"),
    "pending.withdrawn": ("Withdrawn", "#b45309"),
    "agreement.moa_changed": ("MOA changed", "#b45309"),
    "event.corrected": ("Correction", "#7c3aed"),
    "list.quarantined": ("Quarantined", "#b45309"),
}
BAN = ("Ban", "#b91c1c")  # a policy or bill whose effect is a ban


def standout(event: dict[str, Any]) -> tuple[str, str] | None:
    """(word, colour) of an event that must stand out from the additions around it; None for the others."""
    kind = str(event.get("type"))
    if kind.startswith(("policy.", "bill.")) and (event.get("details") or {}).get("effect") == "ban":
        return BAN
    return STANDOUT.get(kind)


def source_words(event: dict[str, Any]) -> str:
    """The words a link to an event's source carries: "ICE's list of 8 July 2025", "ICE's 287(g) page"."""
    name = str(event.get("url") or "").rsplit("/", 1)[-1]  # ICE's file names say which list and its date
    channel, at = channel_by_name(name), time_in_name(name)
    if channel and at:
        which = "pending list" if channel == "pending" else "list"
        day = date.fromisoformat(at[:10])
        return f"ICE's {which} of {day.day} {calendar.month_name[day.month]} {day.year}"
    if event.get("type") == "page.changed":
        return "ICE's 287(g) page"
    return "Source"


def provenance(fmt: TextFormat, event: dict[str, Any]) -> str:
    """'snapshot #3, sha256 7708afe5b4f0, seen 2025-07-08 21:00 UTC' (and 'baseline' for a baseline event)."""
    facts = []
    if event.get("snapshot_id") is not None:
        sha = str(event.get("snapshot_sha256") or "")[:12] or "unknown"
        facts.append(f"snapshot #{fmt.data(str(event['snapshot_id']))}, sha256 {fmt.data(sha)}")
    facts.append(f"seen {fmt.data(utc(event.get('detected_at')))}")
    if event.get("baseline"):
        facts.append("baseline")
    return ", ".join(facts)


def evidence(fmt: TextFormat, event: dict[str, Any], label: str = "Source") -> str:
    """Where and when it was seen: the source link (carrying `label`), the snapshot and its sha256, the time."""
    if event.get("url"):
        return f"{fmt.link(label, event['url'])} ({provenance(fmt, event)})"
    return f"Evidence: {provenance(fmt, event)}"


def diff_lines(fmt: TextFormat, diff: str) -> list[str]:
    """A page.changed diff as "Added: ..." / "Removed: ..." sentences (no diff headers or context)."""
    words = {"+": "Added", "-": "Removed"}
    changed = [line for line in diff.splitlines() if line[:1] in words and line[:3] not in ("+++", "---")]
    shown = [f"{words[line[0]]}: {fmt.data(line[1:])}" for line in changed[:DIFF_LINES]]
    if len(changed) > DIFF_LINES:
        shown.append(f"({plural(len(changed) - DIFF_LINES, 'more changed line')})")
    return shown


def _kept(fmt: TextFormat, copy: dict[str, Any]) -> str:
    """One kept copy (watch287g's own, in its database): a link when the database is served at a public URL,
    else its sha256 and the command that writes it out."""
    sha256, size, at = fmt.data(str(copy.get("sha256"))), copy.get("size"), copy.get("fetched_at")
    facts = [
        f"{size:,} bytes" if isinstance(size, int) else None,
        f"kept {fmt.data(utc(at))}" if at else None,
    ]
    label = fmt.data(str(copy.get("label") or "kept copy"))
    if link_url(copy.get("url")):
        shown = ", ".join(fact for fact in [*facts, f"sha256 {sha256[:12]}"] if fact)
        return f"{fmt.link(label, copy['url'])} ({shown})"
    shown = "".join(f", {fact}" for fact in facts if fact)
    return f"{label}: sha256 {sha256}{shown}; write it out with: watch287g moa get {sha256} -o FILE"


def document_lines(fmt: TextFormat, event: dict[str, Any]) -> list[str]:
    """The links of an event's documents: the agreement's MOA and addendum at ICE and, for an event about a
    document, that document and (when delivery found them, `kept_copies`) the copies watch287g keeps; then any
    other link the event's details name."""
    subject = event.get("after") or event.get("before") or {}
    name, url = document_of(event)
    kept = [_kept(fmt, copy) for copy in event.get("kept_copies") or [] if isinstance(copy, dict)]
    lines = []
    for label, field in (("MOA", "moa_url"), ("Addendum", "addendum_url")):
        if subject.get(field) and not (kept and f"{name}_url" == field and subject[field] == url):
            lines.append(fmt.link(label, subject[field]))
    if url and (kept or event.get("type") in DOCUMENT_EVENTS):
        label = "Addendum" if name == "addendum" else "MOA"
        lines.append(" · ".join([fmt.link(f"{label} (ICE)", url), *kept]))
    details = event.get("details") or {}
    other_link = event.get("type") not in DOCUMENT_EVENTS  # else its document's URL is in the lines above
    if other_link and details.get("url") and details["url"] != event.get("url"):
        lines.append(fmt.link("Link", details["url"]))
    return lines


def item_lines(fmt: TextFormat, event: dict[str, Any]) -> list[str]:
    """One event as lines: what happened, its documents, a page's diff, its evidence."""
    lines = [headline(event, fmt.data), *document_lines(fmt, event)]
    if event.get("type") == "page.changed":
        lines.extend(diff_lines(fmt, str((event.get("details") or {}).get("diff") or "")))
    lines.append(evidence(fmt, event))
    return lines


def earliest_day(events: list[dict[str, Any]]) -> str:
    return min(str(e.get("detected_at") or "")[:10] for e in events) if events else ""


def more_sentence(fmt: TextFormat, shown: int, left_out: list[dict[str, Any]], audience: Audience) -> str:
    """ "…and N more": where the events not listed can be read (their source lists; the served history from
    the day of the first one left out when public_url is set, else the command that lists them)."""
    urls = list(dict.fromkeys(str(e["url"]) for e in left_out if e.get("url")))
    links = [fmt.link("Source list" if fmt.shows_urls else source_words({"url": url}), url)
             for url in urls[:SOURCE_LINKS]]  # fmt: skip
    if len(urls) > SOURCE_LINKS:
        links.append(f"and {plural(len(urls) - SOURCE_LINKS, 'other source')}")
    where = f" They are in: {'; '.join(links)}." if links else ""
    since = fmt.data(earliest_day(left_out))
    served = audience.events_url(since)
    every = f"See {fmt.link(f'every event since {since}', served)}" if served else (
        f"`watch287g events --since {since}` lists them")  # fmt: skip
    return (f"…and {plural(len(left_out), 'more event')} not listed here (this message lists {shown}: "
            f"{', '.join(summary(left_out))} left out).{where} {every}; watch287g's feed and report list "
            "every event.")  # fmt: skip
