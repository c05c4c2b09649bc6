"""Shared steps of the meeting tests: the /meeting form driven by a coordinator, and the clock."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.i18n import translators
from handlers.meeting_jobs import JOB_PREFIX

fi = translators()["fi"]


def meeting_jobs(bot) -> dict[str, object]:
    """The meeting jobs now in the JobQueue, by name."""
    return {
        job.name: job
        for job in bot.app.job_queue.jobs()
        if job.name and job.name.startswith(JOB_PREFIX) and not job.removed
    }


async def run_meeting_jobs(bot, telegram, until: datetime | None = None) -> None:
    """Run every meeting job whose time has come on the fake clock, as APScheduler would."""
    now = until or bot.clock()
    for job in list(meeting_jobs(bot).values()):
        due = job.data if isinstance(job.data, datetime) else None
        if due is None or due <= now:
            await job.run(bot.app)
    await telegram.settle()


async def create_meeting(
    coordinator,
    *,
    title: str = "Koordinaatioryhmä",
    days: tuple[str, ...] = ("ti", "pe"),
    start: str = "9.00",
    duration: str = "60 min",
    where: str = "https://teams.example.com/l/meetup-join/abc",
    audience: str = "A role",
    choice: str | None = "vapaaehtoinen",
    reminders: str | None = None,
    tr=fi,
):
    """Fill in /meeting new through its buttons and typed answers; return the saved card."""
    await coordinator.ask("/meeting new")
    question = await coordinator.ask(title)
    for day in days:
        question = await coordinator.click_and_wait(question, day) or question
    question = await coordinator.click_and_wait(question, tr.plain("Done"))
    question = await coordinator.ask(start)
    question = await coordinator.click_and_wait(question, duration)
    question = await coordinator.ask(where)
    question = await coordinator.click_and_wait(question, tr.plain(audience))
    if choice is not None:
        question = await coordinator.click_and_wait(question, choice)
    if reminders is None:
        summary = await coordinator.click_and_wait(question, tr.plain("Keep these"))
    else:
        summary = await coordinator.ask(reminders)
    return await coordinator.click_and_wait(summary, tr.plain("✅ Save"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
