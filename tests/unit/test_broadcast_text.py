"""Broadcast rules without I/O: cutting texts for Telegram, areas, retries, tallies, audiences."""

import itertools
import re
import unicodedata
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.broadcasts import (
    FINAL,
    TEXT_LIMIT,
    Audience,
    AudienceKind,
    BroadcastError,
    BroadcastProblem,
    RowState,
    Tally,
    parse_area,
    retry_delay,
    split_text,
    utf16_len,
)
from bot.domain.errors import DomainError
from bot.domain.people import Role

ZWJ = "\u200d"
FAMILY = "👨\u200d👩\u200d👧"  # three astral emoji joined: 8 UTF-16 units, 5 code points


def clings(char: str) -> bool:
    """A character that belongs to the one before it (combining mark, selector, joiner)."""
    return unicodedata.category(char) in ("Mn", "Me") or char in "\u200d\ufe0e\ufe0f"


def assert_reassembles(text: str, parts: list[str]) -> None:
    """The parts appear in order in the text, separated by whitespace only (or nothing)."""
    position = 0
    for part in parts:
        while position < len(text) and text[position].isspace():
            position += 1
        assert text.startswith(part, position), (part, text[position : position + 40])
        position += len(part)
    assert text[position:].strip() == ""
    assert re.sub(r"\s+", "", "".join(parts)) == re.sub(r"\s+", "", text)


# --- utf16_len -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("a", 1),
        ("é", 1),
        ("e\u0301", 2),
        ("😀", 2),
        ("a😀b", 4),
        (FAMILY, 8),
        ("❤\ufe0f", 2),
    ],
)
def test_utf16_len_counts_what_telegram_counts(text, units):
    assert utf16_len(text) == units


# --- split_text: properties ----------------------------------------------------------------------

# Any text, biased toward the characters that matter to the cutting.
_tricky = st.sampled_from(list(" \n\t\r.!?…aé😀\u0301\u200d\ufe0f\u00a0\u3000"))
# Telegram hands over valid Unicode only: no lone surrogates (category Cs).
free_text = st.text(
    alphabet=st.one_of(_tricky, st.characters(blacklist_categories=("Cs",))), max_size=300
)


@given(free_text, st.integers(min_value=2, max_value=40))
def test_split_text_of_any_text_keeps_every_character_within_the_limit(text, limit):
    parts = split_text(text, limit)
    for part in parts:
        assert part
        assert utf16_len(part) <= limit
        assert not part[0].isspace()
        part.encode("utf-8")  # never half of a surrogate pair
    if parts:
        assert not parts[-1][-1].isspace()
    assert_reassembles(text, parts)
    assert (parts == []) == (text.strip() == "")


# Text built of words (grapheme clusters) and separators, with no space just before a line break.
_cluster = st.sampled_from(["a", "b", "é", "e\u0301", "x\u0308", "😀", "❤\ufe0f", "1", ","])
_word = st.lists(_cluster, min_size=1, max_size=12).map("".join)
_separator = st.sampled_from(
    [" ", "  ", "\t", "\n", "\n\n", "\n \n", "\n\n\n", ". ", "! ", "? ", "… ", ".\n", ""]
)


@st.composite
def prose(draw: st.DrawFn) -> str:
    words = draw(st.lists(_word, min_size=1, max_size=40))
    separators = draw(st.lists(_separator, min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, separators, strict=True))


@given(prose(), st.integers(min_value=2, max_value=60))
def test_split_text_of_prose_gives_tidy_parts(text, limit):
    parts = split_text(text, limit)
    assert parts
    for part in parts:
        assert part
        assert utf16_len(part) <= limit
        assert part == part.strip()
        assert not clings(part[0])  # always avoidable here: a cluster is at most 2 units
        assert not part.endswith(ZWJ)
    assert_reassembles(text, parts)


@given(prose())
def test_split_text_leaves_a_short_text_whole(text):
    assert split_text(text, TEXT_LIMIT) == [text.strip()]


# --- split_text: where it cuts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        pytest.param(
            "Para one.\n\nLine two\nSentence three. Word four five",
            48,
            ["Para one.", "Line two\nSentence three. Word four five"],
            id="paragraph-before-line",
        ),
        pytest.param(
            "First line\nSecond. Sentence three. Word four five",
            45,
            ["First line", "Second. Sentence three. Word four five"],
            id="line-before-sentence",
        ),
        pytest.param(
            "First sentence here! Second one and more words",
            44,
            ["First sentence here!", "Second one and more words"],
            id="sentence-before-word",
        ),
        pytest.param(
            "Odotas… Tämä on pitkä lause sanoineen",
            30,
            ["Odotas…", "Tämä on pitkä lause sanoineen"],
            id="ellipsis-ends-a-sentence",
        ),
        pytest.param(
            "alpha beta gamma delta", 12, ["alpha beta", "gamma delta"], id="last-word-break"
        ),
        pytest.param(
            "a b c.\n\nd e f.\n\ng h i j k l m n o p",
            20,
            ["a b c.\n\nd e f.", "g h i j k l m n o p"],
            id="last-paragraph-that-fits",
        ),
        pytest.param(
            "one two\n\nthree four five six seven",
            15,
            ["one two", "three four five", "six seven"],
            id="paragraph-then-words",
        ),
        pytest.param("aaaa bbbbbbbbbb", 8, ["aaaa", "bbbbbbbb", "bb"], id="word-then-hard-cut"),
        pytest.param("  hello  ", 10, ["hello"], id="short-text-stripped"),
        pytest.param("a\n\n\n\nb", 2, ["a", "b"], id="whitespace-run-dropped"),
        pytest.param("", 10, [], id="empty"),
        pytest.param(" \n\t ", 10, [], id="only-whitespace"),
    ],
)
def test_split_text_prefers_paragraphs_then_lines_then_sentences_then_words(text, limit, expected):
    assert split_text(text, limit) == expected


def test_a_break_right_at_the_limit_is_taken():
    assert split_text("abcde fgh", 5) == ["abcde", "fgh"]


def test_a_ten_thousand_character_word_is_cut_between_characters():
    word = "x" * 10_000
    parts = split_text(word, TEXT_LIMIT)
    assert [len(p) for p in parts] == [4096, 4096, 1808]
    assert "".join(parts) == word


def test_a_long_word_among_words_is_cut_after_the_words_before_it():
    text = "alku " + "y" * 10_000 + " loppu"
    parts = split_text(text, TEXT_LIMIT)
    assert parts[0] == "alku"
    assert all(utf16_len(p) <= TEXT_LIMIT for p in parts)
    assert parts[-1].endswith(" loppu") or parts[-1] == "loppu"
    assert_reassembles(text, parts)


@pytest.mark.parametrize(("limit", "per_part"), [(TEXT_LIMIT, 2048), (4095, 2047), (3, 1)])
def test_astral_emoji_count_as_two_units_and_are_never_halved(limit, per_part):
    text = "😀" * 3000
    parts = split_text(text, limit)
    assert len(parts[0]) == per_part
    assert all(utf16_len(p) <= limit for p in parts)
    assert all(p.encode("utf-16-le").decode("utf-16-le") == p for p in parts)
    assert "".join(parts) == text


@pytest.mark.parametrize("limit", [4095, 4096, 7, 3])
def test_a_combining_mark_stays_with_its_letter(limit):
    text = "e\u0301" * 3000
    parts = split_text(text, limit)
    assert all(not clings(p[0]) for p in parts)
    assert all(utf16_len(p) <= limit for p in parts)
    assert "".join(parts) == text


@pytest.mark.parametrize("limit", [4095, 4096, 9, 8])
def test_joined_emoji_are_not_cut_at_their_joiners(limit):
    text = FAMILY * 1000
    parts = split_text(text, limit)
    for part in parts:
        assert not part.startswith(ZWJ) and not part.endswith(ZWJ)
        assert utf16_len(part) <= limit
    assert "".join(parts) == text


def test_a_variation_selector_stays_with_its_symbol():
    text = "❤\ufe0f" * 3000
    parts = split_text(text, 4095)
    assert all(not clings(p[0]) for p in parts)
    assert "".join(parts) == text


@pytest.mark.parametrize("limit", [0, 1, -5])
def test_split_text_refuses_a_limit_below_two(limit):
    with pytest.raises(ValueError, match="limit"):
        split_text("abc", limit)


@pytest.mark.parametrize(
    "text",
    ["Hello there \nworld and more", "Hello there \n\nworld and more", "Hello\r\nworld and x"],
)
def test_no_part_ends_with_the_whitespace_before_a_line_break(text):
    parts = split_text(text, 14)
    assert len(parts) > 1
    assert all(p == p.strip() for p in parts)


# --- parse_area ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "area"),
    [("70", "70"), (" 00100 ", "00100"), ("7", "7"), ("00 100", "00100"), ("33100\n", "33100")],
)
def test_parse_area_reads_a_postal_code_prefix(typed, area):
    assert parse_area(typed) == area


@pytest.mark.parametrize("typed", ["", "   ", "abc", "123456", "7-0", "70a", "-70", "7,0", "7.0"])
def test_parse_area_refuses_what_is_not_a_prefix(typed):
    with pytest.raises(BroadcastError) as refused:
        parse_area(typed)
    assert refused.value.problem is BroadcastProblem.BAD_AREA


@pytest.mark.parametrize("typed", ["٧٠", "７０"])
def test_parse_area_refuses_digits_that_are_not_ascii(typed):
    with pytest.raises(BroadcastError):
        parse_area(typed)


# --- retry_delay ---------------------------------------------------------------------------------


def test_retry_delay_grows_and_is_capped():
    delays = [retry_delay(n) for n in range(1, 12)]
    assert delays[0] > timedelta(0)
    assert all(a < b for a, b in itertools.pairwise(delays[:5]))
    assert all(a <= b for a, b in itertools.pairwise(delays))
    cap = max(delays)
    assert cap <= timedelta(minutes=5)
    assert all(d == cap for d in delays[4:])
    assert retry_delay(1000) == cap


@pytest.mark.parametrize("attempt", [0, -1])
def test_retry_delay_before_any_attempt_is_the_first_delay(attempt):
    assert retry_delay(attempt) == retry_delay(1)


# --- Tally ---------------------------------------------------------------------------------------


def test_tally_counts_by_state():
    tally = Tally(
        {
            RowState.PENDING: 2,
            RowState.SENDING: 1,
            RowState.SENT: 5,
            RowState.BLOCKED: 1,
            RowState.UNCERTAIN: 1,
            RowState.CANCELLED: 3,
        }
    )
    assert tally.total == 13
    assert tally.open == 3
    assert tally.done == 10
    assert tally[RowState.SENT] == 5
    assert tally[RowState.FAILED] == 0


def test_an_empty_tally_is_all_zero():
    tally = Tally({})
    assert (tally.total, tally.open, tally.done, tally[RowState.PENDING]) == (0, 0, 0, 0)


def test_final_states_are_all_but_pending_and_sending():
    assert frozenset(RowState) - FINAL == {RowState.PENDING, RowState.SENDING}


# --- Audience ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "complete"),
    [
        (Audience(kind=AudienceKind.EVERYONE), True),
        (Audience(kind=AudienceKind.VOLUNTEERS), True),
        (Audience(kind=AudienceKind.AVAILABLE), True),
        (Audience(kind=AudienceKind.ORGANISATION), False),
        (Audience(kind=AudienceKind.ORGANISATION, organisation_id=3), True),
        (Audience(kind=AudienceKind.ROLE), False),
        (Audience(kind=AudienceKind.ROLE, role=Role.CALLER), True),
        (Audience(kind=AudienceKind.AREA), False),
        (Audience(kind=AudienceKind.AREA, area=""), False),
        (Audience(kind=AudienceKind.AREA, area="70"), True),
        (Audience(kind=AudienceKind.PAIRS), False),
        (Audience(kind=AudienceKind.PAIRS, pair_ids=frozenset({1, 2})), True),
    ],
)
def test_an_audience_is_complete_once_its_detail_is_chosen(audience, complete):
    assert audience.complete is complete


@pytest.mark.parametrize(
    ("area", "areas", "meets"),
    [
        ("70", frozenset(), True),  # no areas: everywhere
        ("70", frozenset({"70"}), True),
        ("70", frozenset({"701"}), True),  # the person's area lies inside the prefix
        ("70", frozenset({"7"}), True),  # the prefix lies inside the person's area
        ("70100", frozenset({"70"}), True),
        ("70", frozenset({"71", "00"}), False),
        ("70", frozenset({"071"}), False),
        ("701", frozenset({"702"}), False),
        ("00100", frozenset({"33", "00"}), True),
    ],
)
def test_meets_area_overlaps_prefixes_both_ways(area, areas, meets):
    assert Audience(kind=AudienceKind.AREA, area=area).meets_area(areas) is meets


@given(
    st.text(alphabet="0123456789", min_size=1, max_size=5),
    st.frozensets(st.text(alphabet="0123456789", min_size=1, max_size=5), max_size=4),
)
def test_meets_area_is_symmetric_between_prefix_and_areas(area, areas):
    audience = Audience(kind=AudienceKind.AREA, area=area)
    flipped = [
        Audience(kind=AudienceKind.AREA, area=a).meets_area(frozenset({area})) for a in areas
    ]
    assert audience.meets_area(areas) is (not areas or any(flipped))


def test_an_audience_survives_a_round_trip_through_json():
    audience = Audience(kind=AudienceKind.PAIRS, pair_ids=frozenset({4, 2}))
    assert Audience.model_validate_json(audience.model_dump_json()) == audience


# --- BroadcastError ------------------------------------------------------------------------------


@pytest.mark.parametrize("problem", list(BroadcastProblem))
def test_a_broadcast_error_names_its_problem(problem):
    error = BroadcastError(problem)
    assert error.problem is problem
    assert isinstance(error, DomainError) and isinstance(error, ValueError)
    assert str(error) == problem.value
