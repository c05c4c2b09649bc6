"""Residents to Telegram text and keyboards: the guided form, search, cards and import reports.

Only coordinators ever receive these texts, since they carry residents' names, phones and addresses.
The reason codes of `InvalidValue` and `InvalidFile` are translated here, in one table each.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.errors import InvalidValue
from bot.domain.people import SUPPORTED_LANGUAGES
from bot.domain.resident_import import HEADER_NAMES, MAX_BYTES, MAX_ROWS, InvalidFile
from bot.domain.residents import FIELDS, OLDEST_BIRTH_YEAR, OPTIONAL_FIELDS, Resident
from bot.domain.tasks import Task
from bot.i18n import N_, Html, Translator, escape
from bot.services.residents import SEARCH_LIMIT, ImportReport, ResidentSave
from handlers.callback_data import ResidentFormAnswer, ResidentFormDone, ShowResident, ShowTimeline
from handlers.render import LANGUAGE_NAMES, babel_locale
from handlers.tasks_render import KIND_NAMES, STATE_NAMES

__all__ = [
    "MESSAGE_LIMIT",
    "REPORT_FILE_NAME",
    "already_saved_text",
    "answer_text_please",
    "answered_text",
    "busy_text",
    "field_label",
    "file_error_text",
    "form_closed_text",
    "import_report_lines",
    "import_report_messages",
    "not_csv_text",
    "plain_text",
    "press_save_or_cancel_text",
    "problem_text",
    "question",
    "resident_card",
    "saved_text",
    "search_results",
    "summary",
    "timeline_button",
    "too_large_text",
    "usage_text",
]

# Telegram allows 4096 characters; a report is split well below that, at line ends.
MESSAGE_LIMIT = 3500
# A longer report goes as an attached text file instead of a flood of messages.
MAX_REPORT_MESSAGES = 4
REPORT_FILE_NAME = "apuri-import-report.txt"

_FIELD_LABELS: dict[str, str] = {
    "name": N_("name"),
    "phone": N_("phone number"),
    "street_address": N_("street address"),
    "postal_code": N_("postal code"),
    "municipality": N_("municipality"),
    "birth_year": N_("birth year"),
    "language": N_("language"),
    "household_note": N_("household"),
    "note": N_("note"),
}

_QUESTIONS: dict[str, str] = {
    "name": N_("What is the resident's name? (first and last name)"),
    "phone": N_("Phone number? For example 040 123 4567 or +358 40 123 4567."),
    "street_address": N_("Street address? For example Kotikatu 1 A 2."),
    "postal_code": N_("Postal code? Five digits, for example 00100."),
    "municipality": N_("Municipality? For example Helsinki."),
    "birth_year": N_("Birth year? Four digits, for example 1948."),
    "language": N_("In which language do we serve the resident?"),
    "household_note": N_(
        "Anything about the household? For example: lives alone, family with children, a dog."
    ),
    "note": N_("Anything else the helpers should know?"),
}

# One message per reason code of `InvalidValue` (bot.domain.residents and resident_import).
_REASONS: dict[str, str] = {
    "phone.format": N_(
        "That does not look like a phone number. Write it like 040 123 4567 or +358 40 123 4567."
    ),
    "postal_code.format": N_("A postal code is five digits, like 00100."),
    "birth_year.format": N_("Write the birth year with four digits, like 1948."),
    "birth_year.range": N_("The birth year must be between {oldest} and this year."),
    "language.unknown": N_("The language must be Finnish, Swedish or English (fi, sv or en)."),
    "text.too_long": N_("That is too long. Please shorten it."),
    "text.control": N_("That contains invisible control characters. Please type it again."),
    "required": N_("This cannot be empty."),
    "row.unnamed_column": N_("There is a value in a column without a heading."),
    "row.extra_cells": N_("The row has more cells than the header row has columns."),
}

# One message per reason code of `InvalidFile`.
_FILE_ERRORS: dict[str, str] = {
    "file.too_large": N_("The file is too large: at most {megabytes} MB at a time."),
    "file.too_many_rows": N_(
        "The file has too many rows: at most {rows} residents at a time. Split it into parts."
    ),
    "file.empty": N_("The file is empty. Its first row must name the columns, e.g. nimi;puhelin."),
    "file.spreadsheet": N_(
        "This is a spreadsheet workbook, not a CSV file. In Excel choose File › Save As › "
        "“CSV UTF-8 (comma delimited)” and send that file."
    ),
    "file.utf16": N_(
        "The file is saved as UTF-16 (“Unicode text”). Save it as “CSV UTF-8 (comma delimited)” "
        "and send it again."
    ),
    "file.encoding": N_(
        "The file is not UTF-8 text: it was probably saved as “CSV (comma delimited)” in an old "
        "Windows encoding (the first problem is on row {row}). Save it as “CSV UTF-8 (comma "
        "delimited)” and send it again, so that letters like ä, ö and å stay right."
    ),
    "file.not_text": N_("This is not a text (CSV) file."),
    "file.malformed": N_(
        "Row {row} cannot be read: a quotation mark is missing or misplaced. Nothing was "
        "imported. Fix the row and send the file again."
    ),
    "header.no_name": N_(
        "The first row must name the columns, and one of them must be the name "
        "(nimi, namn or name). Nothing was imported."
    ),
    "header.unknown": N_(
        "Unknown column heading: {columns}. Nothing was imported. Known headings: {known}."
    ),
    "header.duplicate": N_("The column {columns} appears twice. Nothing was imported."),
}

_TASK_KINDS = KIND_NAMES
_TASK_STATES = STATE_NAMES


def plain_text(text: str) -> str:
    """Return Telegram HTML as plain text, for the command line and attached files."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def field_label(tr: Translator, field: str) -> str:
    """Return the name of a resident field in the translator's language."""
    return tr.plain(_FIELD_LABELS.get(field, field))


def problem_text(tr: Translator, problem: InvalidValue) -> Html:
    """Return why a value was not accepted, in the translator's language."""
    message = _REASONS.get(problem.reason)
    if message is None:
        return tr.gettext("That value is not valid.")
    if problem.reason == "birth_year.range":
        return tr.gettext(message, oldest=OLDEST_BIRTH_YEAR)
    if problem.reason == "required" and problem.field == "name":
        return tr.gettext("Every resident needs a name.")
    return tr.gettext(message)


# The guided form ----------------------------------------------------------------------------


def question(
    tr: Translator, draft: str, field: str, problem: InvalidValue | None = None
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Return the question for one field (after the reason, on a re-ask) and its buttons."""
    step = FIELDS.index(field) + 1
    lines = []
    if problem is not None:
        lines.append(Html(f"⚠️ {problem_text(tr, problem)}"))
    progress = tr.gettext("Step {step}/{total}", step=step, total=len(FIELDS))
    lines.append(Html(f"<b>{progress}</b> {tr.gettext(_QUESTIONS[field])}"))
    if step == 1 and problem is None:
        lines.insert(0, tr.gettext("Adding a resident. /cancel stops without saving."))
    rows: list[list[InlineKeyboardButton]] = []
    if field == "language":
        rows.append(
            [
                InlineKeyboardButton(
                    LANGUAGE_NAMES[code],
                    callback_data=ResidentFormAnswer(draft, field, code).pack(),
                )
                for code in SUPPORTED_LANGUAGES
            ]
        )
    if field in OPTIONAL_FIELDS:
        rows.append(
            [
                InlineKeyboardButton(
                    tr.plain("Skip"), callback_data=ResidentFormAnswer(draft, field, "").pack()
                )
            ]
        )
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows) if rows else None


def _shown(tr: Translator, field: str, value: object) -> str:
    if value is None or value == "":
        return "—"
    if field == "language":
        return LANGUAGE_NAMES.get(str(value), str(value))
    return str(value)


def answered_text(tr: Translator, field: str, value: object) -> Html:
    """Return the question's message once a button answered it, so it cannot be pressed again."""
    label = field_label(tr, field).capitalize()
    return Html(f"{escape(label)}: <b>{escape(_shown(tr, field, value))}</b>")


def _fields_text(tr: Translator, values: Mapping[str, object]) -> list[Html]:
    return [
        Html(
            f"{escape(field_label(tr, field).capitalize())}: "
            f"<b>{escape(_shown(tr, field, values.get(field)))}</b>"
        )
        for field in FIELDS
    ]


def summary(
    tr: Translator, draft: str, values: Mapping[str, object]
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return every answer for a last look, with Save and Cancel."""
    lines = [tr.gettext("<b>Save this resident?</b>"), *_fields_text(tr, values)]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("Save"), callback_data=ResidentFormDone(draft, True).pack()
                ),
                InlineKeyboardButton(
                    tr.plain("Cancel"), callback_data=ResidentFormDone(draft, False).pack()
                ),
            ]
        ]
    )
    return Html("\n".join(lines)), keyboard


def saved_text(tr: Translator, saved: ResidentSave) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the confirmation of a save, with a button to the resident's card."""
    if saved.created:
        text = tr.gettext("Saved: {name} is now a resident.", name=saved.resident.name)
    else:
        text = tr.gettext(
            "{name} was stored already (same phone and name); the record was updated.",
            name=saved.resident.name,
        )
    return text, _card_button(tr, saved.resident)


def _card_button(tr: Translator, resident: Resident) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("Open the card"), callback_data=ShowResident(resident.id).pack()
                )
            ]
        ]
    )


def form_closed_text(tr: Translator) -> str:
    """Return the alert for a button of a form that is no longer open (plain text)."""
    return tr.plain(
        "This form is no longer open (perhaps the bot was restarted), so nothing was saved "
        "from it. Start again with /resident new."
    )


def already_saved_text(tr: Translator) -> str:
    """Return the alert for a second press on Save (plain text)."""
    return tr.plain("Saved already.")


def busy_text(tr: Translator) -> Html:
    """Return the reminder that a form is open when another /resident arrives."""
    return tr.gettext(
        "You are adding a resident. Answer the question below, or send /cancel to stop."
    )


def answer_text_please(tr: Translator) -> Html:
    """Return the answer to a photo, sticker or the like sent where text is expected."""
    return tr.gettext("Please answer with text.")


def press_save_or_cancel_text(tr: Translator) -> Html:
    """Return the reminder that the summary waits for Save or Cancel."""
    return tr.gettext("Please press Save or Cancel above, or send /cancel.")


def usage_text(tr: Translator) -> Html:
    """Return how /resident is used."""
    return tr.gettext(
        "<b>Residents</b>\n"
        "/resident new — add a resident step by step\n"
        "/resident Virtanen — find by name\n"
        "/resident 040 123 4567 — find by phone number\n"
        "To import many at once, send me a CSV file."
    )


# Search and cards ---------------------------------------------------------------------------


def _resident_line(resident: Resident) -> Html:
    parts = [f"<b>{escape(resident.name)}</b>"]
    if resident.phone:
        parts.append(escape(resident.phone))
    place = " ".join(p for p in (resident.postal_code, resident.municipality) if p)
    address = ", ".join(p for p in (resident.street_address, place) if p)
    if address:
        parts.append(escape(address))
    return Html(" · ".join(parts))


def search_results(
    tr: Translator, text: str, residents: list[Resident]
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Return the residents found, with a button per resident."""
    text = text if len(text) <= 60 else text[:59] + "…"  # echoed back, so kept short
    if not residents:
        return tr.gettext("No resident matches “{text}”.", text=text), None
    lines = [
        tr.ngettext(
            "<b>{n} resident</b> matches “{text}”:",
            "<b>{n} residents</b> match “{text}”:",
            len(residents),
            text=text,
        ),
        *(_resident_line(r) for r in residents),
    ]
    if len(residents) >= SEARCH_LIMIT:
        lines.append(tr.gettext("There may be more: write more of the name to narrow the search."))
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_button_label(r), callback_data=ShowResident(r.id).pack())]
            for r in residents[:SEARCH_LIMIT]
        ]
    )
    return Html("\n".join(lines)), keyboard


def _button_label(resident: Resident) -> str:
    extra = resident.municipality or resident.postal_code
    return f"{resident.name} ({extra})" if extra else resident.name


def _window_text(tr: Translator, start: datetime, end: datetime, zone: ZoneInfo) -> str:
    locale = babel_locale(tr.language)
    start, end = start.astimezone(zone), end.astimezone(zone)
    first = (
        f"{format_date(start, 'short', locale=locale)} {format_time(start, 'short', locale=locale)}"
    )
    if start.date() == end.date():
        return f"{first}–{format_time(end, 'short', locale=locale)}"
    last = f"{format_date(end, 'short', locale=locale)} {format_time(end, 'short', locale=locale)}"
    return f"{first} – {last}"


def _task_line(tr: Translator, task: Task, zone: ZoneInfo) -> Html:
    return Html(
        " · ".join(
            [
                f"#{task.id}",
                escape(tr.plain(_TASK_KINDS[task.kind])),
                escape(tr.plain(_TASK_STATES[task.state])),
                escape(_window_text(tr, task.window_start, task.window_end, zone)),
            ]
        )
    )


def timeline_button(tr: Translator, resident_id: int) -> InlineKeyboardButton:
    """Return the button that shows a resident's timeline of tasks, outcomes and referrals."""
    return InlineKeyboardButton(
        tr.plain("🗂 Timeline"), callback_data=ShowTimeline(resident_id).pack()
    )


def resident_card(tr: Translator, resident: Resident, tasks: list[Task], zone: ZoneInfo) -> Html:
    """Return everything stored of a resident and their tasks, newest first."""
    lines = [
        tr.gettext("<b>Resident {name}</b>", name=resident.name),
        *_fields_text(tr, resident.model_dump()),
    ]
    if resident.no_calls_since is not None:
        lines.append(
            tr.gettext(
                "🚫 Asked not to be called ({date}): no phone-check campaign lists them.",
                date=format_date(
                    resident.no_calls_since.astimezone(zone), locale=babel_locale(tr.language)
                ),
            )
        )
    lines.append("")
    if tasks:
        lines.append(
            tr.ngettext(
                "<b>{n} task</b>, newest first:", "<b>{n} tasks</b>, newest first:", len(tasks)
            )
        )
        newest_first = sorted(tasks, key=lambda t: (t.created_at, t.id), reverse=True)
        lines += [_task_line(tr, task, zone) for task in newest_first]
    else:
        lines.append(tr.gettext("No tasks yet."))
    return Html("\n".join(lines))


# Imports ------------------------------------------------------------------------------------


def too_large_text(tr: Translator) -> Html:
    """Return the refusal of a file too large to fetch."""
    message = _FILE_ERRORS["file.too_large"]
    return tr.gettext(message, megabytes=MAX_BYTES // (1024 * 1024))


def not_csv_text(tr: Translator) -> Html:
    """Return the answer to a document that is not a CSV file."""
    return tr.gettext(
        "To import residents, send a CSV file (in Excel: Save As › “CSV UTF-8 (comma delimited)”)."
    )


def _quoted(columns: tuple[str, ...]) -> str:
    shown = [f"“{c[:40]}”" for c in columns[:10]]
    if len(columns) > len(shown):
        shown.append("…")
    return ", ".join(shown)


def file_error_text(tr: Translator, error: InvalidFile) -> Html:
    """Return why a file could not be imported at all."""
    message = _FILE_ERRORS.get(error.reason)
    if message is None:
        return tr.gettext("The file could not be read. Nothing was imported.")
    if error.reason == "file.too_large":
        return too_large_text(tr)
    known = ", ".join(sorted({k for k, f in HEADER_NAMES.items() if k == f} | {"nimi", "puhelin"}))
    return tr.gettext(
        message,
        rows=MAX_ROWS,
        row=error.row if error.row is not None else "?",
        columns=_quoted(error.columns),
        known=known,
    )


def _row_problems(tr: Translator, problems: tuple[InvalidValue, ...]) -> Html:
    return Html(
        "; ".join(
            f"{escape(field_label(tr, p.field))}: {problem_text(tr, p)}"
            if p.field != "row"
            else problem_text(tr, p)
            for p in problems
        )
    )


def import_report_lines(tr: Translator, report: ImportReport) -> list[Html]:
    """Return the report of an import as lines without markup: counts, then every rejected row."""
    if report.error is not None:
        return [file_error_text(tr, report.error)]
    rejected = len(report.rejected)
    lines = [
        tr.gettext("Import finished."),
        tr.ngettext("{n} new resident", "{n} new residents", report.created),
        tr.ngettext("{n} resident updated", "{n} residents updated", report.updated),
        tr.ngettext("{n} row rejected", "{n} rows rejected", rejected),
    ]
    if not report.created and not report.updated and not rejected:
        lines.append(tr.gettext("The file has no residents, only the header row."))
    for repeat in report.repeated:
        lines.append(
            tr.gettext(
                "Row {row} is the same person as row {earlier}; the later values were kept.",
                row=repeat.row,
                earlier=repeat.earlier_row,
            )
        )
    if rejected:
        lines.append(
            tr.gettext(
                "Rejected rows were not imported. Fix them and send the file again: "
                "residents with the same phone and name are updated, not duplicated."
            )
        )
        lines += [
            tr.gettext(
                "row {row}: {problems}", row=row.row, problems=_row_problems(tr, row.problems)
            )
            for row in report.rejected
        ]
    return lines


def _chunks(lines: list[Html], limit: int) -> list[Html]:
    chunks: list[Html] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and size + len(line) + 1 > limit:
            chunks.append(Html("\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        chunks.append(Html("\n".join(current)))
    return chunks


def import_report_messages(tr: Translator, report: ImportReport) -> tuple[list[Html], str | None]:
    """Return the report as chat messages, and as a text file when it would be too many."""
    lines = import_report_lines(tr, report)
    if report.error is None:
        lines[0] = Html(f"<b>{lines[0]}</b>")
    messages = _chunks(lines, MESSAGE_LIMIT)
    if len(messages) <= MAX_REPORT_MESSAGES:
        return messages, None
    head = lines[:4]
    head.append(
        tr.gettext(
            "Every rejected row is listed in the attached file {file}.", file=REPORT_FILE_NAME
        )
    )
    attachment = "\n".join(plain_text(line) for line in lines) + "\n"
    return _chunks(head, MESSAGE_LIMIT), attachment
