"""Demo data for the embedded default: the KITB zone in Batang, the people who use it, six local
vendors with verified certificates and live products.

Loaded once: a second run finds the zone and changes nothing. Photos and certificate documents are
drawn here and go through the same validation and re-encoding as a phone upload.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User, Zone
from backend.accounts.service import create_user
from backend.catalog import service as catalog
from backend.catalog.models import Product
from backend.catalog.schemas import ProductInput
from backend.certification import service as certification
from backend.certification.schemas import CertificateInput
from backend.clock import utcnow, wib_today
from backend.media.images import process_document, process_photo
from backend.media.storage import Storage
from backend.moderation.service import approve_listing, verify_certificate
from backend.orders.delivery import DeliveryChoice, add_delivery_point
from backend.orders.models import DeliveryKind, PaymentMethod, PointKind
from backend.orders.placement import place_orders
from backend.orders.standing import StandingOrderInput, create_standing_order
from backend.vendors import service as vendors
from backend.vendors.schemas import VendorProfileInput

DEMO_PASSWORD = "pasar-demo-2026"
KITB_CODE = "KITB"


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    phone: str
    full_name: str


@dataclass(frozen=True)
class DemoVendor:
    account: DemoAccount
    profile: dict[str, Any]
    certificates: list[dict[str, Any]]
    products: list[dict[str, Any]] = field(default_factory=list)
    colour: tuple[int, int, int] = (200, 120, 40)


ADMIN = DemoAccount(Role.ADMIN, "081100000001", "Admin Pasar Kawasan")
MANAGER = DemoAccount(Role.MANAGER, "081200000001", "Sri Wahyuni")
CANTEEN_STAFF = (
    DemoAccount(Role.CANTEEN_STAFF, "081300000001", "Dewi Lestari"),
    DemoAccount(Role.CANTEEN_STAFF, "081300000002", "Agus Santoso"),
)
WORKER = DemoAccount(Role.WORKER, "081400000001", "Rizky Pratama")

_YEAR = 365
VENDORS = (
    DemoVendor(
        DemoAccount(Role.VENDOR, "081500000001", "Sri Rahayu"),
        {
            "business_name": "Catering Bu Sri",
            "kecamatan": "Gringsing",
            "desa": "Krengseng",
            "address": "Jl. Raya Gringsing No. 12",
            "latitude": -6.9581,
            "longitude": 110.0195,
            "delivery_radius_km": 15,
            "daily_capacity": 600,
            "opens_at": time(4, 0),
            "closes_at": time(14, 0),
            "story": "Masakan rumahan untuk kantin pabrik sejak 2009. Lulusan pelatihan boga BBPVP Semarang.",
        },
        [
            {"kind": "nib", "number": "9120301234567", "issuer": "OSS RBA"},
            {"kind": "halal", "number": "ID33250000123450523", "issuer": "BPJPH"},
            {"kind": "training", "number": "BBPVP-SMG/BOGA/2024/0153", "issuer": "BBPVP Semarang"},
        ],
        [
            {
                "name": "Nasi Box Ayam Bakar",
                "category": "catering",
                "unit": "box",
                "price": 15000,
                "tiers": [{"min_quantity": 50, "unit_price": 14000}, {"min_quantity": 200, "unit_price": 13000}],
                "min_order_qty": 20,
                "fulfilment": "made_to_order",
                "order_cutoff": time(15, 0),
                "description": "Nasi putih, ayam bakar, lalapan, sambal, buah potong.",
                "certs": ["halal"],
            },
            {
                "name": "Nasi Box Ikan Bandeng Presto",
                "category": "catering",
                "unit": "box",
                "price": 14000,
                "tiers": [{"min_quantity": 100, "unit_price": 13000}],
                "min_order_qty": 20,
                "fulfilment": "made_to_order",
                "order_cutoff": time(15, 0),
                "description": "Bandeng presto khas Batang, sayur asem, tempe goreng.",
                "certs": ["halal"],
            },
        ],
        (181, 92, 40),
    ),
    DemoVendor(
        DemoAccount(Role.VENDOR, "081500000002", "Ahmad Fauzi"),
        {
            "business_name": "Nasi Box Berkah",
            "kecamatan": "Kandeman",
            "desa": "Tegalsari",
            "address": "Dk. Tegalsari RT 02 RW 03",
            "latitude": -6.9322,
            "longitude": 109.7851,
            "delivery_radius_km": 30,
            "daily_capacity": 400,
            "opens_at": time(3, 30),
            "closes_at": time(13, 0),
            "story": "Usaha keluarga, nasi box dan tumpeng untuk acara kantor.",
        },
        [
            {"kind": "nib", "number": "9120302345678", "issuer": "OSS RBA"},
            {"kind": "halal", "number": "ID33250000234560124", "issuer": "BPJPH"},
        ],
        [
            {
                "name": "Nasi Box Rendang",
                "category": "catering",
                "unit": "box",
                "price": 18000,
                "tiers": [{"min_quantity": 100, "unit_price": 17000}],
                "min_order_qty": 25,
                "fulfilment": "made_to_order",
                "order_cutoff": time(14, 0),
                "description": "Nasi, rendang sapi, sayur nangka, kerupuk.",
                "certs": ["halal"],
            }
        ],
        (120, 60, 30),
    ),
    DemoVendor(
        DemoAccount(Role.VENDOR, "081500000003", "Nur Hidayah"),
        {
            "business_name": "Keripik Tempe Mbak Nur",
            "kecamatan": "Batang",
            "desa": "Kauman",
            "address": "Jl. Dr. Sutomo Gg. 3",
            "latitude": -6.9077,
            "longitude": 109.7304,
            "delivery_radius_km": 40,
            "story": "Keripik tempe tipis renyah, dijual ke koperasi karyawan.",
        },
        [
            {"kind": "nib", "number": "9120303456789", "issuer": "OSS RBA"},
            {
                "kind": "pirt",
                "number": "P-IRT No. 2063325010123-24",
                "issuer": "Dinas Kesehatan Kabupaten Batang",
                "expires_in_days": 4 * _YEAR,
            },
            {"kind": "halal", "number": "ID33250000345670224", "issuer": "BPJPH"},
        ],
        [
            {
                "name": "Keripik Tempe Original 250 g",
                "category": "snacks",
                "unit": "pack",
                "price": 12000,
                "tiers": [{"min_quantity": 24, "unit_price": 11000}],
                "min_order_qty": 1,
                "fulfilment": "ready_stock",
                "stock": 180,
                "description": "Tempe kedelai lokal, minyak baru setiap hari.",
                "certs": ["pirt", "halal"],
            },
            {
                "name": "Keripik Tempe Pedas 250 g",
                "category": "snacks",
                "unit": "pack",
                "price": 13000,
                "min_order_qty": 1,
                "fulfilment": "ready_stock",
                "stock": 90,
                "description": "Bumbu cabai dan daun jeruk.",
                "certs": ["pirt", "halal"],
            },
        ],
        (214, 170, 60),
    ),
    DemoVendor(
        DemoAccount(Role.VENDOR, "081500000004", "Siti Aminah"),
        {
            "business_name": "Frozen Food Dapur Limpung",
            "kecamatan": "Limpung",
            "desa": "Limpung",
            "address": "Jl. Raya Limpung No. 45",
            "latitude": -7.0398,
            "longitude": 109.9224,
            "delivery_radius_km": 25,
            "story": "Nugget dan dimsum ayam tanpa pengawet.",
        },
        [
            {"kind": "nib", "number": "9120304567890", "issuer": "OSS RBA"},
            {"kind": "bpom", "number": "MD 224510001234", "issuer": "BPOM RI", "expires_in_days": 3 * _YEAR},
            {"kind": "halal", "number": "ID33250000456780325", "issuer": "BPJPH"},
        ],
        [
            {
                "name": "Dimsum Ayam isi 10",
                "category": "frozen",
                "unit": "pack",
                "price": 25000,
                "tiers": [{"min_quantity": 20, "unit_price": 23000}],
                "min_order_qty": 1,
                "fulfilment": "ready_stock",
                "stock": 60,
                "lead_time_hours": 24,
                "description": "Simpan beku, kukus 15 menit.",
                "certs": ["bpom", "halal"],
            }
        ],
        (230, 200, 160),
    ),
    DemoVendor(
        DemoAccount(Role.VENDOR, "081500000005", "Bambang Riyadi"),
        {
            "business_name": "Konveksi Seragam Subah",
            "kecamatan": "Subah",
            "desa": "Subah",
            "address": "Jl. Pantura Subah Km 2",
            "latitude": -6.9725,
            "longitude": 109.8823,
            "delivery_radius_km": 50,
            "daily_capacity": 80,
            "story": "Seragam kerja, wearpack dan kaos bordir untuk pabrik.",
        },
        [
            {"kind": "nib", "number": "9120305678901", "issuer": "OSS RBA"},
            {"kind": "competency", "number": "No. Reg. KOM.1034.01297 2023", "issuer": "BNSP"},
        ],
        [
            {
                "name": "Wearpack Drill Lengan Panjang",
                "category": "uniforms",
                "unit": "pcs",
                "price": 165000,
                "tiers": [{"min_quantity": 50, "unit_price": 150000}, {"min_quantity": 200, "unit_price": 140000}],
                "min_order_qty": 12,
                "fulfilment": "made_to_order",
                "lead_time_hours": 240,
                "description": "Bahan drill 20s, reflektor, bordir logo perusahaan.",
                "certs": [],
            }
        ],
        (40, 70, 140),
    ),
    DemoVendor(
        DemoAccount(Role.VENDOR, "081500000006", "Wulan Sari"),
        {
            "business_name": "Minuman Segar Bandar",
            "kecamatan": "Bandar",
            "desa": "Bandar",
            "address": "Pasar Bandar Blok B-7",
            "latitude": -7.0289,
            "longitude": 109.8412,
            "delivery_radius_km": 35,
            "daily_capacity": 300,
            "story": "Jamu dan minuman segar dari bahan petani Bandar.",
        },
        [
            {"kind": "nib", "number": "9120306789012", "issuer": "OSS RBA"},
            {
                "kind": "pirt",
                "number": "206332502034525",
                "issuer": "Dinas Kesehatan Kabupaten Batang",
                "expires_in_days": 2 * _YEAR,
            },
        ],
        [
            {
                "name": "Jamu Beras Kencur 250 ml",
                "category": "drinks",
                "unit": "pcs",
                "price": 6000,
                "tiers": [{"min_quantity": 100, "unit_price": 5000}],
                "min_order_qty": 10,
                "fulfilment": "made_to_order",
                "order_cutoff": time(16, 0),
                "description": "Tanpa pengawet, tahan 2 hari di kulkas.",
                "certs": ["pirt"],
            },
            {
                "name": "Es Teh Manis 300 ml",
                "category": "drinks",
                "unit": "pcs",
                "price": 4000,
                "tiers": [{"min_quantity": 100, "unit_price": 3500}],
                "min_order_qty": 20,
                "fulfilment": "made_to_order",
                "order_cutoff": time(16, 0),
                "description": "Teh tubruk Batang dengan gula pasir, dikirim dingin dalam cup tertutup.",
                "certs": ["pirt"],
            },
            # Just submitted: waits in the manager's review queue.
            {
                "name": "Es Dawet Ayu Bandar 300 ml",
                "category": "drinks",
                "unit": "pcs",
                "price": 7000,
                "min_order_qty": 10,
                "fulfilment": "made_to_order",
                "order_cutoff": time(16, 0),
                "description": "Dawet beras, santan, gula aren Bandar.",
                "certs": ["pirt"],
                "pending": True,
            },
        ],
        (120, 160, 60),
    ),
)
ALL_ACCOUNTS = (ADMIN, MANAGER, *CANTEEN_STAFF, WORKER, *(vendor.account for vendor in VENDORS))


def _drawing(text: str, colour: tuple[int, int, int], size: tuple[int, int] = (1200, 900)) -> bytes:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, size[1] - 200, size[0] - 40, size[1] - 40], fill=(255, 255, 255))
    draw.text((70, size[1] - 160), text, fill=(20, 20, 20), font_size=56)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


async def load_demo(*, session: AsyncSession, password_hash_profile: str, storage: Storage) -> bool:
    """Create the demo zone, accounts, vendors, certificates and products; False when already there."""
    now = utcnow()  # the data is laid out around the day it is loaded
    existing = await session.execute(select(col(Zone.id)).where(col(Zone.code) == KITB_CODE))
    if existing.first() is not None:
        return False
    zone = Zone(
        code=KITB_CODE,
        name="Kawasan Industri Terpadu Batang",
        regency="Kabupaten Batang",
        province="Jawa Tengah",
        latitude=-6.9545,
        longitude=110.0322,
    )
    session.add(zone)
    await session.flush()
    canteen = Organisation(
        zone_id=zone.id,
        name="Kantin PT Garmen Nusantara Batang",
        address="Blok C-3, Kawasan Industri Terpadu Batang, Gringsing",
        latitude=-6.9498,
        longitude=110.0401,
        # Checked by the zone's manager: it orders on 30-day invoice terms.
        invoice_terms_days=30,
        npwp="01.234.567.8-901.000",
    )
    session.add(canteen)
    await session.flush()

    users: dict[str, User] = {}
    for account in ALL_ACCOUNTS:
        users[account.phone] = await create_user(
            session=session,
            role=account.role,
            phone=account.phone,
            full_name=account.full_name,
            password=DEMO_PASSWORD,
            password_hash_profile=password_hash_profile,
            zone_id=None if account.role == Role.ADMIN else zone.id,
            organisation_id=canteen.id if account.role == Role.CANTEEN_STAFF else None,
            phone_verified_at=now,  # demo numbers are no one's: nobody could receive their codes
        )
    manager = users[MANAGER.phone]
    for demo_vendor in VENDORS:
        await _load_vendor(
            session=session,
            storage=storage,
            user=users[demo_vendor.account.phone],
            demo_vendor=demo_vendor,
            manager=manager,
            now=now,
        )
    for kind, name, latitude, longitude in DELIVERY_POINTS:
        await add_delivery_point(
            session=session, actor=manager, kind=kind, name=name, latitude=latitude, longitude=longitude
        )
    await _load_orders(session=session, canteen_staff=users[CANTEEN_STAFF[0].phone], now=now)
    return True


DELIVERY_POINTS = (
    (PointKind.GATE, "Gerbang Utama KITB", -6.9512, 110.0356),
    (PointKind.GATE, "Gerbang 2 KITB (Timur)", -6.9561, 110.0478),
    (PointKind.DORMITORY, "Asrama Pekerja Blok A", -6.9603, 110.0389),
)


async def _load_orders(*, session: AsyncSession, canteen_staff: User, now: datetime) -> None:
    """The canteen's weekly lunch from Catering Bu Sri (the order job places it ahead), and a first order for
    the next working day after tomorrow, so the vendor's board has something on it."""
    nasi_box = (await session.execute(select(Product).where(col(Product.name) == "Nasi Box Ayam Bakar"))).scalar_one()
    await create_standing_order(
        session=session,
        actor=canteen_staff,
        today=wib_today(now),
        data=StandingOrderInput(
            product_id=nasi_box.id, quantity=150, weekdays=[1, 2, 3, 4, 5], slot=time(11, 0), days_ahead=7
        ),
    )
    day = wib_today(now) + timedelta(days=2)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    await place_orders(
        session=session,
        buyer=canteen_staff,
        lines={nasi_box.id: 200},
        placed_by=canteen_staff,
        delivery=DeliveryChoice(
            day=day, slot=time(7, 0), kind=DeliveryKind.CANTEEN, notes="Shift pagi, antar ke pintu dapur belakang."
        ),
        payment_method=PaymentMethod.INVOICE,
        idempotency_key="demo-first-order",
        now=now,
    )


async def _load_vendor(
    *, session: AsyncSession, storage: Storage, user: User, demo_vendor: DemoVendor, manager: User, now: datetime
) -> None:
    profile = VendorProfileInput(
        owner_name=user.full_name, whatsapp=user.phone, operating_days=[1, 2, 3, 4, 5, 6], **demo_vendor.profile
    )
    vendor = await vendors.save_profile(session=session, user=user, data=profile, now=now)
    await vendors.set_profile_photo(
        session=session,
        vendor=vendor,
        storage=storage,
        now=now,
        photo=process_photo(_drawing(profile.business_name, demo_vendor.colour)),
    )
    today = wib_today(now)
    certificate_ids: dict[str, int] = {}
    for spec in demo_vendor.certificates:
        expires_in = spec.get("expires_in_days")
        certificate_data = CertificateInput(
            kind=spec["kind"],
            number=spec["number"],
            issuer=spec["issuer"],
            issued_on=today - timedelta(days=200),
            expires_on=today + timedelta(days=expires_in) if expires_in else None,
        )
        document = process_document(_drawing(f"{spec['issuer']} {spec['number']}", (250, 250, 245)))
        certificate = await certification.add_certificate(
            session=session, vendor=vendor, data=certificate_data, document=document, storage=storage, now=now
        )
        # The zone's manager has already checked these documents.
        await verify_certificate(session=session, actor=manager, certificate_id=certificate.id, now=now)
        certificate_ids[spec["kind"]] = certificate.id
    for spec in demo_vendor.products:
        spec = dict(spec)
        certificate_kinds = spec.pop("certs")
        pending = spec.pop("pending", False)
        product_data = ProductInput(certificate_ids=[certificate_ids[kind] for kind in certificate_kinds], **spec)
        product = await catalog.create_product(session=session, vendor=vendor, data=product_data)
        await catalog.add_photo(
            session=session,
            vendor=vendor,
            product_id=product.id,
            storage=storage,
            now=now,
            photo=process_photo(_drawing(product_data.name, demo_vendor.colour)),
        )
        await catalog.submit_for_review(session=session, vendor=vendor, product_id=product.id, now=now)
        if not pending:
            await approve_listing(session=session, actor=manager, product_id=product.id, now=now)
    await session.flush()
