"""Shared pieces of the reliability suite (docs/reliability.md): an ICE-like site on a loopback server whose
list URLs can be kept stable or renamed, configs, a controllable clock, the real CLI as a subprocess, and a
comparable digest of a database (events, records, versions, agreements in force, outbox)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitors.base import Monitor
from state import queries
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.ice_site import FOLDER, PAGE, PAGE_PATH, real_list
from watch287g.check_loop import Check, Fetch
from watch287g.config import Config, load_config

CLI = str(Path(sys.executable).parent / "watch287g")

# Real ICE lists shipped in watch287g/demo/ (by ICE file stem).
P07, Q07 = "participatingAgencies07072025pm", "pendingAgencies07072025pm"
P08, Q08 = "participatingAgencies07082025pm", "pendingAgencies07082025pm"
P14 = "participatingAgencies07142025am"
P15, Q15 = "participatingAgencies07152025am", "pendingAgencies07152025pm"

OPERATOR_TYPES = ("list.quarantined", "source.failed", "source.recovered", "source.stale")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z| UTC)?")
_PORT = re.compile(r"127\.0\.0\.1:\d+")


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


class Site:
    """ICE's page and its two spreadsheets on a loopback server. `show()` publishes one state of the site;
    ETags are content hashes, so a conditional request sees new bytes exactly when they are new."""

    def __init__(self, server: LoopbackHTTPServer, prefix: str = "") -> None:
        self.server = server
        self.prefix = prefix  # lets several independent sites share one server

    @property
    def page_path(self) -> str:
        return self.prefix + PAGE_PATH

    @property
    def page_url(self) -> str:
        return self.server.url(self.page_path)

    def list_path(self, name: str) -> str:
        return f"{self.prefix}{FOLDER}{name}.xlsx"

    def show(
        self,
        participating: str,
        pending: str,
        *,
        bodies: dict[str, bytes] | None = None,
        names: tuple[str, str] | None = None,
        anchors: bool = True,
    ) -> None:
        """Serve the page linking the two lists (by ICE stem). `bodies` overrides a list's bytes (by stem);
        `names` serves them under fixed file names instead of ICE's; `anchors=False` keeps the page's text
        but drops the links (a page whose spreadsheet links are gone)."""
        names = names or (participating, pending)
        links = []
        for label, stem, name in (("Participating Agencies", participating, names[0]),
                                  ("Pending Agencies", pending, names[1])):  # fmt: skip
            body = (bodies or {}).get(stem) or real_list(stem)
            path = self.list_path(name)
            self.server.route(path, body, content_type="application/vnd.ms-excel", etag=etag(body))
            links.append(f'<p><a href="{path}">{label}</a></p>' if anchors else f"<p>{label}</p>")
        page = PAGE.format(
            intro="ICE's 287(g) Program.", links="\n".join(links), updated="07/30/2025"
        ).encode()
        self.server.route(self.page_path, page, etag=etag(page))

    def page_html(self, participating: str, pending: str) -> bytes:
        links = "\n".join(
            f'<p><a href="{self.list_path(stem)}">{label}</a></p>'
            for label, stem in (("Participating Agencies", participating), ("Pending Agencies", pending))
        )
        return PAGE.format(intro="ICE's 287(g) Program.", links=links, updated="07/30/2025").encode()


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackHTTPServer]:
    """One loopback server per module: reference runs and faulty runs then fetch the very same URLs."""
    server = LoopbackHTTPServer().start()
    server.route("/ops", "ok", content_type="text/plain")
    server.route("/sub", "ok", content_type="text/plain")
    try:
        yield server
    finally:
        server.stop()


def write_config(
    directory: Path,
    page_url: str,
    *,
    port: int,
    timeout: float = 0.5,
    max_bytes: int = 1_000_000,
    subscribers: str | None = None,
    operators: bool = True,
    extra_sources: str = "",
) -> Path:
    """A config file: one ice_287g source, a json:// subscriber at /sub and operators at /ops (loopback);
    staleness thresholds far away so that the real clock of `deliver` never calls a source stale."""
    directory.mkdir(parents=True, exist_ok=True)
    if subscribers is None:
        subscribers = f'  - name: sub\n    notify: ["json://127.0.0.1:{port}/sub"]\n'
    text = (
        f"database: w.db\ncontact: reliability@example.org\nsources:\n  - name: ice\n    kind: ice_287g\n"
        f"    url: {page_url}\n    timeout: {timeout}\n    max_bytes: {max_bytes}\n{extra_sources}"
        f"subscribers:\n{subscribers}"
    )
    if operators:
        text += (
            f'operators:\n  notify: ["json://127.0.0.1:{port}/ops"]\n  failures_before_alert: 2\n'
            "  stale_after_hours: 1000000\n  no_new_list_days: 1000000\n"
        )
    path = directory / "watch287g.yaml"
    path.write_text(text)
    return path


@dataclass
class ClockedConfig(Config):
    """A Config whose checks read `clock` as the time (run_once builds its checks through Config.check)."""

    clock: str = "2025-07-07T21:00:00+00:00"

    def check(
        self,
        store: Store,
        monitor: Monitor,
        fetch: Fetch,
        origin: str = "live",
        now: Callable[[], str] | None = None,
    ) -> Check:
        return super().check(store, monitor, fetch, origin, now or (lambda: self.clock))


def clocked(path: Path) -> ClockedConfig:
    config = load_config(path)
    return ClockedConfig(**vars(config))


# Child processes keep their compiled bytecode in a temporary folder (the environment may set
# PYTHONDONTWRITEBYTECODE, which would make every CLI process compile the project again; nothing is written
# next to the sources).
PYCACHE = Path(tempfile.gettempdir()) / "watch287g-reliability-pycache"


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI process: ours, without a crash point unless `extra` sets one."""
    env = {k: v for k, v in os.environ.items() if k not in ("WATCH287G_CRASH_AT", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra or {})
    return env


def cli(
    config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real command line, as a separate process."""
    return subprocess.run(
        [CLI, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(env),
    )


def untimed(value: Any) -> Any:
    """`value` with timestamps and loopback ports replaced by placeholders (for runs on the real clock)."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    if isinstance(value, str):
        return _PORT.sub("127.0.0.1:PORT", _ISO_TIME.sub("<time>", value))
    return value


def digest(database: Path) -> dict[str, Any]:
    """What a run leaves that matters, comparably (snapshot ids, which count documents, are left out)."""
    store = Store(database)
    try:
        db = store.db
        events = [
            {k: v for k, v in e.items() if k != "snapshot_id"}
            for e in queries.events(store)
            if e["type"] not in OPERATOR_TYPES and not e["type"].startswith("delivery.")
        ]
        last = max((e["detected_at"] for e in queries.events(store)), default="2025-07-07")
        return {
            "events": sorted(events, key=lambda e: e["id"]),
            "operator_events": [
                e
                for e in queries.events(store)
                if e["type"] in OPERATOR_TYPES or e["type"].startswith("delivery.")
            ],
            "records": list(db.query("select * from records order by id")),
            "versions": list(
                db.query(
                    "select record_id, version, valid_from, status, record, hash, changed "
                    "from record_versions order by record_id, version"
                )
            ),
            "agreements": queries.agreements_as_of(store, last),
            "pending": queries.pending_as_of(store, last),
            "channels": {
                r["channel"]: {
                    k: r[k] for k in ("url", "current_sha256", "valid_sha256", "valid_lists", "valid_at")
                }
                for r in db.query("select * from channels")
            },
            "deliveries": list(
                db.query(
                    "select d.event_id, d.subscriber, d.status, e.type from deliveries d "
                    "join events e on e.id = d.event_id order by d.event_id, d.subscriber"
                )
            ),
            "messages": list(db.query("select subscriber, title, events from messages order by id")),
        }
    finally:
        store.close()


def semantic_events(database: Path) -> Counter[str]:
    """The events as a multiset of (type, state, agency, model, baseline, details without times): what a run
    on the real clock must reproduce whatever happened to the process."""
    store = Store(database)
    try:
        return Counter(
            json.dumps(
                [e["type"], e["state"], e["agency"], e["model"], e["baseline"], untimed(e["details"])],
                sort_keys=True,
            )
            for e in queries.events(store)
        )
    finally:
        store.close()


def stable_records(database: Path) -> list[dict[str, Any]]:
    """Records without their timestamps (first/last seen, missing since come from the real clock)."""
    store = Store(database)
    try:
        return list(
            store.db.query(
                "select id, kind, key, state, agency, model, status, missing_lists, record, hash "
                "from records order by id"
            )
        )
    finally:
        store.close()


def copy_database(source_dir: Path, target_dir: Path) -> None:
    """Copy a closed database (its WAL checkpointed into the main file) with its config."""
    target_dir.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(source_dir / "w.db")
    con.execute("pragma wal_checkpoint(TRUNCATE)")
    con.close()
    (target_dir / "w.db").write_bytes((source_dir / "w.db").read_bytes())
    (target_dir / "watch287g.yaml").write_text((source_dir / "watch287g.yaml").read_text())


def posted(server: LoopbackHTTPServer, path: str) -> list[dict[str, Any]]:
    """JSON webhook posts to `path`, with snapshot numbers (which differ between runs) masked."""
    return [
        {k: re.sub(r"snapshot #\d+", "snapshot #N", v) if isinstance(v, str) else v for k, v in p.items()}
        for p in server.posted_json(path)
    ]
