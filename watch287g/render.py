"""One-line text renderings of events and agreements for the terminal (notifiers/ renders messages)."""

from __future__ import annotations

from typing import Any


def describe(event: dict[str, Any]) -> str:
    """What happened, in words, from the event's own fields."""
    before, after, details = event.get("before") or {}, event.get("after") or {}, event.get("details") or {}
    subject = after or before
    kind = event["type"]
    if kind == "agreement.added":
        signed = subject.get("signed") or (
            f"{subject['signed_text']!r} (as written)" if subject.get("signed_text") else None
        )
        text = f"{subject['agency']} ({subject['model']}), signed {signed or 'date not given'}"
        if details.get("was_pending"):
            text += f"; on the pending list since {str(details.get('pending_since'))[:10]}"
        return text
    if kind in ("agreement.terminated", "pending.withdrawn"):
        since = str(details.get("absent_since", ""))[:10]
        return f"{subject['agency']} ({subject['model']}); absent from {details.get('absent_lists')} lists since {since}"
    if kind == "agreement.renamed":
        fields = details.get("changed") or ["agency"]
        changes = [f"{before.get(f)} -> {after.get(f)}" for f in fields if f == "agency"]
        changes += [
            f"{after['agency']}: {f} {before.get(f)} -> {after.get(f)}" for f in fields if f != "agency"
        ]
        return f"{'; '.join(changes)} ({subject['model']})"
    if kind == "agreement.changed":
        changes = [f"{f}: {before.get(f)} -> {after.get(f)}" for f in details.get("fields", [])]
        return f"{subject['agency']} ({subject['model']}): {'; '.join(changes)}"
    if kind == "agreement.moa_published":
        document = details.get("document", "moa")
        return f"{subject['agency']} ({subject['model']}): {document.upper()} {after.get(document + '_url')}"
    if kind == "pending.added":
        return f"{subject['agency']} ({subject['model']}) requested an agreement"
    if kind == "list.quarantined":
        return f"{details.get('list')} list not believed: {details.get('reason')}"
    if kind == "page.changed":
        return f"the program page's text changed: {details.get('url')}"
    return kind


def event_line(event: dict[str, Any]) -> str:
    flag = "  [baseline]" if event.get("baseline") else ""
    when = str(event["detected_at"])[:16].replace("T", " ")
    return f"{when}  {event['type']:<24} {event.get('state') or '--':<3}{describe(event)}{flag}"


def agreement_line(row: dict[str, Any]) -> str:
    return f"{row['state']:<3}{row['agency']:<60} {row['model']:<24} {row.get('signed') or '':<11}{row['status']}"
