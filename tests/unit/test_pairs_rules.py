"""Areas and availability of pairs."""

from datetime import UTC, datetime

import pytest

from bot.domain.errors import InvalidValue
from bot.domain.pairs import Pair, covers, parse_areas
from bot.domain.people import Person, Role

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def person(pid: int, *, available: bool = True, active: bool = True) -> Person:
    return Person(
        id=pid,
        telegram_user_id=pid,
        name=f"P{pid}",
        language="fi",
        roles=frozenset({Role.VOLUNTEER}),
        available=available,
        active=active,
        created_at=NOW,
    )


@pytest.mark.parametrize(
    ("areas", "postal", "covered"),
    [
        ((), "70100", True),
        (("70",), "70100", True),
        (("70",), "71100", False),
        (("71100", "70"), "71100", True),
        (("70100",), "70100", True),
        (("70",), "", True),  # a resident without a postal code is anybody's
    ],
)
def test_covers(areas, postal, covered):
    assert covers(areas, postal) is covered


def test_parse_areas():
    assert parse_areas(" 70, 71100;72 ") == {"70", "71100", "72"}
    for bad, reason in (("", "areas.empty"), ("7x", "areas.format"), ("123456", "areas.format")):
        with pytest.raises(InvalidValue) as raised:
            parse_areas(bad)
        assert raised.value.reason == reason
    with pytest.raises(InvalidValue):
        parse_areas(" ".join(str(n) for n in range(10, 40)))


def test_a_pair_is_available_only_when_both_are():
    both = Pair(id=1, members=(person(1), person(2)), created_at=NOW)
    assert both.available and both.names == "P1 & P2"
    assert not Pair(id=1, members=(person(1), person(2, available=False)), created_at=NOW).available
    assert not Pair(id=1, members=(person(1), person(2, active=False)), created_at=NOW).available
    assert not Pair(
        id=1, members=(person(1), person(2)), created_at=NOW, dissolved_at=NOW
    ).available
