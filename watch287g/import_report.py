"""The summary `watch287g import ...` prints at the end: what was imported per year and list, what was not and
why, and a check against ICE's own press figures on the days the imported lists cover."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from notifiers.text import flat, plural
from state import queries
from state.store import Store
from watch287g.importing import Imported, ImportSummary

OUTCOMES = ("processed", "unchanged", "quarantined", "already_seen")


@dataclass(frozen=True)
class PressFigure:
    day: str  # YYYY-MM-DD: ICE's "as of" date
    channel: str  # participating | pending
    count: int  # agreements (participating) or pending requests ICE announced as of that day
    said: str  # where ICE said it


# ICE's own figures; add a row when ICE publishes another.
PRESS_FIGURES: tuple[PressFigure, ...] = (
    PressFigure("2025-05-29", "participating", 635, "ICE's 287(g) page, as of May 29, 2025"),
    PressFigure("2025-05-29", "pending", 68, "ICE's 287(g) page, as of May 29, 2025"),
)
WHAT = {"participating": "agreements", "pending": "pending"}


def in_force(store: Store, channel: str, day: str) -> int:
    """Agreements active (or requests pending) at the end of `day`, as the stored history says."""
    if channel == "participating":
        return sum(a["status"] == "active" for a in queries.agreements_as_of(store, day))
    return sum(r["status"] == "pending" for r in queries.pending_as_of(store, day))


def summary_lines(
    summary: ImportSummary, count: Callable[[str, str], int], figures: tuple[PressFigure, ...] = PRESS_FIGURES
) -> list[str]:
    """Every line of the summary; `count(channel, day)` answers the press check (in_force on the store)."""
    return [
        *count_lines(summary),
        *detail_lines(summary),
        *press_lines(summary.imported, count, figures),
    ]


def count_lines(summary: ImportSummary) -> list[str]:
    """`N lists imported, M files skipped`, then one line per year and list with its outcomes."""
    lines = [
        f"{plural(len(summary.imported), 'list')} imported, {plural(len(summary.skipped), 'file')} skipped"
    ]
    tally = Counter((i.fetched_at[:4], i.channel, i.outcome) for i in summary.imported)
    for year, channel in sorted({(year, channel) for year, channel, _ in tally}):
        outcomes = [
            f"{tally[year, channel, outcome]} {outcome.replace('_', ' ')}"
            for outcome in OUTCOMES
            if tally[year, channel, outcome]
        ]
        lines.append(f"  {year} {channel}: {', '.join(outcomes)}")
    return lines


def detail_lines(summary: ImportSummary) -> list[str]:
    """The quarantined lists with their reasons, the late ones with why, the skipped files with why."""
    lines = history_lines(summary)
    quarantined = [i for i in summary.imported if i.outcome == "quarantined"]
    if quarantined:
        lines.append("quarantined (not interpreted; the lists around them were):")
        lines += [f"  {i.fetched_at} {i.channel} {flat(i.where)}: {flat(i.detail)}" for i in quarantined]
    late = [i for i in summary.imported if i.outcome == "already_seen"]
    if late:
        lines.append(
            "already seen (earlier than the list last interpreted on their channel; history only moves forward):"
        )
        lines += [
            f"  {i.fetched_at} {i.channel} {flat(i.where)}: {flat(i.detail or 'too late')}" for i in late
        ]
    if summary.skipped:
        lines.append("skipped (not one of ICE's lists, or unreadable):")
        lines += [f"  {flat(name)}: {flat(why)}" for name, why in summary.skipped]  # names from an archive
    return lines


def history_lines(summary: ImportSummary) -> list[str]:
    """Whether a list earlier than the history re-derived it, or why it could not."""
    if summary.rederived:
        return [
            "re-derived: a list earlier than the history arrived, so the source's history (archives' lists only)"
            " was rebuilt in time order; the counts above are every list of the source"
        ]
    if summary.refused_because:
        return [
            "not re-derived: lists earlier than the history stay already seen, because the source also holds "
            f"what no archive gave ({', '.join(summary.refused_because)}); import before the first `run`"
        ]
    return []


def press_lines(
    imported: list[Imported], count: Callable[[str, str], int], figures: tuple[PressFigure, ...]
) -> list[str]:
    """ICE's figure against the stored history, for each figure whose day the interpreted lists span."""
    lines = []
    for figure in figures:
        if not covers(imported, figure.channel, figure.day):
            continue
        ours = count(figure.channel, figure.day)
        verdict = "matches" if ours == figure.count else f"differs by {abs(ours - figure.count)}"
        lines.append(
            f"  {figure.day} {WHAT[figure.channel]}: ICE {figure.count} ({figure.said}), imported {ours}: {verdict}"
        )
    return ["check against ICE's press figures:", *lines] if lines else []


def covers(imported: list[Imported], channel: str, day: str) -> bool:
    """Lists of that channel were interpreted on or before `day` and on or after it (quarantined and late
    lists were not interpreted, so they cover nothing)."""
    times = [
        i.fetched_at for i in imported if i.channel == channel and i.outcome in ("processed", "unchanged")
    ]
    return bool(times) and min(times)[:10] <= day <= max(times)[:10]
