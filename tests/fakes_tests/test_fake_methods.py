"""The fake Bot API answers a real PTB Bot the way Telegram does, and records what it sent."""

import asyncio

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
)
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken

from tests.fakes import FakeBotAPI, FakeUser


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    """One row of callback buttons whose data is the lower-cased label."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower()) for label in labels]]
    )


@pytest.fixture
async def liisa(api: FakeBotAPI) -> FakeUser:
    """A user who has started a chat with the bot."""
    user = api.user(1001, "Liisa", username="liisa")
    await user.send("/start")
    return user


async def test_get_me_describes_the_fake_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (
        123456789,
        "apuri_test_bot",
        "Apuri",
        True,
    )


async def test_get_updates_confirms_by_offset_and_long_polls(api: FakeBotAPI, bot: Bot) -> None:
    user = api.user(3003, "Ville")
    await user.send("yksi")
    await user.send("kaksi")
    first = await bot.get_updates()
    assert [u.message.text for u in first] == ["yksi", "kaksi"]
    assert await bot.get_updates() == first  # not confirmed yet: delivered again
    offset = first[-1].update_id + 1

    poll = asyncio.create_task(bot.get_updates(offset=offset, timeout=5))
    await api.wait_for(lambda: [r.method for r in api.requests].count("getUpdates") == 3)
    await user.send("kolme")
    assert [u.message.text for u in await poll] == ["kolme"]


async def test_settle_fails_while_updates_wait_unfetched(api: FakeBotAPI) -> None:
    await api.user(3004, "Kaisa").send("kukaan?")
    with pytest.raises(AssertionError, match="1 updates not fetched"):
        await api.settle(timeout=0.2)


async def test_sent_message_is_returned_and_recorded(
    api: FakeBotAPI, bot: Bot, liisa: FakeUser
) -> None:
    sent = await bot.send_message(liisa.chat_id, "Hei!", reply_markup=keyboard("Kyllä", "Ei"))

    assert sent.message_id == 2  # the user's /start took id 1 in this chat
    assert sent.from_user.id == api.bot_user["id"]
    assert sent.reply_markup == keyboard("Kyllä", "Ei")
    [recorded] = api.messages(liisa.chat_id)
    assert (recorded.text, recorded.buttons) == ("Hei!", [["Kyllä", "Ei"]])
    assert recorded.button_data == {"Kyllä": "kyllä", "Ei": "ei"}
    request = api.requests[-1]
    assert request.method == "sendMessage"
    assert request.params["chat_id"] == liisa.chat_id
    assert request.params["reply_markup"]["inline_keyboard"][0][1]["text"] == "Ei"


async def test_text_limit_counts_utf16_units(bot: Bot, liisa: FakeUser) -> None:
    await bot.send_message(liisa.chat_id, "😀" * 2048)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(liisa.chat_id, "😀" * 2048 + "x")


async def test_empty_text_is_refused(bot: Bot, liisa: FakeUser) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(liisa.chat_id, "  ")


async def test_callback_data_limit_is_64_bytes(bot: Bot, liisa: FakeUser) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="ä" * 32)]])
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="ä" * 32 + "x")]])
    await bot.send_message(liisa.chat_id, "fits", reply_markup=ok)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(liisa.chat_id, "does not fit", reply_markup=too_long)


async def test_caption_limit(bot: Bot, liisa: FakeUser) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_document(liisa.chat_id, b"x", filename="a.txt", caption="c" * 1025)


async def test_unknown_chat_is_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "anyone?")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(424242)


async def test_blocked_user_and_kicked_bot_are_forbidden(
    api: FakeBotAPI, bot: Bot, liisa: FakeUser
) -> None:
    sent = await bot.send_message(liisa.chat_id, "before")
    liisa.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(liisa.chat_id, "after")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.edit_message_text("edited", liisa.chat_id, sent.message_id)
    liisa.unblock()
    await bot.send_message(liisa.chat_id, "again")

    api.add_group(-100, "Naapurit")
    await bot.send_message(-100, "hello group")
    api.remove_bot_from_group(-100)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(-100, "still here?")


async def test_edits_keep_history_and_refuse_no_ops(
    api: FakeBotAPI, bot: Bot, liisa: FakeUser
) -> None:
    sent = await bot.send_message(liisa.chat_id, "v1", reply_markup=keyboard("A"))
    await bot.edit_message_text("v2", liisa.chat_id, sent.message_id, reply_markup=keyboard("A"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "v2", liisa.chat_id, sent.message_id, reply_markup=keyboard("A")
        )
    await bot.edit_message_text("v3", liisa.chat_id, sent.message_id)

    [current] = api.messages(liisa.chat_id)
    assert (current.text, current.history) == ("v3", ["v1", "v2"])
    assert current.reply_markup is None  # editing text without markup drops the keyboard
    await bot.edit_message_reply_markup(liisa.chat_id, sent.message_id, reply_markup=keyboard("B"))
    assert api.messages(liisa.chat_id)[0].buttons == [["B"]]


async def test_edit_and_delete_of_missing_messages(
    api: FakeBotAPI, bot: Bot, liisa: FakeUser
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", liisa.chat_id, 999)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", liisa.chat_id, 1)  # the user's own /start

    sent = await bot.send_message(liisa.chat_id, "short-lived")
    assert await bot.delete_message(liisa.chat_id, sent.message_id)
    assert api.messages(liisa.chat_id)[0].deleted
    assert liisa.messages == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(liisa.chat_id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("too late", liisa.chat_id, sent.message_id)


async def test_unknown_method_is_404(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_method_names_are_case_insensitive(api: FakeBotAPI) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{api.base_url}{api.token}/GETME")
    assert response.json()["result"]["username"] == "apuri_test_bot"
    assert api.requests[-1].method == "getMe"


async def test_wrong_token_is_unauthorized(api: FakeBotAPI) -> None:
    wrong = Bot("987654321:AAWrongTokenWrongTokenWrongToken__", base_url=api.base_url)
    try:
        with pytest.raises(InvalidToken):
            await wrong.initialize()
    finally:
        await wrong.shutdown()
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}987654321:nope/getMe")
    assert (response.status_code, response.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


async def test_json_bodies_are_accepted(api: FakeBotAPI, liisa: FakeUser) -> None:
    body = {
        "chat_id": liisa.chat_id,
        "text": "via JSON",
        "reply_markup": {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}{api.token}/sendMessage", json=body)
    assert response.json()["ok"]
    assert liisa.last.button_data == {"Go": "go"}


async def test_html_is_validated_and_stripped(api: FakeBotAPI, bot: Bot, liisa: FakeUser) -> None:
    sent = await bot.send_message(
        liisa.chat_id, "<b>Hei</b> &amp; <i>tervetuloa</i>!", parse_mode="HTML"
    )

    assert sent.text == "Hei & tervetuloa!"
    assert sent.entities == (
        MessageEntity(MessageEntity.BOLD, 0, 3),
        MessageEntity(MessageEntity.ITALIC, 6, 10),
    )
    assert sent.text_html == "<b>Hei</b> &amp; <i>tervetuloa</i>!"
    assert liisa.last.raw_text == "<b>Hei</b> &amp; <i>tervetuloa</i>!"
    for broken in ("<b>unclosed", "a < b", "Tom & Jerry", "<blink>x</blink>", "<b><i>x</b></i>"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(liisa.chat_id, broken, parse_mode="HTML")
    assert len(api.messages(liisa.chat_id)) == 1


async def test_commands_per_scope_and_language(api: FakeBotAPI, bot: Bot) -> None:
    scope = BotCommandScopeChat(1001)
    await bot.set_my_commands([BotCommand("start", "Aloita")], language_code="fi")
    await bot.set_my_commands([BotCommand("help", "Ohje")], scope=scope)

    assert api.commands_for(language_code="fi") == [{"command": "start", "description": "Aloita"}]
    assert api.commands_for({"type": "chat", "chat_id": 1001}) == [
        {"command": "help", "description": "Ohje"}
    ]
    assert await bot.get_my_commands(language_code="fi") == (BotCommand("start", "Aloita"),)
    assert await bot.get_my_commands() == ()
    await bot.delete_my_commands(language_code="fi")
    assert api.commands_for(language_code="fi") is None
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "capital letters are not allowed")])


async def test_profile_texts_are_stored(api: FakeBotAPI, bot: Bot) -> None:
    assert await bot.set_my_description("Naapuriapu", language_code="fi")
    assert await bot.set_my_short_description("Apua naapureille")
    assert await bot.set_my_name("Apuri")
    assert api.profile == {
        ("description", "fi"): "Naapuriapu",
        ("short_description", ""): "Apua naapureille",
        ("name", ""): "Apuri",
    }


async def test_get_chat_of_a_user_who_wrote(bot: Bot, liisa: FakeUser) -> None:
    chat = await bot.get_chat(liisa.chat_id)
    assert (chat.type, chat.first_name, chat.username) == ("private", "Liisa", "liisa")


async def test_callback_queries_can_be_answered_once(
    api: FakeBotAPI, bot: Bot, liisa: FakeUser
) -> None:
    sent = await bot.send_message(liisa.chat_id, "Valitse", reply_markup=keyboard("Kyllä"))
    query_id = await liisa.press(liisa.last, "Kyl")

    assert await bot.answer_callback_query(query_id, text="Selvä")
    assert api.callback_answers[query_id]["text"] == "Selvä"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(AssertionError, match=r"no button matching 'Ei'.*\['Kyllä'\]"):
        await liisa.press(api.messages(liisa.chat_id)[0], "Ei")
    assert sent.message_id == api.messages(liisa.chat_id)[0].message_id


async def test_bot_uploads_can_be_downloaded_again(
    api: FakeBotAPI, bot: Bot, liisa: FakeUser
) -> None:
    sent = await bot.send_document(liisa.chat_id, b"a;b\n1;2\n", filename="raportti.csv")
    photo = await bot.send_photo(
        liisa.chat_id, b"\x89PNG fake", caption="<i>kuva</i>", parse_mode="HTML"
    )

    assert sent.document.file_name == "raportti.csv"
    assert photo.caption == "kuva"
    file = await bot.get_file(sent.document.file_id)
    assert await file.download_as_bytearray() == b"a;b\n1;2\n"
    again = await bot.send_document(liisa.chat_id, sent.document.file_id)
    assert again.document.file_unique_id == sent.document.file_unique_id
    assert [m.document is not None for m in api.all_messages()] == [True, False, True]
    first_upload = next(r for r in api.requests if r.method == "sendDocument")
    assert first_upload.files["document"].filename == "raportti.csv"


async def test_group_messages(api: FakeBotAPI, bot: Bot, liisa: FakeUser) -> None:
    group = api.group(-2001, "Kerho", type="supergroup")
    message = await group.send(liisa, "/tehtavat@apuri_test_bot")
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 24}]

    sent = await bot.send_message(group.chat_id, "Tehtävät")
    assert (sent.chat.type, sent.chat.title) == ("supergroup", "Kerho")
    assert (await group.next_message()).text == "Tehtävät"
