"""Phone-check campaigns the way people run them: the coordinator's form, the callers' cards.

Every label is read through the catalog (`fi` is the language of the team's coordinator and
callers), so the helpers keep working once the campaign strings are translated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.campaigns import Campaign, CampaignProblem, CampaignSpec, Selection
from bot.domain.residents import ResidentInput
from bot.domain.tasks import TaskKind
from bot.i18n import translators
from handlers.callback_data import CallAction
from handlers.render import campaign_problem_text
from handlers.tasks_render import kind_name
from tests.e2e.forms_helpers import button, choice, press, question, shown, tick
from tests.fakes.records import SentMessage

fi = translators()["fi"]

ZONE = ZoneInfo("Europe/Helsinki")  # the bot's default time zone
COORDINATOR = 1001  # Aino in `teams.py`
SECOND_CALLER = 3002
FORM = "phone_check"


# --- texts ------------------------------------------------------------------------------------


def problem(which: CampaignProblem, language: str = "fi") -> str:
    """Return a campaign problem as the person reads it (without the time LIST_DONE may add)."""
    return shown(campaign_problem_text(translators()[language], which, ZONE))


def text(msgid: str, language: str = "fi", **values: object) -> str:
    """Return a catalog text as the fake Telegram shows it."""
    return shown(translators()[language].gettext(msgid, **values))


def started_line(name: str, n: int, language: str = "fi") -> str:
    """Return the first line the coordinator reads after Start."""
    return shown(
        translators()[language].ngettext(
            "📞 <b>{name}</b> started: {count} resident is on the calling list.",
            "📞 <b>{name}</b> started: {count} residents are on the calling list.",
            n,
            name=name,
            count=n,
        )
    )


REACHED_END = "✅ Reached: this resident's call is done."
UNREACHED_END = "🏠 Not reached after every attempt: a home visit goes to the volunteer pairs."
WRONG_NUMBER_END = "🏠 Wrong number: a home visit goes to the volunteer pairs."
DECLINED_END = "🚫 Noted: this resident will not be called again."
WHO_QUESTION = (
    "Who is called? Choose an age, or type the latest birth year (1956: everyone born "
    "in 1956 or before). Or send a CSV file of residents: exactly they are called."
)
RECORD = "📝 Record the call"
GIVE_BACK = "↩️ Give back without calling"
NEXT_CALL = "📞 Next call"


def coordinator_reports(telegram, task_id: int, reporter: str) -> list[str]:
    """Return the per-outcome reports the coordinator (Aino, fi) got on a call's task."""
    head = text(
        "📋 <b>Report on task #{number} ({kind})</b> by {reporter}",
        number=task_id,
        kind=kind_name(fi, TaskKind.PHONE_CHECK),
        reporter=reporter,
    )
    return [m.text for m in telegram.messages(COORDINATOR) if m.text.startswith(head)]


# --- residents --------------------------------------------------------------------------------


def person(
    name: str,
    phone: str | None,
    *,
    born: int = 1944,
    postal_code: str = "70100",
    language: str = "fi",
) -> ResidentInput:
    """Return an invented resident (never a real person)."""
    return ResidentInput(
        name=name,
        phone=phone,
        street_address="Keksitty katu 1",
        postal_code=postal_code,
        municipality="Kuopio",
        birth_year=born,
        language=language,
    )


async def add_residents(team, residents: Iterable[ResidentInput]) -> dict[str, int]:
    """Store residents as the coordinator; return their ids by name."""
    ids = {}
    for resident in residents:
        saved = await team.services.residents.save(team.coordinator, resident)
        ids[resident.name] = saved.resident.id
    return ids


# --- the coordinator's form -------------------------------------------------------------------


@dataclass
class Begun:
    """A campaign started through the chat: the message Start became, and the campaign."""

    message: SentMessage
    campaign: Campaign


async def open_form(aino, name: str) -> SentMessage:
    """Send /campaign new and the name; return the question of who is called."""
    first = await aino.ask("/campaign new")
    assert first.text.startswith(
        text(
            "<b>New phone-check campaign.</b> What is it called? (e.g. Autumn calls 70+) "
            "/cancel stops."
        )
    ), first.text
    who = await aino.ask(name)
    assert who.text == text(WHO_QUESTION), who.text
    return who


async def pick_callers(aino, callers_message: SentMessage, callers: Iterable[str] | None):
    """Choose callers by name (None: All callers); return the question of attempts."""
    assert callers_message.text == text("Who calls? Choose the callers, then press Done."), (
        callers_message.text
    )
    if callers is None:
        return await press(aino, callers_message, fi.plain("All callers"))
    names = list(callers)
    shown_now = callers_message
    for name in names:
        shown_now = await press(aino, shown_now, "▫️ " + name)
    return await press(aino, shown_now, fi.plain("Done ({n})", n=len(names)))


async def finish_form(
    aino, attempts_message: SentMessage, *, attempts: int | None, gap: str | None
) -> SentMessage:
    """Answer attempts (None: the marked default) and the gap (None: the default); return the
    summary with Start."""
    label = "• 2" if attempts is None else str(attempts)
    gap_question = await press(aino, attempts_message, label)
    return await press(aino, gap_question, gap or "• " + fi.plain("{hours} h", hours=3))


async def start_campaign(
    team,
    name: str = "Syksyn soitot",
    *,
    age: int | None = 70,
    year: str | None = None,
    area: str | None = None,
    callers: Iterable[str] | None = None,
    attempts: int | None = None,
    gap: str | None = None,
    listed: int | None = None,
) -> Begun:
    """Run /campaign new through the buttons as Aino; return what Start did.

    `age` presses "Aged N or over" (0: Any age) unless a `year` is typed; `area` is typed postal
    codes (None: Everywhere); `callers` are names to tick (None: All callers).
    """
    aino = team.aino
    who = await open_form(aino, name)
    if year is not None:
        area_question = await aino.ask(year)
    elif age:
        area_question = await press(aino, who, fi.plain("Aged {age} or over", age=age))
    else:
        area_question = await press(aino, who, fi.plain("Any age"))
    if area is None:
        callers_message = await press(aino, area_question, fi.plain("Everywhere"))
    else:
        callers_message = await aino.ask(area)
    attempts_message = await pick_callers(aino, callers_message, callers)
    summary = await finish_form(aino, attempts_message, attempts=attempts, gap=gap)
    return await press_start(team, summary, listed)


def start_label(summary: SentMessage) -> str:
    """Return the Start button's label as the summary shows it."""
    (label,) = [b for row in summary.buttons for b in row if b.startswith("✅")]
    return label


async def press_start(team, summary: SentMessage, listed: int | None = None) -> Begun:
    """Press Start on the summary; return the started message and the campaign."""
    label = start_label(summary)
    if listed is not None:
        assert label == fi.plain("✅ Start: call {n}", n=str(listed)), label
    started = await press(team.aino, summary, label)
    await team.telegram.settle()
    overviews = await team.services.campaigns.recent(team.coordinator)
    campaign = max((o.campaign for o in overviews), key=lambda c: c.id)
    return Begun(message=team.telegram.current(started), campaign=campaign)


async def start_quietly(
    team,
    callers: Iterable[str],
    *,
    name: str = "Syysoitot",
    born_by: int | None = 1956,
    attempts: int = 2,
    gap: timedelta = timedelta(hours=3),
) -> Campaign:
    """Start a campaign through the service, for tests whose subject is not the form."""
    people = {p.name: p.id for p in await team.services.campaigns.callers(team.coordinator)}
    spec = CampaignSpec(
        name=name,
        selection=Selection(born_by=born_by),
        callers=frozenset(people[n] for n in callers),
        attempts=attempts,
        gap=gap,
    )
    return (await team.services.campaigns.start(team.coordinator, spec)).campaign


# --- the callers ------------------------------------------------------------------------------


def task_of(card: SentMessage) -> int:
    """Return the call's task id from its card's Record button."""
    return CallAction.parse(card.button_data[fi.plain(RECORD)]).task_id


def name_on(card: SentMessage, names: Iterable[str]) -> str:
    """Return which of `names` the card is about (exactly one)."""
    (found,) = [n for n in names if n in card.text]
    return found


async def take_call(user) -> SentMessage:
    """Send /call; return the card (or the refusal)."""
    return await user.ask("/call")


async def report_call(
    telegram,
    user,
    card: SentMessage,
    contact: str,
    *,
    all_right: bool = True,
    needs: Iterable[str] = (),
    consent: bool | None = None,
    urgent: bool = False,
    before_submit=None,
) -> SentMessage:
    """Record a call through the phone-check form from its card; return the message Submit made.

    `contact`: reached, no_answer, wrong_number or refused (the form's values).
    """
    needs = list(needs)
    prompt = await press(user, card, fi.plain(RECORD))
    assert question(FORM, "contact") in prompt.text, prompt.text
    prompt = await press(user, prompt, choice(FORM, "contact", contact))
    if contact == "reached":
        assert question(FORM, "all_right") in prompt.text, prompt.text
        prompt = await press(user, prompt, button("Yes" if all_right else "No"))
        for need in needs:
            prompt = await press(user, prompt, tick(FORM, "needs", need))
        prompt = await press(user, prompt, button("Done ✔"))
        if "conversation_help" in needs:
            assert question(FORM, "consent_parish") in prompt.text, prompt.text
            prompt = await press(user, prompt, button("Yes" if consent else "No"))
        assert question(FORM, "urgent") in prompt.text, prompt.text
        prompt = await press(user, prompt, button("Yes" if urgent else "No"))
    assert question(FORM, "note") in prompt.text, prompt.text
    summary = await press(user, prompt, button("Skip"))
    if before_submit is not None:
        await before_submit(summary)
    await user.click_and_wait(summary, button("✅ Submit"))
    await telegram.settle()
    return telegram.current(summary)


def secrets_in(request, secrets: Iterable[str]) -> list[str]:
    """Return which of `secrets` a recorded request carries anywhere in its parameters."""
    flat = repr(request.params)
    return [s for s in secrets if s in flat]


def requests_to(telegram, chat_id: int, since: int = 0) -> list:
    """Every recorded request from index `since` that writes to, edits in or answers `chat_id`."""
    found = []
    for request in telegram.requests[since:]:
        if request.method == "getUpdates":
            continue
        params = request.params
        query_id = str(params.get("callback_query_id", ""))
        if query_id.startswith(str(chat_id)) or str(params.get("chat_id", "")) == str(chat_id):
            found.append(request)
    return found
