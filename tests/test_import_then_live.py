"""After an import, live checks carry on as if the tool had been running when the archive saw the lists."""

from __future__ import annotations

from pathlib import Path

from monitors.archive.body import ArchivedBody
from rules.ice_rules import Rules
from state import queries
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.ice_site import publish, real_list
from tests.test_check import _check  # the same live check as tests/test_check.py
from watch287g.importing import import_bodies

P07, P08 = "participatingAgencies07072025pm", "participatingAgencies07082025pm"
Q07, Q08 = "pendingAgencies07072025pm", "pendingAgencies07082025pm"


def _archived(stem: str, at: str) -> ArchivedBody:
    where = {"archive": "git", "repository": "/scrapes", "commit": "c" * 40, "path": f"{stem}.xlsx"}
    return ArchivedBody(at, real_list(stem), f"{stem}.xlsx", where)


def test_live_checks_after_an_import_continue_its_history(
    http_server: LoopbackHTTPServer, tmp_path: Path
) -> None:
    store = Store(tmp_path / "w.db")
    imported = import_bodies(
        store, [_archived(P07, "2025-07-07T21:00:00+00:00"), _archived(Q07, "2025-07-07T21:00:00+00:00")],
        source="ice", rules=Rules(),
    )  # fmt: skip
    assert [i.outcome for i in imported.imported] == ["processed", "processed"]
    baseline = queries.events(store)
    assert baseline and all(e["baseline"] and e["origin"] == "import" for e in baseline)

    # The same lists live: nothing new, and no second baseline.
    same = _check(store, publish(http_server, P07, Q07), tmp_path, at="2025-07-07T22:00:00+00:00")
    assert same.ok, same.error
    assert [(d.channel, d.outcome) for d in same.documents][1:] == [
        ("participating", "unchanged"),
        ("pending", "unchanged"),
    ]
    assert len(queries.events(store)) == len(baseline)

    # The next day's lists live: ordinary, alertable events measured against the imported history.
    later = _check(store, publish(http_server, P08, Q08), tmp_path, at="2025-07-08T21:00:00+00:00")
    assert later.ok, later.error
    new = [e for e in queries.events(store, since="2025-07-08") if e["origin"] == "live"]
    added = [e for e in new if e["type"] == "agreement.added"]
    assert len(added) == 31 and not any(e["baseline"] for e in new)
    converted = [e for e in added if e["details"]["was_pending"]]
    assert len(converted) == 29  # pending since the imported list
    assert {e["details"]["pending_since"] for e in converted} == {"2025-07-07T21:00:00+00:00"}
