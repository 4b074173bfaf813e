"""Legislation source kinds: Open States, LegiScan, a state legislature's bill page, any web page.

Each kind says which documents to fetch (`requests`) and how to read one (`parse`): bill records (the
shape in docs/legislation-spec.md), follow-up requests (LegiScan: bills whose change_hash moved), or the
normalised text of a page. API keys come from the environment and travel in headers or are masked
(`redact_url`) wherever a URL is shown or stored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode

from bs4 import BeautifulSoup

from monitors.base import ConfigError, ConfigField, Monitor, register
from monitors.bills import parse_bill_page, parse_legiscan_bill, parse_legiscan_search, parse_openstates
from monitors.fetch_scope import FetchScope
from monitors.html_text import text_pieces
from monitors.http import HttpClient, redact_url

DEFAULT_QUERIES = ['"287(g)"', '"immigration enforcement agreement"', '"1357(g)"']  # quoted: see Open States
DEFAULT_LEGISCAN_QUERY = '"287(g)" OR "immigration enforcement agreement"'


@dataclass(frozen=True)
class Request:
    channel: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    change_hash: str | None = None  # LegiScan: skip the fetch when the stored hash is the same

    @property
    def shown_url(self) -> str:
        return redact_url(self.url)


@dataclass
class Parsed:
    bills: list[dict[str, Any]] = field(default_factory=list)
    follow: list[Request] = field(default_factory=list)
    page_text: str | None = None  # webpage: normalised text, for page.changed


class LegislationMonitor(Monitor):
    fields: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("timeout", "seconds to wait for connect and for each read", default=30.0, type=float),
        ConfigField("deadline", "seconds a whole response may take (default 4 x timeout)", type=float),
        ConfigField("max_bytes", "largest response accepted, in bytes", default=20_000_000, type=int),
    )

    def client(self, contact: str | None) -> HttpClient:
        # Redirects may go to other public hosts (without the source's headers), never to a private address.
        home = self.config.get("url") or self.config.get("base_url") or ""
        return HttpClient(
            contact=contact, timeout=float(self.config["timeout"]), max_bytes=self.config["max_bytes"],
            deadline=self.config["deadline"], scope=FetchScope.around(home) if home else None,
        )  # fmt: skip

    def requests(self) -> list[Request]:
        raise NotImplementedError

    def parse(self, request: Request, body: bytes) -> Parsed:
        raise NotImplementedError

    def _key(self) -> str:
        name = self.config["api_key_env"]
        if not os.environ.get(name):
            raise ConfigError(f"source {self.name!r}: environment variable {name} (the API key) is not set")
        return os.environ[name]


def _states(value: list[str], source: str) -> list[str]:
    from monitors.ice_names import STATES

    wrong = [s for s in value if s.upper() not in STATES]
    if wrong:
        raise ConfigError(f"source {source!r}: states: {wrong[0]!r} is not a USPS state code")
    return [s.upper() for s in value]


@register
class OpenStatesMonitor(LegislationMonitor):
    """Open States API v3 bill search (with actions, abstracts, sources), one search per state and query."""

    kind = "openstates"
    fields = (
        *LegislationMonitor.fields,
        ConfigField("states", "USPS codes to search", required=True, type=list),
        ConfigField(
            "queries",
            "search phrases, quoted (a bare 287(g) is read as a bill number)",
            default=DEFAULT_QUERIES,
            type=list,
        ),
        ConfigField("api_key_env", "environment variable holding the API key", default="OPENSTATES_API_KEY"),
        ConfigField("base_url", "API root", default="https://v3.openstates.org"),
    )

    def requests(self) -> list[Request]:
        headers = {"X-API-KEY": self._key()}
        found = []
        for state in _states(self.config["states"], self.name):
            for number, query in enumerate(self.config["queries"]):
                params = [("jurisdiction", state.lower()), ("q", query), ("sort", "updated_desc"), ("per_page", "20"),
                          ("include", "actions"), ("include", "abstracts"), ("include", "sources"),
                          ("include", "related_bills")]  # fmt: skip
                url = f"{self.config['base_url'].rstrip('/')}/bills?{urlencode(params)}"
                found.append(Request(f"search:{state}:{number}", url, headers))
        return found

    def parse(self, request: Request, body: bytes) -> Parsed:
        return Parsed(bills=parse_openstates(body))


@register
class LegiScanMonitor(LegislationMonitor):
    """LegiScan: getSearchRaw per state, then getBill only for bills whose change_hash moved."""

    kind = "legiscan"
    fields = (
        *LegislationMonitor.fields,
        ConfigField("states", "USPS codes to search", required=True, type=list),
        ConfigField(
            "query", "LegiScan full-text query", default='"287(g)" OR "immigration enforcement agreement"'
        ),
        ConfigField("api_key_env", "environment variable holding the API key", default="LEGISCAN_API_KEY"),
        ConfigField("base_url", "API root", default="https://api.legiscan.com/"),
    )

    def _url(self, **params: str) -> str:
        return f"{self.config['base_url']}?{urlencode({'key': self._key(), **params})}"

    def requests(self) -> list[Request]:
        return [
            Request(f"search:{state}", self._url(op="getSearchRaw", state=state, query=self.config["query"]))
            for state in _states(self.config["states"], self.name)
        ]

    def parse(self, request: Request, body: bytes) -> Parsed:
        if request.channel.startswith("search:"):
            hits = parse_legiscan_search(body)
            return Parsed(follow=[
                Request(f"bill:{hit['bill_id']}", self._url(op="getBill", id=str(hit["bill_id"])),
                        change_hash=hit.get("change_hash"))
                for hit in hits
            ])  # fmt: skip
        return Parsed(bills=[parse_legiscan_bill(body)])


@register
class BillPageMonitor(LegislationMonitor):
    """A watch-listed bill's page on a state legislature site, read with CSS selectors."""

    kind = "bill_page"
    fields = (
        *LegislationMonitor.fields,
        ConfigField("url", "the bill's page", required=True),
        ConfigField(
            "selectors", "CSS selectors: title, status, history (default: Maryland's mgaleg pages)", type=dict
        ),
        ConfigField("state", "USPS code, when the page does not say it"),
        ConfigField("session", "the session, when the page does not say it (e.g. 2026RS)"),
        ConfigField("identifier", "the bill number, when the page does not say it (e.g. HB 444)"),
    )

    def requests(self) -> list[Request]:
        return [Request("page", self.config["url"])]

    def parse(self, request: Request, body: bytes) -> Parsed:
        page = parse_bill_page(
            body, url=self.config["url"], selectors=self.config["selectors"], state=self.config["state"],
            session=self.config["session"], identifier=self.config["identifier"],
        )  # fmt: skip
        return Parsed(bills=[page])


@register
class WebPageMonitor(LegislationMonitor):
    """Any page whose text matters (executive orders, attorney-general opinions): page.changed when it changes."""

    kind = "webpage"
    fields = (
        *LegislationMonitor.fields,
        ConfigField("url", "the page", required=True),
        ConfigField("selector", "CSS selector of the part to watch (default: the whole body)"),
        ConfigField("state", "USPS code the page is about (lets subscribers filter by state)"),
    )

    def requests(self) -> list[Request]:
        return [Request("page", self.config["url"])]

    def parse(self, request: Request, body: bytes) -> Parsed:
        soup = BeautifulSoup(body, "lxml")
        hidden = {
            id(tag) for tag in soup(["script", "style", "noscript"])
        }  # skipped, not decomposed (quadratic)
        selector = self.config.get("selector")
        node = soup.select_one(selector) if selector else soup.body or soup
        if node is None or id(node) in hidden:
            raise ValueError(f"selector {selector!r} matches nothing on {redact_url(self.config['url'])}")
        return Parsed(page_text=" ".join(" ".join(text_pieces(node, hidden)).split()))
