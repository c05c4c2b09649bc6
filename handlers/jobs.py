"""Jobs on the clock, run by PTB's JobQueue (APScheduler).

The database is the source of truth: the one repeating job asks the dispatch service what is due
now (reminders, offers to escalate, overdue tasks, tasks whose holder left, cards left unscrubbed,
unfinished outcome forms to remind of or expire, campaign calls whose callers went quiet) and
sends it. Every item is marked done in the
same transaction that finds it, so a restart sends nothing twice, and whatever fell due while the
bot was down is picked up by the first run.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import Application

from bot.services.dispatch import Sweep
from handlers.campaigns import deliver_expired
from handlers.context import ApuriContext
from handlers.forms import deliver_draft_sweep
from handlers.task_messages import scrub, send
from handlers.tasks import tell_released
from handlers.tasks_render import escalation_text, overdue_text, reminder

__all__ = ["SWEEP_JOB", "schedule", "sweep"]

log = logging.getLogger(__name__)

SWEEP_JOB = "dispatch-sweep"


def schedule(app: Application[Any, Any, Any, Any, Any, Any], every_seconds: float) -> None:
    """Run the dispatch sweep now and then every `every_seconds` (one job, never doubled)."""
    queue = app.job_queue
    if queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")
    for job in queue.get_jobs_by_name(SWEEP_JOB):
        job.schedule_removal()
    queue.run_repeating(sweep, interval=every_seconds, first=1, name=SWEEP_JOB)


async def sweep(context: ApuriContext) -> None:
    """Send what the clock brought: reminders, escalations, overdue lists; tidy leftovers."""
    result = await context.services.dispatch.sweep()
    await _deliver(context, result)
    await deliver_draft_sweep(context)
    await deliver_expired(context)


async def _deliver(context: ApuriContext, result: Sweep) -> None:
    zone = context.bot_data.timezone
    for view, holders in result.reminders:
        for person in holders:
            await send(context, person, *reminder(context.translator_for(person), view, zone))
    for coordinator in result.coordinators:
        tr = context.translator_for(coordinator)
        for view in result.escalated:
            await send(context, coordinator, *escalation_text(tr, view, zone))
        if result.overdue:
            await send(context, coordinator, *overdue_text(tr, result.overdue, zone))
    await tell_released(context, result.released)
    for view, messages in result.unscrubbed:
        await scrub(context, view.task, view.postal_code, messages, result.audience)
    if result.reminders or result.escalated or result.overdue or result.released:
        log.info(
            "sweep: %d reminders, %d escalated, %d overdue, %d released",
            len(result.reminders),
            len(result.escalated),
            len(result.overdue),
            len(result.released),
        )
