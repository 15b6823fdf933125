"""The buyer's payment pages: pay a card checkout on Stripe's hosted page, the page Stripe sends the buyer back
to, and where to transfer for a bank-transfer checkout; the managers' page confirming bank transfers that arrived.

Our pages load no Stripe.js (nothing comes from a CDN): the pay button posts here, we create the checkout's Stripe
Checkout Session and send the browser there. Coming back proves nothing by itself: the return page asks Stripe
and places the orders only if Stripe says the money is there, else it waits for the webhook (htmx asks again
every few seconds; without JavaScript, a link does).
"""

from __future__ import annotations

import re

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from backend.accounts.auth import UserRequest
from backend.administration import service as administration
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession, keep_when_refused, undone_if_refused
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.i18n import gettext
from backend.orders.models import PAID_BEFORE_PLACING, THROUGH_GATEWAY, PaymentMethod
from backend.payments import transfers
from backend.payments.models import PaymentStatus
from backend.payments.service import (
    MSG_CLOSED,
    CheckoutToPay,
    PaymentUnavailable,
    checkout_to_pay,
    confirm_with_stripe,
    start_hosted_payment,
)
from backend.payments.transfer_schemas import TransferConfirmInput
from web.forms import field_errors, form_values, read_form
from web.gateway_payments import ROUTES as GATEWAY_PAGE_ROUTES
from web.gateway_payments import gateway_pay_page
from web.responses import page, page_or_fragment, see_other
from web.roles import BUYERS, MANAGERS

# Stripe's Checkout Session ids; anything else in the address is ignored rather than sent to Stripe.
SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")
POLL_SECONDS = 5


def _pay_page(to_pay: CheckoutToPay, *, demo: bool, error: str | None = None, status_code: int = 200) -> Template:
    failed = to_pay.payment is not None and to_pay.payment.status == PaymentStatus.FAILED
    return page(
        "payments/pay.html",
        status_code=status_code,
        to_pay=to_pay,
        checkout=to_pay.checkout,
        error=error,
        failure=to_pay.payment.last_error if failed and to_pay.payment else "",
        msg_closed=MSG_CLOSED,
        demo=demo,
    )


@get("/checkouts/{checkout_id:int}/pay", guards=BUYERS, name="pay_checkout")
async def pay_page(
    request: UserRequest, checkout_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    """What the checkout costs, its orders, until when it can be paid, and the button to Stripe; for a bank
    transfer, the platform's account, the exact amount and the reference (three queries)."""
    to_pay = await checkout_to_pay(
        session=db_session, actor=request.user, checkout_id=checkout_id, methods=PAID_BEFORE_PLACING
    )
    if to_pay.checkout.payment_method in THROUGH_GATEWAY:
        return await gateway_pay_page(request, db_session, settings, to_pay)
    if to_pay.checkout.payment_method == PaymentMethod.BANK_TRANSFER:
        return page(
            "payments/transfer.html",
            to_pay=to_pay,
            checkout=to_pay.checkout,
            bank=await administration.platform_bank(session=db_session, configured=settings.platform_bank),
            msg_closed=MSG_CLOSED,
        )
    if to_pay.paid:
        return see_other(f"/checkouts/{checkout_id}/return")
    return _pay_page(to_pay, demo=settings.stripe_demo)


@post("/checkouts/{checkout_id:int}/pay", guards=BUYERS)
async def pay(
    request: UserRequest, checkout_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    """Off to Stripe's payment page (the same session on every try). When Stripe cannot be reached the orders keep
    waiting, and the page says so with a button to try again."""
    base = str(request.base_url).rstrip("/")
    try:
        url = await start_hosted_payment(
            session=db_session,
            settings=settings,
            actor=request.user,
            checkout_id=checkout_id,
            return_url=f"{base}/checkouts/{checkout_id}/return?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/checkouts/{checkout_id}/pay",
            now=utcnow(),
        )
    except PaymentUnavailable as unavailable:
        keep_when_refused(request.scope)  # the payment keeps Stripe's reason for staff and the next try
        to_pay = await checkout_to_pay(session=db_session, actor=request.user, checkout_id=checkout_id)
        return _pay_page(to_pay, demo=settings.stripe_demo, error=gettext(unavailable.message), status_code=503)
    except Conflict as closed:
        # Answered 409, the request is rolled back; the page shows the checkout as it is.
        to_pay = await checkout_to_pay(session=db_session, actor=request.user, checkout_id=checkout_id)
        return _pay_page(
            to_pay, demo=settings.stripe_demo, error=gettext(closed.message, **closed.params), status_code=409
        )
    if url is None:
        return see_other(f"/checkouts/{checkout_id}/return")
    return Redirect(url, status_code=303)


@get("/checkouts/{checkout_id:int}/return", guards=BUYERS, name="payment_return")
async def payment_return(
    request: HTMXRequest, checkout_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template:
    """Back from Stripe: paid (Stripe confirmed it, by webhook or when asked now), failed, or still waiting."""
    raw_session_id = request.query_params.get("session_id", "")
    stripe_session_id = raw_session_id if SESSION_ID.fullmatch(raw_session_id) else None
    to_pay = await confirm_with_stripe(
        session=db_session,
        settings=settings,
        actor=request.user,
        checkout_id=checkout_id,
        stripe_session_id=stripe_session_id,
        now=utcnow(),
    )
    payment = to_pay.payment
    poll_url = f"/checkouts/{checkout_id}/return" + (f"?session_id={stripe_session_id}" if stripe_session_id else "")
    return page_or_fragment(
        request,
        "payments/return.html",
        "payments/_status.html",
        to_pay=to_pay,
        checkout=to_pay.checkout,
        paid=to_pay.paid,
        poll_url=poll_url,
        poll_seconds=POLL_SECONDS,
        failure=payment.last_error if payment is not None and payment.status == PaymentStatus.FAILED else "",
        waiting=not to_pay.paid and bool(to_pay.waiting),
        msg_closed=MSG_CLOSED,
    )


# --- managers: bank transfers that arrived ---------------------------------------------------------------


async def _transfers_page(
    request: UserRequest,
    db_session: DbSession,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    refund_errors: dict[int, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Template:
    awaited = await transfers.transfers_to_confirm(session=db_session, actor=request.user)
    to_send = await transfers.refunds_to_send(session=db_session, actor=request.user)
    return page(
        "payments/transfers.html",
        status_code=status_code,
        awaited=awaited,
        to_send=to_send,
        errors=errors or {},
        refund_errors=refund_errors or {},
        form=form or {},
        notice=request.query_params.get("confirmed", ""),
        owed_back=int(owed) if (owed := request.query_params.get("owed_back", "")).isdigit() else 0,
        sent_notice=request.query_params.get("sent", ""),
    )


@get("/manager/transfers", guards=MANAGERS, name="manager_transfers")
async def transfers_page(request: UserRequest, db_session: DbSession) -> Template:
    """The bank transfers awaited from the zone's buyers, by reference and amount, each with its confirmation, and
    the transfers to send back to buyers (three queries)."""
    return await _transfers_page(request, db_session)


@post("/manager/transfers/confirm", guards=MANAGERS)
async def confirm_transfer(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    """The manager saw the transfer on the bank statement: with its reference and the amount received, the
    orders are placed. A refusal comes back on the page with its message and what was typed."""
    values = await form_values(request)
    try:
        data = read_form(TransferConfirmInput, values)
        async with undone_if_refused(db_session):
            confirmation = await transfers.confirm_transfer(
                session=db_session, actor=request.user, reference=data.reference, amount=data.amount, now=utcnow()
            )
    except (ValidationFailed, NotFound, Conflict) as refused:
        status_code = 400 if isinstance(refused, ValidationFailed) else refused.status_code
        return await _transfers_page(
            request, db_session, errors=field_errors(refused), form=values, status_code=status_code
        )
    reference = confirmation.payment.reference or ""
    if confirmation.owed_back:
        return see_other("/manager/transfers", confirmed=reference, owed_back=str(confirmation.owed_back))
    return see_other("/manager/transfers", confirmed=reference)


@post("/manager/transfers/refunds/{refund_id:int}/sent", guards=MANAGERS)
async def record_refund_sent(
    request: UserRequest, refund_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    """The manager transferred the money back to the buyer: recorded with the bank's reference. A refusal comes
    back beside that refund, with what was typed."""
    values = await form_values(request)
    try:
        async with undone_if_refused(db_session):
            refund = await transfers.record_refund_sent(
                session=db_session,
                actor=request.user,
                refund_id=refund_id,
                reference=values.get("reference", ""),
                now=utcnow(),
            )
    except (ValidationFailed, NotFound, Conflict) as refused:
        status_code = 400 if isinstance(refused, ValidationFailed) else refused.status_code
        return await _transfers_page(
            request,
            db_session,
            refund_errors={refund_id: field_errors(refused)},
            form=values,
            status_code=status_code,
        )
    return see_other("/manager/transfers", sent=f"PK-{refund.order_id:06d}")


PAGE_ROUTES = [
    pay_page,
    pay,
    payment_return,
    transfers_page,
    confirm_transfer,
    record_refund_sent,
    *GATEWAY_PAGE_ROUTES,
]
