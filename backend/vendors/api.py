"""JSON API for a vendor's own shop: profile, certificates, products and photos.

Every route acts on the authenticated vendor's own data only; another vendor's ids answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Response, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest, requires_role
from backend.accounts.models import Role
from backend.catalog import service as catalog
from backend.catalog.schemas import ProductInput, ProductPublic
from backend.certification import service as certification
from backend.certification.schemas import CertificateInput, CertificatePublic
from backend.clock import utcnow
from backend.db import DbSession
from backend.media.routes import private_document_response
from backend.media.storage import MEDIA_TYPES, Storage
from backend.media.uploads import UPLOAD_BODY_LIMIT, document_from_upload, photo_from_upload
from backend.validation import form_to_input, validate_input
from backend.vendors import service as vendors
from backend.vendors.reach import Reach, vendor_reach
from backend.vendors.schemas import DeliveryRadiusInput, VendorProfileInput, VendorPublic, VendorReachPublic

MULTIPART = Body(media_type=RequestEncodingType.MULTI_PART)


@dataclass
class DocumentOperation(Operation):
    """A certificate document is answered as it is stored: a WebP image or a PDF (a handler names one type only)."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.content = {
                media_type: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, content_media_type=media_type))
                for media_type in MEDIA_TYPES.values()
            }


@dataclass
class PhotoUpload:
    photo: UploadFile


@dataclass
class CertificateUpload:
    kind: str
    number: str
    issuer: str
    issued_on: str | None = None
    expires_on: str | None = None
    document: UploadFile | None = None


async def _certificate_fields(data: CertificateUpload) -> tuple[CertificateInput, bytes | None]:
    fields = form_to_input(
        {
            "kind": data.kind,
            "number": data.number,
            "issuer": data.issuer,
            "issued_on": data.issued_on or "",
            "expires_on": data.expires_on or "",
        }
    )
    document = await data.document.read() if data.document is not None else None
    return validate_input(CertificateInput, fields), document or None


def _reach_public(reach: Reach) -> VendorReachPublic:
    return VendorReachPublic(
        radius_km=reach.radius_km,
        canteens=reach.canteens,
        gates=reach.gates,
        dormitories=reach.dormitories,
        reaches_any=reach.reaches_any,
        nearest_km=None if reach.nearest_km is None else round(reach.nearest_km, 1),
        needed_radius_km=reach.needed_km,
        summary=reach.summary(),
    )


class VendorApi(Controller):
    path = "/api/v1/vendor"
    tags = ["vendor"]
    guards = [requires_role(Role.VENDOR)]
    security = [{"BearerToken": []}]

    @get("/profile", summary="My business profile")
    async def get_profile(self, request: UserRequest, db_session: DbSession) -> VendorPublic:
        return VendorPublic.of(await vendors.require_vendor(session=db_session, user=request.user))

    @put("/profile", summary="Create or update my business profile")
    async def put_profile(
        self, request: UserRequest, data: JSONBody[VendorProfileInput], db_session: DbSession
    ) -> VendorPublic:
        return VendorPublic.of(
            await vendors.save_profile(session=db_session, user=request.user, data=data, now=utcnow())
        )

    @get("/reach", summary="Who sees my live products: the zone's canteens, gates and dormitories my radius reaches")
    async def get_reach(self, request: UserRequest, db_session: DbSession) -> VendorReachPublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        return _reach_public(await vendor_reach(session=db_session, vendor=vendor))

    @put(
        "/profile/delivery-radius",
        summary="Change only my delivery radius (e.g. to the needed_radius_km of my reach)",
    )
    async def put_delivery_radius(
        self, request: UserRequest, data: JSONBody[DeliveryRadiusInput], db_session: DbSession
    ) -> VendorReachPublic:
        vendor = await vendors.set_delivery_radius(
            session=db_session, user=request.user, radius_km=data.delivery_radius_km, now=utcnow()
        )
        return _reach_public(await vendor_reach(session=db_session, vendor=vendor))

    @post(
        "/profile/photo",
        summary="Upload my profile photo (re-encoded to WebP)",
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def put_profile_photo(
        self,
        request: UserRequest,
        data: Annotated[PhotoUpload, MULTIPART],
        db_session: DbSession,
        storage: NamedDependency[Storage],
    ) -> VendorPublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        photo = await photo_from_upload(await data.photo.read())
        return VendorPublic.of(
            await vendors.set_profile_photo(
                session=db_session, vendor=vendor, photo=photo, storage=storage, now=utcnow()
            )
        )

    @get("/certificates", summary="My certificates")
    async def list_certificates(self, request: UserRequest, db_session: DbSession) -> list[CertificatePublic]:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        return [
            CertificatePublic.of(c) for c in await certification.list_certificates(session=db_session, vendor=vendor)
        ]

    @post(
        "/certificates",
        summary="Add a certificate with its document (photo or PDF); it starts unverified",
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def add_certificate(
        self,
        request: UserRequest,
        data: Annotated[CertificateUpload, MULTIPART],
        db_session: DbSession,
        storage: NamedDependency[Storage],
    ) -> CertificatePublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        fields, raw_document = await _certificate_fields(data)
        document = await document_from_upload(raw_document) if raw_document else None
        certificate = await certification.add_certificate(
            session=db_session, vendor=vendor, data=fields, document=document, storage=storage, now=utcnow()
        )
        return CertificatePublic.of(certificate)

    @get("/certificates/{certificate_id:int}", summary="One of my certificates")
    async def get_certificate(
        self, request: UserRequest, certificate_id: FromPath[int], db_session: DbSession
    ) -> CertificatePublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        return CertificatePublic.of(
            await certification.get_certificate(session=db_session, vendor=vendor, certificate_id=certificate_id)
        )

    @put(
        "/certificates/{certificate_id:int}",
        summary="Correct a certificate; it goes back to verification",
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def update_certificate(
        self,
        request: UserRequest,
        certificate_id: FromPath[int],
        data: Annotated[CertificateUpload, MULTIPART],
        db_session: DbSession,
        storage: NamedDependency[Storage],
    ) -> CertificatePublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        fields, raw_document = await _certificate_fields(data)
        document = await document_from_upload(raw_document) if raw_document else None
        certificate = await certification.update_certificate(
            session=db_session,
            vendor=vendor,
            certificate_id=certificate_id,
            data=fields,
            document=document,
            storage=storage,
            now=utcnow(),
        )
        return CertificatePublic.of(certificate)

    @get(
        "/certificates/{certificate_id:int}/document",
        summary="The document of one of my certificates",
        media_type="application/octet-stream",
        operation_class=DocumentOperation,
    )
    async def certificate_document(
        self,
        request: UserRequest,
        certificate_id: FromPath[int],
        db_session: DbSession,
        storage: NamedDependency[Storage],
    ) -> Response[bytes]:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        certificate = await certification.get_certificate(
            session=db_session, vendor=vendor, certificate_id=certificate_id
        )
        data = await anyio.to_thread.run_sync(storage.read, certificate.document_key)
        return private_document_response(data, certificate.document_media_type)

    @get("/products", summary="My products, in every listing state")
    async def list_products(self, request: UserRequest, db_session: DbSession) -> list[ProductPublic]:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        return [view.public() for view in await catalog.list_products(session=db_session, vendor=vendor)]

    @post("/products", summary="Create a product (a draft)")
    async def create_product(
        self, request: UserRequest, data: JSONBody[ProductInput], db_session: DbSession
    ) -> ProductPublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        product = await catalog.create_product(session=db_session, vendor=vendor, data=data)
        assert product.id is not None
        return (await catalog.get_product(session=db_session, vendor=vendor, product_id=product.id)).public()

    @get("/products/{product_id:int}", summary="One of my products")
    async def get_product(
        self, request: UserRequest, product_id: FromPath[int], db_session: DbSession
    ) -> ProductPublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        return (await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)).public()

    @put(
        "/products/{product_id:int}",
        summary="Change a product (on a live or paused listing, a change of name, description, category or "
        "certificates waits for review as its pending_revision while the approved version stays on sale; price, "
        "tiers and stock apply at once)",
    )
    async def update_product(
        self, request: UserRequest, product_id: FromPath[int], data: JSONBody[ProductInput], db_session: DbSession
    ) -> ProductPublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        await catalog.update_product(session=db_session, vendor=vendor, product_id=product_id, data=data, now=utcnow())
        return (await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)).public()

    @post(
        "/products/{product_id:int}/photos",
        summary="Add a photo (JPEG/PNG/WebP; re-encoded, EXIF removed); on a listing on sale it joins the "
        "pending_revision",
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def add_photo(
        self,
        request: UserRequest,
        product_id: FromPath[int],
        data: Annotated[PhotoUpload, MULTIPART],
        db_session: DbSession,
        storage: NamedDependency[Storage],
    ) -> ProductPublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)
        photo = await photo_from_upload(await data.photo.read())
        await catalog.add_photo(
            session=db_session, vendor=vendor, product_id=product_id, photo=photo, storage=storage, now=utcnow()
        )
        return (await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)).public()

    @delete("/products/{product_id:int}/photos/{photo_id:int}", summary="Remove a photo", status_code=200)
    async def remove_photo(
        self,
        request: UserRequest,
        product_id: FromPath[int],
        photo_id: FromPath[int],
        db_session: DbSession,
        photos_of: Annotated[
            str | None,
            QueryParameter(
                description='Which photos `photo_id` was read from: "product" (`photos`) or the pending '
                "revision's id (`pending_revision.photos`). When that is no longer the set being edited (a change "
                "opened or was decided since), nothing is removed and the answer is 409. Without it, the id is "
                "taken in the set being edited now.",
            ),
        ] = None,
    ) -> ProductPublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        await catalog.remove_photo(
            session=db_session,
            vendor=vendor,
            product_id=product_id,
            photo_id=photo_id,
            now=utcnow(),
            photos_of=catalog.photo_set(photos_of) if photos_of is not None else None,
        )
        return (await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)).public()

    @delete(
        "/products/{product_id:int}/revision",
        summary="Withdraw the change waiting for review; the approved version stays on sale",
        status_code=200,
    )
    async def withdraw_revision(
        self, request: UserRequest, product_id: FromPath[int], db_session: DbSession
    ) -> ProductPublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        await catalog.withdraw_revision(session=db_session, vendor=vendor, product_id=product_id, now=utcnow())
        return (await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)).public()

    @post("/products/{product_id:int}/submit", summary="Submit a draft or rejected listing for review", status_code=200)
    async def submit(self, request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> ProductPublic:
        return await self._transition(request, db_session, product_id, catalog.submit_for_review)

    @post("/products/{product_id:int}/pause", summary="Pause a live listing", status_code=200)
    async def pause(self, request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> ProductPublic:
        return await self._transition(request, db_session, product_id, catalog.pause_listing)

    @post("/products/{product_id:int}/resume", summary="Resume a paused listing", status_code=200)
    async def resume(self, request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> ProductPublic:
        return await self._transition(request, db_session, product_id, catalog.resume_listing)

    @staticmethod
    async def _transition(
        request: UserRequest, db_session: AsyncSession, product_id: int, action: Any
    ) -> ProductPublic:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        await action(session=db_session, vendor=vendor, product_id=product_id, now=utcnow())
        return (await catalog.get_product(session=db_session, vendor=vendor, product_id=product_id)).public()


API_ROUTES: list[ControllerRouterHandler] = [VendorApi]
