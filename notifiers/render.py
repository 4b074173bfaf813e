"""Messages for subscribers: an alert for a batch of events, a daily or weekly digest, a test message.

A message is a plain-text title and three bodies over one grouping (by state, then by type): the e-mail's HTML
(notifiers/email_html.py: a summary line, a small table per state, links with words, quiet provenance, every
URL in full at the end), plain text (full URLs, a type heading only where a state has several types) and Slack
mrkdwn (notifiers/slack_text.py). Every value from fetched data or the config is data, never markup
(notifiers/formats.py). One message lists at most MAX_ITEMS events and is at most MAX_BYTES per format; the
footer (notifiers/audience.py) says why the subscriber got it and how to change it, given their `Audience`.
Pure functions; the wording of each event is notifiers/headline.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from notifiers.audience import Audience, footer_lines
from notifiers.email_html import html_body, page, url_list
from notifiers.formats import HtmlFormat, SlackFormat, TextFormat, link_url
from notifiers.items import item_lines, more_sentence
from notifiers.slack_text import slack_body
from notifiers.text import one_line, plural, utc
from notifiers.wording import TITLE_LIMIT, clean, digest_title, kind_of, sections, span, summary, title_for

__all__ = [
    "Audience",
    "Message",
    "render_alert",
    "render_digest",
    "render_test",
    "title_for",
    "link_url",
    "utc",
]

ICE_PAGE = "https://www.ice.gov/identify-and-arrest/287g"
# One message lists at most MAX_ITEMS events and is at most MAX_BYTES in each format (99,000 invented
# agreements made one 51.5 MB e-mail); the rest are counted ("and N more") and their source lists linked.
# The busiest real week (July 7-15, 2025: 74 events) is still listed whole in the e-mail.
MAX_ITEMS = 100
MAX_BYTES = 200_000
STATES_NAMED = 3  # a summary line names up to this many states, else counts them


@dataclass(frozen=True)
class Message:
    title: str  # one line, plain text, <= 200 characters
    html: str  # e-mail: a whole HTML document; links carry words, every URL is listed in full at its end
    text: str  # plain text, full URLs
    markdown: str  # Slack mrkdwn


def _text_body(intro: str, events: list[dict[str, Any]], more: str, footer: list[str],
               audience: Audience) -> str:  # fmt: skip
    fmt = TextFormat()
    blocks = [intro]
    for state, groups in sections(events):
        everything = [e for _, group in groups for e in group]
        place = fmt.data(state) if state else "Not tied to a state"
        blocks.append(f"== {place}: {', '.join(summary(everything))} ==")
        for event_type, group in groups:
            if len(groups) > 1:  # else the state's line already says what they are
                blocks.append(f"{kind_of(event_type).heading} ({len(group)}):")
            blocks.append("\n".join("- " + "\n".join(_text_item(fmt, e, audience)).replace("\n", "\n  ")
                                    for e in group))  # fmt: skip
    if more:
        blocks.append(more)
    blocks.append("\n".join(footer))
    return "\n\n".join(blocks) + "\n"


def _text_item(fmt: TextFormat, event: dict[str, Any], audience: Audience) -> list[str]:
    lines = item_lines(fmt, event)
    history = audience.history_url(event)
    if history:
        lines.insert(-1, fmt.link("History", history))
    return lines


def _lead(fmt: TextFormat, label: str, events: list[dict[str, Any]]) -> str:
    """The summary line of the HTML and Slack bodies: counts by type and the states."""
    if not events:
        return f"{label}: no changes." if label else "No events."
    states = [fmt.data(state) for state, _ in sections(events) if state]
    named = f"{', '.join(states[:-1])} and {states[-1]}" if len(states) > 1 else "".join(states)
    where = (
        "" if not states else f" in {named if len(states) <= STATES_NAMED else plural(len(states), 'state')}"
    )
    counted = f"{plural(len(events), 'event')}{where}: {', '.join(summary(events))}."
    return f"{label}: {counted}" if label else counted


def _message(
    title: str, label: str, events: list[dict[str, Any]], subscriber: str, audience: Audience
) -> Message:
    intro = (f"{label}: {_counted(events)}" if events else f"{label}: no changes.") if label else (
        _counted(events) if events else "No events.")  # fmt: skip

    def bodies(shown: int) -> list[str]:
        listed, left_out = events[:shown], events[shown:]
        html_fmt, tail, text_fmt = HtmlFormat(), HtmlFormat(), TextFormat()
        html = html_body(html_fmt, _lead(html_fmt, label, events), listed,
                         more_sentence(tail, shown, left_out, audience) if left_out else "",
                         footer_lines(tail, subscriber, audience), audience, tail)  # fmt: skip
        text = _text_body(intro, listed, more_sentence(text_fmt, shown, left_out, audience) if left_out else "",
                          footer_lines(text_fmt, subscriber, audience), audience)  # fmt: skip
        slack_fmt = SlackFormat()
        slack = slack_body(_lead(slack_fmt, label, events), listed, left_out,
                           footer_lines(slack_fmt, subscriber, audience), audience)  # fmt: skip
        return [html, text, slack]

    shown = min(len(events), MAX_ITEMS)
    rendered = bodies(shown)
    while shown > 1 and max(len(body.encode()) for body in rendered) > MAX_BYTES:
        shown //= 2  # halving: a handful of renderings at most, whatever the events hold
        rendered = bodies(shown)
    return Message(one_line(title, TITLE_LIMIT), *rendered)


def _counted(events: list[dict[str, Any]]) -> str:
    return f"{plural(len(events), 'event')}: {', '.join(summary(events))}."


def render_alert(
    events: list[dict[str, Any]], subscriber: str, *, audience: Audience | None = None
) -> Message:
    """An immediate alert for one or more events: grouped by state, then by type, each with its evidence.
    `audience` (the subscriber's filters, public_url) fills the footer and the history links."""
    return _message(title_for(events), "", events, subscriber, audience or Audience())


def render_digest(
    events: list[dict[str, Any]], subscriber: str, period: str, start: str, end: str, *,
    audience: Audience | None = None,
) -> Message:  # fmt: skip
    """One message for a period ("daily" or "weekly"): counts, then the events by state and type."""
    label = f"{clean(period).capitalize() or 'Periodic'} digest of 287(g) changes, {span(start, end)}"
    title = digest_title(events, period, start, end)
    return _message(title, label, events, subscriber, audience or Audience())


def render_test(
    subscriber: str, now: str, sources: Sequence[tuple[str, str | None]] = (("", ICE_PAGE),)
) -> Message:
    """`watch287g notify --test`: proves the channel works, naming the configured sources (name, URL if any)
    with a link each, to check links arrive."""

    def lines(fmt: TextFormat) -> list[str]:
        intro = (f"This is a test message from watch287g to {fmt.data(subscriber)}, sent {fmt.data(utc(now))}. "
                 "If you can read it, 287(g) alerts will reach you here.")  # fmt: skip
        watched = [f"Watching {fmt.data(name)}".strip() for name, _ in sources]
        return [
            intro,
            *(fmt.link(w, url) if url else w for w, (_, url) in zip(watched, sources, strict=True)),
        ]

    html_fmt = HtmlFormat()
    paragraphs = "\n".join(f'<p style="margin:0 0 10px">{line}</p>' for line in lines(html_fmt))
    html = page(f"{paragraphs}\n{url_list(html_fmt)}")
    title = one_line(f"watch287g test message for {subscriber}", TITLE_LIMIT)
    text, markdown = ("\n\n".join(lines(fmt)) + "\n" for fmt in (TextFormat(), SlackFormat()))
    return Message(title, html, text, markdown)
