"""A coordinator, two volunteer pairs, a caller, two parish contacts and a resident, all made
through the real bot: the cast of the dispatch and outcome-form tests.

The parish contacts belong to the organisation `PARISH`. A test module whose conversation-help
referrals should reach them overrides the settings:

    @pytest.fixture
    def settings(settings):
        return settings.model_copy(update={"parish_organisation": PARISH})
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain.residents import ResidentInput
from bot.domain.tasks import Holder, Priority, TaskKind
from bot.domain.windows import TimeWindow
from bot.i18n import translators
from handlers.jobs import SWEEP_JOB

fi = translators()["fi"]

PARISH = "Esimerkin seurakunta"

RESIDENT = ResidentInput(
    name="Hilkka Testinen",
    phone="+358401112233",
    street_address="Kuusitie 7 B 12",
    postal_code="70100",
    municipality="Kuopio",
    birth_year=1941,
    language="fi",
)
SECRETS = ("Hilkka", "Testinen", "Kuusitie", "401112233", "40 111")
VOLUNTEERS = (2001, 2002, 2003, 2004)


CALLER = 3001
PARTNERS = (4001, 4002)


class Team:
    """Aino coordinates; Bertil (sv) & Cecilia and Daniel (en) & Eeva are pairs; Frida (caller)
    phones residents; Gustav and Helmi are the parish's partner contacts."""

    def __init__(self, bot, telegram, users, people, resident) -> None:
        self.bot = bot
        self.telegram = telegram
        (
            self.aino,
            self.bertil,
            self.cecilia,
            self.daniel,
            self.eeva,
            self.frida,
            self.gustav,
            self.helmi,
        ) = users
        self.people = people
        self.resident = resident

    @property
    def services(self):
        return self.bot.app.bot_data.services

    @property
    def coordinator(self):
        return self.people["aino"]

    async def task(self, *, hours: float = 3, start_in: float = 2, kind=TaskKind.HOME_VISIT):
        now = self.bot.clock()
        window = TimeWindow(
            start=now + timedelta(hours=start_in), end=now + timedelta(hours=start_in + hours)
        )
        return await self.services.dispatch.create(
            self.coordinator,
            resident_id=self.resident.id,
            kind=kind,
            window=window,
            priority=Priority.NORMAL,
            details="Kauppakassi",
        )

    async def offer(self, task_id: int):
        """Offer through /task N and the coordinator's button; return each volunteer's offer."""
        view = await self.aino.ask(f"/task {task_id}")
        await self.aino.click_and_wait(view, fi.plain("Offer to available pairs"))
        offers: dict[int, object] = {}
        for _ in range(50):  # a loaded machine may deliver the four offers after one settle
            await self.telegram.settle()
            offers = {
                user_id: next(
                    (
                        m
                        for m in reversed(self.telegram.messages(user_id))
                        if f"#{task_id}" in m.text
                    ),
                    None,
                )
                for user_id in VOLUNTEERS
            }
            if all(offers.values()):
                return offers
            await asyncio.sleep(0.1)
        raise AssertionError(f"offers of task #{task_id} did not reach every volunteer: {offers}")

    async def phone_check(self):
        """Create a phone check for the resident and hand it to Frida, the caller."""
        task = await self.task(kind=TaskKind.PHONE_CHECK)
        await self.services.dispatch.assign(
            self.coordinator, task.id, Holder(person_id=self.people["frida"].id)
        )
        return task

    async def sweep(self) -> None:
        (job,) = self.bot.app.job_queue.get_jobs_by_name(SWEEP_JOB)
        await job.run(self.bot.app)
        await self.telegram.settle()


@pytest.fixture
async def team(bot, telegram, register):
    users = [
        await register(1001, "Aino", "coordinator"),
        await register(2001, "Bertil", "volunteer", language="sv"),
        await register(2002, "Cecilia", "volunteer"),
        await register(2003, "Daniel", "volunteer", language="en"),
        await register(2004, "Eeva", "volunteer"),
        await register(CALLER, "Frida", "caller"),
        await register(PARTNERS[0], "Gustav", "partner", organisation=PARISH),
        await register(PARTNERS[1], "Helmi", "partner", language="sv", organisation=PARISH),
    ]
    services = bot.app.bot_data.services
    people = {
        name: await services.people.identify(user.user_id)
        for name, user in zip(
            ("aino", "bertil", "cecilia", "daniel", "eeva", "frida", "gustav", "helmi"),
            users,
            strict=True,
        )
    }
    aino = people["aino"]
    await services.pairs.form(aino, people["bertil"].id, people["cecilia"].id)
    await services.pairs.form(aino, people["daniel"].id, people["eeva"].id)
    resident = (await services.residents.save(aino, RESIDENT)).resident
    return Team(bot, telegram, users, people, resident)
