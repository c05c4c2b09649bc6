"""Follow-up rules: what happens after a volunteer or a caller closes a task with an outcome form.

The rules read the answers by the *standard question ids* below; any form that uses those ids gets
the rules, and a form that uses none of them simply closes its task as done.

**Closing the task.** The task's kind says which answer closes it: an errand is closed by
`delivered` (yes/no), every other kind by `contact` (one choice). The pair (kind, answer) is looked
up in `CLOSING_RULES`:

- *Home visit* (and a *conversation help* visit, which uses the same form): met the resident ->
  done. Nobody at home on the first visit -> not completed, and a new visit ("revisit") is offered
  to the pairs; nobody at home again on the revisit -> not completed, and the coordinators are told
  the resident is unreachable (no third visit is made automatically). Refused or wrong address ->
  not completed, and the coordinators are told.
- *Phone check* (calls to residents aged 70+): reached -> done. No answer -> the task stays with the
  caller for another try until the configured number of attempts is used; after the last attempt
  it is not completed and a home visit ("phone_unreached") goes to the pairs, as in the Kuopio
  model. A wrong number -> not completed, a home visit, and the coordinators are told. Refused
  (the resident asks not to be called) -> not completed, and `Decision.no_calls` marks the resident
  so that no campaign calls them again.
- *Errand*: delivered -> done; not delivered -> not completed (other reason) and the coordinators
  are told about an errand problem.
- *Delivery*: delivered -> done; nobody at home or refused -> not completed and the coordinators
  are told it was not delivered.
- No closing answer at all (a custom form without `contact`/`delivered`), or a value that the
  table does not know for that kind -> done, with no closing follow-up.

**What the resident needs** (applies to whatever the answers hold, whatever the kind): errands ->
a new errand task; food help -> a new delivery task; home-care services -> a referral to home care
noted for the coordinators (no contact details leave the city, so no consent is asked); conversation
help -> a referral to the parish, carrying the resident's consent (`consent_parish`) — the parish
may call only when consent is True; other -> the coordinators are told. Ticked errand `problems`
and "not all right" are told to the coordinators as well.

**Crisis.** `urgent` answered yes (a professional is needed today) or a ticked health concern
alerts the coordinators at once. Life-threatening emergencies are 112; the bot says so itself.

Nothing is repeated: each new task, referral and notice appears at most once, in a fixed order
(closing rule first, then the needs in the order errands, food help, home care, conversation
help, other).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

from bot.domain.forms.model import Answer, QuestionType
from bot.domain.tasks import TaskKind, TaskState, UnfinishedReason

__all__ = [
    "ALL_RIGHT",
    "AMOUNT",
    "CLOSING_QUESTION",
    "CLOSING_RULES",
    "CONSENT_PARISH",
    "CONTACT",
    "CONTACT_VALUES",
    "DELIVERED",
    "DONE_CONTACTS",
    "HOME_VISIT_ROUNDS",
    "NEEDS",
    "NEED_RULES",
    "NOTE",
    "PHONE_UNREACHED",
    "PROBLEMS",
    "REVISIT",
    "STANDARD_TYPES",
    "URGENT",
    "Answer",
    "Closing",
    "Contact",
    "Decision",
    "Need",
    "NewTask",
    "NoticeKind",
    "OutcomeFacts",
    "Problem",
    "Referral",
    "ReferralKind",
    "Tries",
    "decide",
    "is_crisis",
]

# --- Standard question ids ------------------------------------------------------------------
CONTACT: Final = "contact"  # single: how the contact went (values: `Contact`)
DELIVERED: Final = "delivered"  # yesno: the errand was delivered
PROBLEMS: Final = "problems"  # multi, optional: what went wrong with an errand (`Problem`)
AMOUNT: Final = "amount"  # integer, optional: euros of the resident's money spent
ALL_RIGHT: Final = "all_right"  # yesno: is everything all right?
NEEDS: Final = "needs"  # multi, optional: what the resident needs (`Need`); empty = nothing
CONSENT_PARISH: Final = "consent_parish"  # yesno: may the parish get the name and phone?
URGENT: Final = "urgent"  # yesno: does the resident need a professional today?
NOTE: Final = "note"  # text, optional

# The type each standard question must have: with another type its answers would switch the rules
# (and crisis alerts) off without anyone noticing, so the form catalog refuses such a form.
STANDARD_TYPES: Final[Mapping[str, QuestionType]] = {
    CONTACT: QuestionType.SINGLE,
    DELIVERED: QuestionType.YESNO,
    PROBLEMS: QuestionType.MULTI,
    AMOUNT: QuestionType.INTEGER,
    ALL_RIGHT: QuestionType.YESNO,
    NEEDS: QuestionType.MULTI,
    CONSENT_PARISH: QuestionType.YESNO,
    URGENT: QuestionType.YESNO,
    NOTE: QuestionType.TEXT,
}
REVISIT: Final = "revisit"  # the cause of a visit after one that found nobody at home
PHONE_UNREACHED: Final = "phone_unreached"  # the cause of a visit after unanswered calls


class Contact(StrEnum):
    """The standard values of `contact` (which ones a form offers depends on the task's kind)."""

    MET = "met"
    NOT_AT_HOME = "not_at_home"
    REFUSED = "refused"
    WRONG_ADDRESS = "wrong_address"
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    DELIVERED = "delivered"


class Need(StrEnum):
    """The standard values of `needs`."""

    ERRANDS = "errands"
    FOOD_HELP = "food_help"
    CONVERSATION_HELP = "conversation_help"
    HOME_CARE = "home_care"
    HEALTH_CONCERN = "health_concern"
    OTHER = "other"


class Problem(StrEnum):
    """The standard values of an errand's `problems`."""

    ITEM_MISSING = "item_missing"
    SHOP_CLOSED = "shop_closed"
    PAYMENT = "payment"
    OTHER = "other"


_K, _C = TaskKind, Contact

CONTACT_VALUES: Final[Mapping[TaskKind, tuple[Contact, ...]]] = {
    _K.HOME_VISIT: (_C.MET, _C.NOT_AT_HOME, _C.REFUSED, _C.WRONG_ADDRESS),
    _K.CONVERSATION_HELP: (_C.MET, _C.NOT_AT_HOME, _C.REFUSED, _C.WRONG_ADDRESS),
    _K.PHONE_CHECK: (_C.REACHED, _C.NO_ANSWER, _C.WRONG_NUMBER, _C.REFUSED),
    _K.DELIVERY: (_C.DELIVERED, _C.NOT_AT_HOME, _C.REFUSED),
}
"""The `contact` values of the built-in form for each kind (an errand has `delivered` instead)."""

DONE_CONTACTS: Final[frozenset[str]] = frozenset({_C.MET, _C.REACHED, _C.DELIVERED})
"""The `contact` values that mean the task was done."""


# --- Results ----------------------------------------------------------------------------------
class ReferralKind(StrEnum):
    """Where a resident is referred."""

    PARISH = "parish"
    HOME_CARE = "home_care"


class NoticeKind(StrEnum):
    """What the coordinators are told with the closing report (not a crisis)."""

    UNREACHABLE = "unreachable"  # home visit: nobody at home again -> coordinators take over
    REFUSED = "refused"
    WRONG_ADDRESS = "wrong_address"
    WRONG_NUMBER = "wrong_number"
    NOT_ALL_RIGHT = "not_all_right"  # all_right answered no
    OTHER_NEED = "other_need"  # 'other' in needs
    ERRAND_PROBLEM = "errand_problem"  # errand problems ticked, or not delivered
    NOT_DELIVERED = "not_delivered"  # delivery: not at home / refused


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to create and offer to the volunteer pairs; `cause` is a short machine word."""

    kind: TaskKind
    cause: str


@dataclass(frozen=True, slots=True)
class Referral:
    """A referral to a partner; `consent`: the resident agreed to share their contact details."""

    kind: ReferralKind
    consent: bool


@dataclass(frozen=True, slots=True)
class OutcomeFacts:
    """What the rules need to know: the task's kind, the form's answers and the attempts so far."""

    kind: TaskKind
    answers: Mapping[str, Answer]
    failed_calls_before: int = 0  # phone check: earlier not-reached attempts on this task
    not_home_before: int = 0  # home visit: earlier not-at-home visits in this chain of re-visits
    phone_attempts: int = 2  # configured number of call attempts (>= 1)

    def __post_init__(self) -> None:
        """Convert a plain-string kind to `TaskKind`; refuse impossible counts."""
        object.__setattr__(self, "kind", TaskKind(self.kind))
        if self.failed_calls_before < 0 or self.not_home_before < 0:
            raise ValueError("attempt counts cannot be negative")
        if self.phone_attempts < 1:
            raise ValueError("phone_attempts must be at least 1")


@dataclass(frozen=True, slots=True)
class Decision:
    """Everything that follows from one outcome.

    `close` is `TaskState.DONE` or `TaskState.NOT_COMPLETED`, or None when the task stays with its
    holder (another call attempt); `reason` is set iff the task is not completed.
    """

    close: TaskState | None
    reason: UnfinishedReason | None
    new_tasks: tuple[NewTask, ...] = ()
    referrals: tuple[Referral, ...] = ()
    notices: tuple[NoticeKind, ...] = ()
    crisis: bool = False
    needs: tuple[str, ...] = ()
    no_calls: bool = False  # the resident asked not to be called again

    def __post_init__(self) -> None:
        """Keep `close` and `reason` consistent."""
        if self.close not in (None, TaskState.DONE, TaskState.NOT_COMPLETED):
            raise ValueError(f"an outcome cannot close a task as {self.close}")
        if (self.close is TaskState.NOT_COMPLETED) != (self.reason is not None):
            raise ValueError("a reason is given iff the task is not completed")


# --- The closing table ------------------------------------------------------------------------
class Tries(StrEnum):
    """For an attempt that failed: is another try still to be made?"""

    LEFT = "left"  # another call (phone check) or a revisit (home visit) comes next
    USED_UP = "used_up"  # that was the last try


HOME_VISIT_ROUNDS: Final = 2
"""How many times a pair goes to a door automatically: the first visit and one revisit."""


@dataclass(frozen=True, slots=True)
class Closing:
    """What the closing answer alone decides."""

    close: TaskState | None
    reason: UnfinishedReason | None = None
    new_tasks: tuple[NewTask, ...] = ()
    notices: tuple[NoticeKind, ...] = ()


_R, _N = UnfinishedReason, NoticeKind
_DONE = Closing(TaskState.DONE)
_KEEP = Closing(None)  # the task stays with the caller for the next attempt


def _failed(reason: UnfinishedReason, *notices: NoticeKind, new: NewTask | None = None) -> Closing:
    return Closing(TaskState.NOT_COMPLETED, reason, (new,) if new else (), notices)


_REVISIT = NewTask(_K.HOME_VISIT, REVISIT)
_CONVERSATION_REVISIT = NewTask(_K.CONVERSATION_HELP, REVISIT)
_VISIT_UNREACHED = NewTask(_K.HOME_VISIT, PHONE_UNREACHED)

CLOSING_QUESTION: Final[Mapping[TaskKind, str]] = {
    _K.HOME_VISIT: CONTACT,
    _K.CONVERSATION_HELP: CONTACT,
    _K.PHONE_CHECK: CONTACT,
    _K.ERRAND: DELIVERED,
    _K.DELIVERY: CONTACT,
}
"""Which answer closes a task of each kind."""

CLOSING_RULES: Final[Mapping[tuple[TaskKind, str | bool, Tries | None], Closing]] = {
    # (kind, closing answer, tries left?) -> what the closing answer decides
    (_K.HOME_VISIT, _C.MET, None): _DONE,
    (_K.HOME_VISIT, _C.NOT_AT_HOME, Tries.LEFT): _failed(_R.NOT_AT_HOME, new=_REVISIT),
    (_K.HOME_VISIT, _C.NOT_AT_HOME, Tries.USED_UP): _failed(_R.NOT_AT_HOME, _N.UNREACHABLE),
    (_K.HOME_VISIT, _C.REFUSED, None): _failed(_R.REFUSED, _N.REFUSED),
    (_K.HOME_VISIT, _C.WRONG_ADDRESS, None): _failed(_R.WRONG_ADDRESS, _N.WRONG_ADDRESS),
    # A conversation help visit follows the home visit rules; its revisit is a conversation visit.
    (_K.CONVERSATION_HELP, _C.MET, None): _DONE,
    (_K.CONVERSATION_HELP, _C.NOT_AT_HOME, Tries.LEFT): _failed(
        _R.NOT_AT_HOME, new=_CONVERSATION_REVISIT
    ),
    (_K.CONVERSATION_HELP, _C.NOT_AT_HOME, Tries.USED_UP): _failed(_R.NOT_AT_HOME, _N.UNREACHABLE),
    (_K.CONVERSATION_HELP, _C.REFUSED, None): _failed(_R.REFUSED, _N.REFUSED),
    (_K.CONVERSATION_HELP, _C.WRONG_ADDRESS, None): _failed(_R.WRONG_ADDRESS, _N.WRONG_ADDRESS),
    (_K.PHONE_CHECK, _C.REACHED, None): _DONE,
    (_K.PHONE_CHECK, _C.NO_ANSWER, Tries.LEFT): _KEEP,
    (_K.PHONE_CHECK, _C.NO_ANSWER, Tries.USED_UP): _failed(_R.NO_ANSWER, new=_VISIT_UNREACHED),
    (_K.PHONE_CHECK, _C.WRONG_NUMBER, None): _failed(
        _R.WRONG_NUMBER, _N.WRONG_NUMBER, new=_VISIT_UNREACHED
    ),
    (_K.PHONE_CHECK, _C.REFUSED, None): _failed(_R.REFUSED),
    (_K.ERRAND, True, None): _DONE,
    (_K.ERRAND, False, None): _failed(_R.OTHER, _N.ERRAND_PROBLEM),
    (_K.DELIVERY, _C.DELIVERED, None): _DONE,
    (_K.DELIVERY, _C.NOT_AT_HOME, None): _failed(_R.NOT_AT_HOME, _N.NOT_DELIVERED),
    (_K.DELIVERY, _C.REFUSED, None): _failed(_R.REFUSED, _N.NOT_DELIVERED),
}
"""The closing rules; a (kind, answer) that is missing here closes the task as done."""

# --- The needs table --------------------------------------------------------------------------
NEED_RULES: Final[tuple[tuple[Need, NewTask | ReferralKind | NoticeKind], ...]] = (
    (Need.ERRANDS, NewTask(_K.ERRAND, "errands")),
    (Need.FOOD_HELP, NewTask(_K.DELIVERY, "food_help")),
    (Need.HOME_CARE, ReferralKind.HOME_CARE),  # noted for the coordinators; no consent asked
    (Need.CONVERSATION_HELP, ReferralKind.PARISH),  # consent from `consent_parish`
    (Need.OTHER, NoticeKind.OTHER_NEED),
)
"""What each ticked need leads to, in the order applied (a health concern is a crisis)."""


# --- Deciding ---------------------------------------------------------------------------------
def _ticked(answers: Mapping[str, Answer], question: str) -> tuple[str, ...]:
    value = answers.get(question)
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _tries(facts: OutcomeFacts, answer: str | bool) -> Tries | None:
    """Whether a failed attempt leaves another try; None where the count does not matter."""
    if facts.kind is _K.PHONE_CHECK and answer == _C.NO_ANSWER:
        return Tries.LEFT if facts.failed_calls_before + 1 < facts.phone_attempts else Tries.USED_UP
    if facts.kind in (_K.HOME_VISIT, _K.CONVERSATION_HELP) and answer == _C.NOT_AT_HOME:
        return Tries.LEFT if facts.not_home_before + 1 < HOME_VISIT_ROUNDS else Tries.USED_UP
    return None


def _closing(facts: OutcomeFacts) -> Closing:
    answer = facts.answers.get(CLOSING_QUESTION[facts.kind])
    if not isinstance(answer, str | bool):
        return _DONE
    return CLOSING_RULES.get((facts.kind, answer, _tries(facts, answer)), _DONE)


_T = TypeVar("_T")


def _unique(items: list[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))


def is_crisis(answers: Mapping[str, Answer]) -> bool:
    """Return whether the coordinators must be alerted at once: urgent, or a health concern."""
    return answers.get(URGENT) is True or Need.HEALTH_CONCERN in _ticked(answers, NEEDS)


def decide(facts: OutcomeFacts) -> Decision:
    """Return everything that follows from one outcome form's answers (see the module docstring)."""
    answers = facts.answers
    closing = _closing(facts)
    new_tasks = list(closing.new_tasks)
    referrals: list[Referral] = []
    notices = list(closing.notices)

    if _ticked(answers, PROBLEMS):
        notices.append(_N.ERRAND_PROBLEM)
    needs = _ticked(answers, NEEDS)
    for need, follow_up in NEED_RULES:
        if need not in needs:
            continue
        if isinstance(follow_up, NewTask):
            new_tasks.append(follow_up)
        elif isinstance(follow_up, ReferralKind):
            consent = follow_up is ReferralKind.PARISH and answers.get(CONSENT_PARISH) is True
            referrals.append(Referral(follow_up, consent))
        else:
            notices.append(follow_up)
    if answers.get(ALL_RIGHT) is False:
        notices.append(_N.NOT_ALL_RIGHT)

    return Decision(
        close=closing.close,
        reason=closing.reason,
        new_tasks=_unique(new_tasks),
        referrals=_unique(referrals),
        notices=_unique(notices),
        crisis=is_crisis(answers),
        needs=needs,
        no_calls=facts.kind is _K.PHONE_CHECK and answers.get(CONTACT) == _C.REFUSED,
    )
