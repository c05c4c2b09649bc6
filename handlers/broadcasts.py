"""Broadcasts in the chat: /broadcast (a message or the open tasks as offers), Stop, /broadcasts.

`/broadcast` is a guided conversation: what to send; for a message, the audience (everyone, all
volunteers, available volunteers, an organisation, a role, an area, chosen pairs), then the text
with an optional photo or document, then a preview with the number of recipients and Send; for
offers, all open tasks or chosen ones, then what would be sent and Send. Nothing is stored before
Send. After Send the outbox worker delivers, and one progress message (with Stop) is edited in
place until the report arrives.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from telegram import CallbackQuery, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.domain.broadcasts import (
    Attachment,
    AttachmentKind,
    Audience,
    AudienceKind,
    BroadcastError,
    BroadcastProblem,
    parse_area,
)
from bot.domain.errors import StaleStep
from bot.domain.people import Capability, Role
from bot.i18n import N_, Html
from bot.services.broadcasts import Progress
from handlers.broadcasts_render import (
    audience_keyboard,
    audience_text,
    broadcasts_list,
    confirm_keyboard,
    kind_keyboard,
    offer_plan_text,
    offers_confirm_keyboard,
    organisation_keyboard,
    pairs_keyboard,
    preview_text,
    problem_text,
    progress_keyboard,
    progress_text,
    role_keyboard,
    tasks_keyboard,
)
from handlers.callback_data import BroadcastAction, BroadcastStep
from handlers.context import ApuriContext, requires
from handlers.drafts import (
    cancel_handler,
    cancelled_text,
    closed_form_handler,
    draft_of,
    drop_draft,
    user_data,
)
from handlers.replies import edit as edit_or_send

__all__ = ["handlers"]

log = logging.getLogger(__name__)

_DRAFT = "broadcast"
_TASKS_SHOWN = 40
_PAIRS_SHOWN = 40


class Step(IntEnum):
    """The steps of the broadcast form."""

    KIND = 1
    AUDIENCE = 2
    DETAIL = 3  # an organisation, a role or pairs
    AREA = 4
    MESSAGE = 5
    CONFIRM = 6
    TASKS = 7
    OFFERS = 8


@dataclass
class _Draft:
    asked: Step = Step.KIND
    choosing: AudienceKind | None = None  # the audience kind whose detail is being chosen
    audience: Audience | None = None
    picked_pairs: set[int] = field(default_factory=set)
    text: str = ""
    attachment: Attachment | None = None
    picked_tasks: set[int] = field(default_factory=set)
    offer_all: bool = True
    message_id: int | None = None  # the form's current message: buttons of older ones are stale


_STEP_OF_BUTTON: dict[str, frozenset[Step]] = {
    "kind": frozenset({Step.KIND}),
    "aud": frozenset({Step.AUDIENCE}),
    "org": frozenset({Step.DETAIL}),
    "role": frozenset({Step.DETAIL}),
    "pair": frozenset({Step.DETAIL}),
    "pairs_done": frozenset({Step.DETAIL}),
    "back": frozenset({Step.DETAIL, Step.OFFERS}),
    "send": frozenset({Step.CONFIRM, Step.OFFERS}),
    "edit": frozenset({Step.CONFIRM}),
    "task": frozenset({Step.TASKS}),
    "tasks_all": frozenset({Step.TASKS}),
    "tasks_done": frozenset({Step.TASKS}),
}


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Return the broadcast handlers, the conversation first."""
    typed = filters.TEXT & ~filters.COMMAND
    media = filters.PHOTO | filters.Document.ALL
    step = CallbackQueryHandler(broadcast_step, pattern=BroadcastStep.matches())
    message = [MessageHandler(typed | media, message_given), step]
    conversation = ConversationHandler(
        entry_points=[CommandHandler("broadcast", broadcast_command)],
        states={
            Step.KIND: [step],
            Step.AUDIENCE: [step],
            Step.DETAIL: [step],
            Step.AREA: [MessageHandler(typed, area_typed), step],
            Step.MESSAGE: message,
            Step.CONFIRM: message,
            Step.TASKS: [step],
            Step.OFFERS: [step],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_handler(_DRAFT)),
            CommandHandler("broadcast", broadcast_command),
            MessageHandler(filters.ALL & ~filters.COMMAND, broadcast_unexpected),
        ],
        name="broadcast",
        allow_reentry=True,
    )
    return [
        conversation,
        CommandHandler("broadcasts", list_broadcasts),
        CallbackQueryHandler(broadcast_action, pattern=BroadcastAction.matches()),
        CallbackQueryHandler(
            closed_form_handler(N_("This form is closed. Send /broadcast to start again.")),
            pattern=BroadcastStep.matches(),
        ),
    ]


def _draft(context: ApuriContext) -> _Draft:
    return draft_of(context, _DRAFT, _Draft)


def _take_draft(context: ApuriContext) -> _Draft:
    """Take the draft away before Send's first await: a second tap finds none (no double send)."""
    draft = _draft(context)
    drop_draft(context, _DRAFT)
    return draft


# --- the form ---------------------------------------------------------------------------------


@requires(Capability.BROADCAST)
async def broadcast_command(update: Update, context: ApuriContext) -> int:
    """Start the form: a message, or the open tasks as offers?"""
    assert update.message is not None
    drop_draft(context, _DRAFT)
    draft = _draft(context)
    draft.asked = Step.KIND
    menu = await update.message.reply_text(
        context.tr.gettext("<b>Broadcast.</b> What do you want to send? /cancel stops."),
        reply_markup=kind_keyboard(context.tr),
    )
    draft.message_id = menu.message_id
    return Step.KIND


async def broadcast_step(update: Update, context: ApuriContext) -> int:
    """A button of the form was pressed."""
    query = update.callback_query
    assert query is not None
    value = BroadcastStep.parse(query.data).value
    kind, _, arg = value.partition(":")
    draft = _draft(context)
    if kind == "cancel":
        drop_draft(context, _DRAFT)
        await query.answer()
        await edit_or_send(query, cancelled_text(context.tr))
        return ConversationHandler.END
    pressed = query.message.message_id if query.message is not None else None
    if draft.asked not in _STEP_OF_BUTTON.get(kind, frozenset()) or (
        draft.message_id is not None and pressed != draft.message_id
    ):
        raise StaleStep(kind)  # a button of an earlier question or message: it changes nothing
    try:
        with _step_kept_on_failure(draft):
            state = await _step(query, context, draft, kind, arg)
    except _Refused as refusal:
        await query.answer(refusal.text, show_alert=True)
        return refusal.state
    await query.answer()
    return state


@contextlib.contextmanager
def _step_kept_on_failure(draft: _Draft) -> Iterator[None]:
    """If asking the next question fails (the edit refused), the draft stays at this step.

    The conversation stays where it was when a handler raises; so must the draft's `asked`,
    or the next answer would be taken for another question's.
    """
    asked = draft.asked
    try:
        yield
    except _Refused:
        raise
    except Exception:
        draft.asked = asked
        raise


class _Refused(Exception):
    """A press that is answered with an alert (the reason) and leaves the form at `state`."""

    def __init__(self, text: str, state: int) -> None:
        super().__init__(text)
        self.text = text
        self.state = state


async def _step(
    query: CallbackQuery, context: ApuriContext, draft: _Draft, kind: str, arg: str
) -> int:
    """Do what the pressed button asks; the press is answered by the caller."""
    match kind:
        case "kind" if arg == "offers":
            return await _ask_tasks(query, context)
        case "kind":
            return await _ask_audience(query, context)
        case "aud":
            return await _audience_chosen(query, context, AudienceKind(arg))
        case "org":
            draft.audience = Audience(kind=AudienceKind.ORGANISATION, organisation_id=int(arg))
            return await _after_audience(query, context)
        case "role":
            draft.audience = Audience(kind=AudienceKind.ROLE, role=Role(arg))
            return await _after_audience(query, context)
        case "pair":
            draft.picked_pairs ^= {int(arg)}
            return await _ask_pairs(query, context)
        case "pairs_done" if draft.picked_pairs:
            draft.audience = Audience(
                kind=AudienceKind.PAIRS, pair_ids=frozenset(draft.picked_pairs)
            )
            return await _after_audience(query, context)
        case "pairs_done":
            raise _Refused(context.tr.plain("Choose at least one pair."), Step.DETAIL)
        case "back" if draft.asked is Step.OFFERS:
            return await _ask_tasks(query, context)
        case "back":
            return await _ask_audience(query, context)
        case "edit" if arg == "audience":
            return await _ask_audience(query, context)
        case "edit":
            draft.text, draft.attachment = "", None
            return await _ask_message(query, context)
        case "send" if draft.asked is Step.OFFERS:
            return await _send_offers(query, context)
        case "send":
            return await _send_message(query, context)
        case "task":
            draft.picked_tasks ^= {int(arg)}
            return await _ask_tasks(query, context)
        case "tasks_all" | "tasks_done":
            draft.offer_all = kind == "tasks_all"
            return await _plan_offers(query, context)
    raise StaleStep(kind)


async def _ask_audience(query: CallbackQuery, context: ApuriContext) -> int:
    _draft(context).asked = Step.AUDIENCE
    await edit_or_send(
        query,
        context.tr.gettext("Who should receive the message?"),
        audience_keyboard(context.tr),
    )
    return Step.AUDIENCE


async def _audience_chosen(query: CallbackQuery, context: ApuriContext, kind: AudienceKind) -> int:
    draft = _draft(context)
    tr = context.tr
    draft.choosing = kind
    match kind:
        case AudienceKind.ORGANISATION:
            choices = await context.services.broadcasts.choices(context.actor)
            if not choices.organisations:
                raise _Refused(tr.plain("There are no organisations yet."), Step.AUDIENCE)
            draft.asked = Step.DETAIL
            await edit_or_send(
                query,
                tr.gettext("Which organisation?"),
                organisation_keyboard(tr, choices.organisations),
            )
            return Step.DETAIL
        case AudienceKind.ROLE:
            draft.asked = Step.DETAIL
            await edit_or_send(query, tr.gettext("People with which role?"), role_keyboard(tr))
            return Step.DETAIL
        case AudienceKind.AREA:
            draft.asked = Step.AREA
            await edit_or_send(
                query,
                tr.gettext(
                    "Type the postal code or its beginning (e.g. 70 reaches 70100 and 70820). "
                    "Volunteers working there get it, and those who work everywhere."
                ),
            )
            return Step.AREA
        case AudienceKind.PAIRS:
            draft.picked_pairs = set()
            return await _ask_pairs(query, context)
        case _:
            draft.audience = Audience(kind=kind)
            return await _after_audience(query, context)


async def _ask_pairs(query: CallbackQuery, context: ApuriContext) -> int:
    draft = _draft(context)
    choices = await context.services.broadcasts.choices(context.actor)
    if not choices.pairs:
        state = Step.AUDIENCE if draft.asked is Step.AUDIENCE else Step.DETAIL
        raise _Refused(context.tr.plain("There are no pairs yet."), state)
    draft.asked = Step.DETAIL
    await edit_or_send(
        query,
        context.tr.gettext("Choose the pairs, then press Done."),
        pairs_keyboard(context.tr, choices.pairs[:_PAIRS_SHOWN], draft.picked_pairs),
    )
    return Step.DETAIL


async def area_typed(update: Update, context: ApuriContext) -> int:
    """The postal-code prefix of an area audience was typed."""
    assert update.message is not None and update.message.text is not None
    try:
        area = parse_area(update.message.text)
    except BroadcastError as error:
        await update.message.reply_text(problem_text(context.tr, error.problem))
        return Step.AREA
    draft = _draft(context)
    draft.audience = Audience(kind=AudienceKind.AREA, area=area)
    with _step_kept_on_failure(draft):
        return await _after_audience(update.message, context)


async def _after_audience(where: CallbackQuery | Message, context: ApuriContext) -> int:
    """Count the audience; an empty one is refused, else ask for (or preview) the message."""
    draft = _draft(context)
    assert draft.audience is not None
    try:
        await context.services.broadcasts.recipients(context.actor, draft.audience)
    except BroadcastError as error:
        draft.asked = Step.AUDIENCE
        await _say(
            where,
            context,
            Html(f"{problem_text(context.tr, error.problem)}"),
            audience_keyboard(context.tr),
        )
        return Step.AUDIENCE
    if draft.text or draft.attachment:
        return await _preview(where, context)
    return await _ask_message(where, context)


async def _ask_message(where: CallbackQuery | Message, context: ApuriContext) -> int:
    draft = _draft(context)
    draft.asked = Step.MESSAGE
    limit = context.services.broadcasts.max_file_bytes // (1024 * 1024)
    await _say(
        where,
        context,
        context.tr.gettext(
            "Write the message. You can also send one photo or document (at most {mb} MB) "
            "with the text as its caption.",
            mb=limit,
        ),
    )
    return Step.MESSAGE


async def message_given(update: Update, context: ApuriContext) -> int:
    """Text, a photo or a document for the message; at the preview, text is added to it."""
    message = update.message
    assert message is not None
    draft = _draft(context)
    text = message.text or message.caption or ""
    attachment = _attachment_of(message)
    if draft.asked is Step.CONFIRM and draft.text:
        # At the preview more text is added to the message (a file's caption too).
        text = f"{draft.text}\n\n{text}" if text.strip() else draft.text
    try:
        text = context.services.broadcasts.check_message(
            text, attachment or (draft.attachment if draft.asked is Step.CONFIRM else None)
        )
    except BroadcastError as error:
        await message.reply_text(_problem(context, error.problem))
        return draft.asked
    draft.text = text
    if attachment is not None:
        draft.attachment = attachment
    with _step_kept_on_failure(draft):
        return await _preview(message, context)


def _attachment_of(message: Message) -> Attachment | None:
    if message.photo:
        largest = message.photo[-1]
        return Attachment(
            kind=AttachmentKind.PHOTO, file_id=largest.file_id, size=largest.file_size
        )
    if message.document is not None:
        document = message.document
        return Attachment(
            kind=AttachmentKind.DOCUMENT,
            file_id=document.file_id,
            file_name=document.file_name,
            size=document.file_size,
        )
    return None


async def _preview(where: CallbackQuery | Message, context: ApuriContext) -> int:
    draft = _draft(context)
    assert draft.audience is not None
    service = context.services.broadcasts
    try:
        recipients = await service.recipients(context.actor, draft.audience)
    except BroadcastError as error:
        draft.asked = Step.AUDIENCE
        await _say(
            where, context, problem_text(context.tr, error.problem), audience_keyboard(context.tr)
        )
        return Step.AUDIENCE
    choices = await service.choices(context.actor)
    words = audience_text(context.tr, draft.audience, choices.organisations, choices.pairs)
    draft.asked = Step.CONFIRM
    await _say(
        where,
        context,
        preview_text(
            context.tr, words, recipients, draft.text, draft.attachment, context.actor.name
        ),
        confirm_keyboard(context.tr, len(recipients)),
    )
    return Step.CONFIRM


async def _send_message(query: CallbackQuery, context: ApuriContext) -> int:
    draft = _take_draft(context)
    assert draft.audience is not None
    try:
        broadcast, count = await context.services.broadcasts.send_message(
            context.actor, draft.audience, draft.text, draft.attachment
        )
    except BaseException as error:
        user_data(context)[_DRAFT] = draft  # refused: the form goes on
        if not isinstance(error, BroadcastError):
            raise
        if error.problem is BroadcastProblem.EMPTY_AUDIENCE:
            await _ask_audience(query, context)
            raise _Refused(_plain_problem(context, error.problem), Step.AUDIENCE) from error
        raise _Refused(_plain_problem(context, error.problem), Step.CONFIRM) from error
    drop_draft(context, _DRAFT)
    await _show_progress(query, context, broadcast.id, count)
    return ConversationHandler.END


# --- offers -------------------------------------------------------------------------------------


async def _ask_tasks(query: CallbackQuery, context: ApuriContext) -> int:
    draft = _draft(context)
    tasks = await context.services.broadcasts.open_tasks(context.actor)
    if not tasks:
        drop_draft(context, _DRAFT)
        await edit_or_send(query, problem_text(context.tr, BroadcastProblem.NO_TASKS))
        return ConversationHandler.END
    draft.asked = Step.TASKS
    shown = tasks[:_TASKS_SHOWN]
    draft.picked_tasks &= {t.task.id for t in tasks}
    more = len(tasks) - len(shown)
    text = context.tr.gettext(
        "<b>Open tasks: {n}.</b> Offer them all, or choose some.", n=len(tasks)
    )
    if more:
        text = Html(
            f"{text}\n"
            + context.tr.gettext(
                "The first {shown} are listed; Offer all sends every one.", shown=len(shown)
            )
        )
    await edit_or_send(
        query,
        text,
        tasks_keyboard(context.tr, shown, draft.picked_tasks, context.bot_data.timezone),
    )
    return Step.TASKS


def _task_choice(draft: _Draft) -> frozenset[int] | None:
    return None if draft.offer_all else frozenset(draft.picked_tasks)


async def _plan_offers(query: CallbackQuery, context: ApuriContext) -> int:
    draft = _draft(context)
    try:
        plan = await context.services.broadcasts.plan_offers(context.actor, _task_choice(draft))
    except BroadcastError as error:
        raise _Refused(_plain_problem(context, error.problem), Step.TASKS) from error
    draft.asked = Step.OFFERS
    text = offer_plan_text(context.tr, plan, context.bot_data.timezone)
    if not plan.tasks:
        draft.asked = Step.OFFERS
        await edit_or_send(
            query,
            Html(f"{text}\n\n{problem_text(context.tr, BroadcastProblem.NO_PAIRS)}"),
            offers_confirm_keyboard(context.tr, 0),
        )
        return Step.OFFERS
    await edit_or_send(query, text, offers_confirm_keyboard(context.tr, plan.messages))
    return Step.OFFERS


async def _send_offers(query: CallbackQuery, context: ApuriContext) -> int:
    draft = _take_draft(context)
    try:
        broadcast, count = await context.services.broadcasts.send_offers(
            context.actor, _task_choice(draft)
        )
    except BaseException as error:
        user_data(context)[_DRAFT] = draft  # refused: the form goes on
        if not isinstance(error, BroadcastError):
            raise
        raise _Refused(_plain_problem(context, error.problem), Step.OFFERS) from error
    drop_draft(context, _DRAFT)
    await _show_progress(query, context, broadcast.id, count)
    return ConversationHandler.END


# --- while it runs ------------------------------------------------------------------------------


async def _show_progress(
    query: CallbackQuery, context: ApuriContext, broadcast_id: int, count: int
) -> None:
    """Turn the preview into the progress message (with Stop) and start the worker."""
    progress = await context.services.broadcasts.progress(context.actor, broadcast_id)
    shown = await edit_or_send(
        query, progress_text(context.tr, progress), progress_keyboard(context.tr, broadcast_id)
    )
    if shown is not None:
        await context.services.broadcasts.shown_at(broadcast_id, shown.chat_id, shown.message_id)
    outbox = context.bot_data.outbox
    if outbox is not None:
        outbox.wake()
    log.info("broadcast %s queued: %d messages", broadcast_id, count)


@requires(Capability.BROADCAST)
async def broadcast_action(update: Update, context: ApuriContext) -> None:
    """Stop a running broadcast."""
    query = update.callback_query
    assert query is not None
    data = BroadcastAction.parse(query.data)
    if data.action != "stop":
        raise StaleStep(data.action)
    try:
        progress = await context.services.broadcasts.cancel(context.actor, data.broadcast_id)
    except BroadcastError as error:
        if error.problem is not BroadcastProblem.FINISHED:
            raise
        progress = await context.services.broadcasts.progress(context.actor, data.broadcast_id)
        await query.answer(_plain_problem(context, error.problem))
        await _edit_final(query, context, progress)
        return
    outbox = context.bot_data.outbox
    if outbox is not None:
        outbox.wake()
    await query.answer(context.tr.plain("Stopped. Nothing more will be sent."))
    await _edit_final(query, context, progress)


async def _edit_final(query: CallbackQuery, context: ApuriContext, progress: Progress) -> None:
    await edit_or_send(query, progress_text(context.tr, progress))


@requires(Capability.BROADCAST)
async def list_broadcasts(update: Update, context: ApuriContext) -> None:
    """List the latest broadcasts with their counts."""
    assert update.message is not None
    items = await context.services.broadcasts.recent(context.actor)
    await update.message.reply_text(broadcasts_list(context.tr, items))


async def broadcast_unexpected(update: Update, context: ApuriContext) -> None:
    """Something that is not an answer arrived while the form waits."""
    assert update.message is not None
    draft = _draft(context)
    if draft.asked in (Step.MESSAGE, Step.CONFIRM):
        text = context.tr.gettext("Send text, a photo or a document, or /cancel.")
    else:
        text = context.tr.gettext("Please answer the question above, or send /cancel.")
    await update.message.reply_text(text)


# --- helpers ------------------------------------------------------------------------------------


def _problem(context: ApuriContext, problem: BroadcastProblem) -> Html:
    return problem_text(
        context.tr, problem, mb=context.services.broadcasts.max_file_bytes // (1024 * 1024)
    )


def _plain_problem(context: ApuriContext, problem: BroadcastProblem) -> str:
    return _problem(context, problem).replace("<b>", "").replace("</b>", "")


async def _say(
    where: CallbackQuery | Message,
    context: ApuriContext,
    text: str,
    keyboard: object = None,
) -> None:
    """Answer a button by editing its message, a typed answer with a new message."""
    if isinstance(where, CallbackQuery):
        shown = await edit_or_send(where, text, keyboard)  # type: ignore[arg-type]
    else:
        shown = await where.reply_text(text, reply_markup=keyboard)  # type: ignore[arg-type]
    if shown is not None:
        _draft(context).message_id = shown.message_id
