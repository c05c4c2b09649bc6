"""The gate every update passes first: who is this, which language, may they go on.

Runs in handler group -1. It loads the person fresh from the database on every update, so a
deactivation takes effect at once, and it stops everything from strangers except `/start`, which
may carry an invite code.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from handlers.callback_data import Attend
from handlers.context import ApuriContext
from handlers.render import deactivated_text, unregistered_text

__all__ = ["identify"]


async def identify(update: Update, context: ApuriContext) -> None:
    """Attach the person and their translator to the context; turn strangers away politely."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or user.is_bot or chat is None:
        raise ApplicationHandlerStop
    if chat.type != ChatType.PRIVATE and not _is_group_attendance(update):
        raise ApplicationHandlerStop  # in a group, only a meeting reminder's buttons are served
    if update.message is None and update.callback_query is None:
        raise ApplicationHandlerStop  # edits, membership changes: nothing to answer

    person = await context.services.people.identify(user.id)
    context.speak_to(person, user.language_code)
    if person is not None and person.active:
        if person.unreachable_since is not None and chat.type == ChatType.PRIVATE:
            await context.services.people.reachable(person.id)  # they wrote: the bot reaches them
        context.person = person
        return
    context.deactivated = person is not None
    if _is_start_command(update, context.bot.username):
        return  # /start <code> registers, or reactivates with a new invite
    text = unregistered_text(context.tr) if person is None else deactivated_text(context.tr)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.message is not None:
        await update.message.reply_text(text)
    raise ApplicationHandlerStop


def _is_group_attendance(update: Update) -> bool:
    """Whether the update is a press of I'll attend / Can't attend under a group's reminder."""
    query = update.callback_query
    chat = update.effective_chat
    return (
        query is not None
        and chat is not None
        and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        and Attend.matches()(query.data)
    )


def _is_start_command(update: Update, bot_username: str) -> bool:
    message = update.message
    if message is None or not message.text:
        return False
    command, _, addressee = message.text.split(maxsplit=1)[0].partition("@")
    return command == "/start" and addressee.lower() in {"", bot_username.lower()}
