"""`watch287g report --html FILE`: one self-contained HTML page (inline CSS and SVG, no scripts, no external
resources) with agreements over time by support model, a tile map of the states by policy, and the latest
events.

Everything read from the database is data: text and attributes pass through `html.escape`, and only http(s)
URLs become links.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from events.event import OPERATOR_ONLY, StoredEvent
from monitors.ice.names import MODELS, STATES
from notifiers.headline import DOCUMENT_EVENTS, backfill_source, document_of, headline
from notifiers.render import link_url
from notifiers.text import flat, one_line, utc
from state import queries
from state.store import Store
from watch287g.report_svg import MODEL_COLOURS, POLICY_STYLE, area_chart, tile_map
from watch287g.states import state_table

MAX_EVENTS = 50
CSS = """
body{margin:0;background:#fff;color:#1a1a1a;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"DejaVu Sans",sans-serif}main{max-width:1040px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 6px;border-top:1px solid #ccc;padding-top:14px}
.asof{color:#444;margin:0 0 14px}.totals{display:flex;flex-wrap:wrap;gap:10px;margin:0;padding:0;list-style:none}
.totals li{border:1px solid #ccc;border-radius:6px;padding:6px 12px;min-width:120px}
.totals b{display:block;font-size:22px}.method{font-size:13.5px;color:#333;background:#f5f5f5;padding:8px 12px;
border-radius:6px;margin-top:14px}svg{max-width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0;padding:0;list-style:none;font-size:14px}
.swatch{display:inline-block;width:18px;height:14px;border:1px solid #555;vertical-align:-2px;margin-right:6px}
table{border-collapse:collapse;width:100%;font-size:13.5px}th,td{text-align:left;vertical-align:top;
padding:5px 8px;border-bottom:1px solid #ddd}th{background:#f0f0f0}td.num{text-align:right}
td.when,td.evidence a{white-space:nowrap}code{font-size:12.5px}details{margin:8px 0}summary{cursor:pointer;color:#0b4f8a}
a{color:#0b4f8a}.note{font-size:13px;color:#444}
.mapwrap{display:flex;flex-wrap:wrap;gap:8px 22px;align-items:flex-start}.mapwrap>div{flex:1 1 200px}.legend.column{flex-direction:column;
max-width:240px}.ban-listed{background:#9E2A0B;border:2px dashed #111}
"""


def _e(value: object) -> str:
    """Text for the page: one line without control or format characters (bidi overrides), escaped."""
    return escape("" if value is None else flat(value), quote=True)


def _link(url: object, label: str) -> str:
    """A link only for http(s) URLs without user:password@ (`link_url`); anything else is not shown."""
    target = link_url(url)
    if not target:
        return ""
    return f'<a href="{_e(target)}" title="{_e(target)}" rel="noopener noreferrer">{_e(label)}</a>'


def series_over_time(store: Store, as_of: str) -> tuple[list[str], dict[str, list[int]]]:
    """Active agreements per model at each processed participating list up to `as_of` (one sweep over
    record_versions, the same answer as agreements_as_of at each of those times)."""
    dates = queries.participating_lists_before(store, as_of)
    versions = queries.agreement_versions_before(store, as_of)
    current: dict[str, tuple[str, str]] = {}
    counts: list[Counter[str]] = []
    pending = next(versions, None)
    for moment in dates:
        while pending is not None and pending["valid_from"][: len(moment)] <= moment:
            current[pending["record_id"]] = (pending["status"], pending["model"])
            pending = next(versions, None)
        counts.append(Counter(model for status, model in current.values() if status == "active"))
    present = {model for count in counts for model, n in count.items() if n}
    order = [m for m in MODELS if m in present] + sorted(present - set(MODELS))
    return dates, {model: [count.get(model, 0) for count in counts] for model in order}


def latest_events(store: Store, as_of: str, limit: int = MAX_EVENTS) -> list[StoredEvent]:
    rows = [
        e
        for e in queries.events(store, before=queries.upper_bound(as_of), include_baseline=False)
        if e["type"] not in OPERATOR_ONLY  # for operators, not for readers
    ]
    return rows[::-1][:limit]


def _evidence(event: Mapping[str, Any]) -> str:
    details = event.get("details") or {}
    links = []
    if event.get("type") == "agreement.moa_published" or event.get("type") in DOCUMENT_EVENTS:
        document, url = document_of(event)
        links.append(_link(url, document.upper()))
    archived = backfill_source(event)  # a backfilled list was never at the live page's address: no link
    if event.get("type") in DOCUMENT_EVENTS and event.get("url") == document_of(event)[1]:
        return " ".join(links)  # read from the document itself, linked above
    links.append(_e(archived) if archived else _link(event.get("url"), "page" if event.get("type") == "page.changed" else "ICE list"))  # fmt: skip
    for url in (details.get("sources") or [])[:2]:
        links.append(_link(url, "bill"))
    for item in (details.get("instruments") or [])[:2]:
        if isinstance(item, dict):
            links.append(_link(item.get("source_url"), "law"))
    return " ".join(link for link in dict.fromkeys(links) if link)


def _events_html(events: Sequence[Mapping[str, Any]]) -> str:
    if not events:
        return '<p class="note">No events yet beyond the baseline.</p>'
    rows = "".join(
        f'<tr><td class="when">{_e(utc(e["detected_at"]))}</td><td><code>{_e(e["type"])}</code></td>'
        f"<td>{_e(e.get('state') or '–')}</td><td>{_e(headline(e, one_line))}</td>"
        f'<td class="evidence">{_evidence(e)}</td></tr>'
        for e in events
    )
    return (
        '<table class="events"><thead><tr><th>When</th><th>Type</th><th>State</th><th>What happened</th>'
        f"<th>Evidence</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _chart_table(dates: list[str], series: dict[str, list[int]]) -> str:
    head = "".join(f"<th>{_e(m)}</th>" for m in series)
    body = "".join(
        f"<tr><td>{_e(utc(d))}</td>"
        + "".join(f'<td class="num">{values[i]}</td>' for values in series.values())
        + f'<td class="num">{sum(v[i] for v in series.values())}</td></tr>'
        for i, d in reversed(list(enumerate(dates)))
    )
    return (
        f"<details><summary>The numbers behind the chart ({len(dates)} lists)</summary><table><thead><tr>"
        f"<th>List processed</th>{head}<th>Total</th></tr></thead><tbody>{body}</tbody></table></details>"
    )


def _map_section(table: list[dict[str, Any]], missing: Counter[str]) -> str:
    tiles = {}
    for row in table:
        count, code = row["active_agreements"], row["state"]
        tooltip = (
            f"{row['name']}: {count} active agreement{'' if count == 1 else 's'}"
            + (f", {missing[code]} missing" if missing[code] else "")
            + f"; policy for local agencies: {row['local_agencies']}, for state agencies: {row['state_agencies']}"
            + (f" ({row['note']})" if row["note"] else "")
        )
        tiles[code] = (row["local_agencies"], count, tooltip)
    legend = "".join(
        f'<li><span class="swatch" style="background:{fill}"></span><b>{_e(label or "(no word)")}</b> {_e(words)}</li>'
        for fill, _, label, words in POLICY_STYLE.values()
    )
    legend += (
        '<li><span class="swatch ban-listed"></span>dashed outline: a ban, yet agreements still listed</li>'
    )
    rows = "".join(
        f"<tr><td>{_e(r['name'])} ({_e(r['state'])})</td><td>{_e(r['local_agencies'])}</td>"
        f'<td>{_e(r["state_agencies"])}</td><td class="num">{r["active_agreements"]}</td>'
        f'<td class="num">{missing[r["state"]]}</td><td>{_e(r["note"])}</td></tr>'
        for r in table
    )
    return (
        f'<div class="mapwrap">{tile_map(tiles)}<div><ul class="legend column">{legend}</ul>'
        '<p class="note">Each square: the state\'s code, its active agreements (the large number) and its policy '
        "for local agencies (colour and word). Hover a square for details.</p></div></div>"
        "<details><summary>The states as a table</summary><table><thead><tr><th>State</th><th>Local agencies</th>"
        "<th>State agencies</th><th>Active</th><th>Missing</th><th>Note</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></details>"
    )


# What the counts mean, shown under them.
METHOD = (
    '<p class="method"><b>Method.</b> Counts come from ICE\'s published lists of participating and pending '
    "agencies, as snapshotted and interpreted by watch287g. <b>Active</b>: on the latest valid list. "
    "<b>Missing</b>: absent from recent lists but not yet counted as ended; an agreement is only called "
    "<b>terminated</b> once it has been absent from several consecutive valid lists and for several days "
    "(ICE's lists often drop and restore rows). Renames and typo fixes are not terminations. Lists that "
    "make no sense are quarantined and ignored. State policies come from enacted laws and orders "
    "(reviewed seed plus bills seen enacted). Events of the first list (the baseline) are not shown.</p>"
)


def build_report(store: Store, as_of: str) -> str:
    """The whole page for agreements and events known at `as_of` (a date means the end of that day, UTC)."""
    datetime.fromisoformat(as_of)  # ValueError for anything but a date or an ISO timestamp
    agreements = queries.agreements_as_of(store, as_of)
    missing = Counter(a["state"] for a in agreements if a["status"] == "missing")
    table = [r for r in state_table(store, as_of) if r["state"] in STATES]
    dates, series = series_over_time(store, as_of)
    when = f"{as_of} (end of day, UTC)" if len(as_of) == 10 else utc(as_of)
    totals = _totals(agreements, queries.pending_as_of(store, as_of), table, dates)
    chart_legend = "".join(
        f'<li><span class="swatch" style="background:{_e(colour)}"></span>{_e(model)}</li>'
        for model, colour in ((m, MODEL_COLOURS.get(m, "#777777")) for m in series)
    )
    events = latest_events(store, as_of)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>287(g) agreements as of {_e(when)}</title><style>{CSS}</style></head><body><main>"
        f'<h1>287(g) agreements</h1><p class="asof">As of {_e(when)}</p>{totals}{METHOD}'
        '<h2 id="over-time">Active agreements over time, by support model</h2>'
        f'{area_chart(dates, series)}<ul class="legend">{chart_legend}</ul>{_chart_table(dates, series)}'
        '<h2 id="map">Agreements per state and state policy for local agencies</h2>'
        f"{_map_section(table, missing)}"
        f'<h2 id="events">Latest events <span class="note">({len(events)}, most recent first)</span></h2>'
        f'{_events_html(events)}<p class="note">Generated by watch287g. '
        f"{_link('https://www.ice.gov/identify-and-arrest/287g', 'ICE 287(g) program page')}</p>"
        "</main></body></html>\n"
    )


def _totals(
    agreements: list[dict[str, Any]],
    requests: list[dict[str, Any]],
    table: list[dict[str, Any]],
    dates: list[str],
) -> str:
    """The headline counts: active agreements (and per model), missing, pending, states, lists processed."""
    active = [a for a in agreements if a["status"] == "active"]
    missing = sum(1 for a in agreements if a["status"] == "missing")
    per_model = Counter(a["model"] for a in active)
    models = "".join(
        f"<li><b>{per_model[m]}</b>{_e(m)}</li>"
        for m in [*MODELS, *sorted(set(per_model) - set(MODELS))]
        if per_model[m]
    )
    return (
        f'<ul class="totals"><li><b>{len(active)}</b>active agreements</li>{models}'
        f"<li><b>{missing}</b>missing (not yet confirmed ended)</li>"
        f"<li><b>{sum(1 for p in requests if p['status'] == 'pending')}</b>pending requests</li>"
        f"<li><b>{sum(1 for r in table if r['active_agreements'])}</b>states with agreements</li>"
        f"<li><b>{len(dates)}</b>participating lists processed"
        + (f"<br>last {_e(utc(dates[-1]))}" if dates else "")
        + "</li></ul>"
    )


def write_report(store: Store, path: str | Path, as_of: str) -> None:
    Path(path).write_text(build_report(store, as_of), encoding="utf-8")
