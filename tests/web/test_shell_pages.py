"""The phone shell around every page: each role's main places in a bottom bar, with badges that cost no query."""

from __future__ import annotations

import re

import pytest

from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.orders import cart
from tests.conftest import QueryCounter, found, log_in
from tests.web.test_vendor_order_pages import Buyers


def tabbar(html: str) -> list[tuple[str, str, bool]]:
    """The bottom bar's places: (address, label, whether it is the current one)."""
    nav = found(r'<nav class="tabbar" aria-label="Menu utama">(.*?)</nav>', html, re.S).group(1)
    return [
        (href, re.sub(r"<[^>]+>", "", label).strip(), "aria-current" in attributes)
        for href, attributes, label in re.findall(r'<a href="([^"]+)"([^>]*)>(.*?)</a>', nav, re.S)
    ]


def badge(html: str, badge_id: str) -> str:
    return found(rf'<span class="tab-badge" id="{badge_id}">([^<]*)</span>', html).group(1)


@pytest.mark.parametrize(
    ("role", "home", "places"),
    [
        (
            Role.VENDOR,
            "/vendor/profile",
            [
                ("/vendor", "Beranda"),
                ("/vendor/orders", "Pesanan"),
                ("/vendor/products", "Produk"),
                ("/vendor/balance", "Saldo"),
                ("/settings", "Akun"),
            ],
        ),
        (
            Role.CANTEEN_STAFF,
            "/canteen",
            [
                ("/catalogue", "Katalog"),
                ("/cart", "Keranjang"),
                ("/orders", "Pesanan"),
                ("/canteen/standing-orders", "Rutin"),
                ("/settings", "Akun"),
            ],
        ),
        (
            Role.WORKER,
            "/worker",
            [("/catalogue", "Katalog"), ("/cart", "Keranjang"), ("/orders", "Pesanan"), ("/settings", "Akun")],
        ),
        (
            Role.MANAGER,
            "/manager",
            [
                ("/manager/queue", "Antrean"),
                ("/manager/vendors", "Vendor"),
                ("/manager/dashboard", "Laporan"),
                ("/settings", "Akun"),
            ],
        ),
        (
            Role.ADMIN,
            "/admin",
            [
                ("/admin", "Beranda"),
                ("/admin/zones", "Kawasan"),
                ("/admin/users", "Pengguna"),
                ("/admin/balances", "Saldo"),
                ("/settings", "Akun"),
            ],
        ),
    ],
)
async def test_each_role_has_its_main_places_in_the_bottom_bar(client, world, zone, canteen, role, home, places):
    user = await world.user(role, zone=zone, organisation=canteen if role == Role.CANTEEN_STAFF else None)
    await log_in(client, user)

    page = await client.get(home)

    assert page.status_code == 200
    assert [(href, label) for href, label, _ in tabbar(page.text)] == places


async def test_the_place_a_page_belongs_to_is_marked_current(client, world, zone, canteen):
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    await log_in(client, staff)

    current = {}
    for path in ("/catalogue", "/cart", "/orders", "/canteen/standing-orders", "/settings", "/inbox", "/canteen"):
        current[path] = [href for href, _, is_current in tabbar((await client.get(path)).text) if is_current]

    assert current == {
        "/catalogue": ["/catalogue"],
        "/cart": ["/cart"],
        "/orders": ["/orders"],
        "/canteen/standing-orders": ["/canteen/standing-orders"],
        "/settings": ["/settings"],
        "/inbox": ["/settings"],
        "/canteen": [],  # the home is reached by the name at the top
    }


async def test_each_admin_page_belongs_to_one_of_the_admins_places(client, admin, zone):
    await log_in(client, admin)

    current = {}
    for path in (
        "/admin",
        "/admin/zones",
        f"/admin/zones/{zone.id}",
        "/admin/commission",
        "/admin/users",
        "/admin/managers",
        "/admin/balances",
        "/manager/invoices",
        "/manager/queue",
        "/admin/settings",
    ):
        page = await client.get(path)
        assert page.status_code == 200, path
        current[path] = [href for href, _, is_current in tabbar(page.text) if is_current]

    assert current == {
        "/admin": ["/admin"],
        "/admin/zones": ["/admin/zones"],
        f"/admin/zones/{zone.id}": ["/admin/zones"],
        "/admin/commission": ["/admin/zones"],  # commission is set per zone
        "/admin/users": ["/admin/users"],
        "/admin/managers": ["/admin/users"],
        "/admin/balances": ["/admin/balances"],
        "/manager/invoices": ["/admin/balances"],
        "/manager/queue": ["/admin"],  # the market managers' work, reached from the admin's home
        "/admin/settings": ["/settings"],
    }


async def test_a_visitor_has_no_bottom_bar(client):
    page = await client.get("/catalogue")

    assert 'class="tabbar"' not in page.text and 'href="/login"' in page.text


async def test_badges_count_new_orders_unread_notifications_and_cart_lines_without_a_query_of_their_own(
    client, world, zone, database, app
):
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    product = await world.live_product(seller, "Nasi Box Ayam Bakar", min_order_qty=10)
    buyers = Buyers(world, database, zone)
    await log_in(client, seller.user)
    with QueryCounter(app.state.database) as queries:
        quiet = await client.get("/vendor/products")
    quiet_queries = queries.count

    sinar = await buyers.canteen("Kantin PT Sinar")
    await buyers.order(sinar, product.id, 200)
    await buyers.order(await buyers.canteen("Kantin PT Garmen"), product.id, 150)
    with QueryCounter(app.state.database) as queries:
        busy = await client.get("/vendor/products")

    assert (badge(quiet.text, "new-orders"), badge(quiet.text, "unread-count")) == ("", "")
    # Two orders wait for an answer, and each told the vendor so in the inbox.
    assert (badge(busy.text, "new-orders"), badge(busy.text, "unread-count")) == ("2", "2")
    assert queries.count == quiet_queries, queries.statements  # the counts came with the user

    async with database.sessionmaker() as session:
        await cart.set_quantity(
            session=session, buyer=sinar, product_id=product.id, quantity=20, today=wib_today(utcnow())
        )
        await session.commit()
    await log_in(client, sinar)
    assert badge((await client.get("/orders")).text, "cart-count") == "1"


async def test_the_account_place_leads_home_to_the_inbox_and_out(client, world, zone):
    worker = await world.user(Role.WORKER, zone=zone)
    await log_in(client, worker)

    account = await client.get("/settings")

    main = account.text.split('<main id="main">', 1)[1]
    assert "<h1>Akun</h1>" in main
    assert 'href="/worker"' in main and 'href="/inbox"' in main and 'action="/logout"' in main


def language_form(html: str) -> tuple[str, dict[str, str]]:
    """The header's language switch as a browser would send it: its address and its fields (English chosen)."""
    form = found(r'<form method="post" action="/language" class="language">(.*?)</form>', html, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return "/language", {**fields, "locale": "en"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/no-such-page", 404), ("GET", "/vendor/products/abc", 404), ("GET", "/language", 405)],
)
async def test_an_address_that_matches_nothing_keeps_the_persons_own_shell_and_language_switch(
    client, world, zone, method, path, status
):
    seller = await world.user(Role.VENDOR, zone=zone)
    await log_in(client, seller)

    page = await client.request(method, path)
    action, fields = language_form(page.text)
    switched = await client.post(action, data=fields, follow_redirects=False)

    assert page.status_code == status
    assert [label for _, label, _ in tabbar(page.text)] == ["Beranda", "Pesanan", "Produk", "Saldo", "Akun"]
    assert 'href="/login"' not in page.text
    assert fields["_csrf_token"]
    assert switched.status_code == 303
    assert '<html lang="en">' in (await client.get("/vendor")).text


async def test_a_visitor_switches_language_from_a_page_that_does_not_exist(client):
    page = await client.get("/no-such-page")  # the browser's first page here
    action, fields = language_form(page.text)
    switched = await client.post(action, data=fields, follow_redirects=False)

    assert page.status_code == 404 and 'class="tabbar"' not in page.text
    assert switched.status_code == 303
    assert "Page not found" in (await client.get("/no-such-page")).text
