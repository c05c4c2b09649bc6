"""Smoke: a coordinator broadcasts a message to all volunteers and gets the report."""

from __future__ import annotations

from bot.i18n import translators
from tests.e2e.teams import VOLUNTEERS

fi = translators()["fi"]


async def test_message_to_all_volunteers(team, telegram):
    aino = team.aino
    menu = await aino.ask("/broadcast")
    await aino.click_and_wait(menu, fi.plain("📣 A message"))
    audience = telegram.current(menu)
    await aino.click_and_wait(audience, fi.plain("All volunteers"))
    preview = await aino.ask("Kokous siirtyy <torstaihin> & kello 18")
    assert "4" in preview.text
    send = next(label for label in preview.button_data if label.startswith("✅"))
    await aino.press(preview, send)
    await telegram.wait_for(
        lambda: all(
            any("torstaihin" in m.text for m in telegram.messages(v)) for v in VOLUNTEERS
        ),
        5,
        what="the broadcast",
    )
    for v in VOLUNTEERS:
        got = [m for m in telegram.messages(v) if "torstaihin" in m.text]
        assert len(got) == 1
        assert "<torstaihin> & kello 18" in got[0].text
    await telegram.wait_for(
        lambda: any("#1" in m.text for m in telegram.messages(1001)), 10, what="the report"
    )
    for m in telegram.messages(1001)[-3:]:
        print("AINO>", m.text, m.reply_markup)
    print("VOL>", telegram.messages(2001)[-1].text)
