"""Managing people: pages, deactivation, roles, and the rules that protect the network."""

import pytest

from bot.domain.errors import LastCoordinator, LastRole, NotAllowed, PersonNotFound, SelfManagement
from bot.domain.people import Capability, Role
from tests.integration.helpers import register


@pytest.fixture
async def team(services):
    boss = await register(services, Role.COORDINATOR, 1, "Kaisa Koordinaattori")
    helper = await register(services, Role.VOLUNTEER, 2, "Ville Vapaa")
    return boss, helper


async def test_deactivation_ends_access_and_keeps_the_record(services, team):
    boss, helper = team
    person = await services.people.deactivate(boss, helper.id)
    assert not person.active
    assert not person.can(Capability.MANAGE_PEOPLE) and Role.VOLUNTEER in person.roles
    assert (await services.people.identify(2)).active is False
    again = await services.people.deactivate(boss, helper.id)  # a double tap changes nothing
    assert again == person
    assert (await services.people.reactivate(boss, helper.id)).active


async def test_coordinator_cannot_deactivate_themself(services, team):
    boss, _ = team
    with pytest.raises(SelfManagement):
        await services.people.deactivate(boss, boss.id)


async def test_the_last_coordinator_is_protected(services, team):
    boss, _ = team
    deputy = await register(services, Role.CALLER, 3, "Kalle Soittaja")
    deputy = (await services.people.grant_role(boss, deputy.id, Role.COORDINATOR)).person
    await services.people.deactivate(deputy, boss.id)
    # The deputy is now the only active coordinator.
    with pytest.raises(LastCoordinator):
        await services.people.revoke_role(deputy, deputy.id, Role.COORDINATOR)
    assert Role.COORDINATOR in (await services.people.identify(3)).roles


async def test_a_person_keeps_at_least_one_role(services, team):
    boss, helper = team
    with pytest.raises(LastRole):
        await services.people.revoke_role(boss, helper.id, Role.VOLUNTEER)


async def test_roles_are_granted_and_revoked_idempotently(services, team):
    boss, helper = team
    once = await services.people.grant_role(boss, helper.id, Role.CALLER)
    twice = await services.people.grant_role(boss, helper.id, Role.CALLER)
    assert (once.changed, twice.changed) == (True, False)
    assert once.person.roles == twice.person.roles == {Role.VOLUNTEER, Role.CALLER}
    revoked = await services.people.revoke_role(boss, helper.id, Role.CALLER)
    assert revoked.changed
    assert revoked.person.roles == {Role.VOLUNTEER}


async def test_volunteers_cannot_manage_people(services, team):
    _, helper = team
    with pytest.raises(NotAllowed):
        await services.people.page(helper, 1)
    with pytest.raises(NotAllowed):
        await services.people.grant_role(helper, helper.id, Role.COORDINATOR)


async def test_a_deactivated_coordinator_can_no_longer_manage(services, team):
    boss, helper = team
    helper = (await services.people.grant_role(boss, helper.id, Role.COORDINATOR)).person
    await services.people.deactivate(helper, boss.id)
    stale_boss = await services.people.identify(1)
    with pytest.raises(NotAllowed):
        await services.people.page(stale_boss, 1)


async def test_pages_list_active_people_first_by_name(services, team):
    boss, _ = team
    for i in range(12):
        await register(services, Role.VOLUNTEER, 100 + i, f"Person {i:02d}")
    first = await services.people.page(boss, 1)
    assert (first.total, first.pages, len(first.people)) == (14, 2, 10)
    last = await services.people.page(boss, 99)
    assert last.page == 2
    assert len(last.people) == 4


async def test_unknown_person(services, team):
    boss, _ = team
    with pytest.raises(PersonNotFound):
        await services.people.get(boss, 9999)


async def test_language_is_remembered(services, team):
    _, helper = team
    await services.people.set_language(helper, "en")
    assert (await services.people.identify(2)).language == "en"
    with pytest.raises(ValueError):
        await services.people.set_language(helper, "de")
