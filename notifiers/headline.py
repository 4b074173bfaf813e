"""One event in words: what happened (`headline`), with its link for the terminal (`describe`,
`event_line`), and where a backfilled event's document came from. The one home of event wording, used by
messages (notifiers/render.py), titles (notifiers/wording.py), the terminal, the report, the feed and exports.

`headline` says what happened without links; every value taken from a fetched document or a config passes
through its `data` function, so a renderer can escape data (HTML, Slack) without touching its own wording.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from monitors.ice.names import STATES
from notifiers.text import day, plural, utc

Data = Callable[[str], str]

# Operator events (events.event.OPERATOR_ONLY): what happened to a source (fetching) or a subscriber (delivering
# alerts). list.quarantined, also for operators only, has words of its own.
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


def operator_subject(event: Mapping[str, Any]) -> str:
    details = event.get("details") or {}
    name = str(details.get("source") or details.get("subscriber") or event.get("source") or "unknown")
    return f"{name} ({details['channel']})" if details.get("channel") else name


def headline(event: Mapping[str, Any], data: Data = _same) -> str:
    """What happened, in words, from the event's own fields (links and provenance are the caller's)."""
    # Long: one short branch per event type, kept together so that a type's words are found in one place.
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
        return f"{who}: {val(published_document(event)[0].upper())} published"
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
    details = event.get("details") or {}
    text = headline(event)
    if event.get("type") == "agreement.moa_published":
        text += f" {published_document(event)[1]}"
    elif event.get("type") == "page.changed":
        text += f": {details.get('url')}"
    return text


def published_document(event: Mapping[str, Any]) -> tuple[str, str | None]:
    """Of an agreement.moa_published: the document's name ("moa", "addendum") and its URL in the record."""
    details, after = event.get("details") or {}, event.get("after") or {}
    name = str(details.get("document") or "moa")
    return name, after.get(f"{name}_url")


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
