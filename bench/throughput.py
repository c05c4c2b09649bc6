"""Updates per second and handler latency: a bare PTB echo bot (the baseline) against Apuri.

Both bots run in this process and poll the fake Bot API in another process; the echo bot handles
updates one at a time (PTB's default), Apuri up to `APURI_CONCURRENT_UPDATES` (8) side by side, so
its latency includes waiting for the updates handled alongside. Each round preloads N updates from
N different users, starts polling and stops the clock when the N-th update has been handled; the
latency of an update is the time PTB spends in `process_update` for it, the reply's HTTP round
trip included. Rounds alternate between the two bots so that machine noise hits both alike;
medians are reported.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.fake_server import FakeServerProcess
from bot.app import build_application
from bot.config import Settings
from bot.domain.people import Role
from storage.db import Database
from storage.store import SqliteStore
from tests.fakes import DEFAULT_TOKEN

FIRST_USER = 500_000


@dataclass
class Round:
    seconds: float
    latencies: list[float] = field(default_factory=list)

    def rate(self, n: int) -> float:
        return n / self.seconds


class _Timing:
    """Times every `Application.process_update` and signals when N updates are done."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.target = 0
        self.done = asyncio.Event()
        self._original = Application.process_update

    def install(self) -> None:
        original = self._original
        timing = self

        async def timed(app: Application, update: object) -> None:
            started = time.perf_counter()
            await original(app, update)
            timing.latencies.append(time.perf_counter() - started)
            if len(timing.latencies) >= timing.target:
                timing.done.set()

        Application.process_update = timed  # type: ignore[method-assign]

    def restore(self) -> None:
        Application.process_update = self._original  # type: ignore[method-assign]

    def arm(self, target: int) -> None:
        self.latencies = []
        self.target = target
        self.done = asyncio.Event()


def updates(n: int, text: str) -> list[dict]:
    now = int(time.time())
    return [
        {
            "message": {
                "message_id": 1,
                "date": now,
                "chat": {"id": FIRST_USER + i, "type": "private", "first_name": f"U{i}"},
                "from": {
                    "id": FIRST_USER + i,
                    "is_bot": False,
                    "first_name": f"U{i}",
                    "language_code": "fi",
                },
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
            }
        }
        for i in range(n)
    ]


def echo_application(base_url: str) -> Application:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    app = Application.builder().token(DEFAULT_TOKEN).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    return app


async def seed_people(path: Path, n: int) -> None:
    db = await Database.open(path)
    await db.migrate()
    store = SqliteStore(db)
    now = datetime.now(UTC)
    async with store.transaction():
        for i in range(n):
            await store.people.add(
                telegram_user_id=FIRST_USER + i,
                name=f"Helper {i}",
                language="fi",
                organisation_id=None,
                role=Role.VOLUNTEER,
                at=now,
            )
    await db.close()


async def one_round(
    server: FakeServerProcess,
    make_app: Callable[[], Application],
    timing: _Timing,
    n: int,
) -> Round:
    server.reset()
    server.inject(updates(n, "/whoami"))
    app = make_app()
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    timing.arm(n)
    started = time.perf_counter()
    assert app.updater is not None
    await app.updater.start_polling(timeout=1, poll_interval=0)
    await asyncio.wait_for(timing.done.wait(), timeout=300)
    elapsed = time.perf_counter() - started
    latencies = list(timing.latencies)
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
    stats = server.stats()
    if stats["messages_sent"] < n:
        raise RuntimeError(f"only {stats['messages_sent']} of {n} replies reached the server")
    return Round(seconds=elapsed, latencies=latencies)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(server: FakeServerProcess, *, n: int, rounds: int) -> dict[str, Any]:
    """Return the figures of both bots and their ratio."""
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.sqlite3"
        await seed_people(database, n)
        settings = Settings(
            _env_file=None,
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_API_BASE_URL=server.base_url,
            APURI_DATABASE=database,
            # This fake server has no flood control; the bench measures the handlers' own cost,
            # so the bot's flood limiter (30 a second, like Telegram) is set out of the way.
            APURI_MESSAGES_PER_SECOND=1000,
        )
        timing = _Timing()
        timing.install()
        try:
            results: dict[str, list[Round]] = {"echo": [], "apuri": []}
            # One warm-up round each, not counted: imports, connection pools, catalogs.
            await one_round(server, lambda: echo_application(server.base_url), timing, 100)
            await one_round(server, lambda: build_application(settings), timing, 100)
            for _ in range(rounds):
                results["echo"].append(
                    await one_round(server, lambda: echo_application(server.base_url), timing, n)
                )
                results["apuri"].append(
                    await one_round(server, lambda: build_application(settings), timing, n)
                )
        finally:
            timing.restore()
    figures: dict[str, Any] = {}
    for name, measured in results.items():
        all_latencies = [x for r in measured for x in r.latencies]
        figures[name] = {
            "rate": statistics.median(r.rate(n) for r in measured),
            "p50_ms": percentile(all_latencies, 0.50) * 1000,
            "p99_ms": percentile(all_latencies, 0.99) * 1000,
        }
    figures["ratio"] = figures["apuri"]["rate"] / figures["echo"]["rate"]
    return figures
