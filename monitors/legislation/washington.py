"""The `wa_legislature` source kind: the Washington State Legislature's web services
(wslwebservices.leg.wa.gov, public, no key), one `GetLegislation` request per watched bill.

The response lists the bill's versions (the original and each substitute: "HB 2402", "SHB 2402"); the one
that can be passed on the floor is `Active`. A version carries its `CurrentStatus` (the latest history line,
its date and the status code) and its `IntroducedDate`, not the whole history: each check records the status
it sees, and the bill's record keeps every status a check saw (rules.bill_rules.merged). The parser is pure.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

from monitors.base import ConfigError, ConfigField, ParseError, register
from monitors.legislation.bills import iso_date, parsed_record
from monitors.legislation.kinds import LegislationMonitor
from monitors.source import Parsed, Request

NS = "{http://WSLWebServices.leg.wa.gov/}"
_UNSAFE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)  # no entity expansion: refuse any DTD
# A version's BillId is the bill's with the version's prefix: "SHB 2402", "E2SSB 5497", "2E2SHB 1000".
_VERSION_PREFIX = re.compile(r"(?:\d?E)?(?:\d?S)?(?=[HS][A-Z]*\s*\d)")


@register
class WashingtonLegislatureMonitor(LegislationMonitor):
    """Washington State Legislature web services: `GetLegislation` for each watched bill (no API key)."""

    kind = "wa_legislature"
    fields = (
        *LegislationMonitor.fields,
        ConfigField("biennium", "the biennium as the Legislature writes it (e.g. 2025-26)", required=True),
        ConfigField("bills", "bill numbers to watch (e.g. [2402, 5497]), one request each", required=True, type=list),
        ConfigField("base_url", "API root", default="https://wslwebservices.leg.wa.gov"),
    )  # fmt: skip

    def __init__(self, config: dict[str, Any]):
        super().__init__(config)
        if not re.fullmatch(r"\d{4}-\d{2}", self.config["biennium"]):
            raise ConfigError(f"source {self.name!r}: biennium must look like 2025-26")
        numbers = self.config["bills"]
        if not numbers or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in numbers):
            raise ConfigError(
                f"source {self.name!r}: bills must be a list of bill numbers, e.g. [2402, 5497]"
            )

    def requests(self) -> list[Request]:
        root = f"{self.config['base_url'].rstrip('/')}/LegislationService.asmx/GetLegislation"
        return [
            Request(f"bill:{number}", f"{root}?{urlencode({'biennium': self.config['biennium'], 'billNumber': number})}")
            for number in self.config["bills"]
        ]  # fmt: skip

    def parse(self, request: Request, body: bytes) -> Parsed:
        return Parsed(bills=[parse_wa_legislation(body, source_url=request.url)])


def parse_wa_legislation(body: bytes, *, source_url: str | None = None) -> dict[str, Any]:
    """A GetLegislation response (`ArrayOfLegislation`) -> the bill's record, read from its active version."""
    versions = _versions(body)
    current = next((v for v in versions if _text(v, "Active") == "true"), versions[-1])
    bill_id, biennium = _text(current, "BillId"), _text(current, "Biennium")
    status = current.find(f"{NS}CurrentStatus")
    return parsed_record(
        "wa_legislature", f"GetLegislation {bill_id!r} of {biennium!r}", state="WA", session=biennium,
        identifier=_VERSION_PREFIX.sub("", bill_id, count=1),
        title=_text(current, "LongDescription") or _text(current, "ShortDescription"),
        abstract=_text(current, "LegalTitle"), actions=_actions(versions, status),
        sources=[source_url, _summary_url(current)], source_id=f"{biennium}/{_text(current, 'BillNumber')}",
        status=_text(status, "Status") if status is not None else None,
    )  # fmt: skip


def _actions(versions: list[ET.Element], status: ET.Element | None) -> list[dict[str, str | None]]:
    """Introduced on the earliest version's IntroducedDate (the substitute's is its own, later); then the
    current status's history line."""
    introduced = min(filter(None, (iso_date(_text(v, "IntroducedDate")) for v in versions)), default=None)
    actions: list[dict[str, str | None]] = (
        [{"date": introduced, "description": "Introduced"}] if introduced else []
    )
    if status is not None and _text(status, "HistoryLine"):
        actions.append(
            {"date": iso_date(_text(status, "ActionDate")), "description": _text(status, "HistoryLine")}
        )
    return actions


def _versions(body: bytes) -> list[ET.Element]:
    if _UNSAFE.search(body):
        raise ParseError("XML with a DOCTYPE or ENTITY declaration is refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ParseError(f"not XML: {exc}") from None
    if root.tag != f"{NS}ArrayOfLegislation":
        raise ParseError(f"not a GetLegislation response: root element {root.tag!r}")
    versions = root.findall(f"{NS}Legislation")
    if not versions:
        raise ParseError("GetLegislation answered no bill: check the biennium and bill number")
    return versions


def _text(element: ET.Element, name: str) -> str:
    return " ".join((element.findtext(f"{NS}{name}") or "").split())


def _summary_url(version: ET.Element) -> str | None:
    """The bill's page on app.leg.wa.gov (its Year is the biennium's first)."""
    number, year = _text(version, "BillNumber"), _text(version, "Biennium")[:4]
    return f"https://app.leg.wa.gov/billsummary?BillNumber={number}&Year={year}" if number and year else None
