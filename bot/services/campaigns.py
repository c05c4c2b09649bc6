"""Phone-check campaigns: coordinators start them, callers take the next resident, outcomes route.

**Claims.** "Next call" claims one entry of the list in the same transaction that creates the call
(a phone-check task the caller holds), so no two callers get the same resident. A caller holds one
call at a time: pressing again shows the call they have. The claim runs out `claim_timeout` after
it was made, or after the caller's last step in its report, whichever is later; the sweep then
hands the resident back to the list and tells the caller.

**Outcomes.** The caller reports with the phone-check form; `OutcomeService.submit` asks this
service for the campaign's attempt count first and, in the same transaction, tells it what the
follow-up rules decided (`after_outcome_within`). An unanswered call with tries left closes that
call's task and puts the resident back on the list, due after the campaign's gap; the last
unanswered call, a wrong number or a missing number finish the entry with a home visit for the
pairs; a resident who asks not to be called is finished in every campaign and never listed again.

**Least privilege.** A caller sees a resident's name, phone, age, language and note only while the
call is theirs; the card is scrubbed when the call ends. Coordinators see the figures and names of
callers, never a list of residents' contacts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.campaigns import (
    AfterCall,
    CallResult,
    Campaign,
    CampaignError,
    CampaignFigures,
    CampaignProblem,
    CampaignSpec,
    CampaignState,
    Entry,
    EntryResult,
    EntryState,
    Selection,
    after_call,
)
from bot.domain.errors import NotAllowed
from bot.domain.outcomes import PHONE_UNREACHED, Decision
from bot.domain.people import Capability, Person, Role
from bot.domain.resident_import import InvalidFile, ParsedImport, read_residents
from bot.domain.residents import Resident, match_key
from bot.domain.tasks import (
    Action,
    MessageKind,
    Priority,
    Task,
    TaskKind,
    TaskMessage,
    TaskState,
    next_state,
)
from bot.domain.windows import Preset, preset
from bot.services.broadcasts import BroadcastService
from bot.services.dispatch import Closed, Closing, DispatchService
from bot.services.people import require
from bot.services.ports import Clock, UnitOfWork
from bot.services.residents import ImportReport, ResidentService

__all__ = [
    "NO_PHONE",
    "Call",
    "CallEnd",
    "CallFacts",
    "CampaignService",
    "Expired",
    "Overview",
    "Started",
]

NO_PHONE = "no_phone"  # the cause of a home visit for a listed resident without a phone number
_LIST_LIMIT = 10


@dataclass(frozen=True, slots=True)
class Started:
    """A campaign that started: how many are listed and the home visits arranged at once."""

    campaign: Campaign
    listed: int
    visits: int  # residents without a phone: a home visit each
    offered: int  # offers queued to the pairs for those visits
    uncovered: int  # visits no available pair covers: they wait in the task list


@dataclass(frozen=True, slots=True)
class Call:
    """A resident for a caller to phone now; `already`: the call they had (pressed again)."""

    campaign: Campaign
    entry: Entry
    resident: Resident
    task: Task
    already: bool = False

    @property
    def attempt(self) -> int:
        """Return which attempt this call is (1 for the first)."""
        return self.entry.attempts + 1


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the follow-up rules need from the campaign: its attempts, and those used up."""

    attempts: int
    failed_before: int


@dataclass(frozen=True, slots=True)
class CallEnd:
    """What a reported call did to the list."""

    campaign: Campaign
    result: CallResult
    finished: EntryResult | None
    retry_at: datetime | None  # another try falls due then


@dataclass(frozen=True, slots=True)
class Expired:
    """A claim ran out: the resident went back to the list; the caller is told."""

    campaign: Campaign
    caller: Person | None
    closed: Closed


@dataclass(frozen=True, slots=True)
class Overview:
    """A campaign with its figures; `next_due`: when the next retry falls due, if nobody waits
    to be called now."""

    campaign: Campaign
    figures: CampaignFigures
    next_due: datetime | None = None


class CampaignService:
    """Start and steer campaigns; hand out calls; route their outcomes; expire quiet claims."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        dispatch: DispatchService,
        broadcasts: BroadcastService,
        residents: ResidentService,
        *,
        zone: ZoneInfo,
        claim_timeout: timedelta = timedelta(minutes=30),
        attempts: int = 2,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._dispatch = dispatch
        self._broadcasts = broadcasts
        self._residents = residents
        self._zone = zone
        self.claim_timeout = claim_timeout
        self.attempts = attempts
        self._presses: list[tuple[Person, int | None, asyncio.Future[Call]]] = []
        self._drainer: asyncio.Task[None] | None = None

    # --- coordinators -------------------------------------------------------------------------

    async def callers(self, actor: Person) -> list[Person]:
        """Return the people a coordinator may choose as callers: active, with the caller role."""
        require(actor, Capability.MANAGE_CAMPAIGNS)
        people = await self._uow.people.active_with_role(Role.CALLER)
        return sorted(people, key=lambda p: (p.name.casefold(), p.id))

    async def count(self, actor: Person, selection: Selection) -> tuple[int, int]:
        """Return how many residents a selection lists, and how many have no phone number."""
        require(actor, Capability.MANAGE_CAMPAIGNS)
        return await self._uow.campaigns.count_matching(selection)

    async def start(
        self, actor: Person, spec: CampaignSpec, resident_ids: Sequence[int] | None = None
    ) -> Started:
        """Start a campaign: list its residents and arrange home visits for those without phone.

        With `resident_ids` (an imported list) exactly those residents are listed, in order.
        """
        require(actor, Capability.MANAGE_CAMPAIGNS)
        spec = spec.checked()
        async with self._uow.transaction():
            author = await self._uow.people.get(actor.id)
            if author is None or not author.can(Capability.MANAGE_CAMPAIGNS):
                raise NotAllowed(Capability.MANAGE_CAMPAIGNS.value)
            for person_id in spec.callers:
                caller = await self._uow.people.get(person_id)
                if caller is None or not caller.can(Capability.CALL):
                    raise CampaignError(CampaignProblem.NO_CALLERS)
            now = self._clock()
            campaign = await self._uow.campaigns.add(spec, actor.id, now)
            if resident_ids is None:
                listed = await self._uow.campaigns.fill(campaign.id, spec.selection, now)
            else:
                listed = await self._uow.campaigns.fill_with(campaign.id, resident_ids, now)
            if not listed:
                raise CampaignError(CampaignProblem.NOBODY)  # rolls the campaign back
            visits: list[Task] = []
            window = preset(Preset.THREE_DAYS, now, self._zone)
            for entry in await self._uow.campaigns.without_phone(campaign.id):
                visit = await self._dispatch.create_within(
                    actor.id,
                    resident_id=entry.resident_id,
                    kind=TaskKind.HOME_VISIT,
                    window=window,
                    priority=Priority.NORMAL,
                    details="",
                    cause=NO_PHONE,
                )
                await self._uow.campaigns.finish(
                    entry, EntryResult.NO_PHONE, now, visit_task_id=visit.id
                )
                visits.append(visit)
            offered = 0
            uncovered = len(visits)
            if visits and author.can(Capability.BROADCAST):
                queued = await self._broadcasts.queue_offers_within(author, visits)
                if queued is not None:
                    offered = queued[1]
                    uncovered = 0
                    for visit in visits:
                        task = await self._uow.tasks.get(visit.id)
                        if task is not None and task.state is TaskState.OPEN:
                            uncovered += 1
            await self._uow.audit.record(
                at=now,
                actor_id=actor.id,
                action="campaign.start",
                subject_id=campaign.id,
                detail=str(listed),
            )
        return Started(
            campaign=campaign,
            listed=listed,
            visits=len(visits),
            offered=offered,
            uncovered=uncovered,
        )

    async def read_list(
        self, actor: Person, data: bytes, *, default_language: str
    ) -> ParsedImport | InvalidFile:
        """Read an uploaded calling list without storing anything: its rows, or why not."""
        require(actor, Capability.MANAGE_CAMPAIGNS)
        require(actor, Capability.MANAGE_RESIDENTS)
        try:
            return await asyncio.to_thread(
                read_residents, data, self._clock().year, default_language
            )
        except InvalidFile as error:
            return error

    async def listable(self, actor: Person, parsed: ParsedImport) -> int:
        """Return how many residents a read list would call: each once, none who declined."""
        require(actor, Capability.MANAGE_CAMPAIGNS)
        keys = {match_key(r.resident.name, r.resident.phone) for r in parsed.valid}
        keyed = sorted(k for k in keys if k is not None)
        without_key = sum(1 for r in parsed.valid if r.resident.phone is None)
        declined = await self._uow.campaigns.declined_among(keyed)
        return len(keyed) - declined + without_key

    async def start_with_list(
        self, actor: Person, spec: CampaignSpec, data: bytes, *, default_language: str
    ) -> tuple[Started | None, ImportReport]:
        """Import a calling list (new residents stored, known ones updated), then call exactly
        its residents; (None, report) when the file could not be imported."""
        require(actor, Capability.MANAGE_CAMPAIGNS)
        spec.checked()  # refuse a bad spec before anything is stored
        report = await self._residents.import_csv(actor, data, default_language=default_language)
        if not report.read or not report.resident_ids:
            return None, report
        selection = Selection(imported=True)
        started = await self.start(
            actor, spec.model_copy(update={"selection": selection}), report.resident_ids
        )
        return started, report

    async def set_state(self, actor: Person, campaign_id: int, state: CampaignState) -> Campaign:
        """Pause, resume or close a campaign; calls under way finish whatever the state."""
        require(actor, Capability.MANAGE_CAMPAIGNS)
        async with self._uow.transaction():
            campaign = await self._campaign(campaign_id)
            if campaign.state is CampaignState.CLOSED:
                raise CampaignError(CampaignProblem.CLOSED)
            if campaign.state is not state:
                now = self._clock()
                await self._uow.campaigns.set_state(campaign.id, state, now)
                await self._uow.audit.record(
                    at=now,
                    actor_id=actor.id,
                    action=f"campaign.{state.value}",
                    subject_id=campaign.id,
                )
            return await self._campaign(campaign.id)

    async def overview(self, actor: Person, campaign_id: int) -> Overview:
        """Return a campaign's figures, for a coordinator."""
        require(actor, Capability.MANAGE_CAMPAIGNS)
        campaign = await self._campaign(campaign_id)
        return await self._overview(campaign)

    async def recent(self, actor: Person) -> list[Overview]:
        """Return the latest campaigns with their figures, those not closed first."""
        require(actor, Capability.MANAGE_CAMPAIGNS)
        return [
            await self._overview(campaign)
            for campaign in await self._uow.campaigns.recent(_LIST_LIMIT)
        ]

    async def _overview(self, campaign: Campaign) -> Overview:
        figures = await self._uow.campaigns.figures(campaign.id)
        next_due = None
        if figures.retry and not figures.never_called:
            next_due = await self._uow.campaigns.next_due(campaign.id, self._clock())
        return Overview(campaign=campaign, figures=figures, next_due=next_due)

    # --- callers ------------------------------------------------------------------------------

    async def mine(self, actor: Person) -> list[Campaign]:
        """Return the campaigns (not closed) that list the actor as a caller."""
        require(actor, Capability.CALL)
        return await self._uow.campaigns.of_caller(actor.id)

    async def next_call(self, actor: Person, campaign_id: int | None = None) -> Call:
        """Hand the caller the next resident to phone, or the call they have already.

        Presses that arrive while a claim is being written wait for the next one and are served
        together, in one transaction with a few set-based statements (group commit): twenty
        callers pressing at once cost two transactions, not twenty in a queue.
        """
        require(actor, Capability.CALL)
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        self._presses.append((actor, campaign_id, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain_presses())
        return await future

    async def _drain_presses(self) -> None:
        while self._presses:
            batch, self._presses = self._presses, []
            try:
                answers = await self._serve_presses([(a, c) for a, c, _ in batch])
            except Exception as error:  # the transaction failed: every press in it hears so
                answers = [error] * len(batch)
            for (_, _, future), answer in zip(batch, answers, strict=True):
                if future.done():
                    continue  # the press was given up (its update cancelled)
                if isinstance(answer, BaseException):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)

    async def _serve_presses(
        self, presses: list[tuple[Person, int | None]]
    ) -> list[Call | Exception]:
        """Serve a batch of Next call presses in one transaction; one answer per press."""
        answers: dict[int, Call | Exception] = {}
        wanted: dict[int, int | None] = {}
        for actor, campaign_id in presses:
            wanted.setdefault(actor.id, campaign_id)
        campaigns = self._uow.campaigns
        async with self._uow.transaction():
            now = self._clock()
            for caller_id, entry in (await campaigns.calling_by_many(list(wanted))).items():
                task = await self._uow.tasks.get(entry.task_id or 0)
                if _still_calling(entry, task):
                    assert task is not None
                    answers[caller_id] = await self._call(entry, task, already=True)
                else:  # a coordinator cancelled or reassigned the call's task: it is not theirs
                    await campaigns.requeue(
                        entry,
                        attempts=entry.attempts,
                        due_at=now,
                        expected=EntryState.CALLING,
                        at=now,
                    )
            listed = await campaigns.of_callers([i for i in wanted if i not in answers])
            queues: dict[int, list[Campaign]] = {}
            for caller_id, mine in listed.items():
                queue = self._queue_of(mine, wanted[caller_id])
                if (
                    isinstance(queue, CampaignError)
                    and queue.problem is CampaignProblem.NOT_A_CALLER
                ):
                    chosen = await campaigns.get(wanted[caller_id] or 0)
                    if chosen is not None and chosen.state is CampaignState.CLOSED:
                        queue = CampaignError(CampaignProblem.CLOSED)
                if isinstance(queue, Exception):
                    answers[caller_id] = queue
                else:
                    queues[caller_id] = queue
            claimed = await self._claim(queues, now, answers)
            if claimed:
                next_state(TaskState.OPEN, Action.ASSIGN)  # the one judge: created, then assigned
                tasks = await self._uow.tasks.add_held(
                    [(entry.resident_id, caller_id) for caller_id, (_, entry) in claimed.items()],
                    kind=TaskKind.PHONE_CHECK,
                    window_start=now,
                    window_end=now + timedelta(days=1),
                    at=now,
                )
                await campaigns.set_call_tasks(
                    [(entry.id, tasks[caller_id].id) for caller_id, (_, entry) in claimed.items()]
                )
                residents = await campaigns.residents_of(
                    [entry.resident_id for _, entry in claimed.values()]
                )
                for caller_id, (campaign, entry) in claimed.items():
                    task = tasks[caller_id]
                    answers[caller_id] = Call(
                        campaign=campaign,
                        entry=entry.model_copy(update={"task_id": task.id}),
                        resident=residents[entry.resident_id],
                        task=task,
                    )
        results: list[Call | Exception] = []
        seen: set[int] = set()
        for actor, _ in presses:
            answer = answers[actor.id]
            if isinstance(answer, Call) and actor.id in seen:
                answer = replace(answer, already=True)  # a double tap in the same batch
            seen.add(actor.id)
            results.append(answer)
        return results

    @staticmethod
    def _queue_of(mine: list[Campaign], campaign_id: int | None) -> list[Campaign] | Exception:
        """Return the running campaigns a caller takes calls from, in order, or why none."""
        if campaign_id is not None:
            chosen = [c for c in mine if c.id == campaign_id]
            if not chosen:
                return CampaignError(CampaignProblem.NOT_A_CALLER)
            mine = chosen
        running = [c for c in mine if c.state is CampaignState.RUNNING]
        if running:
            return running
        return CampaignError(CampaignProblem.PAUSED if mine else CampaignProblem.NONE_RUNNING)

    async def _claim(
        self,
        queues: dict[int, list[Campaign]],
        now: datetime,
        answers: dict[int, Call | Exception],
    ) -> dict[int, tuple[Campaign, Entry]]:
        """Claim one entry per caller, campaign by campaign; a caller whose campaigns have
        nobody left hears when the next retry falls due."""
        until = now + self.claim_timeout
        claimed: dict[int, tuple[Campaign, Entry]] = {}
        tried: dict[int, list[Campaign]] = {caller_id: [] for caller_id in queues}
        while queues:
            by_campaign: dict[int, list[int]] = {}
            for caller_id, queue in queues.items():
                by_campaign.setdefault(queue[0].id, []).append(caller_id)
            left: dict[int, list[Campaign]] = {}
            for campaign_id, caller_ids in by_campaign.items():
                campaign = queues[caller_ids[0]][0]
                entries = await self._uow.campaigns.claim_many(campaign_id, caller_ids, now, until)
                got = {entry.caller_id: entry for entry in entries}
                for caller_id in caller_ids:
                    tried[caller_id].append(campaign)
                    if caller_id in got:
                        claimed[caller_id] = (campaign, got[caller_id])
                    elif len(queues[caller_id]) > 1:
                        left[caller_id] = queues[caller_id][1:]
                    else:
                        dues = [
                            await self._uow.campaigns.next_due(c.id, now) for c in tried[caller_id]
                        ]
                        answers[caller_id] = CampaignError(
                            CampaignProblem.LIST_DONE,
                            when=min((d for d in dues if d), default=None),
                        )
            queues = left
        return claimed

    async def _call(
        self, entry: Entry, task: Task, *, campaign: Campaign | None = None, already: bool = False
    ) -> Call:
        resident = await self._uow.residents.get(entry.resident_id)
        assert resident is not None  # residents are never deleted
        return Call(
            campaign=campaign or await self._campaign(entry.campaign_id),
            entry=entry,
            resident=resident,
            task=task,
            already=already,
        )

    async def call_shown(self, actor: Person, task_id: int, chat_id: int, message_id: int) -> None:
        """Remember the card that shows a call, so that it is scrubbed when the call ends."""
        await self._dispatch.remember(
            [
                TaskMessage(
                    chat_id=chat_id,
                    message_id=message_id,
                    task_id=task_id,
                    person_id=actor.id,
                    kind=MessageKind.CARD,
                )
            ]
        )

    async def give_back(self, actor: Person, task_id: int) -> Closed:
        """Hand a resident back to the list without a call; the next caller gets them."""
        require(actor, Capability.CALL)
        async with self._uow.transaction():
            entry = await self._uow.campaigns.entry_of_task(task_id)
            task = await self._uow.tasks.get(task_id)
            if entry is None or entry.caller_id != actor.id or not _still_calling(entry, task):
                raise CampaignError(CampaignProblem.NOT_YOUR_CALL)
            assert task is not None
            closing = await self._end_claim(entry, task, actor, CallResult.GIVEN_BACK)
        return await self._dispatch.closed(closing)

    async def expire(self) -> list[Expired]:
        """Hand back the calls whose callers went quiet; say whom to tell."""
        now = self._clock()
        ended = []
        async with self._uow.transaction():
            for entry in await self._uow.campaigns.expired(now, now - self.claim_timeout):
                task = await self._uow.tasks.get(entry.task_id or 0)
                caller = await self._uow.people.get(entry.caller_id or 0)
                if task is None or not _still_calling(entry, task):
                    # The call's task ended or moved some other way (a coordinator's doing).
                    await self._uow.campaigns.requeue(
                        entry,
                        attempts=entry.attempts,
                        due_at=now,
                        expected=EntryState.CALLING,
                        at=now,
                    )
                    continue
                closing = await self._end_claim(entry, task, caller, CallResult.EXPIRED)
                ended.append((entry, caller, closing))
        return [
            Expired(
                campaign=await self._campaign(entry.campaign_id),
                caller=caller,
                closed=await self._dispatch.closed(closing),
            )
            for entry, caller, closing in ended
        ]

    async def _end_claim(
        self, entry: Entry, task: Task, actor: Person | None, result: CallResult
    ) -> Closing:
        now = self._clock()
        draft = await self._uow.outcomes.draft_of_task(task.id)
        if draft is not None:
            await self._uow.outcomes.delete_draft(draft.id)
        closing = await self._dispatch.close_within(
            actor, task, Action.CANCEL, reason=None, note=None
        )
        # Handed back: to the end of the list. Timed out: its place is kept (it was not called).
        due = now if result is CallResult.GIVEN_BACK else entry.due_at
        await self._uow.campaigns.requeue(
            entry, attempts=entry.attempts, due_at=due, expected=EntryState.CALLING, at=now
        )
        await self._uow.campaigns.record_call(
            entry, actor.id if actor else None, task.id, result, now
        )
        return closing

    # --- outcomes (inside OutcomeService.submit's transaction) ---------------------------------

    async def call_facts_within(self, task: Task) -> CallFacts | None:
        """Return the campaign's attempt count for a call's task; None if it is no campaign call."""
        entry = await self._live_entry(task)
        if entry is None:
            return None
        campaign = await self._campaign(entry.campaign_id)
        return CallFacts(attempts=campaign.attempts, failed_before=entry.attempts)

    async def after_outcome_within(
        self, actor: Person, task: Task, decision: Decision, follow_ups: Sequence[Task]
    ) -> CallEnd | None:
        """Move the call's entry on as the follow-up rules decided; mark a resident who declined."""
        now = self._clock()
        if decision.no_calls:
            await self._uow.campaigns.decline_calls(task.resident_id, now)
        entry = await self._live_entry(task)
        if entry is None:
            return None
        campaign = await self._campaign(entry.campaign_id)
        after = after_call(decision, declined=decision.no_calls, now=now, gap=campaign.gap)
        await self._uow.campaigns.record_call(
            entry, actor.id, task.id, after.result, now, urgent=decision.crisis
        )
        if decision.needs:
            await self._uow.campaigns.add_needs(entry, decision.needs)
        unanswered = entry.attempts + (1 if after.result is CallResult.NO_ANSWER else 0)
        if after.finished is None:
            assert after.due_at is not None
            state = await self._uow.campaigns.requeue(
                entry,
                attempts=unanswered,
                due_at=after.due_at,
                expected=EntryState.CALLING,
                at=now,
            )
            if state is EntryState.FINISHED:  # they asked elsewhere, meanwhile, not to be called
                after = AfterCall(after.result, EntryResult.DECLINED)
        else:
            visit = next(
                (
                    t.id
                    for t in follow_ups
                    if t.kind is TaskKind.HOME_VISIT and t.cause == PHONE_UNREACHED
                ),
                None,
            )
            await self._uow.campaigns.finish(
                entry, after.finished, now, attempts=unanswered, visit_task_id=visit
            )
        return CallEnd(
            campaign=campaign,
            result=after.result,
            finished=after.finished,
            retry_at=after.due_at,
        )

    async def _live_entry(self, task: Task) -> Entry | None:
        if task.kind is not TaskKind.PHONE_CHECK:
            return None
        entry = await self._uow.campaigns.entry_of_task(task.id)
        # The task may be closed by now (the report's own closing): the holder must still match.
        held = task.model_copy(update={"state": TaskState.ACCEPTED})
        if entry is None or not _still_calling(entry, held):
            return None
        return entry

    async def _campaign(self, campaign_id: int) -> Campaign:
        campaign = await self._uow.campaigns.get(campaign_id)
        if campaign is None:
            raise CampaignError(CampaignProblem.NOT_FOUND)
        return campaign


def _still_calling(entry: Entry, task: Task | None) -> bool:
    """Return whether the entry's call is under way, held by the caller who claimed it."""
    return (
        entry.state is EntryState.CALLING
        and task is not None
        and entry.task_id == task.id
        and task.held
        and task.holder.person_id == entry.caller_id
    )
