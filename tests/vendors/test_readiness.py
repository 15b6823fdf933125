"""The readiness checklist as vendors of the zone would recognise it: what is done, what is next, and who helps."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import update
from sqlmodel import col

from backend.accounts.models import Role
from backend.certification.models import Certificate, CertificateStatus
from backend.clock import utcnow, wib_today
from backend.moderation import service as moderation
from backend.moderation.models import RegisterImport, VendorInvitation
from backend.orders.models import OrderStatus
from backend.orders.states import change_status
from backend.vendors import help_contacts
from backend.vendors.help_contacts import ContactKind, HelpContactInput
from backend.vendors.readiness import StepKey, vendor_readiness
from tests.orders.conftest import NOW, ON_DELIVERY_DAY, Ordering

TODAY = wib_today(utcnow())


async def checklist(database, user, today: date = TODAY):
    async with database.sessionmaker() as session:
        return await vendor_readiness(session=session, user=user, today=today)


def steps_of(view) -> dict[str, bool]:
    return {step.key.value: step.done for step in view.readiness.steps}


def step(view, key: StepKey):
    return next(step for step in view.readiness.steps if step.key == key)


async def test_a_new_vendor_without_a_profile_starts_with_the_profile_and_sees_the_food_steps(world, zone, vendor):
    view = await checklist(world.database, vendor)

    assert steps_of(view) == {
        "profile": False,
        "nib": False,
        "food_permit": False,
        "halal": False,
        "photo": False,
        "reach": False,
        "first_sale": False,
    }
    assert view.readiness.next_step.key == StepKey.PROFILE
    assert view.readiness.next_step.link == "/vendor/profile"
    # Nothing says what the business sells yet: the food steps are shown, marked as for food only.
    assert step(view, StepKey.HALAL).food_only and step(view, StepKey.FOOD_PERMIT).food_only
    assert not step(view, StepKey.NIB).food_only
    assert view.zone is not None and view.zone.id == zone.id


async def test_a_vendor_with_a_verified_halal_certificate_but_no_nib_sees_nib_as_the_next_step(world, zone):
    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal",))

    view = await checklist(world.database, seller.user)

    assert steps_of(view)["profile"] and steps_of(view)["halal"]
    assert view.readiness.next_step.key == StepKey.NIB
    nib = view.readiness.next_step
    assert nib.link == "https://oss.go.id" and "OSS" in nib.text
    assert view.readiness.done_count == 2 and view.readiness.total == 7


async def test_a_nib_waiting_for_the_manager_is_not_done_yet_and_says_so(world, zone):
    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal", "nib"))
    async with world.database.sessionmaker() as session:
        await session.execute(
            update(Certificate).where(col(Certificate.kind) == "nib").values(status=CertificateStatus.UNVERIFIED)
        )
        await session.commit()

    waiting = step(await checklist(world.database, seller.user), StepKey.NIB)
    assert not waiting.done
    assert waiting.message.startswith("Added: it counts once the zone manager has checked it")

    async with world.database.sessionmaker() as session:
        await session.execute(
            update(Certificate).where(col(Certificate.kind) == "nib").values(status=CertificateStatus.VERIFIED)
        )
        await session.commit()
    assert step(await checklist(world.database, seller.user), StepKey.NIB).done


async def test_an_expired_bpom_number_no_longer_counts_for_processed_food(world, zone):
    seller = await world.seller(zone, business_name="Frozen Bu Ani", certificates=("halal", "nib"))
    async with world.database.sessionmaker() as session:
        session.add(
            Certificate(
                vendor_id=seller.vendor.id,
                kind="bpom",
                number="MD 224510001234",
                issuer="BPOM",
                expires_on=TODAY + timedelta(days=10),
                document_key="certificates/bpom.webp",
                document_media_type="image/webp",
                status=CertificateStatus.VERIFIED,
            )
        )
        await session.commit()

    assert step(await checklist(world.database, seller.user), StepKey.FOOD_PERMIT).done
    later = await checklist(world.database, seller.user, today=TODAY + timedelta(days=11))
    expired = step(later, StepKey.FOOD_PERMIT)
    assert not expired.done and expired.message.startswith("It has expired")
    assert later.readiness.next_step.key == StepKey.FOOD_PERMIT


async def test_a_konveksi_vendor_has_no_food_steps(world, zone):
    seller = await world.seller(zone, business_name="Konveksi Pak Budi", certificates=("nib",))
    await world.live_product(seller, "Seragam Kerja Pabrik", category="uniforms", unit="pcs", certificates=())

    view = await checklist(world.database, seller.user)

    assert set(steps_of(view)) == {"profile", "nib", "photo", "reach", "first_sale"}
    assert view.readiness.total == 5


async def test_without_products_the_register_s_category_decides_whether_food_steps_apply(world, zone, manager):
    tailor = await world.user(Role.VENDOR, zone=zone)
    cook = await world.user(Role.VENDOR, zone=zone)
    async with world.database.sessionmaker() as session:
        report = RegisterImport(zone_id=zone.id, filename="umkm.csv", manager_id=manager.id)
        session.add(report)
        await session.flush()
        for user, category in ((tailor, "uniforms"), (cook, "snacks")):
            session.add(
                VendorInvitation(
                    zone_id=zone.id,
                    business_name=f"UMKM {category}",
                    owner_name=user.full_name,
                    phone=user.phone,
                    kecamatan="Gringsing",
                    desa="Krengseng",
                    category=category,
                    import_id=report.id,
                    claimed_by_id=user.id,
                )
            )
        await session.commit()

    tailor_view = await checklist(world.database, tailor)
    cook_view = await checklist(world.database, cook)

    assert "halal" not in steps_of(tailor_view) and tailor_view.readiness.total == 5
    assert "halal" in steps_of(cook_view) and not step(cook_view, StepKey.HALAL).food_only


async def test_the_photo_step_is_done_once_a_manager_approved_a_listing(world, zone, vendor, manager, canteen):
    shop = await world.shop(vendor, certificate_kinds=("halal", "nib", "pirt"), verified=True)

    waiting = await checklist(world.database, vendor)
    assert not step(waiting, StepKey.PHOTO).done
    assert step(waiting, StepKey.PHOTO).message.startswith("Your product is waiting")
    assert waiting.readiness.next_step.key == StepKey.PHOTO

    async with world.database.sessionmaker() as session:
        await moderation.approve_listing(session=session, actor=manager, product_id=shop.product.id, now=utcnow())
        await session.commit()

    live = await checklist(world.database, vendor)
    assert step(live, StepKey.PHOTO).done and step(live, StepKey.PHOTO).params == {"count": 1}
    # The canteen of the zone is within the 15 km radius: the next step is the first sale.
    assert step(live, StepKey.REACH).done
    assert live.readiness.next_step.key == StepKey.FIRST_SALE


async def test_a_radius_that_reaches_no_buyer_is_the_step_to_fix(world, zone):
    far = await world.seller(
        zone, business_name="Catering Jauh", latitude=-7.30, longitude=110.40, radius_km=5, certificates=()
    )
    await world.organisation(zone)

    reach = step(await checklist(world.database, far.user), StepKey.REACH)

    assert not reach.done and reach.link == "/vendor/profile"
    assert "reaches none" in reach.message


async def test_a_delivered_order_is_the_first_sale_and_completes_the_checklist(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal", "nib", "pirt"))
    product = await world.live_product(seller, "Nasi Box Ayam Bakar", min_order_qty=10, order_cutoff=time(15, 0))
    ordering = Ordering(world=world, database=database, zone=zone)
    buyer = await ordering.canteen_buyer()

    before = await checklist(database, seller.user)
    assert before.readiness.next_step.key == StepKey.FIRST_SALE and before.readiness.done_count == 6

    order = await ordering.order(buyer, product.id, 20)
    async with database.sessionmaker() as session:
        for target, now in (
            (OrderStatus.ACCEPTED, NOW),
            (OrderStatus.READY, NOW),
            (OrderStatus.DELIVERED, ON_DELIVERY_DAY),
        ):
            await change_status(
                session=session, order_id=order.id, target=target, actor=seller.user, now=now, today=wib_today(now)
            )
        await session.commit()

    after = await checklist(database, seller.user)
    assert after.readiness.ready and after.readiness.done_count == 7
    assert step(after, StepKey.FIRST_SALE).done


async def test_the_zone_s_help_contacts_are_shown_beside_the_steps_they_help_with(world, zone, manager):
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    other_manager = await world.user(Role.MANAGER, zone=other_zone)
    async with world.database.sessionmaker() as session:
        for actor, name, kind in (
            (manager, "Pendamping PPH Bu Aminah", "halal_companion"),
            (manager, "PLUT-KUMKM Batang", "plut"),
            (other_manager, "PLUT Semarang", "plut"),
        ):
            await help_contacts.add_help_contact(
                session=session,
                actor=actor,
                data=HelpContactInput(name=name, kind=ContactKind(kind), phone="0812-3456-7890"),
                now=utcnow(),
            )
        await session.commit()
    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=())

    view = await checklist(world.database, seller.user)

    assert [contact.name for contact in view.contacts] == ["PLUT-KUMKM Batang", "Pendamping PPH Bu Aminah"]
    assert [c.name for c in view.contacts_for(step(view, StepKey.HALAL))] == ["Pendamping PPH Bu Aminah"]
    assert [c.name for c in view.contacts_for(step(view, StepKey.NIB))] == ["PLUT-KUMKM Batang"]
    assert view.contacts[0].phone == "+6281234567890"
