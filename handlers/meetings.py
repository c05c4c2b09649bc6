"""Coordination meetings in the chat: /meeting new, /meetings, one occurrence, attendance, groups.

`/meeting new` is a guided conversation (title, weekdays, time, duration, link or place, who
attends, reminders) that ends in a summary with Save; nothing is stored before Save. Editing a
meeting opens the same summary with the meeting's values, and each field can be changed. After
every change the meeting jobs are rebuilt from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from enum import IntEnum

from telegram import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.domain.errors import DomainError, NotAllowed, StaleStep
from bot.domain.meetings import (
    DEFAULT_OFFSETS,
    Audience,
    AudienceKind,
    MeetingError,
    MeetingProblem,
    MeetingSpec,
)
from bot.domain.people import Capability, Role
from bot.domain.schedule import (
    looks_like_link,
    parse_clock,
    parse_duration,
    parse_link,
    parse_move,
    parse_offsets,
    parse_place,
    parse_title,
)
from bot.i18n import N_, Html, escape, translators
from bot.services.meetings import OccurrenceChanged
from handlers.callback_data import Attend, MeetingAction, MeetingStep, OccurrenceAction
from handlers.context import ApuriContext, requires
from handlers.drafts import (
    cancel_handler,
    cancelled_text,
    closed_form_handler,
    draft_of,
    drop_draft,
)
from handlers.meeting_jobs import reschedule, send_quietly, tell_group_removed
from handlers.meetings_ics import ics_filename, meeting_ics
from handlers.meetings_render import (
    audience_text,
    day_names,
    meeting_card,
    meetings_list,
    occurrence_changed_text,
    occurrence_menu,
    occurrences_text,
    offsets_text,
    problem_text,
    role_choice_names,
    schedule_text,
    where_text,
)
from handlers.replies import edit as edit_or_send
from handlers.task_messages import send

__all__ = ["group_migrated", "handlers", "membership_changed", "membership_handlers"]

log = logging.getLogger(__name__)

_DRAFT = "meeting"
_PEOPLE_SHOWN = 40


class Step(IntEnum):
    """The steps of the meeting form."""

    TITLE = 1
    DAYS = 2
    TIME = 3
    DURATION = 4
    WHERE = 5
    AUDIENCE = 6
    REMINDERS = 7
    CONFIRM = 8
    MOVE = 9


@dataclass
class _Draft:
    meeting_id: int | None = None  # None: a new meeting
    title: str = ""
    weekdays: set[int] = field(default_factory=set)
    start: time | None = None
    duration: int | None = None
    link: str | None = None
    place: str | None = None
    audience: Audience | None = None
    picked: set[int] = field(default_factory=set)  # people chosen so far
    offsets: tuple = DEFAULT_OFFSETS
    editing: bool = False  # a field changed from the summary returns to the summary
    asked: Step | None = None  # the question shown last: only its buttons count
    move: tuple[int, date] | None = None  # (meeting, occurrence day) being moved

    def spec(self) -> MeetingSpec:
        if self.audience is None:
            raise MeetingError(MeetingProblem.AUDIENCE)
        if self.start is None:
            raise MeetingError(MeetingProblem.TIME)
        if self.duration is None:
            raise MeetingError(MeetingProblem.DURATION)
        return MeetingSpec(
            title=self.title,
            weekdays=frozenset(self.weekdays),
            start=self.start,
            duration_minutes=self.duration,
            link=self.link,
            place=self.place,
            audience=self.audience,
            offsets=self.offsets,
        )


_STEP_OF_BUTTON: dict[str, Step] = {
    "day": Step.DAYS,
    "days": Step.DAYS,
    "dur": Step.DURATION,
    "aud": Step.AUDIENCE,
    "rem": Step.REMINDERS,
    "edit": Step.CONFIRM,
    "save": Step.CONFIRM,
}


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Return the meeting handlers, the conversation first."""
    typed = filters.TEXT & ~filters.COMMAND
    step = CallbackQueryHandler(meeting_step, pattern=MeetingStep.matches())
    conversation = ConversationHandler(
        entry_points=[
            CommandHandler("meeting", meeting_command),
            CallbackQueryHandler(edit_meeting, pattern=_action_is("edit")),
            CallbackQueryHandler(move_start, pattern=_occurrence_action_is("move")),
        ],
        states={
            Step.TITLE: [MessageHandler(typed, title_typed), step],
            Step.DAYS: [step],
            Step.TIME: [MessageHandler(typed, time_typed), step],
            Step.DURATION: [MessageHandler(typed, duration_typed), step],
            Step.WHERE: [MessageHandler(typed, where_typed), step],
            Step.AUDIENCE: [step],
            Step.REMINDERS: [MessageHandler(typed, reminders_typed), step],
            Step.CONFIRM: [step],
            Step.MOVE: [MessageHandler(typed, move_typed)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_handler(_DRAFT)),
            CommandHandler("meeting", meeting_command),
            MessageHandler(filters.ALL & ~filters.COMMAND, meeting_unexpected),
        ],
        name="meeting",
        allow_reentry=True,
    )
    return [
        conversation,
        CommandHandler("meetings", list_meetings),
        CallbackQueryHandler(meeting_action, pattern=MeetingAction.matches()),
        CallbackQueryHandler(occurrence_action, pattern=OccurrenceAction.matches()),
        CallbackQueryHandler(attend, pattern=Attend.matches()),
        CallbackQueryHandler(
            closed_form_handler(N_("This form is closed. Send /meeting new to start again.")),
            pattern=MeetingStep.matches(),
        ),
    ]


def membership_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Return the handlers of the bot's own membership in chats (they run before the gate)."""
    return [
        ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, group_migrated),
    ]


async def group_migrated(update: Update, context: ApuriContext) -> None:
    """A group became a supergroup (a new chat id): its meetings follow it."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return  # the new supergroup's own "migrated from" note: the old group's note suffices
    await context.services.meetings.group_migrated(message.chat.id, message.migrate_to_chat_id)


def _action_is(action: str):  # noqa: ANN202
    def matches(data: object) -> bool:
        return MeetingAction.matches()(data) and MeetingAction.parse(data).action == action

    return matches


def _occurrence_action_is(action: str):  # noqa: ANN202
    def matches(data: object) -> bool:
        return OccurrenceAction.matches()(data) and OccurrenceAction.parse(data).action == action

    return matches


def _draft(context: ApuriContext) -> _Draft:
    return draft_of(context, _DRAFT, _Draft)


def _drop_draft(context: ApuriContext) -> None:
    drop_draft(context, _DRAFT)


# --- /meeting new and the form --------------------------------------------------------------


async def meeting_command(update: Update, context: ApuriContext) -> int:
    """`/meeting new` starts the form; `/meeting` alone explains."""
    assert update.message is not None
    if (context.args or [""])[0].lower() not in {"new", "uusi", "ny"}:
        await update.message.reply_text(
            context.tr.gettext("/meeting new creates a meeting; /meetings lists them.")
        )
        return ConversationHandler.END
    return await _new(update, context)


@requires(Capability.MANAGE_MEETINGS)
async def _new(update: Update, context: ApuriContext) -> int:
    assert update.message is not None
    _drop_draft(context)
    draft = _draft(context)
    draft.offsets = context.bot_data.default_offsets
    draft.asked = Step.TITLE
    await update.message.reply_text(
        context.tr.gettext(
            "<b>New meeting.</b> What is it called? (e.g. Coordination group) /cancel stops."
        )
    )
    return Step.TITLE


async def _typed(
    update: Update, context: ApuriContext, step: Step, take: Callable[[_Draft, str], None]
) -> int:
    """Read a typed answer into the draft; a refused one is asked again with the reason."""
    assert update.message is not None and update.message.text is not None
    try:
        take(_draft(context), update.message.text)
    except MeetingError as error:
        await update.message.reply_text(problem_text(context.tr, error.problem))
        return step
    return await _after(update, context, step)


def _take_title(draft: _Draft, text: str) -> None:
    draft.title = parse_title(text)


def _take_time(draft: _Draft, text: str) -> None:
    draft.start = parse_clock(text)


def _take_duration(draft: _Draft, text: str) -> None:
    draft.duration = parse_duration(text)


def _take_where(draft: _Draft, text: str) -> None:
    """A link if it looks like one (then it must be a valid URL), else a place."""
    if looks_like_link(text):
        draft.link, draft.place = parse_link(text), None
    else:
        draft.link, draft.place = None, parse_place(text)


def _take_reminders(draft: _Draft, text: str) -> None:
    draft.offsets = parse_offsets(text)


async def title_typed(update: Update, context: ApuriContext) -> int:
    """The title was typed."""
    return await _typed(update, context, Step.TITLE, _take_title)


async def time_typed(update: Update, context: ApuriContext) -> int:
    """The start time was typed."""
    return await _typed(update, context, Step.TIME, _take_time)


async def duration_typed(update: Update, context: ApuriContext) -> int:
    """The duration was typed."""
    return await _typed(update, context, Step.DURATION, _take_duration)


async def where_typed(update: Update, context: ApuriContext) -> int:
    """A link or a place was typed."""
    return await _typed(update, context, Step.WHERE, _take_where)


async def reminders_typed(update: Update, context: ApuriContext) -> int:
    """Reminder offsets were typed, e.g. `1d16:00, 15m`."""
    return await _typed(update, context, Step.REMINDERS, _take_reminders)


async def meeting_step(update: Update, context: ApuriContext) -> int | None:
    """A button of the form was pressed."""
    query = update.callback_query
    assert query is not None
    value = MeetingStep.parse(query.data).value
    draft = _draft(context)
    kind, _, arg = value.partition(":")
    if kind != "cancel" and _STEP_OF_BUTTON.get(kind) is not draft.asked:
        # A button of an earlier question (or of a form that was cancelled): it changes nothing.
        raise StaleStep(kind)
    if kind == "day" and arg.isdigit() and int(arg) < 7:
        draft.weekdays ^= {int(arg)}
        await query.answer()
        await _ask(query, context, Step.DAYS)
        return Step.DAYS
    if kind == "days":
        if not draft.weekdays:
            await query.answer(problem_text(context.tr, MeetingProblem.WEEKDAYS), show_alert=True)
            return Step.DAYS
        await query.answer()
        return await _after(update, context, Step.DAYS)
    if kind == "dur" and arg.isdigit():
        draft.duration = parse_duration(arg)
        await query.answer()
        return await _after(update, context, Step.DURATION)
    if kind == "aud":
        return await _audience_step(query, context, draft, arg)
    if kind == "rem":
        await query.answer()
        return await _after(update, context, Step.REMINDERS)
    if kind == "edit":
        return await _edit_field(query, context, draft, arg)
    if kind == "save":
        return await _save(query, context, draft)
    if kind == "cancel":
        _drop_draft(context)
        await query.answer()
        await edit_or_send(query, cancelled_text(context.tr))
        return ConversationHandler.END
    await query.answer()
    return None  # an unknown button: stay where the form is


async def _audience_step(
    query: CallbackQuery, context: ApuriContext, draft: _Draft, arg: str
) -> int:
    tr = context.tr
    actor = context.actor
    what, _, target = arg.partition("=")
    if what == "role" and target in {role.value for role in Role}:
        draft.audience = Audience(kind=AudienceKind.ROLE, role=Role(target))
    elif what == "org" and target.isdigit():
        draft.audience = Audience(kind=AudienceKind.ORGANISATION, organisation_id=int(target))
    elif what == "group" and target.lstrip("-").isdigit():
        draft.audience = Audience(kind=AudienceKind.GROUP, chat_id=int(target))
    elif what == "person" and target.isdigit():
        draft.picked ^= {int(target)}
        await query.answer()
        await _show_audience_menu(query, context, "people")
        return Step.AUDIENCE
    elif what == "people_done":
        if not draft.picked:
            await query.answer(problem_text(tr, MeetingProblem.AUDIENCE), show_alert=True)
            return Step.AUDIENCE
        draft.audience = Audience(kind=AudienceKind.PEOPLE, people=tuple(sorted(draft.picked)))
    elif what in {"roles", "orgs", "people", "groups", "menu"}:
        if what == "groups" and not await context.services.meetings.groups(actor):
            await query.answer(
                tr.plain(
                    "The bot is in no group chat yet. Add the bot to the group in Telegram, then "
                    "choose again."
                ),
                show_alert=True,
            )
            return Step.AUDIENCE
        if what == "orgs" and not await context.services.meetings.organisations(actor):
            await query.answer(tr.plain("There are no organisations yet."), show_alert=True)
            return Step.AUDIENCE
        await query.answer()
        await _show_audience_menu(query, context, what)
        return Step.AUDIENCE
    else:
        await query.answer()
        return Step.AUDIENCE
    await query.answer()
    return await _after(update=None, context=context, done=Step.AUDIENCE, query=query)


async def _show_audience_menu(query: CallbackQuery, context: ApuriContext, what: str) -> None:
    tr = context.tr
    actor = context.actor
    draft = _draft(context)
    services = context.services.meetings
    rows: list[list[InlineKeyboardButton]] = []
    if what == "roles":
        text = tr.gettext("Which role attends?")
        rows = [[_step(name, f"aud:role={role.value}")] for role, name in role_choice_names(tr)]
    elif what == "orgs":
        text = tr.gettext("Which organisation attends?")
        rows = [
            [_step(o.name[:60], f"aud:org={o.id}")] for o in await services.organisations(actor)
        ]
    elif what == "groups":
        text = tr.gettext("Which group chat? (The bot must be a member of it.)")
        rows = [
            [_step(g.title[:60], f"aud:group={g.chat_id}")] for g in await services.groups(actor)
        ]
    elif what == "people":
        text = tr.gettext("Who attends? Tap to choose, then Done.")
        people = (await services.people(actor))[:_PEOPLE_SHOWN]
        rows = [
            [_step(("✅ " if p.id in draft.picked else "") + p.name[:50], f"aud:person={p.id}")]
            for p in people
        ]
        rows.append([_step(tr.plain("Done"), "aud:people_done")])
    else:
        await _ask(query, context, Step.AUDIENCE)
        return
    rows.append([_step(tr.plain("« Back"), "aud:menu")])
    await edit_or_send(query, text, InlineKeyboardMarkup(rows))


async def _edit_field(query: CallbackQuery, context: ApuriContext, draft: _Draft, arg: str) -> int:
    steps = {
        "title": Step.TITLE,
        "days": Step.DAYS,
        "time": Step.TIME,
        "duration": Step.DURATION,
        "where": Step.WHERE,
        "audience": Step.AUDIENCE,
        "reminders": Step.REMINDERS,
    }
    await query.answer()
    if arg not in steps:
        return Step.CONFIRM
    draft.editing = True
    await _ask(query, context, steps[arg])
    return steps[arg]


async def _after(
    update: Update | None,
    context: ApuriContext,
    done: Step,
    query: CallbackQuery | None = None,
) -> int:
    """Go on after `done` was answered: the next step, or back to the summary when editing."""
    draft = _draft(context)
    order = [
        Step.TITLE,
        Step.DAYS,
        Step.TIME,
        Step.DURATION,
        Step.WHERE,
        Step.AUDIENCE,
        Step.REMINDERS,
        Step.CONFIRM,
    ]
    following = Step.CONFIRM if draft.editing else order[order.index(done) + 1]
    if query is None and update is not None and update.callback_query is not None:
        query = update.callback_query
    if query is not None:
        await _ask(query, context, following)
    else:
        assert update is not None and update.message is not None
        text, keyboard = await _question(context, following)
        await update.message.reply_text(text, reply_markup=keyboard)
    return following


async def _ask(query: CallbackQuery, context: ApuriContext, step: Step) -> None:
    text, keyboard = await _question(context, step)
    await edit_or_send(query, text, keyboard)


async def _question(context: ApuriContext, step: Step) -> tuple[Html, InlineKeyboardMarkup | None]:
    tr = context.tr
    draft = _draft(context)
    draft.asked = step
    if step is Step.TITLE:
        return tr.gettext("What is the meeting called?"), None
    if step is Step.DAYS:
        names = day_names(tr)
        row1 = [
            _step(("✅ " if d in draft.weekdays else "") + names[d], f"day:{d}") for d in range(4)
        ]
        row2 = [
            _step(("✅ " if d in draft.weekdays else "") + names[d], f"day:{d}")
            for d in range(4, 7)
        ]
        keyboard = InlineKeyboardMarkup([row1, row2, [_step(tr.plain("Done"), "days")]])
        return tr.gettext("On which weekdays? Tap to choose, then Done."), keyboard
    if step is Step.TIME:
        return tr.gettext("At what time does it start? (e.g. 9.00)"), None
    if step is Step.DURATION:
        keyboard = InlineKeyboardMarkup(
            [[_step(tr.plain("{minutes} min", minutes=m), f"dur:{m}") for m in (30, 45, 60, 90)]]
        )
        return tr.gettext("How long does it last? Choose, or type it (e.g. 1,5 h)."), keyboard
    if step is Step.WHERE:
        return tr.gettext(
            "Where? Paste the online link (Teams or other, https://…) or type the place."
        ), None
    if step is Step.AUDIENCE:
        keyboard = InlineKeyboardMarkup(
            [
                [
                    _step(tr.plain("A role"), "aud:roles"),
                    _step(tr.plain("An organisation"), "aud:orgs"),
                ],
                [
                    _step(tr.plain("Chosen people"), "aud:people"),
                    _step(tr.plain("A Telegram group"), "aud:groups"),
                ],
            ]
        )
        return tr.gettext("Who attends?"), keyboard
    if step is Step.REMINDERS:
        keyboard = InlineKeyboardMarkup([[_step(tr.plain("Keep these"), "rem")]])
        return tr.gettext(
            "Reminders go out {offsets}. Keep these, or type others like 1d16:00, 2h, 15m.",
            offsets=offsets_text(tr, draft.offsets),
        ), keyboard
    return await _summary(context, draft)


async def _summary(context: ApuriContext, draft: _Draft) -> tuple[Html, InlineKeyboardMarkup]:
    tr = context.tr
    try:
        spec = draft.spec()
    except MeetingError as error:
        return problem_text(tr, error.problem), InlineKeyboardMarkup(
            [[_step(tr.plain("Change attendees"), "edit:audience")]]
        )
    who = await _audience_label(context, spec)
    lines = [
        tr.gettext("<b>{title}</b>", title=spec.title),
        escape(schedule_text(tr, spec)),
        where_text(spec),
        tr.gettext("Attending: {who}", who=who),
        tr.gettext("Reminders: {offsets}", offsets=offsets_text(tr, spec.offsets)),
    ]
    rows = [
        [_step(tr.plain("✅ Save"), "save")],
        [_step(tr.plain("Title"), "edit:title"), _step(tr.plain("Days"), "edit:days")],
        [_step(tr.plain("Time"), "edit:time"), _step(tr.plain("Duration"), "edit:duration")],
        [
            _step(tr.plain("Link or place"), "edit:where"),
            _step(tr.plain("Attendees"), "edit:audience"),
        ],
        [_step(tr.plain("Reminders"), "edit:reminders"), _step(tr.plain("✖ Cancel"), "cancel")],
    ]
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


async def _audience_label(context: ApuriContext, spec: MeetingSpec) -> Html:
    found = await context.services.meetings.attendees(context.actor, spec)
    return audience_text(
        context.tr, spec, organisation=found.organisation, people=found.people, group=found.group
    )


async def _save(query: CallbackQuery, context: ApuriContext, draft: _Draft) -> int:
    tr = context.tr
    try:
        spec = draft.spec()
    except MeetingError as error:
        await query.answer(problem_text(tr, error.problem), show_alert=True)
        return Step.CONFIRM
    # Take the draft before the first await: a double tap on Save finds no draft and saves nothing.
    assert context.user_data is not None
    if context.user_data.pop(_DRAFT, None) is not draft:
        await query.answer(tr.plain("This form is closed. Send /meeting new to start again."))
        return ConversationHandler.END
    services = context.services.meetings
    try:
        if draft.meeting_id is None:
            meeting = await services.create(context.actor, spec)
        else:
            meeting = await services.update(context.actor, draft.meeting_id, spec)
    except DomainError:
        context.user_data[_DRAFT] = draft  # refused: the form stays, to change and save again
        raise
    await query.answer(tr.plain("Saved."))
    await reschedule(context.application)
    view = await services.view(context.actor, meeting.id)
    text, keyboard = meeting_card(tr, view, context.bot_data.timezone, manage=True)
    await edit_or_send(query, Html(tr.gettext("✅ Saved.") + "\n\n" + text), keyboard)
    return ConversationHandler.END


async def meeting_unexpected(update: Update, context: ApuriContext) -> None:
    """Something that is not an answer arrived while the form waits."""
    assert update.message is not None
    await update.message.reply_text(
        context.tr.gettext("Please answer the question above, or send /cancel.")
    )


def _step(text: str, value: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=MeetingStep(value).pack())


# --- /meetings and one meeting --------------------------------------------------------------


async def list_meetings(update: Update, context: ApuriContext) -> None:
    """List the meetings the person may see, with the next occurrence."""
    assert update.message is not None
    actor = context.actor
    views = await context.services.meetings.meetings_for(actor)
    text, keyboard = meetings_list(
        context.tr, views, context.bot_data.timezone, manage=actor.can(Capability.MANAGE_MEETINGS)
    )
    await update.message.reply_text(text, reply_markup=keyboard)


@requires(Capability.MANAGE_MEETINGS)
async def edit_meeting(update: Update, context: ApuriContext) -> int:
    """✏️ Edit: the summary of the form, filled in with the meeting's values."""
    query = update.callback_query
    assert query is not None
    action = MeetingAction.parse(query.data)
    actor = context.actor
    view = await context.services.meetings.view(actor, action.meeting_id)
    spec = view.meeting.spec
    _drop_draft(context)
    draft = _draft(context)
    draft.meeting_id = view.meeting.id
    draft.title = spec.title
    draft.weekdays = set(spec.weekdays)
    draft.start = spec.start
    draft.duration = spec.duration_minutes
    draft.link, draft.place = spec.link, spec.place
    draft.audience = spec.audience
    draft.picked = set(spec.audience.people)
    draft.offsets = spec.offsets
    draft.editing = True
    await query.answer()
    await _ask(query, context, Step.CONFIRM)
    return Step.CONFIRM


async def meeting_action(update: Update, context: ApuriContext) -> None:
    """Show, pause, resume, delete, send the calendar file, list the dates."""
    query = update.callback_query
    assert query is not None
    action = MeetingAction.parse(query.data)
    tr, actor, zone = context.tr, context.actor, context.bot_data.timezone
    services = context.services.meetings
    manage = actor.can(Capability.MANAGE_MEETINGS)
    if action.action == "list":
        views = await services.meetings_for(actor)
        text, keyboard = meetings_list(tr, views, zone, manage=manage)
        await query.answer()
        await edit_or_send(query, text, keyboard)
        return
    if action.action == "ics":
        await _send_calendar(query, context, action.meeting_id)
        return
    if action.action == "delete":
        view = await services.view(actor, action.meeting_id)
        if not manage:
            raise NotAllowed(Capability.MANAGE_MEETINGS.value)
        await query.answer()
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        tr.plain("Yes, delete it"),
                        callback_data=MeetingAction(action.meeting_id, "delete_ok").pack(),
                    ),
                    InlineKeyboardButton(
                        tr.plain("No"),
                        callback_data=MeetingAction(action.meeting_id, "show").pack(),
                    ),
                ]
            ]
        )
        await edit_or_send(
            query,
            tr.gettext(
                "Delete <b>{title}</b> and all its dates? Its reminders stop.",
                title=view.meeting.title,
            ),
            keyboard,
        )
        return
    if action.action == "delete_ok":
        meeting = await services.delete(actor, action.meeting_id)
        await reschedule(context.application)
        await query.answer(tr.plain("Deleted."))
        await edit_or_send(query, tr.gettext("🗑 <b>{title}</b> was deleted.", title=meeting.title))
        return
    if action.action in {"pause", "resume"}:
        await services.set_paused(actor, action.meeting_id, action.action == "pause")
        await reschedule(context.application)
        await query.answer(
            tr.plain("Paused: no reminders until you resume it.")
            if action.action == "pause"
            else tr.plain("Resumed.")
        )
    elif action.action == "dates":
        meeting = (await services.view(actor, action.meeting_id)).meeting
        upcoming = await services.upcoming(actor, action.meeting_id)
        text, keyboard = occurrences_text(tr, meeting, upcoming, zone)
        await query.answer()
        await edit_or_send(query, text, keyboard)
        return
    view = await services.view(actor, action.meeting_id)  # refuses before anything is answered
    if action.action not in {"pause", "resume"}:
        await query.answer()
    text, keyboard = meeting_card(tr, view, zone, manage=manage)
    await edit_or_send(query, text, keyboard)


async def _send_calendar(query: CallbackQuery, context: ApuriContext, meeting_id: int) -> None:
    tr = context.tr
    meeting, changes = await context.services.meetings.calendar(context.actor, meeting_id)
    description = tr.plain("Reminders and attendance: Apuri bot, /meetings")
    data = meeting_ics(
        meeting,
        changes,
        context.bot_data.timezone,
        description=description,
        now=context.services.clock(),
    )
    await query.answer()
    assert query.message is not None
    await context.bot.send_document(
        query.message.chat.id,
        InputFile(data, filename=ics_filename(meeting.title)),
        caption=tr.gettext(
            "📅 {title}: open the file to add the meeting to your calendar.", title=meeting.title
        ),
    )


# --- one occurrence -------------------------------------------------------------------------


@requires(Capability.MANAGE_MEETINGS)
async def occurrence_action(update: Update, context: ApuriContext) -> None:
    """Show one occurrence with Cancel / Move, confirm and do the cancel."""
    query = update.callback_query
    assert query is not None
    action = OccurrenceAction.parse(query.data)
    tr, actor, zone = context.tr, context.actor, context.bot_data.timezone
    day = date.fromordinal(action.day)
    services = context.services.meetings
    if action.action == "cancel_ok":
        changed = await services.cancel_occurrence(actor, action.meeting_id, day)
        await reschedule(context.application)
        await query.answer(tr.plain("Cancelled; everyone attending is told."))
        await edit_or_send(
            query, occurrence_changed_text(tr, changed.meeting, changed.occurrence, None, zone)
        )
        await _tell_change(context, changed)
        return
    meeting, occurrence = await services.occurrence(action.meeting_id, day)
    text, keyboard = occurrence_menu(
        tr, meeting, occurrence, zone, confirm=action.action == "cancel"
    )
    await query.answer()
    await edit_or_send(query, text, keyboard)


@requires(Capability.MANAGE_MEETINGS)
async def move_start(update: Update, context: ApuriContext) -> int:
    """🕑 Move this one: ask for the new day and time."""
    query = update.callback_query
    assert query is not None
    action = OccurrenceAction.parse(query.data)
    tr = context.tr
    day = date.fromordinal(action.day)
    meeting, _ = await context.services.meetings.occurrence(action.meeting_id, day)
    _drop_draft(context)
    _draft(context).move = (meeting.id, day)
    await query.answer()
    await edit_or_send(
        query,
        tr.gettext(
            "To when is <b>{title}</b> moved? Type the day and time like 26.11. 14:00, or just "
            "a time for the same day. /cancel stops.",
            title=meeting.title,
        ),
    )
    return Step.MOVE


async def move_typed(update: Update, context: ApuriContext) -> int:
    """The new time of one occurrence was typed."""
    assert update.message is not None and update.message.text is not None
    tr, zone = context.tr, context.bot_data.timezone
    draft = _draft(context)
    if draft.move is None:
        return ConversationHandler.END
    meeting_id, day = draft.move
    try:
        to = parse_move(update.message.text, zone, day, context.services.clock())
        changed = await context.services.meetings.move_occurrence(
            context.actor, meeting_id, day, to
        )
    except MeetingError as error:
        await update.message.reply_text(problem_text(tr, error.problem))
        return Step.MOVE
    _drop_draft(context)
    await reschedule(context.application)
    await update.message.reply_text(
        occurrence_changed_text(tr, changed.meeting, changed.occurrence, changed.moved_to, zone)
    )
    await _tell_change(context, changed)
    return ConversationHandler.END


async def _tell_change(context: ApuriContext, changed: OccurrenceChanged) -> None:
    """Tell every attendee (and the group chat) that one occurrence was cancelled or moved."""
    zone = context.bot_data.timezone
    for person in changed.people:
        if person.id == context.actor.id:
            continue
        tr = context.translator_for(person)
        text = occurrence_changed_text(
            tr, changed.meeting, changed.occurrence, changed.moved_to, zone
        )
        await send(context, person, text)
    if changed.group is not None and changed.group.member:
        tr = translators()[context.bot_data.default_language]
        text = occurrence_changed_text(
            tr, changed.meeting, changed.occurrence, changed.moved_to, zone
        )
        await send_quietly(context, changed.group.chat_id, text)


# --- attendance -----------------------------------------------------------------------------


async def attend(update: Update, context: ApuriContext) -> None:
    """I'll attend / Can't attend, in a private reminder or in a group chat."""
    query = update.callback_query
    assert query is not None
    press = Attend.parse(query.data)
    tr = context.tr
    chat = update.effective_chat
    assert chat is not None
    answered = await context.services.meetings.answer(
        context.actor, press.meeting_id, date.fromordinal(press.day), press.attending, chat.id
    )
    if not answered.changed:
        await query.answer(tr.plain("Your answer was noted already."))
        return
    if answered.attending:
        await query.answer(tr.plain("Noted: you'll attend. Thank you!"))
    else:
        await query.answer(tr.plain("Noted: you can't attend."))


# --- the bot in group chats -----------------------------------------------------------------


async def membership_changed(update: Update, context: ApuriContext) -> None:
    """The bot was added to or removed from a group chat: remember it; tell organisers."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    status = change.new_chat_member.status
    if change.chat.type == ChatType.PRIVATE:
        await _private_membership(context, change.chat.id, status)
        return
    if change.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    services = context.services.meetings
    if status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR):
        adder = change.from_user.id if change.from_user else None
        accepted = await services.group_joined(change.chat.id, change.chat.title or "", adder)
        if accepted:
            log.info("the bot was added to group %s", change.chat.id)
            return
        # Only a coordinator may bring the bot into a group: a stranger's group must never be
        # offered as a meeting's audience (it would receive the meeting's link).
        log.info("the bot was added to group %s by someone who may not; leaving", change.chat.id)
        try:
            await context.bot.leave_chat(change.chat.id)
        except TelegramError as exc:
            log.warning("could not leave group %s: %s", change.chat.id, type(exc).__name__)
        return
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        removed = await services.group_left(change.chat.id)
        log.info("the bot was removed from group %s", change.chat.id)
        if removed is not None:
            await tell_group_removed(context, removed)


async def _private_membership(context: ApuriContext, user_id: int, status: str) -> None:
    """A person blocked (or unblocked) the bot: the brief lists the people it cannot reach."""
    person = await context.services.people.identify(user_id)
    if person is None:
        return
    if status == ChatMemberStatus.BANNED:
        await context.services.people.unreachable(person.id)
    elif status == ChatMemberStatus.MEMBER:
        await context.services.people.reachable(person.id)
