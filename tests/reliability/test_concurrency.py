"""Issue 6, part 3: two runs at once on one database, `doctor` on a good and on a corrupted database,
`backup`, and the restore procedure of docs/reliability.md (with the reason for each of its steps).

Everything goes through the real CLI in separate processes against a loopback ICE site with real lists.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from state.store import Store
from tests.reliability.conftest import (
    CLI,
    P07,
    P08,
    P14,
    P15,
    Q07,
    Q08,
    Q15,
    Site,
    cli,
    cli_env,
    copy_database,
    write_config,
)
from tests.support.httpserver import LoopbackHTTPServer

HOOK = "/sub-concurrency"
HOLD = 4.0  # seconds the first run waits for the page: time for a second process to start and give up


def counts(database: Path) -> dict[str, Any]:
    con = sqlite3.connect(database)
    try:
        return {
            "events": con.execute("select count(*) from events").fetchone()[0],
            "alerts": con.execute("select count(*) from events where baseline = 0").fetchone()[0],
            "compliance": con.execute(
                "select count(*) from events where type = 'policy.compliance'"
            ).fetchone()[0],
            "distinct": con.execute("select count(distinct id) from events").fetchone()[0],
            "snapshots": con.execute("select count(*) from snapshots").fetchone()[0],
            "event_ids": sorted(r[0] for r in con.execute("select id from events")),
        }
    finally:
        con.close()


def corrupt_root_page(database: Path, table: str) -> int:
    """Flip every 7th byte of the root page of `table` (b-tree header and cells); returns the page number."""
    con = sqlite3.connect(database)
    try:
        (page,) = con.execute("select rootpage from sqlite_master where name = ?", [table]).fetchone()
        (size,) = con.execute("pragma page_size").fetchone()
    finally:
        con.close()
    data = bytearray(database.read_bytes())
    for i in range((page - 1) * size + 8, page * size, 7):
        data[i] ^= 0xFF
    database.write_bytes(bytes(data))
    return int(page)


@pytest.fixture(scope="module")
def busy(loopback: LoopbackHTTPServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A baseline run, then two runs of the 07-08 site started at once; the first is held up by a slow
    page (HOLD seconds), so the second finds the database's lock taken. A backup is taken meanwhile."""
    directory = tmp_path_factory.mktemp("busy")
    site = Site(loopback, prefix="/busy")
    loopback.route(HOOK, "ok", content_type="text/plain")
    subscriber = f'  - name: desk\n    notify: ["json://127.0.0.1:{loopback.port}{HOOK}"]\n'
    config = write_config(directory, site.page_url, port=loopback.port, timeout=10, subscribers=subscriber)
    site.show(P07, Q07)
    assert cli(config, "run", "--no-prefect").returncode == 0
    site.show(P08, Q08)
    loopback.fault(site.page_path, "delay", seconds=HOLD, body=site.page_html(P08, Q08))
    page_requests = len(loopback.requests_for(site.page_path))
    first = subprocess.Popen(
        [CLI, "--config", str(config), "run", "--no-prefect"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    deadline = time.monotonic() + 20
    while len(loopback.requests_for(site.page_path)) == page_requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, "the first run should be waiting for the slow page"
    second = cli(config, "run", "--no-prefect")
    second_done_while_first_held = first.poll() is None
    backup = cli(config, "backup", str(directory / "during-run.db"))
    out, err = first.communicate(timeout=60)
    site.show(P08, Q08)  # the delay fault off again
    return {
        "directory": directory,
        "config": config,
        "first": (first.returncode, out.decode(), err.decode()),
        "second": second,
        "second_done_while_first_held": second_done_while_first_held,
        "page_requests": len(loopback.requests_for(site.page_path)) - page_requests,
        "backup": backup,
        "site": site,
    }


def test_the_second_of_two_simultaneous_runs_exits_cleanly_and_does_nothing(busy, loopback):
    second = busy["second"]
    assert second.returncode == 0
    assert second.stderr.startswith("skipped: another watch287g run is using "), second.stderr
    assert "Traceback" not in second.stderr and second.stdout == ""
    assert busy["second_done_while_first_held"]
    assert busy["page_requests"] == 1  # only the first run fetched anything
    returncode, out, err = busy["first"]
    assert returncode == 0, err
    assert "ice: 35 new events" in out
    # No duplicate: 826 baseline events + the 35 events of 07-08, each once, each alerted once (+ the baseline
    # policy.compliance events of the bans in force today over agreements still listed: MD, NM, VA).
    found = counts(busy["directory"] / "w.db")
    assert found["compliance"] == 3
    assert (found["events"], found["alerts"], found["distinct"]) == (826 + 35 + 3, 35, 826 + 35 + 3)
    assert len(loopback.posted_json(HOOK)) == 1


def test_doctor_says_ok_on_the_database_of_the_two_runs(busy):
    result = cli(busy["config"], "doctor")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "ok"
    assert "journal_mode: wal" in result.stdout and "deliveries_due: 0" in result.stdout


def test_doctor_reports_a_corrupted_copy(busy, tmp_path):
    copy_database(busy["directory"], tmp_path)
    corrupt_root_page(tmp_path / "w.db", "records")
    result = cli(tmp_path / "watch287g.yaml", "doctor")
    assert result.returncode == 1
    assert result.stderr.startswith("error: integrity: "), result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_reports_a_corrupted_events_table_without_a_traceback(busy, tmp_path):
    copy_database(busy["directory"], tmp_path)
    corrupt_root_page(tmp_path / "w.db", "events")
    result = cli(tmp_path / "watch287g.yaml", "doctor")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr[-400:]
    assert result.stderr.startswith("error: ")


def doctor_ok(database: Path, directory: Path) -> subprocess.CompletedProcess[str]:
    config = directory / f"doctor-{database.stem}.yaml"
    config.write_text(f"database: {database.name}\nsources: [{{name: ice, kind: ice_287g}}]\n")
    return cli(config, "doctor")


def test_a_backup_taken_during_a_run_opens_and_passes_doctor(busy):
    assert busy["backup"].returncode == 0, busy["backup"].stderr
    target = busy["directory"] / "during-run.db"
    con = sqlite3.connect(target)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    con.close()
    result = doctor_ok(target, busy["directory"])
    assert result.returncode == 0 and result.stdout.splitlines()[-1] == "ok", result.stderr
    assert cli(busy["config"], "backup", str(target)).returncode == 1  # never overwrites a file


RESTORE = "rm -f w.db-wal w.db-shm && cp backup.db w.db"  # docs/reliability.md, under the run lock


def test_restore_as_documented_and_why_the_wal_files_must_go(busy, loopback, tmp_path):
    live, careless = tmp_path / "live", tmp_path / "careless"
    copy_database(busy["directory"], live)
    config, site = live / "watch287g.yaml", busy["site"]
    assert cli(config, "backup", str(live / "backup.db")).returncode == 0
    saved = counts(live / "backup.db")
    # Life goes on after the backup: 07-14 is checked, then a run is killed in the middle of 07-15's,
    # leaving a write-ahead log next to the database (what a crash or a power cut leaves).
    site.show(P14, Q08)
    assert cli(config, "run", "--no-prefect").returncode == 0
    site.show(P15, Q15)
    assert cli(config, "run", "--no-prefect", env={"WATCH287G_CRASH_AT": "after_commit"}).returncode == -9
    assert (live / "w.db-wal").stat().st_size > 0

    # Copying the backup over the database but leaving that log: SQLite replays the newer log onto the older
    # file, and the "restored" database is damaged or is not the backup.
    shutil.copytree(live, careless)
    shutil.copy(careless / "backup.db", careless / "w.db")
    result = cli(careless / "watch287g.yaml", "doctor")
    damaged = result.returncode != 0
    assert damaged or counts(careless / "w.db") != saved, result.stdout

    # The documented way, under the run lock so that no run can start meanwhile.
    restore = subprocess.run(["flock", "w.db.lock", "sh", "-c", RESTORE], cwd=live, capture_output=True)
    assert restore.returncode == 0, restore.stderr
    result = cli(config, "doctor")
    assert result.returncode == 0 and result.stdout.splitlines()[-1] == "ok", result.stderr
    assert counts(live / "w.db") == saved
    # The next run starts from the backup's state: what ICE published since is detected (and alerted) again.
    rerun = cli(config, "run", "--no-prefect")
    assert rerun.returncode == 0, rerun.stderr
    store = Store(live / "w.db")
    try:
        seen = {r[0] for r in store.db.execute("select snapshot_sha256 from events where baseline = 0")}
        renamed = store.db.execute("select count(*) from events where type = 'agreement.renamed'").fetchone()[
            0
        ]
    finally:
        store.close()
    assert len(seen) >= 2 and renamed > 0  # 07-08's events (restored) and 07-15's (detected again)
