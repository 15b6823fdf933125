"""Xendit's Payment Request, Refund and Payout APIs through its official SDK (xendit-python), for the calls the app
makes: create a payment request for a dynamic QRIS code or a virtual account, and read one back; refund a QRIS
payment; send a vendor's payout to their bank account (POST /v2/payouts), and read one back.

This is the gateway's edge. The SDK is synchronous (urllib3): each call runs in a worker thread, with a short
timeout, and its answer is read as plain JSON (the SDK's models are not used for answers, so a field Xendit adds
tomorrow breaks nothing). Every failure (unreachable, timed out, 5xx, refused) comes out as one
`GatewayCallFailed` with a short reason that may be stored and shown to staff. A creation carries an idempotency
key derived from the checkout, so a retry after a lost answer makes one payment request.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import anyio
import xendit
from xendit.apis import PaymentRequestApi, PayoutApi, RefundApi

from backend.config import Settings

logger = logging.getLogger("pasar_kawasan.xendit")

CURRENCY = "IDR"
MAX_REASON = 300


class GatewayCallFailed(Exception):
    """Xendit did not do what was asked. `retryable` is False when asking again cannot help (the request itself
    was refused: a 4xx other than 409/429), True when Xendit was down, slow or busy; `missing` when it has no
    object with the id asked for (a 404)."""

    def __init__(self, reason: str, *, retryable: bool = True, missing: bool = False) -> None:
        self.reason = reason[:MAX_REASON]
        self.retryable = retryable
        self.missing = missing
        super().__init__(self.reason)


def request_idempotency_key(checkout_id: int, method: str) -> str:
    return f"checkout-{checkout_id}-{method}"


def refund_idempotency_key(order_id: int) -> str:
    return f"refund-order-{order_id}"


def payout_idempotency_key(payout_id: int) -> str:
    return f"payout-{payout_id}"


def payout_reference(payout_id: int) -> str:
    """The reference_id Xendit knows our payout by (its callbacks name it)."""
    return f"payout-{payout_id}"


def _expiry(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class XenditGateway:
    """Xendit's payment requests, with the app's key and (in tests) the stand-in's address."""

    def __init__(self, settings: Settings) -> None:
        if not settings.xendit_secret_key:
            raise GatewayCallFailed("Xendit is not configured (XENDIT_SECRET_KEY)")
        configuration = xendit.Configuration(host=settings.xendit_api_base or None, api_key=settings.xendit_secret_key)
        client = xendit.ApiClient(configuration)
        self._api = PaymentRequestApi(client)
        self._refunds = RefundApi(client)
        self._payouts = PayoutApi(client)
        self._timeout = settings.xendit_timeout_seconds

    async def create_qris(
        self, *, checkout_id: int, reference: str, amount: int, expires_at: datetime
    ) -> dict[str, Any]:
        """A dynamic QRIS code for exactly `amount` rupiah, payable until `expires_at`."""
        payment_method = {
            "type": "QR_CODE",
            "reusability": "ONE_TIME_USE",
            "qr_code": {"channel_code": "QRIS", "channel_properties": {"expires_at": _expiry(expires_at)}},
        }
        return await self._create(
            checkout_id=checkout_id, method="qris", reference=reference, amount=amount, payment_method=payment_method
        )

    async def create_virtual_account(
        self, *, checkout_id: int, reference: str, amount: int, bank: str, customer_name: str, expires_at: datetime
    ) -> dict[str, Any]:
        """A virtual account at `bank` that takes exactly `amount` rupiah until `expires_at`."""
        payment_method = {
            "type": "VIRTUAL_ACCOUNT",
            "reusability": "ONE_TIME_USE",
            "virtual_account": {
                "channel_code": bank,
                "channel_properties": {"customer_name": customer_name[:60], "expires_at": _expiry(expires_at)},
            },
        }
        return await self._create(
            checkout_id=checkout_id,
            method="virtual_account",
            reference=reference,
            amount=amount,
            payment_method=payment_method,
        )

    async def payment_request(self, request_id: str) -> dict[str, Any]:
        return await self._call(
            "read the payment request",
            lambda: self._api.get_payment_request_by_id(
                request_id, _preload_content=False, _request_timeout=self._timeout
            ),
        )

    async def create_refund(self, *, request_id: str, order_id: int, amount: int) -> dict[str, Any]:
        """Give `amount` rupiah of a paid payment request back to where it came from (one order's total)."""
        body = {
            "payment_request_id": request_id,
            "reference_id": f"refund-order-{order_id}",
            "amount": amount,
            "currency": CURRENCY,
            "reason": "CANCELLATION",
            "metadata": {"order_id": str(order_id)},
        }
        return await self._call(
            "refund the payment",
            lambda: self._refunds.create_refund(
                idempotency_key=refund_idempotency_key(order_id),
                create_refund=body,
                _preload_content=False,
                _request_timeout=self._timeout,
            ),
        )

    async def refund(self, gateway_refund_id: str) -> dict[str, Any]:
        return await self._call(
            "read the refund",
            lambda: self._refunds.get_refund(gateway_refund_id, _preload_content=False, _request_timeout=self._timeout),
        )

    async def create_payout(
        self,
        *,
        payout_id: int,
        channel_code: str,
        account_number: str,
        account_holder: str,
        amount: int,
        description: str,
    ) -> dict[str, Any]:
        """Send `amount` rupiah from the platform's Xendit balance to a bank account; the idempotency key is
        derived from our payout, so a retry after a lost answer sends the money once."""
        body = {
            "reference_id": payout_reference(payout_id),
            "channel_code": channel_code,
            "channel_properties": {"account_number": account_number, "account_holder_name": account_holder},
            "amount": amount,
            "currency": CURRENCY,
            "description": description[:100],
            "metadata": {"payout_id": str(payout_id)},
        }
        return await self._call(
            "send the payout",
            lambda: self._payouts.create_payout(
                idempotency_key=payout_idempotency_key(payout_id),
                create_payout_request=body,
                _preload_content=False,
                _request_timeout=self._timeout,
            ),
        )

    async def payout(self, gateway_payout_id: str) -> dict[str, Any]:
        return await self._call(
            "read the payout",
            lambda: self._payouts.get_payout_by_id(
                gateway_payout_id, _preload_content=False, _request_timeout=self._timeout
            ),
        )

    async def _create(
        self, *, checkout_id: int, method: str, reference: str, amount: int, payment_method: dict[str, Any]
    ) -> dict[str, Any]:
        body = {
            "reference_id": reference,
            "amount": amount,
            "currency": CURRENCY,
            "country": "ID",
            "payment_method": payment_method,
            "metadata": {"checkout_id": str(checkout_id)},
        }
        return await self._call(
            "create the payment request",
            lambda: self._api.create_payment_request(
                idempotency_key=request_idempotency_key(checkout_id, method),
                payment_request_parameters=body,
                _preload_content=False,
                _request_timeout=self._timeout,
            ),
        )

    async def _call(self, what: str, call: Any) -> dict[str, Any]:
        try:
            answer = await anyio.to_thread.run_sync(call)
        except xendit.XenditSdkException as refused:
            status = str(refused.status)
            reason = f"Xendit refused to {what} ({status} {refused.errorCode}): {refused.errorMessage}"
            logger.error(reason)
            refused_as_such = status.startswith("4") and status not in ("409", "429")
            raise GatewayCallFailed(reason, retryable=not refused_as_such, missing=status == "404") from refused
        except Exception as failure:  # urllib3's connection errors and timeouts, whatever their class
            reason = f"Xendit could not be reached to {what}: {type(failure).__name__}"
            logger.error("%s (%s)", reason, failure)
            raise GatewayCallFailed(reason) from failure
        try:
            data: dict[str, Any] = json.loads(answer.data)
        except (ValueError, AttributeError) as unreadable:
            raise GatewayCallFailed(f"Xendit's answer to {what} could not be read") from unreadable
        return data
