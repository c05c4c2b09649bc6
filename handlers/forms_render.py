"""How outcome forms look in the chat: questions with their buttons, the summary, the 112 notice,
alerts, reports, referrals and a resident's timeline.

Form texts come from the form files (already in three languages) and are escaped here; everything
else goes through the catalogs. The volunteer's prompt never names the resident: it shows the task
number and the form's title only, so a forwarded or glanced-at prompt gives nothing away.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.forms import Answer, Question, QuestionType, RejectCode, Rejection
from bot.domain.outcomes import NoticeKind, ReferralKind
from bot.domain.reports import Draft, ReferralRecord, ReferralState
from bot.domain.residents import Resident
from bot.domain.tasks import TaskState
from bot.i18n import N_, Html, Translator, escape
from bot.services.outcomes import (
    CrisisAlert,
    FormStep,
    ReferralNotice,
    Submitted,
    Timeline,
    TimelineEntry,
)
from handlers.callback_data import FormPress, ReferralPress
from handlers.render import LANGUAGE_NAMES, babel_locale, local_time
from handlers.tasks_render import REASON_NAMES, follow_up_text, kind_name

__all__ = [
    "answer_text",
    "cancel_keyboard",
    "crisis_alert",
    "crisis_notice",
    "draft_expired",
    "draft_reminder",
    "drafts_list",
    "edit_menu",
    "prompt",
    "referral_for_coordinators",
    "referral_for_partner",
    "referral_scrubbed",
    "report_for_coordinators",
    "report_keyboard",
    "submitted_text",
    "thrown_away",
    "timeline_text",
]

NOTICE_NAMES: dict[NoticeKind, str] = {
    NoticeKind.UNREACHABLE: N_(
        "Nobody was at home on the second visit either: please decide how to reach the resident."
    ),
    NoticeKind.REFUSED: N_("The resident refused the visit."),
    NoticeKind.WRONG_ADDRESS: N_("The address is wrong: please check it (/resident)."),
    NoticeKind.WRONG_NUMBER: N_("The phone number is wrong: please check it (/resident)."),
    NoticeKind.NOT_ALL_RIGHT: N_("The reporter thinks not everything is all right."),
    NoticeKind.OTHER_NEED: N_("Another need was reported: see the note."),
    NoticeKind.ERRAND_PROBLEM: N_("The errand had problems."),
    NoticeKind.NOT_DELIVERED: N_("The delivery did not reach the resident."),
}
_REJECTIONS: dict[RejectCode, str] = {
    RejectCode.REQUIRED: N_("An answer is needed here."),
    RejectCode.NOT_A_NUMBER: N_("Please type a whole number, digits only."),
    RejectCode.NOT_A_DATE: N_("Please type a date like 24.12.2026."),
    RejectCode.NOT_A_CHOICE: N_("Please choose one of the buttons."),
    RejectCode.USE_BUTTONS: N_("Please answer with the buttons of the question."),
    RejectCode.NOT_CURRENT: N_("That question is not being asked now."),
}


# --- the prompt -----------------------------------------------------------------------------------


def prompt(tr: Translator, step: FormStep, zone: ZoneInfo) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the message that asks the current question, or shows the summary."""
    if step.question is None:
        summary = _summary(tr, step, zone)
        if step.rejection is not None:
            summary = Html(f"⚠️ {rejection_text(tr, step.rejection)}\n\n{summary}")
        return summary, _summary_keyboard(tr, step)
    question = step.question
    lines = [_heading(tr, step)]
    if step.rejection is not None:
        lines.append("⚠️ " + rejection_text(tr, step.rejection))
        lines.append("")
    lines.append(f"<b>{escape(question.label.get(tr.language))}</b>")
    if question.hint is not None:
        lines.append(f"<i>{escape(question.hint.get(tr.language))}</i>")
    how = _how_to_answer(tr, question)
    if how:
        lines.append(how)
    return Html("\n".join(lines)), _question_keyboard(tr, step, question)


def _heading(tr: Translator, step: FormStep) -> str:
    title = escape(step.form.title.get(tr.language))
    return tr.gettext(
        "📝 <b>{title}</b> · task #{number} · question {step}\n",
        title=title,
        number=step.task.id,
        step=step.number,
    )


def _how_to_answer(tr: Translator, question: Question) -> Html | None:
    kind = question.type
    if kind is QuestionType.MULTI:
        return tr.gettext("Tick every one that applies, then press Done.")
    if kind is QuestionType.INTEGER:
        return tr.gettext(
            "Type a whole number from {minimum} to {maximum}.",
            minimum=question.min,
            maximum=question.max,
        )
    if kind is QuestionType.TEXT:
        return tr.gettext(
            "Type your answer (at most {maximum} characters).", maximum=question.max_length
        )
    if kind is QuestionType.DATE:
        return tr.gettext("Type a date, for example 24.12.2026 or 24.12.")
    return None


def rejection_text(tr: Translator, rejection: Rejection) -> Html:
    """Return why an answer was not accepted, in the person's language."""
    code = rejection.code
    if code is RejectCode.CONSTRAINT and rejection.message is not None:
        return escape(rejection.message.get(tr.language))
    if code is RejectCode.OUT_OF_RANGE:
        return tr.gettext(
            "The number must be from {minimum} to {maximum}.",
            minimum=rejection.minimum,
            maximum=rejection.maximum,
        )
    if code is RejectCode.TOO_LONG:
        return tr.gettext(
            "That is too long: at most {maximum} characters, please.", maximum=rejection.maximum
        )
    if code in _REJECTIONS:
        return tr.gettext(_REJECTIONS[code])
    return tr.gettext("That answer does not fit this question.")


def _press(step: FormStep, op: str, arg: int = 0) -> str:
    return FormPress(step.draft.id, step.draft.revision, op, arg).pack()


def _question_keyboard(tr: Translator, step: FormStep, question: Question) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    kind = question.type
    if kind is QuestionType.YESNO:
        rows.append(
            [
                InlineKeyboardButton(tr.plain("Yes"), callback_data=_press(step, "c", 0)),
                InlineKeyboardButton(tr.plain("No"), callback_data=_press(step, "c", 1)),
            ]
        )
    elif kind is QuestionType.SINGLE:
        buttons = [
            InlineKeyboardButton(choice.label.get(tr.language), callback_data=_press(step, "c", i))
            for i, choice in enumerate(question.choices)
        ]
        rows.extend(_rows(buttons, 2 if len(buttons) > 3 else 1))
    elif kind is QuestionType.MULTI:
        ticked = set(step.progress.ticks)
        buttons = [
            InlineKeyboardButton(
                ("☑️ " if choice.value in ticked else "◻️ ") + choice.label.get(tr.language),
                callback_data=_press(step, "c", i),
            )
            for i, choice in enumerate(question.choices)
        ]
        rows.extend(_rows(buttons, 2 if len(buttons) > 3 else 1))
        rows.append([InlineKeyboardButton(tr.plain("Done ✔"), callback_data=_press(step, "d"))])
    elif kind is QuestionType.SCALE:
        low = question.min if question.min is not None else 1
        high = question.max if question.max is not None else 5
        buttons = [
            InlineKeyboardButton(str(value), callback_data=_press(step, "c", value - low))
            for value in range(low, high + 1)
        ]
        rows.extend(_rows(buttons, 5))
    if not question.required:
        rows.append([InlineKeyboardButton(tr.plain("Skip"), callback_data=_press(step, "s"))])
    rows.append(_navigation(tr, step))
    return InlineKeyboardMarkup(rows)


def _navigation(tr: Translator, step: FormStep) -> list[InlineKeyboardButton]:
    row = []
    if step.progress.trail or step.progress.editing:
        row.append(InlineKeyboardButton(tr.plain("« Back"), callback_data=_press(step, "b")))
    row.append(InlineKeyboardButton(tr.plain("Cancel"), callback_data=_press(step, "x")))
    return row


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


# --- the summary ----------------------------------------------------------------------------------


def answer_text(tr: Translator, question: Question, value: Answer) -> str:
    """Return an answer as the person reads it (plain text, not escaped)."""
    if value is None or value == []:
        return tr.plain("(no answer)")
    if question.type is QuestionType.YESNO:
        return tr.plain("Yes") if value is True else tr.plain("No")
    labels = {choice.value: choice.label.get(tr.language) for choice in question.choices}
    if isinstance(value, list):
        return ", ".join(labels.get(v, v) for v in value)
    if isinstance(value, date):
        return format_date(value, format="d.M.yyyy", locale=babel_locale(tr.language))
    if isinstance(value, str) and question.type is QuestionType.SINGLE:
        return labels.get(value, value)
    return str(value)


def _summary(tr: Translator, step: FormStep, zone: ZoneInfo) -> Html:
    lines = [
        tr.gettext(
            "📝 <b>{title}</b> · task #{number}",
            title=escape(step.form.title.get(tr.language)),
            number=step.task.id,
        ),
        tr.gettext("Please check your answers:"),
        "",
    ]
    for question, value in step.summary:
        shown = answer_text(tr, question, value)
        if len(shown) > _SUMMARY_ANSWER:
            shown = shown[: _SUMMARY_ANSWER - 1] + "…"
        lines.append(f"• {escape(question.label.get(tr.language))}\n   <b>{escape(shown)}</b>")
    lines.append("")
    lines.append(tr.gettext("Submit sends the report; Edit changes an answer."))
    return Html(_fit_summary(lines))


def _fit_summary(lines: list[str], limit: int = 4000) -> str:
    """Keep a summary within one message: drop whole answers from the middle if it must."""
    text = "\n".join(lines)
    while len(text) > limit and len(lines) > 5:
        del lines[len(lines) // 2]
        text = "\n".join(lines)
    return text


_SUMMARY_ANSWER = 300  # characters of one answer in the summary: a long form must still fit


def _summary_keyboard(tr: Translator, step: FormStep) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(tr.plain("✅ Submit"), callback_data=_press(step, "k")),
                InlineKeyboardButton(tr.plain("✏️ Edit"), callback_data=_press(step, "e")),
            ],
            _navigation(tr, step),
        ]
    )


def edit_menu(tr: Translator, step: FormStep) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the list of answers to change, one button each."""
    rows = []
    for question, _value in step.summary:
        label = question.label.get(tr.language)
        if len(label) > 48:
            label = label[:47] + "…"
        index = step.form.questions.index(question)
        rows.append([InlineKeyboardButton(label, callback_data=_press(step, "j", index))])
    rows.append(
        [InlineKeyboardButton(tr.plain("« Back to the summary"), callback_data=_press(step, "n"))]
    )
    return tr.gettext("Which answer do you want to change?"), InlineKeyboardMarkup(rows)


def cancel_keyboard(tr: Translator, step: FormStep) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the question whether to throw the answers away."""
    return (
        tr.gettext(
            "Throw away the answers of this report? The task stays yours; "
            "you can report it again later."
        ),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        tr.plain("Yes, throw away"), callback_data=_press(step, "y")
                    ),
                    InlineKeyboardButton(tr.plain("No, continue"), callback_data=_press(step, "n")),
                ]
            ]
        ),
    )


def drafts_list(tr: Translator, steps: list[FormStep]) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Return the person's unfinished reports, with a button to continue each."""
    if not steps:
        return tr.gettext("You have no unfinished reports."), None
    lines = [tr.gettext("<b>Unfinished reports</b>")]
    rows = []
    for step in steps:
        title = step.form.title.get(tr.language)
        lines.append(
            tr.gettext(
                "• task #{number} · {title} · question {step}",
                number=step.task.id,
                title=title,
                step=step.number,
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    tr.plain("Continue #{number}", number=step.task.id),
                    callback_data=_press(step, "r"),
                )
            ]
        )
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def draft_reminder(tr: Translator, draft: Draft, task_id: int) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the reminder of an unfinished report."""
    press = FormPress(draft.id, draft.revision, "r", 0).pack()
    return (
        tr.gettext(
            "You have an unfinished report for task #{number}. "
            "Continue where you left off, or /resume shows all of them.",
            number=task_id,
        ),
        InlineKeyboardMarkup([[InlineKeyboardButton(tr.plain("Continue"), callback_data=press)]]),
    )


def thrown_away(tr: Translator, task_id: int) -> Html:
    """Return what replaces a report's last question when its answers are thrown away."""
    return tr.gettext(
        "The report was thrown away. Task #{number} is still yours: "
        "press Report on its card when you are ready.",
        number=task_id,
    )


def draft_expired(tr: Translator, task_id: int) -> Html:
    """Return the notice that an unfinished report was thrown away."""
    return tr.gettext(
        "Your unfinished report for task #{number} expired and was thrown away. "
        "The task is still yours: press Report on its card (/tasks) to start again.",
        number=task_id,
    )


# --- crisis ---------------------------------------------------------------------------------------


def crisis_notice(tr: Translator) -> Html:
    """Return what the volunteer sees at once when something is urgent or a health concern."""
    return tr.gettext(
        "🚨 <b>If life is in danger, call 112 now.</b>\n"
        "The coordinators have been alerted and will contact you. "
        "You can go on with the report."
    )


def crisis_alert(tr: Translator, alert: CrisisAlert, zone: ZoneInfo) -> Html:
    """Return the alert to coordinators: who, where, who reported, how to reach them."""
    view = alert.view
    resident = view.resident
    lines = [
        tr.gettext(
            "🚨 <b>URGENT: task #{number} ({kind})</b>",
            number=view.task.id,
            kind=kind_name(tr, view.task.kind),
        ),
        tr.gettext(
            "The volunteer marked something urgent or a health concern. "
            "They were told to call 112 if life is in danger."
        ),
    ]
    if resident is not None:
        lines.append(tr.gettext("Resident: {name}", name=resident.name))
        if resident.phone:
            lines.append(tr.gettext("Phone: {phone}", phone=resident.phone))
        address = ", ".join(
            part
            for part in (resident.street_address, resident.postal_code, resident.municipality)
            if part
        )
        if address:
            lines.append(tr.gettext("Address: {address}", address=address))
    lines.append(
        tr.gettext(
            'Reported by: <a href="tg://user?id={user}">{name}</a>',
            user=alert.reporter.telegram_user_id,
            name=alert.reporter.name,
        )
    )
    lines.append(tr.gettext("/task {number} shows the task.", number=view.task.id))
    return Html("\n".join(lines))


# --- after submitting -----------------------------------------------------------------------------


def submitted_text(tr: Translator, submitted: Submitted) -> Html:
    """Return the reporter's confirmation: no answers, just what happens next."""
    lines = []
    if submitted.attempt is not None and submitted.call is not None:
        attempt, of = submitted.attempt
        lines.append(
            tr.gettext("📞 Call attempt {attempt} of {of} recorded.", attempt=attempt, of=of)
        )
    elif submitted.attempt is not None:
        attempt, of = submitted.attempt
        lines.append(
            tr.gettext(
                "📞 Call attempt {attempt} of {of} recorded for task #{number}. "
                "Please try again later; the task stays with you.",
                attempt=attempt,
                of=of,
                number=submitted.task.id,
            )
        )
    else:
        lines.append(
            tr.gettext(
                "✅ The report for task #{number} is sent. Thank you!", number=submitted.task.id
            )
        )
    for task in submitted.follow_ups:
        lines.append(
            tr.gettext(
                "A follow-up {kind} (#{number}) was created for volunteer pairs.",
                kind=kind_name(tr, task.kind),
                number=task.id,
            )
        )
    for notice in submitted.referrals:
        if notice.referral.kind == ReferralKind.PARISH.value and notice.referral.consent:
            lines.append(tr.gettext("The wish for conversation help is passed on, as agreed."))
        elif notice.referral.kind == ReferralKind.PARISH.value:
            lines.append(
                tr.gettext(
                    "The wish for conversation help is recorded; without consent it is not "
                    "passed on."
                )
            )
    return Html("\n".join(lines))


def report_for_coordinators(tr: Translator, submitted: Submitted, zone: ZoneInfo) -> Html:
    """Return the coordinators' summary of a submitted outcome and its follow-ups."""
    task = submitted.task
    decision = submitted.decision
    lines = [
        tr.gettext(
            "📋 <b>Report on task #{number} ({kind})</b> by {reporter}",
            number=task.id,
            kind=kind_name(tr, task.kind),
            reporter=submitted.reporter.name,
        ),
        tr.gettext("Resident: {name}", name=submitted.resident.name),
    ]
    if submitted.attempt is not None:
        attempt, of = submitted.attempt
        lines.append(
            tr.gettext("No answer: call attempt {attempt} of {of}.", attempt=attempt, of=of)
        )
    elif decision.close is TaskState.DONE:
        lines.append(tr.gettext("Outcome: done."))
    elif decision.reason is not None:
        lines.append(
            tr.gettext(
                "Outcome: not completed ({reason}).", reason=tr.plain(REASON_NAMES[decision.reason])
            )
        )
    if decision.crisis:
        lines.append(tr.gettext("🚨 Marked urgent or a health concern (alerted at once)."))
    elif submitted.alerted_earlier:
        lines.append(
            tr.gettext(
                "🚨 An urgent alert went out while the report was filled in; "
                "the answers sent in the end do not mark it urgent."
            )
        )
    for notice in decision.notices:
        lines.append("• " + tr.gettext(NOTICE_NAMES[notice]))
    if decision.needs:
        lines.append(tr.gettext("Needs: {needs}", needs=", ".join(_need_names(tr, submitted))))
    for offered in submitted.offers:
        lines.append(
            tr.ngettext(
                "Follow-up #{number} ({kind}) offered to {n} volunteer.",
                "Follow-up #{number} ({kind}) offered to {n} volunteers.",
                len(offered.recipients),
                number=offered.task.id,
                kind=kind_name(tr, offered.task.kind),
            )
        )
    for open_task in submitted.unoffered:
        lines.append(
            tr.gettext(
                "Follow-up #{number} ({kind}): no pair available. /task {number} to assign it.",
                number=open_task.id,
                kind=kind_name(tr, open_task.kind),
            )
        )
    for notice in submitted.referrals:
        lines.append(referral_for_coordinators(tr, notice))
    note = submitted.answers.get("note")
    if isinstance(note, str) and note:
        lines.append(tr.gettext("Note: {note}", note=note))
    return Html("\n".join(lines))


def report_keyboard(tr: Translator, submitted: Submitted) -> InlineKeyboardMarkup | None:
    """Return a button per referral the coordinators arrange themselves, to mark it arranged."""
    rows = []
    for notice in submitted.referrals:
        referral = notice.referral
        if referral.state is ReferralState.NEW and not notice.recipients:
            rows.append(
                [
                    InlineKeyboardButton(
                        tr.plain("✔ Arranged: {kind}", kind=_referral_kind(tr, referral)),
                        callback_data=ReferralPress(referral.id, "settle").pack(),
                    )
                ]
            )
    return InlineKeyboardMarkup(rows) if rows else None


def _referral_kind(tr: Translator, referral: ReferralRecord) -> str:
    if referral.kind == ReferralKind.PARISH.value:
        return tr.plain("conversation help (parish)")
    return tr.plain("home-care services")


def _need_names(tr: Translator, submitted: Submitted) -> list[str]:
    try:
        question = submitted.form.question("needs")
    except KeyError:
        return list(submitted.decision.needs)
    return [answer_text(tr, question, [need]) for need in submitted.decision.needs]


def referral_for_coordinators(tr: Translator, notice: ReferralNotice) -> Html:
    """Return one line on a referral, for the coordinators."""
    referral = notice.referral
    if referral.kind == ReferralKind.HOME_CARE.value:
        return tr.gettext("• Home-care services: a referral for you to arrange.")
    if referral.state is ReferralState.NOTED:
        return tr.gettext(
            "• Conversation help: no consent, so nothing was passed on. Only the need is recorded."
        )
    if notice.organisation is not None and notice.recipients:
        return tr.gettext(
            "• Conversation help: with consent, passed to {organisation} ({n} contacts).",
            organisation=notice.organisation.name,
            n=len(notice.recipients),
        )
    return tr.gettext(
        "• Conversation help: the resident consented, but no parish contact is set up in Apuri. "
        "Please pass it on by hand."
    )


# --- referrals to partners ------------------------------------------------------------------------


def referral_for_partner(
    tr: Translator, referral: ReferralRecord, resident: Resident, *, taken: bool
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the referral as a partner contact sees it: name and phone, and what to do."""
    lines = [
        tr.gettext("🤝 <b>Conversation help: referral #{number}</b>", number=referral.id),
        tr.gettext("The resident would like someone to talk to and agreed that you contact them."),
        tr.gettext("Resident: {name}", name=resident.name),
    ]
    if resident.phone:
        lines.append(tr.gettext("Phone: {phone}", phone=resident.phone))
    lines.append(tr.gettext("Language: {language}", language=LANGUAGE_NAMES[resident.language]))
    if taken:
        lines.append(tr.gettext("You took this referral. Mark it done once you have called."))
        button = InlineKeyboardButton(
            tr.plain("Mark done"), callback_data=ReferralPress(referral.id, "close").pack()
        )
    else:
        button = InlineKeyboardButton(
            tr.plain("I'll take it"), callback_data=ReferralPress(referral.id, "take").pack()
        )
    return Html("\n".join(lines)), InlineKeyboardMarkup([[button]])


def referral_scrubbed(tr: Translator, referral: ReferralRecord, taker_name: str | None) -> Html:
    """Return a referral without the resident's contact (someone else took it, or it is done)."""
    if referral.state is ReferralState.CLOSED:
        return tr.gettext("🤝 Referral #{number} is done. Thank you!", number=referral.id)
    return tr.gettext(
        "🤝 Referral #{number} was taken by {name}.", number=referral.id, name=taker_name or "?"
    )


# --- the timeline ---------------------------------------------------------------------------------


def timeline_text(tr: Translator, timeline: Timeline, zone: ZoneInfo) -> Html:
    """Return a resident's timeline: tasks, outcomes, follow-ups, referrals, alerts."""
    lines = [tr.gettext("🗂 <b>Timeline: {name}</b>", name=timeline.resident.name)]
    if not timeline.entries:
        lines.append(tr.gettext("Nothing has happened yet."))
    for entry in timeline.entries:
        when = local_time(tr, entry.at, zone)
        lines.append(f"<b>{escape(when)}</b> · {_entry_text(tr, entry, timeline)}")
    return Html(_fit("\n".join(lines)))


def _entry_text(tr: Translator, entry: TimelineEntry, timeline: Timeline) -> str:
    if entry.task is not None:
        task = entry.task
        text = tr.gettext(
            "task #{number} {kind} created", number=task.id, kind=kind_name(tr, task.kind)
        )
        follow_up = follow_up_text(tr, task)
        return text if follow_up is None else f"{text} · {follow_up}"
    if entry.outcome is not None:
        outcome = entry.outcome
        form = timeline.forms.get(outcome.form_id)
        parts = []
        questions = form.questions if form is not None else []
        for question in questions:  # in the form's order, not the stored order
            if question.id == "note" or question.id not in entry.answers:
                continue
            value = entry.answers[question.id]
            parts.append(
                f"{escape(question.label.get(tr.language))}: "
                f"<i>{escape(answer_text(tr, question, _typed(question, value)))}</i>"
            )
        head = tr.gettext(
            "outcome of task #{number} by {name}",
            number=outcome.task_id,
            name=entry.actor_name or "?",
        )
        return head + ("\n   " + "\n   ".join(parts) if parts else "")
    if entry.alert is not None:
        return tr.gettext(
            "🚨 coordinators alerted from task #{number} by {name}",
            number=entry.alert.task_id,
            name=entry.actor_name or "?",
        )
    referral = entry.referral
    assert referral is not None
    state = tr.plain(_REFERRAL_STATES[referral.state])
    return tr.gettext("referral: {kind}, {state}", kind=_referral_kind(tr, referral), state=state)


_REFERRAL_STATES = {
    ReferralState.NOTED: N_("need recorded, not passed on (no consent)"),
    ReferralState.NEW: N_("waiting to be taken"),
    ReferralState.TAKEN: N_("taken"),
    ReferralState.CLOSED: N_("done"),
}


def _typed(question: Question, value: object) -> Answer:
    if question.type is QuestionType.DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value  # type: ignore[return-value]


def _fit(text: str, limit: int = 4000) -> str:
    """Keep the newest part of a long timeline within Telegram's message size."""
    if len(text) <= limit:
        return text
    head, _, rest = text.partition("\n")
    cut = rest[len(rest) - (limit - len(head) - 2) :]
    cut = cut[cut.find("\n") + 1 :]
    return f"{head}\n…\n{cut}"
