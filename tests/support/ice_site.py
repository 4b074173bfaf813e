"""Publish an ICE-like program page and real ICE spreadsheets on the loopback test server."""

from __future__ import annotations

from pathlib import Path

from tests.support.httpserver import LoopbackHTTPServer

REAL_LISTS = Path(__file__).resolve().parents[2] / "watch287g" / "demo"  # real ICE files shipped for the demo
PAGE_PATH = "/identify-and-arrest/287g"
FOLDER = "/doclib/about/offices/ero/287g/"
PAGE = """<!DOCTYPE html><html><body><header><nav><a href="/">Home</a></nav></header><main>
<h1>Delegation of Immigration Authority Section 287(g) Immigration and Nationality Act</h1>
<p>{intro}</p>
{links}
</main><footer>Last Reviewed/Updated: {updated}</footer></body></html>"""


def real_list(stem: str) -> bytes:
    """A real ICE spreadsheet by its ICE file stem, e.g. "participatingAgencies07072025pm"."""
    return next(REAL_LISTS.glob(f"*_{stem}.xlsx")).read_bytes()


def publish(
    server: LoopbackHTTPServer,
    participating: str | None,
    pending: str | None,
    *,
    intro: str = "ICE's 287(g) Program.",
    updated: str = "07/30/2025",
    bodies: dict[str, bytes] | None = None,
) -> str:
    """Route the page and its lists (by ICE stem; `bodies` overrides a file's bytes). Returns the page URL."""
    links = []
    for label, stem in (("Participating Agencies", participating), ("Pending Agencies", pending)):
        if stem is None:
            continue
        name = f"{stem}.xlsx"
        body = (bodies or {}).get(stem) or real_list(stem)
        server.route(
            FOLDER + name, body, content_type="application/vnd.ms-excel", etag=f'"{stem}-{len(body)}"'
        )
        links.append(f'<p><a href="{FOLDER}{name}">{label}</a></p>')
    page = PAGE.format(intro=intro, links="\n".join(links), updated=updated)
    return server.route(PAGE_PATH, page, etag=f'"page-{abs(hash(page))}"')
