"""Form files: what a valid form reads as, and errors naming the file, the question, the fix."""

import textwrap

import pytest

from bot.domain.forms import Form, FormError, Labels, QuestionType, fmt_of, parse_form
from bot.domain.forms.expr import Compare, Const, Name
from bot.domain.tasks import TaskKind

HEAD = """\
id: home_visit
version: 1
task_kinds: [home_visit]
title: {fi: Kotikäynti, sv: Hembesök, en: Home visit}
questions:
"""

CONTACT = """\
  - id: contact
    type: single
    label: {fi: Tavattiinko asukas, sv: Träffade ni den boende, en: Did you meet the resident}
    hint: {fi: Valitse yksi, sv: Välj en, en: Pick one}
    choices:
      - {value: met, label: {fi: Tavattiin, sv: Träffades, en: Met}}
      - {value: not_at_home, label: {fi: Ei kotona, sv: Inte hemma, en: Not at home}}
      - {value: refused, label: {fi: Kieltäytyi, sv: Vägrade, en: Refused}}
"""

NEEDS = """\
  - id: needs
    type: multi
    required: false
    relevant: contact = 'met'
    label: {fi: Tarpeet, sv: Behov, en: Needs}
    choices:
      - {value: errands, label: {fi: Asiointi, sv: Ärenden, en: Errands}}
      - {value: food_help, label: {fi: Ruoka-apu, sv: Mathjälp, en: Food help}}
      - {value: conversation_help, label: {fi: Keskustelu, sv: Samtalshjälp, en: Company}}
"""

CONSENT = """\
  - id: consent_parish
    type: yesno
    relevant: "'conversation_help' in needs"
    label: {fi: Suostumus, sv: Samtycke, en: Consent}
"""


def question(qid, qtype, extra=""):
    """A question block: id, type, label, then `extra` lines (YAML, unindented)."""
    block = (
        f"  - id: {qid}\n    type: {qtype}\n    label: {{fi: Kysymys, sv: Fråga, en: Question}}\n"
    )
    return block + textwrap.indent(textwrap.dedent(extra), "    ")


def form_text(*questions, head=HEAD):
    return head + "".join(questions)


def load(text, fmt="yaml", source="home_visit.yaml"):
    return parse_form(text, source=source, fmt=fmt)


def error_of(text, fmt="yaml", source="home_visit.yaml"):
    with pytest.raises(FormError) as caught:
        load(text, fmt=fmt, source=source)
    return caught.value


FULL = form_text(
    CONTACT,
    NEEDS,
    CONSENT,
    question(
        "visitors",
        "integer",
        "min: 0\nmax: 20\nconstraint: . <= 10 or contact = 'met'\n"
        "constraint_message: {fi: Liikaa, sv: För många, en: Too many}\n",
    ),
    question("mood", "scale"),
    question("mood10", "scale", "min: 0\nmax: 10\n"),
    question("note", "text", "required: false\n"),
    question("short", "text", "max_length: 20\nrequired: false\n"),
    question(
        "visit_day",
        "date",
        "constraint: . <= today()\n"
        "constraint_message: {fi: Ei tulevaisuutta, sv: Inte i framtiden, en: Not in the future}\n",
    ),
)


# --- a valid form ---------------------------------------------------------------------------------


def test_a_valid_form_reads_with_defaults():
    form = load(FULL)
    assert form.id == "home_visit"
    assert form.version == 1
    assert form.task_kinds == [TaskKind.HOME_VISIT]
    assert form.title.get("sv") == "Hembesök"
    assert [q.id for q in form.questions] == [
        "contact",
        "needs",
        "consent_parish",
        "visitors",
        "mood",
        "mood10",
        "note",
        "short",
        "visit_day",
    ]
    contact = form.question("contact")
    assert contact.type is QuestionType.SINGLE
    assert contact.required is True
    assert contact.choice_values == ["met", "not_at_home", "refused"]
    assert contact.choices[1].label.get("fi") == "Ei kotona"
    assert contact.hint is not None and contact.hint.get("en") == "Pick one"
    assert contact.relevant is None and contact.relevant_expr is None
    assert contact.min is None and contact.max is None and contact.max_length is None
    needs = form.question("needs")
    assert needs.required is False
    assert needs.relevant == "contact = 'met'"
    assert needs.relevant_expr == Compare("=", Name("contact"), Const("met"))
    consent = form.question("consent_parish")
    assert consent.choices == [] and consent.hint is None
    visitors = form.question("visitors")
    assert (visitors.min, visitors.max) == (0, 20)
    assert visitors.constraint_expr is not None
    assert visitors.constraint_message is not None
    assert visitors.constraint_message.get("fi") == "Liikaa"
    assert (form.question("mood").min, form.question("mood").max) == (1, 5)  # scale defaults
    assert (form.question("mood10").min, form.question("mood10").max) == (0, 10)
    assert form.question("note").max_length == 500  # text default
    assert form.question("short").max_length == 20
    assert form.index("contact") == 0 and form.index("visit_day") == 8
    assert form.has("note") and not form.has("nope") and not form.has(None)


def test_unknown_question_is_a_key_error():
    form = load(FULL)
    with pytest.raises(KeyError):
        form.question("nope")
    with pytest.raises(KeyError):
        form.index("nope")


def test_labels_fall_back_to_english():
    labels = Labels(fi="Kyllä", sv="Ja", en="Yes")
    assert (labels.get("fi"), labels.get("sv"), labels.get("en")) == ("Kyllä", "Ja", "Yes")
    assert labels.get("de") == "Yes"
    assert labels.get("") == "Yes"


def test_labels_are_stripped():
    form = load(form_text(question("q", "yesno").replace("Kysymys", "'  Kysymys  '")))
    assert form.question("q").label.fi == "Kysymys"


def test_yaml_yes_and_no_stay_text_where_text_is_expected():
    text = form_text(
        """\
  - id: answer
    type: single
    required: no
    label: {fi: Kyllä, sv: Ja, en: No}
    choices:
      - {value: yes, label: {fi: Kyllä, sv: Ja, en: Yes}}
      - {value: no, label: {fi: Ei, sv: Nej, en: No}}
      - {value: on, label: {fi: Päällä, sv: På, en: On}}
"""
    )
    q = load(text).question("answer")
    assert q.label.en == "No"
    assert q.choice_values == ["yes", "no", "on"]
    assert q.required is False  # "no" still reads as false where a boolean is expected


TOML = """\
id = "home_visit"
version = 1
task_kinds = ["home_visit"]
title = {fi = "Kotikäynti", sv = "Hembesök", en = "Home visit"}

[[questions]]
id = "contact"
type = "single"
label = {fi = "Tavattiinko asukas", sv = "Träffade ni den boende", en = "Did you meet the resident"}
hint = {fi = "Valitse yksi", sv = "Välj en", en = "Pick one"}
choices = [
  {value = "met", label = {fi = "Tavattiin", sv = "Träffades", en = "Met"}},
  {value = "not_at_home", label = {fi = "Ei kotona", sv = "Inte hemma", en = "Not at home"}},
  {value = "refused", label = {fi = "Kieltäytyi", sv = "Vägrade", en = "Refused"}},
]

[[questions]]
id = "needs"
type = "multi"
required = false
relevant = "contact = 'met'"
label = {fi = "Tarpeet", sv = "Behov", en = "Needs"}
choices = [
  {value = "errands", label = {fi = "Asiointi", sv = "Ärenden", en = "Errands"}},
  {value = "food_help", label = {fi = "Ruoka-apu", sv = "Mathjälp", en = "Food help"}},
  {value = "conversation_help", label = {fi = "Keskustelu", sv = "Samtalshjälp", en = "Company"}},
]

[[questions]]
id = "consent_parish"
type = "yesno"
relevant = "'conversation_help' in needs"
label = {fi = "Suostumus", sv = "Samtycke", en = "Consent"}
"""


def test_toml_reads_like_yaml():
    from_toml = load(TOML, fmt="toml", source="home_visit.toml")
    from_yaml = load(form_text(CONTACT, NEEDS, CONSENT))
    assert from_toml == from_yaml
    assert from_toml.question("consent_parish").relevant_expr is not None


def test_toml_errors_name_the_source_and_question():
    error = error_of(TOML.replace("in needs", "in neds"), fmt="toml", source="f.toml")
    assert str(error) == "f.toml: question 'consent_parish': relevant: unknown question 'neds'"
    error = error_of(TOML.replace('type = "yesno"', 'type = "yesno"\ncolour = 1'), fmt="toml")
    assert str(error) == "home_visit.yaml: question 'consent_parish': colour: unknown key"
    error = error_of('id = "x"\nid = "y"\n', fmt="toml", source="f.toml")
    assert str(error).startswith("f.toml: not valid TOML: ")
    error = error_of("id = ", fmt="toml", source="f.toml")
    assert str(error).startswith("f.toml: not valid TOML: ")


# --- broken forms -------------------------------------------------------------------------------

LONG = "x" * 301
MESSAGE = "constraint_message: {fi: a, sv: b, en: c}\n"
PATTERN = "String should match pattern '^[a-z][a-z0-9_]{0,31}$'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # expressions
        (
            form_text(CONTACT, NEEDS, CONSENT.replace("in needs", "in neds")),
            "question 'consent_parish': relevant: unknown question 'neds'",
        ),
        (
            form_text(CONTACT, NEEDS, CONSENT.replace("conversation_help", "conversation_hlep")),
            "question 'consent_parish': relevant: 'conversation_hlep' is not a choice of 'needs'",
        ),
        (
            form_text(CONTACT, NEEDS.replace("contact = 'met'", "contact = 'mett'")),
            "question 'needs': relevant: 'mett' is not a choice of 'contact'",
        ),
        (
            form_text(
                CONTACT,
                NEEDS.replace("contact = 'met'", "answered(note)"),
                question("note", "text"),
            ),
            "question 'needs': relevant: 'note' comes after this question",
        ),
        (
            form_text(CONTACT, NEEDS.replace("contact = 'met'", "count(needs) > 1")),
            (
                "question 'needs': relevant: 'needs' is this question; "
                "only earlier questions can be used"
            ),
        ),
        (
            form_text(CONTACT, NEEDS.replace("contact = 'met'", "(contact = 'met'")),
            "question 'needs': relevant: expected ')' at column 17",
        ),
        (
            form_text(CONTACT, NEEDS.replace("contact = 'met'", ". = 1")),
            "question 'needs': relevant: '.' can only be used in a constraint",
        ),
        (
            form_text(question("day", "date"), question("q", "yesno", "relevant: day < today()\n")),
            "question 'q': relevant: today() can only be used in a constraint",
        ),
        (
            form_text(CONTACT, NEEDS, question("q", "yesno", "relevant: needs = 'errands'\n")),
            (
                "question 'q': relevant: 'needs' is a multi question: "
                "use \"'errands' in needs\", not ="
            ),
        ),
        (
            form_text(CONTACT, question("q", "yesno", "relevant: nope(contact)\n")),
            "question 'q': relevant: unknown function 'nope'",
        ),
        (
            form_text(CONTACT, question("q", "yesno", "relevant: count(contact, contact) > 0\n")),
            "question 'q': relevant: count() takes 1 argument, not 2",
        ),
        (
            form_text(question("q", "yesno", f"relevant: {'a' * 501}\n")),
            "question 'q': relevant: longer than 500 characters",
        ),
        (
            form_text(question("q", "yesno", "relevant: ''\n")),
            "question 'q': relevant: empty expression",
        ),
        (
            form_text(question("q", "yesno", "relevant: 5\n")),
            "question 'q': relevant: Input should be a valid string",
        ),
        (
            form_text(
                question(
                    "n",
                    "integer",
                    "min: 0\nmax: 9\nconstraint: (. <= 2000 a\n" + MESSAGE,
                )
            ),
            "question 'n': constraint: expected ')' at column 12",
        ),
        (
            form_text(
                question(
                    "n",
                    "integer",
                    "min: 0\nmax: 9\nconstraint: n < 5\n" + MESSAGE,
                )
            ),
            "question 'n': constraint: use '.' for the answer of this question, not 'n'",
        ),
        (
            form_text(
                CONTACT.replace(
                    "      - {value: met",
                    "    constraint: . != 'mte'\n    "
                    + MESSAGE
                    + "    choices:\n      - {value: met",
                ).replace("    choices:\n    constraint", "    constraint")
            ),
            "question 'contact': constraint: 'mte' is not a choice of this question",
        ),
        (
            form_text(
                question(
                    "n",
                    "integer",
                    "min: 0\nmax: 9\nconstraint: . < later\n" + MESSAGE,
                ),
                question("later", "integer", "min: 0\nmax: 9\n"),
            ),
            "question 'n': constraint: 'later' comes after this question",
        ),
        (
            form_text(question("n", "integer", "min: 0\nmax: 9\nconstraint: . < 5\n")),
            "question 'n': constraint_message is required with a constraint",
        ),
        (
            form_text(
                question(
                    "n", "integer", "min: 0\nmax: 9\nconstraint_message: {fi: a, sv: b, en: c}\n"
                )
            ),
            "question 'n': constraint_message is given without a constraint",
        ),
        # labels and choices
        (
            form_text(
                NEEDS.replace("    relevant: contact = 'met'\n", "").replace(
                    "sv: Samtalshjälp, ", ""
                )
            ),
            "question 'needs': choices.2.label.sv: Field required",
        ),
        (
            form_text(
                CONTACT.replace(
                    "en: Not at home", "en: Not at home and not in the garden or at the neighbours"
                )
            ),
            "question 'contact': choices.1.label.en: String should have at most 40 characters",
        ),
        (
            form_text(CONTACT.replace("en: Did you meet the resident", "en: ''")),
            "question 'contact': label.en: String should have at least 1 character",
        ),
        (
            form_text(CONTACT.replace("en: Did you meet the resident", "en: '   '")),
            "question 'contact': label.en: String should have at least 1 character",
        ),
        (
            form_text(CONTACT.replace("en: Did you meet the resident", f"en: {LONG}")),
            "question 'contact': label.en: String should have at most 300 characters",
        ),
        (
            form_text(CONTACT.replace("en: Pick one", "en: Pick one, de: Wähle")),
            "question 'contact': hint.de: unknown key",
        ),
        (
            form_text(CONTACT.replace("en: Did you meet the resident", "en: 12")),
            "question 'contact': label.en: Input should be a valid string",
        ),
        (
            form_text(CONTACT.replace("{value: met,", "{value: Met,")),
            f"question 'contact': choices.0.value: {PATTERN}",
        ),
        (
            form_text(CONTACT.replace("{value: refused,", "{value: met,")),
            "question 'contact': choice 'met' is listed twice",
        ),
        (
            form_text(CONTACT.replace("{value: met,", "{value: met, colour: red,")),
            "question 'contact': choices.0.colour: unknown key",
        ),
        (
            form_text(
                question("q", "single", "choices:\n  - {value: a, label: {fi: a, sv: a, en: a}}\n")
            ),
            "question 'q': single questions need 2 to 12 choices",
        ),
        (
            form_text(
                question(
                    "q",
                    "multi",
                    "choices:\n"
                    + "".join(
                        f"  - {{value: c{i}, label: {{fi: a, sv: a, en: a}}}}\n" for i in range(13)
                    ),
                )
            ),
            "question 'q': multi questions need 2 to 12 choices",
        ),
        (
            form_text(question("q", "single")),
            "question 'q': single questions need 2 to 12 choices",
        ),
        # keys of another type
        (
            form_text(question("q", "integer", "min: 0\nmax: 5\nchoices: [{value: a}]\n")),
            "question 'q': 'choices' is not used by integer questions",
        ),
        (
            form_text(question("q", "yesno", "max_length: 10\n")),
            "question 'q': 'max_length' is not used by yesno questions",
        ),
        (
            form_text(question("q", "text", "min: 1\n")),
            "question 'q': 'min' is not used by text questions",
        ),
        (
            form_text(question("q", "date", "max: 1\n")),
            "question 'q': 'max' is not used by date questions",
        ),
        # numbers and lengths
        (
            form_text(question("q", "integer", "min: 0\n")),
            "question 'q': integer questions need 'min' and 'max'",
        ),
        (
            form_text(question("q", "integer", "min: 5\nmax: 4\n")),
            "question 'q': 'min' is greater than 'max'",
        ),
        (
            form_text(question("q", "integer", "min: 0\nmax: 4.5\n")),
            (
                "question 'q': max: "
                "Input should be a valid integer, got a number with a fractional part"
            ),
        ),
        (
            form_text(question("q", "scale", "max: 7\n")),
            "question 'q': a scale ends at 5 or 10",
        ),
        (
            form_text(question("q", "scale", "min: 2\n")),
            "question 'q': a scale starts at 0 or 1",
        ),
        (
            form_text(question("q", "text", "max_length: 0\n")),
            "question 'q': 'max_length' must be between 1 and 1000",
        ),
        (
            form_text(question("q", "text", "max_length: 1001\n")),
            "question 'q': 'max_length' must be between 1 and 1000",
        ),
        # questions
        (
            form_text(question("Contact", "yesno")),
            f"question 'Contact': id: {PATTERN}",
        ),
        (
            form_text(question("x" * 33, "yesno")),
            f"question '{'x' * 33}': id: {PATTERN}",
        ),
        (
            form_text(question("count", "yesno")),
            "question 'count': id: 'count' is a reserved word of the expression language",
        ),
        (
            form_text(question("and", "yesno")),
            "question 'and': id: 'and' is a reserved word of the expression language",
        ),
        (
            form_text(
                question("q", "yesno"), "  - type: yesno\n    label: {fi: a, sv: b, en: c}\n"
            ),
            "questions.1.id: Field required",
        ),
        (
            form_text(question("q", "yesno"), question("q", "text")),
            "question 'q': another question has the same id",
        ),
        (
            form_text(question("q", "number")),
            (
                "question 'q': type: Input should be "
                "'single', 'multi', 'yesno', 'integer', 'scale', 'text' or 'date'"
            ),
        ),
        (
            form_text(question("q", "yesno", "required: maybe\n")),
            "question 'q': required: Input should be a valid boolean, unable to interpret input",
        ),
        (
            form_text(question("q", "yesno", "colour: red\n")),
            "question 'q': colour: unknown key",
        ),
        (
            form_text("  - just text\n"),
            "questions.0: Input should be a valid dictionary or instance of Question",
        ),
        # the form itself
        (HEAD + "  []\n".replace("  []", ""), "questions: Input should be a valid list"),
        (
            HEAD.replace("questions:\n", "questions: []\n"),
            "questions: List should have at least 1 item after validation, not 0",
        ),
        (
            form_text(question("q", "yesno"), head=HEAD.replace("id: home_visit\n", "")),
            "id: Field required",
        ),
        (
            form_text(question("q", "yesno"), head=HEAD.replace("version: 1", "version: 0")),
            "version: Input should be greater than or equal to 1",
        ),
        (
            form_text(question("q", "yesno"), head=HEAD.replace("[home_visit]", "[]")),
            "task_kinds: List should have at least 1 item after validation, not 0",
        ),
        (
            form_text(
                question("q", "yesno"),
                head=HEAD.replace("[home_visit]", "[home_visit, home_visit]"),
            ),
            "task_kinds: 'home_visit' is listed twice",
        ),
        (
            form_text(question("q", "yesno"), head=HEAD.replace("[home_visit]", "[sauna]")),
            (
                "task_kinds.0: Input should be "
                "'home_visit', 'errand', 'delivery', 'conversation_help' or 'phone_check'"
            ),
        ),
        (
            form_text(
                question("q", "yesno"),
                head=HEAD.replace("title: {fi: Kotikäynti, sv: Hembesök, en: Home visit}\n", ""),
            ),
            "title: Field required",
        ),
        (
            form_text(question("q", "yesno"), head=HEAD.replace("sv: Hembesök, ", "")),
            "title.sv: Field required",
        ),
        (form_text(question("q", "yesno"), head="colour: red\n" + HEAD), "colour: unknown key"),
        (
            form_text(question("q", "yesno"), head=HEAD.replace("id: home_visit", "id: Home")),
            f"id: {PATTERN}",
        ),
    ],
)
def test_broken_forms_name_the_question_and_the_problem(text, expected):
    error = error_of(text)
    assert str(error) == f"home_visit.yaml: {expected}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "a form is a mapping of keys (id, version, questions, …)"),
        ("- a\n- b\n", "a form is a mapping of keys (id, version, questions, …)"),
        ("just words", "a form is a mapping of keys (id, version, questions, …)"),
        (
            "id: [unclosed\n",
            "not valid YAML: expected ',' or ']', but got '<stream end>' at line 2, column 1",
        ),
        (
            "id: a\n  bad: indent\n",
            "not valid YAML: mapping values are not allowed here at line 2, column 6",
        ),
        ("id: a\nid: b\n", "not valid YAML: key 'id' appears twice at line 2, column 1"),
        (
            "id: 'unterminated\n",
            "not valid YAML: found unexpected end of stream at line 2, column 1",
        ),
        (
            "!!python/object:os.system {}\n",
            (
                "not valid YAML: could not determine a constructor for the tag "
                "'tag:yaml.org,2002:python/object:os.system' at line 1, column 1"
            ),
        ),
    ],
)
def test_unreadable_files(text, expected):
    assert str(error_of(text)) == f"home_visit.yaml: {expected}"


def test_repeated_keys_inside_a_question_are_refused():
    text = form_text(question("q", "yesno", "required: true\nrequired: false\n"))
    assert (
        str(error_of(text))
        == "home_visit.yaml: not valid YAML: key 'required' appears twice at line 10, column 5"
    )


def test_form_error_shape():
    error = FormError("f.yaml", "needs", "relevant: unknown question 'neds'")
    assert isinstance(error, ValueError)
    assert (error.source, error.question, error.problem) == (
        "f.yaml",
        "needs",
        "relevant: unknown question 'neds'",
    )
    assert str(error) == "f.yaml: question 'needs': relevant: unknown question 'neds'"
    assert str(FormError("<text>", None, "id: Field required")) == "<text>: id: Field required"
    error = error_of(form_text(CONTACT, NEEDS, CONSENT.replace("in needs", "in neds")))
    assert (error.source, error.question, error.problem) == (
        "home_visit.yaml",
        "consent_parish",
        "relevant: unknown question 'neds'",
    )


def test_an_unknown_format_is_refused():
    with pytest.raises(FormError, match="unknown format 'json'"):
        parse_form("{}", source="f.json", fmt="json")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("home_visit.yaml", "yaml"),
        ("a.yml", "yaml"),
        ("A.YAML", "yaml"),
        ("x.toml", "toml"),
        ("dir.v2/x.Toml", "toml"),
    ],
)
def test_fmt_of(name, fmt):
    assert fmt_of(name) == fmt


@pytest.mark.parametrize("name", ["x.json", "yaml", "x.yaml.bak", "", "toml."])
def test_fmt_of_refuses_other_files(name):
    with pytest.raises(FormError) as caught:
        fmt_of(name)
    assert caught.value.source == name
    assert "must end in .yaml, .yml or .toml" in caught.value.problem


def test_forms_are_frozen():
    form = load(FULL)
    with pytest.raises(ValueError):  # pydantic's ValidationError
        form.id = "other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        form.questions[0].required = False  # type: ignore[misc]


def test_a_form_built_in_python_is_checked_the_same():
    data = {
        "id": "f",
        "version": 1,
        "task_kinds": ["errand"],
        "title": {"fi": "a", "sv": "b", "en": "c"},
        "questions": [
            {
                "id": "a",
                "type": "yesno",
                "label": {"fi": "a", "sv": "b", "en": "c"},
                "relevant": "b = true",
            },
            {"id": "b", "type": "yesno", "label": {"fi": "a", "sv": "b", "en": "c"}},
        ],
    }
    with pytest.raises(ValueError, match="'b' comes after this question"):
        Form.model_validate(data)


def test_a_form_survives_a_round_trip_through_its_dump():
    form = load(FULL)
    assert Form.model_validate(form.model_dump()) == form
    assert Form.model_validate_json(form.model_dump_json()) == form
    again = Form.model_validate_json(form.model_dump_json())
    assert again.question("needs").relevant_expr == form.question("needs").relevant_expr


def test_empty_keys_of_another_type_are_harmless():
    form = load(form_text(question("q", "yesno", "choices: []\nmin: null\nmax_length: null\n")))
    assert form.question("q").choices == []
