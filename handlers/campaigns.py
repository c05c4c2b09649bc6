"""Phone-check campaigns in the chat: /campaign new (guided), /campaign (progress), /call.

`/campaign new` asks, in order: the name; who is called (an age, a typed birth year, or a CSV file
of residents); the area (unless a file was sent); the callers; the attempts per resident; the time
between attempts; then a summary with the number to call and Start. Nothing is stored before Start.

`/call` (or 📞 Next call) hands the caller the next resident; the card's 📝 button starts the
phone-check report, whose end says what happened to the resident on the list and offers the next
call at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.domain.campaigns import (
    CampaignError,
    CampaignProblem,
    CampaignSpec,
    CampaignState,
    Selection,
    born_by_for_age,
    parse_areas,
    parse_attempts,
    parse_born_by,
    parse_gap,
    parse_name,
)
from bot.domain.errors import NotAllowed, StaleStep
from bot.domain.people import Capability
from bot.domain.resident_import import MAX_BYTES, InvalidFile
from bot.i18n import N_, Html
from bot.services.campaigns import Call, Expired
from bot.services.residents import ImportReport
from handlers.callback_data import CallAction, CampaignAction, CampaignStep
from handlers.campaigns_render import (
    area_keyboard,
    attempts_keyboard,
    call_card,
    call_keyboard,
    callers_keyboard,
    campaign_list,
    campaign_problem_text,
    confirm_close,
    expired_text,
    gap_keyboard,
    gap_text,
    given_back_text,
    overview_keyboard,
    overview_text,
    selection_text,
    started_text,
    summary_keyboard,
    who_keyboard,
)
from handlers.context import ApuriContext, requires
from handlers.drafts import (
    cancel_handler,
    cancelled_text,
    closed_form_handler,
    draft_of,
    drop_draft,
)
from handlers.forms import begin_report
from handlers.replies import edit as edit_or_send
from handlers.residents_render import import_report_lines
from handlers.task_messages import scrub, send

__all__ = ["deliver_expired", "handlers"]

log = logging.getLogger(__name__)

_DRAFT = "campaign"
_CALLERS_SHOWN = 40


class Step(IntEnum):
    """The steps of the campaign form."""

    NAME = 1
    WHO = 2
    AREA = 3
    CALLERS = 4
    ATTEMPTS = 5
    GAP = 6
    CONFIRM = 7


@dataclass
class _Draft:
    asked: Step = Step.NAME
    name: str = ""
    selection: Selection = field(default_factory=Selection)
    file: bytes | None = None  # an imported list, read at Start
    listed: int = 0
    callers: set[int] = field(default_factory=set)
    attempts: int = 2
    gap: timedelta = timedelta(hours=3)
    message_id: int | None = None  # the form's current message: buttons of older ones are stale


_STEP_OF_BUTTON: dict[str, Step] = {
    "age": Step.WHO,
    "everywhere": Step.AREA,
    "caller": Step.CALLERS,
    "callers_all": Step.CALLERS,
    "callers_done": Step.CALLERS,
    "attempts": Step.ATTEMPTS,
    "gap": Step.GAP,
    "start": Step.CONFIRM,
}


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Return the campaign handlers, the conversation first."""
    typed = filters.TEXT & ~filters.COMMAND
    step = CallbackQueryHandler(campaign_step, pattern=CampaignStep.matches())
    conversation = ConversationHandler(
        entry_points=[CommandHandler("campaign", campaign_command)],
        states={
            Step.NAME: [MessageHandler(typed, name_typed), step],
            Step.WHO: [
                MessageHandler(typed, year_typed),
                MessageHandler(filters.Document.ALL, list_sent),
                step,
            ],
            Step.AREA: [MessageHandler(typed, area_typed), step],
            Step.CALLERS: [step],
            Step.ATTEMPTS: [MessageHandler(typed, attempts_typed), step],
            Step.GAP: [MessageHandler(typed, gap_typed), step],
            Step.CONFIRM: [step],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_handler(_DRAFT)),
            CommandHandler("campaign", campaign_command),
            MessageHandler(filters.ALL & ~filters.COMMAND, campaign_unexpected),
        ],
        name="campaign",
        allow_reentry=True,
    )
    return [
        conversation,
        CommandHandler("call", call_command),
        CallbackQueryHandler(campaign_action, pattern=CampaignAction.matches()),
        CallbackQueryHandler(call_action, pattern=CallAction.matches()),
        CallbackQueryHandler(
            closed_form_handler(N_("This form is closed. Send /campaign new to start again.")),
            pattern=CampaignStep.matches(),
        ),
    ]


def _draft(context: ApuriContext) -> _Draft:
    return draft_of(context, _DRAFT, _Draft)


def _problem(context: ApuriContext, error: CampaignError) -> Html:
    return campaign_problem_text(
        context.tr, error.problem, context.bot_data.timezone, when=error.when
    )


# --- /campaign ------------------------------------------------------------------------------


async def campaign_command(update: Update, context: ApuriContext) -> int:
    """/campaign new starts the form; /campaign alone lists the campaigns and their figures."""
    message = update.message
    assert message is not None
    if context.args and context.args[0].lower() in {"new", "uusi", "ny"}:
        return await _start_form(message, context)
    actor = context.actor
    if not actor.can(Capability.MANAGE_CAMPAIGNS) and not actor.can(Capability.CALL):
        raise NotAllowed(Capability.MANAGE_CAMPAIGNS.value)
    campaigns = context.services.campaigns
    overviews = await campaigns.recent(actor) if actor.can(Capability.MANAGE_CAMPAIGNS) else []
    mine = await campaigns.mine(actor) if actor.can(Capability.CALL) else []
    text, keyboard = campaign_list(context.tr, overviews, mine)
    await message.reply_text(text, reply_markup=keyboard)
    return ConversationHandler.END


@requires(Capability.MANAGE_CAMPAIGNS)
async def _start_form(message: Message, context: ApuriContext) -> int:
    drop_draft(context, _DRAFT)
    draft = _draft(context)
    draft.attempts = context.services.campaigns.attempts
    reply = await message.reply_text(
        context.tr.gettext(
            "<b>New phone-check campaign.</b> What is it called? (e.g. Autumn calls 70+) "
            "/cancel stops."
        )
    )
    draft.message_id = reply.message_id
    draft.asked = Step.NAME
    return Step.NAME


async def name_typed(update: Update, context: ApuriContext) -> int:
    """The campaign's name was typed."""
    assert update.message is not None and update.message.text is not None
    try:
        name = parse_name(update.message.text)
    except CampaignError as error:
        await update.message.reply_text(_problem(context, error))
        return Step.NAME
    _draft(context).name = name
    return await _ask_who(update.message, context)


async def _ask_who(where: Message | CallbackQuery, context: ApuriContext) -> int:
    return await _ask(
        where,
        context,
        Step.WHO,
        context.tr.gettext(
            "Who is called? Choose an age, or type the latest birth year (1956: everyone born "
            "in 1956 or before). Or send a CSV file of residents: exactly they are called."
        ),
        who_keyboard(context.tr),
    )


async def year_typed(update: Update, context: ApuriContext) -> int:
    """A birth year was typed at the question of who is called."""
    assert update.message is not None and update.message.text is not None
    try:
        year = parse_born_by(update.message.text, context.services.clock().date())
    except CampaignError as error:
        await update.message.reply_text(_problem(context, error))
        return Step.WHO
    draft = _draft(context)
    draft.selection, draft.file = Selection(born_by=year), None
    return await _ask_area(update.message, context)


async def list_sent(update: Update, context: ApuriContext) -> int:
    """A CSV file of residents was sent: read it (nothing is stored before Start)."""
    message = update.message
    assert message is not None and message.document is not None
    tr = context.tr
    document = message.document
    if document.file_size is not None and document.file_size > MAX_BYTES:
        await message.reply_text(
            Html(
                "\n".join(
                    import_report_lines(tr, ImportReport(error=InvalidFile("file.too_large")))
                )
            )
        )
        return Step.WHO
    data = bytes(await (await document.get_file()).download_as_bytearray())
    parsed = await context.services.campaigns.read_list(
        context.actor, data, default_language=context.bot_data.default_language
    )
    if isinstance(parsed, InvalidFile):
        await message.reply_text(
            Html("\n".join(import_report_lines(tr, ImportReport(error=parsed))))
        )
        return Step.WHO
    if not parsed.valid:
        report = ImportReport(rejected=parsed.rejected)
        lines = [
            tr.gettext("No row of the file can be read, so nobody would be called."),
            *import_report_lines(tr, report),
        ]
        await message.reply_text(Html("\n".join(lines)))
        return Step.WHO
    draft = _draft(context)
    draft.selection, draft.file = Selection(imported=True), data
    draft.listed = await context.services.campaigns.listable(context.actor, parsed)
    if parsed.rejected:
        await message.reply_text(
            tr.ngettext(
                "{n} row of the file cannot be read and is left out; the import report at "
                "Start names it.",
                "{n} rows of the file cannot be read and are left out; the import report at "
                "Start names them.",
                len(parsed.rejected),
            )
        )
    return await _ask_callers(message, context)


async def _ask_area(where: Message | CallbackQuery, context: ApuriContext) -> int:
    return await _ask(
        where,
        context,
        Step.AREA,
        context.tr.gettext(
            "Which area? Type postal codes or their beginnings (e.g. 70100 702), or press "
            "Everywhere."
        ),
        area_keyboard(context.tr),
    )


async def area_typed(update: Update, context: ApuriContext) -> int:
    """Postal areas were typed."""
    assert update.message is not None and update.message.text is not None
    try:
        areas = parse_areas(update.message.text)
    except CampaignError as error:
        await update.message.reply_text(_problem(context, error))
        return Step.AREA
    draft = _draft(context)
    draft.selection = draft.selection.model_copy(update={"areas": areas})
    return await _after_selection(update.message, context)


async def _after_selection(where: Message | CallbackQuery, context: ApuriContext) -> int:
    """Count who the selection lists; nobody is refused and asked again."""
    draft = _draft(context)
    total, _ = await context.services.campaigns.count(context.actor, draft.selection)
    if not total:
        draft.selection = Selection()
        # Said below the form, which is asked again: an edit would be overwritten at once.
        await send(
            context,
            context.actor,
            campaign_problem_text(context.tr, CampaignProblem.NOBODY, context.bot_data.timezone),
        )
        return await _ask_who(where, context)
    draft.listed = total
    return await _ask_callers(where, context)


async def _ask_callers(where: Message | CallbackQuery, context: ApuriContext) -> int:
    draft = _draft(context)
    callers = await context.services.campaigns.callers(context.actor)
    if not callers:
        drop_draft(context, _DRAFT)
        await _say(
            where,
            context,
            campaign_problem_text(
                context.tr, CampaignProblem.NO_CALLERS, context.bot_data.timezone
            ),
        )
        return ConversationHandler.END
    draft.asked = Step.CALLERS
    await _say(
        where,
        context,
        context.tr.gettext("Who calls? Choose the callers, then press Done."),
        callers_keyboard(context.tr, callers[:_CALLERS_SHOWN], draft.callers),
    )
    return Step.CALLERS


async def _ask_attempts(where: Message | CallbackQuery, context: ApuriContext) -> int:
    return await _ask(
        where,
        context,
        Step.ATTEMPTS,
        context.tr.gettext(
            "How many calls to each resident before a home visit is arranged instead? "
            "(Press one, or type a number up to 10.)"
        ),
        attempts_keyboard(context.tr, _draft(context).attempts),
    )


async def attempts_typed(update: Update, context: ApuriContext) -> int:
    """A number of attempts was typed."""
    assert update.message is not None and update.message.text is not None
    try:
        attempts = parse_attempts(update.message.text)
    except CampaignError as error:
        await update.message.reply_text(_problem(context, error))
        return Step.ATTEMPTS
    _draft(context).attempts = attempts
    return await _ask_gap(update.message, context)


async def _ask_gap(where: Message | CallbackQuery, context: ApuriContext) -> int:
    return await _ask(
        where,
        context,
        Step.GAP,
        context.tr.gettext(
            "How long at least between two calls to the same resident? (Press one, or type "
            "hours such as 2 or 1,5.)"
        ),
        gap_keyboard(context.tr, _draft(context).gap),
    )


async def gap_typed(update: Update, context: ApuriContext) -> int:
    """A gap between attempts was typed."""
    assert update.message is not None and update.message.text is not None
    try:
        gap = parse_gap(update.message.text)
    except CampaignError as error:
        await update.message.reply_text(_problem(context, error))
        return Step.GAP
    _draft(context).gap = gap
    return await _summary(update.message, context)


async def _summary(where: Message | CallbackQuery, context: ApuriContext) -> int:
    draft = _draft(context)
    tr = context.tr
    draft.asked = Step.CONFIRM
    callers = {p.id: p.name for p in await context.services.campaigns.callers(context.actor)}
    names = ", ".join(
        callers.get(i, "?") for i in sorted(draft.callers, key=lambda i: callers.get(i, ""))
    )
    lines = [
        tr.gettext("<b>{name}</b>", name=draft.name),
        tr.gettext("Calls: {who}", who=selection_text(tr, draft.selection, draft.listed)),
        tr.gettext("Callers: {names}", names=names),
        tr.gettext(
            "{attempts} attempts per resident, at least {gap} apart; then a home visit.",
            attempts=draft.attempts,
            gap=gap_text(tr, draft.gap),
        ),
    ]
    if not draft.selection.imported:
        _, no_phone = await context.services.campaigns.count(context.actor, draft.selection)
        if no_phone:
            lines.append(
                tr.ngettext(
                    "{n} of them has no phone number: a home visit is arranged at Start.",
                    "{n} of them have no phone number: a home visit is arranged for each at Start.",
                    no_phone,
                )
            )
    await _say(where, context, Html("\n".join(lines)), summary_keyboard(tr, draft.listed))
    return Step.CONFIRM


async def campaign_step(update: Update, context: ApuriContext) -> int:
    """A button of the form was pressed."""
    query = update.callback_query
    assert query is not None
    value = CampaignStep.parse(query.data).value
    kind, _, arg = value.partition(":")
    draft = _draft(context)
    if kind == "cancel":
        drop_draft(context, _DRAFT)
        await query.answer()
        await edit_or_send(query, cancelled_text(context.tr))
        return ConversationHandler.END
    pressed = query.message.message_id if query.message is not None else None
    if _STEP_OF_BUTTON.get(kind) is not draft.asked or (
        draft.message_id is not None and pressed != draft.message_id
    ):
        raise StaleStep(kind)
    match kind:
        case "age":
            age = int(arg)
            today = context.services.clock().date()
            draft.selection = Selection(born_by=born_by_for_age(age, today) if age else None)
            draft.file = None
            await query.answer()
            return await _ask_area(query, context)
        case "everywhere":
            draft.selection = draft.selection.model_copy(update={"areas": ()})
            await query.answer()
            return await _after_selection(query, context)
        case "caller":
            draft.callers ^= {int(arg)}
            await query.answer()
            return await _ask_callers(query, context)
        case "callers_all":
            draft.callers = {p.id for p in await context.services.campaigns.callers(context.actor)}
            await query.answer()
            return await _ask_attempts(query, context)
        case "callers_done" if draft.callers:
            await query.answer()
            return await _ask_attempts(query, context)
        case "attempts":
            draft.attempts = int(arg)
            await query.answer()
            return await _ask_gap(query, context)
        case "gap":
            draft.gap = timedelta(minutes=int(arg))
            await query.answer()
            return await _summary(query, context)
        case "start":
            return await _start(query, context)
    raise StaleStep(kind)


async def _start(query: CallbackQuery, context: ApuriContext) -> int:
    draft = _draft(context)
    drop_draft(context, _DRAFT)  # before the first await: a second tap finds no draft
    tr = context.tr
    spec = CampaignSpec(
        name=draft.name,
        selection=draft.selection,
        callers=frozenset(draft.callers),
        attempts=draft.attempts,
        gap=draft.gap,
    )
    campaigns = context.services.campaigns
    try:
        if draft.file is not None:
            await query.answer()
            started, report = await campaigns.start_with_list(
                context.actor, spec, draft.file, default_language=context.bot_data.default_language
            )
            lines = import_report_lines(tr, report)
            if started is None:
                await edit_or_send(query, Html("\n".join(lines)))
                return ConversationHandler.END
            text = Html("\n".join([started_text(tr, started), "", *lines]))
        else:
            started = await campaigns.start(context.actor, spec)
            await query.answer()
            text = started_text(tr, started)
    except CampaignError as error:
        # Nothing at the summary can fix it (a caller lost the role, nobody is left to call):
        # the form ends with the reason, and /campaign new starts again.
        if draft.file is None:
            await query.answer()
        await edit_or_send(query, _problem(context, error))
        return ConversationHandler.END
    log.info("campaign %d started: %d listed", started.campaign.id, started.listed)
    await edit_or_send(query, text)
    return ConversationHandler.END


async def campaign_unexpected(update: Update, context: ApuriContext) -> None:
    """Something the current step does not take (a sticker, a photo, text at a button step)."""
    if update.message is not None:
        await update.message.reply_text(
            context.tr.gettext("Please answer with the buttons above, or send /cancel.")
        )


async def _ask(
    where: Message | CallbackQuery,
    context: ApuriContext,
    step: Step,
    text: Html,
    keyboard: InlineKeyboardMarkup | None = None,
) -> int:
    """Ask the question of `step` and remember that it is the one asked."""
    _draft(context).asked = step
    await _say(where, context, text, keyboard)
    return step


async def _say(
    where: Message | CallbackQuery,
    context: ApuriContext,
    text: Html,
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit the form's message after a press; after typed text, send the next question below."""
    if isinstance(where, CallbackQuery):
        await edit_or_send(where, text, keyboard)
        return
    reply = await where.reply_text(text, reply_markup=keyboard)
    _draft(context).message_id = reply.message_id


# --- campaign buttons -----------------------------------------------------------------------


async def campaign_action(update: Update, context: ApuriContext) -> None:
    """A campaign's button: figures, pause, resume, close, or the next call."""
    query = update.callback_query
    assert query is not None
    data = CampaignAction.parse(query.data)
    tr = context.tr
    campaigns = context.services.campaigns
    zone = context.bot_data.timezone
    try:
        match data.action:
            case "next":
                await query.answer()
                await _hand_out(context, data.campaign_id)
                return
            case "show":
                overview = await campaigns.overview(context.actor, data.campaign_id)
            case "pause" | "resume" | "close_yes":
                state = {
                    "pause": CampaignState.PAUSED,
                    "resume": CampaignState.RUNNING,
                    "close_yes": CampaignState.CLOSED,
                }[data.action]
                await campaigns.set_state(context.actor, data.campaign_id, state)
                overview = await campaigns.overview(context.actor, data.campaign_id)
            case "close":
                overview = await campaigns.overview(context.actor, data.campaign_id)
                await query.answer()
                await edit_or_send(query, *confirm_close(tr, overview.campaign))
                return
            case _:
                raise StaleStep(data.action)
    except CampaignError as error:
        await query.answer(tr.plain(_problem(context, error)), show_alert=True)
        return
    await query.answer()
    await edit_or_send(
        query, overview_text(tr, overview, zone), overview_keyboard(tr, overview.campaign)
    )


# --- calls ----------------------------------------------------------------------------------


@requires(Capability.CALL)
async def call_command(update: Update, context: ApuriContext) -> None:
    """/call: the next resident to phone."""
    assert update.message is not None
    await _hand_out(context, None)


async def _hand_out(context: ApuriContext, campaign_id: int | None) -> None:
    """Claim the next resident and send the call card below (it is scrubbed when the call ends)."""
    try:
        call = await context.services.campaigns.next_call(context.actor, campaign_id)
    except CampaignError as error:
        await send(context, context.actor, _problem(context, error))
        return
    await _send_card(context, call)


async def _send_card(context: ApuriContext, call: Call) -> None:
    campaigns = context.services.campaigns
    text = call_card(context.tr, call, context.services.clock().date(), campaigns.claim_timeout)
    sent = await send(context, context.actor, text, call_keyboard(context.tr, call.task.id))
    if sent is not None:
        await campaigns.call_shown(context.actor, call.task.id, sent.chat_id, sent.message_id)


async def call_action(update: Update, context: ApuriContext) -> None:
    """A call card's button: record the call, or give the resident back."""
    query = update.callback_query
    assert query is not None
    data = CallAction.parse(query.data)
    tr = context.tr
    match data.action:
        case "report":
            await begin_report(query, context, data.task_id)
        case "give_back":
            try:
                closed = await context.services.campaigns.give_back(context.actor, data.task_id)
            except CampaignError as error:
                await query.answer(tr.plain(_problem(context, error)), show_alert=True)
                return
            await query.answer()
            view = closed.view
            await scrub(context, view.task, view.postal_code, closed.stale, closed.audience)
            await edit_or_send(query, given_back_text(tr))
        case _:
            raise StaleStep(data.action)


async def deliver_expired(context: ApuriContext) -> None:
    """Hand back the calls of callers who went quiet, scrub their cards and tell them."""
    expired: list[Expired] = await context.services.campaigns.expire()
    minutes = int(context.services.campaigns.claim_timeout.total_seconds() // 60)
    for item in expired:
        view = item.closed.view
        await scrub(context, view.task, view.postal_code, item.closed.stale, item.closed.audience)
        if item.caller is not None:
            tr = context.translator_for(item.caller)
            await send(context, item.caller, expired_text(tr, item.campaign, minutes))
    if expired:
        log.info("campaign calls expired: %d", len(expired))
