"""The task lifecycle table: what it allows happens, everything else raises and changes nothing."""

import itertools

import pytest

from bot.domain.errors import IllegalTransition
from bot.domain.tasks import (
    FINISHED,
    HELD,
    TRANSITIONS,
    UNFINISHED,
    Action,
    Holder,
    TaskState,
    next_state,
)

S, A = TaskState, Action

# The lifecycle as the issue states it, written out by hand: the table must say exactly this.
EXPECTED = {
    (S.OPEN, A.OFFER): S.OFFERED,
    (S.OFFERED, A.OFFER): S.OFFERED,
    (S.ESCALATED, A.OFFER): S.OFFERED,
    (S.OFFERED, A.ACCEPT): S.ACCEPTED,
    (S.ESCALATED, A.ACCEPT): S.ACCEPTED,
    (S.OFFERED, A.DECLINE): S.OFFERED,
    (S.ESCALATED, A.DECLINE): S.ESCALATED,
    (S.OFFERED, A.RETURN): S.OPEN,
    (S.ESCALATED, A.RETURN): S.OPEN,
    (S.OFFERED, A.ESCALATE): S.ESCALATED,
    (S.ACCEPTED, A.START): S.STARTED,
    (S.ACCEPTED, A.COMPLETE): S.DONE,
    (S.STARTED, A.COMPLETE): S.DONE,
    (S.ACCEPTED, A.FAIL): S.NOT_COMPLETED,
    (S.STARTED, A.FAIL): S.NOT_COMPLETED,
    (S.ACCEPTED, A.ATTEMPT): S.ACCEPTED,  # an unanswered call: the caller tries again
    (S.STARTED, A.ATTEMPT): S.STARTED,
    (S.ACCEPTED, A.RELEASE): S.OPEN,
    (S.STARTED, A.RELEASE): S.OPEN,
    **{(s, A.ASSIGN): S.ACCEPTED for s in (S.OPEN, S.OFFERED, S.ESCALATED, S.ACCEPTED, S.STARTED)},
    **{(s, A.CANCEL): S.CANCELLED for s in (S.OPEN, S.OFFERED, S.ESCALATED, S.ACCEPTED, S.STARTED)},
}


def test_the_table_is_exactly_the_lifecycle():
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("state", "action"), list(itertools.product(TaskState, Action)))
def test_every_state_and_action(state, action):
    if (state, action) in EXPECTED:
        assert next_state(state, action) is EXPECTED[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as raised:
            next_state(state, action)
        assert raised.value.state == state.value and raised.value.action == action.value


def test_finished_tasks_accept_nothing():
    for state, action in itertools.product(FINISHED, Action):
        with pytest.raises(IllegalTransition):
            next_state(state, action)


def test_the_state_groups_partition_the_states():
    assert set(TaskState) == UNFINISHED | FINISHED
    assert not UNFINISHED & FINISHED
    assert HELD <= UNFINISHED


def test_a_task_has_at_most_one_holder():
    assert Holder().empty
    assert not Holder(pair_id=1).empty
    with pytest.raises(ValueError, match="one holder"):
        Holder(pair_id=1, person_id=2)
