"""Invite codes, redeemability and the wrong-code lock-out."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InviteExpired, InviteUsed, TooManyAttempts
from bot.domain.invites import (
    LOCKOUT_WINDOW,
    MAX_WRONG_CODES,
    Invite,
    check_redeemable,
    hash_code,
    lockout_until,
    looks_like_code,
    new_code,
    raise_if_locked,
)
from bot.domain.people import Role

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def invite(**changes) -> Invite:
    values = {
        "id": 1,
        "role": Role.VOLUNTEER,
        "name": None,
        "organisation_id": None,
        "created_by": None,
        "created_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=6),
    }
    return Invite(**(values | changes))


def test_codes_carry_at_least_128_bits_and_fit_a_deep_link():
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    for code in codes:
        assert len(code) >= 22  # 22 base64 characters = 132 bits >= 128
        assert looks_like_code(code)


def test_only_the_digest_is_stored_and_it_is_stable():
    code = new_code()
    assert hash_code(code) == hash_code(f"  {code} ")
    assert code not in hash_code(code)
    assert len(hash_code(code)) == 64


@given(st.text())
def test_looks_like_code_accepts_only_deep_link_characters(text):
    if looks_like_code(text):
        assert 0 < len(text.strip()) <= 64
        assert all(c.isalnum() or c in "-_" for c in text.strip())


def test_fresh_invite_is_redeemable():
    check_redeemable(invite(), NOW)


def test_used_invite_is_refused():
    with pytest.raises(InviteUsed):
        check_redeemable(invite(used_at=NOW - timedelta(hours=1), used_by=3), NOW)


def test_invite_expires_at_its_expiry_time():
    check_redeemable(invite(expires_at=NOW + timedelta(seconds=1)), NOW)
    with pytest.raises(InviteExpired):
        check_redeemable(invite(expires_at=NOW), NOW)


def test_as_many_wrong_codes_as_the_limit_do_not_lock():
    failures = [NOW - timedelta(minutes=m) for m in range(MAX_WRONG_CODES)]
    assert lockout_until(failures, NOW) is None
    raise_if_locked(failures, NOW)


def test_more_wrong_codes_than_the_limit_lock_until_the_oldest_ages_out():
    failures = [NOW - timedelta(minutes=50 - m) for m in range(MAX_WRONG_CODES + 1)]
    until = lockout_until(failures, NOW)
    assert until == failures[0] + LOCKOUT_WINDOW
    with pytest.raises(TooManyAttempts) as raised:
        raise_if_locked(failures, NOW)
    assert raised.value.until == until
    assert lockout_until(failures, until) is None


def test_failures_older_than_an_hour_do_not_count():
    failures = [NOW - LOCKOUT_WINDOW - timedelta(seconds=1)] * 10
    assert lockout_until(failures, NOW) is None
