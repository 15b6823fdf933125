"""Orders by WhatsApp: the app with WhatsApp settings, talking to a stand-in of the Graph API; webhook deliveries
signed as Meta signs them; a vendor with a linked number and an order placed with them.

Service-level steps run on the ordering helpers' fixed clock (Monday 23 November 2026, 09.00 WIB)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from litestar import Litestar

from backend.accounts.verification import CodePolicy
from backend.config import Settings
from backend.db import Database
from backend.jobs import run_job
from backend.whatsapp import linking
from tests.conftest import AppFor, RecordingCodeSender
from tests.orders.conftest import NOW, catering, ordering  # noqa: F401  (fixtures)
from tests.whatsapp.graph_standin import GraphStandIn

TOKEN = "EAAG-test-token"
PHONE_NUMBER_ID = "109876543210"
APP_SECRET = "test-app-secret-0123456789abcdef"
VERIFY_TOKEN = "pasar-kawasan-verify-token"
_message_ids = itertools.count(1)


@pytest.fixture(scope="session")
def graph_server() -> Iterator[GraphStandIn]:
    stand_in = GraphStandIn(token=TOKEN, phone_number_id=PHONE_NUMBER_ID).start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


@pytest.fixture
def graph(graph_server: GraphStandIn) -> Iterator[GraphStandIn]:
    try:
        yield graph_server
    finally:
        assert not graph_server.problems, graph_server.problems
        graph_server.reset()


@pytest.fixture
def whatsapp_settings(settings: Settings, graph: GraphStandIn) -> Settings:
    return settings.model_copy(
        update={
            "whatsapp_token": TOKEN,
            "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_app_secret": APP_SECRET,
            "whatsapp_verify_token": VERIFY_TOKEN,
            "whatsapp_api_base": graph.url,
            "whatsapp_timeout_seconds": 2.0,
        }
    )


@pytest.fixture
async def app(whatsapp_settings: Settings, app_for: AppFor, database: Database) -> Litestar:
    return await app_for(whatsapp_settings)


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    """X-Hub-Signature-256 as Meta computes it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def text_from(phone: str, text: str, message_id: str | None = None) -> dict[str, Any]:
    """A text message as the webhook's value.messages[] carries it."""
    return {
        "from": phone.removeprefix("+"),
        "id": message_id or f"wamid.in{next(_message_ids)}",
        "timestamp": "1795000000",
        "type": "text",
        "text": {"body": text},
    }


def button_from(phone: str, payload: str, title: str = "Terima") -> dict[str, Any]:
    """A tap on a template's quick-reply button."""
    return {
        "from": phone.removeprefix("+"),
        "id": f"wamid.in{next(_message_ids)}",
        "timestamp": "1795000000",
        "type": "button",
        "button": {"payload": payload, "text": title},
    }


def delivery(*messages: dict[str, Any]) -> bytes:
    """A webhook delivery (entry[].changes[].value.messages[]) to our business number."""
    event = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [{"profile": {"name": "Bu Sri"}, "wa_id": m["from"]} for m in messages],
                            "messages": list(messages),
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(event).encode()


async def deliver(client: Any, body: bytes, *, signed_with: str | None = APP_SECRET) -> Any:
    headers = {"Content-Type": "application/json"}
    if signed_with is not None:
        headers["X-Hub-Signature-256"] = signature(body, signed_with)
    return await client.post("/api/v1/whatsapp/webhook", content=body, headers=headers)


async def run_whatsapp_jobs(database: Database, settings: Settings, now: datetime = NOW) -> None:
    """What the worker does after the webhook's commit: act on the messages, then send the answers."""
    await run_job("handle_whatsapp", database=database, settings=settings, now=now)
    await run_job("send_whatsapp", database=database, settings=settings, now=now)


async def link_number(database: Database, settings: Settings, user: Any, phone: str) -> None:
    """The vendor links `phone` the way the settings page does: a code sent to it, entered back."""
    codes = RecordingCodeSender()
    policy = CodePolicy(secret_key=settings.secret_key)
    async with database.sessionmaker() as session:
        await linking.send_link_code(
            session=session, settings=settings, user=user, phone=phone, policy=policy, sender=codes, now=NOW
        )
        await session.commit()
    async with database.sessionmaker() as session:
        await linking.confirm_link(
            session=session, settings=settings, user=user, code=codes.last_code(phone), policy=policy, now=NOW
        )
        await session.commit()
