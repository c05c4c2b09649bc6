"""Coordinators manage people in chat; everyone else is refused, whatever buttons they forge."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.domain.people import Role
from bot.i18n import translators
from bot.logs import configure_logging
from handlers.callback_data import PeoplePage, SetActive, SetRole

fi, sv = translators()["fi"], translators()["sv"]


@pytest.fixture
async def team(bot, register):
    aino = await register(1001, "Aino", "coordinator")
    bertil = await register(2002, "Bertil", "volunteer", language="sv")
    return aino, bertil


async def open_card(aino, name):
    people = await aino.ask("/people")
    return await aino.click_and_wait(people, name)


async def test_people_lists_names_roles_and_access(team):
    aino, _ = team
    people = await aino.ask("/people")
    assert "2 henkilöä" in people.text
    assert "Aino" in people.text and "koordinaattori" in people.text
    assert "Bertil" in people.text and "vapaaehtoinen" in people.text


async def test_people_pages_through_many(bot, telegram, register, team):
    aino, _ = team
    for i in range(11):
        await register(3000 + i, f"Helper{i:02d}", "volunteer")
    first = await aino.ask("/people")
    assert "(sivu 1/2)" in first.text
    assert first.buttons[-1] == ["▶"]
    second = await aino.click_and_wait(first, "▶")
    assert "(sivu 2/2)" in second.text
    assert second.buttons[-1] == ["◀"]


async def test_deactivation_asks_first_and_ends_access_at_once(team, telegram):
    aino, bertil = team
    card = await open_card(aino, "Bertil")
    question = await aino.click_and_wait(card, fi.plain("Deactivate"))
    assert "Poistetaanko Bertil käytöstä?" in question.text
    kept = await aino.click_and_wait(question, fi.plain("No"))
    assert fi.plain("Deactivate") in str(kept.buttons)
    assert "frivillig" in (await bertil.ask("/whoami")).text  # still active

    question = await aino.click_and_wait(kept, fi.plain("Deactivate"))
    done = await aino.click_and_wait(question, fi.plain("Yes, deactivate"))
    assert "poistettu käytöstä" in done.text
    assert fi.plain("Reactivate") in str(done.buttons)

    for command in ("/whoami", "/start"):
        refused = await bertil.ask(command)
        assert refused.text.startswith("Din åtkomst till boten har upphört")
    await telegram.settle()
    assert telegram.commands_for(scope={"type": "chat", "chat_id": 2002}) is None

    # Reactivation gives the access and the roles back.
    await aino.click_and_wait(done, fi.plain("Reactivate"))
    assert "frivillig" in (await bertil.ask("/whoami")).text


async def test_a_double_tap_on_deactivate_is_harmless(team, telegram):
    aino, bertil = team
    card = await open_card(aino, "Bertil")
    question = await aino.click_and_wait(card, fi.plain("Deactivate"))
    taps = [await aino.press(question, fi.plain("Yes, deactivate")) for _ in range(2)]
    await telegram.settle()
    assert [telegram.callback_answers[t]["text"] for t in taps] == [fi.plain("Saved.")] * 2
    assert (await bertil.ask("/help")).text.startswith("Din åtkomst")


async def test_a_role_change_is_told_to_the_person_with_their_new_commands(team, telegram):
    aino, bertil = team
    card = await open_card(aino, "Bertil")
    updated = await aino.click_and_wait(card, fi.plain("coordinator"))
    assert "✓ " + fi.plain("coordinator") in str(updated.buttons)

    note = await bertil.next_message()
    assert note.text.startswith("En koordinator ändrade dina roller.")
    assert "/people" in note.text
    await telegram.settle()
    menu = telegram.commands_for(scope={"type": "chat", "chat_id": 2002})
    assert "people" in [c["command"] for c in menu]


async def test_double_taps_on_roles_and_reactivation_are_harmless(team, telegram, caplog):
    aino, bertil = team
    card = await open_card(aino, "Bertil")
    first = await aino.press(card, fi.plain("caller"))
    second = await aino.press(card, fi.plain("caller"))  # the same, stale button again
    await telegram.settle()
    assert telegram.callback_answers[first]["text"] == fi.plain("Saved.")
    assert telegram.callback_answers[second]["text"] == fi.plain("Saved.")
    notes = [m for m in telegram.messages(2002) if "ändrade dina roller" in m.text]
    assert len(notes) == 1  # told once, not twice

    question = await aino.click_and_wait(telegram.current(card), fi.plain("Deactivate"))
    done = await aino.click_and_wait(question, fi.plain("Yes, deactivate"))
    taps = [await aino.press(done, fi.plain("Reactivate")) for _ in range(2)]
    await telegram.settle()
    assert all(telegram.callback_answers[t]["text"] == fi.plain("Saved.") for t in taps)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert "frivillig" in (await bertil.ask("/whoami")).text


async def test_the_last_role_cannot_be_taken_away(team, telegram):
    aino, _ = team
    card = await open_card(aino, "Bertil")
    query = await aino.press(card, "✓ " + fi.plain("volunteer"))
    await telegram.settle()
    assert telegram.callback_answers[query]["text"].startswith("Henkilöllä on oltava ainakin")
    assert "✓ " + fi.plain("volunteer") in str(telegram.current(card).buttons)


async def test_a_coordinator_cannot_deactivate_themself(team, telegram):
    aino, _ = team
    card = await open_card(aino, "Aino")
    question = await aino.click_and_wait(card, fi.plain("Deactivate"))
    query = await aino.press(question, fi.plain("Yes, deactivate"))
    await telegram.settle()
    assert telegram.callback_answers[query]["text"].startswith("Et voi poistaa itseäsi")
    assert "/people" in (await aino.ask("/help")).text


async def test_volunteers_are_refused_coordinator_commands(team):
    _, bertil = team
    for command in ("/people", "/invite volunteer", "/invite"):
        reply = await bertil.ask(command)
        assert reply.text == sv.plain("Sorry, your role does not allow that.")


async def test_forged_buttons_change_nothing(team, telegram):
    aino, bertil = team
    mine = await bertil.ask("/whoami")
    for forged in (
        SetRole(2, Role.COORDINATOR, True).pack(),
        SetActive(1, False, True).pack(),
        PeoplePage(1).pack(),
    ):
        query = await bertil.press_data(mine, forged)
        await telegram.settle()
        assert telegram.callback_answers[query]["text"] == sv.plain(
            "Sorry, your role does not allow that."
        )
    for junk in ("R|2|emperor|1", "A|x|0|1"):  # refused on the role before any parsing
        query = await bertil.press_data(mine, junk)
        await telegram.settle()
        assert telegram.callback_answers[query]["text"] == sv.plain(
            "Sorry, your role does not allow that."
        )
    for junk in ("zzz", "L|de", "L|fi|x"):
        query = await bertil.press_data(mine, junk)
        await telegram.settle()
        assert telegram.callback_answers[query]["text"] == sv.plain(
            "This button is no longer valid."
        )
    assert "/people" not in (await bertil.ask("/help")).text
    assert "/people" in (await aino.ask("/help")).text


async def test_a_press_on_a_deleted_card_answers_with_a_new_message(team, telegram):
    aino, _ = team
    card = await open_card(aino, "Bertil")
    async with httpx.AsyncClient() as client:  # the person deletes the card in their app
        await client.post(
            f"{telegram.base_url}{telegram.token}/deleteMessage",
            data={"chat_id": 1001, "message_id": card.message_id},
        )
    # A press from a client that still shows it (another device, or a race with the deletion).
    query = await aino.press_data(card, card.button_data[fi.plain("caller")])
    await telegram.settle()
    assert telegram.callback_answers[query]["text"] == fi.plain("Saved.")
    fresh = telegram.messages(1001)[-1]
    assert fresh.message_id != card.message_id and not fresh.deleted
    assert "✓ " + fi.plain("caller") in str(fresh.buttons)


async def test_an_old_card_still_works_after_a_restart(bot, team):
    aino, _bertil = team
    card = await open_card(aino, "Bertil")
    await bot.restart()
    updated = await aino.click_and_wait(card, fi.plain("caller"))
    assert "✓ " + fi.plain("caller") in str(updated.buttons)


async def test_a_fault_is_logged_without_personal_data_and_the_user_told(
    bot, team, monkeypatch, caplog
):
    aino, _ = team
    services = bot.app.bot_data.services

    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.people, "page", broken)
    configure_logging("DEBUG")  # the most talkative setting an operator can choose
    with caplog.at_level(logging.DEBUG):
        reply = await aino.ask("/people Maija Meikäläinen 040 1234567")
    assert reply.text.startswith("Pahoittelen, minulla meni jotain vikaan.")
    faults = [r for r in caplog.records if r.name == "handlers.errors"]
    assert faults and "RuntimeError" in faults[0].getMessage()
    for record in caplog.records:
        logged = record.getMessage() + (record.exc_text or "")
        assert "Aino" not in logged
        assert "Maija" not in logged and "1234567" not in logged
    # The bot goes on working.
    monkeypatch.undo()
    assert "Aino" in (await aino.ask("/people")).text


async def test_the_bot_keeps_working_when_a_person_blocked_it(team, telegram):
    aino, bertil = team
    bertil.block()
    card = await open_card(aino, "Bertil")
    updated = await aino.click_and_wait(card, fi.plain("caller"))  # the note to Bertil fails
    assert "✓ " + fi.plain("caller") in str(updated.buttons)
    assert "Aino" in (await aino.ask("/whoami")).text
