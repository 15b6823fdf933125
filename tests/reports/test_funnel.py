"""The district funnel as a zone manager reads it: how far the UMKM of the imported register have come (invited,
signed up, certified, listed, first sale, a buyer who came back), by kecamatan, by category and per month, and the
share of the zone's canteen spend that goes to the regency's own UMKM.

The seeded register of KITB (months of 2026, WIB):

| row | kecamatan | category | imported | invited | signed up | certified | listed | first sale | repeat |
| A   | Gringsing | catering | Sep      | Sep     | Oct       | Oct       | Oct    | Oct        | Nov    |
| B   | Gringsing | snacks   | Sep      | Oct     | Oct       | Nov       | Nov    | Nov        | -      |
| C   | Gringsing | catering | Sep      | Oct     | -         | -         | -      | -          | -      |
| D   | Limpung   | snacks   | Sep      | -       | Nov       | (waiting) | (wait) | -          | -      |
| E   | Limpung   | catering | Oct      | -       | -         | -         | -      | -          | -      |
| F   | Limpung   | snacks   | Aug      | Aug     | Aug       | Sep       | -      | -          | -      |

plus a row of another zone and a vendor of KITB who never was in the register (neither counts).
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.catalog.models import Product
from backend.certification.models import Certificate
from backend.clock import utcnow, wib_today
from backend.errors import Forbidden, NotFound, ValidationFailed
from backend.moderation import service as moderation
from backend.moderation.models import RegisterImport, VendorInvitation
from backend.orders.claim_models import ClaimKind
from backend.orders.claims import ClaimAction
from backend.orders.models import Order, OrderLine, OrderStatus
from backend.orders.states import change_status
from backend.reports.funnel import zone_funnel
from backend.vendors.models import Vendor
from backend.vendors.readiness import StepKey, vendor_readiness
from tests.conftest import csrf_token, found, log_in, sign_up
from tests.moderation.test_register_import import REGISTER, run_import
from tests.orders.conftest import NOW, ON_DELIVERY_DAY, Ordering
from tests.orders.test_delivery_claims import act as act_on_claim
from tests.orders.test_delivery_claims import report as report_claim
from tests.reports.test_reports import bearer

TODAY = date(2026, 11, 23)
SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
STEPS = ("registered", "invited", "signed_up", "certified", "listed", "first_sale", "repeat_buyer")


def at(month: int, day: int, hour: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def counts(*numbers: int) -> dict[str, int]:
    return dict(zip(STEPS, numbers, strict=True))


@dataclass
class Seeded:
    zone: Any
    manager: Any
    other_manager: Any
    vendors: dict[str, Any]


async def _row(session, zone, report, name: str, kecamatan: str, category: str, **fields: Any) -> VendorInvitation:
    row = VendorInvitation(
        zone_id=zone.id,
        business_name=name,
        owner_name=f"Pemilik {name}",
        phone=fields.pop("phone", f"+62812000{abs(hash(name)) % 100000:05d}"),
        kecamatan=kecamatan,
        desa="Desa",
        category=category,
        import_id=report.id,
        **fields,
    )
    session.add(row)
    return row


async def _deliver(database, order: Order, day: date, total: int, status: OrderStatus = OrderStatus.DELIVERED):
    async with database.sessionmaker() as session:
        await session.execute(
            update(Order).where(col(Order.id) == order.id).values(status=status, delivery_day=day, total=total)
        )
        await session.commit()


@pytest.fixture
async def seeded(world, database, zone, manager) -> Seeded:
    other_zone = await world.zone("KIW", name="Kawasan Industri Wiradesa")
    other_manager = await world.user(Role.MANAGER, zone=other_zone)
    sellers = {
        "A": await world.seller(zone, business_name="Catering A", certificates=("halal",)),
        "B": await world.seller(zone, business_name="Keripik B", certificates=("pirt",)),
        "D": await world.seller(zone, business_name="Peyek D", certificates=()),
        "F": await world.seller(zone, business_name="Rengginang F", certificates=("nib",)),
        "outsider": await world.seller(zone, business_name="Bukan Register", certificates=()),
        "far": await world.seller(other_zone, business_name="Bandeng Wiradesa", certificates=()),
    }
    products = {
        key: await world.live_product(sellers[key], f"Produk {key}", price=15000, min_order_qty=1)
        for key in ("A", "B", "outsider", "far")
    }
    async with database.sessionmaker() as session:
        report = RegisterImport(zone_id=zone.id, manager_id=manager.id, filename="umkm-batang.csv")
        other_report = RegisterImport(zone_id=other_zone.id, manager_id=other_manager.id, filename="umkm.csv")
        session.add_all([report, other_report])
        await session.flush()

        def claimed(key: str, when: datetime) -> dict[str, Any]:
            return {"phone": sellers[key].user.phone, "claimed_by_id": sellers[key].user.id, "claimed_at": when}

        await _row(session, zone, report, "Catering A", "Gringsing", "catering", created_at=at(9, 2),
                   invited_at=at(9, 30, 16), **claimed("A", at(10, 3)))  # fmt: skip
        await _row(session, zone, report, "Keripik B", "Gringsing", "snacks", created_at=at(9, 2),
                   invited_at=at(10, 1), **claimed("B", at(10, 9)))  # fmt: skip
        # Invited on 30 September at 18.00 UTC: 1 October, 01.00 WIB.
        await _row(session, zone, report, "Catering C", "Gringsing", "catering", created_at=at(9, 2),
                   invited_at=at(9, 30, 18))  # fmt: skip
        await _row(
            session, zone, report, "Peyek D", "Limpung", "snacks", created_at=at(9, 2), **claimed("D", at(11, 4))
        )
        # Imported on 31 October at 20.00 WIB: still October in the zone.
        await _row(session, zone, report, "Catering E", "Limpung", "catering", created_at=at(10, 31, 13))
        await _row(session, zone, report, "Rengginang F", "Limpung", "snacks", created_at=at(8, 5),
                   invited_at=at(8, 6), **claimed("F", at(8, 20)))  # fmt: skip
        await _row(session, other_zone, other_report, "Bandeng Wiradesa", "Wiradesa", "frozen", created_at=at(9, 2),
                   invited_at=at(9, 3), **claimed("far", at(10, 3)))  # fmt: skip

        # Verified certificates (A in October, B in November, F in September); D has none.
        for key, when in (("A", at(10, 5)), ("B", at(11, 2)), ("F", at(9, 10))):
            await session.execute(
                update(Certificate).where(col(Certificate.vendor_id) == sellers[key].vendor.id).values(verified_at=when)
            )
        # Approved listings: A's in October, B's in November.
        for key, when in (("A", at(10, 6)), ("B", at(11, 3)), ("outsider", at(10, 6)), ("far", at(10, 6))):
            await session.execute(update(Product).where(col(Product.id) == products[key].id).values(reviewed_at=when))
        await session.commit()
    await world.live_product(sellers["D"], "Peyek Kacang", price=10000)  # live below, then back in review
    async with database.sessionmaker() as session:
        await session.execute(
            update(Product).where(col(Product.vendor_id) == sellers["D"].vendor.id).values(status="pending_review")
        )
        await session.commit()

    ordering = Ordering(world=world, database=database, zone=zone)
    canteen = await world.organisation(zone, name="Kantin PT Sinar")
    staff_1 = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    staff_2 = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    worker_1 = await world.user(Role.WORKER, zone=zone)
    worker_2 = await world.user(Role.WORKER, zone=zone)
    gate = await ordering.gate()
    at_gate = {"point_id": gate.id}

    # A: a worker in October (the first sale), then the canteen twice in November, by two of its staff: the
    # canteen came back on 12 November.
    await _deliver(database, await ordering.order(worker_1, products["A"].id, 5, **at_gate), date(2026, 10, 20), 75000)
    await _deliver(database, await ordering.order(staff_1, products["A"].id, 20), date(2026, 11, 5), 300000)
    await _deliver(database, await ordering.order(staff_2, products["A"].id, 20), date(2026, 11, 12), 200000)
    # B: two workers once each (no repeat); the first worker's second order was cancelled.
    await _deliver(database, await ordering.order(worker_1, products["B"].id, 5, **at_gate), date(2026, 11, 6), 75000)
    await _deliver(database, await ordering.order(worker_2, products["B"].id, 5, **at_gate), date(2026, 11, 7), 75000)
    await _deliver(
        database,
        await ordering.order(worker_1, products["B"].id, 5, **at_gate),
        date(2026, 11, 9),
        75000,
        OrderStatus.CANCELLED,
    )
    # The canteen also buys from a vendor outside the register (Batang, local) and from Wiradesa's (Pekalongan).
    await _deliver(database, await ordering.order(staff_1, products["outsider"].id, 10), date(2026, 11, 12), 150000)
    async with database.sessionmaker() as session:
        await session.execute(
            update(Vendor).where(col(Vendor.id) == sellers["far"].vendor.id).values(regency="Kabupaten Pekalongan")
        )
        await session.commit()
    far = await ordering.order(staff_1, products["far"].id, 10)
    await _deliver(database, far, date(2026, 11, 12), 100000, OrderStatus.PLACED)  # a sale, not delivered yet
    cancelled = await ordering.order(staff_2, products["A"].id, 10)
    await _deliver(database, cancelled, date(2026, 11, 13), 999000, OrderStatus.CANCELLED)
    return Seeded(zone=zone, manager=manager, other_manager=other_manager, vendors=sellers)


async def funnel_of(database, actor, *, today: date = TODAY, **kwargs: Any):
    async with database.sessionmaker() as session:
        return await zone_funnel(session=session, actor=actor, today=today, **kwargs)


async def test_the_funnel_counts_each_step_of_the_seeded_register(database, seeded):
    funnel = await funnel_of(database, seeded.manager, start=SEP, end=date(2026, 11, 30))

    assert (funnel.start, funnel.end) == (SEP, date(2026, 11, 30))
    assert funnel.steps == list(STEPS)
    assert funnel.counts == counts(5, 3, 3, 3, 2, 2, 1)
    # By the end of November, since the register's first import (F's August steps too).
    assert funnel.to_date == counts(6, 4, 4, 3, 2, 2, 1)
    assert {m.key: m.counts for m in funnel.months} == {
        "2026-09": counts(4, 1, 0, 1, 0, 0, 0),
        "2026-10": counts(1, 2, 2, 1, 1, 1, 0),
        "2026-11": counts(0, 0, 1, 1, 1, 1, 1),
    }


async def test_the_funnel_by_kecamatan_and_by_category(database, seeded):
    funnel = await funnel_of(database, seeded.manager, start=SEP, end=date(2026, 11, 30))

    assert {g.key: g.counts for g in funnel.by_kecamatan} == {
        "Gringsing": counts(3, 3, 2, 2, 2, 2, 1),
        "Limpung": counts(2, 0, 1, 1, 0, 0, 0),
    }
    assert {g.key: g.to_date for g in funnel.by_kecamatan}["Limpung"] == counts(3, 1, 2, 1, 0, 0, 0)
    assert {g.key: g.counts for g in funnel.by_category} == {
        "catering": counts(3, 2, 1, 1, 1, 1, 1),
        "snacks": counts(2, 1, 2, 2, 1, 1, 0),
    }
    cells = {(c.month.isoformat(), c.kecamatan, c.category): c.counts for c in funnel.cells}
    assert cells[("2026-09-01", "Gringsing", "catering")] == counts(2, 1, 0, 0, 0, 0, 0)
    assert cells[("2026-11-01", "Limpung", "snacks")] == counts(0, 0, 1, 0, 0, 0, 0)
    assert sum(sum(c.values()) for c in cells.values()) == sum(funnel.counts.values())


async def test_a_shorter_range_leaves_later_steps_out_of_both_figures(database, seeded):
    funnel = await funnel_of(database, seeded.manager, start=SEP, end=OCT)

    assert funnel.end == date(2026, 10, 31)
    assert funnel.counts == counts(5, 3, 2, 2, 1, 1, 0)
    assert funnel.to_date == counts(6, 4, 3, 2, 1, 1, 0)


async def test_the_share_of_canteen_spend_going_to_the_regency_s_own_umkm(database, seeded):
    funnel = await funnel_of(database, seeded.manager, start=SEP, end=date(2026, 11, 30))

    # November: the canteen bought 300.000 + 200.000 from A and 150.000 from a Batang vendor outside the register
    # (local), 100.000 from Pekalongan; cancelled orders and workers' orders are no canteen spend.
    november = funnel.months[-1]
    assert (november.canteen_spend, november.local_spend, november.local_share) == (750000, 650000, 86.7)
    assert [m.canteen_spend for m in funnel.months[:2]] == [0, 0] and funnel.months[0].local_share is None
    assert (funnel.canteen_spend, funnel.local_spend, funnel.local_share) == (750000, 650000, 86.7)


async def test_only_the_zone_s_manager_or_an_admin_reads_the_funnel(database, seeded, world):
    with pytest.raises(NotFound):
        await funnel_of(database, seeded.other_manager, zone_id=seeded.zone.id)
    other = await funnel_of(database, seeded.other_manager, start=SEP, end=date(2026, 11, 30))
    assert other.counts == counts(1, 1, 1, 0, 1, 0, 0)
    with pytest.raises(Forbidden):
        await funnel_of(database, seeded.vendors["A"].user)
    admin = await world.user(Role.ADMIN)
    picked = await funnel_of(database, admin, zone_id=seeded.zone.id, start=SEP, end=date(2026, 11, 30))
    assert picked.counts == counts(5, 3, 3, 3, 2, 2, 1) and len(picked.zones) == 2


async def test_the_manager_reads_the_funnel_page_and_downloads_its_csv(client, database, seeded, count_queries):
    await log_in(client, seeded.manager)
    count_queries.statements.clear()
    page = await client.get("/manager/funnel?from=2026-09&to=2026-11")
    assert page.status_code == 200, page.text
    assert count_queries.count <= 5, count_queries.statements
    assert "Corong" in page.text and "<svg" in page.text and "<title" in page.text and "<desc" in page.text
    assert 'data-step="registered" data-count="5"' in page.text
    assert "Gringsing" in page.text and "86,7" in page.text

    by_category = await client.get("/manager/funnel?from=2026-09&to=2026-11&by=category")
    assert by_category.status_code == 200 and 'data-group="catering"' in by_category.text

    download = await client.get("/manager/funnel.csv?from=2026-09&to=2026-11")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert 'filename="corong-kitb_2026-09-01_2026-11-30.csv"' in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "awal_bulan",
        "kecamatan",
        "kategori",
        "baris_register",
        "diundang",
        "mendaftar",
        "bersertifikat",
        "produk_tayang",
        "penjualan_pertama",
        "pembeli_kembali",
    ]
    assert ["2026-09-01", "Gringsing", "catering", "2", "1", "0", "0", "0", "0", "0"] in rows
    assert sum(int(r[3]) for r in rows[1:]) == 5

    months = await client.get("/manager/funnel/months.csv?from=2026-09&to=2026-11")
    month_rows = list(csv.reader(io.StringIO(months.content.decode("utf-8-sig"))))
    assert month_rows[-1] == ["2026-11-01", "0", "0", "1", "1", "1", "1", "1", "750000", "650000", "86.7"]


async def test_the_funnel_api_answers_the_same_figures(client, database, seeded):
    period = {"from": "2026-09-01", "to": "2026-11-30"}
    api = await client.get("/api/v1/reports/funnel", params=period, headers=await bearer(database, seeded.manager))
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["counts"] == counts(5, 3, 3, 3, 2, 2, 1)
    assert [m["counts"]["signed_up"] for m in body["months"]] == [0, 2, 1]
    assert body["local_share"] == 86.7
    other_zone = await client.get(
        "/api/v1/reports/funnel",
        params={"zone": seeded.zone.id},
        headers=await bearer(database, seeded.other_manager),
    )
    assert other_zone.status_code == 404
    vendor = await client.get("/api/v1/reports/funnel", headers=await bearer(database, seeded.vendors["A"].user))
    assert vendor.status_code == 403


async def test_a_vendor_cannot_open_the_funnel_page_nor_another_zone_s_manager_hers(client, seeded):
    await log_in(client, seeded.vendors["A"].user)
    assert (await client.get("/manager/funnel", follow_redirects=False)).status_code == 403
    assert (await client.get("/manager/funnel.csv", follow_redirects=False)).status_code == 403
    await client.post("/logout", follow_redirects=False)
    client.cookies.clear()
    await log_in(client, seeded.other_manager)
    assert (await client.get(f"/manager/funnel?zone={seeded.zone.id}")).status_code == 404
    assert (await client.get(f"/manager/funnel.csv?zone={seeded.zone.id}")).status_code == 404


# --- a story: one UMKM of the register, step by step ---------------------------------------------------------------


async def test_a_vendor_from_the_register_is_led_to_a_first_sale_and_the_funnel_counts_each_step(
    client, other_client, world, zone, manager, database, codes
):
    today = wib_today(utcnow())

    async def funnel_counts() -> dict[str, int]:
        return (await funnel_of(database, manager, today=today)).counts

    async def next_step(user) -> StepKey | None:
        async with database.sessionmaker() as session:
            view = await vendor_readiness(session=session, user=user, today=today)
        step = view.readiness.next_step
        return step.key if step else None

    await run_import(database, manager, REGISTER.encode())
    assert await funnel_counts() == counts(3, 0, 0, 0, 0, 0, 0)

    # The manager opens Catering Bu Sri's WhatsApp invitation from the register's rows: the click is recorded.
    await log_in(client, manager)
    rows = await client.get("/manager/register/rows?state=not_invited")
    assert rows.status_code == 200
    row_id = int(found(r'data-invitation="(\d+)"', rows.text.split("Catering Bu Sri")[0].rsplit("<tr", 1)[1])[1])
    link = html.unescape(found(r'href="(https://wa\.me/6281234567001\?text=[^"]+)"', rows.text)[1])
    text = unquote(link.split("?text=", 1)[1])
    assert "Catering Bu Sri" in text and "/signup?role=vendor" in text and "0812-3456-7001" in text
    opened = await client.post(
        f"/manager/register/rows/{row_id}/invited",
        headers={"x-csrftoken": await csrf_token(client), "HX-Request": "true"},
    )
    assert opened.status_code == 204
    assert await funnel_counts() == counts(3, 1, 0, 0, 0, 0, 0)

    # Sri signs up with the register's number: her profile comes from the register, its location is the next step.
    await sign_up(
        other_client,
        codes,
        {
            "role": "vendor",
            "full_name": "Sri Rahayu",
            "phone": "0812-3456-7001",
            "password": "catering-sri-1",
            "zone_id": str(zone.id),
        },
    )
    async with database.sessionmaker() as session:
        sri = (await session.execute(select(User).where(col(User.phone) == "+6281234567001"))).scalar_one()
    assert await funnel_counts() == counts(3, 1, 1, 0, 0, 0, 0)
    assert await next_step(sri) == StepKey.PROFILE

    # She places her kitchen on the map, adds her NIB, P-IRT and halal certificate and a nasi box for review.
    buyer = await Ordering(world=world, database=database, zone=zone).canteen_buyer()
    shop = await world.shop(sri, certificate_kinds=("nib", "pirt", "halal"))
    assert await next_step(sri) == StepKey.NIB  # waiting for the manager
    assert await funnel_counts() == counts(3, 1, 1, 0, 0, 0, 0)

    async with database.sessionmaker() as session:
        for certificate in shop.certificates:
            await moderation.verify_certificate(
                session=session, actor=manager, certificate_id=certificate.id, now=utcnow()
            )
        await session.commit()
    assert await funnel_counts() == counts(3, 1, 1, 1, 0, 0, 0)
    assert await next_step(sri) == StepKey.PHOTO

    async with database.sessionmaker() as session:
        await moderation.approve_listing(session=session, actor=manager, product_id=shop.product.id, now=utcnow())
        await session.commit()
    assert await funnel_counts() == counts(3, 1, 1, 1, 1, 0, 0)
    assert await next_step(sri) == StepKey.FIRST_SALE

    # The canteen orders 20 boxes, and Sri delivers them: her first sale. The canteen comes back for more.
    ordering = Ordering(world=world, database=database, zone=zone)
    orders = []
    for number in (1, 2):
        order = await ordering.order(buyer, shop.product.id, 20)
        orders.append(order)
        async with database.sessionmaker() as session:
            for target, now in (
                (OrderStatus.ACCEPTED, NOW),
                (OrderStatus.READY, NOW),
                (OrderStatus.DELIVERED, ON_DELIVERY_DAY),
            ):
                await change_status(
                    session=session, order_id=order.id, target=target, actor=sri, now=now, today=wib_today(now)
                )
            await session.commit()
        if number == 1:
            assert await funnel_counts() == counts(3, 1, 1, 1, 1, 1, 0)
            assert await next_step(sri) is None
    assert await funnel_counts() == counts(3, 1, 1, 1, 1, 1, 1)

    # The canteen bought 2 × 20 boxes of Sri, a UMKM of Batang: all of its spend went to the regency's UMKM. Five
    # boxes of the second order came damaged, and Sri agreed: what she gave back is no spend.
    delivered = await funnel_of(database, manager, today=today)
    assert (delivered.canteen_spend, delivered.local_spend, delivered.local_share) == (600000, 600000, 100.0)
    async with database.sessionmaker() as session:
        line = (await session.execute(select(OrderLine).where(col(OrderLine.order_id) == orders[1].id))).scalar_one()
    await report_claim(database, buyer, orders[1], line, quantity=5, kind=ClaimKind.DAMAGED)
    settled = await act_on_claim(database, sri, orders[1], ClaimAction.ACCEPT)
    assert settled.claim.amount == 75000
    after_refund = await funnel_of(database, manager, today=today)
    assert (after_refund.canteen_spend, after_refund.local_spend) == (525000, 525000)

    # Each step in its month: the register, the invitation, the sign-up, the certificate and the approval this
    # month; the deliveries on the order's day.
    funnel = await funnel_of(database, manager, today=today)
    by_month = {m.key: m.counts for m in funnel.months if any(m.counts.values())}
    this_month, delivery_month = f"{today:%Y-%m}", f"{ON_DELIVERY_DAY:%Y-%m}"
    assert by_month[this_month]["listed"] == 1 and by_month[delivery_month]["repeat_buyer"] == 1
    assert {g.key: g.counts["first_sale"] for g in funnel.by_kecamatan} == {"Batang": 0, "Gringsing": 1}
    assert {g.key: g.counts["registered"] for g in funnel.by_category} == {"catering": 1, "crafts": 1, "snacks": 1}


async def test_a_month_range_out_of_bounds_is_refused_not_a_crash(database, seeded):
    with pytest.raises(ValidationFailed):
        await funnel_of(database, seeded.manager, start=date(9999, 1, 1), end=date(9999, 12, 31))
    with pytest.raises(ValidationFailed):
        await funnel_of(database, seeded.manager, start=date(2025, 1, 1), end=date(2026, 11, 1))  # 23 months
    with pytest.raises(ValidationFailed):
        await funnel_of(database, seeded.manager, start=NOV, end=SEP)
