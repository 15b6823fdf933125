"""Demo data for the embedded default: the KITB zone in Batang, the people who use it, six local
vendors with verified certificates and live products (the vendors' data is in demo_vendors.toml).

Loaded once: a second run finds the zone and changes nothing. Photos and certificate documents are
drawn here and go through the same validation and re-encoding as a phone upload.
"""

from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
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
from backend.payments.payout_accounts import PayoutAccountInput, save_payout_account
from backend.vendors import service as vendors
from backend.vendors.help_contacts import ContactKind, HelpContactInput, add_help_contact
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

    @classmethod
    def of(cls, entry: dict[str, Any]) -> DemoVendor:
        """A `[[vendor]]` table of demo_vendors.toml."""
        return cls(
            account=DemoAccount(Role.VENDOR, entry["phone"], entry["full_name"]),
            profile=entry["profile"],
            certificates=entry.get("certificate", []),
            products=entry.get("product", []),
            colour=tuple(entry["colour"]),
        )


ADMIN = DemoAccount(Role.ADMIN, "081100000001", "Admin Pasar Kawasan")
MANAGER = DemoAccount(Role.MANAGER, "081200000001", "Sri Wahyuni")
CANTEEN_STAFF = (
    DemoAccount(Role.CANTEEN_STAFF, "081300000001", "Dewi Lestari"),
    DemoAccount(Role.CANTEEN_STAFF, "081300000002", "Agus Santoso"),
)
WORKER = DemoAccount(Role.WORKER, "081400000001", "Rizky Pratama")

VENDORS = tuple(
    DemoVendor.of(entry)
    for entry in tomllib.loads(Path(__file__).with_name("demo_vendors.toml").read_text(encoding="utf-8"))["vendor"]
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
    for contact_kind, name, phone, address, hours, note in HELP_CONTACTS:
        contact = HelpContactInput(
            name=name, kind=contact_kind, phone=phone, address=address, opening_hours=hours, note=note
        )
        await add_help_contact(session=session, actor=manager, data=contact, now=now)
    await _load_orders(session=session, canteen_staff=users[CANTEEN_STAFF[0].phone], now=now)
    return True


# Where the demo zone's vendors get help (the readiness checklist); demo numbers, as the accounts' are.
HELP_CONTACTS = (
    (
        ContactKind.PLUT,
        "PLUT-KUMKM Kabupaten Batang",
        "0816-0000-0001",
        "Jl. Gajah Mada, Batang",
        "Senin–Jumat 08.00–15.00",
        "Pendampingan NIB di OSS, foto produk dan pemasaran.",
    ),
    (
        ContactKind.HALAL_COMPANION,
        "Pendamping PPH Kecamatan Gringsing",
        "0816-0000-0002",
        "",
        "Senin–Sabtu, dengan janji",
        "Mendampingi sertifikasi halal gratis SEHATI (self-declare).",
    ),
)

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
    # Demo bank accounts (Bank Jateng, the number made from the phone's) so the admin can record payouts.
    account = PayoutAccountInput(
        bank_name="Bank Jateng", account_number=f"20{user.phone[-8:]}", account_holder=user.full_name
    )
    await save_payout_account(session=session, actor=user, vendor=vendor, data=account, now=now)
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
