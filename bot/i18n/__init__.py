"""Translations of every user-facing string into Finnish, Swedish and English.

Source strings are English. Catalogs are the `.po` files under `locales/`, read with Babel when the
bot starts, so there is no compiled artefact to go stale. Replies are sent as Telegram HTML:
`Translator.gettext` escapes every value it formats in, so a person's name can never break or
inject markup; pass `Html(...)` for a value that is markup already. `Translator.plain` is for text
that Telegram does not parse (button labels, callback answers, command descriptions).
"""

from __future__ import annotations

import gettext as _gettext
import html
import io
from collections.abc import Mapping
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.domain.people import SUPPORTED_LANGUAGES

__all__ = ["DOMAIN", "N_", "Html", "Translator", "escape", "translators"]

DOMAIN = "apuri"


class Html(str):
    """A value that is Telegram HTML already and must not be escaped again."""

    __slots__ = ()


def escape(value: object) -> Html:
    """Return a value as safe Telegram HTML text."""
    return Html(html.escape(str(value), quote=False))


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; translate it where it is shown."""
    return message


def _escaped(values: Mapping[str, object]) -> dict[str, object]:
    return {
        key: value
        if isinstance(value, Html | int | float)
        else html.escape(str(value), quote=False)
        for key, value in values.items()
    }


class Translator:
    """Translate and format messages for one language."""

    __slots__ = ("_catalog", "language")

    def __init__(self, language: str, catalog: _gettext.NullTranslations) -> None:
        self.language = language
        self._catalog = catalog

    def gettext(self, message: str, /, **values: object) -> Html:
        """Return the translated HTML message with escaped values."""
        text = self._catalog.gettext(message)
        return Html(text.format(**_escaped(values)) if values else text)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> Html:
        """Return the singular or plural translated HTML message, formatted with `n` too."""
        text = self._catalog.ngettext(singular, plural, n)
        return Html(text.format(n=n, **_escaped(values)))

    def plain(self, message: str, /, **values: object) -> str:
        """Return the translated message as plain text, for places Telegram does not parse."""
        text = self._catalog.gettext(message)
        return text.format(**values) if values else text


def _load(language: str) -> _gettext.NullTranslations:
    po = resources.files("bot.i18n").joinpath(f"locales/{language}/LC_MESSAGES/{DOMAIN}.po")
    if not po.is_file():
        return _gettext.NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@cache
def translators() -> Mapping[str, Translator]:
    """Return a translator for every supported language (loaded once per process)."""
    return {language: Translator(language, _load(language)) for language in SUPPORTED_LANGUAGES}
