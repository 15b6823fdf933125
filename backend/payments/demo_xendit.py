"""A local stand-in for the parts of Xendit's HTTP API the app uses, for the tests and the demo: the tests exercise
the real xendit-python SDK against it. A real HTTP server on 127.0.0.1 in a thread, answering as Xendit does:
  POST /payment_requests      (a dynamic QRIS code, or a virtual account, for an amount, with an expiry)
  GET  /payment_requests/{id}
  POST /refunds               (part or all of a paid QRIS payment back to where it came from)
  GET  /refunds/{id}
  POST /v2/payouts            (money from the platform's balance to a vendor's bank account)
  GET  /v2/payouts/{id}
with JSON bodies, Basic authentication with the secret key (as "<key>:"), and the Idempotency-key header
honoured: the same key answers the same payment request.

Tests act as the buyer on Xendit's side: `pay(request_id)` pays a payment request and returns the callback Xendit
would send (`payment.succeeded`, with the payment's id, the payment request's, the reference and the amount);
`deliver_to(url, token)` makes it post that callback to the app with the X-CALLBACK-TOKEN header, and
`redeliver(callback)` posts it again. `outage()` answers 500 until `recover()`; `refuse_refunds()` answers a
refund as Xendit does when the payer's issuer takes no QRIS refunds (and every virtual-account refund is refused
so). Payouts are ACCEPTED when asked for; `complete_payout(id)` and `fail_payout(id, code)` settle one as the bank
would and return (and post) Xendit's payout.succeeded or payout.failed callback; `slow_payouts_once(seconds)`
makes the next payout's answer come only after `seconds` (the payout is made all the same), as when an answer is
lost. No money ever moves through it.

The demo: `python -m backend serve` starts it when APP_ENV is development and no XENDIT_SECRET_KEY is set
(`start_demo`), pointing the app at it with XENDIT_DEMO on. The QRIS and virtual-account pages then say "Demo" and
offer a button that pays (`pay_on_the_stand_in`): the app asks the stand-in's own
  POST /demo/payment_requests/{id}/pay
(not Xendit's API), and the stand-in posts the callback, as after `pay`. It refuses to run in production.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import User
from backend.config import Settings
from backend.errors import NotFound
from backend.payments.gateway import GatewayUnavailable, gateway_checkout
from backend.standin_server import serve_on_loopback, stop_serving

DEMO_SECRET_KEY = "xnd_development_pasar_kawasan_demo"
DEMO_CALLBACK_TOKEN = "pasar-kawasan-demo-callback-token"
BUSINESS_ID = "5f27a14a9bf05c73dd040bc8"


def new_id(prefix: str) -> str:
    """Xendit's ids: a prefix and a UUID (pr-..., py-..., pm-...)."""
    token = secrets.token_hex(16)
    return f"{prefix}-{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}-{token[20:]}"


def _stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def qris_string(request_id: str, amount: int) -> str:
    """A QRIS payload in the EMVCo shape (the stand-in's: no bank reads it)."""
    amount_text = str(amount)
    merchant = f"0016ID.CO.QRIS.WWW0118{request_id[-18:]:0>18}"
    body = (
        f"000201010212{26}{len(merchant):02d}{merchant}52045812530336054{len(amount_text):02d}{amount_text}"
        "5802ID5913PASAR KAWASAN6007BATAM62"
    )
    return body + "6304ABCD"


@dataclass
class Delivery:
    """One callback the stand-in posted to the app, and how the app answered."""

    event: str
    status: int
    body: str


@dataclass
class DemoXendit:
    secret_key: str = DEMO_SECRET_KEY
    payment_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any], str | None]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # every payment callback made, posted or not
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_status: str = "SUCCEEDED"  # what a refund answers (PENDING: its outcome comes by callback)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    _payout_delay: float = 0.0
    _refusing_refunds: bool = False
    _answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    _down: bool = False
    _callback: tuple[str, str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DemoXendit:
        self._server, self._thread = serve_on_loopback(self.port, self._handle)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        stop_serving(self._server, self._thread)
        self._server, self._thread = None, None

    def reset(self) -> None:
        with self._lock:
            self.payment_requests.clear()
            self.refunds.clear()
            self.payouts.clear()
            self._answers.clear()
            self.requests.clear()
            self.deliveries.clear()
            self.callbacks.clear()
        self._down, self._callback = False, None
        self.refund_status, self._refusing_refunds = "SUCCEEDED", False
        self._payout_delay = 0.0

    def refuse_refunds(self) -> None:
        self._refusing_refunds = True

    def refund_callback(self, refund_id: str, status: str) -> dict[str, Any]:
        """The refund's outcome, as Xendit's callback tells it (refund.succeeded or refund.failed)."""
        with self._lock:
            refund = self.refunds[refund_id]
            refund["status"] = status
            data = json.loads(json.dumps(refund))
        return {"event": f"refund.{status.lower()}", "business_id": BUSINESS_ID, "created": _stamp(), "data": data}

    # --- the bank, on Xendit's side: payouts ---------------------------------------------------------------

    def slow_payouts_once(self, seconds: float) -> None:
        """The next payout is made, but its answer comes only after `seconds` (longer than the app waits)."""
        self._payout_delay = seconds

    def payouts_for(self, reference: str) -> list[dict[str, Any]]:
        return [payout for payout in self.payouts.values() if payout["reference_id"] == reference]

    def complete_payout(self, payout_id: str) -> dict[str, Any]:
        """The bank credited the vendor's account: the payout succeeded (the callback is returned, and posted
        after `deliver_to`)."""
        return self._settle_payout(payout_id, "SUCCEEDED", None)

    def fail_payout(self, payout_id: str, failure_code: str = "INVALID_DESTINATION") -> dict[str, Any]:
        """The bank refused the payout (a closed or mistyped account): the money is back in the platform's balance
        (the callback is returned, and posted after `deliver_to`)."""
        return self._settle_payout(payout_id, "FAILED", failure_code)

    def payout_callback(self, payout_id: str) -> dict[str, Any]:
        """The callback Xendit sends about the payout as it stands now (nothing changes)."""
        with self._lock:
            data = json.loads(json.dumps(self.payouts[payout_id]))
        return {
            "event": f"payout.{data['status'].lower()}",
            "business_id": BUSINESS_ID,
            "created": _stamp(),
            "data": data,
        }

    def _settle_payout(self, payout_id: str, status: str, failure_code: str | None) -> dict[str, Any]:
        with self._lock:
            payout = self.payouts[payout_id]
            payout.update({"status": status, "failure_code": failure_code, "updated": _stamp()})
        callback = self.payout_callback(payout_id)
        if self._callback is not None:
            self._post(callback)
        return callback

    def outage(self) -> None:
        self._down = True

    def recover(self) -> None:
        self._down = False

    def deliver_to(self, url: str, token: str) -> None:
        """Post the callbacks of payments made with `pay` to the app's URL, with its callback token."""
        self._callback = (url, token)

    # --- the buyer, on Xendit's side -------------------------------------------------------------------------

    def seen(self, method: str, path: str) -> list[dict[str, Any]]:
        return [body for seen_method, seen_path, body, _ in self.requests if (seen_method, seen_path) == (method, path)]

    def requests_for(self, reference: str | None) -> list[dict[str, Any]]:
        return [pr for pr in self.payment_requests.values() if pr["reference_id"] == reference]

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        """A payment request, as if the app had asked for it (its answer may never have reached the app)."""
        with self._lock:
            created: dict[str, Any] = json.loads(json.dumps(self._create(params)))
            return created

    def pay(self, request_id: str, *, amount: int | None = None) -> dict[str, Any]:
        """The buyer pays the payment request (scans the QRIS code, or transfers to the virtual account): it
        succeeds, and the callback Xendit sends is returned (and posted, after `deliver_to`)."""
        with self._lock:
            callback = self._succeed(request_id, amount)
        if self._callback is not None:
            self._post(callback)
        return callback

    def _succeed(self, request_id: str, amount: int | None = None) -> dict[str, Any]:
        request = self.payment_requests[request_id]
        request["status"] = "SUCCEEDED"
        request["updated"] = _stamp()
        paid = request["amount"] if amount is None else amount
        callback = {
            "event": "payment.succeeded",
            "business_id": BUSINESS_ID,
            "created": _stamp(),
            "data": {
                "id": new_id("py"),
                "payment_request_id": request_id,
                "reference_id": request["reference_id"],
                "customer_id": None,
                "currency": request["currency"],
                "amount": paid,
                "country": "ID",
                "status": "SUCCEEDED",
                "payment_method": request["payment_method"],
                "channel_properties": None,
                "payment_detail": None,
                "failure_code": None,
                "created": _stamp(),
                "updated": _stamp(),
                "metadata": request.get("metadata"),
            },
        }
        self.callbacks.append(callback)
        return callback

    def redeliver(self, callback: dict[str, Any]) -> Delivery:
        """Post a callback to the app again, as Xendit does when it did not see the app's answer; returns how the
        app answered (also kept in `deliveries`). Only after `deliver_to`."""
        self._post(callback)
        return self.deliveries[-1]

    def expire(self, request_id: str) -> None:
        with self._lock:
            self.payment_requests[request_id]["status"] = "EXPIRED"

    def _post(self, callback: dict[str, Any]) -> None:
        assert self._callback is not None
        url, token = self._callback
        body = json.dumps(callback).encode()
        post = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json", "x-callback-token": token}
        )
        try:
            with urllib.request.urlopen(post, timeout=10) as answer:
                self.deliveries.append(Delivery(callback["event"], answer.status, answer.read().decode()))
        except urllib.error.HTTPError as refused:
            self.deliveries.append(Delivery(callback["event"], refused.code, refused.read().decode()))

    # --- the HTTP API ---------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(request.path).path
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        body: dict[str, Any] = json.loads(raw) if raw else {}
        key = request.headers.get("Idempotency-key")
        expected = "Basic " + base64.b64encode(f"{self.secret_key}:".encode()).decode()
        with self._lock:
            self.requests.append((method, path, body, key))
            if self._down:
                status, answer = 500, _error("SERVER_ERROR", "An unexpected error occurred")
            elif request.headers.get("Authorization") != expected:
                status, answer = 401, _error("INVALID_API_KEY", "API key is not authorized for this API service")
            else:
                status, answer = self._route(method, path, body, key)
            delay = 0.0
            if (method, path) == ("POST", "/v2/payouts") and self._payout_delay:
                delay, self._payout_delay = self._payout_delay, 0.0
        if delay:
            time.sleep(delay)  # the payout is made; its answer comes too late for the app
        payload = json.dumps(answer).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str, body: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/payment_requests":
            if key and key in self._answers:
                return 201, self._answers[key]
            problem = _problem(body)
            if problem:
                return 400, _error("API_VALIDATION_ERROR", problem)
            answer = self._create(body)
            if key:
                self._answers[key] = answer
            return 201, answer
        if method == "POST" and path == "/refunds":
            if key and key in self._answers:
                return 200, self._answers[key]
            status, answer = self._refund(body)
            if key and status == 200:
                self._answers[key] = answer
            return status, answer
        if method == "GET" and path.startswith("/refunds/"):
            refund = self.refunds.get(path.removeprefix("/refunds/"))
            return (200, refund) if refund is not None else (404, _error("DATA_NOT_FOUND", "Refund not found"))
        if method == "POST" and path.startswith("/demo/payment_requests/") and path.endswith("/pay"):
            return self._demo_pay(path.removeprefix("/demo/payment_requests/").removesuffix("/pay"))
        if method == "POST" and path == "/v2/payouts":
            if key and key in self._answers:
                return 200, self._answers[key]
            problem = _payout_problem(body)
            if problem:
                return 400, _error("API_VALIDATION_ERROR", problem)
            answer = self._payout(body)
            if key:
                self._answers[key] = answer
            return 200, answer
        if method == "GET" and path.startswith("/v2/payouts/"):
            found = self.payouts.get(path.removeprefix("/v2/payouts/"))
            if found is None:
                return 404, _error("DATA_NOT_FOUND", "Payout not found")
            return 200, found
        if method == "GET" and path.startswith("/payment_requests/"):
            found = self.payment_requests.get(path.removeprefix("/payment_requests/"))
            if found is None:
                return 404, _error("DATA_NOT_FOUND", "Payment request not found")
            return 200, found
        return 404, _error("NOT_FOUND", f"No route for {method} {path}")

    def _demo_pay(self, request_id: str) -> tuple[int, dict[str, Any]]:
        """The demo's "pay" button (not Xendit's API): the payment request is paid, and its callback posted to the
        app in a moment, from a thread of its own, so the app asking here is answered at once."""
        request = self.payment_requests.get(request_id)
        if request is None:
            return 404, _error("DATA_NOT_FOUND", "Payment request not found")
        if request["status"] != "PENDING":
            return 409, _error("INVALID_STATUS", f"The payment request is {request['status']}, not PENDING")
        callback = self._succeed(request_id)
        if self._callback is not None:
            threading.Thread(target=self._post_quietly, args=(callback,), daemon=True).start()
        return 202, {"id": request_id, "status": "SUCCEEDED"}

    def _post_quietly(self, callback: dict[str, Any]) -> None:
        try:
            self._post(callback)
        except OSError as unreachable:  # the app is down: the demo's payment stays unannounced
            self.deliveries.append(Delivery(callback["event"], 0, str(unreachable)))

    def _refund(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        paid = self.payment_requests.get(str(body.get("payment_request_id")))
        if paid is None:
            return 404, _error("DATA_NOT_FOUND", "Payment request not found")
        if paid["status"] != "SUCCEEDED":
            return 400, _error("INELIGIBLE_TRANSACTION", "The payment is not paid")
        if self._refusing_refunds or paid["payment_method"]["type"] != "QR_CODE":
            return 400, _error("REFUND_NOT_SUPPORTED", "This payment channel or issuer does not support refunds")
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_request_id"] == paid["id"])
        amount = int(body.get("amount") or paid["amount"])
        if refunded + amount > paid["amount"]:
            return 400, _error("MAXIMUM_REFUND_AMOUNT_REACHED", "The refund is more than is left of the payment")
        refund = {
            "id": new_id("rfd"),
            "payment_request_id": paid["id"],
            "reference_id": body.get("reference_id"),
            "amount": amount,
            "currency": "IDR",
            "channel_code": "QRIS",
            "status": self.refund_status,
            "reason": body.get("reason"),
            "metadata": body.get("metadata"),
            "created": _stamp(),
            "updated": _stamp(),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    def _payout(self, body: dict[str, Any]) -> dict[str, Any]:
        payout = {
            "id": new_id("disb"),
            "business_id": BUSINESS_ID,
            "reference_id": body["reference_id"],
            "channel_code": body["channel_code"],
            "channel_properties": body["channel_properties"],
            "amount": int(body["amount"]),
            "currency": body["currency"],
            "description": body.get("description"),
            "metadata": body.get("metadata"),
            "status": "ACCEPTED",
            "failure_code": None,
            "estimated_arrival_time": _stamp(),
            "created": _stamp(),
            "updated": _stamp(),
        }
        self.payouts[payout["id"]] = payout
        return payout

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        request_id = new_id("pr")
        method = json.loads(json.dumps(params["payment_method"]))
        method.update({"id": new_id("pm"), "status": "ACTIVE", "created": _stamp(), "updated": _stamp()})
        amount = int(params["amount"])
        if method["type"] == "QR_CODE":
            properties = method["qr_code"].setdefault("channel_properties", {})
            properties["qr_string"] = qris_string(request_id, amount)
        else:
            properties = method["virtual_account"]["channel_properties"]
            properties.setdefault("virtual_account_number", "8808" + str(secrets.randbelow(10**12)).zfill(12))
            method["virtual_account"].update({"amount": amount, "currency": "IDR"})
        request = {
            "id": request_id,
            "business_id": BUSINESS_ID,
            "reference_id": params["reference_id"],
            "currency": params["currency"],
            "amount": amount,
            "country": "ID",
            "description": params.get("description"),
            "status": "PENDING",
            "capture_method": "AUTOMATIC",
            "payment_method": method,
            "metadata": params.get("metadata"),
            "created": _stamp(),
            "updated": _stamp(),
        }
        self.payment_requests[request_id] = request
        return request


def _problem(body: dict[str, Any]) -> str:
    method = body.get("payment_method") or {}
    if body.get("currency") != "IDR" or not body.get("reference_id") or not body.get("amount"):
        return "reference_id, amount and currency IDR are required"
    if method.get("type") == "QR_CODE" and (method.get("qr_code") or {}).get("channel_code") == "QRIS":
        return ""
    if method.get("type") == "VIRTUAL_ACCOUNT":
        properties = (method.get("virtual_account") or {}).get("channel_properties") or {}
        return "" if properties.get("customer_name") else "virtual_account.channel_properties.customer_name is required"
    return "payment_method must be a QRIS code or a virtual account"


def _payout_problem(body: dict[str, Any]) -> str:
    properties = body.get("channel_properties") or {}
    if body.get("currency") != "IDR" or not body.get("reference_id") or not body.get("amount"):
        return "reference_id, amount and currency IDR are required"
    if not str(body.get("channel_code") or "").startswith("ID_"):
        return "channel_code must be an Indonesian payout channel (ID_BCA, ID_BNI, ...)"
    if not properties.get("account_number") or not properties.get("account_holder_name"):
        return "channel_properties.account_number and account_holder_name are required"
    return ""


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error_code": code, "message": message}


# --- the demo: `python -m backend serve` in development without a Xendit key ---------------------------------


class DemoRefused(RuntimeError):
    """The stand-in for Xendit was asked to run where real money is expected."""


def wants_demo(settings: Settings) -> bool:
    """Development without a Xendit key of its own: QRIS and virtual accounts go to the stand-in."""
    return settings.environment == "development" and not settings.xendit_secret_key


def start_demo(settings: Settings, *, app_url: str) -> tuple[DemoXendit, dict[str, str]]:
    """Start the stand-in, delivering its callbacks to the app at `app_url`, and return it with the environment
    variables that point the app at it. DemoRefused in production."""
    if settings.environment == "production":
        raise DemoRefused("the demo stand-in for Xendit never runs with APP_ENV=production")
    demo = DemoXendit(secret_key=DEMO_SECRET_KEY).start()
    demo.deliver_to(f"{app_url.rstrip('/')}/api/v1/xendit/callback", DEMO_CALLBACK_TOKEN)
    return demo, {
        "XENDIT_SECRET_KEY": DEMO_SECRET_KEY,
        "XENDIT_CALLBACK_TOKEN": DEMO_CALLBACK_TOKEN,
        "XENDIT_API_BASE": demo.url,
        "XENDIT_DEMO": "true",
    }


async def pay_on_the_stand_in(*, session: AsyncSession, settings: Settings, actor: User, checkout_id: int) -> None:
    """The demo's "pay" button on the QRIS or virtual-account page: the stand-in pays the checkout's payment request
    as a banking app would, and posts its callback to the app, which places the orders as for a real payment.
    NotFound outside the demo or for another buyer's checkout; nothing happens when nothing waits for payment;
    GatewayUnavailable when the stand-in cannot be reached."""
    if not settings.xendit_demo or not settings.xendit_api_base:
        raise NotFound()
    to_pay = await gateway_checkout(session=session, actor=actor, checkout_id=checkout_id)
    payment = to_pay.payment
    if payment is None or not payment.gateway_request_id or to_pay.paid or not to_pay.waiting:
        return
    url = f"{settings.xendit_api_base.rstrip('/')}/demo/payment_requests/{payment.gateway_request_id}/pay"
    try:
        async with httpx.AsyncClient(timeout=settings.xendit_timeout_seconds) as client:
            answer = await client.post(url, auth=(settings.xendit_secret_key or "", ""))
    except httpx.HTTPError as failure:
        raise GatewayUnavailable() from failure
    if answer.status_code not in (202, 409):  # 409: paid already (a second tap)
        raise GatewayUnavailable()
