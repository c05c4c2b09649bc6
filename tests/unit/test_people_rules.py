"""Roles, capabilities and language normalisation."""

from datetime import UTC, datetime

import pytest

from bot.domain.people import Capability, Person, Role, capabilities_of, normalise_language


def person(*roles: Role, active: bool = True) -> Person:
    return Person(
        id=1,
        telegram_user_id=10,
        name="Test",
        language="fi",
        roles=frozenset(roles),
        active=active,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("fi", "fi"),
        ("fi-FI", "fi"),
        ("sv-FI", "sv"),
        ("sv_SE", "sv"),
        ("EN-us", "en"),
        ("de", "fi"),
        ("", "fi"),
        (None, "fi"),
        ("  ", "fi"),
    ],
)
def test_language_code_is_normalised_to_a_supported_language(code, expected):
    assert normalise_language(code, "fi") == expected


def test_unknown_language_falls_back_to_the_configured_default():
    assert normalise_language("ru-RU", "sv") == "sv"


def test_coordinator_may_manage_people_and_volunteer_may_not():
    assert person(Role.COORDINATOR).can(Capability.MANAGE_PEOPLE)
    assert not person(Role.VOLUNTEER).can(Capability.MANAGE_PEOPLE)
    assert capabilities_of(person(Role.VOLUNTEER)) == {
        Capability.TAKE_TASKS,
        Capability.SET_AVAILABILITY,
    }
    assert capabilities_of(person(Role.LINK_WORKER)) == frozenset()


def test_capabilities_are_the_union_of_roles():
    both = person(Role.VOLUNTEER, Role.COORDINATOR)
    assert capabilities_of(both) == frozenset(Capability)


def test_deactivated_person_may_do_nothing():
    former = person(Role.COORDINATOR, active=False)
    assert capabilities_of(former) == frozenset()
    assert not former.can(Capability.INVITE)
