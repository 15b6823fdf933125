"""Pages of a short or damaged delivery: the buyer's report form (with a photo per line), the report as each side sees it
with the steps open to them, and the manager's queue of disputed reports.

Every form is a plain POST answered by a 303; a refusal shows the page again with the message and the status that
says why. The rules live in backend.orders.claims.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest, requires_login
from backend.clock import utcnow
from backend.db import DbSession, undone_if_refused
from backend.errors import N_, Conflict, DomainError, FieldError, Forbidden, ValidationFailed
from backend.media.images import MAX_UPLOAD_BYTES, ProcessedPhoto
from backend.media.routes import private_document_response
from backend.media.storage import Storage
from backend.media.uploads import photo_from_upload
from backend.orders import claims
from backend.orders.claim_models import CLAIM_KIND_LABELS, ClaimKind
from backend.orders.claims import ClaimAction, ClaimView, ReportedLine
from web.forms import FIRST_OPENED, FormState, form_values, whole_number
from web.responses import page, see_other
from web.roles import BUYERS, MANAGERS, PROFILE_FIRST, VENDORS

REFUSAL_STATUS = {ValidationFailed: 400, Forbidden: 403, Conflict: 409}
# A report may carry a photo for each of a few lines: room for three of the largest accepted.
REPORT_BODY_LIMIT = 3 * MAX_UPLOAD_BYTES + 256 * 1024
MSG_WHOLE_NUMBER = N_("Type a whole number.")
MSG_CHOOSE_STEP = N_("Choose one of the buttons of the report.")


def _refusal_status(exc: DomainError) -> int:
    return next((code for kind, code in REFUSAL_STATUS.items() if isinstance(exc, kind)), 409)


def _claim_page(
    view: ClaimView, *, post_to: str, back: str, state: FormState = FIRST_OPENED, notice: str | None = None
) -> Template:
    return page(
        "claims/claim.html",
        view=view,
        claim=view.claim,
        order=view.order,
        post_to=post_to,
        back=back,
        notice=notice,
        credit_note_number=claims.credit_note_number,
        **state.context(),
    )


def _refused(values: dict[str, Any], refused: DomainError) -> FormState:
    """The report's page again with what was typed (the photos are chosen again) and the reason."""
    typed = {name: value for name, value in values.items() if isinstance(value, str)}
    return FormState.refused(typed, refused, status_code=_refusal_status(refused))


def _line_quantities(values: dict[str, Any]) -> tuple[dict[int, int], list[FieldError]]:
    """The `quantity-<order line id>` fields as numbers; a field that is not a whole number is an error."""
    quantities: dict[int, int] = {}
    errors = []
    for name, text in values.items():
        prefix, _, line_id = name.partition("-")
        if prefix != "quantity" or not line_id.isdigit() or not isinstance(text, str):
            continue
        quantity = whole_number(text or "0")
        if quantity is None:
            errors.append(FieldError(name, MSG_WHOLE_NUMBER))
        else:
            quantities[int(line_id)] = quantity
    return quantities, errors


# --- the buyer --------------------------------------------------------------------------------------------------


async def _buyer_page(
    request: UserRequest,
    db_session: AsyncSession,
    order_id: int,
    *,
    state: FormState = FIRST_OPENED,
    notice: str | None = None,
) -> Template:
    """The report when there is one; else the form to make it (a message instead when the order is not delivered)."""
    found = await claims.claim_or_report_form(session=db_session, actor=request.user, order_id=order_id)
    if isinstance(found, claims.ReportForm):
        return page(
            "claims/report.html",
            order=found.order,
            lines=found.lines,
            can_report=found.can_report,
            claim_kinds=[(kind.value, CLAIM_KIND_LABELS[kind]) for kind in ClaimKind],
            **state.context(),
        )
    view = found
    return _claim_page(
        view,
        post_to=f"/orders/{order_id}/claim/actions",
        back=f"/orders/{order_id}",
        state=state,
        notice=notice,
    )


@get("/orders/{order_id:int}/claim", guards=BUYERS)
async def buyer_claim(request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> Template:
    return await _buyer_page(request, db_session, order_id, notice=request.query_params.get("notice"))


async def _line_photo(values: dict[str, Any], line_id: int) -> ProcessedPhoto | None:
    """The photo chosen for a line, validated and re-encoded in a worker thread; None when none was chosen."""
    chosen = values.get(f"photo-{line_id}")
    data = await chosen.read() if isinstance(chosen, UploadFile) else b""
    return await photo_from_upload(data, field=f"photo-{line_id}") if data else None


@post("/orders/{order_id:int}/claim", guards=BUYERS, request_max_body_size=REPORT_BODY_LIMIT)
async def report(
    request: UserRequest, order_id: FromPath[int], db_session: DbSession, storage: NamedDependency[Storage]
) -> Template | Redirect:
    """The buyer's report: per line a quantity (0 or empty: nothing wrong), short or damaged, a note, a photo."""
    values = await form_values(request)
    quantities, errors = _line_quantities(values)
    try:
        if errors:
            raise ValidationFailed(errors)
        lines = [
            ReportedLine(
                order_line_id=line_id,
                kind=str(values.get(f"kind-{line_id}", "")),
                quantity=quantity,
                note=str(values.get(f"note-{line_id}", "")),
                photo=await _line_photo(values, line_id) if quantity else None,
            )
            for line_id, quantity in sorted(quantities.items())
        ]
        async with undone_if_refused(db_session):
            await claims.report_delivery_problem(
                session=db_session,
                actor=request.user,
                order_id=order_id,
                lines=lines,
                storage=storage,
                now=utcnow(),
            )
    except (ValidationFailed, Conflict, Forbidden) as refused:
        return await _buyer_page(request, db_session, order_id, state=_refused(values, refused))
    return see_other(f"/orders/{order_id}/claim", notice="reported")


async def _act(
    request: UserRequest, db_session: AsyncSession, order_id: int, *, post_to: str, page_url: str, back: str
) -> Template | Redirect:
    """One step of the report as its form asked; the page again with the reason when it is refused."""
    values = await form_values(request)
    quantities, errors = _line_quantities(values)
    try:
        action = ClaimAction(values.get("action", ""))
    except ValueError:
        action = None
        errors.append(FieldError("action", MSG_CHOOSE_STEP))
    try:
        if errors or action is None:
            raise ValidationFailed(errors)
        async with undone_if_refused(db_session):
            await claims.act_on_claim(
                session=db_session,
                actor=request.user,
                order_id=order_id,
                action=action,
                quantities=quantities,
                reason=str(values.get("reason", "")),
                now=utcnow(),
            )
    except (ValidationFailed, Conflict, Forbidden) as refused:
        view = await claims.claim_for(session=db_session, actor=request.user, order_id=order_id)
        return _claim_page(view, post_to=post_to, back=back, state=_refused(values, refused))
    return see_other(page_url, notice=action.value)


@post("/orders/{order_id:int}/claim/actions", guards=BUYERS)
async def buyer_step(request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    """Accept the vendor's proposal, or ask the market manager with a reason."""
    return await _act(
        request,
        db_session,
        order_id,
        post_to=f"/orders/{order_id}/claim/actions",
        page_url=f"/orders/{order_id}/claim",
        back=f"/orders/{order_id}",
    )


# --- the vendor -------------------------------------------------------------------------------------------------


@get("/vendor/orders/{order_id:int}/claim", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def vendor_claim(request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> Template:
    view = await claims.claim_for(session=db_session, actor=request.user, order_id=order_id)
    return _claim_page(
        view,
        post_to=f"/vendor/orders/{order_id}/claim",
        back=f"/vendor/orders/{order_id}",
        notice=request.query_params.get("notice"),
    )


@post("/vendor/orders/{order_id:int}/claim", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def vendor_step(request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    """Accept what the buyer claimed, or propose other quantities with a reason."""
    url = f"/vendor/orders/{order_id}/claim"
    return await _act(request, db_session, order_id, post_to=url, page_url=url, back=f"/vendor/orders/{order_id}")


# --- the manager ------------------------------------------------------------------------------------------------


@get("/manager/claims", guards=MANAGERS)
async def disputed_queue(request: UserRequest, db_session: DbSession) -> Template:
    """Reports the buyer and the vendor could not agree on, the oldest first (one query with the login's)."""
    return page("claims/queue.html", items=await claims.disputed_claims(session=db_session, actor=request.user))


@get("/manager/claims/{order_id:int}", guards=MANAGERS)
async def manager_claim(request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> Template:
    view = await claims.claim_for(session=db_session, actor=request.user, order_id=order_id)
    return _claim_page(
        view, post_to=f"/manager/claims/{order_id}", back="/manager/claims", notice=request.query_params.get("notice")
    )


@post("/manager/claims/{order_id:int}", guards=MANAGERS)
async def manager_step(request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    """Set the agreed quantities of a disputed report, with a reason both sides read."""
    url = f"/manager/claims/{order_id}"
    return await _act(request, db_session, order_id, post_to=url, page_url=url, back="/manager/claims")


# --- the photo --------------------------------------------------------------------------------------------------


@get("/claims/{order_id:int}/lines/{order_line_id:int}/photo", guards=[requires_login])
async def claim_photo(
    request: UserRequest,
    order_id: FromPath[int],
    order_line_id: FromPath[int],
    db_session: DbSession,
    storage: NamedDependency[Storage],
) -> Response[bytes]:
    """The buyer's photo of a line, for the order's parties only, never cached."""
    data = await claims.claim_photo(
        session=db_session, actor=request.user, order_id=order_id, order_line_id=order_line_id, storage=storage
    )
    return private_document_response(data, "image/webp")


PAGE_ROUTES = [
    buyer_claim,
    report,
    buyer_step,
    vendor_claim,
    vendor_step,
    disputed_queue,
    manager_claim,
    manager_step,
    claim_photo,
]
