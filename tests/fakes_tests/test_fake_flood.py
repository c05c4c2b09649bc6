"""Flood limits of the fake: Telegram's send rates, driven by an injected clock."""

import datetime as dtm

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from tests.fakes import FakeBotAPI, FloodLimits
from tests.fakes.flood import FloodControl


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_private_chat_allows_a_burst_then_one_per_second() -> None:
    clock = FakeClock()
    flood = FloodControl(FloodLimits(), clock)
    for _ in range(3):
        assert flood.retry_after(1, is_group=False) is None
        flood.record(1, is_group=False)
    assert flood.retry_after(1, is_group=False) == 1
    assert flood.retry_after(2, is_group=False) is None  # other chats are unaffected
    clock.advance(1.0)
    assert flood.retry_after(1, is_group=False) is None


def test_group_allows_twenty_per_minute() -> None:
    clock = FakeClock()
    flood = FloodControl(FloodLimits(), clock)
    for _ in range(20):
        assert flood.retry_after(-5, is_group=True) is None
        flood.record(-5, is_group=True)
        clock.advance(0.5)
    assert flood.retry_after(-5, is_group=True) == 50
    clock.advance(50)
    assert flood.retry_after(-5, is_group=True) is None


def test_overall_limit_spans_chats() -> None:
    clock = FakeClock()
    flood = FloodControl(FloodLimits(overall_per_second=30), clock)
    for chat_id in range(30):
        assert flood.retry_after(chat_id, is_group=False) is None
        flood.record(chat_id, is_group=False)
    assert flood.retry_after(99, is_group=False) == 1
    clock.advance(1.0)
    assert flood.retry_after(99, is_group=False) is None


async def test_bot_gets_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    clock = FakeClock()
    async with (
        FakeBotAPI(flood=FloodLimits(), clock=clock) as api,
        Bot(api.token, base_url=api.base_url) as bot,
    ):
        user = api.user(7, "Pekka")
        await user.send("hei")
        for n in range(3):
            await bot.send_message(user.chat_id, f"burst {n}")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(user.chat_id, "one too many")
        assert raised.value.retry_after == dtm.timedelta(seconds=1)
        clock.advance(1.0)
        await bot.send_message(user.chat_id, "after waiting")

        assert api.stats() == {
            "requests_by_method": {"getMe": 1, "sendMessage": 5},
            "messages_sent": 4,
            "retry_after_429": 1,
        }
