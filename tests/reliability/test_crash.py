"""Issue 6, part 2: the real CLI (`watch287g run --no-prefect`, a separate process) killed by SIGKILL at each
named crash point of state/faults.py, then run again; the result is compared with an uninterrupted run.

Sequence (real ICE lists behind stable file names, so the 07-08 page is unchanged and the first document
committed in the crashing run is the participating list itself):

    07-07 (baseline, one database copied for every run) · 07-08 [crash, then the same run again] · 07-15

Each run alerts a subscriber on a loopback json:// webhook. The six runs (five crash points and the
uninterrupted reference) advance in lock step, as parallel processes, to keep the suite fast.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from state.faults import POINTS
from state.store import Store
from tests.reliability.conftest import (
    CLI,
    P07,
    P08,
    P15,
    Q07,
    Q08,
    Q15,
    Site,
    cli,
    cli_env,
    copy_database,
    semantic_events,
    stable_records,
    untimed,
    write_config,
)
from tests.support.httpserver import LoopbackHTTPServer

STABLE_NAMES = ("participatingAgencies-current", "pendingAgencies-current")


@dataclass
class Scenario:
    name: str  # a crash point, or "reference"
    directory: Path
    returncodes: list[int] = field(default_factory=list)
    after_crash: dict[str, Any] = field(default_factory=dict)  # what the killed run left

    @property
    def config(self) -> Path:
        return self.directory / "watch287g.yaml"

    @property
    def database(self) -> Path:
        return self.directory / "w.db"

    @property
    def hook(self) -> str:
        return f"/sub-{self.name}"


def run_all(scenarios: list[Scenario], crash: bool = False) -> None:
    """Start one `run --no-prefect` per scenario at once (with its crash point if `crash`), wait for all."""
    processes = []
    for s in scenarios:
        env = cli_env({"WATCH287G_CRASH_AT": s.name} if crash else None)
        command = [CLI, "--config", str(s.config), "run", "--no-prefect"]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for s, process in zip(scenarios, processes, strict=True):
        _out, err = process.communicate(timeout=120)
        s.returncodes.append(process.returncode)
        assert process.returncode in (0, -9), err.decode()


def posts(server: LoopbackHTTPServer, path: str) -> list[str]:
    """Each alert message received on `path` (title and text), with run-specific times and ids masked."""
    return [
        re.sub(r"snapshot #\d+", "snapshot #N", untimed(p["title"] + "\n" + p["message"]))
        for p in server.posted_json(path)
    ]


def leftovers(database: Path) -> dict[str, Any]:
    store = Store(database)
    try:
        db = store.db
        return {
            "integrity": db.execute("pragma integrity_check").fetchone()[0],
            "list_snapshots": db.execute("select count(*) from snapshots where channel != 'page'").fetchone()[
                0
            ],
            "events": db.execute("select count(*) from events where baseline = 0").fetchone()[0],
            "deliveries": dict(
                db.execute("select status, count(*) from deliveries group by status").fetchall()
            ),
            "messages": db.execute("select count(*) from messages").fetchone()[0],
        }
    finally:
        store.close()


@pytest.fixture(scope="module")
def crashed(loopback: LoopbackHTTPServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scenario]:
    site = Site(loopback, prefix="/crash")
    template = tmp_path_factory.mktemp("crash-template")
    write_config(template, site.page_url, port=loopback.port, timeout=10)
    site.show(P07, Q07, names=STABLE_NAMES)
    baseline = cli(template / "watch287g.yaml", "run", "--no-prefect")
    assert baseline.returncode == 0, baseline.stderr

    scenarios = [Scenario(name, tmp_path_factory.mktemp(f"crash-{name}")) for name in (*POINTS, "reference")]
    for s in scenarios:
        copy_database(template, s.directory)
        loopback.route(s.hook, "ok", content_type="text/plain")
        subscriber = f'  - name: desk\n    notify: ["json://127.0.0.1:{loopback.port}{s.hook}"]\n'
        write_config(s.directory, site.page_url, port=loopback.port, timeout=10, subscribers=subscriber)

    site.show(P08, Q08, names=STABLE_NAMES)
    crashing = [s for s in scenarios if s.name != "reference"]
    run_all(crashing, crash=True)
    for s in crashing:
        s.after_crash = {**leftovers(s.database), "posts": len(loopback.posted_json(s.hook))}
    run_all(scenarios)  # the crashed runs again; the reference's first and only run of 07-08
    site.show(P15, Q15, names=STABLE_NAMES)
    run_all(scenarios)
    return {s.name: s for s in scenarios}


def test_the_uninterrupted_reference_alerts_twice(crashed: dict[str, Scenario], loopback: LoopbackHTTPServer):
    reference = crashed["reference"]
    assert reference.returncodes == [0, 0]
    assert len(posts(loopback, reference.hook)) == 2  # 07-08's alerts, then 07-15's
    assert set(leftovers(reference.database)["deliveries"]) == {"sent"}


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_a_crash_point_loses_nothing_and_doubles_nothing(
    point: str, crashed: dict[str, Scenario], loopback: LoopbackHTTPServer
) -> None:
    scenario, reference = crashed[point], crashed["reference"]
    assert scenario.returncodes == [-9, 0, 0]  # killed by SIGKILL, then two clean runs

    # What the killed process left is consistent, and no more than its crash point allows.
    left = scenario.after_crash
    assert left["integrity"] == "ok"
    expected = {
        "after_fetch": (2, 0, 0),  # (list snapshots: the baseline's two, events, messages posted)
        "mid_transaction": (2, 0, 0),  # the list's transaction rolled back: no snapshot, no event
        "after_commit": (3, 35, 0),  # the participating list committed: its events with their deliveries
        "before_send": (4, 35, 0),
        "after_send": (4, 35, 1),  # posted, receipt not written
    }[point]
    assert (left["list_snapshots"], left["events"], left["posts"]) == expected, left
    assert left["messages"] == 0  # no receipt was ever written by the killed run
    if point in ("after_commit", "before_send", "after_send"):
        assert left["deliveries"] == {"pending": expected[1]}

    # The final database: the same events and records as the uninterrupted run, every delivery sent.
    assert semantic_events(scenario.database) == semantic_events(reference.database)
    assert stable_records(scenario.database) == stable_records(reference.database)
    final, ref = leftovers(scenario.database), leftovers(reference.database)
    assert final["deliveries"] == ref["deliveries"] and set(final["deliveries"]) == {"sent"}
    assert final["messages"] == ref["messages"] == 2  # one receipt per message

    # On the webhook: every message exactly once, except the documented at-least-once window after_send.
    received, expected_posts = posts(loopback, scenario.hook), posts(loopback, reference.hook)
    if point == "after_send":
        assert received == [expected_posts[0], *expected_posts]  # the 07-08 message twice, then 07-15's
    else:
        assert Counter(received) == Counter(expected_posts) and len(received) == 2


def test_the_killed_runs_sent_their_alerts_with_the_same_content(crashed: dict[str, Scenario]) -> None:
    """The events behind the alerts are the reference's (type, place, model, details without times)."""
    reference = semantic_events(crashed["reference"].database)
    alerts = Counter({k: v for k, v in reference.items() if not json.loads(k)[4]})  # baseline False
    assert sum(alerts.values()) > 0
    for point in POINTS:
        mine = semantic_events(crashed[point].database)
        assert Counter({k: v for k, v in mine.items() if not json.loads(k)[4]}) == alerts
