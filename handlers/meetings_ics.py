"""A coordination meeting as an iCalendar (.ics) file people can add to their own calendars.

The meeting is one recurring VEVENT (`RRULE:FREQ=WEEKLY;BYDAY=...`) whose start carries the
configured zone's TZID, so 09:00 stays 09:00 local across the clock changes; the zone itself is
described by a VTIMEZONE. A cancelled occurrence is an EXDATE, a moved one a second VEVENT with the
same UID and a RECURRENCE-ID naming the occurrence's original start. Re-importing a newer file
updates the same calendar entry: the UID is stable and SEQUENCE grows with every edit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from bot.domain.meetings import Change, Meeting

__all__ = ["PRODID", "ics_filename", "meeting_ics"]

PRODID = "-//Apuri//Apuri meetings//EN"

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = date.weekday()
_TIMEZONE_YEARS = 20  # the VTIMEZONE lists the zone's transitions this far past the first start
_FILENAME_LIMIT = 40
_FALLBACK_FILENAME = "meeting.ics"


def meeting_ics(
    meeting: Meeting,
    changes: Mapping[date, Change],
    zone: ZoneInfo,
    *,
    description: str,
    now: datetime,
) -> bytes:
    """Return the meeting, its cancelled and its moved occurrences as an .ics file.

    `changes` are the meeting's changed occurrences by original local date; changes of days the
    rule does not produce (another weekday, or before the first occurrence) are left out, since
    a calendar cannot cancel or move an occurrence that does not exist. `description` is plain
    text shown in the event's notes; `now` (aware) is the file's DTSTAMP. A paused meeting is
    rendered like any other: the caller does not offer the file for one.
    """
    spec = meeting.spec
    first = _first_start(meeting, zone)
    sequence = _sequence(meeting)
    stamp = _utc(now)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(_timezone(zone, first))

    series = _event(meeting, first, stamp, sequence, description)
    series.add("rrule", {"FREQ": "WEEKLY", "BYDAY": [_WEEKDAYS[d] for d in sorted(spec.weekdays)]})
    kept = sorted(
        (c for c in changes.values() if _is_occurrence(c.day, meeting, first)),
        key=lambda c: c.day,
    )
    cancelled = [_local_start(c.day, meeting, zone) for c in kept if c.cancelled]
    if cancelled:
        series.add("exdate", cancelled)
    calendar.add_component(series)

    for change in kept:
        if change.moved_to is None:
            continue
        start = _utc(change.moved_to).astimezone(zone)
        moved = _event(meeting, start, stamp, sequence, description)
        moved.add("recurrence-id", _local_start(change.day, meeting, zone))
        calendar.add_component(moved)
    return calendar.to_ical()


def ics_filename(title: str) -> str:
    """Return a safe file name for the meeting's .ics file, e.g. `koordinaatio-ti-pe.ics`.

    Letters are folded to ASCII (ä → a, ö → o, å → a), everything else but digits becomes a
    hyphen, and the whole name is at most 40 characters; `meeting.ics` if nothing is left.
    """
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    stem = stem[: _FILENAME_LIMIT - len(".ics")].rstrip("-")
    return f"{stem}.ics" if stem else _FALLBACK_FILENAME


def _event(
    meeting: Meeting, start: datetime, stamp: datetime, sequence: int, description: str
) -> Event:
    """Return a VEVENT with the meeting's identity, title, place and link, starting at `start`."""
    spec = meeting.spec
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@apuri")
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    event.add("summary", spec.title)
    event.add("dtstart", start)
    event.add("duration", meeting.duration)
    location = spec.place or spec.link
    if location:
        event.add("location", location)
    if spec.link:
        event.add("url", spec.link)
    if description:
        event.add("description", description)
    return event


def _first_start(meeting: Meeting, zone: ZoneInfo) -> datetime:
    """Return the first occurrence's local start, on or after the local day of creation."""
    created = _utc(meeting.created_at).astimezone(zone).date()
    weekdays = meeting.spec.weekdays
    day = next(
        created + timedelta(days=n) for n in range(7) if (created.weekday() + n) % 7 in weekdays
    )
    return _local_start(day, meeting, zone)


def _local_start(day: date, meeting: Meeting, zone: ZoneInfo) -> datetime:
    """Return the local wall-clock start of the occurrence of `day`, in `zone`."""
    return datetime.combine(day, meeting.spec.start, tzinfo=zone)


def _is_occurrence(day: date, meeting: Meeting, first: datetime) -> bool:
    """Return whether the rule produces an occurrence on `day`."""
    return day >= first.date() and day.weekday() in meeting.spec.weekdays


def _sequence(meeting: Meeting) -> int:
    """Return the whole minutes from creation to the last edit: it grows on every edit."""
    elapsed = _utc(meeting.updated_at) - _utc(meeting.created_at)
    return max(0, int(elapsed.total_seconds()) // 60)


def _timezone(zone: ZoneInfo, first: datetime) -> Timezone:
    """Return the VTIMEZONE of `zone`, from the year before the first start on."""
    return Timezone.from_tzinfo(
        zone,
        tzid=zone.key,
        first_date=date(first.year - 1, 1, 1),
        last_date=date(first.year + _TIMEZONE_YEARS, 1, 1),
    )


def _utc(moment: datetime) -> datetime:
    """Return `moment` in UTC; a naive time is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
