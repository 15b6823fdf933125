"""UMKM register import: 60,000 rows into a fresh SQLite database, then the same file again.

Run by hand: `.venv/bin/python bench/register_import.py [rows]`. Prints parse and import times and rows per
second for the first import (all new) and the second (all unchanged: no duplicates).
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from backend import migrate
from backend.accounts.models import Role, Zone
from backend.accounts.service import create_user
from backend.clock import utcnow
from backend.db import Database
from backend.moderation.models import VendorInvitation
from backend.moderation.register import import_register, parse_register

# Kabupaten Batang: kecamatan and some of their desa/kelurahan.
KECAMATAN = {
    "Gringsing": ["Krengseng", "Ketanggan", "Plelen", "Sawangan"],
    "Limpung": ["Limpung", "Sempu"],
    "Subah": ["Subah", "Kumejing"],
    "Bandar": ["Bandar", "Tumbrep"],
    "Batang": ["Kauman", "Proyonanggan"],
    "Tulis": ["Tulis", "Simbangjati"],
    "Kandeman": ["Tegalsari", "Depok"],
    "Warungasem": ["Pandansari"],
    "Banyuputih": ["Banyuputih", "Kalangsono"],
    "Wonotunggal": ["Wonotunggal", "Sodong"],
    "Bawang": ["Bawang", "Deles"],
    "Blado": ["Blado", "Keteleng"],
    "Reban": ["Reban", "Wonosobo"],
    "Pecalungan": ["Pecalungan", "Gombong"],
    "Tersono": ["Tersono", "Sidalang"],
}
NAMES = [
    "Sri",
    "Siti",
    "Nur",
    "Dewi",
    "Ahmad",
    "Budi",
    "Wulan",
    "Agus",
    "Rina",
    "Bambang",
    "Eko",
    "Yuni",
    "Slamet",
    "Sulastri",
    "Joko",
    "Endang",
    "Darto",
    "Rohmah",
    "Wahyu",
    "Tri",
]
TRADES = [
    ("Catering", "Katering"),
    ("Nasi Box", "kuliner"),
    ("Keripik", "makanan olahan"),
    ("Jamu", "Minuman"),
    ("Konveksi", "konveksi"),
    ("Batik", "kerajinan"),
    ("Frozen Food", "Makanan Beku"),
    ("Sayur", "pertanian"),
    ("Toko", "perdagangan"),
    ("Kue", "Makanan dan Minuman"),
]


def register_csv(rows: int, seed: int = 7) -> bytes:
    """A district register as Excel exports it in Indonesia: semicolons, Indonesian headers, a BOM.

    About 1 in 100 rows is bad: a landline, an NIB cut short, no desa, or the same UMKM twice.
    """
    rng = random.Random(seed)
    lines = ["\ufeffNo;Nama Usaha;Nama Pemilik;NIB;No HP;Kecamatan;Desa/Kelurahan;Jenis Usaha"]
    for number in range(rows):
        kecamatan = rng.choice(list(KECAMATAN))
        trade, category = rng.choice(TRADES)
        owner = f"{rng.choice(NAMES)} {rng.choice(NAMES)}"
        phone = f"08{rng.choice('1235789')}{number:09d}"
        phone = f"{phone[:4]}-{phone[4:8]}-{phone[8:]}"
        nib = f"91{number:011d}" if number % 10 else ""  # one in ten has no NIB yet: matched on phone
        desa = rng.choice(KECAMATAN[kecamatan])
        if number % 500 == 499:
            phone = "(0285) 391234"  # a landline
        elif number % 700 == 699:
            nib = nib[:9]
        elif number % 900 == 899:
            desa = ""
        elif number % 1000 == 333:
            nib, phone = f"91{number - 1:011d}", f"08{number:010d}"  # the previous line again
        lines.append(
            f"{number + 1};{trade} {owner.split()[0]} {number};{owner};{nib};{phone};{kecamatan};{desa};{category}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


async def run(url: str, rows: int) -> None:
    database = Database(url)
    async with database.sessionmaker() as session:
        zone = Zone(
            code="KITB",
            name="Kawasan Industri Terpadu Batang",
            regency="Kabupaten Batang",
            province="Jawa Tengah",
            latitude=-6.95,
            longitude=110.03,
        )
        session.add(zone)
        await session.flush()
        manager = await create_user(
            session=session,
            role=Role.MANAGER,
            phone="081200000001",
            full_name="Sri Wahyuni",
            password="pengelola-batang",
            password_hash_profile="fast",
            zone_id=zone.id,
        )
        await session.commit()
    data = register_csv(rows)
    started = time.perf_counter()
    parsed, rejected, _ = parse_register(data)
    parse_seconds = time.perf_counter() - started
    print(
        f"{rows} rows, {len(data) / 1e6:.1f} MB; parse alone: {parse_seconds:.2f} s "
        f"({rows / parse_seconds:,.0f} rows/s; {len(parsed)} valid, {len(rejected)} rejected)"
    )
    for attempt in ("first import", "same file again"):
        started = time.perf_counter()
        async with database.sessionmaker() as session:
            report = await import_register(
                session=session, manager=manager, zone_id=zone.id, filename="umkm_batang.csv", data=data, now=utcnow()
            )
            await session.commit()
        seconds = time.perf_counter() - started
        print(
            f"{attempt:<16} {seconds:5.2f} s in all (parse and database) {rows / seconds:8,.0f} rows/s   "
            f"created {report.created_count}, updated {report.updated_count}, "
            f"unchanged {report.unchanged_count}, rejected {report.rejected_count}"
        )
    async with database.sessionmaker() as session:
        invitations = (await session.execute(select(func.count()).select_from(VendorInvitation))).scalar_one()
    print(f"invitations in the zone: {invitations}")
    await database.dispose()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)  # runs its own event loop
        asyncio.run(run(url, rows))


if __name__ == "__main__":
    main()
