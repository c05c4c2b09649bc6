"""Broadcasts: coordinators reach many people at once, and each message is delivered exactly once.

Starting a broadcast writes the broadcast and one outbox row per recipient in one transaction, so a
confirmed broadcast is never half-queued. The outbox worker (an adapter) then asks for due rows,
`begin`s each one just before its request leaves (re-checking that it is still wanted: the
broadcast still running, its author still allowed, the person still active, an offered task still
waiting for that pair) and reports what Telegram answered. A row is moved only from the state it
was read in, so a cancel racing a send, or two workers, cannot send a row twice. After a hard stop
the rows left `sending` are marked `uncertain` and never resent; they are named in the report.

Offers follow the rules of single offers: each task goes to the available pairs covering its area,
is recorded as offered to them before any message leaves, carries no personal data, and the first
Accept wins. A row for a task that was taken meanwhile is skipped rather than sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.domain.broadcasts import (
    MAX_TEXT,
    Attachment,
    Audience,
    AudienceKind,
    Broadcast,
    BroadcastError,
    BroadcastKind,
    BroadcastProblem,
    BroadcastState,
    OutboxRow,
    RowState,
    StopReason,
    Tally,
    retry_delay,
)
from bot.domain.errors import NotAllowed
from bot.domain.pairs import Pair, covers
from bot.domain.people import Capability, Organisation, Person, Role
from bot.domain.tasks import MessageKind, Task, TaskMessage, TaskState
from bot.services.dispatch import DispatchService, NoAvailablePairs
from bot.services.people import require
from bot.services.ports import Clock, UnitOfWork

__all__ = [
    "BroadcastService",
    "Choices",
    "Delivery",
    "OfferPlan",
    "OpenTask",
    "Progress",
    "Report",
]

_REPORTED_STATES = frozenset({RowState.BLOCKED, RowState.FAILED, RowState.UNCERTAIN})


@dataclass(frozen=True, slots=True)
class Choices:
    """What a coordinator may choose an audience from."""

    organisations: list[Organisation]
    pairs: list[Pair]


@dataclass(frozen=True, slots=True)
class OpenTask:
    """An unassigned task as a coordinator chooses among them: no resident data but the area."""

    task: Task
    postal_code: str
    pairs: int  # available pairs covering its area


@dataclass(frozen=True, slots=True)
class OfferPlan:
    """What offering a set of tasks would do."""

    tasks: list[OpenTask]  # tasks with at least one pair to offer them to
    uncovered: list[OpenTask]  # tasks no available pair covers: they stay open
    messages: int  # offers to send, one per pair member and task
    people: int  # distinct recipients


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row ready to send: who, what, and (for an offer) the task as a pair may see it."""

    row: OutboxRow
    person: Person
    broadcast: Broadcast
    author_name: str
    task: Task | None = None
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class Progress:
    """A broadcast and how far it has got; `author` is whom its progress is shown to."""

    broadcast: Broadcast
    tally: Tally
    author: Person | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """The end of a broadcast, for its author: counts, and who could not be reached."""

    broadcast: Broadcast
    tally: Tally
    author: Person | None
    blocked: list[Person] = field(default_factory=list)
    failed: list[Person] = field(default_factory=list)
    uncertain: list[Person] = field(default_factory=list)


class BroadcastService:
    """Choose an audience, queue a broadcast, and account for every message of it."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        dispatch: DispatchService,
        *,
        max_file_bytes: int = 20 * 1024 * 1024,
        attempts: int = 5,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._dispatch = dispatch
        self.max_file_bytes = max_file_bytes
        self.attempts = attempts

    # --- coordinators -------------------------------------------------------------------------

    async def choices(self, actor: Person) -> Choices:
        """Return the organisations and pairs an audience may be chosen from."""
        require(actor, Capability.BROADCAST)
        pairs = [p for p in await self._uow.pairs.current() if p.workable]
        return Choices(organisations=await self._uow.organisations.all(), pairs=pairs)

    async def recipients(self, actor: Person, audience: Audience) -> list[Person]:
        """Return who the audience reaches now (never the author); refuse an empty audience."""
        require(actor, Capability.BROADCAST)
        people = await self._recipients(actor.id, audience)
        if not people:
            raise BroadcastError(BroadcastProblem.EMPTY_AUDIENCE)
        return people

    def check_message(self, text: str, attachment: Attachment | None) -> str:
        """Return the message text tidied; refuse an empty, overlong or oversized message."""
        text = text.strip()
        if not text and attachment is None:
            raise BroadcastError(BroadcastProblem.EMPTY_MESSAGE)
        if len(text) > MAX_TEXT:
            raise BroadcastError(BroadcastProblem.TOO_LONG)
        if attachment is not None and (attachment.size or 0) > self.max_file_bytes:
            raise BroadcastError(BroadcastProblem.FILE_TOO_LARGE)
        return text

    async def send_message(
        self, actor: Person, audience: Audience, text: str, attachment: Attachment | None
    ) -> tuple[Broadcast, int]:
        """Queue a message to everyone the audience reaches now; return it and the count."""
        text = self.check_message(text, attachment)
        async with self._uow.transaction():
            author = await self._allowed(actor)
            people = await self._recipients(author.id, audience)
            if not people:
                raise BroadcastError(BroadcastProblem.EMPTY_AUDIENCE)
            now = self._clock()
            broadcast = await self._uow.broadcasts.add(
                kind=BroadcastKind.MESSAGE,
                author_id=author.id,
                audience=audience,
                text=text,
                attachment=attachment,
                at=now,
            )
            count = await self._uow.broadcasts.add_rows(
                broadcast.id, [(p.id, None, None) for p in people], now
            )
            await self._uow.audit.record(
                at=now,
                actor_id=author.id,
                action="broadcast_message",
                subject_id=broadcast.id,
                detail=f"{audience.kind.value}:{count}",
            )
        return broadcast, count

    async def open_tasks(self, actor: Person) -> list[OpenTask]:
        """Return the unassigned (open) tasks, earliest window first, with their covering pairs."""
        require(actor, Capability.BROADCAST)
        return await self._open_tasks(None)

    async def plan_offers(self, actor: Person, task_ids: frozenset[int] | None) -> OfferPlan:
        """Say what offering the chosen open tasks (None: all of them) would send."""
        require(actor, Capability.BROADCAST)
        tasks = await self._open_tasks(task_ids)
        if not tasks:
            raise BroadcastError(BroadcastProblem.NO_TASKS)
        pairs = [p for p in await self._uow.pairs.current() if p.available]
        covered = [t for t in tasks if t.pairs]
        people: set[int] = set()
        messages = 0
        for item in covered:
            for pair in pairs:
                if covers(pair.areas, item.postal_code):
                    messages += len(pair.members)
                    people.update(m.id for m in pair.members)
        return OfferPlan(
            tasks=covered,
            uncovered=[t for t in tasks if not t.pairs],
            messages=messages,
            people=len(people),
        )

    async def send_offers(
        self, actor: Person, task_ids: frozenset[int] | None
    ) -> tuple[Broadcast, int]:
        """Offer the chosen open tasks to the pairs covering them; queue one offer per member."""
        async with self._uow.transaction():
            author = await self._allowed(actor)
            tasks = await self._open_tasks(task_ids)
            if not tasks:
                raise BroadcastError(BroadcastProblem.NO_TASKS)
            queued = await self.queue_offers_within(author, [item.task for item in tasks])
            if queued is None:
                raise BroadcastError(BroadcastProblem.NO_PAIRS)
        return queued

    async def queue_offers_within(
        self, author: Person, tasks: Sequence[Task]
    ) -> tuple[Broadcast, int] | None:
        """Offer open tasks through the outbox, inside the caller's transaction.

        Return the broadcast and its number of rows, or None when no pair covers any task (the
        tasks then stay open). `author` gets the report, and must be allowed to broadcast.
        """
        now = self._clock()
        rows: list[tuple[int, int | None, int | None]] = []
        for task in tasks:
            try:
                offered = await self._dispatch.offer_within(task, author.id)
            except NoAvailablePairs:
                continue
            rows += [(m.id, task.id, p.id) for p in offered.pairs for m in p.members]
        if not rows:
            return None
        broadcast = await self._uow.broadcasts.add(
            kind=BroadcastKind.OFFERS,
            author_id=author.id,
            audience=None,
            text="",
            attachment=None,
            at=now,
        )
        count = await self._uow.broadcasts.add_rows(broadcast.id, rows, now)
        await self._uow.audit.record(
            at=now,
            actor_id=author.id,
            action="broadcast_offers",
            subject_id=broadcast.id,
            detail=str(count),
        )
        return broadcast, count

    async def shown_at(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        """Remember the message that shows the broadcast's progress (it is edited in place)."""
        async with self._uow.transaction():
            await self._uow.broadcasts.set_progress(broadcast_id, chat_id, message_id)

    async def cancel(self, actor: Person, broadcast_id: int) -> Progress:
        """Stop a running broadcast: nothing more is sent; unsent offers are withdrawn."""
        require(actor, Capability.BROADCAST)
        async with self._uow.transaction():
            await self._allowed(actor)
            broadcast = await self._broadcast(broadcast_id)
            if broadcast.state is not BroadcastState.SENDING:
                raise BroadcastError(BroadcastProblem.FINISHED)
            await self._stop(broadcast, StopReason.CANCELLED, actor.id)
            broadcast = await self._broadcast(broadcast_id)
            tally = await self._uow.broadcasts.tally(broadcast_id)
        return Progress(broadcast=broadcast, tally=tally)

    async def progress(self, actor: Person, broadcast_id: int) -> Progress:
        """Return how far a broadcast has got."""
        require(actor, Capability.BROADCAST)
        broadcast = await self._broadcast(broadcast_id)
        return Progress(broadcast=broadcast, tally=await self._uow.broadcasts.tally(broadcast_id))

    async def recent(self, actor: Person, limit: int = 10) -> list[Progress]:
        """Return the latest broadcasts with their counts, newest first."""
        require(actor, Capability.BROADCAST)
        return [
            Progress(broadcast=b, tally=await self._uow.broadcasts.tally(b.id))
            for b in await self._uow.broadcasts.recent(limit)
        ]

    # --- the worker ----------------------------------------------------------------------------

    async def recover(self) -> int:
        """After a start: rows a hard stop left in flight become `uncertain`; return how many."""
        async with self._uow.transaction():
            return await self._uow.broadcasts.abandon_in_flight(self._clock())

    async def due(self, limit: int) -> list[tuple[int, int]]:
        """Return (row id, chat id) of rows to send now, oldest first."""
        return await self._uow.broadcasts.due(self._clock(), limit)

    async def begin(self, row_id: int) -> Delivery | None:
        """Mark a row in flight and return what to send; None when it is no longer wanted."""
        async with self._uow.transaction():
            row = await self._uow.broadcasts.row(row_id)
            if row is None or row.state is not RowState.PENDING:
                return None
            broadcast = await self._broadcast(row.broadcast_id)
            if broadcast.state is not BroadcastState.SENDING:
                await self._set(row, RowState.CANCELLED)
                await self._withdraw_unreached(row, None)
                return None
            author = await self._uow.people.get(broadcast.author_id)
            if author is None or not author.can(Capability.BROADCAST):
                await self._stop(broadcast, StopReason.REVOKED, None)
                return None
            person = await self._uow.people.get(row.person_id)
            if person is None or not person.active:
                await self._set(row, RowState.SKIPPED, error="inactive")
                await self._withdraw_unreached(row, None)
                return None
            task, postal_code = None, ""
            if row.task_id is not None:
                task = await self._uow.tasks.get(row.task_id)
                status = (
                    await self._uow.tasks.offer_status(row.task_id, row.pair_id)
                    if task is not None and row.pair_id is not None
                    else None
                )
                if task is None or task.state is not TaskState.OFFERED or status != "pending":
                    await self._set(row, RowState.SKIPPED, error="taken")
                    return None
                resident = await self._uow.residents.get(task.resident_id)
                postal_code = resident.postal_code if resident else ""
            await self._set(row, RowState.SENDING)
        return Delivery(
            row=row,
            person=person,
            broadcast=broadcast,
            author_name=author.name,
            task=task,
            postal_code=postal_code,
        )

    async def part_sent(
        self, delivery: Delivery, part: int, *, last: bool, chat_id: int, message_id: int
    ) -> None:
        """Record one part as delivered (the last part delivers the row)."""
        async with self._uow.transaction():
            row = delivery.row
            state = RowState.SENT if last else RowState.SENDING
            await self._uow.broadcasts.move(
                row.id, RowState.SENDING, state, self._clock(), parts_sent=part + 1
            )
            if last and row.task_id is not None:
                await self._uow.tasks.remember_message(
                    TaskMessage(
                        chat_id=chat_id,
                        message_id=message_id,
                        task_id=row.task_id,
                        person_id=row.person_id,
                        kind=MessageKind.OFFER,
                    )
                )
            if delivery.person.unreachable_since is not None:
                await self._uow.people.set_unreachable(delivery.person.id, None)

    async def throttled(self, delivery: Delivery) -> None:
        """Telegram said 429: the row goes back to the queue, no attempt spent."""
        async with self._uow.transaction():
            await self._uow.broadcasts.move(
                delivery.row.id, RowState.SENDING, RowState.PENDING, self._clock()
            )

    async def blocked(self, delivery: Delivery) -> None:
        """Telegram said 403: the person blocked the bot; they are marked unreachable."""
        async with self._uow.transaction():
            now = self._clock()
            await self._uow.broadcasts.move(
                delivery.row.id, RowState.SENDING, RowState.BLOCKED, now, error="forbidden"
            )
            await self._uow.people.set_unreachable(delivery.person.id, now)
            await self._withdraw_unreached(delivery.row, None)

    async def faulted(self, delivery: Delivery, error: str) -> bool:
        """A network fault or a 5xx: try again later, or fail after the last attempt.

        Return whether the row will be tried again.
        """
        attempts = delivery.row.attempts + 1
        now = self._clock()
        async with self._uow.transaction():
            if attempts >= self.attempts:
                await self._uow.broadcasts.move(
                    delivery.row.id,
                    RowState.SENDING,
                    RowState.FAILED,
                    now,
                    attempts=attempts,
                    error=error,
                )
                await self._withdraw_unreached(delivery.row, None)
                return False
            await self._uow.broadcasts.move(
                delivery.row.id,
                RowState.SENDING,
                RowState.PENDING,
                now,
                attempts=attempts,
                not_before=now + retry_delay(attempts),
                error=error,
            )
            return True

    async def failed(self, delivery: Delivery, error: str) -> None:
        """Telegram refused the message for good (e.g. 400 chat not found)."""
        async with self._uow.transaction():
            await self._uow.broadcasts.move(
                delivery.row.id, RowState.SENDING, RowState.FAILED, self._clock(), error=error
            )
            await self._withdraw_unreached(delivery.row, None)

    async def uncertain(self, delivery: Delivery, error: str) -> None:
        """The request may have arrived (a timeout after sending): never resent, reported."""
        async with self._uow.transaction():
            await self._uow.broadcasts.move(
                delivery.row.id, RowState.SENDING, RowState.UNCERTAIN, self._clock(), error=error
            )

    async def abandon(self, row_id: int) -> None:
        """Something unexpected broke a send: whether it arrived is unknown, so never resent."""
        async with self._uow.transaction():
            await self._uow.broadcasts.move(
                row_id, RowState.SENDING, RowState.UNCERTAIN, self._clock(), error="fault"
            )

    async def report_undelivered(self, broadcast_id: int) -> None:
        """The report could not be handed over: it is handed over again next round."""
        async with self._uow.transaction():
            await self._uow.broadcasts.unmark_reported(broadcast_id)

    async def running(self) -> list[Progress]:
        """Return the broadcasts whose report is not handed over yet, with their counts."""
        return [
            Progress(
                broadcast=b,
                tally=await self._uow.broadcasts.tally(b.id),
                author=await self._uow.people.get(b.author_id),
            )
            for b in await self._uow.broadcasts.unreported()
        ]

    async def reports(self) -> list[Report]:
        """End the broadcasts with nothing left to send; return each report exactly once."""
        if not await self._uow.broadcasts.unreported():
            return []  # the common case, without taking the write lock
        reports = []
        async with self._uow.transaction():
            now = self._clock()
            for broadcast in await self._uow.broadcasts.unreported():
                tally = await self._uow.broadcasts.tally(broadcast.id)
                if tally.open:
                    continue
                await self._uow.broadcasts.end(broadcast.id, BroadcastState.FINISHED, now)
                if not await self._uow.broadcasts.mark_reported(broadcast.id, now):
                    continue
                reports.append(await self._report(broadcast.id, tally))
        return reports

    # --- inside ------------------------------------------------------------------------------

    async def _allowed(self, actor: Person) -> Person:
        """Re-read the actor inside the transaction: a role removed meanwhile refuses."""
        fresh = await self._uow.people.get(actor.id)
        if fresh is None:
            raise NotAllowed(Capability.BROADCAST.value)
        require(fresh, Capability.BROADCAST)
        return fresh

    async def _broadcast(self, broadcast_id: int) -> Broadcast:
        broadcast = await self._uow.broadcasts.get(broadcast_id)
        if broadcast is None:
            raise BroadcastError(BroadcastProblem.FINISHED)
        return broadcast

    async def _set(self, row: OutboxRow, state: RowState, error: str | None = None) -> None:
        await self._uow.broadcasts.move(row.id, row.state, state, self._clock(), error=error)

    async def _stop(self, broadcast: Broadcast, reason: StopReason, by: int | None) -> None:
        """End a broadcast early: cancel what is unsent; withdraw offers nobody received."""
        now = self._clock()
        await self._uow.broadcasts.end(
            broadcast.id, BroadcastState.CANCELLED, now, reason=reason, by=by
        )
        cancelled = await self._uow.broadcasts.cancel_pending(broadcast.id, now)
        if broadcast.kind is not BroadcastKind.OFFERS:
            return
        by_task: dict[int, set[int]] = {}
        for row in cancelled:
            if row.task_id is not None and row.pair_id is not None:
                by_task.setdefault(row.task_id, set()).add(row.pair_id)
        for task_id, pair_ids in sorted(by_task.items()):
            reached = await self._uow.broadcasts.pairs_reached(broadcast.id, task_id)
            await self._dispatch.withdraw_within(task_id, pair_ids - reached, by)

    async def _withdraw_unreached(self, row: OutboxRow, actor_id: int | None) -> None:
        """An offer that reached no member of its pair is withdrawn (the task may go back)."""
        if row.task_id is None or row.pair_id is None:
            return
        reached = await self._uow.broadcasts.pairs_reached(row.broadcast_id, row.task_id)
        if row.pair_id not in reached:
            await self._dispatch.withdraw_within(row.task_id, {row.pair_id}, actor_id)

    async def _report(self, broadcast_id: int, tally: Tally) -> Report:
        broadcast = await self._broadcast(broadcast_id)
        author = await self._uow.people.get(broadcast.author_id)
        states = await self._uow.broadcasts.people_in(broadcast_id, _REPORTED_STATES)
        named: dict[RowState, list[Person]] = {s: [] for s in _REPORTED_STATES}
        for person_id, state in states.items():
            person = await self._uow.people.get(person_id)
            if person is not None:
                named[state].append(person)
        for people in named.values():
            people.sort(key=lambda p: (p.name.casefold(), p.id))
        return Report(
            broadcast=broadcast,
            tally=tally,
            author=author,
            blocked=named[RowState.BLOCKED],
            failed=named[RowState.FAILED],
            uncertain=named[RowState.UNCERTAIN],
        )

    async def _open_tasks(self, task_ids: frozenset[int] | None) -> list[OpenTask]:
        tasks = await self._uow.tasks.in_states(frozenset({TaskState.OPEN}), 10_000)
        if task_ids is not None:
            tasks = [t for t in tasks if t.id in task_ids]
        pairs = [p for p in await self._uow.pairs.current() if p.available]
        result = []
        for task in tasks:
            resident = await self._uow.residents.get(task.resident_id)
            postal = resident.postal_code if resident else ""
            result.append(
                OpenTask(
                    task=task, postal_code=postal, pairs=sum(covers(p.areas, postal) for p in pairs)
                )
            )
        return result

    async def _recipients(self, author_id: int, audience: Audience) -> list[Person]:
        if not audience.complete:
            raise BroadcastError(BroadcastProblem.EMPTY_AUDIENCE)
        people: Sequence[Person]
        match audience.kind:
            case AudienceKind.EVERYONE:
                people = await self._uow.people.active()
            case AudienceKind.VOLUNTEERS:
                people = await self._uow.people.active_with_role(Role.VOLUNTEER)
            case AudienceKind.AVAILABLE:
                volunteers = await self._uow.people.active_with_role(Role.VOLUNTEER)
                people = [p for p in volunteers if p.available]
            case AudienceKind.ROLE:
                assert audience.role is not None
                people = await self._uow.people.active_with_role(audience.role)
            case AudienceKind.ORGANISATION:
                people = [
                    p
                    for p in await self._uow.people.active()
                    if p.organisation is not None and p.organisation.id == audience.organisation_id
                ]
            case AudienceKind.AREA:
                people = [
                    p
                    for p in await self._uow.people.active_with_role(Role.VOLUNTEER)
                    if audience.meets_area(await self._uow.pairs.areas_of(p.id))
                ]
            case AudienceKind.PAIRS:
                chosen = [p for p in await self._uow.pairs.current() if p.id in audience.pair_ids]
                people = [m for p in chosen for m in p.members if m.active]
        seen: set[int] = set()
        result = []
        for person in people:
            if person.id != author_id and person.id not in seen:
                seen.add(person.id)
                result.append(person)
        return result
