"""Training: a manager records the zone's programmes and cohorts and who attended, imports the organiser's attendance
list, verifies completions (a badge on the vendor's pages), and sees who was trained but does not sell yet. Another
zone's manager and vendors cannot reach any of it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.clock import utcnow
from backend.moderation.models import AuditEntry
from backend.training import service
from backend.training.models import TrainingAttendee, TrainingCohort, TrainingProgramme
from backend.training.service import AttendeeInput, CohortInput, ProgrammeInput
from tests.conftest import csrf_token, log_in, sign_up, submit
from tests.vendors.test_vendor_api import make_token

BBPVP: dict[str, Any] = {
    "name": "Pelatihan Pengolahan Daging",
    "organiser": "BBPVP Semarang",
    "kind": "meat_processing",
    "description": "Abon, rendang dan bakso untuk kantin pabrik",
}
COHORT: dict[str, Any] = {
    "name": "Angkatan 1 2026",
    "starts_on": "2026-11-02",
    "ends_on": "2026-11-13",
    "place": "BBPVP Semarang",
}
# As the organiser's spreadsheet saves it: a title line, semicolons, Indonesian headers, one landline.
ATTENDANCE = """Daftar Peserta Pelatihan Pengolahan Daging Angkatan 1
No.;Nama;Nama Usaha;No. HP / WA;NIB;Lulus
1;Sri Rahayu;Catering Bu Sri;0812-3456-7001;;Lulus
2;Nur Hidayah;Keripik Mbak Nur;0812 3456 7002;9120301234567;Tidak lulus
3;Bambang;Abon Sapi Bambang;021-555-1234;;Lulus
"""


async def bbpvp_cohort(database, manager) -> TrainingCohort:
    async with database.sessionmaker() as session:
        programme = await service.add_programme(
            session=session, actor=manager, data=ProgrammeInput(**BBPVP), now=utcnow()
        )
        cohort = await service.add_cohort(
            session=session, actor=manager, programme_id=programme.id, data=CohortInput(**COHORT), now=utcnow()
        )
        await session.commit()
        return cohort


async def attend(database, manager, cohort, **fields) -> TrainingAttendee:
    async with database.sessionmaker() as session:
        attendee = await service.add_attendee(
            session=session, actor=manager, cohort_id=cohort.id, data=AttendeeInput(**fields), now=utcnow()
        )
        await session.commit()
        return attendee


async def attendees_of(database, cohort) -> list[TrainingAttendee]:
    async with database.sessionmaker() as session:
        query = select(TrainingAttendee).where(col(TrainingAttendee.cohort_id) == cohort.id)
        return list((await session.execute(query.order_by(col(TrainingAttendee.id)))).scalars())


async def audit_actions(database) -> list[str]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(col(AuditEntry.action)).order_by(col(AuditEntry.id)))).scalars())


async def upload(client, cohort, text: str, filename: str = "peserta_angkatan_1.csv"):
    return await client.post(
        f"/manager/training/cohorts/{cohort.id}/attendance",
        data={"_csrf_token": await csrf_token(client)},
        files={"attendance": (filename, text.encode(), "text/csv")},
        follow_redirects=False,
    )


def section(html: str, section_id: str) -> str:
    return html.split(f'id="{section_id}"')[1].split("</section>")[0]


# --- programmes and cohorts ---------------------------------------------------------------------------------------


async def test_a_manager_records_a_programme_and_its_cohort_from_the_manager_home(
    client, manager, database, count_queries
):
    await log_in(client, manager)
    home = await client.get("/manager")
    assert 'href="/manager/training"' in home.text and 'href="/manager/training/not-selling"' in home.text

    recorded = await submit(client, "/manager/training", BBPVP)
    assert recorded.status_code == 303
    programme_url = recorded.headers["location"].split("?")[0]
    cohort_added = await submit(client, f"{programme_url}/cohorts", COHORT)
    assert cohort_added.status_code == 303
    cohort_url = cohort_added.headers["location"].split("?")[0]

    for url in ("/manager/training", programme_url, cohort_url):
        count_queries.statements.clear()
        shown = await client.get(url)
        assert shown.status_code == 200, url
        assert count_queries.count <= 5, (url, count_queries.statements)
        assert "Angkatan 1 2026" in shown.text and "BBPVP Semarang" in shown.text

    corrected = await submit(client, programme_url, {**BBPVP, "organiser": "BBPVP Semarang (Kemnaker)"})
    assert corrected.status_code == 303
    assert "BBPVP Semarang (Kemnaker)" in (await client.get(programme_url)).text
    assert await audit_actions(database) == [
        "training.programme_add",
        "training.cohort_add",
        "training.programme_edit",
    ]


async def test_a_cohort_ending_before_it_starts_is_refused_with_what_was_typed(client, manager, database):
    cohort = await bbpvp_cohort(database, manager)
    await log_in(client, manager)

    refused = await submit(
        client,
        f"/manager/training/programmes/{cohort.programme_id}/cohorts",
        {**COHORT, "name": "Angkatan 2", "ends_on": "2026-10-01"},
    )

    assert refused.status_code == 400
    assert 'value="Angkatan 2"' in refused.text and 'aria-invalid="true"' in refused.text
    async with database.sessionmaker() as session:
        assert len(list((await session.execute(select(TrainingCohort))).scalars())) == 1


# --- attendance lists ---------------------------------------------------------------------------------------------


async def test_a_manager_imports_the_bbpvp_list_a_malformed_phone_is_reported_and_importing_again_adds_nothing(
    client, manager, database, count_queries
):
    cohort = await bbpvp_cohort(database, manager)
    await log_in(client, manager)

    imported = await upload(client, cohort, ATTENDANCE)
    assert imported.status_code == 303
    count_queries.statements.clear()
    report = await client.get(imported.headers["location"])
    assert count_queries.count <= 5, count_queries.statements

    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', report.text))
    assert counts == {"created": "2", "updated": "0", "unchanged": "0", "rejected": "1"}
    assert "Baris 5: nomor HP bukan nomor HP Indonesia." in report.text  # the file's own line: a title sits above
    listed = await attendees_of(database, cohort)
    assert [(a.full_name, a.phone, a.nib, a.completed) for a in listed] == [
        ("Sri Rahayu", "+6281234567001", None, True),
        ("Nur Hidayah", "+6281234567002", "9120301234567", False),
    ]

    again = await client.get((await upload(client, cohort, ATTENDANCE)).headers["location"])
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', again.text))
    assert counts == {"created": "0", "updated": "0", "unchanged": "2", "rejected": "1"}
    assert len(await attendees_of(database, cohort)) == 2

    # The organiser's corrected list: Nur passed after all, Bambang's mobile number found.
    corrected = ATTENDANCE.replace("Tidak lulus", "Lulus").replace("021-555-1234", "0813-2222-3333")
    third = await client.get((await upload(client, cohort, corrected)).headers["location"])
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', third.text))
    assert counts == {"created": "1", "updated": "1", "unchanged": "1", "rejected": "0"}
    assert [a.completed for a in await attendees_of(database, cohort)] == [True, True, True]
    assert (await audit_actions(database)).count("training.import") == 3


async def test_a_file_without_a_phone_or_nib_column_is_refused_as_a_whole(client, manager, database):
    cohort = await bbpvp_cohort(database, manager)
    await log_in(client, manager)

    refused = await upload(client, cohort, "Nama;Alamat\nSri Rahayu;Gringsing\n")

    assert refused.status_code == 422
    assert 'id="e-attendance"' in refused.text
    assert await attendees_of(database, cohort) == []


async def test_a_vendor_who_attended_and_signed_up_later_is_linked(client, zone, manager, database, codes):
    cohort = await bbpvp_cohort(database, manager)
    await attend(database, manager, cohort, full_name="Sri Rahayu", phone="0812-3456-7001")
    [before] = await attendees_of(database, cohort)
    assert before.user_id is None

    await sign_up(
        client,
        codes,
        {
            "role": "vendor",
            "full_name": "Sri Rahayu",
            "phone": "+62 812-3456-7001",
            "password": "catering-sri-1",
            "zone_id": str(zone.id),
        },
    )

    [after] = await attendees_of(database, cohort)
    assert after.user_id is not None
    async with database.sessionmaker() as session:
        user = await session.get_one(User, after.user_id)
    assert user.phone == "+6281234567001" and user.role == Role.VENDOR


async def test_an_existing_vendor_on_the_list_is_linked_at_once_and_a_register_row_is_recognised(
    client, world, zone, manager, database
):
    from tests.moderation.test_register_import import REGISTER, run_import

    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=())
    await run_import(database, manager, REGISTER.encode())  # Keripik Mbak Nur is in the register: 0812 3456 7002
    cohort = await bbpvp_cohort(database, manager)
    await log_in(client, manager)

    listing = ATTENDANCE.replace("0812-3456-7001", seller.user.phone)
    await upload(client, cohort, listing)

    sri, nur = await attendees_of(database, cohort)
    assert sri.user_id == seller.user.id and sri.invitation_id is None
    assert nur.user_id is None and nur.invitation_id is not None
    page = await client.get(f"/manager/training/cohorts/{cohort.id}")
    assert f'href="/vendors/{seller.vendor.id}"' in page.text
    assert "Ada di register UMKM, belum mendaftar" in page.text


# --- trained but not selling --------------------------------------------------------------------------------------


async def test_trained_but_not_selling_lists_the_vendor_without_a_live_listing_and_moves_it_once_a_listing_is_approved(
    client, world, zone, manager, database, count_queries
):
    seller = await world.seller(zone, business_name="Abon Sapi Bu Tini", certificates=())
    cohort = await bbpvp_cohort(database, manager)
    await attend(database, manager, cohort, vendor_id=seller.vendor.id, completed=True)
    await attend(database, manager, cohort, full_name="Bambang", phone="0813-2222-3333")
    await log_in(client, manager)

    count_queries.statements.clear()
    page = await client.get("/manager/training/not-selling")
    assert page.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    assert "Abon Sapi Bu Tini" in section(page.text, "not-listed")
    assert f'href="/vendors/{seller.vendor.id}"' in section(page.text, "not-listed")
    assert "Bambang" in section(page.text, "not-signed-up")

    await world.live_product(seller, "Abon Sapi 250 g", category="snacks", unit="pack", price=45000)
    page = await client.get("/manager/training/not-selling")
    assert "Abon Sapi Bu Tini" not in section(page.text, "not-listed")
    assert "Abon Sapi Bu Tini" in section(page.text, "not-sold")

    auth = await make_token(client, manager)
    answer = (await client.get("/api/v1/manager/training/trained-not-selling", headers=auth)).json()
    assert [person["business_name"] for person in answer["not_sold"]] == ["Abon Sapi Bu Tini"]
    assert answer["not_sold"][0]["live_listings"] == 1 and answer["not_listed"] == []
    assert [person["name"] for person in answer["not_signed_up"]] == ["Bambang"]


# --- verified completions -----------------------------------------------------------------------------------------


async def test_a_verified_certificate_shows_as_a_badge_on_the_vendor_page(
    client, other_client, world, zone, manager, database, count_queries
):
    seller = await world.seller(zone, business_name="Abon Sapi Bu Tini")
    neighbour = await world.seller(zone, business_name="Keripik Mbak Nur")
    cohort = await bbpvp_cohort(database, manager)
    attendee = await attend(database, manager, cohort, vendor_id=seller.vendor.id, completed=True)
    assert "Terlatih:" not in (await other_client.get(f"/vendors/{seller.vendor.id}")).text

    await log_in(client, manager)
    verified = await submit(
        client,
        f"/manager/training/attendees/{attendee.id}/verify",
        {"certificate_number": "BBPVP-SMG/2026/0117"},
        headers={"HX-Request": "true"},
    )
    assert verified.status_code == 200
    assert f'id="attendee-{attendee.id}"' in verified.text and 'data-verified="yes"' in verified.text
    assert "training.verify" in await audit_actions(database)

    count_queries.statements.clear()
    page = await other_client.get(f"/vendors/{seller.vendor.id}")
    assert count_queries.count <= 5, count_queries.statements
    assert "Terlatih: Pelatihan Pengolahan Daging" in page.text and "BBPVP-SMG/2026/0117" in page.text
    assert "Terlatih:" not in (await other_client.get(f"/vendors/{neighbour.vendor.id}")).text

    await log_in(other_client, seller.user)
    count_queries.statements.clear()
    checklist = await other_client.get("/vendor/readiness")
    assert count_queries.count <= 5, count_queries.statements
    assert "Terlatih: Pelatihan Pengolahan Daging" in section(checklist.text, "my-training")
    mine = await other_client.get("/api/v1/vendor/training", headers=await make_token(other_client, seller.user))
    assert [badge["organiser"] for badge in mine.json()] == ["BBPVP Semarang"]

    withdrawn = await submit(client, f"/manager/training/attendees/{attendee.id}/unverify", {})
    assert withdrawn.status_code == 303
    assert "Terlatih:" not in (await client.get(f"/vendors/{seller.vendor.id}")).text


async def test_a_vendor_sees_no_other_vendors_training(client, world, zone, manager, database):
    trained = await world.seller(zone, business_name="Abon Sapi Bu Tini")
    other = await world.seller(zone, business_name="Keripik Mbak Nur")
    cohort = await bbpvp_cohort(database, manager)
    attendee = await attend(database, manager, cohort, vendor_id=trained.vendor.id)
    async with database.sessionmaker() as session:
        await service.verify_completion(
            session=session, actor=manager, attendee_id=attendee.id, data=service.VerificationInput(), now=utcnow()
        )
        await session.commit()

    auth = await make_token(client, other.user)
    assert (await client.get("/api/v1/vendor/training", headers=auth)).json() == []
    assert "my-training" not in (await client.get("/vendor/readiness")).text


# --- who may do what ----------------------------------------------------------------------------------------------


async def test_another_zones_manager_finds_nothing_and_vendors_are_refused(
    client, other_client, world, zone, manager, vendor, database
):
    cohort = await bbpvp_cohort(database, manager)
    attendee = await attend(database, manager, cohort, full_name="Sri Rahayu", phone="0812-3456-7001")
    elsewhere = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    stranger = await world.user(Role.MANAGER, zone=elsewhere)

    await log_in(other_client, stranger)
    for url in (
        f"/manager/training/programmes/{cohort.programme_id}",
        f"/manager/training/cohorts/{cohort.id}",
    ):
        assert (await other_client.get(url)).status_code == 404, url
    assert (await submit(other_client, f"/manager/training/attendees/{attendee.id}/verify", {})).status_code == 404
    assert (await upload(other_client, cohort, ATTENDANCE)).status_code == 404
    assert "Sri Rahayu" not in (await other_client.get("/manager/training/not-selling")).text
    other_auth = await make_token(other_client, stranger)
    assert (
        await other_client.get(f"/api/v1/manager/training/cohorts/{cohort.id}", headers=other_auth)
    ).status_code == 404
    assert (await other_client.get("/api/v1/manager/training/programmes", headers=other_auth)).json() == []

    await log_in(client, vendor)
    assert (await client.get("/manager/training")).status_code == 403
    assert (await client.get(f"/manager/training/cohorts/{cohort.id}")).status_code == 403
    assert (await submit(client, f"/manager/training/attendees/{attendee.id}/verify", {})).status_code == 403
    vendor_auth = await make_token(client, vendor)
    assert (await client.get("/api/v1/manager/training/programmes", headers=vendor_auth)).status_code == 403
    [still] = await attendees_of(database, cohort)
    assert still.verified_at is None


async def test_forms_without_the_csrf_token_are_refused(client, manager, database):
    cohort = await bbpvp_cohort(database, manager)
    attendee = await attend(database, manager, cohort, full_name="Sri Rahayu", phone="0812-3456-7001")
    await log_in(client, manager)
    await client.get("/manager/training")

    for url, data in (
        ("/manager/training", BBPVP),
        (f"/manager/training/programmes/{cohort.programme_id}/cohorts", COHORT),
        (f"/manager/training/cohorts/{cohort.id}/attendees", {"full_name": "Nur", "phone": "0812-3456-7002"}),
        (f"/manager/training/attendees/{attendee.id}/verify", {}),
        (f"/manager/training/attendees/{attendee.id}/remove", {}),
    ):
        refused = await client.post(url, data=data, follow_redirects=False)
        assert refused.status_code == 403, url
    async with database.sessionmaker() as session:
        assert len(list((await session.execute(select(TrainingProgramme))).scalars())) == 1
    [still] = await attendees_of(database, cohort)
    assert still.verified_at is None


# --- the API ------------------------------------------------------------------------------------------------------


async def test_the_api_keeps_programmes_cohorts_and_attendees_with_problem_bodies_for_bad_input(
    client, world, zone, manager, database
):
    seller = await world.seller(zone, business_name="Abon Sapi Bu Tini", certificates=())
    auth = await make_token(client, manager)

    created = await client.post("/api/v1/manager/training/programmes", json=BBPVP, headers=auth)
    assert created.status_code == 201, created.text
    programme = created.json()
    assert programme["kind_label"] == "Pengolahan daging" and programme["cohorts"] == []

    odd_kind = await client.post("/api/v1/manager/training/programmes", json={**BBPVP, "kind": "masak"}, headers=auth)
    assert odd_kind.status_code == 400 and odd_kind.headers["content-type"].startswith("application/problem+json")
    assert "kind" in odd_kind.text

    backwards = await client.post(
        f"/api/v1/manager/training/programmes/{programme['id']}/cohorts",
        json={**COHORT, "ends_on": "2026-10-01"},
        headers=auth,
    )
    assert backwards.status_code == 422 and "ends_on" in backwards.text
    cohort = (
        await client.post(f"/api/v1/manager/training/programmes/{programme['id']}/cohorts", json=COHORT, headers=auth)
    ).json()
    assert cohort["starts_on"] == "2026-11-02"

    by_vendor = await client.post(
        f"/api/v1/manager/training/cohorts/{cohort['id']}/attendees", json={"vendor_id": seller.vendor.id}, headers=auth
    )
    assert by_vendor.status_code == 201, by_vendor.text
    assert by_vendor.json()["signed_up"] is True and by_vendor.json()["business_name"] == "Abon Sapi Bu Tini"
    malformed = await client.post(
        f"/api/v1/manager/training/cohorts/{cohort['id']}/attendees",
        json={"full_name": "Bambang", "phone": "021-555-1234"},
        headers=auth,
    )
    assert malformed.status_code == 422 and "phone" in malformed.text
    nothing = await client.post(
        f"/api/v1/manager/training/cohorts/{cohort['id']}/attendees", json={"full_name": "Bambang"}, headers=auth
    )
    assert nothing.status_code == 422
    twice = await client.post(
        f"/api/v1/manager/training/cohorts/{cohort['id']}/attendees", json={"vendor_id": seller.vendor.id}, headers=auth
    )
    assert twice.status_code == 422

    report = await client.post(
        f"/api/v1/manager/training/cohorts/{cohort['id']}/attendance",
        headers=auth,
        files={"attendance": ("peserta.csv", ATTENDANCE.encode(), "text/csv")},
    )
    assert report.status_code == 201, report.text
    assert (report.json()["created"], report.json()["rejected"]) == (2, 1)
    assert report.json()["rejected_rows"] == [{"line": 5, "reason": "Baris 5: nomor HP bukan nomor HP Indonesia."}]

    detail = (await client.get(f"/api/v1/manager/training/cohorts/{cohort['id']}", headers=auth)).json()
    assert [a["full_name"] for a in detail["attendees"]] == ["Nur Hidayah", "Sri Rahayu", seller.vendor.owner_name]
    first = detail["attendees"][0]["id"]
    verified = await client.post(
        f"/api/v1/manager/training/attendees/{first}/verification",
        json={"certificate_number": "BBPVP-SMG/2026/0118"},
        headers=auth,
    )
    assert verified.status_code == 200 and verified.json()["verified"] is True
    assert (await client.delete(f"/api/v1/manager/training/attendees/{first}", headers=auth)).status_code == 204
    assert date.fromisoformat(cohort["ends_on"]) == date(2026, 11, 13)


async def test_a_manager_corrects_a_mistyped_phone_and_the_attendee_is_linked_to_that_vendor(
    client, world, zone, manager, database, count_queries
):
    seller = await world.seller(zone, business_name="Abon Sapi Bu Tini", certificates=())
    cohort = await bbpvp_cohort(database, manager)
    attendee = await attend(database, manager, cohort, full_name="Tini", phone="0812-9999-0000")
    await log_in(client, manager)

    count_queries.statements.clear()
    form = await client.get(f"/manager/training/attendees/{attendee.id}")
    assert form.status_code == 200 and count_queries.count <= 5, count_queries.statements
    wrong = await submit(client, f"/manager/training/attendees/{attendee.id}", {"full_name": "Tini", "phone": "12"})
    assert wrong.status_code == 400 and 'value="12"' in wrong.text

    saved = await submit(
        client,
        f"/manager/training/attendees/{attendee.id}",
        {"full_name": "Tini Suryani", "phone": seller.user.phone, "completed": "true"},
    )

    assert saved.status_code == 303
    [corrected] = await attendees_of(database, cohort)
    assert (corrected.full_name, corrected.user_id, corrected.completed) == ("Tini Suryani", seller.user.id, True)
    assert "training.attendee_edit" in await audit_actions(database)
    page = await client.get(f"/manager/training/cohorts/{cohort.id}")
    assert f'href="/vendors/{seller.vendor.id}"' in page.text


def test_the_list_reads_lulus_and_status_words_and_reports_what_it_cannot_read():
    from backend.training.attendance import parse_attendance

    rows, rejected = parse_attendance(
        b"Nama Peserta,Telp/HP,Status,No. Sertifikat\n"
        b"Sri Rahayu,081234567001,Kompeten,BNSP-0001\n"
        b"Nur Hidayah,081234567002,Belum kompeten,\n"
        b"Bambang,081234567003,mungkin,\n"
        b"Sri Rahayu lagi,+62 812-3456-7001,Lulus,\n"
        b"Tanpa Nomor,,Lulus,\n"
    )

    assert [(row.full_name, row.completed, row.certificate_number) for row in rows] == [
        ("Sri Rahayu", True, "BNSP-0001"),
        ("Nur Hidayah", False, ""),
    ]
    assert [(row.line, row.params) for row in rejected] == [
        (4, {"line": 4, "value": "mungkin"}),
        (5, {"line": 5, "first": 2}),
        (6, {"line": 6}),
    ]


async def test_a_manager_adds_someone_by_phone_and_is_told_when_the_number_is_wrong_or_already_listed(
    client, manager, database
):
    cohort = await bbpvp_cohort(database, manager)
    await log_in(client, manager)
    url = f"/manager/training/cohorts/{cohort.id}/attendees"

    added = await submit(
        client, url, {"full_name": "Sri Rahayu", "business_name": "Catering Bu Sri", "phone": "0812-3456-7001"}
    )
    landline = await submit(client, url, {"full_name": "Bambang", "phone": "021-555-1234"})
    twice = await submit(client, url, {"full_name": "Sri R.", "phone": "+62 812 3456 7001"})
    neither = await submit(client, url, {"full_name": "Tanpa Nomor"})

    assert added.status_code == 303
    assert (
        landline.status_code == 400
        and "Ketik nomor HP Indonesia" in landline.text
        and 'value="Bambang"' in landline.text
    )
    assert twice.status_code == 400 and "Orang ini sudah ada di daftar angkatan." in twice.text
    assert neither.status_code == 400 and "Ketik nomor HP atau NIB" in neither.text
    assert [a.full_name for a in await attendees_of(database, cohort)] == ["Sri Rahayu"]
    page = await client.get(f"/manager/training/cohorts/{cohort.id}?notice=attendee_added")
    assert "Peserta ditambahkan." in page.text and "Catering Bu Sri" in page.text


async def test_an_attendee_known_only_by_nib_is_linked_once_the_vendors_nib_certificate_is_verified(
    world, zone, manager, database
):
    from backend.moderation import service as moderation
    from tests.conftest import EXAMPLE_NUMBERS

    cohort = await bbpvp_cohort(database, manager)
    await attend(database, manager, cohort, full_name="Nur Hidayah", nib=EXAMPLE_NUMBERS["nib"])
    owner = await world.user(Role.VENDOR, zone=zone)
    shop = await world.shop(owner, certificate_kinds=("nib",), verified=False, business_name="Keripik Mbak Nur")
    [before] = await attendees_of(database, cohort)
    assert before.user_id is None

    async with database.sessionmaker() as session:
        await moderation.verify_certificate(
            session=session, actor=manager, certificate_id=shop.certificates[0].id, now=utcnow()
        )
        await session.commit()

    [after] = await attendees_of(database, cohort)
    assert after.user_id == owner.id
