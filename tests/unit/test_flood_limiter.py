"""The flood limiter: 30 sends a second overall, a bucket per private chat, 429 pauses.

Everything runs on a fake monotonic clock: the limiter's `sleep` moves the clock forward
instead of waiting, and a request callback may move it by a "latency" before it answers, so a
send's release time and its answer time can differ.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from handlers.ratelimit import BULK, FloodLimiter

PERSON = 5
OTHER_PERSON = 6
GROUP = -1001234567890
MAX_SLEEPS = 20_000  # a limiter that sleeps this often is spinning: fail instead of hanging


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it or a test moves it.

    A sleep of `delay` started at `t` moves the clock to at least `t + delay`: concurrent
    sleepers wake no earlier than their deadline, and the clock never goes back.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        if len(self.sleeps) >= MAX_SLEEPS:
            raise RuntimeError("the limiter keeps sleeping: it would wait forever")
        self.sleeps.append(delay)
        wake = self.now + delay
        await asyncio.sleep(0)
        self.now = max(self.now, wake)

    @property
    def waited(self) -> float:
        return sum(self.sleeps)


class Api:
    """A request callback: records release and answer times, answers after `latency`."""

    def __init__(self, time: FakeTime, latency: float = 0.0) -> None:
        self.time = time
        self.latency = latency
        self.calls: list[tuple[float, str, Any]] = []  # (release time, endpoint, chat)
        self.answers: list[float] = []

    async def __call__(self, endpoint: str, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        self.calls.append((self.time.now, endpoint, data.get("chat_id")))
        await asyncio.sleep(0)  # the HTTP round trip: other requests may run meanwhile
        self.time.now += self.latency
        self.answers.append(self.time.now)
        return {"message_id": len(self.calls), "chat": {"id": data.get("chat_id")}}

    def released(self, chat_id: Any = None) -> list[float]:
        return [at for at, _, chat in self.calls if chat_id is None or chat == chat_id]


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future RetryAfter.retry_after type, as the flood tests do."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def limiter(fake_time: FakeTime) -> FloodLimiter:
    return FloodLimiter(clock=fake_time.clock, sleep=fake_time.sleep)


@pytest.fixture
def api(fake_time: FakeTime) -> Api:
    return Api(fake_time)


async def send(
    limiter: FloodLimiter,
    callback: Any,
    chat_id: Any = PERSON,
    endpoint: str = "sendMessage",
    rate_limit_args: Any = None,
) -> Any:
    """Pass a request through the limiter the way ExtBot._do_post does."""
    data = {"chat_id": chat_id, "text": "hei"}
    return await limiter.process_request(
        callback=callback,
        args=(endpoint, data),
        kwargs={"read_timeout": None, "write_timeout": None},
        endpoint=endpoint,
        data=data,
        rate_limit_args=rate_limit_args,
    )


async def broadcast(limiter: FloodLimiter, callback: Any, chat_id: int) -> float:
    """Send one outbox message the way the outbox does; return when its slot was granted."""
    async with limiter.slot(chat_id):
        entered = limiter._clock()
        await send(limiter, callback, chat_id, rate_limit_args=BULK)
    return entered


async def spin(times: int = 50) -> None:
    """Let every ready task run for a while."""
    for _ in range(times):
        await asyncio.sleep(0)


def max_in_any_second(times: list[float]) -> int:
    """The most times inside any half-open window [t, t + 1) that starts at one of them."""
    return max((sum(1 for u in times if t <= u < t + 1.0) for t in times), default=0)


def retry_after(seconds: int) -> RetryAfter:
    return RetryAfter(timedelta(seconds=seconds))


# --- 1. the overall limit for interactive sends -----------------------------------------------


async def test_30_sends_go_at_once_and_the_31st_waits_a_second(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    for _ in range(31):
        await send(limiter, api)
    assert api.released()[:30] == [0.0] * 30
    assert api.released()[30] == 1.0
    assert fake_time.sleeps == [1.0]


async def test_the_window_is_measured_from_answers_not_releases(
    limiter: FloodLimiter, fake_time: FakeTime
) -> None:
    slow = Api(fake_time, latency=0.5)
    await send(limiter, slow)  # let go at 0.0, answered at 0.5
    fast = Api(fake_time)
    for _ in range(29):
        await send(limiter, fast)
    assert fast.released() == [0.5] * 29
    await send(limiter, fast)
    # A second after the first answer (0.5), not a second after its release (0.0).
    assert slow.answers == [0.5]
    assert fast.released()[-1] == 1.5
    assert fake_time.sleeps == [1.0]


async def test_answers_keep_counting_for_a_full_second(
    limiter: FloodLimiter, fake_time: FakeTime
) -> None:
    slow = Api(fake_time, latency=0.25)
    for _ in range(30):
        await send(limiter, slow)  # answered at 0.25, 0.5, ..., 7.5: never 30 in one second
    assert fake_time.sleeps == []
    fast = Api(fake_time)
    fake_time.now = 7.5
    for _ in range(4):
        await send(limiter, fast)  # the last 4 answers (6.75 .. 7.5) are in the window: 26 free
    assert fake_time.sleeps == []
    assert max_in_any_second(slow.answers + fast.answers) <= 30


async def test_sends_in_flight_count_until_their_answer_comes_back(
    limiter: FloodLimiter, fake_time: FakeTime
) -> None:
    answer = asyncio.Event()
    released: list[float] = []
    answered: list[float] = []

    async def blocked(endpoint: str, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        released.append(fake_time.now)
        await answer.wait()
        answered.append(fake_time.now)
        return {"message_id": len(answered)}

    hanging = [asyncio.create_task(send(limiter, blocked)) for _ in range(30)]
    await spin()
    assert released == [0.0] * 30
    api = Api(fake_time)
    the_31st = asyncio.create_task(send(limiter, api))
    await spin(200)
    # Long after a second has gone by, the 31st still waits: nothing has come back yet.
    assert fake_time.now > 1.0
    assert not the_31st.done()
    assert api.calls == []
    answer.set()
    await asyncio.wait_for(asyncio.gather(*hanging, the_31st), 1)
    assert len(answered) == 30
    assert api.released() == [pytest.approx(answered[0] + 1.0)]


async def test_concurrent_interactive_sends_never_exceed_30_in_a_second(
    limiter: FloodLimiter, api: Api
) -> None:
    chats = [PERSON + i for i in range(100)]
    await asyncio.wait_for(asyncio.gather(*(send(limiter, api, chat) for chat in chats)), 2)
    assert len(api.calls) == 100
    assert max_in_any_second(api.answers) == 30


def test_invalid_overall_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="per_second"):
        FloodLimiter(per_second=1)
    with pytest.raises(ValueError, match="per_minute"):
        FloodLimiter(group_per_minute=0)


# --- 2. broadcast sends through slot() ---------------------------------------------------------


async def test_a_new_limiter_holds_broadcasts_for_a_second(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    assert await broadcast(limiter, api, PERSON) == 1.0
    assert fake_time.sleeps == [1.0]
    assert api.released() == [1.0]


async def test_a_new_limiter_lets_interactive_sends_go_at_once(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    await send(limiter, api)
    assert api.released() == [0.0]
    assert fake_time.sleeps == []


async def test_a_quiet_bot_broadcasts_at_the_full_limit(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    entered = [await broadcast(limiter, api, PERSON + i) for i in range(31)]
    assert entered[:30] == [1.0] * 30
    assert entered[30] == 2.0
    # The request inside the slot (rate_limit_args=BULK) is not counted a second time.
    assert api.released() == entered
    assert fake_time.sleeps == [1.0]


async def test_after_an_interactive_send_broadcasts_leave_one_place_free(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    await send(limiter, api, OTHER_PERSON)
    fake_time.now = 2.0  # the reply no longer counts, but it was less than `quiet` ago
    assert limiter.bulk_limit(2.0) == 29
    entered = [await broadcast(limiter, api, PERSON + 100 + i) for i in range(29)]
    assert entered == [2.0] * 29
    # The free place is there for the next reply ...
    await send(limiter, api, OTHER_PERSON)
    assert api.released(OTHER_PERSON) == [1.0, 2.0]
    # ... and the broadcast does not take it.
    fake_time.now = 2.5
    assert await broadcast(limiter, api, PERSON + 200) == 3.0


async def test_the_30th_broadcast_waits_while_someone_is_talking(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    await send(limiter, api, OTHER_PERSON)
    fake_time.now = 2.0
    entered = [await broadcast(limiter, api, PERSON + 100 + i) for i in range(30)]
    assert entered[:29] == [2.0] * 29
    assert entered[29] == 3.0  # at 3.0 the 29 answers expire (and the reply is `quiet` ago)


async def test_bulk_limit_follows_the_last_interactive_send(fake_time: FakeTime) -> None:
    limiter = FloodLimiter(quiet=2.0, clock=fake_time.clock, sleep=fake_time.sleep)
    assert limiter.bulk_limit(0.0) == 30
    fake_time.now = 5.0
    await send(limiter, Api(fake_time))
    assert limiter.bulk_limit(5.0) == 29
    assert limiter.bulk_limit(6.99) == 29
    assert limiter.bulk_limit(7.0) == 30
    small = FloodLimiter(per_second=2, quiet=0.5, clock=fake_time.clock, sleep=fake_time.sleep)
    assert small.bulk_limit(5.0) == 2
    await send(small, Api(fake_time))
    assert small.bulk_limit(5.4) == 1
    assert small.bulk_limit(5.5) == 2


async def test_bulk_requests_do_not_mark_the_bot_as_talking(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    await broadcast(limiter, api, PERSON)
    assert limiter.bulk_limit(1.0) == 30


async def test_concurrent_broadcasts_and_replies_never_exceed_30_in_a_second(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    work = [broadcast(limiter, api, PERSON + i) for i in range(60)]
    work += [send(limiter, api, -i) for i in range(1, 31)]  # 30 different groups
    await asyncio.wait_for(asyncio.gather(*work), 2)
    assert len(api.calls) == 90
    assert max_in_any_second(api.answers) <= 30


# --- 3. the private chat's bucket ----------------------------------------------------------------


@pytest.mark.parametrize(("rate", "step"), [(1.0, 1.0), (2.0, 0.5), (0.5, 2.0)])
async def test_a_chat_gets_a_burst_of_3_then_its_rate(
    fake_time: FakeTime, api: Api, rate: float, step: float
) -> None:
    limiter = FloodLimiter(chat_per_second=rate, clock=fake_time.clock, sleep=fake_time.sleep)
    fake_time.now = 1.0
    entered = [await broadcast(limiter, api, PERSON) for _ in range(6)]
    assert entered == [1.0, 1.0, 1.0, 1.0 + step, 1.0 + 2 * step, 1.0 + 3 * step]


async def test_chat_wait_reports_the_buckets_wait(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    assert limiter.chat_wait(PERSON) == 0.0
    for expected in (0.0, 0.0, 1.0):
        await broadcast(limiter, api, PERSON)
        assert limiter.chat_wait(PERSON) == expected
    fake_time.now = 1.25
    assert limiter.chat_wait(PERSON) == pytest.approx(0.75)
    assert limiter.chat_wait(OTHER_PERSON) == 0.0
    fake_time.now = 2.0
    assert limiter.chat_wait(PERSON) == 0.0


async def test_interactive_sends_use_the_bucket_but_never_wait_for_it(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    for _ in range(5):
        await send(limiter, api, PERSON)
    assert api.released() == [1.0] * 5
    assert fake_time.sleeps == []
    assert limiter.chat_wait(PERSON) == 3.0  # 3 - 5 = -2 tokens: 3 s until one is back
    assert limiter.chat_wait(OTHER_PERSON) == 0.0
    assert await broadcast(limiter, api, PERSON) == 4.0


async def test_interactive_sends_to_groups_use_no_bucket(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    for _ in range(5):
        await send(limiter, api, GROUP)
    assert limiter.chat_wait(GROUP) == 0.0


async def test_a_broadcast_bucket_does_not_refill_during_the_flight(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    for _ in range(3):
        await broadcast(limiter, api, PERSON)
    async with limiter.slot(PERSON):
        assert fake_time.now == 2.0
        fake_time.now += 0.4  # the request takes 0.4 s
    # The send counts from its answer (2.4): the next one may go at 3.4, not at 3.0.
    assert limiter.chat_wait(PERSON) == pytest.approx(1.0)
    assert await broadcast(limiter, api, PERSON) == pytest.approx(3.4)


async def test_an_interactive_bucket_does_not_refill_during_the_flight(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    for _ in range(3):
        await send(limiter, api, PERSON)
    await send(limiter, Api(fake_time, latency=0.4), PERSON)  # let go at 1.0, answered at 1.4
    assert fake_time.now == pytest.approx(1.4)
    assert limiter.chat_wait(PERSON) == pytest.approx(2.0)  # -1 token at the answer


async def test_a_long_flight_costs_the_chat_one_token(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    async with limiter.slot(PERSON):
        fake_time.now += 10.0  # answered at 11.0, the bucket full again meanwhile
    assert limiter.chat_wait(PERSON) == 0.0
    entered = [await broadcast(limiter, api, PERSON) for _ in range(3)]
    assert entered == [11.0, 11.0, 12.0]  # 2 tokens left, not 3 and not fewer


async def test_forgetting_quiet_buckets_keeps_a_chats_debt(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    for _ in range(10):
        await send(limiter, api, PERSON)  # tokens 3 - 10 = -7
    fake_time.now = 5.0  # 4 s later: -3 tokens, 4 s to wait
    for chat in range(1_000_000, 1_010_002):
        limiter.chat_wait(chat)
    assert limiter.chat_wait(PERSON) == pytest.approx(4.0)


# --- 4. 429 Too Many Requests ------------------------------------------------------------------


class Flooded:
    """A callback answering 429 (RetryAfter) the first `floods` times, then succeeding."""

    def __init__(self, time: FakeTime, floods: int, error: Any = None) -> None:
        self.time = time
        self.floods = floods
        self.error = error if error is not None else retry_after(3)
        self.calls: list[float] = []

    async def __call__(self, endpoint: str, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        self.calls.append(self.time.now)
        await asyncio.sleep(0)
        if len(self.calls) <= self.floods:
            raise self.error
        return {"message_id": 99}


async def test_an_interactive_429_pauses_and_retries_once(
    limiter: FloodLimiter, fake_time: FakeTime
) -> None:
    flooded = Flooded(fake_time, floods=1)
    assert await send(limiter, flooded) == {"message_id": 99}
    assert flooded.calls == [0.0, 3.0]
    assert fake_time.waited == 3.0


async def test_a_second_429_is_raised(limiter: FloodLimiter, api: Api, fake_time: FakeTime) -> None:
    flooded = Flooded(fake_time, floods=2)
    with pytest.raises(RetryAfter):
        await send(limiter, flooded)
    assert flooded.calls == [0.0, 3.0]
    # The second 429 paused everything again, for 3 s from its answer.
    await send(limiter, api, OTHER_PERSON)
    assert api.released() == [6.0]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_in_whole_seconds_is_honoured_too(
    limiter: FloodLimiter, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PTB_TIMEDELTA")
    flooded = Flooded(fake_time, floods=1, error=RetryAfter(3))
    assert await send(limiter, flooded) == {"message_id": 99}
    assert flooded.calls == [0.0, 3.0]


async def test_a_bulk_429_pauses_and_is_handed_back_at_once(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    flooded = Flooded(fake_time, floods=5)
    with pytest.raises(RetryAfter):
        async with limiter.slot(PERSON):
            await send(limiter, flooded, PERSON, rate_limit_args=BULK)
    assert flooded.calls == [1.0]  # not retried
    assert fake_time.now == 1.0  # nor waited for
    # Everything else waits for the pause to end.
    assert await broadcast(limiter, api, OTHER_PERSON) == 4.0
    fake_time.now = 1.0
    limiter.pause(3)
    await send(limiter, api, PERSON + 10)
    assert api.released(PERSON + 10) == [4.0]


async def test_a_pause_holds_slots_and_interactive_sends(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    limiter.pause(5)
    tasks = [
        asyncio.create_task(send(limiter, api, PERSON)),
        asyncio.create_task(broadcast(limiter, api, OTHER_PERSON)),
    ]
    await asyncio.wait_for(asyncio.gather(*tasks), 1)
    assert api.released(PERSON) == [6.0]
    assert api.released(OTHER_PERSON) == [6.0]


async def test_a_pause_never_shortens_an_existing_one(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    limiter.pause(5)
    limiter.pause(1)
    await send(limiter, api)
    assert api.released() == [5.0]
    limiter.pause(2)  # from 5.0: until 7.0
    fake_time.now = 6.0
    limiter.pause(0.5)
    await send(limiter, api)
    assert api.released() == [5.0, 7.0]


async def test_a_429_during_a_long_pause_keeps_the_longer_one(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    limiter.pause(10)  # until 11.0
    flooded = Flooded(fake_time, floods=1, error=retry_after(1))
    with pytest.raises(RetryAfter):
        await send(limiter, flooded, rate_limit_args=BULK)
    await send(limiter, api)
    assert api.released() == [11.0]


# --- 5. everything that is not a send ------------------------------------------------------------

NOT_SENDS = ["answerCallbackQuery", "editMessageText", "getUpdates", "sendChatAction"]


@pytest.mark.parametrize("endpoint", NOT_SENDS)
async def test_other_requests_are_not_counted(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime, endpoint: str
) -> None:
    for _ in range(100):
        await send(limiter, api, PERSON, endpoint=endpoint)
    for _ in range(30):
        await send(limiter, api, OTHER_PERSON)
    assert fake_time.sleeps == []
    assert limiter.chat_wait(PERSON) == 0.0
    assert limiter.bulk_limit(0.0) == 29  # only the real sends made the bot "talking"


@pytest.mark.parametrize("endpoint", NOT_SENDS)
async def test_other_requests_never_wait_for_a_full_window_or_a_pause(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime, endpoint: str
) -> None:
    for _ in range(30):
        await send(limiter, api, OTHER_PERSON)
    limiter.pause(10)
    for _ in range(50):
        await send(limiter, api, PERSON, endpoint=endpoint)
    assert fake_time.sleeps == []
    assert api.released(PERSON) == [0.0] * 50


async def test_chat_actions_into_a_group_neither_wait_nor_count(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    for _ in range(20):
        await send(limiter, api, GROUP)
    await send(limiter, api, GROUP, endpoint="sendChatAction")
    assert fake_time.sleeps == []
    assert api.calls[-1] == (0.0, "sendChatAction", GROUP)


# --- 6. group sends ----------------------------------------------------------------------------


async def test_group_sends_are_still_paced_20_a_minute(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    for _ in range(21):
        await send(limiter, api, GROUP)
    assert api.released(GROUP) == [0.0] * 20 + [60.0]
    assert fake_time.sleeps == [60.0]


async def test_group_sends_count_towards_the_overall_limit(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    for _ in range(20):
        await send(limiter, api, GROUP)
    for _ in range(10):
        await send(limiter, api, PERSON)
    await send(limiter, api, OTHER_PERSON)
    assert api.released(OTHER_PERSON) == [1.0]


async def test_sends_queued_for_a_full_group_do_not_hold_up_private_replies(
    fake_time: FakeTime, api: Api
) -> None:
    forever = asyncio.Event()

    async def sleep(delay: float) -> None:
        if delay >= 10.0:  # a group window's wait: stays asleep for this test
            await forever.wait()
        await fake_time.sleep(delay)

    limiter = FloodLimiter(clock=fake_time.clock, sleep=sleep)
    for _ in range(20):
        await send(limiter, api, GROUP)
    queued = [asyncio.create_task(send(limiter, api, GROUP)) for _ in range(30)]
    await spin()
    reply = asyncio.create_task(send(limiter, api, PERSON))
    await spin()
    try:
        assert reply.done()
        assert api.released(PERSON) == [0.0]
    finally:
        for task in [*queued, reply]:
            task.cancel()
        await asyncio.gather(*queued, reply, return_exceptions=True)


# --- 7. failures -------------------------------------------------------------------------------


class Boom(Exception):
    pass


async def failing(endpoint: str, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    await asyncio.sleep(0)
    raise Boom


async def test_other_errors_propagate_and_free_their_place(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    for _ in range(30):
        with pytest.raises(Boom):
            await send(limiter, failing)
    # The failures counted (Telegram may have received them) but are no longer in flight.
    await asyncio.wait_for(send(limiter, api), 1)
    assert api.released() == [1.0]
    fake_time.now = 2.0
    for _ in range(30):
        await send(limiter, api)
    assert api.released()[1:] == [2.0] * 30


async def test_an_error_inside_a_slot_frees_its_place(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    fake_time.now = 1.0
    for i in range(30):
        with pytest.raises(Boom):
            async with limiter.slot(PERSON + i):
                await send(limiter, failing, PERSON + i, rate_limit_args=BULK)
    assert await asyncio.wait_for(broadcast(limiter, api, PERSON + 100), 1) == 2.0


async def test_errors_are_not_retried(limiter: FloodLimiter, fake_time: FakeTime) -> None:
    calls: list[float] = []

    async def refused(endpoint: str, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        calls.append(fake_time.now)
        raise Boom

    with pytest.raises(Boom):
        await send(limiter, refused)
    assert calls == [0.0]


async def test_a_cancelled_send_frees_its_place(
    limiter: FloodLimiter, api: Api, fake_time: FakeTime
) -> None:
    never = asyncio.Event()

    async def hanging(endpoint: str, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        await never.wait()
        return {}

    tasks = [asyncio.create_task(send(limiter, hanging)) for _ in range(30)]
    await spin()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.wait_for(send(limiter, api), 1)
    assert api.released() == [1.0]
