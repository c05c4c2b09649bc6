"""Pairs and availability: forming, dissolving (tasks go back), and who receives offers."""

from datetime import timedelta

import pytest

from bot.domain.errors import NotAllowed, PairNotFound, PersonInPair, PersonNotFound
from bot.domain.people import Role
from bot.domain.residents import ResidentInput
from bot.domain.tasks import Holder, Priority, TaskKind, TaskState
from bot.domain.windows import TimeWindow
from bot.services.dispatch import NoAvailablePairs
from tests.integration.helpers import register


@pytest.fixture
async def team(services):
    boss = await register(services, Role.COORDINATOR, 1, "Kaisa Koordinaattori")
    aino = await register(services, Role.VOLUNTEER, 2, "Aino")
    bertil = await register(services, Role.VOLUNTEER, 3, "Bertil")
    cecilia = await register(services, Role.VOLUNTEER, 4, "Cecilia")
    return boss, aino, bertil, cecilia


async def new_task(services, clock, boss, postal_code="70100"):
    resident = (
        await services.residents.save(
            None,
            ResidentInput(name="Maija Meikäläinen", phone="0401234567", postal_code=postal_code),
        )
    ).resident
    window = TimeWindow(start=clock() + timedelta(hours=1), end=clock() + timedelta(hours=3))
    return await services.dispatch.create(
        boss,
        resident_id=resident.id,
        kind=TaskKind.HOME_VISIT,
        window=window,
        priority=Priority.NORMAL,
        details="",
    )


async def test_a_coordinator_forms_a_pair_of_free_volunteers(services, team):
    boss, aino, bertil, cecilia = team
    assert {p.id for p in await services.pairs.unpaired(boss)} == {aino.id, bertil.id, cecilia.id}
    pair = await services.pairs.form(boss, aino.id, bertil.id)
    assert {m.id for m in pair.members} == {aino.id, bertil.id}
    assert pair.current and pair.available and pair.organisation is None
    assert [p.id for p in await services.pairs.current(boss)] == [pair.id]
    assert [p.id for p in await services.pairs.unpaired(boss)] == [cecilia.id]
    assert (await services.pairs.availability(aino)).pair == pair


async def test_a_pair_can_belong_to_an_organisation(services, team):
    boss, aino, bertil, _ = team
    issued = await services.invites.create(None, Role.PARTNER, organisation_name="Punainen Risti")
    assert issued.organisation is not None
    pair = await services.pairs.form(boss, aino.id, bertil.id, issued.organisation.id)
    assert pair.organisation == issued.organisation


async def test_nobody_is_in_two_pairs(services, team):
    boss, aino, bertil, cecilia = team
    await services.pairs.form(boss, aino.id, bertil.id)
    for first, second in ((aino.id, cecilia.id), (cecilia.id, bertil.id), (cecilia.id, cecilia.id)):
        with pytest.raises(PersonInPair):
            await services.pairs.form(boss, first, second)
    with pytest.raises(PersonInPair):  # `form` insists on a new pair
        await services.pairs.form(boss, bertil.id, aino.id)
    assert len(await services.pairs.current(boss)) == 1


async def test_pairing_the_same_two_again_is_a_harmless_repeat(services, team):
    boss, aino, bertil, _ = team
    first = await services.pairs.pair_up(boss, aino.id, bertil.id)
    again = await services.pairs.pair_up(boss, bertil.id, aino.id)
    assert first.new and not again.new
    assert again.pair.id == first.pair.id
    assert len(await services.pairs.current(boss)) == 1


async def test_only_coordinators_pair_and_only_people_who_take_tasks(services, team):
    boss, aino, bertil, cecilia = team
    with pytest.raises(NotAllowed):
        await services.pairs.form(aino, bertil.id, cecilia.id)
    link_worker = await register(services, Role.LINK_WORKER, 9, "Linnea")
    with pytest.raises(NotAllowed):
        await services.pairs.form(boss, link_worker.id, aino.id)  # a link worker holds no tasks
    with pytest.raises(PersonNotFound):
        await services.pairs.form(boss, aino.id, 999)
    with pytest.raises(PersonNotFound):
        await services.pairs.form(boss, aino.id, bertil.id, organisation_id=999)
    deactivated = await services.people.deactivate(boss, cecilia.id)
    with pytest.raises(PersonNotFound):
        await services.pairs.form(boss, aino.id, deactivated.id)
    assert await services.pairs.current(boss) == []


async def test_dissolving_gives_held_tasks_back_and_withdraws_offers(services, clock, team):
    boss, aino, bertil, cecilia = team
    pair = await services.pairs.form(boss, aino.id, bertil.id)
    held = await new_task(services, clock, boss)
    offered = await new_task(services, clock, boss)
    await services.dispatch.offer(boss, held.id)
    await services.dispatch.accept(aino, held.id)
    await services.dispatch.offer(boss, offered.id)

    dissolved = await services.pairs.dissolve(boss, pair.id)

    assert not dissolved.pair.current
    assert [r.task.id for r in dissolved.released] == [held.id]
    released = dissolved.released[0]
    assert released.task.state is TaskState.OPEN and released.task.holder.empty
    assert {p.id for p in released.former} == {aino.id, bertil.id}
    views = {t: await services.dispatch.view(boss, t) for t in (held.id, offered.id)}
    assert views[held.id].task.state is TaskState.OPEN
    assert views[offered.id].task.state is TaskState.OPEN  # no pair left to answer the offer
    assert await services.pairs.current(boss) == []
    assert (await services.pairs.availability(aino)).pair is None
    # Both are free to pair again, with others too.
    assert {p.id for p in await services.pairs.unpaired(boss)} == {aino.id, bertil.id, cecilia.id}
    await services.pairs.form(boss, aino.id, cecilia.id)


async def test_dissolving_keeps_offers_other_pairs_still_may_answer(services, clock, team):
    boss, aino, bertil, cecilia = team
    first = await services.pairs.form(boss, aino.id, bertil.id)
    dana = await register(services, Role.VOLUNTEER, 5, "Dana")
    await services.pairs.form(boss, cecilia.id, dana.id)
    task = await new_task(services, clock, boss)
    await services.dispatch.offer(boss, task.id)
    await services.pairs.dissolve(boss, first.id)
    assert (await services.dispatch.view(boss, task.id)).task.state is TaskState.OFFERED
    accepted = await services.dispatch.accept(dana, task.id)
    assert {p.id for p in accepted.holders} == {cecilia.id, dana.id}


async def test_a_pair_is_dissolved_once(services, team):
    boss, aino, bertil, _ = team
    pair = await services.pairs.form(boss, aino.id, bertil.id)
    await services.pairs.dissolve(boss, pair.id)
    with pytest.raises(PairNotFound):
        await services.pairs.dissolve(boss, pair.id)
    with pytest.raises(PairNotFound):
        await services.pairs.dissolve(boss, 999)
    with pytest.raises(NotAllowed):
        await services.pairs.dissolve(aino, pair.id)


async def test_a_task_held_by_the_pair_by_hand_goes_back_too(services, clock, team):
    boss, aino, bertil, _ = team
    pair = await services.pairs.form(boss, aino.id, bertil.id)
    task = await new_task(services, clock, boss)
    await services.dispatch.assign(boss, task.id, Holder(pair_id=pair.id))
    dissolved = await services.pairs.dissolve(boss, pair.id)
    assert [r.task.id for r in dissolved.released] == [task.id]
    assert await services.dispatch.my_tasks(aino) == []


async def test_offers_go_only_to_available_pairs(services, clock, team):
    boss, aino, bertil, _ = team
    await services.pairs.form(boss, aino.id, bertil.id)
    task = await new_task(services, clock, boss)

    away = await services.pairs.set_available(bertil, False)
    assert not away.available and not away.pair.available
    with pytest.raises(NoAvailablePairs):
        await services.dispatch.offer(boss, task.id)

    back = await services.pairs.set_available(bertil, True)
    assert back.available and back.pair.available
    offered = await services.dispatch.offer(boss, task.id)
    assert {p.id for p in offered.recipients} == {aino.id, bertil.id}


async def test_offers_go_only_to_pairs_covering_the_area(services, clock, team):
    boss, aino, bertil, _ = team
    await services.pairs.form(boss, aino.id, bertil.id)
    chosen = await services.pairs.set_areas(aino, frozenset({"70", "71100"}))
    assert chosen.areas == {"70", "71100"} and chosen.pair.areas == {"70", "71100"}
    elsewhere = await new_task(services, clock, boss, postal_code="00100")
    with pytest.raises(NoAvailablePairs):
        await services.dispatch.offer(boss, elsewhere.id)
    near = await new_task(services, clock, boss, postal_code="70820")
    assert (await services.dispatch.offer(boss, near.id)).recipients

    cleared = await services.pairs.set_areas(aino, frozenset())
    assert cleared.areas == frozenset()
    assert (await services.dispatch.offer(boss, elsewhere.id)).recipients


async def test_only_volunteers_set_their_availability(services, team):
    boss, aino, _, _ = team
    with pytest.raises(NotAllowed):
        await services.pairs.set_available(boss, False)
    with pytest.raises(NotAllowed):
        await services.pairs.set_areas(boss, frozenset({"70"}))
    assert (await services.pairs.availability(aino)).available
    assert not (await services.pairs.set_available(aino, False)).available
    assert not (await services.pairs.set_available(aino, False)).available  # twice is harmless
