"""The group rate limiter: 20 sends a minute per group, on a fake clock that sleeps instantly."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from telegram.ext import BaseRateLimiter, ExtBot

from handlers.ratelimit import GroupRateLimiter

GROUP = -1001234567890
OTHER_GROUP = -1009876543210
PERSON = 424242


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay
        await asyncio.sleep(0)


class Recorder:
    """A request callback that records (clock time, endpoint, chat) of every call."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.calls: list[tuple[float, str, Any]] = []

    async def __call__(self, endpoint: str, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        await asyncio.sleep(0)  # the HTTP round trip: other requests may run meanwhile
        self.calls.append((self.time.now, endpoint, data.get("chat_id")))
        return {"message_id": len(self.calls), "chat": {"id": data.get("chat_id")}}

    def times(self, chat_id: Any) -> list[float]:
        return [at for at, _, chat in self.calls if chat == chat_id]


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def limiter(fake_time: FakeTime) -> GroupRateLimiter:
    return GroupRateLimiter(clock=fake_time.clock, sleep=fake_time.sleep)


@pytest.fixture
def recorder(fake_time: FakeTime) -> Recorder:
    return Recorder(fake_time)


async def send(
    limiter: GroupRateLimiter,
    callback: Any,
    chat_id: Any,
    endpoint: str = "sendMessage",
    **extra: Any,
) -> Any:
    """Pass a request through the limiter the way ExtBot._do_post does."""
    data = {"chat_id": chat_id, "text": "hei", **extra}
    return await limiter.process_request(
        callback=callback,
        args=(endpoint, data),
        kwargs={"read_timeout": None, "write_timeout": None},
        endpoint=endpoint,
        data=data,
        rate_limit_args=None,
    )


def max_in_any_window(times: list[float], period: float = 60.0) -> int:
    """The most sends inside any half-open window [t, t + period) that starts at a send."""
    return max((sum(1 for u in times if t <= u < t + period) for t in times), default=0)


async def test_the_21st_send_waits_until_a_minute_after_the_first(
    limiter: GroupRateLimiter, recorder: Recorder, fake_time: FakeTime
) -> None:
    for i in range(25):
        fake_time.now = max(fake_time.now, i * 0.5)  # the first 20 spread over 10 s
        await send(limiter, recorder, GROUP)
    times = recorder.times(GROUP)
    assert times[:20] == [i * 0.5 for i in range(20)]
    assert times[20] == 60.0  # 60 s after the first
    assert times[20:] == [60.0, 60.5, 61.0, 61.5, 62.0]  # each waits for its own oldest
    assert max_in_any_window(times) == 20
    assert fake_time.sleeps[0] == pytest.approx(50.0)


async def test_process_request_called_the_way_extbot_calls_it(limiter: GroupRateLimiter) -> None:
    """ExtBot._do_post hands over its parent's _do_post, (endpoint, data) and the timeouts."""
    received: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    async def do_post(*args: Any, **kwargs: Any) -> dict[str, Any]:
        received.append((args, kwargs))
        return {"message_id": 5}

    data = {"chat_id": GROUP, "text": "Muistutus"}
    timeouts = {"read_timeout": 5.0, "write_timeout": None, "connect_timeout": 1.0}
    result = await limiter.process_request(
        callback=do_post,
        args=("sendMessage", data),
        kwargs={**timeouts, "pool_timeout": None},
        endpoint="sendMessage",
        data=data,
        rate_limit_args=None,
    )
    assert result == {"message_id": 5}
    assert received == [(("sendMessage", data), {**timeouts, "pool_timeout": None})]


async def test_two_groups_do_not_affect_each_other(
    limiter: GroupRateLimiter, recorder: Recorder, fake_time: FakeTime
) -> None:
    for _ in range(20):
        await send(limiter, recorder, GROUP)
    for _ in range(20):
        await send(limiter, recorder, OTHER_GROUP)
    assert fake_time.sleeps == []
    assert recorder.times(OTHER_GROUP) == [0.0] * 20
    await send(limiter, recorder, GROUP)
    assert recorder.times(GROUP)[-1] == 60.0


async def test_a_waiting_group_does_not_hold_up_another_group(recorder: Recorder) -> None:
    fake_time = recorder.time
    released = asyncio.Event()

    async def blocking_sleep(delay: float) -> None:
        await released.wait()
        fake_time.now += delay

    limiter = GroupRateLimiter(clock=fake_time.clock, sleep=blocking_sleep)
    for _ in range(20):
        await send(limiter, recorder, GROUP)
    stuck = asyncio.create_task(send(limiter, recorder, GROUP))
    await asyncio.sleep(0)
    assert not stuck.done()
    # While the 21st waits (holding its group's turn), other chats go straight through.
    await asyncio.wait_for(send(limiter, recorder, OTHER_GROUP), 1)
    await asyncio.wait_for(send(limiter, recorder, PERSON), 1)
    assert not stuck.done()
    released.set()
    await asyncio.wait_for(stuck, 1)
    assert recorder.times(GROUP)[-1] == 60.0


async def test_private_chats_never_wait(
    limiter: GroupRateLimiter, recorder: Recorder, fake_time: FakeTime
) -> None:
    for _ in range(100):
        await send(limiter, recorder, PERSON)
        await send(limiter, recorder, str(PERSON))
    assert fake_time.sleeps == []
    assert limiter.tracked_chats == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "answerCallbackQuery",
        "getChat",
        "getUpdates",
        "setMyCommands",
        "pinChatMessage",
    ],
)
async def test_other_methods_pass_straight_through(
    limiter: GroupRateLimiter, recorder: Recorder, fake_time: FakeTime, endpoint: str
) -> None:
    for _ in range(20):
        await send(limiter, recorder, GROUP)
    for _ in range(30):
        await send(limiter, recorder, GROUP, endpoint=endpoint)
    assert fake_time.sleeps == []
    assert len(recorder.calls) == 50


@pytest.mark.parametrize(
    "endpoint",
    [
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "copyMessage",
        "forwardMessage",
        "copyMessages",
        "forwardMessages",
    ],
)
async def test_every_kind_of_send_into_a_group_counts(
    limiter: GroupRateLimiter, recorder: Recorder, endpoint: str
) -> None:
    for _ in range(20):
        await send(limiter, recorder, GROUP)
    await send(limiter, recorder, GROUP, endpoint=endpoint)
    assert recorder.calls[-1] == (60.0, endpoint, GROUP)


@pytest.mark.parametrize("chat_id", ["@apuri_kanava", "@Apuri_Kanava", str(GROUP)])
async def test_usernames_and_textual_ids_are_groups(
    limiter: GroupRateLimiter, recorder: Recorder, chat_id: str
) -> None:
    same = "@APURI_KANAVA" if chat_id.startswith("@") else GROUP
    for _ in range(20):
        await send(limiter, recorder, same)
    await send(limiter, recorder, chat_id)
    assert recorder.calls[-1][0] == 60.0


async def test_missing_chat_id_passes_through(
    limiter: GroupRateLimiter, recorder: Recorder, fake_time: FakeTime
) -> None:
    for _ in range(30):
        await limiter.process_request(recorder, ("sendMessage", {}), {}, "sendMessage", {}, None)
    assert fake_time.sleeps == []


async def test_concurrent_sends_keep_at_most_20_in_any_minute(
    limiter: GroupRateLimiter, recorder: Recorder
) -> None:
    results = await asyncio.gather(*(send(limiter, recorder, GROUP) for _ in range(40)))
    assert len(results) == 40
    times = recorder.times(GROUP)
    assert len(times) == 40
    assert times == sorted(times)
    assert max_in_any_window(times) == 20
    assert times[:20] == [0.0] * 20
    assert times[20:] == [60.0] * 20


async def test_concurrent_sends_to_many_groups_and_people(
    limiter: GroupRateLimiter, recorder: Recorder
) -> None:
    chats = [GROUP, OTHER_GROUP, PERSON, "@kanava"]
    await asyncio.gather(*(send(limiter, recorder, chats[i % 4]) for i in range(160)))
    for chat in chats:
        assert len(recorder.times(chat)) == 40
    for group in (GROUP, OTHER_GROUP, "@kanava"):
        assert max_in_any_window(recorder.times(group)) == 20


async def test_smaller_limit_and_period(fake_time: FakeTime, recorder: Recorder) -> None:
    limiter = GroupRateLimiter(3, period=10.0, clock=fake_time.clock, sleep=fake_time.sleep)
    for _ in range(7):
        await send(limiter, recorder, GROUP)
    assert recorder.times(GROUP) == [0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 20.0]


async def test_exceptions_are_not_swallowed_and_release_the_turn(
    limiter: GroupRateLimiter, recorder: Recorder, fake_time: FakeTime
) -> None:
    class Boom(Exception):
        pass

    async def failing(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise Boom

    with pytest.raises(Boom):
        await send(limiter, failing, GROUP)
    with pytest.raises(Boom):
        await send(limiter, failing, PERSON)
    # The failed send still counted (Telegram may have received it), and the lock was released.
    for _ in range(19):
        await send(limiter, recorder, GROUP)
    assert fake_time.sleeps == []
    await send(limiter, recorder, GROUP)
    assert recorder.times(GROUP)[-1] == 60.0


async def test_cancelled_wait_releases_the_turn(recorder: Recorder) -> None:
    fake_time = recorder.time
    never = asyncio.Event()

    async def endless_sleep(delay: float) -> None:
        await never.wait()

    limiter = GroupRateLimiter(clock=fake_time.clock, sleep=endless_sleep)
    for _ in range(20):
        await send(limiter, recorder, GROUP)
    waiting = asyncio.create_task(send(limiter, recorder, GROUP))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    fake_time.now = 60.0
    await asyncio.wait_for(send(limiter, recorder, GROUP), 1)
    assert len(recorder.times(GROUP)) == 21


async def test_memory_of_idle_chats_is_dropped(
    limiter: GroupRateLimiter, recorder: Recorder, fake_time: FakeTime
) -> None:
    for chat in range(-1, -201, -1):
        await send(limiter, recorder, chat)
    assert limiter.tracked_chats == 200
    fake_time.now = 30.0
    await send(limiter, recorder, -1)
    assert limiter.tracked_chats == 200  # still within the minute: all windows matter
    fake_time.now = 61.0
    await send(limiter, recorder, -500)
    # Every window but -1's (sent at 30 s) emptied; the new group's is kept.
    assert limiter.tracked_chats == 2
    fake_time.now = 200.0
    await send(limiter, recorder, -501)
    assert limiter.tracked_chats == 1
    await limiter.shutdown()
    assert limiter.tracked_chats == 0


async def test_a_wait_is_logged_at_debug(
    limiter: GroupRateLimiter, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="handlers.ratelimit"):
        for _ in range(20):
            await send(limiter, recorder, GROUP)
        assert caplog.records == []
        await send(limiter, recorder, GROUP)
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG
    assert str(GROUP) in record.getMessage()
    assert "60.0 s" in record.getMessage()


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        GroupRateLimiter(0)
    with pytest.raises(ValueError, match="period"):
        GroupRateLimiter(period=0)


async def test_fits_ptb_as_the_bots_rate_limiter() -> None:
    limiter = GroupRateLimiter()
    assert isinstance(limiter, BaseRateLimiter)
    bot = ExtBot("123456789:AAFakeTokenForTestsOnly_abcdefghijk", rate_limiter=limiter)
    assert bot.rate_limiter is limiter
    await limiter.initialize()
    await limiter.shutdown()
