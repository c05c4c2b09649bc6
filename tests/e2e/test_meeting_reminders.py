"""Meeting reminders end to end, on the fake clock: the recurrence across both clock changes of a
year, exactly once across restarts and concurrent runs, the grace window, attendance answers, the
coordinators' brief against a seeded database, the morning digest and a group the bot was removed
from.

Nothing sleeps for the schedule: the test moves `bot.clock` and runs the meeting jobs whose time
has come (`run_meeting_jobs`), exactly as APScheduler would call them; `poke` runs every meeting
job at once whatever its time, to show that nothing goes out early. Texts are compared through the
translators' msgids, as the person reads them.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.domain.briefs import OPEN_ORDER
from bot.domain.meetings import Audience, AudienceKind, MeetingSpec
from bot.domain.people import Role
from bot.domain.tasks import TaskState
from bot.i18n import translators
from handlers.callback_data import Attend
from handlers.meeting_jobs import reschedule
from tests.e2e.forms_helpers import button, choice, press, report, shown, tick
from tests.e2e.meeting_helpers import create_meeting, meeting_jobs, run_meeting_jobs
from tests.e2e.teams import CALLER, PARTNERS, VOLUNTEERS
from tests.fakes import DEFAULT_TOKEN

HEL = ZoneInfo("Europe/Helsinki")
fi, sv, en = translators()["fi"], translators()["sv"], translators()["en"]
LANG = {1001: fi, 2001: sv, 2002: fi, 2003: en, 2004: fi, CALLER: fi, 4001: fi, 4002: sv}
EVERYONE = (1001, *VOLUNTEERS, CALLER, *PARTNERS)
TITLE = "Koordinaatioryhmä"  # create_meeting's default title
CUT = "\x1f"  # stands for a value a test does not predict: the text before it is compared


# The brief's names of task states and needs, by their msgids.
STATE_MSGIDS = {
    TaskState.OPEN: "open",
    TaskState.OFFERED: "offered",
    TaskState.ESCALATED: "escalated",
    TaskState.ACCEPTED: "accepted",
    TaskState.STARTED: "started",
}
NEED_MSGIDS = {
    "errands": "errands",
    "food_help": "food help",
    "conversation_help": "conversation help",
    "home_care": "home care",
    "health_concern": "health concern",
    "other": "other",
}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """Return the UTC instant of a Helsinki wall-clock time."""
    return datetime.combine(day, time(hour, minute), tzinfo=HEL).astimezone(UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def head(text: str) -> str:
    """Return a message as the fake Telegram shows it, up to the value the test left open."""
    return shown(text).split(CUT)[0]


def reminders_in(telegram, chat_id: int, title: str = TITLE) -> list:
    """The meeting reminders the bot sent to a chat, in the reader's language."""
    tr = LANG.get(chat_id, fi)
    first_line = shown(tr.gettext("🔔 <b>{title}</b>", title=title))
    return [m for m in telegram.messages(chat_id) if m.text.split("\n")[0] == first_line]


def briefs_in(telegram, chat_id: int, title: str = TITLE) -> list:
    tr = LANG.get(chat_id, fi)
    start = head(tr.gettext("📋 <b>Brief for {title}</b>, {when}", title=title, when=CUT))
    return [m for m in telegram.messages(chat_id) if m.text.startswith(start)]


def digests_in(telegram, chat_id: int) -> list:
    tr = LANG.get(chat_id, fi)
    start = head(tr.gettext("☀️ <b>Good morning.</b> {today}", today=CUT))
    return [m for m in telegram.messages(chat_id) if m.text.startswith(start)]


def counts(telegram) -> dict[int, int]:
    return {chat: telegram.message_count(chat) for chat in EVERYONE}


async def poke(bot, telegram) -> None:
    """Run every meeting job now, due or not (a restart, a second scheduler, a stray fire)."""
    await run_meeting_jobs(bot, telegram, until=datetime.max.replace(tzinfo=UTC))


async def answer_of(user, message, label: str) -> dict:
    """Press a button and return the bot's callback answer."""
    query = await user.press(message, label)
    await user.server.wait_for(lambda: query in user.server.callback_answers, what=label)
    return user.server.callback_answers[query]


def rows(settings, sql: str, *params) -> list[tuple]:
    """Read the bot's database directly (read-only)."""
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as conn:
        return conn.execute(sql, params).fetchall()


def reminder_outcomes(settings) -> list[tuple[str, str, str]]:
    return rows(
        settings, "SELECT day, offset_key, outcome FROM meeting_reminders ORDER BY due_at, id"
    )


def volunteer_reminders(telegram) -> dict[int, int]:
    return {uid: len(reminders_in(telegram, uid)) for uid in VOLUNTEERS}


# --- 1. the recurrence across both clock changes ------------------------------------------------


async def test_a_nine_oclock_meeting_reminds_at_local_time_across_both_clock_changes(
    team, telegram, bot
):
    # The team registered on the fixture's clock (November); the meeting is made in March.
    bot.clock.now = local(date(2026, 3, 20), 12)
    await create_meeting(team.aino, days=("su", "ma"))

    # The expectations themselves, spelled out once: 08:45 is 06:45 UTC in winter (EET) and
    # 05:45 UTC in summer (EEST); the day before at 16:00 is 14:00 or 13:00 UTC.
    assert local(date(2026, 3, 29), 8, 45) == utc(2026, 3, 29, 5, 45)  # the first summer Sunday
    assert local(date(2026, 3, 28), 16) == utc(2026, 3, 28, 14)  # its day-before, still winter
    assert local(date(2026, 10, 24), 16) == utc(2026, 10, 24, 13)  # the last summer Saturday
    assert local(date(2026, 10, 25), 8, 45) == utc(2026, 10, 25, 6, 45)  # the first winter day

    spring = [date(2026, 3, 22), date(2026, 3, 23), date(2026, 3, 29), date(2026, 3, 30)]
    autumn = [date(2026, 10, 18), date(2026, 10, 19), date(2026, 10, 25), date(2026, 10, 26)]
    for days in (spring, autumn):
        if days is autumn:
            # Months later: whatever fell due while nobody ran the jobs is skipped, not sent.
            before = volunteer_reminders(telegram)
            bot.clock.now = local(date(2026, 10, 16), 12)
            await run_meeting_jobs(bot, telegram)
            assert volunteer_reminders(telegram) == before
        expected = sorted(
            [(local(d - timedelta(days=1), 16), d, False) for d in days]
            + [(local(d, 8, 45), d, True) for d in days]
        )
        for due, day, last in expected:
            jobs = meeting_jobs(bot)
            assert jobs["meeting:1"].data == due, (day, last)
            assert jobs["meeting:digest"].data.astimezone(HEL).time() == time(7, 30)
            before = volunteer_reminders(telegram)
            briefs = len(briefs_in(telegram, 1001))
            bot.clock.now = due - timedelta(minutes=1)
            await poke(bot, telegram)
            assert volunteer_reminders(telegram) == before, f"early at {bot.clock.now}"
            bot.clock.now = due
            await run_meeting_jobs(bot, telegram)
            for uid in VOLUNTEERS:
                sent = reminders_in(telegram, uid)
                assert len(sent) == before[uid] + 1, (uid, due)
                assert f"{day.day}.{day.month}. 09:00–10:00" in sent[-1].text, sent[-1].text
            # The brief goes to the organiser with the last reminder only.
            assert len(briefs_in(telegram, 1001)) == briefs + int(last)


# --- 2. exactly once: a restart between two reminders, and concurrent runs ---------------------


async def test_each_reminder_is_sent_once_across_restarts_and_concurrent_runs(team, telegram, bot):
    await create_meeting(team.aino)  # Tuesdays and Fridays 09:00, the volunteers
    # A second meeting whose reminders fall due at the very same instants (two jobs at once).
    second = "Vapaaehtoisten tiistai"
    spec = MeetingSpec(
        title=second,
        weekdays=frozenset({1}),
        start=time(9),
        duration_minutes=30,
        link=None,
        place="Seurakuntatalo",
        audience=Audience(AudienceKind.ROLE, role=Role.VOLUNTEER),
    )
    await team.services.meetings.create(team.coordinator, spec)
    await reschedule(bot.app)
    jobs = meeting_jobs(bot)
    assert jobs["meeting:1"].data == jobs["meeting:2"].data == local(date(2026, 11, 23), 16)

    bot.clock.now = local(date(2026, 11, 23), 16)
    await run_meeting_jobs(bot, telegram)
    for uid in VOLUNTEERS:
        assert len(reminders_in(telegram, uid)) == len(reminders_in(telegram, uid, second)) == 1
    sent = counts(telegram)

    # A restart, and the jobs run again at the same time and a little later: nothing new.
    await bot.restart()
    await telegram.settle()
    await poke(bot, telegram)
    bot.clock.advance(minutes=5)
    await poke(bot, telegram)
    assert counts(telegram) == sent

    # The 15-minute reminders after the restart: two runs at once send each of them once.
    bot.clock.now = local(date(2026, 11, 24), 8, 45)
    await asyncio.gather(run_meeting_jobs(bot, telegram), run_meeting_jobs(bot, telegram))
    for uid in VOLUNTEERS:
        assert len(reminders_in(telegram, uid)) == len(reminders_in(telegram, uid, second)) == 2
        assert not briefs_in(telegram, uid) and not briefs_in(telegram, uid, second)
    assert len(briefs_in(telegram, 1001)) == len(briefs_in(telegram, 1001, second)) == 1
    expected = {chat: n + (2 if chat in (*VOLUNTEERS, 1001) else 0) for chat, n in sent.items()}
    assert counts(telegram) == expected

    await bot.restart()
    await telegram.settle()
    await poke(bot, telegram)
    assert counts(telegram) == expected


# --- 3. the grace window ------------------------------------------------------------------------


async def test_a_reminder_missed_while_down_is_sent_late_within_grace_and_skipped_after(
    team, telegram, bot, settings
):
    await create_meeting(team.aino)
    # Down over the day-before reminder, up again 5 minutes after it: it goes out by itself.
    await bot.stop()
    bot.clock.now = local(date(2026, 11, 23), 16, 5)
    await bot.start()
    await telegram.wait_for(
        lambda: all(reminders_in(telegram, uid) for uid in VOLUNTEERS), what="the late reminders"
    )
    await telegram.settle()
    await poke(bot, telegram)
    assert volunteer_reminders(telegram) == dict.fromkeys(VOLUNTEERS, 1)

    # Down over the 15-minute reminder, up 30 minutes after it: never sent, recorded skipped.
    await bot.stop()
    bot.clock.now = local(date(2026, 11, 24), 9, 15)
    await bot.start()
    await telegram.settle()
    await run_meeting_jobs(bot, telegram)
    assert volunteer_reminders(telegram) == dict.fromkeys(VOLUNTEERS, 1)
    assert not briefs_in(telegram, 1001)  # the brief goes with the skipped reminder: not at all

    # The next one goes out on time, and by then the missed one is on record as skipped.
    bot.clock.now = local(date(2026, 11, 26), 16)
    await run_meeting_jobs(bot, telegram)
    assert volunteer_reminders(telegram) == dict.fromkeys(VOLUNTEERS, 2)
    assert "27.11." in reminders_in(telegram, 2002)[-1].text
    assert reminder_outcomes(settings) == [
        ("2026-11-24", "1d16:00", "sent"),
        ("2026-11-24", "15m", "skipped"),
        ("2026-11-27", "1d16:00", "sent"),
    ]

    # With APURI_MEETING_GRACE_MINUTES=0 even one minute late is too late.
    await bot.stop()
    bot.settings = settings.model_copy(update={"meeting_grace_minutes": 0})
    bot.clock.now = local(date(2026, 11, 27), 8, 46)
    await bot.start()
    await telegram.settle()
    await run_meeting_jobs(bot, telegram)
    bot.clock.now = local(date(2026, 11, 30), 16)  # the next one, exactly on time
    await run_meeting_jobs(bot, telegram)
    assert volunteer_reminders(telegram) == dict.fromkeys(VOLUNTEERS, 3)
    assert reminder_outcomes(settings)[-2:] == [
        ("2026-11-27", "15m", "skipped"),
        ("2026-12-01", "1d16:00", "sent"),
    ]


# --- 4. attendance ------------------------------------------------------------------------------


async def test_volunteers_answer_and_the_coordinator_sees_it_in_the_card_and_the_brief(
    team, telegram, bot
):
    await create_meeting(team.aino)
    bot.clock.now = local(date(2026, 11, 23), 16)
    await run_meeting_jobs(bot, telegram)
    assert not briefs_in(telegram, 1001)  # the day-before reminder carries no brief
    reminder = {uid: reminders_in(telegram, uid)[-1] for uid in VOLUNTEERS}
    assert reminder[2001].buttons == [[sv.plain("✅ I'll attend"), sv.plain("❌ Can't attend")]]

    async def answer(user, label: str) -> str:
        bot.clock.advance(minutes=1)  # answers are listed in the order they were given
        found = await answer_of(user, reminder[user.user_id], LANG[user.user_id].plain(label))
        return found.get("text", "")

    assert await answer(team.bertil, "✅ I'll attend") == sv.plain(
        "Noted: you'll attend. Thank you!"
    )
    assert await answer(team.bertil, "✅ I'll attend") == sv.plain("Your answer was noted already.")
    assert await answer(team.cecilia, "❌ Can't attend") == fi.plain("Noted: you can't attend.")
    assert await answer(team.cecilia, "✅ I'll attend") == fi.plain(
        "Noted: you'll attend. Thank you!"
    )
    assert await answer(team.daniel, "❌ Can't attend") == en.plain("Noted: you can't attend.")
    # The caller is not invited: a forged press is refused.
    forged = Attend(1, date(2026, 11, 24).toordinal(), True).pack()
    query = await team.frida.press_data(telegram.messages(CALLER)[-1], forged)
    await telegram.wait_for(lambda: query in telegram.callback_answers)
    refused = telegram.callback_answers[query]
    assert refused["text"] == fi.plain("You are not among this meeting's attendees.")
    await telegram.settle()

    answers = [
        shown(fi.gettext("✅ attending: {names}", names="Bertil, Cecilia")),
        shown(fi.gettext("❌ can't: {names}", names="Daniel")),
    ]
    listing = await team.aino.ask("/meetings")
    card = await team.aino.click_and_wait(listing, TITLE)
    lines = card.text.split("\n")
    for line in answers:
        assert line in lines, card.text
    assert shown(fi.ngettext("{n} has not answered", "{n} have not answered", 1)) in lines

    # The brief comes with the last reminder, to the coordinator only, with the same answers.
    bot.clock.now = local(date(2026, 11, 24), 8, 45)
    await run_meeting_jobs(bot, telegram)
    (brief,) = briefs_in(telegram, 1001)
    for line in answers:
        assert line in brief.text.split("\n"), brief.text
    for uid in VOLUNTEERS:
        assert len(reminders_in(telegram, uid)) == 2 and not briefs_in(telegram, uid)

    # After the meeting has ended the buttons answer that it is over.
    bot.clock.now = local(date(2026, 11, 24), 10, 1)
    late = await answer_of(team.eeva, reminders_in(telegram, 2004)[-1], fi.plain("✅ I'll attend"))
    assert late["text"] == fi.plain("That meeting is over already.") and late.get("show_alert")
    attendance = await team.services.meetings.view(team.coordinator, 1)
    assert attendance.next is not None and attendance.next.day == date(2026, 11, 27)
    await telegram.settle()


# --- 5. the brief's figures against the database ------------------------------------------------


async def reported_visit(team, needs: list[str]) -> int:
    """A home visit Cecilia accepts and reports (met, all right, with these needs); its id."""
    task = await team.task()
    offers = await team.offer(task.id)
    card = await team.cecilia.click_and_wait(offers[2002], fi.plain("Accept"))
    prompt = await report(team.cecilia, card)
    prompt = await press(team.cecilia, prompt, choice("home_visit", "contact", "met"))
    prompt = await press(team.cecilia, prompt, button("Yes"))
    for need in needs:
        prompt = await press(team.cecilia, prompt, tick("home_visit", "needs", need))
    prompt = await press(team.cecilia, prompt, button("Done ✔"))
    prompt = await press(team.cecilia, prompt, button("No"))  # nothing urgent
    summary = await press(team.cecilia, prompt, button("Skip"))
    await team.cecilia.click_and_wait(summary, button("✅ Submit"))
    await team.telegram.settle()
    return task.id


def figures_lines(settings, now: datetime, since: datetime) -> list[str]:
    """The brief's figure lines, counted here with plain SQL and Python, rendered in Finnish."""

    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    tasks = [
        (i, TaskState(s), when(ws), when(we), when(c))
        for i, s, ws, we, c in rows(
            settings, "SELECT id, state, window_start, window_end, closed_at FROM tasks"
        )
    ]
    by_state = Counter(state for _, state, *_ in tasks)
    listed = sorted((t for t in tasks if t[1] in OPEN_ORDER), key=lambda t: (t[3], t[2], t[0]))
    overdue = [t[0] for t in listed if t[3] < now]
    escalated = [t[0] for t in listed if t[1] is TaskState.ESCALATED]
    closed = Counter(t[1] for t in tasks if t[4] is not None and t[4] >= since)
    needs: Counter[str] = Counter()
    for decision, at in rows(settings, "SELECT decision, submitted_at FROM outcomes"):
        if when(at) >= since:
            needs.update(set(json.loads(decision)["needs"]))
    referrals = Counter(
        kind
        for kind, at in rows(settings, "SELECT kind, created_at FROM referrals")
        if when(at) >= since
    )
    open_referrals = sum(
        1 for (state,) in rows(settings, "SELECT state FROM referrals") if state in ("new", "taken")
    )
    alerts = sum(1 for (at,) in rows(settings, "SELECT at FROM alerts") if when(at) >= since)
    unreachable = sorted(
        name
        for name, active, gone in rows(
            settings, "SELECT name, active, unreachable_since FROM people"
        )
        if active and gone
    )

    def ids(found: list[int]) -> str:
        return f"({' '.join(f'#{i}' for i in found)})" if found else ""

    def listing(counted: Counter[str]) -> str:
        ordered = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
        names = [f"{fi.plain(NEED_MSGIDS[k])} {n}" for k, n in ordered]
        return ", ".join(names) or "—"

    states = ", ".join(f"{fi.plain(STATE_MSGIDS[s])} {by_state[s]}" for s in OPEN_ORDER)
    lines = [
        fi.gettext(
            "<b>Open tasks:</b> {n} ({states})",
            n=sum(by_state[s] for s in OPEN_ORDER),
            states=states,
        ),
        fi.gettext("<b>Overdue:</b> {n} {ids}", n=len(overdue), ids=ids(overdue)),
        fi.gettext("<b>Escalated:</b> {n} {ids}", n=len(escalated), ids=ids(escalated)),
        fi.gettext(
            "<b>Closed since:</b> {done} done, {failed} not completed",
            done=closed[TaskState.DONE],
            failed=closed[TaskState.NOT_COMPLETED],
        ),
        fi.gettext("<b>New needs:</b> {needs}", needs=listing(needs)),
        fi.gettext(
            "<b>New referrals:</b> {referrals}; open referrals {open}",
            referrals=listing(referrals),
            open=open_referrals,
        ),
        fi.gettext("<b>Crisis alerts:</b> {n}", n=alerts),
        fi.gettext("<b>Unreachable by the bot:</b> {names}", names=", ".join(unreachable) or "—"),
    ]
    return [shown(line) for line in lines]


async def test_the_brief_counts_what_the_database_holds(team, telegram, bot, settings):
    await create_meeting(team.aino)  # Tuesdays and Fridays 09:00; now Monday 10:00
    done = await reported_visit(team, ["errands", "home_care"])  # a follow-up and a referral
    accepted = await team.task()
    offers = await team.offer(accepted.id)
    await team.daniel.click_and_wait(offers[2003], en.plain("Accept"))
    stale = await team.task()
    await team.offer(stale.id)
    later = await team.task(start_in=30)  # open, and not overdue at the meeting
    # Four hours on, the sweep escalates the offers nobody took.
    bot.clock.now = local(date(2026, 11, 23), 14, 30)
    await team.sweep()

    telegram.block(2004)  # Eeva blocks the bot: her reminder fails, she is unreachable
    bot.clock.now = local(date(2026, 11, 23), 16)
    await run_meeting_jobs(bot, telegram)
    assert not reminders_in(telegram, 2004)
    bot.clock.now = local(date(2026, 11, 24), 8, 45)
    await run_meeting_jobs(bot, telegram)
    (brief,) = briefs_in(telegram, 1001)

    # The previous Tuesday-or-Friday 09:00 is the last meeting the figures count from.
    since = local(date(2026, 11, 20), 9)
    lines = brief.text.split("\n")
    assert shown(fi.gettext("Since the last meeting ({since}):", since="20.11.")) in lines
    expected = figures_lines(settings, bot.clock(), since)
    assert expected == [line for line in lines if line in expected], brief.text
    # The seeding did make every kind of figure (so the comparison above is not all zeros).
    assert "Eeva" in expected[-1] and f"#{stale.id}" in expected[2]
    assert f"#{accepted.id}" in expected[1] and f"#{later.id}" not in expected[1]
    closed = fi.gettext(
        "<b>Closed since:</b> {done} done, {failed} not completed", done=1, failed=0
    )
    assert shown(closed) in expected and f"#{done}" not in expected[1]

    # Eeva unblocks and writes to the bot: she drops off the list of the next brief.
    telegram.unblock(2004)
    await team.eeva.ask("/start")
    bot.clock.now = local(date(2026, 11, 26), 16)
    await run_meeting_jobs(bot, telegram)
    assert len(reminders_in(telegram, 2004)) == 1
    bot.clock.now = local(date(2026, 11, 27), 8, 45)
    await run_meeting_jobs(bot, telegram)
    brief = briefs_in(telegram, 1001)[-1]
    assert shown(fi.gettext("Since the last meeting ({since}):", since="24.11.")) in brief.text
    expected = figures_lines(settings, bot.clock(), local(date(2026, 11, 24), 9))
    lines = brief.text.split("\n")
    assert expected == [line for line in lines if line in expected], brief.text
    assert shown(fi.gettext("<b>Unreachable by the bot:</b> {names}", names="—")) in lines


# --- 6. the morning digest ----------------------------------------------------------------------


async def test_the_coordinator_gets_the_morning_digest_once(team, telegram, bot, settings):
    await create_meeting(team.aino)  # Tuesdays and Fridays 09:00
    spec = MeetingSpec(
        title="Keskiviikon palaveri",
        weekdays=frozenset({2}),
        start=time(13, 30),
        duration_minutes=60,
        link=None,
        place="Seurakuntatalo",
        audience=Audience(AudienceKind.ROLE, role=Role.COORDINATOR),
    )
    await team.services.meetings.create(team.coordinator, spec)
    await reschedule(bot.app)
    # APURI_DIGEST_TIME defaults to 07:30 local: 05:30 UTC in winter.
    tuesday = local(date(2026, 11, 24), 7, 30)
    assert tuesday == utc(2026, 11, 24, 5, 30)
    assert meeting_jobs(bot)["meeting:digest"].data == tuesday

    bot.clock.now = tuesday - timedelta(minutes=1)
    await poke(bot, telegram)
    assert not digests_in(telegram, 1001)
    bot.clock.now = tuesday
    await run_meeting_jobs(bot, telegram)
    (digest,) = digests_in(telegram, 1001)
    lines = digest.text.split("\n")
    assert shown(fi.gettext("<b>Meetings today:</b>")) in lines
    assert f"• 09:00 {TITLE}" in lines
    assert "Keskiviikon palaveri" not in digest.text  # Wednesday's is not today's
    for chat in EVERYONE:
        if chat != 1001:
            assert not digests_in(telegram, chat), chat

    # A restart within the grace window, and the jobs run again: still one digest.
    sent = counts(telegram)
    bot.clock.advance(minutes=5)
    await bot.restart()
    await telegram.settle()
    await poke(bot, telegram)
    assert counts(telegram) == sent
    assert meeting_jobs(bot)["meeting:digest"].data == local(date(2026, 11, 25), 7, 30)

    # Wednesday's digest lists Wednesday's meeting.
    bot.clock.now = local(date(2026, 11, 25), 7, 30)
    await run_meeting_jobs(bot, telegram)
    assert "• 13:30 Keskiviikon palaveri" in digests_in(telegram, 1001)[-1].text.split("\n")

    # APURI_DIGEST_TIME=off: no digest job at all, and no digest the next morning.
    await bot.stop()
    bot.settings = Settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        APURI_DATABASE=settings.database,
        APURI_DEFAULT_LANGUAGE="fi",
        APURI_DIGEST_TIME="off",
    )
    await bot.start()
    await telegram.settle()
    assert "meeting:digest" not in meeting_jobs(bot)
    bot.clock.now = local(date(2026, 11, 26), 7, 30)
    await poke(bot, telegram)
    assert len(digests_in(telegram, 1001)) == 2


# --- 7. a group the bot was removed from --------------------------------------------------------


async def test_a_group_that_removed_the_bot_is_reported_once_and_not_written_to_again(
    team, telegram, bot
):
    chat_id, group_title = -1001234, "Kuopion koordinaatio"
    group = await telegram.add_bot_to_group(chat_id, group_title, by=team.aino)
    await telegram.settle()
    await create_meeting(team.aino, audience="A Telegram group", choice=group_title)

    bot.clock.now = local(date(2026, 11, 23), 16)
    await run_meeting_jobs(bot, telegram)
    (in_group,) = reminders_in(telegram, chat_id)
    assert in_group.buttons == [[fi.plain("✅ I'll attend"), fi.plain("❌ Can't attend")]]
    # A volunteer answers in the group; the answer is in his own language.
    answered = await answer_of(team.bertil, in_group, fi.plain("✅ I'll attend"))
    assert answered["text"] == sv.plain("Noted: you'll attend. Thank you!")
    assert not group.messages[1:]

    # The bot is removed without a word: the next reminder fails, and the organiser is told once.
    telegram.remove_bot_from_group(chat_id)
    notice_head = head(
        fi.gettext(
            "⚠️ The bot was removed from the group chat <b>{group}</b>. Reminders of {meetings} "
            "cannot reach it. Add the bot back to the group, or /meetings → Edit → attendees.",
            group=group_title,
            meetings=TITLE,
        )
    )

    def notices() -> int:
        return sum(1 for m in telegram.messages(1001) if m.text == notice_head)

    def group_sends() -> int:
        return sum(
            1
            for r in telegram.requests
            if r.method == "sendMessage" and str(r.params.get("chat_id")) == str(chat_id)
        )

    bot.clock.now = local(date(2026, 11, 24), 8, 45)
    await run_meeting_jobs(bot, telegram)
    assert notices() == 1
    (brief,) = briefs_in(telegram, 1001)
    removed = fi.gettext("<b>Groups the bot was removed from:</b> {titles}", titles=group_title)
    assert shown(removed) in brief.text.split("\n")
    attempts = group_sends()
    assert attempts == 2  # the day-before reminder, and the one that failed

    # Later reminders do not try the group; Telegram's own kick update tells nobody again.
    await telegram.kick_bot_from_group(chat_id, by=team.aino)
    for moment in (local(date(2026, 11, 26), 16), local(date(2026, 11, 27), 8, 45)):
        bot.clock.now = moment
        await run_meeting_jobs(bot, telegram)
    assert group_sends() == attempts
    assert notices() == 1
    assert len(reminders_in(telegram, chat_id)) == 1
    assert len(briefs_in(telegram, 1001)) == 2


# --- 8. moving one occurrence after its first reminder ------------------------------------------


async def test_an_occurrence_moved_after_its_first_reminder_is_reminded_at_its_new_time(
    team, telegram, bot
):
    await create_meeting(team.aino)
    bot.clock.now = local(date(2026, 11, 23), 16)
    await run_meeting_jobs(bot, telegram)
    assert volunteer_reminders(telegram) == dict.fromkeys(VOLUNTEERS, 1)

    # Monday evening Aino moves Tuesday's meeting to Wednesday 09:00 through /meetings.
    bot.clock.now = local(date(2026, 11, 23), 17)
    listing = await team.aino.ask("/meetings")
    card = await team.aino.click_and_wait(listing, TITLE)
    dates = await team.aino.click_and_wait(card, fi.plain("📆 Dates"))
    menu = await team.aino.click_and_wait(dates, "24.11.")
    await team.aino.click_and_wait(menu, fi.plain("🕑 Move this one"))
    await team.aino.ask("25.11. 9.00")
    await telegram.settle()
    moved_note = shown(fi.gettext("(moved from its usual time)"))
    assert any("25.11." in m.text for m in telegram.messages(2002)[-1:])

    # Tuesday 16:00, the moved occurrence's day-before time: it was reminded already.
    bot.clock.now = local(date(2026, 11, 24), 16)
    await run_meeting_jobs(bot, telegram)
    assert volunteer_reminders(telegram) == dict.fromkeys(VOLUNTEERS, 1)
    next_wake = {w.name: w.at for w in await team.services.meetings.plan()}["meeting:1"]

    # Wednesday 08:45: the 15-minute reminder names the new day and says it was moved.
    bot.clock.now = local(date(2026, 11, 25), 8, 45)
    await run_meeting_jobs(bot, telegram)
    assert volunteer_reminders(telegram) == dict.fromkeys(VOLUNTEERS, 2)
    text = reminders_in(telegram, 2002)[-1].text
    assert "25.11. 09:00–10:00" in text and moved_note in text
    assert len(briefs_in(telegram, 1001)) == 1

    # After the Tuesday 16:00 run the next wake must be in the future, not "now" again.
    assert next_wake > local(date(2026, 11, 24), 16)
