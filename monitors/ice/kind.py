"""The `ice_287g` source kind: ICE's 287(g) program page, the two spreadsheets it links, and the MOA documents
the participating list links (each a followed document: fetched politely, re-checked on a slower schedule)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from monitors.base import ConfigError, ConfigField, Monitor, register
from monitors.fetch_scope import ICE_HOSTS, FetchScope
from monitors.http import HttpClient
from monitors.ice.lists import parse_list
from monitors.ice.page import find_list_links
from monitors.source import Parsed, Recheck, Request, document_channel

ICE_PAGE = "https://www.ice.gov/identify-and-arrest/287g"
LIST_CHANNELS = ("participating", "pending")
DOCUMENT_FIELDS = ("moa_url", "addendum_url")  # a list row's links to the agreement's documents


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
        ConfigField(
            "moa_documents", "fetch and keep the MOA documents the lists link", default=True, type=bool
        ),
        ConfigField(
            "moa_hosts", "hosts besides the page's own whose MOA links are followed", default=[], type=list
        ),
        ConfigField("moa_recheck_days", "days before a kept MOA is asked again", default=7.0, type=float),
        ConfigField("moa_per_check", "most MOA documents asked in one check", default=100, type=int),
        ConfigField("moa_pace", "seconds between two MOA requests to one host", default=2.0, type=float),
        ConfigField(
            "moa_minutes", "most minutes one check spends on MOA documents", default=20.0, type=float
        ),
    )
    channels = ("page", "participating", "pending")

    @property
    def url(self) -> str:
        return str(self.config["url"])

    def __init__(self, config: dict[str, object]):
        super().__init__(config)
        for key in ("allowed_hosts", "moa_hosts"):
            if not all(isinstance(host, str) and host and "/" not in host for host in self.config[key]):
                raise ConfigError(f"source {self.name!r}: {key} must be a list of host names")

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
            sheet = parse_list(body)
            return Parsed(sheet=sheet, follow=self.documents(sheet.records))
        found = find_list_links(body, request.url)
        links = {"participating": found.participating, "pending": found.pending}
        missing = [channel for channel in LIST_CHANNELS if not links[channel]]
        failure = (
            f"the page {self.url} no longer links a {' or '.join(missing)} spreadsheet" if missing else None
        )
        # The lists are asked even when unchanged (304): their MOA links are then read from the stored copy.
        lists = [Request(c, url, follow_from_stored=True) for c, url in links.items() if url]
        return Parsed(follow=lists, failure=failure)

    def documents(self, records: list[dict[str, Any]]) -> list[Request]:
        """The MOA and addendum documents a list's rows link, once each, on the page's own host or `moa_hosts`
        (not every host a list may be on: ICE serves its MOAs beside its page)."""
        if not self.config["moa_documents"]:
            return []
        hosts = {urlsplit(self.url).hostname, *self.config["moa_hosts"]}
        recheck = Recheck(
            every=float(self.config["moa_recheck_days"]) * 86400, per_check=int(self.config["moa_per_check"]),
            pace=float(self.config["moa_pace"]), within=float(self.config["moa_minutes"]) * 60,
        )  # fmt: skip
        urls = {str(r[f]) for r in records for f in DOCUMENT_FIELDS if r.get(f)}
        followed = sorted(url for url in urls if _host(url) in hosts)
        return [Request(document_channel(url), url, recheck=recheck) for url in followed]


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
