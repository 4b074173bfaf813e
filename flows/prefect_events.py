"""A run's new events, read back from the database after they are committed, and emitted as Prefect events.

Prefect events (`watch287g.agreement.added`, ...) let automations react at once: the `notify-on-event`
deployment in prefect.yaml is triggered by them. Only live, non-baseline events are emitted, and only
after their transaction committed (the flow emits after `run_once` returned). The payload holds a few
public fields, never details, apprise URLs or anything from the config; only the config file's absolute path
(payload `config_path`, resource label `watch287g.config`), so the triggered notify run reads the same config
and database as the run that emitted the event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

PREFIX = "watch287g"
_NAMESPACE = uuid.UUID("5b8f6a0e-2f7c-4a53-9a53-28a7f0e1c287")  # event id -> Prefect event id, stable
_PAYLOAD_DETAILS = ("identifier", "session", "stage", "previous_stage", "effect", "list", "was_pending")


def prefect_event(event: Mapping[str, Any], config_path: str | Path | None = None) -> dict[str, Any]:
    """The keyword arguments of `prefect.events.emit_event` for one stored event (of the run that read
    `config_path`)."""
    kind = str(event["type"])
    details = event.get("details") or {}
    # An agreement, request or bill is its record (stable across renames); a source.* event is about its source,
    # so automations can follow one source; anything else is the stored event itself.
    subject = event.get("record_id") or (event["source"] if kind.startswith("source.") else event["id"])
    name = event.get("agency") or details.get("identifier") or details.get("bill") or event.get("state")
    resource = {
        "prefect.resource.id": f"{PREFIX}.{kind.split('.')[0]}.{subject}",
        "prefect.resource.name": str(name or event["source"]),
        f"{PREFIX}.type": kind,
        f"{PREFIX}.source": str(event["source"]),
    }
    for label in ("state", "model"):
        if event.get(label):
            resource[f"{PREFIX}.{label}"] = str(event[label])
    config = str(Path(config_path).resolve()) if config_path is not None else None
    if config:
        resource[f"{PREFIX}.config"] = config
    payload: dict[str, Any] = {
        "event_id": event["id"], "type": kind, "source": event["source"], "detected_at": event["detected_at"],
        "state": event.get("state"), "agency": event.get("agency"), "model": event.get("model"),
        "url": event.get("url"), "snapshot_sha256": event.get("snapshot_sha256"), "config_path": config,
    }  # fmt: skip
    payload.update({key: details[key] for key in _PAYLOAD_DETAILS if details.get(key) is not None})
    return {
        "event": f"{PREFIX}.{kind}",
        "resource": resource,
        "related": [
            {
                "prefect.resource.id": f"{PREFIX}.source.{event['source']}",
                "prefect.resource.role": "source",
                "prefect.resource.name": str(event["source"]),
            }
        ],  # fmt: skip
        "payload": {key: value for key, value in payload.items() if value is not None},
        "id": uuid.uuid5(_NAMESPACE, str(event["id"])),  # re-emitting the same stored event is deduplicated
    }


def emit_events(
    events: Iterable[Mapping[str, Any]],
    emit: Callable[..., Any] | None = None,
    config_path: str | Path | None = None,
) -> int:
    """Emit every live, non-baseline event (of the run that read `config_path`); returns how many."""
    if emit is None:
        from prefect.events import emit_event

        emit = emit_event
    count = 0
    for event in events:
        if event.get("baseline") or event.get("origin") != "live":
            continue
        emit(**prefect_event(event, config_path))
        count += 1
    return count
