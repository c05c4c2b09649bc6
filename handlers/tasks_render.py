"""Tasks to Telegram text and keyboards.

Three shapes of a task, by who may see what: an **offer** (kind, postal area, window, priority —
never who or where), a **card** (everything the holder needs, while they hold the task) and a
**closed card** (the card with the resident's name, address and phone taken out). Only `card_text`
and `coordinator_text` ever print a resident's personal data.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.residents import Resident
from bot.domain.tasks import (
    FINISHED,
    Action,
    Priority,
    Task,
    TaskKind,
    TaskState,
    UnfinishedReason,
)
from bot.i18n import N_, Html, Translator, escape
from bot.services.dispatch import Candidates, Overview, TaskView
from handlers.callback_data import AssignMenu, AssignTo, NewTaskChoice, TaskAction
from handlers.render import LANGUAGE_NAMES, babel_locale

__all__ = [
    "CAUSE_NAMES",
    "assign_keyboard",
    "card",
    "closed_text",
    "coordinator_view",
    "escalation_text",
    "follow_up_text",
    "kind_name",
    "offer",
    "overdue_text",
    "overview_text",
    "released_text",
    "reminder",
    "stale_offer_text",
    "task_list",
    "window_text",
]

KIND_NAMES: dict[TaskKind, str] = {
    TaskKind.HOME_VISIT: N_("home visit"),
    TaskKind.ERRAND: N_("errand"),
    TaskKind.DELIVERY: N_("delivery"),
    TaskKind.CONVERSATION_HELP: N_("conversation help"),
    TaskKind.PHONE_CHECK: N_("phone check"),
}
STATE_NAMES: dict[TaskState, str] = {
    TaskState.OPEN: N_("open"),
    TaskState.OFFERED: N_("offered"),
    TaskState.ESCALATED: N_("offer expired"),
    TaskState.ACCEPTED: N_("accepted"),
    TaskState.STARTED: N_("on the way"),
    TaskState.DONE: N_("done"),
    TaskState.NOT_COMPLETED: N_("not completed"),
    TaskState.CANCELLED: N_("cancelled"),
}
ACTION_NAMES: dict[Action, str] = {
    Action.CREATE: N_("created"),
    Action.OFFER: N_("offered"),
    Action.ACCEPT: N_("accepted"),
    Action.DECLINE: N_("declined by a pair"),
    Action.RETURN: N_("back to open: every pair declined"),
    Action.ESCALATE: N_("nobody accepted in time: escalated"),
    Action.ASSIGN: N_("assigned"),
    Action.START: N_("started"),
    Action.COMPLETE: N_("done"),
    Action.FAIL: N_("could not be completed"),
    Action.RELEASE: N_("given back: the holder left"),
    Action.CANCEL: N_("cancelled"),
    Action.ATTEMPT: N_("call attempt: no answer"),
}
REASON_NAMES: dict[UnfinishedReason, str] = {
    UnfinishedReason.NOT_AT_HOME: N_("not at home"),
    UnfinishedReason.REFUSED: N_("refused"),
    UnfinishedReason.WRONG_ADDRESS: N_("wrong address"),
    UnfinishedReason.NO_ANSWER: N_("no answer"),
    UnfinishedReason.WRONG_NUMBER: N_("wrong number"),
    UnfinishedReason.OTHER: N_("other reason"),
}


def kind_name(tr: Translator, kind: TaskKind) -> str:
    """Return the kind of task in the reader's language."""
    return tr.plain(KIND_NAMES[kind])


def window_text(tr: Translator, start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """Return a window as people say it: `Wed 25.11. 10:00–14:00` or `25.11.–28.11.`."""
    locale = babel_locale(tr.language)
    first, last = start.astimezone(zone), end.astimezone(zone)
    if first.date() == last.date():
        day = format_date(first.date(), "EEE d.M.", locale=locale)
        return (
            f"{day} {format_time(first, 'HH:mm', locale=locale)}"
            f"–{format_time(last, 'HH:mm', locale=locale)}"
        )
    return (
        f"{format_date(first.date(), 'EEE d.M.', locale=locale)} "
        f"{format_time(first, 'HH:mm', locale=locale)} – "
        f"{format_date(last.date(), 'EEE d.M.', locale=locale)} "
        f"{format_time(last, 'HH:mm', locale=locale)}"
    )


def _headline(tr: Translator, task: Task, postal_code: str, zone: ZoneInfo) -> Html:
    """Return `#12 Home visit · 70100 · Wed 25.11. 10:00–14:00`, urgent marked: no personal data."""
    parts = [
        f"<b>#{task.id} {escape(kind_name(tr, task.kind).capitalize())}</b>",
        escape(postal_code or "—"),
        escape(window_text(tr, task.window_start, task.window_end, zone)),
    ]
    if task.priority is Priority.URGENT:
        parts.append(tr.gettext("<b>URGENT</b>"))
    return Html(" · ".join(parts))


CAUSE_NAMES: dict[str, str] = {
    "revisit": N_("nobody was at home on the last visit"),
    "phone_unreached": N_("the resident could not be reached by phone"),
    "errands": N_("the resident needs errands run"),
    "food_help": N_("the resident needs food help"),
}


_SOME_FOLLOW_UP = N_("a follow-up")  # a cause this version does not know


def follow_up_text(tr: Translator, task: Task) -> Html | None:
    """Return `Follow-up of #12: why`, for a task created by an outcome's rules."""
    if task.follows_id is None:
        return None
    cause = tr.plain(CAUSE_NAMES.get(task.cause or "", _SOME_FOLLOW_UP))
    return tr.gettext("Follow-up of #{number}: {cause}", number=task.follows_id, cause=cause)


def _what_lines(tr: Translator, task: Task) -> list[Html]:
    lines = []
    follow_up = follow_up_text(tr, task)
    if follow_up is not None:
        lines.append(follow_up)
    if task.details:
        lines.append(tr.gettext("What: {details}", details=task.details))
    return lines


def _state_line(tr: Translator, task: Task) -> Html:
    state = tr.plain(STATE_NAMES[task.state])
    if task.state is TaskState.NOT_COMPLETED and task.reason is not None:
        state = f"{state} ({tr.plain(REASON_NAMES[task.reason])})"
    return tr.gettext("State: {state}", state=state)


def offer(
    tr: Translator, task: Task, postal_code: str, zone: ZoneInfo
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return an offer to a pair: what, where roughly and when, with Accept and Decline."""
    text = Html(
        "\n".join(
            [
                tr.gettext("<b>New task on offer</b>"),
                _headline(tr, task, postal_code, zone),
                tr.gettext("You will see the name and address when your pair accepts."),
            ]
        )
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("Accept"), callback_data=TaskAction(task.id, "accept").pack()
                ),
                InlineKeyboardButton(
                    tr.plain("Decline"), callback_data=TaskAction(task.id, "decline").pack()
                ),
            ]
        ]
    )
    return text, keyboard


def stale_offer_text(tr: Translator, task: Task, postal_code: str, zone: ZoneInfo) -> Html:
    """Return what an offer says once it is no longer open to the reader."""
    if task.state is TaskState.CANCELLED:
        note = tr.gettext("This task was cancelled.")
    elif task.state in FINISHED or task.held:
        note = tr.gettext("Another pair took this task. Thank you!")
    else:
        note = tr.gettext("This offer was withdrawn.")
    return Html(f"{_headline(tr, task, postal_code, zone)}\n{note}")


def declined_text(tr: Translator, task: Task, postal_code: str, zone: ZoneInfo) -> Html:
    """Return the offer after the reader's pair declined it."""
    note = tr.gettext("Your pair declined this task.")
    return Html(f"{_headline(tr, task, postal_code, zone)}\n{note}")


def _resident_lines(tr: Translator, resident: Resident) -> list[str]:
    lines = [tr.gettext("Resident: <b>{name}</b>", name=resident.name)]
    address = ", ".join(
        part
        for part in (
            resident.street_address,
            " ".join(p for p in (resident.postal_code, resident.municipality) if p),
        )
        if part
    )
    if address:
        lines.append(tr.gettext("Address: {address}", address=address))
    if resident.phone:
        lines.append(tr.gettext("Phone: {phone}", phone=resident.phone))
    lines.append(tr.gettext("Speaks: {language}", language=LANGUAGE_NAMES[resident.language]))
    if resident.household_note:
        lines.append(tr.gettext("Household: {note}", note=resident.household_note))
    if resident.note:
        lines.append(tr.gettext("Note: {note}", note=resident.note))
    return lines


def card(
    tr: Translator, view: TaskView, zone: ZoneInfo
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Return the holder's card: who, where, what and the buttons for the next step."""
    task = view.task
    if view.resident is None or task.state not in {TaskState.ACCEPTED, TaskState.STARTED}:
        return closed_text(tr, task, view.postal_code, zone), None
    lines = [_headline(tr, task, view.postal_code, zone), *_resident_lines(tr, view.resident)]
    lines += _what_lines(tr, task)
    if view.holder_name:
        lines.append(tr.gettext("Held by: {holder}", holder=view.holder_name))
    lines.append(_state_line(tr, task))
    rows = []
    if task.state is TaskState.ACCEPTED:
        rows.append(
            [
                InlineKeyboardButton(
                    tr.plain("On my way"), callback_data=TaskAction(task.id, "start").pack()
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                tr.plain("📝 Report the outcome"),
                callback_data=TaskAction(task.id, "report").pack(),
            )
        ]
    )
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def closed_text(tr: Translator, task: Task, postal_code: str, zone: ZoneInfo) -> Html:
    """Return a card without the resident's name, address and phone (the task is not yours now)."""
    lines = [_headline(tr, task, postal_code, zone), _state_line(tr, task)]
    if task.held or task.state in {TaskState.OPEN, TaskState.OFFERED, TaskState.ESCALATED}:
        lines.append(tr.gettext("This task is no longer yours."))
    return Html("\n".join(lines))


def task_list(
    tr: Translator, views: list[TaskView], zone: ZoneInfo
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Return the holder's tasks by due time, each with a button that opens its card."""
    tasks = [v.task for v in views]
    if not tasks:
        return tr.gettext("You have no open tasks. New offers will come here."), None
    lines = [tr.ngettext("<b>Your {n} task</b>", "<b>Your {n} tasks</b>", len(tasks))]
    lines += [_headline(tr, v.task, v.postal_code, zone) for v in views]
    rows = [
        [
            InlineKeyboardButton(
                f"#{t.id} {kind_name(tr, t.kind)}", callback_data=TaskAction(t.id, "show").pack()
            )
        ]
        for t in tasks[:30]
    ]
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def reminder(tr: Translator, view: TaskView, zone: ZoneInfo) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the reminder before a window opens (no personal data; the card is one tap away)."""
    text = Html(
        tr.gettext("<b>Reminder:</b> your task starts soon.")
        + "\n"
        + _headline(tr, view.task, view.postal_code, zone)
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("Show the task"),
                    callback_data=TaskAction(view.task.id, "show").pack(),
                )
            ]
        ]
    )
    return text, keyboard


def coordinator_view(
    tr: Translator, view: TaskView, zone: ZoneInfo
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Return a task with everything and its history, with the coordinator's buttons."""
    task = view.task
    lines = [_headline(tr, task, view.postal_code, zone)]
    if view.resident is not None:
        lines += _resident_lines(tr, view.resident)
    lines += _what_lines(tr, task)
    lines.append(_state_line(tr, task))
    if view.holder_name:
        lines.append(tr.gettext("Held by: {holder}", holder=view.holder_name))
    if task.note:
        lines.append(tr.gettext("Holder's note: {note}", note=task.note))
    if view.events:
        lines.append(tr.gettext("<b>History</b>"))
        for event in view.events:
            who = view.actor_names.get(event.actor_id or 0) or tr.plain("Apuri")
            when = local_short(tr, event.at, zone)
            lines.append(
                f"{escape(when)} · {escape(who)} · {escape(tr.plain(ACTION_NAMES[event.action]))}"
            )
    if task.finished:
        return Html("\n".join(lines)), None
    rows = [
        [
            InlineKeyboardButton(
                tr.plain("Offer to available pairs")
                if task.state is TaskState.OPEN
                else tr.plain("Offer again"),
                callback_data=TaskAction(task.id, "offer").pack(),
            )
        ],
        [
            InlineKeyboardButton(
                tr.plain("Assign by hand") if not task.held else tr.plain("Reassign"),
                callback_data=AssignMenu(task.id, "pairs").pack(),
            )
        ],
        [
            InlineKeyboardButton(
                tr.plain("Cancel the task"), callback_data=TaskAction(task.id, "cancel").pack()
            )
        ],
    ]
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def confirm_cancel(tr: Translator, task: Task) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the question that guards a cancellation."""
    text = tr.gettext(
        "Cancel task #{number}? The holders and offered pairs are told.", number=task.id
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("Yes, cancel"), callback_data=TaskAction(task.id, "cancel_ok").pack()
                ),
                InlineKeyboardButton(
                    tr.plain("No"), callback_data=TaskAction(task.id, "view").pack()
                ),
            ]
        ]
    )
    return text, keyboard


def local_short(tr: Translator, moment: datetime, zone: ZoneInfo) -> str:
    """Return `25.11. 10:02` in the zone."""
    local = moment.astimezone(zone)
    locale = babel_locale(tr.language)
    day = format_date(local.date(), "d.M.", locale=locale)
    return f"{day} {format_time(local, 'HH:mm', locale=locale)}"


def assign_keyboard(
    tr: Translator, candidates: Candidates, what: str
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the choice of holder: pairs first, then people or organisations on request."""
    task_id = candidates.task.id
    rows: list[list[InlineKeyboardButton]] = []
    if what == "people":
        text = tr.gettext("Assign task #{number} to one person:", number=task_id)
        rows += [
            [InlineKeyboardButton(p.name, callback_data=AssignTo(task_id, "u", p.id).pack())]
            for p in candidates.people[:40]
        ]
    elif what == "orgs":
        text = tr.gettext("Assign task #{number} to an organisation:", number=task_id)
        rows += [
            [InlineKeyboardButton(o.name, callback_data=AssignTo(task_id, "o", o.id).pack())]
            for o in candidates.organisations[:40]
        ]
    else:
        text = tr.gettext("Assign task #{number} to a pair (✓ available now):", number=task_id)
        rows += [
            [
                InlineKeyboardButton(
                    ("✓ " if p.available else "") + p.names,
                    callback_data=AssignTo(task_id, "p", p.id).pack(),
                )
            ]
            for p in candidates.pairs[:40]
        ]
    navigation = [
        InlineKeyboardButton(tr.plain(label), callback_data=AssignMenu(task_id, key).pack())
        for key, label in (
            ("pairs", N_("Pairs")),
            ("people", N_("One person")),
            ("orgs", N_("An organisation")),
        )
        if key != what
    ]
    rows.append(navigation)
    rows.append(
        [InlineKeyboardButton(tr.plain("« Back"), callback_data=TaskAction(task_id, "view").pack())]
    )
    return text, InlineKeyboardMarkup(rows)


def overview_text(
    tr: Translator, overview: Overview, zone: ZoneInfo
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Return unfinished tasks grouped by state, with counts and a button per task."""
    open_states = [
        TaskState.ESCALATED,
        TaskState.OPEN,
        TaskState.OFFERED,
        TaskState.ACCEPTED,
        TaskState.STARTED,
    ]
    total = sum(overview.counts.get(s, 0) for s in open_states)
    if not total:
        return tr.gettext("No open tasks. Create one with /newtask."), None
    lines = [tr.ngettext("<b>{n} unfinished task</b>", "<b>{n} unfinished tasks</b>", total)]
    for state in open_states:
        tasks = [t for t in overview.tasks if t.state is state]
        count = overview.counts.get(state, 0)
        if not count:
            continue
        lines.append("")
        lines.append(f"<b>{escape(tr.plain(STATE_NAMES[state]).capitalize())}: {count}</b>")
        lines += [_headline(tr, t, overview.postal_codes.get(t.id, ""), zone) for t in tasks]
    rows = [
        [
            InlineKeyboardButton(
                f"#{t.id} {kind_name(tr, t.kind)} · {tr.plain(STATE_NAMES[t.state])}",
                callback_data=TaskAction(t.id, "view").pack(),
            )
        ]
        for t in overview.tasks[:30]
    ]
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def escalation_text(
    tr: Translator, view: TaskView, zone: ZoneInfo
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the alert that nobody accepted an offer in time, with a button to assign by hand."""
    text = Html(
        tr.gettext("<b>No pair accepted this task in time.</b> Please assign it by hand.")
        + "\n"
        + _headline(tr, view.task, view.postal_code, zone)
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("Assign by hand"),
                    callback_data=AssignMenu(view.task.id, "pairs").pack(),
                ),
                InlineKeyboardButton(
                    tr.plain("Show the task"), callback_data=TaskAction(view.task.id, "view").pack()
                ),
            ]
        ]
    )
    return text, keyboard


def overdue_text(
    tr: Translator, views: list[TaskView], zone: ZoneInfo
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the list of tasks whose window has passed unfinished."""
    lines = [
        tr.ngettext(
            "<b>{n} task is past its window</b> and not finished:",
            "<b>{n} tasks are past their window</b> and not finished:",
            len(views),
        )
    ]
    for view in views:
        state = tr.plain(STATE_NAMES[view.task.state])
        lines.append(f"{_headline(tr, view.task, view.postal_code, zone)} · {escape(state)}")
    rows = [
        [InlineKeyboardButton(f"#{v.task.id}", callback_data=TaskAction(v.task.id, "view").pack())]
        for v in views[:30]
    ]
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def released_text(tr: Translator, task: Task, holder_name: str | None) -> Html:
    """Return the note to coordinators that a task came back because its holder left."""
    names = holder_name or "—"
    return tr.gettext(
        "Task #{number} is open again: its holder ({names}) is no longer available. "
        "/task {number} to offer or assign it.",
        number=task.id,
        names=names,
    )


# --- /newtask ---------------------------------------------------------------------------------


def choice_keyboard(choices: list[tuple[str, str]], columns: int = 1) -> InlineKeyboardMarkup:
    """Return buttons of (label, value) for the /newtask conversation."""
    buttons = [
        InlineKeyboardButton(label, callback_data=NewTaskChoice(value).pack())
        for label, value in choices
    ]
    return InlineKeyboardMarkup([buttons[i : i + columns] for i in range(0, len(buttons), columns)])
