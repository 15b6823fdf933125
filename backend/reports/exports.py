"""CSV exports of the reports, for a spreadsheet or another system: Indonesian column names, dates as
YYYY-MM-DD, rupiah as plain integers ("nilai_rupiah": 2600000, never "Rp 2.600.000"), comma-separated with
every cell quoted, UTF-8 with a byte order mark so Excel reads the accents right."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backend.reports.funnel import STEPS, FunnelStep, ZoneFunnel
from backend.reports.service import CanteenSpend, OrderList, VendorSales, ZoneDashboard

MEDIA_TYPE = "text/csv; charset=utf-8"


@dataclass
class CsvFile:
    filename: str
    content: bytes

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Disposition": f'attachment; filename="{self.filename}"'}


# A cell a spreadsheet would run as a formula: names typed by other people (a vendor's business name in a
# canteen's export) must stay text. Spreadsheets read the fullwidth forms (＝ ＋ － ＠) as these too, so the
# decision is taken on the NFKC form, after any spaces or quotes a spreadsheet would skip.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet may begin a new cell inside one of ours. Opened with ";" as the separator (Indonesian
# settings), a comma-separated file's quotes no longer line up, so quoting alone does not keep "a;=1+1" whole.
_CELL_BREAK = re.compile(r"([,;\n\r])")


def _starts_formula(text: str) -> bool:
    return unicodedata.normalize("NFKC", text).lstrip(' "').startswith(_FORMULA_START)


def _cell(value: object) -> object:
    """The value as an inert cell: a ' before its start, and before whatever follows a separator or a line break
    in it, when a spreadsheet would read that as a formula. Numbers are left as they are."""
    if not isinstance(value, str):
        return value
    pieces = _CELL_BREAK.split(value)  # text, break, text, break, …, text
    text = "".join(
        "'" + piece if index % 2 == 0 and index > 0 and _starts_formula(piece) else piece
        for index, piece in enumerate(pieces)
    )
    return "'" + text if _starts_formula(text) else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    # Every cell quoted, so a separator inside one (either of them) is text wherever the quotes are honoured.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _span(report: VendorSales | CanteenSpend | OrderList | ZoneDashboard | ZoneFunnel) -> str:
    return f"{report.start.isoformat()}_{report.end.isoformat()}"


def sales_by_day(sales: VendorSales) -> CsvFile:
    return CsvFile(
        f"penjualan-harian_{_span(sales)}.csv",
        _csv(
            ["tanggal", "pesanan", "jumlah_barang", "nilai_rupiah"],
            ((d.day.isoformat(), d.orders, d.quantity, d.value) for d in sales.days),
        ),
    )


def sales_by_product(sales: VendorSales) -> CsvFile:
    return CsvFile(
        f"penjualan-produk_{_span(sales)}.csv",
        _csv(
            ["produk", "satuan", "jumlah", "nilai_rupiah"],
            ((p.name, p.unit, p.quantity, p.value) for p in sales.products),
        ),
    )


def canteen_spend(spend: CanteenSpend) -> CsvFile:
    return CsvFile(
        f"belanja-kantin_{_span(spend)}.csv",
        _csv(
            ["awal_bulan", "penjual", "pesanan", "nilai_rupiah"],
            ((r.month.isoformat(), r.vendor_name, r.orders, r.value) for r in spend.rows),
        ),
    )


def _order_list(orders: OrderList, other_party: str) -> bytes:
    return _csv(
        [
            "nomor_pesanan",
            "tanggal_pesan",
            "tanggal_kirim",
            "jam_kirim",
            other_party,
            "status",
            "nomor_po",
            "ongkir_rupiah",
            "dikembalikan_rupiah",
            "nilai_rupiah",
        ],
        (
            (
                r.number,
                r.ordered_on.isoformat(),
                r.delivery_day.isoformat(),
                r.delivery_slot,
                r.other_party,
                r.status,
                r.po_number,
                r.delivery_fee,
                r.given_back,
                r.value,
            )
            for r in orders.rows
        ),
    )


def canteen_orders(orders: OrderList) -> CsvFile:
    return CsvFile(f"pesanan-kantin_{_span(orders)}.csv", _order_list(orders, "penjual"))


def vendor_orders(orders: OrderList) -> CsvFile:
    return CsvFile(f"pesanan-penjual_{_span(orders)}.csv", _order_list(orders, "pembeli"))


def zone_weeks(dashboard: ZoneDashboard) -> CsvFile:
    return CsvFile(
        f"kawasan-{dashboard.zone_code.lower()}-mingguan_{_span(dashboard)}.csv",
        _csv(
            [
                "minggu_iso",
                "awal_minggu",
                "pesanan",
                "nilai_rupiah",
                "dibeli_pembeli_kawasan_rupiah",
                "dari_penjual_kawasan_rupiah",
            ],
            (
                (w.iso_week, w.week_start.isoformat(), w.orders, w.value, w.bought_in_zone, w.bought_locally)
                for w in dashboard.weeks
            ),
        ),
    )


# The funnel's steps as the CSV's column names.
FUNNEL_COLUMNS = {
    FunnelStep.REGISTERED: "baris_register",
    FunnelStep.INVITED: "diundang",
    FunnelStep.SIGNED_UP: "mendaftar",
    FunnelStep.CERTIFIED: "bersertifikat",
    FunnelStep.LISTED: "produk_tayang",
    FunnelStep.FIRST_SALE: "penjualan_pertama",
    FunnelStep.REPEAT_BUYER: "pembeli_kembali",
}


def funnel_cells(funnel: ZoneFunnel) -> CsvFile:
    """The register rows reaching each step per month, kecamatan and category (only those with something)."""
    return CsvFile(
        f"corong-{funnel.zone_code.lower()}_{_span(funnel)}.csv",
        _csv(
            ["awal_bulan", "kecamatan", "kategori", *(FUNNEL_COLUMNS[step] for step in STEPS)],
            (
                (cell.month.isoformat(), cell.kecamatan, cell.category, *(cell.counts[step] for step in STEPS))
                for cell in funnel.cells
            ),
        ),
    )


def funnel_months(funnel: ZoneFunnel) -> CsvFile:
    """Each month's steps and the zone's canteen spend with its local part (the share as a per cent, "" without
    spend)."""
    return CsvFile(
        f"corong-{funnel.zone_code.lower()}-bulanan_{_span(funnel)}.csv",
        _csv(
            [
                "awal_bulan",
                *(FUNNEL_COLUMNS[step] for step in STEPS),
                "belanja_kantin_rupiah",
                "dari_umkm_kabupaten_rupiah",
                "porsi_umkm_kabupaten_persen",
            ],
            (
                (
                    m.month.isoformat(),
                    *(m.counts[step] for step in STEPS),
                    m.canteen_spend,
                    m.local_spend,
                    "" if m.local_share is None else m.local_share,
                )
                for m in funnel.months
            ),
        ),
    )
