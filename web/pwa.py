"""The installable shell: service worker at the site root (so it controls every page) and the offline page."""

from __future__ import annotations

from litestar import get
from litestar.response import File, Template

from web.forms import page
from web.templating import STATIC_DIR


@get("/sw.js", include_in_schema=False, cache_control=None)
async def service_worker() -> File:
    # Served from the root with no-cache so a new version is picked up on the next visit.
    return File(STATIC_DIR / "sw.js", media_type="text/javascript", content_disposition_type="inline",
                headers={"Cache-Control": "no-cache"})


@get("/offline", include_in_schema=False)
async def offline_page() -> Template:
    return page("offline.html")


PAGE_ROUTES = [service_worker, offline_page]
