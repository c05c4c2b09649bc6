"""What the fake Bot API records: requests it received and messages the bot sent."""

import copy
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class RecordedRequest:
    """One Bot API call: canonical method name, decoded parameters, clock time of arrival."""

    method: str
    params: JSONDict
    at: float
    files: dict[str, UploadedFile] = field(default_factory=dict)


@dataclass
class SentMessage:
    """A message the bot sent, in its current state; the server hands out copies (snapshots)."""

    chat_id: int
    message_id: int
    text: str
    raw_text: str
    chat: JSONDict
    sender: JSONDict
    date: int
    parse_mode: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    reply_markup: JSONDict | None = None
    document: JSONDict | None = None
    photo: list[JSONDict] | None = None
    history: list[str] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False

    @property
    def has_media(self) -> bool:
        """Whether ``text`` is a caption (document or photo message)."""
        return self.document is not None or self.photo is not None

    @property
    def buttons(self) -> list[list[str]]:
        """Visible texts of the keyboard's buttons, row by row."""
        return [[_button_text(button) for button in row] for row in self._rows()]

    @property
    def button_data(self) -> dict[str, str]:
        """Callback data of each inline button that has some, by visible text."""
        return {
            button["text"]: button["callback_data"]
            for row in self._rows()
            for button in row
            if isinstance(button, dict) and "callback_data" in button
        }

    def snapshot(self) -> "SentMessage":
        """An independent copy of the current state."""
        return copy.deepcopy(self)

    def to_dict(self) -> JSONDict:
        """The Telegram Message object for the current state."""
        message: JSONDict = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        text_key, entities_key = (
            ("caption", "caption_entities") if self.has_media else ("text", "entities")
        )
        if self.text or not self.has_media:
            message[text_key] = self.text
        if self.entities:
            message[entities_key] = self.entities
        if self.document is not None:
            message["document"] = self.document
        if self.photo is not None:
            message["photo"] = self.photo
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return copy.deepcopy(message)

    def _rows(self) -> list[list[Any]]:
        """Button rows of an inline or reply keyboard; empty without one."""
        markup = self.reply_markup or {}
        return markup.get("inline_keyboard") or markup.get("keyboard") or []


def _button_text(button: JSONDict | str) -> str:
    """Visible text of a keyboard button (reply keyboards allow bare strings)."""
    return button if isinstance(button, str) else button["text"]
