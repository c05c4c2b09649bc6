"""/broadcast end to end: a coordinator reaches exactly the chosen people, in their languages.

Aino (fi) coordinates; the cast is `teams.py`. Every check reads what the fake Telegram shows:
who got a message, how many, in which language and how it looks, and what the author was told.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.domain.broadcasts import BroadcastProblem
from bot.domain.people import Role
from bot.i18n import translators
from handlers.render import broadcast_problem_text, role_name
from tests.e2e.broadcast_helpers import (
    answer_to,
    choose,
    compose,
    delivered,
    header,
    label,
    received,
    reply_after,
    send,
    send_label,
    send_photo,
    shown,
    start,
    wait_for_report,
)
from tests.e2e.teams import PARISH, VOLUNTEERS
from tests.fakes.telegram_html import utf16_len

fi, sv = translators()["fi"], translators()["sv"]

AINO = 1001
BERTIL, CECILIA, DANIEL, EEVA = VOLUNTEERS
FRIDA = 3001
GUSTAV, HELMI = 4001, 4002
EVERYONE = (BERTIL, CECILIA, DANIEL, EEVA, FRIDA, GUSTAV, HELMI)
LANGUAGE = {BERTIL: "sv", CECILIA: "fi", DANIEL: "en", EEVA: "fi", FRIDA: "fi"}
LANGUAGE |= {GUSTAV: "fi", HELMI: "sv"}
NAMES = {BERTIL: "Bertil", CECILIA: "Cecilia", DANIEL: "Daniel", EEVA: "Eeva", FRIDA: "Frida"}
NAMES |= {GUSTAV: "Gustav", HELMI: "Helmi"}

CLOSED = "This form is closed. Send /broadcast to start again."
NOT_ALLOWED = "Sorry, your role does not allow that."


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"broadcast_max_file_mb": 1})


def recipients_line(chats: tuple[int, ...]) -> str:
    """The preview's count line for these recipients, as Aino reads it."""
    spread: dict[str, int] = {}
    for chat in chats:
        spread[LANGUAGE[chat]] = spread.get(LANGUAGE[chat], 0) + 1
    languages = ", ".join(f"{lang} {n}" for lang, n in sorted(spread.items()))
    return shown(fi.gettext("Recipients: {n} ({languages})", n=len(chats), languages=languages))


def problem(kind: BroadcastProblem, language: str = "fi", mb: int = 1) -> str:
    return shown(broadcast_problem_text(translators()[language], kind, mb=mb))


def message_question() -> str:
    return shown(
        fi.gettext(
            "Write the message. You can also send one photo or document (at most {mb} MB) "
            "with the text as its caption.",
            mb=1,
        )
    )


def audience_labels() -> list[str]:
    return [
        label(msgid)
        for msgid in (
            "Everyone",
            "All volunteers",
            "Available volunteers",
            "An organisation",
            "A role",
            "An area (postal code)",
            "Chosen pairs",
        )
    ]


def nobody_got(telegram, marker: str, chats=EVERYONE) -> None:
    got = {chat: [m.text for m in received(telegram, chat, marker)] for chat in chats}
    assert not any(got.values()), got


async def broadcast_to(
    team, telegram, audience: str, *detail: str, expected: tuple[int, ...], marker: str
) -> dict:
    """Compose and send to an audience; check the preview and exactly who got it."""
    body = f"{marker}: kokous torstaina klo 18."
    preview = await compose(telegram, team.aino, audience, *detail, text=body)
    assert recipients_line(expected) in preview.text
    assert send_label(preview) == label("✅ Send to {n}", n=len(expected))
    await send(telegram, team.aino, preview)
    got = await delivered(telegram, expected, marker)
    others = tuple(chat for chat in (*EVERYONE, AINO) if chat not in expected)
    await telegram.settle()
    nobody_got(telegram, marker, others)
    for chat, (message,) in got.items():
        assert message.text == f"{header(LANGUAGE[chat])}\n\n{body}"
    return got


# --- 1. each audience reaches exactly its people, never the author ------------------------------


async def test_everyone_reaches_every_other_person(team, telegram):
    await broadcast_to(team, telegram, "Everyone", expected=EVERYONE, marker="KAIKILLE")


async def test_all_volunteers(team, telegram):
    await broadcast_to(team, telegram, "All volunteers", expected=VOLUNTEERS, marker="VAPAAEHT")


async def test_available_volunteers_leave_out_who_is_away(team, telegram):
    away = await team.bertil.ask("/away")
    assert away.text
    await broadcast_to(
        team,
        telegram,
        "Available volunteers",
        expected=(CECILIA, DANIEL, EEVA),
        marker="SAATAVILLA",
    )


async def test_an_organisation(team, telegram):
    await broadcast_to(
        team, telegram, "An organisation", PARISH, expected=(GUSTAV, HELMI), marker="SEURAKUNTA"
    )


async def test_a_role(team, telegram):
    await broadcast_to(
        team, telegram, "A role", role_name(fi, Role.CALLER), expected=(FRIDA,), marker="SOITTAJA"
    )


async def test_an_area_reaches_who_works_there_and_who_works_everywhere(team, telegram):
    for user, area in ((team.daniel, "70"), (team.eeva, "70"), (team.bertil, "33")):
        await user.ask(f"/areas {area}")
    await team.cecilia.ask("/areas 33")
    await broadcast_to(
        team, telegram, "An area (postal code)", "70", expected=(DANIEL, EEVA), marker="ALUE1"
    )
    await wait_for_report(telegram, AINO, 1)  # Aino's chat is quiet before the next form
    # Cecilia covers everywhere again: an area reaches her too.
    await team.cecilia.ask("/areas kaikki")
    await broadcast_to(
        team,
        telegram,
        "An area (postal code)",
        "701",
        expected=(CECILIA, DANIEL, EEVA),
        marker="ALUE2",
    )


async def test_chosen_pairs(team, telegram):
    aino = team.aino
    form = await start(telegram, aino)
    pairs = await choose(telegram, aino, form, label("Chosen pairs"))
    assert "▫️ Bertil & Cecilia" in pairs.button_data
    assert "▫️ Daniel & Eeva" in pairs.button_data
    pairs = await choose(telegram, aino, pairs, "Bertil & Cecilia")
    assert "✅ Bertil & Cecilia" in pairs.button_data
    assert "▫️ Daniel & Eeva" in pairs.button_data
    question = await choose(telegram, aino, pairs, label("Done"))
    assert question.text == message_question()
    preview = await aino.ask("PARIT: huomenna koulutus.")
    assert recipients_line((BERTIL, CECILIA)) in preview.text
    assert "Bertil & Cecilia" in preview.text
    await send(telegram, aino, preview)
    await delivered(telegram, (BERTIL, CECILIA), "PARIT")
    nobody_got(telegram, "PARIT", (DANIEL, EEVA, FRIDA, GUSTAV, HELMI, AINO))


# --- 2. language ---------------------------------------------------------------------------------


async def test_each_recipient_reads_the_header_in_their_language(team, telegram):
    assert len({header("fi"), header("sv"), header("en")}) == 3, "the header is translated"
    assert label("📣 A message") != "📣 A message", "Aino's form is in Finnish"
    preview = await compose(telegram, team.aino, "All volunteers", text="KIELI: hei")
    await send(telegram, team.aino, preview)
    got = await delivered(telegram, VOLUNTEERS, "KIELI")
    assert got[BERTIL][0].text.startswith(header("sv") + "\n\n")
    assert got[DANIEL][0].text.startswith(header("en") + "\n\n")
    assert got[CECILIA][0].text.startswith(header("fi") + "\n\n")
    # The author's name is bold in the header, whatever the language.
    for chat in (BERTIL, DANIEL):
        message = got[chat][0]
        bold = [e for e in message.entities if e["type"] == "bold"]
        assert len(bold) == 1
        start_at = bold[0]["offset"]
        assert "Aino" in message.text[start_at : start_at + bold[0]["length"]]


# --- 3. escaping ---------------------------------------------------------------------------------


async def test_the_text_arrives_literally_never_as_html(team, telegram):
    body = "ESC <b>not bold</b> & <script>alert(1)</script> &amp;"
    preview = await compose(telegram, team.aino, "A role", role_name(fi, Role.CALLER), text=body)
    assert body in preview.text
    await send(telegram, team.aino, preview)
    ((message,),) = (await delivered(telegram, (FRIDA,), "ESC")).values()
    head = header("fi")
    assert message.text == f"{head}\n\n{body}"
    head_units = utf16_len(head)
    for entity in message.entities:
        assert entity["offset"] + entity["length"] <= head_units, entity
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; &lt;script&gt;" in message.raw_text


# --- 4. long texts and more text at the preview -------------------------------------------------


def long_text() -> str:
    paragraphs = [
        f"Kappale {i} 🙂: " + " ".join(f"sana{i}x{j}" for j in range(22)) + "." for i in range(48)
    ]
    return "PITKÄ alku.\n\n" + "\n\n".join(paragraphs)


async def test_a_long_text_goes_in_numbered_parts(team, telegram):
    text = long_text()
    assert 8500 < len(text) < 12_000
    preview = await compose(
        telegram, team.aino, "Chosen pairs", "Daniel & Eeva", label("Done"), text=text
    )
    assert shown(fi.gettext("It goes in {n} messages (Telegram's limit).", n=3)) in preview.text
    await send(telegram, team.aino, preview)
    marker = "Aino"  # every part's header names the author
    await telegram.wait_for(
        lambda: all(len(received(telegram, c, marker)) >= 3 for c in (DANIEL, EEVA)),
        15,
        what="three parts each",
    )
    await telegram.settle()
    for chat in (DANIEL, EEVA):
        parts = received(telegram, chat, marker)
        assert len(parts) == 3
        head = header(LANGUAGE[chat])
        bodies = []
        for number, part in enumerate(parts, 1):
            assert utf16_len(part.text) <= 4096
            prefix = f"{head} ({number}/3)\n\n"
            assert part.text.startswith(prefix), part.text[:80]
            bodies.append(part.text.removeprefix(prefix))
        assert bodies[0].startswith("PITKÄ alku.")
        assert "".join("".join(bodies).split()) == "".join(text.split())
        assert "\n\n".join(bodies) == text  # the cuts fell between paragraphs


async def test_text_typed_at_the_preview_is_added(team, telegram):
    aino = team.aino
    first = await compose(
        telegram, aino, "A role", role_name(fi, Role.CALLER), text="LISÄYS ensimmäinen osa."
    )
    assert "LISÄYS ensimmäinen osa." in first.text
    second = await aino.ask("Toinen osa.")
    assert "LISÄYS ensimmäinen osa.\n\nToinen osa." in second.text
    assert send_label(second) == label("✅ Send to {n}", n=1)
    await send(telegram, aino, second)
    ((message,),) = (await delivered(telegram, (FRIDA,), "LISÄYS")).values()
    assert message.text == f"{header('fi')}\n\nLISÄYS ensimmäinen osa.\n\nToinen osa."


# --- 5. photos and documents ---------------------------------------------------------------------


async def test_a_document_with_its_caption(team, telegram):
    aino = team.aino
    question = await compose(telegram, aino, "An organisation", PARISH)
    assert question.text == message_question()
    count = telegram.message_count(AINO)
    upload = await aino.upload(
        "ohje.pdf", b"%PDF-1.4 ohje" * 100, "application/pdf", caption="DOKUMENTTI <uusi> ohje"
    )
    preview = await reply_after(telegram, aino, count)
    assert shown(fi.gettext("With a document: {name}", name="ohje.pdf")) in preview.text
    assert recipients_line((GUSTAV, HELMI)) in preview.text
    await send(telegram, aino, preview)
    got = await delivered(telegram, (GUSTAV, HELMI), "DOKUMENTTI")
    for chat, (message,) in got.items():
        assert message.document is not None and message.photo is None
        assert message.document["file_id"] == upload["document"]["file_id"]
        assert message.text == f"{header(LANGUAGE[chat])}\n\nDOKUMENTTI <uusi> ohje"


async def test_a_photo_with_its_caption(team, telegram):
    aino = team.aino
    await compose(telegram, aino, "A role", role_name(fi, Role.CALLER))
    count = telegram.message_count(AINO)
    file_id = await send_photo(telegram, aino, caption="KUVA tapahtumasta")
    preview = await reply_after(telegram, aino, count)
    assert shown(fi.gettext("With a photo.")) in preview.text
    await send(telegram, aino, preview)
    ((message,),) = (await delivered(telegram, (FRIDA,), "KUVA")).values()
    assert message.photo is not None and message.document is None
    assert message.photo[-1]["file_id"] == file_id
    assert message.text == f"{header('fi')}\n\nKUVA tapahtumasta"


# --- 6. refusals ---------------------------------------------------------------------------------


async def test_a_file_over_the_limit_is_refused_and_the_form_waits(team, telegram):
    aino = team.aino
    question = await compose(telegram, aino, "All volunteers")
    assert question.text == message_question()
    count = telegram.message_count(AINO)
    await aino.upload("iso.pdf", b"x" * (1536 * 1024), "application/pdf", caption="ISO tiedosto")
    refusal = await reply_after(telegram, aino, count)
    assert refusal.text == problem(BroadcastProblem.FILE_TOO_LARGE, mb=1)
    await telegram.settle()
    assert await team.services.broadcasts.recent(team.coordinator) == []
    nobody_got(telegram, "ISO")
    preview = await aino.ask("PIENI viesti")  # still waiting for the message
    assert recipients_line(VOLUNTEERS) in preview.text
    assert "ISO tiedosto" not in preview.text


async def test_a_blank_text_is_refused(team, telegram):
    aino = team.aino
    await compose(telegram, aino, "All volunteers")
    refusal = await aino.ask("   \n\t ")
    assert refusal.text == problem(BroadcastProblem.EMPTY_MESSAGE)
    preview = await aino.ask("TYHJÄN jälkeen")
    assert recipients_line(VOLUNTEERS) in preview.text


async def test_something_else_than_a_message_is_not_taken(team, telegram):
    aino = team.aino
    await compose(telegram, aino, "All volunteers")
    count = telegram.message_count(AINO)
    voice = {"file_id": "AwACAgQAAxkBVoice", "file_unique_id": "AgADVoice", "duration": 3}
    await telegram.inject({"message": {"from": aino.user, "chat": aino.chat, "voice": voice}})
    answer = await reply_after(telegram, aino, count)
    assert answer.text == shown(fi.gettext("Send text, a photo or a document, or /cancel."))
    preview = await aino.ask("ÄÄNEN jälkeen")
    assert recipients_line(VOLUNTEERS) in preview.text


async def test_area_refusals_keep_the_form_going(team, telegram):
    for user, area in ((team.bertil, 33), (team.cecilia, 33), (team.daniel, 70), (team.eeva, 70)):
        await user.ask(f"/areas {area}")
    aino = team.aino
    form = await start(telegram, aino)
    await choose(telegram, aino, form, label("An area (postal code)"))
    bad = await aino.ask("abc")
    assert bad.text == problem(BroadcastProblem.BAD_AREA)
    empty = await aino.ask("99")
    assert empty.text == problem(BroadcastProblem.EMPTY_AUDIENCE)
    assert [row[0] for row in empty.buttons[:7]] == audience_labels()
    await choose(telegram, aino, empty, label("An area (postal code)"))
    question = await aino.ask("70")
    assert question.text == message_question()
    preview = await aino.ask("ALUE uusi")
    assert recipients_line((DANIEL, EEVA)) in preview.text


async def test_done_without_pairs_asks_to_choose_one(team, telegram):
    aino = team.aino
    form = await start(telegram, aino)
    pairs = await choose(telegram, aino, form, label("Chosen pairs"))
    count = telegram.message_count(AINO)
    answer = await answer_to(telegram, aino, pairs, button=label("Done"))
    assert answer.get("text") == fi.plain("Choose at least one pair.")
    assert answer.get("show_alert")
    assert telegram.message_count(AINO) == count  # no fault message in the chat
    assert "▫️ Bertil & Cecilia" in telegram.current(pairs).button_data  # still choosing


async def test_an_audience_emptied_before_send_asks_for_another(team, telegram):
    aino = team.aino
    preview = await compose(telegram, aino, "A role", role_name(fi, Role.CALLER), text="TYHJÄ")
    await team.services.people.deactivate(team.coordinator, team.people["frida"].id)
    count = telegram.message_count(AINO)
    answer = await answer_to(telegram, aino, preview, button=send_label(preview))
    assert answer.get("text") == shown(broadcast_problem_text(fi, BroadcastProblem.EMPTY_AUDIENCE))
    assert answer.get("show_alert")
    assert telegram.message_count(AINO) == count  # no fault message in the chat
    question = telegram.current(preview)
    assert question.text == shown(fi.gettext("Who should receive the message?"))
    assert [row[0] for row in question.buttons[:7]] == audience_labels()
    nobody_got(telegram, "TYHJÄ")
    assert await team.services.broadcasts.recent(team.coordinator) == []


async def test_cancel_ends_the_form_and_its_buttons(team, telegram):
    aino = team.aino
    preview = await compose(telegram, aino, "All volunteers", text="PERUTTU viesti")
    cancelled = await aino.ask("/cancel")
    assert cancelled.text == shown(fi.gettext("Cancelled. Nothing was saved."))
    answer = await answer_to(telegram, aino, preview, button=send_label(preview))
    assert answer.get("text") == fi.plain(CLOSED)
    await asyncio.sleep(0.6)  # an outbox round, had anything been queued
    await telegram.settle()
    nobody_got(telegram, "PERUTTU")
    assert await team.services.broadcasts.recent(team.coordinator) == []


async def test_an_old_button_of_an_earlier_step_changes_nothing(team, telegram):
    aino = team.aino
    menu = await aino.ask("/broadcast")
    old = menu.button_data[label("📣 A message")]
    await aino.click_and_wait(menu, label("📣 A message"))
    audience = telegram.current(menu)
    answer = await answer_to(telegram, aino, menu, data=old)
    assert answer.get("text") == fi.plain(
        "That was answered already. Please use the newest question."
    )
    assert telegram.current(menu).text == audience.text  # still asking for the audience
    question = await choose(telegram, aino, menu, label("All volunteers"))
    assert question.text == message_question()


async def test_after_a_restart_the_form_is_closed(bot, team, telegram):
    aino = team.aino
    preview = await compose(telegram, aino, "All volunteers", text="UUDELLEENKÄYNNISTYS")
    await bot.restart()
    answer = await answer_to(telegram, aino, preview, button=send_label(preview))
    assert answer.get("text") == fi.plain(CLOSED)
    assert answer.get("show_alert")
    await asyncio.sleep(0.6)
    await telegram.settle()
    nobody_got(telegram, "UUDELLEENKÄYNNISTYS")
    assert await team.services.broadcasts.recent(team.coordinator) == []


async def test_a_volunteer_may_not_broadcast(team, telegram):
    refusal = await team.bertil.ask("/broadcast")
    assert refusal.text == shown(sv.gettext(NOT_ALLOWED))
    assert refusal.reply_markup is None
    await telegram.settle()
    assert await team.services.broadcasts.recent(team.coordinator) == []


async def test_send_is_refused_once_the_author_lost_the_coordinator_role(team, telegram, register):
    await register(1002, "Kaarina", "coordinator")
    kaarina = await team.services.people.identify(1002)
    aino = team.aino
    preview = await compose(telegram, aino, "All volunteers", text="ROOLITON viesti")
    people = team.services.people
    await people.grant_role(kaarina, team.coordinator.id, Role.VOLUNTEER)
    await people.revoke_role(kaarina, team.coordinator.id, Role.COORDINATOR)
    count = telegram.message_count(AINO)
    answer = await answer_to(telegram, aino, preview, button=send_label(preview))
    assert answer.get("text") == fi.plain(NOT_ALLOWED)
    assert answer.get("show_alert")
    assert telegram.message_count(AINO) == count
    await asyncio.sleep(0.6)
    await telegram.settle()
    nobody_got(telegram, "ROOLITON")
    assert await team.services.broadcasts.recent(kaarina) == []


# --- 7. progress, report and /broadcasts ---------------------------------------------------------


async def test_progress_ends_done_the_report_comes_once_and_broadcasts_lists_it(team, telegram):
    aino = team.aino
    body = "RAPORTTI: kevätsiivous lauantaina"
    preview = await compose(telegram, aino, "All volunteers", text=body)
    progress = await send(telegram, aino, preview)
    sending = re.escape(
        shown(fi.gettext("📣 Sending… {done} of {total}", done="DONE", total=4))
    ).replace("DONE", r"\d")
    assert re.fullmatch(sending, progress.text) or any(
        re.fullmatch(sending, old) for old in telegram.current(progress).history
    ), (progress.text, telegram.current(progress).history)
    await delivered(telegram, VOLUNTEERS, "RAPORTTI")
    report = await wait_for_report(telegram, AINO, 1)
    assert report.text == "\n".join(
        [
            shown(fi.gettext("<b>Broadcast #{id} report</b>", id=1)),
            shown(fi.gettext("Delivered: {sent} of {total}", sent=4, total=4)),
        ]
    )
    done = shown(fi.gettext("✅ Done. {sent} of {total} delivered.", sent=4, total=4))
    await telegram.wait_for(
        lambda: telegram.current(progress).text == done, 5, what="the progress to say Done"
    )
    assert telegram.current(progress).reply_markup is None  # no Stop button any more
    await asyncio.sleep(4.5)  # two more progress rounds of the worker
    await telegram.settle()
    reports = [m for m in telegram.messages(AINO) if m.text.startswith(report.text.split("\n")[0])]
    assert len(reports) == 1
    assert telegram.current(progress).text == done
    listing = await aino.ask("/broadcasts")
    assert listing.text == "\n".join(
        [shown(fi.gettext("<b>Latest broadcasts</b>")), f"#1 {body} — {done}"]
    )
    # The author gets the progress, the report and the list, never the broadcast itself.
    assert not [m for m in telegram.messages(AINO) if m.text.startswith(header("fi"))]
