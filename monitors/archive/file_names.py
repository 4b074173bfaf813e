"""What an archived file's name says: which of ICE's lists it is, and when ICE dated it.

ICE names its files participatingAgencies05292025am.xlsx (month, day, year, am/pm) and, earlier,
participatingAgencies-20250221214937.xlsx (a timestamp); archives of dated copies prefix 2025-05-29_. A git
commit that adds several versions of one list at once says nothing of their order: their names do.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from monitors.ice.kind import LIST_CHANNELS

_STAMP = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?!\d)")  # 20250221214937
_US_DAY = re.compile(r"(?<!\d)(\d{2})(\d{2})(20\d{2})(am|pm)?(?!\d)", re.IGNORECASE)  # 05292025am
_ISO_DAY = re.compile(r"(?<!\d)(20\d{2})-(\d{2})-(\d{2})(?!\d)")  # 2025-05-29_
# ICE publishes on Eastern time; "am" and "pm" only order two lists of one day, so fixed hours in UTC stand
# in for them (08:00 and 16:00 EDT), and a day without either is noon UTC.
_HOUR = {"am": 12, "pm": 20, "": 12}


def channel_by_name(name: str) -> str | None:
    """The list a file name names (participatingAgencies..., 2025-05-29_pendingAgencies...), else None."""
    base = name.rsplit("/", 1)[-1].lower()
    matches = [channel for channel in LIST_CHANNELS if channel in base]
    return matches[0] if len(matches) == 1 else None


def time_in_name(name: str) -> str | None:
    """The time a file name states (ISO 8601, UTC), most precise form first; None when it states none or an
    impossible date."""
    base = name.rsplit("/", 1)[-1]
    try:
        if stamp := _STAMP.search(base):
            return _iso(*(int(part) for part in stamp.groups()))
        if day := _US_DAY.search(base):
            month, mday, year = int(day[1]), int(day[2]), int(day[3])
            return _iso(year, month, mday, _HOUR[(day[4] or "").lower()])
        if iso := _ISO_DAY.search(base):
            return _iso(int(iso[1]), int(iso[2]), int(iso[3]), _HOUR[""])
    except ValueError:  # 13/45/2025
        return None
    return None


def _iso(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> str:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).isoformat(timespec="seconds")
