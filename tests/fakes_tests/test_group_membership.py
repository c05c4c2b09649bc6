"""The bot added to and kicked from groups: my_chat_member updates a real PTB Application parses."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from telegram import (
    Bot,
    CallbackQuery,
    ChatMember,
    ChatMemberBanned,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import ChatMigrated, Forbidden
from telegram.ext import Application, CallbackQueryHandler, ChatMemberHandler, ContextTypes

from tests.fakes import FakeBotAPI, FakeUser

GROUP_ID = -4001
SUPERGROUP_ID = -1004002


class Seen:
    """What the Application's handlers received, in order."""

    def __init__(self) -> None:
        self.memberships: asyncio.Queue[ChatMemberUpdated] = asyncio.Queue()
        self.queries: asyncio.Queue[CallbackQuery] = asyncio.Queue()

    async def membership(self) -> ChatMemberUpdated:
        return await asyncio.wait_for(self.memberships.get(), 5)

    async def query(self) -> CallbackQuery:
        return await asyncio.wait_for(self.queries.get(), 5)


@pytest.fixture
async def seen_by_app(api: FakeBotAPI) -> AsyncIterator[tuple[Application, Seen]]:
    """A polling Application with a MY_CHAT_MEMBER handler and a callback query handler."""
    seen = Seen()

    async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.my_chat_member is not None
        await seen.memberships.put(update.my_chat_member)

    async def on_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await seen.queries.put(update.callback_query)

    application = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(CallbackQueryHandler(on_query))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(timeout=1, poll_interval=0)
    yield application, seen
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
def maija(api: FakeBotAPI) -> FakeUser:
    """A coordinator who adds the bot to groups."""
    return api.user(2002, "Maija", last_name="Meikäläinen", username="maija")


async def test_adding_the_bot_is_a_my_chat_member_update(
    api: FakeBotAPI, seen_by_app: tuple[Application, Seen], maija: FakeUser
) -> None:
    application, seen = seen_by_app
    group = await api.add_bot_to_group(GROUP_ID, "Koordinaattorit", by=maija)
    assert group.chat_id == GROUP_ID

    change = await seen.membership()
    assert change.chat.id == GROUP_ID
    assert change.chat.title == "Koordinaattorit"
    assert change.chat.type == "group"
    assert change.from_user.id == maija.user_id
    assert change.from_user.first_name == "Maija"
    assert change.old_chat_member.status == ChatMember.LEFT
    assert change.new_chat_member.status == ChatMember.MEMBER
    assert change.new_chat_member.user.id == application.bot.id
    assert change.new_chat_member.user.is_bot
    assert change.new_chat_member.user.username == "apuri_test_bot"
    assert change.old_chat_member.user == change.new_chat_member.user
    assert isinstance(change.date, datetime)

    await application.bot.send_message(GROUP_ID, "Hei kaikki!")
    assert [m.text for m in group.messages] == ["Hei kaikki!"]


async def test_kicking_the_bot_is_a_my_chat_member_update_and_sends_are_forbidden(
    api: FakeBotAPI, seen_by_app: tuple[Application, Seen], maija: FakeUser
) -> None:
    application, seen = seen_by_app
    await api.add_bot_to_group(GROUP_ID, "Koordinaattorit", by=maija)
    await seen.membership()

    await api.kick_bot_from_group(GROUP_ID, by=maija)
    change = await seen.membership()
    assert change.chat.id == GROUP_ID
    assert change.chat.title == "Koordinaattorit"
    assert change.from_user.id == maija.user_id
    assert change.old_chat_member.status == ChatMember.MEMBER
    assert change.new_chat_member.status == ChatMember.BANNED == "kicked"
    assert isinstance(change.new_chat_member, ChatMemberBanned)
    assert change.new_chat_member.until_date == datetime(1970, 1, 1, tzinfo=UTC)  # forever
    assert change.new_chat_member.user.id == application.bot.id

    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await application.bot.send_message(GROUP_ID, "Onko täällä ketään?")
    assert api.message_count(GROUP_ID) == 0


async def test_kicked_from_a_supergroup_names_it(
    api: FakeBotAPI, seen_by_app: tuple[Application, Seen], maija: FakeUser
) -> None:
    application, seen = seen_by_app
    await api.add_bot_to_group(SUPERGROUP_ID, "Apuri koko kaupunki", by=maija, type="supergroup")
    assert (await seen.membership()).chat.type == "supergroup"
    await api.kick_bot_from_group(SUPERGROUP_ID, by=maija)
    await seen.membership()
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await application.bot.send_message(SUPERGROUP_ID, "Hei")


async def test_adding_the_bot_again_after_a_kick_makes_the_group_writable(
    api: FakeBotAPI, seen_by_app: tuple[Application, Seen], maija: FakeUser
) -> None:
    application, seen = seen_by_app
    other = api.user(2003, "Pekka")
    await api.add_bot_to_group(GROUP_ID, "Koordinaattorit", by=maija)
    await api.kick_bot_from_group(GROUP_ID, by=other)
    group = await api.add_bot_to_group(GROUP_ID, "Koordinaattorit", by=maija)
    statuses = [
        (change.from_user.id, change.old_chat_member.status, change.new_chat_member.status)
        for change in [await seen.membership() for _ in range(3)]
    ]
    assert statuses == [
        (maija.user_id, "left", "member"),
        (other.user_id, "member", "kicked"),
        (maija.user_id, "left", "member"),
    ]
    await application.bot.send_message(GROUP_ID, "Taas täällä")
    assert group.last.text == "Taas täällä"


async def test_a_user_presses_a_button_in_the_group_with_fake_user_press(
    api: FakeBotAPI, seen_by_app: tuple[Application, Seen], maija: FakeUser
) -> None:
    application, seen = seen_by_app
    group = await api.add_bot_to_group(GROUP_ID, "Koordinaattorit", by=maija)
    await seen.membership()
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Tulen", callback_data="yes")]])
    await application.bot.send_message(GROUP_ID, "Tuletko kokoukseen?", reply_markup=keyboard)
    message = await group.next_message()

    query_id = await maija.press(message, "Tulen")
    query = await seen.query()
    assert query.id == query_id
    assert query.data == "yes"
    assert query.from_user.id == maija.user_id
    assert query.message is not None
    assert query.message.chat.id == GROUP_ID
    assert query.message.message_id == message.message_id
    await api.wait_for(lambda: query_id in api.callback_answers, what="the answer")


# --- a group upgraded to a supergroup; a user blocking the bot ------------------------------------


async def new_updates(bot: Bot) -> tuple[Update, ...]:
    """The updates not fetched yet, confirmed so that the next call returns only later ones."""
    updates = await bot.get_updates(timeout=0)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates


async def test_a_group_upgraded_to_a_supergroup_announces_it_and_its_old_id_is_dead(
    api: FakeBotAPI, bot: Bot, maija: FakeUser
) -> None:
    old = await api.add_bot_to_group(GROUP_ID, "Koordinaattorit", by=maija)
    before = await bot.send_message(GROUP_ID, "Ennen")
    await new_updates(bot)  # the bot's own addition

    new = await api.migrate_group(GROUP_ID, SUPERGROUP_ID, by=maija)
    assert new.chat_id == SUPERGROUP_ID
    updates = await new_updates(bot)
    assert len(updates) == 2
    moved_to, moved_from = (update.message for update in updates)
    assert moved_to is not None and moved_from is not None
    assert (moved_to.chat.id, moved_to.chat.type) == (GROUP_ID, "group")
    assert moved_to.migrate_to_chat_id == SUPERGROUP_ID
    assert moved_to.from_user is not None and moved_to.from_user.id == maija.user_id
    assert (moved_from.chat.id, moved_from.chat.type) == (SUPERGROUP_ID, "supergroup")
    assert moved_from.chat.title == "Koordinaattorit"
    assert moved_from.migrate_from_chat_id == GROUP_ID
    assert moved_from.sender_chat is not None and moved_from.sender_chat.id == SUPERGROUP_ID

    # Sends and edits in the old group raise ChatMigrated with the new id.
    with pytest.raises(ChatMigrated) as sent:
        await bot.send_message(GROUP_ID, "Onko täällä ketään?")
    assert sent.value.new_chat_id == SUPERGROUP_ID
    with pytest.raises(ChatMigrated):
        await bot.edit_message_text("Muutettu", chat_id=GROUP_ID, message_id=before.message_id)
    assert [m.text for m in old.messages] == ["Ennen"]
    failed = api.requests[-1]
    assert (failed.method, failed.params["chat_id"]) == ("editMessageText", GROUP_ID)

    # The supergroup takes messages.
    await bot.send_message(SUPERGROUP_ID, "Täällä ollaan")
    assert [m.text for m in new.messages] == ["Täällä ollaan"]
    assert api.messages(SUPERGROUP_ID)[0].chat["type"] == "supergroup"


async def test_a_group_upgraded_unannounced_is_found_out_only_by_sending(
    api: FakeBotAPI, bot: Bot, maija: FakeUser
) -> None:
    await api.add_bot_to_group(GROUP_ID, "Koordinaattorit", by=maija)
    await new_updates(bot)
    await api.migrate_group(GROUP_ID, SUPERGROUP_ID, announce=False)
    assert await new_updates(bot) == ()
    with pytest.raises(ChatMigrated) as sent:
        await bot.send_message(GROUP_ID, "Hei")
    assert sent.value.new_chat_id == SUPERGROUP_ID
    await bot.send_message(sent.value.new_chat_id, "Hei")
    assert [m.text for m in api.messages(SUPERGROUP_ID)] == ["Hei"]


async def test_only_a_basic_group_can_be_upgraded_once(api: FakeBotAPI, maija: FakeUser) -> None:
    await api.add_bot_to_group(SUPERGROUP_ID, "Iso ryhmä", by=maija, type="supergroup")
    with pytest.raises(ValueError, match="not a basic group"):
        await api.migrate_group(SUPERGROUP_ID, -1009999)
    await api.add_bot_to_group(GROUP_ID, "Pieni ryhmä", by=maija)
    with pytest.raises(ValueError, match="exists already"):
        await api.migrate_group(GROUP_ID, SUPERGROUP_ID)
    await api.migrate_group(GROUP_ID, -1009999, announce=False)
    with pytest.raises(ValueError, match="not a basic group"):
        await api.migrate_group(GROUP_ID, -1008888, announce=False)


async def test_blocking_and_unblocking_with_a_word_are_private_my_chat_member_updates(
    api: FakeBotAPI, seen_by_app: tuple[Application, Seen], maija: FakeUser
) -> None:
    application, seen = seen_by_app
    await maija.block_and_tell()
    change = await seen.membership()
    assert (change.chat.id, change.chat.type) == (maija.user_id, "private")
    assert change.chat.first_name == "Maija"
    assert change.from_user.id == maija.user_id
    assert change.old_chat_member.status == ChatMember.MEMBER
    assert change.new_chat_member.status == ChatMember.BANNED
    assert change.new_chat_member.user.id == application.bot.id
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await application.bot.send_message(maija.user_id, "Hei")

    await maija.unblock_and_tell()
    change = await seen.membership()
    assert change.chat.id == maija.user_id
    assert change.old_chat_member.status == ChatMember.BANNED
    assert change.new_chat_member.status == ChatMember.MEMBER
    await application.bot.send_message(maija.user_id, "Tervetuloa takaisin")
    assert maija.last.text == "Tervetuloa takaisin"
