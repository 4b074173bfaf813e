"""Inline SVG pictures for the HTML report: a stacked area chart and a tile-grid map of the states.

Plain functions of plain data; every string that came from the database is escaped here (`_e`). Colours are
the Okabe-Ito palette (distinguishable with common colour-vision deficiencies) and every colour also has a
text label, so nothing is told by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import escape

from monitors.base import instant
from monitors.ice.names import MODELS, STATES

MODEL_COLOURS = dict(zip(MODELS, ("#0072B2", "#E69F00", "#009E73", "#CC79A7"), strict=True))
SHORT_MODEL = dict(zip(MODELS, ("Jail Enforcement", "Task Force", "Warrant Service Officer", "Tribal Task Force"), strict=True))  # fmt: skip
# Local-agency policy -> (fill, text colour, label shown on the tile, legend wording).
POLICY_STYLE = {
    "ban": ("#9E2A0B", "#ffffff", "BAN", "state law forbids local 287(g) agreements"),
    "mandate": ("#08519C", "#ffffff", "MANDATE", "state law requires local 287(g) agreements"),
    "restrict": ("#F6C26B", "#1a1a1a", "RESTRICT", "state law limits local 287(g) agreements"),
    "none": ("#E4E4E4", "#1a1a1a", "", "no state policy known"),
}
# The usual 50 + DC tile grid (row, column); territories follow in an extra row when they have something.
GRID = {
    "AK": (0, 0), "ME": (0, 10), "VT": (1, 9), "NH": (1, 10),
    "WA": (2, 0), "ID": (2, 1), "MT": (2, 2), "ND": (2, 3), "MN": (2, 4), "IL": (2, 5), "WI": (2, 6),
    "MI": (2, 7), "NY": (2, 8), "RI": (2, 9), "MA": (2, 10),
    "OR": (3, 0), "NV": (3, 1), "WY": (3, 2), "SD": (3, 3), "IA": (3, 4), "IN": (3, 5), "OH": (3, 6),
    "PA": (3, 7), "NJ": (3, 8), "CT": (3, 9),
    "CA": (4, 0), "UT": (4, 1), "CO": (4, 2), "NE": (4, 3), "MO": (4, 4), "KY": (4, 5), "WV": (4, 6),
    "VA": (4, 7), "MD": (4, 8), "DE": (4, 9),
    "AZ": (5, 1), "NM": (5, 2), "KS": (5, 3), "AR": (5, 4), "TN": (5, 5), "NC": (5, 6), "SC": (5, 7),
    "DC": (5, 8),
    "OK": (6, 3), "LA": (6, 4), "MS": (6, 5), "AL": (6, 6), "GA": (6, 7),
    "HI": (7, 0), "TX": (7, 3), "FL": (7, 8),
}  # fmt: skip
TERRITORIES = ("PR", "VI", "GU", "MP", "AS")
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _ticks(top: int) -> list[int]:
    """About five round steps (1, 2, 5 x 10^k) from 0 to at least `top`."""
    if top <= 0:
        return [0, 1]
    raw = top / 5
    base = 10 ** math.floor(math.log10(raw))
    step = int(next(m * base for m in (1, 2, 5, 10) if m * base >= raw)) or 1
    return list(range(0, math.ceil(top / step) * step + 1, step))


def _moment(value: str) -> float:
    return instant(value).timestamp()


# long: one SVG drawn back to front (grid, areas, labels, rug) on one set of coordinates; split, only scattered.
def area_chart(
    dates: list[str], series: dict[str, list[int]], *, width: int = 1000, height: int = 380
) -> str:
    """Stacked areas of `series` (model -> count at each date), x proportional to time, labelled at the end."""
    left, right, top, bottom = 56, 210, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    title = "Active 287(g) agreements by support model, at each ICE list processed"
    head = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="chart-title" style="{FONT}">'
        f'<title id="chart-title">{_e(title)}</title>'
    )
    if not dates:
        return (
            head
            + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No list processed yet</text></svg>'
        )
    times = [_moment(d) for d in dates]
    t0, t1 = times[0], times[-1] if times[-1] > times[0] else times[0] + 86400
    totals = [sum(values[i] for values in series.values()) for i in range(len(dates))]
    ticks = _ticks(max(totals))
    y_max = ticks[-1] or 1

    def x(i: int) -> float:
        return left + (times[i] - t0) / (t1 - t0) * plot_w

    def y(v: float) -> float:
        return top + plot_h - v / y_max * plot_h

    parts = [head]
    for tick in ticks:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#d0d0d0"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="12" fill="#333">{tick}</text>'
        )
    parts.append(_time_ticks(t0, t1, left, plot_w, top + plot_h))
    below = [0] * len(dates)
    ends: list[tuple[float, str, str]] = []
    for model, values in series.items():
        above = [b + v for b, v in zip(below, values, strict=True)]
        upper = " ".join(_steps(x, y, above))
        lower = " ".join(reversed(_steps(x, y, below)))
        colour = MODEL_COLOURS.get(model, "#777777")
        parts.append(
            f'<path class="series" data-model="{_e(model)}" d="M{upper} L{lower} Z" fill="{colour}" '
            f'stroke="#ffffff" stroke-width="1"><title>{_e(model)}: {values[-1]} active at the last list</title></path>'
        )
        ends.append(
            ((y(above[-1]) + y(below[-1])) / 2, f"{SHORT_MODEL.get(model, model)}: {values[-1]}", colour)
        )
        below = above
    parts.append(_end_labels(ends, left + plot_w + 8, top, top + plot_h))
    parts.append(
        f'<text x="{left + plot_w + 8}" y="{y(totals[-1]) - 6:.1f}" font-size="13" font-weight="700" '
        f'fill="#111">Total: {totals[-1]}</text>'
    )
    for i in range(len(dates)):  # a rug: one mark per list processed
        parts.append(
            f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 5}" stroke="#555"/>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>'
    )
    return "".join(parts) + "</svg>"


def _steps(x: Callable[[int], float], y: Callable[[float], float], values: list[int]) -> list[str]:
    """A count holds from one list to the next (what the last list said), so the outline is a staircase."""
    points = [f"{x(0):.1f},{y(values[0]):.1f}"]
    for i in range(1, len(values)):
        points += [f"{x(i):.1f},{y(values[i - 1]):.1f}", f"{x(i):.1f},{y(values[i]):.1f}"]
    return points


def _time_ticks(t0: float, t1: float, left: int, plot_w: int, base: float) -> str:
    """Months for long spans, every few days for short ones; the first label carries the year."""
    first = datetime.fromtimestamp(t0, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    moments: list[datetime] = []
    if t1 - t0 > 75 * 86400:
        year, month = first.year, first.month
        while not moments or moments[-1].timestamp() <= t1:
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
            moments.append(datetime(year, month, 1, tzinfo=UTC))
    else:
        step = timedelta(days=max(1, math.ceil((t1 - t0) / 86400 / 8)))
        moments = [first + step * n for n in range(1, 80)]
    parts: list[str] = []
    for moment in (m for m in moments if t0 <= m.timestamp() <= t1):
        at = left + (moment.timestamp() - t0) / (t1 - t0) * plot_w
        label = f"{moment:%b}" + ("" if t1 - t0 > 75 * 86400 else f" {moment.day}")
        label += f" {moment.year}" if not parts or (moment.month == 1 and moment.day == 1) else ""
        parts.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{base}" y2="{base + 10}" stroke="#333"/>'
            f'<text x="{at:.1f}" y="{base + 26}" text-anchor="middle" font-size="12" fill="#333">{label}</text>'
        )
    return "".join(parts)


def _end_labels(ends: list[tuple[float, str, str]], at: float, low: float, high: float) -> str:
    """Labels beside the last point of each band, pushed apart so they never overlap."""
    placed: list[float] = []
    for wanted, _, _ in sorted(ends, reverse=True):  # from the bottom band up
        spot = min(wanted, placed[-1] - 16) if placed else min(wanted, high - 4)
        placed.append(spot)
    if placed and placed[-1] < low + 24:  # ran out of room at the top: shift everything down
        shift = low + 24 - placed[-1]
        placed = [p + shift for p in placed]
    parts = []
    for (_, text, colour), spot in zip(sorted(ends, reverse=True), placed, strict=True):
        parts.append(
            f'<rect x="{at:.1f}" y="{spot - 9:.1f}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{at + 14:.1f}" y="{spot + 1:.1f}" font-size="12" fill="#111">{_e(text)}</text>'
        )
    return "".join(parts)


def tile_map(tiles: dict[str, tuple[str, int, str]], *, size: int = 62, gap: int = 4) -> str:
    """One square per state: code, active agreements, local-agency policy label. tiles: code -> (policy,
    count, tooltip); states absent from `tiles` are drawn with no policy and no agreements."""
    cells = dict(GRID)
    extra = [code for code in TERRITORIES if code in tiles]
    cells.update({code: (8, 10 - i) for i, code in enumerate(extra)})
    rows = 9 if extra else 8
    width, height = 11 * (size + gap), rows * (size + gap)
    parts = [
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="map-title" style="{FONT}">'
        '<title id="map-title">Active 287(g) agreements per state, coloured by state policy for local agencies</title>'
    ]
    for code, (row, col) in sorted(cells.items()):
        policy, count, tooltip = tiles.get(
            code, ("none", 0, f"{STATES.get(code, code)}: no active agreement")
        )
        fill, ink, label, _ = POLICY_STYLE.get(policy, POLICY_STYLE["none"])
        x, y = col * (size + gap), row * (size + gap)
        weight = "700" if count else "400"
        outline = (
            ' stroke="#111" stroke-width="3" stroke-dasharray="5 3"' if policy == "ban" and count else ""
        )
        parts.append(
            f'<g class="tile policy-{_e(policy)}" data-state="{_e(code)}" data-count="{count}">'
            f"<title>{_e(tooltip)}</title>"
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="4" fill="{fill}"'
            f"{outline}/>"
            f'<text x="{x + 6}" y="{y + 16}" font-size="13" font-weight="700" fill="{ink}">{_e(code)}</text>'
            f'<text class="count" x="{x + size - 6}" y="{y + 38}" text-anchor="end" font-size="19" '
            f'font-weight="{weight}" fill="{ink}">{count}</text>'
            f'<text x="{x + 6}" y="{y + size - 7}" font-size="9" letter-spacing=".3" fill="{ink}">{label}</text></g>'
        )
    return "".join(parts) + "</svg>"
