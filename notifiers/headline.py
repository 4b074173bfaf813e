"""One event in words: what happened (`headline`), with its link for the terminal (`describe`,
`event_line`), and where a backfilled event's document came from. The one home of event wording, used by
messages (notifiers/render.py), titles (notifiers/wording.py), the terminal, the report, the feed and exports.

`headline` says what happened without links; every value taken from a fetched document or a config passes
through its `data` function, so a renderer can escape data (HTML, Slack) without touching its own wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from monitors.ice.names import STATES
from notifiers.text import day, plural, utc

Data = Callable[[str], str]

# Operator events (events.event.OPERATOR_ONLY): what happened to a source (fetching) or a subscriber (delivering
# alerts). list.quarantined, also for operators only, has words of its own.
GIT_SIGHTING = re.compile(r"@[0-9a-f]{40}:")  # an imported list's url: repository@commit:path
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


@dataclass(frozen=True)
class _Told:
    """One event's parts as its words need them; every value passes through `data` (see `val`)."""

    event: Mapping[str, Any]
    data: Data
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    details: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.event.get("type") or "event")

    @property
    def subject(self) -> Mapping[str, Any]:
        return self.after or self.before

    @property
    def model(self) -> Any:
        return self.subject.get("model") or self.event.get("model")

    @property
    def agency(self) -> str:
        return self.val(self.subject.get("agency") or self.event.get("agency"))

    @property
    def who(self) -> str:
        return f"{self.agency} ({self.val(self.model)})" if self.model else self.agency

    def val(self, value: object) -> str:
        return self.data("(blank)" if value is None or value == "" else str(value))


def headline(event: Mapping[str, Any], data: Data = _same) -> str:
    """What happened, in words, from the event's own fields (links and provenance are the caller's)."""
    details = event.get("details") or {}
    told = _Told(event, data, event.get("before") or {}, event.get("after") or {}, details)
    words = WORDS.get(told.kind)
    if words is None:
        words = _policy_or_bill if told.kind.startswith(("policy.", "bill.")) else _any_other
    return words(told)


def _added(t: _Told) -> str:
    signed = t.subject.get("signed")
    written = t.subject.get("signed_text")
    signed_words = t.val(signed) if signed else (f"'{t.val(written)}' (as written)" if written else None)
    text = f"{t.who}, signed {signed_words or 'date not given'}"
    if t.details.get("was_pending"):
        text += f"; on the pending list since {t.val(day(t.details.get('pending_since')))}"
    if t.details.get("re_added_after"):
        text += f"; back after being {t.val(t.details['re_added_after'])}"
    return text


def _ended(t: _Told) -> str:  # agreement.terminated, pending.withdrawn
    lists = t.details.get("absent_lists")
    absent = f"absent from {plural(lists, 'list')}" if isinstance(lists, int) else "absent"
    text = f"{t.who}; {absent} since {t.val(day(t.details.get('absent_since')))}"
    last_seen = t.details.get("last_seen")
    return text + (f", last seen {t.val(day(last_seen))}" if last_seen else "")


def _renamed(t: _Told) -> str:
    fields = t.details.get("changed") or ["agency"]
    before, after = t.before, t.after
    changes = [f"{t.val(before.get(f))} -> {t.val(after.get(f))}" for f in fields if f == "agency"]
    changes += [
        f"{t.val(after.get('agency'))}: {t.val(f)} {t.val(before.get(f))} -> {t.val(after.get(f))}"
        for f in fields
        if f != "agency"
    ]
    return "; ".join(changes) + (f" ({t.val(t.model)})" if t.model else "")


def _changed(t: _Told) -> str:
    fields = t.details.get("fields", [])
    changes = [f"{t.val(f)}: {t.val(t.before.get(f))} -> {t.val(t.after.get(f))}" for f in fields]
    return f"{t.who}: {'; '.join(changes)}"


def _operator(t: _Told) -> str:
    lead, verb = OPERATOR_WORDS[t.kind]
    text = f"{lead} {t.val(operator_subject(t.event))} {verb}"
    if t.details.get("error"):
        text += f": {t.val(t.details['error'])}"
    if isinstance(t.details.get("failures"), int):
        text += f" ({plural(t.details['failures'], 'failure')} in a row)"
    return text + (f"; since {t.val(utc(t.details['since']))}" if t.details.get("since") else "")


def _compliance(t: _Told) -> str:  # "Maryland: <law>: agreements still listed despite a ban (...)"
    state = STATES.get(str(t.event.get("state")), str(t.event.get("state")))
    ended = t.details.get("phase") == "all_ended"
    words = "the last agreement under its ban has ended" if ended else "agreements still listed despite ban"
    return (
        f"{t.val(state)}: {t.val(t.details.get('instrument'))}: {words} ({t.val(t.details.get('summary'))})"
    )


def _policy_or_bill(t: _Told) -> str:
    name = " ".join(t.val(t.details[k]) for k in ("bill", "title") if t.details.get(k)) or t.agency
    noun, verb = t.kind.split(".", 1)
    text = f"{name}: {t.val(noun)} {t.val(verb.replace('_', ' '))}"
    effect = t.details.get("effect")
    if str(effect) in EFFECTS:
        text += f"; {EFFECTS[str(effect)][0 if noun == 'bill' else 1]} 287(g) agreements"
    elif effect:
        text += f"; effect: {t.val(effect)}"
    return text


_DOCUMENT_NAMES = {"moa": "MOA", "addendum": "Addendum"}


def _document(t: _Told) -> str:
    """The document an agreement.moa_* event is about, as its words name it ("MOA", "Addendum")."""
    document = str(t.details.get("document") or "moa")
    return t.val(_DOCUMENT_NAMES.get(document, document))


def _moa_changed(t: _Told) -> str:
    sizes = [t.before.get("size"), t.after.get("size")]
    text = f"{t.who}: {_document(t)} changed under the same link"
    if all(isinstance(size, int) for size in sizes):
        text += f" ({t.val(f'{sizes[0]:,}')} -> {t.val(f'{sizes[1]:,}')} bytes)"
    return text


def _moa_removed(t: _Told) -> str:
    status = t.details.get("http_status")
    return f"{t.who}: {_document(t)} link now answers {t.val(status or 'an error')} (removed)"


def _moa_restored(t: _Told) -> str:
    same = t.details.get("same_bytes")
    how = "" if same is None else (" (the same copy)" if same else " (other bytes than the removed copy)")
    return f"{t.who}: {_document(t)} is back{how}"


def _moa_mismatch(t: _Told) -> str:
    """'X (model): MOA disagrees with ICE's list: model (list: A, document: B); agency (...)'."""
    found = [d for d in t.details.get("disagreements") or [] if isinstance(d, Mapping)]
    said = [f"{t.val(d.get('field'))} (list: {t.val(d.get('list'))}, document: {t.val(d.get('document'))})"
            for d in found]  # fmt: skip
    return f"{t.who}: {_document(t)} disagrees with ICE's list: {'; '.join(said) or t.val(None)}"


def _any_other(t: _Told) -> str:
    return f"{t.val(t.kind)}: {t.who}" if t.subject or t.event.get("agency") else t.val(t.kind)


_WAS = {"pending.withdrawn": "withdrawn", "agreement.terminated": "terminated"}
_NOW = {"converted": "it became an agreement", "active": "it is listed again"}


def _corrected(t: _Told) -> str:
    """'correction: X (model) was reported withdrawn, but it became an agreement (as Y)'."""
    event, val = t.event, t.val
    was, now = str(t.details.get("was")), str(t.details.get("now"))
    text = f"correction: {val(event.get('agency'))} ({val(event.get('model'))}) was reported "
    text += f"{val(_WAS.get(was, was))}, but {val(_NOW.get(now, now))}"
    renamed = t.after.get("agency") and t.after.get("agency") != event.get("agency")
    return text + (f" (as {val(t.after['agency'])})" if renamed else "")


# Each event type's words (policy.* and bill.* other than policy.compliance: `_policy_or_bill`).
WORDS: dict[str, Callable[[_Told], str]] = {
    "agreement.added": _added,
    "agreement.terminated": _ended,
    "pending.withdrawn": _ended,
    "agreement.renamed": _renamed,
    "agreement.changed": _changed,
    "agreement.moa_published": lambda t: (
        f"{t.who}: {t.val(published_document(t.event)[0].upper())} published"
    ),
    "agreement.moa_changed": _moa_changed,
    "agreement.moa_removed": _moa_removed,
    "agreement.moa_restored": _moa_restored,
    "agreement.moa_mismatch": _moa_mismatch,
    "pending.added": lambda t: f"{t.who} requested an agreement",
    "event.corrected": _corrected,
    "list.quarantined": lambda t: (
        f"{t.val(t.details.get('list'))} list not believed: {t.val(t.details.get('reason'))}"
    ),
    "page.changed": lambda t: "the program page's text changed",
    **dict.fromkeys(OPERATOR_WORDS, _operator),
    "policy.compliance": _compliance,
}


def describe(event: Mapping[str, Any]) -> str:
    """What happened, in words, with the MOA or page link: one line for the terminal."""
    details = event.get("details") or {}
    text = headline(event)
    if event.get("type") == "agreement.moa_published":
        text += f" {published_document(event)[1]}"
    elif event.get("type") == "page.changed" or (event.get("type") in DOCUMENT_EVENTS and details.get("url")):
        text += f": {details.get('url')}"
    return text


def published_document(event: Mapping[str, Any]) -> tuple[str, str | None]:
    """Of an agreement.moa_published: the document's name ("moa", "addendum") and its URL in the record."""
    details, after = event.get("details") or {}, event.get("after") or {}
    name = str(details.get("document") or "moa")
    return name, after.get(f"{name}_url")


# Events about a kept document (details: url, document); moa_published names its URL in the record instead.
DOCUMENT_EVENTS = ("agreement.moa_changed", "agreement.moa_removed", "agreement.moa_restored",
                   "agreement.moa_mismatch")  # fmt: skip


def document_of(event: Mapping[str, Any]) -> tuple[str, str | None]:
    """Of any agreement.moa_* event: the document's name ("moa", "addendum") and its URL at ICE (None for
    other events)."""
    if event.get("type") == "agreement.moa_published":
        return published_document(event)
    details = event.get("details") or {}
    if str(event.get("type")) not in DOCUMENT_EVENTS:
        return "moa", None
    url = details.get("url")
    return str(details.get("document") or "moa"), str(url) if url else None


def backfill_source(event: Mapping[str, Any]) -> str | None:
    """What to show instead of a link for a backfilled event: its document came from an archived file (named
    after the '#' of its stored `url`), not from the live page that URL names; for an event imported from a git
    repository, its repository@commit:path. None for any other event (a Wayback capture's URL is a real link)."""
    url = str(event.get("url") or "")
    if event.get("origin") == "import" and GIT_SIGHTING.search(url):  # repository@commit:path, not a web page
        return f"git {url}"
    if event.get("origin") != "backfill":
        return None
    name = url.partition("#")[2]
    return f"backfill file {name}" if name else "a backfill file"


def event_line(event: Mapping[str, Any]) -> str:
    flag = "  [baseline]" if event.get("baseline") else ""
    when = str(event["detected_at"])[:16].replace("T", " ")
    return f"{when}  {event['type']:<24} {event.get('state') or '--':<3}{describe(event)}{flag}"
