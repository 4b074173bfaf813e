"""Golden files of what subscribers read: the text part of each message, and the JSON apprise's Slack plugin
posts for it (to a loopback webhook), for an immediate alert and a daily digest of two real scenarios
(tests/support/message_scenarios.py). Every time in them is fixed: no "now".

A difference fails with a unified diff. After an intended change of the layouts, re-generate them with

    WATCH287G_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_messages.py

and review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from notifiers.outbox import apprise_send, due_at, render_batch
from notifiers.render import Audience, Message
from notifiers.subscribers import Subscriber
from tests.support.fixtures import SLACK_WEBHOOK_PATH
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.message_scenarios import may_29, termination_rename_ban

GOLDEN = Path(__file__).parent / "golden"
UPDATE = "WATCH287G_UPDATE_GOLDEN"
SUBSCRIBER = "newsroom"
SITE = Audience(public_url="https://watch287g.example.org", database="watch287g")
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
Event = dict[str, Any]
SCENARIOS: dict[str, Callable[[], list[Event]]] = {
    "may-29": may_29,  # ICE's real 2025-05-28 pm -> 2025-05-29 am change
    "termination-rename-ban": termination_rename_ban,
}


def rendered(events: list[Event], kind: str) -> Message:
    """What `watch287g notify` sends (outbox.render_batch): an immediate alert to a desk watching every state,
    with the config's public_url, or the daily digest, when due after the last event, to a desk watching a few
    states, without one (fixed times: no "now")."""
    if kind == "alert":
        return render_batch(Subscriber(SUBSCRIBER, ()), events, "2026-12-01T00:00:00+00:00", SITE)
    states = frozenset({"ID", "FL", "MD", "MN", "OH"})
    desk = Subscriber(SUBSCRIBER, (), events=("agreement.*", "policy.*", "event.corrected"), states=states,
                      frequency="daily")  # fmt: skip
    wanted = [e for e in events if desk.wants(e)]  # the outbox writes deliveries for these only
    return render_batch(desk, wanted, due_at("daily", max(e["detected_at"] for e in wanted)))


def check_golden(name: str, actual: str, folder: Path = GOLDEN) -> None:
    """`actual` must equal tests/golden/`name`; with WATCH287G_UPDATE_GOLDEN=1 it becomes the golden file."""
    path = folder / name
    if os.environ.get(UPDATE) == "1":
        folder.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            f"golden/{name}",
            "rendered now",
        )
        pytest.fail(
            f"{name} is not its golden file{'' if path.exists() else ' (missing)'}; if the change is intended, "
            f"re-generate with {UPDATE}=1 .venv/bin/python -m pytest tests/test_golden_messages.py and review "
            f"the diff:\n{''.join(diff)}",
            pytrace=False,
        )


def slack_payload(url: str, server: LoopbackHTTPServer, message: Message) -> str:
    """The JSON apprise's Slack plugin posts for `message` (as the outbox sends it), keys sorted."""
    server.clear_requests()
    assert apprise_send(url, message) == (True, None)
    (payload,) = server.posted_json(SLACK_WEBHOOK_PATH)
    for attachment in payload.get("attachments", []):
        if "ts" in attachment:  # when apprise posted it: the one "now" in the payload
            attachment["ts"] = "(the time of sending)"
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def scenarios() -> dict[str, list[Event]]:
    return {name: make() for name, make in SCENARIOS.items()}


def test_the_scenarios_hold_what_they_are_named_for(scenarios):
    may = scenarios["may-29"]
    assert {e["detected_at"] for e in may} == {"2025-05-29T15:17:33+00:00"}
    assert sorted((e["type"], e["state"]) for e in may) == [
        ("agreement.added", state) for state in ("ID", "KS", "LA", "OH", "OH", "TX", "TX")
    ]
    day = scenarios["termination-rename-ban"]
    kinds = sorted({e["type"] for e in day})
    assert {"agreement.terminated", "agreement.renamed", "event.corrected", "policy.compliance"} <= set(kinds)
    [ban] = [e for e in day if e["type"] == "policy.compliance"]
    assert (ban["state"], ban["details"]["effect"], ban["details"]["phase"]) == ("MD", "ban", "still_listed")
    assert ban["details"]["instrument"].startswith("HB 444 / SB 245")


@pytest.mark.parametrize("kind", ["alert", "digest"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_text_part_and_slack_payload_match_their_golden_files(
    scenario, kind, scenarios, slack_webhook, http_server, apprise_no_throttle
):
    message = rendered(scenarios[scenario], kind)
    assert rendered(scenarios[scenario], kind) == message  # a pure function: the same twice
    check_golden(f"{scenario}.{kind}.txt", f"Title: {message.title}\n\n{message.text}")
    check_golden(f"{scenario}.{kind}.slack.json", slack_payload(slack_webhook, http_server, message))


def test_a_difference_from_a_golden_file_fails_with_a_diff(tmp_path, monkeypatch):
    monkeypatch.delenv(UPDATE, raising=False)
    (tmp_path / "x.txt").write_text("Title: 7 new agreements\n- Ohio\n", encoding="utf-8")
    check_golden("x.txt", "Title: 7 new agreements\n- Ohio\n", tmp_path)
    with pytest.raises(pytest.fail.Exception) as failed:
        check_golden("x.txt", "Title: 8 new agreements\n- Ohio\n", tmp_path)
    assert "-Title: 7 new agreements\n+Title: 8 new agreements\n" in str(failed.value)
    with pytest.raises(pytest.fail.Exception, match="missing"):
        check_golden("y.txt", "anything", tmp_path)
