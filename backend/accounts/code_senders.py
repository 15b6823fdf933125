"""How a one-time code reaches a phone: WhatsApp Cloud API in production, the app's log on a developer's machine.

The app holds one sender (`app.state["code_sender"]`, made by `code_sender_for(settings)`); the test suite puts a
recording one in its place.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import httpx

from backend.config import Settings
from backend.errors import CodeNotSent

logger = logging.getLogger("pasar_kawasan.codes")


class CodeSender(Protocol):
    async def send_code(self, *, phone: str, code: str) -> None:
        """Deliver `code` to `phone` (E.164), or raise CodeNotSent."""
        ...


class LogCodeSender:
    """For development: the code is written to the log, where the developer (or a test reading the server's
    output) finds it."""

    async def send_code(self, *, phone: str, code: str) -> None:
        logger.warning("one-time code for %s: %s", phone, code)


class WhatsAppCodeSender:
    """Sends the code in an approved WhatsApp authentication template (the code in the body and in its copy-code
    button) through the Cloud API: POST {api_base}/{phone_number_id}/messages."""

    def __init__(
        self,
        *,
        token: str,
        phone_number_id: str,
        template: str,
        language: str = "id",
        api_base: str = "https://graph.facebook.com/v21.0",
        timeout_seconds: float = 10.0,
    ) -> None:
        self.url = f"{api_base.rstrip('/')}/{phone_number_id}/messages"
        self.token = token
        self.template = template
        self.language = language
        self.timeout_seconds = timeout_seconds

    def message(self, *, phone: str, code: str) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": phone.removeprefix("+"),
            "type": "template",
            "template": {
                "name": self.template,
                "language": {"code": self.language},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": code}]},
                    {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": code}]},
                ],
            },
        }

    async def send_code(self, *, phone: str, code: str) -> None:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                response = await client.post(
                    self.url,
                    json=self.message(phone=phone, code=code),
                    headers={"Authorization": f"Bearer {self.token}"},
                )
        except httpx.HTTPError as exc:
            logger.error("WhatsApp could not be reached to send a code: %s", exc)
            raise CodeNotSent() from exc
        if response.status_code >= 400:
            logger.error("WhatsApp refused to send a code (HTTP %s): %s", response.status_code, _graph_error(response))
            raise CodeNotSent()


def _graph_error(response: httpx.Response) -> str:
    """Graph API's own words for a refusal ({"error": {"message", "code", ...}}), or the start of the body."""
    try:
        error = response.json().get("error", {})
        return f"{error.get('message', '')} (code {error.get('code')})"
    except (ValueError, AttributeError):
        return response.text[:200]


def code_sender_for(settings: Settings) -> CodeSender:
    if settings.otp_sender == "whatsapp":
        assert settings.whatsapp_token and settings.whatsapp_phone_number_id and settings.whatsapp_otp_template
        return WhatsAppCodeSender(
            token=settings.whatsapp_token,
            phone_number_id=settings.whatsapp_phone_number_id,
            template=settings.whatsapp_otp_template,
            language=settings.whatsapp_otp_language,
            api_base=settings.whatsapp_api_base,
            timeout_seconds=settings.whatsapp_timeout_seconds,
        )
    return LogCodeSender()
