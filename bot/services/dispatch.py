"""Dispatch: tasks go from coordinators to volunteer pairs and back, one transition at a time.

Every change runs in one transaction that re-reads the task, asks `next_state` whether the action is
allowed and writes the task only if it is still in the state it was read in; so two Accepts at the
same moment cannot both win, and a press on a stale button changes nothing. The results say who
must be told what; the adapters send the messages and report back which chat messages show a task
(`remember`), so that they can be edited when the task moves on — an offer when it is taken, a card
when its task ends (the resident's address and phone are then scrubbed from it).

Least privilege: an offer carries the task's kind, postal area, window and priority only. A
resident's name, address and phone go to the holders while they hold the task, and to coordinators.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.errors import (
    DomainError,
    IllegalTransition,
    NotYourTask,
    PairNotFound,
    PersonNotFound,
    ResidentNotFound,
    TaskNotFound,
)
from bot.domain.pairs import Pair, covers
from bot.domain.people import Capability, Organisation, Person, Role
from bot.domain.residents import Resident
from bot.domain.tasks import (
    HELD,
    OFFERABLE,
    UNFINISHED,
    Action,
    Holder,
    MessageKind,
    Priority,
    Task,
    TaskEvent,
    TaskKind,
    TaskMessage,
    TaskState,
    UnfinishedReason,
    next_state,
)
from bot.domain.windows import TimeWindow
from bot.services.people import require
from bot.services.ports import Clock, UnitOfWork

__all__ = [
    "Accepted",
    "Candidates",
    "Closed",
    "Closing",
    "Declined",
    "DispatchService",
    "HolderChange",
    "NoAvailablePairs",
    "Offered",
    "Overview",
    "Released",
    "Sweep",
    "TaskView",
]

OVERVIEW_LIMIT = 40
_NOTE_LIMIT = 500


class NoAvailablePairs(DomainError):
    """No current, available pair covers the resident's area; nothing was offered."""


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as someone may see it; `resident` is None unless they may see who and where."""

    task: Task
    postal_code: str
    resident: Resident | None
    holder_name: str | None
    events: list[TaskEvent] = field(default_factory=list)
    actor_names: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Offered:
    """A task offered to pairs: every member of `recipients` gets an offer."""

    task: Task
    postal_code: str
    recipients: list[Person]
    pairs: list[Pair] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A pair took a task: holders get the full card, the other offers are taken."""

    view: TaskView
    holders: list[Person]
    stale: list[TaskMessage]
    audience: dict[int, Person]
    already: bool = False  # a double tap by the winners: nothing changed


@dataclass(frozen=True, slots=True)
class Declined:
    """A pair declined; the task went back to the pool when nobody else had it on offer."""

    task: Task
    postal_code: str
    returned: bool
    messages: list[TaskMessage]
    audience: dict[int, Person]
    coordinators: list[Person]


@dataclass(frozen=True, slots=True)
class HolderChange:
    """A coordinator assigned a task: new holders get the card, former ones lose it."""

    view: TaskView
    holders: list[Person]
    former: list[Person]
    stale: list[TaskMessage]
    audience: dict[int, Person]
    changed: bool = True


@dataclass(frozen=True, slots=True)
class Closed:
    """A task ended (done, not completed, cancelled): its messages are edited, holders told."""

    view: TaskView
    holders: list[Person]
    stale: list[TaskMessage]
    audience: dict[int, Person]
    coordinators: list[Person]


@dataclass(frozen=True, slots=True)
class Closing:
    """A task closed inside a transaction that has not committed yet."""

    view: TaskView
    holders: list[Person]
    stale: list[TaskMessage]


@dataclass(frozen=True, slots=True)
class Released:
    """A task whose holder left went back to the coordinators."""

    task: Task
    postal_code: str
    holder_name: str | None
    former: list[Person]
    stale: list[TaskMessage]
    audience: dict[int, Person]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Whom a task can be assigned to."""

    task: Task
    pairs: list[Pair]
    people: list[Person]
    organisations: list[Organisation]


@dataclass(frozen=True, slots=True)
class Overview:
    """Unfinished tasks grouped by state, with counts."""

    counts: dict[TaskState, int]
    tasks: list[Task]
    postal_codes: dict[int, str]


@dataclass(slots=True)
class Sweep:
    """What the clock brought: reminders, escalations, overdue tasks, leftovers to tidy."""

    coordinators: list[Person] = field(default_factory=list)
    reminders: list[tuple[TaskView, list[Person]]] = field(default_factory=list)
    escalated: list[TaskView] = field(default_factory=list)
    overdue: list[TaskView] = field(default_factory=list)
    released: list[Released] = field(default_factory=list)
    unscrubbed: list[tuple[TaskView, list[TaskMessage]]] = field(default_factory=list)
    audience: dict[int, Person] = field(default_factory=dict)


class DispatchService:
    """Create, offer, accept, do and close tasks; remind and escalate on the clock."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        offer_timeout: timedelta = timedelta(hours=4),
        reminder_lead: timedelta = timedelta(hours=1),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.offer_timeout = offer_timeout
        self.reminder_lead = reminder_lead

    # --- coordinators -------------------------------------------------------------------------

    async def create(
        self,
        actor: Person,
        *,
        resident_id: int,
        kind: TaskKind,
        window: TimeWindow,
        priority: Priority,
        details: str,
    ) -> Task:
        """Create an open task for a resident."""
        require(actor, Capability.DISPATCH)
        async with self._uow.transaction():
            if await self._uow.residents.get(resident_id) is None:
                raise ResidentNotFound
            return await self.create_within(
                actor.id,
                resident_id=resident_id,
                kind=kind,
                window=window,
                priority=priority,
                details=details,
            )

    async def create_within(
        self,
        actor_id: int | None,
        *,
        resident_id: int,
        kind: TaskKind,
        window: TimeWindow,
        priority: Priority,
        details: str,
        follows: Task | None = None,
        cause: str | None = None,
    ) -> Task:
        """Create an open task inside the caller's transaction (a follow-up names its cause)."""
        now = self._clock()
        task = await self._uow.tasks.add(
            resident_id=resident_id,
            kind=kind,
            details=" ".join(details.split())[:_NOTE_LIMIT],
            window_start=window.start,
            window_end=window.end,
            priority=priority,
            created_by=actor_id,
            at=now,
            follows_id=follows.id if follows else None,
            cause=cause,
        )
        await self._uow.tasks.record_event(
            task.id,
            TaskEvent(
                at=now,
                actor_id=actor_id,
                action=Action.CREATE,
                from_state=None,
                to_state=TaskState.OPEN,
                detail=f"#{follows.id} {cause}" if follows else None,
            ),
        )
        return task

    async def create_held_within(
        self, actor: Person, *, resident_id: int, kind: TaskKind, window: TimeWindow
    ) -> Task:
        """Create a task the actor holds from the start (a campaign call), in the caller's
        transaction; it counts as reminded, since the holder is at it now."""
        task = await self.create_within(
            actor.id,
            resident_id=resident_id,
            kind=kind,
            window=window,
            priority=Priority.NORMAL,
            details="",
        )
        return await self._move(
            task,
            Action.ASSIGN,
            actor.id,
            holder=Holder(person_id=actor.id),
            reminded_at=self._clock(),
        )

    async def offer(self, actor: Person, task_id: int) -> Offered:
        """Offer the task to every available pair covering the resident's area."""
        require(actor, Capability.DISPATCH)
        async with self._uow.transaction():
            task = await self._task(task_id)
            return await self.offer_within(task, actor.id)

    async def offer_within(self, task: Task, actor_id: int | None) -> Offered:
        """Offer a task inside the caller's transaction; `NoAvailablePairs` changes nothing."""
        resident = await self._resident(task)
        pending = set(await self._uow.tasks.pending_pairs(task.id))
        pairs = [
            p
            for p in await self._uow.pairs.current()
            if p.available and covers(p.areas, resident.postal_code) and p.id not in pending
        ]
        next_state(task.state, Action.OFFER)  # taken, finished: say so, not "no pair"
        if not pairs:
            if pending and task.state is TaskState.OFFERED:
                # Nobody new to ask: keep the clock running toward escalation.
                return Offered(task=task, postal_code=resident.postal_code, recipients=[])
            raise NoAvailablePairs("no available pair")
        now = self._clock()
        task = await self._move(task, Action.OFFER, actor_id, offered_at=now)
        for pair in pairs:
            await self._uow.tasks.add_offer(task.id, pair.id, now)
        recipients = [m for p in pairs for m in p.members]
        return Offered(
            task=task, postal_code=resident.postal_code, recipients=recipients, pairs=pairs
        )

    async def withdraw_within(self, task_id: int, pair_ids: set[int], actor_id: int | None) -> bool:
        """Withdraw a task's pending offers to some pairs (never sent); True if it went back.

        A task left with no pending offer returns to the pool, as after the last decline.
        """
        task = await self._task(task_id)
        if task.state is not TaskState.OFFERED:
            return False
        now = self._clock()
        for pair_id in pair_ids:
            if await self._uow.tasks.offer_status(task.id, pair_id) == "pending":
                await self._uow.tasks.answer_offer(task.id, pair_id, "withdrawn", now, actor_id)
        if await self._uow.tasks.pending_pairs(task.id):
            return False
        await self._move(task, Action.RETURN, actor_id)
        return True

    async def assign(self, actor: Person, task_id: int, holder: Holder) -> HolderChange:
        """Hand the task to a pair, a person or an organisation by hand."""
        require(actor, Capability.DISPATCH)
        if holder.empty:
            raise ValueError("assign needs a holder")
        async with self._uow.transaction():
            task = await self._task(task_id)
            former = await self._holders(task) if task.state in HELD else []
            new_holders = await self._check_holder(holder)
            if task.state in HELD and task.holder == holder:  # a double tap: nothing to do
                view = await self._view(task, contact=True)
                return HolderChange(
                    view=view, holders=[], former=[], stale=[], audience={}, changed=False
                )
            now = self._clock()
            task = await self._move(task, Action.ASSIGN, actor.id, holder=holder, detail=None)
            await self._uow.tasks.withdraw_offers(task.id, now)
            new_ids = {p.id for p in new_holders}
            stale = [
                m
                for m in await self._uow.tasks.messages(task.id)
                if m.kind is MessageKind.OFFER or m.person_id not in new_ids
            ]
            view = await self._view(task, contact=True)
        former = [p for p in former if p.id not in new_ids]
        return HolderChange(
            view=view,
            holders=new_holders,
            former=former,
            stale=stale,
            audience=await self._audience(stale),
        )

    async def cancel(self, actor: Person, task_id: int) -> Closed:
        """Cancel an unfinished task; offers are withdrawn and the holders told."""
        require(actor, Capability.DISPATCH)
        return await self._close(actor, task_id, Action.CANCEL, note=None)

    async def overview(self, actor: Person) -> Overview:
        """Return the unfinished tasks by state, for a coordinator."""
        require(actor, Capability.DISPATCH)
        counts = await self._uow.tasks.count_by_state()
        tasks = await self._uow.tasks.in_states(UNFINISHED, OVERVIEW_LIMIT)
        postal = {}
        for task in tasks:
            resident = await self._uow.residents.get(task.resident_id)
            postal[task.id] = resident.postal_code if resident else ""
        return Overview(counts=counts, tasks=tasks, postal_codes=postal)

    async def candidates(self, actor: Person, task_id: int) -> Candidates:
        """Return whom a coordinator may assign the task to: pairs, people, organisations."""
        require(actor, Capability.DISPATCH)
        task = await self._task(task_id)
        people: dict[int, Person] = {}
        for role in (Role.VOLUNTEER, Role.COORDINATOR, Role.CALLER):
            for person in await self._uow.people.active_with_role(role):
                people.setdefault(person.id, person)
        return Candidates(
            task=task,
            pairs=[p for p in await self._uow.pairs.current() if p.workable],
            people=sorted(people.values(), key=lambda p: (p.name.casefold(), p.id)),
            organisations=await self._uow.organisations.all(),
        )

    # --- holders --------------------------------------------------------------------------------

    async def accept(self, actor: Person, task_id: int) -> Accepted:
        """Take an offered task for the actor's pair; the first accept wins."""
        require(actor, Capability.TAKE_TASKS)
        async with self._uow.transaction():
            task = await self._task(task_id)
            pair = await self._uow.pairs.current_of(actor.id)
            if pair is not None and task.state in HELD and task.holder.pair_id == pair.id:
                already = True  # a double tap, or the partner pressed too: success, no change
            else:
                already = False
                status = await self._uow.tasks.offer_status(task.id, pair.id) if pair else None
                if status is None:
                    raise NotYourTask
                next_state(task.state, Action.ACCEPT)  # taken, cancelled or done: refuse first
                if status != "pending":
                    raise NotYourTask
                assert pair is not None
                now = self._clock()
                task = await self._move(
                    task, Action.ACCEPT, actor.id, holder=Holder(pair_id=pair.id)
                )
                await self._uow.tasks.answer_offer(task.id, pair.id, "accepted", now, actor.id)
                await self._uow.tasks.withdraw_offers(task.id, now)
            assert pair is not None
            holders = [m for m in pair.members if m.can(Capability.TAKE_TASKS)]
            holder_ids = {p.id for p in holders}
            stale = [
                m
                for m in await self._uow.tasks.messages(task.id)
                if m.kind is MessageKind.OFFER and (not already or m.person_id not in holder_ids)
            ]
            view = await self._view(task, contact=True)
        return Accepted(
            view=view,
            holders=holders,
            stale=stale,
            audience=await self._audience(stale),
            already=already,
        )

    async def decline(self, actor: Person, task_id: int) -> Declined:
        """Decline the offer for the actor's pair; with none left pending the task returns."""
        require(actor, Capability.TAKE_TASKS)
        async with self._uow.transaction():
            task = await self._task(task_id)
            pair = await self._uow.pairs.current_of(actor.id)
            status = await self._uow.tasks.offer_status(task.id, pair.id) if pair else None
            if pair is None or status is None:
                raise NotYourTask
            next_state(task.state, Action.DECLINE)
            now = self._clock()
            returned = False
            if status == "pending":
                await self._uow.tasks.answer_offer(task.id, pair.id, "declined", now, actor.id)
                await self._record(task, Action.DECLINE, actor.id, task.state, detail=str(pair.id))
                if not await self._uow.tasks.pending_pairs(task.id):
                    task = await self._move(task, Action.RETURN, None)
                    returned = True
            members = {m.id for m in pair.members}
            messages = [
                m
                for m in await self._uow.tasks.messages(task.id)
                if m.kind is MessageKind.OFFER and m.person_id in members
            ]
        coordinators = await self._coordinators() if returned else []
        return Declined(
            task=task,
            postal_code=(await self._resident(task)).postal_code,
            returned=returned,
            messages=messages,
            audience=await self._audience(messages),
            coordinators=coordinators,
        )

    async def start(self, actor: Person, task_id: int) -> TaskView:
        """Mark the task started ("on my way"); a second press changes nothing."""
        async with self._uow.transaction():
            task = await self.held_task(actor, task_id)
            if task.state is not TaskState.STARTED:
                task = await self._move(task, Action.START, actor.id)
            return await self._view(task, contact=True)

    async def complete(self, actor: Person, task_id: int, note: str | None = None) -> Closed:
        """Close the task as done."""
        return await self._close(actor, task_id, Action.COMPLETE, note=note)

    async def my_tasks(self, actor: Person) -> list[TaskView]:
        """Return the tasks the actor holds (alone, with their pair or organisation), by window.

        The list shows no resident: each card is one tap away, and remembered when shown.
        """
        require(actor, Capability.TAKE_TASKS)
        pair = await self._uow.pairs.current_of(actor.id)
        organisation_id = (
            actor.organisation.id
            if actor.organisation is not None and Role.PARTNER in actor.roles
            else None
        )
        tasks = await self._uow.tasks.held_by(
            person_id=actor.id,
            pair_ids=[pair.id] if pair else [],
            organisation_id=organisation_id,
        )
        return [await self._view(task, contact=False) for task in tasks]

    async def view(self, actor: Person, task_id: int) -> TaskView:
        """Return a task as the actor may see it.

        Coordinators see everything; holders see the resident while they hold the task; a pair
        with a pending offer and former holders see the task without who and where.
        """
        task = await self._task(task_id)
        if actor.can(Capability.DISPATCH):
            view = await self._view(task, contact=True)
            events = await self._uow.tasks.events(task.id)
            names = {}
            for actor_id in {e.actor_id for e in events if e.actor_id is not None}:
                person = await self._uow.people.get(actor_id)
                if person is not None:
                    names[actor_id] = person.name
            return TaskView(
                view.task, view.postal_code, view.resident, view.holder_name, events, names
            )
        if any(p.id == actor.id for p in await self._holders(task)):
            return await self._view(task, contact=task.state in HELD)
        pair = await self._uow.pairs.current_of(actor.id)
        if pair is not None and await self._uow.tasks.offer_status(task.id, pair.id) is not None:
            return await self._view(task, contact=False)
        raise TaskNotFound

    # --- messages -------------------------------------------------------------------------------

    async def remember(self, messages: Iterable[TaskMessage]) -> None:
        """Remember chat messages that show tasks, to edit them when the tasks move on."""
        items = list(messages)
        if not items:
            return
        async with self._uow.transaction():
            for message in items:
                await self._uow.tasks.remember_message(message)

    async def forget(self, messages: Iterable[TaskMessage]) -> None:
        """Forget messages that were edited for good (a scrubbed card, a taken offer)."""
        by_task: dict[int, list[int]] = {}
        for message in messages:
            by_task.setdefault(message.task_id, []).append(message.person_id)
        if not by_task:
            return
        async with self._uow.transaction():
            for task_id, person_ids in by_task.items():
                await self._uow.tasks.forget_messages(task_id, person_ids)

    # --- people leaving -------------------------------------------------------------------------

    async def release_holdings_of(self, actor: Person | None, person_id: int) -> list[Released]:
        """Give back what a person who left held; their pair cannot work and is dissolved."""
        async with self._uow.transaction():
            tasks = await self._uow.tasks.held_by_person_or_pairs(person_id)
            released = [await self._release(task, actor) for task in tasks]
            pair = await self._uow.pairs.current_of(person_id)
            if pair is not None:
                await self._uow.pairs.dissolve(pair.id, self._clock())
                released += await self._release_pair_in_transaction(actor, pair.id)
        return released

    async def dissolve_pair(self, actor: Person, pair_id: int) -> tuple[Pair, list[Released]]:
        """End a pair and, in the same transaction, give its tasks back and withdraw its offers."""
        require(actor, Capability.DISPATCH)
        async with self._uow.transaction():
            pair = await self._uow.pairs.get(pair_id)
            if pair is None or not pair.current:
                raise PairNotFound
            now = self._clock()
            await self._uow.pairs.dissolve(pair_id, now)
            await self._uow.audit.record(
                at=now, actor_id=actor.id, action="pair.dissolve", subject_id=pair_id
            )
            released = await self._release_pair_in_transaction(actor, pair_id)
            dissolved = await self._uow.pairs.get(pair_id)
        assert dissolved is not None
        return dissolved, released

    async def _release_pair_in_transaction(
        self, actor: Person | None, pair_id: int
    ) -> list[Released]:
        now = self._clock()
        for task_id in await self._uow.tasks.withdraw_offers_to_pair(pair_id, now):
            task = await self._uow.tasks.get(task_id)
            if (
                task is not None
                and task.state in OFFERABLE
                and not await self._uow.tasks.pending_pairs(task_id)
            ):
                await self._move(task, Action.RETURN, actor.id if actor else None)
        tasks = [
            t for t in await self._uow.tasks.in_states(HELD, 10_000) if t.holder.pair_id == pair_id
        ]
        return [await self._release(task, actor) for task in tasks]

    # --- the clock ------------------------------------------------------------------------------

    async def sweep(self) -> Sweep:
        """Escalate stale offers, remind holders, report overdue tasks, tidy leftovers."""
        result = Sweep()
        now = self._clock()
        async with self._uow.transaction():
            for task in await self._uow.tasks.offers_older_than(now - self.offer_timeout):
                task = await self._move(task, Action.ESCALATE, None)
                result.escalated.append(await self._view(task, contact=False))
            for task in await self._uow.tasks.reminders_due(now, self.reminder_lead):
                task = await self._update(task, reminded_at=now)
                result.reminders.append(
                    (await self._view(task, contact=False), await self._holders(task))
                )
            for task in await self._uow.tasks.overdue(now):
                task = await self._update(task, overdue_reported_at=now)
                result.overdue.append(await self._view(task, contact=False))
            for task in await self._uow.tasks.in_states(HELD, 10_000):
                if await self._holder_gone(task):
                    result.released.append(await self._release(task, None))
            leftovers = await self._uow.tasks.messages_of_finished()
            for task in await self._uow.tasks.in_states(UNFINISHED, 10_000):
                holder_ids = {p.id for p in await self._holders(task)} if task.held else set()
                leftovers += [
                    m
                    for m in await self._uow.tasks.messages(task.id)
                    if m.kind is MessageKind.CARD and m.person_id not in holder_ids
                ]
            for task_id in sorted({m.task_id for m in leftovers}):
                view = await self._view(await self._task(task_id), contact=False)
                result.unscrubbed.append((view, [m for m in leftovers if m.task_id == task_id]))
        if result.escalated or result.overdue or result.released:
            result.coordinators = await self._coordinators()
        result.audience = await self._audience(leftovers)
        return result

    # --- internals ------------------------------------------------------------------------------

    async def _close(
        self,
        actor: Person,
        task_id: int,
        action: Action,
        *,
        note: str | None,
    ) -> Closed:
        async with self._uow.transaction():
            if action is Action.CANCEL:
                task = await self._task(task_id)
            else:
                task = await self.held_task(actor, task_id)
            closing = await self.close_within(actor, task, action, reason=None, note=note)
        return await self.closed(closing)

    async def close_within(
        self,
        actor: Person | None,
        task: Task,
        action: Action,
        *,
        reason: UnfinishedReason | None,
        note: str | None,
    ) -> Closing:
        """Close a task inside the caller's transaction; `closed` later says whom to tell."""
        holders = await self._holders(task) if task.state in HELD else []
        now = self._clock()
        clean_note = " ".join(note.split())[:_NOTE_LIMIT] if note else None
        task = await self._move(
            task,
            action,
            actor.id if actor else None,
            closed_at=now,
            reason=reason,
            note=clean_note,
            detail=reason.value if reason else None,
        )
        await self._uow.tasks.withdraw_offers(task.id, now)
        stale = await self._uow.tasks.messages(task.id)
        view = await self._view(task, contact=False)
        return Closing(view=view, holders=holders, stale=stale)

    async def closed(self, closing: Closing) -> Closed:
        """Return who must be told about a closing, once its transaction committed."""
        return Closed(
            view=closing.view,
            holders=closing.holders,
            stale=closing.stale,
            audience=await self._audience(closing.stale),
            coordinators=await self._coordinators(),
        )

    async def record_attempt_within(self, actor: Person, task: Task, detail: str) -> None:
        """Record an unanswered call on a held task; its state does not change."""
        await self._record(
            task, Action.ATTEMPT, actor.id, next_state(task.state, Action.ATTEMPT), detail=detail
        )

    async def _release(self, task: Task, actor: Person | None) -> Released:
        former = await self._holders(task, leaving=True)
        holder_name = await self._holder_name(task)
        task = await self._move(task, Action.RELEASE, actor.id if actor else None, holder=Holder())
        stale = await self._uow.tasks.messages(task.id)
        resident = await self._resident(task)
        return Released(
            task=task,
            postal_code=resident.postal_code,
            holder_name=holder_name,
            former=former,
            stale=stale,
            audience=await self._audience(stale),
        )

    async def _holder_gone(self, task: Task) -> bool:
        if task.holder.person_id is not None:
            person = await self._uow.people.get(task.holder.person_id)
            return person is None or not person.can(Capability.TAKE_TASKS)
        if task.holder.pair_id is not None:
            pair = await self._uow.pairs.get(task.holder.pair_id)
            return pair is None or not pair.workable
        return False

    async def _task(self, task_id: int) -> Task:
        task = await self._uow.tasks.get(task_id)
        if task is None:
            raise TaskNotFound
        return task

    async def _resident(self, task: Task) -> Resident:
        resident = await self._uow.residents.get(task.resident_id)
        if resident is None:
            raise ResidentNotFound
        return resident

    async def held_task_people(self, task: Task) -> list[Person]:
        """Return the people who hold a task now."""
        return await self._holders(task)

    async def view_within(self, task: Task, *, contact: bool) -> TaskView:
        """Return a task as shown, inside the caller's transaction."""
        return await self._view(task, contact=contact)

    async def held_task(self, actor: Person, task_id: int) -> Task:
        """Return a task the actor holds now, or raise (for use inside a transaction)."""
        require(actor, Capability.TAKE_TASKS)
        task = await self._task(task_id)
        if not any(p.id == actor.id for p in await self._holders(task)):
            raise NotYourTask
        return task

    async def _holders(self, task: Task, *, leaving: bool = False) -> list[Person]:
        """Return the people who hold the task (the members of its pair, organisation, …).

        A dissolved pair holds nothing, except for telling its members (`leaving`) it is over.
        """
        holder = task.holder
        if holder.pair_id is not None:
            pair = await self._uow.pairs.get(holder.pair_id)
            if pair is None or not (pair.current or leaving):
                return []
            return [m for m in pair.members if m.can(Capability.TAKE_TASKS)]
        if holder.person_id is not None:
            person = await self._uow.people.get(holder.person_id)
            return [person] if person is not None and person.can(Capability.TAKE_TASKS) else []
        if holder.organisation_id is not None:
            return await self._uow.people.active_in_organisation(
                holder.organisation_id, Role.PARTNER
            )
        return []

    async def _check_holder(self, holder: Holder) -> list[Person]:
        if holder.pair_id is not None:
            pair = await self._uow.pairs.get(holder.pair_id)
            if pair is None or not pair.workable:
                raise PairNotFound  # dissolved, or a member left or lost the role
            return list(pair.members)
        if holder.person_id is not None:
            person = await self._uow.people.get(holder.person_id)
            if person is None or not person.can(Capability.TAKE_TASKS):
                raise PersonNotFound
            return [person]
        assert holder.organisation_id is not None
        if await self._uow.organisations.get(holder.organisation_id) is None:
            raise PersonNotFound
        return await self._uow.people.active_in_organisation(holder.organisation_id, Role.PARTNER)

    async def _holder_name(self, task: Task) -> str | None:
        holder = task.holder
        if holder.pair_id is not None:
            pair = await self._uow.pairs.get(holder.pair_id)
            return pair.names if pair else None
        if holder.person_id is not None:
            person = await self._uow.people.get(holder.person_id)
            return person.name if person else None
        if holder.organisation_id is not None:
            organisation: Organisation | None = await self._uow.organisations.get(
                holder.organisation_id
            )
            return organisation.name if organisation else None
        return None

    async def _view(self, task: Task, *, contact: bool) -> TaskView:
        resident = await self._resident(task)
        return TaskView(
            task=task,
            postal_code=resident.postal_code,
            resident=resident if contact else None,
            holder_name=await self._holder_name(task),
        )

    async def _move(
        self,
        task: Task,
        action: Action,
        actor_id: int | None,
        *,
        detail: str | None = None,
        **changes: object,
    ) -> Task:
        """Apply one transition from the table, write and record it, or raise changing nothing."""
        target = next_state(task.state, action)
        moved = task.model_copy(update={"state": target, **changes})
        if not await self._uow.tasks.save(moved, task.state):
            raise IllegalTransition(task.state.value, action.value)  # changed under our feet
        await self._record(task, action, actor_id, target, detail=detail)
        return moved

    async def _update(self, task: Task, **changes: datetime) -> Task:
        moved = task.model_copy(update=changes)
        await self._uow.tasks.save(moved, task.state)
        return moved

    async def _record(
        self,
        task: Task,
        action: Action,
        actor_id: int | None,
        target: TaskState,
        *,
        detail: str | None = None,
    ) -> None:
        await self._uow.tasks.record_event(
            task.id,
            TaskEvent(
                at=self._clock(),
                actor_id=actor_id,
                action=action,
                from_state=task.state,
                to_state=target,
                detail=detail,
            ),
        )

    async def coordinators(self) -> list[Person]:
        """Return the active coordinators, who are told when tasks need a hand."""
        return await self._coordinators()

    async def _coordinators(self) -> list[Person]:
        return await self._uow.people.active_with_role(Role.COORDINATOR)

    async def _audience(self, messages: Iterable[TaskMessage]) -> dict[int, Person]:
        people: dict[int, Person] = {}
        for message in messages:
            if message.person_id not in people:
                person = await self._uow.people.get(message.person_id)
                if person is not None:
                    people[person.id] = person
        return people
