"""Editing messages in place, tolerant of double taps.

Pressing a button twice re-renders the same text and keyboard, and Telegram refuses an edit that
changes nothing with 400 "message is not modified". That is success for us, not a fault.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup
from telegram.error import BadRequest

__all__ = ["edit"]


async def edit(
    query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text and keyboard; an identical edit is not an error."""
    try:
        await query.edit_message_text(text, reply_markup=reply_markup)
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise
