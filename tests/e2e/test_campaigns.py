"""A phone-check campaign from start to close, as a coordinator and two callers run it.

Aino starts "Syksyn soitot" for everyone aged 70+ in the postal area 701 through the chat's form;
Frida and Gunnar take the calls with /call and report every kind of outcome; each outcome is routed
(tasks to the volunteer pairs, referrals, alerts, home visits), and the overview's figures add up.
All residents are invented.

This module sets the parish organisation, so consented referrals reach Gustav and Helmi.
"""

from __future__ import annotations

import re

import pytest

from bot.domain.campaigns import CampaignProblem, CampaignState
from bot.domain.outcomes import ReferralKind
from bot.domain.reports import ReferralState
from bot.domain.tasks import TaskKind, TaskState
from bot.i18n import translators
from handlers.broadcasts_render import number
from handlers.campaigns_render import NEED_NAMES, overview_text
from handlers.render import local_time
from tests.e2e.campaign_helpers import (
    DECLINED_END,
    NEXT_CALL,
    REACHED_END,
    UNREACHED_END,
    WRONG_NUMBER_END,
    ZONE,
    add_residents,
    coordinator_reports,
    name_on,
    person,
    problem,
    report_call,
    start_campaign,
    started_line,
    task_of,
    text,
)
from tests.e2e.forms_helpers import crisis_notice, shown, urgent_alerts
from tests.e2e.teams import CALLER, PARISH, PARTNERS, RESIDENT, VOLUNTEERS

fi = translators()["fi"]
GUNNAR = 3002


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"parish_organisation": PARISH})


# The team's Hilkka (born 1941, 70100) is on the list too. Nobody here is a real person.
ARVO = person("Arvo Keksitty", "+358401000001", born=1939)
BELLA = person("Bella Kuviteltu", "+358401000002", born=1948)
CYRIL = person("Cyril Olematon", "+358401000003", born=1950, language="sv")
DORIS = person("Doris Tarinainen", "+358401000004", born=1936)
EINO = person("Eino Satunen", "+358401000005", born=1945)
FANNI = person("Fanni Vastaamaton", "+358401000006", born=1942)
GIDEON = person("Gideon Väärinumero", "+358401000007", born=1953)
HERTTA = person("Hertta Kieltäytyjä", "+358401000008", born=1947)
ILMARI = person("Ilmari Puhelimeton", None, born=1940)
JONNA = person("Jonna Nuorempi", "+358401000010", born=1970)  # 56: not called
KALLE = person("Kalle Muualla", "+358401000011", born=1944, postal_code="00100")  # elsewhere
RESIDENTS = (ARVO, BELLA, CYRIL, DORIS, EINO, FANNI, GIDEON, HERTTA, ILMARI, JONNA, KALLE)
LISTED = (RESIDENT, ARVO, BELLA, CYRIL, DORIS, EINO, FANNI, GIDEON, HERTTA, ILMARI)
NAMES = [r.name for r in (RESIDENT, *RESIDENTS)]


def mentions(message_text: str, task_id: int) -> bool:
    return re.search(rf"#{task_id}(?!\d)", message_text) is not None


def offered_to_every_volunteer(telegram, task_id: int) -> bool:
    return all(any(mentions(m.text, task_id) for m in telegram.messages(uid)) for uid in VOLUNTEERS)


async def follow_ups(team, resident_id: int, call_task: int) -> list:
    """The tasks a call's outcome created for the resident."""
    history = await team.services.residents.history(team.coordinator, resident_id)
    return [t for t in history if t.follows_id == call_task]


async def referrals(team, resident_id: int) -> list:
    timeline = await team.services.outcomes.timeline(team.coordinator, resident_id)
    return [e.referral for e in timeline.entries if e.referral is not None]


async def test_a_campaign_from_start_to_close_routes_every_outcome(team, telegram, clock, register):
    gunnar = await register(GUNNAR, "Gunnar", "caller")
    frida = team.frida
    ids = await add_residents(team, RESIDENTS)
    ids[RESIDENT.name] = team.resident.id

    # --- Start: 70+ in the area 701, both callers; the defaults (2 attempts, 3 h apart) -------
    begun = await start_campaign(team, area="701", listed=len(LISTED))
    campaign = begun.campaign
    assert campaign.selection.areas == ("701",) and campaign.attempts == 2
    assert begun.message.text.startswith(started_line("Syksyn soitot", len(LISTED))), (
        begun.message.text
    )
    assert (
        shown(
            fi.ngettext(
                "{n} resident has no phone number: a home visit was arranged.",
                "{n} residents have no phone number: a home visit was arranged for each.",
                1,
            )
        )
        in begun.message.text
    )
    # Ilmari has no phone: his home visit goes out to the pairs through the outbox.
    (no_phone_visit,) = (
        t
        for t in await team.services.residents.history(team.coordinator, ids[ILMARI.name])
        if t.kind is TaskKind.HOME_VISIT
    )
    assert no_phone_visit.cause == "no_phone"
    await telegram.wait_for(
        lambda: offered_to_every_volunteer(telegram, no_phone_visit.id),
        10,
        what="the no-phone visit's offers",
    )

    callers_seen: dict[int, set[str]] = {CALLER: set(), GUNNAR: set()}

    async def next_card(user, expected: str, *, attempt: int = 1):
        card = await user.ask("/call")
        assert name_on(card, NAMES) == expected, card.text
        assert (
            text(
                "📞 <b>{campaign}</b> — call {attempt} of {of}",
                campaign=campaign.name,
                attempt=attempt,
                of=2,
            )
            in card.text.splitlines()[0]
        )
        callers_seen[user.user_id].add(expected)
        return card

    # 1. Frida: Hilkka is reached and all is well — a routine call, no report to Aino.
    card = await next_card(frida, RESIDENT.name)
    assert RESIDENT.phone in card.text
    frida_done = await report_call(telegram, frida, card, "reached")
    assert text(REACHED_END) in frida_done.text
    assert frida_done.buttons == [[fi.plain(NEXT_CALL)]]
    assert coordinator_reports(telegram, task_of(card), "Frida") == []

    # 2. Gunnar: Arvo needs errands and food help: an errand and a delivery for the pairs.
    card = await next_card(gunnar, ARVO.name)
    done = await report_call(telegram, gunnar, card, "reached", needs=["errands", "food_help"])
    assert text(REACHED_END) in done.text
    made = await follow_ups(team, ids[ARVO.name], task_of(card))
    assert sorted((t.kind, t.cause) for t in made) == sorted(
        [(TaskKind.ERRAND, "errands"), (TaskKind.DELIVERY, "food_help")]
    )
    for task in made:
        assert task.state is TaskState.OFFERED
        assert offered_to_every_volunteer(telegram, task.id), task

    # 3. Frida, through the Next call button: Bella needs home care and, with consent, the
    # parish's conversation help: a home-care referral for Aino, the parish contacts get theirs.
    card = await frida.click_and_wait(frida_done, fi.plain(NEXT_CALL))
    assert name_on(card, NAMES) == BELLA.name, card.text
    callers_seen[CALLER].add(BELLA.name)
    await report_call(
        telegram, frida, card, "reached", needs=["home_care", "conversation_help"], consent=True
    )
    kinds = {(r.kind, r.consent, r.state) for r in await referrals(team, ids[BELLA.name])}
    assert kinds == {
        (ReferralKind.HOME_CARE.value, False, ReferralState.NEW),
        (ReferralKind.PARISH.value, True, ReferralState.NEW),
    }
    (report,) = coordinator_reports(telegram, task_of(card), "Frida")
    assert text("• Home-care services: a referral for you to arrange.") in report
    for partner in PARTNERS:
        assert BELLA.name in telegram.messages(partner)[-1].text

    # 4. Gunnar: Cyril wants conversation help but no consent: nothing reaches the parish.
    card = await next_card(gunnar, CYRIL.name)
    partner_messages = {p: len(telegram.messages(p)) for p in PARTNERS}
    await report_call(telegram, gunnar, card, "reached", needs=["conversation_help"], consent=False)
    (referral,) = await referrals(team, ids[CYRIL.name])
    assert referral.kind == ReferralKind.PARISH.value and not referral.consent
    assert referral.state is ReferralState.NOTED
    assert {p: len(telegram.messages(p)) for p in PARTNERS} == partner_messages
    for partner in PARTNERS:
        assert not any(CYRIL.name in m.text for m in telegram.messages(partner))

    # 5. Frida: Doris needs a professional today: Aino is alerted before the report is sent.
    card = await next_card(frida, DORIS.name)

    async def alerted_already(_summary):
        (alert,) = urgent_alerts(telegram, task_of(card), TaskKind.PHONE_CHECK)
        assert DORIS.name in alert.text and DORIS.phone in alert.text

    await report_call(telegram, frida, card, "reached", urgent=True, before_submit=alerted_already)
    assert crisis_notice() in [m.text for m in telegram.messages(CALLER)]
    assert len(urgent_alerts(telegram, task_of(card), TaskKind.PHONE_CHECK)) == 1
    assert coordinator_reports(telegram, task_of(card), "Frida")  # and the report follows

    # 6. Gunnar: Eino has a health concern: alerted at once as well.
    card = await next_card(gunnar, EINO.name)

    async def alerted_of_eino(_summary):
        (alert,) = urgent_alerts(telegram, task_of(card), TaskKind.PHONE_CHECK)
        assert EINO.name in alert.text and EINO.phone in alert.text

    await report_call(
        telegram,
        gunnar,
        card,
        "reached",
        needs=["health_concern"],
        before_submit=alerted_of_eino,
    )
    assert len(urgent_alerts(telegram, task_of(card), TaskKind.PHONE_CHECK)) == 1

    # 7. Frida: Fanni does not answer: back on the list, due again after the gap of 3 hours.
    card = await next_card(frida, FANNI.name)
    fanni_first = task_of(card)
    done = await report_call(telegram, frida, card, "no_answer")
    retry_at = clock() + campaign.gap
    assert (
        text(
            "↩️ No answer: the resident goes back on the list and is called again after {time}.",
            time=local_time(fi, retry_at, ZONE),
        )
        in done.text
    )
    assert text("📞 Call attempt {attempt} of {of} recorded.", attempt=1, of=2) in done.text
    assert coordinator_reports(telegram, fanni_first, "Frida") == []  # routine
    assert await follow_ups(team, ids[FANNI.name], fanni_first) == []

    # 8. Gunnar gets Gideon, not Fanni (her gap has not passed): a wrong number -> home visit.
    card = await next_card(gunnar, GIDEON.name)
    done = await report_call(telegram, gunnar, card, "wrong_number")
    assert text(WRONG_NUMBER_END) in done.text
    (visit,) = await follow_ups(team, ids[GIDEON.name], task_of(card))
    assert visit.kind is TaskKind.HOME_VISIT and visit.state is TaskState.OFFERED
    assert offered_to_every_volunteer(telegram, visit.id)

    # 9. Three hours on, Fanni's retry comes before Hertta's first call; no answer again -> a
    # home visit for the pairs.
    clock.advance(hours=3)
    card = await next_card(frida, FANNI.name, attempt=2)
    done = await report_call(telegram, frida, card, "no_answer")
    assert text(UNREACHED_END) in done.text
    (visit,) = await follow_ups(team, ids[FANNI.name], task_of(card))
    assert visit.kind is TaskKind.HOME_VISIT and visit.cause == "phone_unreached"
    assert offered_to_every_volunteer(telegram, visit.id)

    # 10. Gunnar: Hertta does not want to be called.
    card = await next_card(gunnar, HERTTA.name)
    done = await report_call(telegram, gunnar, card, "refused")
    assert text(DECLINED_END) in done.text
    assert await follow_ups(team, ids[HERTTA.name], task_of(card)) == []

    # Nobody is left: Jonna (56) and Kalle (another area) were never listed.
    for user in (frida, gunnar):
        empty = await user.ask("/call")
        assert empty.text == problem(CampaignProblem.LIST_DONE), empty.text
    assert callers_seen == {
        CALLER: {RESIDENT.name, BELLA.name, DORIS.name, FANNI.name},
        GUNNAR: {ARVO.name, CYRIL.name, EINO.name, GIDEON.name, HERTTA.name},
    }
    for user_id in (CALLER, GUNNAR):
        for message in telegram.messages(user_id):
            assert JONNA.name not in message.text and KALLE.name not in message.text

    # --- The overview: press 📊 on /campaign ----------------------------------------------------
    listing = await team.aino.ask("/campaign")
    overview_message = await team.aino.click_and_wait(listing, f"📊 {campaign.name}")
    overview = await team.services.campaigns.overview(team.coordinator, campaign.id)
    f = overview.figures
    assert (f.total, f.called, f.reached, f.calling, f.open) == (10, 9, 6, 0, 0)
    assert (f.never_called, f.retry) == (0, 0)
    assert (f.visits, f.unreached, f.wrong_number, f.no_phone) == (3, 1, 1, 1)
    assert f.declined == 1 and f.urgent == 2
    assert f.needs == {
        "errands": 1,
        "food_help": 1,
        "home_care": 1,
        "conversation_help": 2,
        "health_concern": 1,
    }
    per_caller = {c.name: (c.calls, c.reached, c.no_answer, c.calling) for c in f.callers}
    assert per_caller == {"Frida": (5, 3, 2, 0), "Gunnar": (5, 3, 0, 0)}
    shown_text = overview_message.text
    assert shown_text == shown(overview_text(fi, overview, ZONE))
    for line in (
        text("Residents: <b>{total}</b>", total="10"),
        text(
            "Called: {called} · reached <b>{reached}</b> · on a call now {calling}",
            called="9",
            reached="6",
            calling="0",
        ),
        text(
            "Home visits arranged: <b>{visits}</b> (no answer {unreached} · wrong number "
            "{wrong} · no phone {no_phone})",
            visits="3",
            unreached="1",
            wrong="1",
            no_phone="1",
        ),
        text("Asked not to be called: {n}", n="1"),
        text("Urgent, told to the coordinators at once: {n}", n="2"),
        text(
            "• {name}: {calls} calls, {reached} reached, {no_answer} no answer",
            name="Frida",
            calls="5",
            reached="3",
            no_answer="2",
        ),
        text(
            "• {name}: {calls} calls, {reached} reached, {no_answer} no answer",
            name="Gunnar",
            calls="5",
            reached="3",
            no_answer="0",
        ),
    ):
        assert line in shown_text.splitlines(), (line, shown_text)
    needs_line = next(
        line
        for line in shown_text.splitlines()
        if line.startswith(text("Needs found: {needs}", needs=""))
    )
    for need, count in f.needs.items():
        assert f"{fi.plain(NEED_NAMES[need])} {number(fi, count)}" in needs_line

    # --- Close it: confirm, and the callers hear it is over ---------------------------------
    confirm = await team.aino.click_and_wait(overview_message, fi.plain("🏁 Close"))
    assert confirm.text == text(
        "Close <b>{name}</b> for good? Nobody more is called from its list; calls under way can "
        "still be reported.",
        name=campaign.name,
    )
    closed = await team.aino.click_and_wait(confirm, fi.plain("🏁 Yes, close it"))
    assert closed.text.splitlines()[0] == text(
        "📞 <b>{name}</b> — {state}", name=campaign.name, state=fi.plain("closed")
    )
    assert closed.buttons == [[fi.plain("🔄 Refresh")]]
    stored = await team.services.campaigns.overview(team.coordinator, campaign.id)
    assert stored.campaign.state is CampaignState.CLOSED
    for user in (frida, gunnar):
        refused = await user.ask("/call")
        assert refused.text == problem(CampaignProblem.NONE_RUNNING), refused.text
    # The Next call button of an old report says the campaign is closed.
    answer = await frida.press(frida_done, fi.plain(NEXT_CALL))
    closed_note = await frida.next_message()
    await telegram.settle()
    assert answer in telegram.callback_answers
    assert closed_note.text == problem(CampaignProblem.CLOSED), closed_note.text

    # --- A later campaign leaves Hertta out: she asked not to be called -------------------------
    later = await start_campaign(team, "Kevään soitot", age=0, area="701")
    # Everyone in 701 of any age (Jonna too) but Hertta.
    expected = len(LISTED) + 1 - 1
    assert later.message.text.startswith(started_line("Kevään soitot", expected)), (
        later.message.text
    )
    figures = (await team.services.campaigns.overview(team.coordinator, later.campaign.id)).figures
    assert figures.total == expected
