"""An event, and any text taken from fetched data, as inert Markdown (the Prefect UI's artifacts): agency names,
URLs and error messages stay text, a link is made only to an http(s) URL (`link_url`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from notifiers.headline import document_of
from notifiers.render import link_url
from notifiers.text import flat

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()!|~#])")
_URL_SAFE = "/:?&=%#~+,;@$'*-._"  # everything else, including ()[]<>` and spaces, is percent-encoded


def md_text(value: Any) -> str:
    """One line of inert markdown text: whitespace (newlines included) collapsed, HTML and markup escaped."""
    text = flat("" if value is None else value)  # also no control or bidi characters
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def md_link(label: str, url: Any) -> str:
    """A markdown link to a URL that may be linked (`link_url`: http(s), no user:password@) with every markup
    character percent-encoded; anything else (javascript:, data:, a missing URL) is shown as escaped text."""
    if link_url(url) is None:
        return md_text(url) if url else ""
    return f"[{md_text(label)}]({quote(url.strip(), safe=_URL_SAFE)})"


def event_line(event: Mapping[str, Any]) -> str:
    """`**agreement.added** TX: Agency (Task Force Model) · evidence · MOA`, every piece escaped."""
    details = event.get("details") or {}
    after = event.get("after") or {}
    name = event.get("agency") or details.get("identifier") or details.get("bill") or event.get("source")
    parts = [f"**{md_text(event['type'])}**"]
    where = md_text(event.get("state") or "")
    parts.append(f"{where}: {md_text(name)}" if where else md_text(name))
    if event.get("model"):
        parts.append(f"({md_text(event['model'])})")
    before = event.get("before") or {}
    if event.get("type") == "agreement.renamed" and isinstance(before, dict):
        previous = before.get("agency")
        if previous and previous != event.get("agency"):
            parts.append(f"was {md_text(previous)}")
    links = [md_link("evidence", event.get("url") or details.get("url"))]
    name, document = document_of(event)  # an agreement.moa_* event's document at ICE
    if isinstance(after, dict) and after.get("moa_url"):
        links.append(md_link("MOA", after["moa_url"]))
    elif document:
        links.append(md_link("addendum" if name == "addendum" else "MOA", document))
    links = [link for link in links if link]
    return " ".join(parts) + ("" if not links else " · " + " · ".join(links))
