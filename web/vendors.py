"""The vendor's own pages: business profile, certificates, products and their photos.

Each handler parses the form, calls one service function and picks a response. Products, certificates and
photos are only ever reached through the services, which answer "not found" for another vendor's ids.
Forms work as a plain POST with a 303 redirect; htmx swaps the photo list in place when it is there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, time
from typing import Any

import anyio.to_thread
from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.accounts.models import User
from backend.catalog import service as catalog
from backend.catalog.models import MAX_PHOTOS, MAX_TIERS, Category, Fulfilment
from backend.catalog.schemas import ProductInput, ProductView
from backend.certification import service as certification
from backend.certification.models import Certificate
from backend.certification.schemas import CertificateInput
from backend.clock import utcnow, wib_today
from backend.db import DbSession, undone_if_refused
from backend.errors import N_, Conflict, FieldError, NotFound, ValidationFailed
from backend.media.images import MAX_UPLOAD_BYTES, ProcessedDocument, ProcessedPhoto
from backend.media.routes import private_document_response
from backend.media.storage import Storage
from backend.media.uploads import document_from_upload, photo_from_upload
from backend.phone import display_phone
from backend.security_headers import CAMERA, CAMERA_AND_LOCATION
from backend.validation import form_to_input
from backend.vendors import service as vendors
from backend.vendors.models import Vendor, mask_to_days
from backend.vendors.schemas import DeliveryRadiusInput, VendorProfileInput, bands_as_text
from web.forms import field_errors, form_values, read_form, safe_next
from web.responses import page, see_other, varies_with_htmx, wants_fragment
from web.roles import PROFILE_FIRST, VENDORS

TIER_ROWS_SHOWN = 3
# A form carrying one file: the file's own limit (checked with a clear message) plus room for the other fields.
UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 256 * 1024

MSG_CHOOSE_PHOTO = N_("Choose a photo to upload.")

PROFILE_FIELDS = (
    "business_name",
    "owner_name",
    "whatsapp",
    "address",
    "kecamatan",
    "desa",
    "regency",
    "latitude",
    "longitude",
    "delivery_radius_km",
    "opens_at",
    "closes_at",
    "story",
    "daily_capacity",
    "delivery_fee",
    "min_order_value",
)
CERTIFICATE_FIELDS = ("kind", "number", "issuer", "issued_on", "expires_on")
PRODUCT_FIELDS = (
    "name",
    "description",
    "category",
    "unit",
    "price",
    "min_order_qty",
    "fulfilment",
    "stock",
    "lead_time_hours",
    "order_cutoff",
)


# --- form ⇄ input helpers ---------------------------------------------------------------------------


def _text(value: object) -> str:
    """A stored value as an input shows it: blank for None, 15 rather than 15.0, 05:00 for a time."""
    if value is None:
        return ""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text[:-2] if isinstance(value, float) and text.endswith(".0") else text


def _thousands(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _messages(exc: ValidationFailed, tier_rows: list[int] | None = None) -> dict[str, str]:
    """Translated messages keyed by the form's input names.

    Pydantic names nested fields by path ("operating_days.2", "tiers.0.unit_price"); a tier's index counts
    only the rows that were filled in, so `tier_rows` maps it back to the row the vendor typed in.
    """
    messages: dict[str, str] = {}
    for path, message in field_errors(exc).items():
        head, _, rest = path.partition(".")
        name = head
        if head == "tiers" and rest and tier_rows is not None:
            index, _, part = rest.partition(".")
            if index.isdigit() and int(index) < len(tier_rows):
                row = tier_rows[int(index)]
                name = f"tier_price_{row}" if part == "unit_price" else f"tier_quantity_{row}"
        messages.setdefault(name, message)
    return messages


async def _upload_bytes(value: object) -> bytes | None:
    """The bytes of a chosen file; a file input left empty arrives as an empty string."""
    if isinstance(value, UploadFile):
        data = await value.read()
        return data or None
    return None


async def _photo(value: object) -> ProcessedPhoto:
    data = await _upload_bytes(value)
    if data is None:
        raise ValidationFailed.single("photo", MSG_CHOOSE_PHOTO)
    return await photo_from_upload(data)  # re-encoded in a worker thread


# --- business profile ----------------------------------------------------------------------------------


def _profile_form(vendor: Vendor | None, user: User) -> dict[str, Any]:
    if vendor is None:
        return {
            "owner_name": user.full_name,
            "whatsapp": display_phone(user.phone),
            "operating_days": ["1", "2", "3", "4", "5", "6"],
        }
    form: dict[str, Any] = {name: _text(getattr(vendor, name)) for name in PROFILE_FIELDS}
    form["whatsapp"] = display_phone(vendor.whatsapp)
    form["operating_days"] = [str(day) for day in mask_to_days(vendor.operating_days)]
    form["delivery_fee_bands"] = bands_as_text(vendor.delivery_fee_bands)
    return form


async def _profile_page(
    request: UserRequest,
    db_session: AsyncSession,
    *,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    vendor = await vendors.vendor_for_user(session=db_session, user=request.user)
    return page(
        "vendors/profile.html",
        status_code=status_code,
        vendor=vendor,
        form=form if form is not None else _profile_form(vendor, request.user),
        errors=errors or {},
        notice=request.query_params.get("notice"),
    )


@get("/vendor/profile", guards=VENDORS, name="vendor_profile", opt=CAMERA_AND_LOCATION)
async def profile_form(request: UserRequest, db_session: DbSession) -> Template:
    return await _profile_page(request, db_session)


@post("/vendor/profile", guards=VENDORS, opt=CAMERA_AND_LOCATION)
async def save_profile(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    values = await form_values(request, lists=("operating_days",))
    try:
        data = read_form(VendorProfileInput, values)
        async with undone_if_refused(db_session):
            await vendors.save_profile(session=db_session, user=request.user, data=data, now=utcnow())
    except ValidationFailed as exc:
        return await _profile_page(request, db_session, status_code=422, form=values, errors=_messages(exc))
    return see_other("/vendor", notice="profile_saved")


@post("/vendor/profile/radius", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def save_delivery_radius(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    """The one-tap fix of a radius that reaches nobody: the distance the warning named, back where it was shown."""
    values = await form_values(request)
    try:
        radius = read_form(DeliveryRadiusInput, values)
        async with undone_if_refused(db_session):
            await vendors.set_delivery_radius(
                session=db_session, user=request.user, radius_km=radius.delivery_radius_km, now=utcnow()
            )
    except ValidationFailed as exc:
        return await _profile_page(request, db_session, status_code=422, errors=_messages(exc))
    return see_other(safe_next(values.get("next"), "/vendor"), notice="radius_saved")


@post(
    "/vendor/profile/photo",
    guards=VENDORS,
    exception_handlers=PROFILE_FIRST,
    request_max_body_size=UPLOAD_BODY_LIMIT,
    opt=CAMERA_AND_LOCATION,
)
async def upload_profile_photo(
    request: UserRequest, db_session: DbSession, storage: NamedDependency[Storage]
) -> Template | Redirect:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    values = await form_values(request)
    try:
        photo = await _photo(values.get("photo"))
        async with undone_if_refused(db_session):
            await vendors.set_profile_photo(
                session=db_session, vendor=vendor, photo=photo, storage=storage, now=utcnow()
            )
    except ValidationFailed as exc:
        return await _profile_page(request, db_session, status_code=422, errors=_messages(exc))
    return see_other("/vendor/profile", notice="photo_saved")


# --- certificates ----------------------------------------------------------------------------------------


def _certificate_form(certificate: Certificate) -> dict[str, Any]:
    return {name: _text(getattr(certificate, name)) for name in CERTIFICATE_FIELDS}


async def _certificate_submission(values: dict[str, Any]) -> tuple[CertificateInput, ProcessedDocument | None]:
    """The typed fields and the re-encoded document, with the problems of both reported together."""
    errors: list[FieldError] = []
    data: CertificateInput | None = None
    document: ProcessedDocument | None = None
    try:
        data = read_form(CertificateInput, values)
    except ValidationFailed as exc:
        errors += exc.errors
    raw = await _upload_bytes(values.get("document"))
    if raw is not None:
        try:
            document = await document_from_upload(raw)  # checked and re-encoded in a worker thread
        except ValidationFailed as exc:
            errors += exc.errors
    if errors or data is None:
        raise ValidationFailed(errors)
    return data, document


async def _certificates_page(
    request: UserRequest,
    db_session: AsyncSession,
    today: date,
    *,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    certificates = await certification.list_certificates(session=db_session, vendor=vendor)
    return page(
        "vendors/certificates.html",
        status_code=status_code,
        certificates=[(c, certification.needs_attention(c, today)) for c in certificates],
        form=form or {},
        errors=errors or {},
        notice=request.query_params.get("notice"),
    )


@get("/vendor/certificates", guards=VENDORS, exception_handlers=PROFILE_FIRST, name="vendor_certificates", opt=CAMERA)
async def certificate_list(request: UserRequest, db_session: DbSession) -> Template:
    return await _certificates_page(request, db_session, wib_today(utcnow()))


@post(
    "/vendor/certificates",
    guards=VENDORS,
    exception_handlers=PROFILE_FIRST,
    request_max_body_size=UPLOAD_BODY_LIMIT,
    opt=CAMERA,
)
async def add_certificate(
    request: UserRequest, db_session: DbSession, storage: NamedDependency[Storage]
) -> Template | Redirect:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    now = utcnow()

    async def add(data: CertificateInput, document: ProcessedDocument | None) -> object:
        return await certification.add_certificate(
            session=db_session, vendor=vendor, data=data, document=document, storage=storage, now=now
        )

    async def refused(form: dict[str, Any], errors: dict[str, str]) -> Template:
        return await _certificates_page(request, db_session, wib_today(now), status_code=422, form=form, errors=errors)

    return await _save_certificate(request, db_session, save=add, refused=refused, notice="certificate_added")


async def _save_certificate(
    request: UserRequest,
    db_session: AsyncSession,
    *,
    save: Callable[[CertificateInput, ProcessedDocument | None], Awaitable[object]],
    refused: Callable[[dict[str, Any], dict[str, str]], Awaitable[Template]],
    notice: str,
) -> Template | Redirect:
    """A certificate added or corrected: back to the list, or the form again with what was typed (the file must be
    chosen again: a browser cannot be given one back)."""
    values = await form_values(request)
    try:
        data, document = await _certificate_submission(values)
        async with undone_if_refused(db_session):
            await save(data, document)
    except ValidationFailed as exc:
        values.pop("document", None)
        return await refused(values, _messages(exc))
    return see_other("/vendor/certificates", notice=notice)


async def _certificate_page(
    request: UserRequest,
    db_session: AsyncSession,
    certificate_id: int,
    today: date,
    *,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    certificate = await certification.get_certificate(session=db_session, vendor=vendor, certificate_id=certificate_id)
    return page(
        "vendors/certificate.html",
        status_code=status_code,
        certificate=certificate,
        attention=certification.needs_attention(certificate, today),
        form=form if form is not None else _certificate_form(certificate),
        errors=errors or {},
    )


@get("/vendor/certificates/{certificate_id:int}", guards=VENDORS, exception_handlers=PROFILE_FIRST, opt=CAMERA)
async def certificate_form(request: UserRequest, certificate_id: FromPath[int], db_session: DbSession) -> Template:
    return await _certificate_page(request, db_session, certificate_id, wib_today(utcnow()))


@post(
    "/vendor/certificates/{certificate_id:int}",
    guards=VENDORS,
    exception_handlers=PROFILE_FIRST,
    request_max_body_size=UPLOAD_BODY_LIMIT,
    opt=CAMERA,
)
async def update_certificate(
    request: UserRequest, certificate_id: FromPath[int], db_session: DbSession, storage: NamedDependency[Storage]
) -> Template | Redirect:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    # Ownership first: another vendor's id is "not found" before anything they sent is looked at.
    await certification.get_certificate(session=db_session, vendor=vendor, certificate_id=certificate_id)
    now = utcnow()

    async def update(data: CertificateInput, document: ProcessedDocument | None) -> object:
        return await certification.update_certificate(
            session=db_session,
            vendor=vendor,
            certificate_id=certificate_id,
            data=data,
            document=document,
            storage=storage,
            now=now,
        )

    async def refused(form: dict[str, Any], errors: dict[str, str]) -> Template:
        return await _certificate_page(
            request, db_session, certificate_id, wib_today(now), status_code=422, form=form, errors=errors
        )

    return await _save_certificate(request, db_session, save=update, refused=refused, notice="certificate_saved")


@get("/vendor/certificates/{certificate_id:int}/document", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def certificate_document(
    request: UserRequest, certificate_id: FromPath[int], db_session: DbSession, storage: NamedDependency[Storage]
) -> Response[bytes]:
    """The vendor's own document, never cached and never run as a page (a PDF or image, sandboxed)."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    certificate = await certification.get_certificate(session=db_session, vendor=vendor, certificate_id=certificate_id)
    try:
        data = await anyio.to_thread.run_sync(storage.read, certificate.document_key)
    except FileNotFoundError:
        raise NotFound() from None
    return private_document_response(data, certificate.document_media_type)


# --- products ----------------------------------------------------------------------------------------------


def _product_form(view: ProductView | None, vendor: Vendor) -> dict[str, Any]:
    if view is None:
        fulfilment = Fulfilment.MADE_TO_ORDER if vendor.daily_capacity else Fulfilment.READY_STOCK
        return {"fulfilment": fulfilment.value, "min_order_qty": "1", "certificate_ids": []}
    product = view.product
    form: dict[str, Any] = {name: _text(getattr(product, name)) for name in PRODUCT_FIELDS}
    form["price"] = _thousands(product.price)
    # The stock this form shows: saving applies the vendor's change to what is left by then (orders meanwhile).
    form["stock_seen"] = form["stock"]
    form["certificate_ids"] = [str(certificate_id) for certificate_id in view.certificate_ids]
    if view.revision is not None:
        # The vendor edits on top of the change waiting for review, not the approved version.
        for name in ("name", "description", "category"):
            form[name] = getattr(view.revision, name)
        form["certificate_ids"] = [str(certificate_id) for certificate_id in view.revision.certificate_ids]
    for row, tier in enumerate(view.tiers, start=1):
        form[f"tier_quantity_{row}"] = str(tier.min_quantity)
        form[f"tier_price_{row}"] = _thousands(tier.unit_price)
    return form


def _tier_row_count(form: dict[str, Any]) -> int:
    """Three rows for a new product; otherwise the rows in use plus an empty one, up to the maximum."""
    used = [row for row in range(1, MAX_TIERS + 1) if form.get(f"tier_quantity_{row}") or form.get(f"tier_price_{row}")]
    return min(MAX_TIERS, max(TIER_ROWS_SHOWN, (used[-1] + 1) if used else 0))


def _filled_tiers(values: dict[str, Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """The tier rows the vendor filled in, as the product input's tiers (blank rows are ignored), and which row
    each came from, so a tier's problem shows on its row."""
    tiers, rows = [], []
    for row in range(1, MAX_TIERS + 1):
        quantity, price = values.get(f"tier_quantity_{row}", ""), values.get(f"tier_price_{row}", "")
        if quantity or price:
            tiers.append(form_to_input({"min_quantity": quantity, "unit_price": price}))
            rows.append(row)
    return tiers, rows


async def _product_page(
    request: UserRequest,
    db_session: AsyncSession,
    product_id: int | None,
    *,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    prefill: dict[str, str] | None = None,
) -> Template:
    vendor, reach = await vendors.require_vendor_with_reach(session=db_session, user=request.user)
    view = (
        await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)
        if product_id is not None
        else None
    )
    certificates = await certification.list_certificates(session=db_session, vendor=vendor)
    form = form if form is not None else {**_product_form(view, vendor), **(prefill or {})}
    return page(
        "vendors/product.html",
        status_code=status_code,
        vendor=vendor,
        reach=reach,
        view=view,
        form=form,
        errors=errors or {},
        certificates=certificates,
        tier_rows=_tier_row_count(form),
        max_photos=MAX_PHOTOS,
        notice=notice or request.query_params.get("notice"),
    )


@get("/vendor/products", guards=VENDORS, exception_handlers=PROFILE_FIRST, name="vendor_products")
async def product_list(request: UserRequest, db_session: DbSession) -> Template:
    vendor, reach = await vendors.require_vendor_with_reach(session=db_session, user=request.user)
    products = await catalog.list_products(session=db_session, vendor=vendor)
    return page(
        "vendors/products.html",
        vendor=vendor,
        products=products,
        reach=reach,
        notice=request.query_params.get("notice"),
    )


@get("/vendor/products/new", guards=VENDORS, exception_handlers=PROFILE_FIRST, name="vendor_new_product", opt=CAMERA)
async def new_product_form(request: UserRequest, db_session: DbSession) -> Template:
    """A new product's form; a name and a category in the query (an entry of the zone's "dicari" list, a request)
    are filled in."""
    prefill = {"name": request.query_params.get("name", "").strip()[:120]}
    if request.query_params.get("category") in set(Category):
        prefill["category"] = request.query_params["category"]
    return await _product_page(
        request, db_session, None, prefill={key: value for key, value in prefill.items() if value}
    )


@post("/vendor/products/new", guards=VENDORS, exception_handlers=PROFILE_FIRST, opt=CAMERA)
async def create_product(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    return await _save_product(request, db_session, None)


@get("/vendor/products/{product_id:int}", guards=VENDORS, exception_handlers=PROFILE_FIRST, opt=CAMERA)
async def product_form(request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> Template:
    return await _product_page(request, db_session, product_id)


@post("/vendor/products/{product_id:int}", guards=VENDORS, exception_handlers=PROFILE_FIRST, opt=CAMERA)
async def update_product(request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await _save_product(request, db_session, product_id)


async def _save_product(request: UserRequest, db_session: AsyncSession, product_id: int | None) -> Template | Redirect:
    """A new product (a draft), or a change to one; refused, its page again with what was typed and why."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    values = await form_values(request, lists=("certificate_ids",))
    tiers, tier_rows = _filled_tiers(values)
    try:
        data = read_form(ProductInput, {**values, "tiers": tiers})
        async with undone_if_refused(db_session):
            if product_id is None:
                saved = await catalog.create_product(session=db_session, vendor=vendor, data=data)
            else:
                saved = await catalog.update_product(
                    session=db_session, vendor=vendor, product_id=product_id, data=data, now=utcnow()
                )
    except ValidationFailed as exc:
        # An unknown or foreign id is "not found" here too: the page reloads the product through the service.
        return await _product_page(
            request, db_session, product_id, status_code=422, form=values, errors=_messages(exc, tier_rows)
        )
    return see_other(
        f"/vendor/products/{saved.id}", notice="product_created" if product_id is None else "product_saved"
    )


async def _photos_response(
    request: HTMXRequest,
    db_session: AsyncSession,
    product_id: int,
    *,
    notice: str,
    errors: dict[str, str] | None = None,
) -> Response[Any]:
    """htmx swaps just the photo list (and the status, which a photo change may alter); a browser reloads."""
    if not wants_fragment(request):
        plain = (
            await _product_page(request, db_session, product_id, status_code=422, errors=errors)
            if errors
            else see_other(f"/vendor/products/{product_id}", notice=notice)
        )
        return varies_with_htmx(plain)
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    view = await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)
    # htmx 2 swaps only 2xx answers by default, so a refused photo comes back as 200 with its message.
    return varies_with_htmx(
        page("vendors/_photos.html", view=view, errors=errors or {}, max_photos=MAX_PHOTOS, oob=True)
    )


@post(
    "/vendor/products/{product_id:int}/photos",
    guards=VENDORS,
    exception_handlers=PROFILE_FIRST,
    request_max_body_size=UPLOAD_BODY_LIMIT,
    opt=CAMERA,
)
async def add_product_photo(
    request: HTMXRequest, product_id: FromPath[int], db_session: DbSession, storage: NamedDependency[Storage]
) -> Response[Any]:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    # Ownership first, so nobody can make the server re-encode photos for another vendor's product.
    await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)
    values = await form_values(request)
    try:
        photo = await _photo(values.get("photo"))
        async with undone_if_refused(db_session):
            await catalog.add_photo(
                session=db_session, vendor=vendor, product_id=product_id, photo=photo, storage=storage, now=utcnow()
            )
    except ValidationFailed as exc:
        return await _photos_response(request, db_session, product_id, notice="", errors=_messages(exc))
    return await _photos_response(request, db_session, product_id, notice="photo_added")


@post(
    "/vendor/products/{product_id:int}/photos/{photo_id:int}/delete",
    guards=VENDORS,
    exception_handlers=PROFILE_FIRST,
    opt=CAMERA,
)
async def delete_product_photo(
    request: HTMXRequest, product_id: FromPath[int], photo_id: FromPath[int], db_session: DbSession
) -> Response[Any]:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    values = await form_values(request)
    try:
        async with undone_if_refused(db_session):
            await catalog.remove_photo(
                session=db_session,
                vendor=vendor,
                product_id=product_id,
                photo_id=photo_id,
                now=utcnow(),
                photos_of=catalog.photo_set(str(values.get("photos_of", ""))) if values.get("photos_of") else None,
            )
    except ValidationFailed as exc:
        return await _photos_response(request, db_session, product_id, notice="", errors=_messages(exc))
    except Conflict:
        # The page was read before a change opened or was decided: its photo ids name other photos now. The
        # product's page again, as it is, says so (htmx swaps no 409, so it is sent there to load it whole).
        if wants_fragment(request):
            return varies_with_htmx(
                Response(
                    content="",
                    status_code=409,
                    headers={"HX-Redirect": f"/vendor/products/{product_id}?notice=photos_changed"},
                )
            )
        return varies_with_htmx(
            await _product_page(request, db_session, product_id, status_code=409, notice="photos_changed")
        )
    return await _photos_response(request, db_session, product_id, notice="photo_removed")


ListingAction = Callable[..., Awaitable[Any]]


async def _change_listing(
    request: UserRequest, db_session: AsyncSession, product_id: int, action: ListingAction, notice: str
) -> Template | Redirect:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    values = await form_values(request)
    try:
        async with undone_if_refused(db_session):
            await action(session=db_session, vendor=vendor, product_id=product_id, now=utcnow())
    except ValidationFailed as exc:
        return await _product_page(request, db_session, product_id, status_code=422, errors=_messages(exc))
    return see_other(safe_next(values.get("next"), f"/vendor/products/{product_id}"), notice=notice)


@post("/vendor/products/{product_id:int}/submit", guards=VENDORS, exception_handlers=PROFILE_FIRST, opt=CAMERA)
async def submit_product(request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await _change_listing(request, db_session, product_id, catalog.submit_for_review, "submitted")


@post("/vendor/products/{product_id:int}/change/withdraw", guards=VENDORS, exception_handlers=PROFILE_FIRST, opt=CAMERA)
async def withdraw_change(request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> Redirect:
    """Drop the change waiting for review; one a manager decided meanwhile says so on the product's page."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    try:
        async with undone_if_refused(db_session):
            await catalog.withdraw_revision(session=db_session, vendor=vendor, product_id=product_id, now=utcnow())
    except Conflict:
        return see_other(f"/vendor/products/{product_id}", notice="change_decided")
    return see_other(f"/vendor/products/{product_id}", notice="change_withdrawn")


@post("/vendor/products/{product_id:int}/pause", guards=VENDORS, exception_handlers=PROFILE_FIRST, opt=CAMERA)
async def pause_product(request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await _change_listing(request, db_session, product_id, catalog.pause_listing, "paused")


@post("/vendor/products/{product_id:int}/resume", guards=VENDORS, exception_handlers=PROFILE_FIRST, opt=CAMERA)
async def resume_product(request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await _change_listing(request, db_session, product_id, catalog.resume_listing, "resumed")


PAGE_ROUTES = [
    profile_form,
    save_profile,
    save_delivery_radius,
    upload_profile_photo,
    certificate_list,
    add_certificate,
    certificate_form,
    update_certificate,
    certificate_document,
    product_list,
    new_product_form,
    create_product,
    product_form,
    update_product,
    add_product_photo,
    delete_product_photo,
    submit_product,
    withdraw_change,
    pause_product,
    resume_product,
]
