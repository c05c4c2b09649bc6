"""The group chats a meeting can be for: joined, removed, and upgraded to a supergroup."""

from datetime import time

import pytest

from bot.domain.errors import GroupUnavailable
from bot.domain.meetings import Audience, AudienceKind, MeetingSpec
from bot.domain.people import Role
from tests.integration.helpers import register

OLD, NEW = -4001, -1004001


def _spec(chat_id: int) -> MeetingSpec:
    return MeetingSpec(
        title="Ryhmäpalaveri",
        weekdays=frozenset({1}),
        start=time(9),
        duration_minutes=30,
        link=None,
        place="Seurakuntatalo",
        audience=Audience(kind=AudienceKind.GROUP, chat_id=chat_id),
    )


async def test_a_meeting_follows_its_group_to_the_supergroup(services):
    aino = await register(services, Role.COORDINATOR, 1001, "Aino")
    meetings = services.meetings
    with pytest.raises(GroupUnavailable):
        await meetings.create(aino, _spec(OLD))  # the bot is not in the group yet
    await meetings.group_joined(OLD, "Naapuriapu", 1001)
    meeting = await meetings.create(aino, _spec(OLD))

    await meetings.group_migrated(OLD, NEW)

    view = await meetings.view(aino, meeting.id)
    assert view.meeting.spec.audience.chat_id == NEW
    assert view.group is not None and view.group.member and view.group.title == "Naapuriapu"
    assert [g.chat_id for g in await meetings.groups(aino)] == [NEW]


async def test_a_removed_group_is_reported_once_and_refused_for_new_meetings(services):
    aino = await register(services, Role.COORDINATOR, 1001, "Aino")
    meetings = services.meetings
    await meetings.group_joined(OLD, "Naapuriapu", 1001)
    meeting = await meetings.create(aino, _spec(OLD))

    removed = await meetings.group_left(OLD)
    assert removed is not None
    assert [m.id for m in removed.meetings] == [meeting.id]
    assert [p.id for p in removed.organisers] == [aino.id]
    assert await meetings.group_left(OLD) is None  # told once
    with pytest.raises(GroupUnavailable):
        await meetings.update(aino, meeting.id, _spec(OLD))
    assert await meetings.groups(aino) == []
