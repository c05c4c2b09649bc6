"""Injected faults of the fake Bot API, seen through a real PTB Bot: error answers, dropped
connections, slow answers and answers held while the client dies."""

import asyncio
import logging
import random
from collections.abc import Iterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from tests.fakes import DROP, ApiError, FakeBotAPI, FakeUser, FloodLimits


@pytest.fixture(autouse=True)
def quiet_server(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No fault may make aiohttp log a warning or a traceback."""
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    yield
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not noisy, [r.getMessage() for r in noisy]


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future RetryAfter.retry_after type, as the flood tests do."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def aino(api: FakeBotAPI) -> FakeUser:
    """A user who has started a chat with the bot."""
    user = api.user(2002, "Aino")
    await user.send("/start")
    return user


def sends(api: FakeBotAPI) -> int:
    """How many sendMessage requests reached the server."""
    return sum(1 for r in api.requests if r.method == "sendMessage")


@pytest.mark.parametrize(
    ("status", "description"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")],
)
async def test_server_errors_raise_network_error_and_deliver_nothing(
    api: FakeBotAPI, bot: Bot, aino: FakeUser, status: int, description: str
) -> None:
    api.fail_sends(aino.chat_id, status)
    with pytest.raises(NetworkError) as raised:
        await bot.send_message(aino.chat_id, "hei")
    assert type(raised.value) is NetworkError  # not BadRequest or TimedOut, its subclasses
    assert raised.value.message == description
    assert api.message_count(aino.chat_id) == 0
    assert sends(api) == 1
    assert api.stats()["failed_sends"] == 1


async def test_injected_chat_not_found_raises_bad_request(
    api: FakeBotAPI, bot: Bot, aino: FakeUser
) -> None:
    api.fail_sends(aino.chat_id, 400)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(aino.chat_id, "hei")
    assert api.message_count(aino.chat_id) == 0


async def test_dropped_connection_raises_network_error(
    api: FakeBotAPI, bot: Bot, aino: FakeUser
) -> None:
    api.fail_sends(aino.chat_id, DROP)
    with pytest.raises(NetworkError) as raised:
        await bot.send_message(aino.chat_id, "hei")
    assert type(raised.value) is NetworkError
    assert raised.value.message.startswith(("httpx.RemoteProtocolError", "httpx.ReadError"))
    assert api.message_count(aino.chat_id) == 0
    assert api.stats()["failed_sends"] == 1
    assert (await bot.send_message(aino.chat_id, "uudestaan")).text == "uudestaan"


async def test_failures_are_consumed_in_order_then_sends_work(
    api: FakeBotAPI, bot: Bot, aino: FakeUser
) -> None:
    other = api.user(2003, "Eero")
    await other.send("/start")
    api.fail_sends(aino.chat_id, 500, "drop")
    api.fail_sends(aino.chat_id, 403, ApiError(400, "Bad Request: message is too long"))

    await bot.send_message(other.chat_id, "muille ei")  # other chats are unaffected
    expected = [NetworkError, NetworkError, Forbidden, BadRequest]
    for n, error in enumerate(expected):
        with pytest.raises(TelegramError) as raised:
            await bot.send_message(aino.chat_id, f"yritys {n}")
        assert type(raised.value) is error
    assert str(raised.value) == "Message is too long"
    message = await bot.send_message(aino.chat_id, "perille")

    assert [m.text for m in api.messages(aino.chat_id)] == ["perille"]
    assert api.messages(aino.chat_id)[0].message_id == message.message_id
    assert sends(api) == 6
    assert api.stats()["failed_sends"] == 4
    assert api.stats()["messages_sent"] == 2


async def test_photos_and_documents_fail_too(api: FakeBotAPI, bot: Bot, aino: FakeUser) -> None:
    api.fail_sends(aino.chat_id, 503, DROP)
    with pytest.raises(NetworkError):
        await bot.send_photo(aino.chat_id, b"\x89PNG fake", caption="kuva")
    with pytest.raises(NetworkError):
        await bot.send_document(aino.chat_id, b"data", filename="a.txt")
    assert api.message_count(aino.chat_id) == 0
    assert (await bot.send_document(aino.chat_id, b"data", filename="a.txt")).document


async def test_failures_do_not_count_against_flood_limits() -> None:
    async with (
        FakeBotAPI(flood=FloodLimits(), clock=lambda: 1000.0) as api,
        Bot(api.token, base_url=api.base_url) as bot,
    ):
        user = api.user(7, "Pekka")
        await user.send("hei")
        api.fail_sends(user.chat_id, 500, 502, DROP, 503)
        for _ in range(4):
            with pytest.raises(NetworkError):
                await bot.send_message(user.chat_id, "ei perille")
        for n in range(3):  # the whole burst of three is still there
            await bot.send_message(user.chat_id, f"burst {n}")
        with pytest.raises(RetryAfter):
            await bot.send_message(user.chat_id, "one too many")
        assert api.stats() == {
            "requests_by_method": {"getMe": 1, "sendMessage": 8},
            "messages_sent": 3,
            "retry_after_429": 1,
            "failed_sends": 4,
        }


async def test_injected_429_is_a_retry_after(api: FakeBotAPI, bot: Bot, aino: FakeUser) -> None:
    api.fail_sends(aino.chat_id, 429)
    with pytest.raises(RetryAfter):
        await bot.send_message(aino.chat_id, "hei")
    assert api.stats()["retry_after_429"] == 1
    assert api.stats()["failed_sends"] == 1


async def test_stats_report_failed_sends_once_faults_are_used(api: FakeBotAPI) -> None:
    assert "failed_sends" not in api.stats()  # exact-match assertions on stats() still hold
    api.fail_sends(1)
    assert api.stats()["failed_sends"] == 0


@pytest.mark.parametrize("failure", [200, 302, 600, True, "close", None])
def test_unknown_failures_are_refused(failure: object) -> None:
    with pytest.raises(ValueError, match="send failure"):
        FakeBotAPI().fail_sends(1, failure)  # type: ignore[arg-type]


async def test_latency_delays_every_send(api: FakeBotAPI, bot: Bot, aino: FakeUser) -> None:
    loop = asyncio.get_running_loop()
    api.latency = 0.15
    started = loop.time()
    await bot.send_message(aino.chat_id, "hitaasti")
    assert loop.time() - started >= 0.15
    started = loop.time()
    await bot.get_me()  # only sends wait
    assert loop.time() - started < 0.15
    api.latency = 0.0
    started = loop.time()
    await bot.send_message(aino.chat_id, "nopeasti")
    assert loop.time() - started < 0.15


async def test_jitter_adds_seeded_random_delay() -> None:
    expected = random.Random(5).uniform(0, 0.2)
    async with FakeBotAPI(seed=5) as api, Bot(api.token, base_url=api.base_url) as bot:
        user = api.user(9, "Into")
        await user.send("/start")
        api.jitter = 0.2
        loop = asyncio.get_running_loop()
        started = loop.time()
        await bot.send_message(user.chat_id, "vaihtelevasti")
        assert expected <= loop.time() - started < expected + 0.15


async def test_stalled_send_is_delivered_before_its_answer(
    api: FakeBotAPI, bot: Bot, aino: FakeUser
) -> None:
    await bot.get_updates()  # settling needs every update fetched
    release = api.stall_after_delivery(aino.chat_id)
    sending = asyncio.create_task(bot.send_message(aino.chat_id, "pidossa"))
    await api.wait_for(lambda: api.held_responses == 1, timeout=1, what="held answer")
    assert [m.text for m in api.messages(aino.chat_id)] == ["pidossa"]
    await api.settle(quiet=0.05, timeout=1)  # held answers do not count as in flight
    assert not sending.done()

    release.set()
    message = await sending
    assert message.message_id == api.messages(aino.chat_id)[0].message_id
    assert message.text == "pidossa"
    assert api.held_responses == 0
    assert (await bot.send_message(aino.chat_id, "seuraava")).text == "seuraava"  # one hold


async def test_failed_send_does_not_take_the_hold(
    api: FakeBotAPI, bot: Bot, aino: FakeUser
) -> None:
    release = api.stall_after_delivery(aino.chat_id)
    api.fail_sends(aino.chat_id, 500)
    with pytest.raises(NetworkError):
        await bot.send_message(aino.chat_id, "epäonnistuu")
    sending = asyncio.create_task(bot.send_message(aino.chat_id, "pidossa"))
    await api.wait_for(lambda: api.held_responses == 1, timeout=1, what="held answer")
    release.set()
    await sending
    assert [m.text for m in api.messages(aino.chat_id)] == ["pidossa"]


async def test_client_killed_while_held_leaves_one_message(api: FakeBotAPI, aino: FakeUser) -> None:
    release = api.stall_after_delivery(aino.chat_id)
    async with Bot(api.token, base_url=api.base_url) as doomed:
        sending = asyncio.create_task(doomed.send_message(aino.chat_id, "kerran"))
        await api.wait_for(lambda: api.held_responses == 1, timeout=1, what="held answer")
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
    release.set()
    await api.wait_for(lambda: api.held_responses == 0, timeout=1, what="released answer")
    assert [m.text for m in api.messages(aino.chat_id)] == ["kerran"]
    assert api.stats()["messages_sent"] == 1


async def test_stop_drops_held_answers_without_hanging() -> None:
    api = FakeBotAPI()
    await api.start()
    user = api.user(2002, "Aino")
    await user.send("/start")
    api.stall_after_delivery(user.chat_id)
    async with Bot(api.token, base_url=api.base_url) as client:
        sending = asyncio.create_task(client.send_message(user.chat_id, "kesken"))
        await api.wait_for(lambda: api.held_responses == 1, timeout=1, what="held answer")
        async with asyncio.timeout(0.5):
            await api.stop()
            with pytest.raises(NetworkError):
                await sending
    assert api.held_responses == 0
    assert [m.text for m in api.messages(user.chat_id)] == ["kesken"]


async def test_stop_drops_sends_waiting_out_latency() -> None:
    api = FakeBotAPI()
    await api.start()
    user = api.user(9, "Into")
    await user.send("/start")
    api.latency = 30
    async with Bot(api.token, base_url=api.base_url) as client:
        sending = asyncio.create_task(client.send_message(user.chat_id, "hidas"))
        await api.wait_for(lambda: sends(api) == 1, timeout=1, what="the send")
        async with asyncio.timeout(0.5):
            await api.stop()
            with pytest.raises(NetworkError):
                await sending
    assert api.message_count(user.chat_id) == 0
