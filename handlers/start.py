"""Everyone's commands: /start (with an invite code), /help, /whoami, /language."""

from __future__ import annotations

from telegram import Update

from bot.domain.people import SUPPORTED_LANGUAGES
from handlers.callback_data import BadCallbackData, ChooseLanguage
from handlers.commands import publish_menu_of
from handlers.context import ApuriContext
from handlers.render import (
    LANGUAGE_NAMES,
    deactivated_text,
    help_text,
    language_keyboard,
    unregistered_text,
    welcome_text,
    whoami_text,
)
from handlers.replies import edit

__all__ = ["choose_language", "help_command", "language", "start", "unknown", "whoami"]


async def start(update: Update, context: ApuriContext) -> None:
    """Register with the invite code after /start, or greet a known person."""
    message = update.message
    user = update.effective_user
    assert message is not None and user is not None
    code = context.args[0] if context.args else None
    if code is None:
        if context.person is not None:
            text = help_text(context.tr, context.person)
        elif context.deactivated:
            text = deactivated_text(context.tr)
        else:
            text = unregistered_text(context.tr)
        await message.reply_text(text)
        return
    redemption = await context.services.invites.redeem(
        user.id, code, telegram_name=user.full_name, language_code=user.language_code
    )
    person = redemption.person
    context.person = person
    context.speak_to(person, None)
    await message.reply_text(
        welcome_text(context.tr, person, redemption.role, redemption.newly_registered)
    )
    await publish_menu_of(context.bot, person)


async def help_command(update: Update, context: ApuriContext) -> None:
    """List the commands the person's roles allow."""
    assert update.message is not None
    await update.message.reply_text(help_text(context.tr, context.actor))


async def whoami(update: Update, context: ApuriContext) -> None:
    """Show the person what the bot knows about them."""
    assert update.message is not None
    await update.message.reply_text(whoami_text(context.tr, context.actor))


async def language(update: Update, context: ApuriContext) -> None:
    """Offer the three interface languages."""
    assert update.message is not None
    await update.message.reply_text(
        context.tr.gettext("Choose your language:"),
        reply_markup=language_keyboard(context.actor.language),
    )


async def choose_language(update: Update, context: ApuriContext) -> None:
    """Remember the chosen language and answer in it."""
    query = update.callback_query
    assert query is not None
    chosen = ChooseLanguage.parse(query.data).language
    if chosen not in SUPPORTED_LANGUAGES:
        raise BadCallbackData(chosen)
    person = await context.services.people.set_language(context.actor, chosen)
    context.speak_to(person, None)
    await query.answer()
    await edit(query, context.tr.gettext("Language: {language}", language=LANGUAGE_NAMES[chosen]))
    await publish_menu_of(context.bot, person)


async def unknown(update: Update, context: ApuriContext) -> None:
    """Answer anything the bot does not understand with a pointer to /help."""
    if update.message is not None:
        await update.message.reply_text(
            context.tr.gettext("I did not understand that. /help lists what you can do.")
        )
    elif update.callback_query is not None:
        await update.callback_query.answer(
            context.tr.plain("This button is no longer valid."), show_alert=True
        )
