"""Helpers that play Telegram users (and groups) against the fake Bot API.

They inject the updates a real client would cause and read what the bot sent back.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from tests.fakes.records import JSONDict, SentMessage
from tests.fakes.telegram_html import utf16_len

if TYPE_CHECKING:
    from tests.fakes.server import FakeBotAPI

_query_numbers = itertools.count(1)


class _ChatReader:
    """Reads the messages the bot sent to one chat, with a cursor for "the next one"."""

    def __init__(self, server: FakeBotAPI, chat: JSONDict) -> None:
        self.server = server
        self.chat = chat
        self.chat_id: int = chat["id"]
        self._cursor = 0

    @property
    def messages(self) -> list[SentMessage]:
        """Current state of the bot's messages in the chat that are not deleted, in order."""
        return [m for m in self.server.messages(self.chat_id) if not m.deleted]

    @property
    def last(self) -> SentMessage:
        """The newest message of :attr:`messages`."""
        messages = self.messages
        if not messages:
            raise AssertionError(f"the bot has no messages in chat {self.chat_id}")
        return messages[-1]

    async def next_message(self, timeout: float = 5) -> SentMessage:  # noqa: ASYNC109
        """The next message the bot sends here after the last one this helper returned."""
        return await self._message_at(self._cursor, timeout)

    async def wait_for_edit(self, message: SentMessage, timeout: float = 5) -> SentMessage:  # noqa: ASYNC109
        """Wait until the message's text or reply markup differs from ``message``; return it."""

        def edited() -> SentMessage | None:
            current = self.server.current(message)
            changed = (current.text, current.reply_markup) != (message.text, message.reply_markup)
            return current if changed else None

        return await self.server.wait_for(
            edited, timeout, what=f"an edit of message {message.message_id}"
        )

    async def _message_at(self, index: int, timeout: float) -> SentMessage:  # noqa: ASYNC109
        """Wait for the bot's ``index``-th message here, return it and move the cursor past it."""
        await self.server.wait_for(
            lambda: self.server.message_count(self.chat_id) > index,
            timeout,
            what=f"message #{index + 1} from the bot in chat {self.chat_id}",
        )
        self._cursor = index + 1
        return self.server.messages(self.chat_id)[index]

    async def _inject_message(self, sender: JSONDict, **content: object) -> JSONDict:
        """Inject a message from ``sender`` into this chat; return it with its id."""
        update = await self.server.inject(
            {"message": {"from": sender, "chat": self.chat, **content}}
        )
        return update["message"]


class FakeUser(_ChatReader):
    """A Telegram user in a private chat with the bot."""

    def __init__(
        self,
        server: FakeBotAPI,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fi",
    ) -> None:
        names = {"first_name": first_name, "last_name": last_name, "username": username}
        names = {key: value for key, value in names.items() if value is not None}
        super().__init__(server, {"id": user_id, "type": "private", **names})
        self.user_id = user_id
        self.user: JSONDict = {"id": user_id, "is_bot": False, **names}
        if language_code is not None:
            self.user["language_code"] = language_code

    async def send(self, text: str) -> JSONDict:
        """Send a text message to the bot; return the Message object injected."""
        return await self._inject_message(self.user, **_text_content(text))

    async def ask(self, text: str, timeout: float = 5) -> SentMessage:  # noqa: ASYNC109
        """Send ``text`` and return the first message the bot sends to this chat afterwards."""
        index = self.server.message_count(self.chat_id)
        await self.send(text)
        return await self._message_at(index, timeout)

    async def press(self, message: SentMessage, button: str) -> str:
        """Press the inline button labelled ``button`` in the current message; return query id."""
        current = self.server.current(message)
        return await self.press_data(current, _callback_data(current, button))

    async def press_data(self, message: SentMessage, data: str) -> str:
        """Send a callback query with arbitrary data from the message; return the query id."""
        query_id = f"{self.user_id}{next(_query_numbers):08d}"
        query = {
            "id": query_id,
            "from": self.user,
            "message": self.server.current(message).to_dict(),
            "chat_instance": f"instance-{message.chat_id}",
            "data": data,
        }
        await self.server.inject({"callback_query": query})
        return query_id

    async def click_and_wait(
        self,
        message: SentMessage,
        button: str,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> SentMessage | None:
        """Press, await the answer and quiet; return the newest message, else the edit, or None."""
        count = self.server.message_count(message.chat_id)
        query_id = await self.press(message, button)
        await self.server.wait_for(
            lambda: query_id in self.server.callback_answers,
            timeout,
            what=f"the bot to answer the callback query of {button!r}",
        )
        await self.server.settle(timeout=timeout)
        messages = self.server.messages(message.chat_id)
        if len(messages) > count:
            if message.chat_id == self.chat_id:
                self._cursor = len(messages)
            return messages[-1]
        current = self.server.current(message)
        unchanged = (current.text, current.reply_markup, current.deleted) == (
            message.text,
            message.reply_markup,
            message.deleted,
        )
        return None if unchanged else current

    async def upload(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "text/csv",
        caption: str | None = None,
    ) -> JSONDict:
        """Send a document the bot can fetch with getFile; return the Message object injected."""
        document = self.server.add_file(filename, content, mime_type)
        extra = {} if caption is None else {"caption": caption}
        return await self._inject_message(self.user, document=document, **extra)

    def block(self) -> None:
        """Block the bot."""
        self.server.block(self.user_id)

    def unblock(self) -> None:
        """Unblock the bot."""
        self.server.unblock(self.user_id)

    async def block_and_tell(self) -> JSONDict:
        """Block the bot as a Telegram client does: sends fail with 403 and the bot gets a
        private ``my_chat_member`` update (member -> kicked); return the update."""
        return await self.server.block_and_tell(self)

    async def unblock_and_tell(self) -> JSONDict:
        """Unblock the bot as a Telegram client does: sends work again and the bot gets a
        private ``my_chat_member`` update (kicked -> member); return the update."""
        return await self.server.unblock_and_tell(self)


class FakeGroup(_ChatReader):
    """A group chat the bot is a member of.

    A user presses a button of the bot's message in the group with ``user.press(message,
    button)`` (or ``press_data`` / ``click_and_wait``): the callback query carries the message as
    it is, so its chat is the group and its ``from`` is that user; no group-specific helper is
    needed.
    """

    async def send(self, user: FakeUser, text: str) -> JSONDict:
        """``user`` writes ``text`` in the group; return the Message object injected."""
        return await self._inject_message(user.user, **_text_content(text))


def _text_content(text: str) -> JSONDict:
    """Text and, for a command, the bot_command entity Telegram adds."""
    content: JSONDict = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
    return content


def _callback_data(message: SentMessage, button: str) -> str:
    """Callback data of the inline button whose text is ``button`` (or uniquely contains it)."""
    if message.deleted:
        raise AssertionError(f"message {message.message_id} is deleted")
    inline = (message.reply_markup or {}).get("inline_keyboard", [])
    candidates = [b for row in inline for b in row]
    matches = [b for b in candidates if b["text"] == button] or [
        b for b in candidates if button in b["text"]
    ]
    if len(matches) != 1:
        problem = "no button" if not matches else "several buttons"
        raise AssertionError(
            f"{problem} matching {button!r} in message {message.message_id}; "
            f"buttons: {[b['text'] for b in candidates]}"
        )
    if "callback_data" not in matches[0]:
        raise AssertionError(f"button {matches[0]['text']!r} has no callback_data")
    return str(matches[0]["callback_data"])
