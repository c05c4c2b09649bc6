"""Broadcast: 1,000 recipients against a fake Bot API that enforces Telegram's flood limits.

The fake server runs in another process with its flood control on (30 messages a second over all
chats, 1 a second per private chat with bursts of 3; anything more is answered 429 with
retry_after). Three runs, each to the same 1,000 volunteers with its own marker text:

(a) the baseline: a bare PTB bot sending the 1,000 messages in a loop paced at exactly the limit
    (one every 1/30 s, eight requests in flight), no database: what this machine and the server
    allow at best;
(b) Apuri: a coordinator's broadcast queued by the service, sent by the outbox worker; meanwhile
    20 other people each send /whoami every half second, and the time from injecting their update
    to the reply leaving the bot is an interactive reply's latency;
(c) Apuri again, with the bot stopped (gracefully, as on a deploy) when 40 % has gone out and
    started again on the same database.

For every run the server's own records are counted per chat: a recipient with no message carrying
the run's marker is lost, one with more than one is duplicated. The delivered rate is messages
over the time from queueing to the last delivery, printed as a fraction of the limit and as a
ratio to the baseline.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.ext import ExtBot

from bench.fake_server import FakeServerProcess
from bench.throughput import percentile
from bot.app import ApuriApplication, build_application
from bot.config import Settings
from bot.domain.broadcasts import Audience, AudienceKind
from bot.domain.people import Role
from storage.db import Database
from storage.store import SqliteStore
from tests.fakes import DEFAULT_TOKEN

__all__ = ["LIMIT", "run"]

LIMIT = 30  # messages a second the fake server allows over all chats
COORDINATOR = 800_000
FIRST_VOLUNTEER = 800_001
FIRST_CHATTER = 900_000
CHATTERS = 20
CHAT_EVERY = 0.5  # seconds between two /whoami from the chatters, taking turns
RUN_TIMEOUT = 240.0


@dataclass
class Run:
    label: str
    delivered: int
    seconds: float
    lost: int
    duplicated: int
    throttled: int  # 429 answers during the run
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0


async def _seed(path: Path, recipients: int) -> None:
    db = await Database.open(path)
    await db.migrate()
    store = SqliteStore(db)
    now = datetime.now(UTC)
    async with store.transaction():
        await store.people.add(
            telegram_user_id=COORDINATOR,
            name="Koordinaattori",
            language="fi",
            organisation_id=None,
            role=Role.COORDINATOR,
            at=now,
        )
        for i in range(recipients):
            await store.people.add(
                telegram_user_id=FIRST_VOLUNTEER + i,
                name=f"Vapaaehtoinen {i}",
                language=("fi", "sv", "en")[i % 3],
                organisation_id=None,
                role=Role.VOLUNTEER,
                at=now,
            )
        for i in range(CHATTERS):
            await store.people.add(
                telegram_user_id=FIRST_CHATTER + i,
                name=f"Soittaja {i}",
                language="fi",
                organisation_id=None,
                role=Role.CALLER,
                at=now,
            )
    await db.close()


async def _baseline(server: FakeServerProcess, recipients: int, marker: str) -> Run:
    """Send one message to each recipient at exactly the limit, eight in flight, no database."""
    server.reset()
    bot = Bot(DEFAULT_TOKEN, base_url=server.base_url)
    await bot.initialize()
    slots = asyncio.Semaphore(8)
    throttled = 0

    async def one(chat_id: int) -> None:
        nonlocal throttled
        async with slots:
            while True:
                try:
                    await bot.send_message(chat_id, f"{marker} hei")
                    return
                except Exception as exc:  # a 429 here means the pacing was too tight
                    throttled += 1
                    await asyncio.sleep(float(getattr(exc, "retry_after", 1)))

    started = time.perf_counter()
    tasks = []
    interval = 1.0 / LIMIT
    for i in range(recipients):
        target = started + i * interval
        await asyncio.sleep(max(0.0, target - time.perf_counter()))
        tasks.append(asyncio.create_task(one(FIRST_VOLUNTEER + i)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    await bot.shutdown()
    lost, duplicated = _count(server, recipients, marker)
    return Run(
        "(a) ideal pacer, no database (baseline)",
        recipients - lost,
        seconds,
        lost,
        duplicated,
        throttled,
    )


class _Replies:
    """Times the reply to each chatter's /whoami: from injection to the reply coming back."""

    def __init__(self) -> None:
        self.sent_at: dict[int, float] = {}
        self.latencies: list[float] = []
        self._original = ExtBot.send_message

    def install(self) -> None:
        original = self._original
        replies = self

        async def timed(bot: ExtBot, chat_id: Any, *args: Any, **kwargs: Any) -> Any:
            result = await original(bot, chat_id, *args, **kwargs)
            started = replies.sent_at.pop(chat_id, None) if isinstance(chat_id, int) else None
            if started is not None:
                replies.latencies.append(time.perf_counter() - started)
            return result

        ExtBot.send_message = timed  # type: ignore[method-assign]

    def restore(self) -> None:
        ExtBot.send_message = self._original  # type: ignore[method-assign]


async def _chatter(server: FakeServerProcess, replies: _Replies, stop: asyncio.Event) -> None:
    """Every `CHAT_EVERY` seconds the next of the chatters sends /whoami (a few a second)."""
    message_id = 1
    turn = 0
    while not stop.is_set():
        user_id = FIRST_CHATTER + turn % CHATTERS
        turn += 1
        if user_id not in replies.sent_at:  # else still waiting for its last reply
            replies.sent_at[user_id] = time.perf_counter()
            message_id += 1
            await asyncio.to_thread(server.inject, [_whoami(user_id, message_id)])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), CHAT_EVERY)


def _whoami(user_id: int, message_id: int) -> dict[str, Any]:
    return {
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": f"U{user_id}"},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": f"U{user_id}",
                "language_code": "fi",
            },
            "text": "/whoami",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        }
    }


async def _start(settings: Settings) -> ApuriApplication:
    app = build_application(settings)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=1, poll_interval=0)
    return app


async def _stop(app: ApuriApplication) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    assert app.post_stop is not None and app.post_shutdown is not None
    await app.post_stop(app)
    await app.shutdown()
    await app.post_shutdown(app)


async def _apuri(
    server: FakeServerProcess,
    settings: Settings,
    recipients: int,
    marker: str,
    *,
    restart_at: float | None,
    label: str,
    chatter: bool,
) -> Run:
    server.reset()
    replies = _Replies()
    replies.install()
    app = await _start(settings)
    stop = asyncio.Event()
    chatting = asyncio.create_task(_chatter(server, replies, stop) if chatter else stop.wait())
    try:
        services = app.bot_data.services
        coordinator = await services.people.identify(COORDINATOR)
        assert coordinator is not None
        started = time.perf_counter()
        _, count = await services.broadcasts.send_message(
            coordinator, Audience(kind=AudienceKind.VOLUNTEERS), f"{marker} hei kaikki", None
        )
        assert count == recipients, count
        assert app.bot_data.outbox is not None
        app.bot_data.outbox.wake()
        restarted = restart_at is None
        deadline = started + RUN_TIMEOUT
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
            delivered = _delivered(server, marker)
            if not restarted and delivered >= recipients * (restart_at or 0):
                await _stop(app)
                app = await _start(settings)
                services = app.bot_data.services
                restarted = True
            tally = await services.broadcasts.running()
            if delivered >= recipients or not tally:
                break
        seconds = time.perf_counter() - started
        await asyncio.sleep(0.5)  # let a late duplicate show, if there were one
    finally:
        stop.set()
        await chatting
        await _stop(app)
        replies.restore()
    lost, duplicated = _count(server, recipients, marker)
    throttled = int(server.stats().get("retry_after_429", 0))
    return Run(label, recipients - lost, seconds, lost, duplicated, throttled, replies.latencies)


def _delivered(server: FakeServerProcess, marker: str) -> int:
    return len(server.chat_counts(marker))


def _count(server: FakeServerProcess, recipients: int, marker: str) -> tuple[int, int]:
    counts = server.chat_counts(marker)
    lost = sum(1 for i in range(recipients) if counts.get(FIRST_VOLUNTEER + i, 0) == 0)
    duplicated = sum(1 for n in counts.values() if n > 1)
    return lost, duplicated


async def run(server: FakeServerProcess, *, recipients: int) -> dict[str, Any]:
    """Return the three runs."""
    server.register_chats([COORDINATOR, *range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + recipients)])
    server.register_chats(list(range(FIRST_CHATTER, FIRST_CHATTER + CHATTERS)))
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.sqlite3"
        await _seed(database, recipients)
        settings = Settings(
            _env_file=None,
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_API_BASE_URL=server.base_url,
            APURI_DATABASE=database,
            APURI_LOG_LEVEL="WARNING",
            APURI_MESSAGES_PER_SECOND=LIMIT,
        )
        baseline = await _baseline(server, recipients, "BENCH-A")
        apuri = await _apuri(
            server,
            settings,
            recipients,
            "BENCH-B",
            restart_at=None,
            label="(b) Apuri outbox",
            chatter=False,
        )
        chatting = await _apuri(
            server,
            settings,
            recipients,
            "BENCH-C",
            restart_at=None,
            label="(c) Apuri, with replies to /whoami",
            chatter=True,
        )
        restarted = await _apuri(
            server,
            settings,
            recipients,
            "BENCH-D",
            restart_at=0.4,
            label="(d) Apuri, restarted at 40 %",
            chatter=False,
        )
    return {
        "runs": [baseline, apuri, chatting, restarted],
        "ratio": apuri.rate / baseline.rate,
    }


def p50_p99(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return statistics.median(values) * 1000, percentile(values, 0.99) * 1000
