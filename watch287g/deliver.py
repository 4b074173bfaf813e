"""After checks (or on a digest schedule): look for stale sources, then send every due delivery."""

from __future__ import annotations

from pathlib import Path

from monitors.base import utc_now
from notifiers.outbox import SendReport, apprise_send, deliveries_for, scrub, send_due
from notifiers.preview import Preview, preview
from notifiers.render import Audience, render_test
from state.store import Store
from watch287g.config import Config
from watch287g.datasette_metadata import database_name
from watch287g.health import check_sources_staleness
from watch287g.kept_links import kept_copies_adder


def deliver(store: Store, config: Config, now: str | None = None) -> SendReport:
    now = now or utc_now()
    sources = [monitor.name for monitor in config.monitors]
    check_sources_staleness(store, sources, now, config.routing.operators, deliveries_for(config.routing))
    # Events about an MOA link the copy watch287g keeps (served by `serve` at public_url, if configured).
    kept_copies = kept_copies_adder(store, config.public_url, database_name(config.database))
    site = Audience(public_url=config.public_url, database=database_name(config.database))
    return send_due(store, config.routing, now, enrich=kept_copies, site=site)


def send_test(config: Config, subscriber_name: str, now: str | None = None) -> list[tuple[str, str | None]]:
    """A test message to every channel of one subscriber: [(channel label, None or the failure reason)]."""
    subscriber = config.routing.subscriber(subscriber_name)
    sources = [(m.name, m.config.get("url")) for m in config.monitors]  # what this config really watches
    message = render_test(subscriber.name, now or utc_now(), sources)
    results = []
    for target in subscriber.targets:
        ok, reason = apprise_send(target.url, message)
        results.append((target.label, None if ok else scrub(reason or "failed", target.url)))
    return results


def preview_for(config: Config, subscriber_name: str, now: str | None = None) -> Preview:
    """`notify --preview`: what `subscriber_name` would get now, with the same kept-copy links a send adds;
    nothing is sent and no delivery changes. ConfigError for an unknown subscriber, before any database."""
    config.routing.subscriber(subscriber_name)
    if not Path(config.database).is_file():  # opening it would create it: a preview writes nothing
        return Preview(None, 0, f"nothing to show: database {config.database} does not exist yet")
    store = Store(config.database)
    try:
        kept_copies = kept_copies_adder(store, config.public_url, database_name(config.database))
        site = Audience(public_url=config.public_url, database=database_name(config.database))
        return preview(
            store, config.routing, subscriber_name, now or utc_now(), enrich=kept_copies, audience=site
        )
    finally:
        store.close()
