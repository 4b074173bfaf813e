"""The `ice_287g` source kind: ICE's 287(g) program page and the two spreadsheets it links."""

from __future__ import annotations

from monitors.base import ConfigError, ConfigField, Monitor, register
from monitors.fetch_scope import ICE_HOSTS, FetchScope
from monitors.http import HttpClient

ICE_PAGE = "https://www.ice.gov/identify-and-arrest/287g"


@register
class Ice287gMonitor(Monitor):
    """ICE's 287(g) page: its text (page.changed) and its participating / pending lists (agreement events).

    Links are discovered on the page at every check (file names change with every update). They are followed
    only to the page's own server or `allowed_hosts`, and never to a non-public address (see FetchScope).
    """

    kind = "ice_287g"
    fields = (
        ConfigField("url", "the program page that links the spreadsheets", default=ICE_PAGE),
        ConfigField("timeout", "seconds to wait for connect and for each read", default=30.0, type=float),
        ConfigField("deadline", "seconds a whole response may take (default 4 x timeout)", type=float),
        ConfigField("max_bytes", "largest response accepted, in bytes", default=50_000_000, type=int),
        ConfigField("max_page_bytes", "largest program page accepted, in bytes", default=2_000_000, type=int),
        ConfigField(
            "allowed_hosts",
            "hosts besides the page's own that lists may be on",
            default=list(ICE_HOSTS),
            type=list,
        ),
    )
    channels = ("page", "participating", "pending")

    @property
    def url(self) -> str:
        return str(self.config["url"])

    def __init__(self, config: dict[str, object]):
        super().__init__(config)
        hosts = self.config["allowed_hosts"]
        if not all(isinstance(host, str) and host and "/" not in host for host in hosts):
            raise ConfigError(f"source {self.name!r}: allowed_hosts must be a list of host names")

    @property
    def max_page_bytes(self) -> int:
        return int(self.config["max_page_bytes"])  # HttpClient.get never goes past max_bytes either

    def client(self, contact: str | None) -> HttpClient:
        return HttpClient(
            contact=contact, timeout=float(self.config["timeout"]), max_bytes=self.config["max_bytes"],
            deadline=self.config["deadline"], scope=FetchScope.around(self.url, self.config["allowed_hosts"]),
        )  # fmt: skip
