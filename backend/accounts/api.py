"""JSON API: the current account, zones, and personal API tokens."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from backend.accounts import service
from backend.accounts.auth import BEARER, UserRequest, requires_login
from backend.accounts.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenPublic,
    CanteenSettingsInput,
    CanteenSettingsPublic,
    FactoryLocation,
    UserPublic,
    ZonePublic,
)
from backend.clock import utcnow
from backend.db import DbSession
from backend.guards import CANTEEN_STAFF


class AccountApi(Controller):
    path = "/api/v1"
    tags = ["accounts"]
    guards = [requires_login]
    security = BEARER

    @get("/me", summary="The account the token belongs to")
    async def me(self, request: UserRequest) -> UserPublic:
        return UserPublic.of(request.user)

    @get("/tokens", summary="My API tokens")
    async def list_tokens(self, request: UserRequest, db_session: DbSession) -> list[ApiTokenPublic]:
        tokens = await service.list_api_tokens(session=db_session, user=request.user)
        return [ApiTokenPublic.of(token) for token in tokens]

    @post("/tokens", summary="Create an API token (the secret is returned once)")
    async def create_token(
        self, request: UserRequest, data: JSONBody[ApiTokenCreate], db_session: DbSession
    ) -> ApiTokenCreated:
        raw, token = await service.create_api_token(session=db_session, user=request.user, name=data.name)
        return ApiTokenCreated(**ApiTokenPublic.of(token).model_dump(), token=raw)

    @get("/tokens/{token_id:int}", summary="One of my API tokens")
    async def get_token(self, request: UserRequest, token_id: FromPath[int], db_session: DbSession) -> ApiTokenPublic:
        return ApiTokenPublic.of(await service.get_api_token(session=db_session, actor=request.user, token_id=token_id))

    @delete("/tokens/{token_id:int}", summary="Revoke one of my API tokens", status_code=200)
    async def revoke_token(
        self, request: UserRequest, token_id: FromPath[int], db_session: DbSession
    ) -> ApiTokenPublic:
        token = await service.revoke_api_token(session=db_session, actor=request.user, token_id=token_id, now=utcnow())
        return ApiTokenPublic.of(token)


class CanteenApi(Controller):
    path = "/api/v1/canteen"
    tags = ["accounts"]
    guards = [CANTEEN_STAFF]
    security = BEARER

    @put("/location", summary="Set my canteen's factory location (the catalogue measures distances from it)")
    async def put_factory_location(
        self, request: UserRequest, data: JSONBody[FactoryLocation], db_session: DbSession
    ) -> FactoryLocation:
        organisation = await service.set_factory_location(
            session=db_session, actor=request.user, latitude=data.latitude, longitude=data.longitude
        )
        return FactoryLocation(latitude=organisation.latitude, longitude=organisation.longitude)

    @get(
        "/settings",
        summary="My canteen's delivery address, receiving contact and phone, and default delivery notes",
    )
    async def get_canteen_settings(self, request: UserRequest, db_session: DbSession) -> CanteenSettingsPublic:
        return CanteenSettingsPublic.of(await service.canteen_settings(session=db_session, actor=request.user))

    @put("/settings", summary="Change my canteen's delivery settings (orders already placed keep theirs)")
    async def put_canteen_settings(
        self, request: UserRequest, data: JSONBody[CanteenSettingsInput], db_session: DbSession
    ) -> CanteenSettingsPublic:
        organisation = await service.save_canteen_settings(session=db_session, actor=request.user, **data.model_dump())
        return CanteenSettingsPublic.of(organisation)


@get("/api/v1/zones", tags=["zones"], summary="Industrial zones served by the marketplace")
async def list_zones(db_session: DbSession) -> list[ZonePublic]:
    return [ZonePublic.of(zone) for zone in await service.list_zones(session=db_session)]


API_ROUTES: list[ControllerRouterHandler] = [
    AccountApi,
    CanteenApi,
    list_zones,
]
