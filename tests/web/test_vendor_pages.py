"""A vendor runs the shop from a phone: profile, certificates, products and photos, through the pages.

Translations may lag behind the code, so these tests look at what stays put: status codes, redirects,
typed values, data-status markers, URLs and the database.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts.models import Role
from backend.catalog.models import ListingStatus, PriceTier, Product, ProductPhoto
from backend.catalog.service import change_listing_status
from backend.certification.models import Certificate
from backend.clock import utcnow, wib_today
from backend.media.images import MAX_UPLOAD_BYTES
from backend.vendors.models import Vendor
from tests.conftest import csrf_token, log_in, on_both_media_stores, submit

HALAL_NUMBER = "ID33110000123450523"

PROFILE = {
    "business_name": "Catering Bu Sri",
    "owner_name": "Sri Rahayu",
    "whatsapp": "0812-3456-7890",
    "address": "Jl. Raya Gringsing No. 12",
    "kecamatan": "Gringsing",
    "desa": "Krengseng",
    "latitude": "-6.9581",
    "longitude": "110.0195",
    "delivery_radius_km": "15",
    "operating_days": ["1", "2", "3", "4", "5", "6"],
    "opens_at": "05:00",
    "closes_at": "15:00",
    "story": "Masakan rumahan sejak 2009.",
    "daily_capacity": "500",
}
NASI_BOX = {
    "name": "Nasi Box Ayam Bakar",
    "description": "Nasi, ayam bakar, lalapan, sambal, buah.",
    "category": "catering",
    "unit": "box",
    "price": "15.000",
    "min_order_qty": "10",
    "fulfilment": "made_to_order",
    "order_cutoff": "15:00",
    "tier_quantity_1": "50",
    "tier_price_1": "14.000",
    "tier_quantity_2": "200",
    "tier_price_2": "13000",
    "tier_quantity_3": "",
    "tier_price_3": "",
}
HTMX = {"HX-Request": "true"}


def jpeg(width: int = 1200, height: int = 900) -> bytes:
    """A photo as a phone camera sends it."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (190, 110, 50)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def post_files(client, url: str, data: dict, files: dict, **kwargs):
    """A multipart form post (a file input), with the page's CSRF token, not following redirects."""
    return await client.post(
        url, data={**data, "_csrf_token": await csrf_token(client)}, files=files, follow_redirects=False, **kwargs
    )


async def fill_profile(client, **changes):
    response = await submit(client, "/vendor/profile", {**PROFILE, **changes})
    assert response.status_code == 303, response.text
    return response


async def add_halal(client, number: str = HALAL_NUMBER, **changes):
    fields = {
        "kind": "halal",
        "number": number,
        "issuer": "BPJPH",
        "issued_on": (wib_today(utcnow()) - timedelta(days=300)).isoformat(),
        "expires_on": "",
        **changes,
    }
    return await post_files(
        client, "/vendor/certificates", fields, {"document": ("halal.jpg", jpeg(800, 600), "image/jpeg")}
    )


async def create_product(client, **changes) -> int:
    response = await submit(client, "/vendor/products/new", {**NASI_BOX, **changes})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/vendor/products/(\d+)\?notice=product_created", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


async def upload_photo(client, product_id: int, **kwargs):
    return await post_files(
        client,
        f"/vendor/products/{product_id}/photos",
        {},
        {"photo": ("IMG_20261123.jpg", jpeg(), "image/jpeg")},
        **kwargs,
    )


def error_under(html: str, field: str) -> str | None:
    """The message shown under a field, if any."""
    match = re.search(rf'<p class="error" id="e-{re.escape(field)}">([^<]*)</p>', html)
    return match.group(1) if match else None


async def count(database, column, *where) -> int:
    async with database.sessionmaker() as session:
        return (await session.execute(select(func.count(column)).where(*where))).scalar_one()


@pytest.fixture
async def shop(client, vendor):
    """The vendor, logged in, with a complete business profile."""
    await log_in(client, vendor)
    await fill_profile(client)
    return vendor


# --- profile ---------------------------------------------------------------------------------------------


async def test_a_new_vendor_is_asked_for_the_profile_then_sees_it_saved(client, vendor, database):
    await log_in(client, vendor)
    home = await client.get("/vendor")
    assert 'href="/vendor/profile"' in home.text
    assert "Catering Bu Sri" not in home.text

    form = await client.get("/vendor/profile")
    assert form.status_code == 200
    assert 'name="operating_days" value="7"' in form.text
    assert 'inputmode="tel"' in form.text and 'inputmode="decimal"' in form.text
    assert "js/location.js" in form.text

    response = await submit(client, "/vendor/profile", PROFILE)

    assert response.status_code == 303
    assert response.headers["location"] == "/vendor?notice=profile_saved"
    async with database.sessionmaker() as session:
        saved = (await session.execute(select(Vendor))).scalar_one()
    assert saved.business_name == "Catering Bu Sri"
    assert saved.whatsapp == "+6281234567890"
    assert saved.operating_days == 0b0111111  # Monday to Saturday
    assert saved.daily_capacity == 500
    assert saved.latitude == pytest.approx(-6.9581)
    shown = await client.get("/vendor/profile")
    assert 'value="Catering Bu Sri"' in shown.text
    assert 'value="-6.9581"' in shown.text and 'value="05:00"' in shown.text
    assert re.search(r'value="6"\s+checked', shown.text)
    assert not re.search(r'value="7"\s+checked', shown.text)
    assert "Catering Bu Sri" in (await client.get("/vendor")).text


async def test_a_wrong_profile_comes_back_with_the_typed_values_and_saves_nothing(client, vendor, database):
    await log_in(client, vendor)

    response = await submit(
        client, "/vendor/profile", {**PROFILE, "whatsapp": "1234-5678", "closes_at": "04:00", "operating_days": []}
    )

    assert response.status_code == 422
    assert 'value="Catering Bu Sri"' in response.text
    assert 'value="04:00"' in response.text
    assert error_under(response.text, "whatsapp")
    assert error_under(response.text, "closes_at")
    assert error_under(response.text, "operating_days")
    assert await count(database, col(Vendor.id)) == 0


@on_both_media_stores
async def test_a_profile_photo_is_stored_as_webp(client, shop, database):
    response = await post_files(client, "/vendor/profile/photo", {}, {"photo": ("me.jpg", jpeg(), "image/jpeg")})

    assert response.status_code == 303
    assert response.headers["location"] == "/vendor/profile?notice=photo_saved"
    page = await client.get("/vendor/profile")
    thumb = re.search(r'src="(/media/vendors/[^"]+\.webp)"', page.text)
    assert thumb
    assert (await client.get(thumb.group(1))).headers["content-type"] == "image/webp"

    refused = await post_files(
        client, "/vendor/profile/photo", {}, {"photo": ("menu.jpg", b"Nasi box 15rb", "image/jpeg")}
    )
    assert refused.status_code == 422
    assert error_under(refused.text, "photo")


async def test_certificates_and_products_wait_for_the_profile(client, vendor):
    await log_in(client, vendor)

    for path in ("/vendor/certificates", "/vendor/products", "/vendor/products/new"):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/vendor/profile?notice=profile_first"


async def test_other_roles_cannot_open_the_vendor_pages(client, worker):
    await log_in(client, worker)

    assert (await client.get("/vendor/profile")).status_code == 403
    assert (await client.get("/vendor/products")).status_code == 403


# --- certificates ----------------------------------------------------------------------------------------


async def test_a_badly_formatted_certificate_number_is_refused_with_the_format_and_nothing_is_saved(
    client, shop, database
):
    response = await add_halal(client, number="HALAL-123")

    assert response.status_code == 422
    message = error_under(response.text, "number")
    assert message and HALAL_NUMBER in message
    assert 'value="HALAL-123"' in response.text
    assert 'value="BPJPH"' in response.text
    assert await count(database, col(Certificate.id)) == 0


@on_both_media_stores
async def test_a_good_certificate_is_listed_as_unverified_with_its_private_document(client, shop, database):
    response = await add_halal(client, number="id 3311 0000 1234 50523")

    assert response.status_code == 303
    assert response.headers["location"] == "/vendor/certificates?notice=certificate_added"
    async with database.sessionmaker() as session:
        certificate = (await session.execute(select(Certificate))).scalar_one()
    assert certificate.number == HALAL_NUMBER
    listed = await client.get("/vendor/certificates")
    assert HALAL_NUMBER in listed.text
    assert 'data-status="unverified"' in listed.text
    document = await client.get(f"/vendor/certificates/{certificate.id}/document")
    assert document.status_code == 200
    assert document.headers["content-type"] == "image/webp"
    assert document.headers["content-security-policy"] == "sandbox"
    assert document.headers["x-content-type-options"] == "nosniff"
    assert document.headers["cache-control"] == "private, no-store"
    assert document.headers["content-disposition"] == "inline"


async def test_a_certificate_expiring_soon_is_flagged_and_can_be_corrected_without_a_new_document(
    client, shop, database
):
    soon = (wib_today(utcnow()) + timedelta(days=10)).isoformat()
    await add_halal(client, expires_on=soon)
    async with database.sessionmaker() as session:
        certificate = (await session.execute(select(Certificate))).scalar_one()

    assert 'class="warning"' in (await client.get("/vendor/certificates")).text
    assert f"/vendor/certificates/{certificate.id}" in (await client.get("/vendor")).text

    later = (wib_today(utcnow()) + timedelta(days=400)).isoformat()
    edit = await client.get(f"/vendor/certificates/{certificate.id}")
    assert f'value="{soon}"' in edit.text
    response = await post_files(
        client,
        f"/vendor/certificates/{certificate.id}",
        {"kind": "halal", "number": HALAL_NUMBER, "issuer": "BPJPH Jawa Tengah", "issued_on": "", "expires_on": later},
        {"document": ("", b"", "application/octet-stream")},
    )

    assert response.status_code == 303, response.text
    async with database.sessionmaker() as session:
        saved = await session.get(Certificate, certificate.id)
    assert saved.issuer == "BPJPH Jawa Tengah"
    assert saved.expires_on.isoformat() == later
    assert saved.document_key == certificate.document_key


# --- products ------------------------------------------------------------------------------------------------


async def test_a_product_with_bulk_tiers_is_saved_as_a_draft(client, shop, database):
    form = await client.get("/vendor/products/new")
    assert form.status_code == 200
    assert 'name="tier_quantity_3"' in form.text and 'name="tier_quantity_4"' not in form.text

    product_id = await create_product(client)

    async with database.sessionmaker() as session:
        product = await session.get(Product, product_id)
        tiers = (await session.execute(select(PriceTier).order_by(col(PriceTier.min_quantity)))).scalars().all()
    assert product.status == ListingStatus.DRAFT
    assert product.price == 15000
    assert [(tier.min_quantity, tier.unit_price) for tier in tiers] == [(50, 14000), (200, 13000)]
    edit = await client.get(f"/vendor/products/{product_id}")
    assert 'value="15.000"' in edit.text
    assert 'name="tier_quantity_3"' in edit.text  # the two tiers in use and an empty row
    listed = await client.get("/vendor/products")
    assert "Rp 15.000" in listed.text
    assert 'data-status="draft"' in listed.text


@pytest.mark.parametrize(
    "tiers",
    [
        {"tier_quantity_1": "50", "tier_price_1": "14000", "tier_quantity_2": "200", "tier_price_2": "14500"},
        {"tier_quantity_1": "200", "tier_price_1": "13000", "tier_quantity_2": "50", "tier_price_2": "14000"},
        {"tier_quantity_1": "50", "tier_price_1": "16000", "tier_quantity_2": "", "tier_price_2": ""},
    ],
)
async def test_tiers_that_do_not_descend_are_refused_near_the_rows_and_nothing_is_saved(client, shop, database, tiers):
    response = await submit(client, "/vendor/products/new", {**NASI_BOX, **tiers})

    assert response.status_code == 422
    assert error_under(response.text, "tiers")
    assert 'value="Nasi Box Ayam Bakar"' in response.text
    assert f'value="{tiers["tier_price_1"]}"' in response.text
    assert await count(database, col(Product.id)) == 0
    assert await count(database, col(PriceTier.id)) == 0


async def test_a_half_filled_tier_row_is_pointed_out_on_that_row(client, shop, database):
    response = await submit(
        client,
        "/vendor/products/new",
        {
            **NASI_BOX,
            "tier_quantity_1": "",
            "tier_price_1": "",
            "tier_quantity_2": "50",
            "tier_price_2": "",
        },
    )

    assert response.status_code == 422
    assert error_under(response.text, "tier_price_2")
    assert error_under(response.text, "tier_price_1") is None
    assert await count(database, col(Product.id)) == 0


@on_both_media_stores
async def test_a_photo_is_added_then_the_listing_is_submitted_for_review(client, shop, database):
    product_id = await create_product(client)

    refused = await submit(client, f"/vendor/products/{product_id}/submit", {})
    assert refused.status_code == 422
    assert error_under(refused.text, "photo")

    response = await upload_photo(client, product_id)
    assert response.status_code == 303
    assert response.headers["location"] == f"/vendor/products/{product_id}?notice=photo_added"
    page = await client.get(f"/vendor/products/{product_id}")
    thumbnail = re.search(r'src="(/media/products/[^"]+\.webp)"', page.text)
    assert thumbnail
    served = await client.get(thumbnail.group(1))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"

    submitted = await submit(client, f"/vendor/products/{product_id}/submit", {})

    assert submitted.status_code == 303
    async with database.sessionmaker() as session:
        assert (await session.get(Product, product_id)).status == ListingStatus.PENDING_REVIEW
    listed = await client.get("/vendor/products")
    assert 'data-status="pending_review"' in listed.text
    assert f'src="{thumbnail.group(1)}"' in listed.text


async def test_a_photo_over_the_size_limit_is_refused_with_a_message_not_an_error_page(client, shop, database):
    product_id = await create_product(client)
    too_large = b"\xff\xd8\xff" + b"0" * (MAX_UPLOAD_BYTES + 1000)

    response = await post_files(
        client, f"/vendor/products/{product_id}/photos", {}, {"photo": ("big.jpg", too_large, "image/jpeg")}
    )

    assert response.status_code == 422
    assert error_under(response.text, "photo")
    assert await count(database, col(ProductPhoto.id)) == 0


async def test_with_htmx_the_photo_list_is_swapped_in_place(client, shop, database):
    product_id = await create_product(client)

    added = await upload_photo(client, product_id, headers=HTMX)

    assert added.status_code == 200
    assert "HX-Request" in added.headers["vary"]
    assert added.text.lstrip().startswith('<section class="card" id="photos">')
    assert "<html" not in added.text
    assert 'id="product-status" hx-swap-oob="true"' in added.text
    async with database.sessionmaker() as session:
        photo = (await session.execute(select(ProductPhoto))).scalar_one()

    refused = await post_files(
        client,
        f"/vendor/products/{product_id}/photos",
        {},
        {"photo": ("menu.jpg", b"not a picture", "image/jpeg")},
        headers=HTMX,
    )
    assert refused.status_code == 200
    assert error_under(refused.text, "photo")

    removed = await submit(client, f"/vendor/products/{product_id}/photos/{photo.id}/delete", {}, headers=HTMX)
    assert removed.status_code == 200
    assert f"/photos/{photo.id}/delete" not in removed.text
    assert await count(database, col(ProductPhoto.id)) == 0

    await upload_photo(client, product_id)
    async with database.sessionmaker() as session:
        photo = (await session.execute(select(ProductPhoto))).scalar_one()
    without_htmx = await submit(client, f"/vendor/products/{product_id}/photos/{photo.id}/delete", {})
    assert without_htmx.status_code == 303
    assert without_htmx.headers["location"] == f"/vendor/products/{product_id}?notice=photo_removed"
    assert "HX-Request" in without_htmx.headers["vary"]


async def approve(database, product_id: int) -> None:
    """What a market manager's approval does (the moderation pages come separately)."""
    async with database.sessionmaker() as session:
        product = await session.get(Product, product_id)
        change_listing_status(product, ListingStatus.LIVE, now=utcnow())
        await session.commit()


async def test_a_live_listing_keeps_its_place_for_a_new_price_and_can_be_paused_and_resumed(client, shop, database):
    product_id = await create_product(client)
    await upload_photo(client, product_id)
    await submit(client, f"/vendor/products/{product_id}/submit", {})
    await approve(database, product_id)
    page = await client.get(f"/vendor/products/{product_id}")
    assert f'action="/vendor/products/{product_id}/pause"' in page.text

    cheaper = await submit(
        client, f"/vendor/products/{product_id}", {**NASI_BOX, "price": "14500", "tier_price_1": "14000"}
    )
    assert cheaper.status_code == 303
    paused = await submit(client, f"/vendor/products/{product_id}/pause", {"next": "/vendor/products"})
    assert paused.headers["location"] == "/vendor/products?notice=paused"
    async with database.sessionmaker() as session:
        product = await session.get(Product, product_id)
        assert (product.price, product.status) == (14500, ListingStatus.PAUSED)
    await submit(client, f"/vendor/products/{product_id}/resume", {})
    renamed = await submit(client, f"/vendor/products/{product_id}", {**NASI_BOX, "name": "Nasi Box Ayam Goreng"})
    assert renamed.status_code == 303
    async with database.sessionmaker() as session:
        product = await session.get(Product, product_id)
        assert (product.status, product.name) == (ListingStatus.LIVE, "Nasi Box Ayam Bakar")
    page = await client.get(f"/vendor/products/{product_id}?notice=product_saved")
    assert "Perubahan Anda menunggu pemeriksaan" in page.text
    assert 'value="Nasi Box Ayam Goreng"' in page.text


async def test_each_step_of_a_listing_shows_only_the_buttons_that_move_it_on(client, shop, database):
    """Draft: submit; waiting for review: none (the manager decides); live: pause; paused: resume. Removing a photo
    never asks first: it cannot take the listing off sale."""
    product_id = await create_product(client)
    await upload_photo(client, product_id)

    def buttons(html: str) -> list[str]:
        return re.findall(rf'action="/vendor/products/{product_id}/(submit|pause|resume)"', html)

    assert buttons((await client.get(f"/vendor/products/{product_id}")).text) == ["submit"]
    await submit(client, f"/vendor/products/{product_id}/submit", {})
    waiting = (await client.get(f"/vendor/products/{product_id}")).text
    assert buttons(waiting) == [] and "hx-confirm" not in waiting
    await approve(database, product_id)
    live = (await client.get(f"/vendor/products/{product_id}")).text
    assert buttons(live) == ["pause"] and "hx-confirm" not in live
    await submit(client, f"/vendor/products/{product_id}/pause", {})
    assert buttons((await client.get("/vendor/products")).text) == ["resume"]


async def test_a_product_can_rely_only_on_the_vendors_own_certificates(client, shop, database):
    await add_halal(client)
    async with database.sessionmaker() as session:
        certificate = (await session.execute(select(Certificate))).scalar_one()
    form = await client.get("/vendor/products/new")
    assert f'name="certificate_ids" value="{certificate.id}"' in form.text

    product_id = await create_product(client, certificate_ids=[str(certificate.id)])

    edit = await client.get(f"/vendor/products/{product_id}")
    assert re.search(rf'value="{certificate.id}"\s+checked', edit.text)
    refused = await submit(client, "/vendor/products/new", {**NASI_BOX, "certificate_ids": ["999999"]})
    assert refused.status_code == 422
    assert error_under(refused.text, "certificate_ids")


# --- ownership ----------------------------------------------------------------------------------------------


async def test_a_second_vendor_can_neither_see_nor_change_the_first_vendors_things(
    client, other_client, shop, world, zone, database
):
    product_id = await create_product(client)
    await upload_photo(client, product_id)
    await add_halal(client)
    async with database.sessionmaker() as session:
        photo = (await session.execute(select(ProductPhoto))).scalar_one()
        certificate = (await session.execute(select(Certificate))).scalar_one()
    rival = await world.user(Role.VENDOR, zone=zone)
    await log_in(other_client, rival)
    await fill_profile(other_client, business_name="Saingan", whatsapp="0813-0000-1111")
    own_product = await create_product(other_client)
    product_url = f"/vendor/products/{product_id}"
    certificate_url = f"/vendor/certificates/{certificate.id}"

    attempts = [
        await other_client.get(product_url),
        await submit(other_client, product_url, {**NASI_BOX, "price": "1000"}),
        await submit(other_client, product_url, {**NASI_BOX, "price": "0"}),
        await submit(other_client, f"{product_url}/submit", {}),
        await submit(other_client, f"{product_url}/photos/{photo.id}/delete", {}),
        await submit(other_client, f"{product_url}/photos/{photo.id}/delete", {}, headers=HTMX),
        await upload_photo(other_client, product_id),
        await other_client.get(certificate_url),
        await other_client.get(f"{certificate_url}/document"),
        await post_files(
            other_client,
            certificate_url,
            {"kind": "halal", "number": HALAL_NUMBER, "issuer": "Saya"},
            {"document": ("x.jpg", jpeg(), "image/jpeg")},
        ),
    ]

    assert [response.status_code for response in attempts] == [404] * len(attempts)
    # Their own product's id with someone else's photo changes nothing either.
    foreign_photo = await submit(other_client, f"/vendor/products/{own_product}/photos/{photo.id}/delete", {})
    assert foreign_photo.status_code == 404
    async with database.sessionmaker() as session:
        product = await session.get(Product, product_id)
        saved_certificate = await session.get(Certificate, certificate.id)
    assert (product.price, product.status) == (15000, ListingStatus.DRAFT)
    assert await count(database, col(ProductPhoto.id), col(ProductPhoto.product_id) == product_id) == 1
    assert (saved_certificate.issuer, saved_certificate.document_key) == ("BPJPH", certificate.document_key)
    assert f"/vendor/products/{product_id}" not in (await other_client.get("/vendor/products")).text


# --- home ------------------------------------------------------------------------------------------------------


async def test_the_vendor_home_sums_up_the_shop_in_at_most_five_queries(client, shop, database, count_queries):
    product_id = await create_product(client)
    await create_product(client, name="Nasi Box Rendang")
    await upload_photo(client, product_id)
    await submit(client, f"/vendor/products/{product_id}/submit", {})
    await add_halal(client)

    count_queries.statements.clear()
    home = await client.get("/vendor")

    assert home.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    assert "Catering Bu Sri" in home.text
    assert 'data-status="active"' in home.text
    assert 'data-status="pending_review"' in home.text and 'data-status="draft"' in home.text
    assert 'data-status="unverified"' in home.text  # the certificate waiting for verification
    for link in ("/vendor/profile", "/vendor/certificates", "/vendor/products", "/vendor/products/new"):
        assert f'href="{link}"' in home.text
