"""A new vendor, on a 360 px phone, signs up, fills the profile, adds a certificate and a product with a photo
chosen with the file chooser, and submits it for review."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect


def phone_photo(path: Path) -> Path:
    image = Image.new("RGB", (1600, 1200), (190, 110, 50))
    exif = Image.Exif()
    exif[0x8825] = {1: "S", 2: (6.0, 57.0, 16.0), 3: "E", 4: (110.0, 1.0, 56.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    path.write_bytes(buffer.getvalue())
    return path


def test_a_new_vendor_lists_a_nasi_box_from_the_phone(page, live_server, screenshot, tmp_path, whatsapp_code):
    photo = phone_photo(tmp_path / "IMG_20261123_0701.jpg")
    page.goto(f"{live_server}/signup?role=vendor")
    page.fill("[name=full_name]", "Ratna Dewi")
    page.fill("[name=phone]", "0857-7000-1234")
    page.fill("[name=password]", "nasi-box-enak")
    page.select_option("[name=zone_id]", label="Kawasan Industri Terpadu Batang (Kabupaten Batang)")
    page.get_by_role("button", name="Buat akun").click()
    expect(page).to_have_url(f"{live_server}/verify-phone")
    page.get_by_label("Kode dari WhatsApp").fill(whatsapp_code("0857-7000-1234"))
    page.get_by_role("button", name="Konfirmasi", exact=True).click()
    expect(page).to_have_url(f"{live_server}/vendor")
    screenshot("home-new")

    page.goto(f"{live_server}/vendor/profile")
    page.fill("[name=business_name]", "Dapur Ratna")
    page.fill("[name=owner_name]", "Ratna Dewi")
    page.fill("[name=whatsapp]", "0857-7000-1234")
    page.fill("[name=kecamatan]", "Gringsing")
    page.fill("[name=desa]", "Ketanggan")
    page.fill("[name=latitude]", "-6.9600")
    page.fill("[name=longitude]", "110.0250")
    page.fill("[name=delivery_radius_km]", "12")
    page.fill("[name=daily_capacity]", "250")
    screenshot("profile")
    page.get_by_role("button", name="Simpan profil").click()
    expect(page.get_by_text("Profil usaha Anda sudah disimpan.")).to_be_visible()

    page.goto(f"{live_server}/vendor/certificates")
    page.select_option("[name=kind]", value="halal")
    page.fill("[name=number]", "HALAL 123")
    page.fill("[name=issuer]", "BPJPH")
    page.set_input_files("[name=document]", str(photo))
    page.get_by_role("button", name="Tambah sertifikat").click()
    expect(page.get_by_text("ID33110000123450523").first).to_be_visible()  # the hint shows the expected format
    screenshot("certificate-refused")
    page.fill("[name=number]", "ID33250000987650523")
    page.set_input_files("[name=document]", str(photo))
    page.get_by_role("button", name="Tambah sertifikat").click()
    expect(page.get_by_text("Menunggu verifikasi").first).to_be_visible()

    page.goto(f"{live_server}/vendor/products/new")
    page.fill("[name=name]", "Nasi Box Ayam Goreng Lengkuas")
    page.select_option("[name=category]", value="catering")
    page.select_option("[name=unit]", value="box")
    page.fill("[name=price]", "16.000")
    page.fill("[name=min_order_qty]", "20")
    page.fill("[name=tier_quantity_1]", "50")
    page.fill("[name=tier_price_1]", "15.000")
    page.fill("[name=tier_quantity_2]", "200")
    page.fill("[name=tier_price_2]", "14.000")
    page.check("[name=fulfilment][value=made_to_order]")
    page.fill("[name=order_cutoff]", "15:00")
    page.check("[name=certificate_ids]")
    assert page.get_attribute("[name=price]", "inputmode") == "numeric"
    page.get_by_role("button", name="Simpan sebagai draf").click()
    expect(page.get_by_text("Produk disimpan sebagai draf").first).to_be_visible()

    page.set_input_files("[name=photo]", str(photo))
    page.get_by_role("button", name="Unggah foto").click()
    thumbnail = page.locator("img[src^='/media/products/']").first
    expect(thumbnail).to_be_visible()
    assert thumbnail.get_attribute("src").endswith(".webp")
    screenshot("product-with-photo")

    page.get_by_role("button", name="Ajukan untuk diperiksa").click()
    expect(page.get_by_text("Menunggu diperiksa").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot("submitted")
