"""Coordinators form and dissolve pairs by buttons; stale, forged and repeated presses are safe."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.people import Role
from bot.domain.residents import ResidentInput
from bot.domain.tasks import Holder, Priority, TaskKind
from bot.domain.windows import TimeWindow
from bot.i18n import translators
from handlers.callback_data import DissolvePair, FormPair, PickPairMember, ShowPairs

fi, sv, en = translators()["fi"], translators()["sv"], translators()["en"]

NOT_ALLOWED = "Sorry, your role does not allow that."
IN_PAIR = "Someone you chose is in a pair already. Send /pair to see the pairs as they are now."


@pytest.fixture
async def team(bot, register):
    aino = await register(1001, "Aino", "coordinator")
    bertil = await register(2002, "Bertil", "volunteer", language="sv")
    cecilia = await register(3003, "Cecilia", "volunteer", language="en")
    david = await register(4004, "David", "volunteer")
    return aino, bertil, cecilia, david


async def organisation_step(aino, first, second):
    """Open /pair, tap New pair and choose two people; return the organisation question."""
    listing = await aino.ask("/pair")
    step = await aino.click_and_wait(listing, fi.plain("➕ New pair"))
    assert fi.plain("Choose the first volunteer:") in step.text
    step = await aino.click_and_wait(step, first)
    assert fi.plain("Who visits with {name}?", name=first) in step.text
    assert first not in str(step.buttons)
    return await aino.click_and_wait(step, second)


async def form(aino, first, second, organisation=None):
    step = await organisation_step(aino, first, second)
    return await aino.click_and_wait(step, organisation or fi.plain("No organisation"))


def services_of(bot):
    return bot.app.bot_data.services


async def current_pairs(bot):
    services = services_of(bot)
    coordinator = await services.people.identify(1001)
    return [p.names for p in await services.pairs.current(coordinator)]


async def test_a_pair_is_formed_with_buttons_and_both_are_told(bot, team):
    aino, bertil, cecilia, _ = team
    done = await form(aino, "Bertil", "Cecilia")
    assert fi.plain("Pair formed: {line}", line="Bertil & Cecilia") in done.text
    assert fi.plain("I told them both.") in done.text
    assert await current_pairs(bot) == ["Bertil & Cecilia"]

    note = await bertil.next_message()
    assert note.text.startswith(sv.plain("You are now paired with {name}.", name="Cecilia"))
    note = await cecilia.next_message()
    assert note.text.startswith(en.plain("You are now paired with {name}.", name="Bertil"))
    assert "/away" in note.text


async def test_the_list_shows_pairs_organisations_and_availability(team, register):
    aino, bertil, _, _ = team
    await register(5005, "Eeva", "partner", organisation="Punainen Risti")
    step = await organisation_step(aino, "Bertil", "Cecilia")
    assert fi.plain("No organisation") in str(step.buttons)
    await aino.click_and_wait(step, "Punainen Risti")

    listing = await aino.ask("/pair")
    assert "Bertil & Cecilia · Punainen Risti" in listing.text
    assert fi.plain("✅ available") in listing.text
    assert fi.plain("all areas") in listing.text
    assert fi.plain("Dissolve {names}", names="Bertil & Cecilia") in str(listing.buttons)

    await bertil.ask("/away")
    await bertil.ask("/areas 70")
    listing = await aino.ask("/pair")
    assert fi.plain("⏸ not available: {names}", names="Bertil") in listing.text
    assert fi.plain("areas: {areas}", areas="70") in listing.text


async def test_an_empty_list_invites_a_new_pair(team):
    aino, *_ = team
    listing = await aino.ask("/pair")
    assert listing.text == fi.plain("No pairs yet. Tap “New pair” to form one.")
    assert listing.buttons == [[fi.plain("➕ New pair")]]


async def test_cancel_goes_back_to_the_list_and_forms_nothing(bot, team):
    aino, *_ = team
    step = await organisation_step(aino, "Bertil", "Cecilia")
    back = await aino.click_and_wait(step, fi.plain("Cancel"))
    assert back.buttons == [[fi.plain("➕ New pair")]]
    assert await current_pairs(bot) == []


async def test_dissolving_asks_first_and_tells_the_pair(bot, team, telegram):
    aino, bertil, cecilia, _ = team
    await form(aino, "Bertil", "Cecilia")
    await bertil.next_message()
    await cecilia.next_message()
    listing = await aino.ask("/pair")
    dissolve = fi.plain("Dissolve {names}", names="Bertil & Cecilia")

    question = await aino.click_and_wait(listing, dissolve)
    assert fi.plain("Yes, dissolve") in str(question.buttons)
    kept = await aino.click_and_wait(question, fi.plain("No"))
    assert "Bertil & Cecilia" in kept.text
    assert await current_pairs(bot) == ["Bertil & Cecilia"]

    question = await aino.click_and_wait(kept, dissolve)
    done = await aino.click_and_wait(question, fi.plain("Yes, dissolve"))
    assert done.text == fi.plain("The pair {names} was dissolved.", names="Bertil & Cecilia")
    assert await current_pairs(bot) == []
    note = await bertil.next_message()
    assert note.text == sv.plain("A coordinator dissolved your pair with {name}.", name="Cecilia")
    note = await cecilia.next_message()
    assert note.text == en.plain("A coordinator dissolved your pair with {name}.", name="Bertil")

    # A second tap on the old question changes nothing and says why.
    query = await aino.press_data(question, DissolvePair(1, True).pack())
    await telegram.settle()
    assert telegram.callback_answers[query]["text"].startswith(
        fi.plain(
            "That pair no longer exists; it may have been dissolved already. "
            "Send /pair to see the pairs as they are now."
        )
    )
    # The two are free to pair again.
    listing = await aino.ask("/pair")
    step = await aino.click_and_wait(listing, fi.plain("➕ New pair"))
    assert "Bertil" in str(step.buttons) and "Cecilia" in str(step.buttons)


async def test_dissolving_reports_the_tasks_that_went_back(bot, team):
    aino, bertil, _, _ = team
    await form(aino, "Bertil", "Cecilia")
    await bertil.next_message()
    services = services_of(bot)
    coordinator = await services.people.identify(1001)
    (pair,) = await services.pairs.current(coordinator)
    resident = (
        await services.residents.save(None, ResidentInput(name="Maija", postal_code="70100"))
    ).resident
    now = bot.clock()
    task = await services.dispatch.create(
        coordinator,
        resident_id=resident.id,
        kind=TaskKind.ERRAND,
        # Far enough ahead that the sweep's first run sends no reminder in between.
        window=TimeWindow(start=now + timedelta(hours=3), end=now + timedelta(hours=4)),
        priority=Priority.NORMAL,
        details="",
    )
    await services.dispatch.assign(coordinator, task.id, Holder(pair_id=pair.id))

    listing = await aino.ask("/pair")
    question = await aino.click_and_wait(
        listing, fi.plain("Dissolve {names}", names="Bertil & Cecilia")
    )
    done = await aino.click_and_wait(question, fi.plain("Yes, dissolve"))
    assert fi.plain("Task #{id} went back to open tasks.", id=task.id) in done.text
    note = await bertil.next_message()
    assert sv.plain("A coordinator dissolved your pair with {name}.", name="Cecilia") in note.text
    assert (
        sv.plain("Task #{id} was taken back from you; you no longer need to do it.", id=task.id)
        in note.text
    )
    assert await services.dispatch.my_tasks(await services.people.identify(2002)) == []


async def test_volunteers_are_refused_pairs_whatever_they_forge(bot, team, telegram):
    aino, bertil, _, _ = team
    assert (await bertil.ask("/pair")).text == sv.plain(NOT_ALLOWED)
    mine = await bertil.ask("/whoami")
    for forged in (
        ShowPairs(1).pack(),
        PickPairMember(2, 3, 1).pack(),
        FormPair(2, 3, 0).pack(),
        DissolvePair(1, True).pack(),
        "V|x|3|0",  # refused on the role before any parsing
    ):
        query = await bertil.press_data(mine, forged)
        await telegram.settle()
        assert telegram.callback_answers[query]["text"] == sv.plain(NOT_ALLOWED)
    assert await current_pairs(bot) == []
    assert "/pair" not in (await bertil.ask("/help")).text
    assert "/pair" in (await aino.ask("/help")).text


async def test_junk_data_for_a_coordinator_is_refused_politely(team, telegram):
    aino, *_ = team
    listing = await aino.ask("/pair")
    for junk in ("V|1|2", "U|a|0|1", "W|1|7", "Q|"):
        query = await aino.press_data(listing, junk)
        await telegram.settle()
        assert telegram.callback_answers[query]["text"] == fi.plain(
            "This button is no longer valid."
        )


async def test_a_double_tap_on_the_last_choice_forms_one_pair(bot, team, telegram):
    aino, *_ = team
    step = await organisation_step(aino, "Bertil", "Cecilia")
    data = step.button_data[fi.plain("No organisation")]
    taps = [await aino.press_data(step, data) for _ in range(2)]
    await telegram.settle()
    assert [telegram.callback_answers[t]["text"] for t in taps] == [fi.plain("Saved.")] * 2
    assert await current_pairs(bot) == ["Bertil & Cecilia"]
    notes = [m for m in telegram.messages(2002) if "Cecilia" in m.text]
    assert len(notes) == 1  # told once, not twice


async def test_a_person_already_paired_cannot_be_paired_again(bot, team, telegram):
    aino, *_ = team
    stale = await organisation_step(aino, "Bertil", "Cecilia")
    first_step = await aino.click_and_wait(await aino.ask("/pair"), fi.plain("➕ New pair"))
    await form(aino, "Bertil", "David")  # meanwhile, on another message

    query = await aino.press(stale, fi.plain("No organisation"))
    await telegram.settle()
    assert telegram.callback_answers[query]["text"] == fi.plain(IN_PAIR)
    query = await aino.press(first_step, "Bertil")  # a stale first choice
    await telegram.settle()
    assert telegram.callback_answers[query]["text"] == fi.plain(IN_PAIR)

    assert await current_pairs(bot) == ["Bertil & David"]
    assert not [m for m in telegram.messages(3003) if "paired" in m.text]
    fresh = await aino.click_and_wait(await aino.ask("/pair"), fi.plain("➕ New pair"))
    assert fresh.buttons[0] == ["Cecilia"]


async def test_an_old_pair_message_still_works_after_a_restart(bot, team):
    aino, *_ = team
    listing = await aino.ask("/pair")
    step = await aino.click_and_wait(listing, fi.plain("➕ New pair"))
    step = await aino.click_and_wait(step, "Bertil")
    await bot.restart()
    step = await aino.click_and_wait(step, "David")
    done = await aino.click_and_wait(step, fi.plain("No organisation"))
    assert fi.plain("I told them both.") in done.text
    assert await current_pairs(bot) == ["Bertil & David"]

    listing = await aino.ask("/pair")
    await bot.restart()
    question = await aino.click_and_wait(
        listing, fi.plain("Dissolve {names}", names="Bertil & David")
    )
    done = await aino.click_and_wait(question, fi.plain("Yes, dissolve"))
    assert "Bertil & David" in done.text
    assert await current_pairs(bot) == []


async def add_volunteers(bot, count):
    """Register volunteers straight through the services (faster than chat), by name order."""
    services = services_of(bot)
    people = []
    for i in range(count):
        issued = await services.invites.create(None, Role.VOLUNTEER, name=f"Helper{i:02d}")
        redeemed = await services.invites.redeem(
            6000 + i, issued.code, telegram_name=f"Helper{i:02d}", language_code="fi"
        )
        people.append(redeemed.person)
    return people


async def test_long_lists_are_paged(bot, team):
    aino, *_ = team
    helpers = await add_volunteers(bot, 24)
    step = await aino.click_and_wait(await aino.ask("/pair"), fi.plain("➕ New pair"))
    names = [name for row in step.buttons for name in row]
    assert len([n for n in names if n.startswith("Helper")]) == 17  # 20 a page, 3 volunteers
    assert ["▶"] in step.buttons
    second_page = await aino.click_and_wait(step, "▶")
    assert "Helper23" in str(second_page.buttons) and ["◀"] in second_page.buttons
    step = await aino.click_and_wait(second_page, "Helper23")
    assert "Helper23" not in str(step.buttons)

    services = services_of(bot)
    coordinator = await services.people.identify(1001)
    for first, second in zip(helpers[0:18:2], helpers[1:18:2], strict=True):
        await services.pairs.form(coordinator, first.id, second.id)
    listing = await aino.ask("/pair")
    heading = fi.ngettext(
        "<b>{n} pair</b> (page {page}/{pages})",
        "<b>{n} pairs</b> (page {page}/{pages})",
        9,
        page=1,
        pages=2,
    )
    assert listing.text.startswith(heading.replace("<b>", "").replace("</b>", ""))
    assert len([d for d in listing.button_data.values() if d.startswith("W|")]) == 8
    last = await aino.click_and_wait(listing, "▶")
    assert "Helper16 & Helper17" in last.text
