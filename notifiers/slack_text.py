"""The Slack message, in mrkdwn: a bold summary line, per state a bold line of counts and one line per event
with named links (<URL|words>), "…and N more", the sources with their provenance, the footer.

Apprise's Slack plugin posts a body as one mrkdwn text (legacy attachments, its default) or as one section
of Block Kit blocks it builds itself (`?blocks=yes`, or a Block Kit template file named in the URL): it has
no way to take a message's own blocks, so the message is mrkdwn. Long messages are folded: at most
SLACK_ITEMS events and the channel's size (`Audience.slack_chars`: apprise's 35,000 characters, or
BLOCK_KIT_CHARS in Block Kit mode), the rest counted.
"""

from __future__ import annotations

from typing import Any

from notifiers.audience import Audience
from notifiers.formats import SlackFormat
from notifiers.headline import headline
from notifiers.items import diff_lines, document_lines, more_sentence, provenance, source_words, standout
from notifiers.wording import sections, summary

SLACK_ITEMS = 40  # events listed in one Slack message; a digest longer than this is folded
BLOCK_KIT_CHARS = 2_900  # one Block Kit section holds 3,000 characters: apprise sends the body as one


def _line(fmt: SlackFormat, event: dict[str, Any], audience: Audience) -> str:
    marked = standout(event)  # a termination, ban or correction starts with its word, in bold
    parts = [f"*{marked[0]}:* {headline(event, fmt.data)}" if marked else headline(event, fmt.data)]
    if event.get("type") == "page.changed":
        parts.append("; ".join(diff_lines(fmt, str((event.get("details") or {}).get("diff") or ""))))
    parts += document_lines(fmt, event)
    history = audience.history_url(event)
    if history:
        parts.append(fmt.link("history", history))
    return "• " + " · ".join(part for part in parts if part)


def _sources(fmt: SlackFormat, events: list[dict[str, Any]]) -> list[str]:
    """Each source list once, linked with its words, with the snapshot and time it was seen."""
    first: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.get("url"):
            first.setdefault(str(event["url"]), event)
    return [f"Source: {fmt.link(source_words(e), url)} ({provenance(fmt, e)})" for url, e in first.items()]


def _render(fmt: SlackFormat, lead: str, events: list[dict[str, Any]], left_out: list[dict[str, Any]],
            footer: list[str], audience: Audience) -> str:  # fmt: skip
    blocks = [f"*{lead}*"]
    states = sections(events)
    for state, groups in states:
        listed = [e for _, group in groups for e in group]
        place = fmt.data(state) if state else "Not tied to a state"
        counts = f": {', '.join(summary(listed))}" if len(states) > 1 else ""  # else the lead says them
        lines = "\n".join(_line(fmt, e, audience) for e in listed)
        blocks.append(f"*{place}{counts}*\n{lines}")
    if left_out:
        blocks.append(more_sentence(fmt, len(events), left_out, audience))
    sources = _sources(fmt, events)
    if sources:
        blocks.append("\n".join(sources))
    blocks.append("\n".join(footer))
    return "\n\n".join(blocks) + "\n"


def slack_body(lead: str, events: list[dict[str, Any]], left_out: list[dict[str, Any]], footer: list[str],
               audience: Audience) -> str:  # fmt: skip
    """The mrkdwn of `events` (those the e-mail lists; `left_out` are counted there), folded to Slack's size.
    `lead` and `footer` are already mrkdwn."""
    fmt = SlackFormat()
    shown = min(len(events), SLACK_ITEMS)
    body = _render(fmt, lead, events[:shown], events[shown:] + left_out, footer, audience)
    while shown > 1 and len(body) > audience.slack_chars:
        shown //= 2
        body = _render(fmt, lead, events[:shown], events[shown:] + left_out, footer, audience)
    return body
