"""How codes reach phones: the WhatsApp Cloud API sender, over real HTTP to a local server standing in for Graph
API; and the log sender of development."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from backend.accounts.code_senders import LogCodeSender, WhatsAppCodeSender, code_sender_for
from backend.config import Settings
from backend.errors import CodeNotSent
from tests.app_process import free_port

TOKEN = "EAAG-test-token"
PHONE_NUMBER_ID = "106540352242922"


@dataclass
class GraphApi:
    """A stand-in for graph.facebook.com: records each request and answers with the next queued answer (200 with
    a message id when none is queued)."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def graph_api() -> Iterator[GraphApi]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    api = GraphApi(url=f"http://127.0.0.1:{server.server_address[1]}/v21.0")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            api.requests.append(
                {"path": self.path, "headers": dict(self.headers.items()), "body": json.loads(body or b"{}")}
            )
            status, answer = (
                api.answers.pop(0)
                if api.answers
                else (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.HBgM"}]})
            )
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


def sender(graph_api: GraphApi) -> WhatsAppCodeSender:
    return WhatsAppCodeSender(
        token=TOKEN, phone_number_id=PHONE_NUMBER_ID, template="kode_masuk", language="id", api_base=graph_api.url
    )


async def test_the_code_goes_out_as_an_authentication_template_with_the_token(graph_api):
    await sender(graph_api).send_code(phone="+6281234567001", code="482913")

    [request] = graph_api.requests
    assert request["path"] == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567001",
        "type": "template",
        "template": {
            "name": "kode_masuk",
            "language": {"code": "id"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "482913"}]},
                {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "482913"}]},
            ],
        },
    }


async def test_a_refusal_from_whatsapp_becomes_a_clear_error_and_is_logged(graph_api, caplog):
    graph_api.answers.append(
        (
            400,
            {
                "error": {
                    "message": "(#132001) Template name does not exist in the translation",
                    "type": "OAuthException",
                    "code": 132001,
                    "fbtrace_id": "A1b2",
                }
            },
        )
    )

    with pytest.raises(CodeNotSent) as refused, caplog.at_level(logging.ERROR, logger="pasar_kawasan.codes"):
        await sender(graph_api).send_code(phone="+6281234567001", code="482913")

    assert refused.value.status_code == 503
    assert refused.value.code == "code_not_sent"
    assert "Template name does not exist" in caplog.text and "132001" in caplog.text
    assert "482913" not in caplog.text  # the code itself never reaches the log in production


async def test_whatsapp_out_of_reach_is_the_same_clear_error():
    unreachable = WhatsAppCodeSender(
        token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        template="kode_masuk",
        api_base=f"http://127.0.0.1:{free_port()}/v21.0",
        timeout_seconds=2,
    )

    with pytest.raises(CodeNotSent):
        await unreachable.send_code(phone="+6281234567001", code="482913")


async def test_in_development_the_code_is_printed_to_the_log(caplog):
    with caplog.at_level(logging.INFO, logger="pasar_kawasan.codes"):
        await LogCodeSender().send_code(phone="+6281234567001", code="482913")

    assert "+6281234567001: 482913" in caplog.text


def test_the_settings_choose_the_sender():
    assert isinstance(code_sender_for(Settings(environment="development")), LogCodeSender)
    whatsapp = code_sender_for(
        Settings(
            environment="test",
            otp_sender="whatsapp",
            whatsapp_token=TOKEN,
            whatsapp_phone_number_id=PHONE_NUMBER_ID,
            whatsapp_otp_template="kode_masuk",
        )
    )
    assert isinstance(whatsapp, WhatsAppCodeSender)
    assert whatsapp.url == f"https://graph.facebook.com/v21.0/{PHONE_NUMBER_ID}/messages"
