"""Driving /broadcast the way a coordinator does, and reading what the recipients got.

Labels are looked up in the coordinator's language (Finnish for Aino of `teams.py`), never
hardcoded. Typical use::

    preview = await compose(telegram, team.aino, "All volunteers", text="Hello")
    await send(telegram, team.aino, preview)
    got = await delivered(telegram, VOLUNTEERS, "Hello")  # one message each, or it fails
"""

from __future__ import annotations

from bot.i18n import translators
from tests.fakes import FakeUser
from tests.fakes.records import SentMessage
from tests.fakes.server import FakeBotAPI
from tests.fakes.telegram_html import parse_html

HEADER = "📣 <b>Message from {name}</b>"  # the msgid of the header every recipient reads


def shown(html: str) -> str:
    """Return Telegram HTML as the fake Telegram shows it: the visible text, tags gone."""
    return parse_html(html)[0]


def label(msgid: str, language: str = "fi", **values: object) -> str:
    """Return a button label (or any plain text) in ``language``."""
    return translators()[language].plain(msgid, **values)


def header(language: str, name: str = "Aino") -> str:
    """Return the visible header of a broadcast by ``name`` in the recipient's ``language``."""
    return shown(translators()[language].gettext(HEADER, name=name))


async def start(telegram: FakeBotAPI, author: FakeUser, language: str = "fi") -> SentMessage:
    """Send /broadcast and choose "📣 A message"; return the form message (audience question).

    The menu is found by its button, so a progress edit or report of an earlier broadcast that
    arrives meanwhile is not mistaken for it. Typed answers (``author.ask``) have no such guard:
    before composing a second broadcast, wait for the first one's report (`wait_for_report`).
    """
    first = label("📣 A message", language)
    count = telegram.message_count(author.chat_id)
    await author.send("/broadcast")
    menu = await telegram.wait_for(
        lambda: next(
            (m for m in telegram.messages(author.chat_id)[count:] if first in m.button_data),
            None,
        ),
        5,
        what="the /broadcast menu",
    )
    await author.click_and_wait(menu, first)
    return telegram.current(menu)


async def choose(
    telegram: FakeBotAPI, author: FakeUser, form: SentMessage, button: str
) -> SentMessage:
    """Press ``button`` (a visible label) in the form; return the newest message or the edit."""
    after = await author.click_and_wait(form, button)
    return after if after is not None else telegram.current(form)


async def compose(
    telegram: FakeBotAPI,
    author: FakeUser,
    audience: str,
    *detail: str,
    text: str | None = None,
    language: str = "fi",
) -> SentMessage:
    """Start a message broadcast, choose the audience (msgid) and its details, and write ``text``.

    ``detail`` are pressed in order (an organisation's name, a role's name, a pair's label, then
    "Done"); a detail that starts with a digit is typed (an area). With ``text`` the preview is
    returned, else the message that asks for the text.
    """
    form = await start(telegram, author, language)
    current = await choose(telegram, author, form, label(audience, language))
    for step in detail:
        if step[:1].isdigit():
            current = await author.ask(step)
        else:
            current = await choose(telegram, author, current, step)
    if text is None:
        return current
    return await author.ask(text)


def send_label(preview: SentMessage) -> str:
    """Return the label of the preview's Send button ("✅ … {n}")."""
    (found,) = [text for text in preview.button_data if text.startswith("✅")]
    return found


async def send(telegram: FakeBotAPI, author: FakeUser, preview: SentMessage) -> SentMessage:
    """Press Send on the preview; return the message it became (the progress message)."""
    await author.click_and_wait(preview, send_label(telegram.current(preview)))
    return telegram.current(preview)


def received(telegram: FakeBotAPI, chat_id: int, marker: str) -> list[SentMessage]:
    """Return the messages in ``chat_id`` whose visible text (or caption) contains ``marker``."""
    return [m for m in telegram.messages(chat_id) if marker in m.text]


async def delivered(
    telegram: FakeBotAPI,
    chats: tuple[int, ...] | list[int],
    marker: str,
    *,
    parts: int = 1,
    timeout: float = 10,  # noqa: ASYNC109
) -> dict[int, list[SentMessage]]:
    """Wait until every chat in ``chats`` got ``parts`` messages containing ``marker``.

    Then let the bot settle and assert that each got exactly ``parts`` (no duplicates); return
    each chat's messages in order.
    """
    await telegram.wait_for(
        lambda: all(len(received(telegram, c, marker)) >= parts for c in chats),
        timeout,
        what=f"{parts} message(s) containing {marker!r} in each of {list(chats)}",
    )
    await telegram.settle()
    got = {c: received(telegram, c, marker) for c in chats}
    for chat_id, messages in got.items():
        assert len(messages) == parts, (chat_id, [m.text for m in messages])
    return got


async def wait_for_report(
    telegram: FakeBotAPI,
    author_chat: int,
    broadcast_id: int,
    language: str = "fi",
    timeout: float = 10,  # noqa: ASYNC109
) -> SentMessage:
    """Wait for the report of broadcast ``broadcast_id`` in the author's chat; return it."""
    head = shown(translators()[language].gettext("<b>Broadcast #{id} report</b>", id=broadcast_id))

    def report() -> SentMessage | None:
        found = [m for m in telegram.messages(author_chat) if m.text.startswith(head)]
        return found[-1] if found else None

    return await telegram.wait_for(report, timeout, what=f"the report of #{broadcast_id}")


async def answer_to(
    telegram: FakeBotAPI,
    user: FakeUser,
    message: SentMessage,
    *,
    button: str | None = None,
    data: str | None = None,
) -> dict:
    """Press ``button`` (or send raw callback ``data``) and return the bot's callback answer.

    The returned dict holds what answerCallbackQuery got (``text``, ``show_alert``).
    """
    if data is None:
        assert button is not None
        query_id = await user.press(message, button)
    else:
        query_id = await user.press_data(message, data)
    await telegram.wait_for(
        lambda: query_id in telegram.callback_answers, 5, what="the callback answer"
    )
    await telegram.settle()
    return telegram.callback_answers[query_id]


async def reply_after(
    telegram: FakeBotAPI,
    user: FakeUser,
    count: int,
    timeout: float = 5,  # noqa: ASYNC109
) -> SentMessage:
    """Return the bot's first message to ``user`` after the ``count`` it had sent before.

    For what ``FakeUser.ask`` cannot send (documents, photos, voice messages)::

        count = telegram.message_count(aino.chat_id)
        await aino.upload("a.pdf", b"...", "application/pdf", caption="Hi")
        preview = await reply_after(telegram, aino, count)
    """
    await telegram.wait_for(
        lambda: telegram.message_count(user.chat_id) > count, timeout, what="the bot's reply"
    )
    return telegram.messages(user.chat_id)[count]


async def send_photo(
    telegram: FakeBotAPI, user: FakeUser, caption: str | None = None, size: int = 2048
) -> str:
    """``user`` sends a photo (two sizes the fake server knows) with ``caption``.

    Return the file_id of the largest size, the one a bot should resend.
    """
    sizes = []
    for width, height, content in ((90, 60, b"s" * 256), (1280, 853, b"L" * size)):
        stored = telegram.add_file(f"photo_{width}.jpg", content, "image/jpeg")
        sizes.append(
            {
                "file_id": stored["file_id"],
                "file_unique_id": stored["file_unique_id"],
                "file_size": stored["file_size"],
                "width": width,
                "height": height,
            }
        )
    extra = {} if caption is None else {"caption": caption}
    await telegram.inject(
        {"message": {"from": user.user, "chat": user.chat, "photo": sizes, **extra}}
    )
    return sizes[-1]["file_id"]
