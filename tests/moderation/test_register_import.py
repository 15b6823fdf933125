"""A manager imports the district's UMKM register; valid rows become invitations a vendor claims by phone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts.models import Role
from backend.clock import utcnow
from backend.errors import Forbidden, NotFound, ValidationFailed
from backend.moderation.models import AuditEntry, VendorInvitation
from backend.moderation.register import claim_invitation, get_import, import_register, parse_register
from backend.vendors.models import Vendor
from tests.conftest import QueryCounter, csrf_token, log_in, sign_up

REGISTER = """nama_usaha,nama_pemilik,nib,no_hp,kecamatan,desa,jenis_usaha
Catering Bu Sri,Sri Rahayu,9120301234567,0812-3456-7001,Gringsing,Krengseng,Katering
Keripik Mbak Nur,Nur Hidayah,,0812 3456 7002,Batang,Kauman,makanan olahan
Jamu Bandar,Wulan Sari,91203012345,0812-3456-7003,Bandar,Bandar,minuman
Konveksi Subah,Bambang,9120305678901,021-555-1234,Subah,Subah,konveksi
Catering Bu Sri (cabang),Sri Rahayu,9120301234567,0812-3456-7009,Gringsing,Plelen,Katering
,Tanpa Nama,,0812-3456-7010,Limpung,Limpung,
Batik Tulis Ketanggan,Dewi,9120309999999,0812-3456-7011,Gringsing,Ketanggan,kerajinan
"""


async def run_import(database, manager, data: bytes, zone_id: int | None = None):
    async with database.sessionmaker() as session:
        report = await import_register(
            session=session,
            manager=manager,
            zone_id=zone_id or manager.zone_id,
            filename="umkm_batang.csv",
            data=data,
            now=utcnow(),
        )
        await session.commit()
        return report


async def invitations(database) -> list[VendorInvitation]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(VendorInvitation).order_by(col(VendorInvitation.id)))).scalars())


async def test_good_bad_and_duplicate_rows_give_the_right_report(manager, database):
    report = await run_import(database, manager, REGISTER.encode())

    assert (report.total_rows, report.created_count, report.rejected_count) == (7, 3, 4)
    assert [(row["line"], row["reason"]) for row in report.rejected_rows] == [
        (4, "Line %(line)s: an NIB has 13 digits."),
        (5, "Line %(line)s: the phone number is not an Indonesian mobile number."),
        (6, "Line %(line)s: the same UMKM as line %(first)s."),
        (7, "Line %(line)s: the business name is missing or too long."),
    ]
    assert report.rejected_rows[2]["params"] == {"line": 6, "first": 2}
    rows = await invitations(database)
    assert [(i.business_name, i.phone, i.category) for i in rows] == [
        ("Catering Bu Sri", "+6281234567001", "catering"),
        ("Keripik Mbak Nur", "+6281234567002", "snacks"),
        ("Batik Tulis Ketanggan", "+6281234567011", "crafts"),
    ]
    async with database.sessionmaker() as session:
        entry = (await session.execute(select(AuditEntry))).scalar_one()
    assert entry.action == "register.import" and entry.after["created"] == 3


async def test_importing_the_same_file_twice_creates_no_duplicates(manager, database):
    await run_import(database, manager, REGISTER.encode())
    again = await run_import(database, manager, REGISTER.encode())

    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert len(await invitations(database)) == 3


async def test_a_changed_row_updates_its_invitation_matching_on_nib_then_phone(manager, database):
    await run_import(database, manager, REGISTER.encode())
    changed = (
        REGISTER.replace("Gringsing,Krengseng", "Gringsing,Sawangan")
        .replace(",0812 3456 7002,Batang,Kauman", ",0812 3456 7002,Batang,Proyonanggan")
        .replace("9120301234567,0812-3456-7001,Gringsing", "9120301234567,0813-9999-0001,Gringsing")
    )

    report = await run_import(database, manager, changed.encode())

    assert (report.created_count, report.updated_count, report.unchanged_count) == (0, 2, 1)
    by_name = {i.business_name: i for i in await invitations(database)}
    assert by_name["Catering Bu Sri"].desa == "Sawangan"
    assert by_name["Catering Bu Sri"].phone == "+6281399990001"  # matched on NIB, phone updated
    assert by_name["Keripik Mbak Nur"].desa == "Proyonanggan"  # no NIB: matched on phone


async def test_indonesian_semicolon_headers_with_a_bom_are_read():
    data = (
        "\ufeffNama Usaha;Pemilik;NIB;No. HP;Kecamatan;Desa/Kelurahan;Kategori\n"
        "Frozen Dapur Limpung;Siti;9120304567890;0812-3456-7004;Limpung;Limpung;Makanan Beku\n"
    )

    rows, rejected, _ = parse_register(data.encode("utf-8"))

    assert rejected == []
    assert rows[0].business_name == "Frozen Dapur Limpung" and rows[0].category == "frozen"


async def test_a_file_without_a_phone_column_is_refused_as_a_whole(manager, database):
    with pytest.raises(ValidationFailed) as refused:
        await run_import(database, manager, b"nama_usaha,kecamatan,desa\nCatering,Gringsing,Krengseng\n")

    assert refused.value.errors[0].params == {"columns": "no_hp / phone"}
    assert await invitations(database) == []


async def test_a_manager_of_another_zone_can_neither_import_here_nor_read_the_report(world, zone, manager, database):
    report = await run_import(database, manager, REGISTER.encode())
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    stranger = await world.user(Role.MANAGER, zone=other_zone)

    with pytest.raises(Forbidden):
        await run_import(database, stranger, REGISTER.encode(), zone_id=zone.id)
    async with database.sessionmaker() as session:
        with pytest.raises(NotFound):
            await get_import(session=session, actor=stranger, import_id=report.id)


async def test_the_pages_upload_a_register_and_show_each_rejected_line(client, manager):
    await log_in(client, manager)
    form = await client.get("/manager/register")
    assert form.status_code == 200

    response = await client.post(
        "/manager/register",
        data={"_csrf_token": await csrf_token(client)},
        files={"register": ("umkm_batang.csv", REGISTER.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    report = await client.get(response.headers["location"])

    assert "Baris 5: nomor HP bukan nomor HP Indonesia." in report.text
    assert "Baris 6: UMKM yang sama dengan baris 2." in report.text


async def test_the_api_imports_with_a_token(client, manager):
    from tests.vendors.test_vendor_api import make_token

    auth = await make_token(client, manager)
    response = await client.post(
        "/api/v1/manager/register", headers=auth, files={"register": ("umkm.csv", REGISTER.encode(), "text/csv")}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["created"], body["rejected"]) == (3, 4)
    assert body["rejected_rows"][0] == {"line": 4, "reason": "Baris 4: NIB terdiri dari 13 angka."}
    assert (await client.get(f"/api/v1/manager/register/{body['id']}", headers=auth)).json()["id"] == body["id"]


async def test_a_vendor_from_the_register_claims_the_invitation_by_signing_up_with_its_phone_and_its_code(
    client, zone, manager, database, codes
):
    await run_import(database, manager, REGISTER.encode())

    response = await sign_up(
        client,
        codes,
        {
            "role": "vendor",
            "full_name": "Sri Rahayu",
            "phone": "0812-3456-7001",
            "password": "catering-sri-1",
            "zone_id": str(zone.id),
        },
    )

    assert response.status_code == 303
    async with database.sessionmaker() as session:
        vendor = (await session.execute(select(Vendor))).scalar_one()
        claimed = (
            await session.execute(
                select(func.count(col(VendorInvitation.id))).where(col(VendorInvitation.claimed_by_id).is_not(None))
            )
        ).scalar_one()
    assert vendor.business_name == "Catering Bu Sri" and vendor.desa == "Krengseng"
    assert claimed == 1


async def test_a_register_without_nibs_keeps_the_nibs_already_known(manager, database):
    await run_import(database, manager, REGISTER.encode())
    without_nib = "nama_usaha,no_hp,kecamatan,desa\nCatering Bu Sri,0812-3456-7001,Gringsing,Krengseng\n"

    report = await run_import(database, manager, without_nib.encode())

    by_name = {i.business_name: i for i in await invitations(database)}
    assert by_name["Catering Bu Sri"].nib == "9120301234567"
    # The owner column is gone, so the owner falls back to the business name: an update, not a new UMKM.
    assert (report.created_count, report.updated_count) == (0, 1)


async def test_rows_that_would_merge_two_umkm_are_rejected(manager, database):
    await run_import(database, manager, REGISTER.encode())
    conflicting = (
        "nama_usaha,nib,no_hp,kecamatan,desa\n"
        "Catering Bu Sri,9120301234567,0812-3456-7050,Gringsing,Krengseng\n"  # by NIB, with a new phone
        "Warung Baru,,0812-3456-7001,Gringsing,Plelen\n"  # the old phone of that same invitation
        "Batik Lain,9120300000000,0812-3456-7011,Gringsing,Ketanggan\n"  # the batik's phone, another NIB
    )

    report = await run_import(database, manager, conflicting.encode())

    assert (report.created_count, report.updated_count) == (0, 1)
    assert [(row["line"], row["reason"], row["params"]) for row in report.rejected_rows] == [
        (3, "Line %(line)s: the same UMKM as line %(first)s.", {"line": 3, "first": 2}),
        (4, "Line %(line)s: this phone number belongs to another UMKM of the register.", {"line": 4}),
    ]
    assert len(await invitations(database)) == 3


def test_line_numbers_are_the_files_own_even_below_a_title_and_across_quoted_line_breaks():
    data = (
        "DATA UMKM KABUPATEN BATANG 2026\r\n\r\n"
        "No;Nama Usaha;Nama Pemilik;No HP;Kecamatan;Kelurahan\r\n"
        '1;"Catering\r\nBu Sri";Sri;0812-3456-7001;Gringsing;Krengseng\r\n'
        "2;Keripik Nur;N;0812-3456-7002;Batang;Kauman\r\n"
    )

    rows, rejected, _ = parse_register(data.encode())

    assert [(row.line, row.business_name) for row in rows] == [(4, "Catering Bu Sri")]
    assert [(row.line, row.reason) for row in rejected] == [
        (6, "Line %(line)s: the owner's name must have 2 to 120 characters.")
    ]


def test_a_windows_spreadsheet_export_and_the_register_categories_are_read():
    data = (
        "Nama UMKM,Pemilik,Telp,Kec.,Desa,Sektor\n"
        "Kopi Gunung Rogojembangan,Pak Slamet,81234567020,Bawang,Deles,Makanan dan Minuman\n"
        "Es Dawet Ayu,Bu Ani,0812 3456 7021,Batang,Kauman,Minuman\n"
        "Nasi Box Pak Darto,Darto,0812.3456.7022,Tulis,Tulis,Kuliner\n"
        "Bakso Beku Bu Rini,Rini,+62 812-3456-7023,Limpung,Limpung,makanan beku\n"
        "Seragam Subah,Bambang,0812-3456-7024,Subah,Subah,Konveksi\n"
        "Anyaman Pandan,Siti,0812-3456-7025,Kandeman,Depok,Kriya\n"
        "Sayur Organik Bandar,Joko,0812-3456-7026,Bandar,Tumbrep,Hasil Bumi\n"
        "Bengkel Motor,Eko,0812-3456-7027,Batang,Proyonanggan,Jasa\n"
        "Caf\u00e9 Pengrajin,Andr\u00e9,0812-3456-7028,Warungasem,Pandansari,\n"
    )

    rows, rejected, _ = parse_register(data.encode("cp1252"))

    assert rejected == []
    assert [row.category for row in rows] == [
        "snacks",
        "drinks",
        "catering",
        "frozen",
        "uniforms",
        "crafts",
        "fresh",
        "other",
        "other",
    ]
    assert rows[0].phone == "+6281234567020" and rows[-1].owner_name == "Andr\u00e9"


async def test_the_import_reads_the_zone_once_not_once_a_row(manager, database):
    many = "nama_usaha,no_hp,kecamatan,desa\n" + "".join(
        f"UMKM {n},0812-3456-{n:04d},Gringsing,Krengseng\n" for n in range(200)
    )
    few = "nama_usaha,no_hp,kecamatan,desa\nUMKM 1,0812-3456-0001,Gringsing,Sawangan\n"
    statements = []
    for data in (many, many, few):
        with QueryCounter(database) as counter:
            await run_import(database, manager, data.encode())
        statements.append(counter.count)

    assert max(statements) <= 6, statements  # zone, report, invitations, insert or update, report, audit


async def test_an_admin_imports_into_the_zone_chosen_and_must_choose_one(client, zone, admin):
    from tests.vendors.test_vendor_api import make_token

    auth = await make_token(client, admin)
    missing = await client.post(
        "/api/v1/manager/register", headers=auth, files={"register": ("umkm.csv", REGISTER.encode(), "text/csv")}
    )
    assert missing.status_code == 422, missing.text

    response = await client.post(
        "/api/v1/manager/register",
        headers=auth,
        data={"zone_id": str(zone.id)},
        files={"register": ("umkm.csv", REGISTER.encode(), "text/csv")},
    )
    assert response.status_code == 201, response.text
    assert response.json()["zone_id"] == zone.id

    page = await client.get("/manager/register")
    assert 'name="zone_id"' in page.text and "umkm.csv" in page.text


async def test_another_zones_manager_gets_404_for_the_report_page_and_api(client, world, manager, database):
    report = await run_import(database, manager, REGISTER.encode())
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    stranger = await world.user(Role.MANAGER, zone=other_zone)
    from tests.vendors.test_vendor_api import make_token

    auth = await make_token(client, stranger)

    assert (await client.get(f"/manager/register/{report.id}")).status_code == 404
    assert (await client.get(f"/api/v1/manager/register/{report.id}", headers=auth)).status_code == 404
    assert "umkm_batang.csv" not in (await client.get("/manager/register")).text


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04\x14\x00\x06\x00xl/workbook.xml", b"\r\n\r\n"])
def test_an_empty_file_or_a_spreadsheet_saved_as_xlsx_is_refused(data):
    with pytest.raises(ValidationFailed) as refused:
        parse_register(data)

    assert refused.value.errors[0].message.startswith("The file is not a CSV table.")


def test_excels_unicode_text_export_is_read():
    data = "Nama Usaha\tNo HP\tKecamatan\tDesa\r\nKeripik Pak Darto\t0812-3456-7030\tTulis\tSimbangjati\r\n"

    rows, rejected, _ = parse_register(data.encode("utf-16"))

    assert rejected == [] and [(row.line, row.phone) for row in rows] == [(2, "+6281234567030")]


async def test_the_page_refuses_a_file_without_the_required_columns(client, manager, database):
    await log_in(client, manager)

    response = await client.post(
        "/manager/register",
        data={"_csrf_token": await csrf_token(client)},
        files={"register": ("umkm.csv", b"nama_usaha;kecamatan\nCatering;Gringsing\n", "text/csv")},
        follow_redirects=False,
    )

    assert response.status_code == 422
    assert "no_hp / phone, desa" in response.text
    assert await invitations(database) == []


async def test_claim_invitation_marks_the_zones_invitation_claimed_once(world, zone, manager, database):
    await run_import(database, manager, REGISTER.encode())
    sri = await world.user(Role.VENDOR, zone=zone, phone="+6281234567001")

    async with database.sessionmaker() as session:
        invitation = await claim_invitation(session=session, user=sri, now=world.now)
        again = await claim_invitation(session=session, user=sri, now=world.now)
        await session.commit()

    assert invitation is not None and invitation.business_name == "Catering Bu Sri"
    assert invitation.claimed_by_id == sri.id and invitation.claimed_at == world.now
    assert again is None


# A district office's own export, headers as typed in its spreadsheet: the phone column is "No. HP / WA".
OFFICE_REGISTER = (
    "No.;Nama Usaha;Nama Pemilik;Alamat;No. HP / WA;Kecamatan;Kelurahan/Desa;Jenis Produk;Keterangan\n"
    "1;Frozen Dapur Limpung;Siti;Jl. Raya 3;0812-3456-7004;Limpung;Limpung;Makanan Beku;binaan BLK\n"
)


@pytest.mark.parametrize(
    "phone_header", ["No. HP / WA", "No HP", "Nomor WhatsApp", "No. WA", "Nomor HP/WA", "No. Telp/HP", "HP (WA)"]
)
def test_the_phone_column_is_found_under_the_headings_district_offices_use(phone_header):
    data = f"Nama Usaha,{phone_header},Kecamatan,Desa\nKeripik Nur,0812-3456-7002,Batang,Kauman\n"

    rows, rejected, _ = parse_register(data.encode())

    assert rejected == [] and [(row.business_name, row.phone) for row in rows] == [("Keripik Nur", "+6281234567002")]


def test_columns_the_import_does_not_know_are_reported_not_fatal():
    rows, rejected, ignored = parse_register(OFFICE_REGISTER.encode())

    assert rejected == []
    assert [(row.business_name, row.owner_name, row.phone, row.desa, row.category) for row in rows] == [
        ("Frozen Dapur Limpung", "Siti", "+6281234567004", "Limpung", "frozen")
    ]
    assert (ignored.line, ignored.names) == (1, ["Alamat", "Keterangan"])  # a running number is not worth a word


async def test_the_report_page_names_the_columns_that_were_not_read(client, manager):
    await log_in(client, manager)

    response = await client.post(
        "/manager/register",
        data={"_csrf_token": await csrf_token(client)},
        files={"register": ("umkm_limpung.csv", OFFICE_REGISTER.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    report = await client.get(response.headers["location"])

    assert "Baris 1: kolom yang tidak dikenal dan tidak dibaca: Alamat, Keterangan." in report.text
    assert "Ditolak</dt><dd>0</dd>" in report.text.replace("\n", "")
