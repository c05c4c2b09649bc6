"""Texts and keyboards of coordination meetings, in the reader's language.

Times are shown in the configured zone; a reminder names no resident, and the brief only counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_day_names
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.briefs import Figures
from bot.domain.meetings import (
    AudienceKind,
    Group,
    Meeting,
    MeetingProblem,
    MeetingSpec,
    Occurrence,
    Offset,
)
from bot.domain.people import Organisation, Person, Role
from bot.domain.tasks import TaskState
from bot.i18n import N_, Html, Translator, escape
from bot.services.meetings import Brief, Digest, MeetingView
from handlers.callback_data import Attend, MeetingAction, OccurrenceAction
from handlers.render import babel_locale, role_name
from handlers.tasks_render import window_text

__all__ = [
    "attend_keyboard",
    "audience_text",
    "brief_text",
    "day_names",
    "digest_text",
    "group_removed_text",
    "meeting_card",
    "meetings_list",
    "occurrence_changed_text",
    "occurrence_menu",
    "occurrences_text",
    "offsets_text",
    "problem_text",
    "reminder_text",
    "schedule_text",
    "where_text",
]

_PROBLEMS: dict[MeetingProblem, str] = {
    MeetingProblem.TITLE: N_("A title is 1 to 100 characters. Please type it again."),
    MeetingProblem.WEEKDAYS: N_("Choose at least one weekday."),
    MeetingProblem.TIME: N_("That is not a time of day. Type it like 9.00 or 14:30."),
    MeetingProblem.DURATION: N_(
        "A meeting lasts from 5 minutes to 12 hours. Type it like 45, 90 min or 1,5 h."
    ),
    MeetingProblem.LINK: N_(
        "That is not a web link. Paste the whole link, starting with https://, or type the place."
    ),
    MeetingProblem.PLACE: N_("A place is 1 to 200 characters."),
    MeetingProblem.WHERE: N_("A meeting needs a link or a place."),
    MeetingProblem.OFFSETS: N_(
        "I could not read those reminders. Type them like 1d16:00, 15m (the day before at "
        "16:00, and 15 minutes before); at most five."
    ),
    MeetingProblem.AUDIENCE: N_("Choose who attends."),
    MeetingProblem.MOVE_FORMAT: N_(
        "I could not read that. Type the new day and time like 26.11. 14:00."
    ),
    MeetingProblem.MOVE_PAST: N_("That time has passed already. Type a time in the future."),
    MeetingProblem.MOVE_FAR: N_("An occurrence can be moved at most two weeks from its own day."),
}

_STATE_NAMES: dict[TaskState, str] = {
    TaskState.OPEN: N_("open"),
    TaskState.OFFERED: N_("offered"),
    TaskState.ESCALATED: N_("escalated"),
    TaskState.ACCEPTED: N_("accepted"),
    TaskState.STARTED: N_("started"),
}

_NEED_NAMES: dict[str, str] = {
    "errands": N_("errands"),
    "food_help": N_("food help"),
    "conversation_help": N_("conversation help"),
    "home_care": N_("home care"),
    "health_concern": N_("health concern"),
    "other": N_("other"),
}


def problem_text(tr: Translator, problem: MeetingProblem) -> Html:
    """Return why a typed value was refused."""
    return tr.gettext(_PROBLEMS[problem])


def day_names(tr: Translator, width: str = "abbreviated") -> list[str]:
    """Return the weekday names Monday first, in the reader's language."""
    names = get_day_names(width, locale=babel_locale(tr.language))
    return [str(names[i]) for i in range(7)]


def schedule_text(tr: Translator, spec: MeetingSpec) -> str:
    """Return e.g. `Tue, Fri 09:00–10:00`."""
    names = day_names(tr)
    days = ", ".join(names[d] for d in sorted(spec.weekdays))
    start = spec.start
    minutes = start.hour * 60 + start.minute + spec.duration_minutes
    end = time((minutes // 60) % 24, minutes % 60)
    return f"{days} {start:%H:%M}–{end:%H:%M}"


def where_text(spec: MeetingSpec) -> Html:
    """Return the place, and the link as a link."""
    parts = []
    if spec.place:
        parts.append(escape(spec.place))
    if spec.link:
        parts.append(Html(f'<a href="{escape(spec.link)}">{escape(_short(spec.link))}</a>'))
    return Html(" · ".join(parts))


def _short(link: str) -> str:
    return link if len(link) <= 60 else link[:57] + "…"


def offsets_text(tr: Translator, offsets: Iterable[Offset]) -> str:
    """Return e.g. `the day before at 16:00, 15 minutes before`."""
    parts = []
    for offset in offsets:
        if offset.days:
            at = offset.at or time(0)
            if offset.days == 1:
                parts.append(tr.plain("the day before at {time}", time=f"{at:%H:%M}"))
            else:
                parts.append(
                    tr.plain("{days} days before at {time}", days=offset.days, time=f"{at:%H:%M}")
                )
        elif offset.minutes % 60 == 0:
            parts.append(tr.plain("{hours} h before", hours=offset.minutes // 60))
        else:
            parts.append(tr.plain("{minutes} min before", minutes=offset.minutes))
    return ", ".join(parts)


def audience_text(
    tr: Translator,
    spec: MeetingSpec,
    *,
    organisation: Organisation | None = None,
    people: Iterable[Person] = (),
    group: Group | None = None,
) -> Html:
    """Return who attends, e.g. `everyone with the role coordinator` or the group's title."""
    audience = spec.audience
    if audience.kind is AudienceKind.ROLE:
        assert audience.role is not None
        return tr.gettext("everyone with the role {role}", role=role_name(tr, audience.role))
    if audience.kind is AudienceKind.ORGANISATION:
        name = organisation.name if organisation is not None else "?"
        return tr.gettext("everyone in {organisation}", organisation=name)
    if audience.kind is AudienceKind.PEOPLE:
        names = ", ".join(p.name for p in people)
        if names:
            return escape(names)
        return tr.ngettext("{n} chosen person", "{n} chosen people", len(audience.people))
    title = group.title if group is not None else "?"
    if group is not None and not group.member:
        return tr.gettext("the group chat {title} (the bot was removed from it)", title=title)
    return tr.gettext("the group chat {title}", title=title)


def _when(tr: Translator, occurrence: Occurrence, zone: ZoneInfo) -> str:
    return window_text(tr, occurrence.starts, occurrence.ends, zone)


def meeting_card(
    tr: Translator, view: MeetingView, zone: ZoneInfo, *, manage: bool
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return one meeting with its next occurrence and answers; organisers get the controls."""
    meeting = view.meeting
    spec = meeting.spec
    lines = [
        f"<b>{escape(meeting.title)}</b>" + (tr.gettext(" (paused)") if meeting.paused else ""),
        escape(schedule_text(tr, spec)),
        where_text(spec),
        tr.gettext(
            "Attending: {who}",
            who=audience_text(
                tr,
                spec,
                organisation=view.organisation,
                people=view.people if manage else (),
                group=view.group,
            ),
        ),
        tr.gettext("Reminders: {offsets}", offsets=offsets_text(tr, spec.offsets)),
    ]
    if view.next is not None and not meeting.paused:
        lines.append("")
        lines.append(tr.gettext("<b>Next:</b> {when}", when=_when(tr, view.next, zone)))
        if view.next.moved:
            lines.append(tr.gettext("(moved from its usual time)"))
        if manage:  # who answered what is for the organisers; members see the counts
            lines.append(_answers_line(tr, view.attending, view.not_attending, view.unanswered))
        else:
            lines.append(
                tr.gettext(
                    "✅ {yes} attending · ❌ {no} can't",
                    yes=len(view.attending),
                    no=len(view.not_attending),
                )
            )
    rows = []
    if manage:
        rows.append(
            [
                _button(tr.plain("✏️ Edit"), meeting.id, "edit"),
                _button(tr.plain("📆 Dates"), meeting.id, "dates"),
            ]
        )
        rows.append(
            [
                _button(tr.plain("▶️ Resume"), meeting.id, "resume")
                if meeting.paused
                else _button(tr.plain("⏸ Pause"), meeting.id, "pause"),
                _button(tr.plain("🗑 Delete"), meeting.id, "delete"),
            ]
        )
    rows.append([_button(tr.plain("📅 Calendar file"), meeting.id, "ics")])
    rows.append([_button(tr.plain("« All meetings"), 0, "list")])
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def _answers_line(
    tr: Translator, attending: list[Person], not_attending: list[Person], unanswered: int | None
) -> Html:
    parts = [
        tr.gettext("✅ attending: {names}", names=", ".join(p.name for p in attending) or "—"),
        tr.gettext("❌ can't: {names}", names=", ".join(p.name for p in not_attending) or "—"),
    ]
    if unanswered is not None:
        parts.append(tr.ngettext("{n} has not answered", "{n} have not answered", unanswered))
    return Html("\n".join(parts))


def _button(text: str, meeting_id: int, action: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=MeetingAction(meeting_id, action).pack())


def meetings_list(
    tr: Translator, views: list[MeetingView], zone: ZoneInfo, *, manage: bool
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Return the meetings with their next occurrence, a button each."""
    if not views:
        text = tr.gettext("There are no meetings yet.")
        if manage:
            text = Html(text + "\n" + tr.gettext("/meeting new creates one."))
        return text, None
    lines = [tr.gettext("<b>Meetings</b>")]
    rows = []
    for view in views:
        meeting = view.meeting
        if meeting.paused:
            when = tr.plain("paused")
        elif view.next is not None:
            when = _when(tr, view.next, zone)
        else:
            when = "—"
        lines.append(f"• <b>{escape(meeting.title)}</b> — {escape(when)}")
        rows.append([_button(meeting.title[:60], meeting.id, "show")])
    if manage:
        lines.append("")
        lines.append(tr.gettext("/meeting new creates one."))
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def occurrences_text(
    tr: Translator, meeting: Meeting, upcoming: list[Occurrence], zone: ZoneInfo
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the next occurrences, each a button to cancel or move it."""
    lines = [
        tr.gettext(
            "<b>{title}</b>: the next dates. Choose one to cancel or move it.", title=meeting.title
        )
    ]
    rows = []
    for occurrence in upcoming:
        label = _when(tr, occurrence, zone) + (" *" if occurrence.moved else "")
        rows.append(
            [
                InlineKeyboardButton(
                    label,
                    callback_data=OccurrenceAction(
                        meeting.id, occurrence.day.toordinal(), "menu"
                    ).pack(),
                )
            ]
        )
    if not upcoming:
        lines.append(tr.gettext("No upcoming dates."))
    rows.append([_button(tr.plain("« Back"), meeting.id, "show")])
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def occurrence_menu(
    tr: Translator, meeting: Meeting, occurrence: Occurrence, zone: ZoneInfo, *, confirm: bool
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return one occurrence with Cancel this one / Move this one (or the cancel confirmation)."""
    day = occurrence.day.toordinal()
    when = _when(tr, occurrence, zone)
    if confirm:
        text = tr.gettext(
            "Cancel <b>{title}</b> on {when}? Everyone attending is told.",
            title=meeting.title,
            when=when,
        )
        rows = [
            [
                InlineKeyboardButton(
                    tr.plain("Yes, cancel it"),
                    callback_data=OccurrenceAction(meeting.id, day, "cancel_ok").pack(),
                ),
                _button(tr.plain("No"), meeting.id, "dates"),
            ]
        ]
        return text, InlineKeyboardMarkup(rows)
    text = tr.gettext("<b>{title}</b> on {when}", title=meeting.title, when=when)
    rows = [
        [
            InlineKeyboardButton(
                tr.plain("🚫 Cancel this one"),
                callback_data=OccurrenceAction(meeting.id, day, "cancel").pack(),
            ),
            InlineKeyboardButton(
                tr.plain("🕑 Move this one"),
                callback_data=OccurrenceAction(meeting.id, day, "move").pack(),
            ),
        ],
        [_button(tr.plain("« Back"), meeting.id, "dates")],
    ]
    return text, InlineKeyboardMarkup(rows)


def occurrence_changed_text(
    tr: Translator,
    meeting: Meeting,
    occurrence: Occurrence,
    moved_to: datetime | None,
    zone: ZoneInfo,
) -> Html:
    """Return the notice to attendees that one occurrence was cancelled or moved."""
    when = _when(tr, occurrence, zone)
    if moved_to is None:
        return tr.gettext(
            "🚫 <b>{title}</b> on {when} is cancelled.", title=meeting.title, when=when
        )
    new = window_text(tr, moved_to, moved_to + meeting.duration, zone)
    return tr.gettext(
        "🕑 <b>{title}</b> on {when} is moved to <b>{new}</b>.",
        title=meeting.title,
        when=when,
        new=new,
    )


def reminder_text(tr: Translator, meeting: Meeting, occurrence: Occurrence, zone: ZoneInfo) -> Html:
    """Return a reminder: title, local time, the link or place."""
    lines = [
        tr.gettext("🔔 <b>{title}</b>", title=meeting.title),
        escape(_when(tr, occurrence, zone)),
        where_text(meeting.spec),
    ]
    if occurrence.moved:
        lines.append(tr.gettext("(moved from its usual time)"))
    return Html("\n".join(lines))


def attend_keyboard(tr: Translator, occurrence: Occurrence) -> InlineKeyboardMarkup:
    """Return I'll attend / Can't attend."""
    day = occurrence.day.toordinal()
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("✅ I'll attend"),
                    callback_data=Attend(occurrence.meeting_id, day, True).pack(),
                ),
                InlineKeyboardButton(
                    tr.plain("❌ Can't attend"),
                    callback_data=Attend(occurrence.meeting_id, day, False).pack(),
                ),
            ]
        ]
    )


def _figures_lines(tr: Translator, figures: Figures) -> list[str]:
    states = ", ".join(
        f"{tr.plain(_STATE_NAMES[state])} {count}" for state, count in figures.open_by_state.items()
    )
    lines = [
        tr.gettext("<b>Open tasks:</b> {n} ({states})", n=figures.unfinished, states=states),
        Html(
            tr.gettext(
                "<b>Overdue:</b> {n} {ids}", n=len(figures.overdue), ids=_ids(figures.overdue)
            ).rstrip()
        ),
        Html(
            tr.gettext(
                "<b>Escalated:</b> {n} {ids}", n=len(figures.escalated), ids=_ids(figures.escalated)
            ).rstrip()
        ),
        tr.gettext(
            "<b>Closed since:</b> {done} done, {failed} not completed",
            done=figures.done_since,
            failed=figures.not_completed_since,
        ),
        tr.gettext("<b>New needs:</b> {needs}", needs=_counts(tr, figures.needs_since)),
        tr.gettext(
            "<b>New referrals:</b> {referrals}; open referrals {open}",
            referrals=_counts(tr, figures.referrals_since),
            open=figures.open_referrals,
        ),
        tr.gettext("<b>Crisis alerts:</b> {n}", n=figures.alerts_since),
        tr.gettext(
            "<b>Unreachable by the bot:</b> {names}",
            names=", ".join(figures.unreachable) or "—",
        ),
    ]
    if figures.removed_groups:
        lines.append(
            tr.gettext(
                "<b>Groups the bot was removed from:</b> {titles}",
                titles=", ".join(figures.removed_groups),
            )
        )
    for campaign in figures.campaigns:
        lines.append(
            tr.gettext(
                "<b>Calls, {name}:</b> {reached} of {total} reached, {to_call} still to call, "
                "{visits} home visits arranged",
                name=campaign.name,
                reached=campaign.reached,
                total=campaign.total,
                to_call=campaign.to_call,
                visits=campaign.visits,
            )
        )
    return lines


def _ids(ids: tuple[int, ...]) -> str:
    if not ids:
        return ""
    shown = " ".join(f"#{i}" for i in ids[:10])
    return f"({shown}{' …' if len(ids) > 10 else ''})"


def _counts(tr: Translator, counts: dict[str, int]) -> str:
    if not counts:
        return "—"
    return ", ".join(
        f"{tr.plain(_NEED_NAMES[key]) if key in _NEED_NAMES else key} {n}"
        for key, n in counts.items()
    )


def brief_text(tr: Translator, brief: Brief, zone: ZoneInfo) -> Html:
    """Return the coordinators' brief for one occurrence."""
    since = format_date(
        brief.figures.since.astimezone(zone).date(), "d.M.", locale=babel_locale(tr.language)
    )
    lines = [
        tr.gettext(
            "📋 <b>Brief for {title}</b>, {when}",
            title=brief.meeting.title,
            when=_when(tr, brief.occurrence, zone),
        ),
        tr.gettext("Since the last meeting ({since}):", since=since),
        *_figures_lines(tr, brief.figures),
        "",
        _answers_line(tr, brief.attending, brief.not_attending, None),
    ]
    return Html("\n".join(lines))


def digest_text(tr: Translator, digest: Digest, zone: ZoneInfo) -> Html:
    """Return the coordinators' morning digest."""
    locale = babel_locale(tr.language)
    today = format_date(digest.figures.now.astimezone(zone).date(), "EEEE d.M.", locale=locale)
    lines = [tr.gettext("☀️ <b>Good morning.</b> {today}", today=today)]
    if digest.today:
        lines.append(tr.gettext("<b>Meetings today:</b>"))
        for meeting, occurrence in digest.today:
            start = format_time(occurrence.starts.astimezone(zone), "HH:mm", locale=locale)
            lines.append(f"• {escape(start)} {escape(meeting.title)}")
    else:
        lines.append(tr.gettext("No meetings today."))
    lines.append("")
    lines.append(tr.gettext("In the last 24 hours:"))
    lines += _figures_lines(tr, digest.figures)
    return Html("\n".join(lines))


def group_removed_text(tr: Translator, group: Group, meetings: list[Meeting]) -> Html:
    """Return the notice to organisers that the bot was removed from a meeting's group chat."""
    titles = ", ".join(m.title for m in meetings) or "—"
    return tr.gettext(
        "⚠️ The bot was removed from the group chat <b>{group}</b>. Reminders of {meetings} cannot "
        "reach it. Add the bot back to the group, or /meetings → Edit → attendees.",
        group=group.title,
        meetings=titles,
    )


def role_choice_names(tr: Translator) -> list[tuple[Role, str]]:
    """Return every role with its name, for the attendee buttons."""
    return [(role, role_name(tr, role)) for role in Role]
