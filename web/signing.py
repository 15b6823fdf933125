"""Short signatures for what a page hands the browser and reads back (a query string, a cookie): HMAC-SHA256 under a
key made of the app's secret and the signature's purpose, so one made for one purpose (or one manager) holds for no
other, and nobody can put words there with a crafted link."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret_key: str, purpose: str, message: str) -> str:
    key = hmac.new(secret_key.encode(), f"pasar-kawasan {purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]


def signed(secret_key: str, purpose: str, message: str, claimed: str) -> bool:
    """Whether `claimed` is `message`'s signature for `purpose` (compared in constant time)."""
    return hmac.compare_digest(signature(secret_key, purpose, message).encode(), claimed.encode())
