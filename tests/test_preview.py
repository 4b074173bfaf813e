"""`watch287g notify --preview`: what a subscriber would get, from the real 2025-05-28 pm -> 05-29 am lists
stored with their deliveries, printed (and its HTML part written) without sending or changing the outbox."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitors.base import ConfigError
from notifiers.outbox import deliveries_for, render_batch
from notifiers.preview import RECENT_EVENTS, html_document, preview
from rules.ice_rules import Rules
from state import queries
from state.store import Store
from tests.support.message_scenarios import ICE, MAY_29, MAY_LISTS, process
from watch287g.cli import main
from watch287g.config import load_config

pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
NOWHERE = '["json://127.0.0.1:9/"]'  # never contacted: a preview sends nothing
SUBSCRIBERS = f"""subscribers:
  - name: desk
    notify: {NOWHERE}
  - name: idaho-weekly
    notify: {NOWHERE}
    states: [ID]
    frequency: weekly
  - name: california
    notify: {NOWHERE}
    states: [CA]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """ICE's real lists of 2025-05-28 pm and 2025-05-29 am stored as a live run stores them, deliveries and all."""
    path = tmp_path / "watch287g.yaml"
    path.write_text(f"database: w.db\nsources:\n  - name: ice-287g\n    kind: ice_287g\n{SUBSCRIBERS}")
    loaded = load_config(path)
    store = Store(loaded.database)
    try:
        for name, at in MAY_LISTS:
            process(store, ICE / name, at, Rules(), deliveries_for(loaded.routing))
    finally:
        store.close()
    return path


def outbox(database: Path) -> list[dict[str, Any]]:
    with closing(Store(database)) as store:
        return list(store.db.query("select * from deliveries order by id")) + list(
            store.db.query("select * from messages")
        )


def events_of(database: Path) -> list[dict[str, Any]]:
    with closing(Store(database)) as store:
        return [dict(e) for e in queries.events(store, since=MAY_29, include_baseline=False)]


def cli(config: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(config), "notify", *args], catch_exceptions=False)


def test_preview_prints_the_due_alert_and_writes_its_html_without_touching_the_outbox(config, tmp_path):
    before = outbox(tmp_path / "w.db")
    assert len(before) == 7 + 1  # desk: the 7 new agreements; idaho-weekly: Idaho's one; nothing sent yet
    result = cli(config, "--preview", "desk", "--html", str(tmp_path / "desk.html"))
    assert result.exit_code == 0, result.output
    events = events_of(tmp_path / "w.db")
    subscriber = load_config(config).routing.subscriber("desk")
    message = render_batch(subscriber, events, "2026-01-01T00:00:00+00:00")  # an alert: `now` is not shown
    assert result.stdout == f"{message.title}\n\n{message.text}"
    assert result.stderr.splitlines()[0] == (
        "preview for desk, nothing sent: 7 due events: what `watch287g notify` would send desk now"
    )
    assert (tmp_path / "desk.html").read_text(encoding="utf-8") == html_document(message)
    assert outbox(tmp_path / "w.db") == before  # same rows, statuses, attempts; no message receipted


def test_preview_of_a_subscriber_with_nothing_due_shows_its_latest_matching_events(config, tmp_path):
    loaded = load_config(config)
    with closing(Store(loaded.database)) as store:
        before = outbox(tmp_path / "w.db")
        not_yet = preview(store, loaded.routing, "idaho-weekly", "2025-05-30T09:00:00+00:00")  # due Monday
        due = preview(store, loaded.routing, "idaho-weekly", "2025-06-02T13:00:00+00:00")
        assert outbox(tmp_path / "w.db") == before
    assert not_yet.what == (
        "nothing is due for idaho-weekly; its 1 latest matching event (at most 20; seen 2025-05-29 to 2025-05-29)"
    )
    assert due.what == "1 due event: what `watch287g notify` would send idaho-weekly now"
    assert not_yet.message is not None and due.message is not None
    assert due.message.title.startswith("Weekly 287(g) digest") and "Idaho" in due.message.text
    idaho = [e for e in events_of(loaded.database) if e["state"] == "ID"]
    weekly = loaded.routing.subscriber("idaho-weekly")
    assert not_yet.message == render_batch(weekly, idaho, "2025-05-30T09:00:00+00:00")  # its digest until now
    assert due.message == render_batch(weekly, idaho, "2025-06-02T13:00:00+00:00")
    assert RECENT_EVENTS == 20


def test_preview_says_when_nothing_matches_and_names_the_subscribers_when_unknown(config, tmp_path):
    nothing = cli(config, "--preview", "california", "--html", str(tmp_path / "ca.html"))
    assert (
        nothing.exit_code == 0
        and nothing.stdout == ""
        and nothing.stderr
        == ("nothing to show: nothing is due for california and no stored event matches its filters\n")
    )
    assert not (tmp_path / "ca.html").exists()
    unknown = cli(config, "--preview", "nobody")
    assert unknown.exit_code == 2
    assert (
        unknown.stderr.strip()
        == "error: no subscriber named 'nobody'; subscribers: desk, idaho-weekly, california"
    )
    with (
        closing(Store(load_config(config).database)) as store,
        pytest.raises(ConfigError, match="desk, idaho-weekly"),
    ):
        preview(store, load_config(config).routing, "nobody", MAY_29)


def test_preview_options_are_checked_and_no_database_is_created(tmp_path):
    path = tmp_path / "watch287g.yaml"
    path.write_text(f"database: w.db\nsources:\n  - name: ice-287g\n    kind: ice_287g\n{SUBSCRIBERS}")
    empty = cli(path, "--preview", "desk")
    assert empty.exit_code == 0 and empty.stderr.startswith("nothing to show: database ")
    assert not (tmp_path / "w.db").exists()
    alone = cli(path, "--html", str(tmp_path / "x.html"))
    assert alone.exit_code == 2 and "--html goes with --preview SUBSCRIBER" in alone.stderr
    both = cli(path, "--preview", "desk", "--test", "desk")
    assert both.exit_code == 2 and "give one" in both.stderr
    nowhere = cli(path, "--preview", "desk", "--html", str(tmp_path / "missing" / "x.html"))
    assert nowhere.exit_code == 2 and "does not exist (create it first)" in nowhere.stderr
