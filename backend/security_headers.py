"""Security headers on every answer: what a page may load and submit to, who may frame it, which of the phone's
features (camera, location) it may ask for, and HSTS in production.

Applied as a before-send hook rather than as route middleware: Litestar runs route middleware only for a path
that matched a route, and a 404, a 405 or a refused upload must carry the same headers as a page.

A route that needs one of the phone's features says so where it is declared, with
`opt=uses_browser_features("camera")`; every other page is denied them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from backend.config import Settings

BrowserFeature = Literal["camera", "geolocation"]
# The route opt holding the features a page uses (read from the matched route handler).
BROWSER_FEATURES_OPT = "browser_features"
# Stripe's hosted payment page: the pay form's answer is a redirect there, and form-action also governs the
# redirects that follow a form's submission.
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
# Features a page could ask the phone for; all denied unless the route declares it uses one of them.
POLICY_CONTROLLED_FEATURES = (
    "accelerometer",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "hid",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
HSTS = "max-age=31536000; includeSubDomains"


def uses_browser_features(*features: BrowserFeature) -> dict[str, Any]:
    """The route opt of a page that uses the phone's camera or location (allowed there, for our origin only)."""
    return {BROWSER_FEATURES_OPT: frozenset(features)}


def content_security_policy(settings: Settings) -> str:
    """Our own origin only: no inline script or style, no plugins, never framed. Forms may also lead to Stripe's
    hosted page (and, where STRIPE_API_BASE points at a stand-in, to the stand-in's). Photos may also come from the
    bucket's public address that /media/ redirects to (S3_PUBLIC_BASE_URL)."""
    form_targets = ["'self'", STRIPE_CHECKOUT_ORIGIN]
    if settings.stripe_api_base:
        parts = urlsplit(settings.stripe_api_base)
        form_targets.append(f"{parts.scheme}://{parts.netloc}")
    image_sources = ["'self'", "data:", "blob:"]
    if settings.media_storage == "s3" and settings.s3_public_base_url:
        parts = urlsplit(settings.s3_public_base_url)
        if parts.netloc:  # a path on our own address is 'self' already
            image_sources.append(f"{parts.scheme}://{parts.netloc}")
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(image_sources),
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": " ".join(form_targets),
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def permissions_policy(allowed: Iterable[str] = ()) -> str:
    allowed = frozenset(allowed)
    return ", ".join(
        f"{feature}=(self)" if feature in allowed else f"{feature}=()" for feature in POLICY_CONTROLLED_FEATURES
    )


def security_headers_hook(
    settings: Settings, *, unrestricted_prefix: str | None = None
) -> BeforeMessageSendHookHandler:
    """The before-send hook adding the headers to every answer's start.

    Paths under `unrestricted_prefix` get no Content-Security-Policy: app.py passes the OpenAPI viewers' path on a
    developer's machine only, where those viewers load their scripts from CDNs (they are not served elsewhere)."""
    policy = content_security_policy(settings)
    denied_everything = permissions_policy()
    fixed = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    if settings.environment == "production":
        fixed["Strict-Transport-Security"] = HSTS

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        # A header the answer already has is its own, stricter choice (an uploaded document's `sandbox` policy).
        for name, value in fixed.items():
            headers.setdefault(name, value)
        if unrestricted_prefix is None or not scope["path"].startswith(unrestricted_prefix):
            headers.setdefault("Content-Security-Policy", policy)
        # No route handler when no route matched (a 404): then nothing is allowed.
        route_opt: dict[str, Any] = getattr(scope.get("route_handler"), "opt", None) or {}
        features = route_opt.get(BROWSER_FEATURES_OPT)
        headers.setdefault("Permissions-Policy", permissions_policy(features) if features else denied_everything)

    return add_security_headers


# The route opts of the pages that use them: photo and document uploads open the camera (capture="environment"),
# static/js/location.js asks for the phone's position.
CAMERA = uses_browser_features("camera")
LOCATION = uses_browser_features("geolocation")
CAMERA_AND_LOCATION = uses_browser_features("camera", "geolocation")
