"""The meeting brief's figures on a real SQLite database: a hand-counted mix, an empty database,
random mixes against a naive count, and people the bot cannot reach (marked by `send`)."""

import json
import random
from datetime import timedelta
from types import SimpleNamespace

import pytest
from telegram.error import Forbidden, NetworkError

from bot.domain.briefs import OPEN_ORDER, Figures
from bot.domain.people import Role
from bot.domain.tasks import TaskState
from handlers.task_messages import send
from storage.briefs import SqliteBriefs
from storage.db import to_db_time
from tests.integration.helpers import register

S = TaskState
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


# --- seeding with plain SQL -----------------------------------------------------------------------


async def insert(db, table: str, **values) -> int:
    """Insert one row (datetimes stored as the repositories store them); return its rowid."""
    values = {k: to_db_time(v) if hasattr(v, "tzinfo") else v for k, v in values.items()}
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = await db.connection.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values())
    )
    return cursor.lastrowid


async def resident(db, at) -> int:
    return await insert(db, "residents", name="Maija", language="fi", created_at=at, updated_at=at)


async def task(db, resident_id, state, window_end, *, closed_at=None, created_at=None) -> int:
    return await insert(
        db,
        "tasks",
        resident_id=resident_id,
        kind="home_visit",
        window_start=window_end - 3 * HOUR,
        window_end=window_end,
        priority="normal",
        state=state.value,
        created_at=created_at or window_end - 2 * DAY,
        closed_at=closed_at,
    )


async def outcome(db, task_id, resident_id, needs, at) -> int:
    decision = {"close": "done", "reason": None, "needs": needs, "crisis": False}
    return await insert(
        db,
        "outcomes",
        task_id=task_id,
        resident_id=resident_id,
        form_id="home_visit",
        form_version=1,
        answers=json.dumps({"needs": needs}),
        decision=json.dumps(decision),
        submitted_at=at,
    )


async def referral(db, resident_id, kind, state, at) -> int:
    return await insert(
        db,
        "referrals",
        resident_id=resident_id,
        kind=kind,
        consent=0 if state == "noted" else 1,
        state=state,
        created_at=at,
    )


async def alert(db, task_id, resident_id, at) -> int:
    return await insert(db, "alerts", task_id=task_id, resident_id=resident_id, at=at)


async def person(db, user: int, name: str, at, *, active=True, unreachable_since=None) -> int:
    return await insert(
        db,
        "people",
        telegram_user_id=user,
        name=name,
        language="fi",
        active=int(active),
        created_at=at,
        unreachable_since=unreachable_since,
    )


async def group(db, chat_id: int, title: str, member: bool, at) -> None:
    await insert(
        db, "telegram_groups", chat_id=chat_id, title=title, member=int(member), changed_at=at
    )


async def meeting(db, created_by: int, at, *, chat_id=None, kind="group") -> int:
    return await insert(
        db,
        "meetings",
        title="Koordinaatiopalaveri",
        weekdays=1,
        start_minute=9 * 60,
        duration_minutes=60,
        place="Seurakuntatalo",
        audience_kind=kind,
        audience_role="coordinator" if kind == "role" else None,
        audience_chat_id=chat_id,
        offsets="1d16:00,15m",
        created_by=created_by,
        created_at=at,
        updated_at=at,
        reminders_from=at,
    )


# --- a hand-counted mix ---------------------------------------------------------------------------


async def test_the_figures_of_a_known_mix(db, services, clock):
    now = clock()
    since = now - 7 * DAY
    r = await resident(db, now - 30 * DAY)

    # Unfinished: two late (the accepted one the older), one escalated, one ending exactly now.
    await task(db, r, S.OPEN, now + DAY)
    open_late = await task(db, r, S.OPEN, now - 2 * HOUR)
    await task(db, r, S.OFFERED, now + 2 * DAY)
    escalated = await task(db, r, S.ESCALATED, now + 5 * HOUR)
    accepted_late = await task(db, r, S.ACCEPTED, now - DAY)
    await task(db, r, S.STARTED, now)  # its window ends now: not overdue yet
    # Closed: after since, exactly at since (counts), before since (does not); late but finished.
    done = await task(db, r, S.DONE, now - 2 * DAY, closed_at=now - DAY)
    await task(db, r, S.DONE, now - 6 * DAY, closed_at=now - 6 * DAY)
    await task(db, r, S.DONE, now - 7 * DAY, closed_at=since)
    old_done = await task(db, r, S.DONE, now - 9 * DAY, closed_at=now - 8 * DAY)
    failed = await task(db, r, S.NOT_COMPLETED, now - 3 * DAY, closed_at=now - 3 * DAY)
    await task(db, r, S.NOT_COMPLETED, now - 10 * DAY, closed_at=since - timedelta(seconds=1))
    await task(db, r, S.CANCELLED, now - DAY, closed_at=now - HOUR)

    # Needs since: errands 2, home_care 2, conversation_help 1, food_help 1 (named twice: once).
    await outcome(db, done, r, ["errands", "home_care"], now - DAY)
    await outcome(db, failed, r, ["errands"], now - 3 * DAY)
    await outcome(db, done, r, ["home_care", "food_help", "food_help"], since)
    await outcome(db, failed, r, [], now - 2 * DAY)
    await outcome(db, done, r, ["conversation_help"], now - HOUR)
    await outcome(db, old_done, r, ["errands", "other"], now - 8 * DAY)

    # Referrals: since: home_care 3 (new, taken, closed), parish 2 (new, noted); before: three
    # more. Open (new or taken, any age): 3 since + 2 before.
    for kind, state in [
        ("home_care", "new"),
        ("home_care", "taken"),
        ("home_care", "closed"),
        ("parish", "new"),
        ("parish", "noted"),
    ]:
        await referral(db, r, kind, state, now - 2 * DAY)
    for kind, state in [("parish", "taken"), ("home_care", "new"), ("parish", "closed")]:
        await referral(db, r, kind, state, now - 20 * DAY)

    await alert(db, done, r, now - DAY)
    await alert(db, old_done, r, now - 8 * DAY)

    kaisa = await register(services, Role.COORDINATOR, 1, "Kaisa")
    aatu = await register(services, Role.VOLUNTEER, 2, "Aatu")
    bertta = await register(services, Role.VOLUNTEER, 3, "Bertta")
    await services.people.unreachable(aatu.id)
    await services.people.unreachable(bertta.id)
    await services.people.deactivate(kaisa, bertta.id)

    await group(db, -100, "Koordinaattorit", False, now - DAY)  # removed, a meeting uses it
    await group(db, -200, "Vanha ryhmä", False, now - DAY)  # removed, unused
    await group(db, -300, "Vapaaehtoiset", True, now - DAY)  # still in it, a meeting uses it
    await meeting(db, kaisa.id, now - 5 * DAY, chat_id=-100)
    await meeting(db, kaisa.id, now - 5 * DAY, chat_id=-300)
    await meeting(db, kaisa.id, now - 5 * DAY, kind="role")

    figures = await SqliteBriefs(db).figures(now, since)

    assert figures == Figures(
        now=now,
        since=since,
        open_by_state={S.OPEN: 2, S.OFFERED: 1, S.ESCALATED: 1, S.ACCEPTED: 1, S.STARTED: 1},
        overdue=(accepted_late, open_late),
        escalated=(escalated,),
        done_since=3,
        not_completed_since=1,
        needs_since={"errands": 2, "home_care": 2, "conversation_help": 1, "food_help": 1},
        referrals_since={"home_care": 3, "parish": 2},
        open_referrals=5,
        alerts_since=1,
        unreachable=("Aatu",),
        removed_groups=("Koordinaattorit",),
    )
    assert list(figures.open_by_state) == list(OPEN_ORDER)
    assert list(figures.needs_since) == ["errands", "home_care", "conversation_help", "food_help"]
    assert list(figures.referrals_since) == ["home_care", "parish"]
    assert figures.unfinished == 6


async def test_an_empty_database_gives_zeros(db, clock):
    now = clock()
    figures = await SqliteBriefs(db).figures(now, now - 7 * DAY)
    assert figures == Figures(
        now=now,
        since=now - 7 * DAY,
        open_by_state=dict.fromkeys(OPEN_ORDER, 0),
        overdue=(),
        escalated=(),
        done_since=0,
        not_completed_since=0,
        needs_since={},
        referrals_since={},
        open_referrals=0,
        alerts_since=0,
        unreachable=(),
        removed_groups=(),
    )
    assert figures.unfinished == 0


def test_figures_name_every_unfinished_state_in_order(clock):
    now = clock()
    with pytest.raises(ValueError, match="every unfinished state"):
        Figures(
            now=now,
            since=now,
            open_by_state={S.OPEN: 1},
            overdue=(),
            escalated=(),
            done_since=0,
            not_completed_since=0,
            needs_since={},
            referrals_since={},
            open_referrals=0,
            alerts_since=0,
            unreachable=(),
            removed_groups=(),
        )


# --- random mixes against a naive count -----------------------------------------------------------

NEEDS = ["errands", "food_help", "conversation_help", "home_care", "health_concern", "other"]
NAMES = ["anna", "Anna", "Aatu", "bertta", "Ben", "Cecilia", "cecilia", "Ville"]
REFERRAL_STATES = ["noted", "new", "taken", "closed"]


def ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@pytest.mark.parametrize("seed", range(6))
async def test_the_figures_equal_a_naive_count(db, clock, seed):
    rng = random.Random(seed)
    now = clock()
    since = now - timedelta(days=rng.randint(0, 10))
    r = await resident(db, now - 60 * DAY)

    def moment():
        # Whole hours, so ties with `since` and `now` happen.
        return now + timedelta(hours=rng.randint(-15 * 24, 3 * 24))

    tasks = []
    for _ in range(rng.randint(0, 30)):
        state = rng.choice(list(TaskState))
        end = moment()
        closed = moment() if state in (S.DONE, S.NOT_COMPLETED, S.CANCELLED) else None
        tasks.append((await task(db, r, state, end, closed_at=closed), state, end, closed))

    outcomes = []
    for _ in range(rng.randint(0, 20) if tasks else 0):
        needs = [rng.choice(NEEDS) for _ in range(rng.randint(0, 4))]
        at = moment()
        await outcome(db, rng.choice(tasks)[0], r, needs, at)
        outcomes.append((needs, at))

    referrals = []
    for _ in range(rng.randint(0, 15)):
        kind, state, at = rng.choice(["parish", "home_care"]), rng.choice(REFERRAL_STATES), moment()
        await referral(db, r, kind, state, at)
        referrals.append((kind, state, at))

    alerts = []
    for _ in range(rng.randint(0, 6) if tasks else 0):
        at = moment()
        await alert(db, rng.choice(tasks)[0], r, at)
        alerts.append(at)

    people = []
    for user in range(1, rng.randint(2, 10)):
        name, active = rng.choice(NAMES), rng.random() < 0.7
        mark = moment() if rng.random() < 0.5 else None
        pid = await person(db, user, name, now - 30 * DAY, active=active, unreachable_since=mark)
        people.append((pid, name, active, mark))

    groups = []
    for chat in range(1, rng.randint(1, 7)):
        title, member = f"{rng.choice(NAMES)} ryhmä", rng.random() < 0.5
        await group(db, -chat, title, member, now)
        groups.append((-chat, title, member))
    meetings = []
    for _ in range(rng.randint(0, 5)):
        if groups and rng.random() < 0.8:
            chat_id = rng.choice(groups)[0]
            await meeting(db, people[0][0], now, chat_id=chat_id)
            meetings.append(chat_id)
        else:
            await meeting(db, people[0][0], now, kind="role")

    figures = await SqliteBriefs(db).figures(now, since)

    unfinished = [t for t in tasks if t[1] in OPEN_ORDER]
    assert figures.open_by_state == {s: sum(t[1] is s for t in tasks) for s in OPEN_ORDER}
    assert list(figures.open_by_state) == list(OPEN_ORDER)
    assert figures.unfinished == len(unfinished)
    late = sorted((t for t in unfinished if t[2] < now), key=lambda t: (t[2], t[0]))
    assert figures.overdue == tuple(t[0] for t in late)
    escalated = sorted((t for t in tasks if t[1] is S.ESCALATED), key=lambda t: (t[2], t[0]))
    assert figures.escalated == tuple(t[0] for t in escalated)
    assert figures.done_since == sum(t[1] is S.DONE and t[3] >= since for t in tasks)
    assert figures.not_completed_since == sum(
        t[1] is S.NOT_COMPLETED and t[3] >= since for t in tasks
    )
    needs: dict[str, int] = {}
    for named, at in outcomes:
        if at >= since:
            for need in set(named):
                needs[need] = needs.get(need, 0) + 1
    assert list(figures.needs_since.items()) == ranked(needs)
    kinds: dict[str, int] = {}
    for kind, _, at in referrals:
        if at >= since:
            kinds[kind] = kinds.get(kind, 0) + 1
    assert list(figures.referrals_since.items()) == ranked(kinds)
    assert figures.open_referrals == sum(state in ("new", "taken") for _, state, _ in referrals)
    assert figures.alerts_since == sum(at >= since for at in alerts)
    reachable_not = sorted(
        (p for p in people if p[2] and p[3] is not None), key=lambda p: (p[1].lower(), p[1], p[0])
    )
    assert figures.unreachable == tuple(p[1] for p in reachable_not)
    removed = sorted(
        (g for g in groups if not g[2] and g[0] in meetings),
        key=lambda g: (g[1].lower(), g[1], g[0]),
    )
    assert figures.removed_groups == tuple(g[1] for g in removed)


# --- people the bot cannot reach ------------------------------------------------------------------


async def test_unreachable_and_reachable_are_idempotent(db, services, clock):
    aatu = await register(services, Role.VOLUNTEER, 2, "Aatu")
    assert aatu.unreachable_since is None
    first = clock()

    await services.people.unreachable(aatu.id)
    assert (await services.people.identify(2)).unreachable_since == first
    clock.advance(hours=3)
    await services.people.unreachable(aatu.id)  # blocked still: the first time counts
    assert (await services.people.identify(2)).unreachable_since == first

    await services.people.reachable(aatu.id)
    assert (await services.people.identify(2)).unreachable_since is None
    changes = await db.fetch_value("SELECT total_changes()")
    await services.people.reachable(aatu.id)  # already clear: nothing is written
    assert await db.fetch_value("SELECT total_changes()") == changes
    assert (await services.people.identify(2)).unreachable_since is None

    await services.people.unreachable(aatu.id)
    assert (await services.people.identify(2)).unreachable_since == clock()
    await services.people.unreachable(999)  # nobody: nothing happens
    await services.people.reachable(999)


class ScriptedBot:
    """Answers `send_message` with the next scripted result: an exception to raise or a message."""

    def __init__(self, *results) -> None:
        self.results = list(results)

    async def send_message(self, chat_id, text, reply_markup=None):
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


async def test_send_marks_a_blocked_person_and_clears_the_mark_when_it_gets_through(
    services, clock
):
    aatu = await register(services, Role.VOLUNTEER, 2, "Aatu")
    delivered = object()
    bot = ScriptedBot(
        Forbidden("Forbidden: bot was blocked by the user"),
        NetworkError("timed out"),
        delivered,
        delivered,
    )
    context = SimpleNamespace(bot=bot, services=services)

    assert await send(context, aatu, "hei") is None
    blocked = await services.people.identify(2)
    assert blocked.unreachable_since == clock()

    assert await send(context, blocked, "hei") is None  # a network fault says nothing of blocking
    assert (await services.people.identify(2)).unreachable_since == clock()

    assert await send(context, blocked, "hei") is delivered
    assert (await services.people.identify(2)).unreachable_since is None

    assert await send(context, blocked, "hei") is delivered  # a stale Person: reachable is a no-op
    assert (await services.people.identify(2)).unreachable_since is None
