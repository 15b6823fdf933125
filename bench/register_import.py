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

from backend import migrate
from backend.accounts.models import Role, Zone
from backend.accounts.service import create_user
from backend.db import Database
from backend.moderation.register import import_register, parse_register

KECAMATAN = {"Gringsing": ["Krengseng", "Ketanggan", "Plelen", "Sawangan"], "Limpung": ["Limpung", "Sempu"],
             "Subah": ["Subah", "Kumejing"], "Bandar": ["Bandar", "Tumbrep"], "Batang": ["Kauman", "Proyonanggan"],
             "Tulis": ["Tulis", "Simbangjati"], "Kandeman": ["Tegalsari", "Depok"], "Warungasem": ["Pandansari"]}
NAMES = ["Sri", "Siti", "Nur", "Dewi", "Ahmad", "Budi", "Wulan", "Agus", "Rina", "Bambang", "Eko", "Yuni"]
TRADES = [("Catering", "katering"), ("Keripik", "makanan olahan"), ("Jamu", "minuman"), ("Konveksi", "konveksi"),
          ("Batik", "kerajinan"), ("Frozen Food", "makanan beku"), ("Sayur", "pertanian")]


def register_csv(rows: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    lines = ["nama_usaha;nama_pemilik;nib;no_hp;kecamatan;desa;jenis_usaha"]
    for number in range(rows):
        kecamatan = rng.choice(list(KECAMATAN))
        trade, category = rng.choice(TRADES)
        owner = f"{rng.choice(NAMES)} {rng.choice(NAMES)}"
        phone = f"08{rng.choice('1235789')}{number:09d}"
        nib = f"91{number:011d}"
        if number % 500 == 499:
            phone = "021-1234"  # a landline: rejected
        lines.append(f"{trade} {owner.split()[0]} {number};{owner};{nib};{phone};{kecamatan};"
                     f"{rng.choice(KECAMATAN[kecamatan])};{category}")
    return ("\n".join(lines) + "\n").encode()


async def run(url: str, rows: int) -> None:
    database = Database(url)
    async with database.sessionmaker() as session:
        zone = Zone(code="KITB", name="Kawasan Industri Terpadu Batang", regency="Kabupaten Batang",
                    province="Jawa Tengah", latitude=-6.95, longitude=110.03)
        session.add(zone)
        await session.flush()
        manager = await create_user(session=session, role=Role.MANAGER, phone="081200000001",
                                    full_name="Sri Wahyuni", password="pengelola-batang",
                                    password_hash_profile="fast", zone_id=zone.id)
        await session.commit()
    data = register_csv(rows)
    started = time.perf_counter()
    parsed, rejected = parse_register(data)
    parse_seconds = time.perf_counter() - started
    print(f"{rows} rows, {len(data) / 1e6:.1f} MB; parse alone: {parse_seconds:.2f} s "
          f"({len(parsed)} valid, {len(rejected)} rejected)")
    for attempt in ("first import", "same file again"):
        started = time.perf_counter()
        async with database.sessionmaker() as session:
            report = await import_register(session=session, manager=manager, zone_id=zone.id,
                                           filename="umkm_batang.csv", data=data)
            await session.commit()
        seconds = time.perf_counter() - started
        print(f"{attempt:<16} {seconds:6.2f} s  {rows / seconds:8.0f} rows/s  created {report.created_count}, "
              f"updated {report.updated_count}, unchanged {report.unchanged_count}, "
              f"rejected {report.rejected_count}")
    await database.dispose()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)  # runs its own event loop
        asyncio.run(run(url, rows))


if __name__ == "__main__":
    main()
