"""Broadcasts on a real SQLite database: audiences, the outbox row lifecycle, reports and offers."""

import asyncio

import pytest

from bot.domain.broadcasts import (
    MAX_TEXT,
    Attachment,
    AttachmentKind,
    Audience,
    AudienceKind,
    BroadcastError,
    BroadcastKind,
    BroadcastProblem,
    BroadcastState,
    RowState,
    StopReason,
    retry_delay,
)
from bot.domain.errors import NotAllowed, NotYourTask
from bot.domain.people import Role
from bot.domain.tasks import Action, MessageKind, TaskState
from storage.store import SqliteStore
from tests.integration.broadcast_seed import join, open_task, seed

EVERYONE = Audience(kind=AudienceKind.EVERYONE)
VOLUNTEERS = Audience(kind=AudienceKind.VOLUNTEERS)
CALLERS = Audience(kind=AudienceKind.ROLE, role=Role.CALLER)


@pytest.fixture
async def net(services):
    return await seed(services)


@pytest.fixture
def store(db):
    return SqliteStore(db)


async def count(db, table: str) -> int:
    return await db.fetch_value(f"SELECT count(*) FROM {table}")


async def outbox(db, broadcast_id: int) -> list[dict]:
    rows = await db.fetch_all(
        "SELECT id, person_id, task_id, pair_id, state, attempts, parts_sent, error"
        " FROM outbox WHERE broadcast_id = ? ORDER BY id",
        (broadcast_id,),
    )
    return [dict(row) for row in rows]


async def states(db, broadcast_id: int) -> dict[int, str]:
    """The state of each person's row (message broadcasts have one row per person)."""
    return {r["person_id"]: r["state"] for r in await outbox(db, broadcast_id)}


async def deliver(services, row_id: int, message_id: int = 1):
    delivery = await services.broadcasts.begin(row_id)
    assert delivery is not None
    await services.broadcasts.part_sent(
        delivery, 0, last=True, chat_id=delivery.person.telegram_user_id, message_id=message_id
    )
    return delivery


async def row_of(db, broadcast_id: int, person_id: int, task_id: int = 0) -> int:
    return await db.fetch_value(
        "SELECT id FROM outbox WHERE broadcast_id = ? AND person_id = ? AND task_id = ?",
        (broadcast_id, person_id, task_id),
    )


# --- audiences -----------------------------------------------------------------------------------

ALL_VOLUNTEERS = {"Aino", "Bertil", "Cecilia", "Daniel", "Fredrik", "Gustav"}


def area(prefix):
    return lambda n: Audience(kind=AudienceKind.AREA, area=prefix)


def pairs(*names):
    """Pairs named as attributes of the network (or raw ids)."""
    return lambda n: Audience(
        kind=AudienceKind.PAIRS,
        pair_ids=frozenset(getattr(n, x).id if isinstance(x, str) else x for x in names),
    )


def role(r):
    return lambda n: Audience(kind=AudienceKind.ROLE, role=r)


def org(name):
    return lambda n: Audience(kind=AudienceKind.ORGANISATION, organisation_id=getattr(n, name).id)


def _audiences():
    return [
        ("everyone", lambda n: EVERYONE, ALL_VOLUNTEERS | {"Olli", "Pia", "Cally", "Linnea"}),
        ("volunteers", lambda n: VOLUNTEERS, ALL_VOLUNTEERS),
        ("available", lambda n: Audience(kind=AudienceKind.AVAILABLE), ALL_VOLUNTEERS - {"Daniel"}),
        ("org-red-cross", org("red_cross"), {"Fredrik", "Pia"}),
        ("org-parish", org("parish"), {"Linnea"}),
        ("role-coordinator", role(Role.COORDINATOR), {"Olli"}),
        ("role-partner", role(Role.PARTNER), {"Pia"}),
        ("role-caller", role(Role.CALLER), {"Cally"}),
        ("role-link-worker", role(Role.LINK_WORKER), {"Linnea"}),
        ("role-volunteer", role(Role.VOLUNTEER), ALL_VOLUNTEERS),
        ("area-70", area("70"), {"Aino", "Bertil", "Daniel"}),
        ("area-7011", area("7011"), {"Aino", "Bertil", "Daniel"}),
        ("area-702", area("702"), {"Aino", "Daniel"}),
        ("area-7", area("7"), {"Aino", "Bertil", "Daniel"}),
        ("area-001", area("001"), {"Cecilia", "Fredrik", "Daniel"}),
        ("area-0010", area("0010"), {"Cecilia", "Fredrik", "Daniel"}),
        ("area-002", area("002"), {"Cecilia", "Daniel"}),
        ("area-33", area("33"), {"Gustav", "Daniel"}),
        ("area-99", area("99"), {"Daniel"}),  # Daniel set no areas: everywhere
        ("pairs-ab", pairs("ab"), {"Aino", "Bertil"}),
        ("pairs-ab-cf", pairs("ab", "cf"), {"Aino", "Bertil", "Cecilia", "Fredrik"}),
        ("pairs-with-the-author", pairs("bd"), {"Daniel"}),
        ("pairs-with-a-leaver", pairs("eg"), {"Gustav"}),
        ("pairs-and-an-unknown-id", pairs("ab", 9999), {"Aino", "Bertil"}),
    ]


@pytest.mark.parametrize(
    ("make", "expected"), [(m, e) for _, m, e in _audiences()], ids=[i for i, _, _ in _audiences()]
)
async def test_each_audience_reaches_exactly_the_right_people(services, net, make, expected):
    people = await services.broadcasts.recipients(net.boss, make(net))
    ids = [p.id for p in people]
    assert len(ids) == len(set(ids))  # nobody twice
    assert net.boss.id not in ids  # never the author
    assert all(p.active for p in people)
    assert net.names(people) == expected


async def test_the_author_is_left_out_whoever_it_is(services, net):
    people = await services.broadcasts.recipients(net.deputy, EVERYONE)
    assert "Kaisa" in net.names(people) and "Olli" not in net.names(people)
    coordinators = Audience(kind=AudienceKind.ROLE, role=Role.COORDINATOR)
    assert net.names(await services.broadcasts.recipients(net.deputy, coordinators)) == {"Kaisa"}


async def test_the_audience_is_read_when_sent_not_when_chosen(services, net, db):
    audience = Audience(kind=AudienceKind.AVAILABLE)
    assert "Aino" in net.names(await services.broadcasts.recipients(net.boss, audience))
    await services.pairs.set_available(net.aino, False)
    await services.people.deactivate(net.boss, net.bertil.id)
    broadcast, sent_to = await services.broadcasts.send_message(net.boss, audience, "Hei", None)
    assert sent_to == 3
    assert {net.name_of(p) for p in await states(db, broadcast.id)} == {
        "Cecilia",
        "Fredrik",
        "Gustav",
    }


def _empty_audiences(net):
    return [
        Audience(kind=AudienceKind.ORGANISATION, organisation_id=net.empty_org.id),
        Audience(kind=AudienceKind.ORGANISATION, organisation_id=9999),
        Audience(kind=AudienceKind.PAIRS, pair_ids=frozenset({9999})),
        Audience(kind=AudienceKind.AREA),  # incomplete: no area chosen
        Audience(kind=AudienceKind.ROLE),
        Audience(kind=AudienceKind.ORGANISATION),
    ]


async def test_an_empty_audience_is_refused_and_nothing_is_stored(services, net, db):
    for audience in _empty_audiences(net):
        with pytest.raises(BroadcastError) as refused:
            await services.broadcasts.recipients(net.boss, audience)
        assert refused.value.problem is BroadcastProblem.EMPTY_AUDIENCE
        with pytest.raises(BroadcastError) as refused:
            await services.broadcasts.send_message(net.boss, audience, "Hei", None)
        assert refused.value.problem is BroadcastProblem.EMPTY_AUDIENCE
    # Only the author matches: still empty.
    await services.people.deactivate(net.boss, net.deputy.id)
    only_me = Audience(kind=AudienceKind.ROLE, role=Role.COORDINATOR)
    with pytest.raises(BroadcastError):
        await services.broadcasts.send_message(net.boss, only_me, "Hei", None)
    assert await count(db, "broadcasts") == 0
    assert await count(db, "outbox") == 0


async def test_only_coordinators_broadcast(services, net, db):
    calls = [
        lambda p: services.broadcasts.choices(p),
        lambda p: services.broadcasts.recipients(p, EVERYONE),
        lambda p: services.broadcasts.send_message(p, EVERYONE, "Hei", None),
        lambda p: services.broadcasts.open_tasks(p),
        lambda p: services.broadcasts.plan_offers(p, None),
        lambda p: services.broadcasts.send_offers(p, None),
        lambda p: services.broadcasts.cancel(p, 1),
        lambda p: services.broadcasts.progress(p, 1),
        lambda p: services.broadcasts.recent(p),
    ]
    for person in (net.aino, net.pia, net.cally, net.linnea, net.eeva):
        for call in calls:
            with pytest.raises(NotAllowed):
                await call(person)
    assert await count(db, "broadcasts") == 0
    assert await count(db, "outbox") == 0


async def test_a_coordinator_who_lost_the_role_after_the_form_is_refused(services, clock, net, db):
    await open_task(services, clock, net.boss, "70100")
    stale = net.deputy  # the handler read Olli when the form opened
    assert await services.broadcasts.recipients(stale, EVERYONE)
    await services.people.grant_role(net.boss, stale.id, Role.VOLUNTEER)
    await services.people.revoke_role(net.boss, stale.id, Role.COORDINATOR)
    with pytest.raises(NotAllowed):
        await services.broadcasts.send_message(stale, EVERYONE, "Hei", None)
    with pytest.raises(NotAllowed):
        await services.broadcasts.send_offers(stale, None)
    assert await count(db, "broadcasts") == 0
    assert await count(db, "outbox") == 0
    assert await db.fetch_value("SELECT count(*) FROM offers") == 0


async def test_a_deactivated_coordinator_is_refused(services, net, db):
    stale = net.deputy
    await services.people.deactivate(net.boss, stale.id)
    with pytest.raises(NotAllowed):
        await services.broadcasts.send_message(stale, EVERYONE, "Hei", None)
    assert await count(db, "broadcasts") == 0


# --- the message -------------------------------------------------------------------------------


def _photo(size: int | None) -> Attachment:
    return Attachment(kind=AttachmentKind.PHOTO, file_id="AgAD", size=size)


@pytest.mark.parametrize(
    ("text", "attachment", "problem"),
    [
        ("", None, BroadcastProblem.EMPTY_MESSAGE),
        ("  \n\t ", None, BroadcastProblem.EMPTY_MESSAGE),
        ("x" * (MAX_TEXT + 1), None, BroadcastProblem.TOO_LONG),
        ("x" * (MAX_TEXT + 1), _photo(10), BroadcastProblem.TOO_LONG),
        ("Kuva", _photo(20 * 1024 * 1024 + 1), BroadcastProblem.FILE_TOO_LARGE),
        ("", _photo(10**9), BroadcastProblem.FILE_TOO_LARGE),
    ],
)
async def test_check_message_refuses(services, text, attachment, problem):
    with pytest.raises(BroadcastError) as refused:
        services.broadcasts.check_message(text, attachment)
    assert refused.value.problem is problem


@pytest.mark.parametrize(
    ("text", "attachment", "tidied"),
    [
        ("  Hei kaikki!  ", None, "Hei kaikki!"),
        ("", _photo(10), ""),
        (" \n", _photo(None), ""),
        ("x" * MAX_TEXT, None, "x" * MAX_TEXT),
        ("  " + "x" * MAX_TEXT + "  ", None, "x" * MAX_TEXT),
        ("Kuva", _photo(20 * 1024 * 1024), "Kuva"),
    ],
)
async def test_check_message_tidies(services, text, attachment, tidied):
    assert services.broadcasts.check_message(text, attachment) == tidied


async def test_an_oversized_message_is_refused_before_anything_is_stored(services, net, db):
    with pytest.raises(BroadcastError):
        await services.broadcasts.send_message(net.boss, EVERYONE, "x" * (MAX_TEXT + 1), None)
    with pytest.raises(BroadcastError):
        await services.broadcasts.send_message(net.boss, EVERYONE, " ", None)
    assert await count(db, "broadcasts") == 0


# --- queueing and the row lifecycle --------------------------------------------------------------


async def test_send_message_queues_one_pending_row_per_recipient(services, clock, net, db, store):
    photo = Attachment(kind=AttachmentKind.DOCUMENT, file_id="BQAC", file_name="ohje.pdf", size=99)
    broadcast, queued = await services.broadcasts.send_message(
        net.boss, VOLUNTEERS, "  Hei kaikki  ", photo
    )
    assert queued == 6
    assert broadcast.kind is BroadcastKind.MESSAGE
    assert broadcast.state is BroadcastState.SENDING
    assert broadcast.text == "Hei kaikki"
    assert broadcast.author_id == net.boss.id
    stored = await store.broadcasts.get(broadcast.id)
    assert stored.audience == VOLUNTEERS and stored.attachment == photo
    assert stored.created_at == clock()
    rows = await outbox(db, broadcast.id)
    assert len(rows) == 6
    assert {net.name_of(r["person_id"]) for r in rows} == ALL_VOLUNTEERS
    assert {(r["state"], r["attempts"], r["parts_sent"], r["task_id"]) for r in rows} == {
        ("pending", 0, 0, 0)
    }
    due = await services.broadcasts.due(100)
    chats = {r["id"]: (await store.people.get(r["person_id"])).telegram_user_id for r in rows}
    assert sorted(due) == sorted(chats.items())
    assert await services.broadcasts.due(2) == due[:2]
    audit = await db.fetch_one(
        "SELECT actor_id, detail FROM audit_log WHERE action = 'broadcast_message'"
    )
    assert (audit["actor_id"], audit["detail"]) == (net.boss.id, "volunteers:6")
    [running] = await services.broadcasts.running()
    assert running.broadcast.id == broadcast.id and running.tally[RowState.PENDING] == 6


async def test_a_row_goes_pending_sending_sent_and_is_reported_once(services, net, db, store):
    broadcast, _ = await services.broadcasts.send_message(net.boss, CALLERS, "Hei", None)
    [(row_id, chat_id)] = await services.broadcasts.due(10)
    assert chat_id == net.cally.telegram_user_id

    delivery = await services.broadcasts.begin(row_id)
    assert delivery is not None
    assert delivery.person.id == net.cally.id
    assert delivery.author_name == "Kaisa"
    assert delivery.broadcast.text == "Hei"
    assert delivery.task is None
    assert (await store.broadcasts.row(row_id)).state is RowState.SENDING
    assert await services.broadcasts.begin(row_id) is None  # in flight: never twice
    assert await services.broadcasts.due(10) == []
    assert await services.broadcasts.reports() == []  # still in flight

    await services.broadcasts.part_sent(delivery, 0, last=False, chat_id=chat_id, message_id=7)
    row = await store.broadcasts.row(row_id)
    assert (row.state, row.parts_sent) == (RowState.SENDING, 1)
    await services.broadcasts.part_sent(delivery, 1, last=True, chat_id=chat_id, message_id=8)
    row = await store.broadcasts.row(row_id)
    assert (row.state, row.parts_sent) == (RowState.SENT, 2)
    assert await services.broadcasts.begin(row_id) is None

    [report] = await services.broadcasts.reports()
    assert report.broadcast.id == broadcast.id
    assert report.broadcast.state is BroadcastState.FINISHED
    assert report.broadcast.reported_at is not None
    assert report.author.id == net.boss.id
    assert (report.tally.total, report.tally[RowState.SENT]) == (1, 1)
    assert report.blocked == report.failed == report.uncertain == []
    assert await services.broadcasts.reports() == []
    assert await services.broadcasts.reports() == []
    assert await services.broadcasts.running() == []
    [recent] = await services.broadcasts.recent(net.boss)
    assert recent.broadcast.state is BroadcastState.FINISHED


async def test_two_workers_beginning_one_row_send_it_once(services, net):
    await services.broadcasts.send_message(net.boss, CALLERS, "Hei", None)
    [(row_id, _)] = await services.broadcasts.due(10)
    began = await asyncio.gather(*(services.broadcasts.begin(row_id) for _ in range(5)))
    assert sum(d is not None for d in began) == 1


async def test_reports_asked_at_once_are_handed_out_once(services, net):
    for _ in range(3):
        await services.broadcasts.send_message(net.boss, CALLERS, "Hei", None)
    for row_id, _ in await services.broadcasts.due(10):
        await deliver(services, row_id)
    handed = await asyncio.gather(*(services.broadcasts.reports() for _ in range(4)))
    ids = [r.broadcast.id for reports in handed for r in reports]
    assert len(ids) == 3 and len(set(ids)) == 3


async def test_a_throttled_row_goes_back_without_spending_an_attempt(services, net, store):
    await services.broadcasts.send_message(net.boss, CALLERS, "Hei", None)
    [(row_id, _)] = await services.broadcasts.due(10)
    for _ in range(7):  # more than the attempts: a 429 never fails a row
        delivery = await services.broadcasts.begin(row_id)
        await services.broadcasts.throttled(delivery)
        row = await store.broadcasts.row(row_id)
        assert (row.state, row.attempts) == (RowState.PENDING, 0)
        assert await services.broadcasts.due(10) == [(row_id, net.cally.telegram_user_id)]
    await deliver(services, row_id)
    assert (await store.broadcasts.row(row_id)).state is RowState.SENT


async def test_a_resumed_row_remembers_the_parts_already_sent(services, net, store):
    await services.broadcasts.send_message(net.boss, CALLERS, "Hei " * 3000, None)
    [(row_id, chat_id)] = await services.broadcasts.due(10)
    delivery = await services.broadcasts.begin(row_id)
    await services.broadcasts.part_sent(delivery, 0, last=False, chat_id=chat_id, message_id=1)
    await services.broadcasts.throttled(delivery)
    again = await services.broadcasts.begin(row_id)
    assert again.row.parts_sent == 1


async def test_faults_are_retried_later_and_fail_after_the_last_attempt(
    services, clock, net, store, db
):
    assert services.broadcasts.attempts == 5
    broadcast, _ = await services.broadcasts.send_message(net.boss, CALLERS, "Hei", None)
    [(row_id, _)] = await services.broadcasts.due(10)
    for attempt in range(1, 5):
        delivery = await services.broadcasts.begin(row_id)
        assert delivery is not None
        assert await services.broadcasts.faulted(delivery, "network") is True
        row = await store.broadcasts.row(row_id)
        wait = retry_delay(attempt)
        assert (row.state, row.attempts) == (RowState.PENDING, attempt)
        assert row.not_before == clock() + wait > clock()
        assert await services.broadcasts.due(10) == []  # not before its time
        clock.advance(seconds=wait.total_seconds() - 0.001)
        assert await services.broadcasts.due(10) == []
        clock.advance(seconds=0.001)
        assert [r for r, _ in await services.broadcasts.due(10)] == [row_id]
    delivery = await services.broadcasts.begin(row_id)
    assert await services.broadcasts.faulted(delivery, "network") is False
    row = await store.broadcasts.row(row_id)
    assert (row.state, row.attempts) == (RowState.FAILED, 5)
    assert (await outbox(db, broadcast.id))[0]["error"] == "network"
    assert await services.broadcasts.due(10) == []
    assert await services.broadcasts.begin(row_id) is None
    [report] = await services.broadcasts.reports()
    assert [p.name for p in report.failed] == ["Cally"]


async def test_blocked_marks_the_person_unreachable_and_a_later_delivery_clears_it(
    services, clock, net, store
):
    await services.broadcasts.send_message(net.boss, CALLERS, "Hei", None)
    [(row_id, _)] = await services.broadcasts.due(10)
    delivery = await services.broadcasts.begin(row_id)
    await services.broadcasts.blocked(delivery)
    assert (await store.broadcasts.row(row_id)).state is RowState.BLOCKED
    blocked_at = clock()
    assert (await store.people.get(net.cally.id)).unreachable_since == blocked_at
    assert await services.broadcasts.begin(row_id) is None
    assert await services.broadcasts.due(10) == []

    clock.advance(days=1)
    await services.broadcasts.send_message(net.boss, CALLERS, "Hei taas", None)
    [(second, _)] = await services.broadcasts.due(10)
    await deliver(services, second)
    assert (await store.people.get(net.cally.id)).unreachable_since is None


async def test_a_refusal_fails_the_row_for_good(services, net, store):
    await services.broadcasts.send_message(net.boss, CALLERS, "Hei", None)
    [(row_id, _)] = await services.broadcasts.due(10)
    await services.broadcasts.failed(await services.broadcasts.begin(row_id), "bad_request")
    row = await store.broadcasts.row(row_id)
    assert (row.state, row.attempts) == (RowState.FAILED, 0)
    assert await services.broadcasts.due(10) == []


async def test_recover_turns_rows_in_flight_uncertain_and_never_resends_them(
    services, net, store, db
):
    broadcast, _ = await services.broadcasts.send_message(net.boss, VOLUNTEERS, "Hei", None)
    due = await services.broadcasts.due(10)
    first, second = due[0][0], due[1][0]
    await services.broadcasts.begin(first)
    await services.broadcasts.begin(second)
    assert await services.broadcasts.recover() == 2
    assert await services.broadcasts.recover() == 0
    for row_id in (first, second):
        assert (await store.broadcasts.row(row_id)).state is RowState.UNCERTAIN
        assert await services.broadcasts.begin(row_id) is None
    assert {r for r, _ in await services.broadcasts.due(10)} == {r for r, _ in due[2:]}
    rows = {r["id"]: r for r in await outbox(db, broadcast.id)}
    assert rows[first]["error"] == "stopped"


async def test_a_skipped_row_for_someone_who_left(services, net, store):
    await services.broadcasts.send_message(net.boss, CALLERS, "Hei", None)
    [(row_id, _)] = await services.broadcasts.due(10)
    await services.people.deactivate(net.boss, net.cally.id)
    assert await services.broadcasts.begin(row_id) is None
    assert (await store.broadcasts.row(row_id)).state is RowState.SKIPPED
    [report] = await services.broadcasts.reports()
    assert report.tally[RowState.SKIPPED] == 1


async def test_the_report_names_who_could_not_be_reached(services, clock, net, db):
    broadcast, _ = await services.broadcasts.send_message(net.boss, VOLUNTEERS, "Hei", None)
    row = {name: await row_of(db, broadcast.id, getattr(net, name).id) for name in (
        "aino", "bertil", "cecilia", "daniel", "fredrik", "gustav"
    )}  # fmt: skip
    bs = services.broadcasts
    await deliver(services, row["aino"])
    await bs.blocked(await bs.begin(row["bertil"]))
    await bs.failed(await bs.begin(row["cecilia"]), "bad_request")
    await bs.uncertain(await bs.begin(row["daniel"]), "timeout")
    for _ in range(bs.attempts):
        await bs.faulted(await bs.begin(row["fredrik"]), "network")
        clock.advance(minutes=5)
    await bs.begin(row["gustav"])
    assert await bs.reports() == []  # Gustav's row is still in flight
    assert await bs.recover() == 1

    [report] = await bs.reports()
    assert [p.name for p in report.blocked] == ["Bertil"]
    assert [p.name for p in report.failed] == ["Cecilia", "Fredrik"]
    assert [p.name for p in report.uncertain] == ["Daniel", "Gustav"]
    tally = report.tally
    assert (tally.total, tally.open, tally.done) == (6, 0, 6)
    assert [tally[s] for s in (RowState.SENT, RowState.BLOCKED, RowState.FAILED)] == [1, 1, 2]
    assert tally[RowState.UNCERTAIN] == 2
    assert report.broadcast.state is BroadcastState.FINISHED
    assert report.broadcast.stop_reason is None
    assert await bs.reports() == []
    assert await bs.running() == []


async def test_cancel_stops_what_is_unsent_and_reports_once_the_flight_lands(
    services, net, db, store
):
    broadcast, _ = await services.broadcasts.send_message(net.boss, VOLUNTEERS, "Hei", None)
    due = await services.broadcasts.due(10)
    await deliver(services, due[0][0])
    in_flight = await services.broadcasts.begin(due[1][0])

    progress = await services.broadcasts.cancel(net.deputy, broadcast.id)  # any coordinator
    assert progress.broadcast.state is BroadcastState.CANCELLED
    assert progress.broadcast.stop_reason is StopReason.CANCELLED
    assert progress.broadcast.stopped_by == net.deputy.id
    assert progress.broadcast.finished_at is not None
    tally = progress.tally
    assert [tally[s] for s in (RowState.SENT, RowState.SENDING, RowState.CANCELLED)] == [1, 1, 4]
    assert await services.broadcasts.due(10) == []
    for row_id, _ in due[2:]:
        assert await services.broadcasts.begin(row_id) is None
        assert (await store.broadcasts.row(row_id)).state is RowState.CANCELLED

    for who in (net.boss, net.deputy):
        with pytest.raises(BroadcastError) as refused:
            await services.broadcasts.cancel(who, broadcast.id)
        assert refused.value.problem is BroadcastProblem.FINISHED
    with pytest.raises(BroadcastError):
        await services.broadcasts.cancel(net.boss, 9999)
    with pytest.raises(NotAllowed):
        await services.broadcasts.cancel(net.aino, broadcast.id)

    assert await services.broadcasts.reports() == []  # one request still in flight
    await services.broadcasts.part_sent(
        in_flight, 0, last=True, chat_id=in_flight.person.telegram_user_id, message_id=3
    )
    [report] = await services.broadcasts.reports()
    assert report.broadcast.state is BroadcastState.CANCELLED  # not turned into finished
    assert report.broadcast.stop_reason is StopReason.CANCELLED
    assert report.tally[RowState.SENT] == 2 and report.tally[RowState.CANCELLED] == 4
    assert await services.broadcasts.reports() == []
    assert (await services.broadcasts.progress(net.boss, broadcast.id)).tally.open == 0


async def test_a_finished_broadcast_cannot_be_cancelled(services, net):
    broadcast, _ = await services.broadcasts.send_message(net.boss, CALLERS, "Hei", None)
    [(row_id, _)] = await services.broadcasts.due(10)
    await deliver(services, row_id)
    await services.broadcasts.reports()
    with pytest.raises(BroadcastError) as refused:
        await services.broadcasts.cancel(net.boss, broadcast.id)
    assert refused.value.problem is BroadcastProblem.FINISHED


async def test_a_broadcast_whose_author_lost_the_role_ends_as_revoked(services, net, db, store):
    author = net.deputy
    await services.people.grant_role(net.boss, author.id, Role.VOLUNTEER)
    broadcast, queued = await services.broadcasts.send_message(author, EVERYONE, "Hei", None)
    assert queued == 10
    due = await services.broadcasts.due(100)
    await deliver(services, due[0][0])
    await services.people.revoke_role(net.boss, author.id, Role.COORDINATOR)

    assert await services.broadcasts.begin(due[1][0]) is None
    stopped = await store.broadcasts.get(broadcast.id)
    assert stopped.state is BroadcastState.CANCELLED
    assert stopped.stop_reason is StopReason.REVOKED
    assert stopped.stopped_by is None
    assert await services.broadcasts.due(100) == []
    assert (await store.broadcasts.tally(broadcast.id)).counts == {
        RowState.SENT: 1,
        RowState.CANCELLED: 9,
    }
    [report] = await services.broadcasts.reports()
    assert report.author.id == author.id
    assert report.broadcast.stop_reason is StopReason.REVOKED
    assert await services.broadcasts.reports() == []


async def test_recent_lists_the_latest_first(services, clock, net):
    ids = []
    for text in ("yksi", "kaksi", "kolme"):
        broadcast, _ = await services.broadcasts.send_message(net.boss, CALLERS, text, None)
        ids.append(broadcast.id)
        clock.advance(minutes=1)
    recent = await services.broadcasts.recent(net.boss, limit=2)
    assert [p.broadcast.id for p in recent] == [ids[2], ids[1]]
    assert all(p.tally[RowState.PENDING] == 1 for p in recent)
    await services.broadcasts.shown_at(ids[0], 1, 55)
    shown = (await services.broadcasts.progress(net.boss, ids[0])).broadcast
    assert (shown.progress_chat_id, shown.progress_message_id) == (1, 55)


# --- offers --------------------------------------------------------------------------------------


@pytest.fixture
async def offers(services, clock, net):
    """Open tasks in 70100, 70200 (pairs AB and HI), 00150 (pair CF) and 33100 (nobody)."""
    hanna = await join(services, Role.VOLUNTEER, 50, "Hanna")
    ilkka = await join(services, Role.VOLUNTEER, 51, "Ilkka")
    await services.pairs.set_areas(hanna, frozenset({"7"}))
    hi = await services.pairs.form(net.boss, hanna.id, ilkka.id)
    tasks = {}
    for name, postal in (("t1", "70100"), ("t2", "70200"), ("t3", "00150"), ("t4", "33100")):
        tasks[name] = await open_task(services, clock, net.boss, postal)
    return {"hanna": hanna, "ilkka": ilkka, "hi": hi, **tasks}


async def offer_rows(db, broadcast_id: int) -> set[tuple[int, int, int]]:
    return {(r["person_id"], r["task_id"], r["pair_id"]) for r in await outbox(db, broadcast_id)}


async def test_open_tasks_and_the_plan_count_pairs_people_and_the_uncovered(services, net, offers):
    t1, t2, t3, t4 = (offers[t] for t in ("t1", "t2", "t3", "t4"))
    listed = await services.broadcasts.open_tasks(net.boss)
    assert {(o.task.id, o.postal_code, o.pairs) for o in listed} == {
        (t1.id, "70100", 2),
        (t2.id, "70200", 2),
        (t3.id, "00150", 1),
        (t4.id, "33100", 0),
    }
    plan = await services.broadcasts.plan_offers(net.boss, None)
    assert {o.task.id for o in plan.tasks} == {t1.id, t2.id, t3.id}
    assert [o.task.id for o in plan.uncovered] == [t4.id]
    assert (plan.messages, plan.people) == (10, 6)

    only_t3 = await services.broadcasts.plan_offers(net.boss, frozenset({t3.id}))
    assert (only_t3.messages, only_t3.people) == (2, 2)
    t1_t2 = await services.broadcasts.plan_offers(net.boss, frozenset({t1.id, t2.id}))
    assert (t1_t2.messages, t1_t2.people) == (8, 4)
    nobody = await services.broadcasts.plan_offers(net.boss, frozenset({t4.id}))
    assert (nobody.tasks, nobody.messages, nobody.people) == ([], 0, 0)
    for chosen in (frozenset(), frozenset({9999})):
        with pytest.raises(BroadcastError) as refused:
            await services.broadcasts.plan_offers(net.boss, chosen)
        assert refused.value.problem is BroadcastProblem.NO_TASKS


async def test_send_offers_offers_covered_tasks_and_queues_a_row_per_member(
    services, net, offers, db, store
):
    t1, t2, t3, t4 = (offers[t] for t in ("t1", "t2", "t3", "t4"))
    ab, cf, hi = net.ab, net.cf, offers["hi"]
    plan = await services.broadcasts.plan_offers(net.boss, None)
    broadcast, queued = await services.broadcasts.send_offers(net.boss, None)
    assert queued == plan.messages == 10
    assert broadcast.kind is BroadcastKind.OFFERS and broadcast.audience is None

    states_now = {t: (await store.tasks.get(t.id)).state for t in (t1, t2, t3, t4)}
    assert states_now == {
        t1: TaskState.OFFERED,
        t2: TaskState.OFFERED,
        t3: TaskState.OFFERED,
        t4: TaskState.OPEN,
    }
    for task, pairs in ((t1, {ab.id, hi.id}), (t2, {ab.id, hi.id}), (t3, {cf.id})):
        assert set(await store.tasks.pending_pairs(task.id)) == pairs
    assert await store.tasks.pending_pairs(t4.id) == []

    members = {ab.id: ab.members, cf.id: cf.members, hi.id: hi.members}
    expected = {
        (m.id, task.id, pair_id)
        for task, pair_ids in ((t1, (ab.id, hi.id)), (t2, (ab.id, hi.id)), (t3, (cf.id,)))
        for pair_id in pair_ids
        for m in members[pair_id]
    }
    assert await offer_rows(db, broadcast.id) == expected
    assert {r["state"] for r in await outbox(db, broadcast.id)} == {"pending"}
    assert [o.task.id for o in await services.broadcasts.open_tasks(net.boss)] == [t4.id]

    with pytest.raises(BroadcastError) as refused:  # only the uncovered task is left
        await services.broadcasts.send_offers(net.boss, None)
    assert refused.value.problem is BroadcastProblem.NO_PAIRS
    assert await count(db, "broadcasts") == 1


async def test_an_offer_carries_the_area_and_is_remembered_once_sent(services, net, offers, db):
    t3 = offers["t3"]
    broadcast, _ = await services.broadcasts.send_offers(net.boss, frozenset({t3.id}))
    row_id = await row_of(db, broadcast.id, net.cecilia.id, t3.id)
    delivery = await services.broadcasts.begin(row_id)
    assert delivery.task.id == t3.id and delivery.postal_code == "00150"
    assert delivery.row.pair_id == net.cf.id
    await services.broadcasts.part_sent(
        delivery, 0, last=True, chat_id=net.cecilia.telegram_user_id, message_id=42
    )
    store = SqliteStore(db)
    [message] = await store.tasks.messages(t3.id)
    assert (message.person_id, message.message_id, message.kind) == (
        net.cecilia.id,
        42,
        MessageKind.OFFER,
    )


async def test_offering_only_uncovered_tasks_stores_nothing(services, net, offers, db, store):
    t4 = offers["t4"]
    with pytest.raises(BroadcastError) as refused:
        await services.broadcasts.send_offers(net.boss, frozenset({t4.id}))
    assert refused.value.problem is BroadcastProblem.NO_PAIRS
    with pytest.raises(BroadcastError) as refused:
        await services.broadcasts.send_offers(net.boss, frozenset({9999}))
    assert refused.value.problem is BroadcastProblem.NO_TASKS
    assert (await store.tasks.get(t4.id)).state is TaskState.OPEN
    assert await count(db, "broadcasts") == 0 and await count(db, "outbox") == 0


async def test_a_row_for_a_task_taken_meanwhile_is_skipped(services, net, offers, db, store):
    t1, t2 = offers["t1"], offers["t2"]
    broadcast, _ = await services.broadcasts.send_offers(net.boss, None)
    first = await row_of(db, broadcast.id, net.aino.id, t1.id)
    await deliver(services, first)
    await services.dispatch.accept(net.aino, t1.id)

    t1_rows = [r["id"] for r in await outbox(db, broadcast.id) if r["task_id"] == t1.id]
    for row_id in t1_rows:
        if row_id != first:
            assert await services.broadcasts.begin(row_id) is None
            row = await store.broadcasts.row(row_id)
            assert row.state is RowState.SKIPPED
    error = await db.fetch_value(
        "SELECT error FROM outbox WHERE broadcast_id = ? AND task_id = ? AND state = 'skipped'",
        (broadcast.id, t1.id),
    )
    assert error == "taken"
    # The other tasks still go out.
    assert await services.broadcasts.begin(await row_of(db, broadcast.id, net.aino.id, t2.id))


async def test_rows_of_a_dissolved_pair_are_skipped(services, net, offers, db, store):
    t1 = offers["t1"]
    broadcast, _ = await services.broadcasts.send_offers(net.boss, frozenset({t1.id}))
    await services.pairs.dissolve(net.boss, offers["hi"].id)
    for person in (offers["hanna"], offers["ilkka"]):
        row_id = await row_of(db, broadcast.id, person.id, t1.id)
        assert await services.broadcasts.begin(row_id) is None
        assert (await store.broadcasts.row(row_id)).state is RowState.SKIPPED
    assert await services.broadcasts.begin(await row_of(db, broadcast.id, net.aino.id, t1.id))


async def test_cancelling_leaves_a_task_taken_meanwhile_with_its_holders(
    services, net, offers, db, store
):
    t1 = offers["t1"]
    broadcast, _ = await services.broadcasts.send_offers(net.boss, frozenset({t1.id}))
    await deliver(services, await row_of(db, broadcast.id, net.bertil.id, t1.id))
    await services.dispatch.accept(net.bertil, t1.id)
    progress = await services.broadcasts.cancel(net.boss, broadcast.id)
    assert progress.tally[RowState.CANCELLED] == 3
    task = await store.tasks.get(t1.id)
    assert task.state is TaskState.ACCEPTED and task.holder.pair_id == net.ab.id


async def test_a_row_for_a_pair_that_declined_is_skipped(services, net, offers, db, store):
    t3 = offers["t3"]
    broadcast, _ = await services.broadcasts.send_offers(net.boss, None)
    await deliver(services, await row_of(db, broadcast.id, net.cecilia.id, t3.id))
    await services.dispatch.decline(net.cecilia, t3.id)
    fredrik_row = await row_of(db, broadcast.id, net.fredrik.id, t3.id)
    assert await services.broadcasts.begin(fredrik_row) is None
    assert (await store.broadcasts.row(fredrik_row)).state is RowState.SKIPPED
    assert (await store.tasks.get(t3.id)).state is TaskState.OPEN


async def test_cancelling_offers_withdraws_what_nobody_received(services, net, offers, db, store):
    t1, t2, t3, t4 = (offers[t] for t in ("t1", "t2", "t3", "t4"))
    ab, cf, hi = net.ab, net.cf, offers["hi"]
    broadcast, _ = await services.broadcasts.send_offers(net.boss, None)
    await deliver(services, await row_of(db, broadcast.id, net.aino.id, t2.id))  # AB has T2
    in_flight = await services.broadcasts.begin(
        await row_of(db, broadcast.id, net.cecilia.id, t3.id)
    )  # CF may have T3

    progress = await services.broadcasts.cancel(net.boss, broadcast.id)
    assert progress.broadcast.state is BroadcastState.CANCELLED
    assert progress.tally[RowState.CANCELLED] == 8

    status = store.tasks.offer_status
    assert await status(t1.id, ab.id) == "withdrawn"
    assert await status(t1.id, hi.id) == "withdrawn"
    assert await status(t2.id, ab.id) == "pending"  # Aino received it: kept
    assert await status(t2.id, hi.id) == "withdrawn"
    assert await status(t3.id, cf.id) == "pending"  # on its way when cancelled: kept
    task_states = [(await store.tasks.get(t.id)).state for t in (t1, t2, t3, t4)]
    assert task_states == [TaskState.OPEN, TaskState.OFFERED, TaskState.OFFERED, TaskState.OPEN]

    # Bertil may still take T2 (his partner received it); Hanna may not.
    with pytest.raises(NotYourTask):
        await services.dispatch.accept(offers["hanna"], t2.id)
    accepted = await services.dispatch.accept(net.bertil, t2.id)
    assert {p.id for p in accepted.holders} == {net.aino.id, net.bertil.id}

    await services.broadcasts.part_sent(
        in_flight, 0, last=True, chat_id=net.cecilia.telegram_user_id, message_id=9
    )
    [report] = await services.broadcasts.reports()
    assert report.broadcast.kind is BroadcastKind.OFFERS
    assert (report.tally[RowState.SENT], report.tally[RowState.CANCELLED]) == (2, 8)
    assert await services.broadcasts.reports() == []
    # T1 is open again and can be offered anew.
    again, queued = await services.broadcasts.send_offers(net.boss, frozenset({t1.id}))
    assert queued == 4
    assert await status(t1.id, ab.id) == "pending"
    assert await services.broadcasts.begin(await row_of(db, again.id, net.aino.id, t1.id))


async def test_an_offers_broadcast_whose_author_lost_the_role_returns_the_tasks(
    services, net, offers, db, store
):
    author = net.deputy
    await services.people.grant_role(net.boss, author.id, Role.VOLUNTEER)
    broadcast, _ = await services.broadcasts.send_offers(author, None)
    await services.people.revoke_role(net.boss, author.id, Role.COORDINATOR)
    [(row_id, _), *_] = await services.broadcasts.due(100)
    assert await services.broadcasts.begin(row_id) is None
    stopped = await store.broadcasts.get(broadcast.id)
    assert (stopped.state, stopped.stop_reason) == (BroadcastState.CANCELLED, StopReason.REVOKED)
    for name in ("t1", "t2", "t3", "t4"):
        task = await store.tasks.get(offers[name].id)
        assert task.state is TaskState.OPEN
        assert await store.tasks.pending_pairs(task.id) == []


# --- DispatchService.withdraw_within and Offered.pairs -------------------------------------------


async def test_offer_names_the_pairs_and_withdraw_within_returns_the_last(
    services, net, offers, store
):
    t1 = offers["t1"]
    ab, hi = net.ab, offers["hi"]
    offered = await services.dispatch.offer(net.boss, t1.id)
    assert {p.id for p in offered.pairs} == {ab.id, hi.id}
    assert {p.id for p in offered.recipients} == {m.id for p in offered.pairs for m in p.members}

    async with store.transaction():
        assert await services.dispatch.withdraw_within(t1.id, {hi.id}, net.boss.id) is False
    assert (await store.tasks.get(t1.id)).state is TaskState.OFFERED
    assert await store.tasks.offer_status(t1.id, hi.id) == "withdrawn"
    async with store.transaction():
        assert await services.dispatch.withdraw_within(t1.id, {hi.id}, None) is False  # again
        assert await services.dispatch.withdraw_within(t1.id, {ab.id, 9999}, None) is True
    assert (await store.tasks.get(t1.id)).state is TaskState.OPEN
    async with store.transaction():  # not offered any more: nothing to withdraw
        assert await services.dispatch.withdraw_within(t1.id, {ab.id}, None) is False
    view = await services.dispatch.view(net.boss, t1.id)
    assert view.events[-1].action is Action.RETURN


async def test_an_offer_with_nobody_new_to_ask_names_no_pairs(services, net, offers):
    t3 = offers["t3"]
    await services.dispatch.offer(net.boss, t3.id)
    again = await services.dispatch.offer(net.boss, t3.id)
    assert again.pairs == [] and again.recipients == []


# --- findings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["throttled", "faulted"])
async def test_an_offer_in_flight_at_cancel_that_never_arrived_is_withdrawn(
    services, net, offers, db, store, outcome
):
    t3 = offers["t3"]
    broadcast, _ = await services.broadcasts.send_offers(net.boss, frozenset({t3.id}))
    cecilia_row = await row_of(db, broadcast.id, net.cecilia.id, t3.id)
    in_flight = await services.broadcasts.begin(cecilia_row)
    await services.broadcasts.cancel(net.boss, broadcast.id)
    if outcome == "throttled":
        await services.broadcasts.throttled(in_flight)
    else:
        await services.broadcasts.faulted(in_flight, "network")
    assert await services.broadcasts.begin(cecilia_row) is None  # never sent
    assert (await store.broadcasts.tally(broadcast.id))[RowState.SENT] == 0
    assert await store.tasks.offer_status(t3.id, net.cf.id) == "withdrawn"
    assert (await store.tasks.get(t3.id)).state is TaskState.OPEN
