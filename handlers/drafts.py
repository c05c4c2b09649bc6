"""The in-memory state of a guided conversation (/newtask, /meeting, /resident new), per person.

Each conversation keeps one draft under its own key in `user_data`; `/cancel` drops it and says
nothing was saved. A restart forgets the drafts: their buttons then say the form was closed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import ConversationHandler

from bot.i18n import Html, Translator
from handlers.context import ApuriContext

__all__ = [
    "cancel_handler",
    "cancelled_text",
    "closed_form_handler",
    "draft_of",
    "drop_draft",
    "user_data",
]

_T = TypeVar("_T")


def user_data(context: ApuriContext) -> dict[Any, Any]:
    """Return the person's `user_data` (PTB gives every private chat one)."""
    assert context.user_data is not None
    return context.user_data


def draft_of(context: ApuriContext, key: str, kind: Callable[[], _T]) -> _T:
    """Return the draft under `key`, starting a new one (`kind()`) if there is none."""
    data = user_data(context)
    draft = data.get(key)
    if not isinstance(draft, kind):  # type: ignore[arg-type]
        draft = data[key] = kind()
    return draft  # type: ignore[no-any-return]


def drop_draft(context: ApuriContext, key: str) -> None:
    """Forget the draft under `key`."""
    if context.user_data is not None:
        context.user_data.pop(key, None)


def cancelled_text(tr: Translator) -> Html:
    """Return the answer to a cancelled form."""
    return tr.gettext("Cancelled. Nothing was saved.")


def closed_form_handler(message: str) -> Callable[[Update, ApuriContext], Awaitable[None]]:
    """Return the answer to a button of a form that is over (sent, cancelled, or restarted).

    `message` is the msgid of the alert, naming the command that starts the form again.
    """

    async def closed(update: Update, context: ApuriContext) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(context.tr.plain(message), show_alert=True)

    return closed


def cancel_handler(key: str) -> Callable[[Update, ApuriContext], Awaitable[int]]:
    """Return the `/cancel` of a conversation: drop its draft, say nothing was saved, end."""

    async def cancel(update: Update, context: ApuriContext) -> int:
        drop_draft(context, key)
        assert update.message is not None
        await update.message.reply_text(cancelled_text(context.tr))
        return ConversationHandler.END

    return cancel
