"""Catalogue search at scale: 10,000 vendors and 200,000 products, on SQLite and (optionally) PostgreSQL,
before and after the catalogue's read model (issue 16).

Run by hand:

    .venv/bin/python bench/catalogue_search.py
    .venv/bin/python bench/catalogue_search.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/catalogue_search.py --vendors 1000 --products 20000     # a quick look

For each database it:
1. creates a fresh one (an SQLite file in a temporary directory; with --postgres, a database named
   --database-name, `pasar_bench` by default, on that server, dropped again at the end) and migrates it to head;
2. seeds generated vendors around the KITB zone on Central Java's north coast, their certificates and
   products, with bulk inserts (the search columns filled by the catalogue service's own function), then
   fills the read model (catalogue_entry, vendor_reach) as migration 0013 does and the search words as their
   job does;
3. times a realistic mix of buyer queries in-process, each scenario with the old query path (before: main's
   backend/catalog/search.py, kept in bench/catalogue_search_before.py) and the new one (after), interleaved,
   and prints p50/p95 and the SQL statements per page of each, then of the mix as a whole. A later page
   follows the cursors of the pages before it (after) or asks for the page's number (before);
4. times the whole page `/catalogue?q=nasi+box` through the app, and its first-visit weight (gzip-compressed
   HTML + the CSS and JS it links, as bench/page_weight.py counts it; photos not counted);
5. prints the query plan of the rows query for a text search and for "nearest first" without text (on
   PostgreSQL also the generic plan, which a pooled connection may switch to after five executions).

Every scenario stops after --runs runs or --seconds seconds, whichever comes first; on PostgreSQL a
statement timeout of 5 s also ends a scenario whose plan has gone bad. Figures are wall-clock times on a
shared machine: expect some noise (the load average is printed with them).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import math
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import catalogue_search_before as before  # the query path before the read model (bench/ is on sys.path)
import httpx
from page_weight import ASSET  # the stylesheets and scripts a page links, counted the same way (bench/ is on sys.path)
from sqlalchemy import event, insert, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend import migrate
from backend.accounts.models import Role, User, Zone
from backend.app import create_app
from backend.catalog.entries import ENTRY_COLUMNS, entry_rows, reach_rows
from backend.catalog.models import (
    CatalogueEntry,
    Category,
    Fulfilment,
    ListingStatus,
    PriceTier,
    Product,
    ProductCertificate,
    ProductPhoto,
    VendorReach,
)
from backend.catalog.search import CatalogueQuery, Place, Sort, search_catalogue
from backend.catalog.service import _set_search_words
from backend.catalog.vocabulary import rebuild_vocabulary
from backend.certification.formats import CertificateKind
from backend.certification.models import Certificate, CertificateStatus
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.db import Database, table_of
from backend.orders.models import CapacityDay
from backend.vendors.models import Vendor, VendorStatus

BENCH_DATABASE = "pasar_bench"
ZONE = Place(-6.9545, 110.0322)  # KITB, Kabupaten Batang
EDGE = Place(-7.25, 110.75)  # the south-east corner of the seeded area: few vendors reach it
AREA_LATITUDES = (-7.3, -6.8)
AREA_LONGITUDES = (109.4, 110.8)
CHUNK = 5_000  # rows per executemany: large enough to be fast, small enough to keep memory flat
TARGET_P95_MS = {"postgresql": 20, "sqlite": 30}  # issue 16, one search at a time
STATEMENT_TIMEOUT_S = 5  # PostgreSQL only: a run slower than this stops its scenario
RESULT_MARK = 'class="item result"'  # one per product card in the catalogue's HTML

# Towns along the north coast (and a little inland) where vendors cluster, with their kecamatan and a weight.
TOWNS = [
    (-6.889, 109.675, 12, ["Pekalongan Utara", "Pekalongan Barat", "Buaran", "Wiradesa"]),
    (-6.907, 109.730, 10, ["Batang", "Warungasem", "Kandeman"]),
    (-6.980, 109.900, 8, ["Subah", "Banyuputih", "Tulis"]),
    (-7.020, 109.920, 6, ["Limpung", "Bandar", "Tersono"]),
    (-6.940, 110.020, 10, ["Gringsing"]),
    (-6.970, 110.070, 10, ["Weleri", "Rowosari", "Ringinarum"]),
    (-6.920, 110.200, 12, ["Kendal", "Patebon", "Cepiring", "Kaliwungu"]),
    (-6.990, 110.420, 18, ["Semarang Barat", "Tugu", "Ngaliyan", "Genuk", "Pedurungan"]),
    (-6.890, 110.640, 6, ["Demak", "Sayung", "Karangtengah"]),
    (-7.140, 110.400, 4, ["Ungaran Barat", "Bergas"]),
]
DESA = [
    "Sidomulyo",
    "Sukorejo",
    "Karanganyar",
    "Kalisari",
    "Wonosari",
    "Tegalsari",
    "Krajan",
    "Purwosari",
    "Kedungsari",
    "Banjarsari",
    "Plelen",
    "Sawangan",
    "Proyonanggan",
    "Kauman",
]
FIRST_NAMES = [
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
    "Sugeng",
    "Lestari",
]
LAST_NAMES = [
    "Wahyuni",
    "Rahayu",
    "Santoso",
    "Susanti",
    "Hidayat",
    "Lestari",
    "Purnomo",
    "Rahmawati",
    "Setiawan",
    "Kurniawati",
    "Prasetyo",
    "Handayani",
    "Saputra",
    "Maryati",
]
BRANDS = [
    "Bu Sri",
    "Bu Siti",
    "Bu Endang",
    "Pak Slamet",
    "Mbak Yuni",
    "Bu Rohmah",
    "Pak Darto",
    "Berkah",
    "Barokah",
    "Sari Rasa",
    "Sido Mulyo",
    "Lestari",
    "Sehati",
    "Ngudi Rejeki",
    "Mekar Sari",
    "Rizki",
    "Annisa",
    "Al Ikhlas",
    "Maju Jaya",
    "Sumber Rejeki",
    "Mbok Darmi",
    "Dua Putri",
    "Makmur",
]


@dataclass(frozen=True)
class Trade:
    """What a vendor mainly sells: product names are base + variant; side lines are other categories it sells."""

    share: int  # percent of vendors
    shop_words: list[str]
    bases: list[str]
    variants: list[str]
    units: list[str]
    price_range: tuple[int, int]
    side_lines: list[Category]
    description: str


TRADES: dict[Category, Trade] = {
    Category.CATERING: Trade(
        30,
        ["Catering", "Katering", "Dapur", "Rumah Makan", "Warung Makan"],
        [
            "Nasi Box",
            "Nasi Kotak",
            "Nasi Bungkus",
            "Paket Prasmanan",
            "Nasi Rames",
            "Tumpeng Mini",
            "Nasi Liwet",
            "Snack Box",
        ],
        [
            "Ayam Bakar",
            "Ayam Goreng",
            "Rendang",
            "Ayam Geprek",
            "Pindang Bandeng",
            "Telur Balado",
            "Ikan Bakar",
            "Megono",
            "Soto Ayam",
            "Sate Ayam",
            "Opor Ayam",
            "Empal Gepuk",
            "Ayam Bakar Madu",
            "Lele Goreng",
        ],
        ["box", "porsi"],
        (12_000, 45_000),
        [Category.SNACKS, Category.DRINKS, Category.FROZEN],
        "{name} dengan nasi putih pulen, sayur, sambal dan kerupuk. Dimasak pagi hari di {kecamatan}, "
        "dikirim hangat untuk kantin pabrik dan acara kantor.",
    ),
    Category.SNACKS: Trade(
        22,
        ["Keripik", "Camilan", "Aneka Snack", "Home Industri", "Oleh-oleh"],
        [
            "Keripik Tempe",
            "Keripik Singkong",
            "Keripik Pisang",
            "Kripik Talas",
            "Rempeyek Kacang",
            "Kerupuk Udang",
            "Emping Melinjo",
            "Stik Bawang",
            "Kacang Atom",
            "Lumpia Semarang",
            "Wingko Babat",
            "Bolu Kukus",
            "Kue Lapis",
            "Nastar",
            "Keripik Usus",
            "Keripik Bayam",
        ],
        [
            "Pedas",
            "Balado",
            "Original",
            "Asin Gurih",
            "Manis",
            "Pedas Daun Jeruk",
            "Keju",
            "Jagung Bakar",
            "Pedas Manis",
            "Bawang Putih",
        ],
        ["pack", "kg", "pcs"],
        (8_000, 60_000),
        [Category.FROZEN, Category.DRINKS],
        "{name} renyah buatan rumahan dari {kecamatan}, tanpa pengawet, dikemas rapat dalam plastik tebal. "
        "Cocok untuk camilan karyawan dan oleh-oleh.",
    ),
    Category.FROZEN: Trade(
        12,
        ["Frozen Food", "Dapur Beku", "Aneka Frozen", "Dimsum"],
        [
            "Frozen Dimsum",
            "Dimsum Ayam",
            "Siomay Ikan",
            "Nugget Ayam",
            "Bakso Sapi",
            "Otak-otak Bandeng",
            "Risoles Beku",
            "Pempek Frozen",
            "Sosis Ayam",
            "Lumpia Frozen",
            "Cireng Isi",
            "Kebab Frozen",
        ],
        ["isi 10", "isi 20", "isi 25", "500 gr", "1 kg", "Udang", "Pedas", "Keju", "Mozarella"],
        ["pack"],
        (20_000, 90_000),
        [Category.SNACKS],
        "{name} dibekukan segera setelah dimasak, tahan dua minggu di freezer. Tinggal kukus atau goreng.",
    ),
    Category.DRINKS: Trade(
        10,
        ["Jamu", "Kedai", "Minuman", "Wedangan"],
        [
            "Jamu Kunyit Asam",
            "Jamu Beras Kencur",
            "Jamu Temulawak",
            "Wedang Jahe",
            "Es Teh Manis",
            "Kopi Robusta Bubuk",
            "Kopi Susu Literan",
            "Teh Poci",
            "Sirup Markisa",
            "Susu Kedelai",
            "Es Dawet",
            "Sari Kacang Hijau",
        ],
        ["Botol 250 ml", "Botol 1 Liter", "Cup", "Sachet", "Kemasan 500 ml", "Tanpa Gula", "Gula Aren"],
        ["pcs", "pack"],
        (5_000, 50_000),
        [Category.SNACKS],
        "{name} dibuat segar setiap hari dari bahan alami, tanpa pengawet dan pewarna.",
    ),
    Category.FRESH: Trade(
        10,
        ["Tani", "Sayur", "Kebun", "Kelompok Tani"],
        [
            "Sayur Bayam",
            "Kangkung",
            "Cabai Rawit",
            "Cabai Merah",
            "Tomat",
            "Bawang Merah Brebes",
            "Telur Ayam",
            "Beras Pandan Wangi",
            "Tahu Putih",
            "Tempe Mendoan",
            "Pisang Raja",
            "Jeruk Pamelo",
            "Buah Naga",
            "Kelapa Muda",
        ],
        ["Segar", "Organik", "Petik Pagi", "Grade A", "Kiloan", "Curah"],
        ["kg", "pack"],
        (5_000, 80_000),
        [Category.SNACKS],
        "{name} langsung dari petani {kecamatan}, dipanen pagi dan diantar hari itu juga.",
    ),
    Category.UNIFORMS: Trade(
        8,
        ["Konveksi", "Garmen", "Penjahit", "Sablon"],
        [
            "Seragam Kerja",
            "Wearpack",
            "Kaos Polo",
            "Kemeja Kerja",
            "Rompi Safety",
            "Jaket Kerja",
            "Celana Kerja",
            "Topi Bordir",
            "Seragam Batik",
            "Kaos Sablon",
        ],
        [
            "Drill",
            "Katun",
            "American Drill",
            "Lengan Panjang",
            "Lengan Pendek",
            "Bordir Logo",
            "Reflektor",
            "Biru Dongker",
            "Oranye",
        ],
        ["pcs", "lusin"],
        (65_000, 350_000),
        [Category.CRAFTS],
        "{name} dijahit rapi sesuai ukuran, bisa tambah bordir logo perusahaan. Minimal pesanan per model.",
    ),
    Category.CRAFTS: Trade(
        5,
        ["Batik", "Kerajinan", "Anyaman", "Galeri"],
        [
            "Batik Tulis",
            "Batik Cap",
            "Tas Anyaman Pandan",
            "Keranjang Bambu",
            "Besek Bambu",
            "Tikar Mendong",
            "Souvenir Kayu",
            "Kain Batik",
        ],
        ["Batang", "Pekalongan", "Motif Parang", "Motif Mega Mendung", "Kecil", "Besar", "Natural"],
        ["pcs"],
        (25_000, 750_000),
        [Category.OTHER],
        "{name} buatan perajin {kecamatan}, cocok untuk suvenir perusahaan dan hadiah tamu.",
    ),
    Category.OTHER: Trade(
        3,
        ["Toko", "Grosir", "Agen"],
        [
            "Gas LPG 3 kg",
            "Air Galon Isi Ulang",
            "Sabun Cuci Piring",
            "Kantong Plastik",
            "Tisu Makan",
            "Sendok Plastik",
            "Kotak Nasi Kertas",
            "Paper Bowl",
        ],
        ["Grosir", "isi 50", "isi 100", "Eceran"],
        ["pcs", "pack"],
        (3_000, 60_000),
        [Category.CRAFTS],
        "{name} untuk kebutuhan dapur dan kantin, bisa diantar rutin.",
    ),
}
MADE_TO_ORDER = {Category.CATERING, Category.UNIFORMS}  # cooked or sewn per order: uses the vendor's capacity
FOOD = {Category.CATERING, Category.SNACKS, Category.FROZEN, Category.DRINKS}


# ---------------------------------------------------------------------------------------------- seeding


@dataclass
class SeededVendor:
    """What products need to know about their vendor while they are generated."""

    id: int
    trade: Category
    business_name: str
    kecamatan: str
    certificate_ids: dict[str, int] = field(default_factory=dict)  # kind -> id


@dataclass
class VendorRows:
    users: list[dict[str, Any]]
    vendors: list[dict[str, Any]]
    certificates: list[dict[str, Any]]
    capacity_days: list[dict[str, Any]]
    seeded: list[SeededVendor]


def vendor_location(rng: random.Random) -> tuple[float, float, str]:
    """Mostly around a town (a few km of spread), some anywhere in the area; with the kecamatan."""
    lat_town, lon_town, _, kecamatan_names = rng.choices(TOWNS, weights=[town[2] for town in TOWNS])[0]
    if rng.random() < 0.15:
        lat, lon = rng.uniform(*AREA_LATITUDES), rng.uniform(*AREA_LONGITUDES)
    else:
        lat, lon = rng.gauss(lat_town, 0.05), rng.gauss(lon_town, 0.06)
    lat = min(max(lat, AREA_LATITUDES[0]), AREA_LATITUDES[1])
    lon = min(max(lon, AREA_LONGITUDES[0]), AREA_LONGITUDES[1])
    return round(lat, 6), round(lon, 6), rng.choice(kecamatan_names)


def certificate_row(
    rng: random.Random, *, certificate_id: int, vendor_id: int, kind: CertificateKind, today: date, now: datetime
) -> dict[str, Any]:
    """A certificate with a number in the stored (normalised) format; mostly verified, a few not or expired."""
    number, issuer, expires_on = {
        CertificateKind.NIB: (f"91{rng.randrange(10**11):011d}", "OSS RBA", None),
        CertificateKind.HALAL: (
            f"ID3325{rng.randrange(10**13):013d}",
            "BPJPH",
            today + timedelta(days=rng.randint(200, 1400)) if rng.random() < 0.3 else None,
        ),
        CertificateKind.PIRT: (
            f"2{rng.randrange(10**14):014d}",
            "Dinas Kesehatan Kabupaten Batang",
            today + timedelta(days=rng.randint(100, 1800)) if rng.random() < 0.5 else None,
        ),
        CertificateKind.BPOM: (
            f"{rng.choice(['MD', 'ML'])} {rng.randrange(10**12):012d}",
            "Badan POM RI",
            today + timedelta(days=rng.randint(60, 1800)),
        ),
    }[kind]
    roll = rng.random()
    status = (
        CertificateStatus.UNVERIFIED
        if roll < 0.07
        else CertificateStatus.REJECTED
        if roll < 0.09
        else CertificateStatus.VERIFIED
    )
    if status == CertificateStatus.VERIFIED and kind != CertificateKind.NIB and rng.random() < 0.04:
        expires_on = today - timedelta(days=rng.randint(1, 120))  # verified once, lapsed since
    issued_on = (expires_on or today) - timedelta(days=rng.randint(400, 1500))
    return {
        "id": certificate_id,
        "vendor_id": vendor_id,
        "kind": kind.value,
        "number": number,
        "issuer": issuer,
        "issued_on": issued_on,
        "expires_on": expires_on,
        "document_key": f"certificates/{hashlib.md5(number.encode()).hexdigest()}.pdf",
        "document_media_type": "application/pdf",
        "status": status.value,
        "status_reason": "",
        "verified_by_id": None,
        "verified_at": now if status == CertificateStatus.VERIFIED else None,
        "created_at": now,
        "updated_at": now,
    }


def generate_vendors(rng: random.Random, count: int, *, zone_id: int, today: date, now: datetime) -> VendorRows:
    rows = VendorRows([], [], [], [], [])
    trades = list(TRADES)
    shares = [TRADES[trade].share for trade in trades]
    certificate_id = 0
    for vendor_id in range(1, count + 1):
        trade_category = rng.choices(trades, weights=shares)[0]
        trade = TRADES[trade_category]
        owner = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        business_name = f"{rng.choice(trade.shop_words)} {rng.choice(BRANDS)}"
        if rng.random() < 0.4:
            business_name += f" {rng.choice(FIRST_NAMES)}"
        lat, lon, kecamatan = vendor_location(rng)
        phone = f"081{vendor_id:09d}"
        rows.users.append(
            {
                "id": vendor_id,
                "phone": phone,
                "full_name": owner,
                "password_hash": "$argon2id$bench-not-a-password",
                "role": Role.VENDOR.value,
                "zone_id": zone_id,
                "locale": "id",
                "is_active": True,
                "created_at": now,
                "phone_verified_at": now,
            }
        )
        rated = rng.random() < 0.6
        rating_count = int(rng.paretovariate(1.2)) if rated else 0
        rating_count = min(rating_count, 400)
        rating_sum = min(5 * rating_count, max(rating_count, round(rating_count * rng.uniform(3.2, 5.0))))
        made_to_order = trade_category in MADE_TO_ORDER
        rows.vendors.append(
            {
                "id": vendor_id,
                "user_id": vendor_id,
                "zone_id": zone_id,
                "business_name": business_name,
                "owner_name": owner,
                "whatsapp": f"62{phone[1:]}",
                "address": f"Jl. {rng.choice(DESA)} No. {rng.randint(1, 120)}",
                "kecamatan": kecamatan,
                "desa": rng.choice(DESA),
                "latitude": lat,
                "longitude": lon,
                "delivery_radius_km": float(rng.choice([5, 8, 10, 10, 15, 15, 20, 25, 30, 40])),
                "operating_days": rng.choices([0b0111111, 0b1111111, 0b0011111], weights=[6, 3, 1])[0],
                "opens_at": clock_time(rng.choice([5, 6, 7, 8])),
                "closes_at": clock_time(rng.choice([15, 17, 20])),
                "story": "",
                "daily_capacity": rng.randint(80, 600) if made_to_order else None,
                "status": VendorStatus.SUSPENDED.value if rng.random() < 0.03 else VendorStatus.ACTIVE.value,
                "status_reason": "",
                "rating_count": rating_count,
                "rating_sum": rating_sum,
                # No delivery fee or minimum: the catalogue is what is measured.
                "delivery_fee": 0,
                "min_order_value": 0,
                "delivery_fee_bands": [],
                "created_at": now,
                "updated_at": now,
            }
        )
        seeded = SeededVendor(vendor_id, trade_category, business_name, kecamatan)
        kinds = []
        if rng.random() < 0.9:
            kinds.append(CertificateKind.NIB)
        if trade_category in FOOD and rng.random() < 0.65:
            kinds.append(CertificateKind.HALAL)
        if trade_category in FOOD - {Category.CATERING} and rng.random() < 0.55:
            kinds.append(CertificateKind.PIRT)
        if trade_category in {Category.FROZEN, Category.DRINKS} and rng.random() < 0.15:
            kinds.append(CertificateKind.BPOM)
        for kind in kinds:
            certificate_id += 1
            rows.certificates.append(
                certificate_row(
                    rng, certificate_id=certificate_id, vendor_id=vendor_id, kind=kind, today=today, now=now
                )
            )
            seeded.certificate_ids[kind.value] = certificate_id
        if made_to_order and rng.random() < 0.4:  # orders already hold part of today's and tomorrow's capacity
            capacity = rows.vendors[-1]["daily_capacity"]
            for day in (today, today + timedelta(days=1)):
                rows.capacity_days.append(
                    {"vendor_id": vendor_id, "day": day, "capacity": capacity, "held": rng.randint(0, capacity)}
                )
        rows.seeded.append(seeded)
    return rows


def search_words(name: str, description: str, category: str, business_name: str) -> dict[str, str]:
    """The search columns exactly as the catalogue service fills them: its own function, on stand-in objects."""
    product = SimpleNamespace(name=name, description=description, category=category)
    _set_search_words(product, SimpleNamespace(business_name=business_name))  # type: ignore[arg-type]  # a stand-in: only the vendor's name is read
    return {
        "search_name": product.search_name,
        "search_vendor": product.search_vendor,
        "search_body": product.search_body,
    }


def rupiah(rng: random.Random, low: int, high: int) -> int:
    return rng.randrange(low, high + 1, 500)


def product_chunks(
    rng: random.Random, vendors: list[SeededVendor], count: int, *, now: datetime
) -> Iterator[tuple[list[dict], list[dict], list[dict], list[dict]]]:
    """Products with their tiers, photos and certificate links, CHUNK products at a time."""
    # A few vendors list a lot, most a handful: Pareto weights.
    weights = [rng.paretovariate(1.5) for _ in vendors]
    owners = rng.choices(vendors, weights=weights, k=count)
    statuses = [
        ListingStatus.LIVE,
        ListingStatus.PAUSED,
        ListingStatus.PENDING_REVIEW,
        ListingStatus.DRAFT,
        ListingStatus.REJECTED,
    ]
    for start in range(0, count, CHUNK):
        products, tiers, photos, links = [], [], [], []
        for product_id in range(start + 1, min(start + CHUNK, count) + 1):
            vendor = owners[product_id - 1]
            category = vendor.trade
            if rng.random() < 0.15:
                category = rng.choice(TRADES[vendor.trade].side_lines)
            trade = TRADES[category]
            name = f"{rng.choice(trade.bases)} {rng.choice(trade.variants)}"
            description = trade.description.format(name=name, kecamatan=vendor.kecamatan)
            price = rupiah(rng, *trade.price_range)
            made_to_order = category in MADE_TO_ORDER
            lead_time_hours, order_cutoff, min_order = None, None, 1
            if category == Category.CATERING:
                roll = rng.random()
                if roll < 0.5:
                    order_cutoff = clock_time(rng.choice([15, 17, 20]))
                elif roll < 0.8:
                    lead_time_hours = rng.choice([12, 24, 48])
                min_order = rng.choice([10, 20, 25, 50])
            elif category == Category.UNIFORMS:
                lead_time_hours = rng.choice([72, 168, 336])
                min_order = rng.choice([12, 24])
            products.append(
                {
                    "id": product_id,
                    "vendor_id": vendor.id,
                    "name": name,
                    "description": description,
                    "category": category.value,
                    "unit": rng.choice(trade.units),
                    "price": price,
                    "min_order_qty": min_order,
                    "fulfilment": (Fulfilment.MADE_TO_ORDER if made_to_order else Fulfilment.READY_STOCK).value,
                    "stock": None if made_to_order else rng.choice([0, rng.randint(1, 40), rng.randint(40, 800)]),
                    "lead_time_hours": lead_time_hours,
                    "order_cutoff": order_cutoff,
                    "status": rng.choices(statuses, weights=[88, 4, 4, 3, 1])[0].value,
                    "status_reason": "",
                    "submitted_at": now,
                    "reviewed_at": now,
                    "approved_snapshot": None,
                    **search_words(name, description, category.value, vendor.business_name),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if rng.random() < 0.3:  # bulk tiers: larger quantity, lower price
                quantity, unit_price = max(min_order, 1), price
                for _ in range(rng.randint(1, 3)):
                    quantity = quantity * rng.choice([2, 5]) if quantity > 1 else 10
                    unit_price = unit_price * 95 // 100
                    tiers.append({"product_id": product_id, "min_quantity": quantity, "unit_price": unit_price})
            if rng.random() < 0.9:
                digest = hashlib.md5(f"product-{product_id}".encode()).hexdigest()
                photos.append(
                    {
                        "product_id": product_id,
                        "position": 0,
                        "thumb_key": f"products/{digest[:2]}/{digest}.webp",
                        "detail_key": f"products/{digest[:2]}/{digest}-detail.webp",
                        "width": 1200,
                        "height": 900,
                        "created_at": now,
                    }
                )
            if category in FOOD:
                for kind, share in (("halal", 0.85), ("pirt", 0.7), ("bpom", 0.8)):
                    if kind in vendor.certificate_ids and rng.random() < share:
                        links.append({"product_id": product_id, "certificate_id": vendor.certificate_ids[kind]})
        yield products, tiers, photos, links


async def insert_rows(engine: AsyncEngine, table: Any, rows: list[dict[str, Any]]) -> None:
    """Core executemany, CHUNK rows a transaction."""
    for start in range(0, len(rows), CHUNK):
        async with engine.begin() as connection:
            await connection.execute(table.insert(), rows[start : start + CHUNK])


async def fresh_statistics(engine: AsyncEngine) -> None:
    """Statistics as a database that has lived a while would have; the planner depends on them."""
    if engine.dialect.name == "sqlite":
        async with engine.begin() as connection:
            await connection.exec_driver_sql("INSERT INTO product_search(product_search) VALUES('optimize')")
            await connection.exec_driver_sql("INSERT INTO catalogue_search(catalogue_search) VALUES('optimize')")
            await connection.exec_driver_sql("ANALYZE")
    else:
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM ANALYZE")


async def fill_read_model(engine: AsyncEngine) -> None:
    """catalogue_entry and vendor_reach from the seeded rows, as migration 0013 fills them."""
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(insert(CatalogueEntry).from_select(ENTRY_COLUMNS, entry_rows()))
    columns = ("id", "status", "latitude", "longitude", "delivery_radius_km", "rating_sum", "rating_count")
    async with engine.connect() as connection:
        vendors = (await connection.execute(select(*(getattr(Vendor, name) for name in columns)))).all()
    rows = [row for vendor in vendors for row in reach_rows(Vendor(**vendor._mapping))]
    await insert_rows(engine, table_of(VendorReach), rows)
    print(f"read model: {len(rows):,} vendor_reach rows, entries in {time.perf_counter() - started:.1f} s")


async def seed(database: Database, *, vendors: int, products: int) -> None:
    """The zone, its vendors and their products, with fresh planner statistics; prints counts and times.

    Ids are given explicitly so that links (vendor -> user, product -> certificate) are built without reading
    rows back; nothing inserts after seeding, so PostgreSQL's sequences are left behind on purpose.
    """
    started = time.perf_counter()
    engine = database.engine
    rng = random.Random(2026)
    now = datetime.now(UTC)
    today = wib_today(now)
    async with engine.begin() as connection:
        await connection.execute(
            table_of(Zone).insert(),
            [
                {
                    "id": 1,
                    "code": "KITB",
                    "name": "Kawasan Industri Terpadu Batang",
                    "regency": "Kabupaten Batang",
                    "province": "Jawa Tengah",
                    "timezone": "Asia/Jakarta",
                    "latitude": ZONE.latitude,
                    "longitude": ZONE.longitude,
                    "created_at": now,
                }
            ],
        )
    vendor_rows = generate_vendors(rng, vendors, zone_id=1, today=today, now=now)
    await insert_rows(engine, table_of(User), vendor_rows.users)
    await insert_rows(engine, table_of(Vendor), vendor_rows.vendors)
    await insert_rows(engine, table_of(Certificate), vendor_rows.certificates)
    await insert_rows(engine, table_of(CapacityDay), vendor_rows.capacity_days)
    counts = {"tiers": 0, "photos": 0, "links": 0}
    for product_rows, tier_rows, photo_rows, link_rows in product_chunks(rng, vendor_rows.seeded, products, now=now):
        async with engine.begin() as connection:  # on SQLite the FTS5 triggers index each product here
            await connection.execute(table_of(Product).insert(), product_rows)
            for table, rows in (
                (table_of(PriceTier), tier_rows),
                (table_of(ProductPhoto), photo_rows),
                (table_of(ProductCertificate), link_rows),
            ):
                if rows:
                    await connection.execute(table.insert(), rows)
        counts["tiers"] += len(tier_rows)
        counts["photos"] += len(photo_rows)
        counts["links"] += len(link_rows)
    await fresh_statistics(engine)  # the read model's SELECT is planned with them (as on a database in use)
    await fill_read_model(engine)
    async with database.sessionmaker() as session:  # the job that keeps the search words runs every few minutes
        await rebuild_vocabulary(session=session, today=today)
        await session.commit()
    inserted = time.perf_counter() - started
    await fresh_statistics(engine)
    total = time.perf_counter() - started
    print(
        f"seeded {vendors:,} vendors, {len(vendor_rows.certificates):,} certificates, {products:,} products, "
        f"{counts['tiers']:,} tiers, {counts['photos']:,} photos, {counts['links']:,} product certificates, "
        f"{len(vendor_rows.capacity_days):,} capacity days"
    )
    print(
        f"seeding: {inserted:.1f} s inserts ({products / inserted:,.0f} products/s with everything else), "
        f"{total - inserted:.1f} s statistics, {total:.1f} s in all"
    )


# ---------------------------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Scenario:
    name: str
    filters: dict[str, Any]
    near: Place = ZONE


NEAR_ME = Place(-6.9903, 110.4203)  # a worker's phone in Semarang Barat, where vendors are densest


def scenarios(today: date) -> list[Scenario]:
    """A realistic mix: browsing, typing, common words, filters, each sort, another place, a later page."""
    tomorrow = today + timedelta(days=1)
    return [
        Scenario("browse, no text", {}),
        Scenario('typing "n"', {"text": "n"}),
        Scenario('typing "na"', {"text": "na"}),
        Scenario('"nasi"', {"text": "nasi"}),
        Scenario('"ayam"', {"text": "ayam"}),
        Scenario('"keripik"', {"text": "keripik"}),
        Scenario('"seragam"', {"text": "seragam"}),
        Scenario('"nasi box"', {"text": "nasi box"}),
        Scenario("category snacks", {"category": Category.SNACKS}),
        Scenario("halal only", {"halal_only": True}),
        Scenario('"keripik" + halal', {"text": "keripik", "halal_only": True}),
        Scenario("price 15-30k", {"price_min": 15_000, "price_max": 30_000}),
        Scenario("available tomorrow", {"available_on": tomorrow}),
        Scenario("tomorrow, certified only", {"available_on": tomorrow, "certified_only": True}),
        Scenario("nearest first", {"sort": Sort.DISTANCE}),
        Scenario("cheapest first", {"sort": Sort.PRICE}),
        Scenario(
            "catering 15-30k, cheapest",
            {"category": Category.CATERING, "price_min": 15_000, "price_max": 30_000, "sort": Sort.PRICE},
        ),
        Scenario("best rated", {"sort": Sort.RATING}),
        Scenario("near me, browse", {}, near=NEAR_ME),
        Scenario('near me, "ayam"', {"text": "ayam"}, near=NEAR_ME),
        Scenario('"nasi", page 3', {"text": "nasi", "page": 3}),
        Scenario("nearest first, page 5", {"sort": Sort.DISTANCE, "page": 5}),
        Scenario("nearest first, at the edge", {"sort": Sort.DISTANCE}, near=EDGE),
        Scenario('"nasi box", at the edge', {"text": "nasi box"}, near=EDGE),
    ]


class StatementClock:
    """Counts and times the statements the engine runs; keeps them with their parameters for the query plans."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.timings: list[tuple[str, float]] = []
        self.captured: list[tuple[str, Any]] = []
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        context.bench_started = time.perf_counter()
        self.captured.append((statement, parameters))

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.timings.append((statement, time.perf_counter() - context.bench_started))

    def reset(self) -> None:
        self.timings.clear()
        self.captured.clear()

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def is_rows_query(statement: str) -> bool:
    """The page's rows: the only statement that reads the reach (after) or computes distances (before)."""
    return "vendor_reach" in statement or "great_circle_km" in statement


def is_statement_timeout(error: DBAPIError) -> bool:
    return "statement timeout" in str(error.orig)


def percentile(samples: list[float], share: float) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return "      -" if math.isnan(seconds) else f"{seconds * 1000:7.1f}"


@dataclass
class Measured:
    total: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    has_more: bool = False
    timed_out_at_call: int | None = None  # counting the warm-up call as the first


async def page_query(database: Database, scenario: Scenario, *, old: bool) -> Any:
    """The scenario's query for the path measured. A later page of the new path follows the cursors of the
    pages before it (not timed); the old path asks for the page by number."""
    filters = dict(scenario.filters)
    if old:
        return before.CatalogueQuery(near=before.Place(scenario.near.latitude, scenario.near.longitude), **filters)
    page = filters.pop("page", 1)
    query = CatalogueQuery(near=scenario.near, **filters)
    for number in range(2, page + 1):
        async with database.sessionmaker() as session:
            previous = await search_catalogue(session=session, query=query, now=utcnow())
        query = CatalogueQuery(near=scenario.near, **filters, page=number, after=previous.next_cursor)
    return query


async def measure_scenario(
    database: Database, clock: StatementClock, scenario: Scenario, *, old: bool, runs: int, seconds: float
) -> Measured:
    query = await page_query(database, scenario, old=old)
    search = before.search_catalogue if old else search_catalogue
    now = utcnow()
    measured = Measured()
    deadline = time.perf_counter() + seconds
    for run in range(runs + 1):  # run 0 warms the caches (pages, prepared statements) and is not counted
        if time.perf_counter() > deadline:
            break
        clock.reset()
        started = time.perf_counter()
        try:
            async with database.sessionmaker() as session:
                page = await search(session=session, query=query, now=now)
        except DBAPIError as error:
            if not is_statement_timeout(error):
                raise
            measured.timed_out_at_call = run + 1  # one call over the limit says enough; more would blow the budget
            break
        if run == 0:
            continue
        measured.total.append(time.perf_counter() - started)
        measured.statements.append(len(clock.timings))
        measured.ids, measured.has_more = [item.product_id for item in page.items], page.has_more
    return measured


def describe(measured: Measured) -> str:
    p95 = percentile(measured.total, 0.95)
    timed_out = f" TIMEOUT@{measured.timed_out_at_call}" if measured.timed_out_at_call else ""
    statements = max(measured.statements, default=0)
    return f"{ms(percentile(measured.total, 0.5))} {ms(p95)} {statements:>4}{timed_out}"


async def measure_searches(database: Database, *, runs: int, seconds: float) -> None:
    """Before (the old query path) and after, scenario by scenario, interleaved so that both see the same
    machine; then the mix as a whole."""
    clock = StatementClock(database.engine)
    print(
        f"\nsearch_catalogue, in-process, up to {runs} runs or {seconds:.0f} s per scenario and path after one "
        f"warm-up run (ms; SQL = statements per page; target p95 {TARGET_P95_MS[database.engine.dialect.name]} ms)"
    )
    print(f"{'scenario':<30} {'before p50':>10} {'p95':>7} {'SQL':>4}   {'after p50':>9} {'p95':>7} {'SQL':>4}  items")
    mix: dict[bool, list[float]] = {True: [], False: []}
    statements: dict[bool, int] = {True: 0, False: 0}
    for scenario in scenarios(wib_today(utcnow())):
        results = {}
        for old in (True, False):
            results[old] = await measure_scenario(database, clock, scenario, old=old, runs=runs, seconds=seconds)
            mix[old] += results[old].total
            statements[old] = max(statements[old], *results[old].statements, 0)
        after = results[False]
        same = " (same ids)" if results[True].ids == after.ids else ""
        print(
            f"{scenario.name:<30} {describe(results[True]):>27}   {describe(after):>26}  "
            f"{len(after.ids)}{'+' if after.has_more else ''}{same}"
        )
    print(f"load average while measuring: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    for old in (True, False):
        print(
            f"{'the mix, ' + ('before' if old else 'after'):<30} p50 {ms(percentile(mix[old], 0.5))}  "
            f"p95 {ms(percentile(mix[old], 0.95))}  at most {statements[old]} statements a page  "
            f"({len(mix[old])} searches)"
        )
    try:
        await print_plans(database, clock)
    finally:
        clock.close()


def sql_literal(value: Any) -> str:
    """A parameter written into SQL, for EXECUTE of a prepared statement (which takes no bound parameters)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date | datetime | clock_time):
        value = value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


async def print_plans(database: Database, clock: StatementClock) -> None:
    """The plan of the rows query, captured from a real call (the service builds it; we do not rebuild it).

    On PostgreSQL also the generic plan: the app's driver keeps statements prepared per connection, and from
    the sixth execution on PostgreSQL may run a plan made without the parameters' values.
    """
    postgres = database.engine.dialect.name == "postgresql"
    for scenario in (
        Scenario('"nasi box"', {"text": "nasi box"}),
        Scenario("nearest first, no text", {"sort": Sort.DISTANCE}),
    ):
        clock.reset()
        try:
            async with database.sessionmaker() as session:
                await search_catalogue(
                    session=session, query=CatalogueQuery(near=scenario.near, **scenario.filters), now=utcnow()
                )
        except DBAPIError as error:  # the statement was captured before it ran: its plan is what we are after
            if not is_statement_timeout(error):
                raise
        statement, parameters = next((s, p) for s, p in clock.captured if is_rows_query(s))
        async with database.engine.connect() as connection:
            if postgres:
                print(f"\nquery plan, {scenario.name} (EXPLAIN ANALYZE, planned with the parameters' values):")
                try:
                    result = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                    print("\n".join(f"  {line}" for (line,) in result))
                except DBAPIError as error:
                    if not is_statement_timeout(error):
                        raise
                    print(f"  (over the {STATEMENT_TIMEOUT_S} s statement timeout)")
                    await connection.rollback()
                print(f"\nquery plan, {scenario.name}, generic (EXPLAIN only, estimates):")
                await connection.exec_driver_sql(f"PREPARE bench_rows AS {statement}")
                await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
                arguments = ", ".join(sql_literal(value) for value in parameters)
                result = await connection.exec_driver_sql(f"EXPLAIN EXECUTE bench_rows({arguments})")
                print("\n".join(f"  {line}" for (line,) in result))
                await connection.exec_driver_sql("DEALLOCATE bench_rows")
            else:
                print(f"\nquery plan, {scenario.name}:")
                plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                depth: dict[int, int] = {0: 0}
                for step in plan.mappings():  # SQLite's columns: id, parent, notused, detail
                    depth[step["id"]] = depth.get(step["parent"], 0) + 1
                    print(f"  {'  ' * (depth[step['id']] - 1)}{step['detail']}")
        if scenario.filters.get("text"):
            print("  statement:")
            print("\n".join(f"    {line}" for line in statement.splitlines()))
            print(f"  parameters: {parameters}")


async def measure_page(url: str, media_dir: Path, *, runs: int, seconds: float) -> None:
    """The whole catalogue page through the app (routing, session, search, template, gzip), in-process."""
    settings = Settings(
        environment="test",
        database_url=url,
        media_dir=media_dir,
        password_hash_profile="fast",
        run_scheduled_jobs=False,
        api_rate_limit_per_minute=10_000_000,
    )
    app = create_app(settings)
    client_dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    path = "/catalogue?q=nasi+box"
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]  # Litestar types the ASGI scope more narrowly than httpx
            base_url="http://bench.local",
            headers={"Accept-Encoding": "gzip"},
        ) as client:
            # First visit: the page and what it links, compressed as sent (photos are not counted).
            page = await client.get(path)
            if page.status_code != 200:
                print(f"\nGET {path} answered {page.status_code}: no page figures")
                return
            total_bytes, requests = page.num_bytes_downloaded, 1
            lines = [
                (
                    f"    {path:<45} {page.num_bytes_downloaded:>7} B  {page.headers.get('content-encoding', '-')}"
                    f"  ({len(page.content):,} B uncompressed, {page.text.count(RESULT_MARK)} products)"
                )
            ]
            for asset in ASSET.findall(page.text):
                response = await client.get(asset)
                response.raise_for_status()
                total_bytes += response.num_bytes_downloaded
                requests += 1
                lines.append(
                    f"    {asset.split('?')[0]:<45} {response.num_bytes_downloaded:>7} B  "
                    f"{response.headers.get('content-encoding', '-')}"
                )
            print(f"\nfirst visit to {path}: {total_bytes:,} B in {requests} requests, gzip, photos not counted")
            print("\n".join(lines))
            print(f"\nwhole request, in-process, up to {runs} runs or {seconds:.0f} s after one warm-up (ms)")
            for name, headers in (
                (f"GET {path}", {}),
                ("same, as the search box asks (htmx results)", {"HX-Request": "true", "HX-Target": "results"}),
            ):
                timings: list[float] = []
                verdict = ""
                deadline = time.perf_counter() + seconds
                for run in range(runs + 1):
                    if time.perf_counter() > deadline:
                        break
                    started = time.perf_counter()
                    response = await client.get(path, headers=headers)
                    if response.status_code >= 500:  # on PostgreSQL: the statement timeout
                        verdict = f"   SLOW: request {run + 1} (the warm-up is 1) answered {response.status_code}"
                        break
                    response.raise_for_status()
                    if run:
                        timings.append(time.perf_counter() - started)
                p95 = percentile(timings, 0.95)
                verdict = verdict or ("   SLOW" if not p95 * 1000 <= TARGET_P95_MS[client_dialect] else "")
                print(f"{name:<46} {len(timings):>5} runs  p50 {ms(percentile(timings, 0.5))}  p95 {ms(p95)}{verdict}")
    finally:
        await app.state.database.dispose()


async def print_reach(database: Database) -> None:
    """How much each search has to look at: vendors that deliver to the buyer and their visible-looking products."""
    for name, place in (("at the zone", ZONE), ("at the edge", EDGE)):
        async with database.engine.connect() as connection:
            vendors, products = (
                await connection.execute(
                    text(
                        "SELECT count(DISTINCT vendor.id), count(product.id) FROM vendor "
                        "LEFT JOIN product ON product.vendor_id = vendor.id AND product.status = 'live' "
                        "WHERE vendor.status = 'active' "
                        "AND great_circle_km(:lat, :lon, vendor.latitude, vendor.longitude) <= vendor.delivery_radius_km"
                    ),
                    {"lat": place.latitude, "lon": place.longitude},
                )
            ).one()
        print(f"buyer {name}: {vendors:,} vendors deliver there, with {products:,} live products")


async def run_bench(url: str, media_dir: Path, args: argparse.Namespace, *, before_measuring: Any = None) -> None:
    database = Database(url)
    try:
        await seed(database, vendors=args.vendors, products=args.products)
        await print_reach(database)
    finally:
        await database.dispose()
    if before_measuring is not None:
        await before_measuring()
    database = Database(url)  # new connections, so they pick up settings made after seeding
    try:
        await measure_searches(database, runs=args.runs, seconds=args.seconds)
    finally:
        await database.dispose()
    await measure_page(url, media_dir, runs=args.runs, seconds=args.seconds)


# ---------------------------------------------------------------------------------------------- databases


def server_dsn(server_url: str) -> str:
    """A plain postgresql:// address of the given server for asyncpg, whatever driver the URL names."""
    return make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def on_server(server_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(server_dsn(server_url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def bench_sqlite(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="catalogue-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        print(f"=== SQLite {sqlite3.sqlite_version} ({url})")
        migrate.upgrade(url)  # runs its own event loop
        asyncio.run(run_bench(url, Path(tmp) / "media", args))


def bench_postgres(args: argparse.Namespace) -> None:
    asyncio.run(
        on_server(
            args.postgres,
            f"DROP DATABASE IF EXISTS {args.database_name} WITH (FORCE)",
            f"CREATE DATABASE {args.database_name}",
        )
    )
    try:
        url = make_url(args.postgres).set(drivername="postgresql+asyncpg", database=args.database_name)
        print(f"\n=== PostgreSQL ({url.render_as_string(hide_password=True)})")
        migrate.upgrade(url.render_as_string(hide_password=False))

        async def limit_statements() -> None:
            # Bounds each run: a plan that takes minutes is reported as such instead of stalling the bench.
            await on_server(
                args.postgres, f"ALTER DATABASE {args.database_name} SET statement_timeout = '{STATEMENT_TIMEOUT_S}s'"
            )

        with tempfile.TemporaryDirectory(prefix="catalogue-bench-") as tmp:
            asyncio.run(
                run_bench(
                    url.render_as_string(hide_password=False),
                    Path(tmp) / "media",
                    args,
                    before_measuring=limit_statements,
                )
            )
    finally:
        asyncio.run(on_server(args.postgres, f"DROP DATABASE IF EXISTS {args.database_name} WITH (FORCE)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help=f"a PostgreSQL server to also run on (a database {BENCH_DATABASE} is created there)",
    )
    parser.add_argument(
        "--database-name", default=BENCH_DATABASE, help="the database made (and dropped) on the PostgreSQL server"
    )
    parser.add_argument("--postgres-only", action="store_true", help="skip SQLite")
    parser.add_argument("--vendors", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=100, help="runs per scenario at most")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per scenario (and path) at most")
    args = parser.parse_args()
    if not args.postgres_only:
        bench_sqlite(args)
    if args.postgres:
        bench_postgres(args)


if __name__ == "__main__":
    main()
