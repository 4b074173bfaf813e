"""Import lists from public archives: the body an archive yields, and which list a file name holds."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from monitors.base import ParseError
from monitors.ice.kind import LIST_CHANNELS
from monitors.ice.lists import parse_list


@dataclass(frozen=True)
class ArchivedBody:
    """One file as an archive kept it; provenance says where (wayback capture or git commit and path)."""

    fetched_at: str
    body: bytes
    name: str  # the file name as archived, e.g. participatingAgencies07072025pm.xlsx
    provenance: dict[str, str]


def channel_by_name(name: str) -> str | None:
    """The list a file name names (participatingAgencies..., 2025-05-29_pendingAgencies...), else None."""
    base = name.rsplit("/", 1)[-1].lower()
    matches = [channel for channel in LIST_CHANNELS if channel in base]
    return matches[0] if len(matches) == 1 else None


def recognise(archived: ArchivedBody) -> tuple[str | None, str]:
    """(list, how it was told) or (None, why skipped): by file name first, else by the parsed shape."""
    by_name = channel_by_name(archived.name)
    if by_name:
        return by_name, "file name"
    try:
        return parse_list(archived.body).shape, "columns"
    except (ParseError, ValueError) as error:  # not a spreadsheet, or not one of ICE's lists
        return None, f"not an ICE list: {error}"


def sightings_by_bytes(bodies: Iterable[ArchivedBody]) -> list[list[ArchivedBody]]:
    """Identical bytes are one body seen several times: its sightings, earliest first; bodies by first sighting.

    Only the first sighting is interpreted (later ones would find nothing new); the rest are kept as provenance.
    """
    groups: dict[str, list[ArchivedBody]] = {}
    for archived in bodies:
        groups.setdefault(hashlib.sha256(archived.body).hexdigest(), []).append(archived)
    ordered = [sorted(group, key=lambda a: a.fetched_at) for group in groups.values()]
    return sorted(ordered, key=lambda group: group[0].fetched_at)
