"""Sending and editing the chat messages that show tasks, remembering them for later edits.

Every message that shows a resident's name, address or phone (a card) is remembered as a
`TaskMessage`; when its task ends or changes hands the card is edited to the closed text and then
forgotten. The sweep retries any card left unedited, so a failed edit is not a lasting leak.
Delivery to one person never stops the others: a blocked bot or a network fault is logged
(ids only) and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.domain.people import Person
from bot.domain.tasks import MessageKind, Task, TaskMessage
from bot.i18n import Html, translators
from bot.services.dispatch import TaskView
from handlers.context import ApuriContext
from handlers.tasks_render import card, closed_text, offer, stale_offer_text

__all__ = ["edit_message", "remember_card", "scrub", "send", "send_cards", "send_offers"]

log = logging.getLogger(__name__)


async def send(
    context: ApuriContext,
    person: Person,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Send a message to a person; None when it could not be delivered (logged, ids only).

    A person who has blocked the bot is marked unreachable (for the coordinators' brief); a
    delivery to someone marked so clears the mark.
    """
    try:
        message = await context.bot.send_message(
            person.telegram_user_id, text, reply_markup=reply_markup
        )
    except Forbidden:
        log.info("person %s has blocked the bot", person.id)
        await context.services.people.unreachable(person.id)
    except TelegramError as exc:
        log.warning("could not message person %s: %s", person.id, type(exc).__name__)
    else:
        if person.unreachable_since is not None:
            await context.services.people.reachable(person.id)
        return message
    return None


async def edit_message(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Edit a message in place; an identical edit or a message that is gone counts as done."""
    try:
        await bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, reply_markup=reply_markup
        )
    except BadRequest as exc:
        reason = exc.message.lower()
        if "not modified" in reason or "not found" in reason or "can't be edited" in reason:
            return True
        log.warning("could not edit message %s: %s", message_id, type(exc).__name__)
        return False
    except Forbidden:
        return True  # blocked: the chat is out of reach, and so is the text in it
    except TelegramError as exc:
        log.warning("could not edit message %s: %s", message_id, type(exc).__name__)
        return False
    return True


async def send_offers(
    context: ApuriContext, task: Task, postal_code: str, recipients: Iterable[Person]
) -> int:
    """Send the offer to each recipient in their language; return how many received it."""
    zone = context.bot_data.timezone
    sent = []
    for person in recipients:
        text, keyboard = offer(context.translator_for(person), task, postal_code, zone)
        message = await send(context, person, text, keyboard)
        if message is not None:
            sent.append(_remembered(message, task.id, person, MessageKind.OFFER))
    await context.services.dispatch.remember(sent)
    return len(sent)


async def send_cards(
    context: ApuriContext,
    view: TaskView,
    holders: Iterable[Person],
    *,
    heading: Html | None = None,
) -> None:
    """Send the full card to each holder (with an optional line above it) and remember it."""
    zone = context.bot_data.timezone
    sent = []
    for person in holders:
        tr = context.translator_for(person)
        text, keyboard = card(tr, view, zone)
        if heading is not None:
            text = Html(f"{heading}\n\n{text}")
        message = await send(context, person, text, keyboard)
        if message is not None:
            sent.append(_remembered(message, view.task.id, person, MessageKind.CARD))
    await context.services.dispatch.remember(sent)


async def remember_card(
    context: ApuriContext, message: object, task_id: int, person: Person
) -> None:
    """Remember a card (a `Message`, or its chat and message id) shown to a holder."""
    if isinstance(message, Message):
        message = (message.chat_id, message.message_id)
    if not isinstance(message, tuple):
        return  # an inaccessible message: nothing to remember
    chat_id, message_id = message
    await context.services.dispatch.remember(
        [
            TaskMessage(
                chat_id=chat_id,
                message_id=message_id,
                task_id=task_id,
                person_id=person.id,
                kind=MessageKind.CARD,
            )
        ]
    )


async def scrub(
    context: ApuriContext,
    task: Task,
    postal_code: str,
    messages: Iterable[TaskMessage],
    audience: dict[int, Person],
) -> None:
    """Edit stale offers and cards of a task to texts without personal data, then forget them."""
    bot, zone = context.bot, context.bot_data.timezone
    done = []
    for message in messages:
        person = audience.get(message.person_id)
        tr = (
            context.translator_for(person)
            if person
            else translators()[context.bot_data.default_language]
        )
        if message.kind is MessageKind.OFFER:
            text = stale_offer_text(tr, task, postal_code, zone)
        else:
            text = closed_text(tr, task, postal_code, zone)
        if await edit_message(bot, message.chat_id, message.message_id, text):
            done.append(message)
    await context.services.dispatch.forget(done)


def _remembered(message: Message, task_id: int, person: Person, kind: MessageKind) -> TaskMessage:
    return TaskMessage(
        chat_id=message.chat_id,
        message_id=message.message_id,
        task_id=task_id,
        person_id=person.id,
        kind=kind,
    )
