"""Broadcast offers end to end: a coordinator sends the open tasks as offers through /broadcast.

Aino (Finnish) works only through what she reads and presses; volunteers Bertil (sv) & Cecilia and
Daniel (en) & Eeva answer the offers in their languages. Each offer goes to the members of every
available pair covering the task's area, carries no personal data of the resident, and the first
pair to accept gets the task, exactly as single offers do. Stored tasks are checked through the
services. Delivery is slowed (a low per-chat rate) where a test needs offers still queued.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.domain.broadcasts import BroadcastProblem
from bot.domain.residents import ResidentInput
from bot.domain.tasks import Holder, Priority, TaskKind, TaskState
from bot.domain.windows import TimeWindow
from bot.i18n import translators
from handlers.callback_data import BroadcastAction, BroadcastStep, TaskAction
from handlers.render import broadcast_problem_text
from tests.e2e.forms_helpers import shown
from tests.e2e.teams import SECRETS, VOLUNTEERS

fi, sv, en = translators()["fi"], translators()["sv"], translators()["en"]

AINO = 1001
BERTIL, CECILIA, DANIEL, EEVA = VOLUNTEERS
LANGUAGE = {BERTIL: sv, CECILIA: fi, DANIEL: en, EEVA: fi}
PAIR_BC = (BERTIL, CECILIA)
PAIR_DE = (DANIEL, EEVA)

TAMPERE = ResidentInput(
    name="Sulo Toivonen",
    phone="+358409998877",
    street_address="Hämeenkatu 3 A 1",
    postal_code="33100",
    municipality="Tampere",
    birth_year=1938,
    language="fi",
)
FAR_AWAY = ResidentInput(
    name="Aili Kaukonen",
    phone="+358405556677",
    street_address="Revontulentie 9",
    postal_code="99100",
    municipality="Kittilä",
    birth_year=1944,
    language="fi",
)
ALL_SECRETS = (
    *SECRETS,
    "Sulo",
    "Toivonen",
    "Hämeenkatu",
    "409998877",
    "Aili",
    "Kaukonen",
    "Revontulentie",
    "405556677",
)


@pytest.fixture
def chat_rate() -> float:
    """Broadcast sends a second into one private chat; a test parametrizes it to slow delivery."""
    return 30.0


@pytest.fixture
def settings(settings, chat_rate):
    return settings.model_copy(update={"chat_messages_per_second": chat_rate})


# --- helpers ----------------------------------------------------------------------------------


def text(tr, msgid: str, **values) -> str:
    """A catalog message as the fake Telegram shows it (HTML tags gone)."""
    return shown(tr.gettext(msgid, **values))


def problem(tr, which: BroadcastProblem) -> str:
    return shown(broadcast_problem_text(tr, which))


async def add_resident(team, data: ResidentInput):
    return (await team.services.residents.save(team.coordinator, data)).resident


async def task_for(team, resident, *, start_in: float = 2):
    now = team.bot.clock()
    window = TimeWindow(
        start=now + timedelta(hours=start_in), end=now + timedelta(hours=start_in + 3)
    )
    return await team.services.dispatch.create(
        team.coordinator,
        resident_id=resident.id,
        kind=TaskKind.HOME_VISIT,
        window=window,
        priority=Priority.NORMAL,
        details="Kauppakassi",
    )


async def set_areas(team, bertil: str | None = "33", daniel: str | None = "70") -> None:
    """Bertil's pair covers `bertil`, Daniel's pair `daniel` (a pair covers its members' union)."""
    for user, areas in ((team.bertil, bertil), (team.daniel, daniel)):
        if areas is not None:
            reply = await user.ask(f"/areas {areas}")
            tr = LANGUAGE[user.user_id]
            assert tr.plain("Your areas: {areas}", areas=areas) in reply.text


def offers_to(telegram, user_id: int) -> dict[int, list]:
    """The offers the chat received, by task id (each message as it reads now)."""
    head = text(LANGUAGE[user_id], "<b>New task on offer</b>")
    found: dict[int, list] = {}
    for message in telegram.messages(user_id):
        first = message.history[0] if message.history else message.text
        if first.startswith(head):
            match = re.search(r"#(\d+) ", first)
            assert match, first
            found.setdefault(int(match.group(1)), []).append(message)
    return found


def offer_count(telegram) -> int:
    return sum(len(m) for uid in VOLUNTEERS for m in offers_to(telegram, uid).values())


def volunteer_texts(telegram, chats=VOLUNTEERS) -> list[str]:
    """Every text the bot sent or edited into the chats, and every callback alert."""
    texts = []
    for request in telegram.requests:
        chat = request.params.get("chat_id")
        if request.method in {"sendMessage", "editMessageText"} and chat in chats:
            texts.append(str(request.params.get("text", "")))
        if request.method == "answerCallbackQuery":
            texts.append(str(request.params.get("text", "")))
    return texts


def assert_no_secrets(texts) -> None:
    for item in texts:
        for secret in ALL_SECRETS:
            assert secret not in item, f"{secret!r} leaked in {item!r}"


async def state_of(team, task_id: int) -> TaskState:
    return (await team.services.dispatch.view(team.coordinator, task_id)).task.state


async def pair_id_of(team, person: str) -> int:
    for pair in await team.services.pairs.current(team.coordinator):
        if team.people[person].id in {m.id for m in pair.members}:
            return pair.id
    raise AssertionError(f"{person} has no pair")


async def task_list(team, telegram):
    """/broadcast, then "Open tasks as offers": return the list of open tasks."""
    menu = await team.aino.ask("/broadcast")
    assert menu.buttons == [
        [fi.plain("📣 A message")],
        [fi.plain("📋 Open tasks as offers")],
        [fi.plain("Cancel")],
    ]
    await team.aino.click_and_wait(menu, fi.plain("📋 Open tasks as offers"))
    return telegram.current(menu)


async def plan_all(team, telegram):
    listing = await task_list(team, telegram)
    await team.aino.click_and_wait(listing, fi.plain("Offer all open tasks"))
    return telegram.current(listing)


async def send(team, telegram, plan, offers: int):
    """Press "Send {offers} offers"; return the progress message (the plan, edited)."""
    label = fi.plain("✅ Send {n} offers", n=offers)
    assert [label] in plan.buttons, plan.buttons
    await team.aino.click_and_wait(plan, label)
    progress = telegram.current(plan)
    return progress, broadcast_id_of(progress)


def broadcast_id_of(progress) -> int:
    data = progress.button_data[fi.plain("⏹ Stop sending")]
    return BroadcastAction.parse(data).broadcast_id


def report_of(telegram, broadcast_id: int):
    head = text(fi, "<b>Broadcast #{id} report</b>", id=broadcast_id)
    found = [m for m in telegram.messages(AINO) if m.text.startswith(head)]
    assert len(found) <= 1, [m.text for m in found]
    return found[0] if found else None


async def wait_for_report(telegram, broadcast_id: int, timeout: float = 15):  # noqa: ASYNC109
    await telegram.wait_for(
        lambda: report_of(telegram, broadcast_id), timeout, what="the broadcast report"
    )
    await telegram.settle()
    return report_of(telegram, broadcast_id)


async def answer_of(user, message, data: str) -> dict:
    """Press a button with this callback data; wait for the answer and quiet; return it."""
    telegram = user.server
    query = await user.press_data(message, data)
    await telegram.wait_for(lambda: query in telegram.callback_answers, what=f"answer to {data}")
    await telegram.settle()
    return telegram.callback_answers[query]


# --- 1: offer all open tasks ------------------------------------------------------------------


async def test_offer_all_sends_each_pair_exactly_the_tasks_in_its_area(team, telegram):
    await set_areas(team)
    tampere = await add_resident(team, TAMPERE)
    first = await team.task()
    second = await team.task(start_in=5)
    third = await task_for(team, tampere, start_in=3)

    listing = await task_list(team, telegram)
    assert text(fi, "<b>Open tasks: {n}.</b> Offer them all, or choose some.", n=3) in (
        listing.text
    )
    toggles = [row[0] for row in listing.buttons[:3]]
    assert all(label.startswith("▫️ #") for label in toggles), toggles
    assert {int(re.match(r"▫️ #(\d+) ", t).group(1)) for t in toggles} == {
        first.id,
        second.id,
        third.id,
    }
    assert any("33100" in t for t in toggles) and any("70100" in t for t in toggles)
    assert_no_secrets(listing.text.splitlines() + toggles)

    await team.aino.click_and_wait(listing, fi.plain("Offer all open tasks"))
    plan = telegram.current(listing)
    assert text(fi, "<b>Offer open tasks</b>") in plan.text
    assert (
        text(
            fi,
            "{tasks} tasks to {people} people in the available pairs covering their areas "
            "({messages} offers).",
            tasks="3",
            people="4",
            messages="6",
        )
        in plan.text
    )
    uncovered_head = text(fi, "No available pair covers these, so they stay open: {ids}", ids="")
    assert uncovered_head.strip() not in plan.text
    assert plan.buttons == [
        [fi.plain("✅ Send {n} offers", n="6")],
        [fi.plain("« Back"), fi.plain("Cancel")],
    ]

    progress, broadcast_id = await send(team, telegram, plan, 6)
    report = await wait_for_report(telegram, broadcast_id)
    assert text(fi, "Task offers.") in report.text
    assert text(fi, "Delivered: {sent} of {total}", sent="6", total="6") in report.text
    assert telegram.current(progress).text == text(
        fi, "✅ Done. {sent} of {total} delivered.", sent="6", total="6"
    )
    assert telegram.current(progress).buttons == []

    expected = {
        BERTIL: {third.id},
        CECILIA: {third.id},
        DANIEL: {first.id, second.id},
        EEVA: {first.id, second.id},
    }
    for uid, task_ids in expected.items():
        got = offers_to(telegram, uid)
        assert set(got) == task_ids, (uid, got)
        tr = LANGUAGE[uid]
        for task_id, messages in got.items():
            assert len(messages) == 1, (uid, task_id)  # one message per task
            offer = messages[0]
            assert offer.buttons == [[tr.plain("Accept"), tr.plain("Decline")]]
            postal = "33100" if task_id == third.id else "70100"
            assert f"#{task_id} " in offer.text and postal in offer.text
    assert_no_secrets(volunteer_texts(telegram))  # nothing personal before an accept
    for task in (first, second, third):
        assert await state_of(team, task.id) is TaskState.OFFERED
    task_view = await team.aino.ask(f"/task {third.id}")
    assert text(fi, "State: {state}", state=fi.plain("offered")) in task_view.text


# --- 2: uncovered tasks -----------------------------------------------------------------------


async def test_an_uncovered_task_is_named_in_the_plan_and_stays_open(team, telegram):
    await set_areas(team)
    far = await add_resident(team, FAR_AWAY)
    covered = await team.task()
    uncovered = await task_for(team, far)

    plan = await plan_all(team, telegram)
    assert (
        text(
            fi,
            "{tasks} tasks to {people} people in the available pairs covering their areas "
            "({messages} offers).",
            tasks="1",
            people="2",
            messages="2",
        )
        in plan.text
    )
    assert (
        text(
            fi,
            "No available pair covers these, so they stay open: {ids}",
            ids=f"#{uncovered.id}",
        )
        in plan.text
    )
    _, broadcast_id = await send(team, telegram, plan, 2)
    report = await wait_for_report(telegram, broadcast_id)
    assert text(fi, "Delivered: {sent} of {total}", sent="2", total="2") in report.text

    for uid in PAIR_DE:
        assert set(offers_to(telegram, uid)) == {covered.id}
    for uid in PAIR_BC:
        assert offers_to(telegram, uid) == {}
    assert await state_of(team, covered.id) is TaskState.OFFERED
    assert await state_of(team, uncovered.id) is TaskState.OPEN
    assert_no_secrets(volunteer_texts(telegram))


async def test_only_uncovered_tasks_say_no_pairs_and_send_nothing(team, telegram):
    await set_areas(team)
    far = await add_resident(team, FAR_AWAY)
    uncovered = await task_for(team, far)
    before = {uid: telegram.message_count(uid) for uid in VOLUNTEERS}

    plan = await plan_all(team, telegram)
    assert problem(fi, BroadcastProblem.NO_PAIRS) in plan.text
    assert (
        text(
            fi,
            "No available pair covers these, so they stay open: {ids}",
            ids=f"#{uncovered.id}",
        )
        in plan.text
    )
    await telegram.settle()
    assert {uid: telegram.message_count(uid) for uid in VOLUNTEERS} == before
    assert await state_of(team, uncovered.id) is TaskState.OPEN
    listing = await team.aino.ask("/broadcasts")
    assert listing.text == text(fi, "No broadcasts yet. /broadcast sends one.")


SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on my side. Nothing you saved was lost — please try again."
)


async def test_send_with_only_uncovered_tasks_is_refused_with_the_reason(team, telegram):
    await set_areas(team)
    far = await add_resident(team, FAR_AWAY)
    uncovered = await task_for(team, far)
    before = {uid: telegram.message_count(uid) for uid in VOLUNTEERS}
    plan = await plan_all(team, telegram)
    label = fi.plain("✅ Send {n} offers", n="0")
    assert [label] in plan.buttons, plan.buttons
    answer = await answer_of(team.aino, plan, plan.button_data[label])
    assert {uid: telegram.message_count(uid) for uid in VOLUNTEERS} == before
    assert await state_of(team, uncovered.id) is TaskState.OPEN
    assert fi.plain(SOMETHING_WENT_WRONG) not in [m.text for m in telegram.messages(AINO)]
    assert answer.get("show_alert")
    assert answer.get("text") == problem(fi, BroadcastProblem.NO_PAIRS)


async def test_offer_all_after_the_tasks_were_taken_says_there_are_none(team, telegram):
    task = await team.task()
    listing = await task_list(team, telegram)
    await team.services.dispatch.assign(
        team.coordinator, task.id, Holder(pair_id=await pair_id_of(team, "bertil"))
    )
    answer = await answer_of(
        team.aino, listing, listing.button_data[fi.plain("Offer all open tasks")]
    )
    assert offer_count(telegram) == 0
    assert fi.plain(SOMETHING_WENT_WRONG) not in [m.text for m in telegram.messages(AINO)]
    assert answer.get("show_alert")
    assert answer.get("text") == problem(fi, BroadcastProblem.NO_TASKS)


# --- 3: first accept wins, decline ------------------------------------------------------------


async def test_first_accept_wins_and_the_other_offers_are_taken(team, telegram):
    taken = await team.task()
    declined = await team.task(start_in=6)
    plan = await plan_all(team, telegram)
    _, broadcast_id = await send(team, telegram, plan, 8)
    await wait_for_report(telegram, broadcast_id)
    offers = {uid: offers_to(telegram, uid) for uid in VOLUNTEERS}
    for uid in VOLUNTEERS:
        assert set(offers[uid]) == {taken.id, declined.id}
    assert_no_secrets(volunteer_texts(telegram))

    # Daniel accepts: he and Eeva get the card with the resident; the other pair's offers are taken.
    card = await team.daniel.click_and_wait(offers[DANIEL][taken.id][0], en.plain("Accept"))
    assert card is not None and "Hilkka Testinen" in card.text and "Kuusitie 7 B 12" in card.text
    eeva_card = telegram.current(offers[EEVA][taken.id][0])
    assert "Hilkka Testinen" in eeva_card.text
    for uid in PAIR_BC:
        stale = telegram.current(offers[uid][taken.id][0])
        assert stale.buttons == []
        assert text(LANGUAGE[uid], "Another pair took this task. Thank you!") in stale.text
    stored = await team.services.dispatch.view(team.coordinator, taken.id)
    assert stored.task.state is TaskState.ACCEPTED
    assert stored.task.holder.pair_id == await pair_id_of(team, "daniel")

    # Eeva presses Accept too (a partner's double tap): fine, nothing changes.
    again = await answer_of(team.eeva, eeva_card, TaskAction(taken.id, "accept").pack())
    assert not again.get("show_alert"), again
    assert again.get("text") == fi.plain("Your pair has this task already.")
    stored = await team.services.dispatch.view(team.coordinator, taken.id)
    assert [e.action.value for e in stored.events].count("accept") == 1
    assert len([m for m in telegram.messages(EEVA) if "Hilkka Testinen" in m.text]) == 1

    # Bertil presses Accept on his stale offer: refused, and he never sees the resident.
    late = await answer_of(
        team.bertil, offers[BERTIL][taken.id][0], TaskAction(taken.id, "accept").pack()
    )
    assert late.get("show_alert")
    assert late.get("text") == sv.plain(
        "That is no longer possible: the task was taken, cancelled or finished meanwhile."
    )
    assert (await team.services.dispatch.view(team.coordinator, taken.id)).task.holder.pair_id == (
        await pair_id_of(team, "daniel")
    )
    assert_no_secrets(volunteer_texts(telegram, PAIR_BC))

    # The other task: both pairs decline; it is open again and the coordinator is told.
    await team.bertil.click_and_wait(offers[BERTIL][declined.id][0], sv.plain("Decline"))
    assert text(sv, "Your pair declined this task.") in (
        telegram.current(offers[BERTIL][declined.id][0]).text
    )
    assert telegram.current(offers[CECILIA][declined.id][0]).buttons == []
    assert await state_of(team, declined.id) is TaskState.OFFERED
    await team.eeva.click_and_wait(offers[EEVA][declined.id][0], fi.plain("Decline"))
    await telegram.settle()
    assert await state_of(team, declined.id) is TaskState.OPEN
    assert telegram.current(offers[DANIEL][declined.id][0]).buttons == []
    told = [m.text for m in telegram.messages(AINO)]
    assert (
        text(
            fi,
            "Every pair declined task #{number}; it is open again. "
            "/task {number} to assign it by hand.",
            number=declined.id,
        )
        in told
    )
    assert_no_secrets(volunteer_texts(telegram, PAIR_BC))


# --- 4: chosen tasks --------------------------------------------------------------------------


async def test_offer_only_the_chosen_task(team, telegram):
    tasks = [await team.task(start_in=2 + i) for i in range(3)]
    chosen, other = tasks[1], tasks[2]
    listing = await task_list(team, telegram)
    assert [fi.plain("Offer all open tasks")] in listing.buttons
    assert not any(fi.plain("Offer the {n} chosen", n=1) in row for row in listing.buttons)

    def toggle(message, task) -> str:
        (label,) = [row[0] for row in message.buttons if re.match(rf"(▫️|✅) #{task.id} ", row[0])]
        return label

    await team.aino.click_and_wait(listing, toggle(listing, chosen))
    await team.aino.click_and_wait(listing, toggle(telegram.current(listing), other))
    await team.aino.click_and_wait(listing, toggle(telegram.current(listing), other))
    listing = telegram.current(listing)
    assert toggle(listing, chosen).startswith("✅ ")
    assert toggle(listing, other).startswith("▫️ ")
    assert toggle(listing, tasks[0]).startswith("▫️ ")
    assert [fi.plain("Offer the {n} chosen", n=1)] in listing.buttons

    await team.aino.click_and_wait(listing, fi.plain("Offer the {n} chosen", n=1))
    plan = telegram.current(listing)
    assert (
        text(
            fi,
            "{tasks} tasks to {people} people in the available pairs covering their areas "
            "({messages} offers).",
            tasks="1",
            people="4",
            messages="4",
        )
        in plan.text
    )
    _, broadcast_id = await send(team, telegram, plan, 4)
    report = await wait_for_report(telegram, broadcast_id)
    assert text(fi, "Delivered: {sent} of {total}", sent="4", total="4") in report.text
    for uid in VOLUNTEERS:
        got = offers_to(telegram, uid)
        assert set(got) == {chosen.id} and len(got[chosen.id]) == 1
    assert await state_of(team, chosen.id) is TaskState.OFFERED
    for task in (tasks[0], other):
        assert await state_of(team, task.id) is TaskState.OPEN


# --- 5: nothing open ----------------------------------------------------------------------------


async def test_no_open_tasks_says_so_and_ends_the_form(team, telegram):
    menu = await team.aino.ask("/broadcast")
    await team.aino.click_and_wait(menu, fi.plain("📋 Open tasks as offers"))
    answer = telegram.current(menu)
    assert answer.text == problem(fi, BroadcastProblem.NO_TASKS)
    assert answer.buttons == []
    # The form is over: an old button of it says so and does nothing.
    late = await answer_of(team.aino, menu, BroadcastStep("tasks_all").pack())
    assert late.get("show_alert")
    assert late.get("text") == fi.plain("This form is closed. Send /broadcast to start again.")
    assert telegram.current(menu).text == answer.text
    listing = await team.aino.ask("/broadcasts")
    assert listing.text == text(fi, "No broadcasts yet. /broadcast sends one.")


# --- 6: Stop while offers are queued ------------------------------------------------------------


@pytest.mark.parametrize("chat_rate", [0.25])
async def test_stop_withdraws_the_offers_not_sent_and_keeps_those_sent(team, telegram):
    tasks = [await team.task(start_in=2 + i) for i in range(5)]
    plan = await plan_all(team, telegram)
    progress, broadcast_id = await send(team, telegram, plan, 20)
    # Each chat's bucket lets the first offers through; the later ones wait seconds each.
    await telegram.wait_for(
        lambda: all(len(offers_to(telegram, uid)) >= 2 for uid in VOLUNTEERS),
        5,
        what="the first offers",
    )
    query = await team.aino.press(progress, fi.plain("⏹ Stop sending"))
    await telegram.wait_for(lambda: query in telegram.callback_answers, what="the Stop answer")
    assert telegram.callback_answers[query].get("text") == fi.plain(
        "Stopped. Nothing more will be sent."
    )
    report = await wait_for_report(telegram, broadcast_id)
    await telegram.settle(quiet=1.5)
    sent = offer_count(telegram)
    assert 8 <= sent < 20

    stopped = text(
        fi,
        "⏹ Stopped. {sent} of {total} were delivered; the rest were not sent.",
        sent=str(sent),
        total="20",
    )
    assert telegram.current(progress).text == stopped
    assert telegram.current(progress).buttons == []
    assert text(fi, "It was stopped before the end.") in report.text
    assert text(fi, "Delivered: {sent} of {total}", sent=str(sent), total="20") in report.text
    assert text(fi, "Not sent (stopped): {n}", n=str(20 - sent)) in report.text

    # Nothing more arrives once stopped.
    await telegram.settle(quiet=1.5)
    assert offer_count(telegram) == sent

    reached = {
        task.id: {uid for uid in VOLUNTEERS if task.id in offers_to(telegram, uid)}
        for task in tasks
    }
    assert reached[tasks[0].id] == set(VOLUNTEERS)
    assert reached[tasks[-1].id] == set()
    for task in tasks:
        expected = TaskState.OFFERED if reached[task.id] else TaskState.OPEN
        assert await state_of(team, task.id) is expected, (task.id, reached[task.id])

    # A task nobody heard of is open with no offer pending: a single offer reaches both pairs.
    again = await team.offer(tasks[-1].id)
    assert set(again) == set(VOLUNTEERS)
    for uid, message in again.items():
        assert message.buttons == [[LANGUAGE[uid].plain("Accept"), LANGUAGE[uid].plain("Decline")]]
    # A task whose offers went out can still be accepted.
    card = await team.cecilia.click_and_wait(
        offers_to(telegram, CECILIA)[tasks[0].id][0], fi.plain("Accept")
    )
    assert card is not None and "Hilkka Testinen" in card.text
    assert await state_of(team, tasks[0].id) is TaskState.ACCEPTED


# --- 7: a task taken before its offers leave ----------------------------------------------------


@pytest.mark.parametrize("chat_rate", [0.5])
async def test_a_task_assigned_before_its_offers_leave_is_skipped(team, telegram):
    tasks = [await team.task(start_in=2 + i) for i in range(4)]
    last = tasks[-1]
    plan = await plan_all(team, telegram)
    _, broadcast_id = await send(team, telegram, plan, 16)
    # The fourth offer into a chat waits for the chat's bucket (at most three go at once).
    assert all(last.id not in offers_to(telegram, uid) for uid in VOLUNTEERS)
    await team.services.dispatch.assign(
        team.coordinator, last.id, Holder(pair_id=await pair_id_of(team, "bertil"))
    )

    report = await wait_for_report(telegram, broadcast_id)
    assert text(fi, "Delivered: {sent} of {total}", sent="12", total="16") in report.text
    assert text(fi, "Not needed any more (task taken, person left): {n}", n="4") in report.text
    assert text(fi, "It was stopped before the end.") not in report.text
    for uid in VOLUNTEERS:
        got = offers_to(telegram, uid)
        assert set(got) == {t.id for t in tasks[:3]}, (uid, set(got))
    stored = await team.services.dispatch.view(team.coordinator, last.id)
    assert stored.task.state is TaskState.ACCEPTED
    assert stored.task.holder.pair_id == await pair_id_of(team, "bertil")
    for task in tasks[:3]:
        assert await state_of(team, task.id) is TaskState.OFFERED


# --- 8: wrong role ------------------------------------------------------------------------------


@pytest.mark.parametrize("chat_rate", [0.25])
async def test_a_caller_can_neither_broadcast_nor_stop_nor_use_the_form(team, telegram):
    not_allowed = fi.plain("Sorry, your role does not allow that.")
    for command in ("/broadcast", "/broadcasts"):
        refused = await team.frida.ask(command)
        assert refused.text == not_allowed
    tasks = [await team.task(start_in=2 + i) for i in range(4)]

    # Frida presses (forges) buttons of Aino's form: nothing happens, Aino's form goes on.
    listing = await task_list(team, telegram)
    for value in ("kind:offers", "tasks_all", "send"):
        answer = await answer_of(team.frida, listing, BroadcastStep(value).pack())
        assert answer.get("show_alert"), value
        assert answer.get("text") in (
            not_allowed,
            fi.plain("This form is closed. Send /broadcast to start again."),
        )
    assert offer_count(telegram) == 0
    assert [await state_of(team, t.id) for t in tasks] == [TaskState.OPEN] * 4

    await team.aino.click_and_wait(listing, fi.plain("Offer all open tasks"))
    progress, broadcast_id = await send(team, telegram, telegram.current(listing), 16)

    # Frida presses Stop on Aino's progress message: refused, the broadcast goes on.
    answer = await answer_of(team.frida, progress, BroadcastAction(broadcast_id, "stop").pack())
    assert answer.get("show_alert")
    assert answer.get("text") == not_allowed
    assert report_of(telegram, broadcast_id) is None
    assert [fi.plain("⏹ Stop sending")] in telegram.current(progress).buttons
    # Aino's own Stop still finds it running.
    query = await team.aino.press(progress, fi.plain("⏹ Stop sending"))
    await telegram.wait_for(lambda: query in telegram.callback_answers, what="the Stop answer")
    assert telegram.callback_answers[query].get("text") == fi.plain(
        "Stopped. Nothing more will be sent."
    )
    report = await wait_for_report(telegram, broadcast_id)
    assert text(fi, "It was stopped before the end.") in report.text
    for message in telegram.messages(3001):
        assert "📣" not in message.text
