"""argon2id password hashing, off the event loop."""

from __future__ import annotations

from functools import cache

import anyio.to_thread
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# Verified against when the phone number is unknown, so both paths cost the same time.
_DUMMY_PASSWORD = "not-a-real-password"


@cache
def _hasher(profile: str) -> PasswordHasher:
    if profile == "fast":
        # The test suite creates hundreds of accounts; production refuses this profile (see config).
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


@cache
def _dummy_hash(profile: str) -> str:
    return _hasher(profile).hash(_DUMMY_PASSWORD)


async def hash_password(password: str, *, profile: str) -> str:
    return await anyio.to_thread.run_sync(_hasher(profile).hash, password)


async def verify_password(password_hash: str | None, password: str, *, profile: str) -> bool:
    """True when the password matches; a missing hash still costs one verification."""
    target = password_hash or _dummy_hash(profile)

    def verify() -> bool:
        try:
            return _hasher(profile).verify(target, password)
        except (VerificationError, InvalidHashError):
            return False

    matched = await anyio.to_thread.run_sync(verify)
    return matched and password_hash is not None
