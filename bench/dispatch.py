"""Dispatch: offers accepted per second when 50 pairs press Accept at once, against a bare PTB bot.

Both bots run in this process against one fake Bot API in another process and handle up to 32
updates side by side (Apuri's `concurrent_updates(32)`), so the ratio isolates Apuri's own work:
the accept transaction, the card edits and the remembered messages. Only one bot polls at a time.

A round, not timed until the presses go in: each of the 50 pairs gets its own task on offer (pair
k covers only resident k's postal code, so every offer goes to exactly one pair, as the bot's own
Offer button would send it), then one member of every pair presses Accept on their offer, all 50
callback queries injected at once while the bot is polling. The clock stops when the bot has
finished handling all 50; a press's latency runs from the injection to the bot's
answerCallbackQuery coming back. The baseline gets the same 50 presses on offers it sent and
answers each and edits its message, without a database. Rounds alternate between the two bots
(the order flips every round) so that machine noise hits both alike; medians are reported.

The contended variant is a correctness figure, not a speed one: one task offered to all 50
pairs, all 100 volunteers press Accept at once, and exactly one pair must win.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, ExtBot

from bench.fake_server import FakeServerProcess
from bench.throughput import percentile
from bot.app import ApuriApplication, build_application
from bot.config import Settings
from bot.domain.people import Person, Role
from bot.domain.residents import ResidentInput
from bot.domain.tasks import MessageKind, Priority, Task, TaskKind, TaskMessage, TaskState
from bot.domain.windows import TimeWindow
from bot.i18n import translators
from handlers.callback_data import TaskAction
from handlers.context import ApuriContext
from handlers.jobs import SWEEP_JOB
from handlers.task_messages import send
from handlers.tasks_render import offer as render_offer
from tests.fakes import DEFAULT_TOKEN

__all__ = ["run"]

COORDINATOR_USER = 700_000
FIRST_VOLUNTEER = 700_001
SHARED_AREA = "70"  # every pair covers it: the contended task's resident lives there
SHARED_POSTAL_CODE = "70100"
ROUND_TIMEOUT = 120.0

_query_ids = itertools.count(1)


def _own_postal_code(k: int) -> str:
    """Pair k's own area (and resident k's postal code); no other pair covers it."""
    return f"{20000 + k:05d}"


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"V{user_id}", "language_code": "fi"}


def _press(user_id: int, message: Message, data: str) -> dict[str, Any]:
    """The callback_query update a Telegram client sends when the user presses a button."""
    return {
        "callback_query": {
            "id": f"{user_id}{next(_query_ids):08d}",
            "from": _user(user_id),
            "message": message.to_dict(),
            "chat_instance": f"instance-{message.chat_id}",
            "data": data,
        }
    }


@dataclass
class Round:
    seconds: float
    presses: int
    accepted: int
    latencies: list[float] = field(default_factory=list)
    answers: dict[str, bool] = field(default_factory=dict)  # query id -> shown as an alert

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds


class _Hooks:
    """Counts handled updates and times every answerCallbackQuery, for whichever bot polls."""

    def __init__(self) -> None:
        self._process_update = Application.process_update
        self._answer = ExtBot.answer_callback_query
        self.target = 0
        self.handled = 0
        self.answered: dict[str, tuple[float, bool]] = {}
        self.done = asyncio.Event()

    def install(self) -> None:
        hooks = self
        process_update, answer = self._process_update, self._answer

        async def counted(app: Application, update: object) -> None:
            try:
                await process_update(app, update)
            finally:
                hooks.handled += 1
                if hooks.handled >= hooks.target:
                    hooks.done.set()

        async def timed(bot: ExtBot, *args: Any, **kwargs: Any) -> bool:
            result = await answer(bot, *args, **kwargs)
            query_id = str(kwargs.get("callback_query_id", args[0] if args else ""))
            hooks.answered[query_id] = (time.perf_counter(), bool(kwargs.get("show_alert")))
            return result

        Application.process_update = counted  # type: ignore[method-assign]
        ExtBot.answer_callback_query = timed  # type: ignore[method-assign]

    def restore(self) -> None:
        Application.process_update = self._process_update  # type: ignore[method-assign]
        ExtBot.answer_callback_query = self._answer  # type: ignore[method-assign]

    def arm(self, target: int) -> None:
        self.target = target
        self.handled = 0
        self.answered = {}
        self.done = asyncio.Event()


async def _press_all(
    server: FakeServerProcess, app: Application, hooks: _Hooks, presses: list[dict]
) -> tuple[float, list[float], dict[str, bool]]:
    """Poll, inject every press at once, wait until all are handled; time and latencies."""
    hooks.arm(len(presses))
    assert app.updater is not None
    await app.updater.start_polling(timeout=1, poll_interval=0)
    await asyncio.sleep(0.1)  # the first long poll is parked on the server
    started = time.perf_counter()
    await asyncio.to_thread(server.inject, presses)
    await asyncio.wait_for(hooks.done.wait(), timeout=ROUND_TIMEOUT)
    elapsed = time.perf_counter() - started
    await app.updater.stop()
    ids = [p["callback_query"]["id"] for p in presses]
    missing = [i for i in ids if i not in hooks.answered]
    if missing:
        raise RuntimeError(f"{len(missing)} of {len(ids)} callback queries were not answered")
    latencies = [hooks.answered[i][0] - started for i in ids]
    answered = server.stats()["requests_by_method"].get("answerCallbackQuery", 0)
    if answered < len(ids):
        raise RuntimeError(f"only {answered} of {len(ids)} answers reached the server")
    return elapsed, latencies, {i: hooks.answered[i][1] for i in ids}


class Baseline:
    """A bare PTB bot: answer the query and edit the pressed message, nothing else."""

    def __init__(self, base_url: str, pairs: int) -> None:
        async def accept(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            query = update.callback_query
            assert query is not None
            await query.answer("OK")
            await query.edit_message_text(f"Accepted: {query.data}")

        self.pairs = pairs
        self.app = (
            Application.builder()
            .token(DEFAULT_TOKEN)
            .base_url(base_url)
            .concurrent_updates(32)
            .build()
        )
        self.app.add_handler(CallbackQueryHandler(accept))

    async def start(self) -> None:
        await self.app.initialize()
        await self.app.start()

    async def stop(self) -> None:
        await self.app.stop()
        await self.app.shutdown()

    async def round(self, server: FakeServerProcess, hooks: _Hooks) -> Round:
        server.reset()
        presses = []
        for k in range(self.pairs):
            user_id = FIRST_VOLUNTEER + 2 * k
            data = TaskAction(k + 1, "accept").pack()
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Accept", callback_data=data)]])
            message = await self.app.bot.send_message(user_id, "New task", reply_markup=keyboard)
            presses.append(_press(user_id, message, data))
        elapsed, latencies, answers = await _press_all(server, self.app, hooks, presses)
        return Round(elapsed, len(presses), len(presses), latencies, answers)


class Apuri:
    """The real application with a coordinator, 50 pairs and a resident in each pair's area."""

    def __init__(self, settings: Settings, pairs: int) -> None:
        self.settings = settings
        self.pairs = pairs
        self.app: ApuriApplication = build_application(settings)
        self.coordinator: Person | None = None
        self.pair_ids: list[int] = []
        self.residents: list[int] = []
        self.shared_resident = 0

    async def start(self) -> None:
        """Start the application the way RunningBot does, without polling yet."""
        app = self.app
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        # The sweep would first run a second after start, in the middle of a timed round.
        assert app.job_queue is not None
        for job in app.job_queue.get_jobs_by_name(SWEEP_JOB):
            job.schedule_removal()

    async def stop(self) -> None:
        app = self.app
        await app.stop()
        await app.shutdown()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)

    async def seed(self, server: FakeServerProcess, hooks: _Hooks) -> None:
        """Register everyone through invites, form the pairs, save the residents."""
        services = self.app.bot_data.services
        volunteers = []
        for user_id in range(COORDINATOR_USER, FIRST_VOLUNTEER + 2 * self.pairs):
            role = Role.COORDINATOR if user_id == COORDINATOR_USER else Role.VOLUNTEER
            name = f"Person {user_id - COORDINATOR_USER}"
            issued = await services.invites.create(None, role, name=name)
            redeemed = await services.invites.redeem(
                user_id, issued.code, telegram_name=name, language_code="fi"
            )
            if role is Role.COORDINATOR:
                self.coordinator = redeemed.person
            else:
                volunteers.append(redeemed.person)
        coordinator = self.coordinator
        assert coordinator is not None
        for k in range(self.pairs):
            first, second = volunteers[2 * k], volunteers[2 * k + 1]
            pair = await services.pairs.form(coordinator, first.id, second.id)
            self.pair_ids.append(pair.id)
            for member in (first, second):
                await services.pairs.set_areas(
                    member, frozenset({SHARED_AREA, _own_postal_code(k)})
                )
            saved = await services.residents.save(
                coordinator,
                ResidentInput(
                    name=f"Resident {k}",
                    street_address=f"Testikatu {k + 1}",
                    postal_code=_own_postal_code(k),
                    municipality="Kuopio",
                ),
            )
            self.residents.append(saved.resident.id)
        shared = await services.residents.save(
            coordinator,
            ResidentInput(
                name="Shared Resident",
                street_address="Kuusitie 7",
                postal_code=SHARED_POSTAL_CODE,
                municipality="Kuopio",
            ),
        )
        self.shared_resident = shared.resident.id
        # The fake Bot API only lets the bot write to chats it has seen: everyone says /whoami.
        greetings = [
            {
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private", "first_name": f"V{user_id}"},
                    "from": _user(user_id),
                    "text": "/whoami",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
                }
            }
            for user_id in range(COORDINATOR_USER, FIRST_VOLUNTEER + 2 * self.pairs)
        ]
        hooks.arm(len(greetings))
        assert self.app.updater is not None
        await self.app.updater.start_polling(timeout=1, poll_interval=0)
        await asyncio.to_thread(server.inject, greetings)
        await asyncio.wait_for(hooks.done.wait(), timeout=ROUND_TIMEOUT)
        await self.app.updater.stop()

    async def _offer(self, resident_id: int) -> tuple[Task, dict[int, Message]]:
        """Create and offer a task; send the offers as the Offer button does; return them."""
        services = self.app.bot_data.services
        assert self.coordinator is not None
        start = datetime.now(UTC) + timedelta(days=1)
        task = await services.dispatch.create(
            self.coordinator,
            resident_id=resident_id,
            kind=TaskKind.HOME_VISIT,
            window=TimeWindow(start=start, end=start + timedelta(hours=3)),
            priority=Priority.NORMAL,
            details="Kauppakassi",
        )
        offered = await services.dispatch.offer(self.coordinator, task.id)
        zone = self.app.bot_data.timezone
        messages: dict[int, Message] = {}
        remembered = []
        for person in offered.recipients:
            text, keyboard = render_offer(
                translators()[person.language], offered.task, offered.postal_code, zone
            )
            message = await send(ApuriContext(self.app), person, text, keyboard)
            if message is None:
                raise RuntimeError(f"the offer to person {person.id} was not delivered")
            messages[person.telegram_user_id] = message
            remembered.append(
                TaskMessage(
                    chat_id=message.chat_id,
                    message_id=message.message_id,
                    task_id=task.id,
                    person_id=person.id,
                    kind=MessageKind.OFFER,
                )
            )
        await services.dispatch.remember(remembered)
        return offered.task, messages

    async def round(self, server: FakeServerProcess, hooks: _Hooks) -> Round:
        """Every pair has its own task on offer; one member of each presses Accept at once."""
        server.reset()
        tasks, presses = [], []
        for k in range(self.pairs):
            task, messages = await self._offer(self.residents[k])
            user_id = FIRST_VOLUNTEER + 2 * k
            if set(messages) != {user_id, user_id + 1}:
                raise RuntimeError(f"task {task.id} was offered to {sorted(messages)}")
            tasks.append(task)
            presses.append(_press(user_id, messages[user_id], TaskAction(task.id, "accept").pack()))
        elapsed, latencies, answers = await _press_all(server, self.app, hooks, presses)
        accepted = 0
        for k, task in enumerate(tasks):
            view = await self._view(task.id)
            if (
                view.task.state is TaskState.ACCEPTED
                and view.task.holder.pair_id == (self.pair_ids[k])
            ):
                accepted += 1
        return Round(elapsed, len(presses), accepted, latencies, answers)

    async def contended(self, server: FakeServerProcess, hooks: _Hooks) -> dict[str, Any]:
        """One task offered to every pair; all volunteers press Accept at once."""
        server.reset()
        task, messages = await self._offer(self.shared_resident)
        data = TaskAction(task.id, "accept").pack()
        presses = [_press(user_id, message, data) for user_id, message in messages.items()]
        elapsed, latencies, answers = await _press_all(server, self.app, hooks, presses)
        view = await self._view(task.id)
        accepts = sum(1 for e in view.events if e.action.value == "accept")
        return {
            "presses": len(presses),
            "seconds": elapsed,
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "accepted": view.task.state is TaskState.ACCEPTED,
            "winning_pairs": accepts,
            "told_yes": sum(1 for alert in answers.values() if not alert),
            "told_taken": sum(1 for alert in answers.values() if alert),
        }

    async def _view(self, task_id: int) -> Any:
        assert self.coordinator is not None
        return await self.app.bot_data.services.dispatch.view(self.coordinator, task_id)


def _summary(rounds: list[Round]) -> dict[str, Any]:
    latencies = [x for r in rounds for x in r.latencies]
    return {
        "rate": statistics.median(r.rate for r in rounds),
        "seconds": statistics.median(r.seconds for r in rounds),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "accepted": sum(r.accepted for r in rounds),
        "presses": sum(r.presses for r in rounds),
    }


async def run(
    server: FakeServerProcess, *, pairs: int = 50, rounds: int = 5, contended: int = 3
) -> dict[str, Any]:
    """Return both bots' figures, their ratio and the contended runs."""
    hooks = _Hooks()
    hooks.install()
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(
                _env_file=None,
                TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
                TELEGRAM_API_BASE_URL=server.base_url,
                APURI_DATABASE=Path(folder) / "dispatch.sqlite3",
                APURI_SWEEP_SECONDS=3600,
                APURI_MESSAGES_PER_SECOND=1000,  # no flood control here: handler cost only
            )
            apuri = Apuri(settings, pairs)
            baseline = Baseline(server.base_url, pairs)
            await apuri.start()
            await baseline.start()
            try:
                await apuri.seed(server, hooks)
                # One warm-up round each, not counted.
                await baseline.round(server, hooks)
                await apuri.round(server, hooks)
                results: dict[str, list[Round]] = {"baseline": [], "apuri": []}
                for i in range(rounds):
                    order = ("baseline", "apuri") if i % 2 == 0 else ("apuri", "baseline")
                    for name in order:
                        bot = baseline if name == "baseline" else apuri
                        results[name].append(await bot.round(server, hooks))
                contended_runs = [await apuri.contended(server, hooks) for _ in range(contended)]
            finally:
                await baseline.stop()
                await apuri.stop()
    finally:
        hooks.restore()
    figures: dict[str, Any] = {name: _summary(measured) for name, measured in results.items()}
    figures["ratio"] = figures["apuri"]["rate"] / figures["baseline"]["rate"]
    figures["contended"] = contended_runs
    return figures
