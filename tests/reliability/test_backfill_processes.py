"""Issue 9, items 1 and 3: a real `watch287g backfill` killed at random moments and run again gives exactly
the history of one uninterrupted run (same event ids), and a backfill shares the run lock with `run`.

Real ICE lists (the 21 of tests/fixtures/ice/manifest_all.csv), the real CLI in separate processes, SIGKILL
and SIGSTOP from outside or at the named crash points of state/faults.py (`point:n`, the n-th document).
The seed of the random moments is printed on failure; set WATCH287G_TEST_SEED to replay one.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from state.store import Store
from tests.reliability.conftest import CLI, P07, P08, Q07, Q08, Site, cli, cli_env, write_config
from tests.support.httpserver import LoopbackHTTPServer
from tests.test_backfill import MANIFEST_ALL, history_rows

LISTS = 21
KILLS_PER_TRIAL = 2
SEED = int(os.environ.get("WATCH287G_TEST_SEED") or random.SystemRandom().randrange(10**6))


def backfill_config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "watch287g.yaml"
    path.write_text("database: w.db\nsources:\n  - name: ice-287g\n    kind: ice_287g\n")
    return path


def history(config: Path) -> dict[str, list[tuple[Any, ...]]]:
    store = Store(config.parent / "w.db")
    try:
        return history_rows(store)
    finally:
        store.close()


def start_backfill(config: Path, crash_at: str | None = None) -> subprocess.Popen[str]:
    env = cli_env({"WATCH287G_CRASH_AT": crash_at} if crash_at else None)
    command = [CLI, "--config", str(config), "backfill", str(MANIFEST_ALL)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One uninterrupted backfill: the reference, and how long it takes (the range of random moments)."""
    config = backfill_config(tmp_path_factory.mktemp("clean"))
    started = time.monotonic()
    done = cli(config, "backfill", str(MANIFEST_ALL))
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{LISTS} files: {LISTS} processed; "), done.stdout
    return {"history": history(config), "seconds": seconds}


def kill_at_random(config: Path, trial: str, rng: random.Random, seconds: float) -> str:
    """One interrupted backfill; returns what happened, for the failure message."""
    if trial == "random_moment":
        process = start_backfill(config)
        delay = rng.uniform(0.1, seconds)
        try:
            process.wait(timeout=delay)
            return f"finished before the kill at {delay:.2f}s"
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.communicate(timeout=10)
            return f"SIGKILL after {delay:.2f}s"
    point = f"{trial}:{rng.randint(1, LISTS)}"
    process = start_backfill(config, point)
    process.communicate(timeout=60)
    assert process.returncode in (-signal.SIGKILL, 0)  # 0: fewer documents than n were left to commit
    return f"{point} -> exit {process.returncode}"


@pytest.mark.parametrize("trial", ["mid_transaction", "after_commit", "random_moment"])
def test_a_backfill_killed_at_random_moments_then_run_again_equals_one_clean_run(
    clean: dict[str, Any], tmp_path: Path, trial: str
) -> None:
    """Issue 9: 20 of 20 killed-and-resumed backfills ended with 119-414 extra events."""
    rng = random.Random(f"{SEED}-{trial}")
    config = backfill_config(tmp_path)
    kills = [kill_at_random(config, trial, rng, clean["seconds"]) for _ in range(KILLS_PER_TRIAL)]
    final = cli(config, "backfill", str(MANIFEST_ALL))
    where = f"seed {SEED}: {kills}"
    assert final.returncode == 0, f"{where}: {final.stderr}"
    assert "Traceback" not in final.stderr
    resumed = history(config)
    assert resumed["events"] == clean["history"]["events"], where
    assert resumed == clean["history"], where
    # Run once more: every list is reported as already seen and nothing changes.
    again = cli(config, "backfill", str(MANIFEST_ALL))
    # Each channel's last list is the one in force (same instant, same bytes): unchanged; the rest are older.
    summary = f"{LISTS} files: {LISTS - 2} already seen, 2 unchanged; 0 events stored"
    assert again.stdout.startswith(summary), again.stdout
    assert history(config) == clean["history"]


def test_a_run_during_a_backfill_is_skipped_and_history_stays_in_order(
    clean: dict[str, Any], loopback: LoopbackHTTPServer, tmp_path: Path
) -> None:
    """Issue 9: beside a `run`, a backfill died with `database is locked` and the live list landed in the
    middle of history. The backfill is frozen (SIGSTOP) after its first lists while a run is started."""
    site = Site(loopback, prefix="/beside-backfill")
    site.show(P07, Q07)
    config = write_config(tmp_path, site.page_url, port=loopback.port, timeout=5)
    text = config.read_text().replace("name: ice\n", "name: ice-287g\n")
    config.write_text(text)
    backfill = start_backfill(config)
    try:
        assert wait_for_snapshots(config.parent / "w.db", 3), "the backfill committed nothing"
        os.kill(backfill.pid, signal.SIGSTOP)
        requests = len(loopback.requests_for(site.page_path))
        run = cli(config, "run", "--no-prefect", timeout=90)
    finally:
        os.kill(backfill.pid, signal.SIGCONT)
    out, err = backfill.communicate(timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith("skipped: another watch287g run is using "), run.stderr
    assert len(loopback.requests_for(site.page_path)) == requests  # the run fetched nothing
    assert backfill.returncode == 0, err
    assert out.startswith(f"{LISTS} files: {LISTS} processed; "), out
    assert same_url(history(config), site.page_url) == clean["history"]


def same_url(rows: dict[str, list[tuple[Any, ...]]], page_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The history with this site's page URL written as the default source URL the reference used."""
    ice = "https://www.ice.gov/identify-and-arrest/287g"
    return {
        table: [tuple(v.replace(page_url, ice) if isinstance(v, str) else v for v in row) for row in values]
        for table, values in rows.items()
    }


def test_a_backfill_waits_for_a_run_in_progress(loopback: LoopbackHTTPServer, tmp_path: Path) -> None:
    """A run holds the lock (a slow page): the backfill says it waits, then goes on after it, and the lists
    older than the live one are skipped as already seen, never interpreted against the newer state."""
    site = Site(loopback, prefix="/before-backfill")
    site.show(P08, Q08)
    loopback.fault(site.page_path, "delay", seconds=5.0, body=site.page_html(P08, Q08))
    config = write_config(tmp_path, site.page_url, port=loopback.port, timeout=10)
    config.write_text(config.read_text().replace("name: ice\n", "name: ice-287g\n"))
    requests = len(loopback.requests_for(site.page_path))
    run = subprocess.Popen([CLI, "--config", str(config), "run", "--no-prefect"], env=cli_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while len(loopback.requests_for(site.page_path)) == requests and time.monotonic() < deadline:
            time.sleep(0.05)
        backfill = cli(config, "backfill", str(MANIFEST_ALL))
    finally:
        run.communicate(timeout=60)
    assert run.returncode == 0
    assert backfill.returncode == 0, backfill.stderr
    assert backfill.stderr.startswith("waiting: another watch287g run is using "), backfill.stderr
    assert backfill.stdout.startswith(f"{LISTS} files: {LISTS} already seen; 0 events stored"), (
        backfill.stdout
    )
    con = sqlite3.connect(config.parent / "w.db")
    origins = con.execute("select distinct origin from events").fetchall()
    con.close()
    assert origins == [("live",)]


def wait_for_snapshots(database: Path, count: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if database.exists():
            con = sqlite3.connect(database, timeout=0.1)
            try:
                if con.execute("select count(*) from snapshots").fetchone()[0] >= count:
                    return True
            except sqlite3.OperationalError:  # not created yet, or busy
                pass
            finally:
                con.close()
        time.sleep(0.02)
    return False
