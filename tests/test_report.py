"""The HTML report, on a database built by the real pipeline from the real ICE lists bundled for the demo,
read back with html.parser, and rendered by headless Chromium."""

from __future__ import annotations

import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from rules.ice_rules import Rules
from state import queries
from state.store import Store
from tests.support.chromium import distinct_colours, read_png, screenshot
from watch287g.backfill import backfill, read_manifest
from watch287g.demo import DATA
from watch287g.report import build_report, latest_events, series_over_time, write_report
from watch287g.report_svg import MODEL_COLOURS, POLICY_STYLE

AS_OF = "2025-07-31"
HOSTILE = '<script>alert("x")</script> Sheriff & <img src=x onerror=alert(1)> "quoted" \'single\''


class Page(HTMLParser):
    """Every start tag with its attributes, the map's tiles with their count text, and all text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.tiles: dict[str, dict[str, Any]] = {}
        self.text: list[str] = []
        self._tile: str | None = None
        self._in_count = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if tag == "g" and "tile" in values.get("class", "").split():
            self._tile = values["data-state"]
            self.tiles[self._tile] = {"class": values["class"].split(), "count": values["data-count"]}
        self._in_count = tag == "text" and values.get("class") == "count"

    def handle_endtag(self, tag: str) -> None:
        if tag == "g":
            self._tile = None
        self._in_count = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._tile and self._in_count:
            self.tiles[self._tile]["shown"] = data


def _parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("report")
    lines = ["fetched_at,list,path"]
    for file in sorted(DATA.glob("*.xlsx")):
        day, name = file.name.split("_", 1)
        kind = "participating" if name.startswith("participating") else "pending"
        lines.append(f"{day}T{'09' if 'am' in name else '21'}:00:00+00:00,{kind},{file}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    db = Store(folder / "w.db")
    results = backfill(
        db, read_manifest(folder / "manifest.csv"), source="ice-287g",
        url="https://www.ice.gov/identify-and-arrest/287g", rules=Rules(),
    )  # fmt: skip
    assert [r.outcome for r in results] == ["processed"] * 7
    yield db
    db.close()


def test_map_shows_the_active_agreements_and_policy_of_each_state(store):
    page = _parse(build_report(store, AS_OF))
    active = Counter(a["state"] for a in queries.agreements_as_of(store, AS_OF) if a["status"] == "active")
    assert set(active) <= set(page.tiles) and len(page.tiles) >= 51
    for state in ("FL", "TX", "GA", "MD", "AL"):
        expected = sum(
            1 for a in queries.agreements_as_of(store, AS_OF, state=state) if a["status"] == "active"
        )
        assert expected and page.tiles[state]["shown"] == page.tiles[state]["count"] == str(expected)
    assert page.tiles["CA"]["shown"] == "0"
    assert "policy-mandate" in page.tiles["FL"]["class"]
    assert "policy-ban" in page.tiles["CA"]["class"]
    assert "policy-none" in page.tiles["MD"]["class"]  # Maryland's ban took effect on 2026-02-17, not in 2025
    later = _parse(build_report(store, "2026-03-01"))
    assert "policy-ban" in later.tiles["MD"]["class"]
    assert "policy-none" in page.tiles["AK"]["class"]
    assert f"{sum(active.values())}active agreements" in "".join(page.text).replace("\n", "")


def test_chart_has_one_series_per_model_and_matches_agreements_as_of(store):
    dates, series = series_over_time(store, AS_OF)
    assert len(dates) == 4  # the four participating lists
    for index, moment in enumerate(dates):
        counted = Counter(
            a["model"] for a in queries.agreements_as_of(store, moment) if a["status"] == "active"
        )
        assert {m: values[index] for m, values in series.items() if values[index]} == dict(counted)
    page = _parse(build_report(store, AS_OF))
    drawn = [a["data-model"] for tag, a in page.tags if tag == "path" and a.get("class") == "series"]
    models = {a["model"] for a in queries.agreements_as_of(store, AS_OF)}
    assert sorted(drawn) == sorted(models) and len(drawn) == len(set(drawn))


def test_events_are_latest_first_without_baseline_and_at_most_fifty(store):
    events = latest_events(store, AS_OF)
    assert 0 < len(events) <= 50 and not any(e["baseline"] for e in events)
    assert [e["detected_at"] for e in events] == sorted((e["detected_at"] for e in events), reverse=True)
    assert len(latest_events(store, "2025-07-07")) == 0  # only the baseline existed then


def test_hostile_data_is_escaped_and_only_http_links_are_made(tmp_path, store):
    store.db.conn.execute("vacuum into ?", [str(tmp_path / "hostile.db")])  # leave the shared DB alone
    hostile = Store(tmp_path / "hostile.db")
    event = {
        "type": "agreement.added", "source": "ice-287g", "detected_at": "2025-07-16T10:00:00+00:00",
        "state": "TX", "agency": HOSTILE, "model": "Task Force Model", "url": "javascript:alert(1)",
        "details": {"sources": ["javascript:alert(2)", 'https://example.org/b?x=1&y="2"><script>']},
    }  # fmt: skip
    hostile.add_events([event], None)
    html = build_report(hostile, AS_OF)
    hostile.close()
    page = _parse(html)
    assert not [tag for tag, _ in page.tags if tag in ("script", "img", "iframe", "link", "object")]
    assert not [name for _, attrs in page.tags for name in attrs if name.startswith("on")]
    assert any(HOSTILE in text for text in page.text)  # shown as text, exactly
    hrefs = [a["href"] for tag, a in page.tags if tag == "a"]
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    assert (
        "https://example.org/b?x=1&y=%222%22%3E%3Cscript%3E" in hrefs
    )  # percent-encoded, as in messages (link_url)
    assert not any(a.get("src") for _, a in page.tags)  # self-contained: nothing loaded from elsewhere
    assert "url(" not in html and "@import" not in html


def test_report_is_fast_and_written_to_a_file(tmp_path, store):
    started = time.perf_counter()
    write_report(store, tmp_path / "r.html", AS_OF)
    assert time.perf_counter() - started < 2
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    empty = Store(tmp_path / "empty.db")
    assert "No list processed yet" in build_report(empty, AS_OF)
    with pytest.raises(ValueError):
        build_report(empty, "junk")
    empty.close()


def test_report_renders_in_headless_chromium(tmp_path, store):
    """Fails (never skips) without Chromium, saying how to install it."""
    write_report(store, tmp_path / "report.html", AS_OF)
    png = screenshot(tmp_path / "report.html", tmp_path / "report.png", width=1280, height=2000)
    width, height, rows = read_png(png)
    assert (width, height) == (1280, 2000)
    assert distinct_colours(rows) > 40  # text, chart and map, not a blank page
    pixels = {row[i : i + 3] for row in rows[::2] for i in range(0, len(row), 6)}
    for colour in [MODEL_COLOURS["Task Force Model"], POLICY_STYLE["ban"][0], POLICY_STYLE["mandate"][0]]:
        assert bytes.fromhex(colour[1:]) in pixels, f"{colour} not drawn"
    assert Path(png).stat().st_size > 20_000
