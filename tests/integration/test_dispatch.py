"""The dispatch service on a real SQLite database: races, the sweep, history and leftovers."""

import asyncio
from datetime import timedelta

import pytest

from bot.domain.errors import IllegalTransition, NotAllowed, NotYourTask, TaskNotFound
from bot.domain.people import Role
from bot.domain.residents import ResidentInput
from bot.domain.tasks import Action, Holder, MessageKind, Priority, TaskKind, TaskMessage, TaskState
from bot.domain.windows import TimeWindow
from tests.integration.helpers import register


@pytest.fixture
async def world(services):
    boss = await register(services, Role.COORDINATOR, 1, "Kaisa")
    volunteers = [await register(services, Role.VOLUNTEER, 100 + i, f"V{i}") for i in range(20)]
    pairs = [
        await services.pairs.form(boss, volunteers[i].id, volunteers[i + 1].id)
        for i in range(0, 20, 2)
    ]
    resident = (
        await services.residents.save(
            boss, ResidentInput(name="Maija", phone="0401234567", postal_code="70100")
        )
    ).resident
    return boss, volunteers, pairs, resident


async def new_task(services, clock, boss, resident, *, start_in=timedelta(hours=2)):
    window = TimeWindow(start=clock() + start_in, end=clock() + start_in + timedelta(hours=2))
    return await services.dispatch.create(
        boss,
        resident_id=resident.id,
        kind=TaskKind.ERRAND,
        window=window,
        priority=Priority.URGENT,
        details="  kauppa   ja apteekki ",
    )


async def test_twenty_volunteers_accepting_at_once_leave_exactly_one_winner(services, clock, world):
    boss, volunteers, _, resident = world
    for _ in range(10):
        task = await new_task(services, clock, boss, resident)
        offered = await services.dispatch.offer(boss, task.id)
        assert len(offered.recipients) == 20
        results = await asyncio.gather(
            *(services.dispatch.accept(v, task.id) for v in volunteers), return_exceptions=True
        )
        fresh = [r for r in results if not isinstance(r, Exception) and not r.already]
        assert len(fresh) == 1
        winners = {p.id for p in fresh[0].holders}
        for volunteer, result in zip(volunteers, results, strict=True):
            if volunteer.id in winners:
                assert not isinstance(result, Exception)  # the partner's press is a success too
            else:
                assert isinstance(result, IllegalTransition | NotYourTask)
        view = await services.dispatch.view(boss, task.id)
        assert [e.action for e in view.events].count(Action.ACCEPT) == 1
        assert view.task.state is TaskState.ACCEPTED


async def test_history_records_who_when_from_and_to(services, clock, world):
    boss, volunteers, _, resident = world
    task = await new_task(services, clock, boss, resident)
    assert task.details == "kauppa ja apteekki"
    await services.dispatch.offer(boss, task.id)
    clock.advance(minutes=5)
    await services.dispatch.accept(volunteers[0], task.id)
    await services.dispatch.start(volunteers[1], task.id)
    await services.dispatch.start(volunteers[1], task.id)  # a second press changes nothing
    await services.dispatch.complete(volunteers[0], task.id, note="ok")
    view = await services.dispatch.view(boss, task.id)
    assert [(e.action, e.from_state, e.to_state) for e in view.events] == [
        (Action.CREATE, None, TaskState.OPEN),
        (Action.OFFER, TaskState.OPEN, TaskState.OFFERED),
        (Action.ACCEPT, TaskState.OFFERED, TaskState.ACCEPTED),
        (Action.START, TaskState.ACCEPTED, TaskState.STARTED),
        (Action.COMPLETE, TaskState.STARTED, TaskState.DONE),
    ]
    assert view.events[2].actor_id == volunteers[0].id
    assert view.events[2].at == view.events[1].at + timedelta(minutes=5)
    assert view.actor_names[boss.id] == "Kaisa"


async def test_illegal_moves_change_nothing(services, clock, world):
    boss, volunteers, _, resident = world
    task = await new_task(services, clock, boss, resident)
    with pytest.raises(NotYourTask):
        await services.dispatch.accept(volunteers[0], task.id)  # never offered
    with pytest.raises(NotYourTask):
        await services.dispatch.complete(volunteers[0], task.id)
    with pytest.raises(NotAllowed):
        await services.dispatch.cancel(volunteers[0], task.id)
    with pytest.raises(TaskNotFound):
        await services.dispatch.view(boss, 999)
    await services.dispatch.cancel(boss, task.id)
    with pytest.raises(IllegalTransition):
        await services.dispatch.cancel(boss, task.id)
    with pytest.raises(IllegalTransition):
        await services.dispatch.offer(boss, task.id)
    view = await services.dispatch.view(boss, task.id)
    assert view.task.state is TaskState.CANCELLED
    assert [e.action for e in view.events] == [Action.CREATE, Action.CANCEL]


async def test_a_holder_sees_the_resident_only_while_holding(services, clock, world):
    boss, volunteers, _, resident = world
    task = await new_task(services, clock, boss, resident)
    await services.dispatch.offer(boss, task.id)
    assert (await services.dispatch.view(volunteers[4], task.id)).resident is None  # an offer
    await services.dispatch.accept(volunteers[4], task.id)
    assert (await services.dispatch.view(volunteers[5], task.id)).resident.name == "Maija"
    assert (await services.dispatch.view(volunteers[6], task.id)).resident is None  # withdrawn
    await services.dispatch.complete(volunteers[5], task.id)
    assert (await services.dispatch.view(volunteers[4], task.id)).resident is None
    assert (await services.dispatch.view(boss, task.id)).resident.name == "Maija"


async def test_the_sweep_acts_once_on_each_due_thing(services, clock, world):
    boss, volunteers, pairs, resident = world
    escalating = await new_task(services, clock, boss, resident, start_in=timedelta(hours=10))
    await services.dispatch.offer(boss, escalating.id)
    reminded = await new_task(services, clock, boss, resident, start_in=timedelta(hours=5))
    await services.dispatch.assign(boss, reminded.id, Holder(pair_id=pairs[0].id))

    clock.advance(hours=3, minutes=59)
    early = await services.dispatch.sweep()
    assert not early.escalated and not early.reminders
    clock.advance(minutes=2)
    first = await services.dispatch.sweep()
    assert [v.task.id for v in first.escalated] == [escalating.id]
    assert [(v.task.id, {p.id for p in holders}) for v, holders in first.reminders] == [
        (reminded.id, {volunteers[0].id, volunteers[1].id})
    ]
    assert first.coordinators == [boss]
    assert first.escalated[0].resident is None  # the alert carries no personal data
    second = await services.dispatch.sweep()
    assert not second.escalated and not second.reminders and not second.overdue

    clock.advance(hours=3)
    overdue = await services.dispatch.sweep()
    assert {v.task.id for v in overdue.overdue} == {reminded.id}
    clock.advance(hours=10)
    later = await services.dispatch.sweep()
    assert {v.task.id for v in later.overdue} == {escalating.id}
    assert not (await services.dispatch.sweep()).overdue

    # An escalated task can still be accepted.
    await services.dispatch.accept(volunteers[2], escalating.id)


async def test_tasks_of_a_deactivated_holder_go_back_and_leftover_cards_are_found(
    services, clock, world
):
    boss, volunteers, pairs, resident = world
    task = await new_task(services, clock, boss, resident)
    await services.dispatch.assign(boss, task.id, Holder(pair_id=pairs[1].id))
    card = TaskMessage(
        chat_id=volunteers[3].telegram_user_id,
        message_id=7,
        task_id=task.id,
        person_id=volunteers[3].id,
        kind=MessageKind.CARD,
    )
    await services.dispatch.remember([card])
    await services.people.deactivate(boss, volunteers[2].id)
    swept = await services.dispatch.sweep()  # the bot died before releasing: the sweep heals
    assert [r.task.id for r in swept.released] == [task.id]
    assert swept.released[0].holder_name == "V2 & V3"
    assert swept.released[0].stale == [card]
    view = await services.dispatch.view(boss, task.id)
    assert view.task.state is TaskState.OPEN and view.task.holder.empty

    await services.dispatch.assign(boss, task.id, Holder(person_id=volunteers[5].id))
    await services.dispatch.complete(volunteers[5], task.id)
    leftover = await services.dispatch.sweep()
    assert [(v.task.id, messages) for v, messages in leftover.unscrubbed] == [(task.id, [card])]
    await services.dispatch.forget([card])
    assert not (await services.dispatch.sweep()).unscrubbed


async def test_resident_search_folds_finnish_letters_and_finds_phones(services, world):
    boss = world[0]
    await services.residents.save(
        boss, ResidentInput(name="Äikäs  Öhman", phone="+358501234567", postal_code="70200")
    )
    assert [r.name for r in await services.residents.find(boss, "äikäs ö")] == ["Äikäs  Öhman"]
    assert [r.name for r in await services.residents.find(boss, "ÄIKÄS")] == ["Äikäs  Öhman"]
    assert [r.name for r in await services.residents.find(boss, "050 123 4567")] == ["Äikäs  Öhman"]
    assert await services.residents.find(boss, "%") == []  # LIKE wildcards are plain text


async def test_a_member_without_a_task_role_takes_the_pair_out_of_offers(services, clock, world):
    boss, volunteers, pairs, resident = world
    await services.people.grant_role(boss, volunteers[0].id, Role.LINK_WORKER)
    await services.people.revoke_role(boss, volunteers[0].id, Role.VOLUNTEER)
    task = await new_task(services, clock, boss, resident)
    offered = await services.dispatch.offer(boss, task.id)
    assert volunteers[0].id not in {p.id for p in offered.recipients}
    assert volunteers[1].id not in {p.id for p in offered.recipients}  # the pair cannot work
    candidates = await services.dispatch.candidates(boss, task.id)
    assert pairs[0].id not in {p.id for p in candidates.pairs}
