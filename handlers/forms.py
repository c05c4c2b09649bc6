"""Outcome forms in the chat: Report on a task card starts one, buttons and typed text answer it.

These handlers keep no state: the draft lives in the database and every button carries the draft's
id and revision, so after a restart the same buttons (and typed answers) go on where they were.
A button answer edits the prompt in place; a typed answer gets a fresh prompt below it and the old
one loses its buttons. When an answer makes the outcome urgent or a health concern, the 112 notice
comes at once, before the next question, and the coordinators are alerted.
"""

from __future__ import annotations

import logging

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.domain.campaigns import CampaignState
from bot.domain.errors import StaleStep
from bot.domain.people import Capability
from bot.domain.reports import Draft
from bot.i18n import Html
from bot.services.outcomes import CrisisAlert, FormStep, ReferralUpdate, Submitted
from handlers import start
from handlers.callback_data import FormPress, ReferralPress, ShowTimeline
from handlers.campaigns_render import call_end_text, next_call_keyboard
from handlers.context import ApuriContext, requires
from handlers.forms_render import (
    cancel_keyboard,
    crisis_alert,
    crisis_notice,
    draft_expired,
    draft_reminder,
    drafts_list,
    edit_menu,
    prompt,
    referral_for_partner,
    referral_scrubbed,
    report_for_coordinators,
    report_keyboard,
    submitted_text,
    thrown_away,
    timeline_text,
)
from handlers.replies import edit
from handlers.task_messages import edit_message, scrub, send, send_offers

__all__ = [
    "begin_report",
    "deliver_draft_sweep",
    "handlers",
    "typed_answer",
]

log = logging.getLogger(__name__)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Return the handlers of outcome forms, referrals and timelines."""
    return [
        CommandHandler("resume", resume_command),
        CallbackQueryHandler(form_press, pattern=FormPress.matches()),
        CallbackQueryHandler(referral_press, pattern=ReferralPress.matches()),
        CallbackQueryHandler(show_timeline, pattern=ShowTimeline.matches()),
    ]


def typed_answer() -> MessageHandler:  # type: ignore[type-arg]
    """Return the handler of typed answers; it must come after the guided conversations."""
    return MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, typed)


# --- starting and resuming ------------------------------------------------------------------------


async def begin_report(query: CallbackQuery, context: ApuriContext, task_id: int) -> None:
    """Report on a task card: start its outcome form, or pick up the draft where it was."""
    step = await context.services.outcomes.begin(context.actor, task_id)
    await query.answer(
        context.tr.plain("Your report continues where you left it.") if step.resumed else None
    )
    await _show_below(context, step)


async def resume_command(update: Update, context: ApuriContext) -> None:
    """/resume: list the unfinished reports, each with a button to continue."""
    assert update.message is not None
    steps = await context.services.outcomes.drafts(context.actor)
    text, keyboard = drafts_list(context.tr, steps)
    await update.message.reply_text(text, reply_markup=keyboard)


# --- answering ------------------------------------------------------------------------------------


async def form_press(update: Update, context: ApuriContext) -> None:
    """Any button of a form: one step, checked against the draft's revision."""
    query = update.callback_query
    assert query is not None
    data = FormPress.parse(query.data)
    outcomes = context.services.outcomes
    actor = context.actor
    op, draft_id, revision = data.op, data.draft, data.revision
    if op == "c":
        await _stepped(query, context, await outcomes.choose(actor, draft_id, revision, data.arg))
    elif op == "d":
        await _stepped(query, context, await outcomes.done(actor, draft_id, revision))
    elif op == "s":
        await _stepped(query, context, await outcomes.skip(actor, draft_id, revision))
    elif op == "b":
        await _stepped(query, context, await outcomes.back(actor, draft_id, revision))
    elif op == "j":
        await _stepped(query, context, await outcomes.edit(actor, draft_id, revision, data.arg))
    elif op == "k":
        await _submit(query, context, await outcomes.submit(actor, draft_id, revision))
    elif op == "y":
        task = await outcomes.cancel(actor, draft_id, revision)
        await _answer(query)
        await edit(query, thrown_away(context.tr, task.id))
    elif op in {"e", "x", "n", "r"}:
        step = await outcomes.resume(actor, draft_id)
        if op != "r" and step.draft.revision != revision:  # Continue shows it as it is now
            raise StaleStep
        await query.answer()
        if op == "r":
            await _show_below(context, step)
        elif op == "e":
            await edit(query, *edit_menu(context.tr, step))
        elif op == "x":
            await edit(query, *cancel_keyboard(context.tr, step))
        else:
            await _show_here(query, context, step)
    else:
        raise StaleStep


async def typed(update: Update, context: ApuriContext) -> None:
    """Typed text: the answer to the person's open form, or else not understood."""
    message = update.message
    assert message is not None and message.text is not None
    step = None
    if context.person is not None and context.person.can(Capability.TAKE_TASKS):
        step = await context.services.outcomes.typed(context.actor, message.text)
    if step is None:
        await start.unknown(update, context)
        return
    await _alert(context, step.alert)  # first: nothing the chat does may hold the alert up
    if step.crisis:
        await message.reply_text(crisis_notice(context.tr))
    await _show_below(context, step)


async def _stepped(query: CallbackQuery, context: ApuriContext, step: FormStep) -> None:
    await _alert(context, step.alert)  # first: nothing the chat does may hold the alert up
    await _answer(query)
    if step.crisis:
        await _strip(context.bot, _prompt_of(step.draft))
        await context.bot.send_message(context.actor.telegram_user_id, crisis_notice(context.tr))
        await _show_below(context, step)
    else:
        await _show_here(query, context, step)


async def _answer(query: CallbackQuery, text: str | None = None) -> None:
    """Answer the press; a press too old to answer (handled after a restart) is no fault."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        log.info("press not answered: %s", type(exc).__name__)


async def _show_here(query: CallbackQuery, context: ApuriContext, step: FormStep) -> None:
    """Show the step in the pressed message."""
    shown = await edit(query, *prompt(context.tr, step, context.bot_data.timezone))
    if isinstance(shown, Message) and (shown.chat_id, shown.message_id) != _prompt_of(step.draft):
        await context.services.outcomes.prompt_shown(step.draft.id, shown.chat_id, shown.message_id)


async def _show_below(context: ApuriContext, step: FormStep) -> None:
    """Show the step in a new message at the bottom of the chat; the old prompt loses buttons."""
    text, keyboard = prompt(context.tr, step, context.bot_data.timezone)
    sent = await context.bot.send_message(
        context.actor.telegram_user_id, text, reply_markup=keyboard
    )
    old = _prompt_of(step.draft)
    await context.services.outcomes.prompt_shown(step.draft.id, sent.chat_id, sent.message_id)
    if old != (sent.chat_id, sent.message_id):
        await _strip(context.bot, old)


def _prompt_of(draft: Draft) -> tuple[int, int] | None:
    if draft.chat_id is None or draft.message_id is None:
        return None
    return draft.chat_id, draft.message_id


async def _strip(bot: Bot, where: tuple[int, int] | None) -> None:
    """Take the buttons off an old prompt (best effort: it may be gone)."""
    if where is None:
        return
    try:
        await bot.edit_message_reply_markup(chat_id=where[0], message_id=where[1])
    except TelegramError as exc:
        log.debug("old prompt %s not stripped: %s", where[1], type(exc).__name__)


async def _alert(context: ApuriContext, alert: CrisisAlert | None) -> None:
    """Alert every coordinator; once one has it, it is recorded (else the sweep sends it again)."""
    if alert is None:
        return
    zone = context.bot_data.timezone
    delivered = 0
    for coordinator in alert.coordinators:
        text = crisis_alert(context.translator_for(coordinator), alert, zone)
        if await send(context, coordinator, text) is not None:
            delivered += 1
    if delivered:
        await context.services.outcomes.alert_delivered(alert.alert_id)
    else:
        log.error("crisis alert %d reached no coordinator; retrying", alert.alert_id)


# --- submitting -----------------------------------------------------------------------------------


async def _submit(query: CallbackQuery, context: ApuriContext, submitted: Submitted) -> None:
    await _alert(context, submitted.alert)
    await _answer(query, context.tr.plain("Thank you!"))
    text, keyboard = submitted_text(context.tr, submitted), None
    if submitted.call is not None:  # a campaign's call: what it did to the list, and the next
        end = call_end_text(context.tr, submitted.call, context.bot_data.timezone)
        text = Html(f"{text}\n{end}")
        if submitted.call.campaign.state is CampaignState.RUNNING:
            keyboard = next_call_keyboard(context.tr, submitted.call.campaign)
    try:
        await edit(query, text, keyboard)
    except TelegramError as exc:  # the rest must still reach the others
        log.warning("submitted report not shown: %s", type(exc).__name__)
    zone = context.bot_data.timezone
    closed = submitted.closed
    if closed is not None:
        view = closed.view
        await scrub(context, view.task, view.postal_code, closed.stale, closed.audience)
        for person in closed.holders:
            if person.id != context.actor.id:
                await send(
                    context,
                    person,
                    context.translator_for(person).gettext(
                        "{name} sent the report on task #{number}. Thank you both!",
                        name=context.actor.name,
                        number=view.task.id,
                    ),
                )
    for offered in submitted.offers:
        await send_offers(context, offered.task, offered.postal_code, offered.recipients)
    for notice in submitted.referrals:
        for partner in notice.recipients:
            text, keyboard = referral_for_partner(
                context.translator_for(partner), notice.referral, notice.resident, taken=False
            )
            sent = await send(context, partner, text, keyboard)
            if sent is not None:
                taken = await context.services.outcomes.remember_referral_message(
                    notice.referral.id, partner, sent.chat_id, sent.message_id
                )
                if taken is not None:  # another partner was quicker than this send
                    await _scrub_referral(context, taken)
    if submitted.worth_reporting:
        for coordinator in submitted.coordinators:
            tr = context.translator_for(coordinator)
            text = report_for_coordinators(tr, submitted, zone)
            await send(context, coordinator, text, report_keyboard(tr, submitted))


# --- referrals ------------------------------------------------------------------------------------


async def referral_press(update: Update, context: ApuriContext) -> None:
    """A partner contact takes a referral, or marks it done."""
    query = update.callback_query
    assert query is not None
    data = ReferralPress.parse(query.data)
    outcomes = context.services.outcomes
    if data.action == "take":
        update_ = await outcomes.take_referral(context.actor, data.referral)
        if update_.lost:
            await _scrub_referral(context, update_)  # the presser's copy loses the contact
            await query.answer(
                context.tr.plain("Someone else has taken this referral already."), show_alert=True
            )
            return
        await _answer(query, context.tr.plain("It is yours. Thank you!"))
        await edit(
            query,
            *referral_for_partner(context.tr, update_.referral, update_.resident, taken=True),
        )
    elif data.action == "settle":
        update_ = await outcomes.settle_referral(context.actor, data.referral)
        await _answer(query, context.tr.plain("Marked arranged. Thank you!"))
        await _drop_button(query, data.pack())
    elif data.action == "close":
        update_ = await outcomes.close_referral(context.actor, data.referral)
        await _answer(query, context.tr.plain("Thank you!"))
        await edit(query, referral_scrubbed(context.tr, update_.referral, context.actor.name))
    else:
        raise StaleStep
    await _scrub_referral(context, update_)


async def _drop_button(query: CallbackQuery, data: str) -> None:
    """Take the pressed button off the message, keeping the others."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    rows = [
        [b for b in row if b.callback_data != data] for row in message.reply_markup.inline_keyboard
    ]
    keyboard = InlineKeyboardMarkup([row for row in rows if row]) if any(rows) else None
    try:
        await query.edit_message_reply_markup(reply_markup=keyboard)
    except TelegramError as exc:
        log.debug("button not dropped: %s", type(exc).__name__)


async def _scrub_referral(context: ApuriContext, update: ReferralUpdate) -> None:
    done = []
    taker = update.taker.name if update.taker else None
    for chat_id, message_id, person in update.stale:
        text = referral_scrubbed(context.translator_for(person), update.referral, taker)
        if await edit_message(context.bot, chat_id, message_id, text):
            done.append(person)
    await context.services.outcomes.forget_referral_messages(update.referral.id, done)


# --- the timeline ---------------------------------------------------------------------------------


@requires(Capability.MANAGE_RESIDENTS)
async def show_timeline(update: Update, context: ApuriContext) -> None:
    """Send a resident's timeline (coordinators only)."""
    query = update.callback_query
    assert query is not None
    data = ShowTimeline.parse(query.data)
    timeline = await context.services.outcomes.timeline(context.actor, data.resident)
    await query.answer()
    await context.bot.send_message(
        context.actor.telegram_user_id,
        timeline_text(context.tr, timeline, context.bot_data.timezone),
    )


# --- the clock ------------------------------------------------------------------------------------


async def deliver_draft_sweep(context: ApuriContext) -> None:
    """Remind owners of idle reports once; tell them when one expired."""
    result = await context.services.outcomes.sweep()
    for draft, task, person in result.reminders:
        tr = context.translator_for(person)
        await send(context, person, *draft_reminder(tr, draft, task.id))
    for draft, task, person in result.expired:
        tr = context.translator_for(person)
        where = _prompt_of(draft)
        if where is not None:  # the last question or summary may show answers: replace it
            await edit_message(context.bot, *where, thrown_away(tr, task.id))
        await send(context, person, draft_expired(tr, task.id))
    for alert in result.alerts:
        await _alert(context, alert)
    if result.reminders or result.expired:
        log.info("drafts: %d reminded, %d expired", len(result.reminders), len(result.expired))
