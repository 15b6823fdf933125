"""Whole addresses of the site's own pages, for links a person sends on by WhatsApp (an invitation, a password
link): PUBLIC_BASE_URL when it is set, else the address the request came to."""

from __future__ import annotations

from typing import Any

from litestar import Request

from backend.config import Settings


def absolute_link(request: Request[Any, Any, Any], settings: Settings, path: str) -> str:
    base = settings.public_base_url or str(request.base_url)
    return base.rstrip("/") + path
