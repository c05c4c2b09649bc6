"""One-time invites that register a person with a role.

A code carries 128 bits of randomness and is shown exactly once; only its SHA-256 digest is stored,
so a leaked database cannot be used to register. An invite is redeemable once, before it expires.
Wrong codes are rate-limited per Telegram user: more than `MAX_WRONG_CODES` failures within
`LOCKOUT_WINDOW` lock further tries until enough of them are an hour old.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.domain.errors import InviteExpired, InviteUsed, TooManyAttempts
from bot.domain.people import Role

__all__ = [
    "LOCKOUT_WINDOW",
    "MAX_WRONG_CODES",
    "Invite",
    "check_redeemable",
    "hash_code",
    "lockout_until",
    "looks_like_code",
    "new_code",
    "raise_if_locked",
]

MAX_WRONG_CODES = 5
LOCKOUT_WINDOW = timedelta(hours=1)
_CODE_BYTES = 16  # 128 bits
_MAX_CODE_LENGTH = 64  # Telegram's limit for a deep-link start parameter


class Invite(BaseModel):
    """A stored invite; the code itself is never stored, only its digest."""

    model_config = ConfigDict(frozen=True)

    id: int
    role: Role
    name: str | None
    organisation_id: int | None
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = None


def new_code() -> str:
    """Return a fresh URL-safe invite code, usable as a Telegram deep-link parameter."""
    return secrets.token_urlsafe(_CODE_BYTES)


def hash_code(code: str) -> str:
    """Return the digest under which a code is stored."""
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


def looks_like_code(text: str) -> bool:
    """Return whether `text` could be an invite code at all (cheap check before any lookup)."""
    text = text.strip()
    return 0 < len(text) <= _MAX_CODE_LENGTH and all(c.isalnum() or c in "-_" for c in text)


def check_redeemable(invite: Invite, now: datetime) -> None:
    """Raise unless the invite can be redeemed at `now`."""
    if invite.used_at is not None:
        raise InviteUsed
    if now >= invite.expires_at:
        raise InviteExpired


def lockout_until(recent_failures: list[datetime], now: datetime) -> datetime | None:
    """Return until when tries are locked, given the failures of the last hour, or None."""
    window = sorted(at for at in recent_failures if now - at < LOCKOUT_WINDOW)
    if len(window) <= MAX_WRONG_CODES:
        return None
    # The lock lifts when no more than MAX_WRONG_CODES failures remain in the window.
    return window[-(MAX_WRONG_CODES + 1)] + LOCKOUT_WINDOW


def raise_if_locked(recent_failures: list[datetime], now: datetime) -> None:
    """Raise `TooManyAttempts` when the failures lock further tries."""
    until = lockout_until(recent_failures, now)
    if until is not None:
        raise TooManyAttempts(until)
