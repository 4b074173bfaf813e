"""Legislation source kinds: Open States, LegiScan, a state legislature's bill page, any web page.

Each kind says which documents to fetch (`requests`) and how to read one (`parse`): bill records (the
shape in docs/legislation-spec.md), follow-up requests (LegiScan: bills whose change_hash moved), or the
normalised text of a page. API keys come from the environment and travel in headers or are masked
(`redact_url`) wherever a URL is shown or stored.
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar
from urllib.parse import urlencode

from bs4 import BeautifulSoup

from monitors.base import ConfigError, ConfigField, Monitor, register
from monitors.fetch_scope import FetchScope
from monitors.html_text import text_pieces
from monitors.http import HttpClient, redact_url
from monitors.ice.names import STATES
from monitors.legislation.bills import (
    parse_bill_page,
    parse_legiscan_bill,
    parse_legiscan_search,
    parse_openstates,
    state_code,
)
from monitors.source import Parsed, Request

# A wide net: the program's name, its statute, ICE's model names, and what the agreements do. Phrases are
# quoted (a bare 287(g) is read as a bill number). The classifier is the gate: whatever these find that is
# not about 287(g)-type agreements is stored, classified not_287g, and raises no event. What each query
# finds on the real samples: docs/legislation-spec.md, "Coverage" (bench/discovery_recall.py).
DEFAULT_QUERIES = [
    '"287(g)"',
    '"1357(g)"',
    '"immigration enforcement agreement"',
    '"functions of an immigration officer"',
    '"warrant service officer"',
    '"task force model" immigration',
    '"delegation of authority" immigration',
    "deputize immigration",
    'agreement "immigration and customs enforcement"',  # titles that name ICE, not the program (FL, TX)
    'agreement "enforce federal immigration law"',  # (TX, SC)
]
DEFAULT_LEGISCAN_QUERY = " OR ".join(DEFAULT_QUERIES[:5])
# `states: all`: the 50 states and DC, searched nationwide (one request per query, not one per state: the
# free Open States tier allows 500 requests a day).
ALL = "all"
TERRITORIES = ("PR", "GU", "VI", "AS", "MP")
ALL_STATES = tuple(code for code in STATES if code not in TERRITORIES)
PER_PAGE = 20  # bills per page asked of Open States
MAX_PAGES = 50  # per search; 10 searches x 50 pages is the whole free daily quota


class LegislationMonitor(Monitor):
    family = "legislation"
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

    def _key(self) -> str:
        name = self.config["api_key_env"]
        if not os.environ.get(name):
            raise ConfigError(f"source {self.name!r}: environment variable {name} (the API key) is not set")
        return os.environ[name]


def _states(value: Any, source: str) -> list[str]:
    """USPS codes; `all` is the 50 states and DC."""
    if isinstance(value, str) and value.strip().lower() == ALL:
        return list(ALL_STATES)
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ConfigError(f"source {source!r}: states must be a list of USPS codes or {ALL!r}")
    wrong = [s for s in value if s.upper() not in STATES]
    if wrong:
        raise ConfigError(f"source {source!r}: states: {wrong[0]!r} is not a USPS state code")
    return [s.upper() for s in value]


# The states an API source searches (both APIs): USPS codes, or all of them.
STATES_FIELD = ConfigField(
    "states", f"USPS codes to search, or {ALL!r} (50 states and DC)", required=True, type=object
)


@register
class OpenStatesMonitor(LegislationMonitor):
    """Open States API v3 bill search (with actions, abstracts, sources), one search per state and query."""

    kind = "openstates"
    fields = (
        *LegislationMonitor.fields,
        STATES_FIELD,
        ConfigField(
            "queries",
            "search phrases, quoted (a bare 287(g) is read as a bill number)",
            default=DEFAULT_QUERIES,
            type=list,
        ),
        ConfigField("api_key_env", "environment variable holding the API key", default="OPENSTATES_API_KEY"),
        ConfigField("base_url", "API root", default="https://v3.openstates.org"),
        ConfigField(
            "max_pages",
            f"result pages read per search ({PER_PAGE} bills, one request each)",
            default=5,
            type=int,
        ),
    )

    def __init__(self, config: dict[str, Any]):
        super().__init__(config)
        self.states = _states(self.config["states"], self.name)  # checked when the config is loaded
        if self.config["max_pages"] > MAX_PAGES:
            raise ConfigError(
                f"source {self.name!r}: max_pages must be at most {MAX_PAGES} (each page is one request; "
                "the free Open States tier allows 500 a day)"
            )

    def requests(self) -> list[Request]:
        headers = {"X-API-KEY": self._key()}
        # Every state: one nationwide search per query (Open States takes q without a jurisdiction).
        places = [None] if set(self.states) >= set(ALL_STATES) else self.states
        found = []
        for state in places:
            for number, query in enumerate(self.config["queries"]):
                where = [("jurisdiction", state.lower())] if state else []
                params = [*where, ("q", query), ("sort", "updated_desc"), ("per_page", str(PER_PAGE)), ("include", "actions"),
                          ("include", "abstracts"), ("include", "sources"), ("include", "related_bills")]  # fmt: skip
                url = f"{self.config['base_url'].rstrip('/')}/bills?{urlencode(params)}"
                found.append(Request(f"search:{state or 'all'}:{number}", url, headers))
        return found

    def parse(self, request: Request, body: bytes) -> Parsed:
        if request.channel.startswith("search:all:"):  # nationwide: territories and the like are not watched
            bills = parse_openstates(_in_states(body, self.states))
        else:
            bills = parse_openstates(body)
        return Parsed(bills=bills, follow=self._next_page(request, body))

    def _next_page(self, request: Request, body: bytes) -> list[Request]:
        """The search's next page while the response's `pagination` says there is one, up to `max_pages`
        (a response may claim any max_page) and never after an empty page. Sorted by updated_desc, a changed
        bill moves to page 1, so an unchanged page 1 (not parsed, no follow-up) means the others are too."""
        first, _, page = request.channel.partition(":page")
        number = int(page or 1)
        data = json.loads(body)
        pagination = data.get("pagination") if isinstance(data, dict) else None
        last = pagination.get("max_page") if isinstance(pagination, dict) else None
        if (
            not isinstance(last, int)
            or number >= min(last, self.config["max_pages"])
            or not data.get("results")
        ):
            return []
        url = f"{request.url.split('&page=')[0]}&page={number + 1}"
        return [Request(f"{first}:page{number + 1}", url, request.headers)]


@register
class LegiScanMonitor(LegislationMonitor):
    """LegiScan: getSearchRaw per state, then getBill only for bills whose change_hash moved."""

    kind = "legiscan"
    fields = (
        *LegislationMonitor.fields,
        STATES_FIELD,
        ConfigField("query", "LegiScan full-text query", default=DEFAULT_LEGISCAN_QUERY),
        ConfigField("api_key_env", "environment variable holding the API key", default="LEGISCAN_API_KEY"),
        ConfigField("base_url", "API root", default="https://api.legiscan.com/"),
    )

    def _url(self, **params: str) -> str:
        return f"{self.config['base_url']}?{urlencode({'key': self._key(), **params})}"

    def __init__(self, config: dict[str, Any]):
        super().__init__(config)
        self.states = _states(self.config["states"], self.name)

    def requests(self) -> list[Request]:
        places = (
            ["ALL"] if set(self.states) >= set(ALL_STATES) else self.states
        )  # LegiScan's nationwide search
        return [
            Request(f"search:{state}", self._url(op="getSearchRaw", state=state, query=self.config["query"]))
            for state in places
        ]

    def parse(self, request: Request, body: bytes) -> Parsed:
        if request.channel.startswith("search:"):
            hits = parse_legiscan_search(body)
            return Parsed(follow=[
                Request(f"bill:{hit['bill_id']}", self._url(op="getBill", id=str(hit["bill_id"])),
                        change_hash=hit.get("change_hash"))
                for hit in hits
            ])  # fmt: skip
        if not _legiscan_watched(body, self.states):  # a nationwide search also finds Congress's bills
            return Parsed()
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


def _in_states(body: bytes, states: list[str]) -> Any:
    """A nationwide /bills page without the results of jurisdictions that are not watched (a territory's
    bill must not make the whole page unreadable); anything else as it came, for parse_openstates to judge."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return data

    def watched(bill: Any) -> bool:
        place = bill.get("jurisdiction") if isinstance(bill, dict) else None
        try:
            return isinstance(place, dict) and state_code(str(place.get("id") or place.get("name"))) in states
        except ValueError:  # the federal jurisdiction, a city...
            return False

    return {**data, "results": [bill for bill in data["results"] if watched(bill)]}


def _legiscan_watched(body: bytes, states: list[str]) -> bool:
    """Is this getBill response a bill of a watched state? Anything unreadable is left to the parser."""
    try:
        place = json.loads(body)["bill"]["state"]
    except (ValueError, KeyError, TypeError):
        return True
    try:
        return state_code(str(place)) in states
    except ValueError:  # "US" (Congress) or another jurisdiction nobody asked for
        return False
