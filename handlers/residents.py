"""Coordinators' residents: the guided `/resident new` form, search, cards and CSV imports.

The form keeps its answers in `user_data` under a random draft token that every button of the form
carries, so a button of an older form (one already saved, or from before a restart) never acts on
the current one. Nothing is written before Save: an abandoned or interrupted form leaves no trace.

```mermaid
stateDiagram-v2
    [*] --> NAME: /resident new
    NAME --> PHONE --> STREET_ADDRESS --> POSTAL_CODE --> MUNICIPALITY --> BIRTH_YEAR
    BIRTH_YEAR --> LANGUAGE --> HOUSEHOLD_NOTE --> NOTE --> CONFIRM
    NAME --> NAME: bad value (re-ask with the reason)
    CONFIRM --> [*]: Save / Cancel
    NAME --> [*]: /cancel (from any state)
```
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.domain.errors import InvalidValue, ResidentNotFound
from bot.domain.people import Capability
from bot.domain.resident_import import MAX_BYTES
from bot.domain.residents import FIELDS, ResidentInput
from handlers.callback_data import (
    BadCallbackData,
    ResidentFormAnswer,
    ResidentFormDone,
    ShowResident,
    ShowTimeline,
)
from handlers.context import ApuriContext, requires
from handlers.drafts import cancel_handler, cancelled_text, user_data
from handlers.replies import edit
from handlers.residents_render import (
    REPORT_FILE_NAME,
    already_saved_text,
    answer_text_please,
    answered_text,
    busy_text,
    form_closed_text,
    import_report_messages,
    press_save_or_cancel_text,
    question,
    resident_card,
    saved_text,
    search_results,
    summary,
    timeline_button,
    too_large_text,
    usage_text,
)

__all__ = [
    "FORM_TIMEOUT",
    "State",
    "handlers",
    "import_upload",
    "resident_command",
    "show_resident",
]

log = logging.getLogger(__name__)

FORM_TIMEOUT = timedelta(hours=1)
# `/resident new` in the three languages; anything else after /resident is a search.
_NEW_WORDS = frozenset({"new", "uusi", "ny"})
_DRAFT = "resident_draft"
_SAVED = "resident_saved_drafts"
_SAVED_KEPT = 20
# What a coordinator may send as a residents file; an Excel workbook is taken too, to explain.
_IMPORTABLE = (
    filters.Document.FileExtension("csv")
    | filters.Document.FileExtension("txt")
    | filters.Document.MimeType("text/csv")
    | filters.Document.MimeType("text/comma-separated-values")
    | filters.Document.FileExtension("xlsx")
    | filters.Document.FileExtension("xls")
    | filters.Document.FileExtension("ods")
)
# Typed as "nothing" for an optional question, besides the Skip button.
_SKIP_WORDS = frozenset({"-", "–", "—"})


class State(IntEnum):
    """Where the form is: one state per question, then the summary."""

    NAME = 1
    PHONE = 2
    STREET_ADDRESS = 3
    POSTAL_CODE = 4
    MUNICIPALITY = 5
    BIRTH_YEAR = 6
    LANGUAGE = 7
    HOUSEHOLD_NOTE = 8
    NOTE = 9
    CONFIRM = 10


_QUESTION_STATES: tuple[State, ...] = tuple(State[f.upper()] for f in FIELDS)


@dataclass
class _Draft:
    """The answers so far; `index` is the question being asked."""

    token: str
    values: dict[str, object] = field(default_factory=dict)
    index: int = 0

    @property
    def field(self) -> str | None:
        """Return the field being asked, or None at the summary."""
        return FIELDS[self.index] if self.index < len(FIELDS) else None

    @property
    def state(self) -> State:
        """Return the conversation state that matches the draft."""
        return _QUESTION_STATES[self.index] if self.index < len(FIELDS) else State.CONFIRM


def _draft(context: ApuriContext) -> _Draft | None:
    draft = user_data(context).get(_DRAFT)
    return draft if isinstance(draft, _Draft) else None


def _saved_drafts(context: ApuriContext) -> dict[str, int]:
    return user_data(context).setdefault(_SAVED, {})


def _chat_id(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id


async def _ask(
    update: Update, context: ApuriContext, draft: _Draft, problem: InvalidValue | None = None
) -> int:
    """Send the draft's current question, or the summary when every question is answered."""
    current = draft.field
    if current is None:
        text, keyboard = summary(context.tr, draft.token, draft.values)
        await context.bot.send_message(_chat_id(update), text, reply_markup=keyboard)
        return State.CONFIRM
    text, markup = question(context.tr, draft.token, current, problem)
    await context.bot.send_message(_chat_id(update), text, reply_markup=markup)
    return draft.state


@requires(Capability.MANAGE_RESIDENTS)
async def resident_command(update: Update, context: ApuriContext) -> int:
    """Start the form after `/resident new`, search after `/resident <text>`, else explain."""
    message = update.message
    assert message is not None
    args = context.args or []
    if not args:
        await message.reply_text(usage_text(context.tr))
        return ConversationHandler.END
    if len(args) == 1 and args[0].casefold() in _NEW_WORDS:
        draft = _Draft(secrets.token_hex(4))
        user_data(context)[_DRAFT] = draft
        return await _ask(update, context, draft)
    text = " ".join(args)
    found = await context.services.residents.find(context.actor, text)
    reply, keyboard = search_results(context.tr, text, found)
    await message.reply_text(reply, reply_markup=keyboard)
    return ConversationHandler.END


@requires(Capability.MANAGE_RESIDENTS)
async def answer_text(update: Update, context: ApuriContext) -> int:
    """Check the typed answer: store it and ask the next question, or re-ask with the reason."""
    message = update.message
    assert message is not None and message.text is not None
    draft = _draft(context)
    if draft is None or draft.field is None:
        await message.reply_text(form_closed_text(context.tr))
        return ConversationHandler.END
    typed = "" if message.text.strip() in _SKIP_WORDS else message.text
    try:
        value = context.services.residents.check_field(draft.field, typed)
    except InvalidValue as problem:
        return await _ask(update, context, draft, problem)
    draft.values[draft.field] = value
    draft.index += 1
    return await _ask(update, context, draft)


@requires(Capability.MANAGE_RESIDENTS)
async def answer_button(update: Update, context: ApuriContext) -> int:
    """Take a Skip or language button as the answer to the current question."""
    query = update.callback_query
    assert query is not None
    data = ResidentFormAnswer.parse(query.data)
    draft = _draft(context)
    if draft is None or data.draft != draft.token:
        await _answer_closed(query, context, data.draft)
        return draft.state if draft else ConversationHandler.END
    if data.field != draft.field:  # a second tap, or a button of an earlier question
        await query.answer(context.tr.plain("That question is answered already."))
        return draft.state
    try:
        value = context.services.residents.check_field(data.field, data.value)
    except InvalidValue:
        raise BadCallbackData(data.field) from None  # only a forged button says Skip to a name
    # Taken before the first await: a second tap handled meanwhile finds the question answered.
    draft.values[data.field] = value
    draft.index += 1
    await query.answer()
    await edit(query, answered_text(context.tr, data.field, value))
    return await _ask(update, context, draft)


@requires(Capability.MANAGE_RESIDENTS)
async def finish(update: Update, context: ApuriContext) -> int | None:
    """Save the resident, or cancel the form, as pressed under the summary."""
    query = update.callback_query
    assert query is not None
    data = ResidentFormDone.parse(query.data)
    draft = _draft(context)
    if draft is None or data.draft != draft.token or draft.field is not None:
        await _answer_closed(query, context, data.draft)
        # No draft: a first tap may be saving it right now, and ends the form when done.
        return draft.state if draft else None
    # Claimed before the first await: a second tap handled meanwhile finds no draft to save.
    store = user_data(context)
    del store[_DRAFT]
    if not data.save:
        await query.answer()
        await edit(query, cancelled_text(context.tr))
        return ConversationHandler.END
    remembered = _saved_drafts(context)
    remembered[draft.token] = 0  # being saved
    try:
        saved = await context.services.residents.save(
            context.actor, ResidentInput.model_validate(draft.values)
        )
    except BaseException:
        del remembered[draft.token]
        store.setdefault(_DRAFT, draft)  # nothing was saved: Save may be pressed again
        raise
    remembered[draft.token] = saved.resident.id
    for old in list(remembered)[:-_SAVED_KEPT]:
        del remembered[old]
    await query.answer(context.tr.plain("Saved."))
    text, keyboard = saved_text(context.tr, saved)
    await edit(query, text, keyboard)
    return ConversationHandler.END


@requires(Capability.MANAGE_RESIDENTS)
async def busy(update: Update, context: ApuriContext) -> int:
    """Remind that a form is open when /resident comes again, and repeat its question."""
    assert update.message is not None
    draft = _draft(context)
    if draft is None:
        return ConversationHandler.END
    await update.message.reply_text(busy_text(context.tr))
    return await _ask(update, context, draft)


async def not_text(update: Update, context: ApuriContext) -> None:
    """Ask for text when a photo, sticker or the like answers a question."""
    assert update.message is not None
    await update.message.reply_text(answer_text_please(context.tr))


async def not_a_button(update: Update, context: ApuriContext) -> None:
    """Point at Save and Cancel when something is typed under the summary."""
    assert update.message is not None
    await update.message.reply_text(press_save_or_cancel_text(context.tr))


async def forget_draft(_update: object, context: ApuriContext) -> None:
    """Drop the answers of a form left open too long."""
    if context.user_data is not None:
        context.user_data.pop(_DRAFT, None)


@requires(Capability.MANAGE_RESIDENTS)
async def stale_form_button(update: Update, context: ApuriContext) -> None:
    """Explain a press on a form that is closed: saved already, cancelled, or lost in a restart."""
    query = update.callback_query
    assert query is not None
    data = query.data
    token = (
        ResidentFormDone.parse(data).draft
        if ResidentFormDone.matches()(data)
        else ResidentFormAnswer.parse(data).draft
    )
    await _answer_closed(query, context, token)


async def _answer_closed(query: CallbackQuery, context: ApuriContext, token: str) -> None:
    """Answer a press on a closed form: saved already, or closed without saving."""
    if token in _saved_drafts(context):
        await query.answer(already_saved_text(context.tr))
    else:
        await query.answer(form_closed_text(context.tr), show_alert=True)


@requires(Capability.MANAGE_RESIDENTS)
async def show_resident(update: Update, context: ApuriContext) -> None:
    """Open a resident's card with their task history, keeping the buttons to the others."""
    query = update.callback_query
    assert query is not None
    resident_id = ShowResident.parse(query.data).resident_id
    residents = context.services.residents
    try:
        resident = await residents.get(context.actor, resident_id)
        tasks = await residents.history(context.actor, resident_id)
    except ResidentNotFound:
        await query.answer(context.tr.plain("That resident was not found."), show_alert=True)
        return
    rows = []
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        rows = [
            list(row)
            for row in query.message.reply_markup.inline_keyboard
            if not any(ShowTimeline.matches()(button.callback_data) for button in row)
        ]
    rows.insert(0, [timeline_button(context.tr, resident.id)])
    await query.answer()
    await edit(
        query,
        resident_card(context.tr, resident, tasks, context.bot_data.timezone),
        InlineKeyboardMarkup(rows),
    )


@requires(Capability.MANAGE_RESIDENTS)
async def import_upload(update: Update, context: ApuriContext) -> None:
    """Import the residents of an uploaded CSV file and report every rejected row."""
    message = update.message
    assert message is not None and message.document is not None
    document = message.document
    if document.file_size is not None and document.file_size > MAX_BYTES:
        await message.reply_text(too_large_text(context.tr))
        return
    data = await (await document.get_file()).download_as_bytearray()
    report = await context.services.residents.import_csv(
        context.actor, bytes(data), default_language=context.bot_data.default_language
    )
    if report.error is not None:
        log.info("resident import refused: %s", report.error.reason)
    else:
        log.info(
            "resident import: %d new, %d updated, %d rejected",
            report.created,
            report.updated,
            len(report.rejected),
        )
    texts, attachment = import_report_messages(context.tr, report)
    for text in texts:
        await message.reply_text(text)
    if attachment is not None:
        await message.reply_document(attachment.encode("utf-8"), filename=REPORT_FILE_NAME)


def _form() -> ConversationHandler[ApuriContext]:
    question_handlers: list[BaseHandler[Update, ApuriContext, Any]] = [
        MessageHandler(filters.TEXT & ~filters.COMMAND, answer_text),
        CallbackQueryHandler(answer_button, pattern=ResidentFormAnswer.matches()),
        # Documents go on to the import; anything else that is not text is asked for again.
        MessageHandler(~filters.TEXT & ~filters.COMMAND & ~filters.Document.ALL, not_text),
    ]
    states: dict[object, list[BaseHandler[Update, ApuriContext, Any]]] = {
        state: question_handlers for state in _QUESTION_STATES
    }
    states[State.CONFIRM] = [
        CallbackQueryHandler(finish, pattern=ResidentFormDone.matches()),
        CallbackQueryHandler(answer_button, pattern=ResidentFormAnswer.matches()),
        MessageHandler(~filters.COMMAND & ~filters.Document.ALL, not_a_button),
    ]
    states[ConversationHandler.TIMEOUT] = [TypeHandler(Update, forget_draft)]
    # Buttons are tracked per chat, not per message: the draft token in the data tells the
    # form's buttons apart (handlers/__init__.py silences PTB's warning about that choice).
    return ConversationHandler(
        entry_points=[CommandHandler("resident", resident_command)],
        states=states,
        fallbacks=[
            CommandHandler("cancel", cancel_handler(_DRAFT)),
            CommandHandler("resident", busy),
        ],
        per_user=True,
        per_chat=True,
        conversation_timeout=FORM_TIMEOUT,
        name="resident_form",
    )


def _is_form_button(data: object) -> bool:
    return ResidentFormAnswer.matches()(data) or ResidentFormDone.matches()(data)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Return this feature's handlers, in order."""
    return [
        _form(),
        CallbackQueryHandler(show_resident, pattern=ShowResident.matches()),
        # A form's button after the form ended (saved, cancelled, timed out, bot restarted).
        CallbackQueryHandler(stale_form_button, pattern=_is_form_button),
        MessageHandler(_IMPORTABLE, import_upload),
    ]
