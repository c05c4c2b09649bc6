"""The meeting service on a real SQLite database: exactly-once claims under concurrency, what
`plan` wakes for, skipped and retried reminders, attendance rules and moving one occurrence.

The clock is the fixture's FakeClock (Monday 2026-11-23 10:00 in Helsinki). The meeting is on
Tuesdays and Fridays at 09:00 with the default reminders (the day before at 16:00, 15 minutes
before), so its first reminders fall due on Monday at 16:00 and on Tuesday at 08:45.
"""

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import (
    MeetingNotFound,
    MeetingOver,
    NotAllowed,
    NotInAudience,
    OccurrenceNotFound,
)
from bot.domain.meetings import (
    Audience,
    AudienceKind,
    MeetingError,
    MeetingProblem,
    MeetingSpec,
)
from bot.domain.people import Role
from bot.services.meetings import MeetingService, Wake
from storage.store import SqliteStore
from tests.integration.helpers import register

HEL = ZoneInfo("Europe/Helsinki")
TUESDAY = date(2026, 11, 24)
FRIDAY = date(2026, 11, 27)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """Return the UTC instant of a Helsinki wall-clock time."""
    return datetime.combine(day, time(hour, minute), tzinfo=HEL).astimezone(UTC)


DAY_BEFORE = local(TUESDAY - timedelta(days=1), 16)  # Monday 16:00
FIFTEEN = local(TUESDAY, 8, 45)


def spec(
    *,
    title: str = "Koordinaatioryhmä",
    weekdays=frozenset({1, 4}),
    start: time = time(9),
    audience: Audience | None = None,
) -> MeetingSpec:
    return MeetingSpec(
        title=title,
        weekdays=weekdays,
        start=start,
        duration_minutes=60,
        link="https://teams.example.com/l/meetup-join/abc",
        place=None,
        audience=audience or Audience(AudienceKind.ROLE, role=Role.VOLUNTEER),
    )


@pytest.fixture
async def cast(services):
    """Aino coordinates; Bertil and Cecilia volunteer; Frida calls."""
    return {
        "aino": await register(services, Role.COORDINATOR, 1001, "Aino"),
        "bertil": await register(services, Role.VOLUNTEER, 2001, "Bertil"),
        "cecilia": await register(services, Role.VOLUNTEER, 2002, "Cecilia"),
        "frida": await register(services, Role.CALLER, 3001, "Frida"),
    }


def meetings(db, clock, **options) -> MeetingService:
    return MeetingService(SqliteStore(db), clock, zone=HEL, **options)


async def reminder_rows(db) -> list[tuple]:
    rows = await db.fetch_all(
        "SELECT day, offset_key, outcome FROM meeting_reminders ORDER BY due_at, id"
    )
    return [(r["day"], r["offset_key"], r["outcome"]) for r in rows]


async def delivery_rows(db) -> list[tuple]:
    rows = await db.fetch_all(
        "SELECT id, kind, chat_id, delivered_at IS NOT NULL AS done, failed"
        " FROM meeting_deliveries ORDER BY id"
    )
    return [(r["id"], r["kind"], r["chat_id"], bool(r["done"]), r["failed"]) for r in rows]


async def deliver_all(service: MeetingService, due) -> None:
    for outgoing in due.outgoing:
        await service.delivered(outgoing.delivery.id)


def wake_of(wakes: list[Wake], name: str) -> datetime | None:
    found = [w.at for w in wakes if w.name == name]
    assert len(found) <= 1, wakes
    return found[0] if found else None


# --- exactly once -------------------------------------------------------------------------------


async def test_five_concurrent_claims_record_each_reminder_and_the_digest_once(db, clock, cast):
    service = meetings(db, clock, digest_at=time(7, 30))
    await service.create(cast["aino"], spec())

    clock.now = DAY_BEFORE
    dues = await asyncio.gather(*(service.claim_due() for _ in range(5)))
    assert await reminder_rows(db) == [("2026-11-24", "1d16:00", "sent")]
    planned = await delivery_rows(db)
    assert [(kind, chat) for _, kind, chat, _, _ in planned] == [
        ("reminder", 2001),
        ("reminder", 2002),
    ]
    # Every claim hands out only the planned deliveries (running them one at a time is the
    # adapter's delivery lock); once delivered, no claim hands them out again.
    handed = {o.delivery.id for due in dues for o in due.outgoing}
    assert handed == {row[0] for row in planned}
    assert all(due.skipped == 0 and not due.digest_to for due in dues)
    await deliver_all(service, dues[0])
    again = await asyncio.gather(*(service.claim_due() for _ in range(5)))
    assert all(not due.outgoing and due.skipped == 0 for due in again)

    # The digest (07:30 on Tuesday) goes to the coordinators from exactly one of five claims.
    clock.now = local(TUESDAY, 7, 30)
    dues = await asyncio.gather(*(service.claim_due() for _ in range(5)))
    assert [[p.name for p in due.digest_to] for due in dues if due.digest_to] == [["Aino"]]
    assert (
        await db.fetch_value("SELECT outcome FROM digests WHERE day = ?", ("2026-11-24",)) == "sent"
    )


# --- plan ---------------------------------------------------------------------------------------


async def test_plan_wakes_for_the_next_unrecorded_reminder_and_not_for_paused_meetings(
    db, clock, cast
):
    aino = cast["aino"]
    service = meetings(db, clock, digest_at=time(7, 30))
    meeting = await service.create(aino, spec())
    wakes = await service.plan()
    assert wake_of(wakes, "meeting:1") == DAY_BEFORE
    assert wake_of(wakes, "meeting:digest") == local(TUESDAY, 7, 30)  # today's 07:30 has passed
    assert wake_of(wakes, "meeting:retry") is None

    clock.now = DAY_BEFORE
    await deliver_all(service, await service.claim_due())
    # Five minutes on, the recorded reminder is still within the grace window: plan skips it.
    clock.now = DAY_BEFORE + timedelta(minutes=5)
    assert wake_of(await service.plan(), "meeting:1") == FIFTEEN

    # Paused: no wake at all, and nothing claimed when its time comes.
    await service.set_paused(aino, meeting.id, True)
    assert wake_of(await service.plan(), "meeting:1") is None
    clock.now = FIFTEEN
    due = await service.claim_due()
    assert not due.outgoing and due.skipped == 0
    assert await reminder_rows(db) == [("2026-11-24", "1d16:00", "sent")]
    # Resumed after its time: the next one, never the one missed while paused.
    clock.now = FIFTEEN + timedelta(minutes=2)
    await service.set_paused(aino, meeting.id, False)
    assert wake_of(await service.plan(), "meeting:1") == local(FRIDAY - timedelta(days=1), 16)
    due = await service.claim_due()
    assert not due.outgoing and due.skipped == 0

    # Another meeting keeps its own wake while this one is paused; a deleted one has none.
    other = await service.create(aino, spec(title="Tiimi", weekdays=frozenset({2})))
    await service.set_paused(aino, meeting.id, True)
    wakes = await service.plan()
    assert wake_of(wakes, "meeting:1") is None
    assert wake_of(wakes, f"meeting:{other.id}") == local(date(2026, 11, 24), 16)
    await service.delete(aino, other.id)
    assert [w.name for w in await service.plan()] == ["meeting:digest"]


async def test_a_reminder_already_sent_for_a_moved_occurrence_is_not_due_again(db, clock, cast):
    aino = cast["aino"]
    service = meetings(db, clock)
    meeting = await service.create(aino, spec())
    clock.now = DAY_BEFORE
    await deliver_all(service, await service.claim_due())
    # Monday evening Tuesday's meeting is moved to Wednesday 09:00: its day-before reminder
    # (already sent, for the same occurrence) would now be Tuesday 16:00.
    clock.now = DAY_BEFORE + timedelta(hours=1)
    await service.move_occurrence(aino, meeting.id, TUESDAY, local(TUESDAY + timedelta(days=1), 9))
    clock.now = local(TUESDAY, 16)
    due = await service.claim_due()
    assert not due.outgoing  # not sent twice
    assert await reminder_rows(db) == [("2026-11-24", "1d16:00", "sent")]
    # Its 15-minute reminder follows it to Wednesday 08:45 and is sent then, once.
    clock.now = local(TUESDAY + timedelta(days=1), 8, 45)
    due = await service.claim_due()
    assert sorted(
        (o.delivery.kind, o.delivery.chat_id, o.occurrence.day, o.occurrence.moved)
        for o in due.outgoing
    ) == [
        ("brief", 1001, TUESDAY, True),
        ("reminder", 2001, TUESDAY, True),
        ("reminder", 2002, TUESDAY, True),
    ]


@pytest.mark.parametrize("change", ["move", "edit"])
async def test_after_a_claim_plan_never_wakes_for_a_moment_already_past(db, clock, cast, change):
    aino = cast["aino"]
    service = meetings(db, clock)
    meeting = await service.create(aino, spec())
    if change == "move":
        clock.now = DAY_BEFORE
        await deliver_all(service, await service.claim_due())
        clock.now = DAY_BEFORE + timedelta(hours=1)
        await service.move_occurrence(
            aino, meeting.id, TUESDAY, local(TUESDAY + timedelta(days=1), 9)
        )
        clock.now = local(TUESDAY, 16)  # the moved occurrence's day-before time
    else:
        clock.now = FIFTEEN
        await deliver_all(service, await service.claim_due())
        clock.now = FIFTEEN + timedelta(minutes=5)
        # 08:50: the coordinator moves today's start to 09:30; its 15-minute reminder (sent at
        # 08:45) now computes to 09:15.
        await service.update(aino, meeting.id, spec(start=time(9, 30)))
        clock.now = local(TUESDAY, 9, 15)
    await service.claim_due()
    wake = wake_of(await service.plan(), "meeting:1")
    assert wake is not None and wake > clock()


# --- skipped and retried ------------------------------------------------------------------------


async def test_reminders_missed_for_longer_than_the_grace_are_skipped_and_counted_once(
    db, clock, cast
):
    service = meetings(db, clock)
    await service.create(cast["aino"], spec())
    clock.now = local(date(2026, 11, 25), 12)  # down from Monday morning to Wednesday noon
    due = await service.claim_due()
    assert not due.outgoing and due.skipped == 2
    assert await reminder_rows(db) == [
        ("2026-11-24", "1d16:00", "skipped"),
        ("2026-11-24", "15m", "skipped"),
    ]
    assert await delivery_rows(db) == []
    due = await service.claim_due()
    assert not due.outgoing and due.skipped == 0
    # Within the grace window a late reminder is still sent.
    clock.now = local(FRIDAY - timedelta(days=1), 16, 9)
    due = await service.claim_due()
    assert len(due.outgoing) == 2 and due.skipped == 0
    assert (await reminder_rows(db))[-1] == ("2026-11-27", "1d16:00", "sent")


async def test_pending_deliveries_are_retried_within_the_grace_and_given_up_after(db, clock, cast):
    service = meetings(db, clock, grace=timedelta(minutes=10))
    await service.create(cast["aino"], spec())
    clock.now = DAY_BEFORE
    due = await service.claim_due()
    first, second = due.outgoing
    await service.delivered(first.delivery.id)  # the other one hit a network error
    assert wake_of(await service.plan(), "meeting:retry") == clock() + timedelta(seconds=30)

    clock.now = DAY_BEFORE + timedelta(minutes=5)
    retried = await service.claim_due()
    assert [o.delivery.id for o in retried.outgoing] == [second.delivery.id]

    clock.now = DAY_BEFORE + timedelta(minutes=11)
    assert not (await service.claim_due()).outgoing
    assert [row[3:] for row in await delivery_rows(db)] == [(True, None), (False, "gave_up")]
    assert wake_of(await service.plan(), "meeting:retry") is None

    # A chat that cannot be reached is given up at once and not retried.
    clock.now = FIFTEEN
    due = await service.claim_due()
    for outgoing in due.outgoing:
        await service.undeliverable(outgoing.delivery.id, "blocked")
    assert wake_of(await service.plan(), "meeting:retry") is None
    clock.now = FIFTEEN + timedelta(minutes=1)
    assert not (await service.claim_due()).outgoing


# --- attendance ---------------------------------------------------------------------------------


async def test_answers_follow_the_rules(db, clock, cast):
    aino, bertil, frida = cast["aino"], cast["bertil"], cast["frida"]
    service = meetings(db, clock)
    meeting = await service.create(aino, spec())

    answered = await service.answer(bertil, meeting.id, TUESDAY, True, bertil.telegram_user_id)
    assert answered.attending and answered.changed and answered.occurrence.day == TUESDAY
    assert not (
        await service.answer(bertil, meeting.id, TUESDAY, True, bertil.telegram_user_id)
    ).changed  # double tap
    assert (
        await service.answer(bertil, meeting.id, TUESDAY, False, bertil.telegram_user_id)
    ).changed  # change of mind
    assert (
        await service.answer(aino, meeting.id, TUESDAY, True, aino.telegram_user_id)
    ).changed  # coordinators may
    view = await service.view(aino, meeting.id)
    assert [p.name for p in view.attending] == ["Aino"]
    assert [p.name for p in view.not_attending] == ["Bertil"]
    assert view.unanswered == 1  # Cecilia; Aino is not among the attendees

    with pytest.raises(NotInAudience):
        await service.answer(frida, meeting.id, TUESDAY, True, frida.telegram_user_id)
    with pytest.raises(OccurrenceNotFound):
        await service.answer(
            bertil, meeting.id, date(2026, 11, 25), True, bertil.telegram_user_id
        )  # a Wednesday
    await service.cancel_occurrence(aino, meeting.id, FRIDAY)
    with pytest.raises(OccurrenceNotFound):
        await service.answer(bertil, meeting.id, FRIDAY, True, bertil.telegram_user_id)
    with pytest.raises(MeetingNotFound):
        await service.answer(bertil, 99, TUESDAY, True, bertil.telegram_user_id)
    clock.now = local(TUESDAY, 10)  # 09:00-10:00 has ended
    with pytest.raises(MeetingOver):
        await service.answer(bertil, meeting.id, TUESDAY, True, bertil.telegram_user_id)

    with pytest.raises(NotInAudience):  # a forged press from another chat
        await service.answer(bertil, meeting.id, FRIDAY + timedelta(days=7), True, -100)

    # In a group chat's meeting anyone the bot knows may answer, in that group only.
    await service.group_joined(-100, "Kuopio", 1001)
    group = await service.create(
        aino, spec(title="Ryhmä", audience=Audience(AudienceKind.GROUP, chat_id=-100))
    )
    later = FRIDAY + timedelta(days=4)
    assert (await service.answer(frida, group.id, later, True, -100)).changed
    with pytest.raises(NotInAudience):
        await service.answer(frida, group.id, later, True, frida.telegram_user_id)
    assert (await service.view(aino, group.id)).unanswered is None


# --- moving one occurrence ----------------------------------------------------------------------


async def test_moving_one_occurrence_within_its_limits(db, clock, cast):
    aino, bertil = cast["aino"], cast["bertil"]
    service = meetings(db, clock)
    meeting = await service.create(aino, spec())
    midnight = local(FRIDAY, 0)

    for to, problem in (
        (clock() - timedelta(minutes=1), MeetingProblem.MOVE_PAST),
        (clock(), MeetingProblem.MOVE_PAST),
        (midnight + timedelta(days=14, minutes=1), MeetingProblem.MOVE_FAR),
    ):
        with pytest.raises(MeetingError) as refused:
            await service.move_occurrence(aino, meeting.id, FRIDAY, to)
        assert refused.value.problem is problem, to
    with pytest.raises(NotAllowed):
        await service.move_occurrence(bertil, meeting.id, FRIDAY, midnight + timedelta(hours=12))
    assert await db.fetch_value("SELECT count(*) FROM meeting_changes") == 0

    # Exactly two weeks from its own day is allowed; the reminders follow the new time.
    farthest = midnight + timedelta(days=14)
    changed = await service.move_occurrence(aino, meeting.id, FRIDAY, farthest)
    assert changed.moved_to == farthest and changed.occurrence.day == FRIDAY
    assert [p.name for p in changed.people] == ["Bertil", "Cecilia"]
    moved_at = farthest  # 00:00 local on 11.12.: 15 minutes before is still 10.12.
    _, occurrence = await service.occurrence(meeting.id, FRIDAY)
    assert occurrence.moved and occurrence.starts == moved_at
    clock.now = moved_at - timedelta(minutes=15)
    await service.claim_due()
    assert ("2026-11-27", "15m", "sent") in await reminder_rows(db)
    assert await db.fetch_value(
        "SELECT due_at FROM meeting_reminders WHERE day = '2026-11-27' AND offset_key = '15m'"
    ) == (moved_at - timedelta(minutes=15)).isoformat(timespec="microseconds")

    # An occurrence that has ended can be neither moved nor cancelled.
    clock.now = local(TUESDAY, 10)
    with pytest.raises(MeetingOver):
        await service.move_occurrence(aino, meeting.id, TUESDAY, local(FRIDAY, 12))
    with pytest.raises(MeetingOver):
        await service.cancel_occurrence(aino, meeting.id, TUESDAY)
