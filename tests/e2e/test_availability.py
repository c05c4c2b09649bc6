"""Volunteers say when (/available, /away) and where (/areas) they take offers."""

from __future__ import annotations

import pytest

from bot.i18n import translators

fi, sv = translators()["fi"], translators()["sv"]

NOT_ALLOWED = "Sorry, your role does not allow that."


@pytest.fixture
async def team(bot, register):
    aino = await register(1001, "Aino", "coordinator")
    bertil = await register(2002, "Bertil", "volunteer", language="sv")
    cecilia = await register(3003, "Cecilia", "volunteer")
    return aino, bertil, cecilia


async def pair(aino, first, second):
    step = await aino.click_and_wait(await aino.ask("/pair"), fi.plain("➕ New pair"))
    step = await aino.click_and_wait(step, first)
    step = await aino.click_and_wait(step, second)
    await aino.click_and_wait(step, fi.plain("No organisation"))


async def test_away_then_available(bot, team):
    _, bertil, _ = team
    away = await bertil.ask("/away")
    assert away.text.startswith(
        sv.plain("⏸ You are away: no offers come to you until you send /available.")
    )
    assert sv.plain("Your areas: all (no limits)") in away.text
    assert (
        sv.plain("You are not in a pair yet. Offers go to pairs; your coordinator forms them.")
        in away.text
    )
    services = bot.app.bot_data.services
    assert not (await services.people.identify(2002)).available

    again = await bertil.ask("/away")  # twice is harmless
    assert again.text == away.text

    back = await bertil.ask("/available")
    assert back.text.startswith(sv.plain("✅ You are available: offers can come to you."))
    assert (await services.people.identify(2002)).available


async def test_a_volunteer_sees_their_pair_and_a_partner_away(team):
    aino, bertil, cecilia = team
    await pair(aino, "Bertil", "Cecilia")
    await bertil.ask("/away")
    reply = await cecilia.ask("/available")
    assert fi.plain("Your pair: with {name}", name="Bertil") in reply.text
    assert (
        fi.plain("Your pair takes no offers until {names} is available again.", names="Bertil")
        in reply.text
    )
    reply = await bertil.ask("/available")
    assert sv.plain("Your pair: with {name}", name="Cecilia") in reply.text
    assert (
        sv.plain("Your pair takes no offers until {names} is available again.", names="Cecilia")
        not in reply.text
    )
    listing = await aino.ask("/pair")
    assert fi.plain("✅ available") in listing.text


async def test_areas_are_set_shown_and_cleared(bot, team):
    _, bertil, _ = team
    shown = await bertil.ask("/areas")
    assert sv.plain("Your areas: all (no limits)") in shown.text
    assert "/areas 70 71100" in shown.text

    saved = await bertil.ask("/areas 71100, 70")
    assert saved.text.startswith(sv.plain("Saved."))
    assert sv.plain("Your areas: {areas}", areas="70, 71100") in saved.text
    services = bot.app.bot_data.services
    bertil_person = await services.people.identify(2002)
    assert (await services.pairs.availability(bertil_person)).areas == {"70", "71100"}

    shown = await bertil.ask("/areas")
    assert sv.plain("Your areas: {areas}", areas="70, 71100") in shown.text

    for everywhere in ("all", "kaikki", "ALLA"):
        await bertil.ask("/areas 70")
        cleared = await bertil.ask(f"/areas {everywhere}")
        assert sv.plain("Your areas: all (no limits)") in cleared.text
        assert (await services.pairs.availability(bertil_person)).areas == frozenset()


async def test_bad_areas_are_explained_and_change_nothing(bot, team):
    _, bertil, cecilia = team
    await bertil.ask("/areas 70")
    bad = await bertil.ask("/areas 70 Helsinki")
    assert bad.text.startswith(
        sv.plain("Postal codes are one to five digits, such as 70 or 71100.")
    )
    assert "/areas 70 71100" in bad.text
    bad = await bertil.ask("/areas 123456")
    assert bad.text.startswith(
        sv.plain("Postal codes are one to five digits, such as 70 or 71100.")
    )
    many = await cecilia.ask("/areas " + " ".join(str(10 + i) for i in range(21)))
    assert many.text.startswith(fi.plain("That is too many areas: at most {n}.", n=20))
    services = bot.app.bot_data.services
    bertil_person = await services.people.identify(2002)
    assert (await services.pairs.availability(bertil_person)).areas == {"70"}


async def test_a_coordinator_without_the_volunteer_role_is_refused(team):
    aino, _, _ = team
    for command in ("/available", "/away", "/areas", "/areas 70"):
        reply = await aino.ask(command)
        assert reply.text == fi.plain(NOT_ALLOWED)
    help_text = (await aino.ask("/help")).text
    assert "/away" not in help_text and "/pair" in help_text


async def test_volunteers_see_the_commands_in_their_help(team):
    _, bertil, _ = team
    help_text = (await bertil.ask("/help")).text
    for command in ("/available", "/away", "/areas"):
        assert command in help_text
