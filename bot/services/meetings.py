"""Coordination meetings: manage them, answer attendance, and find the reminders the clock brought.

The database is the source of truth. `plan` says when something next falls due (the adapter turns
that into JobQueue jobs, rebuilt at start and after every change); `claim_due` records every due
reminder in the transaction that finds it, so a reminder is sent once however often the jobs run or
the bot restarts. A reminder found later than the grace window after its time (the bot was down) is
recorded as skipped, never sent stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.briefs import Figures
from bot.domain.errors import (
    GroupUnavailable,
    MeetingNotFound,
    MeetingOver,
    NotInAudience,
    OccurrenceNotFound,
    OrganisationRequired,
    PersonNotFound,
)
from bot.domain.meetings import (
    MAX_MOVE,
    AudienceKind,
    Change,
    Delivery,
    Group,
    Meeting,
    MeetingError,
    MeetingProblem,
    MeetingSpec,
    Occurrence,
)
from bot.domain.people import Capability, Organisation, Person, Role
from bot.domain.schedule import (
    local_start,
    next_occurrence,
    next_reminder,
    occurrences,
    previous_occurrence,
    reminders_between,
)
from bot.services.people import require
from bot.services.ports import Clock, UnitOfWork

__all__ = [
    "Answered",
    "Attendees",
    "Brief",
    "Digest",
    "Due",
    "GroupRemoved",
    "MeetingService",
    "MeetingView",
    "OccurrenceChanged",
    "Outgoing",
    "Wake",
]

SENT = "sent"
SKIPPED = "skipped"
REMINDER = "reminder"
BRIEF = "brief"
_LOOKBACK = timedelta(days=7)  # how far back a run looks for reminders it has not recorded
_RETRY = timedelta(seconds=30)  # how soon an undelivered reminder is tried again
_REMINDER_REACH = timedelta(days=15)  # the longest reminder offset (14 days) and a margin


@dataclass(frozen=True, slots=True)
class Wake:
    """Something falls due at `at`; `name` is stable, so a rebuilt job replaces the old one."""

    name: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One reminder or brief to send now to one chat."""

    delivery: Delivery
    meeting: Meeting
    occurrence: Occurrence
    person: Person | None  # None: the meeting's group chat


@dataclass(frozen=True, slots=True)
class Due:
    """What a run of the clock found: deliveries to make and whether the digest is due."""

    outgoing: list[Outgoing] = field(default_factory=list)
    digest_to: list[Person] = field(default_factory=list)
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class MeetingView:
    """A meeting as its organisers see it: who attends and who answered for the next occurrence."""

    meeting: Meeting
    next: Occurrence | None
    organisation: Organisation | None
    people: list[Person]  # the chosen people (for a people audience)
    group: Group | None
    attending: list[Person]
    not_attending: list[Person]
    unanswered: int | None  # None for a group chat: its members are not known
    changes: dict[date, Change]


@dataclass(frozen=True, slots=True)
class Attendees:
    """Who a meeting's audience names: the organisation, the chosen people or the group chat."""

    organisation: Organisation | None
    people: list[Person]
    group: Group | None


@dataclass(frozen=True, slots=True)
class Answered:
    """An attendance answer; `changed` is False for a double tap."""

    meeting: Meeting
    occurrence: Occurrence
    attending: bool
    changed: bool


@dataclass(frozen=True, slots=True)
class OccurrenceChanged:
    """One occurrence cancelled or moved, and who to tell."""

    meeting: Meeting
    occurrence: Occurrence  # as it was
    moved_to: datetime | None  # None: cancelled
    people: list[Person]
    group: Group | None


@dataclass(frozen=True, slots=True)
class GroupRemoved:
    """The bot was removed from a group some meetings use; their organisers are told."""

    group: Group
    meetings: list[Meeting]
    organisers: list[Person]


@dataclass(frozen=True, slots=True)
class Brief:
    """What coordinators receive with a meeting's last reminder."""

    meeting: Meeting
    occurrence: Occurrence
    figures: Figures
    attending: list[Person]
    not_attending: list[Person]


@dataclass(frozen=True, slots=True)
class Digest:
    """The coordinators' morning digest: today's meetings and the figures of the last day."""

    today: list[tuple[Meeting, Occurrence]]
    figures: Figures


class MeetingService:
    """Meetings, their reminders and the attendance answers."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        zone: ZoneInfo,
        grace: timedelta = timedelta(minutes=10),
        digest_at: time | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.zone = zone
        self.grace = grace
        self.digest_at = digest_at

    # --- managing meetings --------------------------------------------------------------------

    async def create(self, actor: Person, spec: MeetingSpec) -> Meeting:
        """Save a new meeting."""
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            await self._check_audience(spec)
            meeting = await self._uow.meetings.add(spec, actor.id, self._clock())
            await self._uow.audit.record(
                at=self._clock(), actor_id=actor.id, action="meeting_create", subject_id=meeting.id
            )
        return meeting

    async def update(self, actor: Person, meeting_id: int, spec: MeetingSpec) -> Meeting:
        """Replace a meeting's fields; its recorded reminders and answers stay."""
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            await self._meeting(meeting_id)
            await self._check_audience(spec)
            await self._uow.meetings.update(meeting_id, spec, self._clock())
            await self._uow.audit.record(
                at=self._clock(), actor_id=actor.id, action="meeting_update", subject_id=meeting_id
            )
            return await self._meeting(meeting_id)

    async def set_paused(self, actor: Person, meeting_id: int, paused: bool) -> Meeting:
        """Pause (no reminders) or resume a meeting; a repeated press changes nothing."""
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            meeting = await self._meeting(meeting_id)
            if meeting.paused != paused:
                await self._uow.meetings.set_paused(meeting_id, paused, self._clock())
                await self._uow.audit.record(
                    at=self._clock(),
                    actor_id=actor.id,
                    action="meeting_pause" if paused else "meeting_resume",
                    subject_id=meeting_id,
                )
            return await self._meeting(meeting_id)

    async def delete(self, actor: Person, meeting_id: int) -> Meeting:
        """Delete a meeting for good."""
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            meeting = await self._meeting(meeting_id)
            await self._uow.meetings.delete(meeting_id)
            await self._uow.audit.record(
                at=self._clock(), actor_id=actor.id, action="meeting_delete", subject_id=meeting_id
            )
        return meeting

    async def cancel_occurrence(
        self, actor: Person, meeting_id: int, day: date
    ) -> OccurrenceChanged:
        """Cancel one occurrence; the attendees are to be told."""
        return await self._change(actor, meeting_id, day, None)

    async def move_occurrence(
        self, actor: Person, meeting_id: int, day: date, to: datetime
    ) -> OccurrenceChanged:
        """Move one occurrence to another time (at most MAX_MOVE from its own day)."""
        if to <= self._clock():
            raise MeetingError(MeetingProblem.MOVE_PAST)
        if abs(to - local_start(day, time(0), self.zone)) > MAX_MOVE:
            raise MeetingError(MeetingProblem.MOVE_FAR)
        return await self._change(actor, meeting_id, day, to)

    async def _change(
        self, actor: Person, meeting_id: int, day: date, to: datetime | None
    ) -> OccurrenceChanged:
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            meeting = await self._meeting(meeting_id)
            changes = await self._uow.meetings.changes(meeting_id)
            occurrence = self._occurrence(meeting, day, changes)
            if occurrence.ends <= self._clock():
                raise MeetingOver(str(day))
            change = Change(day=day, moved_to=to)
            await self._uow.meetings.set_change(meeting_id, change, actor.id, self._clock())
            await self._uow.audit.record(
                at=self._clock(),
                actor_id=actor.id,
                action="meeting_move" if to else "meeting_cancel_one",
                subject_id=meeting_id,
                detail=day.isoformat(),
            )
            people = await self._audience(meeting.spec)
            group = await self._group_of(meeting.spec)
        return OccurrenceChanged(meeting, occurrence, to, people, group)

    # --- reading ------------------------------------------------------------------------------

    async def meetings_for(self, actor: Person) -> list[MeetingView]:
        """Every meeting for coordinators; for others the meetings they attend."""
        async with self._uow.transaction():
            meetings = await self._uow.meetings.all()
            views = []
            for meeting in meetings:
                if not actor.can(Capability.MANAGE_MEETINGS) and not self._attends(actor, meeting):
                    continue
                views.append(await self._view(meeting))
        return views

    async def view(self, actor: Person, meeting_id: int) -> MeetingView:
        """Return one meeting; attendees and coordinators may see it."""
        async with self._uow.transaction():
            meeting = await self._meeting(meeting_id)
            if not actor.can(Capability.MANAGE_MEETINGS) and not self._attends(actor, meeting):
                raise NotInAudience(str(meeting_id))
            return await self._view(meeting)

    async def upcoming(self, actor: Person, meeting_id: int, count: int = 6) -> list[Occurrence]:
        """Return the next occurrences (moved ones included, cancelled ones not)."""
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            meeting = await self._meeting(meeting_id)
            changes = await self._uow.meetings.changes(meeting_id)
        now = self._clock()
        found = occurrences(
            meeting, self.zone, now - meeting.duration, now + timedelta(days=62), changes
        )
        return [o for o in found if o.ends > now][:count]

    async def occurrence(self, meeting_id: int, day: date) -> tuple[Meeting, Occurrence]:
        """Return one occurrence of a meeting (for rendering a button's answer)."""
        async with self._uow.transaction():
            meeting = await self._meeting(meeting_id)
            changes = await self._uow.meetings.changes(meeting_id)
        return meeting, self._occurrence(meeting, day, changes)

    async def calendar(self, actor: Person, meeting_id: int) -> tuple[Meeting, dict[date, Change]]:
        """Return what an .ics file of the meeting needs."""
        view = await self.view(actor, meeting_id)
        return view.meeting, view.changes

    async def groups(self, actor: Person) -> list[Group]:
        """Return the group chats the bot is a member of."""
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            return await self._uow.meetings.groups()

    async def attendees(self, actor: Person, spec: MeetingSpec) -> Attendees:
        """Return who a meeting's audience names: its organisation, chosen people or group."""
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            return await self._attendees(spec)

    async def organisations(self, actor: Person) -> list[Organisation]:
        """Return the organisations a meeting can be for."""
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            return await self._uow.organisations.all()

    async def people(self, actor: Person) -> list[Person]:
        """Return the active people a meeting can invite, by name."""
        require(actor, Capability.MANAGE_MEETINGS)
        async with self._uow.transaction():
            found: dict[int, Person] = {}
            for role in Role:
                for person in await self._uow.people.active_with_role(role):
                    found[person.id] = person
        return sorted(found.values(), key=lambda p: (p.name.casefold(), p.id))

    # --- attendance ---------------------------------------------------------------------------

    async def answer(
        self, actor: Person, meeting_id: int, day: date, attending: bool, chat_id: int
    ) -> Answered:
        """Record I'll attend / Can't attend for one occurrence; a repeat changes nothing.

        `chat_id` is where the button was pressed: a group meeting is answered in its group, any
        other in the attendee's own chat.
        """
        async with self._uow.transaction():
            meeting = await self._meeting(meeting_id)
            changes = await self._uow.meetings.changes(meeting_id)
            occurrence = self._occurrence(meeting, day, changes)
            now = self._clock()
            if occurrence.ends <= now:
                raise MeetingOver(str(day))
            audience = meeting.spec.audience
            if audience.kind is AudienceKind.GROUP:
                if chat_id != audience.chat_id:
                    raise NotInAudience(str(meeting_id))
            elif chat_id != actor.telegram_user_id or not (
                self._attends(actor, meeting) or actor.can(Capability.MANAGE_MEETINGS)
            ):
                raise NotInAudience(str(meeting_id))
            previous = await self._uow.meetings.answer(meeting_id, day, actor.id, attending, now)
        return Answered(meeting, occurrence, attending, changed=previous != attending)

    # --- group chats --------------------------------------------------------------------------

    async def group_joined(
        self, chat_id: int, title: str, added_by_telegram_id: int | None
    ) -> bool:
        """The bot was added to a group chat: a coordinator's group can be a meeting's audience.

        Return False (nothing stored) when whoever added it may not manage meetings: a stranger's
        group must never receive a meeting's link.
        """
        async with self._uow.transaction():
            person = (
                await self._uow.people.by_telegram_id(added_by_telegram_id)
                if added_by_telegram_id is not None
                else None
            )
            if person is None or not person.can(Capability.MANAGE_MEETINGS):
                return False
            await self._uow.meetings.group_joined(
                chat_id, title[:200] or "?", person.id, self._clock()
            )
        return True

    async def group_left(self, chat_id: int) -> GroupRemoved | None:
        """The bot was removed from a group chat; return who must be told, once."""
        async with self._uow.transaction():
            if not await self._uow.meetings.group_left(chat_id, self._clock()):
                return None
            group = await self._uow.meetings.group(chat_id)
            assert group is not None
            meetings = await self._uow.meetings.using_group(chat_id)
            organisers = await self._organisers(meetings)
        return GroupRemoved(group, meetings, organisers)

    async def group_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """Telegram upgraded a group to a supergroup: its meetings follow it to the new chat id."""
        async with self._uow.transaction():
            await self._uow.meetings.migrate_group(old_chat_id, new_chat_id, self._clock())

    # --- the clock ----------------------------------------------------------------------------

    async def plan(self) -> list[Wake]:
        """Return when each meeting (and the digest) next needs the clock."""
        now = self._clock()
        wakes = []
        async with self._uow.transaction():
            for meeting in await self._uow.meetings.all():
                if meeting.paused:
                    continue
                changes = await self._uow.meetings.changes(meeting.id)
                after = max(now - self.grace, meeting.reminding_since)
                recorded = await self._uow.meetings.recorded(meeting.id, self._days_before(after))
                reminder = next_reminder(meeting, self.zone, after, changes)
                while reminder is not None and (reminder.occurrence.day, reminder.offset.key) in (
                    recorded
                ):
                    reminder = next_reminder(
                        meeting, self.zone, reminder.at + timedelta(microseconds=1), changes
                    )
                if reminder is not None:
                    wakes.append(Wake(f"meeting:{meeting.id}", reminder.at))
            if await self._uow.meetings.pending():
                wakes.append(Wake("meeting:retry", now + _RETRY))
            digest = await self._next_digest(now)
            if digest is not None:
                wakes.append(Wake("meeting:digest", digest))
        return wakes

    async def claim_due(self) -> Due:
        """Record every reminder due now and return what to send; skip the ones too late."""
        now = self._clock()
        skipped = 0
        async with self._uow.transaction():
            meetings = {m.id: m for m in await self._uow.meetings.all()}
            all_changes = {m: await self._uow.meetings.changes(m) for m in meetings}
            for meeting in meetings.values():
                if meeting.paused:
                    continue
                since = max(now - _LOOKBACK, meeting.reminding_since)
                recorded = await self._uow.meetings.recorded(meeting.id, self._days_before(since))
                due = reminders_between(
                    meeting,
                    self.zone,
                    since,
                    now + timedelta(microseconds=1),
                    all_changes[meeting.id],
                )
                for reminder in due:
                    if (reminder.occurrence.day, reminder.offset.key) in recorded:
                        continue
                    late = reminder.at < now - self.grace
                    reminder_id = await self._uow.meetings.record_reminder(
                        reminder, SKIPPED if late else SENT, now
                    )
                    if late:
                        skipped += 1
                    elif reminder_id is not None:
                        await self._plan_deliveries(reminder_id, meeting, reminder.last)
            outgoing = []
            for delivery in await self._uow.meetings.pending():
                meeting = meetings.get(delivery.meeting_id)
                if meeting is None or meeting.paused or delivery.due_at < now - self.grace:
                    await self._uow.meetings.failed(delivery.id, "gave_up")
                    continue
                try:
                    occurrence = self._occurrence(meeting, delivery.day, all_changes[meeting.id])
                except OccurrenceNotFound:
                    await self._uow.meetings.failed(delivery.id, "cancelled")
                    continue
                person = None
                if delivery.person_id is not None:
                    person = await self._uow.people.get(delivery.person_id)
                    if person is None or not person.active:
                        await self._uow.meetings.failed(delivery.id, "inactive")
                        continue
                outgoing.append(Outgoing(delivery, meeting, occurrence, person))
            digest_to = await self._claim_digest(now)
        return Due(outgoing, digest_to, skipped)

    async def delivered(self, delivery_id: int) -> None:
        """Telegram took the message."""
        async with self._uow.transaction():
            await self._uow.meetings.delivered(delivery_id, self._clock())

    async def undeliverable(self, delivery_id: int, reason: str) -> None:
        """The chat cannot be reached (blocked the bot, bot removed): do not try again."""
        async with self._uow.transaction():
            await self._uow.meetings.failed(delivery_id, reason)

    async def brief(self, meeting: Meeting, occurrence: Occurrence) -> Brief:
        """Return the figures the meeting needs, counted since its previous occurrence."""
        now = self._clock()
        async with self._uow.transaction():
            changes = await self._uow.meetings.changes(meeting.id)
            previous = previous_occurrence(meeting, self.zone, occurrence.starts, changes)
            since = previous.starts if previous is not None else meeting.created_at
            figures = await self._uow.briefs.figures(now, min(since, now))
            attending, not_attending = await self._answers(meeting.id, occurrence.day)
        return Brief(meeting, occurrence, figures, attending, not_attending)

    async def digest(self) -> Digest:
        """Return today's meetings and the figures of the last 24 hours."""
        now = self._clock()
        today = now.astimezone(self.zone).date()
        start = local_start(today, time(0), self.zone)
        end = local_start(today + timedelta(days=1), time(0), self.zone)
        found = []
        async with self._uow.transaction():
            for meeting in await self._uow.meetings.all():
                if meeting.paused:
                    continue
                changes = await self._uow.meetings.changes(meeting.id)
                found += [
                    (meeting, o) for o in occurrences(meeting, self.zone, start, end, changes)
                ]
            figures = await self._uow.briefs.figures(now, now - timedelta(days=1))
        return Digest(sorted(found, key=lambda mo: mo[1].starts), figures)

    # --- internals ----------------------------------------------------------------------------

    def _days_before(self, moment: datetime) -> date:
        """The earliest occurrence day whose reminders can fall due after `moment`.

        A reminder comes at most `_REMINDER_REACH` before its occurrence, which may have been moved
        MAX_MOVE from its own day.
        """
        return (moment - MAX_MOVE - _REMINDER_REACH).astimezone(self.zone).date()

    async def _meeting(self, meeting_id: int) -> Meeting:
        meeting = await self._uow.meetings.get(meeting_id)
        if meeting is None:
            raise MeetingNotFound(str(meeting_id))
        return meeting

    def _occurrence(self, meeting: Meeting, day: date, changes: dict[date, Change]) -> Occurrence:
        start = local_start(day, time(0), self.zone) - MAX_MOVE - timedelta(days=1)
        end = local_start(day, time(0), self.zone) + MAX_MOVE + timedelta(days=2)
        for occurrence in occurrences(meeting, self.zone, start, end, changes):
            if occurrence.day == day:
                return occurrence
        raise OccurrenceNotFound(str(day))

    async def _check_audience(self, spec: MeetingSpec) -> None:
        audience = spec.audience
        if audience.kind is AudienceKind.ORGANISATION:
            assert audience.organisation_id is not None
            if await self._uow.organisations.get(audience.organisation_id) is None:
                raise OrganisationRequired(str(audience.organisation_id))
        elif audience.kind is AudienceKind.PEOPLE:
            for person_id in audience.people:
                person = await self._uow.people.get(person_id)
                if person is None or not person.active:
                    raise PersonNotFound(str(person_id))
        elif audience.kind is AudienceKind.GROUP:
            assert audience.chat_id is not None
            group = await self._uow.meetings.group(audience.chat_id)
            if group is None or not group.member:
                raise GroupUnavailable(str(audience.chat_id))

    @staticmethod
    def _attends(person: Person, meeting: Meeting) -> bool:
        audience = meeting.spec.audience
        if audience.kind is AudienceKind.ROLE:
            return audience.role in person.roles
        if audience.kind is AudienceKind.ORGANISATION:
            return (
                person.organisation is not None
                and person.organisation.id == audience.organisation_id
            )
        if audience.kind is AudienceKind.PEOPLE:
            return person.id in audience.people
        return False  # a group chat's members are not known to the bot

    async def _audience(self, spec: MeetingSpec) -> list[Person]:
        """The active people a meeting's private messages go to (none for a group chat)."""
        audience = spec.audience
        if audience.kind is AudienceKind.ROLE:
            assert audience.role is not None
            return await self._uow.people.active_with_role(audience.role)
        if audience.kind is AudienceKind.ORGANISATION:
            assert audience.organisation_id is not None
            found: dict[int, Person] = {}
            for role in Role:
                for person in await self._uow.people.active_in_organisation(
                    audience.organisation_id, role
                ):
                    found[person.id] = person
            return sorted(found.values(), key=lambda p: (p.name.casefold(), p.id))
        if audience.kind is AudienceKind.PEOPLE:
            people = [await self._uow.people.get(person_id) for person_id in audience.people]
            return [p for p in people if p is not None and p.active]
        return []

    async def _group_of(self, spec: MeetingSpec) -> Group | None:
        chat_id = spec.audience.chat_id
        return await self._uow.meetings.group(chat_id) if chat_id is not None else None

    async def _attendees(self, spec: MeetingSpec) -> Attendees:
        audience = spec.audience
        organisation = (
            await self._uow.organisations.get(audience.organisation_id)
            if audience.organisation_id is not None
            else None
        )
        people = await self._audience(spec) if audience.kind is AudienceKind.PEOPLE else []
        return Attendees(organisation, people, await self._group_of(spec))

    async def _organisers(self, meetings: list[Meeting]) -> list[Person]:
        """The organisers of the meetings, or every coordinator if none of them is active."""
        found: dict[int, Person] = {}
        for meeting in meetings:
            person = await self._uow.people.get(meeting.created_by)
            if person is not None and person.can(Capability.MANAGE_MEETINGS):
                found[person.id] = person
        if not found and meetings:
            for person in await self._uow.people.active_with_role(Role.COORDINATOR):
                found[person.id] = person
        return list(found.values())

    async def _plan_deliveries(self, reminder_id: int, meeting: Meeting, last: bool) -> None:
        """One delivery per attendee's chat (or the group); with the last one, the briefs."""
        people = await self._audience(meeting.spec)
        group = await self._group_of(meeting.spec)
        if group is not None and group.member:
            await self._uow.meetings.add_delivery(reminder_id, REMINDER, group.chat_id, None)
        for person in people:
            await self._uow.meetings.add_delivery(
                reminder_id, REMINDER, person.telegram_user_id, person.id
            )
        if last:
            briefed = [p for p in people if p.can(Capability.MANAGE_MEETINGS)]
            briefed += [p for p in await self._organisers([meeting]) if p not in briefed]
            for person in briefed:
                await self._uow.meetings.add_delivery(
                    reminder_id, BRIEF, person.telegram_user_id, person.id
                )

    async def _view(self, meeting: Meeting) -> MeetingView:
        now = self._clock()
        changes = await self._uow.meetings.changes(meeting.id)
        upcoming = next_occurrence(meeting, self.zone, now, changes)
        audience = meeting.spec.audience
        attendees = await self._attendees(meeting.spec)
        attending: list[Person] = []
        not_attending: list[Person] = []
        unanswered: int | None = None
        if upcoming is not None:
            attending, not_attending = await self._answers(meeting.id, upcoming.day)
            if audience.kind is not AudienceKind.GROUP:
                answered = {p.id for p in attending + not_attending}
                unanswered = sum(
                    1 for p in await self._audience(meeting.spec) if p.id not in answered
                )
        return MeetingView(
            meeting=meeting,
            next=upcoming,
            organisation=attendees.organisation,
            people=attendees.people,
            group=attendees.group,
            attending=attending,
            not_attending=not_attending,
            unanswered=unanswered,
            changes=changes,
        )

    async def _answers(self, meeting_id: int, day: date) -> tuple[list[Person], list[Person]]:
        attending, not_attending = [], []
        for person_id, answer in await self._uow.meetings.attendance(meeting_id, day):
            person = await self._uow.people.get(person_id)
            if person is not None:
                (attending if answer else not_attending).append(person)
        return attending, not_attending

    async def _next_digest(self, now: datetime) -> datetime | None:
        if self.digest_at is None:
            return None
        day = now.astimezone(self.zone).date()
        for offset in range(3):
            candidate = day + timedelta(days=offset)
            at = local_start(candidate, self.digest_at, self.zone)
            if at >= now - self.grace and not await self._uow.meetings.digest_recorded(candidate):
                return at
        return None

    async def _claim_digest(self, now: datetime) -> list[Person]:
        if self.digest_at is None:
            return []
        day = now.astimezone(self.zone).date()
        at = local_start(day, self.digest_at, self.zone)
        if at > now or await self._uow.meetings.digest_recorded(day):
            return []
        late = at < now - self.grace
        if not await self._uow.meetings.record_digest(day, SKIPPED if late else SENT, now):
            return []
        if late:
            return []
        return await self._uow.people.active_with_role(Role.COORDINATOR)
