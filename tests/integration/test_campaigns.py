"""Phone-check campaigns on a real SQLite database: filling the list, handing out calls (never the
same resident to two callers), routing every outcome through `OutcomeService.submit`, giving calls
back, expiring quiet claims, the figures, and pausing, resuming and closing."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.campaigns import (
    CallerFigures,
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
)
from bot.domain.errors import NotAllowed
from bot.domain.forms import QuestionType
from bot.domain.people import Person, Role
from bot.domain.residents import Resident, ResidentInput
from bot.domain.tasks import Action, Holder, Priority, TaskKind, TaskState, UnfinishedReason
from bot.domain.windows import TimeWindow
from bot.services.campaigns import NO_PHONE
from storage.db import from_db_time
from storage.store import SqliteStore
from tests.integration.helpers import register

P = CampaignProblem
CLAIM = timedelta(minutes=30)  # build_services' default claim timeout
REACHED = {"contact": "reached", "all_right": True, "needs": [], "urgent": False}
NO_ANSWER = {"contact": "no_answer"}
WRONG_NUMBER = {"contact": "wrong_number"}
REFUSED = {"contact": "refused"}


# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    boss: Person  # coordinator
    anna: Person  # volunteer, in a pair with Ben
    ben: Person
    pair_id: int
    frida: Person  # caller
    gunnar: Person  # caller


@pytest.fixture
async def world(services) -> World:
    boss = await register(services, Role.COORDINATOR, 1, "Kaisa")
    anna = await register(services, Role.VOLUNTEER, 101, "Anna")
    ben = await register(services, Role.VOLUNTEER, 102, "Ben")
    pair = await services.pairs.form(boss, anna.id, ben.id)
    frida = await register(services, Role.CALLER, 201, "Frida")
    gunnar = await register(services, Role.CALLER, 202, "Gunnar")
    return World(boss, anna, ben, pair.id, frida, gunnar)


@pytest.fixture
def store(db) -> SqliteStore:
    return SqliteStore(db)


_numbers = itertools.count(1)


async def resident(
    services,
    name: str,
    *,
    born: int | None = 1950,
    postal: str = "70100",
    phone: bool = True,
) -> Resident:
    """Store a resident; each has a phone number of their own unless `phone` is False."""
    number = f"040{next(_numbers):07d}" if phone else None
    saved = await services.residents.save(
        None, ResidentInput(name=name, phone=number, postal_code=postal, birth_year=born)
    )
    return saved.resident


def spec(
    callers: list[Person],
    *,
    name: str = "Syksyn soitot",
    born_by: int | None = 1956,
    areas: tuple[str, ...] = (),
    attempts: int = 2,
    gap: timedelta = timedelta(hours=3),
) -> CampaignSpec:
    return CampaignSpec(
        name=name,
        selection=Selection(born_by=born_by, areas=areas),
        callers=frozenset(c.id for c in callers),
        attempts=attempts,
        gap=gap,
    )


async def start(services, world: World, callers: list[Person] | None = None, **kw: Any) -> Campaign:
    started = await services.campaigns.start(world.boss, spec(callers or [world.frida], **kw))
    return started.campaign


async def entries(store: SqliteStore, campaign_id: int) -> list[Entry]:
    """The campaign's entries in list order."""
    rows = await store.db.fetch_all(
        "SELECT id FROM campaign_entries WHERE campaign_id = ? ORDER BY id", (campaign_id,)
    )
    return [await store.campaigns.entry(row[0]) for row in rows]


async def entry_for(store: SqliteStore, campaign_id: int, resident_id: int) -> Entry:
    (found,) = [e for e in await entries(store, campaign_id) if e.resident_id == resident_id]
    return found


async def callers_of(store: SqliteStore, campaign_id: int) -> list[int]:
    rows = await store.db.fetch_all(
        "SELECT person_id FROM campaign_callers WHERE campaign_id = ? ORDER BY person_id",
        (campaign_id,),
    )
    return [row[0] for row in rows]


async def calls(store: SqliteStore, campaign_id: int) -> list[tuple[int | None, str, int]]:
    """(caller, result, task) of every call that ended, in order."""
    rows = await store.db.fetch_all(
        "SELECT caller_id, result, task_id FROM campaign_calls WHERE campaign_id = ? ORDER BY id",
        (campaign_id,),
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def audit(store: SqliteStore, prefix: str) -> list[tuple[str, int | None, int | None, str]]:
    rows = await store.db.fetch_all(
        "SELECT action, actor_id, subject_id, detail FROM audit_log WHERE action LIKE ?"
        " ORDER BY id",
        (prefix + "%",),
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


async def problem(call) -> CampaignError:
    with pytest.raises(CampaignError) as raised:
        await call
    return raised.value


# --- reporting a call with the phone-check form (as the buttons and typed text would) ----------


async def answer(outcomes, actor, step, answers):
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


async def report(services, actor: Person, task_id: int, answers: dict[str, Any]):
    """Fill in and submit the call's form; return what the submit set going."""
    outcomes = services.outcomes
    step = await answer(outcomes, actor, await outcomes.begin(actor, task_id), answers)
    return await outcomes.submit(actor, step.draft.id, step.draft.revision)


async def call_and_report(services, actor: Person, answers: dict[str, Any], campaign_id=None):
    call = await services.campaigns.next_call(actor, campaign_id)
    return call, await report(services, actor, call.task.id, answers)


# --- start: who is listed -----------------------------------------------------------------------


async def test_the_list_is_filled_by_birth_year_and_area_prefixes(services, store, world, clock):
    listed = [
        await resident(services, "Aili", born=1950, postal="70100"),
        await resident(services, "Bertta", born=1956, postal="70200"),  # 70 exactly this year
        await resident(services, "Eero", born=1930, postal="70820"),
        await resident(services, "Onni", born=1948, postal="00100"),
    ]
    not_listed = [
        await resident(services, "Cecilia", born=1957, postal="70100"),  # 69
        await resident(services, "Dora", born=1940, postal="71100"),  # another area
        await resident(services, "Elli", born=None, postal="70100"),  # age unknown
        await resident(services, "Fanni", born=1940, postal="07010"),  # 70 in the middle
        await resident(services, "Gustav", born=1940, postal=""),  # no postal code
    ]
    started = await services.campaigns.start(
        world.boss, spec([world.frida], born_by=1956, areas=("701", "702", "708", "00"))
    )
    assert started.listed == len(listed) and started.visits == 0
    # The list runs by postal code, then in the order the residents were stored.
    assert [e.resident_id for e in await entries(store, started.campaign.id)] == [
        listed[3].id,
        listed[0].id,
        listed[1].id,
        listed[2].id,
    ]
    for e in await entries(store, started.campaign.id):
        assert (e.state, e.result, e.attempts, e.due_at) == (
            EntryState.WAITING,
            None,
            0,
            clock(),
        )
    campaign = started.campaign
    assert campaign.selection == Selection(born_by=1956, areas=("701", "702", "708", "00"))
    assert (campaign.state, campaign.attempts, campaign.gap) == (
        CampaignState.RUNNING,
        2,
        timedelta(hours=3),
    )
    assert await callers_of(store, campaign.id) == [world.frida.id]
    assert await audit(store, "campaign.") == [
        ("campaign.start", world.boss.id, campaign.id, str(len(listed)))
    ]
    on_list = {e.resident_id for e in await entries(store, campaign.id)}
    assert on_list.isdisjoint(r.id for r in not_listed)


async def test_any_age_everywhere_lists_every_resident(services, store, world):
    everyone = [
        await resident(services, "Aili", born=2001, postal="70100"),
        await resident(services, "Elli", born=None, postal=""),
    ]
    count = await services.campaigns.count(world.boss, Selection())
    started = await services.campaigns.start(world.boss, spec([world.frida], born_by=None))
    assert count == (2, 0)
    assert started.listed == 2
    assert {e.resident_id for e in await entries(store, started.campaign.id)} == {
        r.id for r in everyone
    }


async def test_a_resident_who_declined_calls_is_not_listed(services, store, world, clock):
    keen = await resident(services, "Aili")
    declined = await resident(services, "Bertta")
    async with store.transaction():
        await store.campaigns.decline_calls(declined.id, clock())
    assert await services.campaigns.count(world.boss, Selection(born_by=1956)) == (1, 0)
    started = await services.campaigns.start(world.boss, spec([world.frida]))
    assert started.listed == 1
    assert [e.resident_id for e in await entries(store, started.campaign.id)] == [keen.id]


async def test_residents_without_a_phone_get_a_home_visit_offered_through_the_outbox(
    services, store, world, clock
):
    await resident(services, "Aili")
    no_phone = [
        await resident(services, "Bertta", phone=False),
        await resident(services, "Cecilia", phone=False, postal="70820"),
    ]
    assert await services.campaigns.count(world.boss, Selection(born_by=1956)) == (3, 2)
    started = await services.campaigns.start(world.boss, spec([world.frida]))
    assert (started.listed, started.visits, started.uncovered) == (3, 2, 0)
    assert started.offered == 4  # two visits, each to both members of the pair

    assert len(await entries(store, started.campaign.id)) == 3
    visits = {}
    for person in no_phone:
        e = await entry_for(store, started.campaign.id, person.id)
        assert (e.state, e.result, e.attempts) == (EntryState.FINISHED, EntryResult.NO_PHONE, 0)
        visit = await store.tasks.get(e.visit_task_id)
        assert (visit.kind, visit.cause, visit.resident_id) == (
            TaskKind.HOME_VISIT,
            NO_PHONE,
            person.id,
        )
        assert visit.state is TaskState.OFFERED and visit.created_by == world.boss.id
        visits[visit.id] = visit

    (broadcast,) = await store.db.fetch_all("SELECT id, kind, author_id FROM broadcasts")
    assert (broadcast["kind"], broadcast["author_id"]) == ("offers", world.boss.id)
    rows = await store.db.fetch_all(
        "SELECT person_id, task_id, pair_id, state FROM outbox WHERE broadcast_id = ?",
        (broadcast["id"],),
    )
    assert sorted((r["person_id"], r["task_id"], r["pair_id"], r["state"]) for r in rows) == sorted(
        (member, task_id, world.pair_id, "pending")
        for task_id in visits
        for member in (world.anna.id, world.ben.id)
    )
    # The caller is never handed a resident without a phone.
    call = await services.campaigns.next_call(world.frida)
    assert call.resident.phone is not None
    await report(services, world.frida, call.task.id, REACHED)
    assert (await problem(services.campaigns.next_call(world.frida))).problem is P.LIST_DONE


async def test_with_no_pair_covering_the_area_the_visits_wait_uncovered(services, store, world):
    for volunteer in (world.anna, world.ben):
        await services.pairs.set_areas(volunteer, frozenset({"00"}))
    await resident(services, "Aili")
    lonely = await resident(services, "Bertta", phone=False, postal="70100")
    started = await services.campaigns.start(world.boss, spec([world.frida]))
    assert (started.listed, started.visits, started.offered, started.uncovered) == (2, 1, 0, 1)
    e = await entry_for(store, started.campaign.id, lonely.id)
    assert e.result is EntryResult.NO_PHONE
    visit = await store.tasks.get(e.visit_task_id)
    assert (visit.state, visit.cause) == (TaskState.OPEN, NO_PHONE)
    assert await store.db.fetch_all("SELECT id FROM broadcasts") == []
    assert await store.db.fetch_all("SELECT id FROM outbox") == []


async def test_only_some_visits_covered_counts_the_rest_uncovered(services, world):
    for volunteer in (world.anna, world.ben):
        await services.pairs.set_areas(volunteer, frozenset({"701"}))
    await resident(services, "Aili", phone=False, postal="70100")
    await resident(services, "Bertta", phone=False, postal="70200")
    await resident(services, "Cecilia", postal="70200")
    started = await services.campaigns.start(world.boss, spec([world.frida]))
    assert (started.listed, started.visits, started.offered, started.uncovered) == (3, 2, 2, 1)


async def test_a_selection_that_matches_nobody_stores_nothing(services, store, world):
    await resident(services, "Aili", born=1960)
    await resident(services, "Bertta", born=1950, postal="70100")
    for selection in ({"born_by": 1956, "areas": ("33",)}, {"born_by": 1930}):
        error = await problem(
            services.campaigns.start(world.boss, spec([world.frida], **selection))
        )
        assert error.problem is P.NOBODY
    assert await store.db.fetch_all("SELECT id FROM campaigns") == []
    assert await store.db.fetch_all("SELECT id FROM campaign_entries") == []
    assert await store.db.fetch_all("SELECT * FROM campaign_callers") == []
    assert await audit(store, "campaign.") == []


async def test_only_active_callers_may_be_chosen(services, store, world):
    await resident(services, "Aili")
    quitter = await register(services, Role.CALLER, 203, "Helmi")
    await services.people.deactivate(world.boss, quitter.id)
    for callers in ([world.anna.id], [world.frida.id, world.anna.id], [quitter.id], [99999]):
        bad = spec([world.frida]).model_copy(update={"callers": frozenset(callers)})
        error = await problem(services.campaigns.start(world.boss, bad))
        assert error.problem is P.NO_CALLERS
    error = await problem(services.campaigns.start(world.boss, spec([])))
    assert error.problem is P.NO_CALLERS
    assert await store.db.fetch_all("SELECT id FROM campaigns") == []


async def test_only_a_coordinator_starts_a_campaign(services, store, world):
    await resident(services, "Aili")
    for someone in (world.frida, world.anna):
        with pytest.raises(NotAllowed):
            await services.campaigns.start(someone, spec([world.frida]))
        with pytest.raises(NotAllowed):
            await services.campaigns.count(someone, Selection())
    assert await store.db.fetch_all("SELECT id FROM campaigns") == []


async def test_a_bad_spec_is_refused_before_anything_is_stored(services, store, world):
    await resident(services, "Aili")
    for bad, expected in (
        (spec([world.frida], name="  "), P.NAME),
        (spec([world.frida], attempts=0), P.ATTEMPTS),
        (spec([world.frida], gap=timedelta(seconds=90)), P.GAP),
    ):
        assert (await problem(services.campaigns.start(world.boss, bad))).problem is expected
    assert await store.db.fetch_all("SELECT id FROM campaigns") == []


# --- next_call ----------------------------------------------------------------------------------


async def test_calls_are_handed_out_in_list_order(services, world):
    late = await resident(services, "Aili", postal="70200")
    first = await resident(services, "Bertta", postal="70100")
    second = await resident(services, "Cecilia", postal="70100")
    await start(services, world)
    handed = []
    for _ in range(3):
        call, _submitted = await call_and_report(services, world.frida, REACHED)
        handed.append(call.resident.id)
        assert call.attempt == 1 and not call.already
    assert handed == [first.id, second.id, late.id]


async def test_a_call_is_a_held_phone_check_and_the_entry_is_claimed(services, store, world, clock):
    aili = await resident(services, "Aili")
    campaign = await start(services, world)
    call = await services.campaigns.next_call(world.frida)
    assert (call.campaign.id, call.resident.id, call.resident.phone) == (
        campaign.id,
        aili.id,
        aili.phone,
    )
    task = await store.tasks.get(call.task.id)
    assert (task.kind, task.state, task.holder, task.resident_id) == (
        TaskKind.PHONE_CHECK,
        TaskState.ACCEPTED,
        Holder(person_id=world.frida.id),
        aili.id,
    )
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.caller_id, e.task_id, e.claimed_until) == (
        EntryState.CALLING,
        world.frida.id,
        task.id,
        clock() + CLAIM,
    )
    assert call.entry == e


async def test_a_caller_has_one_call_at_a_time(services, store, world, clock):
    await resident(services, "Aili")
    await resident(services, "Bertta")
    campaign = await start(services, world)
    first = await services.campaigns.next_call(world.frida)
    clock.advance(minutes=5)
    again = await services.campaigns.next_call(world.frida)
    also = await services.campaigns.next_call(world.frida, campaign.id)
    assert again.already and also.already and not first.already
    assert again.entry.id == also.entry.id == first.entry.id
    assert again.task.id == first.task.id
    assert [e.state for e in await entries(store, campaign.id)] == [
        EntryState.CALLING,
        EntryState.WAITING,
    ]
    phone_checks = await store.db.fetch_all("SELECT id FROM tasks WHERE kind = 'phone_check'")
    assert len(phone_checks) == 1


async def test_twenty_callers_at_once_never_get_the_same_resident(services, store, world):
    boss = world.boss
    for n in range(200):
        await services.residents.save(
            None,
            ResidentInput(
                name=f"Asukas {n}", phone=f"050{n:07d}", postal_code="70100", birth_year=1940
            ),
        )
    callers = [await register(services, Role.CALLER, 5000 + n, f"Soittaja {n}") for n in range(20)]
    started = await services.campaigns.start(boss, spec(callers))
    assert started.listed == 200

    got = await asyncio.gather(*(services.campaigns.next_call(c) for c in callers))
    assert len({call.resident.id for call in got}) == 20
    assert len({call.entry.id for call in got}) == 20
    assert len({call.task.id for call in got}) == 20
    for caller, call in zip(callers, got, strict=True):
        task = await store.tasks.get(call.task.id)
        assert (task.kind, task.state, task.holder, task.resident_id) == (
            TaskKind.PHONE_CHECK,
            TaskState.ACCEPTED,
            Holder(person_id=caller.id),
            call.resident.id,
        )
        assert (await store.campaigns.entry(call.entry.id)).caller_id == caller.id
    # The first twenty of the list, nobody skipped.
    listed = await entries(store, started.campaign.id)
    assert {call.entry.id for call in got} == {e.id for e in listed[:20]}
    assert all(e.state is EntryState.WAITING for e in listed[20:])

    # Pressing again at once: everyone gets their own call back, nothing new is claimed.
    again = await asyncio.gather(*(services.campaigns.next_call(c) for c in callers))
    assert [(c.entry.id, c.already) for c in again] == [(c.entry.id, True) for c in got]


async def test_more_callers_at_once_than_residents(services, store, world):
    for name in ("Aili", "Bertta", "Cecilia"):
        await resident(services, name)
    callers = [await register(services, Role.CALLER, 5000 + n, f"Soittaja {n}") for n in range(5)]
    campaign = await start(services, world, callers)
    got = await asyncio.gather(
        *(services.campaigns.next_call(c) for c in callers), return_exceptions=True
    )
    handed = [g for g in got if not isinstance(g, BaseException)]
    refused = [g for g in got if isinstance(g, BaseException)]
    assert len(handed) == 3 and len({c.resident.id for c in handed}) == 3
    assert [(type(e), e.problem, e.when) for e in refused] == [
        (CampaignError, P.LIST_DONE, None)
    ] * 2
    assert all(e.state is EntryState.CALLING for e in await entries(store, campaign.id))


async def test_a_double_tap_among_other_presses_gets_one_call(services, store, world):
    for name in ("Aili", "Bertta", "Cecilia"):
        await resident(services, name)
    campaign = await start(services, world, [world.frida, world.gunnar])
    one, two, other = await asyncio.gather(
        services.campaigns.next_call(world.frida),
        services.campaigns.next_call(world.frida),
        services.campaigns.next_call(world.gunnar),
    )
    assert one.entry.id == two.entry.id and one.task.id == two.task.id
    assert sorted([one.already, two.already]) == [False, True]
    assert other.entry.id != one.entry.id and not other.already
    states = [e.state for e in await entries(store, campaign.id)]
    assert states == [EntryState.CALLING, EntryState.CALLING, EntryState.WAITING]


async def test_presses_at_once_take_due_retries_first(services, world, clock):
    names = ("Aili", "Bertta", "Cecilia", "Dora", "Eero")
    people = {(await resident(services, n)).id: n for n in names}
    third = await register(services, Role.CALLER, 203, "Helmi")
    await start(services, world, [world.frida, world.gunnar, third], gap=timedelta(minutes=30))
    await call_and_report(services, world.frida, NO_ANSWER)  # Aili
    await call_and_report(services, world.gunnar, NO_ANSWER)  # Bertta
    clock.advance(minutes=30)
    got = await asyncio.gather(
        services.campaigns.next_call(world.frida),
        services.campaigns.next_call(world.gunnar),
        services.campaigns.next_call(third),
    )
    assert len({c.entry.id for c in got}) == 3
    assert sorted(people[c.resident.id] for c in got) == ["Aili", "Bertta", "Cecilia"]
    assert sorted(c.attempt for c in got) == [1, 2, 2]


async def test_callers_of_two_campaigns_at_once_never_share_a_resident(services, world):
    for name in ("Aili", "Bertta", "Cecilia", "Dora"):
        await resident(services, name)
    a_callers = [await register(services, Role.CALLER, 5000 + n, f"A {n}") for n in range(3)]
    b_callers = [await register(services, Role.CALLER, 6000 + n, f"B {n}") for n in range(3)]
    await start(services, world, a_callers, name="A")
    await start(services, world, b_callers, name="B")
    got = await asyncio.gather(
        *(
            services.campaigns.next_call(c)
            for pair in zip(a_callers, b_callers, strict=True)
            for c in pair
        ),
        return_exceptions=True,
    )
    handed = [g for g in got if not isinstance(g, BaseException)]
    assert len(handed) == 4  # four residents, each on one call only
    assert len({c.resident.id for c in handed}) == 4
    assert all(g.problem is P.LIST_DONE for g in got if isinstance(g, BaseException))


async def test_presses_at_once_each_hear_about_their_own_campaign(services, world):
    for name in ("Aili", "Bertta"):
        await resident(services, name)
    helmi = await register(services, Role.CALLER, 203, "Helmi")
    paused = await start(services, world, [world.frida], name="A")
    running = await start(services, world, [world.gunnar], name="B")
    await services.campaigns.set_state(world.boss, paused.id, CampaignState.PAUSED)
    frida, gunnar, stranger, helmi_answer = await asyncio.gather(
        services.campaigns.next_call(world.frida),
        services.campaigns.next_call(world.gunnar),
        services.campaigns.next_call(world.gunnar, paused.id),
        services.campaigns.next_call(helmi),
        return_exceptions=True,
    )
    assert isinstance(frida, CampaignError) and frida.problem is P.PAUSED
    assert gunnar.campaign.id == running.id and not gunnar.already
    # Gunnar's second press (another campaign) in the same batch shows the call he got.
    assert stranger.already and stranger.entry.id == gunnar.entry.id
    assert isinstance(helmi_answer, CampaignError) and helmi_answer.problem is P.NONE_RUNNING


async def test_a_call_cancelled_by_a_coordinator_frees_the_caller(services, store, world, clock):
    for name in ("Aili", "Bertta", "Cecilia"):
        await resident(services, name)
    campaign = await start(services, world)
    first = await services.campaigns.next_call(world.frida)
    await services.dispatch.cancel(world.boss, first.task.id)
    # The next press puts the resident back and hands out the list's first: a new call.
    second = await services.campaigns.next_call(world.frida)
    assert second.task.id != first.task.id and not second.already
    assert second.resident.id == first.resident.id
    # The press after that shows the call she has: still one call at a time.
    again = await services.campaigns.next_call(world.frida)
    assert again.already and (again.entry.id, again.task.id) == (second.entry.id, second.task.id)
    held = await store.db.fetch_all(
        "SELECT id FROM tasks WHERE kind = 'phone_check' AND state = 'accepted'"
    )
    assert [row[0] for row in held] == [second.task.id]
    listed = await entries(store, campaign.id)
    assert [e.state for e in listed] == [EntryState.CALLING, EntryState.WAITING, EntryState.WAITING]
    # The cancelled call is no call made: nothing recorded; the sweep expires the new one.
    assert await calls(store, campaign.id) == []
    clock.advance(minutes=31)
    (expired,) = await services.campaigns.expire()
    assert expired.closed.view.task.id == second.task.id
    assert [e.state for e in await entries(store, campaign.id)] == [EntryState.WAITING] * 3
    assert [r for _c, r, _t in await calls(store, campaign.id)] == ["expired"]


async def test_a_call_cancelled_and_left_alone_goes_back_with_the_sweep(
    services, store, world, clock
):
    aili = await resident(services, "Aili")
    campaign = await start(services, world)
    call = await services.campaigns.next_call(world.frida)
    await services.dispatch.cancel(world.boss, call.task.id)
    clock.advance(minutes=31)
    assert await services.campaigns.expire() == []  # nobody to tell: the task ended already
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.attempts, e.caller_id) == (EntryState.WAITING, 0, None)
    assert await calls(store, campaign.id) == []


async def test_a_retry_that_fell_due_goes_before_first_calls(services, store, world, clock):
    for name in ("Aili", "Bertta", "Cecilia"):
        await resident(services, name)
    await start(services, world, gap=timedelta(hours=3))
    first, unanswered = await call_and_report(services, world.frida, NO_ANSWER)
    assert unanswered.call.retry_at == clock() + timedelta(hours=3)
    clock.advance(minutes=1)
    # Not due yet: the next first call.
    second, _ = await call_and_report(services, world.frida, REACHED)
    assert second.resident.id != first.resident.id and second.attempt == 1
    clock.advance(hours=3)
    retry = await services.campaigns.next_call(world.frida)
    assert retry.resident.id == first.resident.id
    assert retry.attempt == 2 and retry.entry.attempts == 1
    assert retry.task.id != first.task.id  # every call is a task of its own


async def test_the_earliest_due_retry_goes_first(services, world, clock):
    for name in ("Aili", "Bertta", "Cecilia"):
        await resident(services, name)
    await start(services, world, [world.frida, world.gunnar], gap=timedelta(hours=1))
    a = await services.campaigns.next_call(world.frida)
    b = await services.campaigns.next_call(world.gunnar)
    await report(services, world.gunnar, b.task.id, NO_ANSWER)  # due first
    clock.advance(minutes=10)
    await report(services, world.frida, a.task.id, NO_ANSWER)
    clock.advance(hours=2)
    assert (await services.campaigns.next_call(world.frida)).resident.id == b.resident.id
    assert (await services.campaigns.next_call(world.gunnar)).resident.id == a.resident.id


async def test_a_retry_not_yet_due_is_not_handed_out(services, world, clock):
    await resident(services, "Aili")
    campaign = await start(services, world, gap=timedelta(hours=3))
    started_at = clock()
    await call_and_report(services, world.frida, NO_ANSWER)
    due = started_at + timedelta(hours=3)
    error = await problem(services.campaigns.next_call(world.frida))
    assert (error.problem, error.when) == (P.LIST_DONE, due)
    overview = await services.campaigns.overview(world.boss, campaign.id)
    assert overview.next_due == due
    clock.advance(hours=2, minutes=59)
    error = await problem(services.campaigns.next_call(world.frida))
    assert (error.problem, error.when) == (P.LIST_DONE, due)
    clock.advance(minutes=1)
    call = await services.campaigns.next_call(world.frida)
    assert call.attempt == 2


async def test_a_finished_list_has_no_next_call(services, world):
    await resident(services, "Aili")
    await start(services, world)
    await call_and_report(services, world.frida, REACHED)
    error = await problem(services.campaigns.next_call(world.frida))
    assert (error.problem, error.when) == (P.LIST_DONE, None)


async def test_a_resident_on_a_call_in_one_campaign_is_passed_over_by_another(
    services, store, world
):
    aili = await resident(services, "Aili")
    bertta = await resident(services, "Bertta")
    a = await start(services, world, [world.frida], name="A")
    b = await start(services, world, [world.gunnar], name="B")
    in_a = await services.campaigns.next_call(world.frida, a.id)
    assert in_a.resident.id == aili.id
    in_b = await services.campaigns.next_call(world.gunnar, b.id)
    assert in_b.resident.id == bertta.id
    assert (await entry_for(store, b.id, aili.id)).state is EntryState.WAITING
    # Once Aili's call in A is over, B may call her.
    await report(services, world.frida, in_a.task.id, NO_ANSWER)
    await report(services, world.gunnar, in_b.task.id, REACHED)
    assert (await services.campaigns.next_call(world.gunnar, b.id)).resident.id == aili.id


async def test_a_resident_busy_elsewhere_leaves_nothing_to_call(services, world):
    await resident(services, "Aili")
    a = await start(services, world, [world.frida], name="A")
    b = await start(services, world, [world.gunnar], name="B")
    await services.campaigns.next_call(world.frida, a.id)
    error = await problem(services.campaigns.next_call(world.gunnar, b.id))
    assert error.problem is P.LIST_DONE


async def test_list_done_never_names_a_time_already_gone(services, world, clock):
    await resident(services, "Aili")
    a = await start(services, world, [world.frida], name="A")
    b = await start(services, world, [world.gunnar], name="B")
    await services.campaigns.next_call(world.frida, a.id)
    clock.advance(minutes=5)
    error = await problem(services.campaigns.next_call(world.gunnar, b.id))
    assert error.problem is P.LIST_DONE
    assert error.when is None or error.when > clock()


async def test_a_paused_campaign_hands_out_nothing(services, world):
    await resident(services, "Aili")
    await resident(services, "Bertta")
    campaign = await start(services, world)
    await services.campaigns.set_state(world.boss, campaign.id, CampaignState.PAUSED)
    for which in (None, campaign.id):
        assert (await problem(services.campaigns.next_call(world.frida, which))).problem is P.PAUSED
    await services.campaigns.set_state(world.boss, campaign.id, CampaignState.RUNNING)
    assert (await services.campaigns.next_call(world.frida)).campaign.id == campaign.id


async def test_a_call_under_way_is_still_reported_after_a_pause(services, store, world):
    aili = await resident(services, "Aili")
    await resident(services, "Bertta")
    campaign = await start(services, world)
    call = await services.campaigns.next_call(world.frida)
    await services.campaigns.set_state(world.boss, campaign.id, CampaignState.PAUSED)
    again = await services.campaigns.next_call(world.frida)  # the call they have
    assert again.already and again.entry.id == call.entry.id
    submitted = await report(services, world.frida, call.task.id, REACHED)
    assert submitted.call.result is CallResult.REACHED
    assert (await entry_for(store, campaign.id, aili.id)).result is EntryResult.REACHED
    assert (await problem(services.campaigns.next_call(world.frida))).problem is P.PAUSED


async def test_a_closed_campaign_hands_out_nothing_but_its_calls_finish(services, store, world):
    aili = await resident(services, "Aili")
    await resident(services, "Bertta")
    campaign = await start(services, world)
    call = await services.campaigns.next_call(world.frida)
    await services.campaigns.set_state(world.boss, campaign.id, CampaignState.CLOSED)
    submitted = await report(services, world.frida, call.task.id, REACHED)
    assert submitted.call.finished is EntryResult.REACHED
    assert (await entry_for(store, campaign.id, aili.id)).result is EntryResult.REACHED
    assert (await problem(services.campaigns.next_call(world.frida))).problem is P.NONE_RUNNING
    assert await services.campaigns.mine(world.frida) == []
    waiting = [e for e in await entries(store, campaign.id) if e.state is EntryState.WAITING]
    assert len(waiting) == 1  # Bertta was never handed out


async def test_the_next_call_button_of_a_closed_campaign_says_it_is_closed(services, world):
    await resident(services, "Aili")
    campaign = await start(services, world)
    await services.campaigns.set_state(world.boss, campaign.id, CampaignState.CLOSED)
    error = await problem(services.campaigns.next_call(world.frida, campaign.id))
    assert error.problem is P.CLOSED


async def test_only_the_campaigns_callers_get_its_calls(services, world):
    await resident(services, "Aili")
    campaign = await start(services, world, [world.frida])
    error = await problem(services.campaigns.next_call(world.gunnar, campaign.id))
    assert error.problem is P.NOT_A_CALLER
    assert (await problem(services.campaigns.next_call(world.gunnar))).problem is P.NONE_RUNNING
    with pytest.raises(NotAllowed):
        await services.campaigns.next_call(world.anna)
    assert [c.id for c in await services.campaigns.mine(world.frida)] == [campaign.id]


# --- outcomes routed through OutcomeService.submit ---------------------------------------------


async def test_a_reached_resident_is_finished_and_the_call_done(services, store, world):
    aili = await resident(services, "Aili")
    campaign = await start(services, world)
    call, submitted = await call_and_report(services, world.frida, REACHED)
    assert submitted.call is not None
    assert (submitted.call.campaign.id, submitted.call.result, submitted.call.finished) == (
        campaign.id,
        CallResult.REACHED,
        EntryResult.REACHED,
    )
    assert submitted.call.retry_at is None and submitted.attempt is None
    assert not submitted.worth_reporting  # a routine call: only the figures count it
    task = await store.tasks.get(call.task.id)
    assert task.state is TaskState.DONE
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.result, e.attempts, e.caller_id, e.claimed_until, e.visit_task_id) == (
        EntryState.FINISHED,
        EntryResult.REACHED,
        0,
        None,
        None,
        None,
    )
    assert await calls(store, campaign.id) == [(world.frida.id, "reached", call.task.id)]
    assert await services.outcomes.drafts(world.frida) == []


async def test_an_unanswered_call_with_tries_left_puts_the_resident_back(
    services, store, world, clock
):
    aili = await resident(services, "Aili")
    campaign = await start(services, world, attempts=3, gap=timedelta(minutes=90))
    call, submitted = await call_and_report(services, world.frida, NO_ANSWER)
    due = clock() + timedelta(minutes=90)
    assert submitted.attempt == (1, 3)
    assert (submitted.call.result, submitted.call.finished, submitted.call.retry_at) == (
        CallResult.NO_ANSWER,
        None,
        due,
    )
    assert submitted.follow_ups == []
    task = await store.tasks.get(call.task.id)
    assert (task.state, task.reason) == (TaskState.NOT_COMPLETED, UnfinishedReason.NO_ANSWER)
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.result, e.attempts, e.due_at, e.caller_id) == (
        EntryState.WAITING,
        None,
        1,
        due,
        None,
    )
    assert await calls(store, campaign.id) == [(world.frida.id, "no_answer", call.task.id)]

    # The second unanswered call of three: still a try left, attempts counted by the list.
    clock.advance(minutes=90)
    second, again = await call_and_report(services, world.frida, NO_ANSWER)
    assert second.attempt == 2 and again.attempt == (2, 3)
    assert (await entry_for(store, campaign.id, aili.id)).attempts == 2


async def test_the_last_unanswered_call_arranges_a_home_visit(services, store, world, clock):
    aili = await resident(services, "Aili")
    campaign = await start(services, world, attempts=2, gap=timedelta(hours=1))
    await call_and_report(services, world.frida, NO_ANSWER)
    clock.advance(hours=1)
    call, submitted = await call_and_report(services, world.frida, NO_ANSWER)
    assert call.attempt == 2
    assert (submitted.call.result, submitted.call.finished, submitted.call.retry_at) == (
        CallResult.NO_ANSWER,
        EntryResult.UNREACHED,
        None,
    )
    (visit,) = submitted.follow_ups
    assert (visit.kind, visit.cause, visit.follows_id) == (
        TaskKind.HOME_VISIT,
        "phone_unreached",
        call.task.id,
    )
    assert visit.state is TaskState.OFFERED  # the pair covers everywhere
    task = await store.tasks.get(call.task.id)
    assert (task.state, task.reason) == (TaskState.NOT_COMPLETED, UnfinishedReason.NO_ANSWER)
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.result, e.attempts, e.visit_task_id) == (
        EntryState.FINISHED,
        EntryResult.UNREACHED,
        2,
        visit.id,
    )
    assert [r for _c, r, _t in await calls(store, campaign.id)] == ["no_answer", "no_answer"]


async def test_with_one_attempt_the_first_unanswered_call_is_the_last(services, store, world):
    aili = await resident(services, "Aili")
    campaign = await start(services, world, attempts=1)
    _call, submitted = await call_and_report(services, world.frida, NO_ANSWER)
    assert submitted.call.finished is EntryResult.UNREACHED
    (visit,) = submitted.follow_ups
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.result, e.attempts, e.visit_task_id) == (EntryResult.UNREACHED, 1, visit.id)


async def test_an_unreached_visit_no_pair_covers_waits_and_is_worth_reporting(
    services, store, world
):
    for volunteer in (world.anna, world.ben):
        await services.pairs.set_areas(volunteer, frozenset({"00"}))
    aili = await resident(services, "Aili")
    campaign = await start(services, world, attempts=1)
    _call, submitted = await call_and_report(services, world.frida, NO_ANSWER)
    (visit,) = submitted.unoffered
    assert visit.state is TaskState.OPEN and submitted.worth_reporting
    assert (await entry_for(store, campaign.id, aili.id)).visit_task_id == visit.id


async def test_a_wrong_number_arranges_a_home_visit(services, store, world):
    aili = await resident(services, "Aili")
    campaign = await start(services, world)
    call, submitted = await call_and_report(services, world.frida, WRONG_NUMBER)
    assert (submitted.call.result, submitted.call.finished) == (
        CallResult.WRONG_NUMBER,
        EntryResult.WRONG_NUMBER,
    )
    (visit,) = submitted.follow_ups
    assert (visit.kind, visit.cause) == (TaskKind.HOME_VISIT, "phone_unreached")
    task = await store.tasks.get(call.task.id)
    assert (task.state, task.reason) == (TaskState.NOT_COMPLETED, UnfinishedReason.WRONG_NUMBER)
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.result, e.attempts, e.visit_task_id) == (
        EntryState.FINISHED,
        EntryResult.WRONG_NUMBER,
        0,
        visit.id,
    )


async def test_a_refusal_declines_the_resident_in_every_campaign_and_later_ones(
    services, store, world, clock
):
    aili = await resident(services, "Aili")
    bertta = await resident(services, "Bertta")
    a = await start(services, world, [world.frida], name="A")
    b = await start(services, world, [world.gunnar], name="B")
    c = await start(services, world, [world.gunnar], name="C")
    await services.campaigns.set_state(world.boss, c.id, CampaignState.PAUSED)
    call, submitted = await call_and_report(services, world.frida, REFUSED, a.id)
    assert call.resident.id == aili.id
    assert (submitted.call.result, submitted.call.finished) == (
        CallResult.DECLINED,
        EntryResult.DECLINED,
    )
    assert submitted.follow_ups == [] and submitted.decision.no_calls
    task = await store.tasks.get(call.task.id)
    assert (task.state, task.reason) == (TaskState.NOT_COMPLETED, UnfinishedReason.REFUSED)
    assert (await store.residents.get(aili.id)).no_calls_since == clock()
    for campaign in (a, b, c):  # running or paused: her part is over everywhere
        e = await entry_for(store, campaign.id, aili.id)
        assert (e.state, e.result) == (EntryState.FINISHED, EntryResult.DECLINED)
        assert (await entry_for(store, campaign.id, bertta.id)).state is EntryState.WAITING
    assert [r for _c, r, _t in await calls(store, a.id)] == ["declined"]
    assert await calls(store, b.id) == []  # B never called her

    # B hands out Bertta, then nobody; a later campaign does not list Aili at all.
    assert (await services.campaigns.next_call(world.gunnar, b.id)).resident.id == bertta.id
    later = await services.campaigns.start(world.boss, spec([world.frida], name="D"))
    assert later.listed == 1
    assert [e.resident_id for e in await entries(store, later.campaign.id)] == [bertta.id]


async def _gives_back(services, world, call):
    await services.campaigns.give_back(world.frida, call.task.id)


async def _no_answer(services, world, call):
    submitted = await report(services, world.frida, call.task.id, NO_ANSWER)
    assert submitted.call.result is CallResult.NO_ANSWER


async def _times_out(services, world, call):
    services.clock.advance(minutes=31)
    (expired,) = await services.campaigns.expire()
    assert expired.closed.view.task.id == call.task.id


@pytest.mark.parametrize(
    "ending", [_gives_back, _no_answer, _times_out], ids=["given_back", "no_answer", "expired"]
)
async def test_a_resident_who_declined_during_a_campaign_call_is_never_handed_out_again(
    services, store, world, clock, ending
):
    aili = await resident(services, "Aili")
    campaign = await start(services, world, [world.frida], gap=timedelta(hours=1))
    call = await services.campaigns.next_call(world.frida)
    assert call.resident.id == aili.id
    # Meanwhile a coordinator's own phone check reaches her: she asks not to be called.
    check = await services.dispatch.create(
        world.boss,
        resident_id=aili.id,
        kind=TaskKind.PHONE_CHECK,
        window=TimeWindow(start=clock(), end=clock() + timedelta(hours=3)),
        priority=Priority.NORMAL,
        details="",
    )
    await services.dispatch.assign(world.boss, check.id, Holder(person_id=world.gunnar.id))
    await report(services, world.gunnar, check.id, REFUSED)
    assert (await store.residents.get(aili.id)).no_calls_since is not None
    await ending(services, world, call)
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.result) == (EntryState.FINISHED, EntryResult.DECLINED)
    clock.advance(hours=2)
    error = await problem(services.campaigns.next_call(world.frida))
    assert (error.problem, error.when) == (P.LIST_DONE, None)


async def _declined_during_a_call(services, world, clock) -> tuple[Resident, Campaign, Any]:
    """Aili is on Frida's call when Gunnar's hand-assigned phone check hears her decline."""
    aili = await resident(services, "Aili")
    campaign = await start(services, world, [world.frida], gap=timedelta(hours=1))
    call = await services.campaigns.next_call(world.frida)
    check = await services.dispatch.create(
        world.boss,
        resident_id=aili.id,
        kind=TaskKind.PHONE_CHECK,
        window=TimeWindow(start=clock(), end=clock() + timedelta(hours=3)),
        priority=Priority.NORMAL,
        details="",
    )
    await services.dispatch.assign(world.boss, check.id, Holder(person_id=world.gunnar.id))
    await report(services, world.gunnar, check.id, REFUSED)
    return aili, campaign, call


async def test_an_entry_declined_meanwhile_finishes_at_the_moment_of_the_call(
    services, store, world, clock
):
    aili, campaign, call = await _declined_during_a_call(services, world, clock)
    clock.advance(minutes=5)
    await report(services, world.frida, call.task.id, NO_ANSWER)
    e = await entry_for(store, campaign.id, aili.id)
    assert e.result is EntryResult.DECLINED
    finished_at = await store.db.fetch_value(
        "SELECT finished_at FROM campaign_entries WHERE id = ?", (e.id,)
    )
    assert from_db_time(finished_at) == clock()


async def test_an_unanswered_call_to_a_resident_who_declined_meanwhile_promises_no_retry(
    services, world, clock
):
    _aili, _campaign, call = await _declined_during_a_call(services, world, clock)
    submitted = await report(services, world.frida, call.task.id, NO_ANSWER)
    assert submitted.call.result is CallResult.NO_ANSWER
    assert (submitted.call.finished, submitted.call.retry_at) == (EntryResult.DECLINED, None)


async def test_needs_and_urgent_calls_are_counted(services, store, world):
    for name in ("Aili", "Bertta", "Cecilia"):
        await resident(services, name)
    campaign = await start(services, world)
    _c, one = await call_and_report(
        services,
        world.frida,
        {**REACHED, "needs": ["errands", "conversation_help"], "consent_parish": True},
    )
    _c, two = await call_and_report(
        services, world.frida, {**REACHED, "needs": ["errands", "home_care"], "urgent": True}
    )
    _c, three = await call_and_report(
        services, world.frida, {**REACHED, "needs": ["health_concern"]}
    )
    assert not one.decision.crisis and two.decision.crisis and three.decision.crisis
    assert [s.call.finished for s in (one, two, three)] == [EntryResult.REACHED] * 3
    assert [t.kind for t in one.follow_ups] == [TaskKind.ERRAND]
    assert two.worth_reporting and three.worth_reporting
    figures = await store.campaigns.figures(campaign.id)
    assert figures.needs == {
        "errands": 2,
        "conversation_help": 1,
        "home_care": 1,
        "health_concern": 1,
    }
    assert figures.urgent == 2
    assert figures.reached == 3


async def test_a_phone_check_assigned_by_hand_keeps_the_old_behaviour(
    services, store, world, clock
):
    aili = await resident(services, "Aili")
    campaign = await start(services, world)  # Aili waits on its list meanwhile
    start_at = clock() + timedelta(hours=1)
    check = await services.dispatch.create(
        world.boss,
        resident_id=aili.id,
        kind=TaskKind.PHONE_CHECK,
        window=TimeWindow(start=start_at, end=start_at + timedelta(hours=2)),
        priority=Priority.NORMAL,
        details="",
    )
    await services.dispatch.assign(world.boss, check.id, Holder(person_id=world.gunnar.id))
    submitted = await report(services, world.gunnar, check.id, NO_ANSWER)
    assert submitted.call is None and submitted.attempt == (1, 2) and submitted.closed is None
    task = await store.tasks.get(check.id)
    assert (task.state, task.holder) == (TaskState.ACCEPTED, Holder(person_id=world.gunnar.id))
    view = await services.dispatch.view(world.boss, check.id)
    assert [(e.action, e.detail) for e in view.events if e.action is Action.ATTEMPT] == [
        (Action.ATTEMPT, "1/2")
    ]
    # The second unanswered attempt ends the task with a visit, as before campaigns.
    last = await report(services, world.gunnar, check.id, NO_ANSWER)
    assert last.call is None and last.decision.reason is UnfinishedReason.NO_ANSWER
    assert [t.cause for t in last.follow_ups] == ["phone_unreached"]
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.attempts) == (EntryState.WAITING, 0)  # the list is untouched
    assert await calls(store, campaign.id) == []


# --- give back and expiry ----------------------------------------------------------------------


async def test_giving_back_puts_the_resident_back_unchanged(services, store, world, clock):
    aili = await resident(services, "Aili")
    await resident(services, "Bertta")
    campaign = await start(services, world, gap=timedelta(hours=1))
    await call_and_report(services, world.frida, NO_ANSWER)  # Aili: one unanswered call
    clock.advance(hours=1)
    call = await services.campaigns.next_call(world.frida)
    assert call.resident.id == aili.id and call.attempt == 2
    step = await services.outcomes.begin(world.frida, call.task.id)
    clock.advance(minutes=3)
    closed = await services.campaigns.give_back(world.frida, call.task.id)
    assert closed.view.task.state is TaskState.CANCELLED
    assert (await store.tasks.get(call.task.id)).state is TaskState.CANCELLED
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.attempts, e.due_at, e.caller_id, e.claimed_until) == (
        EntryState.WAITING,
        1,
        clock(),
        None,
        None,
    )
    assert await store.outcomes.draft(step.draft.id) is None
    assert (await calls(store, campaign.id))[-1] == (world.frida.id, "given_back", call.task.id)
    # The next caller gets her (a retry that is due) before Bertta's first call.
    again = await services.campaigns.next_call(world.frida)
    assert again.resident.id == aili.id and again.attempt == 2 and not again.already


async def test_a_first_call_given_back_goes_to_the_end_of_the_list(services, store, world, clock):
    aili = await resident(services, "Aili")
    bertta = await resident(services, "Bertta")
    campaign = await start(services, world, [world.frida, world.gunnar])
    call = await services.campaigns.next_call(world.frida)
    clock.advance(minutes=1)
    await services.campaigns.give_back(world.frida, call.task.id)
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.attempts) == (EntryState.WAITING, 0)
    assert (await services.campaigns.next_call(world.frida)).resident.id == bertta.id
    assert (await services.campaigns.next_call(world.gunnar)).resident.id == aili.id


async def test_only_the_caller_gives_their_call_back(services, store, world, clock):
    await resident(services, "Aili")
    await start(services, world, [world.frida, world.gunnar])
    call = await services.campaigns.next_call(world.frida)
    error = await problem(services.campaigns.give_back(world.gunnar, call.task.id))
    assert error.problem is P.NOT_YOUR_CALL
    hand = await services.dispatch.create(
        world.boss,
        resident_id=call.resident.id,
        kind=TaskKind.PHONE_CHECK,
        window=TimeWindow(start=clock(), end=clock() + timedelta(hours=1)),
        priority=Priority.NORMAL,
        details="",
    )
    await services.dispatch.assign(world.boss, hand.id, Holder(person_id=world.gunnar.id))
    error = await problem(services.campaigns.give_back(world.gunnar, hand.id))
    assert error.problem is P.NOT_YOUR_CALL  # not a campaign call at all
    await services.campaigns.give_back(world.frida, call.task.id)
    error = await problem(services.campaigns.give_back(world.frida, call.task.id))
    assert error.problem is P.NOT_YOUR_CALL  # a double tap
    reported = await services.campaigns.next_call(world.frida)
    await report(services, world.frida, reported.task.id, REACHED)
    error = await problem(services.campaigns.give_back(world.frida, reported.task.id))
    assert error.problem is P.NOT_YOUR_CALL  # reported already
    with pytest.raises(NotAllowed):
        await services.campaigns.give_back(world.anna, reported.task.id)


async def test_a_quiet_claim_expires_after_the_timeout(services, store, world, clock):
    aili = await resident(services, "Aili")
    campaign = await start(services, world)
    call = await services.campaigns.next_call(world.frida)
    clock.advance(minutes=29)
    assert await services.campaigns.expire() == []
    assert (await entry_for(store, campaign.id, aili.id)).state is EntryState.CALLING
    clock.advance(minutes=1)
    (expired,) = await services.campaigns.expire()
    assert expired.campaign.id == campaign.id and expired.caller.id == world.frida.id
    assert expired.closed.view.task.id == call.task.id
    assert (await store.tasks.get(call.task.id)).state is TaskState.CANCELLED
    e = await entry_for(store, campaign.id, aili.id)
    assert (e.state, e.attempts, e.due_at, e.caller_id) == (
        EntryState.WAITING,
        0,
        call.entry.due_at,  # it keeps its place in the list: it was not called
        None,
    )
    assert await calls(store, campaign.id) == [(world.frida.id, "expired", call.task.id)]
    assert await services.campaigns.expire() == []  # once
    error = await problem(services.campaigns.give_back(world.frida, call.task.id))
    assert error.problem is P.NOT_YOUR_CALL
    # The next press gets a new call for the same resident.
    again = await services.campaigns.next_call(world.frida)
    assert again.resident.id == aili.id and again.task.id != call.task.id and not again.already


async def test_a_step_in_the_report_keeps_the_claim(services, store, world, clock):
    aili = await resident(services, "Aili")
    campaign = await start(services, world)
    call = await services.campaigns.next_call(world.frida)
    clock.advance(minutes=10)
    step = await services.outcomes.begin(world.frida, call.task.id)
    clock.advance(minutes=15)
    step = await services.outcomes.choose(world.frida, step.draft.id, step.draft.revision, 0)
    clock.advance(minutes=20)  # 45 minutes after the claim, 20 after the last step
    assert await services.campaigns.expire() == []
    assert (await entry_for(store, campaign.id, aili.id)).state is EntryState.CALLING
    clock.advance(minutes=9)  # 29 after the last step
    assert await services.campaigns.expire() == []
    clock.advance(minutes=2)  # 31 after the last step
    (expired,) = await services.campaigns.expire()
    assert expired.caller.id == world.frida.id
    assert await store.outcomes.draft(step.draft.id) is None
    assert await services.outcomes.drafts(world.frida) == []
    assert (await entry_for(store, campaign.id, aili.id)).state is EntryState.WAITING


async def test_a_report_in_time_after_a_long_claim_still_counts(services, store, world, clock):
    aili = await resident(services, "Aili")
    campaign = await start(services, world)
    call = await services.campaigns.next_call(world.frida)
    clock.advance(minutes=25)
    step = await answer(
        services.outcomes,
        world.frida,
        await services.outcomes.begin(world.frida, call.task.id),
        REACHED,
    )
    clock.advance(minutes=20)
    assert await services.campaigns.expire() == []
    await services.outcomes.submit(world.frida, step.draft.id, step.draft.revision)
    assert (await entry_for(store, campaign.id, aili.id)).result is EntryResult.REACHED
    clock.advance(hours=2)
    assert await services.campaigns.expire() == []


async def test_only_claims_that_ran_out_expire(services, store, world, clock):
    for name in ("Aili", "Bertta"):
        await resident(services, name)
    campaign = await start(services, world, [world.frida, world.gunnar])
    early = await services.campaigns.next_call(world.frida)
    clock.advance(minutes=20)
    late = await services.campaigns.next_call(world.gunnar)
    clock.advance(minutes=11)
    (expired,) = await services.campaigns.expire()
    assert expired.caller.id == world.frida.id
    assert expired.closed.view.task.id == early.task.id
    assert (await store.campaigns.entry(late.entry.id)).state is EntryState.CALLING
    assert [r for _c, r, _t in await calls(store, campaign.id)] == ["expired"]


# --- figures ------------------------------------------------------------------------------------


async def brute_force(store: SqliteStore, campaign_id: int) -> CampaignFigures:
    """The figures counted one row at a time in Python, from the raw tables."""
    listed = await entries(store, campaign_id)
    ended = await store.db.fetch_all(
        "SELECT caller_id, result, urgent FROM campaign_calls WHERE campaign_id = ?",
        (campaign_id,),
    )
    needs = await store.db.fetch_all(
        "SELECT need FROM campaign_needs WHERE campaign_id = ?", (campaign_id,)
    )
    caller_ids = set(await callers_of(store, campaign_id))
    caller_ids |= {row["caller_id"] for row in ended if row["caller_id"] is not None}
    callers = []
    for person_id in caller_ids:
        person = await store.people.get(person_id)
        mine = [row["result"] for row in ended if row["caller_id"] == person_id]
        callers.append(
            CallerFigures(
                person_id=person_id,
                name=person.name,
                calls=sum(r not in ("given_back", "expired") for r in mine),
                reached=mine.count("reached"),
                no_answer=mine.count("no_answer"),
                other=mine.count("wrong_number") + mine.count("declined"),
                calling=sum(
                    e.state is EntryState.CALLING and e.caller_id == person_id for e in listed
                ),
            )
        )
    callers.sort(key=lambda c: (c.name.casefold(), c.person_id))

    def finished(result: EntryResult) -> int:
        return sum(e.state is EntryState.FINISHED and e.result is result for e in listed)

    made = ("reached", "no_answer", "wrong_number", "declined")
    called_entries = await store.db.fetch_all(
        "SELECT entry_id, result FROM campaign_calls WHERE campaign_id = ?", (campaign_id,)
    )
    return CampaignFigures(
        total=len(listed),
        called=len({row["entry_id"] for row in called_entries if row["result"] in made}),
        never_called=sum(e.state is EntryState.WAITING and e.attempts == 0 for e in listed),
        retry=sum(e.state is EntryState.WAITING and e.attempts > 0 for e in listed),
        calling=sum(e.state is EntryState.CALLING for e in listed),
        reached=finished(EntryResult.REACHED),
        unreached=finished(EntryResult.UNREACHED),
        wrong_number=finished(EntryResult.WRONG_NUMBER),
        no_phone=finished(EntryResult.NO_PHONE),
        declined=finished(EntryResult.DECLINED),
        visits=sum(e.visit_task_id is not None for e in listed),
        urgent=sum(row["urgent"] for row in ended if row["caller_id"] is not None),
        needs=dict(Counter(row["need"] for row in needs)),
        callers=tuple(callers),
    )


async def test_the_figures_count_everything_after_a_day_of_calls(services, store, world, clock):
    frida, gunnar = world.frida, world.gunnar
    helmi = await register(services, Role.CALLER, 203, "Helmi")  # a caller who makes no call
    people = [await resident(services, f"Asukas {n:02d}", postal="70100") for n in range(11)]
    await services.campaigns.count(world.boss, Selection())  # nothing stored by counting
    no_phone = await resident(services, "Ilman puhelinta", phone=False, postal="70100")
    elsewhere = await resident(services, "Muualla", postal="70999")
    x = (
        await services.campaigns.start(
            world.boss, spec([frida, gunnar, helmi], name="X", gap=timedelta(hours=1))
        )
    ).campaign
    y = await start(services, world, [frida], name="Y", areas=("709",))
    assert len(await entries(store, x.id)) == 13 and len(await entries(store, y.id)) == 1

    async def step(caller, answers, campaign=x):
        call, _submitted = await call_and_report(services, caller, answers, campaign.id)
        clock.advance(minutes=1)
        return call.resident.id

    r_reached_1 = await step(frida, {**REACHED, "needs": ["errands", "home_care"]})
    r_reached_2 = await step(
        gunnar, {**REACHED, "needs": ["errands", "health_concern"], "urgent": True}
    )
    r_retry_then_unreached = await step(frida, NO_ANSWER)
    r_wrong = await step(gunnar, WRONG_NUMBER)
    r_refused = await step(frida, REFUSED)
    given_back = await services.campaigns.next_call(gunnar, x.id)
    timed_out = await services.campaigns.next_call(frida, x.id)
    await services.campaigns.give_back(gunnar, given_back.task.id)
    clock.advance(minutes=31)
    (expired,) = await services.campaigns.expire()
    assert expired.closed.view.task.id == timed_out.task.id
    r_declined_elsewhere = await step(frida, REFUSED, y)
    assert r_declined_elsewhere == elsewhere.id

    clock.advance(hours=1)
    assert await step(gunnar, NO_ANSWER) == r_retry_then_unreached  # the due retry first
    # Then the list in order: the one timed out kept its place, the one given back went last.
    assert await step(frida, NO_ANSWER) != given_back.resident.id
    on_call = await services.campaigns.next_call(gunnar, x.id)
    assert on_call.resident.id != given_back.resident.id

    figures = (await services.campaigns.overview(world.boss, x.id)).figures
    assert figures == await brute_force(store, x.id)
    assert figures == CampaignFigures(
        total=13,
        called=6,  # not the one who declined in Y, nor the one given back and on a call now
        never_called=4,
        retry=1,
        calling=1,
        reached=2,
        unreached=1,
        wrong_number=1,
        no_phone=1,
        declined=2,
        visits=3,
        urgent=1,
        needs={"errands": 2, "home_care": 1, "health_concern": 1},
        callers=(
            CallerFigures(frida.id, "Frida", calls=4, reached=1, no_answer=2, other=1),
            CallerFigures(gunnar.id, "Gunnar", calls=3, reached=1, no_answer=1, other=1, calling=1),
            CallerFigures(helmi.id, "Helmi"),
        ),
    )
    assert (figures.open, figures.done) == (6, 7)
    listed = {e.resident_id: e for e in await entries(store, x.id)}
    assert listed[r_reached_1].result is listed[r_reached_2].result is EntryResult.REACHED
    assert listed[r_wrong].result is EntryResult.WRONG_NUMBER
    assert listed[r_refused].result is listed[elsewhere.id].result is EntryResult.DECLINED
    assert listed[no_phone.id].result is EntryResult.NO_PHONE
    assert {p.id for p in people} >= {r_reached_1, r_reached_2, r_wrong, r_refused}

    y_figures = await store.campaigns.figures(y.id)
    assert y_figures == await brute_force(store, y.id)
    assert (y_figures.total, y_figures.called, y_figures.declined, y_figures.callers) == (
        1,
        1,
        1,
        (CallerFigures(frida.id, "Frida", calls=1, other=1),),
    )
    # recent() shows both, neither closed, newest first.
    assert [o.campaign.id for o in await services.campaigns.recent(world.boss)] == [y.id, x.id]


async def test_called_counts_only_residents_this_campaign_called(services, world):
    shared = await resident(services, "Aili", postal="70999")
    await resident(services, "Bertta", postal="70100")
    x = await start(services, world, [world.frida], name="X")
    y = await start(services, world, [world.frida], name="Y", areas=("709",))
    call, _ = await call_and_report(services, world.frida, REFUSED, y.id)
    assert call.resident.id == shared.id
    figures = (await services.campaigns.overview(world.boss, x.id)).figures
    assert figures.declined == 1
    assert figures.called == 0


async def test_a_resident_on_a_second_try_still_counts_as_called(services, world, clock):
    await resident(services, "Aili")
    x = await start(services, world, [world.frida], gap=timedelta(minutes=10))
    await call_and_report(services, world.frida, NO_ANSWER)
    assert (await services.campaigns.overview(world.boss, x.id)).figures.called == 1
    clock.advance(minutes=10)
    await services.campaigns.next_call(world.frida)
    assert (await services.campaigns.overview(world.boss, x.id)).figures.called == 1


async def test_the_figures_of_a_new_campaign(services, store, world):
    await resident(services, "Aili")
    await resident(services, "Bertta", phone=False)
    campaign = await start(services, world, [world.frida, world.gunnar])
    overview = await services.campaigns.overview(world.boss, campaign.id)
    assert overview.next_due is None
    assert overview.figures == CampaignFigures(
        total=2,
        never_called=1,
        no_phone=1,
        visits=1,
        callers=(CallerFigures(world.frida.id, "Frida"), CallerFigures(world.gunnar.id, "Gunnar")),
    )
    assert overview.figures == await brute_force(store, campaign.id)
    for someone in (world.frida, world.anna):
        with pytest.raises(NotAllowed):
            await services.campaigns.overview(someone, campaign.id)
    error = await problem(services.campaigns.overview(world.boss, campaign.id + 100))
    assert error.problem is P.NOT_FOUND


# --- pause, resume, close ------------------------------------------------------------------------


async def test_pause_resume_and_close_are_audited_and_closed_is_for_good(
    services, store, world, clock
):
    await resident(services, "Aili")
    campaign = await start(services, world)
    paused = await services.campaigns.set_state(world.boss, campaign.id, CampaignState.PAUSED)
    assert paused.state is CampaignState.PAUSED and paused.closed_at is None
    again = await services.campaigns.set_state(world.boss, campaign.id, CampaignState.PAUSED)
    assert again.state is CampaignState.PAUSED  # a double tap changes nothing
    clock.advance(minutes=5)
    resumed = await services.campaigns.set_state(world.boss, campaign.id, CampaignState.RUNNING)
    assert resumed.state is CampaignState.RUNNING
    clock.advance(minutes=5)
    closed = await services.campaigns.set_state(world.boss, campaign.id, CampaignState.CLOSED)
    assert (closed.state, closed.closed_at) == (CampaignState.CLOSED, clock())
    for state in CampaignState:
        error = await problem(services.campaigns.set_state(world.boss, campaign.id, state))
        assert error.problem is P.CLOSED
    assert (await store.campaigns.get(campaign.id)).state is CampaignState.CLOSED
    assert await audit(store, "campaign.") == [
        ("campaign.start", world.boss.id, campaign.id, "1"),
        ("campaign.paused", world.boss.id, campaign.id, None),
        ("campaign.running", world.boss.id, campaign.id, None),
        ("campaign.closed", world.boss.id, campaign.id, None),
    ]
    # Closed campaigns come last in the list.
    newer = await start(services, world, name="Uusi")
    assert [o.campaign.id for o in await services.campaigns.recent(world.boss)] == [
        newer.id,
        campaign.id,
    ]


async def test_only_a_coordinator_changes_a_campaign(services, store, world):
    await resident(services, "Aili")
    campaign = await start(services, world)
    for someone in (world.frida, world.anna):
        with pytest.raises(NotAllowed):
            await services.campaigns.set_state(someone, campaign.id, CampaignState.PAUSED)
    error = await problem(
        services.campaigns.set_state(world.boss, campaign.id + 100, CampaignState.PAUSED)
    )
    assert error.problem is P.NOT_FOUND
    assert (await store.campaigns.get(campaign.id)).state is CampaignState.RUNNING
    assert [a for a, *_ in await audit(store, "campaign.")] == ["campaign.start"]
