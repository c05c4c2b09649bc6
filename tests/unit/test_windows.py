"""Due windows typed the Finnish way, in Helsinki time, across the clock change."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidValue
from bot.domain.windows import Preset, parse_window, preset

ZONE = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 10:00 in Helsinki


def local(text_day: str, hour: int, minute: int = 0) -> datetime:
    day, month, year = (int(x) for x in text_day.split("."))
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("25.11. 10-14", local("25.11.2026", 10), local("25.11.2026", 14)),
        ("25.11.2026 9:30–12", local("25.11.2026", 9, 30), local("25.11.2026", 12)),
        ("25.11. 10.15-11.45", local("25.11.2026", 10, 15), local("25.11.2026", 11, 45)),
        ("25.11.", local("25.11.2026", 8), local("25.11.2026", 20)),
        ("25.11.-28.11.", local("25.11.2026", 8), local("28.11.2026", 20)),
        ("  25.11.  –  28.11. ", local("25.11.2026", 8), local("28.11.2026", 20)),
        ("5.1.", local("5.1.2027", 8), local("5.1.2027", 20)),  # January next year
        ("23.11. 8-16", NOW, local("23.11.2026", 16)),  # started already: from now on
        ("29.3.2027 9-11", local("29.3.2027", 9), local("29.3.2027", 11)),  # summer time
    ],
)
def test_typed_windows(typed, start, end):
    window = parse_window(typed, NOW, ZONE)
    assert (window.start, window.end) == (start, end)


def test_local_time_stays_local_across_the_clock_change():
    winter = parse_window("26.3.2027 9-11", NOW, ZONE)
    summer = parse_window("29.3.2027 9-11", NOW, ZONE)
    assert winter.start.hour == 7 and summer.start.hour == 6  # 09:00 local, in UTC


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("tomorrow", "window.format"),
        ("", "window.format"),
        ("31.2. 10-12", "window.date"),
        ("25.11. 25-26", "window.time"),
        ("25.11. 14-10", "window.order"),
        ("28.11.-25.11.2026", "window.order"),
        ("1.1.2020", "window.past"),
        ("23.11. 7-9", "window.past"),
        ("1.12.-28.2.", "window.too_long"),
    ],
)
def test_bad_windows_say_why(typed, reason):
    with pytest.raises(InvalidValue) as raised:
        parse_window(typed, NOW, ZONE)
    assert raised.value.reason == reason


@pytest.mark.parametrize("choice", list(Preset))
def test_presets_start_now_or_tomorrow_and_end_in_the_future(choice):
    window = preset(choice, NOW, ZONE)
    assert window.start >= NOW and window.end > window.start


def test_today_late_in_the_evening_still_gives_a_window():
    late = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)  # 22:30 in Helsinki
    window = preset(Preset.TODAY, late, ZONE)
    assert window.end > late


@given(st.text(max_size=40))
def test_any_text_is_a_window_or_a_reason(text):
    try:
        window = parse_window(text, NOW, ZONE)
    except InvalidValue as problem:
        assert problem.reason.startswith("window.")
    else:
        assert window.start < window.end and window.end > NOW
