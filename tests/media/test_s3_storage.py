"""Media in an S3-compatible bucket, against a real S3 server (moto's, on a loopback port): kept, read back and
forgotten as on the local disk; public photos at a cacheable address that pages never pay for, private documents
only through the app's access checks."""

from __future__ import annotations

import re
from collections import Counter

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts import service as accounts
from backend.catalog import service as catalog
from backend.catalog.entries import refresh_entries
from backend.catalog.models import Category, Fulfilment, ListingStatus, ProductPhoto, Unit
from backend.catalog.schemas import ProductInput
from backend.media.images import process_photo
from backend.media.s3 import PRIVATE_CACHE_CONTROL, PUBLIC_CACHE_CONTROL, S3Storage
from backend.media.storage import content_key, storage_from_settings
from backend.vendors.models import Vendor
from tests import s3_server
from tests.app_process import free_port
from tests.conftest import QueryCounter, World, jpeg_bytes, log_in, processed_document, processed_photo

PHOTO_KEY = "products/ab/ab12cd34ef56ab12cd34ef56ab12cd34.webp"
DOCUMENT_KEY = "certificates/0f/0f00aa11bb22cc33dd44ee55ff660011.pdf"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def bucket_storage(endpoint: str, public_base_url: str | None = None) -> S3Storage:
    return S3Storage(
        bucket=s3_server.create_bucket(endpoint),
        endpoint_url=endpoint,
        region=s3_server.REGION,
        access_key_id=s3_server.ACCESS_KEY_ID,
        secret_access_key=s3_server.SECRET_ACCESS_KEY,
        public_base_url=public_base_url,
    )


def test_saved_media_can_be_read_back_and_deleted(s3_endpoint):
    storage = bucket_storage(s3_endpoint)

    storage.save(PHOTO_KEY, b"photo bytes")

    assert storage.exists(PHOTO_KEY)
    assert storage.read(PHOTO_KEY) == b"photo bytes"
    storage.delete(PHOTO_KEY)
    assert not storage.exists(PHOTO_KEY)
    with pytest.raises(FileNotFoundError):
        storage.read(PHOTO_KEY)
    storage.delete(PHOTO_KEY)  # already gone: nothing to do


def test_saving_again_replaces_the_bytes(s3_endpoint):
    storage = bucket_storage(s3_endpoint)

    storage.save(PHOTO_KEY, b"first")
    storage.save(PHOTO_KEY, b"second")

    assert storage.read(PHOTO_KEY) == b"second"
    stored = storage.stat(PHOTO_KEY)
    assert stored is not None and stored.size == len(b"second")


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "products/../certificates/0f/x.pdf", "Products/A.webp", ".hidden", "products//a.webp"]
)
def test_a_key_that_is_no_plain_path_is_refused_before_the_bucket_is_asked(s3_endpoint, key):
    storage = bucket_storage(s3_endpoint)

    for call in (storage.read, storage.exists, storage.delete, lambda key: storage.save(key, b"x")):
        with pytest.raises(ValueError, match="invalid storage key"):
            call(key)


def test_photos_are_kept_cacheable_for_a_year_and_documents_private(s3_endpoint):
    storage = bucket_storage(s3_endpoint)
    storage.save(PHOTO_KEY, b"photo bytes")
    storage.save(DOCUMENT_KEY, PDF)
    bucket = s3_server.client(s3_endpoint)

    photo = bucket.head_object(Bucket=storage.bucket, Key=PHOTO_KEY)
    document = bucket.head_object(Bucket=storage.bucket, Key=DOCUMENT_KEY)

    assert (photo["ContentType"], photo["CacheControl"]) == ("image/webp", PUBLIC_CACHE_CONTROL)
    assert (document["ContentType"], document["CacheControl"]) == ("application/pdf", PRIVATE_CACHE_CONTROL)


def test_only_public_photos_have_an_address_in_the_bucket(s3_endpoint):
    public = bucket_storage(s3_endpoint, public_base_url="https://media.pasarkawasan.id/")
    without = bucket_storage(s3_endpoint)

    assert public.public_url(PHOTO_KEY) == f"https://media.pasarkawasan.id/{PHOTO_KEY}"
    assert public.public_url("vendors/12/1234.webp") == "https://media.pasarkawasan.id/vendors/12/1234.webp"
    assert public.public_url(DOCUMENT_KEY) is None
    assert public.public_url("claims/ab/ab12.webp") is None
    assert public.public_url("invoice-terms/ab/ab12.pdf") is None
    assert without.public_url(PHOTO_KEY) is None
    # Behind a reverse proxy that sends /pasar-media/ to the bucket (as docker-compose.yml does): the site's address.
    assert bucket_storage(s3_endpoint, "/pasar-media").public_url(PHOTO_KEY) == f"/pasar-media/{PHOTO_KEY}"


def test_a_server_that_cannot_be_reached_is_an_error_not_a_missing_photo():
    storage = S3Storage(
        bucket="pasar-media",
        endpoint_url="http://127.0.0.1:9",  # the discard port: nothing listens
        access_key_id=s3_server.ACCESS_KEY_ID,
        secret_access_key=s3_server.SECRET_ACCESS_KEY,
    )

    with pytest.raises(Exception) as raised:  # noqa: PT011  (botocore's connection error, not FileNotFoundError)
        storage.read(PHOTO_KEY)
    assert not isinstance(raised.value, FileNotFoundError)


# --- served by the app -------------------------------------------------------------------------------


@pytest.fixture
def s3_calls(monkeypatch) -> Counter[str]:
    """Every call the app (or anybody) makes to the bucket in this test, by method name."""
    calls: Counter[str] = Counter()
    for name in ("save", "read", "delete", "exists", "stat"):
        original = getattr(S3Storage, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(S3Storage, name, counted)
    return calls


@pytest.fixture
def public_bucket_settings(s3_settings):
    """Media in the bucket, with the bucket's own address (path style, as MinIO serves it) as the public one, and
    the bucket policy that lets anybody read the photos there."""
    s3_server.allow_public_photos(s3_settings.s3_endpoint_url, s3_settings.s3_bucket)
    return s3_settings.model_copy(
        update={"s3_public_base_url": f"{s3_settings.s3_endpoint_url}/{s3_settings.s3_bucket}"}
    )


async def product_with_photos(world: World, zone, photos: int):
    """A vendor's product on sale with `photos` different photos, kept where the world's settings say."""
    seller = await world.seller(zone, business_name="Keripik Mbak Rina")
    storage = storage_from_settings(world.settings)
    async with world.database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, seller.vendor.id)
        product = await catalog.create_product(
            session=session,
            vendor=vendor,
            data=ProductInput(
                name="Keripik Singkong",
                category=Category.SNACKS,
                unit=Unit.PACK,
                price=8000,
                fulfilment=Fulfilment.MADE_TO_ORDER,
                certificate_ids=[seller.certificate_ids["halal"]],
            ),
        )
        for number in range(photos):
            photo = process_photo(jpeg_bytes(800 + 10 * number, 600))
            await catalog.add_photo(
                session=session, vendor=vendor, product_id=product.id, photo=photo, storage=storage, now=world.now
            )
        catalog.change_listing_status(product, ListingStatus.PENDING_REVIEW, now=world.now)
        catalog.change_listing_status(product, ListingStatus.LIVE, now=world.now)
        await refresh_entries(session, product_ids=[product.id])
        await session.commit()
        return seller, product


@pytest.mark.one_database
async def test_with_a_public_address_a_photo_redirects_to_the_bucket_without_asking_it(
    app_for, public_bucket_settings, database, s3_calls
):
    app = await app_for(public_bucket_settings)
    storage = storage_from_settings(public_bucket_settings)
    data = processed_photo().detail.data
    key = content_key("products", data, "webp")
    document_key = content_key("certificates", PDF, "pdf")
    await anyio.to_thread.run_sync(storage.save, key, data)
    await anyio.to_thread.run_sync(storage.save, document_key, PDF)
    s3_calls.clear()

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        with QueryCounter(app.state.database) as queries:
            answer = await client.get(f"/media/{key}")
            head = await client.head(f"/media/{key}")
            private = await client.get(f"/media/certificates/{key.split('/', 1)[1]}")
        page = await client.get("/offline")

    assert answer.status_code == 302
    assert answer.headers["location"] == f"{public_bucket_settings.s3_public_base_url}/{key}"
    assert answer.headers["cache-control"] == "public, max-age=86400"
    assert (head.status_code, head.headers["location"]) == (302, answer.headers["location"])
    assert private.status_code == 404
    assert queries.count == 0 and sum(s3_calls.values()) == 0
    # The browser then fetches the photo from the bucket, which keeps it a year; pages may show it from there.
    # A document is not to be had there, even by somebody who learnt its key.
    async with httpx.AsyncClient() as anyone:
        photo = await anyone.get(answer.headers["location"])
        document = await anyone.get(f"{public_bucket_settings.s3_public_base_url}/{document_key}")
    assert photo.status_code == 200 and photo.content == data
    assert photo.headers["cache-control"] == PUBLIC_CACHE_CONTROL
    assert photo.headers["content-type"] == "image/webp"
    assert document.status_code == 403
    origin = public_bucket_settings.s3_endpoint_url
    assert f"img-src 'self' data: blob: {origin};" in page.headers["content-security-policy"]


@pytest.mark.one_database
@pytest.mark.parametrize("media_settings", ["s3"], indirect=True)
async def test_pages_with_many_photos_never_ask_the_bucket(client, world, zone, canteen_staff, s3_calls):
    seller, product = await product_with_photos(world, zone, photos=3)
    await log_in(client, canteen_staff)
    s3_calls.clear()

    pages = {
        url: await client.get(url) for url in ("/catalogue", f"/products/{product.id}", f"/vendors/{seller.vendor.id}")
    }

    assert all(page.status_code == 200 for page in pages.values())
    assert len(set(re.findall(r'src="(/media/products/[^"]+)"', pages[f"/products/{product.id}"].text))) == 3
    assert "/media/products/" in pages["/catalogue"].text
    assert sum(s3_calls.values()) == 0


@pytest.mark.one_database
@pytest.mark.parametrize("media_settings", ["s3"], indirect=True)
async def test_a_private_document_in_the_bucket_is_never_served_as_a_photo(client, media_settings):
    storage = storage_from_settings(media_settings)
    document = processed_document(800, 600)
    key = content_key("certificates", document.data, document.extension)
    await anyio.to_thread.run_sync(storage.save, key, document.data)

    for path in (f"/media/{key}", f"/media/products/../{key}", f"/media//{key}"):
        assert (await client.get(path)).status_code == 404, path
    assert await anyio.to_thread.run_sync(storage.exists, key)


@pytest.mark.one_database
async def test_while_the_bucket_cannot_be_reached_photos_and_uploads_answer_503_with_one_log_line(
    app_for, s3_settings, world, zone, caplog
):
    seller = await world.seller(zone, business_name="Keripik Mbak Rina")
    async with world.database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, seller.vendor.id)
        product = await catalog.create_product(
            session=session,
            vendor=vendor,
            data=ProductInput(
                name="Keripik Singkong",
                category=Category.SNACKS,
                unit=Unit.PACK,
                price=8000,
                fulfilment=Fulfilment.MADE_TO_ORDER,
                certificate_ids=[seller.certificate_ids["halal"]],
            ),
        )
        token, _ = await accounts.create_api_token(session=session, user=seller.user, name="Aplikasi kasir")
        await session.commit()
    app = await app_for(s3_settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"}))

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        photo = await client.get(f"/media/{PHOTO_KEY}")
        upload = await client.post(
            f"/api/v1/vendor/products/{product.id}/photos",
            headers={"Authorization": f"Bearer {token}"},
            files={"photo": ("IMG_1.jpg", jpeg_bytes(), "image/jpeg")},
        )

    assert (photo.status_code, photo.headers["retry-after"]) == (503, "15")
    assert "tidak dapat menghubungi penyimpanan berkas" in photo.text
    assert upload.status_code == 503, upload.text
    assert (upload.json()["code"], upload.headers["retry-after"]) == ("media_unavailable", "15")
    async with world.database.sessionmaker() as session:
        assert (await session.execute(select(func.count(col(ProductPhoto.id))))).scalar_one() == 0
    outage_lines = [record for record in caplog.records if "media storage unreachable" in record.getMessage()]
    assert len(outage_lines) == 2 and not any(record.exc_info for record in outage_lines)
