"""Dispatch end to end: a coordinator creates and offers tasks, pairs accept, do and close them.

Privacy is asserted over every request the fake Bot API recorded: before a pair accepts, no
resident's name, address or phone reaches a volunteer, and after closing none remains in any card.
"""

from __future__ import annotations

import asyncio

from bot.domain.tasks import TaskState
from bot.i18n import translators
from handlers.callback_data import TaskAction
from tests.e2e.forms_helpers import home_visit_all_well
from tests.e2e.teams import SECRETS, VOLUNTEERS

fi, sv, en = translators()["fi"], translators()["sv"], translators()["en"]


def volunteer_texts(telegram) -> list[str]:
    """Every text the bot ever sent or edited into a volunteer's chat, and every alert."""
    texts = []
    for request in telegram.requests:
        chat = request.params.get("chat_id")
        if request.method in {"sendMessage", "editMessageText"} and chat in VOLUNTEERS:
            texts.append(str(request.params.get("text", "")))
        if request.method == "answerCallbackQuery":
            texts.append(str(request.params.get("text", "")))
    return texts


def assert_no_secrets(texts) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked in {text!r}"


async def test_the_whole_lifecycle_with_two_pairs(team, telegram):
    aino = team.aino
    # The coordinator creates the task in a guided chat.
    question = await aino.ask("/newtask")
    assert "/cancel" in question.text and not question.buttons
    choices = await aino.ask("Hilkka")
    kinds = await aino.click_and_wait(choices, "Hilkka Testinen")
    window_question = await aino.click_and_wait(kinds, fi.plain("home visit").capitalize())
    priority = await aino.ask("23.11. 12-16")
    assert "12.00–16.00" in priority.text or "12:00–16:00" in priority.text
    details = await aino.click_and_wait(priority, fi.plain("Normal"))
    assert details.buttons == [[fi.plain("Skip")]]
    summary = await aino.ask("Tuo maitoa ja leipää")
    assert "Hilkka Testinen" in summary.text and "maitoa" in summary.text
    assert window_question is not None
    offered = await aino.click_and_wait(summary, fi.plain("Offer to available pairs"))
    assert "4" in offered.text  # four people got the offer
    await telegram.settle()

    offers = {uid: telegram.messages(uid)[-1] for uid in VOLUNTEERS}
    assert all("#" in m.text for m in offers.values())
    assert offers[2001].buttons == [[sv.plain("Accept"), sv.plain("Decline")]]
    assert_no_secrets(volunteer_texts(telegram))  # nothing personal before acceptance

    # Bertil accepts for his pair: he and Cecilia get the card, the other pair's offers are taken.
    card = await team.bertil.click_and_wait(offers[2001], sv.plain("Accept"))
    assert "Hilkka Testinen" in card.text and "Kuusitie 7 B 12" in card.text
    assert "+358401112233" in card.text
    cecilia_card = telegram.current(offers[2002])
    assert "Hilkka Testinen" in cecilia_card.text
    for uid in (2003, 2004):
        taken = telegram.current(offers[uid])
        assert "Hilkka" not in taken.text and not taken.buttons
    assert "took" in telegram.current(offers[2003]).text  # Daniel reads English

    # On the way, then the report: every card loses the name, address and phone.
    started = await team.bertil.click_and_wait(card, sv.plain("On my way"))
    assert sv.plain("📝 Report the outcome") in str(started.buttons)
    summary = await home_visit_all_well(team.bertil, started, "sv")
    closed = await team.bertil.click_and_wait(summary, sv.plain("✅ Submit"))
    assert closed is not None
    await telegram.settle()
    for uid in VOLUNTEERS:
        for message in telegram.messages(uid):
            for secret in SECRETS:
                assert secret not in message.text, (uid, message.text)

    task_view = await aino.ask("/task 1")
    assert fi.plain("done") in task_view.text
    for action in ("created", "offered", "accepted", "started", "done"):
        assert fi.plain(action) in task_view.text
    # The former holder's /task shows the task without the resident.
    after = await team.bertil.ask("/task 1")
    assert "Hilkka" not in after.text and "Kuusitie" not in after.text


async def test_two_pairs_pressing_accept_at_once_exactly_one_wins(team, telegram):
    for _ in range(8):
        task = await team.task()
        offers = await team.offer(task.id)
        presses = await asyncio.gather(
            team.bertil.press(offers[2001], sv.plain("Accept")),
            team.daniel.press(offers[2003], en.plain("Accept")),
            team.cecilia.press(offers[2002], fi.plain("Accept")),
            team.eeva.press(offers[2004], fi.plain("Accept")),
        )
        await telegram.settle()
        answers = [telegram.callback_answers[p] for p in presses]
        stored = await team.services.dispatch.view(team.coordinator, task.id)
        assert stored.task.state is TaskState.ACCEPTED
        events = [e.action.value for e in stored.events]
        assert events.count("accept") == 1
        winners = {2001, 2002} if stored.task.holder.pair_id == 1 else {2003, 2004}
        for user_id, answer in zip((2001, 2003, 2002, 2004), answers, strict=True):
            if user_id in winners:
                assert not answer.get("show_alert"), answer
            else:
                assert answer.get("show_alert"), answer
        losers = set(VOLUNTEERS) - winners
        for uid in losers:
            assert "Hilkka" not in telegram.current(offers[uid]).text


async def test_a_decline_by_every_pair_returns_the_task_and_a_reoffer_works(team, telegram):
    task = await team.task()
    offers = await team.offer(task.id)
    await team.bertil.click_and_wait(offers[2001], sv.plain("Decline"))
    assert sv.gettext("Your pair declined this task.") in telegram.current(offers[2001]).text
    assert telegram.current(offers[2002]).buttons == []  # the partner's offer is declined too
    state = (await team.services.dispatch.view(team.coordinator, task.id)).task.state
    assert state is TaskState.OFFERED
    await team.daniel.click_and_wait(offers[2003], en.plain("Decline"))
    await telegram.settle()
    state = (await team.services.dispatch.view(team.coordinator, task.id)).task.state
    assert state is TaskState.OPEN
    told = [m.text for m in telegram.messages(1001)]
    assert (
        fi.gettext(
            "Every pair declined task #{number}; it is open again. "
            "/task {number} to assign it by hand.",
            number=task.id,
        )
        in told
    )

    # Declined offers cannot be accepted afterwards; a re-offer makes them pending again.
    late = await team.bertil.press_data(offers[2001], TaskAction(task.id, "accept").pack())
    await telegram.settle()
    assert telegram.callback_answers[late].get("show_alert")
    again = await team.offer(task.id)
    card = await team.eeva.click_and_wait(again[2004], fi.plain("Accept"))
    assert "Hilkka Testinen" in card.text


async def test_an_unanswered_offer_is_escalated_and_assigned_by_hand(team, telegram, clock):
    task = await team.task(start_in=10)
    await team.offer(task.id)
    clock.advance(hours=3, minutes=59)
    messages_before = len(telegram.messages(1001))
    await team.sweep()
    assert len(telegram.messages(1001)) == messages_before
    clock.advance(minutes=2)
    await team.sweep()
    await team.sweep()  # a second sweep sends nothing again
    alert = (
        fi.gettext("<b>No pair accepted this task in time.</b> Please assign it by hand.")
        .replace("<b>", "")
        .replace("</b>", "")
    )
    escalations = [m for m in telegram.messages(1001) if m.text.startswith(alert)]
    assert len(escalations) == 1
    menu = await team.aino.click_and_wait(escalations[0], fi.plain("Assign by hand"))
    done = await team.aino.click_and_wait(menu, "Daniel & Eeva")
    assert "Daniel & Eeva" in done.text
    await telegram.settle()
    daniel_card = telegram.messages(2003)[-1]
    assert "Hilkka Testinen" in daniel_card.text
    assert "Hilkka" not in telegram.messages(2001)[-1].text  # Bertil's offer: taken


async def test_holders_are_reminded_once_and_overdue_tasks_are_listed(team, telegram, clock):
    task = await team.task(start_in=1.5, hours=2)
    offers = await team.offer(task.id)
    await team.bertil.click_and_wait(offers[2001], sv.plain("Accept"))
    clock.advance(minutes=31)
    await team.sweep()
    await team.sweep()
    reminder_head = sv.gettext("<b>Reminder:</b> your task starts soon.").split("</b>")[-1].strip()
    reminders = [m for m in telegram.messages(2001) if reminder_head in m.text]
    assert len(reminders) == 1
    assert "Hilkka" not in reminders[0].text
    card = await team.bertil.click_and_wait(reminders[0], sv.plain("Show the task"))
    assert "Hilkka Testinen" in card.text

    clock.advance(hours=3)
    await team.sweep()
    await team.sweep()
    head = fi.ngettext(
        "<b>{n} task is past its window</b> and not finished:",
        "<b>{n} tasks are past their window</b> and not finished:",
        1,
    )
    head = head.replace("<b>", "").replace("</b>", "")
    overdue = [m for m in telegram.messages(1001) if m.text.startswith(head)]
    assert len(overdue) == 1  # listed once, however many sweeps run
    assert f"#{task.id}" in overdue[0].text and fi.plain("accepted") in overdue[0].text


async def test_volunteers_are_refused_coordinator_work_and_forged_buttons(team, telegram):
    for command in ("/open", "/newtask"):
        refused = await team.bertil.ask(command)
        assert refused.text == sv.gettext("Sorry, your role does not allow that.")
    task = await team.task()
    offers = await team.offer(task.id)
    # Bertil forges a cancel and a coordinator view of the task.
    for action in ("cancel_ok", "offer", "view"):
        query = await team.bertil.press_data(offers[2001], TaskAction(task.id, action).pack())
        await telegram.settle()
        assert telegram.callback_answers[query].get("show_alert")
    assert (
        await team.services.dispatch.view(team.coordinator, task.id)
    ).task.state is TaskState.OFFERED
    # Daniel's pair accepts; Bertil then forges Start and Done on the task that is not his.
    await team.daniel.click_and_wait(offers[2003], en.plain("Accept"))
    for action in ("start", "done", "fail"):
        query = await team.bertil.press_data(offers[2001], TaskAction(task.id, action).pack())
        await telegram.settle()
        assert telegram.callback_answers[query].get("show_alert"), action
    # "Show" works for a pair that had the offer, but shows the task without the resident.
    before = telegram.message_count(2001)
    await team.bertil.press_data(offers[2001], TaskAction(task.id, "show").pack())
    await telegram.settle()
    shown_task = telegram.messages(2001)[before:]
    assert len(shown_task) == 1 and f"#{task.id}" in shown_task[0].text
    assert not any(secret in shown_task[0].text for secret in SECRETS)
    assert (
        await team.services.dispatch.view(team.coordinator, task.id)
    ).task.state is TaskState.ACCEPTED
    # Garbage in the data is refused too.
    query = await team.bertil.press_data(offers[2001], "T|x|accept")
    await telegram.settle()
    assert telegram.callback_answers[query].get("show_alert")
    for message in telegram.messages(2001) + telegram.messages(2002):
        assert "Hilkka" not in message.text


async def test_a_cancelled_task_tells_the_holders_and_scrubs_their_cards(team, telegram):
    task = await team.task()
    offers = await team.offer(task.id)
    card = await team.cecilia.click_and_wait(offers[2002], fi.plain("Accept"))
    assert "Kuusitie" in card.text
    view = await team.aino.ask(f"/task {task.id}")
    question = await team.aino.click_and_wait(view, fi.plain("Cancel the task"))
    await team.aino.click_and_wait(question, fi.plain("Yes, cancel"))
    await telegram.settle()
    for uid in VOLUNTEERS:
        for message in telegram.messages(uid):
            assert "Kuusitie" not in message.text
    assert any(f"#{task.id}" in m.text for m in telegram.messages(2001)[-2:])
    # A press on the old card changes nothing and says why.
    query = await team.cecilia.press_data(card, TaskAction(task.id, "done").pack())
    await telegram.settle()
    assert telegram.callback_answers[query].get("show_alert")


async def test_a_deactivated_holder_gives_the_task_back(team, telegram):
    task = await team.task()
    offers = await team.offer(task.id)
    await team.bertil.click_and_wait(offers[2001], sv.plain("Accept"))
    people = await team.aino.ask("/people")
    card = await team.aino.click_and_wait(people, "Bertil")
    question = await team.aino.click_and_wait(card, fi.plain("Deactivate"))
    await team.aino.click_and_wait(question, fi.plain("Yes, deactivate"))
    await telegram.settle()
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.state is TaskState.OPEN and stored.task.holder.empty
    assert any(f"#{task.id}" in m.text and "Bertil" in m.text for m in telegram.messages(1001))
    for message in telegram.messages(2002):
        assert "Kuusitie" not in message.text  # Cecilia's card is scrubbed too


async def test_a_press_on_an_old_offer_after_a_restart_still_works(team, telegram, bot):
    task = await team.task()
    offers = await team.offer(task.id)
    await bot.restart()
    card = await team.eeva.click_and_wait(offers[2004], fi.plain("Accept"))
    assert "Hilkka Testinen" in card.text
    tasks = await team.daniel.ask("/tasks")
    assert f"#{task.id}" in tasks.text and "Hilkka" not in tasks.text


async def test_a_double_tap_on_accept_is_harmless(team, telegram):
    task = await team.task()
    offers = await team.offer(task.id)
    first = await team.bertil.press(offers[2001], sv.plain("Accept"))
    await telegram.settle()
    second = await team.bertil.press_data(offers[2001], TaskAction(task.id, "accept").pack())
    await telegram.settle()
    assert not telegram.callback_answers[first].get("show_alert")
    assert not telegram.callback_answers[second].get("show_alert")
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert [e.action.value for e in stored.events].count("accept") == 1
    cards = [m for m in telegram.messages(2002) if "Hilkka Testinen" in m.text]
    assert len(cards) == 1  # Cecilia got one card, not two


async def test_bad_windows_are_explained_and_asked_again(team, telegram):
    choices = await team.aino.ask("/newtask Hilkka")
    kinds = await team.aino.click_and_wait(choices, "Hilkka Testinen")
    await team.aino.click_and_wait(kinds, fi.plain("errand").capitalize())
    for typed, problem in (
        ("huomenna", "I could not read that as a date or window."),
        ("31.2. 10-12", "That date does not exist."),
        ("23.11. 14-10", "The window must end after it starts."),
        ("1.1.2020", "That window is already over."),
    ):
        answer = await team.aino.ask(typed)
        assert fi.gettext(problem) in answer.text
    priority = await team.aino.ask("24.11.")
    assert fi.plain("Urgent") in str(priority.buttons)
    cancelled = await team.aino.ask("/cancel")
    assert "Mitään ei tallennettu" in cancelled.text or cancelled.text == fi.gettext(
        "Cancelled. Nothing was saved."
    )


async def test_no_available_pair_keeps_the_task_for_assigning_by_hand(team, telegram):
    for name in ("bertil", "daniel"):
        await team.services.pairs.set_available(team.people[name], False)
    task = await team.task()
    view = await team.aino.ask(f"/task {task.id}")
    answer = await team.aino.click_and_wait(view, fi.plain("Offer to available pairs"))
    assert fi.plain("Assign by hand") in str(answer.buttons)
    assert (
        await team.services.dispatch.view(team.coordinator, task.id)
    ).task.state is TaskState.OPEN


async def test_offer_again_with_nobody_new_sends_nothing_and_a_double_assign_tells_once(
    team, telegram
):
    task = await team.task()
    await team.offer(task.id)
    counts = {uid: len(telegram.messages(uid)) for uid in VOLUNTEERS}
    view = await team.aino.ask(f"/task {task.id}")
    again = await team.aino.click_and_wait(view, fi.plain("Offer again"))
    assert (
        fi.gettext("No new pair to ask: the pairs who have the offer can still accept it.")
        in again.text
    )
    await telegram.settle()
    assert {uid: len(telegram.messages(uid)) for uid in VOLUNTEERS} == counts
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert [e.action.value for e in stored.events].count("offer") == 1  # the clock still runs

    menu = await team.aino.click_and_wait(telegram.current(again), fi.plain("Assign by hand"))
    taps = [await team.aino.press(menu, "Bertil & Cecilia") for _ in range(2)]
    await telegram.settle()
    assert all(not telegram.callback_answers[t].get("show_alert") for t in taps)
    cards = [m for m in telegram.messages(2002) if "Hilkka Testinen" in m.text]
    assert len(cards) == 1
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert [e.action.value for e in stored.events].count("assign") == 1
