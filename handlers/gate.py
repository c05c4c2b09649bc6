"""The gate every update passes first: who is this, which language, may they go on.

Runs in handler group -1. It loads the person fresh from the database on every update, so a
deactivation takes effect at once, and it stops everything from strangers except `/start`, which
may carry an invite code.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.domain.people import normalise_language
from bot.i18n import translators
from handlers.context import ApuriContext
from handlers.render import deactivated_text, unregistered_text

__all__ = ["identify"]


async def identify(update: Update, context: ApuriContext) -> None:
    """Attach the person and their translator to the context; turn strangers away politely."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or user.is_bot or chat is None or chat.type != ChatType.PRIVATE:
        raise ApplicationHandlerStop  # group chats and channels are not served (yet)
    if update.message is None and update.callback_query is None:
        raise ApplicationHandlerStop  # edits, membership changes: nothing to answer

    person = await context.services.people.identify(user.id)
    language = (
        person.language
        if person is not None
        else normalise_language(user.language_code, context.bot_data.default_language)
    )
    context.tr = translators()[language]
    if person is not None and person.active:
        context.person = person
        return
    if _is_start_command(update):
        return  # /start <code> registers, or reactivates with a new invite
    text = unregistered_text(context.tr) if person is None else deactivated_text(context.tr)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.message is not None:
        await update.message.reply_text(text)
    raise ApplicationHandlerStop


def _is_start_command(update: Update) -> bool:
    message = update.message
    if message is None or not message.text:
        return False
    command = message.text.split(maxsplit=1)[0].split("@", 1)[0]
    return command == "/start"
