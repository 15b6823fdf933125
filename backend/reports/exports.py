"""CSV exports of the reports, for a spreadsheet or another system: Indonesian column names, dates as
YYYY-MM-DD, rupiah as plain integers ("nilai_rupiah": 2600000, never "Rp 2.600.000"), comma-separated and quoted
by the csv module, UTF-8 with a byte order mark so Excel reads the accents right."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backend.reports.service import CanteenSpend, VendorSales, ZoneDashboard

MEDIA_TYPE = "text/csv; charset=utf-8"


@dataclass
class CsvFile:
    filename: str
    content: bytes

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Disposition": f'attachment; filename="{self.filename}"'}


# A cell a spreadsheet would run as a formula: names typed by other people (a vendor's business name in a
# canteen's export) must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _span(report: VendorSales | CanteenSpend | ZoneDashboard) -> str:
    return f"{report.start.isoformat()}_{report.end.isoformat()}"


def sales_by_day(sales: VendorSales) -> CsvFile:
    return CsvFile(f"penjualan-harian_{_span(sales)}.csv", _csv(
        ["tanggal", "pesanan", "jumlah_barang", "nilai_rupiah"],
        ((d.day.isoformat(), d.orders, d.quantity, d.value) for d in sales.days)))


def sales_by_product(sales: VendorSales) -> CsvFile:
    return CsvFile(f"penjualan-produk_{_span(sales)}.csv", _csv(
        ["produk", "satuan", "jumlah", "nilai_rupiah"],
        ((p.name, p.unit, p.quantity, p.value) for p in sales.products)))


def canteen_spend(spend: CanteenSpend) -> CsvFile:
    return CsvFile(f"belanja-kantin_{_span(spend)}.csv", _csv(
        ["awal_bulan", "penjual", "pesanan", "nilai_rupiah"],
        ((r.month.isoformat(), r.vendor_name, r.orders, r.value) for r in spend.rows)))


def zone_weeks(dashboard: ZoneDashboard) -> CsvFile:
    return CsvFile(f"kawasan-{dashboard.zone_code.lower()}-mingguan_{_span(dashboard)}.csv", _csv(
        ["minggu_iso", "awal_minggu", "pesanan", "nilai_rupiah", "dibeli_pembeli_kawasan_rupiah",
         "dari_penjual_kawasan_rupiah"],
        ((w.iso_week, w.week_start.isoformat(), w.orders, w.value, w.bought_in_zone, w.bought_locally)
         for w in dashboard.weeks)))
