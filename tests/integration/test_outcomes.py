"""Outcome forms on a real SQLite database: submitting is all or nothing, old buttons and double
taps change nothing, one draft per task, drafts outlive form changes and go stale on the clock,
consent without a parish, and the not-at-home chain that starts from an unanswered phone check."""

import asyncio
from datetime import timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import DraftNotFound, DraftTaken, ReferralTaken, StaleStep
from bot.domain.forms import QuestionType
from bot.domain.forms.loader import parse_form
from bot.domain.outcomes import NoticeKind, ReferralKind
from bot.domain.people import Role
from bot.domain.reports import ReferralState
from bot.domain.residents import ResidentInput
from bot.domain.tasks import Action, Holder, Priority, TaskKind, TaskState, UnfinishedReason
from bot.domain.windows import TimeWindow
from bot.form_files import builtin_forms
from bot.i18n import translators
from bot.services.outcomes import FormCatalog, OutcomeService
from handlers.forms_render import referral_for_coordinators, report_for_coordinators
from storage.outcomes import SqliteOutcomes
from storage.store import SqliteStore
from tests.integration.helpers import register

ZONE = ZoneInfo("Europe/Helsinki")
PARISH = "Esimerkin seurakunta"
ALL_WELL = {"contact": "met", "all_right": True, "needs": [], "urgent": False}


@pytest.fixture
async def world(services):
    boss = await register(services, Role.COORDINATOR, 1, "Kaisa")
    anna = await register(services, Role.VOLUNTEER, 101, "Anna")
    ben = await register(services, Role.VOLUNTEER, 102, "Ben")
    pair = await services.pairs.form(boss, anna.id, ben.id)
    caller = await register(services, Role.CALLER, 201, "Frida")
    resident = (
        await services.residents.save(
            boss, ResidentInput(name="Maija Meikäläinen", phone="0401234567", postal_code="70100")
        )
    ).resident
    return World(boss, anna, ben, pair, caller, resident)


class World:
    def __init__(self, boss, anna, ben, pair, caller, resident) -> None:
        self.boss, self.anna, self.ben, self.pair = boss, anna, ben, pair
        self.caller, self.resident = caller, resident


async def held(services, clock, world, kind=TaskKind.HOME_VISIT, *, caller=False):
    """A task the pair (or the caller) holds."""
    start = clock() + timedelta(hours=2)
    task = await services.dispatch.create(
        world.boss,
        resident_id=world.resident.id,
        kind=kind,
        window=TimeWindow(start=start, end=start + timedelta(hours=3)),
        priority=Priority.NORMAL,
        details="",
    )
    return await give(services, world, task.id, caller=caller)


async def give(services, world, task_id, *, caller=False):
    holder = Holder(person_id=world.caller.id) if caller else Holder(pair_id=world.pair.id)
    return (await services.dispatch.assign(world.boss, task_id, holder)).view.task


async def answer(outcomes, actor, step, answers):
    """Answer every question the step asks, as the buttons and typed text would; return the
    summary step."""
    while step.question is not None:
        q = step.question
        draft = step.draft
        value = answers.get(q.id)
        if q.type is QuestionType.MULTI:
            for ticked in value or []:
                index = [c.value for c in q.choices].index(ticked)
                step = await outcomes.choose(actor, step.draft.id, step.draft.revision, index)
            step = await outcomes.done(actor, step.draft.id, step.draft.revision)
        elif q.type is QuestionType.YESNO:
            step = await outcomes.choose(actor, draft.id, draft.revision, 0 if value else 1)
        elif q.type is QuestionType.SINGLE:
            index = [c.value for c in q.choices].index(value)
            step = await outcomes.choose(actor, draft.id, draft.revision, index)
        elif value is None:
            step = await outcomes.skip(actor, draft.id, draft.revision)
        else:
            step = await outcomes.typed(actor, str(value))
        assert step.rejection is None, (q.id, step.rejection)
    return step


async def filled(outcomes, actor, task_id, answers):
    return await answer(outcomes, actor, await outcomes.begin(actor, task_id), answers)


async def report(outcomes, actor, task_id, answers):
    """Fill in and submit a task's form; return what the submit set going."""
    step = await filled(outcomes, actor, task_id, answers)
    return await outcomes.submit(actor, step.draft.id, step.draft.revision)


async def tasks_of(services, world):
    return await services.residents.history(world.boss, world.resident.id)


async def timeline(services, world):
    return await services.outcomes.timeline(world.boss, world.resident.id)


def other_service(db, clock, services, forms, *, parish: str = "") -> OutcomeService:
    """An outcome service over the same database, with other forms or another parish."""
    return OutcomeService(
        SqliteStore(db), clock, services.dispatch, forms, zone=ZONE, parish=parish
    )


# --- submitting is one unit of work -------------------------------------------------------------


async def _break_referrals(monkeypatch, services):
    async def boom(self, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(SqliteOutcomes, "add_referral", boom)


async def _break_offers(monkeypatch, services):
    async def boom(task, actor_id):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(services.dispatch, "offer_within", boom)


@pytest.mark.parametrize("breaking", [_break_offers, _break_referrals], ids=["offer", "referral"])
async def test_a_submit_that_fails_half_way_leaves_nothing_behind(
    services, clock, world, monkeypatch, breaking
):
    task = await held(services, clock, world)
    answers = {**ALL_WELL, "needs": ["errands", "home_care"]}
    summary = await filled(services.outcomes, world.anna, task.id, answers)
    await breaking(monkeypatch, services)
    with pytest.raises(RuntimeError):
        await services.outcomes.submit(world.anna, summary.draft.id, summary.draft.revision)

    # No outcome, no follow-up, no referral; the task is still held and the draft still there.
    assert [t.id for t in await tasks_of(services, world)] == [task.id]
    entries = (await timeline(services, world)).entries
    assert [e for e in entries if e.outcome or e.referral or e.alert] == []
    view = await services.dispatch.view(world.boss, task.id)
    assert view.task.state is TaskState.ACCEPTED and view.task.holder.pair_id == world.pair.id
    assert Action.COMPLETE not in [e.action for e in view.events]
    (draft,) = await services.outcomes.drafts(world.anna)
    assert draft.draft.id == summary.draft.id
    assert draft.draft.revision == summary.draft.revision and draft.question is None

    # Once the fault is gone the very same Submit button works, and everything happens once.
    monkeypatch.undo()
    submitted = await services.outcomes.submit(world.anna, summary.draft.id, summary.draft.revision)
    assert submitted.decision.close is TaskState.DONE
    (errand,) = submitted.follow_ups
    assert errand.kind is TaskKind.ERRAND and errand.follows_id == task.id
    assert [t.id for t in await tasks_of(services, world)] == [errand.id, task.id]
    entries = (await timeline(services, world)).entries
    assert len([e for e in entries if e.outcome]) == 1
    assert [e.referral.kind for e in entries if e.referral] == [ReferralKind.HOME_CARE.value]
    assert await services.outcomes.drafts(world.anna) == []


# --- revisions ----------------------------------------------------------------------------------


async def test_a_button_of_an_old_revision_changes_nothing(services, clock, world):
    outcomes = services.outcomes
    task = await held(services, clock, world)
    first = await outcomes.begin(world.anna, task.id)
    old = first.draft.revision
    second = await outcomes.choose(world.anna, first.draft.id, old, 0)  # met
    assert second.draft.revision == old + 1 and second.question.id == "all_right"
    for stale in (
        lambda: outcomes.choose(world.anna, first.draft.id, old, 1),  # not at home
        lambda: outcomes.skip(world.anna, first.draft.id, old),
        lambda: outcomes.back(world.anna, first.draft.id, old),
        lambda: outcomes.done(world.anna, first.draft.id, old),
        lambda: outcomes.cancel(world.anna, first.draft.id, old),
        lambda: outcomes.submit(world.anna, first.draft.id, old),
    ):
        with pytest.raises(StaleStep):
            await stale()
    now = await outcomes.resume(world.anna, first.draft.id)
    assert now.draft.revision == second.draft.revision
    assert now.progress.answers == {"contact": "met"} and now.question.id == "all_right"

    # A summary drawn before an edit cannot be submitted either.
    summary = await answer(outcomes, world.anna, now, ALL_WELL)
    editing = await outcomes.edit(world.anna, summary.draft.id, summary.draft.revision, 0)
    with pytest.raises(StaleStep):
        await outcomes.submit(world.anna, summary.draft.id, summary.draft.revision)
    assert editing.question.id == "contact"
    assert (await tasks_of(services, world))[0].state is TaskState.ACCEPTED


async def test_a_double_submit_counts_once(services, clock, world):
    outcomes = services.outcomes
    task = await held(services, clock, world)
    summary = await filled(outcomes, world.anna, task.id, {"contact": "not_at_home"})
    first = await outcomes.submit(world.anna, summary.draft.id, summary.draft.revision)
    assert len(first.follow_ups) == 1
    # The second tap of the same button: refused (the draft is gone), nothing repeated.
    with pytest.raises((StaleStep, DraftNotFound)):
        await outcomes.submit(world.anna, summary.draft.id, summary.draft.revision)
    assert len(await tasks_of(services, world)) == 2

    # Two presses of Submit arrive at once: one wins, the other changes nothing.
    revisit = first.follow_ups[0]
    await give(services, world, revisit.id)
    summary = await filled(outcomes, world.anna, revisit.id, ALL_WELL)
    results = await asyncio.gather(
        outcomes.submit(world.anna, summary.draft.id, summary.draft.revision),
        outcomes.submit(world.anna, summary.draft.id, summary.draft.revision),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0], StaleStep | DraftNotFound), losses
    outcomes_stored = [e for e in (await timeline(services, world)).entries if e.outcome]
    assert len(outcomes_stored) == 2
    view = await services.dispatch.view(world.boss, revisit.id)
    assert [e.action for e in view.events].count(Action.COMPLETE) == 1


# --- one draft per task ---------------------------------------------------------------------------


async def test_one_draft_per_task_the_partner_is_told_who_fills_it_in(services, clock, world):
    outcomes = services.outcomes
    task = await held(services, clock, world)
    mine = await outcomes.begin(world.anna, task.id)
    mine = await outcomes.choose(world.anna, mine.draft.id, mine.draft.revision, 0)
    with pytest.raises(DraftTaken) as taken:
        await outcomes.begin(world.ben, task.id)
    assert taken.value.name == "Anna"
    again = await outcomes.begin(world.anna, task.id)
    assert again.resumed and again.draft.id == mine.draft.id
    assert again.progress.answers == {"contact": "met"}
    assert await outcomes.drafts(world.ben) == []

    # Once Anna throws hers away, Ben may start his own.
    await outcomes.cancel(world.anna, mine.draft.id, mine.draft.revision)
    his = await outcomes.begin(world.ben, task.id)
    assert not his.resumed and his.progress.answers == {}
    with pytest.raises(DraftTaken) as taken:
        await outcomes.begin(world.anna, task.id)
    assert taken.value.name == "Ben"


# --- a form that changed under a draft ----------------------------------------------------------


def changed_catalog(edit) -> FormCatalog:
    """The built-in forms with the home visit form's YAML text changed by `edit`."""
    forms = []
    for form in builtin_forms():
        if form.id == "home_visit":
            text = resources.files("bot.forms").joinpath("home_visit.yaml").read_text("utf-8")
            form = parse_form(edit(text), source="home_visit.yaml", fmt="yaml")
        forms.append(form)
    return FormCatalog(forms)


def _without_not_at_home(text: str) -> str:
    old = (
        "      - value: not_at_home\n"
        '        label: {fi: "Ei kotona", sv: "Inte hemma", en: "Not at home"}\n'
    )
    assert old in text
    return text.replace("version: 1", "version: 2").replace(old, "")


def _with_a_new_question(text: str) -> str:
    new = (
        "  - id: minutes\n"
        "    type: integer\n"
        "    min: 0\n"
        "    max: 600\n"
        "    label: {fi: 'Kauanko?', sv: 'Hur länge?', en: 'How long?'}\n\n"
        "  - id: note\n"
    )
    assert "  - id: note\n" in text
    return text.replace("version: 1", "version: 2").replace("  - id: note\n", new)


async def test_a_draft_goes_on_after_its_form_changed(services, clock, world, db):
    task = await held(services, clock, world)
    # Anna answered "not at home" and is at the note when the form loses that choice.
    step = await services.outcomes.begin(world.anna, task.id)
    step = await services.outcomes.choose(world.anna, step.draft.id, step.draft.revision, 1)
    assert step.progress.answers == {"contact": "not_at_home"} and step.question.id == "note"
    changed = other_service(db, clock, services, changed_catalog(_without_not_at_home))
    again = await changed.begin(world.anna, task.id)
    assert again.resumed and again.progress.answers == {}  # the answer that no longer fits
    assert again.question.id == "note"  # she goes on where she was …
    again = await changed.skip(world.anna, again.draft.id, again.draft.revision)
    assert again.question.id == "contact"  # … and is asked the dropped question again
    summary = await answer(changed, world.anna, again, ALL_WELL)
    assert [q.id for q, _ in summary.summary][:1] == ["contact"]
    submitted = await changed.submit(world.anna, summary.draft.id, summary.draft.revision)
    assert submitted.decision.close is TaskState.DONE
    (outcome,) = [e.outcome for e in (await timeline(services, world)).entries if e.outcome]
    assert outcome.form_version == 2


async def test_a_summary_asks_a_question_the_form_gained(services, clock, world, db):
    task = await held(services, clock, world)
    summary = await filled(services.outcomes, world.anna, task.id, ALL_WELL)
    changed = other_service(db, clock, services, changed_catalog(_with_a_new_question))
    # The old summary's Submit is refused: the form now wants one more answer.
    with pytest.raises(StaleStep):
        await changed.submit(world.anna, summary.draft.id, summary.draft.revision)
    (resumed,) = await changed.drafts(world.anna)
    assert resumed.question.id == "minutes"
    assert resumed.progress.answers["contact"] == "met"  # the rest is kept
    summary = await answer(changed, world.anna, resumed, {"minutes": 45})
    submitted = await changed.submit(world.anna, summary.draft.id, summary.draft.revision)
    assert submitted.answers["minutes"] == 45 and submitted.answers["contact"] == "met"


# --- the clock ------------------------------------------------------------------------------------


async def test_an_idle_draft_is_reminded_once_and_expires(services, clock, world):
    outcomes = services.outcomes
    task = await held(services, clock, world)
    step = await outcomes.begin(world.anna, task.id)
    clock.advance(hours=1, minutes=59)
    assert (await outcomes.sweep()).reminders == []
    clock.advance(minutes=2)
    swept = await outcomes.sweep()
    assert [(d.id, t.id, p.id) for d, t, p in swept.reminders] == [
        (step.draft.id, task.id, world.anna.id)
    ]
    assert (await outcomes.sweep()).reminders == []  # once
    # An answer makes it fresh again: reminded again after another idle spell.
    step = await outcomes.choose(world.anna, step.draft.id, step.draft.revision, 0)
    clock.advance(hours=2, minutes=1)
    assert len((await outcomes.sweep()).reminders) == 1
    clock.advance(hours=46)
    swept = await outcomes.sweep()
    assert [(d.id, t.id, p.id) for d, t, p in swept.expired] == [
        (step.draft.id, task.id, world.anna.id)
    ]
    assert swept.reminders == []
    assert await outcomes.drafts(world.anna) == []
    with pytest.raises(DraftNotFound):
        await outcomes.resume(world.anna, step.draft.id)
    # The task is still Anna's pair's: a new report starts from the first question.
    assert (await services.dispatch.view(world.boss, task.id)).task.state is TaskState.ACCEPTED
    fresh = await outcomes.begin(world.anna, task.id)
    assert not fresh.resumed and fresh.progress.answers == {}
    assert (await outcomes.sweep()).expired == []


async def test_a_draft_of_a_task_given_away_is_dropped_without_a_reminder(services, clock, world):
    outcomes = services.outcomes
    task = await held(services, clock, world)
    await outcomes.begin(world.anna, task.id)
    await give(services, world, task.id, caller=True)
    clock.advance(hours=3)
    swept = await outcomes.sweep()
    assert swept.reminders == [] and swept.expired == []
    # The caller who has it now starts afresh.
    step = await outcomes.begin(world.caller, task.id)
    assert not step.resumed


# --- consent without a parish -----------------------------------------------------------------


CONSENTED = {**ALL_WELL, "needs": ["conversation_help"], "consent_parish": True}


async def test_consent_without_a_parish_set_up_is_new_with_nobody_to_tell(services, clock, world):
    task = await held(services, clock, world)
    submitted = await report(services.outcomes, world.anna, task.id, CONSENTED)
    (notice,) = submitted.referrals
    referral = notice.referral
    assert referral.kind == ReferralKind.PARISH.value and referral.consent
    assert referral.state is ReferralState.NEW
    assert referral.organisation_id is None and notice.organisation is None
    assert notice.recipients == []
    fi = translators()["fi"]
    assert referral_for_coordinators(fi, notice) == fi.gettext(
        "• Conversation help: the resident consented, but no parish contact is set up in Apuri. "
        "Please pass it on by hand."
    )


async def test_a_parish_named_but_not_registered_is_the_same(services, clock, world, db, forms):
    outcomes = other_service(db, clock, services, forms, parish=PARISH)
    task = await held(services, clock, world)
    submitted = await report(outcomes, world.anna, task.id, CONSENTED)
    (notice,) = submitted.referrals
    assert notice.referral.state is ReferralState.NEW
    assert notice.organisation is None and notice.recipients == []

    # With the parish's contact registered (any letter case), the referral goes to them.
    issued = await services.invites.create(
        None, Role.PARTNER, name="Gustav", organisation_name=PARISH.upper()
    )
    gustav = (
        await services.invites.redeem(4001, issued.code, telegram_name="Gustav", language_code="fi")
    ).person
    task = await held(services, clock, world)
    submitted = await report(outcomes, world.anna, task.id, CONSENTED)
    (notice,) = submitted.referrals
    assert notice.organisation is not None
    assert [p.id for p in notice.recipients] == [gustav.id]
    assert notice.referral.organisation_id == notice.organisation.id


async def test_a_parish_contact_takes_and_closes_a_referral(services, clock, world, db, forms):
    outcomes = other_service(db, clock, services, forms, parish=PARISH)
    contacts = []
    for user, name, organisation in ((4001, "Gustav", PARISH), (4002, "Helmi", PARISH)):
        issued = await services.invites.create(
            None, Role.PARTNER, name=name, organisation_name=organisation
        )
        redeemed = await services.invites.redeem(
            user, issued.code, telegram_name=name, language_code="fi"
        )
        contacts.append(redeemed.person)
    gustav, helmi = contacts
    task = await held(services, clock, world)
    (notice,) = (await report(outcomes, world.anna, task.id, CONSENTED)).referrals
    referral = notice.referral
    for person in (gustav, helmi):
        await outcomes.remember_referral_message(referral.id, person, person.telegram_user_id, 7)

    taken = await outcomes.take_referral(gustav, referral.id)
    assert taken.referral.state is ReferralState.TAKEN and taken.referral.taken_by == gustav.id
    assert [(chat, person.id) for chat, _m, person in taken.stale] == [(4002, helmi.id)]
    # Helmi is too late: she is told so, and her own copy is to be scrubbed as well.
    late = await outcomes.take_referral(helmi, referral.id)
    assert late.lost and late.taker.id == gustav.id
    assert [person.id for _c, _m, person in late.stale] == [helmi.id]
    with pytest.raises(ReferralTaken):
        await outcomes.close_referral(helmi, referral.id)
    closed = await outcomes.close_referral(gustav, referral.id)
    assert closed.referral.state is ReferralState.CLOSED
    assert gustav.id in [person.id for _c, _m, person in closed.stale]
    # A copy whose send finished only after the referral was taken is scrubbed at once.
    late_copy = await outcomes.remember_referral_message(referral.id, helmi, 4002, 99)
    assert late_copy is not None and late_copy.stale == [(4002, 99, helmi)]


# --- the not-at-home chain ----------------------------------------------------------------------


async def test_the_chain_counts_visits_after_an_unanswered_phone_check(services, clock, world):
    outcomes = services.outcomes
    check = await held(services, clock, world, TaskKind.PHONE_CHECK, caller=True)
    unanswered = {"contact": "no_answer"}
    first_call = await report(outcomes, world.caller, check.id, unanswered)
    assert first_call.decision.close is None and first_call.attempt == (1, 2)
    assert first_call.follow_ups == []
    second_call = await report(outcomes, world.caller, check.id, unanswered)
    assert second_call.decision.reason is UnfinishedReason.NO_ANSWER
    (visit,) = second_call.follow_ups
    assert (visit.kind, visit.cause, visit.follows_id) == (
        TaskKind.HOME_VISIT,
        "phone_unreached",
        check.id,
    )

    # The first visit finds nobody: that is the first of two visits, so a revisit follows.
    await give(services, world, visit.id)
    first_visit = await report(outcomes, world.anna, visit.id, {"contact": "not_at_home"})
    assert first_visit.decision.reason is UnfinishedReason.NOT_AT_HOME
    assert NoticeKind.UNREACHABLE not in first_visit.decision.notices
    (revisit,) = first_visit.follow_ups
    assert (revisit.kind, revisit.cause, revisit.follows_id) == (
        TaskKind.HOME_VISIT,
        "revisit",
        visit.id,
    )

    # The revisit finds nobody again: no third visit, the coordinators take over.
    await give(services, world, revisit.id)
    second_visit = await report(outcomes, world.ben, revisit.id, {"contact": "not_at_home"})
    assert second_visit.follow_ups == []
    assert second_visit.decision.notices == (NoticeKind.UNREACHABLE,)
    assert second_visit.worth_reporting
    assert [t.id for t in await tasks_of(services, world)] == [revisit.id, visit.id, check.id]


async def test_a_visit_ordered_by_hand_starts_a_new_chain(services, clock, world):
    outcomes = services.outcomes
    first = await held(services, clock, world)
    made = await report(outcomes, world.anna, first.id, {"contact": "not_at_home"})
    await give(services, world, made.follow_ups[0].id)
    await report(outcomes, world.anna, made.follow_ups[0].id, {"contact": "not_at_home"})
    # The coordinator orders another visit: nobody at home is its first miss, so a revisit.
    another = await held(services, clock, world)
    result = await report(outcomes, world.anna, another.id, {"contact": "not_at_home"})
    assert [t.cause for t in result.follow_ups] == ["revisit"]


# --- crisis ---------------------------------------------------------------------------------------


async def test_the_coordinators_are_alerted_once_per_report(services, clock, world):
    outcomes = services.outcomes
    task = await held(services, clock, world)
    step = await filled(outcomes, world.anna, task.id, ALL_WELL)
    step = await outcomes.edit(world.anna, step.draft.id, step.draft.revision, 4)  # urgent
    assert step.question.id == "urgent"
    step = await outcomes.choose(world.anna, step.draft.id, step.draft.revision, 0)
    assert step.crisis and step.alert is not None
    assert [p.id for p in step.alert.coordinators] == [world.boss.id]
    assert step.alert.view.resident is not None  # the coordinators see whom to call
    # Changing the answer back and forth shows the 112 notice again but alerts nobody twice.
    step = await outcomes.edit(world.anna, step.draft.id, step.draft.revision, 4)
    step = await outcomes.choose(world.anna, step.draft.id, step.draft.revision, 1)
    assert not step.crisis
    step = await outcomes.edit(world.anna, step.draft.id, step.draft.revision, 4)
    step = await outcomes.choose(world.anna, step.draft.id, step.draft.revision, 0)
    assert step.crisis and step.alert is None
    submitted = await outcomes.submit(world.anna, step.draft.id, step.draft.revision)
    assert submitted.decision.crisis and submitted.alert is None
    alerts = [e.alert for e in (await timeline(services, world)).entries if e.alert]
    assert len(alerts) == 1 and alerts[0].raised_by == world.anna.id


async def test_an_alert_no_coordinator_received_is_sent_again_until_one_does(
    services, clock, world
):
    outcomes = services.outcomes
    task = await held(services, clock, world)
    step = await filled(outcomes, world.anna, task.id, ALL_WELL)
    step = await outcomes.edit(world.anna, step.draft.id, step.draft.revision, 4)  # urgent
    step = await outcomes.choose(world.anna, step.draft.id, step.draft.revision, 0)
    raised = step.alert
    assert raised is not None
    assert (await outcomes.sweep()).alerts == []  # the handler is still sending it
    clock.advance(minutes=2)
    (again,) = (await outcomes.sweep()).alerts  # it did not reach anyone: again, and again
    assert again.alert_id == raised.alert_id and again.view.resident is not None
    assert [a.alert_id for a in (await outcomes.sweep()).alerts] == [raised.alert_id]
    await outcomes.alert_delivered(raised.alert_id)
    assert (await outcomes.sweep()).alerts == []


async def test_the_retracted_alert_is_named_in_the_report(services, clock, world):
    outcomes = services.outcomes
    task = await held(services, clock, world)
    step = await filled(outcomes, world.anna, task.id, ALL_WELL)
    step = await outcomes.edit(world.anna, step.draft.id, step.draft.revision, 4)
    step = await outcomes.choose(world.anna, step.draft.id, step.draft.revision, 0)  # urgent
    step = await outcomes.edit(world.anna, step.draft.id, step.draft.revision, 4)
    step = await outcomes.choose(world.anna, step.draft.id, step.draft.revision, 1)  # not after all
    submitted = await outcomes.submit(world.anna, step.draft.id, step.draft.revision)
    assert not submitted.decision.crisis and submitted.alerted_earlier
    text = report_for_coordinators(translators()["en"], submitted, ZoneInfo("Europe/Helsinki"))
    assert "urgent alert went out while the report was filled in" in text


SCALE_FORM = """\
id: errand
version: 9
task_kinds: [errand]
title: {fi: Asiointi, sv: Ärende, en: Errand}
questions:
  - id: mood
    type: scale
    max: 10
    label: {fi: Mieliala, sv: Humör, en: Mood}
"""


async def test_a_scale_is_answered_with_its_number_buttons(db, clock, world, services):
    forms = FormCatalog(
        [f for f in builtin_forms() if f.id != "errand"]
        + [parse_form(SCALE_FORM, source="scale.yaml", fmt="yaml")]
    )
    outcomes = OutcomeService(
        SqliteStore(db), clock, services.dispatch, forms, zone=ZoneInfo("Europe/Helsinki")
    )
    task = await held(services, clock, world, TaskKind.ERRAND)
    step = await outcomes.begin(world.anna, task.id)
    with pytest.raises(StaleStep):  # 1..10 is ten buttons: index 10 does not exist
        await outcomes.choose(world.anna, step.draft.id, step.draft.revision, 10)
    step = await outcomes.choose(world.anna, step.draft.id, step.draft.revision, 6)
    assert step.question is None and step.progress.answers == {"mood": 7}
