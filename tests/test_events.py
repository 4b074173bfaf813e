"""The event type: one constructor that knows every type, one decoder of stored rows, one table of audiences."""

from __future__ import annotations

import ast
import fnmatch
import json
from pathlib import Path

import pytest

from events.event import EVENT_TYPES, FOR_OPERATORS, OPERATOR_ONLY, decode_event, new_event
from notifiers.headline import OPERATOR_WORDS
from notifiers.subscribers import OPERATOR_EVENTS, SUBSCRIBER_EVENTS, Subscriber, Target
from notifiers.wording import KINDS
from rules.policy import EVENT_FOR
from state.store import Store

ROOT = Path(__file__).resolve().parents[1]


def test_new_event_refuses_a_type_missing_from_the_table() -> None:
    with pytest.raises(ValueError, match=r"unknown event type 'agreement\.vanished'.*EVENT_TYPES"):
        new_event("agreement.vanished", "ice", "2025-07-08T21:00:00+00:00")


def test_new_event_has_every_field_with_defaults_for_what_it_is_not_about() -> None:
    event = new_event("source.failed", "ice", "2025-07-08T21:00:00+00:00", details={"error": "HTTP 503"})
    assert event == {
        "type": "source.failed", "source": "ice", "detected_at": "2025-07-08T21:00:00+00:00", "record_id": None,
        "state": None, "agency": None, "model": None, "before": None, "after": None,
        "details": {"error": "HTTP 503"}, "baseline": False,
    }  # fmt: skip
    assert new_event("page.changed", "ice", "2025-07-08")["details"] == {}


def test_a_stored_event_reads_back_as_it_was_written(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.db")
    try:
        written = new_event("policy.compliance", "policy", "2026-03-01T00:00:00+00:00", state="MD",
                            details={"phase": "still_listed", "listed": 2}, baseline=True)  # fmt: skip
        [event_id] = store.add_events([written], None)
        row = dict(next(iter(store.db.query("select * from events"))))
    finally:
        store.close()
    assert row["baseline"] == 1 and json.loads(row["details"]) == {"listed": 2, "phase": "still_listed"}
    read = decode_event(row)
    assert read == {**written, "id": event_id, "origin": "live", "snapshot_id": None, "snapshot_sha256": None,
                    "url": None, "baseline": True}  # fmt: skip
    assert read["baseline"] is True


def test_every_type_the_policy_rules_name_is_in_the_table() -> None:
    assert set(EVENT_FOR.values()) <= set(EVENT_TYPES)


def test_subscriber_globs_cover_exactly_the_types_not_kept_for_operators() -> None:
    """SUBSCRIBER_EVENTS stays a list of globs (it is the documented default of a subscriber's `events`); it
    must match every type subscribers may get and none kept for operators."""
    for kind in EVENT_TYPES:
        if kind == "event.corrected":  # routed as the type it corrects
            continue
        matched = any(fnmatch.fnmatchcase(kind, glob) for glob in SUBSCRIBER_EVENTS)
        # agreement.moa_mismatch matches "agreement.*" but is operator-only: Subscriber.wants never routes it.
        assert matched is (kind not in OPERATOR_ONLY or kind == "agreement.moa_mismatch"), kind
    assert OPERATOR_EVENTS == FOR_OPERATORS
    assert set(OPERATOR_ONLY) == {"agreement.moa_mismatch", "list.quarantined", "source.failed", "source.recovered", "source.stale",
                                  "delivery.failing", "delivery.recovered"}  # fmt: skip


def test_operators_get_operator_types_and_subscribers_never_do() -> None:
    target = (Target("json://127.0.0.1:9/", "json://127.0.0.1"),)
    operators, everything = (
        Subscriber("operators", target, OPERATOR_EVENTS),
        Subscriber("desk", target, ("*",)),
    )
    for kind in OPERATOR_ONLY:
        event = new_event(kind, "ice", "2025-07-08", details={"source": "ice"})
        assert operators.wants(event) and not everything.wants(event), kind
    added = new_event("agreement.added", "ice", "2025-07-08", state="TX", after={"agency": "X"})
    assert everything.wants(added) and not operators.wants(added)


def test_the_words_name_only_types_that_exist() -> None:
    assert set(KINDS) <= set(EVENT_TYPES)
    assert set(OPERATOR_WORDS) <= OPERATOR_ONLY


def _imports(folder: str) -> dict[str, set[str]]:
    """Each module of a package folder: the modules it imports (absolute names)."""
    found = {}
    for path in (ROOT / folder).glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        found[path.name] = names
    return found


def test_events_package_sits_below_the_layers_that_use_it() -> None:
    """events/ is imported by monitors/, state/, notifiers/ and watch287g/: it imports none of them."""
    upper = {"watch287g", "notifiers", "flows", "state", "monitors"}
    for name, imported in _imports("events").items():
        assert not {module.split(".")[0] for module in imported} & upper, name


def test_notifiers_take_no_words_from_above() -> None:
    """Words live in notifiers/ and are imported downward: notifiers/ takes nothing from watch287g/ or flows/
    (the outbox's crash points and send lock live in state/)."""
    upward = {
        (name, module)
        for name, imported in _imports("notifiers").items()
        for module in imported
        if module.split(".")[0] in ("watch287g", "flows")
    }
    assert upward == set()


def test_no_flow_module_shadows_a_top_level_package() -> None:
    """Prefect loads an entrypoint (flows/check.py) as a script with flows/ first on sys.path, so a
    flows/events.py would be imported as `events` instead of this package (the flows would not start)."""
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert "events" in packages
    assert not {path.stem for path in (ROOT / "flows").glob("*.py")} & packages
