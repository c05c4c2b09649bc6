"""A meeting as an .ics file: parsed back with icalendar, property by property."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from bot.domain.meetings import Audience, AudienceKind, Change, Meeting, MeetingSpec
from handlers.meetings_ics import PRODID, ics_filename, meeting_ics

ZONE = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CREATED = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki
LINK = "https://meet.example/apuri?room=1,2;x"


def make_meeting(
    *,
    title: str = "Koordinaatio ti & pe",
    weekdays: frozenset[int] = frozenset({1, 4}),  # Tuesday and Friday
    link: str | None = LINK,
    place: str | None = None,
    created_at: datetime = CREATED,
    updated_at: datetime | None = None,
    meeting_id: int = 7,
) -> Meeting:
    spec = MeetingSpec(
        title=title,
        weekdays=weekdays,
        start=time(9, 0),
        duration_minutes=45,
        link=link,
        place=place,
        audience=Audience(AudienceKind.GROUP, chat_id=-1001),
    )
    return Meeting(
        id=meeting_id,
        spec=spec,
        created_by=1,
        created_at=created_at,
        updated_at=updated_at or created_at,
    )


def render(
    meeting: Meeting,
    changes: dict[date, Change] | None = None,
    *,
    description: str = "Esityslista: kuulumiset",
    now: datetime = NOW,
) -> Calendar:
    raw = meeting_ics(meeting, changes or {}, ZONE, description=description, now=now)
    assert isinstance(raw, bytes)
    return Calendar.from_ical(raw)


def events(calendar: Calendar) -> list[Event]:
    return list(calendar.walk("VEVENT"))


def series(calendar: Calendar) -> Event:
    (event,) = [e for e in events(calendar) if "RECURRENCE-ID" not in e]
    return event


def overrides(calendar: Calendar) -> list[Event]:
    return [e for e in events(calendar) if "RECURRENCE-ID" in e]


def exdates_of(event: Event) -> list[datetime]:
    """The EXDATE values of the event, however many EXDATE lines carry them."""
    found = event.get("EXDATE")
    if found is None:
        return []
    lines = found if isinstance(found, list) else [found]
    values = [value.dt for line in lines for value in line.dts]
    assert values == list(event.exdates)  # icalendar's own reading agrees
    return values


def local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def test_calendar_header() -> None:
    calendar = render(make_meeting())
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == PRODID == "-//Apuri//Apuri meetings//EN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert calendar.get_missing_tzids() == set()


def test_series_event_properties() -> None:
    calendar = render(make_meeting(updated_at=CREATED + timedelta(minutes=12, seconds=59)))
    event = series(calendar)
    assert str(event["UID"]) == "meeting-7@apuri"
    assert event.decoded("DTSTAMP") == NOW
    assert event["DTSTAMP"].to_ical().endswith(b"Z")
    assert event.decoded("SEQUENCE") == 12  # whole minutes from creation to the last edit
    assert str(event["SUMMARY"]) == "Koordinaatio ti & pe"
    assert event.decoded("DURATION") == timedelta(minutes=45)
    assert str(event["LOCATION"]) == LINK  # no place: the link is where
    assert str(event["URL"]) == LINK
    assert str(event["DESCRIPTION"]) == "Esityslista: kuulumiset"
    assert "EXDATE" not in event
    assert overrides(calendar) == []


def test_dtstart_is_first_occurrence_at_local_nine_with_tzid() -> None:
    event = series(render(make_meeting()))
    start = event["DTSTART"]
    assert start.params["TZID"] == "Europe/Helsinki"
    assert start.to_ical() == b"20260106T090000"  # Tuesday after a Monday creation
    assert event.decoded("DTSTART") == local(date(2026, 1, 6))
    assert event.decoded("DTSTART").utcoffset() == timedelta(hours=2)


def test_first_occurrence_counts_from_the_local_date_of_creation() -> None:
    # 23:30 UTC on Monday is already Tuesday 01:30 in Helsinki: Tuesday is the first day.
    late = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    event = series(render(make_meeting(created_at=late)))
    assert event.decoded("DTSTART") == local(date(2026, 1, 6))
    # Created on Saturday: the first Tuesday or Friday is the next Tuesday.
    saturday = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    event = series(render(make_meeting(created_at=saturday)))
    assert event.decoded("DTSTART") == local(date(2026, 1, 13))
    # Created on a meeting day after its start time: that day is still the first occurrence.
    friday_evening = datetime(2026, 1, 9, 18, 0, tzinfo=UTC)
    event = series(render(make_meeting(created_at=friday_evening)))
    assert event.decoded("DTSTART") == local(date(2026, 1, 9))


def test_rrule_byday_in_weekday_order() -> None:
    event = series(render(make_meeting(weekdays=frozenset({4, 0, 2}))))
    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    assert rule["BYDAY"] == ["MO", "WE", "FR"]
    assert rule.to_ical() == b"FREQ=WEEKLY;BYDAY=MO,WE,FR"
    assert "UNTIL" not in rule
    assert "COUNT" not in rule


def test_place_is_the_location_and_no_link_means_no_url() -> None:
    event = series(render(make_meeting(link=None, place="Kerhohuone, Kotikatu 3")))
    assert str(event["LOCATION"]) == "Kerhohuone, Kotikatu 3"
    assert "URL" not in event
    both = series(render(make_meeting(place="Kerhohuone")))
    assert str(both["LOCATION"]) == "Kerhohuone"
    assert str(both["URL"]) == LINK


def test_empty_description_is_left_out() -> None:
    assert "DESCRIPTION" not in series(render(make_meeting(), description=""))


def test_cancelled_occurrences_are_exdates_at_original_local_start() -> None:
    changes = {
        date(2026, 1, 9): Change(date(2026, 1, 9)),
        date(2026, 4, 3): Change(date(2026, 4, 3)),  # summer time
    }
    raw = meeting_ics(make_meeting(), changes, ZONE, description="", now=NOW)
    assert b"EXDATE;TZID=Europe/Helsinki:20260109T090000,20260403T090000" in raw
    event = series(Calendar.from_ical(raw))
    exdates = exdates_of(event)
    assert exdates == [local(date(2026, 1, 9)), local(date(2026, 4, 3))]
    assert [d.utcoffset() for d in exdates] == [timedelta(hours=2), timedelta(hours=3)]
    assert overrides(Calendar.from_ical(raw)) == []


def test_moved_occurrence_is_an_override_event() -> None:
    moved_to = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # Wednesday 14:00 in Helsinki
    meeting = make_meeting(place="Kerhohuone", updated_at=CREATED + timedelta(minutes=3))
    changes = {
        date(2026, 1, 13): Change(date(2026, 1, 13), moved_to=moved_to),
        date(2026, 1, 9): Change(date(2026, 1, 9)),
    }
    calendar = render(meeting, changes)
    main = series(calendar)
    (moved,) = overrides(calendar)
    assert str(moved["UID"]) == str(main["UID"]) == "meeting-7@apuri"
    assert moved["RECURRENCE-ID"].params["TZID"] == "Europe/Helsinki"
    assert moved.decoded("RECURRENCE-ID") == local(date(2026, 1, 13))
    assert moved["DTSTART"].params["TZID"] == "Europe/Helsinki"
    assert moved.decoded("DTSTART") == local(date(2026, 1, 14), 14)
    assert moved.decoded("DTSTART") == moved_to
    assert moved.decoded("DURATION") == timedelta(minutes=45)
    assert moved.decoded("DTSTAMP") == NOW
    for name in ("SUMMARY", "LOCATION", "URL", "SEQUENCE", "DESCRIPTION"):
        assert moved[name] == main[name], name
    assert moved.decoded("SEQUENCE") == 3
    assert "RRULE" not in moved
    # The moved occurrence is not excluded: the override replaces it.
    exdates = exdates_of(main)
    assert exdates == [local(date(2026, 1, 9))]


def test_changes_of_days_the_rule_does_not_produce_are_left_out() -> None:
    changes = {
        date(2026, 1, 7): Change(date(2026, 1, 7)),  # a Wednesday
        date(2026, 1, 2): Change(date(2026, 1, 2)),  # a Friday before the first occurrence
        date(2026, 1, 8): Change(date(2026, 1, 8), datetime(2026, 1, 8, 10, tzinfo=UTC)),
    }
    calendar = render(make_meeting(), changes)
    assert "EXDATE" not in series(calendar)
    assert overrides(calendar) == []


def test_uid_is_stable_and_sequence_grows_with_edits() -> None:
    first = series(render(make_meeting()))
    edited = make_meeting(updated_at=CREATED + timedelta(hours=2))
    later = series(render(edited, now=NOW + timedelta(days=3)))
    other = series(render(make_meeting(meeting_id=8)))
    assert first["UID"] == later["UID"] == "meeting-7@apuri"
    assert other["UID"] == "meeting-8@apuri"
    assert first.decoded("SEQUENCE") == 0
    assert later.decoded("SEQUENCE") == 120
    assert later.decoded("DTSTAMP") == NOW + timedelta(days=3)


def test_text_is_escaped_and_folded_safely() -> None:
    title = "Kokous, tärkeä; åäö\nrivi 2 🎉 " + "pitkä otsikko " * 4
    description = "Agenda; 1, 2\nLinkki: https://x.example/?a=1,2 — 👍"
    meeting = make_meeting(title=title, place="Sali 3, 2. krs; ovi B")
    raw = meeting_ics(meeting, {}, ZONE, description=description, now=NOW)
    assert b"SUMMARY:Kokous\\, t\xc3\xa4rke\xc3\xa4\\; \xc3\xa5\xc3\xa4\xc3\xb6\\nrivi 2" in raw
    assert b"LOCATION:Sali 3\\, 2. krs\\; ovi B" in raw
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75  # folded at 75 octets
        line.decode("utf-8")  # never inside a multi-byte character
    event = series(Calendar.from_ical(raw))
    assert str(event["SUMMARY"]) == title
    assert str(event["DESCRIPTION"]) == description
    assert str(event["LOCATION"]) == "Sali 3, 2. krs; ovi B"


def test_vtimezone_has_both_helsinki_offsets() -> None:
    calendar = render(make_meeting())
    (timezone,) = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Helsinki"
    daylight = list(timezone.walk("DAYLIGHT"))
    standard = list(timezone.walk("STANDARD"))
    assert daylight
    assert standard
    assert {c["TZOFFSETTO"].to_ical() for c in daylight} == {"+0300"}
    assert "+0200" in {c["TZOFFSETTO"].to_ical() for c in standard}
    assert {c["TZOFFSETFROM"].to_ical() for c in daylight} == {"+0200"}
    # The zone the file describes is the one the events use, before and after 2026's changes.
    tz = timezone.to_tz()
    assert datetime(2026, 1, 6, 9, tzinfo=tz).utcoffset() == timedelta(hours=2)
    assert datetime(2026, 7, 7, 9, tzinfo=tz).utcoffset() == timedelta(hours=3)
    assert datetime(2026, 11, 3, 9, tzinfo=tz).utcoffset() == timedelta(hours=2)


def expand_2026(event: Event) -> list[datetime]:
    """Every occurrence of the series in 2026, by dateutil if installed, else by hand."""
    start: datetime = event.decoded("DTSTART")
    end = datetime(2027, 1, 1, tzinfo=ZONE)
    try:
        from dateutil.rrule import rrulestr
    except ImportError:
        codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        weekdays = {codes.index(code) for code in event["RRULE"]["BYDAY"]}
        days = (start.date() + timedelta(days=n) for n in range((end.date() - start.date()).days))
        return [local(d, start.hour, start.minute) for d in days if d.weekday() in weekdays]
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    return list(rule.between(start, end, inc=True))


def test_rule_expands_to_nine_local_in_winter_and_summer() -> None:
    occurrences = expand_2026(series(render(make_meeting())))
    assert occurrences[0] == local(date(2026, 1, 6))
    assert len(occurrences) == 103  # 52 Tuesdays from Jan 6 and 51 Fridays from Jan 9
    assert {(o.hour, o.minute) for o in occurrences} == {(9, 0)}
    winter = next(o for o in occurrences if o.date() == date(2026, 2, 3))
    summer = next(o for o in occurrences if o.date() == date(2026, 7, 10))
    assert winter.astimezone(UTC).time() == time(7, 0)
    assert summer.astimezone(UTC).time() == time(6, 0)


def test_naive_now_is_taken_as_utc() -> None:
    event = series(render(make_meeting(), now=datetime(2026, 1, 5, 12, 0)))
    assert event.decoded("DTSTAMP") == NOW


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Koordinaatio ti & pe", "koordinaatio-ti-pe.ics"),
        ("Äänestys ja työnjako", "aanestys-ja-tyonjako.ics"),
        ("Åland-kokous", "aland-kokous.ics"),
        ("  --Viikko 12!!--  ", "viikko-12.ics"),
        ("🎉🎉", "meeting.ics"),
        ("", "meeting.ics"),
        ("Ääää", "aaaa.ics"),
        ("a" * 60, "a" * 36 + ".ics"),
        (
            "Viikkopalaveri koordinaattoreille ja vapaaehtoisille",
            "viikkopalaveri-koordinaattoreille-ja.ics",
        ),
    ],
)
def test_ics_filename(title: str, expected: str) -> None:
    name = ics_filename(title)
    assert name == expected
    assert len(name) <= 40
    assert name.endswith(".ics")
    assert set(name.removesuffix(".ics")) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
