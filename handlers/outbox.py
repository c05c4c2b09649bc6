"""The outbox worker: sends queued broadcast rows at Telegram's pace and reports on them.

One worker runs per bot, started after the database is open and stopped before it closes. It
reads due rows, waits for room under the flood limits (`FloodLimiter.slot`: the overall rate,
less one a second while people talk to the bot, and one a second into a private chat), marks
the row in flight just before its request leaves, and records what Telegram answered:

- a message delivered: the row is sent (an offer is remembered, to be edited when it is taken);
- 429: every send pauses for `retry_after` and the row goes back to the queue, no attempt spent;
- 403: the person blocked the bot; the row is `blocked` and the person marked unreachable;
- 400: refused for good (`failed`);
- a network fault or a 5xx: tried again later with growing waits, then `failed`;
- a timeout after the request left: `uncertain` (it may have arrived), never sent twice.

A graceful stop waits for the requests in flight, so nothing is left uncertain; a hard stop can
leave at most `concurrency` rows in flight, which the next start marks `uncertain`. Progress
messages are edited in place every few seconds, and each finished broadcast's report goes to its
author once. Logs carry row, broadcast and person ids only.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from typing import Any

import httpx
from telegram import Message
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application

from bot.domain.broadcasts import AttachmentKind, RowState
from bot.domain.people import Capability
from bot.i18n import Translator, translators
from bot.services.broadcasts import Delivery, Progress, Report
from handlers.broadcasts_render import (
    Part,
    message_parts,
    progress_keyboard,
    progress_text,
    report_text,
)
from handlers.context import BotData
from handlers.ratelimit import BULK, FloodLimiter
from handlers.task_messages import edit_message

__all__ = ["Outbox"]

log = logging.getLogger(__name__)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Outbox:
    """Send the outbox: at most `concurrency` requests at once, paced by the flood limiter."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, BotData, Any],
        limiter: FloodLimiter,
        *,
        concurrency: int = 8,
        idle: float = 0.5,
        progress_every: float = 2.0,
        drain: float = 10.0,
    ) -> None:
        self._app = app
        self._limiter = limiter
        self._concurrency = concurrency
        self._idle = idle
        self._progress_every = progress_every
        self._drain = drain
        self._wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._sends: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False
        self._shown: dict[int, str] = {}  # the progress text each progress message shows
        self._last_progress = 0.0

    @property
    def data(self) -> BotData:
        return self._app.bot_data

    async def start(self) -> None:
        """Mark what a hard stop left in flight, then start sending."""
        left = await self.data.services.broadcasts.recover()
        if left:
            log.warning("%d broadcast messages were in flight at a hard stop: uncertain", left)
        self._stopping = False
        self._loop = asyncio.create_task(self._run(), name="apuri-outbox")

    def wake(self) -> None:
        """Look for due rows now (a broadcast was queued or stopped)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop taking rows, let the requests in flight finish (up to `drain` s), then stop."""
        if self._loop is None:
            return
        self._stopping = True
        self._wake.set()
        loop, self._loop = self._loop, None
        try:
            await asyncio.wait_for(asyncio.shield(loop), self._drain)
        except TimeoutError:
            log.warning("the outbox did not drain in %.0f s; stopping hard", self._drain)
            self.kill()
            with contextlib.suppress(asyncio.CancelledError):
                await loop

    def kill(self) -> None:
        """Stop at once, as a crash would (tests use it): requests in flight are abandoned."""
        self._stopping = True
        for task in list(self._sends):
            task.cancel()
        if self._loop is not None:
            self._loop.cancel()
            self._loop = None

    # --- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._stopping:
                try:
                    started = await self._send_due()
                    await self._show_progress()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a database fault must not end the worker
                    log.error("outbox round failed: %s", type(exc).__name__, exc_info=exc)
                    started = 0
                if not started:
                    await self._rest()
        finally:
            if self._sends:
                await asyncio.gather(*self._sends, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._show_progress(force=True)

    async def _rest(self) -> None:
        """Wait for a wake-up, the next due row, or the next progress update."""
        wait = self._idle
        if self._in_flight:
            wait = min(wait, 0.1)
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)

    async def _send_due(self) -> int:
        """Start a send for every due row with a free slot; return how many started."""
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        due = await self.data.services.broadcasts.due(free + len(self._in_flight) + 16)
        started = 0
        for row_id, chat_id in due:
            if self._stopping or started >= free:
                break
            if row_id in self._in_flight or self._limiter.chat_wait(chat_id) > 0.05:
                continue  # its chat is full for now: others go first, it comes back next round
            self._in_flight.add(row_id)
            task = asyncio.create_task(self._deliver(row_id, chat_id))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
            started += 1
        if due and not started and not self._in_flight:
            await asyncio.sleep(0.05)  # every due row waits for its chat's bucket
        return started

    async def _deliver(self, row_id: int, chat_id: int) -> None:
        try:
            await self._send_row(row_id, chat_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("outbox row %s: %s", row_id, type(exc).__name__, exc_info=exc)
            with contextlib.suppress(Exception):  # not left `sending` until the next start
                await self.data.services.broadcasts.abandon(row_id)
        finally:
            self._in_flight.discard(row_id)
            self._wake.set()

    async def _send_row(self, row_id: int, chat_id: int) -> None:
        """Send a row's parts, each in its own place under the flood limits, and record them."""
        service = self.data.services.broadcasts
        delivery: Delivery | None = None
        parts: list[Part] = []
        index = 0
        while True:
            async with self._limiter.slot(chat_id):
                if delivery is None:
                    if self._stopping:
                        return
                    # Marked in flight only now, just before its request leaves.
                    delivery = await service.begin(row_id)
                    if delivery is None:
                        return
                    tr = _translator_of(self.data, delivery.person.language)
                    parts = message_parts(tr, delivery, self.data.timezone)
                    index = delivery.row.parts_sent
                    if index >= len(parts):
                        return
                message = await self._attempt(delivery, chat_id, parts[index])
            if message is None:
                return
            last = index == len(parts) - 1
            await service.part_sent(
                delivery, index, last=last, chat_id=message.chat_id, message_id=message.message_id
            )
            if last:
                return
            index += 1
            delivery = _advanced(delivery, index)

    async def _attempt(self, delivery: Delivery, chat_id: int, part: Part) -> Message | None:
        """Send one part; on a failure record it on the row and return None."""
        service = self.data.services.broadcasts
        try:
            return await self._send(chat_id, part)
        except RetryAfter:
            await service.throttled(delivery)
        except Forbidden:
            log.info("outbox row %s: person %s blocked us", delivery.row.id, delivery.person.id)
            await service.blocked(delivery)
        except BadRequest as exc:
            log.warning("outbox row %s refused: %s", delivery.row.id, exc.message[:80])
            await service.failed(delivery, "bad_request")
        except TimedOut as exc:
            if isinstance(exc.__cause__, _NOT_SENT):
                await self._faulted(delivery, "timeout")
            else:
                log.warning("outbox row %s timed out after sending", delivery.row.id)
                await service.uncertain(delivery, "timeout")
        except NetworkError as exc:
            if exc.__cause__ is None or isinstance(exc.__cause__, _NOT_SENT):
                await self._faulted(delivery, "network")  # a 5xx answer, or never sent
            else:
                # The connection broke after the request was written: it may have arrived.
                log.warning("outbox row %s: connection lost after sending", delivery.row.id)
                await service.uncertain(delivery, "network")
        except TelegramError as exc:  # 401, 409, a migrated chat …: this row cannot go
            log.warning("outbox row %s refused: %s", delivery.row.id, type(exc).__name__)
            await service.failed(delivery, type(exc).__name__)
        return None

    async def _faulted(self, delivery: Delivery, error: str) -> None:
        again = await self.data.services.broadcasts.faulted(delivery, error)
        log.warning(
            "outbox row %s: %s (attempt %d)%s",
            delivery.row.id,
            error,
            delivery.row.attempts + 1,
            "; will retry" if again else "; gave up",
        )

    async def _send(self, chat_id: int, part: Part) -> Message:
        bot = self._app.bot
        attachment = part.attachment
        if attachment is None:
            return await bot.send_message(
                chat_id, part.text, reply_markup=part.keyboard, rate_limit_args=BULK
            )
        if attachment.kind is AttachmentKind.PHOTO:
            return await bot.send_photo(
                chat_id, attachment.file_id, caption=part.text, rate_limit_args=BULK
            )
        return await bot.send_document(
            chat_id, attachment.file_id, caption=part.text, rate_limit_args=BULK
        )

    # --- progress and reports ----------------------------------------------------------------

    async def _show_progress(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < self._progress_every:
            return
        self._last_progress = now
        service = self.data.services.broadcasts
        for progress in await service.running():
            await self._edit_progress(progress)
        for report in await service.reports():
            await self._deliver_report(report)

    async def _edit_progress(self, progress: Progress) -> None:
        broadcast = progress.broadcast
        if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
            return
        author = progress.author
        tr = _translator_of(self.data, author.language if author else None)
        text = progress_text(tr, progress)
        if self._shown.get(broadcast.id) == text:
            return
        running = progress.tally.open > 0 and broadcast.finished_at is None
        keyboard = progress_keyboard(tr, broadcast.id) if running else None
        if await edit_message(
            self._app.bot,
            broadcast.progress_chat_id,
            broadcast.progress_message_id,
            text,
            keyboard,
        ):
            self._shown[broadcast.id] = text

    async def _deliver_report(self, report: Report) -> None:
        broadcast = report.broadcast
        self._shown.pop(broadcast.id, None)
        await self._edit_progress(
            Progress(broadcast=broadcast, tally=report.tally, author=report.author)
        )
        author = report.author
        if author is None or not author.active:
            return
        tr = _translator_of(self.data, author.language)
        text = report_text(tr, report, names=author.can(Capability.BROADCAST))
        try:
            await self._app.bot.send_message(author.telegram_user_id, text)
        except Forbidden:
            log.info("report of broadcast %s: its author blocked the bot", broadcast.id)
        except Exception as exc:
            log.warning(
                "report of broadcast %s not delivered: %s", broadcast.id, type(exc).__name__
            )
            await self.data.services.broadcasts.report_undelivered(broadcast.id)
            return
        log.info(
            "broadcast %s ended: %d sent, %d blocked, %d failed, %d uncertain",
            broadcast.id,
            report.tally[RowState.SENT],
            len(report.blocked),
            len(report.failed),
            len(report.uncertain),
        )


def _advanced(delivery: Delivery, parts_sent: int) -> Delivery:
    """Return the delivery with `parts_sent` parts sent (a retry resumes after them)."""
    return dataclasses.replace(
        delivery, row=delivery.row.model_copy(update={"parts_sent": parts_sent})
    )


def _translator_of(data: BotData, language: str | None) -> Translator:
    return translators()[language or data.default_language]
