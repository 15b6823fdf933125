"""Reports as people use them: a caterer looks at what sold per day and per product, a canteen at what it spent
with each vendor per month, a zone manager at the zone's dashboard; each downloads a CSV a spreadsheet reads back
to the same integers and dates, and sees a chart.

Orders are placed on the fixed clock of tests/orders/conftest.py (Monday 23 November 2026), for delivery on
Wednesday 25 November (ISO week 48) and Tuesday 1 December (week 49); pages are asked for that period."""

from __future__ import annotations

import csv
import io
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from backend.accounts import service as account_service
from backend.accounts.models import Role
from backend.catalog.models import ListingStatus, Product
from backend.certification.models import Certificate
from backend.clock import utcnow, wib_today
from backend.errors import NotFound, ValidationFailed
from backend.orders.claim_models import ClaimKind
from backend.orders.claims import ClaimAction
from backend.orders.models import Order, OrderLine, OrderStatus
from backend.orders.states import change_status
from backend.payments.models import LedgerEntry
from backend.reports import charts, exports, service
from backend.reports.charts import Bar, bar_chart
from backend.vendors.models import Vendor
from tests.conftest import log_in
from tests.orders.conftest import NEXT_MONDAY, NOW, catering, ordering  # noqa: F401  (fixtures)
from tests.orders.test_delivery_claims import act as act_on_claim
from tests.orders.test_delivery_claims import report as report_claim

WED = date(2026, 11, 25)  # ISO week 48
TUE = date(2026, 12, 1)  # ISO week 49
START, END = date(2026, 11, 23), date(2026, 12, 6)  # weeks 48 and 49
TODAY = NOW.date()
SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Story:
    zone: Any
    other_zone: Any
    seller: Any
    snacks: Any
    far_seller: Any
    canteen_buyer: Any
    worker: Any
    orders: dict[str, Order]


async def move(database, order_id: int, actor, *targets: OrderStatus, reason: str = "") -> None:
    async with database.sessionmaker() as session:
        for target in targets:
            await change_status(
                session=session,
                order_id=order_id,
                target=target,
                actor=actor,
                reason=reason,
                now=NOW,
                today=NEXT_MONDAY,
            )
        await session.commit()


@pytest.fixture
async def story(world, database, zone, ordering, catering) -> Story:  # noqa: F811
    """Catering Bu Sri (nasi box, es teh) and Keripik Mbak Yuni sell in KITB; Bandeng Presto Bu Nur is a vendor
    of another zone nearby. A canteen and a worker of KITB order; one order is cancelled, one declined."""
    seller, nasi = catering
    es_teh = await world.live_product(
        seller, "Es Teh Manis", category="drinks", unit="pcs", price=5000, fulfilment="ready_stock", stock=100
    )
    snacks = await world.seller(zone, business_name="Keripik Mbak Yuni")
    keripik = await world.live_product(
        snacks, "Keripik Tempe", category="snacks", unit="pack", price=8000, fulfilment="ready_stock", stock=100
    )
    other_zone = await world.zone("KIW", name="Kawasan Industri Wiradesa")
    far_seller = await world.seller(other_zone, business_name="Bandeng Presto Bu Nur")
    async with database.sessionmaker() as session:  # Wiradesa lies in the neighbouring regency
        await session.execute(
            update(Vendor).where(col(Vendor.id) == far_seller.vendor.id).values(regency="Kabupaten Pekalongan")
        )
        await session.commit()
    bandeng = await world.live_product(
        far_seller, "Bandeng Presto", category="frozen", price=30000, fulfilment="ready_stock", stock=100
    )
    # Two more vendors of KITB: one without certificates (with a listing waiting for review), one whose only
    # certificate expired yesterday.
    uncertified = await world.seller(zone, business_name="Peyek Bu Tini", certificates=())
    peyek = await world.live_product(
        uncertified, "Peyek Kacang", category="snacks", unit="pack", price=10000, fulfilment="ready_stock", stock=10
    )
    expired = await world.seller(zone, business_name="Jahit Bu Ani")
    # Expired the day before the report is read: on the story's day (the services) or on the real one (the pages).
    expired_on = min(TODAY, wib_today(utcnow())) - timedelta(days=1)
    async with database.sessionmaker() as session:
        await session.execute(
            update(Product).where(col(Product.id) == peyek.id).values(status=ListingStatus.PENDING_REVIEW)
        )
        await session.execute(
            update(Certificate).where(col(Certificate.vendor_id) == expired.vendor.id).values(expires_on=expired_on)
        )
        await session.commit()

    buyer = await ordering.canteen_buyer("Kantin PT Sinar")
    worker = await world.user(Role.WORKER, zone=zone)
    gate = await ordering.gate()
    orders = {
        "a": await ordering.order(buyer, nasi.id, 200, day=WED),  # 200 × 13.000
        "c": await ordering.order(worker, nasi.id, 10, day=WED, point_id=gate.id),  # 10 × 15.000
        "d": await ordering.order(buyer, nasi.id, 100, day=WED),  # cancelled below
        "e": await ordering.order(worker, nasi.id, 10, day=TUE, point_id=gate.id),  # declined below
        "f": await ordering.order(buyer, keripik.id, 25, day=TUE),  # 25 × 8.000
        "g": await ordering.order(buyer, bandeng.id, 10, day=TUE),  # 10 × 30.000, another zone's vendor
    }
    await ordering.put_in_cart(buyer, nasi.id, 50)  # 50 × 14.000 …
    await ordering.put_in_cart(buyer, es_teh.id, 20)  # … and 20 × 5.000 in one order
    orders["b"] = (await ordering.checkout(buyer, day=TUE)).orders[0]
    await move(database, orders["a"].id, seller.user, OrderStatus.ACCEPTED, OrderStatus.READY, OrderStatus.DELIVERED)
    await move(database, orders["a"].id, buyer, OrderStatus.COMPLETED)
    await move(database, orders["b"].id, seller.user, OrderStatus.ACCEPTED)
    await move(database, orders["d"].id, buyer, OrderStatus.CANCELLED, reason="Salah jumlah")
    await move(database, orders["e"].id, seller.user, OrderStatus.DECLINED, reason="Libur")
    return Story(
        zone=zone,
        other_zone=other_zone,
        seller=seller,
        snacks=snacks,
        far_seller=far_seller,
        canteen_buyer=buyer,
        worker=worker,
        orders=orders,
    )


def parse_csv(body: bytes, delimiter: str = ",") -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark, for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=delimiter))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_cells(body: bytes) -> list[str]:
    """Cells a spreadsheet would run, whether it opens the file with a comma or (as Indonesian settings do) a
    semicolon as the separator, and whatever width their first character is typed in."""
    return [
        cell
        for delimiter in (",", ";")
        for row in parse_csv(body, delimiter)
        for cell in row
        if unicodedata.normalize("NFKC", cell).lstrip(" ").startswith(FORMULA_START)
    ]


def svg_bars(html: str) -> list[ET.Element]:
    start = html.index("<svg xmlns=")  # the chart; the navigation's icons are plain <svg class="icon">
    chart = ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])
    assert chart.get("role") == "img" and chart.get("aria-label")
    return [rect for rect in chart.iter(f"{SVG}rect") if rect.get("class") == "bar"]


async def bearer(database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="laporan")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


# --- the services ---------------------------------------------------------------------------------------


async def test_the_caterer_sees_sales_per_day_and_per_product_without_cancelled_or_declined_orders(database, story):
    async with database.sessionmaker() as session:
        sales = await service.vendor_sales(
            session=session, vendor=story.seller.vendor, start=START, end=END, today=TODAY
        )
    assert len(sales.days) == 14
    by_day = {d.day: (d.orders, d.quantity, d.value) for d in sales.days if d.orders}
    assert by_day == {WED: (2, 210, 2_750_000), TUE: (1, 70, 800_000)}
    assert [(p.name, p.unit, p.quantity, p.value) for p in sales.products] == [
        ("Nasi Box Ayam Bakar", "box", 260, 3_450_000),
        ("Es Teh Manis", "pcs", 20, 100_000),
    ]
    assert (sales.orders, sales.value) == (3, 3_550_000)


async def test_the_default_periods_end_today():
    assert service.last_days(TODAY) == (date(2026, 10, 25), TODAY)
    assert service.last_weeks(TODAY) == (date(2026, 9, 7), date(2026, 11, 29))
    assert service.last_months(TODAY) == (date(2025, 12, 1), date(2026, 11, 30))
    assert service.last_months(date(2027, 1, 31)) == (date(2026, 2, 1), date(2027, 1, 31))


async def test_the_canteen_sees_its_spend_per_vendor_and_month(database, story):
    async with database.sessionmaker() as session:
        spend = await service.canteen_spend(
            session=session, actor=story.canteen_buyer, start=date(2026, 11, 1), end=date(2026, 12, 31), today=TODAY
        )
    assert [(r.month, r.vendor_name, r.orders, r.value) for r in spend.rows] == [
        (date(2026, 11, 1), "Catering Bu Sri", 1, 2_600_000),
        (date(2026, 12, 1), "Catering Bu Sri", 1, 800_000),
        (date(2026, 12, 1), "Bandeng Presto Bu Nur", 1, 300_000),
        (date(2026, 12, 1), "Keripik Mbak Yuni", 1, 200_000),
    ]
    assert [(m.key, m.orders, m.value) for m in spend.months] == [("2026-11", 1, 2_600_000), ("2026-12", 3, 1_300_000)]
    assert [(v.key, v.value) for v in spend.vendors] == [
        ("Catering Bu Sri", 3_400_000),
        ("Bandeng Presto Bu Nur", 300_000),
        ("Keripik Mbak Yuni", 200_000),
    ]
    assert spend.organisation_name == "Kantin PT Sinar"


async def test_the_zone_dashboard_counts_vendors_listings_weeks_and_the_local_share(database, story, manager):
    async with database.sessionmaker() as session:
        board = await service.zone_dashboard(session=session, actor=manager, start=START, end=END, today=TODAY)
    assert (board.active_vendors, board.certified_vendors, board.certified_share) == (4, 2, 50.0)
    assert (board.live_listings, board.pending_listings) == (3, 1)
    assert [(w.iso_week, w.week_start, w.orders, w.value, w.bought_in_zone, w.bought_locally) for w in board.weeks] == [
        ("2026-W48", date(2026, 11, 23), 2, 2_750_000, 2_750_000, 2_750_000),
        ("2026-W49", date(2026, 11, 30), 2, 1_000_000, 1_300_000, 1_000_000),
    ]
    # 3.750.000 of the 4.050.000 the zone's buyers spent went to UMKM of Kabupaten Batang.
    assert board.local_share == 92.6
    # The regency counts, not the zone a vendor registered in: Bu Nur from Batang selling through Wiradesa is local.
    async with database.sessionmaker() as session:
        await session.execute(
            update(Vendor).where(col(Vendor.id) == story.far_seller.vendor.id).values(regency="Kabupaten Batang")
        )
        await session.commit()
        board = await service.zone_dashboard(session=session, actor=manager, start=START, end=END, today=TODAY)
    assert board.local_share == 100.0


async def test_a_manager_sees_only_their_own_zone(database, story, world):
    stranger = await world.user(Role.MANAGER, zone=story.other_zone)
    async with database.sessionmaker() as session:
        own = await service.zone_dashboard(session=session, actor=stranger, start=START, end=END, today=TODAY)
        assert (own.zone_code, own.orders, own.value, own.local_share) == ("KIW", 1, 300_000, None)
        with pytest.raises(NotFound):
            await service.zone_dashboard(session=session, actor=stranger, zone_id=story.zone.id, today=TODAY)


async def test_a_range_ending_before_it_starts_or_too_long_is_refused(database, story):
    async with database.sessionmaker() as session:
        for start, end in (
            (END, START),
            (date(2025, 1, 1), END),
            (date(9999, 12, 1), date(9999, 12, 31)),
            (date(1, 1, 1), date(1, 1, 31)),
        ):
            with pytest.raises(ValidationFailed):
                await service.vendor_sales(
                    session=session, vendor=story.seller.vendor, start=start, end=end, today=TODAY
                )


def test_the_chart_is_escaped_svg_with_one_bar_per_value():
    chart = bar_chart([Bar("1/12", 5, "<b>&"), Bar("2/12", 0, "nol")], summary='Penjualan "A" & <B>', top_label="Rp 5")
    root = ET.fromstring(str(chart))
    bars = list(root.iter(f"{SVG}rect"))
    assert [float(b.attrib["height"]) for b in bars] == [charts.HEIGHT - charts.TOP - charts.BOTTOM, 0.0]
    assert bars[0].findtext(f"{SVG}title") == "<b>&"
    assert root.get("aria-label") == 'Penjualan "A" & <B>'


# --- the pages and downloads --------------------------------------------------------------------------

PERIOD = f"from={START.isoformat()}&to={END.isoformat()}"


async def test_the_caterer_reads_the_report_page_and_downloads_both_csv_files(client, story, count_queries):
    await log_in(client, story.seller.user)
    home = await client.get("/vendor")
    assert 'href="/vendor/reports"' in home.text
    count_queries.statements.clear()
    response = await client.get(f"/vendor/reports?{PERIOD}")
    assert response.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    bars = svg_bars(response.text)
    assert len(bars) == 14  # one per day
    assert [int(b.attrib["data-value"]) for b in bars][2] == 2_750_000  # Wednesday 25 November
    assert "Rp 3.450.000" in response.text and 'data-value="3550000"' in response.text

    by_day = await client.get(f"/vendor/reports/sales-by-day.csv?{PERIOD}")
    assert by_day.headers["content-type"].startswith("text/csv")
    assert 'filename="penjualan-harian_2026-11-23_2026-12-06.csv"' in by_day.headers["content-disposition"]
    rows = parse_csv(by_day.content)
    assert rows[0] == ["tanggal", "pesanan", "jumlah_barang", "nilai_rupiah"]
    assert len(rows) == 15
    assert {(date.fromisoformat(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows[1:] if r[1] != "0"} == {
        (WED, 2, 210, 2_750_000),
        (TUE, 1, 70, 800_000),
    }

    by_product = parse_csv((await client.get(f"/vendor/reports/sales-by-product.csv?{PERIOD}")).content)
    assert by_product == [
        ["produk", "satuan", "jumlah", "nilai_rupiah"],
        ["Nasi Box Ayam Bakar", "box", "260", "3450000"],
        ["Es Teh Manis", "pcs", "20", "100000"],
    ]


async def test_a_reversed_range_shows_the_usual_period_with_a_message(client, story):
    await log_in(client, story.seller.user)
    response = await client.get(f"/vendor/reports?from={END}&to={START}")
    assert response.status_code == 400
    assert len(svg_bars(response.text)) == 30


async def test_the_canteen_reads_its_spend_and_downloads_it(client, story, count_queries):
    await log_in(client, story.canteen_buyer)
    assert 'href="/canteen/reports"' in (await client.get("/canteen")).text
    count_queries.statements.clear()
    response = await client.get("/canteen/reports?from=2026-11-01&to=2026-12-31")
    assert response.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    assert [int(b.attrib["data-value"]) for b in svg_bars(response.text)] == [2_600_000, 1_300_000]
    rows = parse_csv((await client.get("/canteen/reports/spend.csv?from=2026-11-01&to=2026-12-31")).content)
    assert rows[0] == ["awal_bulan", "penjual", "pesanan", "nilai_rupiah"]
    assert sum(int(r[3]) for r in rows[1:]) == 3_900_000
    assert rows[1] == ["2026-11-01", "Catering Bu Sri", "1", "2600000"]


async def test_the_manager_reads_the_zone_dashboard_and_downloads_the_weeks(client, story, manager, count_queries):
    await log_in(client, manager)
    assert 'href="/manager/dashboard"' in (await client.get("/manager")).text
    count_queries.statements.clear()
    response = await client.get(f"/manager/dashboard?{PERIOD}")
    assert response.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    for marker in (
        'data-active-vendors="4"',
        'data-certified-vendors="2"',
        'data-live-listings="3"',
        'data-pending-listings="1"',
        'data-local-share="92.6"',
        'data-value="3750000"',
    ):
        assert marker in response.text
    assert [int(b.attrib["data-value"]) for b in svg_bars(response.text)] == [2_750_000, 1_000_000]
    rows = parse_csv((await client.get(f"/manager/dashboard/weeks.csv?{PERIOD}")).content)
    assert rows == [
        [
            "minggu_iso",
            "awal_minggu",
            "pesanan",
            "nilai_rupiah",
            "dibeli_pembeli_kawasan_rupiah",
            "dari_penjual_kawasan_rupiah",
        ],
        ["2026-W48", "2026-11-23", "2", "2750000", "2750000", "2750000"],
        ["2026-W49", "2026-11-30", "2", "1000000", "1300000", "1000000"],
    ]


async def test_another_zones_manager_and_other_roles_are_kept_out(client, world, story):
    stranger = await world.user(Role.MANAGER, zone=story.other_zone)
    await log_in(client, stranger)
    assert (await client.get(f"/manager/dashboard?zone={story.zone.id}")).status_code == 404
    assert (await client.get(f"/manager/dashboard/weeks.csv?zone={story.zone.id}")).status_code == 404
    own = await client.get(f"/manager/dashboard?{PERIOD}")
    assert "KIW" in own.text and 'data-value="300000"' in own.text
    await log_in(client, story.worker)
    for path in ("/vendor/reports", "/canteen/reports", "/manager/dashboard", "/canteen/reports/spend.csv"):
        assert (await client.get(path)).status_code == 403, path


async def test_an_admin_picks_any_zone(client, story, admin, count_queries):
    await log_in(client, admin)
    assert 'href="/manager/dashboard"' in (await client.get("/admin")).text
    count_queries.statements.clear()
    response = await client.get(f"/manager/dashboard?zone={story.other_zone.id}&{PERIOD}")
    assert response.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    assert f'<option value="{story.other_zone.id}" selected>' in response.text
    assert 'data-value="300000"' in response.text
    assert (await client.get("/manager/dashboard?zone=999999")).status_code == 404


# --- the API ------------------------------------------------------------------------------------------


async def test_the_api_gives_the_same_figures(client, database, story, manager, world):
    period = {"from": START.isoformat(), "to": END.isoformat()}
    sales = await client.get(
        "/api/v1/reports/vendor-sales", params=period, headers=await bearer(database, story.seller.user)
    )
    assert sales.status_code == 200, sales.text
    assert (sales.json()["orders"], sales.json()["value"]) == (3, 3_550_000)
    assert {"day": "2026-11-25", "orders": 2, "quantity": 210, "value": 2_750_000} in sales.json()["days"]

    spend = await client.get(
        "/api/v1/reports/canteen-spend",
        headers=await bearer(database, story.canteen_buyer),
        params={"from": "2026-11-01", "to": "2026-12-31"},
    )
    assert spend.status_code == 200 and spend.json()["value"] == 3_900_000

    board = await client.get("/api/v1/reports/zone-dashboard", params=period, headers=await bearer(database, manager))
    assert board.status_code == 200
    assert (board.json()["active_vendors"], board.json()["local_share"]) == (4, 92.6)
    stranger = await world.user(Role.MANAGER, zone=story.other_zone)
    refused = await client.get(
        "/api/v1/reports/zone-dashboard", params={"zone": story.zone.id}, headers=await bearer(database, stranger)
    )
    assert refused.status_code == 404
    assert (
        await client.get("/api/v1/reports/canteen-spend", headers=await bearer(database, manager))
    ).status_code == 403
    bad = await client.get(
        "/api/v1/reports/vendor-sales",
        params={"from": "2026-12-06", "to": "2026-11-23"},
        headers=await bearer(database, story.seller.user),
    )
    assert bad.status_code in (400, 422)


def test_csv_files_name_their_period():
    sales = service.VendorSales(vendor_id=1, vendor_name="x", start=START, end=END, days=[], products=[])
    assert (
        exports.sales_by_day(sales).headers["Content-Disposition"]
        == 'attachment; filename="penjualan-harian_2026-11-23_2026-12-06.csv"'
    )


def test_names_typed_by_others_stay_text_in_a_spreadsheet():
    body = exports._csv(
        ["penjual", "nilai_rupiah"], [['=HYPERLINK("http://evil","x")', 1000], ["-2+3", 5], ["Catering Bu Sri", 7]]
    )
    assert parse_csv(body)[1:] == [
        ['\'=HYPERLINK("http://evil","x")', "1000"],
        ["'-2+3", "5"],
        ["Catering Bu Sri", "7"],
    ]


TYPED_BY_OTHERS = [
    "＝1+1",
    "＋62 812",
    "－5",
    "＠SUM(A1:A9)",
    "=1+1",
    "+1",
    "-2+3",
    "@A1",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "a;=1+1",
    "a,=1+1",
    'Kue; ＝HYPERLINK("http://evil")',
    "a;\t=1",
    "baris\n=1+1",
    'kutip";=1+1',
    "Catering Bu Sri",
]


def test_no_name_becomes_a_formula_whichever_separator_the_spreadsheet_uses():
    body = exports._csv(["penjual", "nilai_rupiah"], [[name, 1000] for name in TYPED_BY_OTHERS])
    assert formula_cells(body) == []
    rows = parse_csv(body)
    assert [row[1] for row in rows[1:]] == ["1000"] * len(TYPED_BY_OTHERS)  # figures stay figures
    assert rows[1][0] == "'＝1+1" and rows[-1][0] == "Catering Bu Sri"
    assert rows[TYPED_BY_OTHERS.index("a;=1+1") + 1][0].replace("'", "") == "a;=1+1"


async def test_a_vendor_named_like_a_formula_stays_text_in_the_canteens_spend(client, database, story):
    async with database.sessionmaker() as session:
        await session.execute(update(Vendor).where(Vendor.id == story.snacks.vendor.id).values(business_name="＝1+1"))
        await session.execute(
            update(Vendor)
            .where(Vendor.id == story.far_seller.vendor.id)
            .values(business_name='Bandeng; =HYPERLINK("http://evil")')
        )
        await session.commit()
    await log_in(client, story.canteen_buyer)
    body = (await client.get("/canteen/reports/spend.csv?from=2026-11-01&to=2026-12-31")).content
    assert formula_cells(body) == []
    names = [row[1] for row in parse_csv(body)[1:]]
    assert "'＝1+1" in names and "Catering Bu Sri" in names


async def test_a_short_delivery_given_back_comes_off_every_figure_as_it_does_in_the_ledger(
    client, database, story, manager
):
    """Order b (50 nasi box at Rp 14.000 and 20 es teh, Rp 800.000, Tuesday) arrives 5 box short; the vendor
    agrees, so Rp 70.000 is given back: the vendor's sales, the canteen's spend, the zone's figures and the
    exports count Rp 730.000 for it, the gross the ledger enters when it completes."""
    order = story.orders["b"]
    async with database.sessionmaker() as session:
        for target in (OrderStatus.READY, OrderStatus.DELIVERED):
            await change_status(
                session=session, order_id=order.id, target=target, actor=story.seller.user, now=NOW, today=TUE
            )
        await session.commit()
        nasi_line = (
            await session.execute(
                select(OrderLine).where(
                    col(OrderLine.order_id) == order.id, col(OrderLine.product_name) == "Nasi Box Ayam Bakar"
                )
            )
        ).scalar_one()
    await report_claim(database, story.canteen_buyer, order, nasi_line, quantity=5, kind=ClaimKind.SHORT)
    settled = await act_on_claim(database, story.seller.user, order, ClaimAction.ACCEPT)
    assert settled.claim.amount == 70_000
    async with database.sessionmaker() as session:
        await change_status(
            session=session,
            order_id=order.id,
            target=OrderStatus.COMPLETED,
            actor=story.canteen_buyer,
            now=NOW,
            today=TUE,
        )
        await session.commit()
        ledger = {
            entry.account: entry.amount
            for entry in (
                await session.execute(select(LedgerEntry).where(col(LedgerEntry.order_id) == order.id))
            ).scalars()
        }
        assert ledger["clearing"] == -730_000

        sales = await service.vendor_sales(
            session=session, vendor=story.seller.vendor, start=START, end=END, today=TODAY
        )
        spend = await service.canteen_spend(
            session=session, actor=story.canteen_buyer, start=date(2026, 11, 1), end=date(2026, 12, 31), today=TODAY
        )
        board = await service.zone_dashboard(session=session, actor=manager, start=START, end=END, today=TODAY)
        vendor_rows = await service.vendor_orders(
            session=session, vendor=story.seller.vendor, start=START, end=END, today=TODAY
        )
        canteen_rows = await service.canteen_orders(
            session=session, actor=story.canteen_buyer, start=START, end=END, today=TODAY
        )
    assert {d.day: (d.orders, d.quantity, d.value) for d in sales.days if d.orders}[TUE] == (1, 65, 730_000)
    assert [(p.name, p.quantity, p.value) for p in sales.products] == [
        ("Nasi Box Ayam Bakar", 255, 3_380_000),
        ("Es Teh Manis", 20, 100_000),
    ]
    assert sales.value == 3_480_000
    assert (date(2026, 12, 1), "Catering Bu Sri", 1, 730_000) in [
        (r.month, r.vendor_name, r.orders, r.value) for r in spend.rows
    ]
    week_49 = board.weeks[1]
    assert (week_49.value, week_49.bought_in_zone, week_49.bought_locally) == (930_000, 1_230_000, 930_000)
    for rows in (vendor_rows.rows, canteen_rows.rows):
        (row,) = [r for r in rows if r.number == order.number]
        assert (row.value, row.given_back) == (730_000, 70_000)

    await log_in(client, story.seller.user)
    exported = parse_csv((await client.get(f"/vendor/reports/orders.csv?{PERIOD}")).content)
    assert exported[0][-2:] == ["dikembalikan_rupiah", "nilai_rupiah"]
    assert [r[-2:] for r in exported if r[0] == order.number] == [["70000", "730000"]]
