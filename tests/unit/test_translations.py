"""Every message in the code has a Finnish and a Swedish translation that keeps its placeholders."""

import re
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import Html, translators

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"gettext": None, "ngettext": (1, 2), "plain": None, "N_": None}
PLACEHOLDER = re.compile(r"{(\w*)}")
TAG = re.compile(r"</?[a-z]+>")


def messages_in_code() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for folder in ("bot", "handlers"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalog(language: str):
    po = resources.files("bot.i18n").joinpath(f"locales/{language}/LC_MESSAGES/apuri.po")
    with po.open("rb") as source:
        return read_po(source, locale=language)


def test_the_code_has_messages():
    assert len(messages_in_code()) > 40


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_message_is_translated(language):
    translations = catalog(language)
    missing = []
    for message in sorted(messages_in_code(), key=str):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = translations.get(msgid)
        strings = entry.string if entry else None
        translated = all(strings) if isinstance(strings, tuple | list) else bool(strings)
        if entry is None or not translated or entry.fuzzy:
            missing.append(msgid)
    assert not missing, f"{language}: {len(missing)} untranslated, run `make i18n`: {missing}"


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_translations_keep_placeholders_and_tags(language):
    for entry in catalog(language):
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple | list) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        expected_names = set(PLACEHOLDER.findall(ids[-1]))
        expected_tags = sorted(TAG.findall(ids[0]))
        for text in filter(None, strings):
            assert set(PLACEHOLDER.findall(text)) <= expected_names | {"n"}, (language, entry.id)
            assert set(PLACEHOLDER.findall(text)) >= expected_names - {"n"}, (language, entry.id)
            assert sorted(TAG.findall(text)) == expected_tags, (language, entry.id)


def test_values_are_escaped_but_markup_values_are_not():
    tr = translators()["en"]
    text = tr.gettext(
        "Welcome to Apuri, {name}! You are registered as {role}.",
        name="<b>&",
        role=Html("<i>x</i>"),
    )
    assert "&lt;b&gt;&amp;" in text
    assert "<i>x</i>" in text


def test_finnish_is_really_finnish():
    assert translators()["fi"].plain("volunteer") != "volunteer"
    assert translators()["sv"].plain("volunteer") != "volunteer"
    assert translators()["en"].plain("volunteer") == "volunteer"


N_LITERAL = re.compile(r'\bN_\(\s*"((?:[^"\\]|\\.)*)"\s*\)')


def test_every_marked_literal_is_extracted():
    """Babel does not see an N_(...) nested in another call's arguments: such a message would stay
    English for everyone. Every marked literal in the code must reach the extracted messages."""
    extracted = {m if isinstance(m, str) else m[0] for m in messages_in_code()}
    missed = []
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for literal in N_LITERAL.findall(path.read_text(encoding="utf-8")):
                if literal not in extracted:
                    missed.append(f"{path.relative_to(ROOT)}: {literal}")
    assert not missed, missed
