"""Callback data packs within Telegram's 64 bytes and parses back exactly; junk is refused."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.people import Role
from handlers.callback_data import (
    BadCallbackData,
    ChooseInviteRole,
    ChooseLanguage,
    FormPress,
    PeoplePage,
    ReferralPress,
    SetActive,
    SetRole,
    ShowPerson,
    ShowTimeline,
)

ids = st.integers(min_value=0, max_value=10**12 - 1)
roles = st.sampled_from(list(Role))

values = st.one_of(
    st.builds(ChooseLanguage, st.sampled_from(["fi", "sv", "en"])),
    st.builds(PeoplePage, ids),
    st.builds(ShowPerson, ids),
    st.builds(SetActive, ids, st.booleans(), st.booleans()),
    st.builds(SetRole, ids, roles, st.booleans()),
    st.builds(ChooseInviteRole, roles, ids),
    st.builds(FormPress, ids, ids, st.sampled_from(list("cdsbejxynkr")), st.integers(0, 99)),
    st.builds(ReferralPress, ids, st.sampled_from(["take", "close", "settle"])),
    st.builds(ShowTimeline, ids),
)


@given(values)
def test_every_value_round_trips_within_64_bytes(value):
    data = value.pack()
    assert len(data.encode()) <= 64
    assert type(value).parse(data) == value


@given(values)
def test_a_kind_never_parses_as_another(value):
    data = value.pack()
    kinds = (ChooseLanguage, PeoplePage, ShowPerson, SetActive, SetRole, ChooseInviteRole)
    for kind in (*kinds, FormPress, ReferralPress, ShowTimeline):
        if kind is not type(value):
            assert not kind.matches()(data)
            with pytest.raises(BadCallbackData):
                kind.parse(data)


@pytest.mark.parametrize(
    "data",
    [None, 5, "", "R", "R|1|caller", "R|x|caller|1", "R|1|king|1", "R|1|caller|2", "A|1|1|1|1"],
)
def test_forged_or_malformed_data_is_refused(data):
    for kind in (SetRole, SetActive):
        with pytest.raises(BadCallbackData):
            kind.parse(data)


@given(st.text(max_size=80))
def test_arbitrary_text_never_crashes_the_parser(text):
    kinds = (ChooseLanguage, PeoplePage, ShowPerson, SetActive, SetRole, ChooseInviteRole)
    for kind in (*kinds, FormPress, ReferralPress, ShowTimeline):
        with contextlib.suppress(BadCallbackData):
            kind.parse(text)
