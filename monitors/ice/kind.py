"""The `ice_287g` source kind: ICE's 287(g) program page and the two spreadsheets it links."""

from __future__ import annotations

from monitors.base import ConfigError, ConfigField, Monitor, register
from monitors.fetch_scope import ICE_HOSTS, FetchScope
from monitors.http import HttpClient
from monitors.ice.lists import parse_list
from monitors.ice.page import find_list_links
from monitors.source import Parsed, Request

ICE_PAGE = "https://www.ice.gov/identify-and-arrest/287g"
LIST_CHANNELS = ("participating", "pending")


@register
class Ice287gMonitor(Monitor):
    """ICE's 287(g) page: its text (page.changed) and its participating / pending lists (agreement events).

    Links are discovered on the page at every check (file names change with every update). They are followed
    only to the page's own server or `allowed_hosts`, and never to a non-public address (see FetchScope).
    """

    kind = "ice_287g"
    family = "ice"
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

    def requests(self) -> list[Request]:
        # Always conditional, and on 304 the lists' links are read from the stored page.
        return [
            Request(
                "page", self.url, max_bytes=self.max_page_bytes, conditional="always", follow_from_stored=True
            )
        ]

    def parse(self, request: Request, body: bytes) -> Parsed:
        """The page: its lists, as follow-ups (links resolve against where the page is now); a list: its rows.
        The page's text is read by the page step, only when its bytes changed (not at every 304)."""
        if request.channel != "page":
            return Parsed(sheet=parse_list(body))
        found = find_list_links(body, request.url)
        links = {"participating": found.participating, "pending": found.pending}
        missing = [channel for channel in LIST_CHANNELS if not links[channel]]
        failure = (
            f"the page {self.url} no longer links a {' or '.join(missing)} spreadsheet" if missing else None
        )
        return Parsed(follow=[Request(c, url) for c, url in links.items() if url], failure=failure)
