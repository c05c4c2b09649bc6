"""The campaign rules: reading what a coordinator types, checking a campaign, the list after a call.

`after_call` is driven by real decisions: `decide` with phone-check facts, the campaign's attempts
and the answers a caller gives, so the mapping is checked against the follow-up rules it relies on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.campaigns import (
    ATTEMPT_CHOICES,
    GAP_CHOICES,
    MAX_ATTEMPTS,
    MAX_GAP,
    MAX_NAME,
    AfterCall,
    CallResult,
    CampaignError,
    CampaignFigures,
    CampaignProblem,
    CampaignSpec,
    EntryResult,
    Selection,
    after_call,
    age_in,
    born_by_for_age,
    parse_areas,
    parse_born_by,
    parse_gap,
)
from bot.domain.outcomes import CONTACT_VALUES, Contact, Decision, OutcomeFacts, decide
from bot.domain.tasks import TaskKind, TaskState, UnfinishedReason

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GAP = timedelta(hours=3)
P = CampaignProblem


def problem_of(call, *args: Any) -> CampaignProblem:
    with pytest.raises(CampaignError) as raised:
        call(*args)
    return raised.value.problem


# --- parse_born_by ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year"),
    [("1956", 1956), (" 1956 ", 1956), ("1956\n", 1956), ("1900", 1900), ("2026", 2026)],
)
def test_a_birth_year_is_read(text: str, year: int):
    assert parse_born_by(text, TODAY) == year


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1899",  # before 1900
        "2027",  # after this year
        "56",
        "956",
        "19560",
        "+1956",
        "1956.0",
        "19 56",
        "1956a",
        "vuosi 1956",
        "-1956",
        "１９５６",  # full-width digits
        "١٩٥٦",  # Arabic-Indic digits
        "१९५६",  # Devanagari digits
        "1９56",  # one full-width digit among ASCII ones
    ],
)
def test_a_bad_birth_year_is_refused(text: str):
    assert problem_of(parse_born_by, text, TODAY) is P.BORN_BY


@given(st.integers(min_value=1900, max_value=TODAY.year))
def test_every_year_from_1900_to_this_year_reads_back(year: int):
    assert parse_born_by(str(year), TODAY) == year


@given(st.integers(min_value=0, max_value=9999).filter(lambda y: not 1900 <= y <= TODAY.year))
def test_four_digit_years_out_of_bounds_are_refused(year: int):
    assert problem_of(parse_born_by, f"{year:04d}", TODAY) is P.BORN_BY


@given(st.text(alphabet=st.characters(categories=["Nd"]), min_size=4, max_size=4))
def test_only_ascii_digits_make_a_year(text: str):
    if text.isascii() and 1900 <= int(text) <= TODAY.year:
        assert parse_born_by(text, TODAY) == int(text)
    else:
        assert problem_of(parse_born_by, text, TODAY) is P.BORN_BY


def test_the_upper_bound_is_the_year_of_today():
    assert parse_born_by("2030", date(2030, 1, 1)) == 2030
    assert problem_of(parse_born_by, "2030", date(2029, 12, 31)) is P.BORN_BY


# --- parse_areas --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "areas"),
    [
        ("70100", ("70100",)),
        ("70100 702", ("70100", "702")),
        ("702,70100", ("70100", "702")),
        ("702; 70100 ,  7", ("7", "70100", "702")),
        ("  702\n70100\t70820  ", ("70100", "702", "70820")),
        ("702 702 702", ("702",)),  # duplicates count once
        ("00100 70", ("00100", "70")),  # leading zeros are kept
        ("0", ("0",)),
    ],
)
def test_areas_are_read_sorted_and_unique(text: str, areas: tuple[str, ...]):
    assert parse_areas(text) == areas


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        ",",
        " ; , ",
        "123456",  # longer than a postal code
        "70a",
        "70-100",
        "70.1",
        "kaikki",
        "٧٠١",  # Arabic-Indic digits
        "７０１",  # full-width digits
        "70100 ７０",  # one bad part spoils the lot
        " ".join(str(70100 + n) for n in range(21)),  # 21 areas
    ],
)
def test_bad_areas_are_refused(text: str):
    assert problem_of(parse_areas, text) is P.AREA


def test_twenty_areas_is_the_limit():
    twenty = [str(70100 + n) for n in range(20)]
    assert parse_areas(" ".join(twenty)) == tuple(sorted(twenty))


_PREFIX = st.text(alphabet="0123456789", min_size=1, max_size=5)
_SEPARATOR = st.sampled_from([" ", ",", ";", ", ", " ; ", "\n", "\t", "  "])


@given(st.lists(_PREFIX, min_size=1, max_size=20), st.data())
def test_any_list_of_prefixes_reads_back_as_a_sorted_set(prefixes: list[str], data):
    text = prefixes[0]
    for prefix in prefixes[1:]:
        text += data.draw(_SEPARATOR) + prefix
    assert parse_areas(data.draw(_SEPARATOR) + text) == tuple(sorted(set(prefixes)))


@given(st.text(max_size=30))
def test_areas_are_ascii_digit_prefixes_or_refused(text: str):
    try:
        areas = parse_areas(text)
    except CampaignError as error:
        assert error.problem is P.AREA
    else:
        assert 1 <= len(areas) <= 20 and list(areas) == sorted(set(areas))
        assert all(a.isascii() and a.isdigit() and 1 <= len(a) <= 5 for a in areas)


# --- parse_gap ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gap"),
    [
        ("3", timedelta(hours=3)),
        ("3 h", timedelta(hours=3)),
        ("3h", timedelta(hours=3)),
        (" 3 H ", timedelta(hours=3)),
        ("2 t", timedelta(hours=2)),  # tuntia
        ("2 tim", timedelta(hours=2)),  # timmar
        ("1,5", timedelta(minutes=90)),
        ("1,5 h", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("0,25", timedelta(minutes=15)),
        ("30 min", timedelta(minutes=30)),
        ("90min", timedelta(minutes=90)),
        ("0", timedelta(0)),
        ("0 min", timedelta(0)),
        ("168", MAX_GAP),  # a week is the longest gap
        ("10080 min", MAX_GAP),
        ("0,01", timedelta(minutes=1)),  # 36 s rounds to a whole minute
        ("0,001", timedelta(0)),  # 3.6 s rounds to nothing
        ("1,99 min", timedelta(minutes=2)),
    ],
)
def test_a_gap_is_read_in_whole_minutes(text: str, gap: timedelta):
    assert parse_gap(text) == gap


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "h",
        "min",
        "-1",
        "-1 h",
        "3 days",
        "3 hours",
        "3 minutes",
        "3 s",
        "1e3",
        "1,5,2",
        ".5",
        "5.",
        "3 h 30 min",
        "169",  # over a week
        "10081 min",
        "168,1",
        "٣",  # Arabic-Indic digit
        "３",  # full-width digit
        "３ h",
        "½",
    ],
)
def test_a_bad_gap_is_refused(text: str):
    assert problem_of(parse_gap, text) is P.GAP


@pytest.mark.parametrize("text", ["99999999999", "9" * 400, "99999999999999 min", "1" + "0" * 30])
def test_a_huge_gap_is_refused_not_an_overflow(text: str):
    assert problem_of(parse_gap, text) is P.GAP


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["", " h", "h", " t", " tim"]))
def test_whole_hours_up_to_a_week_are_accepted_and_more_refused(hours: int, unit: str):
    text = f"{hours}{unit}"
    if hours <= 168:
        assert parse_gap(text) == timedelta(hours=hours)
    else:
        assert problem_of(parse_gap, text) is P.GAP


@given(st.text(alphabet="0123456789 ,.hHtimnMIN-٣３", max_size=10))
def test_a_gap_is_whole_minutes_within_a_week_or_refused(text: str):
    try:
        gap = parse_gap(text)
    except CampaignError as error:
        assert error.problem is P.GAP
    else:
        assert timedelta(0) <= gap <= MAX_GAP
        assert gap % timedelta(minutes=1) == timedelta(0)


def test_the_gap_choices_are_valid_gaps():
    for gap in GAP_CHOICES:
        assert spec(gap=gap).checked().gap == gap
    for attempts in ATTEMPT_CHOICES:
        assert spec(attempts=attempts).checked().attempts == attempts


# --- ages ---------------------------------------------------------------------------------------


def test_born_by_and_age_go_by_the_calendar_year():
    assert born_by_for_age(70, TODAY) == 1956
    assert born_by_for_age(70, date(2026, 1, 1)) == 1956
    assert born_by_for_age(85, date(2026, 12, 31)) == 1941
    assert age_in(1956, TODAY) == 70
    assert age_in(1956, date(2027, 1, 1)) == 71
    assert age_in(None, TODAY) is None


@given(st.integers(min_value=0, max_value=120), st.dates(min_value=date(1950, 1, 1)))
def test_the_age_of_the_latest_birth_year_is_the_age_asked(age: int, today: date):
    year = born_by_for_age(age, today)
    assert age_in(year, today) == age
    assert age_in(year - 1, today) == age + 1  # born earlier: older


# --- CampaignSpec.checked -----------------------------------------------------------------------


def spec(**changes: Any) -> CampaignSpec:
    values: dict[str, Any] = {
        "name": "Syksyn soitot",
        "selection": Selection(born_by=1956, areas=("701",)),
        "callers": frozenset({7, 8}),
        "attempts": 2,
        "gap": GAP,
    }
    return CampaignSpec(**{**values, **changes})


def test_a_good_spec_is_returned_with_its_name_tidied():
    raw = spec(name="  Syksyn \t soitot\n 2026  ")
    checked = raw.checked()
    assert checked.name == "Syksyn soitot 2026"
    assert checked.model_dump(exclude={"name"}) == raw.model_dump(exclude={"name"})
    assert raw.name == "  Syksyn \t soitot\n 2026  "  # the original is unchanged (frozen)


def test_the_defaults_are_two_attempts_three_hours_apart():
    plain = CampaignSpec(name="x", selection=Selection(), callers=frozenset({1}))
    assert (plain.attempts, plain.gap) == (2, timedelta(hours=3))
    assert plain.checked() == plain


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("", False),
        ("   ", False),
        ("\n\t", False),
        ("a", True),
        ("a" * MAX_NAME, True),
        ("a" * (MAX_NAME + 1), False),
        (" " + "a " * 50, True),  # 99 characters once tidied
        ("ä" * MAX_NAME, True),  # characters, not bytes
        ("ab  " * 25, True),  # 74 characters once tidied
    ],
)
def test_a_name_is_one_to_a_hundred_characters_once_tidied(name: str, ok: bool):
    if ok:
        assert spec(name=name).checked().name == " ".join(name.split())
    else:
        assert problem_of(spec(name=name).checked) is P.NAME


@pytest.mark.parametrize(
    ("attempts", "ok"), [(-1, False), (0, False), (1, True), (MAX_ATTEMPTS, True), (11, False)]
)
def test_attempts_are_one_to_ten(attempts: int, ok: bool):
    if ok:
        assert spec(attempts=attempts).checked().attempts == attempts
    else:
        assert problem_of(spec(attempts=attempts).checked) is P.ATTEMPTS


@pytest.mark.parametrize(
    ("gap", "ok"),
    [
        (timedelta(0), True),
        (timedelta(minutes=1), True),
        (timedelta(minutes=90), True),
        (MAX_GAP, True),
        (timedelta(minutes=-1), False),
        (MAX_GAP + timedelta(minutes=1), False),
        (timedelta(seconds=30), False),  # not whole minutes
        (timedelta(hours=1, seconds=1), False),
        (timedelta(hours=1, microseconds=1), False),
        (MAX_GAP - timedelta(seconds=1), False),
    ],
)
def test_the_gap_is_whole_minutes_up_to_a_week(gap: timedelta, ok: bool):
    if ok:
        assert spec(gap=gap).checked().gap == gap
    else:
        assert problem_of(spec(gap=gap).checked) is P.GAP


def test_a_campaign_needs_a_caller():
    assert problem_of(spec(callers=frozenset()).checked) is P.NO_CALLERS
    assert spec(callers=frozenset({5})).checked().callers == frozenset({5})


def test_the_first_problem_is_named():
    bad = {"name": "", "attempts": 0, "gap": timedelta(seconds=1), "callers": frozenset()}
    assert problem_of(spec(**bad).checked) is P.NAME
    bad["name"] = "ok"
    assert problem_of(spec(**bad).checked) is P.ATTEMPTS
    bad["attempts"] = 2
    assert problem_of(spec(**bad).checked) is P.GAP
    bad["gap"] = GAP
    assert problem_of(spec(**bad).checked) is P.NO_CALLERS


def test_a_campaign_error_names_its_problem_and_when():
    error = CampaignError(P.LIST_DONE, when=NOW)
    assert error.problem is P.LIST_DONE and error.when == NOW and str(error) == "list_done"
    assert CampaignError(P.NAME).when is None


# --- after_call, on real decisions ------------------------------------------------------------


def decision(attempts: int, failed_before: int = 0, **answers: Any) -> Decision:
    return decide(
        OutcomeFacts(
            kind=TaskKind.PHONE_CHECK,
            answers=answers,
            failed_calls_before=failed_before,
            phone_attempts=attempts,
        )
    )


def routed(d: Decision, gap: timedelta = GAP) -> AfterCall:
    return after_call(d, declined=d.no_calls, now=NOW, gap=gap)


REACHED = {"contact": "reached", "all_right": True, "needs": [], "urgent": False}


def test_a_reached_resident_is_finished_reached():
    assert routed(decision(2, **REACHED)) == AfterCall(CallResult.REACHED, EntryResult.REACHED)


def test_needs_and_a_crisis_do_not_change_a_reached_call():
    answers = {
        **REACHED,
        "all_right": False,
        "needs": ["errands", "food_help", "home_care", "conversation_help", "health_concern"],
        "consent_parish": True,
        "urgent": True,
        "note": "Soita tyttärelle",
    }
    d = decision(2, **answers)
    assert d.crisis and d.new_tasks and d.referrals
    assert routed(d) == AfterCall(CallResult.REACHED, EntryResult.REACHED)


@pytest.mark.parametrize(("attempts", "failed_before"), [(2, 0), (3, 0), (3, 1), (10, 8)])
def test_an_unanswered_call_with_tries_left_waits_for_the_gap(attempts: int, failed_before: int):
    d = decision(attempts, failed_before, contact="no_answer")
    assert d.close is None
    assert routed(d) == AfterCall(CallResult.NO_ANSWER, None, NOW + GAP)
    assert routed(d, timedelta(0)).due_at == NOW  # no gap: due again at once


@pytest.mark.parametrize(("attempts", "failed_before"), [(1, 0), (2, 1), (3, 2), (10, 9)])
def test_the_last_unanswered_call_finishes_the_resident_unreached(
    attempts: int, failed_before: int
):
    d = decision(attempts, failed_before, contact="no_answer")
    assert d.reason is UnfinishedReason.NO_ANSWER
    assert routed(d) == AfterCall(CallResult.NO_ANSWER, EntryResult.UNREACHED)


def test_a_wrong_number_finishes_the_resident():
    d = decision(2, contact="wrong_number")
    assert routed(d) == AfterCall(CallResult.WRONG_NUMBER, EntryResult.WRONG_NUMBER)
    # On the last try too: a wrong number is a wrong number.
    assert routed(decision(2, 1, contact="wrong_number")).finished is EntryResult.WRONG_NUMBER


def test_a_resident_who_asks_not_to_be_called_is_declined():
    d = decision(2, contact="refused")
    assert d.no_calls and d.reason is UnfinishedReason.REFUSED
    assert routed(d) == AfterCall(CallResult.DECLINED, EntryResult.DECLINED)
    # The reason alone says so too, even without the flag.
    assert after_call(d, declined=False, now=NOW, gap=GAP) == AfterCall(
        CallResult.DECLINED, EntryResult.DECLINED
    )


def test_declined_wins_over_whatever_the_decision_says():
    for answers in (REACHED, {"contact": "no_answer"}, {"contact": "wrong_number"}):
        assert after_call(decision(2, **answers), declined=True, now=NOW, gap=GAP) == AfterCall(
            CallResult.DECLINED, EntryResult.DECLINED
        )


def test_a_form_without_a_contact_answer_counts_as_reached():
    d = decision(2, all_right=True)  # e.g. a custom phone-check form without `contact`
    assert d.close is TaskState.DONE
    assert routed(d) == AfterCall(CallResult.REACHED, EntryResult.REACHED)


@pytest.mark.parametrize(
    "reason", [UnfinishedReason.NOT_AT_HOME, UnfinishedReason.WRONG_ADDRESS, UnfinishedReason.OTHER]
)
def test_a_reason_a_phone_check_never_gives_finishes_the_entry(reason: UnfinishedReason):
    # Not a phone-check decision: the entry is finished (never left waiting or calling).
    result = routed(Decision(close=TaskState.NOT_COMPLETED, reason=reason))
    assert result.finished is not None and result.due_at is None


@settings(max_examples=300)
@given(
    attempts=st.integers(min_value=1, max_value=MAX_ATTEMPTS),
    data=st.data(),
    contact=st.sampled_from(CONTACT_VALUES[TaskKind.PHONE_CHECK]),
    gap_minutes=st.integers(min_value=0, max_value=int(MAX_GAP.total_seconds() // 60)),
    urgent=st.booleans(),
    needs=st.lists(
        st.sampled_from(["errands", "food_help", "home_care", "health_concern", "other"]),
        unique=True,
    ),
)
def test_every_call_maps_onto_the_list_as_the_rules_say(
    attempts: int, data, contact: Contact, gap_minutes: int, urgent: bool, needs: list[str]
):
    failed_before = data.draw(st.integers(min_value=0, max_value=attempts - 1))
    answers: dict[str, Any] = {"contact": contact.value}
    if contact is Contact.REACHED:
        answers |= {"all_right": True, "needs": needs, "urgent": urgent}
    gap = timedelta(minutes=gap_minutes)
    after = routed(decision(attempts, failed_before, **answers), gap)
    last = failed_before + 1 == attempts
    expected = {
        Contact.REACHED: AfterCall(CallResult.REACHED, EntryResult.REACHED),
        Contact.NO_ANSWER: AfterCall(CallResult.NO_ANSWER, EntryResult.UNREACHED)
        if last
        else AfterCall(CallResult.NO_ANSWER, None, NOW + gap),
        Contact.WRONG_NUMBER: AfterCall(CallResult.WRONG_NUMBER, EntryResult.WRONG_NUMBER),
        Contact.REFUSED: AfterCall(CallResult.DECLINED, EntryResult.DECLINED),
    }[contact]
    assert after == expected
    assert (after.finished is None) == (after.due_at is not None)


# --- CampaignFigures ----------------------------------------------------------------------------


def test_empty_figures():
    figures = CampaignFigures()
    assert (figures.total, figures.called, figures.open, figures.done) == (0, 0, 0, 0)
    assert figures.needs == {} and figures.callers == ()
    assert CampaignFigures().needs is not figures.needs  # no shared default


def test_the_derived_figures():
    figures = CampaignFigures(
        total=40,
        never_called=10,
        retry=3,
        calling=2,
        reached=12,
        unreached=4,
        wrong_number=2,
        no_phone=5,
        declined=2,
        visits=11,
    )
    assert figures.open == 10 + 3 + 2
    assert figures.done == 40 - 15 == 12 + 4 + 2 + 5 + 2


_COUNT = st.integers(min_value=0, max_value=500)


@given(
    never_called=_COUNT,
    retry=_COUNT,
    calling=_COUNT,
    reached=_COUNT,
    unreached=_COUNT,
    wrong_number=_COUNT,
    no_phone=_COUNT,
    declined=_COUNT,
)
def test_open_and_done_add_up_to_the_total(**counts: int):
    total = sum(counts.values())
    figures = CampaignFigures(total=total, **counts)
    finished = sum(counts[k] for k in ("reached", "unreached", "wrong_number", "no_phone"))
    finished += counts["declined"]
    assert figures.open + figures.done == total
    assert figures.done == finished
    assert figures.open == counts["never_called"] + counts["retry"] + counts["calling"]
