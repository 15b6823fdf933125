"""The buyer's pages for a QRIS or virtual-account checkout: the QRIS code (drawn here as SVG, downloadable as
PNG or SVG, nothing from a CDN) or the virtual account, the exact amount and until when it can be paid, and how
the payment stands (htmx asks again every few seconds; without JavaScript, a link does). The orders are placed by
the gateway's callback, never by this page. In the demo (the stand-in for Xendit), a button labelled "Demo" makes
the stand-in pay and send that callback."""

from __future__ import annotations

import io
from typing import Any

import segno
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from markupsafe import Markup

from backend.accounts.auth import UserRequest
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession, keep_when_refused
from backend.errors import NotFound
from backend.i18n import gettext
from backend.payments.demo_xendit import pay_on_the_stand_in
from backend.payments.gateway import GatewayUnavailable, gateway_checkout, prepare_gateway_payment
from backend.payments.models import PaymentStatus
from backend.payments.service import MSG_CLOSED, CheckoutToPay
from web.responses import page, page_or_fragment, see_other, wants_fragment
from web.roles import BUYERS

POLL_SECONDS = 5
QR_SCALE = 6  # pixels a module in the PNG: about 300 px wide for a QRIS code


def qr_svg(qr_string: str) -> Markup:
    """The QRIS code as an inline SVG element (segno's own output: paths only, no script, no external link)."""
    svg = segno.make(qr_string, error="m", micro=False).svg_inline(
        scale=5, border=4, dark="#000", light="#fff", omitsize=True
    )
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QRIS" class="qris-code" ', 1))


def gateway_context(to_pay: CheckoutToPay, *, demo: bool) -> dict[str, Any]:
    payment = to_pay.payment
    assert payment is not None  # made with the checkout
    waiting = not to_pay.paid and bool(to_pay.waiting)
    return {
        "to_pay": to_pay,
        "checkout": to_pay.checkout,
        "payment": payment,
        "paid": to_pay.paid,
        "waiting": waiting,
        "qr": qr_svg(payment.qr_string) if waiting and payment.qr_string else None,
        # Paid after the orders were cancelled (a late payment): what they cost goes back to the buyer.
        "owed_back": to_pay.paid and bool(to_pay.closed),
        "late": to_pay.paid and len(to_pay.closed) == len(to_pay.orders),
        "poll_url": f"/checkouts/{to_pay.checkout.id}/gateway/status",
        "poll_seconds": POLL_SECONDS,
        "msg_closed": MSG_CLOSED,
        # The demo's stand-in for Xendit (`make run`): labelled "Demo", with a button that pays.
        "demo": demo,
    }


async def gateway_pay_page(
    request: UserRequest, db_session: DbSession, settings: Settings, to_pay: CheckoutToPay
) -> Template:
    """The QRIS code or virtual account of the checkout (as read by the page), made at the gateway the first time
    the page is shown; when the gateway cannot be reached, the page says so and the orders keep waiting."""
    try:
        to_pay = await prepare_gateway_payment(
            session=db_session, settings=settings, actor=request.user, to_pay=to_pay, now=utcnow()
        )
    except GatewayUnavailable as unavailable:
        keep_when_refused(request.scope)  # the gateway's reason stays on the payment for staff
        return page(
            "payments/gateway.html",
            status_code=503,
            error=gettext(unavailable.message),
            **gateway_context(to_pay, demo=settings.xendit_demo),
        )
    return page("payments/gateway.html", error=None, **gateway_context(to_pay, demo=settings.xendit_demo))


@get("/checkouts/{checkout_id:int}/gateway/status", guards=BUYERS, name="gateway_payment_status")
async def gateway_status(
    request: HTMXRequest, checkout_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template:
    """How the payment stands (three queries with the login's); htmx swaps it in every few seconds."""
    to_pay = await gateway_checkout(session=db_session, actor=request.user, checkout_id=checkout_id)
    return page_or_fragment(
        request,
        "payments/gateway.html",
        "payments/_gateway_status.html",
        error=None,
        oob_orders=wants_fragment(request),  # their statuses change with the payment
        **gateway_context(to_pay, demo=settings.xendit_demo),
    )


@post("/checkouts/{checkout_id:int}/gateway/demo-pay", guards=BUYERS)
async def demo_pay(
    request: UserRequest, checkout_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    """The demo's "pay" button (only with the stand-in for Xendit, else 404): the stand-in pays as a banking app
    would and sends its callback; back on the page, it sees the orders placed."""
    try:
        await pay_on_the_stand_in(session=db_session, settings=settings, actor=request.user, checkout_id=checkout_id)
    except GatewayUnavailable as unavailable:
        to_pay = await gateway_checkout(session=db_session, actor=request.user, checkout_id=checkout_id)
        return page(
            "payments/gateway.html",
            status_code=503,
            error=gettext(unavailable.message),
            **gateway_context(to_pay, demo=settings.xendit_demo),
        )
    return see_other(f"/checkouts/{checkout_id}/pay")


@get(["/checkouts/{checkout_id:int}/qris.png", "/checkouts/{checkout_id:int}/qris.svg"], guards=BUYERS)
async def qris_download(request: UserRequest, checkout_id: FromPath[int], db_session: DbSession) -> Response[bytes]:
    """The QRIS code to save or share (PNG or SVG), while it can still be paid."""
    kind = request.url.path.rsplit(".", 1)[-1]
    to_pay = await gateway_checkout(session=db_session, actor=request.user, checkout_id=checkout_id)
    payment = to_pay.payment
    if kind not in ("png", "svg") or payment is None or not payment.qr_string:
        raise NotFound()
    if payment.status != PaymentStatus.PENDING or not to_pay.waiting:
        raise NotFound()
    out = io.BytesIO()
    code = segno.make(payment.qr_string, error="m", micro=False)
    if kind == "png":
        code.save(out, kind="png", scale=QR_SCALE, border=4)
        media_type = "image/png"
    else:
        code.save(out, kind="svg", scale=QR_SCALE, border=4, xmldecl=True)
        media_type = "image/svg+xml"
    filename = f"qris-{payment.reference or checkout_id}.{kind}"
    return Response(
        out.getvalue(),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )


ROUTES = [gateway_status, demo_pay, qris_download]
