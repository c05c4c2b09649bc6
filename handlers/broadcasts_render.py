"""Texts and keyboards of broadcasts, in the reader's language.

A broadcast message carries the coordinator's text escaped (it is never read as HTML) under a
header naming its author; a text too long for one message goes in parts of at most 4096 units,
each numbered. Reports name volunteers only to the coordinators who may see them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.broadcasts import (
    CAPTION_LIMIT,
    MAX_NAMES,
    TEXT_LIMIT,
    Attachment,
    AttachmentKind,
    Audience,
    AudienceKind,
    BroadcastKind,
    BroadcastState,
    RowState,
    StopReason,
    split_text,
    utf16_len,
)
from bot.domain.pairs import Pair
from bot.domain.people import Organisation, Person, Role
from bot.i18n import N_, Html, Translator, escape
from bot.services.broadcasts import Delivery, OfferPlan, OpenTask, Progress, Report
from handlers.callback_data import BroadcastAction, BroadcastStep
from handlers.render import babel_locale, broadcast_problem_text, role_name
from handlers.tasks_render import kind_name, offer, window_text

__all__ = [
    "Part",
    "audience_keyboard",
    "audience_text",
    "broadcasts_list",
    "confirm_keyboard",
    "kind_keyboard",
    "message_parts",
    "number",
    "offer_plan_text",
    "organisation_keyboard",
    "pairs_keyboard",
    "preview_text",
    "problem_text",
    "progress_text",
    "report_text",
    "role_keyboard",
    "tasks_keyboard",
]

problem_text = broadcast_problem_text

_HEADER_ROOM = 200  # units kept free in each part for the header and the part number

_AUDIENCES: dict[AudienceKind, str] = {
    AudienceKind.EVERYONE: N_("Everyone"),
    AudienceKind.VOLUNTEERS: N_("All volunteers"),
    AudienceKind.AVAILABLE: N_("Available volunteers"),
    AudienceKind.ORGANISATION: N_("An organisation"),
    AudienceKind.ROLE: N_("A role"),
    AudienceKind.AREA: N_("An area (postal code)"),
    AudienceKind.PAIRS: N_("Chosen pairs"),
}


@dataclass(frozen=True, slots=True)
class Part:
    """One message of a delivery: a text, or a file with a caption; with buttons or not."""

    text: Html
    attachment: Attachment | None = None
    keyboard: InlineKeyboardMarkup | None = None


def number(tr: Translator, value: int) -> str:
    """Return a count the way the reader writes numbers (1 000, 1,000)."""
    return format_decimal(value, locale=babel_locale(tr.language))


def kind_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    """Return the first choice: a message, or the open tasks as offers."""
    return InlineKeyboardMarkup(
        [
            [_step(tr.plain("📣 A message"), "kind:message")],
            [_step(tr.plain("📋 Open tasks as offers"), "kind:offers")],
            [_step(tr.plain("Cancel"), "cancel")],
        ]
    )


def audience_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    """Return the audience kinds, one per row."""
    rows = [[_step(tr.plain(label), f"aud:{kind.value}")] for kind, label in _AUDIENCES.items()]
    rows.append([_step(tr.plain("Cancel"), "cancel")])
    return InlineKeyboardMarkup(rows)


def organisation_keyboard(
    tr: Translator, organisations: Iterable[Organisation]
) -> InlineKeyboardMarkup:
    """Return one button per organisation."""
    rows = [[_step(o.name, f"org:{o.id}")] for o in organisations]
    rows.append([_step(tr.plain("« Back"), "back"), _step(tr.plain("Cancel"), "cancel")])
    return InlineKeyboardMarkup(rows)


def role_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    """Return one button per role."""
    rows = [[_step(role_name(tr, role), f"role:{role.value}")] for role in Role]
    rows.append([_step(tr.plain("« Back"), "back"), _step(tr.plain("Cancel"), "cancel")])
    return InlineKeyboardMarkup(rows)


def pairs_keyboard(tr: Translator, pairs: Iterable[Pair], picked: set[int]) -> InlineKeyboardMarkup:
    """Return the pairs as toggles, then Done."""
    rows = [[_step(("✅ " if p.id in picked else "▫️ ") + p.names, f"pair:{p.id}")] for p in pairs]
    rows.append([_step(tr.plain("Done"), "pairs_done")])
    rows.append([_step(tr.plain("« Back"), "back"), _step(tr.plain("Cancel"), "cancel")])
    return InlineKeyboardMarkup(rows)


def tasks_keyboard(
    tr: Translator, tasks: Iterable[OpenTask], picked: set[int], zone: ZoneInfo
) -> InlineKeyboardMarkup:
    """Return the open tasks as toggles, then All / the chosen ones."""
    rows = []
    for item in tasks:
        mark = "✅ " if item.task.id in picked else "▫️ "
        when = window_text(tr, item.task.window_start, item.task.window_end, zone)
        label = (
            f"{mark}#{item.task.id} {kind_name(tr, item.task.kind)} · {item.postal_code} · {when}"
        )
        rows.append([_step(label[:60], f"task:{item.task.id}")])
    rows.append([_step(tr.plain("Offer all open tasks"), "tasks_all")])
    if picked:
        rows.append([_step(tr.plain("Offer the {n} chosen", n=len(picked)), "tasks_done")])
    rows.append([_step(tr.plain("Cancel"), "cancel")])
    return InlineKeyboardMarkup(rows)


def confirm_keyboard(tr: Translator, count: int) -> InlineKeyboardMarkup:
    """Return Send (with the count), the change buttons and Cancel."""
    return InlineKeyboardMarkup(
        [
            [_step(tr.plain("✅ Send to {n}", n=number(tr, count)), "send")],
            [
                _step(tr.plain("✏️ Message"), "edit:message"),
                _step(tr.plain("👥 Audience"), "edit:audience"),
            ],
            [_step(tr.plain("Cancel"), "cancel")],
        ]
    )


def audience_text(
    tr: Translator,
    audience: Audience,
    organisations: Iterable[Organisation] = (),
    pairs: Iterable[Pair] = (),
) -> str:
    """Return the audience in words, e.g. "An area (postal code): 70"."""
    label = tr.plain(_AUDIENCES[audience.kind])
    match audience.kind:
        case AudienceKind.ORGANISATION:
            names = [o.name for o in organisations if o.id == audience.organisation_id]
            return f"{label}: {', '.join(names)}"
        case AudienceKind.ROLE:
            return f"{label}: {role_name(tr, audience.role)}" if audience.role else label
        case AudienceKind.AREA:
            return f"{label}: {audience.area}"
        case AudienceKind.PAIRS:
            return f"{label}: {'; '.join(p.names for p in pairs if p.id in audience.pair_ids)}"
        case _:
            return label


def preview_text(
    tr: Translator,
    audience_words: str,
    recipients: list[Person],
    text: str,
    attachment: Attachment | None,
    author_name: str,
) -> Html:
    """Return the preview: who receives it, how many, and the message as they will see it."""
    languages: dict[str, int] = {}
    for person in recipients:
        languages[person.language] = languages.get(person.language, 0) + 1
    spread = ", ".join(f"{lang} {n}" for lang, n in sorted(languages.items()))
    lines = [
        tr.gettext("<b>Preview of the broadcast</b>"),
        tr.gettext("To: {audience}", audience=audience_words),
        tr.gettext(
            "Recipients: {n} ({languages})", n=number(tr, len(recipients)), languages=spread
        ),
    ]
    if attachment is not None:
        lines.append(_attachment_line(tr, attachment))
    parts = len(_text_parts(text)) if text else 0
    if parts > 1:
        lines.append(tr.gettext("It goes in {n} messages (Telegram's limit).", n=parts))
    lines += ["", "— — —", _header(tr, author_name)]
    if text:
        lines.append(escape(text if len(text) <= 1500 else text[:1500] + " …"))
    lines += [
        "— — —",
        tr.gettext("Press Send, or type more text to add it to the message."),
    ]
    return Html("\n".join(lines))


def offer_plan_text(tr: Translator, plan: OfferPlan, zone: ZoneInfo) -> Html:
    """Return what offering the chosen tasks would send."""
    lines = [
        tr.gettext("<b>Offer open tasks</b>"),
        tr.gettext(
            "{tasks} tasks to {people} people in the available pairs covering their areas "
            "({messages} offers).",
            tasks=number(tr, len(plan.tasks)),
            people=number(tr, plan.people),
            messages=number(tr, plan.messages),
        ),
        tr.gettext(
            "Each offer shows the kind, the postal code and the time only; the first pair to "
            "accept gets the task."
        ),
    ]
    if plan.uncovered:
        ids = ", ".join(f"#{t.task.id}" for t in plan.uncovered[:20])
        lines.append(
            tr.gettext("No available pair covers these, so they stay open: {ids}", ids=ids)
        )
    return Html("\n".join(lines))


def offers_confirm_keyboard(tr: Translator, count: int) -> InlineKeyboardMarkup:
    """Return Send offers and Cancel."""
    return InlineKeyboardMarkup(
        [
            [_step(tr.plain("✅ Send {n} offers", n=number(tr, count)), "send")],
            [_step(tr.plain("« Back"), "back"), _step(tr.plain("Cancel"), "cancel")],
        ]
    )


def message_parts(tr: Translator, delivery: Delivery, zone: ZoneInfo) -> list[Part]:
    """Return the messages of one delivery, in the recipient's language."""
    if delivery.task is not None:
        text, keyboard = offer(tr, delivery.task, delivery.postal_code, zone)
        return [Part(text=text, keyboard=keyboard)]
    broadcast = delivery.broadcast
    header = _header(tr, delivery.author_name)
    chunks = _text_parts(broadcast.text)
    parts: list[Part] = []
    attachment = broadcast.attachment
    if attachment is not None:
        fits = len(chunks) == 1 and _fits_caption(chunks[0])
        caption = Html(f"{header}\n\n{escape(chunks[0])}") if fits else header
        parts.append(Part(text=caption, attachment=attachment))
        if fits:
            return parts
    total = len(chunks)
    for index, chunk in enumerate(chunks, 1):
        numbered = header if total == 1 else Html(f"{header} ({index}/{total})")
        parts.append(Part(text=Html(f"{numbered}\n\n{escape(chunk)}")))
    return parts


def progress_text(tr: Translator, progress: Progress) -> Html:
    """Return the progress line the author sees, edited in place while it runs."""
    tally, broadcast = progress.tally, progress.broadcast
    delivered = tally[RowState.SENT]
    total = tally.total
    trouble = tally[RowState.BLOCKED] + tally[RowState.FAILED] + tally[RowState.UNCERTAIN]
    if broadcast.state is BroadcastState.SENDING:
        line = tr.gettext(
            "📣 Sending… {done} of {total}",
            done=number(tr, tally.done),
            total=number(tr, total),
        )
    elif broadcast.state is BroadcastState.CANCELLED:
        line = tr.gettext(
            "⏹ Stopped. {sent} of {total} were delivered; the rest were not sent.",
            sent=number(tr, delivered),
            total=number(tr, total),
        )
    else:
        line = tr.gettext(
            "✅ Done. {sent} of {total} delivered.",
            sent=number(tr, delivered),
            total=number(tr, total),
        )
    if trouble:
        line = Html(f"{line}\n" + tr.gettext("Not delivered so far: {n}", n=number(tr, trouble)))
    return line


def progress_keyboard(tr: Translator, broadcast_id: int) -> InlineKeyboardMarkup:
    """Return the Stop button of a running broadcast."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("⏹ Stop sending"),
                    callback_data=BroadcastAction(broadcast_id, "stop").pack(),
                )
            ]
        ]
    )


def report_text(tr: Translator, report: Report, *, names: bool) -> Html:
    """Return the final report: counts, and who did not get it (by name, for coordinators)."""
    tally, broadcast = report.tally, report.broadcast
    lines = [tr.gettext("<b>Broadcast #{id} report</b>", id=broadcast.id)]
    if broadcast.kind is BroadcastKind.OFFERS:
        lines.append(tr.gettext("Task offers."))
    if broadcast.stop_reason is StopReason.CANCELLED:
        lines.append(tr.gettext("It was stopped before the end."))
    elif broadcast.stop_reason is StopReason.REVOKED:
        lines.append(tr.gettext("It was stopped because its sender may no longer send broadcasts."))
    lines.append(
        tr.gettext(
            "Delivered: {sent} of {total}",
            sent=number(tr, tally[RowState.SENT]),
            total=number(tr, tally.total),
        )
    )
    groups = (
        (N_("Blocked the bot: {n}"), report.blocked),
        (N_("Failed (network or Telegram errors): {n}"), report.failed),
        (N_("May not have arrived (sending was interrupted): {n}"), report.uncertain),
    )
    for label, people in groups:
        if people:
            lines.append(tr.gettext(label, n=number(tr, len(people))))
            if names:
                lines.append(_names(tr, people))
    if tally[RowState.SKIPPED]:
        lines.append(
            tr.gettext(
                "Not needed any more (task taken, person left): {n}",
                n=number(tr, tally[RowState.SKIPPED]),
            )
        )
    if tally[RowState.CANCELLED]:
        lines.append(tr.gettext("Not sent (stopped): {n}", n=number(tr, tally[RowState.CANCELLED])))
    if names and report.blocked:
        lines.append(tr.gettext("People who blocked the bot can be phoned instead."))
    return Html("\n".join(lines))


def broadcasts_list(tr: Translator, items: list[Progress]) -> Html:
    """Return the latest broadcasts with their counts."""
    if not items:
        return tr.gettext("No broadcasts yet. /broadcast sends one.")
    lines = [tr.gettext("<b>Latest broadcasts</b>")]
    for item in items:
        first = item.broadcast.text.split("\n", 1)[0][:40] or "📎"
        what = tr.plain("Task offers") if item.broadcast.kind is BroadcastKind.OFFERS else first
        lines.append(f"#{item.broadcast.id} {escape(what)} — {progress_text(tr, item)}")
    return Html("\n".join(lines))


def _names(tr: Translator, people: list[Person]) -> str:
    shown = ", ".join(escape(p.name) for p in people[:MAX_NAMES])
    if len(people) > MAX_NAMES:
        shown += " " + tr.gettext("and {n} more", n=len(people) - MAX_NAMES)
    return shown


def _header(tr: Translator, author_name: str) -> Html:
    return tr.gettext("📣 <b>Message from {name}</b>", name=author_name)


def _attachment_line(tr: Translator, attachment: Attachment) -> Html:
    if attachment.kind is AttachmentKind.PHOTO:
        return tr.gettext("With a photo.")
    return tr.gettext("With a document: {name}", name=attachment.file_name or "—")


def _text_parts(text: str) -> list[str]:
    if not text:
        return []
    return split_text(text, TEXT_LIMIT - _HEADER_ROOM)


def _fits_caption(text: str) -> bool:
    return utf16_len(text) <= CAPTION_LIMIT - _HEADER_ROOM


def _step(label: str, value: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=BroadcastStep(value).pack())
