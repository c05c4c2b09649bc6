"""The expression language of forms: parsed by hand, checked at load, evaluated totally."""

import contextlib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.forms.expr import (
    MAX_DEPTH,
    MAX_LENGTH,
    Arith,
    Call,
    Compare,
    Const,
    Dot,
    ExpressionError,
    Logic,
    Name,
    Negate,
    Not,
    check,
    evaluate,
    names,
    parse,
)
from bot.domain.forms.model import Question

TODAY = date(2026, 3, 5)


def labels(text="x"):
    return {"fi": text, "sv": text, "en": text}


def question(qid, qtype, **extra):
    data = {"id": qid, "type": qtype, "label": labels(), **extra}
    if qtype in ("single", "multi") and "choices" not in extra:
        data["choices"] = [{"value": v, "label": labels(v)} for v in ("met", "not_at_home")]
    if qtype == "integer":
        data.setdefault("min", 0)
        data.setdefault("max", 100)
    return Question.model_validate(data)


NEEDS = [
    {"value": v, "label": labels(v[:10])}
    for v in ("errands", "food_help", "conversation_help", "other")
]
KNOWN = {
    "contact": question("contact", "single"),
    "needs": question("needs", "multi", choices=NEEDS),
    "amount": question("amount", "integer"),
    "urgent": question("urgent", "yesno"),
    "note": question("note", "text"),
    "day": question("day", "date"),
}


def ev(text, answers=None, *, dot=None, today=TODAY):
    return evaluate(parse(text), answers or {}, dot=dot, today=today)


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1", Const(1)),
        ("'met'", Const("met")),
        ('"it\'s"', Const("it's")),
        ("'say \"hi\"'", Const('say "hi"')),
        ("'äiti ❤ 北'", Const("äiti ❤ 北")),
        ("''", Const("")),
        ("true", Const(True)),
        ("false", Const(False)),
        ("null", Const(None)),
        (".", Dot()),
        ("contact", Name("contact")),
        ("_x9", Name("_x9")),
        ("today()", Call("today")),
        ("count(needs)", Call("count", (Name("needs"),))),
        ("f(1, 2,3)", Call("f", (Const(1), Const(2), Const(3)))),
        ("-3", Negate(Const(3))),
        ("- -x", Negate(Negate(Name("x")))),
        ("a = 'b'", Compare("=", Name("a"), Const("b"))),
        ("a != 1", Compare("!=", Name("a"), Const(1))),
        ("a<=1", Compare("<=", Name("a"), Const(1))),
        ("a >= 1", Compare(">=", Name("a"), Const(1))),
        ("a < 1", Compare("<", Name("a"), Const(1))),
        ("a > 1", Compare(">", Name("a"), Const(1))),
        ("'x' in needs", Compare("in", Const("x"), Name("needs"))),
        ("'x' not in needs", Compare("not in", Const("x"), Name("needs"))),
        ("not 'x' in needs", Not(Compare("in", Const("x"), Name("needs")))),
        ("1 + 2 - 3", Arith(Const(1), (("+", Const(2)), ("-", Const(3))))),
        (
            "a + 1 = b - 2",
            Compare(
                "=", Arith(Name("a"), (("+", Const(1)),)), Arith(Name("b"), (("-", Const(2)),))
            ),
        ),
        ("a and b and c", Logic("and", (Name("a"), Name("b"), Name("c")))),
        ("a or b and c", Logic("or", (Name("a"), Logic("and", (Name("b"), Name("c")))))),
        ("a and b or c", Logic("or", (Logic("and", (Name("a"), Name("b"))), Name("c")))),
        ("(a or b) and c", Logic("and", (Logic("or", (Name("a"), Name("b"))), Name("c")))),
        ("not a and b", Logic("and", (Not(Name("a")), Name("b")))),
        ("not not a", Not(Not(Name("a")))),
        ("not (a or b)", Not(Logic("or", (Name("a"), Name("b"))))),
        ("((((a))))", Name("a")),
        ("  a\t=\n1  ", Compare("=", Name("a"), Const(1))),
        ("a=-1", Compare("=", Name("a"), Negate(Const(1)))),
        (
            ". <= 20 and . >= 0",
            Logic("and", (Compare("<=", Dot(), Const(20)), Compare(">=", Dot(), Const(0)))),
        ),
        ("today() - 7 <= .", Compare("<=", Arith(Call("today"), (("-", Const(7)),)), Dot())),
        ("AND", Name("AND")),  # keywords are lower-case; this is an (unknown) name
    ],
)
def test_parse_builds_the_tree(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty expression"),
        ("   \n ", "empty expression"),
        ("(. <= 20 and", "unexpected end of expression"),
        ("(. <= 20 and 5", "expected ')' at column 15"),
        ("(contact = 'met'", "expected ')' at column 17"),
        ("a = ", "unexpected end of expression"),
        ("a = = 1", "unexpected '=' at column 5"),
        ("a == 1", "use '=' instead of '==' at column 3"),
        ("a = 1 = 2", "a second comparison at column 7: join with 'and'"),
        ("a < b in c", "a second comparison at column 7: join with 'and'"),
        ("a not b", "expected 'in' after 'not' at column 7"),
        ("a not", "expected 'in' after 'not' at column 6"),
        ("'met", "unterminated string starting at column 1"),
        ("a = \"met'", "unterminated string starting at column 5"),
        ("a # b", "unexpected character '#' at column 3"),
        ("ä = 1", "unexpected character 'ä' at column 1"),
        ("a = 1;", "unexpected character ';' at column 6"),
        ("a = 1\x00", "unexpected character '\\x00' at column 6"),
        ("1 2", "unexpected '2' at column 3"),
        ("a b", "unexpected 'b' at column 3"),
        ("a 'b'", "unexpected a string at column 3"),
        ("and", "unexpected 'and' at column 1"),
        ("a and or b", "unexpected 'or' at column 7"),
        ("()", "unexpected ')' at column 2"),
        (")", "unexpected ')' at column 1"),
        ("count", "expected '(' after 'count' at column 1"),
        ("today", "expected '(' after 'today' at column 1"),
        ("count(needs", "expected ')' at column 12"),
        ("count(needs,)", "unexpected ')' at column 13"),
        ("in needs", "unexpected 'in' at column 1"),
        ("a in", "unexpected end of expression"),
        ("--", "unexpected end of expression"),
        ("a + ", "unexpected end of expression"),
        ("a.b", "unexpected '.' at column 2"),
        ("a = 1 )", "unexpected ')' at column 7"),
    ],
)
def test_parse_errors_say_what_and_where(text, message):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_parse_refuses_what_is_not_text():
    with pytest.raises(ExpressionError):
        parse(None)  # type: ignore[arg-type]


def test_names_lists_the_questions_read():
    assert names(parse("a = 1 or (count(b) > 2 and not c in d) or -e + . = 1")) == {
        "a",
        "b",
        "c",
        "d",
        "e",
    }


# --- limits -------------------------------------------------------------------------------------


def test_length_limit():
    longest = "1" + " " * (MAX_LENGTH - 2) + "1"
    with pytest.raises(ExpressionError, match="unexpected '1'"):  # parsed: it is not too long
        parse(longest)
    assert parse("a" * MAX_LENGTH) == Name("a" * MAX_LENGTH)
    with pytest.raises(ExpressionError, match=f"longer than {MAX_LENGTH} characters"):
        parse("a" * (MAX_LENGTH + 1))


@pytest.mark.parametrize(
    ("template", "depth_unit"),
    [
        ("({})", None),
        ("not {}", None),
        ("-{}", None),
        ("count({})", None),
        ("(not {})", 2),
    ],
)
def test_nesting_limit(template, depth_unit):
    def nest(levels):
        text = "x"
        for _ in range(levels):
            text = template.format(text)
        return text

    per_level = depth_unit or 1
    allowed = MAX_DEPTH // per_level
    parse(nest(allowed))
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse(nest(allowed + 1))


@pytest.mark.parametrize(
    "text",
    [
        "(" * 400,
        "(" * 250 + "x" + ")" * 250,
        "not " * 125,
        "-" * 500,
        "count(" * 80,
        "a" + " or a" * 99,  # long but flat: fine
        "1" + " + 1" * 124,
    ],
)
def test_deep_or_long_input_never_hits_the_recursion_limit(text):
    try:
        expr = parse(text)
    except ExpressionError:
        return
    assert isinstance(evaluate(expr, {}, today=TODAY), bool)


def test_long_flat_chains_are_flat_trees():
    expr = parse("a" + " or a" * 99)
    assert isinstance(expr, Logic) and len(expr.operands) == 100
    assert evaluate(expr, {"a": True}, today=TODAY)
    total = parse("1" + " + 1" * 123 + " = 124")
    assert evaluate(total, {}, today=TODAY)


# --- evaluation ---------------------------------------------------------------------------------

MET = {"contact": "met", "needs": ["errands", "conversation_help"], "amount": 12, "urgent": False}


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        # equality and inequality, on anything, of the same kind only
        ("contact = 'met'", MET, True),
        ("contact = 'refused'", MET, False),
        ("contact != 'refused'", MET, True),
        ('contact = "met"', MET, True),
        ("amount = 12", MET, True),
        ("amount = '12'", MET, False),
        ("urgent = false", MET, True),
        ("urgent = 0", MET, False),  # no bool/int confusion
        ("amount = true", {"amount": 1}, False),
        ("1 != true", {}, True),
        ("needs = needs", MET, True),
        ("note = null", MET, True),  # unanswered is null
        ("note != null", MET, False),
        ("null = null", {}, True),
        ("contact = null", {"contact": None}, True),  # skipped
        # ordering
        ("amount > 10", MET, True),
        ("amount >= 12", MET, True),
        ("amount < 12", MET, False),
        ("amount <= 12", MET, True),
        ("'a' < 'b'", {}, True),
        ("amount > null", MET, False),
        ("null < 1", {}, False),
        ("null >= null", {}, False),
        ("amount < 'z'", MET, False),
        ("urgent < true", MET, False),  # booleans are not ordered
        ("needs > 1", MET, False),
        ("not (amount < 'z')", MET, True),
        # membership
        ("'errands' in needs", MET, True),
        ("'food_help' in needs", MET, False),
        ("'food_help' not in needs", MET, True),
        ("'errands' not in needs", MET, False),
        ("'errands' in needs", {}, False),  # null: in is false
        ("'errands' not in needs", {}, True),  # and not in is true (null is empty)
        ("'errands' in needs", {"needs": []}, False),
        ("'et' in contact", MET, True),  # substring of a text
        ("'xyz' not in contact", MET, True),
        ("1 in contact", MET, False),  # a type mismatch is false both ways
        ("1 not in contact", MET, False),
        ("1 in amount", MET, False),
        ("1 not in amount", MET, False),
        ("'ä' in note", {"note": "Hyvä päivä ☀"}, True),
        ("'☀' in note", {"note": "Hyvä päivä ☀"}, True),
        ("note = 'Hyvä päivä ☀'", {"note": "Hyvä päivä ☀"}, True),
        # functions
        ("count(needs) = 2", MET, True),
        ("count(needs) = 0", {}, True),
        ("count(needs) = 0", {"needs": None}, True),
        ("count(contact) = 0", MET, True),
        ("len(note) = 5", {"note": "äiti!"}, True),
        ("len(note) = 0", {}, True),
        ("len(needs) = 0", MET, True),
        ("answered(contact)", MET, True),
        ("answered(note)", MET, False),
        ("answered(note)", {"note": None}, False),
        ("answered(needs)", {"needs": []}, False),
        ("answered(urgent)", MET, True),  # false is an answer
        ("answered(amount)", {"amount": 0}, True),
        # logic: exactly true counts
        ("urgent or amount > 10", MET, True),
        ("urgent and amount > 10", MET, False),
        ("not urgent", MET, True),
        ("not urgent", {}, True),  # unanswered is not true
        ("not amount", MET, True),  # a number is not true
        ("amount", MET, False),
        ("contact", MET, False),
        ("null", {}, False),
        ("true", {}, True),
        ("false or false or true", {}, True),
        ("true and true and false", {}, False),
        ("not not true", {}, True),
        ("true or 1 = 1 and false", {}, True),  # and binds tighter
        ("(true or true) and false", {}, False),
        ("not true or true", {}, True),  # not binds tighter than or
        ("not 1 = 2", {}, True),  # ... and looser than comparisons
        # arithmetic
        ("amount + 3 = 15", MET, True),
        ("amount - 3 - 4 = 5", MET, True),
        ("-amount = -12", MET, True),
        ("- -amount = 12", MET, True),
        ("amount + null = null", MET, True),  # null inside arithmetic stays null
        ("amount + 'x' = null", MET, True),
        ("urgent + 1 = 1", MET, False),  # booleans are no numbers
        ("-contact = null", MET, True),
        ("100000000000000000000 + 1 > 100000000000000000000", {}, True),
    ],
)
def test_evaluate(text, answers, expected):
    assert ev(text, answers) is expected


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        ("day = today()", {"day": TODAY}, True),
        ("day <= today()", {"day": date(2026, 3, 4)}, True),
        ("day > today()", {"day": date(2026, 3, 4)}, False),
        ("day >= today() - 7", {"day": date(2026, 2, 26)}, True),
        ("day >= today() - 7", {"day": date(2026, 2, 25)}, False),
        ("day = today() + 1", {"day": date(2026, 3, 6)}, True),
        ("1 + today() = day", {"day": date(2026, 3, 6)}, True),
        ("today() - day = 4", {"day": date(2026, 3, 1)}, True),  # days between
        ("day + day = null", {"day": TODAY}, True),
        ("day < 5", {"day": TODAY}, False),
        ("day = '2026-03-05'", {"day": TODAY}, False),  # a date is not its text
        ("today() + 999999999999 = null", {}, True),  # beyond the calendar: null, no crash
        ("today() - 99999999 = null", {}, True),
        ("day > today()", {}, False),
    ],
)
def test_dates_and_today(text, answers, expected):
    assert ev(text, answers) is expected


def test_today_is_the_date_given():
    assert ev("today() = .", dot=date(2030, 1, 1), today=date(2030, 1, 1))
    assert not ev("today() = .", dot=date(2030, 1, 1), today=date(2030, 1, 2))


@pytest.mark.parametrize(
    ("text", "dot", "expected"),
    [
        (". <= 20", 20, True),
        (". <= 20", 21, False),
        (". <= 20", None, False),
        (". <= 20", "5", False),
        ("len(.) >= 3", "abc", True),
        ("count(.) <= 2", ["a", "b", "c"], False),
        ("'x' in .", ["x"], True),
        (". = true", True, True),
        (". >= amount", 12, True),
        (". >= amount", 11, False),
    ],
)
def test_dot_is_the_answer_being_checked(text, dot, expected):
    assert ev(text, MET, dot=dot) is expected


def test_strange_answer_values_never_break_evaluation():
    class Odd(str):
        def __eq__(self, other):
            raise RuntimeError("boom")

        __hash__ = str.__hash__

        def __lt__(self, other):
            raise RuntimeError("boom")

    answers = {
        "a": 1.5,
        "b": {"x": 1},
        "c": object(),
        "d": Odd("x"),
        "e": ("x", "y"),
        "f": [object(), 1, None],
    }
    for text in ["a = 1", "a < 2", "b = b", "c = c", "d = 'x'", "d < 'y'", "'x' in e", "1 in f"]:
        assert isinstance(ev(text, answers), bool)
    assert ev("count(e) = 2", answers)
    assert not ev("a = a", answers)  # values of no known kind are equal to nothing


def test_evaluating_an_unchecked_tree_is_total():
    # evaluate() never raises, even for calls that check() would refuse
    for text in ["nope(1)", "count()", "count(1, 2)", "today(1)", "len()", "answered(1, 2)"]:
        assert evaluate(parse(text), {}, today=TODAY) is False


# --- static checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "allow_dot", "message"),
    [
        ("neds = 1", False, "unknown question 'neds'"),
        ("count(neds) > 0", False, "unknown question 'neds'"),
        ("later = 1", False, "'later' comes after this question"),
        ("self = 1", False, "'self' is this question; only earlier questions can be used"),
        ("self = 1", True, "use '.' for the answer of this question, not 'self'"),
        (". = 1", False, "'.' can only be used in a constraint"),
        ("nope(needs)", False, "unknown function 'nope'"),
        ("count(needs, note)", False, "count() takes 1 argument, not 2"),
        ("answered()", False, "answered() takes 1 argument, not 0"),
        ("today(1) = day", True, "today() takes no arguments, not 1"),
        ("'conversation_hlep' in needs", False, "'conversation_hlep' is not a choice of 'needs'"),
        ("'x' not in needs", False, "'x' is not a choice of 'needs'"),
        ("contact = 'mett'", False, "'mett' is not a choice of 'contact'"),
        ("'mett' != contact", False, "'mett' is not a choice of 'contact'"),
        ("not (urgent or contact = 'x')", False, "'x' is not a choice of 'contact'"),
        (
            "needs = 'errands'",
            False,
            "'needs' is a multi question: use \"'errands' in needs\", not =",
        ),
        (". = 'x'", True, "'x' is not a choice of this question"),
    ],
)
def test_check_errors(text, allow_dot, message):
    this = question("self", "single") if "self" in text or "." in text else None
    with pytest.raises(ExpressionError) as caught:
        check(parse(text), known=KNOWN, allow_dot=allow_dot, later={"later"}, this=this)
    assert str(caught.value) == message


def test_check_refuses_today_where_it_is_not_allowed():
    with pytest.raises(ExpressionError, match=r"today\(\) can only be used in a constraint"):
        check(parse("day < today()"), known=KNOWN, allow_dot=False, allow_today=False)
    check(parse("day < today()"), known=KNOWN, allow_dot=False)


def test_check_names_a_later_question_unknown_without_context():
    with pytest.raises(ExpressionError, match="unknown question 'later'"):
        check(parse("later = 1"), known=KNOWN, allow_dot=False)


@pytest.mark.parametrize(
    "text",
    [
        "contact = 'met'",
        "'conversation_help' in needs and not urgent",
        "contact in 'met refused'",  # a substring test of a text: no choice check
        "count(needs) >= 2 or amount > 5",
        "answered(note) and len(note) < 100",
        "day = null",
        "contact = note",  # two questions: nothing to check
        "urgent = 'whatever'",  # not a choice question
    ],
)
def test_check_accepts_good_expressions(text):
    check(parse(text), known=KNOWN, allow_dot=False)


def test_check_accepts_dot_in_a_constraint():
    this = question("this", "single")
    check(parse(". != 'met' or urgent"), known=KNOWN, allow_dot=True, this=this)


# --- properties ---------------------------------------------------------------------------------

TOKENS = [
    "contact", "needs", "amount", "urgent", "note", "day", "zzz", ".", "'met'", "'errands'",
    '"x"', "'", '"', "1", "0", "20", "-", "+", "=", "!=", "<", "<=", ">", ">=", "==", "(", ")",
    ",", "and", "or", "not", "in", "true", "false", "null", "count", "len", "answered", "today",
    "today()", "ä", "#", " ",
]  # fmt: skip


@given(st.text(max_size=600))
def test_arbitrary_text_only_ever_raises_expression_error(text):
    with contextlib.suppress(ExpressionError):
        parse(text)


@given(st.lists(st.sampled_from(TOKENS), max_size=80).map(" ".join))
def test_token_soup_only_ever_raises_expression_error(text):
    with contextlib.suppress(ExpressionError):
        expr = parse(text)
        check(expr, known=KNOWN, allow_dot=True)
        assert isinstance(evaluate(expr, MET, dot=3, today=TODAY), bool)


def _expressions():
    atoms = st.sampled_from(
        [
            "contact", "needs", "amount", "urgent", "note", "day", ".", "'met'", "'errands'",
            "'food_help'", "1", "0", "20", "true", "false", "null", "today()", "'ä☀'",
        ]
    )  # fmt: skip

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), inner).map(
                " ".join
            ),
            st.tuples(inner, st.sampled_from(["in", "not in"]), inner).map(" ".join),
            st.tuples(inner, st.sampled_from(["+", "-"]), inner).map(" ".join),
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(" ".join),
            inner.map(lambda e: f"not {e}"),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"-{e}"),
            st.tuples(st.sampled_from(["count", "len", "answered"]), inner).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
        )

    return st.recursive(atoms, extend, max_leaves=12)


answer_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.sampled_from(["errands", "food_help", "x"]), max_size=3),
    st.dates(),
    st.floats(allow_nan=True),
)
answer_dicts = st.dictionaries(
    st.sampled_from(["contact", "needs", "amount", "urgent", "note", "day", "other"]),
    answer_values,
)


@settings(max_examples=300)
@given(_expressions(), answer_dicts, answer_values, st.dates())
def test_evaluate_never_raises_on_checked_expressions(text, answers, dot, today):
    try:
        expr = parse(text)
        check(expr, known=KNOWN, allow_dot=True)
    except ExpressionError:
        return
    result = evaluate(expr, answers, dot=dot, today=today)
    assert result is True or result is False


@given(_expressions())
def test_not_is_the_negation_of_a_boolean_expression(text):
    # for any expression, `not (e)` is true exactly when `e` is not true
    with contextlib.suppress(ExpressionError):
        expr = parse(text)
        negated = parse(f"not ({text})")
        for answers in ({}, MET, {"needs": None, "amount": -1}):
            assert evaluate(negated, answers, today=TODAY) is not evaluate(
                expr, answers, today=TODAY
            )
