"""Alerts over real protocols on loopback: a real SMTP server, a real webhook server, apprise's Slack plugin.

Real ICE lists (07-07 then 07-08) produce the events; subscribers filter them; the outbox delivers each
exactly once, retries failures with backoff, and tells the operators once when a channel fails and once
when it recovers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from monitors.ice.kind import Ice287gMonitor
from state import deliveries as outbox_rows
from state.store import Store
from tests.support.fixtures import SLACK_WEBHOOK_PATH
from tests.support.ice_site import publish
from tests.support.smtpserver import parts
from watch287g import check_loop
from watch287g.check_loop import plain_fetch
from watch287g.config import Config, load_config
from watch287g.deliver import deliver

P07, Q07 = "participatingAgencies07072025pm", "pendingAgencies07072025pm"
P08, Q08 = "participatingAgencies07082025pm", "pendingAgencies07082025pm"
DAY1, DAY2 = "2025-07-07T21:00:00+00:00", "2025-07-08T21:00:00+00:00"


def write_config(tmp_path: Path, page_url: str, subscribers: str, operators: str = "") -> Config:
    path = tmp_path / "watch287g.yaml"
    path.write_text(
        f"database: w.db\nsources:\n  - name: ice\n    kind: ice_287g\n    url: {page_url}\n    timeout: 2\n"
        f"subscribers:\n{subscribers}{operators}"
    )
    return load_config(path)


def run_check(config: Config, store: Store, at: str) -> None:
    monitor = config.monitors[0]
    assert isinstance(monitor, Ice287gMonitor)
    client = monitor.client(None)
    try:
        report = check_loop.run_check(config.check(store, monitor, plain_fetch(client), now=lambda: at))
    finally:
        client.close()
    assert report.ok, report.error


def two_days(http_server: Any, config_for: Any, tmp_path: Path) -> tuple[Config, Store]:
    """Baseline on 07-07, then the real 07-08 lists: the second check creates the deliveries."""
    url = publish(http_server, P07, Q07)
    config = config_for(url)
    store = Store(config.database)
    run_check(config, store, DAY1)
    assert store.db.table("deliveries").count == 0  # a baseline alerts nobody
    publish(http_server, P08, Q08)
    run_check(config, store, DAY2)
    return config, store


def test_email_reaches_only_the_states_it_asked_for_exactly_once(http_server, smtp_server, tmp_path):
    subscribers = f'  - name: tx-desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n    states: [TX]\n'
    config, store = two_days(http_server, lambda url: write_config(tmp_path, url, subscribers), tmp_path)
    rows = list(store.db.query("select e.state, e.type from deliveries d join events e on e.id = d.event_id"))
    assert {r["state"] for r in rows} == {"TX"}
    assert Counter(r["type"] for r in rows) == {"agreement.added": 8}
    report = deliver(store, config, now=DAY2)
    assert (report.ok, report.messages, report.deliveries) == (True, 1, 8)
    (message,) = smtp_server.wait_for(1, timeout=5)
    assert message["Subject"] == "8 new 287(g) agreements in Texas"
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    assert (
        "Rockwall County Sheriff&#x27;s Office" in body["text/html"]
        or "Rockwall County Sheriff's Office" in body["text/html"]
    )
    assert "Rockwall County Sheriff's Office" in body["text/plain"]
    assert "participatingAgencies07082025pm.xlsx" in body["text/plain"]  # the evidence: the source list
    # Exactly once: another pass sends nothing, every delivery has a receipt.
    assert deliver(store, config, now=DAY2).messages == 0
    assert len(smtp_server.messages) == 1
    assert {r["status"] for r in outbox_rows.listing(store)} == {"sent"}


def test_slack_webhook_failing_then_recovering_alerts_operators_once_each_way(
    http_server, slack_webhook, tmp_path
):
    http_server.respond_sequence(SLACK_WEBHOOK_PATH, [500, 500, 500, 200])
    http_server.route("/ops", "ok", content_type="text/plain")
    subscribers = f'  - name: newsroom\n    notify: ["{slack_webhook}"]\n    events: ["agreement.added"]\n'
    operators = f'operators:\n  notify: ["json://127.0.0.1:{http_server.port}/ops"]\n  channel_failures_before_alert: 2\n'
    config, store = two_days(
        http_server, lambda url: write_config(tmp_path, url, subscribers, operators), tmp_path
    )
    times = ["2025-07-08T21:00:00+00:00", "2025-07-08T21:02:00+00:00", "2025-07-08T21:10:00+00:00"]
    reports = [deliver(store, config, now=at) for at in times]
    assert [r.ok for r in reports] == [False, False, False]
    failed = outbox_rows.listing(store, "failed")
    assert len(failed) == 31 and {r["attempts"] for r in failed} == {3}
    assert all("500" in (r["last_error"] or "") for r in failed)
    ops = [p["title"] for p in http_server.posted_json("/ops")]
    assert ops == ["watch287g: alerts to newsroom (https://hooks.slack.com) are failing"]
    # Before the backoff has passed nothing is retried; after it, one message carries all 31 alerts.
    assert deliver(store, config, now="2025-07-08T21:11:00+00:00").messages == 0
    report = deliver(store, config, now="2025-07-08T21:30:00+00:00")
    # One Slack message with the 31 alerts, and in the same pass the operators' "recovered" notice.
    assert (report.ok, report.messages, report.deliveries) == (True, 2, 32)
    posted = http_server.posted_json(SLACK_WEBHOOK_PATH)
    assert len(posted) == 4  # three refused, one accepted
    assert posted[-1]["attachments"][0]["title"].startswith("8 new 287(g) agreements in Texas, 5 in Florida")
    ops = [p["title"] for p in http_server.posted_json("/ops")]
    assert ops[1:] == ["watch287g: alerts to newsroom (https://hooks.slack.com) are being delivered again"]
    # A day later nothing is re-sent to Slack; the only message is the operators' staleness alarm
    # (no successful check for more than stale_after_hours = 6).
    assert deliver(store, config, now="2025-07-09T21:30:00+00:00").messages == 1
    assert len(http_server.posted_json(SLACK_WEBHOOK_PATH)) == 4
    stale = http_server.posted_json("/ops")[-1]
    assert (
        "ice" in stale["title"] and "no successful check since 2025-07-08T21:00:00+00:00" in stale["message"]
    )


def test_smtp_refusing_is_a_recorded_failure_with_its_reason(http_server, smtp_server, tmp_path):
    smtp_server.mode = "refuse"
    subscribers = f'  - name: fl-desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n    states: [FL]\n'
    config, store = two_days(http_server, lambda url: write_config(tmp_path, url, subscribers), tmp_path)
    report = deliver(store, config, now=DAY2)
    assert not report.ok and report.messages == 0
    assert smtp_server.messages == []
    rows = outbox_rows.listing(store, "failed")
    assert rows and all(r["attempts"] == 1 and r["last_error"] for r in rows)
    smtp_server.mode = "accept"
    report = deliver(store, config, now="2025-07-08T22:00:00+00:00")
    assert report.ok and report.messages == 1
    assert len(smtp_server.messages) == 1


def test_weekly_digest_waits_for_its_slot_and_groups_by_state(http_server, smtp_server, tmp_path):
    subscribers = (
        f'  - name: weekly\n    notify: ["{smtp_server.url_for_apprise()}"]\n    frequency: weekly\n'
        '    events: ["agreement.added"]\n'
    )
    config, store = two_days(http_server, lambda url: write_config(tmp_path, url, subscribers), tmp_path)
    due = {r["due_at"] for r in outbox_rows.listing(store)}
    assert due == {"2025-07-14T13:00:00+00:00"}  # the next Monday, 13:00 UTC
    assert deliver(store, config, now="2025-07-13T23:00:00+00:00").messages == 0
    report = deliver(store, config, now="2025-07-14T13:00:00+00:00")
    assert (report.messages, report.deliveries) == (1, 31)
    (message,) = smtp_server.wait_for(1, timeout=5)
    text = parts(message)["text/plain"]
    assert "Texas" in text and "Florida" in text
    assert text.index("Alabama") < text.index("Texas")  # grouped by state, alphabetically


def test_secrets_stay_out_of_the_database(http_server, smtp_server_auth, tmp_path, monkeypatch):
    from tests.support.fixtures import SMTP_AUTH

    user, password = SMTP_AUTH
    monkeypatch.setenv("SMTP_PASSWORD", password)
    url = smtp_server_auth.url_for_apprise().replace("mailto://", f"mailto://{user}:${{SMTP_PASSWORD}}@")
    subscribers = f'  - name: desk\n    notify: ["{url}"]\n    states: [FL]\n'
    config, store = two_days(http_server, lambda page: write_config(tmp_path, page, subscribers), tmp_path)
    smtp_server_auth.mode = "refuse"
    deliver(store, config, now=DAY2)
    smtp_server_auth.mode = "accept"
    deliver(store, config, now="2025-07-09T00:00:00+00:00")
    assert len(smtp_server_auth.messages) == 1
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    dump = "\n".join(store.db.conn.iterdump())
    assert password not in dump and password not in Path(config.database).read_bytes().decode("latin-1")
    assert "mailto://127.0.0.1" in json.dumps(outbox_rows.listing(store))


def test_a_run_killed_between_event_stored_and_delivery_sent_delivers_once_next_time(
    http_server, smtp_server, tmp_path
):
    import os
    import signal
    import subprocess
    import sys

    url = publish(http_server, P07, Q07)
    subscribers = f'  - name: desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n    states: [TX]\n'
    config = write_config(tmp_path, url, subscribers)
    command = [
        str(Path(sys.executable).parent / "watch287g"),
        "--config",
        str(config.path),
        "run",
        "--no-prefect",
    ]
    assert subprocess.run(command, capture_output=True, timeout=60).returncode == 0  # the baseline
    publish(http_server, P08, Q08)
    smtp_server.mode = "hold"  # the server takes the message but never answers DATA
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert smtp_server.wait_until_held(timeout=30)
        os.kill(process.pid, signal.SIGKILL)  # between "event stored" and "delivery sent"
        process.wait(timeout=10)
    finally:
        smtp_server.release(accept=False)
    store = Store(config.database)
    pending = outbox_rows.listing(store, "pending")
    assert len(pending) == 8 and {r["type"] for r in pending} == {"agreement.added"}
    store.close()
    assert smtp_server.messages == []
    smtp_server.mode = "accept"
    second = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    third = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert third.returncode == 0, third.stderr
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["Subject"] == "8 new 287(g) agreements in Texas"
    store = Store(config.database)
    assert {r["status"] for r in outbox_rows.listing(store)} == {"sent"}
    assert store.db.table("events").count == len({r["id"] for r in store.db.query("select id from events")})


def test_operators_hear_once_per_failure_streak_and_about_quarantined_lists(http_server, tmp_path):
    from tests.support.ice_site import PAGE_PATH

    http_server.route("/ops", "ok", content_type="text/plain")
    url = publish(http_server, P07, Q07)
    operators = (
        f'operators:\n  notify: ["json://127.0.0.1:{http_server.port}/ops"]\n  failures_before_alert: 2\n'
        "  stale_after_hours: 1000\n  no_new_list_days: 1000\n"
    )
    config = write_config(
        tmp_path, url, f'  - name: all\n    notify: ["json://127.0.0.1:{http_server.port}/all"]\n', operators
    )
    http_server.route("/all", "ok", content_type="text/plain")
    store = Store(config.database)
    run_check(config, store, DAY1)
    http_server.fault(PAGE_PATH, "status", code=503)
    titles = []
    for hour in range(22, 24):  # two failed checks: the second reaches the limit
        monitor = config.monitors[0]
        client = monitor.client(None)  # type: ignore[attr-defined]
        report = check_loop.run_check(
            config.check(
                store, monitor, plain_fetch(client), now=lambda h=hour: f"2025-07-07T{h}:00:00+00:00"
            )
        )
        assert not report.ok and "503" in str(report.error)
        deliver(store, config, now=f"2025-07-07T{hour}:00:00+00:00")
        titles = [p["title"] for p in http_server.posted_json("/ops")]
    assert len(titles) == 1 and "ice" in titles[0] and "fail" in titles[0].lower()
    # The streak goes on: no second alert. Then the page works again with a bad list: recovered + quarantined.
    publish(http_server, "participatingAgencies07082025pm", Q07, bodies={
        "participatingAgencies07082025pm": b"<html><body>Access Denied</body></html>"})  # fmt: skip
    run_check(config, store, "2025-07-08T09:00:00+00:00")
    deliver(store, config, now="2025-07-08T09:00:00+00:00")
    posted = http_server.posted_json("/ops")
    assert len(posted) == 2  # one message carrying both operator events of this run
    assert "recovered" in posted[1]["message"].lower() and "quarantined" in posted[1]["message"].lower()
    assert http_server.posted_json("/all") == []  # subscribers never hear about the pipeline's own health


def test_three_senders_at_once_send_each_delivery_once(http_server, tmp_path):
    """Issue 9: with a slow mail server, `notify`, `notify` and `run --no-prefect` at once sent the same alert
    three times. The first sender is held in SMTP DATA while the other two start; then the server answers."""
    import subprocess
    import sys
    import time

    from tests.support.smtpserver import LoopbackSMTPServer

    with LoopbackSMTPServer(hold_timeout=60) as smtp:
        subscribers = f'  - name: desk\n    notify: ["{smtp.url_for_apprise()}"]\n    states: [TX]\n'
        config, store = two_days(http_server, lambda url: write_config(tmp_path, url, subscribers), tmp_path)
        store.close()
        cli = [str(Path(sys.executable).parent / "watch287g"), "--config", str(config.path)]
        smtp.mode = "hold"
        started = time.monotonic()
        senders = [
            subprocess.Popen([*cli, "notify"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ]
        try:
            assert smtp.wait_until_held(timeout=60)
            startup = time.monotonic() - started
            for command in (["notify"], ["run", "--no-prefect"]):
                senders.append(
                    subprocess.Popen(
                        [*cli, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                    )
                )
            # Time for the other two to reach the server too (they did, before the fix), bounded.
            deadline = time.monotonic() + 2 * startup + 1
            while smtp.data_attempts < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            smtp.release(accept=True)
        outputs = [sender.communicate(timeout=120) for sender in senders]
        assert [s.returncode for s in senders] == [0, 0, 0], outputs
        assert len(smtp.messages) == 1, f"{smtp.data_attempts} messages sent"
        assert smtp.messages[0]["Subject"] == "8 new 287(g) agreements in Texas"
    store = Store(config.database)
    rows = list(store.db.query("select status, attempts, message_id from deliveries"))
    store.close()
    assert len(rows) == 8 and {(r["status"], r["attempts"], r["message_id"]) for r in rows} == {
        ("sent", 1, 1)
    }


def test_a_sender_that_cannot_get_its_turn_leaves_everything_pending(
    http_server, smtp_server, tmp_path, monkeypatch
):
    import notifiers.outbox
    from state.lock import send_lock

    subscribers = f'  - name: desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n    states: [TX]\n'
    config, store = two_days(http_server, lambda url: write_config(tmp_path, url, subscribers), tmp_path)
    monkeypatch.setattr(notifiers.outbox, "SEND_WAIT_SECONDS", 0.3)
    with send_lock(config.database, 0):  # another sender, stuck
        report = deliver(store, config, now=DAY2)
    assert (report.ok, report.messages, smtp_server.messages) == (True, 0, [])
    assert (
        report.skipped == f"another watch287g process has been sending alerts from {config.database} for 0 s"
    )
    assert {r["status"] for r in outbox_rows.listing(store)} == {"pending"}
    assert deliver(store, config, now=DAY2).messages == 1
    assert {r["status"] for r in outbox_rows.listing(store)} == {"sent"}
