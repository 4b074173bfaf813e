"""The `ice_287g` source kind: ICE's 287(g) program page and the two spreadsheets it links."""

from __future__ import annotations

from monitors.base import ConfigField, Monitor, register
from monitors.http import HttpClient

ICE_PAGE = "https://www.ice.gov/identify-and-arrest/287g"


@register
class Ice287gMonitor(Monitor):
    """ICE's 287(g) page: its text (page.changed) and its participating / pending lists (agreement events).

    Links are discovered on the page at every check (file names change with every update).
    """

    kind = "ice_287g"
    fields = (
        ConfigField("url", "the program page that links the spreadsheets", default=ICE_PAGE),
        ConfigField("timeout", "seconds to wait for connect and for each read", default=30.0, type=float),
        ConfigField("max_bytes", "largest response accepted, in bytes", default=50_000_000, type=int),
    )
    channels = ("page", "participating", "pending")

    @property
    def url(self) -> str:
        return str(self.config["url"])

    def client(self, contact: str | None) -> HttpClient:
        return HttpClient(
            contact=contact, timeout=float(self.config["timeout"]), max_bytes=self.config["max_bytes"]
        )
