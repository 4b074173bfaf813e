"""Issue 9, item 4: a `backup` that fails half-way (the disk is full) leaves nothing under the backup's name
and nothing beside it, so `doctor` cannot mistake a fragment for a backup and a retry works.

The real command in a subprocess whose file size limit (RLIMIT_FSIZE) is below the database's size: its
writes past the limit fail with EFBIG, as a full disk fails them with ENOSPC.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rules.ice_rules import Rules
from state.store import Store
from tests.test_backfill import MANIFEST, SOURCE, URL, history_rows
from watch287g.backfill import backfill, read_manifest

CLI = str(Path(sys.executable).parent / "watch287g")


def config_for(directory: Path, database: Path) -> Path:
    path = directory / f"{database.stem}.yaml"
    path.write_text(f"database: {database}\nsources:\n  - name: {SOURCE}\n    kind: ice_287g\n")
    return path


def file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before exec; a write past the limit then fails (EFBIG), not kills
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def watch287g(config: Path, *args: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=file_size_limit(limit) if limit else None,
    )


def test_a_backup_that_runs_out_of_space_leaves_nothing_and_a_retry_works(tmp_path: Path) -> None:
    database = tmp_path / "w.db"
    store = Store(database)
    backfill(store, read_manifest(MANIFEST), source=SOURCE, url=URL, rules=Rules())
    expected = history_rows(store)
    store.close()
    size = database.stat().st_size
    assert size > 1_000_000
    config = config_for(tmp_path, database)
    backups = tmp_path / "backups"
    backups.mkdir()
    target = backups / "w-backup.db"

    failed = watch287g(config, "backup", str(target), limit=size // 3)
    assert failed.returncode == 1
    assert list(backups.iterdir()) == []  # no fragment under the name, no temporary file beside it
    assert failed.stderr.startswith(f"error: backup to {target} failed: "), failed.stderr
    assert len(failed.stderr.splitlines()) == 1 and "Traceback" not in failed.stderr

    retried = watch287g(config, "backup", str(target))
    assert (retried.returncode, retried.stdout) == (0, f"backed up to {target}\n"), retried.stderr
    assert [p.name for p in backups.iterdir()] == ["w-backup.db"]
    doctor = watch287g(config_for(tmp_path, target), "doctor")
    assert doctor.returncode == 0 and doctor.stdout.endswith("ok\n"), doctor.stderr
    copy = Store(target)
    assert history_rows(copy) == expected
    copy.close()
    # A backup still never overwrites a file.
    again = watch287g(config, "backup", str(target))
    assert (again.returncode, again.stderr) == (1, f"error: {target} exists; choose a new file name\n")
