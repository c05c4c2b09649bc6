"""Texts and keyboards of phone-check campaigns, in the reader's language.

The call card shows the caller what the call needs: the resident's name, phone (Telegram makes the
number a tappable phone link), age, language and notes — never the street address, which a call
does not need. The coordinators' overview shows figures and callers' names, never residents.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.campaigns import (
    ATTEMPT_CHOICES,
    GAP_CHOICES,
    CallResult,
    Campaign,
    CampaignState,
    EntryResult,
    Selection,
    age_in,
)
from bot.domain.outcomes import Need
from bot.domain.people import Person
from bot.i18n import N_, Html, Translator
from bot.services.campaigns import Call, CallEnd, Overview, Started
from handlers.broadcasts_render import number
from handlers.callback_data import CallAction, CampaignAction, CampaignStep
from handlers.render import LANGUAGE_NAMES, campaign_problem_text, local_time

__all__ = [
    "area_keyboard",
    "attempts_keyboard",
    "call_card",
    "call_end_text",
    "call_keyboard",
    "callers_keyboard",
    "campaign_list",
    "campaign_problem_text",
    "confirm_close",
    "expired_text",
    "gap_keyboard",
    "gap_text",
    "given_back_text",
    "next_call_keyboard",
    "overview_keyboard",
    "overview_text",
    "selection_text",
    "started_text",
    "summary_keyboard",
    "who_keyboard",
]

NEED_NAMES: dict[str, str] = {
    Need.ERRANDS: N_("errands"),
    Need.FOOD_HELP: N_("food help"),
    Need.CONVERSATION_HELP: N_("conversation help"),
    Need.HOME_CARE: N_("home-care services"),
    Need.HEALTH_CONCERN: N_("health concern"),
    Need.OTHER: N_("something else"),
}

_STATE_NAMES: dict[CampaignState, str] = {
    CampaignState.RUNNING: N_("running"),
    CampaignState.PAUSED: N_("paused"),
    CampaignState.CLOSED: N_("closed"),
}


# --- the form -------------------------------------------------------------------------------


def _step(label: str, value: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=CampaignStep(value).pack())


def _cancel_row(tr: Translator) -> list[InlineKeyboardButton]:
    return [_step(tr.plain("Cancel"), "cancel")]


def who_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    """Return the ages to choose from (or a typed year, or a file)."""
    return InlineKeyboardMarkup(
        [
            [_step(tr.plain("Aged {age} or over", age=age), f"age:{age}") for age in (70, 75)],
            [_step(tr.plain("Aged {age} or over", age=age), f"age:{age}") for age in (80, 85)],
            [_step(tr.plain("Any age"), "age:0")],
            _cancel_row(tr),
        ]
    )


def area_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    """Return Everywhere (or a typed area)."""
    return InlineKeyboardMarkup([[_step(tr.plain("Everywhere"), "everywhere")], _cancel_row(tr)])


def callers_keyboard(
    tr: Translator, callers: Iterable[Person], picked: set[int]
) -> InlineKeyboardMarkup:
    """Return the callers as toggles, All and Done."""
    rows = [
        [_step(("✅ " if p.id in picked else "▫️ ") + p.name, f"caller:{p.id}")] for p in callers
    ]
    rows.append([_step(tr.plain("All callers"), "callers_all")])
    if picked:
        rows.append([_step(tr.plain("Done ({n})", n=len(picked)), "callers_done")])
    rows.append(_cancel_row(tr))
    return InlineKeyboardMarkup(rows)


def attempts_keyboard(tr: Translator, default: int) -> InlineKeyboardMarkup:
    """Return the numbers of attempts, the default marked."""
    return InlineKeyboardMarkup(
        [
            [_step(f"{'• ' if n == default else ''}{n}", f"attempts:{n}") for n in ATTEMPT_CHOICES],
            _cancel_row(tr),
        ]
    )


def gap_text(tr: Translator, gap: timedelta) -> str:
    """Return a time between attempts: `3 h`, `1.5 h`, `45 min`."""
    minutes = int(gap.total_seconds() // 60)
    if minutes % 60 == 0:
        return tr.plain("{hours} h", hours=minutes // 60)
    if minutes < 60:
        return tr.plain("{minutes} min", minutes=minutes)
    hours = f"{minutes / 60:.1f}"
    return tr.plain("{hours} h", hours=hours.replace(".", "," if tr.language != "en" else "."))


def gap_keyboard(tr: Translator, default: timedelta) -> InlineKeyboardMarkup:
    """Return the usual gaps between attempts, the default marked."""
    return InlineKeyboardMarkup(
        [
            [
                _step(
                    f"{'• ' if gap == default else ''}{gap_text(tr, gap)}",
                    f"gap:{int(gap.total_seconds() // 60)}",
                )
                for gap in GAP_CHOICES
            ],
            _cancel_row(tr),
        ]
    )


def selection_text(tr: Translator, selection: Selection, listed: int | None = None) -> Html:
    """Return who is called, in words."""
    if selection.imported:
        who = tr.gettext("the residents of the imported list")
    elif selection.born_by is not None:
        who = tr.gettext("residents born in {year} or before", year=selection.born_by)
    else:
        who = tr.gettext("residents of any age")
    if selection.areas:
        who = Html(f"{who} " + tr.gettext("in the areas {areas}", areas=", ".join(selection.areas)))
    if listed is None:
        return who
    return Html(f"{who} ({number(tr, listed)})")


def summary_keyboard(tr: Translator, listed: int) -> InlineKeyboardMarkup:
    """Return Start (with the count) and Cancel."""
    return InlineKeyboardMarkup(
        [
            [_step(tr.plain("✅ Start: call {n}", n=number(tr, listed)), "start")],
            _cancel_row(tr),
        ]
    )


def started_text(tr: Translator, started: Started) -> Html:
    """Return what a started campaign did."""
    lines = [
        tr.ngettext(
            "📞 <b>{name}</b> started: {count} resident is on the calling list.",
            "📞 <b>{name}</b> started: {count} residents are on the calling list.",
            started.listed,
            name=started.campaign.name,
            count=number(tr, started.listed),
        )
    ]
    if started.visits:
        lines.append(
            tr.ngettext(
                "{n} resident has no phone number: a home visit was arranged.",
                "{n} residents have no phone number: a home visit was arranged for each.",
                started.visits,
            )
        )
        if started.offered:
            lines.append(
                tr.gettext(
                    "Their offers go out to the pairs now; you get a report when they are sent."
                )
            )
        if started.uncovered:
            lines.append(
                tr.ngettext(
                    "{n} visit has no available pair in its area: see /open.",
                    "{n} visits have no available pair in their area: see /open.",
                    started.uncovered,
                )
            )
    lines.append(
        tr.gettext("Callers press /call to get the next resident. /campaign shows progress.")
    )
    return Html("\n".join(lines))


# --- figures ---------------------------------------------------------------------------------


def overview_text(tr: Translator, overview: Overview, zone: ZoneInfo) -> Html:
    """Return a campaign at a glance, for the coordinators."""
    c, f = overview.campaign, overview.figures
    n = lambda value: number(tr, value)  # noqa: E731 - a local shorthand
    lines = [
        tr.gettext(
            "📞 <b>{name}</b> — {state}", name=c.name, state=tr.plain(_STATE_NAMES[c.state])
        ),
        tr.gettext(
            "Calling {who}; {attempts} attempts, {gap} apart.",
            who=selection_text(tr, c.selection),
            attempts=c.attempts,
            gap=gap_text(tr, c.gap),
        ),
        "",
        tr.gettext("Residents: <b>{total}</b>", total=n(f.total)),
        tr.gettext(
            "Called: {called} · reached <b>{reached}</b> · on a call now {calling}",
            called=n(f.called),
            reached=n(f.reached),
            calling=n(f.calling),
        ),
        tr.gettext(
            "Not reached yet: {open} (never called {never} · waiting for another try {retry})",
            open=n(f.open),
            never=n(f.never_called),
            retry=n(f.retry),
        ),
        tr.gettext(
            "Home visits arranged: <b>{visits}</b> (no answer {unreached} · wrong number "
            "{wrong} · no phone {no_phone})",
            visits=n(f.visits),
            unreached=n(f.unreached),
            wrong=n(f.wrong_number),
            no_phone=n(f.no_phone),
        ),
        tr.gettext("Asked not to be called: {n}", n=n(f.declined)),
    ]
    if f.needs:
        needs = " · ".join(
            f"{tr.plain(NEED_NAMES.get(need, need))} {n(count)}"
            for need, count in sorted(f.needs.items(), key=lambda item: (-item[1], item[0]))
        )
        lines.append(tr.gettext("Needs found: {needs}", needs=needs))
    else:
        lines.append(tr.gettext("Needs found: none yet"))
    lines.append(tr.gettext("Urgent, told to the coordinators at once: {n}", n=n(f.urgent)))
    if overview.next_due is not None:
        lines.append(
            tr.gettext(
                "Everyone has had a first call; the next try falls due at {time}.",
                time=local_time(tr, overview.next_due, zone),
            )
        )
    if f.callers:
        lines += ["", tr.gettext("<b>Callers</b>")]
        for caller in f.callers:
            line = tr.gettext(
                "• {name}: {calls} calls, {reached} reached, {no_answer} no answer",
                name=caller.name,
                calls=n(caller.calls),
                reached=n(caller.reached),
                no_answer=n(caller.no_answer),
            )
            if caller.calling:
                line = Html(f"{line} " + tr.gettext("(on a call now)"))
            lines.append(line)
    return Html("\n".join(lines))


def overview_keyboard(tr: Translator, campaign: Campaign) -> InlineKeyboardMarkup:
    """Return Refresh, Pause or Resume, and Close (not for a closed campaign)."""

    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=CampaignAction(campaign.id, action).pack())

    rows = [[button(tr.plain("🔄 Refresh"), "show")]]
    if campaign.state is CampaignState.RUNNING:
        rows.append([button(tr.plain("⏸ Pause"), "pause"), button(tr.plain("🏁 Close"), "close")])
    elif campaign.state is CampaignState.PAUSED:
        rows.append([button(tr.plain("▶️ Resume"), "resume"), button(tr.plain("🏁 Close"), "close")])
    return InlineKeyboardMarkup(rows)


def confirm_close(tr: Translator, campaign: Campaign) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the question before a campaign is closed for good."""
    text = tr.gettext(
        "Close <b>{name}</b> for good? Nobody more is called from its list; calls under way can "
        "still be reported.",
        name=campaign.name,
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("🏁 Yes, close it"),
                    callback_data=CampaignAction(campaign.id, "close_yes").pack(),
                ),
                InlineKeyboardButton(
                    tr.plain("« Back"), callback_data=CampaignAction(campaign.id, "show").pack()
                ),
            ]
        ]
    )
    return text, keyboard


def campaign_list(
    tr: Translator, overviews: list[Overview], mine: list[Campaign]
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """Return the campaigns with a line of figures each; callers get Next call."""
    lines: list[str] = []
    rows = []
    if overviews:
        lines.append(tr.gettext("<b>Campaigns</b>"))
        for item in overviews:
            c, f = item.campaign, item.figures
            lines.append(
                tr.gettext(
                    "• {name} ({state}): {reached} of {total} reached, {open} to call, "
                    "{visits} home visits",
                    name=c.name,
                    state=tr.plain(_STATE_NAMES[c.state]),
                    reached=number(tr, f.reached),
                    total=number(tr, f.total),
                    open=number(tr, f.open),
                    visits=number(tr, f.visits),
                )
            )
            rows.append(
                [
                    InlineKeyboardButton(
                        f"📊 {c.name}"[:60], callback_data=CampaignAction(c.id, "show").pack()
                    )
                ]
            )
    if mine:
        if lines:
            lines.append("")
        lines.append(tr.gettext("<b>Your calling lists</b>"))
        for c in mine:
            lines.append(
                tr.gettext("• {name} ({state})", name=c.name, state=tr.plain(_STATE_NAMES[c.state]))
            )
            if c.state is CampaignState.RUNNING:
                rows.append(
                    [
                        InlineKeyboardButton(
                            tr.plain("📞 Next call: {name}", name=c.name)[:60],
                            callback_data=CampaignAction(c.id, "next").pack(),
                        )
                    ]
                )
    if not lines:
        lines.append(tr.gettext("There are no campaigns yet. Start one with /campaign new."))
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows) if rows else None


# --- calls -----------------------------------------------------------------------------------


def call_card(tr: Translator, call: Call, today: date, timeout: timedelta) -> Html:
    """Return what a caller needs for one call."""
    resident = call.resident
    lines = [
        tr.gettext(
            "📞 <b>{campaign}</b> — call {attempt} of {of}",
            campaign=call.campaign.name,
            attempt=call.attempt,
            of=call.campaign.attempts,
        ),
        "",
        tr.gettext("<b>{name}</b>", name=resident.name),
        tr.gettext("Phone: {phone}", phone=resident.phone or "—"),
    ]
    age = age_in(resident.birth_year, today)
    if age is not None:
        lines.append(tr.gettext("Age: {age} (born {year})", age=age, year=resident.birth_year))
    lines.append(tr.gettext("Speaks: {language}", language=LANGUAGE_NAMES[resident.language]))
    if resident.household_note:
        lines.append(tr.gettext("Household: {note}", note=resident.household_note))
    if resident.note:
        lines.append(tr.gettext("Note: {note}", note=resident.note))
    lines += [
        "",
        tr.gettext(
            "Tap the number to call. Then record how it went. The call stays yours for "
            "{minutes} minutes after your last step.",
            minutes=int(timeout.total_seconds() // 60),
        ),
    ]
    if call.already:
        lines.insert(0, tr.gettext("You have this call open still."))
    return Html("\n".join(lines))


def call_keyboard(tr: Translator, task_id: int) -> InlineKeyboardMarkup:
    """Return Record the call and Give back."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("📝 Record the call"),
                    callback_data=CallAction(task_id, "report").pack(),
                )
            ],
            [
                InlineKeyboardButton(
                    tr.plain("↩️ Give back without calling"),
                    callback_data=CallAction(task_id, "give_back").pack(),
                )
            ],
        ]
    )


def next_call_keyboard(tr: Translator, campaign: Campaign) -> InlineKeyboardMarkup:
    """Return the one button that takes the next resident."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("📞 Next call"),
                    callback_data=CampaignAction(campaign.id, "next").pack(),
                )
            ]
        ]
    )


def call_end_text(tr: Translator, end: CallEnd, zone: ZoneInfo) -> Html:
    """Return what the reported call did to the calling list."""
    if end.finished is None and end.retry_at is not None:
        return tr.gettext(
            "↩️ No answer: the resident goes back on the list and is called again after {time}.",
            time=local_time(tr, end.retry_at, zone),
        )
    texts = {
        EntryResult.REACHED: N_("✅ Reached: this resident's call is done."),
        EntryResult.UNREACHED: N_(
            "🏠 Not reached after every attempt: a home visit goes to the volunteer pairs."
        ),
        EntryResult.WRONG_NUMBER: N_("🏠 Wrong number: a home visit goes to the volunteer pairs."),
        EntryResult.DECLINED: N_("🚫 Noted: this resident will not be called again."),
    }
    if end.result is CallResult.DECLINED:
        return tr.gettext(texts[EntryResult.DECLINED])
    return tr.gettext(texts.get(end.finished or EntryResult.REACHED, texts[EntryResult.REACHED]))


def given_back_text(tr: Translator) -> Html:
    """Return the card of a call handed back (no personal data left)."""
    return tr.gettext("↩️ You handed this resident back to the list. Press /call for the next one.")


def expired_text(tr: Translator, campaign: Campaign, minutes: int) -> Html:
    """Return the note to a caller whose call timed out."""
    return tr.gettext(
        "⏳ Your call in <b>{campaign}</b> went back to the list: nothing was recorded for "
        "{minutes} minutes, and its unfinished report was thrown away. Press /call to continue.",
        campaign=campaign.name,
        minutes=minutes,
    )
