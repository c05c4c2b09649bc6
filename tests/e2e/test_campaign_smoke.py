"""Smoke: a coordinator starts a campaign in the chat; the caller takes a call and reports it."""

from __future__ import annotations

from bot.i18n import translators
from tests.e2e.forms_helpers import button, choice, press
from tests.e2e.teams import CALLER

fi = translators()["fi"]


async def test_campaign_from_start_to_a_reached_call(team, telegram):
    aino, frida = team.aino, team.frida
    reply = await aino.ask("/campaign new")
    reply = await aino.ask("Syksyn soitot")
    await aino.click_and_wait(reply, fi.plain("Aged {age} or over", age=70))
    area = telegram.last_message(1001) if hasattr(telegram, "last_message") else None
    msgs = telegram.messages(1001)
    area = msgs[-1]
    callers = await aino.click_and_wait(area, fi.plain("Everywhere"))
    attempts = await aino.click_and_wait(callers, fi.plain("All callers"))
    gap = await aino.click_and_wait(attempts, "• 2")
    summary = await aino.click_and_wait(gap, "• 3 h")
    print(summary.text)
    started = await aino.click_and_wait(summary, fi.plain("✅ Start: call {n}", n="1"))
    print(started.text)
    card = await frida.ask("/call")
    print(card.text)
    prompt = await press(frida, card, button("📝 Record the call"))
    prompt = await press(frida, prompt, choice("phone_check", "contact", "reached"))
    prompt = await press(frida, prompt, button("Yes"))
    prompt = await press(frida, prompt, button("Done ✔"))
    prompt = await press(frida, prompt, button("No"))
    prompt = await press(frida, prompt, button("Skip"))
    done = await press(frida, prompt, button("✅ Submit"))
    print(done.text)
    await telegram.settle()
    print([m.text for m in telegram.messages(CALLER)][-3:])
    overview = await aino.ask("/campaign")
    print(overview.text)
    assert "1" in overview.text
