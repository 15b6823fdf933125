"""The installable shell: service worker at the site root (so it controls every page) and the offline page."""

from __future__ import annotations

import hashlib
from functools import cache

from litestar import Response, get
from litestar.response import Template

from web.responses import page
from web.templating import STATIC_DIR, TEMPLATE_DIR

# Files whose change must refresh what the service worker cached.
SHELL_FILES = (
    STATIC_DIR / "sw.js",
    STATIC_DIR / "css" / "app.css",
    STATIC_DIR / "js" / "app.js",
    TEMPLATE_DIR / "offline.html",
    TEMPLATE_DIR / "base.html",
)


@cache
def service_worker_source() -> str:
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in SHELL_FILES)).hexdigest()[:12]
    return (STATIC_DIR / "sw.js").read_text().replace("__VERSION__", digest)


@get("/sw.js", include_in_schema=False, cache_control=None)
async def service_worker() -> Response[str]:
    # Served from the root with no-cache so a new version is picked up on the next visit.
    return Response(service_worker_source(), media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@get("/offline", include_in_schema=False)
async def offline_page() -> Template:
    return page("offline.html")


PAGE_ROUTES = [service_worker, offline_page]
