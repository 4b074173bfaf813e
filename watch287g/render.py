"""Wording of events, shared by the terminal's one-line renderings and notifiers/ (messages).

`headline` says what happened without links; every value taken from a fetched document or a config passes
through its `data` function, so a renderer can escape data (HTML, Slack) without touching its own wording.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from monitors.ice_names import FORMAT_CHARS, STATES, visible_text

Data = Callable[[str], str]
CELL_LIMIT = 300  # characters of one value shown in a report or message (stored names are cut at parse time)
_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # all but tab, newline
_FORMAT = re.compile(f"[{FORMAT_CHARS}]")

# Operator events: what happened to a source (fetching) or a subscriber (delivering alerts).
OPERATOR_WORDS = {
    "source.failed": ("source", "is failing"),
    "source.recovered": ("source", "has recovered"),
    "source.stale": ("source", "looks stale"),
    "delivery.failing": ("alerts to", "are failing"),
    "delivery.recovered": ("alerts to", "are being delivered again"),
}
# policy.* / bill.* `details.effect`, in words (a bill "would ban", a policy "bans").
EFFECTS = {"ban": ("would ban", "bans"), "mandate": ("would require", "requires"),
           "restrict": ("would restrict", "restricts")}  # fmt: skip


def _same(text: str) -> str:
    return text


def printable(text: str) -> str:
    """Text as a terminal may show it: control characters (escape sequences, carriage returns; tab and
    newline kept) become U+FFFD, format characters (bidi overrides, zero-width) are removed."""
    return _TERMINAL_CONTROL.sub("\ufffd", _FORMAT.sub("", text))


class PrintableStream:
    """A text stream that passes every write through `printable`: what the CLI prints comes from fetched
    documents, and a cell holding an escape sequence must not drive the reader's terminal."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: Any) -> Any:
        return self._stream.write(printable(text) if isinstance(text, str) else text)

    def isatty(self) -> bool:
        """No: a library that colours its output for terminals (Prefect's log) would have its escape codes
        shown as U+FFFD; with this answer it writes plain text."""
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_terminal() -> None:
    """Make sys.stdout and sys.stderr printable-only for the rest of this command."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, PrintableStream):
            setattr(sys, name, PrintableStream(stream))


def flat(value: object) -> str:
    """One line of plain text: control and line-separator characters become spaces, format characters
    (bidi overrides, zero-width) are removed, runs of spaces are one."""
    return visible_text(str(value))


def one_line(value: object, limit: int = CELL_LIMIT) -> str:
    """A value for a layout cell (report, message, feed title): `flat`, at most `limit` characters."""
    text = flat(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def events_phrase(events: int, baseline: int) -> str:
    """'3 new events', or for a source's first check 'baseline recorded: 826 events (never alerted)'."""
    new = events - baseline
    parts = [f"baseline recorded: {plural(baseline, 'event')} (never alerted)"] if baseline else []
    return ", ".join(parts + ([plural(new, "new event")] if new or not baseline else []))


def day(value: object) -> str:
    return str(value or "")[:10] or "an unknown date"


def utc(value: object) -> str:
    """An ISO timestamp as "2025-07-08 21:00 UTC" (no zone means UTC); anything else as given."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def operator_subject(event: Mapping[str, Any]) -> str:
    details = event.get("details") or {}
    name = str(details.get("source") or details.get("subscriber") or event.get("source") or "unknown")
    return f"{name} ({details['channel']})" if details.get("channel") else name


def headline(event: Mapping[str, Any], data: Data = _same) -> str:
    """What happened, in words, from the event's own fields (links and provenance are the caller's)."""
    before, after, details = event.get("before") or {}, event.get("after") or {}, event.get("details") or {}
    subject = after or before
    kind = str(event.get("type") or "event")

    def val(value: object) -> str:
        return data("(blank)" if value is None or value == "" else str(value))

    agency = val(subject.get("agency") or event.get("agency"))
    model = subject.get("model") or event.get("model")
    who = f"{agency} ({val(model)})" if model else agency
    if kind == "agreement.added":
        signed = subject.get("signed")
        signed_words = (
            val(signed)
            if signed
            else (f"'{val(subject['signed_text'])}' (as written)" if subject.get("signed_text") else None)
        )
        text = f"{who}, signed {signed_words or 'date not given'}"
        if details.get("was_pending"):
            text += f"; on the pending list since {val(day(details.get('pending_since')))}"
        if details.get("re_added_after"):
            text += f"; back after being {val(details['re_added_after'])}"
        return text
    if kind in ("agreement.terminated", "pending.withdrawn"):
        lists = details.get("absent_lists")
        absent = f"absent from {plural(lists, 'list')}" if isinstance(lists, int) else "absent"
        text = f"{who}; {absent} since {val(day(details.get('absent_since')))}"
        return text + (f", last seen {val(day(details['last_seen']))}" if details.get("last_seen") else "")
    if kind == "agreement.renamed":
        fields = details.get("changed") or ["agency"]
        changes = [f"{val(before.get(f))} -> {val(after.get(f))}" for f in fields if f == "agency"]
        changes += [
            f"{val(after.get('agency'))}: {val(f)} {val(before.get(f))} -> {val(after.get(f))}"
            for f in fields
            if f != "agency"
        ]
        return "; ".join(changes) + (f" ({val(model)})" if model else "")
    if kind == "agreement.changed":
        changes = [
            f"{val(f)}: {val(before.get(f))} -> {val(after.get(f))}" for f in details.get("fields", [])
        ]
        return f"{who}: {'; '.join(changes)}"
    if kind == "agreement.moa_published":
        return f"{who}: {val(str(details.get('document') or 'moa').upper())} published"
    if kind == "pending.added":
        return f"{who} requested an agreement"
    if kind == "event.corrected":
        return _correction_words(event, val)
    if kind == "list.quarantined":
        return f"{val(details.get('list'))} list not believed: {val(details.get('reason'))}"
    if kind == "page.changed":
        return "the program page's text changed"
    if kind in OPERATOR_WORDS:
        lead, verb = OPERATOR_WORDS[kind]
        text = f"{lead} {val(operator_subject(event))} {verb}"
        if details.get("error"):
            text += f": {val(details['error'])}"
        if isinstance(details.get("failures"), int):
            text += f" ({plural(details['failures'], 'failure')} in a row)"
        return text + (f"; since {val(utc(details['since']))}" if details.get("since") else "")
    if kind == "policy.compliance":  # "Maryland: <law>: agreements still listed despite a ban (...)"
        state = STATES.get(str(event.get("state")), str(event.get("state")))
        ended = details.get("phase") == "all_ended"
        words = (
            "the last agreement under its ban has ended" if ended else "agreements still listed despite ban"
        )
        return f"{val(state)}: {val(details.get('instrument'))}: {words} ({val(details.get('summary'))})"
    if kind.startswith(("policy.", "bill.")):
        name = " ".join(val(details[k]) for k in ("bill", "title") if details.get(k)) or agency
        noun, verb = kind.split(".", 1)
        text = f"{name}: {val(noun)} {val(verb.replace('_', ' '))}"
        effect = details.get("effect")
        if str(effect) in EFFECTS:
            text += f"; {EFFECTS[str(effect)][0 if noun == 'bill' else 1]} 287(g) agreements"
        elif effect:
            text += f"; effect: {val(effect)}"
        return text
    return f"{val(kind)}: {who}" if subject or event.get("agency") else val(kind)


_WAS = {"pending.withdrawn": "withdrawn", "agreement.terminated": "terminated"}
_NOW = {"converted": "it became an agreement", "active": "it is listed again"}


def _correction_words(event: Mapping[str, Any], val: Callable[[object], str]) -> str:
    """'correction: X (model) was reported withdrawn, but it became an agreement (as Y)'."""
    details, after = event.get("details") or {}, event.get("after") or {}
    was, now = str(details.get("was")), str(details.get("now"))
    text = f"correction: {val(event.get('agency'))} ({val(event.get('model'))}) was reported "
    text += f"{val(_WAS.get(was, was))}, but {val(_NOW.get(now, now))}"
    renamed = after.get("agency") and after.get("agency") != event.get("agency")
    return text + (f" (as {val(after['agency'])})" if renamed else "")


def describe(event: Mapping[str, Any]) -> str:
    """What happened, in words, with the MOA or page link: one line for the terminal."""
    details, after = event.get("details") or {}, event.get("after") or {}
    text = headline(event)
    if event.get("type") == "agreement.moa_published":
        text += f" {after.get(str(details.get('document') or 'moa') + '_url')}"
    elif event.get("type") == "page.changed":
        text += f": {details.get('url')}"
    return text


def backfill_source(event: Mapping[str, Any]) -> str | None:
    """What to show instead of a link for a backfilled event: its document came from an archived file (named
    after the '#' of its stored `url`), not from the live page that URL names. None for any other event."""
    if event.get("origin") != "backfill":
        return None
    name = str(event.get("url") or "").partition("#")[2]
    return f"backfill file {name}" if name else "a backfill file"


def event_line(event: Mapping[str, Any]) -> str:
    flag = "  [baseline]" if event.get("baseline") else ""
    when = str(event["detected_at"])[:16].replace("T", " ")
    return f"{when}  {event['type']:<24} {event.get('state') or '--':<3}{describe(event)}{flag}"


def agreement_line(row: dict[str, Any]) -> str:
    return f"{row['state']:<3}{row['agency']:<60} {row['model']:<24} {row.get('signed') or '':<11}{row['status']}"
