"""The YAML config: every key declared, validated before anything runs, errors that name the key.

`${NAME}` anywhere in a string value is replaced by the environment variable NAME, and `${secret:BLOCK}` by
the value of a Prefect Secret block (secrets never live in the file); a missing one is an error that names it
and the key, never a value. Inside an apprise URL (`notify`) a value substituted into the user, password, path
or query is percent-encoded, so a password holding "@", "/", ":", "?", "#" or "%" stays the password.

Only commands that send alerts need the notify URLs: `load_config(..., secrets=False)` (the read-only
commands) leaves them unresolved and builds no routing, so those commands run with the secrets unset.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import yaml

from monitors.base import ConfigError, Monitor, load_kinds, monitor_for, utc_now
from notifiers.outbox import deliveries_for
from notifiers.subscribers import Routing, parse_routing
from rules.ice_rules import Rules
from state.store import Store

load_kinds()  # every source kind registers itself: a new kind's module needs no import line here

if TYPE_CHECKING:
    from watch287g.check_loop import Check, Fetch

DEFAULT_CONFIG = Path("watch287g.yaml")
TOP_LEVEL_KEYS = {
    "database": "SQLite file for the whole history (default data/watch287g.db, relative to the config file)",
    "contact": "an e-mail or URL put in the User-Agent so ICE's webmasters can reach you",
    "rules": "hold-back and quarantine thresholds (absent_lists, absent_days, mass_removal_share, ...)",
    "sources": "the list of sources to watch (name, kind and the kind's own keys)",
    "subscribers": "who gets alerts: name, notify (apprise URLs), events, states, models, effects, frequency",
    "operators": "the operators' channel (notify) and alert thresholds for failing or stale sources",
    "moa_read_per_run": "kept MOA documents `run` reads after its checks, oldest first (default 20; 0: leave them "
    "to `moa read-kept` or the read-moas deployment)",
    "public_url": "where readers reach `watch287g serve` (e.g. https://watch287g.example.org): alerts then link "
    "the kept copy of each MOA, each agreement's history and every event (optional; http or https, no "
    "user:password@)",
}
_ENV = re.compile(r"\$\{((?:secret:[A-Za-z0-9_-]+)|[A-Za-z_][A-Za-z0-9_]*)\}")
_NOTIFY_URL = re.compile(r"(subscribers\[\d+\]|operators)\.notify\[\d+\]")  # where apprise URLs live


@dataclass
class Config:
    path: Path
    database: Path
    contact: str | None
    rules: Rules
    monitors: list[Monitor] = field(default_factory=list)
    routing: Routing = field(default_factory=Routing)
    public_url: str | None = None  # base URL of `watch287g serve` for readers, without a trailing "/"
    moa_read_per_run: int = 20  # kept MOAs `run` reads after its checks (scans take ~1 min each)

    def check(
        self,
        store: Store,
        monitor: Monitor,
        fetch: Fetch,
        origin: str = "live",
        now: Callable[[], str] = utc_now,
    ) -> Check:
        """Everything a check of `monitor` needs, with alerts routed to this config's subscribers."""
        from watch287g.check_loop import Check

        return Check(store, monitor, fetch, self.rules, origin, now, deliveries_for=deliveries_for(self.routing),
                     operators=self.routing.operators)  # fmt: skip

    def monitor(self, name: str) -> Monitor:
        for monitor in self.monitors:
            if monitor.name == name:
                return monitor
        names = ", ".join(m.name for m in self.monitors)
        raise ConfigError(f"{self.path}: no source named {name!r}; sources: {names}")


def load_config(
    path: Path | str = DEFAULT_CONFIG, environ: dict[str, str] | None = None, *, secrets: bool = True
) -> Config:
    """The validated config. With `secrets=False` (commands that only read the database) the notify URLs are
    neither resolved nor parsed (`routing` is empty) and a missing `${NAME}` elsewhere stays as written."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found (use --config FILE; see README for an example)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys ({', '.join(TOP_LEVEL_KEYS)})")
    env: Any = os.environ if environ is None else environ
    raw = _substitute(raw, env, "", secrets)
    unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}; valid keys: {', '.join(TOP_LEVEL_KEYS)}")
    if not isinstance(raw.get("database", ""), str):
        raise ConfigError(f"{path}: database must be a file path (a string)")
    monitors = _monitors(raw.get("sources"), path)
    return Config(
        path=path,
        database=path.parent / str(raw.get("database") or "data/watch287g.db"),
        contact=raw.get("contact"),
        rules=_rules(raw.get("rules") or {}, path),
        monitors=monitors + implicit_legislation(monitors, env),
        routing=parse_routing(raw.get("subscribers"), raw.get("operators"), str(path))
        if secrets
        else Routing(),
        public_url=_public_url(raw.get("public_url"), path),
        moa_read_per_run=_count(raw.get("moa_read_per_run", 20), "moa_read_per_run", path),
    )


def _count(raw: Any, key: str, path: Path) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ConfigError(f"{path}: {key} must be a whole number, 0 or more")
    return raw


def _public_url(raw: Any, path: Path) -> str | None:
    """The base URL readers reach `serve` at: http(s), a host, no user:password@, query or fragment."""
    if raw is None or raw == "":
        return None
    url = base_url(raw) if isinstance(raw, str) else None
    if url is None:
        raise ConfigError(
            f"{path}: public_url must be an http(s) URL without user:password@, query or fragment"
        )
    return url


def base_url(raw: str) -> str | None:
    """`raw` as a base URL (trimmed, without a trailing "/") when it is http(s) with a host and a numeric port
    if any, and has no user:password@, query or fragment; else None. (`public_url`, `import --archive-url`.)"""
    try:
        parts = urlsplit(raw.strip())
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        return None
    bad = parts.username is not None or parts.password is not None or parts.query or parts.fragment
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or bad or "@" in parts.netloc:
        return None
    return raw.strip().rstrip("/")


def _rules(raw: Any, path: Path) -> Rules:
    valid = Rules.__dataclass_fields__
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: rules must be a mapping with keys {', '.join(valid)}")
    unknown = sorted(set(raw) - set(valid))
    if unknown:
        raise ConfigError(f"{path}: rules: unknown key {unknown[0]!r}; valid keys: {', '.join(valid)}")
    for key, value in raw.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{path}: rules.{key} must be a non-negative number, got {value!r}")
    return Rules(**raw)


def _monitors(raw: Any, path: Path) -> list[Monitor]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: sources must be a non-empty list (each with name, kind, ...)")
    monitors, names = [], set()
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: sources[{index}] must be a mapping with name and kind")
        try:
            monitor = monitor_for(entry)
        except ConfigError as exc:
            raise ConfigError(f"{path}: sources[{index}]: {exc}") from None
        if monitor.name in names:
            raise ConfigError(f"{path}: sources[{index}]: duplicate source name {monitor.name!r}")
        names.add(monitor.name)
        monitors.append(monitor)
    return monitors


IMPLICIT_SOURCES = (("OPENSTATES_API_KEY", "openstates"), ("LEGISCAN_API_KEY", "legiscan"))
NOT_WATCHED = (
    "legislation: not watched (set OPENSTATES_API_KEY or LEGISCAN_API_KEY to watch all 50 states and DC, "
    "or add a legislation source; see README)"
)


def implicit_legislation(monitors: list[Monitor], environ: Any) -> list[Monitor]:
    """No legislation source configured and an API key in the environment: one source over the 50 states
    and DC with the default searches (Open States preferred); nothing when a legislation source is set."""
    from monitors.legislation.kinds import ALL

    if any(m.family == "legislation" for m in monitors):
        return []
    names = {m.name for m in monitors}
    for variable, kind in IMPLICIT_SOURCES:
        if environ.get(variable):
            name = kind if kind not in names else f"{kind}-all-states"
            return [monitor_for({"name": name, "kind": kind, "states": ALL})]
    return []


def watches_legislation(config: Config) -> bool:
    return any(m.family == "legislation" for m in config.monitors)


def _substitute(value: Any, environ: Any, where: str, secrets: bool = True) -> Any:
    if isinstance(value, dict):
        return {
            k: _substitute(v, environ, f"{where}.{k}" if where else str(k), secrets) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute(v, environ, f"{where}[{i}]", secrets) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    in_url = bool(_NOTIFY_URL.fullmatch(where))
    if in_url and not secrets:
        return value  # resolved only by the commands that send

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("secret:"):
            if not secrets:
                return match.group(0)
            found = _prefect_secret(name.removeprefix("secret:"), where)
        elif name in environ:
            found = str(environ[name])
        elif not secrets:
            return match.group(0)
        else:
            raise ConfigError(f"{where}: environment variable {name} is not set")
        return _encode_for_url(found, _url_part(value, match.start())) if in_url else found

    return _ENV.sub(lookup, value)


def _url_part(template: str, at: int) -> str:
    """Which part of the URL template a placeholder starting at `at` stands in: "whole" (before or as the
    scheme), "userinfo", "host", "path" or "query" (query or fragment). Placeholders hold no "/?#@", so the
    template's own punctuation says where each one is."""
    scheme_end = template.find("://")
    if scheme_end < 0 or at < scheme_end + 3:
        return "whole"
    authority = re.match(r"[^/?#]*", template[scheme_end + 3 :])
    authority_end = scheme_end + 3 + (authority.end() if authority else 0)
    if at < authority_end:
        return "userinfo" if "@" in template[at:authority_end] else "host"
    query = min((i for i in (template.find("?", authority_end), template.find("#", authority_end)) if i >= 0),
                default=len(template))  # fmt: skip
    return "path" if at < query else "query"


def _encode_for_url(value: str, part: str) -> str:
    """Percent-encode a substituted value so it stays one component: a "@" in a password must not end the
    userinfo (the rest would become the host), a "#" must not start a fragment. A whole URL or a host is
    taken as written; a path keeps its "/" (e.g. a Slack webhook's T…/B…/… tokens)."""
    if part in ("whole", "host"):
        return value
    return quote(value, safe="/" if part == "path" else "")


def _prefect_secret(block: str, where: str) -> str:
    """`${secret:NAME}`: the value of Prefect Secret block NAME (a string: dict values are not masked by
    Prefect), read at load time, i.e. inside the flow run for deployments; never stored or logged."""
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(block).get()  # type: ignore[union-attr]
    except Exception as exc:  # Prefect raises ValueError for a missing block, httpx errors for no server
        raise ConfigError(
            f"{where}: Prefect Secret block {block!r} could not be read ({type(exc).__name__})"
        ) from None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: Prefect Secret block {block!r} must hold a string")
    return value
