"""When meetings happen and when their reminders go out, and reading what coordinators type.

A meeting recurs on weekdays at a local wall-clock time in the configured zone: 09:00 stays 09:00
across the clock changes, so its UTC instant moves by an hour twice a year. A wall-clock time that
does not exist (the spring gap) is shifted forward by the gap; one that occurs twice (autumn) means
the first. Everything returned is aware and in UTC.

The parsers read a meeting's fields as typed (`9.30`, `1,5 h`, `1d16:00, 15m`, `26.11. 14:00`)
and raise `MeetingError` naming the rule that was broken.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import MappingProxyType
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.domain.meetings import (
    MAX_MOVE,
    Change,
    Meeting,
    MeetingError,
    MeetingProblem,
    Occurrence,
    Offset,
    Reminder,
)

__all__ = [
    "format_offsets",
    "local_start",
    "looks_like_link",
    "next_occurrence",
    "next_reminder",
    "occurrences",
    "parse_clock",
    "parse_duration",
    "parse_link",
    "parse_move",
    "parse_offsets",
    "parse_place",
    "parse_title",
    "previous_occurrence",
    "reminders",
    "reminders_between",
    "weekdays_from_mask",
    "weekdays_mask",
]


TITLE_MAX = 100
PLACE_MAX = 200
LINK_MAX = 1000
DURATION_MIN, DURATION_MAX = 5, 720
OFFSET_MINUTES_MAX = 10080  # a week
OFFSET_DAYS_MAX = 14
OFFSETS_MAX = 5

_NO_CHANGES: Mapping[date, Change] = MappingProxyType({})
_LOOK = timedelta(days=400)  # how far next_/previous_ look
_SHORT_LOOK = timedelta(days=16)  # tried first: almost always enough
_DAY = timedelta(days=1)


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")
    return moment.astimezone(UTC)


# --- recurrence -----------------------------------------------------------------------------------


def local_start(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of wall-clock `at` on local `day` in `zone`.

    A time in the spring gap is shifted forward by the gap (03:30 → 04:30 when 03:00 jumps to
    04:00); an ambiguous autumn time means the first of the two (fold=0).
    """
    wall = at.replace(tzinfo=None, fold=0)
    # PEP 495: with fold=0 a time in a gap takes the offset from before the transition, which is
    # exactly "shifted forward by the gap"; an ambiguous time takes the earlier instant.
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def occurrences(
    meeting: Meeting,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    changes: Mapping[date, Change] = _NO_CHANGES,
) -> list[Occurrence]:
    """Return the occurrences whose (possibly moved) start is in [start, end), sorted by start.

    Cancelled occurrences are left out; a moved one is found even when its own day is outside the
    range (as long as it was moved at most `MAX_MOVE`). Paused meetings still have occurrences.
    """
    start, end = _utc(start, "start"), _utc(end, "end")
    if start >= end:
        return []
    weekdays = meeting.spec.weekdays
    duration = meeting.duration
    first = start.astimezone(zone).date() - MAX_MOVE
    last = end.astimezone(zone).date() + MAX_MOVE
    found: list[Occurrence] = []
    for index in range((last - first).days + 1):
        day = first + timedelta(days=index)
        if day.weekday() not in weekdays:
            continue
        change = changes.get(day)
        if change is None:
            starts, moved = local_start(day, meeting.spec.start, zone), False
        elif change.moved_to is None:  # cancelled
            continue
        else:
            starts, moved = _utc(change.moved_to, "moved_to"), True
        if start <= starts < end:
            found.append(
                Occurrence(
                    meeting_id=meeting.id,
                    day=day,
                    starts=starts,
                    ends=starts + duration,
                    moved=moved,
                )
            )
    found.sort(key=lambda occurrence: (occurrence.starts, occurrence.day))
    return found


def _reminder_at(offset: Offset, starts: datetime, zone: ZoneInfo) -> datetime:
    if offset.days:
        day = starts.astimezone(zone).date() - timedelta(days=offset.days)
        return local_start(day, offset.at or time(0), zone)
    return starts - timedelta(minutes=offset.minutes)


def reminders(meeting: Meeting, zone: ZoneInfo, occurs: Iterable[Occurrence]) -> list[Reminder]:
    """Return every reminder of the occurrences, sorted by time and then by offset order.

    One reminder per offset of the meeting; exactly one of each occurrence's reminders is `last`
    (the latest; on a tie the first in offset order). A reminder after its start is dropped.
    """
    keyed: list[tuple[datetime, int, datetime, date, Reminder]] = []
    for occurrence in occurs:
        times = [
            (index, offset, _reminder_at(offset, occurrence.starts, zone))
            for index, offset in enumerate(meeting.spec.offsets)
        ]
        times = [item for item in times if item[2] <= occurrence.starts]
        if not times:
            continue
        latest = max(at for _, _, at in times)
        last_index = next(index for index, _, at in times if at == latest)
        for index, offset, at in times:
            reminder = Reminder(
                occurrence=occurrence, offset=offset, at=at, last=index == last_index
            )
            keyed.append((at, index, occurrence.starts, occurrence.day, reminder))
    keyed.sort(key=lambda item: item[:4])
    return [item[4] for item in keyed]


def _lead(meeting: Meeting) -> timedelta:
    """Return how long before an occurrence its earliest reminder can be (with a margin)."""
    longest = timedelta(days=15)
    for offset in meeting.spec.offsets:
        ahead = (
            timedelta(days=offset.days + 1) if offset.days else timedelta(minutes=offset.minutes)
        )
        longest = max(longest, ahead + _DAY)
    return longest


def reminders_between(
    meeting: Meeting,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    changes: Mapping[date, Change] = _NO_CHANGES,
) -> list[Reminder]:
    """Return the reminders with start <= at < end, sorted by time and then by offset order."""
    start, end = _utc(start, "start"), _utc(end, "end")
    if start >= end:
        return []
    occurs = occurrences(meeting, zone, start, end + _lead(meeting) + MAX_MOVE, changes)
    return [reminder for reminder in reminders(meeting, zone, occurs) if start <= reminder.at < end]


def next_reminder(
    meeting: Meeting,
    zone: ZoneInfo,
    after: datetime,
    changes: Mapping[date, Change] = _NO_CHANGES,
) -> Reminder | None:
    """Return the first reminder at or after `after` within 400 days, or None."""
    after = _utc(after, "after")
    for look in (_SHORT_LOOK, _LOOK):
        found = reminders_between(meeting, zone, after, after + look, changes)
        if found:
            return found[0]
    return None


def next_occurrence(
    meeting: Meeting,
    zone: ZoneInfo,
    after: datetime,
    changes: Mapping[date, Change] = _NO_CHANGES,
) -> Occurrence | None:
    """Return the first occurrence that ends after `after` (one in progress counts), or None.

    Looks ahead 400 days.
    """
    after = _utc(after, "after")
    since = after - meeting.duration
    for look in (_SHORT_LOOK, _LOOK):
        for occurrence in occurrences(meeting, zone, since, after + look, changes):
            if occurrence.ends > after:
                return occurrence
    return None


def previous_occurrence(
    meeting: Meeting,
    zone: ZoneInfo,
    before: datetime,
    changes: Mapping[date, Change] = _NO_CHANGES,
) -> Occurrence | None:
    """Return the last occurrence that starts before `before` (within 400 days), or None."""
    before = _utc(before, "before")
    for look in (_SHORT_LOOK, _LOOK):
        found = occurrences(meeting, zone, before - look, before, changes)
        if found:
            return found[-1]
    return None


# --- weekdays -------------------------------------------------------------------------------------


def weekdays_mask(days: Iterable[int]) -> int:
    """Return the weekdays as a bit mask: bit i is weekday i (Monday is bit 0)."""
    mask = 0
    for day in days:
        if isinstance(day, bool) or not 0 <= day <= 6:
            raise MeetingError(MeetingProblem.WEEKDAYS, repr(day))
        mask |= 1 << day
    return mask


def weekdays_from_mask(mask: int) -> frozenset[int]:
    """Return the weekdays of a bit mask; refuse a mask outside 0..127."""
    if isinstance(mask, bool) or not 0 <= mask <= 127:
        raise MeetingError(MeetingProblem.WEEKDAYS, repr(mask))
    return frozenset(day for day in range(7) if mask & (1 << day))


# --- parsing --------------------------------------------------------------------------------------


def _compact(text: str) -> str:
    return " ".join(text.split())


def parse_title(text: str) -> str:
    """Return the title with whitespace collapsed; 1 to 100 characters."""
    title = _compact(text)
    if not 1 <= len(title) <= TITLE_MAX:
        raise MeetingError(MeetingProblem.TITLE)
    return title


_CLOCK_PREFIX = r"(?:(?:klo|kl|at)\.?\s*)?"
_CLOCK = r"([0-9]{1,2})(?:[:.]([0-9]{2}))?"
_CLOCK_RE = re.compile(rf"{_CLOCK_PREFIX}{_CLOCK}")


def _clock(hours: str, minutes: str | None) -> time | None:
    hour, minute = int(hours), int(minutes or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_clock(text: str) -> time:
    """Return a wall-clock time typed as `9`, `09.30`, `9:30`, `klo 9.30` or `at 9:30`."""
    match = _CLOCK_RE.fullmatch(_compact(text).lower())
    clock = _clock(*match.groups()) if match else None
    if clock is None:
        raise MeetingError(MeetingProblem.TIME, text[:20])
    return clock


_MINUTE_UNIT = r"(?:minuuttia|minuutti|minutes|minuter|minute|minut|mins|min|m)\.?"
_HOUR_UNIT = r"(?:tuntia|tunti|timmar|timme|hours|hour|hrs|hr|tim|h|t)\.?"
_DURATION_MINUTES = re.compile(rf"([0-9]{{1,4}})(?:\s*{_MINUTE_UNIT})?")
_DURATION_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DURATION_HOURS = re.compile(
    rf"([0-9]{{1,2}})(?:[.,]([0-9]{{1,2}}))?\s*{_HOUR_UNIT}"
    rf"(?:\s*([0-9]{{1,2}})(?:\s*{_MINUTE_UNIT})?)?"
)


def _duration_minutes(text: str) -> int | None:
    if match := _DURATION_MINUTES.fullmatch(text):
        return int(match[1])
    if match := _DURATION_CLOCK.fullmatch(text):
        return None if int(match[2]) > 59 else int(match[1]) * 60 + int(match[2])
    if match := _DURATION_HOURS.fullmatch(text):
        whole, fraction, extra = match.groups()
        if fraction is not None and extra is not None:  # "1,5 h 30": nonsense
            return None
        if extra is not None and int(extra) > 59:
            return None
        minutes = Decimal(f"{whole}.{fraction or 0}") * 60 + int(extra or 0)
        return int(minutes) if minutes == minutes.to_integral_value() else None
    return None


def parse_duration(text: str) -> int:
    """Return minutes typed as `90`, `45 min`, `1h`, `1,5 h`, `1:30`, `2 t` or `1 tim`; 5..720."""
    minutes = _duration_minutes(_compact(text).lower())
    if minutes is None or not DURATION_MIN <= minutes <= DURATION_MAX:
        raise MeetingError(MeetingProblem.DURATION, text[:20])
    return minutes


_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:(?![0-9])", re.IGNORECASE)
_BAD_HOST_CHARS = frozenset("<>\"'`{}|\\^%")


def _has_bad_chars(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


def parse_link(text: str) -> str:
    """Return an http(s) link; `www.x.fi` and `host.tld/path` get `https://` in front."""
    link = text.strip()
    if not link or len(link.split()) != 1 or _has_bad_chars(link):
        raise MeetingError(MeetingProblem.LINK, link[:40])
    if "://" not in link and not _SCHEME.match(link):
        host = link.split("/", 1)[0]
        if link.lower().startswith("www.") or "." in host:
            link = f"https://{link}"
    if len(link) > LINK_MAX:
        raise MeetingError(MeetingProblem.LINK, link[:40])
    try:
        parts = urlsplit(link)
        hostname = parts.hostname or ""
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise MeetingError(MeetingProblem.LINK, link[:40]) from None
    labels = hostname.removesuffix(".").split(".")
    if (
        parts.scheme not in ("http", "https")
        or not link.lower().startswith(f"{parts.scheme}://")
        or parts.username is not None  # https://teams.microsoft.com@evil.example/
        or len(labels) < 2
        or not all(labels)
        or _BAD_HOST_CHARS.intersection(hostname)
    ):
        raise MeetingError(MeetingProblem.LINK, link[:40])
    return link


def parse_place(text: str) -> str:
    """Return the place stripped; 1 to 200 characters."""
    place = text.strip()
    if not 1 <= len(place) <= PLACE_MAX:
        raise MeetingError(MeetingProblem.PLACE)
    return place


def looks_like_link(text: str) -> bool:
    """Return whether a typed "where" answer is meant as a link rather than a place."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith(("http:", "https:", "www.")) or "://" in lowered:
        return True
    return len(stripped.split()) == 1 and "." in stripped and "/" in stripped


_DAY_UNIT = r"(?:päivää|päivä|dagar|days|dygn|day|dag|vrk|pv|d)\.?"
_OFFSET_ITEM = re.compile(
    rf"(?:([0-9]{{1,3}})\s*{_DAY_UNIT}\s*(?:@|klo\.?|kl\.?|at)?\s*{_CLOCK}"
    rf"|([0-9]{{1,5}})\s*{_MINUTE_UNIT}"
    rf"|([0-9]{{1,3}})\s*{_HOUR_UNIT})"
    r"(?![^\s,;])"
)
_OFFSET_SEPARATOR = re.compile(r"[\s,;]+")


def _skip_separators(text: str, position: int) -> int:
    match = _OFFSET_SEPARATOR.match(text, position)
    return match.end() if match else position


def _offset_order(offset: Offset) -> tuple[int, int, time]:
    if offset.days:
        return (0, -offset.days, offset.at or time(0))
    return (1, -offset.minutes, time(0))


def _offset(match: re.Match[str]) -> Offset | None:
    days, hours, minutes_at, minutes, whole_hours = match.groups()
    if days is not None:
        assert hours is not None
        at = _clock(hours, minutes_at)
        if at is None or not 1 <= int(days) <= OFFSET_DAYS_MAX:
            return None
        return Offset(days=int(days), at=at)
    count = int(minutes) if minutes is not None else int(whole_hours) * 60
    if not 1 <= count <= OFFSET_MINUTES_MAX:
        return None
    return Offset(minutes=count)


def parse_offsets(text: str) -> tuple[Offset, ...]:
    """Return reminder offsets typed as `1d16:00, 15m`, earliest reminder first.

    Items: `15m`, `15 min`, `2h`, `1d16:00`, `1d 16:00`, `1d@16:00`, `1 d 16.00`; separated by
    commas, semicolons or spaces. 1..10080 minutes or 1..14 days; 1 to 5 different ones.
    """
    lowered = text.lower()
    found: set[Offset] = set()
    position = _skip_separators(lowered, 0)
    while position < len(lowered):
        match = _OFFSET_ITEM.match(lowered, position)
        offset = _offset(match) if match else None
        if match is None or offset is None:
            raise MeetingError(MeetingProblem.OFFSETS, text[:40])
        found.add(offset)
        position = _skip_separators(lowered, match.end())
    if not 1 <= len(found) <= OFFSETS_MAX:
        raise MeetingError(MeetingProblem.OFFSETS, text[:40])
    return tuple(sorted(found, key=_offset_order))


def format_offsets(offsets: Iterable[Offset]) -> str:
    """Return the offsets' keys joined with ", "; `parse_offsets` reads it back."""
    return ", ".join(offset.key for offset in offsets)


_MOVE = re.compile(
    rf"(?:([0-9]{{1,2}})\.([0-9]{{1,2}})(?:\.([0-9]{{4}})?)?\s+)?{_CLOCK_PREFIX}{_CLOCK}"
)


def _move_day(day: str, month: str, year: str | None, near: date) -> date | None:
    years = [int(year)] if year else [near.year - 1, near.year, near.year + 1]
    candidates: list[date] = []
    for candidate_year in years:
        try:
            candidates.append(date(candidate_year, int(month), int(day)))
        except ValueError:
            continue
    if not candidates:
        return None
    return min(candidates, key=lambda candidate: abs(candidate - near))


def parse_move(text: str, zone: ZoneInfo, occurrence_day: date, now: datetime) -> datetime:
    """Return the new start (UTC) of the occurrence on `occurrence_day`, typed in local time.

    `26.11. 14:00`, `26.11.2026 14.00`, `26.11 14`, or a time alone for the occurrence's own day.
    A date without a year is the one closest to the occurrence's day.
    """
    match = _MOVE.fullmatch(_compact(text).lower())
    if match is None:
        raise MeetingError(MeetingProblem.MOVE_FORMAT, text[:40])
    day_text, month_text, year_text, hours, minutes = match.groups()
    clock = _clock(hours, minutes)
    day = (
        occurrence_day
        if day_text is None
        else _move_day(day_text, month_text, year_text, occurrence_day)
    )
    if clock is None or day is None:
        raise MeetingError(MeetingProblem.MOVE_FORMAT, text[:40])
    moved_to = local_start(day, clock, zone)
    if moved_to <= _utc(now, "now"):
        raise MeetingError(MeetingProblem.MOVE_PAST)
    if abs(moved_to - local_start(occurrence_day, time(0), zone)) > MAX_MOVE:
        raise MeetingError(MeetingProblem.MOVE_FAR)
    return moved_to
