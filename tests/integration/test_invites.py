"""Invites end to end below Telegram: create, redeem once, expire, lock out."""

import asyncio
from datetime import timedelta

import pytest

from bot.domain.errors import (
    AlreadyRegistered,
    InviteExpired,
    InviteNotFound,
    InviteUsed,
    NotAllowed,
    OrganisationRequired,
    TooManyAttempts,
)
from bot.domain.invites import hash_code
from bot.domain.people import Role


async def redeem(services, code, user=1001, language="fi-FI", name="Tiina Testaaja"):
    return await services.invites.redeem(user, code, telegram_name=name, language_code=language)


async def coordinator(services):
    issued = await services.invites.create(None, Role.COORDINATOR, name="Kaisa Koordinaattori")
    return (await redeem(services, issued.code, user=1)).person


async def test_invite_registers_a_person_with_its_role_name_and_language(services):
    issued = await services.invites.create(None, Role.VOLUNTEER, name="Ville Vapaa")
    redemption = await redeem(services, issued.code, language="sv-FI")
    person = redemption.person
    assert redemption.newly_registered
    assert person.name == "Ville Vapaa"
    assert person.roles == {Role.VOLUNTEER}
    assert person.language == "sv"


async def test_without_a_name_the_telegram_name_is_used(services):
    issued = await services.invites.create(None, Role.CALLER)
    assert (await redeem(services, issued.code)).person.name == "Tiina Testaaja"


async def test_only_the_digest_of_the_code_is_stored(services, db):
    issued = await services.invites.create(None, Role.VOLUNTEER)
    async with db.connection.execute("SELECT * FROM invites") as cursor:
        rows = [tuple(row) for row in await cursor.fetchall()]
    assert not any(issued.code in str(value) for row in rows for value in row)
    assert any(hash_code(issued.code) in row for row in rows)


async def test_an_invite_is_single_use(services):
    issued = await services.invites.create(None, Role.VOLUNTEER)
    await redeem(services, issued.code)
    with pytest.raises(InviteUsed):
        await redeem(services, issued.code, user=2002)


async def test_two_simultaneous_redemptions_register_exactly_one(services):
    issued = await services.invites.create(None, Role.VOLUNTEER)
    results = await asyncio.gather(
        *(redeem(services, issued.code, user=3000 + i) for i in range(8)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, InviteUsed) for r in results if isinstance(r, Exception))


async def test_an_invite_expires_after_the_validity(services, clock):
    issued = await services.invites.create(None, Role.VOLUNTEER)
    clock.advance(days=7)
    with pytest.raises(InviteExpired):
        await redeem(services, issued.code)


async def test_unknown_and_malformed_codes_are_refused(services):
    with pytest.raises(InviteNotFound):
        await redeem(services, "A" * 22)
    with pytest.raises(InviteNotFound):
        await redeem(services, "'; DROP TABLE people; --")


async def test_more_than_five_wrong_codes_in_an_hour_lock_even_a_right_code(services, clock):
    issued = await services.invites.create(None, Role.VOLUNTEER)
    for _ in range(6):
        with pytest.raises(InviteNotFound):
            await redeem(services, "wrongcode")
        clock.advance(minutes=1)
    with pytest.raises(TooManyAttempts) as raised:
        await redeem(services, issued.code)
    assert raised.value.until == clock.now - timedelta(minutes=6) + timedelta(hours=1)
    # Another Telegram user is not affected.
    other = await services.invites.create(None, Role.VOLUNTEER)
    await redeem(services, other.code, user=4004)
    # An hour after the first wrong code the lock lifts.
    clock.advance(minutes=56)
    assert (await redeem(services, issued.code)).person.roles == {Role.VOLUNTEER}


async def test_five_wrong_codes_still_leave_a_try(services):
    issued = await services.invites.create(None, Role.VOLUNTEER)
    for _ in range(5):
        with pytest.raises(InviteNotFound):
            await redeem(services, "wrongcode")
    assert (await redeem(services, issued.code)).newly_registered


async def test_reopening_ones_own_invite_is_not_a_wrong_code(services):
    issued = await services.invites.create(None, Role.VOLUNTEER)
    await redeem(services, issued.code)
    for _ in range(8):
        with pytest.raises(AlreadyRegistered):
            await redeem(services, issued.code)
    other = await services.invites.create(None, Role.CALLER)
    assert Role.CALLER in (await redeem(services, other.code)).person.roles


async def test_a_partner_role_needs_an_organisation(services):
    issued = await services.invites.create(None, Role.COORDINATOR)
    boss = (await redeem(services, issued.code)).person
    with pytest.raises(OrganisationRequired):
        await services.people.grant_role(boss, boss.id, Role.PARTNER)


async def test_a_second_invite_adds_a_role_to_the_same_person(services):
    first = await services.invites.create(None, Role.VOLUNTEER)
    second = await services.invites.create(None, Role.CALLER)
    await redeem(services, first.code)
    redemption = await redeem(services, second.code)
    assert not redemption.newly_registered
    assert redemption.person.roles == {Role.VOLUNTEER, Role.CALLER}


async def test_an_invite_for_a_role_already_held_is_not_consumed(services):
    first = await services.invites.create(None, Role.VOLUNTEER)
    again = await services.invites.create(None, Role.VOLUNTEER)
    await redeem(services, first.code)
    with pytest.raises(AlreadyRegistered):
        await redeem(services, again.code)
    # Still usable by someone else.
    await redeem(services, again.code, user=5005)


async def test_partner_invites_need_an_organisation_and_create_it_once(services):
    with pytest.raises(OrganisationRequired):
        await services.invites.create(None, Role.PARTNER)
    one = await services.invites.create(None, Role.PARTNER, organisation_name="Parish of Testala")
    two = await services.invites.create(None, Role.PARTNER, organisation_name="parish of  TESTALA")
    assert one.organisation.id == two.organisation.id
    person = (await redeem(services, one.code)).person
    assert person.organisation.name == "Parish of Testala"


async def test_only_coordinators_may_invite(services):
    boss = await coordinator(services)
    issued = await services.invites.create(boss, Role.VOLUNTEER)
    volunteer = (await redeem(services, issued.code, user=77)).person
    with pytest.raises(NotAllowed):
        await services.invites.create(volunteer, Role.COORDINATOR)


async def test_the_link_appears_once_the_bot_username_is_known(services):
    assert (await services.invites.create(None, Role.VOLUNTEER)).link is None
    await services.invites.remember_bot_username("apuri_test_bot")
    issued = await services.invites.create(None, Role.VOLUNTEER)
    assert issued.link == f"https://t.me/apuri_test_bot?start={issued.code}"
