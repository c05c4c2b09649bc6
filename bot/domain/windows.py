"""Due windows: when a task may be done, as a window (from–to), never a single "only valid day".

Coordinators type windows the Finnish way — `25.11. 10-14`, `25.11.2026 9:30–12`, `25.11.–28.11.`
or one day `25.11.` (daytime, 08–20) — or pick a preset. Local times are read in the configured
zone and stored in UTC. A window must end in the future and be at most `MAX_LENGTH` long.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, model_validator

from bot.domain.errors import InvalidValue

__all__ = ["DAY_END", "DAY_START", "MAX_LENGTH", "Preset", "TimeWindow", "parse_window", "preset"]

DAY_START = time(8, 0)
DAY_END = time(20, 0)
MAX_LENGTH = timedelta(days=60)

_DATE = r"(\d{1,2})\.(\d{1,2})\.(\d{4})?"
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?"
_DASH = r"\s*[-–—]\s*"
_ONE_DAY = re.compile(rf"^{_DATE}$")
_DAY_WITH_HOURS = re.compile(rf"^{_DATE}\s+{_TIME}{_DASH}{_TIME}$")
_DAYS = re.compile(rf"^{_DATE}{_DASH}{_DATE}$")


class Preset(StrEnum):
    """Windows a coordinator can pick with one tap."""

    TODAY = "today"
    TOMORROW = "tomorrow"
    THREE_DAYS = "three_days"
    WEEK = "week"


class TimeWindow(BaseModel):
    """From when to when; both aware, start before end."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window times must be aware")
        if self.start >= self.end:
            raise ValueError("a window starts before it ends")
        return self


def _at(day: date, clock_time: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=zone).astimezone(UTC)


def preset(choice: Preset, now: datetime, zone: ZoneInfo) -> TimeWindow:
    """Return the window a preset means, starting now (or tomorrow morning)."""
    today = now.astimezone(zone).date()
    if choice is Preset.TOMORROW:
        tomorrow = today + timedelta(days=1)
        return TimeWindow(start=_at(tomorrow, DAY_START, zone), end=_at(tomorrow, DAY_END, zone))
    last_day = {Preset.TODAY: 0, Preset.THREE_DAYS: 2, Preset.WEEK: 6}[choice]
    end = _at(today + timedelta(days=last_day), DAY_END, zone)
    if end <= now:  # late in the evening: today's daytime is over, run to midnight
        end = _at(today + timedelta(days=last_day + 1), time(0, 0), zone)
    return TimeWindow(start=now.astimezone(UTC), end=end)


def _day(groups: tuple[str | None, ...], today: date) -> date:
    day_text, month_text, year_text = groups
    assert day_text is not None and month_text is not None
    year = int(year_text) if year_text else today.year
    try:
        day = date(year, int(month_text), int(day_text))
    except ValueError:
        raise InvalidValue("window", "window.date") from None
    if not year_text and day < today:  # "5.1." typed in December means next January
        try:
            day = day.replace(year=year + 1)
        except ValueError:  # 29.2. typed after a leap day: no such day next year
            raise InvalidValue("window", "window.date") from None
    return day


def _clock(hours: str | None, minutes: str | None) -> time:
    assert hours is not None
    try:
        if int(hours) == 24 and not int(minutes or 0):
            return time(23, 59)
        return time(int(hours), int(minutes or 0))
    except ValueError:
        raise InvalidValue("window", "window.time") from None


def parse_window(text: str, now: datetime, zone: ZoneInfo) -> TimeWindow:
    """Read a typed window in local time; raise `InvalidValue` with the reason."""
    compact = " ".join(text.split())
    today = now.astimezone(zone).date()
    if match := _ONE_DAY.match(compact):
        day = _day(match.groups(), today)
        start, end = _at(day, DAY_START, zone), _at(day, DAY_END, zone)
    elif match := _DAY_WITH_HOURS.match(compact):
        day = _day(match.groups()[:3], today)
        start = _at(day, _clock(*match.groups()[3:5]), zone)
        end = _at(day, _clock(*match.groups()[5:7]), zone)
    elif match := _DAYS.match(compact):
        first = _day(match.groups()[:3], today)
        last = _day(match.groups()[3:], today)
        start, end = _at(first, DAY_START, zone), _at(last, DAY_END, zone)
    else:
        raise InvalidValue("window", "window.format")
    if start >= end:
        raise InvalidValue("window", "window.order")
    if end <= now:
        raise InvalidValue("window", "window.past")
    if end - start > MAX_LENGTH:
        raise InvalidValue("window", "window.too_long")
    return TimeWindow(start=max(start, now.astimezone(UTC)), end=end)
