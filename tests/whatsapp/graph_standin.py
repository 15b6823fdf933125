"""A stand-in for the WhatsApp Cloud API (Graph API) on 127.0.0.1: it takes POST /<version>/<phone number id>/messages
as Meta documents it, checks what is sent (the bearer token, the phone number id, the body's shape) and keeps
every message it accepted. It can be told to fail the next requests (500, or a throttling error)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_MESSAGES_PATH = re.compile(r"^/v\d+\.\d+/(?P<number_id>[^/]+)/messages$")


@dataclass
class GraphStandIn:
    token: str
    phone_number_id: str
    accepted: list[dict[str, Any]] = field(default_factory=list)
    # Refusals, one per request still to come: (HTTP status, Graph error code).
    failures: list[tuple[int, int]] = field(default_factory=list)
    requests: int = 0
    problems: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v21.0"

    def start(self) -> GraphStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                status, answer = stand_in._answer(self)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.accepted.clear()
            self.failures.clear()
            self.problems.clear()
            self.requests = 0

    def sent_to(self, phone: str, where: Callable[[dict[str, Any]], bool] = lambda _message: True) -> list[dict]:
        """The accepted messages to `phone` (E.164), oldest first."""
        return [message for message in self.accepted if message["to"] == phone.removeprefix("+") and where(message)]

    def texts_to(self, phone: str) -> list[str]:
        return [message["text"]["body"] for message in self.sent_to(phone, lambda m: m["type"] == "text")]

    def _refuse(self, status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
        self.problems.append(message)
        return status, {"error": {"message": message, "type": "OAuthException", "code": code}}

    def _answer(self, request: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            path = _MESSAGES_PATH.match(request.path)
            if path is None or path["number_id"] != self.phone_number_id:
                return self._refuse(404, 100, f"unknown path {request.path}")
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return self._refuse(401, 190, "Invalid OAuth access token")
            length = int(request.headers.get("Content-Length", "0"))
            try:
                body = json.loads(request.rfile.read(length))
            except ValueError:
                return self._refuse(400, 100, "body is not JSON")
            problem = _shape_problem(body)
            if problem:
                return self._refuse(400, 100, problem)
            if self.failures:
                status, code = self.failures.pop(0)
                return status, {"error": {"message": "try later", "type": "OAuthException", "code": code}}
            self.accepted.append(body)
            wamid = f"wamid.standin{len(self.accepted)}"
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}],
            }


def _shape_problem(body: Any) -> str:
    """What is wrong with a message body by the Cloud API's documentation, or ""."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not str(body.get("to", "")).isdigit() or str(body.get("to", "")).startswith("+"):
        return "to must be the number's digits"
    kind = body.get("type")
    if kind == "text":
        if not isinstance(body.get("text"), dict) or not body["text"].get("body"):
            return "text.body is required"
        return ""
    if kind == "template":
        template = body.get("template")
        if not isinstance(template, dict) or not template.get("name"):
            return "template.name is required"
        if not isinstance(template.get("language"), dict) or not template["language"].get("code"):
            return "template.language.code is required"
        for component in template.get("components", []):
            if component.get("type") not in ("header", "body", "button"):
                return "unknown component type"
            for parameter in component.get("parameters", []):
                if parameter.get("type") not in ("text", "payload", "currency", "date_time"):
                    return "unknown parameter type"
                if parameter["type"] == "text" and not parameter.get("text"):
                    return "an empty text parameter"
            if component["type"] == "button" and component.get("sub_type") not in ("quick_reply", "url"):
                return "button sub_type must be quick_reply or url"
        return ""
    return f"type {kind!r} is not expected"
