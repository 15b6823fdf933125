"""JSON API for bank transfers to the platform: where and how a buyer transfers for a checkout, and the transfers
a manager (their zone's) or an admin confirms from the bank statement. The same services as the pages."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from backend.accounts.auth import BEARER, UserRequest
from backend.administration import service as administration
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession
from backend.errors import N_, NotFound
from backend.guards import BUYERS, MANAGERS
from backend.orders.models import PaymentMethod
from backend.payments import transfers
from backend.payments.service import checkout_to_pay
from backend.payments.transfer_schemas import (
    ConfirmationPublic,
    RefundSentInput,
    RefundSentPublic,
    RefundToSendPublic,
    TransferConfirmInput,
    TransferPublic,
    TransferToConfirmPublic,
)

MSG_NO_BANK = N_("Bank transfer is not set up.")


@get(
    "/api/v1/checkouts/{checkout_id:int}/transfer",
    guards=[BUYERS],
    tags=["payments"],
    security=BEARER,
    summary="How to pay a bank-transfer checkout: the platform's account, the exact amount, the reference",
    description="Transfer `pay_to.amount` to the account in `pay_to` with `pay_to.reference` in the transfer's "
    "description before `pay_by`; the orders are placed once a manager confirms the money arrived. 404 "
    "for another buyer's checkout or one paid otherwise.",
)
async def checkout_transfer(
    request: UserRequest, checkout_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> TransferPublic:
    to_pay = await checkout_to_pay(
        session=db_session, actor=request.user, checkout_id=checkout_id, methods=(PaymentMethod.BANK_TRANSFER,)
    )
    bank = await administration.platform_bank(session=db_session, configured=settings.platform_bank)
    if bank is None:
        raise NotFound(MSG_NO_BANK)
    return TransferPublic.of(to_pay, bank)


class TransferApi(Controller):
    path = "/api/v1/transfers"
    tags = ["payments"]
    guards = [MANAGERS]
    security = BEARER

    @get("", summary="Bank transfers awaited from my zone's buyers (every zone's for an admin), soonest due first")
    async def awaited(self, request: UserRequest, db_session: DbSession) -> list[TransferToConfirmPublic]:
        return [
            TransferToConfirmPublic.of(transfer)
            for transfer in await transfers.transfers_to_confirm(session=db_session, actor=request.user)
        ]

    @post(
        "/confirm",
        status_code=200,
        summary="Confirm that a bank transfer arrived: its orders are placed as after a card payment",
        description="`amount` must be exactly what the checkout costs (400 with the expected amount otherwise). "
        "Confirming again changes nothing (`confirmed` false). Orders cancelled before the money arrived stay "
        "cancelled and what they cost is owed back (`owed_back`, listed by GET /api/v1/transfers/refunds); 404 "
        "for a reference unknown or of another zone's buyer.",
    )
    async def confirm(
        self, request: UserRequest, data: JSONBody[TransferConfirmInput], db_session: DbSession
    ) -> ConfirmationPublic:
        confirmation = await transfers.confirm_transfer(
            session=db_session, actor=request.user, reference=data.reference, amount=data.amount, now=utcnow()
        )
        return ConfirmationPublic.of(confirmation)

    @get(
        "/refunds",
        summary="Money that came in by bank transfer and goes back to my zone's buyers (every zone's for an admin)",
        description="Orders cancelled or declined after their transfer was confirmed, and the agreed part of short "
        "or damaged deliveries: transfer each back to the account the buyer paid from (find it on the statement by "
        "`transfer_reference`), then record it. The oldest first.",
    )
    async def refunds(self, request: UserRequest, db_session: DbSession) -> list[RefundToSendPublic]:
        return [
            RefundToSendPublic.of(item)
            for item in await transfers.refunds_to_send(session=db_session, actor=request.user)
        ]

    @post(
        "/refunds/{refund_id:int}/sent",
        status_code=200,
        summary="Record that a transfer back to a buyer was sent, with its bank reference",
        description="Entered in the ledger and told to the buyer. 409 when it was already recorded; 404 for a "
        "refund unknown, of a card payment, or of another zone's buyer.",
    )
    async def refund_sent(
        self, request: UserRequest, refund_id: FromPath[int], data: JSONBody[RefundSentInput], db_session: DbSession
    ) -> RefundSentPublic:
        refund = await transfers.record_refund_sent(
            session=db_session, actor=request.user, refund_id=refund_id, reference=data.reference, now=utcnow()
        )
        return RefundSentPublic.of(refund)


API_ROUTES: list[ControllerRouterHandler] = [checkout_transfer, TransferApi]
