"""Coordinators add, import and find residents in chat; nobody else can, and nothing breaks."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.tasks import Priority, TaskKind
from bot.domain.windows import TimeWindow
from bot.i18n import translators
from handlers.callback_data import ResidentFormDone, ShowResident

fi, sv = translators()["fi"], translators()["sv"]

CSV = (
    "\ufeffNimi;Puhelin;Katuosoite;Postinumero;Kunta;Syntymävuosi;Kieli;Kotitalous;Lisätieto\n"
    "Aili Esimerkki;040 123 4567;Kotikatu 1 A 2;00100;Helsinki;1938;suomi;asuu yksin;\n"
    "Bengt Exempel;+358 50 765 4321;Hemvägen 3;65100;Vaasa;1944;ruotsi;;\n"
    "Cecilia Malli;12;Mallitie 5;3310;Tampere;1950;fi;;\n"
    "\n"
    ";040 999 9999;;;;;;;\n"
).encode()


@pytest.fixture
async def team(bot, register):
    aino = await register(1001, "Aino", "coordinator")
    bertil = await register(2002, "Bertil", "volunteer", language="sv")
    return aino, bertil


async def residents_count(bot) -> int:
    services = bot.app.bot_data.services
    return await services.residents._uow.residents.count()


async def answer(user, text):
    """Send an answer and return the bot's next question."""
    return await user.ask(text)


async def fill_form(aino, telegram, *, phone="040 123 4567"):
    """Answer every question of /resident new; return the summary message."""
    first = await aino.ask("/resident new")
    assert "1/9" in first.text
    await answer(aino, "Aili Esimerkki")
    await answer(aino, phone)
    await answer(aino, "Kotikatu 1 A 2")
    await answer(aino, "00100")
    await answer(aino, "Helsinki")
    language = await answer(aino, "1938")
    assert "7/9" in language.text and language.buttons[0] == ["Suomi", "Svenska", "English"]
    household = await aino.click_and_wait(language, "Suomi")
    assert "8/9" in household.text
    note = await answer(aino, "asuu yksin")
    return await aino.click_and_wait(note, fi.plain("Skip"))


async def test_a_coordinator_adds_a_resident_step_by_step(bot, team, telegram):
    aino, _ = team
    summary = await fill_form(aino, telegram)
    assert "Aili Esimerkki" in summary.text and "+358401234567" in summary.text
    assert "00100" in summary.text and "1938" in summary.text and "Suomi" in summary.text
    assert summary.buttons == [[fi.plain("Save"), fi.plain("Cancel")]]
    saved = await aino.click_and_wait(summary, fi.plain("Save"))
    assert saved.message_id == summary.message_id  # the summary turns into the confirmation
    assert "Aili Esimerkki" in saved.text
    assert await residents_count(bot) == 1
    card = await aino.click_and_wait(saved, fi.plain("Open the card"))
    assert "Kotikatu 1 A 2" in card.text and "asuu yksin" in card.text


async def test_bad_answers_are_asked_again_with_the_reason(bot, team, telegram):
    aino, _ = team
    await aino.ask("/resident uusi")
    again = await answer(aino, "   ")
    assert fi.gettext("Every resident needs a name.") in again.text and "1/9" in again.text
    await answer(aino, "Aili Esimerkki")
    again = await answer(aino, "puh 123")
    assert "040 123 4567" in again.text and "2/9" in again.text
    await answer(aino, "+358 (0)40 123 4567")
    await answer(aino, "Kotikatu 1")
    again = await answer(aino, "1234")
    assert fi.gettext("A postal code is five digits, like 00100.") in again.text
    await answer(aino, "00100")
    await answer(aino, "Helsinki")
    again = await answer(aino, "1850")
    assert "1900" in again.text and "6/9" in again.text
    again = await answer(aino, "48")
    assert fi.gettext("Write the birth year with four digits, like 1948.") in again.text
    language = await answer(aino, "1948")
    again = await answer(aino, "saksa")
    assert "7/9" in again.text
    household = await answer(aino, "ruotsi")  # a typed language works as well as a button
    assert "8/9" in household.text
    note = await aino.ask("-")  # a dash skips an optional question
    assert "9/9" in note.text
    summary = await aino.click_and_wait(note, fi.plain("Skip"))
    assert "+358401234567" in summary.text and "Svenska" in summary.text
    assert language.message_id != summary.message_id
    await aino.click_and_wait(summary, fi.plain("Save"))
    assert await residents_count(bot) == 1


async def test_optional_questions_can_be_skipped_and_the_name_cannot(bot, team, telegram):
    aino, _ = team
    name = await aino.ask("/resident ny")
    assert name.buttons == []  # no Skip for the name
    phone = await answer(aino, "Bengt Exempel")
    question = phone
    for _ in range(5):  # phone, address, postal code, municipality, birth year
        question = await aino.click_and_wait(question, fi.plain("Skip"))
    assert fi.plain("Skip") not in str(question.buttons)  # language: chosen, not skipped
    question = await aino.click_and_wait(question, "English")
    question = await aino.click_and_wait(question, fi.plain("Skip"))
    summary = await aino.click_and_wait(question, fi.plain("Skip"))
    assert summary.text.count("—") == 7
    await aino.click_and_wait(summary, fi.plain("Save"))
    (bengt,) = await bot.app.bot_data.services.residents.find(await coordinator(bot), "Bengt")
    assert bengt.phone is None and bengt.language == "en" and bengt.birth_year is None


async def coordinator(bot):
    return await bot.app.bot_data.services.people.identify(1001)


async def test_cancel_saves_nothing(bot, team, telegram):
    aino, _ = team
    await aino.ask("/resident new")
    await answer(aino, "Aili Esimerkki")
    stopped = await aino.ask("/cancel")
    assert stopped.text == fi.gettext("Cancelled. Nothing was saved.")
    after = await aino.ask("Helsinki")  # no longer taken as an answer
    assert "/help" in after.text

    summary = await fill_form(aino, telegram)
    cancelled = await aino.click_and_wait(summary, fi.plain("Cancel"))
    assert cancelled.text == fi.gettext("Cancelled. Nothing was saved.")
    assert await residents_count(bot) == 0


async def test_a_double_tap_on_save_creates_one_resident(bot, team, telegram):
    aino, _ = team
    summary = await fill_form(aino, telegram, phone="-")
    taps = [await aino.press(summary, fi.plain("Save")) for _ in range(2)]
    await telegram.settle()
    assert telegram.callback_answers[taps[0]]["text"] == fi.plain("Saved.")
    assert telegram.callback_answers[taps[1]]["text"] == fi.plain("Saved already.")
    assert await residents_count(bot) == 1


async def test_pressing_save_on_an_old_form_saves_nothing_into_a_new_one(bot, team, telegram):
    aino, _ = team
    old = await fill_form(aino, telegram)
    await aino.ask("/cancel")
    await aino.ask("/resident new")
    query = await aino.press(old, fi.plain("Save"))
    await telegram.settle()
    assert telegram.callback_answers[query]["show_alert"]
    assert "/resident new" in telegram.callback_answers[query]["text"]
    assert await residents_count(bot) == 0


async def test_other_commands_and_a_second_resident_command_during_the_form(bot, team, telegram):
    aino, _ = team
    await aino.ask("/resident new")
    reminder = await aino.ask("/resident Virtanen")
    assert "/cancel" in reminder.text
    question = await aino.next_message()
    assert "1/9" in question.text
    assert "Aino" in (await aino.ask("/whoami")).text  # other commands still work
    after = await answer(aino, "Aili Esimerkki")  # and the form goes on where it was
    assert "2/9" in after.text


async def test_a_restart_in_the_middle_of_the_form_is_survived(bot, team, telegram, caplog):
    aino, _ = team
    await aino.ask("/resident new")
    await answer(aino, "Aili Esimerkki")
    phone = await answer(aino, "040 123 4567")  # the street address question, with Skip
    await bot.restart()
    typed = await aino.ask("Kotikatu 1")
    assert typed.text == fi.gettext("I did not understand that. /help lists what you can do.")
    query = await aino.press(phone, fi.plain("Skip"))
    await telegram.settle()
    alert = telegram.callback_answers[query]
    assert alert["show_alert"] and "/resident new" in alert["text"]
    assert await residents_count(bot) == 0
    fresh = await aino.ask("/resident new")  # starting again works
    assert "1/9" in fresh.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def history_for(bot, resident_id):
    services = bot.app.bot_data.services
    boss = await coordinator(bot)
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    for days, kind in ((1, TaskKind.HOME_VISIT), (3, TaskKind.ERRAND)):
        await services.dispatch.create(
            boss,
            resident_id=resident_id,
            kind=kind,
            window=TimeWindow(
                start=now + timedelta(days=days), end=now + timedelta(days=days, hours=4)
            ),
            priority=Priority.NORMAL,
            details="kauppa",
        )


async def test_search_by_name_and_by_phone_in_any_format_shows_the_card_and_history(
    bot, team, telegram, clock
):
    aino, _ = team
    await aino.upload("asukkaat.csv", CSV)
    await aino.next_message()
    services = bot.app.bot_data.services
    (aili,) = await services.residents.find(await coordinator(bot), "Aili")
    await history_for(bot, aili.id)

    for text in ("/resident esimerkki", "/resident 040 123 4567", "/resident +358401234567"):
        found = await aino.ask(text)
        assert "Aili Esimerkki" in found.text and "Bengt" not in found.text, text
        assert found.buttons == [["Aili Esimerkki (Helsinki)"]]
    card = await aino.click_and_wait(found, "Aili Esimerkki (Helsinki)")
    assert "Kotikatu 1 A 2" in card.text and "1938" in card.text and "+358401234567" in card.text
    lines = card.text.splitlines()
    errand = next(i for i, line in enumerate(lines) if fi.plain("errand") in line)
    visit = next(i for i, line in enumerate(lines) if fi.plain("home visit") in line)
    assert errand < visit  # newest first
    assert f"#{1}" in lines[visit] and fi.plain("open") in lines[visit]
    assert "24.11.2026" in lines[visit]

    again = await aino.click_and_wait(card, "Aili Esimerkki (Helsinki)")  # a double tap
    assert again is None or again.text == card.text

    nothing = await aino.ask("/resident Virtanen")
    assert "Virtanen" in nothing.text and nothing.buttons == []
    usage = await aino.ask("/resident")
    assert "/resident new" in usage.text


async def test_a_coordinator_uploads_a_csv_and_gets_every_rejected_row(bot, team, telegram):
    aino, _ = team
    await aino.upload("asukkaat.csv", CSV)
    report = await aino.next_message()
    assert report.text.startswith(fi.plain("Import finished."))
    assert fi.ngettext("{n} new resident", "{n} new residents", 2) in report.text
    assert fi.ngettext("{n} row rejected", "{n} rows rejected", 2) in report.text
    row4 = next(
        line for line in report.text.splitlines() if line.startswith("row 4") or "4:" in line
    )
    assert fi.plain("phone number") in row4 and fi.plain("postal code") in row4
    assert any(
        "6" in line and fi.gettext("Every resident needs a name.") in line
        for line in report.text.splitlines()
    )
    assert "040 999 9999" not in report.text and "Cecilia" not in report.text
    assert await residents_count(bot) == 2

    await aino.upload("asukkaat.csv", CSV)  # the same file again updates
    again = await aino.next_message()
    assert fi.ngettext("{n} resident updated", "{n} residents updated", 2) in again.text
    assert await residents_count(bot) == 2


async def test_a_long_report_is_split_into_messages_under_the_limit(bot, team, telegram):
    aino, _ = team
    rows = "".join(f"Asukas {i};123;;1;;;;;\n" for i in range(60))
    await aino.upload("huono.csv", ("nimi;puhelin;osoite;postinumero;kunta\n" + rows).encode())
    first = await aino.next_message()
    await telegram.settle()
    messages = [m for m in telegram.messages(1001) if m.message_id >= first.message_id]
    assert len(messages) >= 2 and all(len(m.text) <= 4096 for m in messages)
    listed = "\n".join(m.text for m in messages)
    for i in range(60):
        assert f" {i + 2}:" in listed or f" {i + 2} " in listed


async def test_a_huge_report_comes_as_a_file(bot, team, telegram):
    aino, _ = team
    rows = "".join(f"Asukas {i};123;;1;;;;;\n" for i in range(500))
    await aino.upload("huono.csv", ("nimi;puhelin;osoite;postinumero;kunta\n" + rows).encode())
    await aino.next_message()
    await telegram.settle()
    sent = telegram.messages(1001)
    files = [m for m in sent if m.document is not None]
    assert len(files) == 1 and files[0].document["file_name"] == "apuri-import-report.txt"
    assert len([m for m in sent if m.document is None and "501" in m.text]) <= 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("nimi;kunta\nMäki;Hämeenlinna\n".encode("cp1252"), "UTF-8"),
        (b"PK\x03\x04 an xlsx workbook", "CSV UTF-8"),
        ("nimi;ikä\nAili;88\n".encode(), "“ikä”"),
        (b"puhelin\n040 1234567\n", "nimi"),
    ],
)
async def test_a_bad_file_is_explained_and_nothing_imported(bot, team, content, expected):
    aino, _ = team
    await aino.upload("asukkaat.csv", content)
    reply = await aino.next_message()
    assert expected in reply.text
    assert await residents_count(bot) == 0


async def test_an_excel_workbook_is_explained(bot, team):
    aino, _ = team
    await aino.upload(
        "asukkaat.xlsx",
        b"PK\x03\x04 workbook",
        mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    reply = await aino.next_message()
    assert "CSV UTF-8" in reply.text


async def test_a_file_over_the_limit_is_refused_before_downloading(bot, team, telegram):
    aino, _ = team
    await aino.upload("iso.csv", b"nimi\n" + b"x" * (10 * 1024 * 1024 + 1))
    reply = await aino.next_message()
    assert "10 M" in reply.text  # MB, Mt
    assert not [r for r in telegram.requests if r.method == "getFile"]


async def test_a_volunteer_is_refused_residents(bot, team, telegram):
    _, bertil = team
    refusal = sv.plain("Sorry, your role does not allow that.")
    for command in ("/resident", "/resident new", "/resident Aili", "/resident 040 123 4567"):
        assert (await bertil.ask(command)).text == refusal, command
    await bertil.upload("asukkaat.csv", CSV)
    assert (await bertil.next_message()).text == refusal
    mine = await bertil.ask("/whoami")
    for forged in (ShowResident(1).pack(), ResidentFormDone("abcd1234", True).pack()):
        query = await bertil.press_data(mine, forged)
        await telegram.settle()
        assert telegram.callback_answers[query]["text"] == refusal
    assert await residents_count(bot) == 0
    assert "/resident" not in (await bertil.ask("/help")).text


async def test_the_command_line_imports_a_file(bot, team, cli, tmp_path):
    aino, _ = team
    path = tmp_path / "asukkaat.csv"
    path.write_bytes(CSV)
    status, lines = await cli("import-residents", str(path))
    assert status == 0
    assert lines[0] == "Import finished."
    assert "2 new residents" in lines and "2 rows rejected" in lines
    assert any(line.startswith("row 4: phone number:") for line in lines)
    assert await residents_count(bot) == 2
    found = await aino.ask("/resident Bengt")
    assert "+358507654321" in found.text

    status, _ = await cli("import-residents", str(tmp_path / "missing.csv"))
    assert status == 2
    path.write_bytes("nimi;ikä\n".encode())
    status, _ = await cli("import-residents", str(path))
    assert status == 2


async def test_residents_are_never_logged(bot, team, caplog):
    aino, _ = team
    with caplog.at_level(logging.DEBUG):
        await aino.upload("asukkaat.csv", CSV)
        await aino.next_message()
        await aino.ask("/resident Aili")
    for record in caplog.records:
        logged = record.getMessage() + (record.exc_text or "")
        assert "Aili" not in logged and "4567" not in logged and "Kotikatu" not in logged


async def test_a_double_tap_on_skip_skips_one_question(bot, team, telegram):
    aino, _ = team
    await aino.ask("/resident new")
    phone = await answer(aino, "Aili Esimerkki")
    taps = [await aino.press(phone, fi.plain("Skip")) for _ in range(2)]
    await telegram.settle()
    assert telegram.callback_answers[taps[1]]["text"] == fi.plain(
        "That question is answered already."
    )
    questions = [m for m in telegram.messages(1001) if "3/9" in m.text or "4/9" in m.text]
    assert ["3/9" in m.text for m in questions] == [True]
    after = await aino.ask("Kotikatu 1")
    assert "4/9" in after.text


async def test_a_sticker_instead_of_an_answer_is_asked_again(bot, team, telegram):
    aino, _ = team
    await aino.ask("/resident new")
    sticker = {
        "file_id": "CAACAgIAAxkBAAI",
        "file_unique_id": "AgADsticker",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    await aino._inject_message(aino.user, sticker=sticker)
    reply = await aino.next_message()
    assert reply.text == fi.gettext("Please answer with text.")
    assert "2/9" in (await answer(aino, "Aili Esimerkki")).text
