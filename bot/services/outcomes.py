"""Outcome conversations: a holder fills in the task's form; submitting closes the task and the
follow-up rules decide what happens next.

A form in progress is a draft in the database, never in memory: every step is one transaction that
re-reads the draft, checks the revision the button was drawn for, applies one engine step and
writes the draft back with the next revision. So a restart continues at the same question, a double
tap answers once, and an old button changes nothing.

Crisis first: the moment an answer makes the outcome urgent or a health concern, the step result
says so (the volunteer is shown the 112 notice at once) and the coordinators are alerted — once per
draft, recorded in the same transaction.

Submitting is one unit of work: the answers are checked against the form once more, stored with the
decision of `bot.domain.outcomes.decide`, the task is closed (or a call attempt recorded), follow-up
tasks are created and offered, referrals recorded, and the draft deleted. Residents' contact
details leave the coordinators only for a parish referral the resident consented to.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import (
    DraftNotFound,
    DraftTaken,
    IllegalTransition,
    InvalidValue,
    NotAllowed,
    NotYourTask,
    ReferralNotFound,
    ReferralTaken,
    ResidentNotFound,
    StaleStep,
    TaskNotFound,
)
from bot.domain.forms import (
    Answer,
    Form,
    FormError,
    FormIncomplete,
    Progress,
    Question,
    QuestionType,
    Rejection,
    engine,
)
from bot.domain.outcomes import (
    CONTACT,
    REVISIT,
    STANDARD_TYPES,
    Contact,
    Decision,
    NoticeKind,
    OutcomeFacts,
    ReferralKind,
    decide,
    is_crisis,
)
from bot.domain.people import Capability, Organisation, Person, Role
from bot.domain.reports import AlertRecord, Draft, OutcomeRecord, ReferralRecord, ReferralState
from bot.domain.residents import Resident
from bot.domain.tasks import Action, Priority, Task, TaskKind, TaskState, UnfinishedReason
from bot.domain.windows import Preset, preset
from bot.services.campaigns import CallEnd, CampaignService
from bot.services.dispatch import Closed, DispatchService, NoAvailablePairs, Offered, TaskView
from bot.services.people import require
from bot.services.ports import Clock, UnitOfWork

__all__ = [
    "CrisisAlert",
    "DraftSweep",
    "FormCatalog",
    "FormStep",
    "OutcomeService",
    "ReferralNotice",
    "ReferralUpdate",
    "Submitted",
    "Timeline",
    "TimelineEntry",
]

log = logging.getLogger(__name__)

_ALERT_GRACE = timedelta(minutes=1)  # the handler is still sending it


class FormCatalog:
    """The forms in use: exactly one for every kind of task."""

    def __init__(self, forms: Iterable[Form]) -> None:
        self._by_id: dict[str, Form] = {}
        self._by_kind: dict[TaskKind, Form] = {}
        for form in forms:
            self._by_id[form.id] = form
        for form in self._by_id.values():
            for kind in form.task_kinds:
                other = self._by_kind.get(kind)
                if other is not None:
                    raise FormError(
                        source=form.id,
                        question=None,
                        problem=f"task kind '{kind.value}' is closed by form '{other.id}' too",
                    )
                self._by_kind[kind] = form
        for form in self._by_id.values():
            _check_standard_questions(form)
        missing = [kind.value for kind in TaskKind if kind not in self._by_kind]
        if missing:
            raise FormError(
                source="forms", question=None, problem=f"no form for: {', '.join(missing)}"
            )

    def get(self, form_id: str) -> Form | None:
        """Return the form with this id."""
        return self._by_id.get(form_id)

    def for_kind(self, kind: TaskKind) -> Form:
        """Return the form that closes tasks of `kind`."""
        return self._by_kind[kind]

    def __iter__(self):  # noqa: ANN204 - an iterator of forms
        return iter(self._by_id.values())


@dataclass(frozen=True, slots=True)
class CrisisAlert:
    """The coordinators must be told now: something is urgent, or a concern for health."""

    alert_id: int
    view: TaskView  # with the resident's contact: coordinators may see it
    reporter: Person
    coordinators: list[Person]


@dataclass(frozen=True, slots=True)
class FormStep:
    """Where a draft is after a step: the question to ask (None: the summary) and why."""

    draft: Draft
    form: Form
    progress: Progress
    task: Task
    question: Question | None
    number: int
    summary: list[tuple[Question, Answer]] = field(default_factory=list)
    rejection: Rejection | None = None
    crisis: bool = False  # this step made the outcome a crisis: show the 112 notice now
    alert: CrisisAlert | None = None  # the first time: alert the coordinators
    resumed: bool = False  # an existing draft was picked up again


@dataclass(frozen=True, slots=True)
class ReferralNotice:
    """A referral to send: parish partners get the resident's name and phone (with consent)."""

    referral: ReferralRecord
    resident: Resident
    organisation: Organisation | None
    recipients: list[Person]


@dataclass(frozen=True, slots=True)
class Submitted:
    """A submitted form and everything it set going."""

    task: Task
    form: Form
    resident: Resident
    reporter: Person
    answers: dict[str, Answer]
    decision: Decision
    closed: Closed | None
    attempt: tuple[int, int] | None  # an unanswered call: (attempt, of)
    offers: list[Offered]
    unoffered: list[Task]
    referrals: list[ReferralNotice]
    coordinators: list[Person]
    alert: CrisisAlert | None
    alerted_earlier: bool = False  # an alert went out while filling in, whatever the end says
    call: CallEnd | None = None  # a campaign's call: what it did to the calling list

    @property
    def follow_ups(self) -> list[Task]:
        """Return the tasks the outcome created."""
        return [o.task for o in self.offers] + self.unoffered

    @property
    def worth_reporting(self) -> bool:
        """Return whether the coordinators need to hear of it (anything beyond a plain done)."""
        d = self.decision
        if self.call is not None:
            # A campaign makes thousands of calls: its figures count the routine outcomes, and
            # the coordinators hear only of what needs a person — a crisis, home care, something
            # not right, another need, or a follow-up that no pair covers.
            return bool(
                d.crisis
                or self.alerted_earlier
                or self.unoffered
                or any(r.kind is ReferralKind.HOME_CARE for r in d.referrals)
                or {NoticeKind.NOT_ALL_RIGHT, NoticeKind.OTHER_NEED} & set(d.notices)
            )
        return bool(
            d.close is not TaskState.DONE
            or d.new_tasks
            or d.referrals
            or d.notices
            or d.crisis
            or d.needs
            or self.alerted_earlier
        )


@dataclass(frozen=True, slots=True)
class ReferralUpdate:
    """A referral was taken or closed: the messages of those who no longer need it are scrubbed."""

    referral: ReferralRecord
    resident: Resident
    taker: Person | None
    stale: list[tuple[int, int, Person]]  # chat id, message id, reader
    lost: bool = False  # the presser was too late: someone else has it


@dataclass(frozen=True, slots=True)
class DraftSweep:
    """Drafts left idle: owners to remind, drafts expired."""

    reminders: list[tuple[Draft, Task, Person]] = field(default_factory=list)
    expired: list[tuple[Draft, Task, Person]] = field(default_factory=list)
    alerts: list[CrisisAlert] = field(default_factory=list)  # no coordinator got them yet


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One thing that happened to a resident: a task, an outcome, a referral or an alert."""

    at: datetime
    task: Task | None = None
    outcome: OutcomeRecord | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    referral: ReferralRecord | None = None
    alert: AlertRecord | None = None
    actor_name: str | None = None


@dataclass(frozen=True, slots=True)
class Timeline:
    """Everything about one resident, in order."""

    resident: Resident
    entries: list[TimelineEntry]
    forms: dict[str, Form]


class OutcomeService:
    """Fill in, submit and follow up outcome forms; remind of and expire idle drafts."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        dispatch: DispatchService,
        forms: FormCatalog,
        *,
        zone: ZoneInfo,
        phone_attempts: int = 2,
        draft_reminder: timedelta = timedelta(hours=2),
        draft_expiry: timedelta = timedelta(hours=48),
        parish: str = "",
        campaigns: CampaignService | None = None,
    ) -> None:
        self._uow = uow
        self._campaigns = campaigns
        self._clock = clock
        self._dispatch = dispatch
        self.forms = forms
        self._zone = zone
        self.phone_attempts = phone_attempts
        self.draft_reminder = draft_reminder
        self.draft_expiry = draft_expiry
        self._parish = parish.strip().casefold()

    # --- filling in -----------------------------------------------------------------------------

    async def begin(self, actor: Person, task_id: int) -> FormStep:
        """Start the task's outcome form, or pick up the actor's draft of it again."""
        async with self._uow.transaction():
            task = await self._held(actor, task_id)
            form = self.forms.for_kind(task.kind)
            draft = await self._uow.outcomes.draft_of_task(task.id)
            if draft is not None and not self._form_fits(draft, task):
                await self._uow.outcomes.delete_draft(draft.id)  # its form was removed or replaced
                draft = None
            if draft is not None and draft.person_id != actor.id:
                owner = await self._uow.people.get(draft.person_id)
                holders = await self._dispatch.held_task_people(task)
                if owner is not None and any(p.id == owner.id for p in holders):
                    raise DraftTaken(owner.name)
                await self._uow.outcomes.delete_draft(draft.id)  # its owner left the task
                draft = None
            if draft is not None:
                return self._step(draft, task, resumed=True)
            progress = engine.start(form)
            draft = await self._uow.outcomes.add_draft(
                task_id=task.id,
                person_id=actor.id,
                form_id=form.id,
                form_version=form.version,
                progress=progress.model_dump_json(),
                at=self._clock(),
            )
            return self._step(draft, task)

    async def resume(self, actor: Person, draft_id: int) -> FormStep:
        """Show a draft of the actor's where it was left."""
        draft, task = await self._owned(actor, draft_id)
        return self._step(draft, task, resumed=True)

    async def drafts(self, actor: Person) -> list[FormStep]:
        """Return the actor's unfinished forms, the most recent first."""
        steps = []
        for draft in await self._uow.outcomes.drafts_of(actor.id):
            task = await self._uow.tasks.get(draft.task_id)
            if task is None or not task.held or not self._form_fits(draft, task):
                continue
            if any(p.id == actor.id for p in await self._dispatch.held_task_people(task)):
                steps.append(self._step(draft, task))
        return steps

    def _form_fits(self, draft: Draft, task: Task) -> bool:
        """Return whether the draft's form is still the one that closes its task."""
        return self.forms.for_kind(task.kind).id == draft.form_id

    async def choose(self, actor: Person, draft_id: int, revision: int, index: int) -> FormStep:
        """Answer the current single-choice or yes/no question with the button at `index`."""

        def apply(form: Form, progress: Progress, question: Question) -> Progress | Rejection:
            value = _choice_value(question, index)
            if question.type is QuestionType.MULTI:
                return engine.toggle(form, progress, str(value))
            return engine.answer(form, progress, value, today=self._today())

        return await self._apply(actor, draft_id, revision, apply)

    async def done(self, actor: Person, draft_id: int, revision: int) -> FormStep:
        """Finish ticking a multiple-choice question."""
        return await self._apply(
            actor, draft_id, revision, lambda f, p, _q: engine.done(f, p, today=self._today())
        )

    async def skip(self, actor: Person, draft_id: int, revision: int) -> FormStep:
        """Leave an optional question unanswered."""
        return await self._apply(
            actor, draft_id, revision, lambda f, p, _q: engine.skip(f, p, today=self._today())
        )

    async def back(self, actor: Person, draft_id: int, revision: int) -> FormStep:
        """Go back one question (its answer is taken back), or from an edit to the summary."""
        return await self._apply(
            actor, draft_id, revision, lambda f, p, _q: engine.back(f, p), needs_question=False
        )

    async def edit(self, actor: Person, draft_id: int, revision: int, index: int) -> FormStep:
        """From the summary, ask the question at `index` of the form again."""

        def apply(form: Form, progress: Progress, _q: Question | None) -> Progress | Rejection:
            if not 0 <= index < len(form.questions):
                raise StaleStep
            return engine.edit(form, progress, form.questions[index].id)

        return await self._apply(actor, draft_id, revision, apply, needs_question=False)

    async def typed(self, actor: Person, text: str) -> FormStep | None:
        """Answer the draft the actor worked on last with typed text; None when none is open."""

        def apply(form: Form, progress: Progress, _q: Question) -> Progress | Rejection:
            return engine.answer_text(form, progress, text, today=self._today())

        for _attempt in range(3):  # two messages typed quickly: the second answers the next step
            for draft in await self._uow.outcomes.drafts_of(actor.id):
                try:
                    return await self._apply(actor, draft.id, draft.revision, apply, typed=True)
                except (DraftNotFound, NotYourTask, TaskNotFound, IllegalTransition):
                    continue  # that draft's task has ended: the next one is the open form
                except StaleStep:
                    break  # answered meanwhile: read the draft again
            else:
                return None
        raise StaleStep

    async def prompt_shown(self, draft_id: int, chat_id: int, message_id: int) -> None:
        """Remember the message that asks the draft's current question."""
        async with self._uow.transaction():
            await self._uow.outcomes.set_prompt(draft_id, chat_id, message_id)

    async def cancel(self, actor: Person, draft_id: int, revision: int) -> Task:
        """Throw a draft away; the task stays with its holder, open for a new report."""
        async with self._uow.transaction():
            draft, task = await self._owned(actor, draft_id)
            if draft.revision != revision:
                raise StaleStep
            await self._uow.outcomes.delete_draft(draft.id)
        return task

    async def submit(self, actor: Person, draft_id: int, revision: int) -> Submitted:
        """Submit a finished draft: store the outcome, close the task and start the follow-ups."""
        now = self._clock()
        async with self._uow.transaction():
            draft, task = await self._owned(actor, draft_id)
            if draft.revision != revision:
                raise StaleStep
            form, progress = self._restore(draft)
            if progress.current is not None:
                raise StaleStep
            try:
                answers = engine.finish(form, progress, today=self._today())
            except FormIncomplete as exc:
                raise InvalidValue("form", "incomplete") from exc
            resident = await self._resident(task)
            call = await self._campaigns.call_facts_within(task) if self._campaigns else None
            phone_attempts = call.attempts if call else self.phone_attempts
            failed_before = call.failed_before if call else await self._failed_calls(task)
            decision = decide(
                OutcomeFacts(
                    kind=task.kind,
                    answers=answers,
                    failed_calls_before=failed_before,
                    not_home_before=await self._not_home_before(task),
                    phone_attempts=phone_attempts,
                )
            )
            outcome_id = await self._uow.outcomes.add_outcome(
                task_id=task.id,
                resident_id=task.resident_id,
                form_id=form.id,
                form_version=form.version,
                answers=_json(answers),
                decision=_json(asdict(decision)),
                submitted_by=actor.id,
                at=now,
            )
            closing = None
            attempt = None
            note = answers.get("note")
            if decision.close is None:
                attempt = (failed_before + 1, phone_attempts)  # this call did not get through
            if decision.close is None and call is None:
                await self._dispatch.record_attempt_within(
                    actor, task, f"{attempt[0]}/{attempt[1]}"
                )
            else:
                # A campaign's unanswered call ends here: the list hands the resident out again.
                action = Action.COMPLETE if decision.close is TaskState.DONE else Action.FAIL
                closing = await self._dispatch.close_within(
                    actor,
                    task,
                    action,
                    reason=decision.reason or UnfinishedReason.NO_ANSWER
                    if action is Action.FAIL
                    else None,
                    note=note if isinstance(note, str) else None,
                )
                task = closing.view.task
            offers, unoffered = await self._follow_ups(task, decision)
            call_end = None
            if self._campaigns is not None:
                call_end = await self._campaigns.after_outcome_within(
                    actor, task, decision, [o.task for o in offers] + unoffered
                )
            referrals = await self._referrals(task, resident, outcome_id, decision)
            alert = None
            if decision.crisis and draft.alerted_at is None:
                alert = await self._raise_alert(actor, task, draft)
            await self._uow.outcomes.delete_draft(draft.id)
        closed = await self._dispatch.closed(closing) if closing is not None else None
        return Submitted(
            task=task,
            form=form,
            resident=resident,
            reporter=actor,
            answers=answers,
            decision=decision,
            closed=closed,
            attempt=attempt,
            offers=offers,
            unoffered=unoffered,
            referrals=referrals,
            coordinators=await self._dispatch.coordinators(),
            alert=alert,
            alerted_earlier=draft.alerted_at is not None,
            call=call_end,
        )

    # --- referrals ------------------------------------------------------------------------------

    async def remember_referral_message(
        self, referral_id: int, person: Person, chat_id: int, message_id: int
    ) -> ReferralUpdate | None:
        """Remember a message that shows a referral's contact, so it can be scrubbed later.

        When someone took the referral while it was still being sent, return what to scrub now.
        """
        async with self._uow.transaction():
            await self._uow.outcomes.remember_referral_message(
                chat_id, message_id, referral_id, person.id
            )
            referral = await self._uow.outcomes.referral(referral_id)
            if referral is None or referral.state is ReferralState.NEW:
                return None
            taker = await self._uow.people.get(referral.taken_by or 0)
            return await self._update(referral, taker, [(chat_id, message_id, person)])

    async def take_referral(self, actor: Person, referral_id: int) -> ReferralUpdate:
        """A partner contact takes a new referral; the others' copies are scrubbed."""
        async with self._uow.transaction():
            referral = await self._partner_referral(actor, referral_id)
            if referral.state is ReferralState.NEW:
                referral = await self._move(
                    referral, ReferralState.TAKEN, taken_by=actor.id, taken_at=self._clock()
                )
            elif referral.state is not ReferralState.TAKEN or referral.taken_by != actor.id:
                # Too late (a double tap of the taker is not): their copy loses the contact too.
                taker = await self._uow.people.get(referral.taken_by or 0)
                stale = await self._referral_messages(referral.id, keep=None, only=actor.id)
                return await self._update(referral, taker, stale, lost=True)
            stale = await self._referral_messages(referral.id, keep=actor.id)
            return await self._update(referral, actor, stale)

    async def close_referral(self, actor: Person, referral_id: int) -> ReferralUpdate:
        """The partner who took a referral marks it done; their copy is scrubbed too."""
        async with self._uow.transaction():
            referral = await self._partner_referral(actor, referral_id)
            if referral.taken_by != actor.id or referral.state not in {
                ReferralState.TAKEN,
                ReferralState.CLOSED,  # a double tap
            }:
                raise ReferralTaken
            if referral.state is ReferralState.TAKEN:
                referral = await self._move(referral, ReferralState.CLOSED, closed_at=self._clock())
            stale = await self._referral_messages(referral.id, keep=None)
            return await self._update(referral, actor, stale)

    async def settle_referral(self, actor: Person, referral_id: int) -> ReferralUpdate:
        """A coordinator marks a referral arranged (home care, or one without a parish contact)."""
        require(actor, Capability.DISPATCH)
        async with self._uow.transaction():
            referral = await self._uow.outcomes.referral(referral_id)
            if referral is None or referral.state is ReferralState.NOTED:
                raise ReferralNotFound
            if referral.state is ReferralState.TAKEN:
                raise ReferralTaken  # a partner contact has it: they close it
            if referral.state is ReferralState.NEW:
                referral = await self._move(referral, ReferralState.CLOSED, closed_at=self._clock())
            # Closed now, or already (a double tap): nobody keeps a copy with the contact.
            stale = await self._referral_messages(referral.id, keep=None)
            return await self._update(referral, None, stale)

    async def _move(
        self, referral: ReferralRecord, state: ReferralState, **changes: object
    ) -> ReferralRecord:
        """Write the referral's next state if nobody moved it meanwhile, else raise."""
        moved = referral.model_copy(update={"state": state, **changes})
        if not await self._uow.outcomes.save_referral(moved, referral.state):
            raise ReferralTaken
        return moved

    async def _update(
        self,
        referral: ReferralRecord,
        taker: Person | None,
        stale: list[tuple[int, int, Person]],
        *,
        lost: bool = False,
    ) -> ReferralUpdate:
        return ReferralUpdate(
            referral=referral,
            resident=await self._resident_by_id(referral.resident_id),
            taker=taker,
            stale=stale,
            lost=lost,
        )

    async def forget_referral_messages(self, referral_id: int, people: Iterable[Person]) -> None:
        """Forget messages that were scrubbed."""
        ids = sorted({p.id for p in people})
        if ids:
            async with self._uow.transaction():
                await self._uow.outcomes.forget_referral_messages(referral_id, ids)

    # --- coordinators ---------------------------------------------------------------------------

    async def timeline(self, actor: Person, resident_id: int) -> Timeline:
        """Return everything that happened to a resident: tasks, outcomes, referrals, alerts."""
        require(actor, Capability.MANAGE_RESIDENTS)
        resident = await self._resident_by_id(resident_id)
        names: dict[int, str] = {}

        async def name(person_id: int | None) -> str | None:
            if person_id is None:
                return None
            if person_id not in names:
                person = await self._uow.people.get(person_id)
                names[person_id] = person.name if person else "?"
            return names[person_id]

        entries: list[TimelineEntry] = []
        for task in await self._uow.tasks.of_resident(resident.id):
            entries.append(
                TimelineEntry(at=task.created_at, task=task, actor_name=await name(task.created_by))
            )
        for outcome in await self._uow.outcomes.outcomes_of_resident(resident.id):
            entries.append(
                TimelineEntry(
                    at=outcome.submitted_at,
                    outcome=outcome,
                    answers=_answers(outcome.answers),
                    actor_name=await name(outcome.submitted_by),
                )
            )
        for referral in await self._uow.outcomes.referrals_of_resident(resident.id):
            entries.append(
                TimelineEntry(
                    at=referral.created_at,
                    referral=referral,
                    actor_name=await name(referral.taken_by),
                )
            )
        for alert in await self._uow.outcomes.alerts_of_resident(resident.id):
            entries.append(
                TimelineEntry(at=alert.at, alert=alert, actor_name=await name(alert.raised_by))
            )
        # At one moment: a task, then the outcome, its alert, the follow-ups it made, its referrals.
        order = {"task": 0, "outcome": 1, "alert": 2, "follow-up": 3, "referral": 4}
        entries.sort(key=lambda e: (e.at, order[_entry_kind(e)], _entry_id(e)))
        return Timeline(
            resident=resident, entries=entries, forms={form.id: form for form in self.forms}
        )

    # --- the clock ------------------------------------------------------------------------------

    async def sweep(self) -> DraftSweep:
        """Remind owners of idle drafts once; expire drafts idle too long or of lost tasks."""
        now = self._clock()
        result = DraftSweep()
        async with self._uow.transaction():
            for draft in await self._uow.outcomes.drafts_to_expire(now - self.draft_expiry):
                await self._uow.outcomes.delete_draft(draft.id)
                found = await self._owner_and_task(draft)
                if found is not None:
                    result.expired.append((draft, *found))
            for draft in await self._uow.outcomes.drafts_to_remind(now - self.draft_reminder):
                found = await self._owner_and_task(draft)
                if found is None:
                    await self._uow.outcomes.delete_draft(draft.id)
                    continue
                await self._uow.outcomes.mark_reminded(draft.id, now)
                result.reminders.append((draft, *found))
        # A crisis alert that reached no coordinator (a fault after it was recorded, nobody
        # reachable) is sent again on every run until one receives it.
        for alert in await self._uow.outcomes.undelivered_alerts(now - _ALERT_GRACE):
            task = await self._uow.tasks.get(alert.task_id)
            reporter = await self._uow.people.get(alert.raised_by or 0)
            if task is not None and reporter is not None:
                result.alerts.append(await self._crisis(alert.id, task, reporter))
        return result

    # --- internals ------------------------------------------------------------------------------

    def _today(self) -> date:
        return self._clock().astimezone(self._zone).date()

    def _restore(self, draft: Draft) -> tuple[Form, Progress]:
        form = self.forms.get(draft.form_id)
        if form is None:
            raise DraftNotFound  # the form was removed from the configuration
        return form, engine.restore(form, draft.progress)

    def _step(
        self,
        draft: Draft,
        task: Task,
        *,
        rejection: Rejection | None = None,
        crisis: bool = False,
        alert: CrisisAlert | None = None,
        resumed: bool = False,
    ) -> FormStep:
        form, progress = self._restore(draft)
        question = engine.current_question(form, progress)
        return FormStep(
            draft=draft,
            form=form,
            progress=progress,
            task=task,
            question=question,
            number=engine.step_number(form, progress),
            summary=engine.summary(form, progress) if question is None else [],
            rejection=rejection,
            crisis=crisis,
            alert=alert,
            resumed=resumed,
        )

    async def _apply(
        self,
        actor: Person,
        draft_id: int,
        revision: int,
        step,  # noqa: ANN001 - Callable[[Form, Progress, Question | None], Progress | Rejection]
        *,
        needs_question: bool = True,
        typed: bool = False,
    ) -> FormStep:
        async with self._uow.transaction():
            draft, task = await self._owned(actor, draft_id)
            if draft.revision != revision:
                raise StaleStep
            form, progress = self._restore(draft)
            question = engine.current_question(form, progress)
            if needs_question and question is None:
                if typed:
                    return self._step(
                        draft, task, rejection=Rejection(code=engine.RejectCode.USE_BUTTONS)
                    )
                raise StaleStep
            outcome = step(form, progress, question)
            if isinstance(outcome, Rejection):
                return self._step(draft, task, rejection=outcome)
            now = self._clock()
            if not await self._uow.outcomes.save_draft(
                draft.id, draft.revision, outcome.model_dump_json(), now
            ):
                raise StaleStep
            crisis = is_crisis(outcome.answers) and not is_crisis(progress.answers)
            alert = None
            if crisis and draft.alerted_at is None:
                alert = await self._raise_alert(actor, task, draft)
            saved = await self._uow.outcomes.draft(draft.id)
            assert saved is not None
            return self._step(saved, task, crisis=crisis, alert=alert)

    async def _raise_alert(self, actor: Person, task: Task, draft: Draft) -> CrisisAlert:
        now = self._clock()
        await self._uow.outcomes.mark_alerted(draft.id, now)
        alert_id = await self._uow.outcomes.add_alert(
            task_id=task.id, resident_id=task.resident_id, raised_by=actor.id, at=now
        )
        log.warning("crisis alert raised on task %d", task.id)  # ids only: no personal data
        return await self._crisis(alert_id, task, actor)

    async def _crisis(self, alert_id: int, task: Task, reporter: Person) -> CrisisAlert:
        return CrisisAlert(
            alert_id=alert_id,
            view=await self._dispatch.view_within(task, contact=True),
            reporter=reporter,
            coordinators=await self._dispatch.coordinators(),
        )

    async def alert_delivered(self, alert_id: int) -> None:
        """Record that a coordinator received a crisis alert."""
        async with self._uow.transaction():
            await self._uow.outcomes.mark_alert_delivered(alert_id, self._clock())

    async def _owned(self, actor: Person, draft_id: int) -> tuple[Draft, Task]:
        draft = await self._uow.outcomes.draft(draft_id)
        if draft is None or draft.person_id != actor.id:
            raise DraftNotFound
        return draft, await self._held(actor, draft.task_id)

    async def _held(self, actor: Person, task_id: int) -> Task:
        """Return a task the actor holds and is still working on (accepted or started)."""
        task = await self._dispatch.held_task(actor, task_id)
        if not task.held:
            raise IllegalTransition(task.state.value, "report")
        return task

    async def _owner_and_task(self, draft: Draft) -> tuple[Task, Person] | None:
        """Return the draft's task and owner while the owner still holds it."""
        task = await self._uow.tasks.get(draft.task_id)
        owner = await self._uow.people.get(draft.person_id)
        if task is None or owner is None or not task.held:
            return None
        if not any(p.id == owner.id for p in await self._dispatch.held_task_people(task)):
            return None
        return task, owner

    async def _failed_calls(self, task: Task) -> int:
        count = 0
        for outcome in await self._uow.outcomes.outcomes_of_task(task.id):
            if _answers(outcome.answers).get(CONTACT) == Contact.NO_ANSWER:
                count += 1
        return count

    async def _not_home_before(self, task: Task) -> int:
        """Count the earlier visits in this chain of re-visits that found nobody at home."""
        count = 0
        current = task
        seen = {task.id}
        while current.cause == REVISIT and current.follows_id is not None:
            before = await self._uow.tasks.get(current.follows_id)
            if before is None or before.id in seen:
                break
            seen.add(before.id)
            if before.kind is task.kind and before.reason is UnfinishedReason.NOT_AT_HOME:
                count += 1
            current = before
        return count

    async def _follow_ups(self, task: Task, decision: Decision) -> tuple[list[Offered], list[Task]]:
        offers: list[Offered] = []
        unoffered: list[Task] = []
        window = preset(Preset.THREE_DAYS, self._clock(), self._zone)
        for new in decision.new_tasks:
            created = await self._dispatch.create_within(
                None,
                resident_id=task.resident_id,
                kind=new.kind,
                window=window,
                priority=Priority.NORMAL,
                details="",
                follows=task,
                cause=new.cause,
            )
            try:
                offers.append(await self._dispatch.offer_within(created, None))
            except NoAvailablePairs:
                unoffered.append(created)
        return offers, unoffered

    async def _referrals(
        self, task: Task, resident: Resident, outcome_id: int, decision: Decision
    ) -> list[ReferralNotice]:
        notices = []
        now = self._clock()
        for wanted in decision.referrals:
            organisation = None
            recipients: list[Person] = []
            if wanted.kind is ReferralKind.PARISH and wanted.consent:
                organisation = await self._parish_organisation()
                if organisation is not None:
                    recipients = await self._uow.people.active_in_organisation(
                        organisation.id, Role.PARTNER
                    )
                state = ReferralState.NEW
            elif wanted.kind is ReferralKind.PARISH:
                state = ReferralState.NOTED  # no consent: nothing leaves, the need is recorded
            else:
                state = ReferralState.NEW  # home care: the coordinators take it up
            referral = await self._uow.outcomes.add_referral(
                resident_id=resident.id,
                task_id=task.id,
                outcome_id=outcome_id,
                kind=wanted.kind.value,
                consent=wanted.consent,
                state=state,
                organisation_id=organisation.id if organisation else None,
                at=now,
            )
            notices.append(
                ReferralNotice(
                    referral=referral,
                    resident=resident,
                    organisation=organisation,
                    recipients=recipients,
                )
            )
        return notices

    async def _parish_organisation(self) -> Organisation | None:
        if not self._parish:
            return None
        for organisation in await self._uow.organisations.all():
            if organisation.name.casefold() == self._parish:
                return organisation
        return None

    async def _partner_referral(self, actor: Person, referral_id: int) -> ReferralRecord:
        referral = await self._uow.outcomes.referral(referral_id)
        if referral is None or referral.organisation_id is None:
            raise ReferralNotFound
        organisation = actor.organisation
        if not (
            actor.active
            and Role.PARTNER in actor.roles
            and organisation is not None
            and organisation.id == referral.organisation_id
        ):
            raise NotAllowed("referral")
        return referral

    async def _referral_messages(
        self, referral_id: int, *, keep: int | None, only: int | None = None
    ) -> list[tuple[int, int, Person]]:
        stale = []
        for chat_id, message_id, person_id in await self._uow.outcomes.referral_messages(
            referral_id
        ):
            if person_id == keep or (only is not None and person_id != only):
                continue
            person = await self._uow.people.get(person_id)
            if person is not None:
                stale.append((chat_id, message_id, person))
        return stale

    async def _resident(self, task: Task) -> Resident:
        return await self._resident_by_id(task.resident_id)

    async def _resident_by_id(self, resident_id: int) -> Resident:
        resident = await self._uow.residents.get(resident_id)
        if resident is None:
            raise ResidentNotFound
        return resident


def _check_standard_questions(form: Form) -> None:
    for question in form.questions:
        wanted = STANDARD_TYPES.get(question.id)
        if wanted is not None and question.type is not wanted:
            raise FormError(
                source=form.id,
                question=question.id,
                problem=(
                    f"the follow-up rules read '{question.id}' as a {wanted.value} question, "
                    f"not {question.type.value}"
                ),
            )


def _choice_value(question: Question, index: int) -> Answer:
    if question.type is QuestionType.YESNO:
        if index not in (0, 1):
            raise StaleStep
        return index == 0
    if question.type is QuestionType.SCALE:
        low = question.min if question.min is not None else 1
        high = question.max if question.max is not None else 5
        if not 0 <= index <= high - low:
            raise StaleStep
        return low + index
    if not 0 <= index < len(question.choices):
        raise StaleStep
    return question.choices[index].value


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _answers(text: str) -> dict[str, Answer]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _entry_kind(entry: TimelineEntry) -> str:
    if entry.task is not None:
        return "task" if entry.task.follows_id is None else "follow-up"
    if entry.outcome is not None:
        return "outcome"
    if entry.alert is not None:
        return "alert"
    return "referral"


def _entry_id(entry: TimelineEntry) -> int:
    for record in (entry.task, entry.outcome, entry.alert, entry.referral):
        if record is not None:
            return record.id
    return 0
