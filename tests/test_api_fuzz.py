"""Every operation of the JSON API, fuzzed from the OpenAPI document, as each role and anonymously.

A procurement system written against our OpenAPI document trusts two things: the server does not fall over
whatever it is sent, and every answer is one the document describes (status code, content type, body).
Schemathesis generates requests from the document itself — valid ones and deliberately invalid ones — and checks
each answer against it. The requests go through the app in-process, on a marketplace seeded with a zone, a
vendor with certificates and live products, a canteen with staff, a worker, a manager, an admin and orders.

Generation is derandomised and bounded by a number of examples per operation, so a run is reproducible and its
cost is known: the same requests are sent on every run, on SQLite and on PostgreSQL. No operation is left out:
Stripe's webhook is sent unsigned, and must refuse that with a documented 400.
"""

from __future__ import annotations

import contextlib
import functools
import json
from dataclasses import dataclass, field
from datetime import time, timedelta
from itertools import cycle
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from litestar.testing import AsyncTestClient
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as account_service
from backend.accounts.models import Role, User
from backend.app import create_app
from backend.catalog.models import Category, ProductPhoto, Unit
from backend.clock import utcnow, wib_today
from backend.orders import states
from backend.orders.models import OrderStatus, PaymentMethod
from backend.payments.models import Invoice
from backend.requests import service as request_service
from backend.requests.service import OfferInput, RequestInput
from tests.orders.conftest import Ordering

# Per operation and role: 80 operations × 5 callers × (3 valid + 2 invalid) requests, plus the anonymous caller,
# is what keeps a run on one database near a minute on a small machine.
VALID_EXAMPLES = 3
INVALID_EXAMPLES = 2

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

ROLES = ["anonymous", Role.WORKER, Role.CANTEEN_STAFF, Role.VENDOR, Role.MANAGER, Role.ADMIN]


@dataclass
class Marketplace:
    """What the seeded marketplace holds: a token per role, and ids the fuzzer aims its valid requests at."""

    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[int]] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens.get(role)
        return {"Authorization": f"Bearer {token}"} if token else {}


async def seed_marketplace(world: Any, database: Any) -> Marketplace:
    zone = await world.zone()
    canteen = await world.organisation(zone)
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen, full_name="Dewi Lestari")
    worker = await world.user(Role.WORKER, zone=zone, full_name="Rizky Pratama")
    manager = await world.user(Role.MANAGER, zone=zone, full_name="Sri Wahyuni")
    admin = await world.user(Role.ADMIN, full_name="Admin Pasar")

    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal", "pirt"))
    nasi_box = await world.live_product(
        seller, "Nasi Box Ayam Bakar", price=15000, min_order_qty=10, tiers=[{"min_quantity": 50, "unit_price": 14000}]
    )
    keripik = await world.live_product(
        seller, "Keripik Tempe", category="snacks", unit="pack", price=12000, fulfilment="ready_stock", stock=200
    )
    # A second vendor whose nasi box waits in the manager's review queue.
    waiting = await world.shop(await world.user(Role.VENDOR, zone=zone), business_name="Dapur Bu Tini")

    ordering = Ordering(world=world, database=database, zone=zone)
    gate = await ordering.gate()
    now, day = utcnow(), wib_today(utcnow()) + timedelta(days=3)
    canteen_order = await ordering.order(staff, nasi_box.id, 60, day=day, now=now)
    worker_order = await ordering.order(
        worker, keripik.id, 2, day=day, now=now, point_id=gate.id, payment=PaymentMethod.CASH
    )
    delivered = await ordering.order(
        worker, nasi_box.id, 10, day=day, now=now, point_id=gate.id, payment=PaymentMethod.CASH
    )
    async with database.sessionmaker() as session:
        for target in (OrderStatus.ACCEPTED, OrderStatus.READY, OrderStatus.DELIVERED):
            await states.change_status(
                session=session, order_id=delivered.id, target=target, actor=seller.user, now=now, today=day
            )
        await session.commit()

    # A canteen's request for breakfast boxes, answered by the caterer.
    async with database.sessionmaker() as session:
        posted = await request_service.post_request(
            session=session,
            actor=staff,
            data=RequestInput(
                title="Nasi box sarapan",
                category=Category.CATERING,
                quantity=100,
                unit=Unit.BOX,
                weekdays=[1, 2, 3, 4, 5],
                slot=time(6, 0),
                start_date=wib_today(now) + timedelta(days=7),
                required_certificates=["halal"],
            ),
            today=wib_today(now),
            now=now,
        )
        offer = await request_service.make_offer(
            session=session,
            vendor=seller.vendor,
            request_id=posted.id,
            data=OfferInput(start_date=posted.start_date, product_id=nasi_box.id),
            today=wib_today(now),
            now=now,
        )
        await session.commit()

    people: dict[str, User] = {
        Role.WORKER: worker,
        Role.CANTEEN_STAFF: staff,
        Role.VENDOR: seller.user,
        Role.MANAGER: manager,
        Role.ADMIN: admin,
    }
    marketplace = Marketplace()
    spare_tokens = []
    async with database.sessionmaker() as session:
        for role, person in people.items():
            raw, _ = await account_service.create_api_token(session=session, user=person, name="pengadaan")
            marketplace.tokens[role] = raw
            # A second token the fuzzer may revoke: revoking the one it calls with would end the run early.
            _, spare = await account_service.create_api_token(session=session, user=person, name="cadangan")
            spare_tokens.append(spare)
        await session.commit()
        invoice_ids = list((await session.execute(select(col(Invoice.id)))).scalars())
        photo_ids = list((await session.execute(select(col(ProductPhoto.id)))).scalars())
    marketplace.ids = {
        "product_id": [nasi_box.id, keripik.id, waiting.product.id],
        "vendor_id": [seller.vendor.id, waiting.vendor.id],
        "certificate_id": [*seller.certificate_ids.values(), *(c.id for c in waiting.certificates)],
        "order_id": [canteen_order.id, worker_order.id, delivered.id],
        "checkout_id": [canteen_order.checkout_id, worker_order.checkout_id],
        "token_id": [token.id for token in spare_tokens],
        "organisation_id": [canteen.id],
        "zone_id": [zone.id],
        "invoice_id": invoice_ids,
        "photo_id": photo_ids,
        "request_id": [posted.id],
        "offer_id": [offer.id],
    }
    return marketplace


def draw_cases(operation: Any, mode: GenerationMode, count: int) -> list[Any]:
    """The first `count` requests Hypothesis generates for an operation, the same ones on every run."""
    cases: list[Any] = []

    @hypothesis.settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def collect(case: Any) -> None:
        cases.append(case)

    # Nothing to make invalid: an operation without parameters or body has no invalid requests.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        collect()
    return cases[:count]


def aim_at_seeded_rows(case: Any, marketplace: Marketplace, choices: dict[str, Any]) -> None:
    """Point a valid request's path ids at rows that exist, so it reaches the rules behind the 404."""
    for name in list(case.path_parameters or {}):
        known = marketplace.ids.get(name)
        if known:
            iterator = choices.setdefault(name, cycle(known))
            case.path_parameters[name] = next(iterator)


async def send(client: AsyncTestClient[Any], case: Any, headers: dict[str, str]) -> Any:
    """Serialise the case exactly as Schemathesis would put it on the wire, then send it through the app."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver.local", headers=headers)
    kwargs.pop("timeout", None)
    kwargs.pop("allow_redirects", None)
    prepared = requests.Request(**kwargs).prepare()
    assert prepared.method is not None and prepared.url is not None
    assert prepared.body is None or isinstance(prepared.body, bytes | str)
    return await client.request(
        prepared.method,
        prepared.url,
        headers=dict(prepared.headers),  # type: ignore[arg-type]  # httpx sends bytes values as they are
        content=prepared.body,
        follow_redirects=False,
    )


@pytest.fixture
async def fuzz_client(settings: Any, database: Any) -> Any:
    # Thousands of requests a minute from one address: the rate limit would answer most of them with 429.
    app = create_app(settings.model_copy(update={"api_rate_limit_per_minute": 1_000_000}))
    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        yield client


def needs_token(operation: Any) -> bool:
    security = operation.definition.raw.get("security") or []
    return bool(security) and {} not in security


@functools.cache
def requests_for(document_text: str) -> list[tuple[Any, GenerationMode, list[Any]]]:
    """Each operation of the document with its generated requests: drawn once, sent as every role."""
    schema = schemathesis.openapi.from_dict(json.loads(document_text))
    # Each role sends its own token: generated or omitted tokens would turn most requests into one 401.
    schema.config.generation.update(with_security_parameters=False)
    planned = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        for mode, count in ((GenerationMode.POSITIVE, VALID_EXAMPLES), (GenerationMode.NEGATIVE, INVALID_EXAMPLES)):
            planned.append((operation, mode, draw_cases(operation, mode, count)))
    return planned


@pytest.mark.one_database
@pytest.mark.parametrize("role", ROLES, ids=str)
async def test_every_operation_answers_as_its_document_says(role, fuzz_client, world, database):
    marketplace = await seed_marketplace(world, database)
    document = await fuzz_client.get("/schema/openapi.json")
    headers = marketplace.headers(role)

    failures: dict[tuple[str, ...], str] = {}
    sent = 0
    for operation, mode, cases in requests_for(document.text):
        if role == "anonymous" and needs_token(operation):
            # One guard turns every anonymous request away before the request is looked at: one is enough.
            cases = cases[:1] if mode is GenerationMode.POSITIVE else []
        choices: dict[str, Any] = {}
        for case in cases:
            generated = dict(case.path_parameters or {})
            if mode is GenerationMode.POSITIVE:
                aim_at_seeded_rows(case, marketplace, choices)
            try:
                response = await send(fuzz_client, case, headers)
                sent += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except FailureGroup as group:
                    for failure in group.exceptions:
                        # One report per operation, status and kind of failure: the first request that showed it.
                        key = (operation.method.upper(), operation.path, str(response.status_code), failure.title)
                        if key not in failures:
                            failures[key] = (
                                f"{key[0]} {key[1]} → {key[2]}: {key[3]} ({mode.value} request)\n"
                                f"  {case.as_curl_command()}\n  {response.text[:400]}"
                            )
            finally:
                if case.path_parameters:
                    case.path_parameters.update(generated)
    assert not failures, f"{len(failures)} kinds of failure in {sent} requests:\n\n" + "\n\n".join(failures.values())


# --- what the fuzzer found, each pinned by a story of its own -------------------------------------------------


async def bearer(database: Any, user: User) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="pengadaan")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


async def test_a_form_field_that_is_not_text_is_a_bad_request_not_a_server_error(client, database, vendor):
    # A procurement system sends the certificate's photo as a plain form field (no filename): its bytes are not
    # UTF-8, and the multipart parser used to fail with a 500.
    boundary = "pasar-kawasan-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nhalal\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="document"\r\n\r\n'
        ).encode()
        + b"RIFF\x1a\x00\x00\x00WEBPVP8L\xfd\xff"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {**await bearer(database, vendor), "Content-Type": f"multipart/form-data; boundary={boundary}"}

    response = await client.post("/api/v1/vendor/certificates", content=body, headers=headers)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "http_400"


async def test_a_form_field_in_a_charset_that_does_not_exist_is_a_bad_request(client, database, vendor):
    boundary = "pasar-kawasan-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n'
        f"Content-Type: text/plain; charset=klingon\r\n\r\nhalal\r\n--{boundary}--\r\n"
    ).encode()
    headers = {**await bearer(database, vendor), "Content-Type": f"multipart/form-data; boundary={boundary}"}

    response = await client.post("/api/v1/vendor/certificates", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "http_400"


async def test_text_with_a_nul_character_is_a_bad_request_not_a_server_error_on_postgresql(client, database, worker):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores a NUL character; PostgreSQL refuses it in every text column")
    headers = await bearer(database, worker)

    response = await client.post("/api/v1/tokens", json={"name": "pengadaan\u0000kantin"}, headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "http_400"
    # The refused insert left nothing half done: the worker still gets on with the token they had.
    assert [token["name"] for token in (await client.get("/api/v1/tokens", headers=headers)).json()] == ["pengadaan"]


async def test_the_document_describes_each_problem_answer_with_its_real_body(client, database, worker):
    document = (await client.get("/schema/openapi.json")).json()
    order = document["paths"]["/api/v1/orders/{order_id}"]["get"]["responses"]
    search = document["paths"]["/api/v1/catalogue/products"]["get"]["responses"]

    # A guarded operation on one object: no token, wrong role, not found (or not yours), malformed, too many.
    assert {"400", "401", "403", "404", "429"} <= set(order)
    # The public catalogue turns nobody away.
    assert not {"401", "403"} & set(search)
    for answer in (order["400"], order["404"], search["422"]):
        assert answer["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    problem = document["components"]["schemas"]["Problem"]
    answered = (await client.get("/api/v1/orders/999999", headers=await bearer(database, worker))).json()
    assert answered["status"] == 404
    assert set(problem["required"]) <= set(answered) <= set(problem["properties"])


async def test_the_document_says_a_certificate_document_is_a_webp_photo_or_a_pdf(client):
    document = (await client.get("/schema/openapi.json")).json()
    ok = document["paths"]["/api/v1/vendor/certificates/{certificate_id}/document"]["get"]["responses"]["200"]

    assert set(ok["content"]) == {"image/webp", "application/pdf"}


async def test_the_document_names_the_not_found_answers_that_have_no_id_in_the_path(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    assert "404" in paths["/api/v1/push/key"]["get"]["responses"]  # Web Push is off on this server
    assert "404" in paths["/api/v1/reports/zone-dashboard"]["get"]["responses"]  # another manager's zone
    assert "400" in paths["/api/v1/stripe/webhook"]["post"]["responses"]  # no or a wrong signature
