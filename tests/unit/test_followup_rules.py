"""The follow-up rules as a table: one row per rule, each asserting the whole decision."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.outcomes import (
    CONTACT_VALUES,
    DONE_CONTACTS,
    Contact,
    Decision,
    Need,
    NewTask,
    NoticeKind,
    OutcomeFacts,
    Problem,
    Referral,
    ReferralKind,
    decide,
    is_crisis,
)
from bot.domain.tasks import TaskKind, TaskState, UnfinishedReason

K, S, R, N = TaskKind, TaskState, UnfinishedReason, NoticeKind
DONE, FAILED = S.DONE, S.NOT_COMPLETED

REVISIT = NewTask(K.HOME_VISIT, "revisit")
CONVERSATION_REVISIT = NewTask(K.CONVERSATION_HELP, "revisit")
VISIT = NewTask(K.HOME_VISIT, "phone_unreached")
ERRAND = NewTask(K.ERRAND, "errands")
FOOD = NewTask(K.DELIVERY, "food_help")
PARISH_YES = Referral(ReferralKind.PARISH, consent=True)
PARISH_NO = Referral(ReferralKind.PARISH, consent=False)
HOME_CARE = Referral(ReferralKind.HOME_CARE, consent=False)


def facts(
    kind: TaskKind,
    *,
    failed: int = 0,
    not_home: int = 0,
    attempts: int = 2,
    **answers: Any,
) -> OutcomeFacts:
    return OutcomeFacts(
        kind=kind,
        answers=answers,
        failed_calls_before=failed,
        not_home_before=not_home,
        phone_attempts=attempts,
    )


def met(**answers: Any) -> OutcomeFacts:
    """A home visit where the pair met the resident."""
    return facts(K.HOME_VISIT, contact="met", **answers)


def done(**fields: Any) -> Decision:
    return Decision(close=DONE, reason=None, **fields)


def failed(reason: UnfinishedReason, **fields: Any) -> Decision:
    return Decision(close=FAILED, reason=reason, **fields)


KEEP = Decision(close=None, reason=None)

# (id, facts, the whole expected decision)
ROWS: list[tuple[str, OutcomeFacts, Decision]] = [
    # --- home visit ------------------------------------------------------------------------
    ("visit met", met(), done()),
    (
        "visit met, all fine",
        met(all_right=True, needs=[], urgent=False, note="Kaikki hyvin."),
        done(),
    ),
    (
        "visit not at home, first time: revisit",
        facts(K.HOME_VISIT, contact="not_at_home"),
        failed(R.NOT_AT_HOME, new_tasks=(REVISIT,)),
    ),
    (
        "visit not at home, on the revisit: coordinators take over",
        facts(K.HOME_VISIT, contact="not_at_home", not_home=1),
        failed(R.NOT_AT_HOME, notices=(N.UNREACHABLE,)),
    ),
    (
        "visit not at home, third time: still no new task",
        facts(K.HOME_VISIT, contact="not_at_home", not_home=2),
        failed(R.NOT_AT_HOME, notices=(N.UNREACHABLE,)),
    ),
    (
        "visit refused",
        facts(K.HOME_VISIT, contact="refused"),
        failed(R.REFUSED, notices=(N.REFUSED,)),
    ),
    (
        "visit wrong address",
        facts(K.HOME_VISIT, contact="wrong_address"),
        failed(R.WRONG_ADDRESS, notices=(N.WRONG_ADDRESS,)),
    ),
    # --- conversation help visit (the home visit form) ---------------------------------------
    ("conversation met", facts(K.CONVERSATION_HELP, contact="met"), done()),
    (
        "conversation not at home, first time: a conversation revisit",
        facts(K.CONVERSATION_HELP, contact="not_at_home"),
        failed(R.NOT_AT_HOME, new_tasks=(CONVERSATION_REVISIT,)),
    ),
    (
        "conversation not at home again",
        facts(K.CONVERSATION_HELP, contact="not_at_home", not_home=1),
        failed(R.NOT_AT_HOME, notices=(N.UNREACHABLE,)),
    ),
    (
        "conversation refused",
        facts(K.CONVERSATION_HELP, contact="refused"),
        failed(R.REFUSED, notices=(N.REFUSED,)),
    ),
    (
        "conversation wrong address",
        facts(K.CONVERSATION_HELP, contact="wrong_address"),
        failed(R.WRONG_ADDRESS, notices=(N.WRONG_ADDRESS,)),
    ),
    # --- phone check ------------------------------------------------------------------------
    ("phone reached", facts(K.PHONE_CHECK, contact="reached"), done()),
    (
        "phone no answer, 1 attempt configured: a home visit at once",
        facts(K.PHONE_CHECK, contact="no_answer", attempts=1),
        failed(R.NO_ANSWER, new_tasks=(VISIT,)),
    ),
    (
        "phone no answer, 1st of 2: call again",
        facts(K.PHONE_CHECK, contact="no_answer", attempts=2),
        KEEP,
    ),
    (
        "phone no answer, 2nd of 2: a home visit",
        facts(K.PHONE_CHECK, contact="no_answer", attempts=2, failed=1),
        failed(R.NO_ANSWER, new_tasks=(VISIT,)),
    ),
    (
        "phone no answer, 1st of 3",
        facts(K.PHONE_CHECK, contact="no_answer", attempts=3),
        KEEP,
    ),
    (
        "phone no answer, 2nd of 3",
        facts(K.PHONE_CHECK, contact="no_answer", attempts=3, failed=1),
        KEEP,
    ),
    (
        "phone no answer, 3rd of 3",
        facts(K.PHONE_CHECK, contact="no_answer", attempts=3, failed=2),
        failed(R.NO_ANSWER, new_tasks=(VISIT,)),
    ),
    (
        "phone no answer, more failures than attempts (setting lowered)",
        facts(K.PHONE_CHECK, contact="no_answer", attempts=2, failed=5),
        failed(R.NO_ANSWER, new_tasks=(VISIT,)),
    ),
    (
        "phone reached after earlier failed calls",
        facts(K.PHONE_CHECK, contact="reached", attempts=3, failed=2),
        done(),
    ),
    (
        "phone wrong number",
        facts(K.PHONE_CHECK, contact="wrong_number"),
        failed(R.WRONG_NUMBER, new_tasks=(VISIT,), notices=(N.WRONG_NUMBER,)),
    ),
    (
        "phone wrong number after a failed call",
        facts(K.PHONE_CHECK, contact="wrong_number", failed=1, attempts=3),
        failed(R.WRONG_NUMBER, new_tasks=(VISIT,), notices=(N.WRONG_NUMBER,)),
    ),
    (
        "phone refused: asks not to be called again, no visit, nobody told",
        facts(K.PHONE_CHECK, contact="refused"),
        failed(R.REFUSED, no_calls=True),
    ),
    (
        "phone refused after a failed call",
        facts(K.PHONE_CHECK, contact="refused", failed=1, attempts=3),
        failed(R.REFUSED, no_calls=True),
    ),
    # --- errand -----------------------------------------------------------------------------
    ("errand delivered", facts(K.ERRAND, delivered=True), done()),
    (
        "errand not delivered",
        facts(K.ERRAND, delivered=False),
        failed(R.OTHER, notices=(N.ERRAND_PROBLEM,)),
    ),
    (
        "errand delivered with a problem",
        facts(K.ERRAND, delivered=True, problems=["item_missing"]),
        done(notices=(N.ERRAND_PROBLEM,)),
    ),
    (
        "errand not delivered with problems: the notice comes once",
        facts(K.ERRAND, delivered=False, problems=["shop_closed", "payment", "other"]),
        failed(R.OTHER, notices=(N.ERRAND_PROBLEM,)),
    ),
    ("errand no problems ticked", facts(K.ERRAND, delivered=True, problems=[]), done()),
    ("errand problems skipped", facts(K.ERRAND, delivered=True, problems=None), done()),
    (
        "errand with amount and note",
        facts(K.ERRAND, delivered=True, amount=37, note="Kuitti jätetty."),
        done(),
    ),
    ("errand delivered skipped", facts(K.ERRAND, delivered=None), done()),
    # --- delivery ---------------------------------------------------------------------------
    ("delivery delivered", facts(K.DELIVERY, contact="delivered"), done()),
    (
        "delivery not at home",
        facts(K.DELIVERY, contact="not_at_home"),
        failed(R.NOT_AT_HOME, notices=(N.NOT_DELIVERED,)),
    ),
    (
        "delivery not at home again: no revisit rule for deliveries",
        facts(K.DELIVERY, contact="not_at_home", not_home=1),
        failed(R.NOT_AT_HOME, notices=(N.NOT_DELIVERED,)),
    ),
    (
        "delivery refused",
        facts(K.DELIVERY, contact="refused"),
        failed(R.REFUSED, notices=(N.NOT_DELIVERED,)),
    ),
    # --- no closing answer: custom forms ----------------------------------------------------
    *[(f"{kind} without answers", facts(kind), done()) for kind in TaskKind],
    *[
        (f"{kind} custom answers without contact", facts(kind, mood=4, note="Hyvä päivä."), done())
        for kind in TaskKind
    ],
    (
        "custom form: unknown contact value closes as done",
        facts(K.HOME_VISIT, contact="moved_away"),
        done(),
    ),
    # --- needs ------------------------------------------------------------------------------
    ("need errands", met(needs=["errands"]), done(new_tasks=(ERRAND,), needs=("errands",))),
    ("need food help", met(needs=["food_help"]), done(new_tasks=(FOOD,), needs=("food_help",))),
    (
        "need home care: a referral without consent",
        met(needs=["home_care"]),
        done(referrals=(HOME_CARE,), needs=("home_care",)),
    ),
    (
        "need conversation help, consent yes",
        met(needs=["conversation_help"], consent_parish=True),
        done(referrals=(PARISH_YES,), needs=("conversation_help",)),
    ),
    (
        "need conversation help, consent no",
        met(needs=["conversation_help"], consent_parish=False),
        done(referrals=(PARISH_NO,), needs=("conversation_help",)),
    ),
    (
        "need conversation help, consent missing",
        met(needs=["conversation_help"]),
        done(referrals=(PARISH_NO,), needs=("conversation_help",)),
    ),
    (
        "need conversation help, consent skipped",
        met(needs=["conversation_help"], consent_parish=None),
        done(referrals=(PARISH_NO,), needs=("conversation_help",)),
    ),
    (
        "consent without conversation help: no referral",
        met(needs=["errands"], consent_parish=True),
        done(new_tasks=(ERRAND,), needs=("errands",)),
    ),
    (
        "home care does not borrow the parish consent",
        met(needs=["home_care"], consent_parish=True),
        done(referrals=(HOME_CARE,), needs=("home_care",)),
    ),
    (
        "need health concern: crisis",
        met(needs=["health_concern"]),
        done(crisis=True, needs=("health_concern",)),
    ),
    (
        "need other: told to the coordinators",
        met(needs=["other"]),
        done(notices=(N.OTHER_NEED,), needs=("other",)),
    ),
    ("needs skipped", met(needs=None), done()),
    ("unknown need is recorded only", met(needs=["pets"]), done(needs=("pets",))),
    (
        "errands + food help + conversation help with consent",
        met(needs=["errands", "food_help", "conversation_help"], consent_parish=True),
        done(
            new_tasks=(ERRAND, FOOD),
            referrals=(PARISH_YES,),
            needs=("errands", "food_help", "conversation_help"),
        ),
    ),
    (
        "the same, on a phone check",
        facts(
            K.PHONE_CHECK,
            contact="reached",
            needs=["errands", "food_help", "conversation_help"],
            consent_parish=True,
        ),
        done(
            new_tasks=(ERRAND, FOOD),
            referrals=(PARISH_YES,),
            needs=("errands", "food_help", "conversation_help"),
        ),
    ),
    (
        "every need, ticked in reverse: follow-ups in table order, needs as given",
        met(
            needs=[
                "other",
                "health_concern",
                "home_care",
                "conversation_help",
                "food_help",
                "errands",
            ],
            consent_parish=True,
        ),
        done(
            new_tasks=(ERRAND, FOOD),
            referrals=(HOME_CARE, PARISH_YES),
            notices=(N.OTHER_NEED,),
            crisis=True,
            needs=(
                "other",
                "health_concern",
                "home_care",
                "conversation_help",
                "food_help",
                "errands",
            ),
        ),
    ),
    (
        "needs follow whatever the answers hold, even on a refusal",
        facts(K.HOME_VISIT, contact="refused", needs=["errands"]),
        failed(R.REFUSED, new_tasks=(ERRAND,), notices=(N.REFUSED,), needs=("errands",)),
    ),
    # --- urgent, all right ------------------------------------------------------------------
    ("urgent: crisis", met(urgent=True), done(crisis=True)),
    ("not urgent", met(urgent=False), done()),
    ("urgent skipped", met(urgent=None), done()),
    (
        "urgent and a health concern",
        met(urgent=True, needs=["health_concern"]),
        done(crisis=True, needs=("health_concern",)),
    ),
    (
        "urgent on a phone check",
        facts(K.PHONE_CHECK, contact="reached", urgent=True),
        done(crisis=True),
    ),
    ("not all right", met(all_right=False), done(notices=(N.NOT_ALL_RIGHT,))),
    ("all right", met(all_right=True), done()),
    (
        "not all right and another need: notices in rule order",
        met(all_right=False, needs=["other"]),
        done(notices=(N.OTHER_NEED, N.NOT_ALL_RIGHT), needs=("other",)),
    ),
    (
        "notice order: closing, errand problem, other need, not all right",
        facts(
            K.HOME_VISIT,
            contact="refused",
            problems=["payment"],
            needs=["other"],
            all_right=False,
        ),
        failed(
            R.REFUSED,
            notices=(N.REFUSED, N.ERRAND_PROBLEM, N.OTHER_NEED, N.NOT_ALL_RIGHT),
            needs=("other",),
        ),
    ),
]

# Every kind x every contact value: the values the kind's form offers are rows above; any other
# value (another kind's, or any for an errand, which closes by `delivered`) closes the task as done.
ALL_CONTACTS = list(Contact)
CROSS_ROWS: list[tuple[str, OutcomeFacts, Decision]] = [
    (f"{kind} contact={value}: not its value, done", facts(kind, contact=value.value), done())
    for kind, value in itertools.product(TaskKind, ALL_CONTACTS)
    if value not in CONTACT_VALUES.get(kind, ())
]


@pytest.mark.parametrize(
    ("given_facts", "expected"),
    [pytest.param(f, d, id=name) for name, f, d in ROWS + CROSS_ROWS],
)
def test_the_rule_table(given_facts: OutcomeFacts, expected: Decision):
    assert decide(given_facts) == expected


def test_every_kind_and_its_own_contact_value_has_a_row():
    covered = {(f.kind, f.answers.get("contact")) for _, f, _ in ROWS if "contact" in f.answers}
    for kind, values in CONTACT_VALUES.items():
        for value in values:
            assert (kind, value) in covered, (kind, value)


def test_row_ids_are_unique():
    names = [name for name, _, _ in ROWS + CROSS_ROWS]
    assert len(names) == len(set(names))


def test_standard_values():
    assert set(DONE_CONTACTS) == {"met", "reached", "delivered"}
    assert {v.value for v in Need} == {
        "errands",
        "food_help",
        "conversation_help",
        "home_care",
        "health_concern",
        "other",
    }
    assert {v.value for v in Problem} == {"item_missing", "shop_closed", "payment", "other"}
    assert K.ERRAND not in CONTACT_VALUES


@pytest.mark.parametrize(
    "changes",
    [{"phone_attempts": 0}, {"failed_calls_before": -1}, {"not_home_before": -1}],
)
def test_impossible_facts_are_refused(changes: dict[str, int]):
    with pytest.raises(ValueError):
        OutcomeFacts(kind=K.PHONE_CHECK, answers={}, **changes)


@pytest.mark.parametrize(
    ("close", "reason"),
    [(DONE, R.OTHER), (FAILED, None), (None, R.NO_ANSWER), (S.OPEN, None)],
)
def test_a_decision_keeps_close_and_reason_consistent(
    close: TaskState | None, reason: UnfinishedReason | None
):
    with pytest.raises(ValueError):
        Decision(close=close, reason=reason)


# --- properties -------------------------------------------------------------------------------
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2000),
    st.text(max_size=8),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.lists(st.text(max_size=8), max_size=3),
)
NEED_VALUES = [v.value for v in Need]


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The value, a skipped answer (None), or a junk value of any type."""
    return st.one_of(strategy, st.none(), JUNK)


@st.composite
def outcome_facts(draw: st.DrawFn) -> OutcomeFacts:
    candidates = {
        "contact": maybe(st.sampled_from([*(v.value for v in Contact), "moved_away"])),
        "delivered": maybe(st.booleans()),
        "problems": maybe(st.lists(st.sampled_from([v.value for v in Problem]), unique=True)),
        "all_right": maybe(st.booleans()),
        "needs": maybe(st.lists(st.sampled_from([*NEED_VALUES, "pets"]), unique=True)),
        "consent_parish": maybe(st.booleans()),
        "urgent": maybe(st.booleans()),
        "amount": maybe(st.integers(0, 1000)),
        "note": maybe(st.text(max_size=20)),
    }
    keys = draw(st.sets(st.sampled_from(sorted(candidates))))
    answers = {key: draw(candidates[key]) for key in keys}
    return OutcomeFacts(
        kind=draw(st.sampled_from(list(TaskKind))),
        answers=answers,
        failed_calls_before=draw(st.integers(0, 6)),
        not_home_before=draw(st.integers(0, 4)),
        phone_attempts=draw(st.integers(1, 5)),
    )


def ticked(answers: Any, question: str) -> list[Any]:
    value = answers.get(question)
    return value if isinstance(value, list) else []


@given(outcome_facts())
def test_a_consented_parish_referral_needs_consent_and_conversation_help(f: OutcomeFacts):
    decision = decide(f)
    wants = "conversation_help" in ticked(f.answers, "needs")
    if PARISH_YES in decision.referrals:
        assert f.answers.get("consent_parish") is True and wants
    parish = [r for r in decision.referrals if r.kind is ReferralKind.PARISH]
    assert bool(parish) == wants
    assert all(not r.consent for r in decision.referrals if r.kind is ReferralKind.HOME_CARE)


@given(outcome_facts())
def test_only_an_unanswered_call_with_attempts_left_keeps_the_task(f: OutcomeFacts):
    decision = decide(f)
    keeps = (
        f.kind is K.PHONE_CHECK
        and f.answers.get("contact") == "no_answer"
        and f.failed_calls_before + 1 < f.phone_attempts
    )
    assert (decision.close is None) == keeps
    if decision.close is None:
        assert decision.reason is None and decision.new_tasks == ()


@given(outcome_facts())
def test_crisis_iff_urgent_or_health_concern(f: OutcomeFacts):
    expected = f.answers.get("urgent") is True or "health_concern" in ticked(f.answers, "needs")
    assert decide(f).crisis is expected is is_crisis(f.answers)


@given(outcome_facts())
def test_nothing_is_repeated(f: OutcomeFacts):
    decision = decide(f)
    for items in (decision.new_tasks, decision.referrals, decision.notices):
        assert len(items) == len(set(items))


@given(outcome_facts())
def test_a_reason_iff_not_completed_and_a_done_contact_is_done(f: OutcomeFacts):
    decision = decide(f)
    assert (decision.reason is not None) == (decision.close is FAILED)
    contact = f.answers.get("contact")
    if f.kind is not K.ERRAND and isinstance(contact, str) and contact in DONE_CONTACTS:
        assert decision.close is DONE


@given(outcome_facts())
def test_note_and_amount_change_nothing(f: OutcomeFacts):
    plain = {k: v for k, v in f.answers.items() if k not in ("note", "amount")}
    without = OutcomeFacts(
        kind=f.kind,
        answers=plain,
        failed_calls_before=f.failed_calls_before,
        not_home_before=f.not_home_before,
        phone_attempts=f.phone_attempts,
    )
    assert decide(f) == decide(without)


@given(outcome_facts())
def test_needs_are_recorded_as_ticked(f: OutcomeFacts):
    assert list(decide(f).needs) == [v for v in ticked(f.answers, "needs") if isinstance(v, str)]


def test_a_plain_string_kind_is_taken_as_the_task_kind():
    f = OutcomeFacts(kind="phone_check", answers={"contact": "no_answer"})  # type: ignore[arg-type]
    assert f.kind is K.PHONE_CHECK
    assert decide(f) == KEEP
    with pytest.raises(ValueError):
        OutcomeFacts(kind="picnic", answers={})  # type: ignore[arg-type]
