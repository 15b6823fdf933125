"""Demo data for the embedded default: the KITB zone in Batang and the people who use it.

Loaded once: a second run finds the zone and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Organisation, Role, Zone
from backend.accounts.service import create_user

DEMO_PASSWORD = "pasar-demo-2026"
KITB_CODE = "KITB"


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    phone: str
    full_name: str


ADMIN = DemoAccount(Role.ADMIN, "081100000001", "Admin Pasar Kawasan")
MANAGER = DemoAccount(Role.MANAGER, "081200000001", "Sri Wahyuni")
CANTEEN_STAFF = (
    DemoAccount(Role.CANTEEN_STAFF, "081300000001", "Dewi Lestari"),
    DemoAccount(Role.CANTEEN_STAFF, "081300000002", "Agus Santoso"),
)
WORKER = DemoAccount(Role.WORKER, "081400000001", "Rizky Pratama")
VENDORS = (
    DemoAccount(Role.VENDOR, "081500000001", "Sri Rahayu (Catering Bu Sri, Gringsing)"),
    DemoAccount(Role.VENDOR, "081500000002", "Ahmad Fauzi (Nasi Box Berkah, Kandeman)"),
    DemoAccount(Role.VENDOR, "081500000003", "Nur Hidayah (Keripik Tempe Mbak Nur, Batang)"),
    DemoAccount(Role.VENDOR, "081500000004", "Siti Aminah (Frozen Food Dapur Limpung)"),
    DemoAccount(Role.VENDOR, "081500000005", "Bambang Riyadi (Konveksi Seragam Subah)"),
    DemoAccount(Role.VENDOR, "081500000006", "Wulan Sari (Minuman Segar Bandar)"),
)
ALL_ACCOUNTS = (ADMIN, MANAGER, *CANTEEN_STAFF, WORKER, *VENDORS)


async def load_demo(*, session: AsyncSession, password_hash_profile: str) -> bool:
    """Create the demo zone and accounts; return False when they are already there."""
    existing = await session.execute(select(Zone.id).where(Zone.code == KITB_CODE))
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
    )
    session.add(canteen)
    await session.flush()

    for account in ALL_ACCOUNTS:
        await create_user(
            session=session,
            role=account.role,
            phone=account.phone,
            full_name=account.full_name,
            password=DEMO_PASSWORD,
            password_hash_profile=password_hash_profile,
            zone_id=None if account.role == Role.ADMIN else zone.id,
            organisation_id=canteen.id if account.role == Role.CANTEEN_STAFF else None,
        )
    return True
