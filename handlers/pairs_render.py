"""Pairs and availability as Telegram text and keyboards; every string is translated here.

The keyboards of /pair carry every choice made so far in their callback data, so a press on an old
message works after a restart: nothing waits in memory between the steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.pairs import MAX_AREAS, Pair
from bot.domain.people import Organisation, Person
from bot.domain.tasks import Task
from bot.i18n import N_, Html, Translator, escape
from bot.services.pairs import Availability, Dissolved
from handlers.callback_data import DissolvePair, FormPair, PickPairMember, ShowPairs

__all__ = [
    "PAIRS_PER_PAGE",
    "PEOPLE_PER_PAGE",
    "areas_error",
    "areas_help",
    "availability_text",
    "confirm_dissolve",
    "dissolved_note",
    "dissolved_report",
    "formed_text",
    "organisation_choice",
    "paired_note",
    "pairs_page",
    "pick_member",
]

PAIRS_PER_PAGE = 8
PEOPLE_PER_PAGE = 20
_ORGANISATIONS_SHOWN = 40

_AREA_REASONS: dict[str, str] = {
    "areas.empty": N_("Send at least one postal code."),
    "areas.format": N_("Postal codes are one to five digits, such as 70 or 71100."),
}


def _pages(total: int, per_page: int, page: int) -> tuple[int, int]:
    """Return the page clamped to those that exist, and how many there are."""
    pages = max(1, -(-total // per_page))
    return min(max(page, 1), pages), pages


def _partners(pair: Pair, person_id: int) -> str:
    return " & ".join(m.name for m in pair.members if m.id != person_id)


def _areas(tr: Translator, areas: Iterable[str]) -> Html:
    listed = ", ".join(sorted(areas))
    return tr.gettext("areas: {areas}", areas=listed) if listed else tr.gettext("all areas")


def _status(tr: Translator, pair: Pair) -> Html:
    if pair.available:
        return tr.gettext("✅ available")
    away = [m.name for m in pair.members if not (m.active and m.available)]
    if not away:
        return tr.gettext("⏸ not available")
    return tr.gettext("⏸ not available: {names}", names=", ".join(away))


def _pair_line(tr: Translator, pair: Pair) -> str:
    parts = [f"<b>{escape(pair.names)}</b>"]
    if pair.organisation is not None:
        parts.append(escape(pair.organisation.name))
    parts += [_status(tr, pair), _areas(tr, pair.areas)]
    return " · ".join(parts)


def _back(tr: Translator, label: str = N_("« Pairs")) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(tr.plain(label), callback_data=ShowPairs(1).pack())]


def pairs_page(
    tr: Translator, pairs: Sequence[Pair], page: int
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return one page of the current pairs, a Dissolve button for each and a New pair button."""
    page, pages = _pages(len(pairs), PAIRS_PER_PAGE, page)
    shown = pairs[(page - 1) * PAIRS_PER_PAGE : page * PAIRS_PER_PAGE]
    if not pairs:
        lines = [tr.gettext("No pairs yet. Tap “New pair” to form one.")]
    else:
        lines = [
            tr.ngettext(
                "<b>{n} pair</b> (page {page}/{pages})",
                "<b>{n} pairs</b> (page {page}/{pages})",
                len(pairs),
                page=page,
                pages=pages,
            ),
            *(_pair_line(tr, p) for p in shown),
        ]
    rows = [
        [
            InlineKeyboardButton(
                tr.plain("Dissolve {names}", names=p.names),
                callback_data=DissolvePair(p.id, False).pack(),
            )
        ]
        for p in shown
    ]
    navigation = []
    if page > 1:
        navigation.append(InlineKeyboardButton("◀", callback_data=ShowPairs(page - 1).pack()))
    if page < pages:
        navigation.append(InlineKeyboardButton("▶", callback_data=ShowPairs(page + 1).pack()))
    if navigation:
        rows.append(navigation)
    rows.append(
        [
            InlineKeyboardButton(
                tr.plain("➕ New pair"), callback_data=PickPairMember(0, 0, 1).pack()
            )
        ]
    )
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


def pick_member(
    tr: Translator, candidates: Sequence[Person], first: Person | None, page: int
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the question for the first or second person of a new pair, with their buttons."""
    page, pages = _pages(len(candidates), PEOPLE_PER_PAGE, page)
    shown = candidates[(page - 1) * PEOPLE_PER_PAGE : page * PEOPLE_PER_PAGE]
    first_id = first.id if first is not None else 0
    if first is None:
        question = (
            tr.gettext("Choose the first volunteer:")
            if candidates
            else tr.gettext(
                "Every active volunteer is in a pair already. Invite more with /invite volunteer."
            )
        )
    else:
        question = (
            tr.gettext("Who visits with {name}?", name=first.name)
            if candidates
            else tr.gettext("Nobody else is free to pair with {name}.", name=first.name)
        )
    heading = tr.gettext("<b>New pair</b>")
    text = Html(f"{heading}\n{question}")

    def choose(person: Person) -> str:
        if first is None:
            return PickPairMember(person.id, 0, 1).pack()
        return PickPairMember(first_id, person.id, 1).pack()

    buttons = [InlineKeyboardButton(p.name, callback_data=choose(p)) for p in shown]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    navigation = []
    if page > 1:
        navigation.append(
            InlineKeyboardButton("◀", callback_data=PickPairMember(first_id, 0, page - 1).pack())
        )
    if page < pages:
        navigation.append(
            InlineKeyboardButton("▶", callback_data=PickPairMember(first_id, 0, page + 1).pack())
        )
    if navigation:
        rows.append(navigation)
    rows.append(_back(tr, N_("Cancel")))
    return text, InlineKeyboardMarkup(rows)


def organisation_choice(
    tr: Translator, first: Person, second: Person, organisations: Sequence[Organisation]
) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the last question of a new pair: to which organisation it belongs, if any."""
    names = f"{first.name} & {second.name}"
    text = Html(
        "\n".join(
            [
                tr.gettext("<b>New pair: {names}</b>", names=names),
                tr.gettext("Does the pair visit for an organisation?"),
            ]
        )
    )
    rows = [
        [InlineKeyboardButton(o.name, callback_data=FormPair(first.id, second.id, o.id).pack())]
        for o in organisations[:_ORGANISATIONS_SHOWN]
    ]
    rows.append(
        [
            InlineKeyboardButton(
                tr.plain("No organisation"), callback_data=FormPair(first.id, second.id, 0).pack()
            )
        ]
    )
    rows.append(_back(tr, N_("Cancel")))
    return text, InlineKeyboardMarkup(rows)


def formed_text(tr: Translator, pair: Pair) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the coordinator's confirmation of a new pair."""
    lines = [
        tr.gettext("Pair formed: {line}", line=Html(_pair_line(tr, pair))),
        tr.gettext("I told them both."),
    ]
    return Html("\n".join(lines)), InlineKeyboardMarkup([_back(tr)])


def paired_note(tr: Translator, pair: Pair, person: Person) -> Html:
    """Return the note to a member of a new pair, in their language."""
    partner = _partners(pair, person.id)
    if pair.organisation is not None:
        head = tr.gettext(
            "You are now paired with {name} ({organisation}).",
            name=partner,
            organisation=pair.organisation.name,
        )
    else:
        head = tr.gettext("You are now paired with {name}.", name=partner)
    more = tr.gettext(
        "Offers come to you both while you are both available: /away pauses them and "
        "/available starts them again."
    )
    return Html(f"{head}\n{more}")


def confirm_dissolve(tr: Translator, pair: Pair) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the question that guards dissolving a pair."""
    text = tr.gettext(
        "Dissolve the pair {names}? The tasks they hold go back to open tasks and their offers "
        "are withdrawn.",
        names=pair.names,
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr.plain("Yes, dissolve"), callback_data=DissolvePair(pair.id, True).pack()
                ),
                InlineKeyboardButton(tr.plain("No"), callback_data=ShowPairs(1).pack()),
            ]
        ]
    )
    return text, keyboard


def dissolved_report(tr: Translator, dissolved: Dissolved) -> tuple[Html, InlineKeyboardMarkup]:
    """Return the coordinator's report of a dissolved pair and the tasks it gave back."""
    lines = [tr.gettext("The pair {names} was dissolved.", names=dissolved.pair.names)]
    lines += [
        tr.gettext("Task #{id} went back to open tasks.", id=released.task.id)
        for released in dissolved.released
    ]
    return Html("\n".join(lines)), InlineKeyboardMarkup([_back(tr)])


def dissolved_note(tr: Translator, pair: Pair | None, person: Person, tasks: list[Task]) -> Html:
    """Return the note to a member of a dissolved pair, or a former holder of its tasks."""
    lines = []
    if pair is not None:
        lines.append(
            tr.gettext(
                "A coordinator dissolved your pair with {name}.",
                name=_partners(pair, person.id),
            )
        )
    lines += [
        tr.gettext("Task #{id} was taken back from you; you no longer need to do it.", id=task.id)
        for task in tasks
    ]
    return Html("\n".join(lines))


def availability_text(
    tr: Translator, person: Person, availability: Availability, head: Html | None = None
) -> Html:
    """Return whether the person takes offers, their areas and their pair, under `head`."""
    status = (
        tr.gettext("✅ You are available: offers can come to you.")
        if availability.available
        else tr.gettext("⏸ You are away: no offers come to you until you send /available.")
    )
    areas = ", ".join(sorted(availability.areas))
    lines = [] if head is None else [head]
    lines += [
        status,
        tr.gettext("Your areas: {areas}", areas=areas)
        if areas
        else tr.gettext("Your areas: all (no limits)"),
    ]
    pair = availability.pair
    if pair is None:
        lines.append(
            tr.gettext(
                "You are not in a pair yet. Offers go to pairs; your coordinator forms them."
            )
        )
    else:
        lines.append(tr.gettext("Your pair: with {name}", name=_partners(pair, person.id)))
        others_away = [
            m.name for m in pair.members if m.id != person.id and not (m.active and m.available)
        ]
        if others_away:
            lines.append(
                tr.gettext(
                    "Your pair takes no offers until {names} is available again.",
                    names=", ".join(others_away),
                )
            )
    return Html("\n".join(lines))


def areas_help(tr: Translator) -> Html:
    """Return how to set one's areas."""
    return tr.gettext(
        "To choose your areas, send /areas with postal codes or their beginnings: "
        "<code>/areas 70 71100</code> covers every code starting 70, and 71100. "
        "<code>/areas all</code> covers every area."
    )


_AREAS_NOT_VALID = N_("Those areas are not valid.")


def areas_error(tr: Translator, reason: str) -> Html:
    """Return why typed areas were refused, and how to type them."""
    if reason == "areas.too_many":
        why = tr.gettext("That is too many areas: at most {n}.", n=MAX_AREAS)
    else:
        why = tr.gettext(_AREA_REASONS.get(reason, _AREAS_NOT_VALID))
    return Html(f"{why}\n{areas_help(tr)}")
