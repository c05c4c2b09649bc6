"""Outcome forms end to end: volunteers and callers report how a task went, by buttons and text.

Each test drives the real bot through the fake Bot API the way a volunteer does (by the labels they
read, in their language) and checks both the chat and what was stored: the task's state, the
outcome's answers, the draft in progress. Texts are compared with the catalogs' translation of the
same message, never with hardcoded words.
"""

from __future__ import annotations

import pytest

from bot.domain.tasks import Action, TaskKind, TaskState, UnfinishedReason
from bot.i18n import translators
from handlers.callback_data import FormPress
from tests.e2e.forms_helpers import (
    CATALOG,
    button,
    choice,
    crisis_notice,
    home_visit_all_well,
    press,
    question,
    report,
    shown,
    tick,
    urgent_alerts,
)
from tests.e2e.teams import SECRETS

TR = translators()
fi, sv, en = TR["fi"], TR["sv"], TR["en"]

BERTIL, CECILIA, DANIEL, EEVA, AINO = 2001, 2002, 2003, 2004, 1001
LANGUAGE = {BERTIL: "sv", DANIEL: "en"}  # everyone else reads Finnish
NAMES = {
    BERTIL: "bertil",
    CECILIA: "cecilia",
    DANIEL: "daniel",
    EEVA: "eeva",
    AINO: "aino",
    3001: "frida",
}
NOTE = "Kaffe & <en pratstund>"  # HTML's special characters must reach the chat intact
ANSWERED = "That was answered already. Please use the newest question."
GONE = (
    "This report is no longer open: it was sent, thrown away or it expired. "
    "/resume shows your unfinished reports."
)


# --- reading what the bot shows -------------------------------------------------------------------


def labels(message) -> list[str]:
    """Return every button label of a message."""
    return [label for row in message.buttons for label in row]


def asks(prompt, form_id: str, question_id: str, language: str) -> None:
    """Assert that the prompt asks this question (and has buttons to answer or navigate)."""
    assert question(form_id, question_id, language) in prompt.text, prompt.text
    assert prompt.buttons, prompt.text


def heading(form_id: str, task_id: int, step: int, language: str) -> str:
    """The first line of a prompt: the form's title, the task and the question's number."""
    title = CATALOG.get(form_id).title.get(language)
    text = "📝 <b>{title}</b> · task #{number} · question {step}\n"
    return shown(TR[language].gettext(text, title=title, number=task_id, step=step))


def is_summary(prompt, language: str) -> bool:
    return shown(TR[language].gettext("Please check your answers:")) in prompt.text


def thanks(task_id: int, language: str) -> str:
    return shown(
        TR[language].gettext("✅ The report for task #{number} is sent. Thank you!", number=task_id)
    )


def assert_scrubbed(telegram, *chats: int) -> None:
    """No message in these chats shows the resident's name, address or phone any more."""
    for chat in chats:
        for message in telegram.messages(chat):
            for secret in SECRETS:
                assert secret not in message.text, (chat, message.text)


def assert_alert(telegram, query_id: str) -> str:
    """Assert the press was answered with an alert; return its text."""
    answer = telegram.callback_answers[query_id]
    assert answer.get("show_alert"), answer
    return str(answer.get("text", ""))


# --- the cast at work -----------------------------------------------------------------------------


def user_of(team, user_id: int):
    return team.telegram.user(user_id, "?")


def person_of(team, user_id: int):
    return team.people[NAMES[user_id]]


async def accepted(team, *, kind=TaskKind.HOME_VISIT, by: int = BERTIL):
    """Create and offer a task; the volunteer `by` accepts it for the pair; return (task, card)."""
    task = await team.task(kind=kind)
    offers = await team.offer(task.id)
    card = await user_of(team, by).click_and_wait(
        offers[by], button("Accept", LANGUAGE.get(by, "fi"))
    )
    assert card is not None and "Hilkka Testinen" in card.text
    return task, card


async def started_form(team, *, kind=TaskKind.HOME_VISIT, by: int = BERTIL):
    """A task accepted by `by`, whose form they opened; return (task, card, first prompt)."""
    task, card = await accepted(team, kind=kind, by=by)
    prompt = await report(user_of(team, by), card, LANGUAGE.get(by, "fi"))
    return task, card, prompt


async def opened_form(team, *, kind=TaskKind.HOME_VISIT, by: int = BERTIL):
    """Like `started_form`; return (task, first prompt)."""
    task, _card, prompt = await started_form(team, kind=kind, by=by)
    return task, prompt


async def type_answer(team, user_id: int, text: str):
    """Type an answer; return the newest message in the chat once the bot is quiet."""
    await user_of(team, user_id).ask(text)
    await team.telegram.settle()
    return user_of(team, user_id).last


async def submit(user, summary, language: str = "fi"):
    """Press Submit on the summary; return the summary message as it is afterwards."""
    await press(user, summary, button("✅ Submit", language))
    await user.server.settle()
    return user.server.current(summary)


async def task_view(team, task_id: int):
    return await team.services.dispatch.view(team.coordinator, task_id)


async def stored_answers(team, task_id: int) -> list[dict]:
    """The answers of every outcome stored for the task, oldest first."""
    timeline = await team.services.outcomes.timeline(team.coordinator, team.resident.id)
    outcomes = [e for e in timeline.entries if e.outcome is not None]
    return [e.answers for e in outcomes if e.outcome.task_id == task_id]


async def drafts(team, user_id: int):
    """The person's unfinished forms (FormStep: draft, progress, question)."""
    return await team.services.outcomes.drafts(person_of(team, user_id))


async def the_draft(team, user_id: int):
    (step,) = await drafts(team, user_id)
    return step


async def events(team, task_id: int) -> list[Action]:
    return [e.action for e in (await task_view(team, task_id)).events]


async def forge(team, user_id: int, message, draft_id: int, revision: int, op: str, arg: int = 0):
    """Press hand-made form data on `message`; return the query id (settle before reading it)."""
    return await user_of(team, user_id).press_data(
        message, FormPress(draft_id, revision, op, arg).pack()
    )


# --- 1. every built-in form, its main path and its skip logic -------------------------------------


async def test_a_home_visit_where_the_pair_met_the_resident(team, telegram):
    task, card, prompt = await started_form(team)
    bertil, form = team.bertil, "home_visit"
    asks(prompt, form, "contact", "sv")
    assert prompt.text.startswith(heading(form, task.id, 1, "sv"))
    assert not any(secret in prompt.text for secret in SECRETS)  # the prompt never names anyone

    prompt = await press(bertil, prompt, choice(form, "contact", "met", "sv"))
    asks(prompt, form, "all_right", "sv")
    prompt = await press(bertil, prompt, button("Yes", "sv"))
    asks(prompt, form, "needs", "sv")

    # Ticking shows ☑️, a second tap unticks; nothing is answered until Done.
    prompt = await press(bertil, prompt, tick(form, "needs", "errands", "sv"))
    assert "☑️ " + choice(form, "needs", "errands", "sv") in labels(prompt)
    prompt = await press(bertil, prompt, tick(form, "needs", "conversation_help", "sv"))
    prompt = await press(bertil, prompt, "☑️ " + choice(form, "needs", "errands", "sv"))
    assert tick(form, "needs", "errands", "sv") in labels(prompt)
    assert "☑️ " + choice(form, "needs", "conversation_help", "sv") in labels(prompt)
    assert (await the_draft(team, BERTIL)).progress.ticks == ["conversation_help"]
    assert "needs" not in (await the_draft(team, BERTIL)).progress.answers

    prompt = await press(bertil, prompt, button("Done ✔", "sv"))
    asks(prompt, form, "consent_parish", "sv")  # conversation help ticked: consent is asked
    prompt = await press(bertil, prompt, button("No", "sv"))
    asks(prompt, form, "urgent", "sv")
    prompt = await press(bertil, prompt, button("No", "sv"))
    asks(prompt, form, "note", "sv")

    summary = await type_answer(team, BERTIL, NOTE)
    assert is_summary(summary, "sv")
    for text in (
        choice(form, "contact", "met", "sv"),
        choice(form, "needs", "conversation_help", "sv"),
        NOTE,
    ):
        assert text in summary.text
    assert choice(form, "needs", "errands", "sv") not in summary.text

    closed = await submit(bertil, summary, "sv")

    stored = await task_view(team, task.id)
    assert stored.task.state is TaskState.DONE
    assert await stored_answers(team, task.id) == [
        {
            "contact": "met",
            "all_right": True,
            "needs": ["conversation_help"],
            "consent_parish": False,
            "urgent": False,
            "note": NOTE,
        }
    ]
    assert await drafts(team, BERTIL) == []
    # The summary became the thank-you, which repeats none of the answers.
    assert closed.message_id == summary.message_id and not closed.buttons
    assert thanks(task.id, "sv") in closed.text
    for answer in (NOTE, choice(form, "contact", "met", "sv"), question(form, "needs", "sv")):
        assert answer not in closed.text
    # Both cards of the pair lost the resident's name, address and phone; Cecilia is told.
    assert telegram.current(card).buttons == []
    assert_scrubbed(telegram, BERTIL, CECILIA)
    told = fi.gettext(
        "{name} sent the report on task #{number}. Thank you both!", name="Bertil", number=task.id
    )
    assert shown(told) in [m.text for m in telegram.messages(CECILIA)]


async def test_a_home_visit_nobody_at_home_skips_to_the_note(team, telegram):
    task, prompt = await opened_form(team, by=DANIEL)
    daniel, form = team.daniel, "home_visit"
    prompt = await press(daniel, prompt, choice(form, "contact", "not_at_home", "en"))
    asks(prompt, form, "note", "en")  # every question about the resident is skipped
    assert prompt.text.startswith(heading(form, task.id, 2, "en"))
    summary = await press(daniel, prompt, button("Skip", "en"))
    assert is_summary(summary, "en")
    for skipped in ("all_right", "needs", "consent_parish", "urgent"):
        assert question(form, skipped, "en") not in summary.text
    assert en.plain("(no answer)") in summary.text

    closed = await submit(daniel, summary, "en")
    stored = (await task_view(team, task.id)).task
    assert stored.state is TaskState.NOT_COMPLETED
    assert stored.reason is UnfinishedReason.NOT_AT_HOME
    assert await stored_answers(team, task.id) == [{"contact": "not_at_home", "note": None}]
    assert thanks(task.id, "en") in closed.text
    assert_scrubbed(telegram, DANIEL, EEVA)
    # A revisit follows the first visit that found nobody at home.
    timeline = await team.services.outcomes.timeline(team.coordinator, team.resident.id)
    revisits = [e.task for e in timeline.entries if e.task and e.task.follows_id == task.id]
    assert [(t.kind, t.cause) for t in revisits] == [(TaskKind.HOME_VISIT, "revisit")]


async def test_consent_is_asked_only_while_conversation_help_is_ticked(team, telegram):
    _, prompt = await opened_form(team, by=DANIEL)
    daniel, form = team.daniel, "home_visit"
    prompt = await press(daniel, prompt, choice(form, "contact", "met", "en"))
    prompt = await press(daniel, prompt, button("No", "en"))
    prompt = await press(daniel, prompt, tick(form, "needs", "conversation_help", "en"))
    prompt = await press(daniel, prompt, "☑️ " + choice(form, "needs", "conversation_help", "en"))
    prompt = await press(daniel, prompt, button("Done ✔", "en"))
    asks(prompt, form, "urgent", "en")  # nothing ticked: no consent question
    assert question(form, "consent_parish", "en") not in prompt.text

    prompt = await press(daniel, prompt, button("« Back", "en"))
    asks(prompt, form, "needs", "en")
    prompt = await press(daniel, prompt, tick(form, "needs", "conversation_help", "en"))
    prompt = await press(daniel, prompt, button("Done ✔", "en"))
    asks(prompt, form, "consent_parish", "en")
    progress = (await the_draft(team, DANIEL)).progress
    assert progress.answers == {
        "contact": "met",
        "all_right": False,
        "needs": ["conversation_help"],
    }


async def test_a_phone_check_reached_by_the_caller(team, telegram):
    frida, form = team.frida, "phone_check"
    task = await team.phone_check()
    card = await frida.ask(f"/task {task.id}")
    assert "Hilkka Testinen" in card.text
    prompt = await report(frida, card)
    asks(prompt, form, "contact", "fi")
    prompt = await press(frida, prompt, choice(form, "contact", "reached"))
    asks(prompt, form, "all_right", "fi")
    prompt = await press(frida, prompt, button("Yes"))
    prompt = await press(frida, prompt, button("Done ✔"))
    asks(prompt, form, "urgent", "fi")
    prompt = await press(frida, prompt, button("No"))
    asks(prompt, form, "note", "fi")
    summary = await press(frida, prompt, button("Skip"))
    assert is_summary(summary, "fi")
    closed = await submit(frida, summary)

    assert (await task_view(team, task.id)).task.state is TaskState.DONE
    assert await stored_answers(team, task.id) == [
        {"contact": "reached", "all_right": True, "needs": [], "urgent": False, "note": None}
    ]
    assert thanks(task.id, "fi") in closed.text
    assert_scrubbed(telegram, 3001)


async def test_a_phone_check_without_answer_is_called_again_then_visited(team, telegram):
    frida, form = team.frida, "phone_check"
    task = await team.phone_check()
    card = await frida.ask(f"/task {task.id}")

    async def no_answer():
        prompt = await report(frida, telegram.current(card))
        prompt = await press(frida, prompt, choice(form, "contact", "no_answer"))
        asks(prompt, form, "note", "fi")  # nothing about the resident: nobody answered
        summary = await press(frida, prompt, button("Skip"))
        closed = await submit(frida, summary)
        return closed

    first = await no_answer()
    attempt = fi.gettext(
        "📞 Call attempt {attempt} of {of} recorded for task #{number}. "
        "Please try again later; the task stays with you.",
        attempt=1,
        of=2,
        number=task.id,
    )
    assert shown(attempt) in first.text
    assert (await task_view(team, task.id)).task.state is TaskState.ACCEPTED
    assert "Hilkka Testinen" in telegram.current(card).text  # still Frida's to call

    await no_answer()
    stored = (await task_view(team, task.id)).task
    assert stored.state is TaskState.NOT_COMPLETED and stored.reason is UnfinishedReason.NO_ANSWER
    assert await stored_answers(team, task.id) == [{"contact": "no_answer", "note": None}] * 2
    timeline = await team.services.outcomes.timeline(team.coordinator, team.resident.id)
    visits = [e.task for e in timeline.entries if e.task and e.task.follows_id == task.id]
    assert [(t.kind, t.cause) for t in visits] == [(TaskKind.HOME_VISIT, "phone_unreached")]
    assert_scrubbed(telegram, 3001)


async def test_an_errand_with_problems_an_amount_and_a_note(team, telegram):
    task, prompt = await opened_form(team, kind=TaskKind.ERRAND, by=CECILIA)
    cecilia, form = team.cecilia, "errand"
    asks(prompt, form, "delivered", "fi")
    prompt = await press(cecilia, prompt, button("Yes"))
    asks(prompt, form, "problems", "fi")
    prompt = await press(cecilia, prompt, tick(form, "problems", "payment"))
    prompt = await press(cecilia, prompt, tick(form, "problems", "item_missing"))
    prompt = await press(cecilia, prompt, button("Done ✔"))
    asks(prompt, form, "amount", "fi")
    prompt = await type_answer(team, CECILIA, "23")
    asks(prompt, form, "urgent", "fi")  # asked on every errand: a crisis can meet anyone
    prompt = await press(cecilia, prompt, button("No"))
    asks(prompt, form, "note", "fi")
    summary = await type_answer(team, CECILIA, "Kuitti jäi pöydälle.")
    assert is_summary(summary, "fi")
    assert "23" in summary.text
    closed = await submit(cecilia, summary)

    assert (await task_view(team, task.id)).task.state is TaskState.DONE
    assert await stored_answers(team, task.id) == [
        {
            "delivered": True,
            "problems": ["item_missing", "payment"],  # in the form's order, not the ticking order
            "amount": 23,
            "urgent": False,
            "note": "Kuitti jäi pöydälle.",
        }
    ]
    assert thanks(task.id, "fi") in closed.text and "23" not in closed.text
    assert_scrubbed(telegram, BERTIL, CECILIA)


async def test_a_delivery_nobody_at_home(team, telegram):
    task, prompt = await opened_form(team, kind=TaskKind.DELIVERY, by=EEVA)
    eeva, form = team.eeva, "delivery"
    asks(prompt, form, "contact", "fi")
    prompt = await press(eeva, prompt, choice(form, "contact", "not_at_home"))
    asks(prompt, form, "urgent", "fi")
    prompt = await press(eeva, prompt, button("No"))
    asks(prompt, form, "note", "fi")
    summary = await press(eeva, prompt, button("Skip"))
    closed = await submit(eeva, summary)

    stored = (await task_view(team, task.id)).task
    assert stored.state is TaskState.NOT_COMPLETED
    assert stored.reason is UnfinishedReason.NOT_AT_HOME
    assert await stored_answers(team, task.id) == [
        {"contact": "not_at_home", "urgent": False, "note": None}
    ]
    assert thanks(task.id, "fi") in closed.text
    assert_scrubbed(telegram, DANIEL, EEVA)


# --- 2. invalid answers are asked again, with the reason ------------------------------------------


async def refused(team, by: int, task_id: int, text: str, reason: str):
    """Type `text`; assert it is refused for `reason` and the same question is asked again."""
    language = LANGUAGE.get(by, "fi")
    before = await the_draft(team, by)
    answer = await type_answer(team, by, text)
    assert answer.text.startswith(heading(before.form.id, task_id, before.number, language))
    assert "⚠️ " + shown(reason) in answer.text
    asks(answer, before.form.id, before.question.id, language)
    now = await the_draft(team, by)
    assert (now.draft.revision, now.progress) == (before.draft.revision, before.progress)
    assert (await task_view(team, task_id)).task.state is TaskState.ACCEPTED
    return answer


@pytest.mark.parametrize("by", [BERTIL, DANIEL], ids=["swedish", "english"])
async def test_invalid_answers_are_asked_again_with_the_reason(team, telegram, by):
    language = LANGUAGE[by]
    tr, form, user = TR[language], "errand", user_of(team, by)
    task, prompt = await opened_form(team, kind=TaskKind.ERRAND, by=by)
    buttons = tr.gettext("Please answer with the buttons of the question.")
    prompt = await refused(team, by, task.id, "joo", buttons)
    prompt = await press(user, prompt, button("Yes", language))
    prompt = await press(user, prompt, button("Skip", language))
    asks(prompt, form, "amount", language)

    await refused(
        team, by, task.id, "kymmenen", tr.gettext("Please type a whole number, digits only.")
    )
    out_of_range = tr.gettext(
        "The number must be from {minimum} to {maximum}.", minimum=0, maximum=1000
    )
    await refused(team, by, task.id, "5000", out_of_range)
    await refused(team, by, task.id, "-1", out_of_range)
    prompt = await type_answer(team, by, "25")
    asks(prompt, form, "urgent", language)
    prompt = await press(user, prompt, button("No", language))
    asks(prompt, form, "note", language)
    too_long = tr.gettext("That is too long: at most {maximum} characters, please.", maximum=500)
    await refused(team, by, task.id, "x" * 501, too_long)
    draft = await the_draft(team, by)
    assert draft.progress.answers == {
        "delivered": True,
        "problems": None,
        "amount": 25,
        "urgent": False,
    }
    summary = await type_answer(team, by, "x" * 500)  # exactly the limit is fine
    assert is_summary(summary, language)


async def test_text_typed_at_the_summary_is_answered_with_the_reason(team, telegram):
    _, card = await accepted(team)
    await home_visit_all_well(team.bertil, card, "sv")
    before = await the_draft(team, BERTIL)
    answer = await type_answer(team, BERTIL, "hej")
    after = await the_draft(team, BERTIL)
    assert (after.draft.revision, after.progress) == (before.draft.revision, before.progress)
    assert is_summary(answer, "sv")
    reason = sv.gettext("Please answer with the buttons of the question.")
    assert "⚠️ " + shown(reason) in answer.text


# --- 3. back, edit and cancel ---------------------------------------------------------------------


async def test_back_takes_the_last_answer_back(team, telegram):
    task, prompt = await opened_form(team)
    bertil, form = team.bertil, "home_visit"
    assert button("« Back", "sv") not in labels(prompt)  # nothing to go back to yet
    prompt = await press(bertil, prompt, choice(form, "contact", "met", "sv"))
    prompt = await press(bertil, prompt, button("Yes", "sv"))
    asks(prompt, form, "needs", "sv")

    prompt = await press(bertil, prompt, button("« Back", "sv"))
    asks(prompt, form, "all_right", "sv")
    assert prompt.text.startswith(heading(form, task.id, 2, "sv"))
    progress = (await the_draft(team, BERTIL)).progress
    assert (progress.answers, progress.trail, progress.current) == (
        {"contact": "met"},
        ["contact"],
        "all_right",
    )
    prompt = await press(bertil, prompt, button("No", "sv"))
    asks(prompt, form, "needs", "sv")

    # Back to a multiple-choice question keeps its ticks, but takes the answer back.
    prompt = await press(bertil, prompt, tick(form, "needs", "food_help", "sv"))
    prompt = await press(bertil, prompt, button("Done ✔", "sv"))
    asks(prompt, form, "urgent", "sv")
    prompt = await press(bertil, prompt, button("« Back", "sv"))
    asks(prompt, form, "needs", "sv")
    assert "☑️ " + choice(form, "needs", "food_help", "sv") in labels(prompt)
    progress = (await the_draft(team, BERTIL)).progress
    assert progress.answers == {"contact": "met", "all_right": False}
    assert progress.ticks == ["food_help"]


async def test_edit_from_the_summary_prunes_answers_that_no_longer_apply(team, telegram):
    task, prompt = await opened_form(team)
    bertil, form = team.bertil, "home_visit"
    prompt = await press(bertil, prompt, choice(form, "contact", "met", "sv"))
    prompt = await press(bertil, prompt, button("Yes", "sv"))
    prompt = await press(bertil, prompt, tick(form, "needs", "errands", "sv"))
    prompt = await press(bertil, prompt, button("Done ✔", "sv"))
    prompt = await press(bertil, prompt, button("No", "sv"))
    summary = await type_answer(team, BERTIL, NOTE)
    assert is_summary(summary, "sv")
    assert choice(form, "needs", "errands", "sv") in summary.text

    menu = await press(bertil, summary, button("✏️ Edit", "sv"))
    assert shown(sv.gettext("Which answer do you want to change?")) in menu.text
    prompt = await press(bertil, menu, question(form, "contact", "sv"))
    asks(prompt, form, "contact", "sv")
    summary = await press(bertil, prompt, choice(form, "contact", "not_at_home", "sv"))
    assert is_summary(summary, "sv")
    for pruned in ("all_right", "needs", "urgent"):
        assert question(form, pruned, "sv") not in summary.text
    assert choice(form, "needs", "errands", "sv") not in summary.text
    assert choice(form, "contact", "not_at_home", "sv") in summary.text and NOTE in summary.text
    assert (await the_draft(team, BERTIL)).progress.answers == {
        "contact": "not_at_home",
        "note": NOTE,
    }

    await submit(bertil, summary, "sv")
    stored = (await task_view(team, task.id)).task
    assert (stored.state, stored.reason) == (TaskState.NOT_COMPLETED, UnfinishedReason.NOT_AT_HOME)
    assert await stored_answers(team, task.id) == [{"contact": "not_at_home", "note": NOTE}]
    timeline = await team.services.outcomes.timeline(team.coordinator, team.resident.id)
    follow_ups = [e.task.cause for e in timeline.entries if e.task and e.task.follows_id == task.id]
    assert follow_ups == ["revisit"]  # no errand task from the pruned needs


async def test_cancel_asks_first_and_then_throws_the_draft_away(team, telegram):
    task, card, prompt = await started_form(team)
    bertil, form = team.bertil, "home_visit"
    prompt = await press(bertil, prompt, choice(form, "contact", "met", "sv"))
    prompt = await press(bertil, prompt, button("Yes", "sv"))

    asked = await press(bertil, prompt, button("Cancel", "sv"))
    assert (
        shown(
            sv.gettext(
                "Throw away the answers of this report? The task stays yours; "
                "you can report it again later."
            )
        )
        in asked.text
    )
    assert labels(asked) == [sv.plain("Yes, throw away"), sv.plain("No, continue")]
    prompt = await press(bertil, asked, sv.plain("No, continue"))
    asks(prompt, form, "needs", "sv")
    assert (await the_draft(team, BERTIL)).progress.answers == {"contact": "met", "all_right": True}

    asked = await press(bertil, prompt, button("Cancel", "sv"))
    gone = await press(bertil, asked, sv.plain("Yes, throw away"))
    thrown = sv.gettext(
        "The report was thrown away. Task #{number} is still yours: "
        "press Report on its card when you are ready.",
        number=task.id,
    )
    assert gone.text == shown(thrown) and not gone.buttons
    assert await drafts(team, BERTIL) == []
    stored = await task_view(team, task.id)
    assert stored.task.state is TaskState.ACCEPTED and stored.holder_name == "Bertil & Cecilia"
    assert await stored_answers(team, task.id) == []

    again = await report(bertil, telegram.current(card), "sv")
    asks(again, form, "contact", "sv")
    assert again.text.startswith(heading(form, task.id, 1, "sv"))
    assert (await the_draft(team, BERTIL)).progress.answers == {}


# --- 4. a restart in the middle -------------------------------------------------------------------


async def test_a_restart_in_the_middle_continues_at_the_same_question(team, telegram, bot):
    task, prompt = await opened_form(team)
    bertil, form = team.bertil, "home_visit"
    prompt = await press(bertil, prompt, choice(form, "contact", "met", "sv"))
    prompt = await press(bertil, prompt, button("Yes", "sv"))
    asks(prompt, form, "needs", "sv")

    await bot.restart()
    prompt = await press(bertil, prompt, tick(form, "needs", "other", "sv"))  # the same message
    assert "☑️ " + choice(form, "needs", "other", "sv") in labels(prompt)
    prompt = await press(bertil, prompt, button("Done ✔", "sv"))
    asks(prompt, form, "urgent", "sv")
    prompt = await press(bertil, prompt, button("No", "sv"))
    summary = await type_answer(team, BERTIL, NOTE)
    assert is_summary(summary, "sv")
    closed = await submit(bertil, summary, "sv")

    assert thanks(task.id, "sv") in closed.text
    assert (await task_view(team, task.id)).task.state is TaskState.DONE
    assert await stored_answers(team, task.id) == [
        {"contact": "met", "all_right": True, "needs": ["other"], "urgent": False, "note": NOTE}
    ]


async def test_resume_after_a_restart_lists_the_draft_and_continues_it(team, telegram, bot):
    task, prompt = await opened_form(team)
    bertil, form = team.bertil, "home_visit"
    prompt = await press(bertil, prompt, choice(form, "contact", "met", "sv"))
    prompt = await press(bertil, prompt, button("Yes", "sv"))

    await bot.restart()
    listing = await bertil.ask("/resume")
    line = sv.gettext(
        "• task #{number} · {title} · question {step}",
        number=task.id,
        title=CATALOG.get(form).title.get("sv"),
        step=3,
    )
    assert shown(line) in listing.text
    again = await press(bertil, listing, sv.plain("Continue #{number}", number=task.id))
    assert again.message_id > listing.message_id  # sent again at the bottom of the chat
    asks(again, form, "needs", "sv")
    assert telegram.current(prompt).buttons == []  # the old prompt lost its buttons
    prompt = await press(bertil, again, button("Done ✔", "sv"))
    asks(prompt, form, "urgent", "sv")
    assert (await the_draft(team, BERTIL)).progress.answers == {
        "contact": "met",
        "all_right": True,
        "needs": [],
    }
    nothing = await team.daniel.ask("/resume")
    assert nothing.text == shown(en.gettext("You have no unfinished reports."))


async def test_typed_text_answers_the_report_whose_question_is_shown(team, telegram):
    bertil, form = team.bertil, "home_visit"
    first, prompt = await opened_form(team)
    await press(bertil, prompt, choice(form, "contact", "not_at_home", "sv"))
    second, prompt = await opened_form(team)
    await press(bertil, prompt, choice(form, "contact", "not_at_home", "sv"))

    listing = await bertil.ask("/resume")
    again = await press(bertil, listing, sv.plain("Continue #{number}", number=first.id))
    assert again.text.startswith(heading(form, first.id, 2, "sv"))
    summary = await type_answer(team, BERTIL, NOTE)
    answers = {step.task.id: step.progress.answers for step in await drafts(team, BERTIL)}
    assert answers == {
        first.id: {"contact": "not_at_home", "note": NOTE},
        second.id: {"contact": "not_at_home"},
    }
    assert is_summary(summary, "sv") and f"#{first.id}" in summary.text


# --- 5. double taps and stale buttons -------------------------------------------------------------


async def test_a_double_tap_on_a_choice_answers_once(team, telegram):
    _, first = await opened_form(team)
    bertil, form = team.bertil, "home_visit"
    met = choice(form, "contact", "met", "sv")
    old = first.button_data[met]
    prompt = await press(bertil, first, met)
    before = await the_draft(team, BERTIL)
    query = await bertil.press_data(first, old)  # the second tap carries the first one's data
    await telegram.settle()
    assert assert_alert(telegram, query) == shown(sv.gettext(ANSWERED))
    after = await the_draft(team, BERTIL)
    assert (after.draft.revision, after.progress) == (before.draft.revision, before.progress)
    assert after.progress.trail == ["contact"] and after.progress.current == "all_right"
    assert telegram.current(first).text == prompt.text

    # A double tap on a tick would untick it again: the second one is refused instead.
    prompt = await press(bertil, prompt, button("Yes", "sv"))
    errands = tick(form, "needs", "errands", "sv")
    old = prompt.button_data[errands]
    prompt = await press(bertil, prompt, errands)
    before = await the_draft(team, BERTIL)
    query = await bertil.press_data(prompt, old)
    await telegram.settle()
    assert assert_alert(telegram, query) == shown(sv.gettext(ANSWERED))
    after = await the_draft(team, BERTIL)
    assert after.draft.revision == before.draft.revision
    assert after.progress.ticks == ["errands"]
    assert "☑️ " + choice(form, "needs", "errands", "sv") in labels(telegram.current(prompt))


async def test_submit_pressed_twice_closes_the_task_once(team, telegram):
    task, card = await accepted(team)
    summary = await home_visit_all_well(team.bertil, card, "sv")
    data = summary.button_data[sv.plain("✅ Submit")]
    queries = [await team.bertil.press_data(summary, data) for _ in range(2)]
    await telegram.settle()
    answers = [telegram.callback_answers[q] for q in queries]
    assert sorted(bool(a.get("show_alert")) for a in answers) == [False, True]
    assert {a.get("text") for a in answers} == {sv.plain("Thank you!"), shown(sv.gettext(GONE))}
    assert (await events(team, task.id)).count(Action.COMPLETE) == 1
    assert len(await stored_answers(team, task.id)) == 1
    assert thanks(task.id, "sv") in telegram.current(summary).text


# --- 6. the partner -------------------------------------------------------------------------------


def card_of(telegram, user_id: int):
    """The person's card of the resident (it carries the Report button)."""
    return next(m for m in reversed(telegram.messages(user_id)) if "Hilkka Testinen" in m.text)


async def test_the_partner_cannot_start_a_second_report_and_is_told_who_reports(team, telegram):
    task, prompt = await opened_form(team)
    await press(team.bertil, prompt, choice("home_visit", "contact", "met", "sv"))
    before = await the_draft(team, BERTIL)
    count = telegram.message_count(CECILIA)
    query = await team.cecilia.press(card_of(telegram, CECILIA), fi.plain("📝 Report the outcome"))
    await telegram.settle()

    told = fi.gettext("{name} is filling in the report on this task already.", name="Bertil")
    assert assert_alert(telegram, query) == shown(told)
    assert telegram.message_count(CECILIA) == count  # no question was sent to her
    assert await drafts(team, CECILIA) == []
    after = await the_draft(team, BERTIL)
    assert (after.draft.id, after.draft.revision) == (before.draft.id, before.draft.revision)
    assert after.progress == before.progress
    assert (await task_view(team, task.id)).task.state is TaskState.ACCEPTED


# --- 7. the wrong person --------------------------------------------------------------------------


async def test_forged_presses_on_someone_elses_draft_change_nothing(team, telegram):
    task, prompt = await opened_form(team)
    await press(team.bertil, prompt, choice("home_visit", "contact", "met", "sv"))
    before = await the_draft(team, BERTIL)
    draft_id, revision = before.draft.id, before.draft.revision
    counts = {user_id: telegram.message_count(user_id) for user_id in (DANIEL, CECILIA)}
    queries = [
        await forge(team, user_id, telegram.messages(user_id)[-1], draft_id, revision, op)
        for user_id in counts  # the other pair, and even the partner
        for op in ("c", "d", "s", "b", "e", "j", "x", "n", "r", "y", "k")
    ]
    await telegram.settle()
    alerts = [assert_alert(telegram, q) for q in queries]
    assert alerts == [shown(en.gettext(GONE))] * 11 + [shown(fi.gettext(GONE))] * 11
    assert {user_id: telegram.message_count(user_id) for user_id in counts} == counts
    after = await the_draft(team, BERTIL)
    assert (after.draft.revision, after.progress) == (revision, before.progress)
    assert (await task_view(team, task.id)).task.state is TaskState.ACCEPTED
    for message in telegram.messages(DANIEL):
        assert "Hilkka" not in message.text


async def test_text_from_someone_with_no_form_open_is_not_understood(team, telegram):
    _, prompt = await opened_form(team)  # Bertil has a form open; others do not
    await press(team.bertil, prompt, choice("home_visit", "contact", "met", "sv"))
    before = await the_draft(team, BERTIL)
    for user, tr in ((team.aino, fi), (team.daniel, en), (team.cecilia, fi)):
        answer = await user.ask("Hilkka voi hyvin")
        assert answer.text == shown(
            tr.gettext("I did not understand that. /help lists what you can do.")
        )
    after = await the_draft(team, BERTIL)
    assert (after.draft.revision, after.progress) == (before.draft.revision, before.progress)


# --- 8. the clock: a reminder, then expiry --------------------------------------------------------


async def test_an_idle_report_is_reminded_once_and_then_expires(team, telegram, clock):
    task, card, prompt = await started_form(team)
    bertil, form = team.bertil, "home_visit"
    prompt = await press(bertil, prompt, choice(form, "contact", "met", "sv"))
    reminder = shown(
        sv.gettext(
            "You have an unfinished report for task #{number}. "
            "Continue where you left off, or /resume shows all of them.",
            number=task.id,
        )
    )
    expired = shown(
        sv.gettext(
            "Your unfinished report for task #{number} expired and was thrown away. "
            "The task is still yours: press Report on its card (/tasks) to start again.",
            number=task.id,
        )
    )

    def said(text: str) -> list:
        return [m for m in telegram.messages(BERTIL) if m.text == text]

    clock.advance(hours=1, minutes=59)
    await team.sweep()
    assert said(reminder) == []
    clock.advance(minutes=2)
    await team.sweep()
    await team.sweep()
    (reminded,) = said(reminder)
    assert labels(reminded) == [sv.plain("Continue")]
    again = await press(bertil, reminded, sv.plain("Continue"))
    asks(again, form, "all_right", "sv")
    assert telegram.current(prompt).buttons == []

    clock.advance(hours=45)  # 47 h idle: no second reminder, not expired yet
    await team.sweep()
    assert len(said(reminder)) == 1 and said(expired) == []
    clock.advance(hours=1, minutes=1)
    await team.sweep()
    await team.sweep()
    assert len(said(expired)) == 1
    assert await drafts(team, BERTIL) == []
    assert telegram.current(again).buttons == []  # the expired prompt cannot be answered
    late = await bertil.press_data(again, again.button_data[button("Yes", "sv")])
    await telegram.settle()
    assert assert_alert(telegram, late) == shown(sv.gettext(GONE))
    assert await drafts(team, BERTIL) == []
    stored = await task_view(team, task.id)
    assert stored.task.state is TaskState.ACCEPTED and stored.holder_name == "Bertil & Cecilia"

    restarted = await report(bertil, telegram.current(card), "sv")
    asks(restarted, form, "contact", "sv")
    assert (await the_draft(team, BERTIL)).progress.answers == {}


# --- 9. urgent: the 112 notice and the coordinators' alert, at once -------------------------------


async def test_urgent_shows_112_at_once_and_alerts_the_coordinator_once(team, telegram):
    task, prompt = await opened_form(team)
    bertil, form = team.bertil, "home_visit"
    prompt = await press(bertil, prompt, choice(form, "contact", "met", "sv"))
    prompt = await press(bertil, prompt, button("Yes", "sv"))
    prompt = await press(bertil, prompt, button("Done ✔", "sv"))
    asks(prompt, form, "urgent", "sv")

    async def urgent_yes(prompt):
        count = telegram.message_count(BERTIL)
        await press(bertil, prompt, button("Yes", "sv"))
        notice, following = telegram.messages(BERTIL)[count:]
        assert notice.text == crisis_notice("sv") and not notice.buttons
        asks(following, form, "note", "sv")  # the notice comes before the next question
        assert telegram.current(prompt).buttons == []
        return following

    prompt = await urgent_yes(prompt)
    (alert,) = urgent_alerts(telegram, task.id)
    assert "Hilkka Testinen" in alert.text and "+358401112233" in alert.text
    assert (await task_view(team, task.id)).task.state is TaskState.ACCEPTED  # not submitted yet
    assert await stored_answers(team, task.id) == []

    prompt = await press(bertil, prompt, button("« Back", "sv"))
    asks(prompt, form, "urgent", "sv")
    prompt = await urgent_yes(prompt)
    assert len(urgent_alerts(telegram, task.id)) == 1

    summary = await press(bertil, prompt, button("Skip", "sv"))
    await submit(bertil, summary, "sv")
    assert len(urgent_alerts(telegram, task.id)) == 1
    assert (await task_view(team, task.id)).task.state is TaskState.DONE
    timeline = await team.services.outcomes.timeline(team.coordinator, team.resident.id)
    assert len([e for e in timeline.entries if e.alert is not None]) == 1
