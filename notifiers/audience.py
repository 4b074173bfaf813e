"""Who a message is for and where its readers can see more: the footer (why they got it, how to change it,
links to the served history when the config names `public_url`) and the links to that history.

Pure: the facts come from the config (`Subscriber`, `public_url`, the database's name); every value from the
config passes through the format's `data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from monitors.ice.names import STATES
from notifiers.formats import TextFormat
from notifiers.subscribers import OPERATORS, SUBSCRIBER_EVENTS, Subscriber

FREQUENCY_WORDS = {
    "immediate": "sent immediately",
    "daily": "in a daily digest (13:00 UTC)",
    "weekly": "in a weekly digest (Mondays, 13:00 UTC)",
}
DEFAULT_EVENTS_WORDS = "agreement, pending-request, program-page, policy and bill events"
CHANGEABLE = ("states", "events", "models", "effects", "frequency")  # a subscriber's filter keys


@dataclass(frozen=True)
class Audience:
    """The facts a footer needs beyond the subscriber's name; the defaults say nothing more than the name."""

    subscriber: Subscriber | None = None  # their filters: why they got the message, what to change
    public_url: str | None = None  # where `watch287g serve` answers (config `public_url`)
    database: str = "watch287g"  # the database's name in the served URLs (its file name without .db)
    # The most mrkdwn the Slack channel takes in one message: apprise's own limit (35,000), or, for a Slack URL
    # with blocks=yes, what one Block Kit section holds (3,000, less a margin): apprise sends the body as one.
    slack_chars: int = 35_000

    def _served(self, path: str, query: dict[str, str]) -> str | None:
        if not self.public_url:
            return None
        base = f"{self.public_url.rstrip('/')}/{quote(self.database)}/{path}"
        return f"{base}?{urlencode(query)}" if query else base

    def history_url(self, event: Mapping[str, Any]) -> str | None:
        """The served history of the agreement or pending request an event is about (canned query
        `agreement_history`), when served; None for other events (bills, policies, the page, operators')."""
        agency = event.get("agency")
        if not agency or not str(event.get("type")).startswith(("agreement.", "pending.")):
            return None
        return self._served("agreement_history", {"agency": str(agency)})

    def events_url(self, since: str | None = None) -> str | None:
        """Every event, newest first (from `since`, a date, when given), when served."""
        query = {"_sort_desc": "detected_at"}
        return self._served("events", {**query, "detected_at__gte": since} if since else query)

    def site_links(self) -> list[tuple[str, str]]:
        """(words, URL) of the served pages a footer points at; none without public_url."""
        pages = [("all events, newest first", self.events_url()),
                 ("agreements per state and model", self._served("agreements_by_state_and_model", {}))]  # fmt: skip
        return [(words, url) for words, url in pages if url]


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def filters_in_words(subscriber: Subscriber) -> str:
    """E.g. "all states; agreement, pending-request, program-page, policy and bill events; sent immediately"."""
    if subscriber.name == OPERATORS:
        return (
            "the operators' channel: quarantined lists, failing or stale sources and deliveries, compliance"
        )
    states = (
        _listed(sorted(STATES.get(s, s) for s in subscriber.states)) if subscriber.states else "all states"
    )
    if subscriber.events == SUBSCRIBER_EVENTS:
        events = DEFAULT_EVENTS_WORDS
    else:
        events = f"events matching {', '.join(subscriber.events)}"
    parts = [states, events]
    if subscriber.models:
        parts.append(f"{_listed(sorted(subscriber.models))} only")
    if subscriber.effects:
        parts.append(f"policies and bills that {_listed(sorted(subscriber.effects))}")
    parts.append(FREQUENCY_WORDS.get(subscriber.frequency, subscriber.frequency))
    return "; ".join(parts)


def footer_lines(fmt: TextFormat, name: str, audience: Audience) -> list[str]:
    """Why this reader got the message, how to change that, and where to read more (each a line)."""
    subscriber = audience.subscriber
    if subscriber is None:
        return [f"Sent to {fmt.data(name)} by watch287g. Times are UTC."]
    lines = [f"Sent to {fmt.data(name)} by watch287g for: {fmt.data(filters_in_words(subscriber))}."]
    if subscriber.name == OPERATORS:
        lines.append("To change where these go: operators.notify in watch287g's config.")
    else:
        keys = ", ".join(f"subscribers[{fmt.data(subscriber.name)}].{key}" for key in CHANGEABLE[:1])
        rest = ", ".join(f".{key}" for key in CHANGEABLE[1:])
        lines.append(f"To change it: {keys} (or {rest}) in watch287g's config.")
    links = [fmt.link(words, url) for words, url in audience.site_links()]
    if links:
        lines.append("Read more: " + " · ".join(links))
    lines.append("Times are UTC.")
    return lines
