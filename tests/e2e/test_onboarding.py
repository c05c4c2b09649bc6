"""Onboarding through the fake Bot API: invites, registration, languages, menus, strangers."""

from __future__ import annotations

import re

from bot.i18n import translators

fi, sv, en = (translators()[lang] for lang in ("fi", "sv", "en"))


def code_in(text: str) -> str:
    """Return the invite code from an invite message (the `/start CODE` line)."""
    match = re.search(r"/start ([A-Za-z0-9_-]{22,})", text)
    assert match, text
    return match.group(1)


async def test_cli_invite_registers_a_coordinator_who_sees_their_commands_in_finnish(
    bot, telegram, cli
):
    status, lines = await cli("invite", "--role", "coordinator", "--name", "Aino")
    assert status == 0
    code = lines[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", code)
    assert f"https://t.me/apuri_test_bot?start={code}" in "\n".join(lines)

    aino = telegram.user(1001, "Aino Telegram", language_code="fi-FI")
    welcome = await aino.ask(f"/start {code}")
    assert "Tervetuloa Apuriin, Aino!" in welcome.text
    assert fi.plain("coordinator") in welcome.text

    help_text = (await aino.ask("/help")).text
    assert "/invite" in help_text and "/people" in help_text
    assert fi.plain("Change the language") in help_text

    whoami = (await aino.ask("/whoami")).text
    assert "Aino" in whoami and "koordinaattori" in whoami and "Suomi" in whoami


async def test_coordinator_invites_a_volunteer_in_chat_who_is_served_in_swedish(
    bot, telegram, register
):
    aino = await register(1001, "Aino", "coordinator")
    invite = await aino.ask("/invite volunteer")
    assert fi.plain("volunteer") in invite.text
    assert "https://t.me/apuri_test_bot?start=" in invite.text

    bertil = telegram.user(2002, "Bertil", language_code="sv-FI")
    welcome = await bertil.ask(f"/start {code_in(invite.text)}")
    assert "Välkommen till Apuri, Bertil!" in welcome.text
    help_text = (await bertil.ask("/help")).text
    assert "/whoami" in help_text
    assert "/invite" not in help_text and "/people" not in help_text


async def test_invite_buttons_and_partner_organisations(bot, telegram, register):
    aino = await register(1001, "Aino", "coordinator")
    menu = await aino.ask("/invite")
    invite = await aino.click_and_wait(menu, fi.plain("caller"))
    assert fi.plain("caller") in invite.text and code_in(invite.text)

    needs_org = (await aino.ask("/invite partner")).text
    assert "/invite partner" in needs_org  # tells how to name the organisation

    named = await aino.ask("/invite partner Testalan seurakunta")
    assert "Testalan seurakunta" in named.text

    menu = await aino.ask("/invite")
    chooser = await aino.click_and_wait(menu, fi.plain("partner contact"))
    chosen = await aino.click_and_wait(chooser, "Testalan seurakunta")
    deacon = telegram.user(3003, "Diakoni", language_code="fi")
    await deacon.ask(f"/start {code_in(chosen.text)}")
    assert "Testalan seurakunta" in (await deacon.ask("/whoami")).text


async def test_unknown_role_offers_the_roles(bot, register):
    aino = await register(1001, "Aino", "coordinator")
    reply = await aino.ask("/invite astronaut")
    assert reply.text == fi.plain("I do not know that role. Choose one:")
    assert len(reply.buttons) == 5


async def test_a_stranger_gets_one_polite_answer_in_their_language_and_nothing_else(bot, telegram):
    stranger = telegram.user(6006, "Stranger", language_code="en-US")
    for text in ("hello", "/help", "/people", "/start"):
        reply = await stranger.ask(text)
        assert reply.text.startswith("Hello! This bot serves registered helpers")
    await telegram.settle()
    assert len(telegram.messages(6006)) == 4
    assert all("invite link" in m.text for m in telegram.messages(6006))


async def test_a_stranger_with_an_unsupported_language_gets_the_default(bot, telegram):
    stranger = telegram.user(6007, "Fremder", language_code="de")
    reply = await stranger.ask("hallo")
    assert reply.text.startswith("Hei! Tämä botti palvelee")


async def test_used_expired_and_wrong_codes_are_explained(bot, telegram, cli, clock):
    _, first = await cli("invite", "--role", "volunteer")
    _, second = await cli("invite", "--role", "volunteer")
    alice = telegram.user(7001, "Alice", language_code="en")
    bob = telegram.user(7002, "Bob", language_code="en")

    await alice.ask(f"/start {first[-1]}")
    used = await bob.ask(f"/start {first[-1]}")
    assert used.text == en.plain(
        "That invite has been used already. Ask your coordinator for a new one."
    )
    wrong = await bob.ask("/start NotARealCodeNotARealCode")
    assert wrong.text.startswith("That invite code is not valid.")

    clock.advance(days=7, seconds=1)
    expired = await bob.ask(f"/start {second[-1]}")
    assert expired.text == en.plain("That invite has expired. Ask your coordinator for a new one.")


async def test_more_than_five_wrong_codes_lock_further_tries_for_an_hour(bot, telegram, cli, clock):
    _, lines = await cli("invite", "--role", "volunteer")
    mallory = telegram.user(8008, "Mallory", language_code="en")
    for attempt in range(6):
        reply = await mallory.ask(f"/start guess{attempt:020d}")
        assert reply.text.startswith("That invite code is not valid.")
        clock.advance(minutes=1)
    locked = await mallory.ask(f"/start {lines[-1]}")
    assert locked.text.startswith("Too many wrong codes.")
    clock.advance(minutes=55)
    welcome = await mallory.ask(f"/start {lines[-1]}")
    assert welcome.text.startswith("Welcome to Apuri, Mallory")


async def test_start_for_another_bot_gets_only_the_polite_answer(bot, telegram):
    stranger = telegram.user(6008, "Stranger", language_code="en")
    reply = await stranger.ask("/start@some_other_bot")
    assert reply.text.startswith("Hello! This bot serves registered helpers")
    await telegram.settle()
    assert len(telegram.messages(6008)) == 1


async def test_language_choice_is_remembered_across_a_restart(bot, telegram, register):
    bertil = await register(2002, "Bertil", "volunteer", language="fi")
    chooser = await bertil.ask("/language")
    assert chooser.buttons == [["✓ Suomi", "Svenska", "English"]]
    changed = await bertil.click_and_wait(chooser, "Svenska")
    assert changed.text == "Språk: Svenska"

    await bot.restart()
    whoami = (await bertil.ask("/whoami")).text
    assert "Roller: frivillig" in whoami and "Språk: Svenska" in whoami


async def test_a_restart_keeps_people_and_roles(bot, telegram, register):
    aino = await register(1001, "Aino", "coordinator")
    await register(2002, "Bertil", "volunteer", language="sv")
    await bot.restart()
    assert "/people" in (await aino.ask("/help")).text
    bertil = telegram.user(2002, "Bertil", language_code="sv")
    assert "frivillig" in (await bertil.ask("/whoami")).text


async def test_menus_are_set_per_language_and_per_person(bot, telegram, register):
    default_menus = {
        key: [c["command"] for c in commands] for key, commands in telegram.commands.items()
    }
    assert any(names == ["start", "help", "whoami", "language"] for names in default_menus.values())
    languages = {key[1] for key in telegram.commands}
    assert {"fi", "sv", "en"} <= languages

    await register(1001, "Aino", "coordinator")
    await telegram.settle()
    aino_menu = telegram.commands_for(scope={"type": "chat", "chat_id": 1001})
    names = [c["command"] for c in aino_menu]
    assert names[:6] == ["start", "help", "whoami", "language", "invite", "people"]
    assert {"newtask", "open", "task", "tasks", "resident", "pair"} <= set(names)
    assert not {"available", "away", "areas"} & set(names)  # a coordinator is not a volunteer
    assert aino_menu[1]["description"] == fi.plain("What I can do for you")
