"""Meeting recurrence across the clock changes, reminders, and reading typed meeting fields."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.meetings import (
    DEFAULT_OFFSETS,
    MAX_MOVE,
    Audience,
    AudienceKind,
    Change,
    Meeting,
    MeetingError,
    MeetingProblem,
    MeetingSpec,
    Occurrence,
    Offset,
)
from bot.domain.people import Role
from bot.domain.schedule import (
    format_offsets,
    local_start,
    looks_like_link,
    next_occurrence,
    next_reminder,
    occurrences,
    parse_clock,
    parse_duration,
    parse_link,
    parse_move,
    parse_offsets,
    parse_place,
    parse_title,
    previous_occurrence,
    reminders,
    reminders_between,
    weekdays_from_mask,
    weekdays_mask,
)

HEL = ZoneInfo("Europe/Helsinki")
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
EVERY_DAY = frozenset(range(7))
M15 = Offset(minutes=15)
DAY_BEFORE_16 = Offset(days=1, at=time(16, 0))


def make_meeting(
    weekdays: frozenset[int] | set[int],
    start: time = time(9, 0),
    *,
    duration: int = 60,
    offsets: tuple[Offset, ...] = DEFAULT_OFFSETS,
    paused: bool = False,
    meeting_id: int = 1,
) -> Meeting:
    spec = MeetingSpec(
        title="Koordinaatiopalaveri",
        weekdays=frozenset(weekdays),
        start=start,
        duration_minutes=duration,
        link="https://teams.microsoft.com/l/meetup-join/x",
        place=None,
        audience=Audience(kind=AudienceKind.ROLE, role=Role.COORDINATOR),
        offsets=offsets,
    )
    return Meeting(
        id=meeting_id,
        spec=spec,
        created_by=1,
        created_at=CREATED,
        updated_at=CREATED,
        paused=paused,
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def hel(*args: int) -> datetime:
    """A Helsinki wall-clock time that exists and is not ambiguous, as UTC."""
    return datetime(*args, tzinfo=HEL).astimezone(UTC)


def last_sunday(year: int, month: int) -> date:
    """The EU clock changes happen on the last Sunday of March and of October."""
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() - SUN) % 7)


def year_range(year: int) -> tuple[datetime, datetime]:
    return hel(year, 1, 1), hel(year + 1, 1, 1)


# --- local_start ------------------------------------------------------------------------------


def test_local_start_in_winter_and_summer():
    winter = local_start(date(2026, 1, 15), time(9), HEL)
    summer = local_start(date(2026, 7, 15), time(9), HEL)
    assert winter == utc(2026, 1, 15, 7)
    assert summer == utc(2026, 7, 15, 6)
    assert winter.tzinfo is UTC and summer.tzinfo is UTC


def test_local_start_in_the_spring_gap_is_shifted_forward_by_the_gap():
    # 2026-03-29 03:00 EET jumps to 04:00 EEST: 03:30 does not exist.
    moment = local_start(date(2026, 3, 29), time(3, 30), HEL)
    assert moment == utc(2026, 3, 29, 1, 30)
    assert moment.astimezone(HEL).time() == time(4, 30)
    assert moment.tzinfo is UTC


def test_local_start_when_ambiguous_is_the_first():
    # 2026-10-25 04:00 EEST falls back to 03:00 EET: 03:30 happens twice.
    moment = local_start(date(2026, 10, 25), time(3, 30), HEL)
    assert moment == utc(2026, 10, 25, 0, 30)
    assert moment.astimezone(HEL).utcoffset() == timedelta(hours=3)
    # fold=1 typed by a caller does not change the answer
    assert local_start(date(2026, 10, 25), time(3, 30, fold=1), HEL) == moment


def test_local_start_around_the_changes():
    assert local_start(date(2026, 3, 29), time(2, 59), HEL) == utc(2026, 3, 29, 0, 59)
    assert local_start(date(2026, 3, 29), time(4, 0), HEL) == utc(2026, 3, 29, 1, 0)
    assert local_start(date(2026, 10, 25), time(2, 59), HEL) == utc(2026, 10, 24, 23, 59)
    assert local_start(date(2026, 10, 25), time(4, 0), HEL) == utc(2026, 10, 25, 2, 0)


# --- occurrences ------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2026, 2027, 2028])
def test_tuesday_friday_meeting_over_a_year(year):
    meeting = make_meeting({TUE, FRI})
    found = occurrences(meeting, HEL, *year_range(year))

    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
    expected = [day for day in days if day.year == year and day.weekday() in (TUE, FRI)]
    assert [occurrence.day for occurrence in found] == expected
    assert len(found) in (104, 105)

    summer_from, summer_until = last_sunday(year, 3), last_sunday(year, 10)
    for occurrence in found:
        assert occurrence.starts.tzinfo is UTC
        assert occurrence.starts.astimezone(HEL).time() == time(9)
        assert occurrence.starts.astimezone(HEL).date() == occurrence.day
        summer = summer_from <= occurrence.day < summer_until
        assert occurrence.starts.hour == (6 if summer else 7)
        assert occurrence.ends - occurrence.starts == timedelta(minutes=60)
        assert occurrence.meeting_id == 1
        assert not occurrence.moved
    # both changes were crossed
    hours = [occurrence.starts.hour for occurrence in found]
    assert hours[0] == 7 and 6 in hours and hours[-1] == 7


def test_year_counts():
    # 2026 begins on a Thursday (52 Tuesdays, 52 Fridays), 2027 on a Friday (53 Fridays).
    assert len(occurrences(make_meeting({TUE, FRI}), HEL, *year_range(2026))) == 104
    assert len(occurrences(make_meeting({TUE, FRI}), HEL, *year_range(2027))) == 105


def test_sunday_meeting_in_the_spring_gap():
    meeting = make_meeting({SUN}, time(3, 30))
    found = occurrences(meeting, HEL, hel(2026, 3, 20), hel(2026, 4, 10))
    assert [occurrence.day for occurrence in found] == [
        date(2026, 3, 22),
        date(2026, 3, 29),
        date(2026, 4, 5),
    ]
    before, change_day, after = found
    assert before.starts == utc(2026, 3, 22, 1, 30)  # 03:30 EET
    assert change_day.starts == utc(2026, 3, 29, 1, 30)  # 03:30 does not exist: 04:30 EEST
    assert change_day.starts.astimezone(HEL).time() == time(4, 30)
    assert after.starts == utc(2026, 4, 5, 0, 30)  # 03:30 EEST


def test_sunday_meeting_on_the_autumn_change_is_the_first_0330():
    meeting = make_meeting({SUN}, time(3, 30))
    found = occurrences(meeting, HEL, hel(2026, 10, 17), hel(2026, 11, 5))
    assert [occurrence.starts for occurrence in found] == [
        utc(2026, 10, 18, 0, 30),  # EEST
        utc(2026, 10, 25, 0, 30),  # the first 03:30, still EEST
        utc(2026, 11, 1, 1, 30),  # EET
    ]
    assert all(o.starts.astimezone(HEL).time() == time(3, 30) for o in found)


def test_range_is_start_inclusive_end_exclusive():
    meeting = make_meeting({MON})
    monday = hel(2026, 11, 23, 9)
    assert [o.starts for o in occurrences(meeting, HEL, monday, monday + timedelta(days=7))] == [
        monday
    ]
    assert occurrences(meeting, HEL, monday - timedelta(days=7), monday) == [
        Occurrence(1, date(2026, 11, 16), monday - timedelta(days=7), monday - timedelta(hours=167))
    ]
    assert occurrences(meeting, HEL, monday, monday) == []
    assert occurrences(meeting, HEL, monday, monday - timedelta(days=1)) == []


def test_paused_meeting_still_has_occurrences():
    meeting = make_meeting({MON}, paused=True)
    assert len(occurrences(meeting, HEL, hel(2026, 11, 1), hel(2026, 12, 1))) == 5


def test_naive_datetimes_are_refused():
    meeting = make_meeting({MON})
    with pytest.raises(ValueError, match="aware"):
        occurrences(meeting, HEL, datetime(2026, 11, 1), hel(2026, 12, 1))


def test_cancelled_occurrence_is_left_out():
    meeting = make_meeting({TUE, FRI})
    changes = {date(2026, 11, 24): Change(day=date(2026, 11, 24))}
    found = occurrences(meeting, HEL, hel(2026, 11, 23), hel(2026, 11, 30), changes)
    assert [o.day for o in found] == [date(2026, 11, 27)]
    found_reminders = reminders_between(meeting, HEL, hel(2026, 11, 23), hel(2026, 12, 1), changes)
    assert {r.occurrence.day for r in found_reminders} == {date(2026, 11, 27), date(2026, 12, 1)}


def test_a_change_for_a_day_without_a_meeting_is_ignored():
    meeting = make_meeting({TUE})
    wednesday = date(2026, 11, 25)
    changes = {wednesday: Change(day=wednesday, moved_to=hel(2026, 11, 26, 12))}
    found = occurrences(meeting, HEL, hel(2026, 11, 23), hel(2026, 11, 30), changes)
    assert [o.day for o in found] == [date(2026, 11, 24)]


def test_moved_occurrence_keeps_its_day_and_is_sorted_by_its_new_start():
    meeting = make_meeting({TUE, FRI}, duration=90)
    tuesday = date(2026, 11, 24)
    moved_to = hel(2026, 11, 28, 10)  # Saturday, after Friday's occurrence
    changes = {tuesday: Change(day=tuesday, moved_to=moved_to)}
    found = occurrences(meeting, HEL, hel(2026, 11, 23), hel(2026, 11, 30), changes)
    assert found == [
        Occurrence(1, date(2026, 11, 27), hel(2026, 11, 27, 9), hel(2026, 11, 27, 10, 30)),
        Occurrence(1, tuesday, moved_to, moved_to + timedelta(minutes=90), moved=True),
    ]


def test_moved_occurrence_is_found_though_its_own_day_is_out_of_range():
    meeting = make_meeting({TUE})
    tuesday = date(2026, 11, 3)
    moved_to = hel(2026, 11, 16, 14)  # 13 days later
    changes = {tuesday: Change(day=tuesday, moved_to=moved_to)}

    later = occurrences(meeting, HEL, hel(2026, 11, 15), hel(2026, 11, 17), changes)
    assert [(o.day, o.starts, o.moved) for o in later] == [(tuesday, moved_to, True)]
    # the range around its own day no longer has it
    assert occurrences(meeting, HEL, hel(2026, 11, 2), hel(2026, 11, 5), changes) == []


def test_occurrence_moved_back_in_time_is_found_before_its_own_day():
    meeting = make_meeting({TUE})
    tuesday = date(2026, 12, 1)
    moved_to = hel(2026, 11, 18, 12)  # 13 days earlier
    changes = {tuesday: Change(day=tuesday, moved_to=moved_to)}
    found = occurrences(meeting, HEL, hel(2026, 11, 18), hel(2026, 11, 19), changes)
    assert [(o.day, o.starts) for o in found] == [(tuesday, moved_to)]


def test_occurrence_moved_by_max_move_is_found():
    meeting = make_meeting({TUE})
    tuesday = date(2026, 11, 24)
    for moved_to in (hel(2026, 11, 10), hel(2026, 12, 8)):
        assert abs(moved_to - hel(2026, 11, 24)) == MAX_MOVE
        changes = {tuesday: Change(day=tuesday, moved_to=moved_to)}
        found = occurrences(meeting, HEL, moved_to, moved_to + timedelta(seconds=1), changes)
        assert [(o.day, o.starts) for o in found] == [(tuesday, moved_to)]


def test_occurrence_moved_out_of_the_range_is_not_in_it():
    meeting = make_meeting({TUE})
    tuesday = date(2026, 11, 24)
    changes = {tuesday: Change(day=tuesday, moved_to=hel(2026, 12, 2, 9))}
    assert occurrences(meeting, HEL, hel(2026, 11, 23), hel(2026, 11, 30), changes) == []


def test_a_year_with_changes_is_cheap():
    meeting = make_meeting(EVERY_DAY)
    found = occurrences(meeting, HEL, *year_range(2026))
    assert len(found) == 365


# --- reminders --------------------------------------------------------------------------------


def test_day_before_reminder_follows_the_local_clock_across_the_changes():
    meeting = make_meeting({MON}, offsets=(DAY_BEFORE_16,))
    found = reminders(meeting, HEL, occurrences(meeting, HEL, hel(2026, 3, 20), hel(2026, 4, 1)))
    # Sunday 2026-03-22 16:00 EET, Sunday 2026-03-29 (the change day) 16:00 EEST
    assert [r.at for r in found] == [utc(2026, 3, 22, 14), utc(2026, 3, 29, 13)]
    assert [r.occurrence.day for r in found] == [date(2026, 3, 23), date(2026, 3, 30)]

    found = reminders(meeting, HEL, occurrences(meeting, HEL, hel(2026, 10, 17), hel(2026, 11, 1)))
    assert [r.at for r in found] == [utc(2026, 10, 18, 13), utc(2026, 10, 25, 14)]
    assert all(r.at.astimezone(HEL).time() == time(16) for r in found)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 3, 26), date(2026, 4, 2)),
        (date(2026, 10, 22), date(2026, 10, 29)),
    ],
)
def test_15_minute_reminder_is_0845_on_both_sides_of_each_change(start, end):
    meeting = make_meeting(EVERY_DAY, offsets=(M15,))
    found = reminders(
        meeting,
        HEL,
        occurrences(meeting, HEL, local_start(start, time(0), HEL), hel(*end.timetuple()[:3])),
    )
    assert len(found) == 7
    assert {r.at.astimezone(HEL).time() for r in found} == {time(8, 45)}
    assert {r.at.utcoffset() for r in found} == {timedelta(0)}
    offsets_seen = {r.at.astimezone(HEL).utcoffset() for r in found}
    assert offsets_seen == {timedelta(hours=2), timedelta(hours=3)}
    assert all(r.last for r in found)


def test_reminders_of_a_moved_occurrence_follow_it():
    meeting = make_meeting({TUE})
    tuesday = date(2026, 11, 24)
    moved_to = hel(2026, 11, 26, 14)
    changes = {tuesday: Change(day=tuesday, moved_to=moved_to)}
    found = reminders_between(meeting, HEL, hel(2026, 11, 22), hel(2026, 11, 27), changes)
    assert [(r.at, r.offset, r.last) for r in found] == [
        (hel(2026, 11, 25, 16), DAY_BEFORE_16, False),
        (hel(2026, 11, 26, 13, 45), M15, True),
    ]
    assert {r.key for r in found} == {(1, tuesday, "1d16:00"), (1, tuesday, "15m")}


def test_last_is_the_reminder_closest_to_the_start_whatever_the_offset_order():
    for offsets in [(DAY_BEFORE_16, M15), (M15, DAY_BEFORE_16)]:
        meeting = make_meeting({MON}, offsets=offsets)
        found = reminders(
            meeting, HEL, occurrences(meeting, HEL, hel(2026, 11, 22), hel(2026, 11, 24))
        )
        assert [(r.offset, r.last) for r in found] == [(DAY_BEFORE_16, False), (M15, True)]


def test_tied_reminders_the_first_in_offset_order_is_last():
    same_time = (Offset(days=1, at=time(9)), Offset(minutes=24 * 60))
    for offsets in [same_time, same_time[::-1]]:
        meeting = make_meeting({MON}, offsets=offsets)
        found = reminders(
            meeting, HEL, occurrences(meeting, HEL, hel(2026, 11, 22), hel(2026, 11, 24))
        )
        assert [r.offset for r in found] == list(offsets)  # same time: offset order
        assert [r.last for r in found] == [True, False]
        assert found[0].at == found[1].at == hel(2026, 11, 22, 9)


def test_exactly_one_last_per_occurrence():
    offsets = (Offset(days=2, at=time(12)), DAY_BEFORE_16, Offset(minutes=120), M15)
    meeting = make_meeting({MON, WED}, offsets=offsets)
    found = reminders(meeting, HEL, occurrences(meeting, HEL, hel(2026, 11, 1), hel(2026, 12, 1)))
    assert len(found) == 4 * 9
    assert [r.at for r in found] == sorted(r.at for r in found)
    lasts = [r for r in found if r.last]
    assert len(lasts) == 9 and {r.offset for r in lasts} == {M15}
    # a Wednesday's 2-day reminder comes before the Monday 15 minute one it overlaps with
    assert found[:3] == sorted(found[:3], key=lambda r: r.at)


def test_a_reminder_after_the_start_is_dropped():
    meeting = make_meeting({MON}, offsets=(M15, Offset(minutes=-5)))
    found = reminders(meeting, HEL, occurrences(meeting, HEL, hel(2026, 11, 22), hel(2026, 11, 24)))
    assert [(r.offset, r.last) for r in found] == [(M15, True)]


def test_reminders_between_boundaries():
    meeting = make_meeting({MON}, offsets=(DAY_BEFORE_16, M15))
    sunday_16 = hel(2026, 11, 22, 16)
    monday_0845 = hel(2026, 11, 23, 8, 45)

    assert [r.at for r in reminders_between(meeting, HEL, sunday_16, monday_0845)] == [sunday_16]
    assert [
        r.at
        for r in reminders_between(meeting, HEL, sunday_16, monday_0845 + timedelta(microseconds=1))
    ] == [
        sunday_16,
        monday_0845,
    ]
    later = sunday_16 + timedelta(microseconds=1)
    assert [
        r.at for r in reminders_between(meeting, HEL, later, monday_0845 + timedelta(minutes=1))
    ] == [monday_0845]
    assert reminders_between(meeting, HEL, monday_0845, monday_0845) == []


def test_reminders_between_finds_reminders_of_occurrences_long_after_the_range():
    meeting = make_meeting({MON}, time(23, 30), offsets=(Offset(days=14, at=time(0, 0)),))
    # the Monday 2026-12-07 23:30 occurrence is reminded on Monday 2026-11-23 00:00
    found = reminders_between(meeting, HEL, hel(2026, 11, 23), hel(2026, 11, 23, 0, 1))
    assert [(r.occurrence.day, r.at) for r in found] == [(date(2026, 12, 7), hel(2026, 11, 23))]


def test_reminders_between_skips_cancelled_and_follows_moved_occurrences():
    meeting = make_meeting({MON}, offsets=(M15,))
    first, second = date(2026, 11, 23), date(2026, 11, 30)
    changes = {
        first: Change(day=first),
        second: Change(day=second, moved_to=hel(2026, 12, 10, 12)),
    }
    found = reminders_between(meeting, HEL, hel(2026, 11, 20), hel(2026, 12, 11), changes)
    assert [(r.occurrence.day, r.at) for r in found] == [
        (date(2026, 12, 7), hel(2026, 12, 7, 8, 45)),
        (second, hel(2026, 12, 10, 11, 45)),
    ]


def test_next_reminder():
    meeting = make_meeting({MON}, offsets=(DAY_BEFORE_16, M15))
    sunday_16 = hel(2026, 11, 22, 16)
    first = next_reminder(meeting, HEL, sunday_16)
    assert first is not None and first.at == sunday_16 and first.offset == DAY_BEFORE_16
    second = next_reminder(meeting, HEL, sunday_16 + timedelta(seconds=1))
    assert second is not None and second.at == hel(2026, 11, 23, 8, 45) and second.last
    third = next_reminder(meeting, HEL, hel(2026, 11, 23, 8, 46))
    assert third is not None and third.at == hel(2026, 11, 29, 16)


def test_next_reminder_beyond_the_first_look():
    meeting = make_meeting({MON}, offsets=(M15,))
    mondays = [date(2026, 11, 23) + timedelta(weeks=n) for n in range(10)]
    changes = {day: Change(day=day) for day in mondays}
    found = next_reminder(meeting, HEL, hel(2026, 11, 20), changes)
    assert found is not None and found.occurrence.day == date(2027, 2, 1)


def test_next_reminder_none_when_everything_is_cancelled():
    meeting = make_meeting({MON})
    mondays = [date(2026, 11, 23) + timedelta(weeks=n) for n in range(62)]
    changes = {day: Change(day=day) for day in mondays}
    assert next_reminder(meeting, HEL, hel(2026, 11, 20), changes) is None
    assert next_occurrence(meeting, HEL, hel(2026, 11, 20), changes) is None


def test_next_occurrence_in_progress_counts():
    meeting = make_meeting({MON, THU}, duration=60)
    monday_9 = hel(2026, 11, 23, 9)
    for after in (monday_9 - timedelta(days=2), monday_9, monday_9 + timedelta(minutes=59)):
        found = next_occurrence(meeting, HEL, after)
        assert found is not None and found.starts == monday_9
    found = next_occurrence(meeting, HEL, monday_9 + timedelta(minutes=60))
    assert found is not None and found.day == date(2026, 11, 26)


def test_next_occurrence_follows_a_move():
    meeting = make_meeting({MON})
    monday = date(2026, 11, 23)
    changes = {monday: Change(day=monday, moved_to=hel(2026, 11, 20, 12))}
    found = next_occurrence(meeting, HEL, hel(2026, 11, 19), changes)
    assert found is not None and found.day == monday and found.moved
    found = next_occurrence(meeting, HEL, hel(2026, 11, 21), changes)
    assert found is not None and found.day == date(2026, 11, 30)


def test_previous_occurrence():
    meeting = make_meeting({MON, THU})
    monday_9 = hel(2026, 11, 23, 9)
    found = previous_occurrence(meeting, HEL, monday_9)
    assert found is not None and found.day == date(2026, 11, 19)
    found = previous_occurrence(meeting, HEL, monday_9 + timedelta(microseconds=1))
    assert found is not None and found.day == date(2026, 11, 23)


def test_previous_occurrence_far_back_and_none():
    meeting = make_meeting({MON})
    mondays = [date(2026, 11, 16) - timedelta(weeks=n) for n in range(62)]
    assert (
        previous_occurrence(meeting, HEL, hel(2026, 11, 20), {d: Change(day=d) for d in mondays})
        is None
    )
    some = {d: Change(day=d) for d in mondays[:5]}
    found = previous_occurrence(meeting, HEL, hel(2026, 11, 20), some)
    assert found is not None and found.day == mondays[5]


# --- weekdays ---------------------------------------------------------------------------------


def test_weekdays_mask():
    assert weekdays_mask([]) == 0
    assert weekdays_mask([MON]) == 1
    assert weekdays_mask([TUE, FRI]) == 0b10010
    assert weekdays_mask(range(7)) == 127
    assert weekdays_from_mask(0b10010) == {TUE, FRI}
    assert weekdays_from_mask(0) == frozenset()
    for mask in (-1, 128):
        with pytest.raises(MeetingError) as error:
            weekdays_from_mask(mask)
        assert error.value.problem is MeetingProblem.WEEKDAYS
    for day in (-1, 7):
        with pytest.raises(MeetingError) as error:
            weekdays_mask([day])
        assert error.value.problem is MeetingProblem.WEEKDAYS


@given(st.frozensets(st.integers(0, 6)))
def test_weekdays_mask_round_trip(days):
    assert weekdays_from_mask(weekdays_mask(days)) == days


# --- parsers ----------------------------------------------------------------------------------


def refused(problem: MeetingProblem, parse, *args) -> None:
    with pytest.raises(MeetingError) as error:
        parse(*args)
    assert error.value.problem is problem


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Palaveri", "Palaveri"),
        ("  Viikko   palaveri \n", "Viikko palaveri"),
        ("x" * 100, "x" * 100),
    ],
)
def test_parse_title_accepts(text, title):
    assert parse_title(text) == title


@pytest.mark.parametrize("text", ["", "   ", "\n", "x" * 101])
def test_parse_title_refuses(text):
    refused(MeetingProblem.TITLE, parse_title, text)


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("9", time(9)),
        ("09", time(9)),
        ("18", time(18)),
        ("0", time(0)),
        ("9.00", time(9)),
        ("9:00", time(9)),
        ("09.30", time(9, 30)),
        ("9:30", time(9, 30)),
        ("23:59", time(23, 59)),
        (" 14.15 ", time(14, 15)),
        ("klo 9.30", time(9, 30)),
        ("Klo 9", time(9)),
        ("kl. 9:30", time(9, 30)),
        ("at 9:30", time(9, 30)),
    ],
)
def test_parse_clock_accepts(text, clock):
    assert parse_clock(text) == clock


@pytest.mark.parametrize(
    "text",
    [
        "25:00",
        "24:00",
        "9:75",
        "nine",
        "",
        "9:5",
        "0930",
        "930",
        "9:30:00",
        "9 30",
        "-1",
        "klo",
        "9.",
        "٩",
    ],
)
def test_parse_clock_refuses(text):
    refused(MeetingProblem.TIME, parse_clock, text)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("60", 60),
        ("5", 5),
        ("90 min", 90),
        ("45min", 45),
        ("45 minuuttia", 45),
        ("1h", 60),
        ("1 h", 60),
        ("1,5 h", 90),
        ("1.5h", 90),
        ("1:30", 90),
        ("0:05", 5),
        ("2 t", 120),
        ("2 tuntia", 120),
        ("1 tim", 60),
        ("1 H", 60),
        ("1h30", 90),
        ("1 h 30 min", 90),
        ("12h", 720),
        ("720", 720),
    ],
)
def test_parse_duration_accepts(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    "text",
    [
        "",
        "4",
        "0",
        "721",
        "13h",
        "12:01",
        "1:60",
        "1.30",
        "1,33 h",
        "tunti",
        "1 day",
        "-30",
        "1,5 h 30",
    ],
)
def test_parse_duration_refuses(text):
    refused(MeetingProblem.DURATION, parse_duration, text)


@pytest.mark.parametrize(
    ("text", "link"),
    [
        (
            "https://teams.microsoft.com/l/meetup-join/19%3a",
            "https://teams.microsoft.com/l/meetup-join/19%3a",
        ),
        ("  http://example.fi  ", "http://example.fi"),
        ("www.example.fi", "https://www.example.fi"),
        ("teams.microsoft.com/l/x", "https://teams.microsoft.com/l/x"),
        ("meet.google.com", "https://meet.google.com"),
        ("example.com:8443/room", "https://example.com:8443/room"),
        ("https://zoom.us/j/123?pwd=abc#x", "https://zoom.us/j/123?pwd=abc#x"),
        ("https://" + "a" * 980 + ".fi", "https://" + "a" * 980 + ".fi"),
    ],
)
def test_parse_link_accepts(text, link):
    assert parse_link(text) == link


@pytest.mark.parametrize(
    "text",
    [
        "",
        "teams",
        "htp://x.fi",
        "https://",
        "javascript:alert(1)",
        "javascript:alert(document.cookie)",
        "ftp://a.fi/x",
        "https://exa mple.com",
        "https://localhost/",
        "mailto:a@example.fi",
        "https:example.fi",
        "https://example.fi:port/",
        "https://teams.microsoft.com@evil.example/",
        "https://example.fi/\u200bx",
        "https://example.fi/\x07",
        "https://" + "a" * 990 + ".fi",
        "https://.fi",
    ],
)
def test_parse_link_refuses(text):
    refused(MeetingProblem.LINK, parse_link, text)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Kirkkokatu 5, Kuopio", "Kirkkokatu 5, Kuopio"),
        ("  Kerhohuone  ", "Kerhohuone"),
        ("x" * 200, "x" * 200),
    ],
)
def test_parse_place_accepts(text, place):
    assert parse_place(text) == place


@pytest.mark.parametrize("text", ["", "  ", "x" * 201])
def test_parse_place_refuses(text):
    refused(MeetingProblem.PLACE, parse_place, text)


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("https://teams.microsoft.com/x", True),
        ("http://x", True),
        ("HTTPS://X.FI", True),
        ("www.example.fi", True),
        ("htp://x.fi", True),
        ("teams.microsoft.com/l/x", True),
        ("Kirkkokatu 5", False),
        ("Kerhohuone 2. krs", False),
        ("Kirkkokatu 5 A/3", False),
        ("example.fi", False),
        ("teams", False),
        ("", False),
    ],
)
def test_looks_like_link(text, link):
    assert looks_like_link(text) is link


D1_16 = Offset(days=1, at=time(16))


@pytest.mark.parametrize(
    ("text", "offsets"),
    [
        ("15m", (M15,)),
        ("15 min", (M15,)),
        ("2h", (Offset(minutes=120),)),
        ("1d16:00", (D1_16,)),
        ("1d 16:00", (D1_16,)),
        ("1d@16:00", (D1_16,)),
        ("1 d 16.00", (D1_16,)),
        ("1d klo 16", (D1_16,)),
        ("2d9:00", (Offset(days=2, at=time(9)),)),
        ("1d16:00, 15m", (D1_16, M15)),
        ("15m,1d16:00", (D1_16, M15)),
        ("15m; 1d 16:00", (D1_16, M15)),
        ("15m 1d16:00 2h", (D1_16, Offset(minutes=120), M15)),
        ("15m, 15 min, 15m", (M15,)),
        ("2h, 120m", (Offset(minutes=120),)),
        ("1m", (Offset(minutes=1),)),
        ("10080m", (Offset(minutes=10080),)),
        ("14d0:00", (Offset(days=14, at=time(0)),)),
        (
            "1d16:00 1d9:00 3d12:00 60m 5m",
            (
                Offset(days=3, at=time(12)),
                Offset(days=1, at=time(9)),
                D1_16,
                Offset(minutes=60),
                Offset(minutes=5),
            ),
        ),
        (" ,15M, ", (M15,)),
    ],
)
def test_parse_offsets_accepts(text, offsets):
    assert parse_offsets(text) == offsets


@pytest.mark.parametrize(
    "text",
    [
        "",
        " , ",
        "15",
        "0m",
        "10081m",
        "1d",
        "0d16:00",
        "15d16:00",
        "1d25:00",
        "1d16:75",
        "1d 15m",
        "1,5h",
        "15x",
        "15m30",
        "soon",
        "1m 2m 3m 4m 5m 6m",
    ],
)
def test_parse_offsets_refuses(text):
    refused(MeetingProblem.OFFSETS, parse_offsets, text)


def test_format_offsets():
    assert format_offsets(DEFAULT_OFFSETS) == "1d16:00, 15m"
    assert format_offsets([Offset(days=2, at=time(9, 5)), Offset(minutes=120)]) == "2d09:05, 120m"
    assert parse_offsets(format_offsets(DEFAULT_OFFSETS)) == DEFAULT_OFFSETS


def offset_order(offset: Offset) -> tuple:
    if offset.days:
        return (0, -offset.days, offset.at)
    return (1, -offset.minutes)


offset_values = st.one_of(
    st.builds(Offset, minutes=st.integers(1, 10080)),
    st.builds(
        Offset,
        days=st.integers(1, 14),
        at=st.builds(time, st.integers(0, 23), st.integers(0, 59)),
    ),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(offset_values, min_size=1, max_size=5, unique=True))
def test_offsets_round_trip(offsets):
    parsed = parse_offsets(format_offsets(offsets))
    assert parsed == tuple(sorted(offsets, key=offset_order))
    assert parse_offsets(format_offsets(parsed)) == parsed


NOW = hel(2026, 11, 20, 12)
THURSDAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "moved_to"),
    [
        ("26.11. 14:00", hel(2026, 11, 26, 14)),
        ("26.11.2026 14.00", hel(2026, 11, 26, 14)),
        ("26.11 14", hel(2026, 11, 26, 14)),
        ("27.11. klo 9.30", hel(2026, 11, 27, 9, 30)),
        ("14:30", hel(2026, 11, 26, 14, 30)),
        ("klo 8", hel(2026, 11, 26, 8)),
        ("20.11. 12:01", hel(2026, 11, 20, 12, 1)),
        ("10.12. 0:00", hel(2026, 12, 10)),  # exactly MAX_MOVE after the day's midnight
        ("1.12.2026 10", hel(2026, 12, 1, 10)),
    ],
)
def test_parse_move_accepts(text, moved_to):
    moved = parse_move(text, HEL, THURSDAY, NOW)
    assert moved == moved_to and moved.tzinfo is UTC


def test_parse_move_year_closest_to_the_occurrence():
    december = date(2026, 12, 29)
    assert parse_move("2.1. 10", HEL, december, NOW) == hel(2027, 1, 2, 10)
    january = date(2027, 1, 4)
    assert parse_move("30.12. 10", HEL, january, NOW) == hel(2026, 12, 30, 10)


def test_parse_move_in_the_spring_gap():
    sunday = date(2026, 3, 29)
    moved = parse_move("29.3. 3:30", HEL, sunday, utc(2026, 3, 1))
    assert moved == utc(2026, 3, 29, 1, 30)


def test_parse_move_far_in_the_past_direction():
    assert parse_move("12.11. 0:00", HEL, THURSDAY, hel(2026, 11, 1)) == hel(2026, 11, 12)
    refused(MeetingProblem.MOVE_FAR, parse_move, "11.11. 23:59", HEL, THURSDAY, hel(2026, 11, 1))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", MeetingProblem.MOVE_FORMAT),
        ("huomenna", MeetingProblem.MOVE_FORMAT),
        ("26.11.", MeetingProblem.MOVE_FORMAT),
        ("26.11.14:00", MeetingProblem.MOVE_FORMAT),
        ("31.11. 10", MeetingProblem.MOVE_FORMAT),
        ("26.13. 10", MeetingProblem.MOVE_FORMAT),
        ("26.11. 25:00", MeetingProblem.MOVE_FORMAT),
        ("26.11. 9:5", MeetingProblem.MOVE_FORMAT),
        ("2026-11-26 10:00", MeetingProblem.MOVE_FORMAT),
        ("20.11. 12:00", MeetingProblem.MOVE_PAST),
        ("20.11. 11", MeetingProblem.MOVE_PAST),
        ("1.11.2026 10", MeetingProblem.MOVE_PAST),
        ("10.12. 0:01", MeetingProblem.MOVE_FAR),
        ("11.12. 10", MeetingProblem.MOVE_FAR),
        ("1.1. 10", MeetingProblem.MOVE_FAR),
        ("26.11.2027 10", MeetingProblem.MOVE_FAR),
    ],
)
def test_parse_move_refuses(text, problem):
    refused(problem, parse_move, text, HEL, THURSDAY, NOW)


# --- properties -------------------------------------------------------------------------------

ZONES = [
    ZoneInfo(name) for name in ("Europe/Helsinki", "America/New_York", "Australia/Sydney", "UTC")
]
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def naive_exists(day: date, at: time, zone: ZoneInfo) -> bool:
    naive = datetime.combine(day, at)
    for fold in (0, 1):
        aware = naive.replace(tzinfo=zone, fold=fold)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
            return True
    return False


@settings(max_examples=100, deadline=None)
@given(
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    at=st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59])),
    zone=st.sampled_from(ZONES),
    start_minutes=st.integers(0, 15 * 365 * 24 * 60),
    length_minutes=st.integers(0, 60 * 24 * 60),
)
def test_occurrences_keep_the_wall_clock(weekdays, at, zone, start_minutes, length_minutes):
    meeting = make_meeting(weekdays, at, offsets=(Offset(days=1, at=time(18)), M15))
    start = EPOCH + timedelta(minutes=start_minutes)
    end = start + timedelta(minutes=length_minutes)
    found = occurrences(meeting, zone, start, end)

    starts = [o.starts for o in found]
    assert starts == sorted(starts)
    assert len({o.day for o in found}) == len(found) == len(set(starts))
    for occurrence in found:
        assert start <= occurrence.starts < end
        assert occurrence.day.weekday() in weekdays
        local = occurrence.starts.astimezone(zone)
        assert local.date() == occurrence.day
        wall = datetime.combine(occurrence.day, at)
        if naive_exists(occurrence.day, at, zone):
            assert local.replace(tzinfo=None) == wall
            assert local.fold == 0  # the first of an ambiguous time
        else:  # in a gap: later by the gap
            before = (occurrence.starts - timedelta(hours=6)).astimezone(zone).utcoffset()
            gap = local.utcoffset() - before
            assert gap > timedelta(0)
            assert local.replace(tzinfo=None) == wall + gap
    # every weekday strictly inside the range is there
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    inside = [first + timedelta(days=n) for n in range(1, (last - first).days)]
    expected = {day for day in inside if day.weekday() in weekdays}
    assert expected <= {o.day for o in found}

    found_reminders = reminders(meeting, zone, found)
    assert len(found_reminders) == 2 * len(found)
    assert [r.at for r in found_reminders] == sorted(r.at for r in found_reminders)
    assert sum(r.last for r in found_reminders) == len(found)
    for reminder in found_reminders:
        assert reminder.at < reminder.occurrence.starts
        assert reminder.last == (reminder.offset == M15)
        if reminder.offset == M15:
            assert reminder.occurrence.starts - reminder.at == timedelta(minutes=15)


@settings(max_examples=50, deadline=None)
@given(
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    zone=st.sampled_from(ZONES),
    after_minutes=st.integers(0, 15 * 365 * 24 * 60),
)
def test_next_and_previous_agree_with_occurrences(weekdays, zone, after_minutes):
    meeting = make_meeting(weekdays, time(10, 30), duration=90)
    after = EPOCH + timedelta(minutes=after_minutes)
    around = occurrences(meeting, zone, after - timedelta(days=9), after + timedelta(days=9))

    following = next_occurrence(meeting, zone, after)
    assert following == next(o for o in around if o.ends > after)
    preceding = previous_occurrence(meeting, zone, after)
    assert preceding == [o for o in around if o.starts < after][-1]

    reminder = next_reminder(meeting, zone, after)
    window = reminders_between(meeting, zone, after, after + timedelta(days=9))
    assert reminder == window[0]
