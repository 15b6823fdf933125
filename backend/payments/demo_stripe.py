"""A local stand-in for the parts of Stripe's HTTP API the app uses: the demo's card payments (`make run`, no
internet, no Stripe account) and the tests, which exercise the real SDK (its form encoding, retries, timeouts and
errors) against it. One stand-in for both, so the demo pays exactly as the tests do.

`python -m backend serve` starts it in its own process when APP_ENV is development and no STRIPE_SECRET_KEY is set
(`start_demo`): the SDK's api_base points at it, Stripe's webhook is delivered to the app, and the pay page says
"Demo". It refuses to run when APP_ENV is production, and no money ever moves through it.

A real HTTP server on 127.0.0.1 in a thread, answering as Stripe does:
  POST /v1/payment_intents          GET /v1/payment_intents/{id}
  POST /v1/checkout/sessions        GET /v1/checkout/sessions/{id}
  POST /v1/refunds
with form-encoded bodies (`metadata[checkout_id]=7`, `line_items[0][price_data][currency]=idr`), Stripe-shaped
JSON objects and error bodies, and the Idempotency-Key header honoured: the same key answers the same object (and
another body with it is refused, as Stripe refuses it).

Stripe's hosted Checkout page: with `hosted_pages=True` a session's `url` is this server's own
`/c/pay/<session id>`, a plain HTML page (no JavaScript) showing what is paid for and a "Pay" button. Posting it
pays the session (`pay_session`), delivers a signed `checkout.session.completed` event to the app's webhook when
`send_webhooks_to(url, secret)` was called, and sends the browser to the session's success_url with a 303. Without
it the `url` is Stripe's own address, as the API answers, which is what the service-level tests compare.

Tests can make it misbehave — `fail_next(n)` answers 500 to the next n requests, `outage()` answers 500 until
`recover()`, `slow(seconds)` holds each answer longer than the client waits (a timeout; the request is still
carried out, as a real timeout may be), `refuse_connections()` stops listening until `accept_connections()` —
and act as the buyer on Stripe's side: `pay_session`, `succeed_intent`, `fail_intent`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from backend.config import Settings
from backend.standin_server import serve_on_loopback, stop_serving

API_VERSION = "2025-01-01"
# The demo's keys: test-mode shapes, so the SDK and the settings' checks accept them; they open nothing real.
DEMO_SECRET_KEY = "sk_test_pasar_kawasan_demo"
DEMO_PUBLISHABLE_KEY = "pk_test_pasar_kawasan_demo"
DEMO_WEBHOOK_SECRET = "whsec_pasar_kawasan_demo"
STRIPE_CHECKOUT = "https://checkout.stripe.com"
HOSTED_PAGE = "/c/pay/"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding back into nested dicts and lists: a[b][0][c]=1 → {"a": {"b": [{"c": "1"}]}}."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        path = re.findall(r"[^\[\]]+", key)
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    decoded: dict[str, Any] = _lists(root)
    return decoded


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def _copy(stripe_object: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, as the SDK would parse it from JSON."""
    copied: dict[str, Any] = json.loads(json.dumps(stripe_object))
    return copied


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header exactly as Stripe computes it: t=<unix time>,v1=<hex HMAC-SHA256 of
    "<t>.<raw body>" keyed with the endpoint's whsec_ secret>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    authorization: str | None


@dataclass
class WebhookDelivery:
    """One event the fake posted to the app's webhook, and how the app answered."""

    event_type: str
    status: int
    body: str


@dataclass
class DemoStripe:
    hosted_pages: bool = False  # serve the hosted payment page itself (a browser can reach it)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    refund_status: str = "succeeded"  # what a new refund starts as ("pending" for slow banks)
    webhook_deliveries: list[WebhookDelivery] = field(default_factory=list)
    _webhook: tuple[str, str] | None = None
    _answers: dict[str, tuple[tuple[str, str, dict[str, Any]], int, dict[str, Any]]] = field(default_factory=dict)
    _failures_left: int = 0
    _down: bool = False
    _delay: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closing: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    # --- running -----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DemoStripe:
        self._server, self._thread = serve_on_loopback(self.port, self._handle)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        self._closing.set()  # wakes answers held back by slow()
        stop_serving(self._server, self._thread)
        self._server, self._thread = None, None
        self._closing.clear()

    def reset(self) -> None:
        """Forget every object and request and behave again, on the same port, as if just started."""
        with self._lock:
            for store in (self.payment_intents, self.sessions, self.refunds, self._answers):
                store.clear()
            self.requests.clear()
            self.webhook_deliveries.clear()
        self.refund_status, self._webhook = "succeeded", None
        self.recover()
        if self._server is None:
            self.accept_connections()

    # --- misbehaving ----------------------------------------------------------------------------------------

    def fail_next(self, count: int) -> None:
        """Answer 500 to the next `count` requests (without acting on them)."""
        self._failures_left = count

    def outage(self) -> None:
        self._down = True

    def slow(self, seconds: float) -> None:
        self._delay = seconds

    def recover(self) -> None:
        self._down, self._delay, self._failures_left = False, 0.0, 0

    def refuse_connections(self) -> None:
        """Stop listening on the port: connections are refused until accept_connections()."""
        self.stop()

    def accept_connections(self) -> None:
        self.start()  # the same port again

    def send_webhooks_to(self, url: str, secret: str) -> None:
        """Deliver events of payments made on the hosted page to the app's webhook, signed with its secret."""
        self._webhook = (url, secret)

    # --- what was asked -----------------------------------------------------------------------------------

    def seen(self, method: str, path: str) -> list[Seen]:
        return [request for request in self.requests if request.method == method and request.path == path]

    def intents_for_checkout(self, checkout_id: int) -> list[dict[str, Any]]:
        return [
            intent
            for intent in self.payment_intents.values()
            if intent["metadata"].get("checkout_id") == str(checkout_id)
        ]

    # --- the buyer on Stripe's side -------------------------------------------------------------------------

    def succeed_intent(self, intent_id: str) -> dict[str, Any]:
        with self._lock:
            intent = self.payment_intents[intent_id]
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                last_payment_error=None,
                latest_charge=new_id("ch"),
                payment_method=new_id("pm"),
            )
            return _copy(intent)

    def fail_intent(self, intent_id: str, message: str = "Your card was declined.") -> dict[str, Any]:
        with self._lock:
            intent = self.payment_intents[intent_id]
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": message,
                },
            )
            return _copy(intent)

    def pay_session(self, session_id: str) -> tuple[dict[str, Any], dict[str, Any], str]:
        """The buyer paid on the hosted page: the session is complete and paid, its PaymentIntent succeeded.
        Returns the session, the intent and the address Stripe sends the browser back to."""
        with self._lock:
            hosted = self.sessions[session_id]
            intent = self._create_intent(
                {
                    "amount": hosted["amount_total"],
                    "currency": hosted["currency"],
                    "metadata": hosted["_intent_metadata"],
                    "payment_method_types": ["card"],
                }
            )
            hosted.update(status="complete", payment_status="paid", payment_intent=intent["id"])
        self.succeed_intent(intent["id"])
        back = hosted["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
        return self.public(hosted), self.payment_intents[intent["id"]], back

    @staticmethod
    def public(stripe_object: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in stripe_object.items() if not key.startswith("_")}

    def event(self, event_type: str, stripe_object: dict[str, Any]) -> dict[str, Any]:
        """A webhook event as Stripe sends it (to be signed by the test)."""
        return {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": self.public(json.loads(json.dumps(stripe_object)))},
        }

    # --- the HTTP API ---------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        if self.hosted_pages and parts.path.startswith(HOSTED_PAGE):
            request.rfile.read(int(request.headers.get("Content-Length") or 0))  # the Pay form's body: nothing in it
            self._hosted_page(request, method, parts.path.removeprefix(HOSTED_PAGE))
            return
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length).decode() if length else ""
        params = decode_form(body if method == "POST" else parts.query)
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self.requests.append(Seen(method, parts.path, params, key, request.headers.get("Authorization")))
            failing = self._down or self._failures_left > 0
            if self._failures_left > 0:
                self._failures_left -= 1
        if failing:
            status, answer = 500, _error("api_error", "An unknown error occurred", code=None)
        elif not (request.headers.get("Authorization") or "").startswith("Bearer sk_test_"):
            status, answer = 401, _error("invalid_request_error", "Invalid API Key provided", code=None)
        else:
            status, answer = self._answer(method, parts.path, params, key)
            if self._delay:
                self._closing.wait(self._delay)  # the client has given up by now
        payload = json.dumps(answer).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(payload)))
            request.send_header("Request-Id", new_id("req"))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left

    def _answer(self, method: str, path: str, params: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if method == "POST" and key and key in self._answers:
                asked, status, answer = self._answers[key]
                if asked != (method, path, params):
                    return 400, _error(
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with "
                        "the same parameters they were first used with.",
                        code=None,
                    )
                return status, answer
            status, answer = self._route(method, path, params)
            if method == "POST" and key:
                self._answers[key] = ((method, path, params), status, answer)
            return status, answer

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if (method, path) in (("POST", "/v1/payment_intents"), ("POST", "/v1/checkout/sessions")) and (
            "payment_method_types" in params
        ):
            # Since API version 2026-09-30 (the SDK's), as Stripe answers it.
            return 400, _error(
                "invalid_request_error",
                "payment_method_types is no longer supported: use allowed_payment_method_types.",
                code="payment_method_types_no_longer_supported",
            )
        if (method, path) == ("POST", "/v1/payment_intents"):
            return 200, self.public(self._create_intent(params))
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            return 200, self.public(self._create_session(params))
        if (method, path) == ("POST", "/v1/refunds"):
            return self._create_refund(params)
        for prefix, store in (
            ("/v1/payment_intents/", self.payment_intents),
            ("/v1/checkout/sessions/", self.sessions),
        ):
            if method == "GET" and path.startswith(prefix):
                found = store.get(path.removeprefix(prefix))
                if found is None:
                    return 404, _error(
                        "invalid_request_error",
                        f"No such object: '{path.removeprefix(prefix)}'",
                        code="resource_missing",
                    )
                return 200, self.public(found)
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).", code=None)

    # --- the hosted payment page (a browser's, not the SDK's) --------------------------------------------------

    def _hosted_page(self, request: BaseHTTPRequestHandler, method: str, session_id: str) -> None:
        """GET shows the session's lines, total and a Pay button; POST pays it, tells the app's webhook and sends
        the browser back to the success_url. A paid session sends the browser straight back, as Stripe does."""
        hosted = self.sessions.get(session_id)
        if hosted is None:
            _send_html(request, 404, _page("Not found", "<p>This payment page does not exist.</p>"))
            return
        if hosted["status"] == "complete":
            _redirect(request, hosted["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
            return
        if method == "POST":
            paid, _, back = self.pay_session(session_id)
            self._deliver(self.event("checkout.session.completed", paid))
            _redirect(request, back)
            return
        lines = "".join(
            f"<li>{html.escape(line['price_data']['product_data']['name'])} × {int(line.get('quantity', 1))} <strong>"
            f"{_amount(int(line['price_data']['unit_amount']) * int(line.get('quantity', 1)), hosted['currency'])}"
            f"</strong></li>"
            for line in hosted["_line_items"]
        )
        cancel = f'<p><a href="{html.escape(hosted["cancel_url"])}">Back</a></p>' if hosted.get("cancel_url") else ""
        body = (
            f"<h1>Pay {_amount(hosted['amount_total'], hosted['currency'])}</h1><ul>{lines}</ul>"
            f'<form method="post" action="{HOSTED_PAGE}{html.escape(session_id)}">'
            f"<p><strong>Demo</strong>: no money moves. Test card 4242 4242 4242 4242</p>"
            f'<button type="submit">Pay</button></form>{cancel}'
        )
        _send_html(request, 200, _page("Pay", body))

    def _deliver(self, event: dict[str, Any]) -> None:
        """Post the event to the app's webhook before the browser comes back (the app's answer is kept)."""
        if self._webhook is None:
            return
        url, secret = self._webhook
        payload = json.dumps(event, separators=(",", ":")).encode()
        delivery = urllib.request.Request(
            url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature_header(payload, secret),
            },
        )
        try:
            with urllib.request.urlopen(delivery, timeout=10) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as refused:
            status, text = refused.code, refused.read().decode()
        self.webhook_deliveries.append(WebhookDelivery(event["type"], status, text))

    def _create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = new_id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "metadata": params.get("metadata", {}),
            "payment_method_types": params.get("allowed_payment_method_types", ["card"]),
            "description": params.get("description"),
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "livemode": False,
            "last_payment_error": None,
            "latest_charge": None,
            "payment_method": None,
        }
        self.payment_intents[intent_id] = intent
        return intent

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        session_id = f"cs_test_{secrets.token_hex(16)}"
        lines = params.get("line_items", [])
        total = sum(int(line["price_data"]["unit_amount"]) * int(line.get("quantity", 1)) for line in lines)
        hosted = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "amount_total": total,
            "amount_subtotal": total,
            "currency": lines[0]["price_data"]["currency"] if lines else None,
            "metadata": params.get("metadata", {}),
            "client_reference_id": params.get("client_reference_id"),
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "url": f"{self.url if self.hosted_pages else STRIPE_CHECKOUT}{HOSTED_PAGE}{session_id}",
            "created": int(time.time()),
            "expires_at": int(params.get("expires_at") or time.time() + 86400),
            "livemode": False,
            "_line_items": lines,
            "_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata", {}),
        }
        self.sessions[session_id] = hosted
        return hosted

    def _create_refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = self.payment_intents.get(params.get("payment_intent", ""))
        if intent is None:
            return 404, _error("invalid_request_error", "No such payment_intent", code="resource_missing")
        if intent["status"] != "succeeded":
            return 400, _error(
                "invalid_request_error",
                "This PaymentIntent has no successful charge to refund.",
                code="charge_not_refundable",
            )
        amount = int(params.get("amount", intent["amount_received"]))
        refunded = sum(
            refund["amount"]
            for refund in self.refunds.values()
            if refund["payment_intent"] == intent["id"] and refund["status"] != "failed"
        )
        if refunded + amount > intent["amount_received"]:
            return 400, _error(
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded "
                f"amount on charge ({intent['amount_received'] - refunded})",
                code="amount_too_large",
            )
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": self.refund_status,
            "metadata": params.get("metadata", {}),
            "reason": params.get("reason"),
            "failure_reason": None,
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund


def _error(kind: str, message: str, *, code: str | None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"error": error}


def _amount(minor_units: int, currency: str | None) -> str:
    """An amount as the hosted page shows it: IDR 2,600,000.00 (Stripe counts rupiah in hundredths)."""
    return f"{(currency or '').upper()} {minor_units / 100:,.2f}"


def _page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{html.escape(title)} · Stripe (demo)</title>'
        f"</head><body>{body}</body></html>"
    ).encode()


def _send_html(request: BaseHTTPRequestHandler, status: int, page: bytes) -> None:
    request.send_response(status)
    request.send_header("Content-Type", "text/html; charset=utf-8")
    request.send_header("Content-Length", str(len(page)))
    request.end_headers()
    request.wfile.write(page)


def _redirect(request: BaseHTTPRequestHandler, location: str) -> None:
    request.send_response(303)
    request.send_header("Location", location)
    request.send_header("Content-Length", "0")
    request.end_headers()


class DemoRefused(RuntimeError):
    """The stand-in for Stripe was asked to run where real money is expected."""


def wants_demo(settings: Settings) -> bool:
    """Development without a Stripe key of its own: card payments go to the stand-in."""
    return settings.environment == "development" and not settings.stripe_secret_key


def start_demo(settings: Settings, *, app_url: str) -> tuple[DemoStripe, dict[str, str]]:
    """Start the stand-in (its hosted page included), delivering its webhook events to the app at `app_url`, and
    return it with the environment variables that point the app at it. DemoRefused in production."""
    if settings.environment == "production":
        raise DemoRefused("the demo stand-in for Stripe never runs with APP_ENV=production")
    demo = DemoStripe(hosted_pages=True).start()
    demo.send_webhooks_to(f"{app_url.rstrip('/')}/api/v1/stripe/webhook", DEMO_WEBHOOK_SECRET)
    return demo, {
        "STRIPE_SECRET_KEY": DEMO_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": DEMO_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": DEMO_WEBHOOK_SECRET,
        "STRIPE_API_BASE": demo.url,
        "STRIPE_DEMO": "true",
    }
