"""Fake users drive a real PTB Application that polls the fake Bot API."""

from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes import FakeBotAPI, FakeUser

CHOICES = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Kyllä", callback_data="yes"),
            InlineKeyboardButton("Ei", callback_data="no"),
        ]
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet with the command's arguments."""
    await update.effective_message.reply_text(f"Tervetuloa {' '.join(context.args or [])}".strip())


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the text with a yes/no keyboard."""
    await update.effective_message.reply_text(
        f"echo: {update.effective_message.text}", reply_markup=CHOICES
    )


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button press and replace the keyboard with the choice."""
    query = update.callback_query
    await query.answer(f"valittu {query.data}")
    await query.edit_message_text(f"{query.message.text} → {query.data}")


async def count_rows(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download an uploaded CSV and report its number of rows."""
    file = await update.effective_message.document.get_file()
    content = await file.download_as_bytearray()
    await update.effective_message.reply_text(f"{len(content.splitlines())} riviä")


@pytest.fixture
async def app(api: FakeBotAPI) -> AsyncIterator[Application]:
    """A polling Application with a command, an echo, a callback and a document handler."""
    application = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(MessageHandler(filters.Document.ALL, count_rows))
    application.add_handler(CallbackQueryHandler(choose))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(timeout=1, poll_interval=0)
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
def maija(api: FakeBotAPI) -> FakeUser:
    """A Finnish-speaking user."""
    return api.user(2002, "Maija", last_name="Meikäläinen", username="maija")


async def test_ask_round_trip(app: Application, maija: FakeUser) -> None:
    reply = await maija.ask("moi")

    assert reply.text == "echo: moi"
    assert reply.buttons == [["Kyllä", "Ei"]]
    assert reply.chat["first_name"] == "Maija"


async def test_commands_carry_a_bot_command_entity(app: Application, maija: FakeUser) -> None:
    sent = await maija.send("/start naapuri")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert (await maija.next_message()).text == "Tervetuloa naapuri"


async def test_press_is_answered_and_edits_the_message(
    api: FakeBotAPI, app: Application, maija: FakeUser
) -> None:
    question = await maija.ask("tuletko?")
    query_id = await maija.press(question, "Kyllä")

    edited = await maija.wait_for_edit(question)
    assert edited.text == "echo: tuletko? → yes"
    assert edited.history == ["echo: tuletko?"]
    assert edited.reply_markup is None
    await api.wait_for(lambda: query_id in api.callback_answers, what="the answer")
    assert api.callback_answers[query_id]["text"] == "valittu yes"


async def test_forged_callback_data_reaches_the_bot(app: Application, maija: FakeUser) -> None:
    question = await maija.ask("mitä?")
    await maija.press_data(question, "forged")
    assert (await maija.wait_for_edit(question)).text == "echo: mitä? → forged"


async def test_click_and_wait_returns_the_edit(app: Application, maija: FakeUser) -> None:
    question = await maija.ask("kahvia?")
    edited = await maija.click_and_wait(question, "Ei")
    assert edited is not None
    assert edited.text == "echo: kahvia? → no"


async def test_upload_is_downloaded_by_the_bot(
    api: FakeBotAPI, app: Application, maija: FakeUser
) -> None:
    message = await maija.upload("tehtavat.csv", b"nimi;osoite\nA;B\nC;D\n", caption="uudet")
    assert message["document"]["file_name"] == "tehtavat.csv"
    assert (await maija.next_message()).text == "3 riviä"
    assert [r.method for r in api.requests].count("getFile") == 1


async def test_settle_means_nothing_else_was_sent(
    api: FakeBotAPI, app: Application, maija: FakeUser
) -> None:
    await maija.send("yksi")
    await maija.send("kaksi")
    await api.settle()

    assert [m.text for m in maija.messages] == ["echo: yksi", "echo: kaksi"]
    assert (await maija.next_message()).text == "echo: yksi"
    assert (await maija.next_message()).text == "echo: kaksi"
    with pytest.raises(AssertionError, match="timed out"):
        await maija.next_message(timeout=0.2)
