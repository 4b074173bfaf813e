"""Plain text for every output (terminal, messages, report, feed, Prefect artifacts): one line, cut to a
layout cell, counted nouns, dates in UTC."""

from __future__ import annotations

from datetime import UTC

from monitors.base import instant
from monitors.ice.names import visible_text

CELL_LIMIT = 300  # characters of one value shown in a report or message (stored names are cut at parse time)


def flat(value: object) -> str:
    """One line of plain text: control and line-separator characters become spaces, format characters
    (bidi overrides, zero-width) are removed, runs of spaces are one."""
    return visible_text(str(value))


def one_line(value: object, limit: int = CELL_LIMIT) -> str:
    """A value for a layout cell (report, message, feed title): `flat`, at most `limit` characters."""
    text = flat(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def day(value: object) -> str:
    return str(value or "")[:10] or "an unknown date"


def utc(value: object) -> str:
    """An ISO timestamp as "2025-07-08 21:00 UTC" (no zone means UTC); anything else as given."""
    try:
        moment = instant(str(value))
    except ValueError:
        return str(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
