"""The outbox: deliveries are rows written with their event; `send_due` works through them.

Anything but apprise's `True` is a failure: the delivery keeps its row, records the attempt and the reason,
and is retried with backoff on later runs. A delivery with a receipt (`sent_at`) is never sent again. A
channel that keeps failing alerts the operators once, and once more when it recovers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from events.event import OPERATOR_SOURCE, new_event
from notifiers.render import Audience, Message, render_alert, render_digest
from notifiers.slack_text import BLOCK_KIT_CHARS
from notifiers.subscribers import OPERATORS, Routing, Subscriber
from state import deliveries
from state.faults import crash_point
from state.lock import Busy, send_lock
from state.store import DeliveriesFor, Store

BACKOFF_MINUTES = (1, 5, 15, 60, 180, 360)  # then every 6 hours until it goes through
DIGEST_HOUR_UTC = 13  # 9 am on the East Coast
SEND_WAIT_SECONDS = 300.0  # a send takes seconds (SMTP timeouts included); then leave the rest to the next
HEADER_CHARS = 150  # the most a Slack Block Kit header takes
Send = Callable[[str, Message], tuple[bool, str | None]]  # (apprise URL, message) -> (ok, reason)
# Data the caller adds to due events before they are rendered (the kept copies of MOA documents).
Enrich = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class SendReport:
    messages: int = 0
    deliveries: int = 0
    failures: list[str] = field(default_factory=list)  # redacted reasons, one per failed message
    skipped: str | None = None  # why nothing was sent (another sender held the send lock too long)

    @property
    def ok(self) -> bool:
        return not self.failures


def deliveries_for(routing: Routing) -> DeliveriesFor:
    """The rows to write with an event: one per (subscriber who wants it, channel). Never for baseline,
    backfill or demo events."""

    def rows(event: dict[str, Any]) -> list[dict[str, Any]]:
        if event.get("baseline") or event.get("origin", "live") != "live":
            return []
        return [
            {
                "subscriber": s.name,
                "target": i,
                "label": t.label,
                "due_at": due_at(s.frequency, event["detected_at"]),
            }
            for s in routing.everyone()
            if s.wants(event)
            for i, t in enumerate(s.targets)
        ]

    return rows


def due_at(frequency: str, at: str) -> str:
    """When a delivery may go out: now, or at the end of its digest period (13:00 UTC daily, Mondays weekly)."""
    if frequency == "immediate":
        return at
    moment = datetime.fromisoformat(at)
    slot = moment.replace(hour=DIGEST_HOUR_UTC, minute=0, second=0, microsecond=0)
    if slot <= moment:
        slot += timedelta(days=1)
    if frequency == "weekly":
        slot += timedelta(days=(7 - slot.weekday()) % 7)
    return slot.isoformat()


def send_due(
    store: Store, routing: Routing, now: str, send: Send | None = None, enrich: Enrich | None = None,
    site: Audience | None = None,
) -> SendReport:  # fmt: skip
    """Send every due delivery, one message per (subscriber, channel); alerts about failing channels are
    themselves deliveries to the operators and go out in the same call. `site` (public_url, database name)
    is where the messages' footers and history links point; each message's footer names its subscriber's filters.

    Senders take turns (the send lock): one started while another sends waits, then finds sent deliveries
    receipted, so concurrent `run`s and `notify`s send each delivery once."""
    send = send or apprise_send
    report = SendReport()
    try:
        with send_lock(store.path, SEND_WAIT_SECONDS) if store.path else nullcontext():
            _send_passes(store, routing, now, send, report, enrich or (lambda rows: rows), site or Audience())
    except Busy as exc:  # the other sender is stuck: what is due stays pending for the next one
        report.skipped = str(exc)
    return report


def _send_passes(
    store: Store, routing: Routing, now: str, send: Send, report: SendReport, enrich: Enrich, site: Audience
) -> None:
    for _ in range(3):  # a pass may create operator alerts (delivery.failing/recovered): send those too
        batches = _batches(enrich(deliveries.due(store, now)))
        if not batches:
            break
        for (name, index), rows in batches.items():
            _send_batch(store, routing, name, index, rows, now, send, report, site)


def _batches(rows: list[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    batches: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in rows:
        batches.setdefault((row["subscriber"], row["target"]), []).append(row)
    return batches


def _send_batch(
    store: Store, routing: Routing, name: str, index: int, rows: list[dict[str, Any]], now: str, send: Send,
    report: SendReport, site: Audience,
) -> None:  # fmt: skip
    ids = [row["delivery_id"] for row in rows]
    subscriber = _subscriber(routing, name)
    if subscriber is None or index >= len(subscriber.targets):
        gone = f"subscriber {name!r} channel {index} is no longer in the config"
        deliveries.mark_failed(store, ids, gone, _retry_at(now, max(r["attempts"] for r in rows)))
        report.failures.append(gone)
        return
    target = subscriber.targets[index]
    message = render_batch(subscriber, rows, now, for_channel(site, target.url))
    crash_point("before_send")
    ok, reason = send(target.url, message)
    crash_point("after_send")
    if ok:
        deliveries.mark_sent(store, ids, {"subscriber": name, "target": index, "label": target.label,
                                          "kind": subscriber.frequency, "title": message.title,
                                          "events": len(rows), "sent_at": now})  # fmt: skip
        report.messages += 1
        report.deliveries += len(ids)
    else:
        why = scrub(reason or "apprise reported a failure without a reason", target.url)
        deliveries.mark_failed(store, ids, why, _retry_at(now, max(r["attempts"] for r in rows)))
        report.failures.append(f"{name} via {target.label}: {why}")
        reason = why
    _channel_health(store, routing, subscriber, index, ok, reason, now)


def _subscriber(routing: Routing, name: str) -> Subscriber | None:
    return next((s for s in routing.everyone() if s.name == name), None)


def render_batch(
    subscriber: Subscriber, rows: list[dict[str, Any]], now: str, audience: Audience | None = None
) -> Message:
    """The message one subscriber gets for these events at `now`: an alert, or its digest up to `now`; its
    footer says why they got it (their filters) and, when `audience` names the public site, links it."""
    audience = replace(audience or Audience(), subscriber=subscriber)
    if subscriber.frequency == "immediate" or subscriber.name == OPERATORS:
        return render_alert(rows, subscriber.name, audience=audience)
    start = min(str(row["detected_at"]) for row in rows)
    return render_digest(rows, subscriber.name, subscriber.frequency, start, now, audience=audience)


def _retry_at(now: str, attempts: int) -> str:
    minutes = BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES) - 1)]
    return (datetime.fromisoformat(now) + timedelta(minutes=minutes)).isoformat()


def _channel_health(
    store: Store, routing: Routing, subscriber: Subscriber, index: int, ok: bool, reason: str | None, now: str
) -> None:
    """Track the failure streak; tell the operators once when it reaches the limit and once when it ends."""
    row = deliveries.channel(store, subscriber.name, index)
    row["label"] = subscriber.targets[index].label
    alert = None
    if ok:
        if row.get("alerted"):
            alert = "delivery.recovered"
        row.update(consecutive_failures=0, alerted=0, last_success=now)
    else:
        row.update(consecutive_failures=row["consecutive_failures"] + 1, last_error=reason, last_failure=now)
        limit = routing.operators.channel_failures_before_alert
        if row["consecutive_failures"] >= limit and not row.get("alerted"):
            alert, row["alerted"] = "delivery.failing", 1
    deliveries.save_channel(store, row)
    if alert and subscriber.name != OPERATORS:  # the operators' own channel cannot report on itself
        details = {"subscriber": subscriber.name, "channel": row["label"], "failures": row["consecutive_failures"],
                   "error": row.get("last_error"), "since": row.get("last_failure")}  # fmt: skip
        event = new_event(alert, OPERATOR_SOURCE, now, details=details)
        store.add_events([event], deliveries_for(routing))


def for_channel(site: Audience, url: str) -> Audience:
    """`site` with the size of Slack message the channel at `url` takes: a Slack URL in Block Kit mode
    (`blocks=yes`, or a template) holds one section of 3,000 characters, where apprise's default takes 35,000."""
    import apprise

    service = apprise.Apprise.instantiate(url)
    return replace(site, slack_chars=BLOCK_KIT_CHARS) if service is not None and _block_kit(service) else site


def _block_kit(service: Any) -> bool:
    return type(service).__name__ == "NotifySlack" and bool(getattr(service, "use_blocks", False))


def apprise_send(url: str, message: Message) -> tuple[bool, str | None]:
    """One message to one apprise URL in the format the service speaks; (True, None) only on apprise's True."""
    import apprise

    service = apprise.Apprise.instantiate(url)
    if service is None:
        return False, "not a URL apprise can send to"
    # Slack gets its own mrkdwn (<url|text> links); other markdown services would show that raw, so they,
    # like every text service, get plain text; e-mail gets HTML (apprise derives its text/plain part from
    # it, without hrefs: the HTML lists every URL in full at its end for that part).
    title = message.title
    if type(service).__name__ == "NotifySlack":
        body, body_format = message.markdown, apprise.NotifyFormat.MARKDOWN
        if _block_kit(service) and len(title) > HEADER_CHARS:  # a Block Kit header holds 150 characters
            title = title[: HEADER_CHARS - 1] + "…"
    elif service.notify_format == apprise.NotifyFormat.HTML:
        body, body_format = message.html, apprise.NotifyFormat.HTML
    else:
        body, body_format = message.text, apprise.NotifyFormat.TEXT
    sender = apprise.Apprise()
    sender.add(service)
    # Apprise's debug log holds the URL's tokens and the server's reply: captured here for `_reason` (which
    # is scrubbed before it is stored), and kept from the root logger's handlers (Prefect's console and API
    # log handlers would print and store it).
    logger = logging.getLogger("apprise")
    propagate, logger.propagate = logger.propagate, False
    try:
        with apprise.LogCapture(level=apprise.logging.DEBUG, fmt="%(levelname)s %(message)s") as log:
            result = sender.notify(title=title, body=body, body_format=body_format)
            lines = log.getvalue().splitlines()
    finally:
        logger.propagate = propagate
    return (True, None) if result is True else (False, _reason(lines) or f"apprise returned {result!r}")


def _reason(log_lines: list[str]) -> str:
    """Apprise says *that* it failed as a warning and *why* (the server's answer) only at debug level."""
    keep = []
    for line in log_lines:
        level, _, text = line.partition(" ")
        if level in ("WARNING", "ERROR", "CRITICAL") or (
            level == "DEBUG" and ("Exception" in text or "Response" in text)
        ):
            keep.append(text.strip())
    return "; ".join(keep)


def scrub(text: str, url: str) -> str:
    """Remove every secret part of an apprise URL (password, user, tokens in the path or query) from text."""
    parts = urlsplit(url)
    secrets = {url, parts.password or "", parts.username or "", parts.path, parts.query}
    secrets.update(piece for piece in parts.path.split("/") if len(piece) >= 4)
    secrets.update(value for _key, value in parse_qsl(parts.query) if len(value) >= 4)
    secrets |= {unquote(s) for s in secrets}
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text[:500]
