"""Subscribers and operators from the config: validated keys, apprise URLs checked, event routing (pure).

Apprise URLs hold secrets (SMTP passwords, Slack tokens): they are resolved from the environment at config
load, kept in memory only, and shown redacted (`Target.label`) everywhere else.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from events.event import FOR_OPERATORS, OPERATOR_ONLY, OPT_IN_ONLY
from monitors.base import ConfigError
from monitors.ice.names import MODELS, STATES
from rules.classify import EFFECTS

FREQUENCIES = ("immediate", "daily", "weekly")
# What subscribers may receive, as the default globs of their `events`: every type that events.event's table
# does not keep for operators only (tests/test_events.py holds the two together).
SUBSCRIBER_EVENTS = ("agreement.*", "pending.*", "page.changed", "policy.*", "bill.*")
OPERATOR_EVENTS = FOR_OPERATORS  # operator-only types and policy.compliance
# Subscribers get these only when their `events` globs are set and match (not with the default globs).
OPT_IN_EVENTS = OPT_IN_ONLY
OPERATORS = "operators"  # the reserved subscriber name of the operators' channel
CORRECTED = "event.corrected"  # later evidence contradicts an event (details: corrects, was, now, by)

SUBSCRIBER_KEYS = {
    "name": "unique name (used in deliveries and with `notify --test`)",
    "notify": "list of apprise URLs (mailto://, mailtos://, slack://, a Slack webhook URL, ...); use ${ENV} for secrets",
    "events": f"event-type globs (default: {', '.join(SUBSCRIBER_EVENTS)})",
    "states": "USPS state codes (default: all states)",
    "models": f"support models (default: all of {', '.join(MODELS)})",
    "effects": f"for policy/bill events: {', '.join(EFFECTS)} (default: all)",
    "frequency": f"one of {', '.join(FREQUENCIES)} (default immediate)",
}
OPERATOR_KEYS = {
    "notify": "list of apprise URLs for the operators' alerts",
    "failures_before_alert": "consecutive failed checks of a source before source.failed (default 3)",
    "stale_after_hours": "no successful check for this long: source.stale (default 6)",
    "no_new_list_days": "no new ICE list for this long: source.stale (default 14)",
    "channel_failures_before_alert": "consecutive failed sends to one channel before delivery.failing (default 3)",
}


@dataclass(frozen=True)
class Target:
    url: str  # the resolved apprise URL: a secret, never stored or logged
    label: str  # redacted: scheme and host only


@dataclass(frozen=True)
class Subscriber:
    name: str
    targets: tuple[Target, ...]
    events: tuple[str, ...] = SUBSCRIBER_EVENTS
    states: frozenset[str] = frozenset()
    models: frozenset[str] = frozenset()
    effects: frozenset[str] = frozenset()
    frequency: str = "immediate"

    def wants(self, event: dict[str, Any]) -> bool:
        kind = event["type"]
        if kind == CORRECTED:  # a correction reaches whoever got (or would get) the event it corrects
            kind = str((event.get("details") or {}).get("was") or kind)
        if self.name == OPERATORS:
            return _matches(kind, OPERATOR_EVENTS)
        if kind in OPERATOR_ONLY or not _matches(kind, SUBSCRIBER_EVENTS) or not _matches(kind, self.events):
            return False
        if self.events == SUBSCRIBER_EVENTS and _matches(kind, OPT_IN_EVENTS):
            return False
        if self.states and event.get("state") not in self.states:
            return False
        if self.models and event.get("model") not in self.models:
            return False
        effect = (event.get("details") or {}).get("effect")
        return not (self.effects and effect is not None and effect not in self.effects)


@dataclass(frozen=True)
class Operators:
    subscriber: Subscriber | None = None
    failures_before_alert: int = 3
    stale_after_hours: float = 6.0
    no_new_list_days: float = 14.0
    channel_failures_before_alert: int = 3


@dataclass(frozen=True)
class Routing:
    subscribers: tuple[Subscriber, ...] = ()
    operators: Operators = field(default_factory=Operators)

    def everyone(self) -> tuple[Subscriber, ...]:
        extra = (self.operators.subscriber,) if self.operators.subscriber else ()
        return self.subscribers + extra

    def subscriber(self, name: str) -> Subscriber:
        for subscriber in self.everyone():
            if subscriber.name == name:
                return subscriber
        raise ConfigError(
            f"no subscriber named {name!r}; subscribers: "
            f"{', '.join(s.name for s in self.everyone()) or '(none in the config)'}"
        )


def _matches(kind: str, globs: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(kind, glob) for glob in globs)


def redact(url: str) -> str:
    """What may be shown of an apprise URL: its scheme and host (no user, password, token or path)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" if parts.scheme else "(invalid URL)"


def parse_routing(raw_subscribers: Any, raw_operators: Any, where: str) -> Routing:
    subscribers = tuple(
        _subscriber(entry, f"{where}: subscribers[{i}]") for i, entry in enumerate(raw_subscribers or [])
    )
    names = [s.name for s in subscribers]
    duplicate = next((n for n in names if names.count(n) > 1 or n == OPERATORS), None)
    if duplicate:
        raise ConfigError(f"{where}: subscriber name {duplicate!r} is used twice or reserved")
    return Routing(subscribers, _operators(raw_operators, f"{where}: operators"))


def _subscriber(raw: Any, where: str) -> Subscriber:
    _check_keys(raw, SUBSCRIBER_KEYS, where)
    if not raw.get("name") or not isinstance(raw["name"], str):
        raise ConfigError(f"{where}: missing key 'name' ({SUBSCRIBER_KEYS['name']})")
    where = f"{where} ({raw['name']})"
    states = frozenset(_strings(raw, "states", where))
    unknown_state = sorted(s for s in states if s not in STATES)
    if unknown_state:
        raise ConfigError(f"{where}: states: {unknown_state[0]!r} is not a USPS state code")
    models = frozenset(_strings(raw, "models", where))
    _check_values(models, MODELS, "models", where)
    effects = frozenset(_strings(raw, "effects", where))
    _check_values(effects, EFFECTS, "effects", where)
    frequency = raw.get("frequency", "immediate")
    _check_values({frequency}, FREQUENCIES, "frequency", where)
    events = tuple(_strings(raw, "events", where)) or SUBSCRIBER_EVENTS
    return Subscriber(raw["name"], _targets(raw, where), events, states, models, effects, frequency)


def _operators(raw: Any, where: str) -> Operators:
    if raw is None:
        return Operators()
    _check_keys(raw, OPERATOR_KEYS, where)
    numbers = {key: raw[key] for key in OPERATOR_KEYS if key != "notify" and key in raw}
    for key, value in numbers.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ConfigError(
                f"{where}: {key} must be a positive number, got {type(value).__name__} {value}"[:200]
            )
    subscriber = Subscriber(OPERATORS, _targets(raw, where), OPERATOR_EVENTS) if raw.get("notify") else None
    return Operators(subscriber, **numbers)


def _targets(raw: dict[str, Any], where: str) -> tuple[Target, ...]:
    import apprise

    urls = _strings(raw, "notify", where)
    if not urls:
        raise ConfigError(f"{where}: missing key 'notify' ({SUBSCRIBER_KEYS['notify']})")
    targets = []
    for index, url in enumerate(urls):
        if apprise.Apprise.instantiate(url) is None:
            raise ConfigError(f"{where}: notify[{index}] is not a URL apprise can send to ({redact(url)})")
        targets.append(Target(url, redact(url)))
    return tuple(targets)


def _check_keys(raw: Any, keys: dict[str, str], where: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping with keys {', '.join(keys)}")
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(keys)}")


def _strings(raw: dict[str, Any], key: str, where: str) -> list[str]:
    value = raw.get(key) or []
    if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"{where}: {key} must be a list of strings, got {type(value).__name__}"
        )  # not the value: secrets
    return value


def _check_values(values: set[str] | frozenset[str], valid: tuple[str, ...], key: str, where: str) -> None:
    wrong = sorted(v for v in values if v not in valid)
    if wrong:
        raise ConfigError(f"{where}: {key}: {wrong[0]!r} is not one of {', '.join(valid)}")
