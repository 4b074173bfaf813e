"""Open States search paging on 127.0.0.1: a nationwide search for a common phrase has more than one page;
the monitor follows `pagination` up to `max_pages`, never further than a response claims, never past an
empty page. Pages are the real New York search sample (and the Maryland HB 444 record) split in three."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from monitors.base import ConfigError
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from watch287g.config import Config, load_config
from watch287g.run import run_once

FIXTURES = Path(__file__).parent / "fixtures" / "legislation"
KEY = "test-key-51be07"


def sample(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())["payload"]


def page(results: list[dict[str, Any]], number: int, max_page: int) -> str:
    return json.dumps({"results": results, "pagination": {"per_page": 20, "page": number, "max_page": max_page,
                                                          "total_items": 45}})  # fmt: skip


def paging_config(tmp_path: Path, server: LoopbackHTTPServer, extra: str = "") -> Config:
    (tmp_path / "watch287g.yaml").write_text(
        f"database: w.db\nsources:\n  - name: os\n    kind: openstates\n    states: all\n"
        f"    queries: ['\"immigration enforcement agreement\"']\n    base_url: {server.url('')}\n"
        f"    timeout: 2\n{extra}"
    )
    return load_config(tmp_path / "watch287g.yaml")


def page_path(cfg: Config, number: int) -> str:
    """The path of page `number` of the configured search (page 1 is the search's own URL)."""
    [search] = cfg.monitors[0].requests()  # type: ignore[attr-defined]
    parts = urlsplit(search.url)
    return f"{parts.path}?{parts.query}" + (f"&page={number}" if number > 1 else "")


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSTATES_API_KEY", KEY)


def test_every_page_of_a_search_is_read_up_to_the_last(http_server, tmp_path):
    noise = sample("openstates_v3_bills_search_NY_2025-2026_q-immigration_subset.json")["results"]
    ban = sample("openstates_v3_bill_MD_2026_HB444_constructed.json")
    cfg = paging_config(tmp_path, http_server)
    pages = [noise[:3], noise[3:6], [noise[6], ban]]
    for number, results in enumerate(pages, 1):
        http_server.route(page_path(cfg, number), page(results, number, 3), content_type="application/json")
    assert not run_once(cfg).failures
    asked = [r.path for r in http_server.requests_for("/bills")]
    assert asked == [page_path(cfg, n) for n in (1, 2, 3)]  # and no fourth
    store = Store(cfg.database)
    tracked = {r["key"] for r in store.tracked_of_kind("bill")}
    store.close()
    assert len(tracked) == 8 and "MD|2026RS|HB444" in tracked  # the third page's bills too
    # Page 1 unchanged: sorted by updated_desc, a changed bill would be on it, so the others are not asked.
    http_server.clear_requests()
    assert not run_once(cfg).failures
    assert [r.path for r in http_server.requests_for("/bills")] == [page_path(cfg, 1)]


def test_a_hostile_max_page_costs_only_the_cap_and_an_empty_page_ends_the_search(http_server, tmp_path):
    noise = sample("openstates_v3_bills_search_NY_2025-2026_q-immigration_subset.json")["results"]
    cfg = paging_config(tmp_path, http_server, "    max_pages: 3\n")
    http_server.route("/bills", page(noise[:2], 1, 10**6), content_type="application/json")  # every page
    assert not run_once(cfg).failures
    assert len(http_server.requests_for("/bills")) == 3
    # Another search whose second page is empty although the response claims five.
    (tmp_path / "second").mkdir()
    cfg = paging_config(tmp_path / "second", http_server)
    http_server.clear_requests()
    http_server.route(page_path(cfg, 1), page(noise[:2], 1, 5), content_type="application/json")
    http_server.route(page_path(cfg, 2), page([], 2, 5), content_type="application/json")
    assert not run_once(cfg).failures
    assert [r.path for r in http_server.requests_for("/bills")] == [page_path(cfg, 1), page_path(cfg, 2)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "key 'max_pages' must be a positive number"),
        ("'five'", "key 'max_pages' must be int, got str"),
        (
            "1000",
            "max_pages must be at most 50 (each page is one request; the free Open States tier allows 500 a day)",
        ),
    ],
)
def test_max_pages_is_checked_when_the_config_is_loaded(http_server, tmp_path, value, message):
    with pytest.raises(ConfigError) as caught:
        paging_config(tmp_path, http_server, f"    max_pages: {value}\n")
    assert message in str(caught.value) and "\n" not in str(caught.value)
