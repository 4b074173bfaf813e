"""`watch287g serve`: a real Datasette server (subprocess, 127.0.0.1) on a database built by the real pipeline;
every canned query answers with real rows through its JSON endpoint, and data is never rendered as HTML."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from state import queries
from state.store import Store
from tests.support.serving import wait_until_serving
from tests.test_analysts import HOSTILE, build_database
from watch287g.datasette_metadata import (
    QUERIES,
    database_name,
    datasette_metadata,
    serve_command,
    serving_copy,
    third_party_plugins,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    def __init__(self, base: str, store: Store):
        self.base, self.store = base, store

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def query(self, name: str, **params: str) -> list[dict[str, Any]]:
        status, body = self.get(
            f"/watch287g/{name}.json?{urllib.parse.urlencode({**params, '_shape': 'array'})}"
        )
        assert status == 200, body
        return list(json.loads(body))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    live = build_database(tmp_path_factory.mktemp("live") / "watch287g.db")
    copy = serving_copy(live, tmp_path_factory.mktemp("serve"))
    port = free_port()
    command = serve_command(copy, port=port)
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    store = Store(live)
    try:
        wait_until_serving(
            port, process, lambda: process.stderr.read().decode() if process.stderr else "", 20
        )
        yield Served(f"http://127.0.0.1:{port}", store)
    finally:
        store.close()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_command_is_read_only_local_and_time_limited(tmp_path):
    command = serve_command(tmp_path / "w.db")
    assert command[1:4] == ["-m", "watch287g.datasette_metadata", "serve"]  # Datasette, with limits set
    assert command[command.index("-i") + 1] == str(tmp_path / "w.db")
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("sql_time_limit_ms") - 1 : command.index("sql_time_limit_ms") + 2] == [
        "--setting", "sql_time_limit_ms", "3000"
    ]  # fmt: skip
    metadata = json.loads(Path(command[command.index("--metadata") + 1]).read_text())
    assert metadata == datasette_metadata(tmp_path / "w.db")
    assert set(metadata["databases"]["w"]["queries"]) == set(QUERIES)
    assert "_html" not in json.dumps(metadata)  # plain text only: Datasette escapes it
    assert third_party_plugins() == []  # no plugin that could render a value as HTML
    assert database_name("data/watch287g.db") == "watch287g"


def test_new_agreements_between_two_dates(served):
    rows = served.query("new_agreements", start="2025-07-14", end="2025-07-15")
    expected = [e for e in queries.events(served.store, since="2025-07-14", type_glob="agreement.added",
                                          include_baseline=False) if e["detected_at"] < "2025-07-16"]  # fmt: skip
    assert len(rows) == 7 == len(expected)
    assert {r["event_id"] for r in rows} == {e["id"] for e in expected}
    assert ("AR", "Lafayette County Sheriff's Office", "Warrant Service Officer", "2025-07-11") in {
        (r["state"], r["agency"], r["model"], r["signed"]) for r in rows
    }
    assert len(served.query("new_agreements", start="2025-07-08", end="2025-07-08")) == 38 - 7
    assert served.query("new_agreements", start="2025-07-16", end="2025-07-31") == []


def test_terminations(served):
    assert [
        (r["state"], r["agency"], r["model"], r["absent_lists"], r["last_seen"])
        for r in served.query("terminations")
    ] == [("MN", "Jackson County Sheriff's Office", "Jail Enforcement Model", 2, "2025-07-08T21:00:00+00:00")]


@pytest.mark.parametrize("as_of", ["2025-07-14", "2025-07-08T21:00:00+00:00", "2025-07-15"])
def test_agreements_per_state_and_model_match_the_cli(served, as_of):
    counts: dict[tuple[str, str], list[int]] = {}
    for row in queries.agreements_as_of(served.store, as_of):
        active, missing = counts.setdefault((row["state"], row["model"]), [0, 0])
        counts[row["state"], row["model"]] = [active + (row["status"] == "active"), missing + (row["status"] == "missing")]  # fmt: skip
    rows = served.query("agreements_by_state_and_model", as_of=as_of)
    assert {(r["state"], r["model"]): [r["active"], r["missing"]] for r in rows} == counts
    assert all(r["in_force"] == r["active"] + r["missing"] for r in rows)
    if as_of == "2025-07-14":
        assert {(r["state"], r["model"]): r["missing"] for r in rows}[("MN", "Jail Enforcement Model")] == 1


def test_an_agreements_history_by_its_old_name(served):
    rows = served.query("agreement_history", agency="ft. myers")
    assert [(r["what"], r["agency"], r["time"][:10]) for r in rows] == [
        ("agreement.added", "Ft. Myers Police Department", "2025-07-07"),
        ("version 1", "Ft. Myers Police Department", "2025-07-07"),
        ("agreement.renamed", "Fort Myers Police Department", "2025-07-15"),
        ("version 2", "Fort Myers Police Department", "2025-07-15"),
    ]
    assert rows[2]["source_url"].endswith("#2025-07-15_participatingAgencies07152025am.xlsx")
    assert served.query("agreement_history", agency="%") == []  # literal, not a wildcard
    assert {r["what"] for r in served.query("agreement_history", agency="MD|2026RS|HB444")} == {
        "bill.introduced", "bill.enacted", "version 1", "version 2"
    }  # fmt: skip


def test_agreement_history_finds_what_the_cli_finds(served):
    """Abbreviations, punctuation and case are folded as `watch287g history` folds them (issue 9)."""
    from watch287g.analysts import matching_records

    expected = served.query("agreement_history", agency="ft. myers")
    for term in ("Ft Myers", "FT MYERS PD", "Fort Myers Police Dept."):
        rows = served.query("agreement_history", agency=term)
        assert rows == expected, term
        assert {r["record_id"] for r in rows} == set(matching_records(served.store, term))


def test_bills_by_stage_and_failed_deliveries(served):
    assert [
        (r["stage"], r["state"], r["bill"], r["classification"]) for r in served.query("bills_by_stage")
    ] == [("enacted", "MD", "HB 444", "ban")]
    [failed] = served.query("failed_deliveries")
    assert (failed["subscriber"], failed["type"], failed["state"], failed["attempts"]) == (
        "desk",
        "bill.enacted",
        "MD",
        1,
    )
    assert failed["channel"].startswith("json://127.0.0.1") and "refused" in failed["last_error"].lower()


def test_pages_escape_data_and_show_titles(served):
    status, page = served.get("/watch287g/new_agreements?start=2025-08-01&end=2025-08-01")
    assert status == 200
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert QUERIES["new_agreements"]["title"] in page
    status, index = served.get("/watch287g")
    assert status == 200 and all(query["title"] in index for query in QUERIES.values())
    assert HOSTILE not in index
