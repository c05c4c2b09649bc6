"""Meeting reminders, briefs and the morning digest on PTB's JobQueue (APScheduler).

The jobs hold no schedule of their own: `reschedule` asks the meeting service when each meeting
(and the digest) next falls due and replaces every `meeting:` job with one `run_once` job per wake.
It runs at start and after every change. When a job fires, `run_due` lets the service record what is
due (exactly once, in the transaction that finds it), sends it, and rebuilds the jobs.

Delays are computed from the services' clock, so a test that moves its clock and runs the jobs
sees exactly what a real clock would bring.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram.error import ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application

from bot.i18n import Html, Translator, translators
from bot.services.meetings import BRIEF, GroupRemoved, Outgoing
from handlers.context import ApuriContext, BotData
from handlers.meetings_render import (
    attend_keyboard,
    brief_text,
    digest_text,
    group_removed_text,
    reminder_text,
)
from handlers.task_messages import send

__all__ = ["JOB_PREFIX", "reschedule", "run_due", "send_quietly", "tell_group_removed"]

log = logging.getLogger(__name__)

JOB_PREFIX = "meeting:"

App = Application[Any, Any, Any, Any, BotData, Any]


async def reschedule(app: App) -> None:
    """Rebuild the meeting jobs from the database: one job per next wake, none doubled."""
    queue = app.job_queue
    if queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    services = app.bot_data.services
    async with app.bot_data.schedule_lock:
        wakes = await services.meetings.plan()
        now = services.clock()
        for job in queue.jobs():
            if job.name and job.name.startswith(JOB_PREFIX):
                job.schedule_removal()
        for wake in wakes:
            delay = max(wake.at - now, timedelta(0))
            queue.run_once(run_due, when=delay, name=wake.name, data=wake.at)
    log.debug("meeting jobs rebuilt: %d", len(wakes))


async def run_due(context: ApuriContext) -> None:
    """Send the reminders, briefs and digest that are due now; then rebuild the jobs."""
    services = context.services
    # One run at a time: a second job firing at the same instant must not pick up the deliveries
    # the first is still sending (it would send them twice).
    async with context.bot_data.delivery_lock:
        due = await services.meetings.claim_due()
        sent = 0
        for outgoing in due.outgoing:
            sent += await _deliver(context, outgoing)
    if due.digest_to:
        digest = await services.meetings.digest()
        zone = context.bot_data.timezone
        for person in due.digest_to:
            await send(context, person, digest_text(context.translator_for(person), digest, zone))
    if due.outgoing or due.skipped or due.digest_to:
        log.info(
            "meetings: %d of %d messages sent, %d stale reminders skipped, digest to %d",
            sent,
            len(due.outgoing),
            due.skipped,
            len(due.digest_to),
        )
    await reschedule(context.application)


async def _deliver(context: ApuriContext, outgoing: Outgoing) -> int:
    """Send one reminder or brief; record it delivered, or unreachable, or leave it to retry."""
    services = context.services
    delivery, meeting, occurrence, person = (
        outgoing.delivery,
        outgoing.meeting,
        outgoing.occurrence,
        outgoing.person,
    )
    zone = context.bot_data.timezone
    tr: Translator = (
        context.translator_for(person)
        if person is not None
        else translators()[context.bot_data.default_language]
    )
    if delivery.kind == BRIEF:
        text = brief_text(tr, await services.meetings.brief(meeting, occurrence), zone)
        keyboard = None
    else:
        text = reminder_text(tr, meeting, occurrence, zone)
        keyboard = attend_keyboard(tr, occurrence)
    try:
        await context.bot.send_message(delivery.chat_id, text, reply_markup=keyboard)
    except Forbidden:
        if person is not None:
            await services.people.unreachable(person.id)
            await services.meetings.undeliverable(delivery.id, "blocked")
        else:
            await services.meetings.undeliverable(delivery.id, "removed")
            removed = await services.meetings.group_left(delivery.chat_id)
            if removed is not None:
                await tell_group_removed(context, removed)
        return 0
    except ChatMigrated as exc:
        # The group became a supergroup: its meetings and this delivery move to the new id, and
        # the retry job sends it there.
        await services.meetings.group_migrated(delivery.chat_id, exc.new_chat_id)
        log.info("group %s became %s", delivery.chat_id, exc.new_chat_id)
        return 0
    except TimedOut:
        # Telegram has most likely delivered it: sending again risks a duplicate, so it counts as
        # delivered.
        log.warning("meeting delivery %s timed out; counted as delivered", delivery.id)
        await services.meetings.delivered(delivery.id)
        return 1
    except RetryAfter as exc:
        log.warning(
            "meeting delivery %s rate-limited: retry after %s", delivery.id, exc.retry_after
        )
        return 0
    except TelegramError as exc:
        log.warning("meeting delivery %s failed: %s", delivery.id, type(exc).__name__)
        return 0
    await services.meetings.delivered(delivery.id)
    if person is not None and person.unreachable_since is not None:
        await services.people.reachable(person.id)
    return 1


async def send_quietly(context: ApuriContext, chat_id: int, text: Html) -> None:
    """Send a notice; a chat out of reach is logged (no ids of people), not raised."""
    try:
        await context.bot.send_message(chat_id, text)
    except TelegramError as exc:
        log.info("could not tell chat of a meeting change: %s", type(exc).__name__)


async def tell_group_removed(context: ApuriContext, removed: GroupRemoved) -> None:
    """Tell the organisers of the group's meetings that their reminders cannot reach it."""
    if not removed.meetings:
        return
    for person in removed.organisers:
        tr = context.translator_for(person)
        await send(context, person, group_removed_text(tr, removed.group, removed.meetings))
