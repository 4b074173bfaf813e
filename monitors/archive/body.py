"""One file as a public archive kept it: the unit every archive reader yields and `watch287g import` feeds on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchivedBody:
    """One file as an archive kept it; provenance says where (a Wayback capture, or a git commit and path).

    provenance, wayback: {"archive": "wayback", "url": the original URL, "timestamp": "20250529...",
    "capture": the raw (id_) capture URL}; git: {"archive": "git", "repository", "commit", "path"}.
    """

    fetched_at: str  # ISO 8601 with offset: when the archive saw it (capture time, commit time)
    body: bytes
    name: str  # the file name as archived, e.g. participatingAgencies07072025pm.xlsx
    provenance: dict[str, str]
