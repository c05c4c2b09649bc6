"""Tasks in chat: coordinators create, offer, assign and cancel; holders accept, do and close.

Every press names a task by id only; the dispatch service decides against the database whether
the presser may do it, so a stale, foreign or forged button changes nothing. A holder closes a
task by reporting its outcome: Report on the card starts the task's form (`handlers.forms`).
"""

from __future__ import annotations

import logging
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

from bot.domain.errors import InvalidValue, NotAllowed
from bot.domain.people import Capability
from bot.domain.residents import Resident
from bot.domain.tasks import Holder, Priority, TaskKind
from bot.domain.windows import Preset, TimeWindow, parse_window, preset
from bot.i18n import Html, Translator
from bot.services.dispatch import Accepted, HolderChange, NoAvailablePairs, Released
from handlers.callback_data import (
    AssignMenu,
    AssignTo,
    BadCallbackData,
    NewTaskChoice,
    TaskAction,
)
from handlers.context import ApuriContext, requires
from handlers.drafts import cancel_handler, cancelled_text, draft_of, drop_draft
from handlers.forms import begin_report
from handlers.replies import edit
from handlers.task_messages import (
    edit_message,
    remember_card,
    scrub,
    send,
    send_cards,
    send_offers,
)
from handlers.tasks_render import (
    KIND_NAMES,
    assign_keyboard,
    card,
    choice_keyboard,
    confirm_cancel,
    coordinator_view,
    declined_text,
    kind_name,
    overview_text,
    released_text,
    task_list,
    window_text,
)

__all__ = ["handlers", "tell_released"]

log = logging.getLogger(__name__)

_DRAFT = "newtask"
_DETAILS_LIMIT = 500


class NewTask(IntEnum):
    """The steps of /newtask."""

    RESIDENT = 1
    KIND = 2
    WINDOW = 3
    PRIORITY = 4
    DETAILS = 5
    CONFIRM = 6


@dataclass
class _Draft:
    resident: Resident | None = None
    kind: TaskKind | None = None
    window: TimeWindow | None = None
    priority: Priority = Priority.NORMAL
    details: str = ""
    found: list[Resident] = field(default_factory=list)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Return the task handlers, conversations first."""
    newtask = ConversationHandler(
        entry_points=[CommandHandler("newtask", newtask_start)],
        states={
            NewTask.RESIDENT: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, newtask_find),
                CallbackQueryHandler(newtask_choice, pattern=NewTaskChoice.matches()),
            ],
            NewTask.KIND: [CallbackQueryHandler(newtask_choice, pattern=NewTaskChoice.matches())],
            NewTask.WINDOW: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, newtask_window_typed),
                CallbackQueryHandler(newtask_choice, pattern=NewTaskChoice.matches()),
            ],
            NewTask.PRIORITY: [
                CallbackQueryHandler(newtask_choice, pattern=NewTaskChoice.matches())
            ],
            NewTask.DETAILS: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, newtask_details_typed),
                CallbackQueryHandler(newtask_choice, pattern=NewTaskChoice.matches()),
            ],
            NewTask.CONFIRM: [
                CallbackQueryHandler(newtask_choice, pattern=NewTaskChoice.matches())
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_handler(_DRAFT)),
            CommandHandler("newtask", newtask_start),
            MessageHandler(filters.ALL & ~filters.COMMAND, newtask_unexpected),
        ],
        name="newtask",
        allow_reentry=True,
    )
    return [
        newtask,
        CommandHandler("tasks", my_tasks),
        CommandHandler("open", open_tasks),
        CommandHandler("task", show_task),
        CallbackQueryHandler(task_action, pattern=TaskAction.matches()),
        CallbackQueryHandler(assign_menu, pattern=AssignMenu.matches()),
        CallbackQueryHandler(assign_to, pattern=AssignTo.matches()),
        CallbackQueryHandler(newtask_interrupted, pattern=NewTaskChoice.matches()),
    ]


# --- /newtask ---------------------------------------------------------------------------------


def _draft(context: ApuriContext) -> _Draft:
    return draft_of(context, _DRAFT, _Draft)


def _drop_draft(context: ApuriContext) -> None:
    drop_draft(context, _DRAFT)


@requires(Capability.DISPATCH)
async def newtask_start(update: Update, context: ApuriContext) -> NewTask:
    """Start a new task: ask for whom (or search straight away with /newtask <name>)."""
    assert update.message is not None
    _drop_draft(context)
    _draft(context)
    text = " ".join(context.args or [])
    if text:
        return await _offer_residents(update.message, context, text)
    await update.message.reply_text(
        context.tr.gettext(
            "<b>New task.</b> Who is it for? Type part of the resident's name or their phone "
            "number. /cancel stops."
        )
    )
    return NewTask.RESIDENT


async def newtask_find(update: Update, context: ApuriContext) -> NewTask:
    """Search residents by the typed text and offer the matches as buttons."""
    assert update.message is not None and update.message.text is not None
    return await _offer_residents(update.message, context, update.message.text)


async def _offer_residents(message: Message, context: ApuriContext, text: str) -> NewTask:
    tr = context.tr
    found = await context.services.residents.find(context.actor, text)
    _draft(context).found = found
    if not found:
        await message.reply_text(
            tr.gettext(
                "No resident matches that. Try another part of the name, or add the resident "
                "first with /resident new."
            )
        )
        return NewTask.RESIDENT
    choices = [
        (f"{r.name} · {r.postal_code or '—'} · {r.birth_year or ''}".strip(" ·"), f"r:{r.id}")
        for r in found
    ]
    await message.reply_text(
        tr.gettext("Choose the resident:"), reply_markup=choice_keyboard(choices)
    )
    return NewTask.RESIDENT


async def newtask_choice(update: Update, context: ApuriContext) -> NewTask | int:
    """Take a button press of /newtask and ask the next question."""
    query = update.callback_query
    assert query is not None
    tr = context.tr
    draft = _draft(context)
    key, _, value = NewTaskChoice.parse(query.data).value.partition(":")
    if not _valid_choice(key, value):
        raise BadCallbackData("not a /newtask choice")
    if key == "c":
        return await _finish(query, context, draft, value)  # answers the query itself
    await query.answer()
    if key == "r":
        resident = next((r for r in draft.found if str(r.id) == value), None)
        if resident is None:
            await edit(query, tr.gettext("That choice is no longer valid. Type the name again."))
            return NewTask.RESIDENT
        draft.resident = await context.services.residents.get(context.actor, resident.id)
        choices = [
            (tr.plain(name).capitalize(), f"k:{kind.value}") for kind, name in KIND_NAMES.items()
        ]
        await edit(
            query,
            tr.gettext("Task for <b>{name}</b>. What kind of task?", name=draft.resident.name),
            choice_keyboard(choices),
        )
        return NewTask.KIND
    if key == "k":
        draft.kind = TaskKind(value)
        await edit(query, _window_question(tr), _window_keyboard(tr))
        return NewTask.WINDOW
    if key == "w":
        draft.window = preset(Preset(value), context.services.clock(), context.bot_data.timezone)
        await edit(query, _priority_question(tr, draft, context), _priority_keyboard(tr))
        return NewTask.PRIORITY
    if key == "p":
        draft.priority = Priority(value)
        await edit(query, _details_question(tr), choice_keyboard([(tr.plain("Skip"), "d:")]))
        return NewTask.DETAILS
    # key == "d" (Skip the details): `_valid_choice` lets no other key through
    draft.details = ""
    await edit(query, *_summary(tr, draft, context))
    return NewTask.CONFIRM


def _valid_choice(key: str, value: str) -> bool:
    choices = {
        "k": {k.value for k in TaskKind},
        "w": {p.value for p in Preset},
        "p": {p.value for p in Priority},
        "c": {"offer", "assign", "open", "cancel"},
        "d": {""},
    }
    if key == "r":
        return value.isascii() and value.isdigit()
    return value in choices.get(key, set())


def _window_question(tr: Translator) -> Html:
    return tr.gettext(
        "When? Choose, or type a window such as <code>25.11. 10-14</code>, "
        "<code>25.11.</code> (daytime) or <code>25.11.-28.11.</code>"
    )


def _window_keyboard(tr: Translator):  # noqa: ANN202
    return choice_keyboard(
        [
            (tr.plain("Today"), f"w:{Preset.TODAY.value}"),
            (tr.plain("Tomorrow"), f"w:{Preset.TOMORROW.value}"),
            (tr.plain("Within 3 days"), f"w:{Preset.THREE_DAYS.value}"),
            (tr.plain("Within a week"), f"w:{Preset.WEEK.value}"),
        ],
        columns=2,
    )


def _priority_question(tr: Translator, draft: _Draft, context: ApuriContext) -> Html:
    assert draft.window is not None
    window = window_text(tr, draft.window.start, draft.window.end, context.bot_data.timezone)
    return tr.gettext("Window: {window}. How urgent is it?", window=window)


def _priority_keyboard(tr: Translator):  # noqa: ANN202
    return choice_keyboard(
        [(tr.plain("Normal"), "p:normal"), (tr.plain("Urgent"), "p:urgent")], columns=2
    )


def _details_question(tr: Translator) -> Html:
    return tr.gettext("What should the helpers know or do? Type it (no health details), or skip.")


async def newtask_window_typed(update: Update, context: ApuriContext) -> NewTask:
    """Read a typed window, or explain what was wrong and ask again."""
    message = update.message
    assert message is not None and message.text is not None
    tr = context.tr
    draft = _draft(context)
    try:
        draft.window = parse_window(
            message.text, context.services.clock(), context.bot_data.timezone
        )
    except InvalidValue as problem:
        await message.reply_text(
            Html(f"{window_problem(tr, problem.reason)}\n\n{_window_question(tr)}"),
            reply_markup=_window_keyboard(tr),
        )
        return NewTask.WINDOW
    await message.reply_text(
        _priority_question(tr, draft, context), reply_markup=_priority_keyboard(tr)
    )
    return NewTask.PRIORITY


def window_problem(tr: Translator, reason: str) -> Html:
    """Return why a typed window was not accepted."""
    messages = {
        "window.format": tr.gettext("I could not read that as a date or window."),
        "window.date": tr.gettext("That date does not exist."),
        "window.time": tr.gettext("That time does not exist."),
        "window.order": tr.gettext("The window must end after it starts."),
        "window.past": tr.gettext("That window is already over."),
        "window.too_long": tr.gettext("A window can be at most 60 days long."),
    }
    return messages.get(reason, messages["window.format"])


async def newtask_details_typed(update: Update, context: ApuriContext) -> NewTask:
    """Store the typed details and show the summary."""
    message = update.message
    assert message is not None and message.text is not None
    tr = context.tr
    details = " ".join(message.text.split())
    if len(details) > _DETAILS_LIMIT:
        await message.reply_text(
            tr.gettext("Please keep it under {limit} characters.", limit=_DETAILS_LIMIT)
        )
        return NewTask.DETAILS
    draft = _draft(context)
    draft.details = details
    text, keyboard = _summary(tr, draft, context)
    await message.reply_text(text, reply_markup=keyboard)
    return NewTask.CONFIRM


def _summary(tr: Translator, draft: _Draft, context: ApuriContext):  # noqa: ANN202
    assert draft.resident is not None and draft.kind is not None and draft.window is not None
    zone = context.bot_data.timezone
    lines = [
        tr.gettext("<b>New task</b>"),
        tr.gettext("Resident: <b>{name}</b>", name=draft.resident.name),
        tr.gettext("Kind: {kind}", kind=kind_name(tr, draft.kind)),
        tr.gettext(
            "Window: {window}", window=window_text(tr, draft.window.start, draft.window.end, zone)
        ),
        tr.gettext(
            "Priority: {priority}",
            priority=tr.plain("Urgent")
            if draft.priority is Priority.URGENT
            else tr.plain("Normal"),
        ),
    ]
    if draft.details:
        lines.append(tr.gettext("What: {details}", details=draft.details))
    keyboard = choice_keyboard(
        [
            (tr.plain("Offer to available pairs"), "c:offer"),
            (tr.plain("Assign by hand"), "c:assign"),
            (tr.plain("Save as open"), "c:open"),
            (tr.plain("Cancel"), "c:cancel"),
        ]
    )
    return Html("\n".join(lines)), keyboard


async def _finish(query: CallbackQuery, context: ApuriContext, draft: _Draft, choice: str) -> int:
    tr = context.tr
    if choice == "cancel":
        _drop_draft(context)
        await query.answer()
        await edit(query, cancelled_text(tr))
        return ConversationHandler.END
    if draft.resident is None or draft.kind is None or draft.window is None:
        await query.answer(tr.plain("Saved."))  # a second tap after saving, or a lost form
        return ConversationHandler.END
    dispatch = context.services.dispatch
    # Take the draft before the first await: a second tap, handled side by side with this one,
    # finds no draft and saves nothing.
    _drop_draft(context)
    try:
        task = await dispatch.create(
            context.actor,
            resident_id=draft.resident.id,
            kind=draft.kind,
            window=draft.window,
            priority=draft.priority,
            details=draft.details,
        )
    except Exception:
        assert context.user_data is not None
        context.user_data[_DRAFT] = draft  # not saved: the summary's buttons work again
        raise
    if choice != "offer":
        await query.answer(tr.plain("Saved."))
    if choice == "assign":
        text, keyboard = assign_keyboard(
            tr, await dispatch.candidates(context.actor, task.id), "pairs"
        )
        await edit(query, text, keyboard)
    elif choice == "offer":
        await _offer(query, context, task.id)
    else:
        view = await dispatch.view(context.actor, task.id)
        await edit(query, *coordinator_view(tr, view, context.bot_data.timezone))
    return ConversationHandler.END


async def newtask_unexpected(update: Update, context: ApuriContext) -> None:
    """Point to the buttons when something else than the expected answer arrives."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.tr.gettext("Please answer with the buttons above, or /cancel.")
    )


async def newtask_interrupted(update: Update, context: ApuriContext) -> None:
    """Answer a /newtask button whose conversation is gone (e.g. after a restart)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await edit(query, context.tr.gettext("This form was interrupted. Start again with /newtask."))


# --- coordinators -----------------------------------------------------------------------------


@requires(Capability.DISPATCH)
async def open_tasks(update: Update, context: ApuriContext) -> None:
    """Show the unfinished tasks grouped by state."""
    assert update.message is not None
    overview = await context.services.dispatch.overview(context.actor)
    text, keyboard = overview_text(context.tr, overview, context.bot_data.timezone)
    await update.message.reply_text(text, reply_markup=keyboard)


async def show_task(update: Update, context: ApuriContext) -> None:
    """Show task N: everything to coordinators, the card to its holders, less to others."""
    message = update.message
    assert message is not None
    args = context.args or []
    number = args[0].lstrip("#") if len(args) == 1 else ""
    if not (number.isascii() and number.isdigit() and len(number) <= 9):
        await message.reply_text(context.tr.gettext("Write the task's number: /task 12"))
        return
    task_id = int(number)
    actor = context.actor
    view = await context.services.dispatch.view(actor, task_id)
    zone = context.bot_data.timezone
    if actor.can(Capability.DISPATCH):
        text, keyboard = coordinator_view(context.tr, view, zone)
        await message.reply_text(text, reply_markup=keyboard)
        return
    text, keyboard = card(context.tr, view, zone)
    sent = await message.reply_text(text, reply_markup=keyboard)
    if view.resident is not None:
        await remember_card(context, sent, task_id, actor)


async def assign_menu(update: Update, context: ApuriContext) -> None:
    """Show whom the task can be assigned to."""
    query = update.callback_query
    assert query is not None
    data = AssignMenu.parse(query.data)
    candidates = await context.services.dispatch.candidates(context.actor, data.task_id)
    await query.answer()
    await edit(query, *assign_keyboard(context.tr, candidates, data.what))


async def assign_to(update: Update, context: ApuriContext) -> None:
    """Assign the task to the chosen holder and tell everyone concerned."""
    query = update.callback_query
    assert query is not None
    data = AssignTo.parse(query.data)
    holder = {
        "p": Holder(pair_id=data.target_id),
        "u": Holder(person_id=data.target_id),
        "o": Holder(organisation_id=data.target_id),
    }.get(data.kind)
    if holder is None:
        await query.answer(context.tr.plain("This button is no longer valid."), show_alert=True)
        return
    change = await context.services.dispatch.assign(context.actor, data.task_id, holder)
    await query.answer(context.tr.plain("Assigned."))
    await edit(query, *coordinator_view(context.tr, change.view, context.bot_data.timezone))
    if change.changed:  # a double tap assigns once and tells nobody twice
        await _deliver_assignment(context, change)


async def _deliver_assignment(context: ApuriContext, change: HolderChange) -> None:
    view = change.view
    await scrub(context, view.task, view.postal_code, change.stale, change.audience)
    for person in change.holders:
        heading = context.translator_for(person).gettext("<b>A coordinator gave you a task.</b>")
        await send_cards(context, view, [person], heading=heading)
    for person in change.former:
        note = context.translator_for(person).gettext(
            "A coordinator gave task #{number} to someone else. Thank you!", number=view.task.id
        )
        await send(context, person, note)
    if not change.holders:
        await context.bot.send_message(
            context.actor.telegram_user_id,
            context.tr.gettext("Note: nobody active can receive this task right now."),
        )


async def _offer(query: CallbackQuery, context: ApuriContext, task_id: int) -> None:
    tr = context.tr
    dispatch = context.services.dispatch
    try:
        offered = await dispatch.offer(context.actor, task_id)
    except NoAvailablePairs:
        await query.answer()
        view = await dispatch.view(context.actor, task_id)
        text, keyboard = coordinator_view(tr, view, context.bot_data.timezone)
        await edit(
            query,
            Html(
                tr.gettext(
                    "<b>No available pair covers this area right now.</b> "
                    "The task is kept; assign it by hand."
                )
                + "\n\n"
                + text
            ),
            keyboard,
        )
        return
    await query.answer()
    delivered = await send_offers(context, offered.task, offered.postal_code, offered.recipients)
    view = await dispatch.view(context.actor, task_id)
    text, keyboard = coordinator_view(tr, view, context.bot_data.timezone)
    note = tr.ngettext(
        "Offered: {n} person received the offer.",
        "Offered: {n} people received the offer.",
        delivered,
    )
    if not offered.recipients:
        note = tr.gettext("No new pair to ask: the pairs who have the offer can still accept it.")
    await edit(query, Html(f"{note}\n\n{text}"), keyboard)


# --- holders ----------------------------------------------------------------------------------


@requires(Capability.TAKE_TASKS)
async def my_tasks(update: Update, context: ApuriContext) -> None:
    """List the tasks the person holds, by due time."""
    assert update.message is not None
    views = await context.services.dispatch.my_tasks(context.actor)
    text, keyboard = task_list(context.tr, views, context.bot_data.timezone)
    await update.message.reply_text(text, reply_markup=keyboard)


async def task_action(update: Update, context: ApuriContext) -> None:
    """Carry out a task button: each action re-checked by the dispatch service."""
    query = update.callback_query
    assert query is not None
    data = TaskAction.parse(query.data)
    handler = _ACTIONS.get(data.action)
    if handler is None:
        await query.answer(context.tr.plain("This button is no longer valid."), show_alert=True)
        return
    await handler(query, context, data.task_id)


async def _accept(query: CallbackQuery, context: ApuriContext, task_id: int) -> None:
    result = await context.services.dispatch.accept(context.actor, task_id)
    tr = context.tr
    await query.answer(
        tr.plain("Your pair has this task already.")
        if result.already
        else tr.plain("It is yours. Thank you!")
    )
    await _deliver_acceptance(query, context, result)


async def _deliver_acceptance(
    query: CallbackQuery, context: ApuriContext, result: Accepted
) -> None:
    zone = context.bot_data.timezone
    view = result.view
    holder_ids = {p.id for p in result.holders}
    text, keyboard = card(context.tr, view, zone)
    shown = await edit(query, text, keyboard)
    await remember_card(context, shown, view.task.id, context.actor)
    reached = {context.actor.id}
    others_stale = []
    for message in result.stale:
        person = result.audience.get(message.person_id)
        if person is not None and person.id in holder_ids:
            if (
                person.id == context.actor.id
                and isinstance(query.message, Message)
                and (query.message.message_id == message.message_id)
            ):
                continue
            their_text, their_keyboard = card(context.translator_for(person), view, zone)
            if await edit_message(
                context.bot, message.chat_id, message.message_id, their_text, their_keyboard
            ):
                await remember_card(
                    context, (message.chat_id, message.message_id), view.task.id, person
                )
                reached.add(person.id)
        else:
            others_stale.append(message)
    await scrub(context, view.task, view.postal_code, others_stale, result.audience)
    if result.already:
        return
    for person in result.holders:
        if person.id not in reached:
            heading = context.translator_for(person).gettext(
                "<b>{name} accepted a task for your pair.</b>", name=context.actor.name
            )
            await send_cards(context, view, [person], heading=heading)


async def _decline(query: CallbackQuery, context: ApuriContext, task_id: int) -> None:
    result = await context.services.dispatch.decline(context.actor, task_id)
    tr = context.tr
    await query.answer(tr.plain("Declined. Thank you for answering."))
    zone = context.bot_data.timezone
    for message in result.messages:
        person = result.audience.get(message.person_id)
        person_tr = context.translator_for(person) if person else tr
        await edit_message(
            context.bot,
            message.chat_id,
            message.message_id,
            declined_text(person_tr, result.task, result.postal_code, zone),
        )
    await edit(query, declined_text(tr, result.task, result.postal_code, zone))
    await context.services.dispatch.forget(result.messages)
    if result.returned:
        for coordinator in result.coordinators:
            coordinator_tr = context.translator_for(coordinator)
            await send(
                context,
                coordinator,
                coordinator_tr.gettext(
                    "Every pair declined task #{number}; it is open again. "
                    "/task {number} to assign it by hand.",
                    number=task_id,
                ),
            )


async def _start(query: CallbackQuery, context: ApuriContext, task_id: int) -> None:
    view = await context.services.dispatch.start(context.actor, task_id)
    await query.answer(context.tr.plain("Have a good visit!"))
    shown = await edit(query, *card(context.tr, view, context.bot_data.timezone))
    await remember_card(context, shown, task_id, context.actor)


async def _show(query: CallbackQuery, context: ApuriContext, task_id: int) -> None:
    view = await context.services.dispatch.view(context.actor, task_id)
    text, keyboard = card(context.tr, view, context.bot_data.timezone)
    await query.answer()
    sent = await context.bot.send_message(
        context.actor.telegram_user_id, text, reply_markup=keyboard
    )
    if view.resident is not None:
        await remember_card(context, sent, task_id, context.actor)


async def _view(query: CallbackQuery, context: ApuriContext, task_id: int) -> None:
    if not context.actor.can(Capability.DISPATCH):
        raise NotAllowed("dispatch")
    view = await context.services.dispatch.view(context.actor, task_id)
    await query.answer()
    await edit(query, *coordinator_view(context.tr, view, context.bot_data.timezone))


async def _cancel(query: CallbackQuery, context: ApuriContext, task_id: int) -> None:
    if not context.actor.can(Capability.DISPATCH):
        raise NotAllowed("dispatch")
    view = await context.services.dispatch.view(context.actor, task_id)
    await query.answer()
    await edit(query, *confirm_cancel(context.tr, view.task))


async def _cancel_confirmed(query: CallbackQuery, context: ApuriContext, task_id: int) -> None:
    closed = await context.services.dispatch.cancel(context.actor, task_id)
    await query.answer(context.tr.plain("Cancelled."))
    view = await context.services.dispatch.view(context.actor, task_id)
    await edit(query, *coordinator_view(context.tr, view, context.bot_data.timezone))
    await scrub(context, closed.view.task, closed.view.postal_code, closed.stale, closed.audience)
    for person in closed.holders:
        person_tr = context.translator_for(person)
        await send(
            context,
            person,
            person_tr.gettext("A coordinator cancelled task #{number}.", number=task_id),
        )


_ACTIONS = {
    "accept": _accept,
    "decline": _decline,
    "start": _start,
    "report": begin_report,
    "done": begin_report,  # the buttons of cards sent before outcome forms existed
    "fail": begin_report,
    "show": _show,
    "view": _view,
    "offer": _offer,
    "cancel": _cancel,
    "cancel_ok": _cancel_confirmed,
}


async def tell_released(context: ApuriContext, released: list[Released]) -> None:
    """Tell coordinators which tasks came back, and scrub the former holders' messages."""
    if not released:
        return
    coordinators = await context.services.dispatch.coordinators()
    for item in released:
        await scrub(context, item.task, item.postal_code, item.stale, item.audience)
        for coordinator in coordinators:
            await send(
                context,
                coordinator,
                released_text(context.translator_for(coordinator), item.task, item.holder_name),
            )
