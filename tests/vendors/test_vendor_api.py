"""A vendor lists certified products through the JSON API, with the same rules as the pages."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from backend.accounts.models import Role
from backend.catalog.models import ListingStatus, PriceTier, Product, ProductPhoto
from backend.catalog.service import change_listing_status
from backend.certification.models import Certificate
from backend.clock import utcnow, wib_today
from tests.conftest import log_in, on_both_media_stores, submit


def jpeg_with_location(width: int = 1600, height: int = 1200) -> bytes:
    """A phone photo: JPEG with the camera's make and the GPS position where it was taken."""
    image = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "Samsung"
    exif[0x0110] = "Galaxy A05"
    exif[0x8825] = {1: "S", 2: (6.0, 57.0, 16.0), 3: "E", 4: (110.0, 1.0, 56.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=85)
    return buffer.getvalue()


PROFILE = {
    "business_name": "Catering Bu Sri",
    "owner_name": "Sri Rahayu",
    "whatsapp": "0812-3456-7890",
    "address": "Jl. Raya Gringsing No. 12",
    "kecamatan": "Gringsing",
    "desa": "Krengseng",
    "latitude": -6.9581,
    "longitude": 110.0195,
    "delivery_radius_km": 15,
    "operating_days": [1, 2, 3, 4, 5, 6],
    "opens_at": "05:00",
    "closes_at": "15:00",
    "story": "Masakan rumahan sejak 2009.",
    "daily_capacity": 500,
}
NASI_BOX = {
    "name": "Nasi Box Ayam Bakar",
    "description": "Nasi, ayam bakar, lalapan, sambal, buah.",
    "category": "catering",
    "unit": "box",
    "price": "15.000",
    "tiers": [{"min_quantity": 50, "unit_price": 14000}, {"min_quantity": 200, "unit_price": 13000}],
    "min_order_qty": 10,
    "fulfilment": "made_to_order",
    "order_cutoff": "15:00",
}


@pytest.fixture
async def vendor_token(client, vendor):
    await log_in(client, vendor)
    response = await submit(client, "/settings/tokens", {"name": "Aplikasi kasir"})
    token = response.text.split('id="new-token">')[1].split("<")[0]
    return {"Authorization": f"Bearer {token}"}


async def make_token(client, user) -> dict[str, str]:
    await log_in(client, user)
    response = await submit(client, "/settings/tokens", {"name": "Aplikasi kasir"})
    return {"Authorization": "Bearer " + response.text.split('id="new-token">')[1].split("<")[0]}


async def add_halal(client, auth, number: str = "ID33110000123450523"):
    return await client.post(
        "/api/v1/vendor/certificates",
        headers=auth,
        data={
            "kind": "halal",
            "number": number,
            "issuer": "BPJPH",
            "issued_on": (wib_today(utcnow()) - timedelta(days=300)).isoformat(),
        },
        files={"document": ("halal.jpg", jpeg_with_location(800, 600), "image/jpeg")},
    )


async def test_a_vendor_fills_the_profile_with_a_local_phone_number(client, vendor_token):
    response = await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["whatsapp"] == "+6281234567890"
    assert body["operating_days"] == [1, 2, 3, 4, 5, 6]
    assert body["status"] == "active"
    assert (await client.get("/api/v1/vendor/profile", headers=vendor_token)).json()[
        "business_name"
    ] == "Catering Bu Sri"


async def test_profile_rules_refuse_a_closing_time_before_opening(client, vendor_token):
    response = await client.put("/api/v1/vendor/profile", json={**PROFILE, "closes_at": "04:00"}, headers=vendor_token)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["closes_at"]
    assert (await client.get("/api/v1/vendor/profile", headers=vendor_token)).status_code == 409


async def test_a_badly_formatted_certificate_number_is_refused_with_the_expected_format(client, vendor_token, database):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)

    response = await add_halal(client, vendor_token, number="HALAL-123")

    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "number"
    assert "ID33110000123450523" in error["message"]
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count(col(Certificate.id))))).scalar_one() == 0


@on_both_media_stores
async def test_a_good_certificate_starts_unverified_and_its_document_is_private(
    client, other_client, vendor_token, world, zone
):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)

    response = await add_halal(client, vendor_token, number="id 3311 0000 1234 50523")

    assert response.status_code == 201, response.text
    certificate = response.json()
    assert certificate["number"] == "ID33110000123450523"
    assert certificate["status"] == "unverified"
    assert certificate["badge"] == "Halal"
    document = await client.get(certificate["document_url"], headers=vendor_token)
    assert document.status_code == 200
    assert document.headers["content-type"] == "image/webp"
    assert document.headers["content-security-policy"] == "sandbox"

    rival = await world.user(Role.VENDOR, zone=zone)
    rival_auth = await make_token(other_client, rival)
    await other_client.put("/api/v1/vendor/profile", json={**PROFILE, "whatsapp": "0813-0000-1111"}, headers=rival_auth)
    assert (await other_client.get(certificate["document_url"], headers=rival_auth)).status_code == 404
    assert (
        await other_client.get(f"/api/v1/vendor/certificates/{certificate['id']}", headers=rival_auth)
    ).status_code == 404


async def test_an_expired_or_undated_bpom_certificate_is_refused(client, vendor_token):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    files = {"document": ("bpom.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")}

    undated = await client.post(
        "/api/v1/vendor/certificates",
        headers=vendor_token,
        files=files,
        data={"kind": "bpom", "number": "MD 224510001234", "issuer": "BPOM RI"},
    )
    expired = await client.post(
        "/api/v1/vendor/certificates",
        headers=vendor_token,
        files=files,
        data={
            "kind": "bpom",
            "number": "MD 224510001234",
            "issuer": "BPOM RI",
            "expires_on": (wib_today(utcnow()) - timedelta(days=2)).isoformat(),
        },
    )
    good = await client.post(
        "/api/v1/vendor/certificates",
        headers=vendor_token,
        files=files,
        data={
            "kind": "bpom",
            "number": "BPOM RI MD 224510001234",
            "issuer": "BPOM RI",
            "expires_on": (wib_today(utcnow()) + timedelta(days=700)).isoformat(),
        },
    )

    assert [e["field"] for e in undated.json()["errors"]] == ["expires_on"]
    assert [e["field"] for e in expired.json()["errors"]] == ["expires_on"]
    assert good.status_code == 201
    assert good.json()["number"] == "MD 224510001234"


async def test_a_product_with_bulk_tiers_is_created_as_a_draft_and_prices_are_whole_rupiah(
    client, vendor_token, database
):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    halal = (await add_halal(client, vendor_token)).json()

    response = await client.post(
        "/api/v1/vendor/products", json={**NASI_BOX, "certificate_ids": [halal["id"]]}, headers=vendor_token
    )

    assert response.status_code == 201, response.text
    product = response.json()
    assert product["status"] == "draft"
    assert product["price"] == 15000
    assert product["tiers"] == [{"min_quantity": 50, "unit_price": 14000}, {"min_quantity": 200, "unit_price": 13000}]
    assert product["stock"] is None
    assert product["certificate_ids"] == [halal["id"]]


@pytest.mark.parametrize(
    "tiers",
    [
        [{"min_quantity": 50, "unit_price": 14000}, {"min_quantity": 200, "unit_price": 14500}],
        [{"min_quantity": 200, "unit_price": 13000}, {"min_quantity": 50, "unit_price": 14000}],
        [{"min_quantity": 50, "unit_price": 16000}],
        [{"min_quantity": 50, "unit_price": 14000}, {"min_quantity": 50, "unit_price": 13000}],
    ],
)
async def test_tiers_that_do_not_descend_are_refused_and_nothing_is_saved(client, vendor_token, database, tiers):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)

    response = await client.post("/api/v1/vendor/products", json={**NASI_BOX, "tiers": tiers}, headers=vendor_token)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["tiers"]
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count(col(Product.id))))).scalar_one() == 0
        assert (await session.execute(select(func.count(col(PriceTier.id))))).scalar_one() == 0


async def test_ready_goods_need_a_stock_count(client, vendor_token):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    keripik = {
        **NASI_BOX,
        "name": "Keripik Tempe 250 g",
        "category": "snacks",
        "unit": "pack",
        "fulfilment": "ready_stock",
        "tiers": [],
        "order_cutoff": None,
    }

    refused = await client.post("/api/v1/vendor/products", json=keripik, headers=vendor_token)
    accepted = await client.post("/api/v1/vendor/products", json={**keripik, "stock": 120}, headers=vendor_token)

    assert [error["field"] for error in refused.json()["errors"]] == ["stock"]
    assert accepted.json()["stock"] == 120


@on_both_media_stores
async def test_a_phone_photo_is_stored_as_webp_without_its_location(client, vendor_token, settings):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    product = (await client.post("/api/v1/vendor/products", json=NASI_BOX, headers=vendor_token)).json()

    response = await client.post(
        f"/api/v1/vendor/products/{product['id']}/photos",
        headers=vendor_token,
        files={"photo": ("IMG_20261123.jpg", jpeg_with_location(), "image/jpeg")},
    )

    assert response.status_code == 201, response.text
    photo = response.json()["photos"][0]
    assert photo["width"] == 960
    served = await client.get(photo["detail_url"])
    assert served.headers["content-type"] == "image/webp"
    assert "immutable" in served.headers["cache-control"]
    stored = Image.open(io.BytesIO(served.content))
    assert stored.format == "WEBP"
    assert not stored.getexif()
    assert "exif" not in stored.info
    thumbnail = Image.open(io.BytesIO((await client.get(photo["thumbnail_url"])).content))
    assert thumbnail.width == 320


async def test_a_text_file_renamed_jpg_is_refused(client, vendor_token, database):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    product = (await client.post("/api/v1/vendor/products", json=NASI_BOX, headers=vendor_token)).json()

    response = await client.post(
        f"/api/v1/vendor/products/{product['id']}/photos",
        headers=vendor_token,
        files={"photo": ("menu.jpg", b"Nasi box 15rb, pesan via WA", "image/jpeg")},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "photo"
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count(col(ProductPhoto.id))))).scalar_one() == 0


async def test_submitting_for_review_needs_a_photo_then_goes_pending(client, vendor_token):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    product = (await client.post("/api/v1/vendor/products", json=NASI_BOX, headers=vendor_token)).json()

    refused = await client.post(f"/api/v1/vendor/products/{product['id']}/submit", headers=vendor_token)
    await client.post(
        f"/api/v1/vendor/products/{product['id']}/photos",
        headers=vendor_token,
        files={"photo": ("nasi.jpg", jpeg_with_location(), "image/jpeg")},
    )
    submitted = await client.post(f"/api/v1/vendor/products/{product['id']}/submit", headers=vendor_token)

    assert refused.status_code == 422
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "pending_review"
    again = await client.post(f"/api/v1/vendor/products/{product['id']}/pause", headers=vendor_token)
    assert again.status_code == 409  # only a live listing can be paused


async def approve(database, product_id: int) -> None:
    """What a market manager's approval does to the listing (the moderation screens come separately)."""
    async with database.sessionmaker() as session:
        product = await session.get(Product, product_id)
        change_listing_status(product, ListingStatus.LIVE, now=utcnow())
        await session.commit()


async def test_renaming_a_live_listing_sends_it_back_to_review_but_a_price_change_does_not(
    client, vendor_token, database
):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    product = (await client.post("/api/v1/vendor/products", json=NASI_BOX, headers=vendor_token)).json()
    await client.post(
        f"/api/v1/vendor/products/{product['id']}/photos",
        headers=vendor_token,
        files={"photo": ("nasi.jpg", jpeg_with_location(), "image/jpeg")},
    )
    await client.post(f"/api/v1/vendor/products/{product['id']}/submit", headers=vendor_token)
    await approve(database, product["id"])
    url = f"/api/v1/vendor/products/{product['id']}"

    cheaper = await client.put(url, json={**NASI_BOX, "price": 14500}, headers=vendor_token)
    assert cheaper.json()["status"] == "live"
    assert cheaper.json()["price"] == 14500

    paused = await client.post(f"{url}/pause", headers=vendor_token)
    assert paused.json()["status"] == "paused"
    resumed = await client.post(f"{url}/resume", headers=vendor_token)
    assert resumed.json()["status"] == "live"

    renamed = await client.put(
        url, json={**NASI_BOX, "price": 14500, "name": "Nasi Box Ayam Goreng"}, headers=vendor_token
    )
    assert renamed.status_code == 200
    body = renamed.json()
    assert (body["status"], body["name"], body["price"]) == ("live", NASI_BOX["name"], 14500)
    assert body["pending_revision"]["name"] == "Nasi Box Ayam Goreng"


async def test_a_new_photo_on_a_live_listing_waits_for_review_and_can_be_withdrawn(client, vendor_token, database):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    product = (await client.post("/api/v1/vendor/products", json=NASI_BOX, headers=vendor_token)).json()
    photos_url = f"/api/v1/vendor/products/{product['id']}/photos"
    await client.post(photos_url, headers=vendor_token, files={"photo": ("a.jpg", jpeg_with_location(), "image/jpeg")})
    await client.post(f"/api/v1/vendor/products/{product['id']}/submit", headers=vendor_token)
    await approve(database, product["id"])

    response = await client.post(
        photos_url, headers=vendor_token, files={"photo": ("b.jpg", jpeg_with_location(900, 900), "image/jpeg")}
    )

    body = response.json()
    assert body["status"] == "live" and len(body["photos"]) == 1
    assert len(body["pending_revision"]["photos"]) == 2
    withdrawn = await client.delete(f"/api/v1/vendor/products/{product['id']}/revision", headers=vendor_token)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["pending_revision"] is None and len(withdrawn.json()["photos"]) == 1
    again = await client.delete(f"/api/v1/vendor/products/{product['id']}/revision", headers=vendor_token)
    assert again.status_code == 409


async def test_a_product_has_at_most_five_photos(client, vendor_token):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    product = (await client.post("/api/v1/vendor/products", json=NASI_BOX, headers=vendor_token)).json()
    photos_url = f"/api/v1/vendor/products/{product['id']}/photos"
    statuses = []
    for size in range(6):
        response = await client.post(
            photos_url,
            headers=vendor_token,
            files={"photo": ("a.jpg", jpeg_with_location(400 + size, 300), "image/jpeg")},
        )
        statuses.append(response.status_code)

    assert statuses == [201] * 5 + [422]


async def photo_positions(database, product_id: int) -> list[tuple[int, int]]:
    async with database.sessionmaker() as session:
        return [
            tuple(row)
            for row in (
                await session.execute(
                    select(col(ProductPhoto.id), col(ProductPhoto.position))
                    .where(col(ProductPhoto.product_id) == product_id)
                    .order_by(col(ProductPhoto.position))
                )
            ).all()
        ]


async def test_photos_sent_together_stop_at_five_in_places_zero_to_four(client, vendor_token, database):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    product = (await client.post("/api/v1/vendor/products", json=NASI_BOX, headers=vendor_token)).json()
    photos_url = f"/api/v1/vendor/products/{product['id']}/photos"

    answers = await asyncio.gather(
        *(
            client.post(
                photos_url,
                headers=vendor_token,
                files={"photo": ("a.jpg", jpeg_with_location(400 + n, 300), "image/jpeg")},
            )
            for n in range(7)
        )
    )

    assert sorted(answer.status_code for answer in answers) == [201] * 5 + [422] * 2
    assert [position for _, position in await photo_positions(database, product["id"])] == [0, 1, 2, 3, 4]


async def test_removing_a_photo_moves_the_later_ones_up_and_a_new_one_goes_last(client, vendor_token, database):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    product = (await client.post("/api/v1/vendor/products", json=NASI_BOX, headers=vendor_token)).json()
    photos_url = f"/api/v1/vendor/products/{product['id']}/photos"
    for size in range(3):
        await client.post(
            photos_url,
            headers=vendor_token,
            files={"photo": ("a.jpg", jpeg_with_location(400 + size, 300), "image/jpeg")},
        )
    first, second, third = [photo_id for photo_id, _ in await photo_positions(database, product["id"])]

    removed = await client.delete(f"{photos_url}/{first}", headers=vendor_token)
    added = await client.post(
        photos_url, headers=vendor_token, files={"photo": ("b.jpg", jpeg_with_location(500, 300), "image/jpeg")}
    )

    assert (removed.status_code, added.status_code) == (200, 201)
    newest = added.json()["photos"][-1]["id"]
    assert await photo_positions(database, product["id"]) == [(second, 0), (third, 1), (newest, 2)]
    assert [photo["id"] for photo in added.json()["photos"]] == [second, third, newest]


@pytest.mark.parametrize("position", [5, -1, 1])
async def test_the_database_refuses_a_photo_outside_places_zero_to_four_or_in_a_taken_place(
    world, zone, database, position
):
    shop = await world.shop(await world.user(Role.VENDOR, zone=zone), submit=False)  # one photo, at place 0
    async with database.sessionmaker() as session:
        for place in range(1, 5):
            session.add(
                ProductPhoto(
                    product_id=shop.product.id, position=place, thumb_key="t", detail_key="d", width=1, height=1
                )
            )
        await session.commit()
        session.add(
            ProductPhoto(
                product_id=shop.product.id, position=position, thumb_key="t", detail_key="d", width=1, height=1
            )
        )
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_a_second_vendor_can_neither_read_nor_change_the_first_vendors_product(
    client, other_client, vendor_token, world, zone, database
):
    await client.put("/api/v1/vendor/profile", json=PROFILE, headers=vendor_token)
    product = (await client.post("/api/v1/vendor/products", json=NASI_BOX, headers=vendor_token)).json()
    photo = (
        await client.post(
            f"/api/v1/vendor/products/{product['id']}/photos",
            headers=vendor_token,
            files={"photo": ("a.jpg", jpeg_with_location(), "image/jpeg")},
        )
    ).json()["photos"][0]
    rival = await world.user(Role.VENDOR, zone=zone)
    rival_auth = await make_token(other_client, rival)
    await other_client.put("/api/v1/vendor/profile", json={**PROFILE, "business_name": "Saingan"}, headers=rival_auth)
    url = f"/api/v1/vendor/products/{product['id']}"

    attempts = [
        await other_client.get(url, headers=rival_auth),
        await other_client.put(url, json={**NASI_BOX, "price": 1000}, headers=rival_auth),
        await other_client.post(f"{url}/submit", headers=rival_auth),
        await other_client.delete(f"{url}/photos/{photo['id']}", headers=rival_auth),
        await other_client.post(
            f"{url}/photos", headers=rival_auth, files={"photo": ("x.jpg", jpeg_with_location(), "image/jpeg")}
        ),
    ]

    assert [response.status_code for response in attempts] == [404] * 5
    assert all(response.json()["code"] == "not_found" for response in attempts)
    assert (await other_client.get("/api/v1/vendor/products", headers=rival_auth)).json() == []
    mine = (await client.get(url, headers=vendor_token)).json()
    assert mine["price"] == 15000
    assert len(mine["photos"]) == 1
    assert mine["status"] == "draft"


async def test_a_worker_cannot_use_the_vendor_api(client, worker):
    auth = await make_token(client, worker)

    assert (await client.get("/api/v1/vendor/products", headers=auth)).status_code == 403


async def test_the_regency_is_kept_in_one_spelling_and_defaults_to_the_zones(client, database, vendor):
    from backend.accounts.service import create_api_token

    async with database.sessionmaker() as session:
        raw, _ = await create_api_token(session=session, user=vendor, name="test")
        await session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    profile = {
        "business_name": "Catering Bu Sri",
        "owner_name": "Sri Rahayu",
        "whatsapp": "0812-3456-7890",
        "kecamatan": "Gringsing",
        "desa": "Krengseng",
    }
    first = await client.put("/api/v1/vendor/profile", json=profile, headers=headers)
    assert first.status_code == 200 and first.json()["regency"] == "Kabupaten Batang"
    moved = await client.put("/api/v1/vendor/profile", json={**profile, "regency": "kota  pekalongan"}, headers=headers)
    assert moved.json()["regency"] == "Kota Pekalongan"
