"""Phone-check campaigns when things do not go to plan: races, quiet callers, pauses, give-backs,
wrong roles, bad answers in the form, stale buttons, a restart, an imported list, and privacy.

Frida (3001, from `teams.py`) and Gunnar (3002) call; the residents are invented.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.campaigns import CampaignProblem, CampaignState
from bot.domain.tasks import TaskKind, TaskState
from bot.i18n import translators
from handlers.callback_data import CallAction, CampaignAction
from handlers.render import local_time
from tests.e2e.campaign_helpers import (
    DECLINED_END,
    GIVE_BACK,
    NEXT_CALL,
    REACHED_END,
    RECORD,
    SECOND_CALLER,
    WHO_QUESTION,
    WRONG_NUMBER_END,
    ZONE,
    add_residents,
    coordinator_reports,
    finish_form,
    name_on,
    open_form,
    person,
    pick_callers,
    press_start,
    problem,
    report_call,
    requests_to,
    secrets_in,
    start_campaign,
    start_label,
    start_quietly,
    started_line,
    task_of,
    text,
)
from tests.e2e.forms_helpers import choice, press, shown, urgent_alerts
from tests.e2e.teams import CALLER, RESIDENT, VOLUNTEERS

fi = translators()["fi"]
GUNNAR = SECOND_CALLER

AUNE = person("Aune Esimerkki", "+358402000001", born=1938)
BRUNO = person("Bruno Kuvitelma", "+358402000002", born=1946)
CILLA = person("Cilla Keksintö", "+358402000003", born=1951)
NAMES = [RESIDENT.name, AUNE.name, BRUNO.name, CILLA.name]
PHONES = {
    RESIDENT.name: RESIDENT.phone,
    AUNE.name: AUNE.phone,
    BRUNO.name: BRUNO.phone,
    CILLA.name: CILLA.phone,
}
NOT_ALLOWED = "Sorry, your role does not allow that."


@pytest.fixture
async def crew(team, register):
    """Gunnar registered, three more residents aged 70+ (four with Hilkka); return Gunnar."""
    gunnar = await register(GUNNAR, "Gunnar", "caller")
    await add_residents(team, (AUNE, BRUNO, CILLA))
    return gunnar


async def figures(team, campaign):
    return (await team.services.campaigns.overview(team.coordinator, campaign.id)).figures


async def answer_of(telegram, query_id: str) -> dict:
    await telegram.wait_for(lambda: query_id in telegram.callback_answers, 5, what="the answer")
    await telegram.settle()
    return telegram.callback_answers[query_id]


def secrets_in_text(shown_text: str, name: str) -> list[str]:
    return [secret for secret in secrets_of(name) if secret in shown_text]


def expired(campaign: str) -> str:
    """The note to a caller whose call went back to the list after 30 quiet minutes."""
    return text(
        "⏳ Your call in <b>{campaign}</b> went back to the list: nothing was recorded for "
        "{minutes} minutes, and its unfinished report was thrown away. Press /call to continue.",
        campaign=campaign,
        minutes=30,
    )


def secrets_of(name: str) -> tuple[str, ...]:
    """What must not leak about a resident: the name, its parts, the phone's digits."""
    phone = PHONES[name]
    return (name, *name.split(), phone, phone[4:])


# --- claims -----------------------------------------------------------------------------------


async def test_two_callers_pressing_call_at_once_never_get_the_same_resident(team, crew, telegram):
    gunnar, frida = crew, team.frida
    campaign = await start_quietly(team, ["Frida", "Gunnar"])
    for _ in range(3):
        cards = await asyncio.gather(frida.ask("/call"), gunnar.ask("/call"))
        names = [name_on(card, NAMES) for card in cards]
        assert names[0] != names[1], names
        f = await figures(team, campaign)
        assert f.calling == 2
        assert {c.name: c.calling for c in f.callers} == {"Frida": 1, "Gunnar": 1}
        await asyncio.gather(
            frida.click_and_wait(cards[0], fi.plain(GIVE_BACK)),
            gunnar.click_and_wait(cards[1], fi.plain(GIVE_BACK)),
        )
        assert (await figures(team, campaign)).calling == 0


async def test_the_last_resident_goes_to_one_of_two_callers_pressing_at_once(
    team, crew, telegram, clock
):
    gunnar, frida = crew, team.frida
    campaign = await start_quietly(team, ["Frida", "Gunnar"], born_by=1938)  # Aune only
    cards = await asyncio.gather(frida.ask("/call"), gunnar.ask("/call"))
    got = [card for card in cards if AUNE.name in card.text]
    refused = [card for card in cards if AUNE.name not in card.text]
    assert len(got) == 1 and len(refused) == 1, [c.text for c in cards]
    assert refused[0].text == problem(CampaignProblem.LIST_DONE)
    assert (await figures(team, campaign)).calling == 1
    # No answer: Aune waits out the gap; meanwhile nobody gets her, and both are told when.
    winner = frida if got[0].chat_id == CALLER else gunnar
    await report_call(telegram, winner, got[0], "no_answer")
    due = local_time(fi, clock() + campaign.gap, ZONE)
    for user in (frida, gunnar):
        waiting = await user.ask("/call")
        assert waiting.text == problem(CampaignProblem.LIST_DONE) + "\n" + text(
            "The next call falls due at {time}.", time=due
        ), waiting.text
    overview = await team.services.campaigns.overview(team.coordinator, campaign.id)
    assert overview.figures.retry == 1 and overview.next_due == clock() + campaign.gap
    clock.advance(hours=3)
    retry = await gunnar.ask("/call")
    assert AUNE.name in retry.text
    assert (
        text(
            "📞 <b>{campaign}</b> — call {attempt} of {of}", campaign=campaign.name, attempt=2, of=2
        )
        == retry.text.splitlines()[0]
    )


async def test_pressing_call_again_shows_the_same_call(team, crew, telegram):
    frida = team.frida
    campaign = await start_quietly(team, ["Frida"])
    first = await frida.ask("/call")
    again = await frida.ask("/call")
    name = name_on(first, NAMES)
    assert name_on(again, NAMES) == name
    assert again.text.startswith(text("You have this call open still.")), again.text
    assert task_of(again) == task_of(first)
    f = await figures(team, campaign)
    assert f.calling == 1 and f.never_called == 3


async def test_a_double_tap_on_call_or_next_call_claims_one_resident(team, crew, telegram):
    frida = team.frida
    campaign = await start_quietly(team, ["Frida"])
    before = telegram.message_count(CALLER)
    await asyncio.gather(frida.send("/call"), frida.send("/call"))
    await telegram.wait_for(lambda: telegram.message_count(CALLER) >= before + 2, 5)
    await telegram.settle()
    cards = telegram.messages(CALLER)[before:]
    assert len(cards) == 2 and task_of(cards[0]) == task_of(cards[1])
    assert sum(c.text.startswith(text("You have this call open still.")) for c in cards) == 1
    assert (await figures(team, campaign)).calling == 1

    done = await report_call(telegram, frida, cards[-1], "reached")
    data = done.button_data[fi.plain(NEXT_CALL)]
    before = telegram.message_count(CALLER)
    await asyncio.gather(frida.press_data(done, data), frida.press_data(done, data))
    await telegram.wait_for(lambda: telegram.message_count(CALLER) >= before + 2, 5)
    await telegram.settle()
    cards = telegram.messages(CALLER)[before:]
    assert len(cards) == 2 and task_of(cards[0]) == task_of(cards[1])
    f = await figures(team, campaign)
    assert (f.calling, f.reached, f.never_called) == (1, 1, 2)


async def test_a_quiet_caller_loses_the_call_to_the_next_caller(team, crew, telegram, clock):
    gunnar, frida = crew, team.frida
    campaign = await start_quietly(team, ["Frida", "Gunnar"])
    card = await frida.ask("/call")
    name = name_on(card, NAMES)
    clock.advance(minutes=29)
    await team.sweep()
    assert PHONES[name] in telegram.current(card).text  # not yet
    clock.advance(minutes=2)
    before = len(telegram.messages(CALLER))
    await team.sweep()
    told = telegram.messages(CALLER)[before:]
    assert [m.text for m in told] == [expired(campaign.name)]
    scrubbed = telegram.current(card)
    for secret in secrets_of(name):
        assert secret not in scrubbed.text, scrubbed.text
    assert fi.plain(RECORD) not in str(scrubbed.buttons)
    # The resident is first in line again: Gunnar gets them.
    assert name_on(await gunnar.ask("/call"), NAMES) == name
    # Frida's old Record button is refused; the call is Gunnar's.
    stale = await frida.press_data(card, CallAction(task_of(card), "report").pack())
    assert (await answer_of(telegram, stale)).get("show_alert")
    f = await figures(team, campaign)
    assert {c.name: (c.calls, c.calling) for c in f.callers} == {
        "Frida": (0, 0),
        "Gunnar": (0, 1),
    }


async def test_a_caller_quiet_in_the_middle_of_the_form_loses_the_call_after_the_last_step(
    team, crew, telegram, clock
):
    gunnar, frida = crew, team.frida
    await start_quietly(team, ["Frida", "Gunnar"])
    card = await frida.ask("/call")
    name = name_on(card, NAMES)
    clock.advance(minutes=10)
    prompt = await press(frida, card, fi.plain(RECORD))  # the last step: minute 10
    clock.advance(minutes=29)  # the claim ran out at 30, but the last step is 29 minutes old
    await team.sweep()
    assert PHONES[name] in telegram.current(card).text
    clock.advance(minutes=2)
    await team.sweep()
    assert PHONES[name] not in telegram.current(card).text
    assert telegram.messages(CALLER)[-1].text == expired("Syysoitot")
    # The form's buttons no longer record anything; Gunnar has the resident now.
    query = await frida.press(prompt, choice("phone_check", "contact", "reached"))
    assert (await answer_of(telegram, query)).get("show_alert")
    assert name_on(await gunnar.ask("/call"), NAMES) == name


async def test_a_caller_answering_the_form_keeps_the_call(team, crew, telegram, clock):
    gunnar, frida = crew, team.frida
    campaign = await start_quietly(team, ["Frida", "Gunnar"])
    card = await frida.ask("/call")
    name = name_on(card, NAMES)
    clock.advance(minutes=25)
    prompt = await press(frida, card, fi.plain(RECORD))  # a step within the claim time
    prompt = await press(frida, prompt, choice("phone_check", "contact", "reached"))
    clock.advance(minutes=25)  # 50 minutes since the claim, 25 since the last step
    before = len(telegram.messages(CALLER))
    await team.sweep()
    assert telegram.messages(CALLER)[before:] == []
    other = await gunnar.ask("/call")
    assert name_on(other, NAMES) != name
    # Frida finishes the report; it counts as hers.
    prompt = await press(frida, prompt, fi.plain("Yes"))
    prompt = await press(frida, prompt, fi.plain("Done ✔"))
    prompt = await press(frida, prompt, fi.plain("No"))
    summary = await press(frida, prompt, fi.plain("Skip"))
    await frida.click_and_wait(summary, fi.plain("✅ Submit"))
    await telegram.settle()
    assert text(REACHED_END) in telegram.current(summary).text
    f = await figures(team, campaign)
    assert f.reached == 1
    assert {c.name: (c.reached, c.calling) for c in f.callers} == {
        "Frida": (1, 0),
        "Gunnar": (0, 1),
    }


async def test_a_coordinator_cancelling_the_call_puts_the_resident_back(team, crew, telegram):
    gunnar, frida = crew, team.frida
    campaign = await start_quietly(team, ["Frida", "Gunnar"])
    card = await frida.ask("/call")
    name = name_on(card, NAMES)
    view = await team.aino.ask(f"/task {task_of(card)}")
    confirm = await team.aino.click_and_wait(view, fi.plain("Cancel the task"))
    await team.aino.click_and_wait(confirm, fi.plain("Yes, cancel"))
    await telegram.settle()
    for secret in secrets_of(name):
        assert secret not in telegram.current(card).text
    # Frida's next press hands the resident back to the list first; she holds one call only.
    again = await frida.ask("/call")
    assert not again.text.startswith(text("You have this call open still."))
    assert task_of(again) != task_of(card)
    other = await gunnar.ask("/call")
    assert {name_on(again, NAMES), name_on(other, NAMES)} >= {name}
    f = await figures(team, campaign)
    assert {c.name: c.calling for c in f.callers} == {"Frida": 1, "Gunnar": 1}
    assert (f.calling, f.never_called) == (2, 2)


async def test_a_paused_campaign_lets_the_open_call_be_reported(team, crew, telegram):
    gunnar, frida = crew, team.frida
    campaign = await start_quietly(team, ["Frida", "Gunnar"])
    card = await frida.ask("/call")
    name = name_on(card, NAMES)
    listing = await team.aino.ask("/campaign")
    overview = await team.aino.click_and_wait(listing, f"📊 {campaign.name}")
    paused = await team.aino.click_and_wait(overview, fi.plain("⏸ Pause"))
    assert paused.text.splitlines()[0] == text(
        "📞 <b>{name}</b> — {state}", name=campaign.name, state=fi.plain("paused")
    )
    assert paused.buttons[1] == [fi.plain("▶️ Resume"), fi.plain("🏁 Close")]

    refused = await gunnar.ask("/call")
    assert refused.text == problem(CampaignProblem.PAUSED)
    # Frida's call under way is reported, and its errand reaches the pairs.
    done = await report_call(telegram, frida, card, "reached", needs=["errands"])
    assert text(REACHED_END) in done.text
    assert done.buttons == []  # no Next call while paused
    resident_id = next(
        r.id for r in await team.services.residents.find(team.coordinator, name) if r.name == name
    )
    history = await team.services.residents.history(team.coordinator, resident_id)
    (errand,) = [t for t in history if t.kind is TaskKind.ERRAND]
    assert errand.state is TaskState.OFFERED
    for user_id in VOLUNTEERS:
        assert any(f"#{errand.id}" in m.text for m in telegram.messages(user_id))
    assert (await frida.ask("/call")).text == problem(CampaignProblem.PAUSED)
    f = await figures(team, campaign)
    assert (f.reached, f.calling, f.needs) == (1, 0, {"errands": 1})

    resumed = await team.aino.click_and_wait(paused, fi.plain("▶️ Resume"))
    assert resumed.buttons[1] == [fi.plain("⏸ Pause"), fi.plain("🏁 Close")]
    assert name_on(await gunnar.ask("/call"), NAMES) != name


async def test_a_closed_campaign_lets_the_open_call_be_reported(team, crew, telegram):
    frida = team.frida
    campaign = await start_quietly(team, ["Frida"])
    card = await frida.ask("/call")
    await team.services.campaigns.set_state(team.coordinator, campaign.id, CampaignState.CLOSED)
    assert (await frida.ask("/call")).text.startswith(text("You have this call open still."))
    done = await report_call(telegram, frida, card, "wrong_number")
    assert text(WRONG_NUMBER_END) in done.text and done.buttons == []
    f = await figures(team, campaign)
    assert (f.wrong_number, f.visits, f.calling) == (1, 1, 0)
    assert (await frida.ask("/call")).text == problem(CampaignProblem.NONE_RUNNING)


async def test_a_refusal_finishes_the_resident_in_every_campaign(team, crew, telegram):
    gunnar, frida = crew, team.frida
    first = await start_quietly(team, ["Frida"], name="Ensimmäinen", born_by=1938)  # Aune
    second = await start_quietly(team, ["Gunnar"], name="Toinen", born_by=1938)
    card = await frida.ask("/call")
    assert AUNE.name in card.text
    # Aune is on Frida's call: the other campaign passes her over meanwhile.
    busy = await gunnar.ask("/call")
    assert busy.text == problem(CampaignProblem.LIST_DONE), busy.text
    done = await report_call(telegram, frida, card, "refused")
    assert text(DECLINED_END) in done.text
    for campaign in (first, second):
        f = await figures(team, campaign)
        assert (f.total, f.declined, f.open) == (1, 1, 0), campaign.name
    assert (await gunnar.ask("/call")).text == problem(CampaignProblem.LIST_DONE)
    # Nobody is told of a refusal: it needs no person.
    assert coordinator_reports(telegram, task_of(card), "Frida") == []


async def test_visits_no_pair_covers_are_named_at_start_and_reported(team, crew, telegram):
    frida = team.frida
    for name in ("bertil", "daniel"):
        await team.services.pairs.set_available(team.people[name], False)
    await add_residents(team, [person("Nils Numeroton", None, born=1930)])
    begun = await start_campaign(team, "Ilman pareja", listed=5)
    assert (
        shown(
            fi.ngettext(
                "{n} visit has no available pair in its area: see /open.",
                "{n} visits have no available pair in their area: see /open.",
                1,
            )
        )
        in begun.message.text
    )
    # A wrong number's visit that no pair covers is worth a report to the coordinators.
    card = await frida.ask("/call")
    await report_call(telegram, frida, card, "wrong_number")
    (report,) = coordinator_reports(telegram, task_of(card), "Frida")
    assert name_on(card, NAMES) in report


async def test_give_back_hands_the_resident_to_the_next_caller_and_twice_is_harmless(
    team, crew, telegram
):
    gunnar, frida = crew, team.frida
    campaign = await start_quietly(team, ["Frida", "Gunnar"])
    card = await frida.ask("/call")
    name = name_on(card, NAMES)
    data = card.button_data[fi.plain(GIVE_BACK)]
    given = await frida.click_and_wait(card, fi.plain(GIVE_BACK))
    assert given.text == text(
        "↩️ You handed this resident back to the list. Press /call for the next one."
    )
    assert given.buttons == []
    for secret in secrets_of(name):
        assert secret not in given.text
    again = await frida.press_data(card, data)
    answer = await answer_of(telegram, again)
    assert answer.get("show_alert")
    assert answer.get("text") == fi.plain(problem(CampaignProblem.NOT_YOUR_CALL))
    assert telegram.current(card).text == given.text
    f = await figures(team, campaign)
    assert (f.calling, f.never_called) == (0, 4)
    assert name_on(await gunnar.ask("/call"), NAMES) == name
    assert {c.name: c.calls for c in (await figures(team, campaign)).callers} == {
        "Frida": 0,
        "Gunnar": 0,
    }


# --- roles ------------------------------------------------------------------------------------


async def test_wrong_roles_are_refused_and_nothing_changes(team, crew, telegram):
    gunnar, frida, cecilia = crew, team.frida, team.cecilia  # Cecilia: a volunteer (fi)
    campaign = await start_quietly(team, ["Frida"])
    refusal = text(NOT_ALLOWED)
    assert (await cecilia.ask("/call")).text == refusal
    assert (await frida.ask("/campaign new")).text == refusal
    # No form was started for Frida: what she types next is no campaign's name.
    await frida.ask("Salainen kampanja")
    assert [o.campaign.id for o in await team.services.campaigns.recent(team.coordinator)] == [
        campaign.id
    ]

    card = await frida.ask("/call")
    for action in ("pause", "close_yes", "close", "show"):
        query = await frida.press_data(card, CampaignAction(campaign.id, action).pack())
        answer = await answer_of(telegram, query)
        assert answer.get("show_alert") and answer.get("text") == fi.plain(refusal), action
    name = name_on(card, NAMES)
    # A volunteer cannot record or give back Frida's call (forging the buttons' data in their
    # own chat); Gunnar, no caller of hers, neither.
    for user in (cecilia, gunnar):
        own = telegram.messages(user.user_id)[-1]
        for action in ("report", "give_back"):
            query = await user.press_data(own, CallAction(task_of(card), action).pack())
            answer = await answer_of(telegram, query)
            assert answer.get("show_alert"), (user.user_id, action)
            assert not secrets_in_text(answer.get("text", ""), name), answer
    # Gunnar is no caller of this campaign.
    assert (await gunnar.ask("/call")).text == problem(CampaignProblem.NONE_RUNNING)

    overview = await team.services.campaigns.overview(team.coordinator, campaign.id)
    assert overview.campaign.state is CampaignState.RUNNING
    assert overview.figures.calling == 1
    assert PHONES[name] in telegram.current(card).text  # still Frida's call
    for user_id in (2002, GUNNAR):
        for message in telegram.messages(user_id):
            assert name not in message.text


# --- the form ---------------------------------------------------------------------------------


async def test_bad_answers_at_each_step_are_explained_and_asked_again(team, crew, telegram):
    aino = team.aino
    await aino.ask("/campaign new")
    name_problem = problem(CampaignProblem.NAME)
    assert (await aino.ask("   ")).text == name_problem
    assert (await aino.ask("x" * 101)).text == name_problem
    who = await aino.ask("Kevään soitot")
    assert fi.plain("Any age") in str(who.buttons)

    for year in ("19x6", "1899", "2100"):
        assert (await aino.ask(year)).text == problem(CampaignProblem.BORN_BY), year
    area = await aino.ask("1956")
    assert fi.plain("Everywhere") in str(area.buttons)

    assert (await aino.ask("abc")).text == problem(CampaignProblem.AREA)
    callers = await aino.ask("70100 701")
    assert callers.text == text("Who calls? Choose the callers, then press Done.")
    assert (await aino.ask("Frida")).text == text(
        "Please answer with the buttons above, or send /cancel."
    )
    attempts = await pick_callers(aino, callers, ["Frida"])
    assert "• 2" in str(attempts.buttons)

    for typed in ("0", "11", "kaksi"):
        assert (await aino.ask(typed)).text == problem(CampaignProblem.ATTEMPTS), typed
    gap = await aino.ask("3")
    assert "• " + fi.plain("{hours} h", hours=3) in str(gap.buttons)

    for typed in ("abc", "200"):
        assert (await aino.ask(typed)).text == problem(CampaignProblem.GAP), typed
    summary = await aino.ask("1,5")
    assert (
        text(
            "{attempts} attempts per resident, at least {gap} apart; then a home visit.",
            attempts=3,
            gap=fi.plain("{hours} h", hours="1,5"),
        )
        in summary.text.splitlines()
    )
    assert text("Callers: {names}", names="Frida") in summary.text.splitlines()
    begun = await press_start(team, summary, listed=4)
    c = begun.campaign
    assert (c.name, c.attempts, c.selection.born_by, c.selection.areas) == (
        "Kevään soitot",
        3,
        1956,
        ("701", "70100"),
    )
    assert c.gap.total_seconds() == 90 * 60


async def test_start_pressed_twice_creates_one_campaign(team, crew, telegram):
    aino = team.aino
    who = await open_form(aino, "Tuplasoitot")
    area = await press(aino, who, fi.plain("Aged {age} or over", age=80))
    callers = await press(aino, area, fi.plain("Everywhere"))
    attempts = await pick_callers(aino, callers, None)
    summary = await finish_form(aino, attempts, attempts=None, gap=None)
    data = summary.button_data[fi.plain("✅ Start: call {n}", n="3")]  # Hilkka, Aune, Bruno
    taps = [await aino.press_data(summary, data) for _ in range(2)]
    for tap in taps:
        await answer_of(telegram, tap)
    recent = await team.services.campaigns.recent(team.coordinator)
    assert [o.campaign.name for o in recent] == ["Tuplasoitot"]
    assert recent[0].figures.total == 3
    started = [
        m for m in telegram.messages(1001) if m.text.startswith(started_line("Tuplasoitot", 3))
    ]
    assert len(started) == 1


async def test_a_form_button_after_cancel_is_refused(team, crew, telegram):
    aino = team.aino
    who = await open_form(aino, "Peruttavat")
    area = await press(aino, who, fi.plain("Aged {age} or over", age=70))
    assert (await aino.ask("/cancel")).text == text("Cancelled. Nothing was saved.")
    query = await aino.press(area, fi.plain("Everywhere"))
    answer = await answer_of(telegram, query)
    assert answer.get("show_alert")
    assert answer.get("text") == fi.plain("This form is closed. Send /campaign new to start again.")
    # In a new form, the old form's buttons are stale: they change nothing.
    await aino.ask("/campaign new")
    stale = text("That was answered already. Please use the newest question.")
    for data in (who.button_data[fi.plain("Any age")], area.button_data[fi.plain("Everywhere")]):
        answer = await answer_of(telegram, await aino.press_data(area, data))
        assert answer.get("show_alert") and answer.get("text") == fi.plain(stale), answer
    # The new form still waits for its name.
    assert (await aino.ask("Uudet")).text == text(WHO_QUESTION)
    assert await team.services.campaigns.recent(team.coordinator) == []


# --- a restart, an imported list --------------------------------------------------------------


async def test_a_restart_in_the_middle_of_a_call_keeps_the_card_working(team, crew, telegram, bot):
    frida = team.frida
    campaign = await start_quietly(team, ["Frida"])
    card = await frida.ask("/call")
    await bot.restart()
    done = await report_call(telegram, frida, card, "reached")
    assert text(REACHED_END) in done.text
    f = await figures(team, campaign)
    assert (f.reached, f.calling) == (1, 0)
    assert {c.name: (c.calls, c.reached) for c in f.callers} == {"Frida": (1, 1)}
    next_card = await frida.click_and_wait(done, fi.plain(NEXT_CALL))
    assert name_on(next_card, NAMES) != name_on(card, NAMES)


CSV = (
    "Nimi;Puhelin;Katuosoite;Postinumero;Kunta;Syntymävuosi;Kieli\n"
    f"{AUNE.name};{AUNE.phone};Keksitty katu 1;70100;Kuopio;1938;suomi\n"
    "Oiva Listalta;040 200 0009;Listakatu 2;70200;Kuopio;1949;suomi\n"
    "Rikki Rivi;12;;1;Kuopio;1950;suomi\n"
).encode()


async def test_a_calling_list_sent_as_a_file_is_called_exactly(team, crew, telegram):
    aino, gunnar, frida = team.aino, crew, team.frida
    await open_form(aino, "Listasoitot")
    # A file with no row to read is explained, and the question stays.
    count = telegram.message_count(1001)
    await aino.upload("huono.csv", CSV.splitlines()[0] + b"\n" + CSV.splitlines()[-1])
    refused = await telegram.wait_for(
        lambda: telegram.messages(1001)[count] if telegram.message_count(1001) > count else None,
        5,
        what="the refusal",
    )
    assert refused.text.startswith(
        text("No row of the file can be read, so nobody would be called.")
    ), refused.text
    count = telegram.message_count(1001)
    await aino.upload("soittolista.csv", CSV)
    await telegram.wait_for(
        lambda: telegram.message_count(1001) >= count + 2, 5, what="the note and the callers"
    )
    note, callers = telegram.messages(1001)[count : count + 2]
    assert note.text == shown_n(
        "{n} row of the file cannot be read and is left out; the import report at Start names it.",
        "{n} rows of the file cannot be read and are left out; the import report at Start "
        "names them.",
        1,
    )
    attempts = await pick_callers(aino, callers, None)
    summary = await finish_form(aino, attempts, attempts=None, gap=None)
    assert (
        text(
            "Calls: {who}",
            who=text("the residents of the imported list") + " (2)",
        )
        in summary.text.splitlines()
    )
    begun = await press_start(team, summary, listed=2)
    assert begun.campaign.selection.imported
    assert fi.ngettext("{n} row rejected", "{n} rows rejected", 1) in begun.message.text
    assert "Rikki" not in begun.message.text

    cards = [await frida.ask("/call"), await gunnar.ask("/call")]
    got = sorted(
        name for card in cards for name in (AUNE.name, "Oiva Listalta") if name in card.text
    )
    assert got == sorted([AUNE.name, "Oiva Listalta"])
    f = await figures(team, begun.campaign)
    assert (f.total, f.calling, f.never_called) == (2, 2, 0)


def shown_n(singular: str, plural: str, n: int) -> str:
    return shown(fi.ngettext(singular, plural, n))


# --- privacy ----------------------------------------------------------------------------------


async def test_callers_never_see_each_others_residents_and_routine_calls_are_not_reported(
    team, crew, telegram
):
    gunnar, frida = crew, team.frida
    await start_quietly(team, ["Frida", "Gunnar"])
    since = len(telegram.requests)
    fridas = await frida.ask("/call")
    gunnars = await gunnar.ask("/call")
    frida_name, gunnar_name = name_on(fridas, NAMES), name_on(gunnars, NAMES)
    assert frida_name != gunnar_name
    aino_before = len(telegram.messages(1001))

    # Routine outcomes: reached and all well; no answer. No report to the coordinators.
    await report_call(telegram, frida, fridas, "reached")
    await report_call(telegram, gunnar, gunnars, "no_answer")
    assert coordinator_reports(telegram, task_of(fridas), "Frida") == []
    assert coordinator_reports(telegram, task_of(gunnars), "Gunnar") == []
    assert telegram.messages(1001)[aino_before:] == []

    # Frida's next call is urgent: Aino is alerted at once and gets the report.
    urgent_card = await frida.ask("/call")
    urgent_name = name_on(urgent_card, NAMES)
    await report_call(telegram, frida, urgent_card, "reached", urgent=True)
    (alert,) = urgent_alerts(telegram, task_of(urgent_card), TaskKind.PHONE_CHECK)
    assert urgent_name in alert.text
    (report,) = coordinator_reports(telegram, task_of(urgent_card), "Frida")
    assert text("🚨 Marked urgent or a health concern (alerted at once).") in report

    # Not one request to Gunnar's chat carried Frida's residents, nor the other way round.
    for request in requests_to(telegram, GUNNAR, since):
        for name in (frida_name, urgent_name):
            assert not secrets_in(request, secrets_of(name)), request
    for request in requests_to(telegram, CALLER, since):
        assert not secrets_in(request, secrets_of(gunnar_name)), request
    # The volunteers heard nothing of these calls either.
    for user_id in VOLUNTEERS:
        for request in requests_to(telegram, user_id, since):
            for name in (frida_name, gunnar_name, urgent_name):
                assert not secrets_in(request, secrets_of(name)), request
    # Aino never got the routine calls' residents.
    for message in telegram.messages(1001):
        for name in (frida_name, gunnar_name):
            assert name not in message.text


async def test_an_imported_list_counts_only_residents_who_may_be_called(team, crew, telegram):
    gunnar, aino = crew, team.aino
    await start_quietly(team, ["Gunnar"], name="Aiempi", born_by=1938)  # Aune
    card = await gunnar.ask("/call")
    await report_call(telegram, gunnar, card, "refused")  # Aune asks not to be called
    await open_form(aino, "Listasoitot")
    count = telegram.message_count(1001)
    await aino.upload("soittolista.csv", CSV)  # Aune, Oiva and a bad row
    await telegram.wait_for(
        lambda: telegram.message_count(1001) >= count + 2, 5, what="the callers question"
    )
    attempts = await pick_callers(aino, telegram.messages(1001)[count + 1], None)
    summary = await finish_form(aino, attempts, attempts=None, gap=None)
    begun = await press_start(team, summary)
    assert (await figures(team, begun.campaign)).total == 1  # only Oiva is called: right
    assert start_label(summary) == fi.plain("✅ Start: call {n}", n="1")  # but it said 2
