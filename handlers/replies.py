"""Editing messages in place, tolerant of double taps and of messages that are gone.

Pressing a button twice re-renders the same text and keyboard, and Telegram refuses an edit that
changes nothing with 400 "message is not modified". That is success for us, not a fault. A message
that can no longer be edited (deleted, or too old for the client to hand back) gets the answer as
a new message instead.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

__all__ = ["edit"]

_GONE = ("message to edit not found", "message can't be edited")


async def edit(
    query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Replace the pressed message's text and keyboard; an identical edit is not an error.

    Return the message that now shows the text — the pressed one, or the new one sent when the
    pressed one could not be edited — so that a caller can remember where it is.
    """
    if isinstance(query.message, Message):
        try:
            edited = await query.edit_message_text(text, reply_markup=reply_markup)
        except BadRequest as exc:
            reason = exc.message.lower()
            if "message is not modified" in reason:
                return query.message
            if not any(gone in reason for gone in _GONE):
                raise
        else:
            return edited if isinstance(edited, Message) else query.message
    return await query.get_bot().send_message(query.from_user.id, text, reply_markup=reply_markup)
