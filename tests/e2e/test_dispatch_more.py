"""Dispatch end to end, the coordinator's side: /open, assigning by hand and every /newtask button.

The coordinator Aino (Finnish) works only through what she reads and presses; the stored tasks are
checked through the services. When a task changes hands, the former holders' cards must lose the
resident's name, address and phone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.tasks import Priority, TaskKind, TaskState
from bot.i18n import translators
from handlers.tasks_render import kind_name, window_text
from tests.e2e.forms_helpers import shown
from tests.e2e.teams import PARISH, SECRETS, VOLUNTEERS

fi, sv = translators()["fi"], translators()["sv"]

STATE_NAMES = {
    TaskState.ESCALATED: "offer expired",
    TaskState.OPEN: "open",
    TaskState.OFFERED: "offered",
    TaskState.ACCEPTED: "accepted",
}


def text(tr, msgid: str, **values) -> str:
    """A catalog message as the fake Telegram shows it (HTML tags gone)."""
    return shown(tr.gettext(msgid, **values))


def overview_button(task, state: TaskState) -> str:
    return f"#{task.id} {kind_name(fi, task.kind)} · {fi.plain(STATE_NAMES[state])}"


def state_line(state: TaskState) -> str:
    return text(fi, "State: {state}", state=fi.plain(STATE_NAMES[state]))


def coordinator_buttons(*, held: bool = False, offered: bool = False) -> list[list[str]]:
    return [
        [fi.plain("Offer again") if offered else fi.plain("Offer to available pairs")],
        [fi.plain("Reassign") if held else fi.plain("Assign by hand")],
        [fi.plain("Cancel the task")],
    ]


def assert_coordinator_view(message, task, state: TaskState, **buttons: bool) -> None:
    """The coordinator's full view of a task: headline, resident, state and her three buttons."""
    assert message is not None
    assert message.text.startswith(f"#{task.id} {kind_name(fi, task.kind).capitalize()} · ")
    assert "Hilkka Testinen" in message.text  # the coordinator sees who and where
    assert state_line(state) in message.text
    assert message.buttons == coordinator_buttons(**buttons)


def assert_no_secrets_in_chats(telegram, *chats: int) -> None:
    """No message in the chats (as they read now) shows the resident's personal data."""
    for chat in chats:
        for message in telegram.messages(chat):
            for secret in SECRETS:
                assert secret not in message.text, (chat, message.text)


async def press(user, message, label: str) -> dict:
    """Press a button; wait for the answer and quiet; return the callback answer."""
    telegram = user.server
    query_id = await user.press(message, label)
    await telegram.wait_for(lambda: query_id in telegram.callback_answers, what=repr(label))
    await telegram.settle()
    return telegram.callback_answers[query_id]


# --- 1: /open and the ways back to the coordinator's view ----------------------------------------


async def test_open_counts_tasks_by_state_and_every_way_back_shows_the_task(team, telegram, clock):
    aino = team.aino
    empty = await aino.ask("/open")
    assert empty.text == text(fi, "No open tasks. Create one with /newtask.")
    assert not empty.buttons

    # One task of each unfinished state, and a cancelled one that /open leaves out.
    escalated = await team.task(start_in=10)
    await team.offer(escalated.id)
    clock.advance(hours=4, minutes=1)
    await team.sweep()
    alert_head = text(
        fi, "<b>No pair accepted this task in time.</b> Please assign it by hand."
    ).split("\n")[0]
    (alert,) = [m for m in telegram.messages(1001) if m.text.startswith(alert_head)]
    open_task = await team.task()
    offered = await team.task(kind=TaskKind.ERRAND)
    await team.offer(offered.id)
    accepted = await team.task(kind=TaskKind.DELIVERY)
    offers = await team.offer(accepted.id)
    await team.bertil.click_and_wait(offers[2001], sv.plain("Accept"))
    cancelled = await team.task()
    await team.services.dispatch.cancel(team.coordinator, cancelled.id)

    overview = await aino.ask("/open")
    groups = [
        (TaskState.ESCALATED, escalated),
        (TaskState.OPEN, open_task),
        (TaskState.OFFERED, offered),
        (TaskState.ACCEPTED, accepted),
    ]
    lines = overview.text.split("\n")
    assert lines[0] == text(
        fi, fi.ngettext("<b>{n} unfinished task</b>", "<b>{n} unfinished tasks</b>", 4)
    )
    expected = [lines[0]]
    for state, task in groups:
        expected += ["", f"{fi.plain(STATE_NAMES[state]).capitalize()}: 1", f"#{task.id} "]
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start) if start.startswith("#") else line == start, (line, start)
    assert f"#{cancelled.id} " not in overview.text
    assert "Hilkka" not in overview.text  # headlines only: no personal data in the list
    assert sorted(b for (b,) in overview.buttons) == sorted(
        overview_button(task, state) for state, task in groups
    )

    # #N shows the task; the cancel question's "No" and the assign menu's "« Back" return to it.
    view = await aino.click_and_wait(overview, overview_button(open_task, TaskState.OPEN))
    assert_coordinator_view(view, open_task, TaskState.OPEN)
    question = await aino.click_and_wait(view, fi.plain("Cancel the task"))
    assert question.text == text(
        fi, "Cancel task #{number}? The holders and offered pairs are told.", number=open_task.id
    )
    assert question.buttons == [[fi.plain("Yes, cancel"), fi.plain("No")]]
    back = await aino.click_and_wait(question, fi.plain("No"))
    assert (back.text, back.buttons) == (view.text, view.buttons)
    menu = await aino.click_and_wait(back, fi.plain("Assign by hand"))
    assert menu.text == text(
        fi, "Assign task #{number} to a pair (✓ available now):", number=open_task.id
    )
    back = await aino.click_and_wait(menu, fi.plain("« Back"))
    assert (back.text, back.buttons) == (view.text, view.buttons)
    stored = await team.services.dispatch.view(team.coordinator, open_task.id)
    assert stored.task.state is TaskState.OPEN  # looking around changed nothing

    # A held task: its holder is named and the button reassigns.
    overview = await aino.ask("/open")
    held = await aino.click_and_wait(overview, overview_button(accepted, TaskState.ACCEPTED))
    assert_coordinator_view(held, accepted, TaskState.ACCEPTED, held=True, offered=True)
    assert text(fi, "Held by: {holder}", holder="Bertil & Cecilia") in held.text

    # The escalation alert's "Show the task" turns the alert into the view.
    shown_task = await aino.click_and_wait(alert, fi.plain("Show the task"))
    assert shown_task.message_id == alert.message_id
    assert_coordinator_view(shown_task, escalated, TaskState.ESCALATED, offered=True)
    question = await aino.click_and_wait(shown_task, fi.plain("Cancel the task"))
    back = await aino.click_and_wait(question, fi.plain("No"))
    assert (back.text, back.buttons) == (shown_task.text, shown_task.buttons)
    stored = await team.services.dispatch.view(team.coordinator, escalated.id)
    assert stored.task.state is TaskState.ESCALATED


# --- 2: assigning by hand to one person, then to an organisation ---------------------------------


async def test_assign_to_one_person_then_to_an_organisation_scrubs_the_former_holders(
    team, telegram
):
    aino = team.aino
    task = await team.task()
    offers = await team.offer(task.id)
    card = await team.bertil.click_and_wait(offers[2001], sv.plain("Accept"))
    assert "Kuusitie" in card.text
    await telegram.settle()
    assert any("Kuusitie" in m.text for m in telegram.messages(2002))  # Cecilia's card

    # Reassign to Frida, the caller, through "One person".
    view = await aino.ask(f"/task {task.id}")
    pairs = await aino.click_and_wait(view, fi.plain("Reassign"))
    people = await aino.click_and_wait(pairs, fi.plain("One person"))
    assert people.text == text(fi, "Assign task #{number} to one person:", number=task.id)
    assert people.buttons == [
        ["Aino"],
        ["Bertil"],
        ["Cecilia"],
        ["Daniel"],
        ["Eeva"],
        ["Frida"],
        [fi.plain("Pairs"), fi.plain("An organisation")],
        [fi.plain("« Back")],
    ]  # partners are reached through their organisation, not one by one
    frida_before = telegram.message_count(3001)
    answer = await press(aino, people, "Frida")
    assert answer.get("text") == fi.plain("Assigned.") and not answer.get("show_alert")
    after = telegram.current(people)
    assert_coordinator_view(after, task, TaskState.ACCEPTED, held=True, offered=True)
    assert text(fi, "Held by: {holder}", holder="Frida") in after.text
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.holder.person_id == team.people["frida"].id
    assert stored.task.state is TaskState.ACCEPTED

    (frida_card,) = telegram.messages(3001)[frida_before:]
    assert frida_card.text.startswith(text(fi, "<b>A coordinator gave you a task.</b>"))
    assert "Hilkka Testinen" in frida_card.text and "Kuusitie 7 B 12" in frida_card.text
    assert fi.plain("On my way") in str(frida_card.buttons)
    for user_id, tr in ((2001, sv), (2002, fi)):
        told = [m.text for m in telegram.messages(user_id)]
        assert (
            tr.gettext(
                "A coordinator gave task #{number} to someone else. Thank you!", number=task.id
            )
            in told
        )
    assert_no_secrets_in_chats(telegram, *VOLUNTEERS)
    assert "Hilkka" not in telegram.current(card).text

    # Then to the parish, through "An organisation": its partners get the card, Frida loses hers.
    pairs = await aino.click_and_wait(after, fi.plain("Reassign"))
    organisations = await aino.click_and_wait(pairs, fi.plain("An organisation"))
    assert organisations.text == text(
        fi, "Assign task #{number} to an organisation:", number=task.id
    )
    assert organisations.buttons == [
        [PARISH],
        [fi.plain("Pairs"), fi.plain("One person")],
        [fi.plain("« Back")],
    ]
    counts = {uid: telegram.message_count(uid) for uid in (4001, 4002)}
    answer = await press(aino, organisations, PARISH)
    assert answer.get("text") == fi.plain("Assigned.")
    after = telegram.current(organisations)
    assert text(fi, "Held by: {holder}", holder=PARISH) in after.text
    stored = await team.services.dispatch.view(team.coordinator, task.id)
    assert stored.task.holder.organisation_id is not None
    assert stored.holder_name == PARISH
    for user_id, tr in ((4001, fi), (4002, sv)):
        (partner_card,) = telegram.messages(user_id)[counts[user_id] :]
        assert partner_card.text.startswith(text(tr, "<b>A coordinator gave you a task.</b>"))
        assert "Hilkka Testinen" in partner_card.text
    assert fi.gettext(
        "A coordinator gave task #{number} to someone else. Thank you!", number=task.id
    ) in [m.text for m in telegram.messages(3001)]
    assert "Hilkka" not in telegram.current(frida_card).text
    assert_no_secrets_in_chats(telegram, 3001, *VOLUNTEERS)
    assert [e.action.value for e in stored.events].count("assign") == 2


# --- 3: /newtask: presets, Skip, the three endings, stray input and a restart --------------------


async def newtask_until_window(aino, name: str = "Hilkka", kind: str = "errand"):
    """/newtask, find the resident, choose the kind; return the window question."""
    await aino.ask("/newtask")
    choices = await aino.ask(name)
    kinds = await aino.click_and_wait(choices, "Hilkka Testinen")
    return await aino.click_and_wait(kinds, fi.plain(kind).capitalize())


async def newtask_summary(aino, window_question, preset: str, priority: str = "Normal"):
    """Choose the preset and priority and skip the details; return the summary."""
    priority_question = await aino.click_and_wait(window_question, fi.plain(preset))
    details = await aino.click_and_wait(priority_question, fi.plain(priority))
    assert details.buttons == [[fi.plain("Skip")]]
    summary = await aino.click_and_wait(details, fi.plain("Skip"))
    assert text(fi, "Resident: <b>{name}</b>", name="Hilkka Testinen") in summary.text
    assert text(fi, "What: {details}", details="").rstrip() not in summary.text  # skipped
    assert summary.buttons == [
        [fi.plain("Offer to available pairs")],
        [fi.plain("Assign by hand")],
        [fi.plain("Save as open")],
        [fi.plain("Cancel")],
    ]
    return summary


async def task_count(team) -> int:
    overview = await team.services.dispatch.overview(team.coordinator)
    return sum(overview.counts.values())


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def test_newtask_presets_skip_and_the_three_endings(team, telegram, bot):
    aino = team.aino
    zone = bot.app.bot_data.timezone
    unexpected = fi.gettext("Please answer with the buttons above, or /cancel.")

    # An unknown name, then text typed where a button is expected.
    await aino.ask("/newtask")
    nobody = await aino.ask("Zacharias")
    assert nobody.text == text(
        fi,
        "No resident matches that. Try another part of the name, or add the resident first "
        "with /resident new.",
    )
    assert not nobody.buttons
    choices = await aino.ask("Testinen")  # still asking for the resident
    kinds = await aino.click_and_wait(choices, "Hilkka Testinen")
    assert (await aino.ask("kotikäynti")).text == unexpected
    window_question = await aino.click_and_wait(kinds, fi.plain("home visit").capitalize())
    assert fi.plain("Within a week") in str(window_question.buttons)

    # Today (10:00 in Helsinki now) runs to 20:00 local; urgent; saved as open.
    summary = await newtask_summary(aino, window_question, "Today", "Urgent")
    assert (await aino.ask("tallenna")).text == unexpected
    answer = await press(aino, summary, fi.plain("Save as open"))
    assert answer.get("text") == fi.plain("Saved.")
    saved = telegram.current(summary)
    stored = await team.services.dispatch.view(team.coordinator, 1)
    assert_coordinator_view(saved, stored.task, TaskState.OPEN)
    task = stored.task
    assert (task.window_start, task.window_end) == (utc(23, 8), utc(23, 18))
    assert (task.kind, task.priority, task.details) == (TaskKind.HOME_VISIT, Priority.URGENT, "")
    assert task.holder.empty

    # Tomorrow: the daytime of 24.11.; assigned by hand to a pair from the summary.
    window_question = await newtask_until_window(aino)
    priority_question = await aino.click_and_wait(window_question, fi.plain("Tomorrow"))
    assert priority_question.text == text(
        fi,
        "Window: {window}. How urgent is it?",
        window=window_text(fi, utc(24, 6), utc(24, 18), zone),
    )
    details = await aino.click_and_wait(priority_question, fi.plain("Normal"))
    summary = await aino.click_and_wait(details, fi.plain("Skip"))
    answer = await press(aino, summary, fi.plain("Assign by hand"))
    assert answer.get("text") == fi.plain("Saved.")
    menu = telegram.current(summary)
    assert menu.text == text(fi, "Assign task #{number} to a pair (✓ available now):", number=2)
    daniel_before = telegram.message_count(2003)
    assigned = await aino.click_and_wait(menu, "Daniel & Eeva")
    assert text(fi, "Held by: {holder}", holder="Daniel & Eeva") in assigned.text
    task = (await team.services.dispatch.view(team.coordinator, 2)).task
    assert (task.window_start, task.window_end) == (utc(24, 6), utc(24, 18))
    assert (task.kind, task.priority, task.state) == (
        TaskKind.ERRAND,
        Priority.NORMAL,
        TaskState.ACCEPTED,
    )
    await telegram.settle()
    assert any("Hilkka Testinen" in m.text for m in telegram.messages(2003)[daniel_before:])

    # Within 3 days: cancelled at the end, nothing saved.
    before = await task_count(team)
    summary = await newtask_summary(aino, await newtask_until_window(aino), "Within 3 days")
    await press(aino, summary, fi.plain("Cancel"))
    assert telegram.current(summary).text == text(fi, "Cancelled. Nothing was saved.")
    assert not telegram.current(summary).buttons
    assert await task_count(team) == before

    # Within a week: from now to Sunday 29.11. 20:00 local.
    summary = await newtask_summary(
        aino, await newtask_until_window(aino, kind="phone check"), "Within a week"
    )
    await press(aino, summary, fi.plain("Save as open"))
    task = (await team.services.dispatch.view(team.coordinator, 3)).task
    assert (task.window_start, task.window_end) == (utc(23, 8), utc(29, 18))
    assert task.kind is TaskKind.PHONE_CHECK and task.state is TaskState.OPEN
    assert await task_count(team) == before + 1

    # Within 3 days, checked on a saved task: to Wednesday 25.11. 20:00 local.
    summary = await newtask_summary(aino, await newtask_until_window(aino), "Within 3 days")
    await press(aino, summary, fi.plain("Save as open"))
    task = (await team.services.dispatch.view(team.coordinator, 4)).task
    assert (task.window_start, task.window_end) == (utc(23, 8), utc(25, 18))

    # A /newtask button pressed after a restart: the form is gone, and says so.
    await aino.ask("/newtask")
    choices = await aino.ask("Hilkka")
    await bot.restart()
    interrupted = await aino.click_and_wait(choices, "Hilkka Testinen")
    assert interrupted.message_id == choices.message_id
    assert interrupted.text == text(fi, "This form was interrupted. Start again with /newtask.")
    assert not interrupted.buttons
    assert await task_count(team) == before + 2
