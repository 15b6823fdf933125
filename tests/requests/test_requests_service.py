"""A canteen posts what it needs, the caterers who fit answer, the canteen accepts one offer: the rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlmodel import col

from backend.catalog.models import ListingStatus, PriceTier, Product
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.moderation.models import AuditEntry
from backend.orders.models import CapacityDay, Order, StandingOrder, StandingOrderRun
from backend.orders.standing import (
    MSG_ABOVE_AGREED_PRICE,
    MSG_NOT_PLACED,
    MSG_VENDOR_ABOVE_AGREED_PRICE,
    place_standing_orders,
)
from backend.requests import service
from backend.requests.models import BuyerRequest, OfferStatus, RequestOffer, RequestStatus
from tests.orders.conftest import NOW
from tests.requests.conftest import TODAY, breakfast


async def fitting_titles(database, seller, today=TODAY) -> list[str]:
    async with database.sessionmaker() as session:
        views = await service.fitting_requests(session=session, vendor=seller.vendor, today=today)
        return [view.request.title for view in views]


async def test_a_request_reaches_the_caterers_near_the_canteen_and_no_one_else(
    requests, database, canteen_staff, catering, second_caterer, far_caterer, tailor
):
    posted = await requests.post(canteen_staff)

    assert (posted.quantity, posted.weekdays, posted.expected_price) == (300, 0b0011111, 12000)
    assert posted.expires_on == TODAY + timedelta(days=service.DEFAULT_OPEN_DAYS)
    for near in (catering, second_caterer):
        assert await fitting_titles(database, near[0]) == ["Nasi box sarapan"]
        (note,) = await requests.inbox(near[0].user)
        assert note.url == f"/vendor/requests/{posted.id}" and note.params["title"] == "Nasi box sarapan"
    for other in (far_caterer, tailor):
        assert await fitting_titles(database, other[0]) == []
        assert await requests.inbox(other[0].user) == []
        async with database.sessionmaker() as session:
            with pytest.raises(NotFound):
                await service.vendor_request(session=session, vendor=other[0].vendor, request_id=posted.id, today=TODAY)


async def test_an_expired_request_leaves_the_vendors_list_and_cannot_be_answered(
    requests, database, canteen_staff, catering
):
    seller, product = catering
    posted = await requests.post(canteen_staff, breakfast(expires_on=TODAY + timedelta(days=3)))
    last_day = TODAY + timedelta(days=3)
    assert await fitting_titles(database, seller, today=last_day) == ["Nasi box sarapan"]
    assert await fitting_titles(database, seller, today=last_day + timedelta(days=1)) == []
    with pytest.raises(NotFound):
        await requests.offer(seller, posted.id, product_id=product.id, today=last_day + timedelta(days=1))


async def test_a_request_is_checked_before_it_is_posted(requests, database, canteen_staff, worker):
    with pytest.raises(ValidationFailed) as refused:
        await requests.post(
            canteen_staff,
            breakfast(
                title="x",
                weekdays=[],
                quantity=0,
                start_date=TODAY,
                expires_on=TODAY + timedelta(days=61),
                required_certificates=["gold"],
            ),
        )
    assert set(refused.value.by_field()) == {
        "title",
        "weekdays",
        "quantity",
        "start_date",
        "expires_on",
        "required_certificates",
    }
    # A worker posts for a group of workers, to a gate or dormitory of the zone, which the request must name.
    with pytest.raises(ValidationFailed) as no_point:
        await requests.post(worker)
    assert set(no_point.value.by_field()) == {"delivery_point_id"}
    async with database.sessionmaker() as session:
        assert (await session.execute(select(BuyerRequest))).first() is None


async def test_an_offer_is_priced_as_the_product_for_the_quantity_and_one_per_vendor(
    requests, database, canteen_staff, catering
):
    seller, product = catering
    posted = await requests.post(canteen_staff)

    offer = await requests.offer(seller, posted.id, product_id=product.id, notes="Bisa mulai Senin")
    assert (offer.unit_price, offer.status) == (13000, OfferStatus.OPEN)  # the 200-box tier
    (note,) = await requests.inbox(canteen_staff)
    assert note.url == f"/canteen/requests/{posted.id}" and note.params["vendor"] == "Catering Bu Sri"

    later = TODAY + timedelta(days=14)
    changed = await requests.offer(seller, posted.id, product_id=product.id, start_date=later)
    assert changed.id == offer.id and changed.start_date == later
    async with database.sessionmaker() as session:
        withdrawn = await service.withdraw_offer(
            session=session, vendor=seller.vendor, request_id=posted.id, today=TODAY, now=NOW
        )
        await session.commit()
    assert withdrawn.status == OfferStatus.WITHDRAWN
    again = await requests.offer(seller, posted.id, product_id=product.id)
    assert again.id == offer.id and again.status == OfferStatus.OPEN
    async with database.sessionmaker() as session:
        assert len((await session.execute(select(RequestOffer))).all()) == 1


async def test_a_vendor_can_answer_with_a_new_draft_product_made_from_the_request(
    requests, database, canteen_staff, catering
):
    seller, _ = catering
    posted = await requests.post(canteen_staff)
    offer = await requests.offer(seller, posted.id, new_product_price=12000, new_product_tiers=[(250, 11800)])

    draft = await requests.get(Product, offer.product_id)
    assert (draft.name, draft.category, draft.unit, draft.status) == (
        "Nasi box sarapan",
        "catering",
        "box",
        ListingStatus.DRAFT,
    )
    assert offer.unit_price == 11800
    # Not on sale before a manager approves it: the canteen cannot accept it yet.
    with pytest.raises(Conflict) as refused:
        await requests.accept(canteen_staff, posted.id, offer.id)
    assert refused.value.message == service.MSG_PRODUCT_NOT_LIVE
    assert (await requests.get(BuyerRequest, posted.id)).status == RequestStatus.OPEN


async def test_an_offer_must_use_the_vendors_own_product_in_the_category(
    requests, canteen_staff, catering, second_caterer
):
    seller, _ = catering
    _, someone_elses = second_caterer
    posted = await requests.post(canteen_staff)
    with pytest.raises(ValidationFailed) as refused:
        await requests.offer(seller, posted.id, product_id=someone_elses.id)
    assert set(refused.value.by_field()) == {"product_id"}
    with pytest.raises(ValidationFailed) as refused:
        await requests.offer(seller, posted.id, product_id=None)
    assert set(refused.value.by_field()) == {"new_product_price"}


async def test_accepting_an_offer_makes_a_standing_order_from_the_start_date_and_tells_every_vendor(
    requests, database, canteen_staff, catering, second_caterer
):
    seller, product = catering
    rival, rival_product = second_caterer
    posted = await requests.post(canteen_staff)
    chosen = await requests.offer(seller, posted.id, product_id=product.id)
    other = await requests.offer(rival, posted.id, product_id=rival_product.id)

    standing = await requests.accept(canteen_staff, posted.id, chosen.id)

    saved = await requests.get(StandingOrder, standing.id)
    assert (saved.product_id, saved.quantity, saved.weekdays, saved.delivery_slot.hour) == (product.id, 300, 31, 6)
    assert saved.starts_on == TODAY + timedelta(days=7)
    assert (await requests.get(RequestOffer, chosen.id)).standing_order_id == standing.id
    assert (await requests.get(RequestOffer, other.id)).status == OfferStatus.NOT_CHOSEN
    request_row = await requests.get(BuyerRequest, posted.id)
    assert (request_row.status, request_row.accepted_offer_id) == (RequestStatus.ACCEPTED, chosen.id)
    assert (await requests.inbox(seller.user))[-1].message == service.MSG_ACCEPTED
    assert (await requests.inbox(rival.user))[-1].message == service.MSG_NOT_CHOSEN

    # The job places the days from the start date on (none of this week's), as any order: capacity held.
    async with database.sessionmaker() as session:
        run = await place_standing_orders(session=session, now=NOW)
        await session.commit()
        held = dict((await session.execute(select(col(CapacityDay.day), col(CapacityDay.held)))).all())
    assert run.placed == 1 and held == {TODAY + timedelta(days=7): 300}


async def test_an_offer_is_accepted_once_and_never_after_it_was_withdrawn(
    requests, database, canteen_staff, catering, second_caterer
):
    seller, product = catering
    rival, rival_product = second_caterer
    posted = await requests.post(canteen_staff)
    chosen = await requests.offer(seller, posted.id, product_id=product.id)
    other = await requests.offer(rival, posted.id, product_id=rival_product.id)
    async with database.sessionmaker() as session:
        await service.withdraw_offer(session=session, vendor=rival.vendor, request_id=posted.id, today=TODAY, now=NOW)
        await session.commit()

    with pytest.raises(Conflict):
        await requests.accept(canteen_staff, posted.id, other.id)
    await requests.accept(canteen_staff, posted.id, chosen.id)
    with pytest.raises(Conflict):
        await requests.accept(canteen_staff, posted.id, chosen.id)
    with pytest.raises(Conflict):
        await requests.offer(seller, posted.id, product_id=product.id)
    async with database.sessionmaker() as session:
        assert len((await session.execute(select(StandingOrder))).all()) == 1


async def test_a_canteen_sees_only_its_own_requests_and_offers(requests, world, zone, canteen_staff, catering):
    seller, product = catering
    posted = await requests.post(canteen_staff)
    offer = await requests.offer(seller, posted.id, product_id=product.id)
    other_canteen = await world.organisation(zone, name="Kantin PT Lain")
    stranger = await world.user(canteen_staff.role, zone=zone, organisation=other_canteen)
    async with requests.database.sessionmaker() as session:
        assert await service.list_canteen_requests(session=session, actor=stranger) == []
        with pytest.raises(NotFound):
            await service.canteen_request(session=session, actor=stranger, request_id=posted.id, today=TODAY)
    with pytest.raises(NotFound):
        await requests.accept(stranger, posted.id, offer.id)


async def test_a_price_raised_after_the_offer_is_not_accepted_silently(requests, canteen_staff, catering):
    seller, product = catering
    posted = await requests.post(canteen_staff)
    offer = await requests.offer(seller, posted.id, product_id=product.id)
    async with requests.database.sessionmaker() as session:
        await session.execute(update(Product).where(col(Product.id) == product.id).values(price=20000))
        await session.execute(delete(PriceTier).where(col(PriceTier.product_id) == product.id))
        await session.commit()
    with pytest.raises(Conflict) as refused:
        await requests.accept(canteen_staff, posted.id, offer.id)
    assert refused.value.message == service.MSG_PRICE_CHANGED


async def test_a_zone_manager_hides_an_abusive_request_with_a_reason_in_the_audit_log(
    requests, database, world, canteen_staff, manager, catering
):
    seller, _ = catering
    posted = await requests.post(canteen_staff, breakfast(title="Jual pulsa murah hubungi saya"))
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    outsider = await world.user(manager.role, zone=other_zone)
    async with database.sessionmaker() as session:
        with pytest.raises(NotFound):
            await service.hide_request(session=session, actor=outsider, request_id=posted.id, reason="Spam", now=NOW)
        with pytest.raises(ValidationFailed):
            await service.hide_request(session=session, actor=manager, request_id=posted.id, reason="x", now=NOW)
        await service.hide_request(
            session=session, actor=manager, request_id=posted.id, reason="Iklan, bukan permintaan", now=NOW
        )
        await session.commit()
        (entry,) = (await session.execute(select(AuditEntry))).scalars()
    assert (entry.action, entry.reason, entry.subject_label) == (
        "request.hide",
        "Iklan, bukan permintaan",
        "Jual pulsa murah hubungi saya",
    )
    assert await fitting_titles(database, seller) == []


async def test_a_ready_goods_vendor_answers_with_a_draft_of_ready_goods(requests, world, zone, canteen_staff):
    """A vendor without a daily capacity cannot make to order: the draft is ready goods, its stock to fill in."""
    seller = await world.seller(zone, business_name="Kue Bu Ani", daily_capacity=None)
    await world.live_product(seller, "Kue Lapis", category="snacks", unit="pcs", fulfilment="ready_stock", stock=50)
    posted = await requests.post(canteen_staff, breakfast(title="Snack box rapat", category="snacks", unit="pcs"))
    offer = await requests.offer(seller, posted.id, new_product_price=5000)
    draft = await requests.get(Product, offer.product_id)
    assert (draft.fulfilment, draft.stock, draft.status) == ("ready_stock", 0, ListingStatus.DRAFT)


async def test_a_canteen_closes_its_request_without_choosing_and_the_vendors_who_offered_are_told(
    requests, database, canteen_staff, catering, second_caterer, world, zone
):
    seller, product = catering
    posted = await requests.post(canteen_staff)
    offer = await requests.offer(seller, posted.id, product_id=product.id)
    other_canteen = await world.organisation(zone, name="Kantin PT Lain")
    stranger = await world.user(canteen_staff.role, zone=zone, organisation=other_canteen)
    async with database.sessionmaker() as session:
        with pytest.raises(NotFound):
            await service.close_request(session=session, actor=stranger, request_id=posted.id, now=NOW)
        closed = await service.close_request(session=session, actor=canteen_staff, request_id=posted.id, now=NOW)
        await session.commit()
    assert closed.status == RequestStatus.CLOSED
    assert (await requests.get(RequestOffer, offer.id)).status == OfferStatus.NOT_CHOSEN
    assert (await requests.inbox(seller.user))[-1].message == service.MSG_CLOSED
    assert await requests.inbox(second_caterer[0].user) != [] and all(
        note.message != service.MSG_CLOSED for note in await requests.inbox(second_caterer[0].user)
    )
    assert await fitting_titles(database, seller) == []
    with pytest.raises(Conflict):
        await requests.accept(canteen_staff, posted.id, offer.id)


async def test_the_accepted_price_holds_a_day_priced_above_it_is_skipped_and_both_sides_told(
    requests, database, canteen_staff, catering
):
    seller, product = catering
    posted = await requests.post(canteen_staff)
    offer = await requests.offer(seller, posted.id, product_id=product.id)  # Rp 13.000 a box for 300
    standing = await requests.accept(canteen_staff, posted.id, offer.id)
    assert (await requests.get(StandingOrder, standing.id)).max_unit_price == 13000
    # After the acceptance the vendor raises the product's price: the standing order's days keep the agreed one.
    async with database.sessionmaker() as session:
        await session.execute(update(Product).where(col(Product.id) == product.id).values(price=20000))
        await session.execute(delete(PriceTier).where(col(PriceTier.product_id) == product.id))
        await session.commit()

    async with database.sessionmaker() as session:
        run = await place_standing_orders(session=session, now=NOW)
        await session.commit()

    assert (run.placed, run.refused) == (0, 1)
    async with database.sessionmaker() as session:
        assert (await session.execute(select(Order))).first() is None
        assert (await session.execute(select(CapacityDay))).first() is None
        skipped = (await session.execute(select(StandingOrderRun))).scalar_one()
    assert skipped.delivery_day == TODAY + timedelta(days=7) and skipped.order_id is None
    assert skipped.message == MSG_ABOVE_AGREED_PRICE
    assert skipped.params == {"product": product.name, "price": "Rp 20.000", "agreed": "Rp 13.000"}
    canteen_told = (await requests.inbox(canteen_staff))[-1]
    vendor_told = (await requests.inbox(seller.user))[-1]
    assert (canteen_told.message, canteen_told.url) == (MSG_NOT_PLACED, "/canteen/standing-orders")
    assert vendor_told.message == MSG_VENDOR_ABOVE_AGREED_PRICE
    assert vendor_told.params["agreed"] == "Rp 13.000"


async def test_a_price_lowered_after_the_acceptance_is_placed_at_the_lower_price(
    requests, database, canteen_staff, catering
):
    seller, product = catering
    posted = await requests.post(canteen_staff)
    offer = await requests.offer(seller, posted.id, product_id=product.id)
    await requests.accept(canteen_staff, posted.id, offer.id)
    async with database.sessionmaker() as session:
        await session.execute(update(PriceTier).where(col(PriceTier.product_id) == product.id).values(unit_price=12000))
        await session.commit()

    async with database.sessionmaker() as session:
        run = await place_standing_orders(session=session, now=NOW)
        await session.commit()
        placed = (await session.execute(select(Order))).scalar_one()
    assert (run.placed, run.refused) == (1, 0)
    assert placed.total == 300 * 12000
