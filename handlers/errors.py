"""The one error handler: explain broken rules, log real faults without personal data.

A `DomainError` is an expected refusal (a wrong code, a missing right): the person is told why, in
their language, and nothing is logged as a fault. Anything else is logged with the update id and
the handler only — never message text, names, phone numbers or addresses — and the person is told
that nothing was lost and to try again.
"""

from __future__ import annotations

import html
import logging
import re
import traceback

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.domain.errors import DomainError
from bot.i18n import Html, Translator
from handlers.callback_data import BadCallbackData
from handlers.context import ApuriContext
from handlers.render import error_text

__all__ = ["on_error"]

log = logging.getLogger(__name__)


async def on_error(update: object, context: ApuriContext) -> None:
    """Tell the person what happened; log faults first."""
    error = context.error
    if not isinstance(error, DomainError | BadCallbackData):
        # The traceback's frames only: an exception's message may quote input (pydantic does).
        frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
        log.error(
            "fault while handling update %s: %s\n%s",
            update.update_id if isinstance(update, Update) else "-",
            type(error).__name__,
            frames,
        )
    if not isinstance(update, Update) or update.effective_user is None:
        return
    tr = await _translator(update, context)
    if isinstance(error, DomainError):
        text = error_text(tr, error, context.bot_data.timezone)
    elif isinstance(error, BadCallbackData):
        text = tr.gettext("This button is no longer valid.")
    else:
        text = tr.gettext(
            "Sorry, something went wrong on my side. Nothing you saved was lost — please try again."
        )
    await _tell(update, text)


async def _translator(update: Update, context: ApuriContext) -> Translator:
    user = update.effective_user
    assert user is not None
    try:
        person = await context.services.people.identify(user.id)
    except Exception:  # the database itself may be what failed
        person = None
    return context.speak_to(person, user.language_code)


async def _tell(update: Update, text: Html) -> None:
    try:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(_plain(text), show_alert=True)
            except BadRequest:  # answered already: say it in the chat instead
                await update.callback_query.get_bot().send_message(
                    update.callback_query.from_user.id, text
                )
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except Forbidden:
        pass  # the person blocked the bot; nobody to tell
    except TelegramError as exc:
        log.warning("could not tell the user about an error: %s", type(exc).__name__)


def _plain(text: Html) -> str:
    """Return the text without its HTML, for an alert that Telegram shows as plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))[:200]
