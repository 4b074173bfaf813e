"""The source contract (monitors.source): every registered kind has a family that a deployment schedules and
a pipeline step interprets; the ICE kind's requests and parse, on the real page fixtures and a real list."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from monitors.base import MONITORS, Snapshot
from monitors.ice.kind import Ice287gMonitor
from monitors.source import Recheck, Request, document_channel
from watch287g import config  # noqa: F401  (registers the source kinds)
from watch287g.interpret import STEPS
from watch287g.pipeline import page_changed

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "ice"
PAGE_URL = "https://www.ice.gov/identify-and-arrest/287g"
DOCLIB = "https://www.ice.gov/doclib/about/offices/ero/287g/"


def _check_deployments() -> list[dict[str, Any]]:
    project = yaml.safe_load((REPO / "prefect.yaml").read_text())
    return [d for d in project["deployments"] if d["entrypoint"] == "flows/check.py:check_flow"]


def test_every_registered_family_is_scheduled_by_a_check_deployment() -> None:
    """A new kind is scheduled through its family: adding a family without a deployment fails here."""
    scheduled = {d["parameters"].get("family") for d in _check_deployments()}
    families = {cls.family for cls in MONITORS.values()}
    assert families and families <= scheduled, f"no deployment in prefect.yaml for {families - scheduled}"
    # ...and no check deployment picks sources by a hand-kept list of kinds or by name
    assert not [d["name"] for d in _check_deployments() if {"kinds", "source"} & set(d["parameters"])]


def test_every_registered_family_has_a_pipeline_step() -> None:
    assert {cls.family for cls in MONITORS.values()} <= set(STEPS)


def _ice() -> Ice287gMonitor:
    return Ice287gMonitor({"name": "ice", "kind": "ice_287g"})


def test_the_ice_page_is_the_first_request_and_its_lists_are_its_follow_ups() -> None:
    [page] = _ice().requests()
    assert (page.channel, page.url, page.max_bytes) == ("page", PAGE_URL, 2_000_000)
    assert (page.conditional, page.follow_from_stored) == ("always", True)
    parsed = _ice().parse(page, (FIXTURES / "page_basic.html").read_bytes())
    assert parsed.follow == [
        Request("participating", DOCLIB + "participatingAgencies07302025pm.xlsx", follow_from_stored=True),
        Request("pending", DOCLIB + "pendingAgencies07302025pm.xlsx", follow_from_stored=True),
    ]  # a list answered 304 still leads to its MOA documents, read from the stored copy
    assert parsed.failure is None and parsed.follow[0].conditional == "same_url"


def test_a_page_without_links_parses_to_a_failure_not_an_exception() -> None:
    """The page is still stored (its text may have changed); the loop fails the check after the commit."""
    parsed = _ice().parse(_ice().requests()[0], (FIXTURES / "page_nolinks.html").read_bytes())
    assert parsed.follow == []
    assert parsed.failure == f"the page {PAGE_URL} no longer links a participating or pending spreadsheet"


def test_an_ice_list_parses_to_its_sheet() -> None:
    body = (FIXTURES / "2025-07-07_pendingAgencies07072025pm.xlsx").read_bytes()
    parsed = _ice().parse(Request("pending", DOCLIB + "pendingAgencies07072025pm.xlsx"), body)
    assert parsed.sheet is not None and len(parsed.sheet.records) == 51 and parsed.follow == []


def test_a_participating_list_leads_to_its_moa_documents_on_the_page_host_only() -> None:
    body = (FIXTURES / "2025-07-07_participatingAgencies07072025pm.xlsx").read_bytes()
    request = Request("participating", DOCLIB + "participatingAgencies07072025pm.xlsx")
    parsed = _ice().parse(request, body)
    assert parsed.sheet is not None
    linked = {r[f] for r in parsed.sheet.records for f in ("moa_url", "addendum_url") if r.get(f)}
    assert len(parsed.follow) == len(linked) > 600  # each document once, however many rows link it
    assert {r.url for r in parsed.follow} == linked and all(
        urlsplit(u).hostname == "www.ice.gov" for u in linked
    )
    first = parsed.follow[0]
    assert first.channel == document_channel(first.url) and first.channel.startswith("moa:")
    assert first.recheck == Recheck(every=7 * 86400, per_check=100, pace=2.0, within=1200.0)
    # Links to another host than the page's are not followed (unless named in moa_hosts); none when disabled.
    elsewhere = Ice287gMonitor({"name": "ice", "kind": "ice_287g", "url": "http://127.0.0.1:9/287g"})
    assert elsewhere.parse(request, body).follow == []
    named = Ice287gMonitor(
        {"name": "i", "kind": "ice_287g", "url": "http://127.0.0.1:9/g", "moa_hosts": ["www.ice.gov"]}
    )
    assert len(named.parse(request, body).follow) == len(linked)
    off = Ice287gMonitor({"name": "ice", "kind": "ice_287g", "moa_documents": False})
    assert off.parse(request, body).follow == []


@pytest.mark.parametrize(("state", "baseline"), [(None, False), ("TX", True)])
def test_page_changed_is_one_diff_of_sentences_for_every_page(state: str | None, baseline: bool) -> None:
    snapshot = Snapshot("src", "page", "https://example.org/eo", "2026-01-01T00:00:00+00:00", b"")
    old = "First order. Second order stands. Third order."
    event = page_changed(snapshot, old, old.replace("Second order stands", "Second order is repealed"),
                         state=state, baseline=baseline)  # fmt: skip
    assert (event["type"], event["state"], event["baseline"]) == ("page.changed", state, baseline)
    assert event["details"] == {
        "url": "https://example.org/eo",
        "diff": "--- before\n+++ after\n@@ -1,3 +1,3 @@\n First order.\n"
        "-Second order stands.\n+Second order is repealed.\n Third order.",
    }


def test_a_failed_request_of_any_family_is_in_the_report_and_the_fetch_log(
    http_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One loop for every kind: a legislation fetch that fails is reported like the ICE page's (it was only
    logged), and fails its source."""
    from state.store import Store
    from watch287g.config import load_config
    from watch287g.run import run_once

    for name in ("OPENSTATES_API_KEY", "LEGISCAN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    http_server.route("/bill", b"gone", status=404)
    path = tmp_path / "watch287g.yaml"
    path.write_text(
        f"database: w.db\nsources:\n  - name: md\n    kind: bill_page\n    url: {http_server.url('/bill')}\n"
    )
    [check] = run_once(load_config(path)).checks
    assert [(d.channel, d.outcome, d.http_status) for d in check.documents] == [("page", "error", 404)]
    assert check.error is not None and "404" in check.error
    store = Store(tmp_path / "w.db")
    try:
        assert [(r["channel"], r["outcome"], r["http_status"]) for r in store.db.table("fetches").rows] == [
            ("page", "error", 404)
        ]
        assert store.health("md")["consecutive_failures"] == 1
    finally:
        store.close()


def test_every_kind_in_the_monitors_package_registers_without_an_import_line() -> None:
    """A kind's module is found by walking the package (monitors.base.load_kinds), so adding one needs no import
    elsewhere: every class decorated with @register in monitors/ is a registered kind, and nothing outside
    monitors/ names a kind's module just to register it."""
    import ast
    from pathlib import Path

    from monitors.base import load_kinds

    root = Path(__file__).resolve().parent.parent
    declared = set()
    for path in (root / "monitors").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(d, ast.Name) and d.id == "register" for d in node.decorator_list
            ):
                kind = next(
                    s.value.value
                    for s in node.body
                    if isinstance(s, ast.Assign)
                    and [t.id for t in s.targets if isinstance(t, ast.Name)] == ["kind"]
                    and isinstance(s.value, ast.Constant)
                )
                declared.add(kind)
    assert declared and declared == set(load_kinds())
    config_source = (root / "watch287g" / "config.py").read_text(encoding="utf-8")
    assert "noqa: F401" not in config_source
