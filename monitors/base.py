"""What every monitor shares: the snapshot type, the error types, and the registry of source kinds.

A monitor is one small class per source kind (modelled on urlwatch's jobs): it declares its config keys,
its family (which interpretation its records get, and which deployment schedules it), the requests to make
(`requests`, monitors.source.Request) and how to read one answered document (`parse`, a pure function of
bytes giving records or text and follow-up requests). watch287g.check_loop makes the requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from monitors.http import HttpClient
    from monitors.source import Parsed, Request


class ConfigError(ValueError):
    """A config file or key is wrong; the message names the key and what would be valid."""


class FetchError(RuntimeError):
    """A fetch failed. `transient` errors (network, timeouts, 5xx, 429) are worth retrying; others are not."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        transient: bool,
        http_status: int | None = None,
        retry_after: str | None = None,
    ):
        super().__init__(message)
        self.url = url
        self.transient = transient
        self.http_status = http_status
        self.retry_after = retry_after  # the server's Retry-After header on a 429/503, as sent


class ParseError(ValueError):
    """Bytes that are not what the monitor expects (not a spreadsheet, no header, unsafe XML...)."""


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def instant(value: str) -> datetime:
    """An ISO date or timestamp as an aware datetime: a time without a zone is UTC (ValueError otherwise)."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Snapshot:
    """Raw bytes of one document of a source, as fetched (or as read from an archive during backfill)."""

    source: str  # the configured source name, e.g. "ice-287g"
    channel: str  # which document of the source: "page", "participating", "pending"...
    url: str
    fetched_at: str  # ISO 8601, UTC
    body: bytes
    http_status: int = 200
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", sha256_hex(self.body))


@dataclass(frozen=True)
class ConfigField:
    name: str
    help: str
    required: bool = False
    default: Any = None
    type: type = str


class Monitor:
    """Base class: subclasses set `kind`, `family`, `fields` and a docstring, and implement the contract
    (`client`, `requests`, `parse`); config is validated on construction."""

    kind: ClassVar[str] = ""
    family: ClassVar[str] = ""  # "ice" | "legislation": its interpretation step and its deployment
    fields: ClassVar[tuple[ConfigField, ...]] = ()
    common_fields: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField(
            "name", "unique name of this source; used in events and on the command line", required=True
        ),
        ConfigField("kind", "which monitor reads this source", required=True),
    )

    def __init__(self, config: dict[str, Any]):
        self.config = validate_config(type(self), config)
        self.name: str = self.config["name"]

    def client(self, contact: str | None) -> HttpClient:
        """The HTTP client for this source's requests (its timeouts, size cap and fetch scope)."""
        raise NotImplementedError

    def requests(self) -> list[Request]:
        """The documents a check starts with; `parse` may add follow-ups."""
        raise NotImplementedError

    def parse(self, request: Request, body: bytes) -> Parsed:
        """Read one answered document; `request.url` is where the body came from (after redirects)."""
        raise NotImplementedError


def validate_config(cls: type[Monitor], config: dict[str, Any]) -> dict[str, Any]:
    """Check keys and types against the declared fields; fill defaults. Errors name the source and key."""
    declared = {f.name: f for f in (*cls.common_fields, *cls.fields)}
    where = f"source {config.get('name', '?')!r} (kind {cls.kind})"
    unknown = sorted(set(config) - set(declared))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(declared))}")
    result: dict[str, Any] = {}
    for f in declared.values():
        if f.name not in config:
            if f.required:
                raise ConfigError(f"{where}: missing required key {f.name!r} ({f.help})")
            result[f.name] = f.default
            continue
        value = config[f.name]
        if f.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, f.type) or (f.type in (int, float) and isinstance(value, bool)):
            # the value's type, never the value: it may hold a secret substituted from the environment
            raise ConfigError(
                f"{where}: key {f.name!r} must be {f.type.__name__}, got {type(value).__name__}"
            )
        if f.type is not bool and isinstance(value, int | float) and value <= 0:
            raise ConfigError(f"{where}: key {f.name!r} must be a positive number")
        if f.name in ("url", "base_url") and not _is_web_url(str(value)):
            raise ConfigError(f"{where}: key {f.name!r} must be an http(s) URL with a host")
        result[f.name] = value
    return result


def _is_web_url(value: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


MONITORS: dict[str, type[Monitor]] = {}


def register(cls: type[Monitor]) -> type[Monitor]:
    if not cls.kind or cls.kind in MONITORS:
        raise ValueError(f"monitor kind {cls.kind!r} is empty or registered twice")
    if not cls.family:
        raise ValueError(f"monitor kind {cls.kind!r} has no family")
    MONITORS[cls.kind] = cls
    return cls


def load_kinds() -> dict[str, type[Monitor]]:
    """Import every module of the `monitors` package that declares a kind (`@register`), so that each kind
    registers itself: a new kind's module needs no import line anywhere (a kind that nobody imported would never
    be checked, and nothing would say). Other modules (the MOA reader and its PDF libraries) are not imported at
    start-up: every command loads the config."""
    import importlib
    import importlib.util
    import pkgutil
    from pathlib import Path

    import monitors

    for module in pkgutil.walk_packages(monitors.__path__, "monitors."):
        spec = None if module.ispkg else importlib.util.find_spec(module.name)
        if spec and spec.origin and "@register" in Path(spec.origin).read_text(encoding="utf-8"):
            importlib.import_module(module.name)
    return MONITORS


def monitor_for(config: dict[str, Any]) -> Monitor:
    kind = config.get("kind")
    if kind not in MONITORS:
        raise ConfigError(
            f"source {config.get('name', '?')!r}: unknown kind {kind!r}; valid kinds: {', '.join(sorted(MONITORS))}"
        )
    return MONITORS[kind](config)
